"""Speed benchmark of the detection engine (no file reading).

Usage::

    PYTHONPATH=src python benchmarks/bench_detect_speed.py [--repeat 3]

Times ``analyze`` (every detector, pairing, report) on one 1,000,000-point loss
series, on 1,600 loss series of 1,000 points (40 runs of 40 tags), and on 400
short per-epoch series of 50 points, on prebuilt in-memory logdirs. Prints the
best of ``--repeat`` runs as wall and CPU seconds (CPU is what the machine spends;
wall is noisy on a shared machine), and the CPU milliseconds per series. Targets
(issue 8's later phase): 1 s for the long series, 1 ms of CPU per series of up to
1,000 points. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from tbplateau.analysis import analyze
from tbplateau.reader.model import Logdir, Run
from tbplateau.series import Series


def _loss(rng: np.random.Generator, n: int) -> npt.NDArray[np.float64]:
    t = np.arange(n)
    return np.asarray(np.exp(-3 * np.log1p(t / (0.02 * n)) / np.log1p(50) + rng.normal(0, 0.05, n)))


def one_million(rng: np.random.Generator) -> Logdir:
    n = 1_000_000
    s = Series(".", "loss", steps=np.arange(n) * 10, values=_loss(rng, n))
    return Logdir("bench", (Run(".", ("f",), (s,)),))


def _grid(rng: np.random.Generator, runs: int, tags: int, n: int) -> Logdir:
    out = []
    for r in range(runs):
        series = tuple(
            Series(f"run{r}", f"task{k}/loss", steps=np.arange(n), values=_loss(rng, n))
            for k in range(tags)
        )
        out.append(Run(f"run{r}", ("f",), series))
    return Logdir("bench", tuple(out))


def many(rng: np.random.Generator) -> Logdir:
    return _grid(rng, 40, 40, 1000)


def short(rng: np.random.Generator) -> Logdir:
    return _grid(rng, 20, 20, 50)


def best_of(
    factory: Callable[[np.random.Generator], Logdir], rng: np.random.Generator, repeat: int
) -> tuple[float, float]:
    """Best wall and best CPU seconds of ``analyze`` over ``repeat`` fresh logdirs."""
    walls, cpus = [], []
    for _ in range(repeat):
        logdir = factory(rng)
        c0, t0 = time.process_time(), time.perf_counter()
        analyze(logdir)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    cases: list[tuple[str, Callable[[np.random.Generator], Logdir], int, str]] = [
        ("1 series x 1,000,000 points", one_million, 1, "1 s"),
        ("1,600 series x 1,000 points", many, 1600, "1.6 s"),
        ("400 series x 50 points", short, 400, "0.4 s"),
    ]
    for name, factory, count, target in cases:
        wall, cpu = best_of(factory, rng, args.repeat)
        print(
            f"{name}: wall {wall:.3f} s, CPU {cpu:.3f} s, "
            f"{1000 * cpu / count:.2f} ms CPU/series (target {target})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
