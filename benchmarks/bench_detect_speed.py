"""Speed benchmark of the detection engine (no file reading).

Usage::

    PYTHONPATH=src python benchmarks/bench_detect_speed.py

Times ``analyze`` (every detector, pairing, report) on one 1,000,000-point loss
series, then on 1,600 loss series of 1,000 points (40 runs of 40 tags), on
prebuilt in-memory logdirs. Targets: 1 s and 3 s. Prints the best of three runs.
"""

from __future__ import annotations

import time

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


def many(rng: np.random.Generator) -> Logdir:
    runs = []
    for r in range(40):
        series = tuple(
            Series(f"run{r}", f"task{k}/loss", steps=np.arange(1000), values=_loss(rng, 1000))
            for k in range(40)
        )
        runs.append(Run(f"run{r}", ("f",), series))
    return Logdir("bench", tuple(runs))


def best_of(logdir_factory: object, rng: np.random.Generator, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        logdir = logdir_factory(rng)  # type: ignore[operator]
        t0 = time.perf_counter()
        analyze(logdir)
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    rng = np.random.default_rng(0)
    a = best_of(one_million, rng)
    print(f"1 series x 1,000,000 points: {a:.3f} s (target 1 s)")
    b = best_of(many, rng)
    print(f"1,600 series x 1,000 points: {b:.3f} s (target 3 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
