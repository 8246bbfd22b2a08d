"""Cost of ``tbplateau watch``: a poll of a growing sweep, and an idle logdir.

Usage::

    PYTHONPATH=src python benchmarks/bench_watch.py            # 200 runs x 4 tags x 1,000 steps
    PYTHONPATH=src python benchmarks/bench_watch.py --quick    # 200 runs x 4 tags x 250 steps

A sweep of 200 run directories (one event file each, 4 ``simple_value`` tags, a noisy
decreasing loss) is generated in a temporary directory. Run 0 starts at half its
length and grows by 1 % of its full length before each poll.

Figures, all measured in this process unless said otherwise (CPU is
``time.process_time``, user + system of this process; wall is ``perf_counter``):

1. **full report**: ``analyze(read_logdir(sweep))`` plus its JSON document, what
   ``tbplateau report --format json`` does (median of 3);
2. **first poll**: the watcher's first poll (reads and analyses everything);
3. **growing poll**: each of ``--polls`` polls after run 0 grew by 1 % (median, max),
   and its ratio to the full report (target: under 5 %);
4. **idle poll**: ``--idle`` polls with nothing appended (median CPU per poll), and
   the share of one core it costs at ``--interval 5``;
5. **idle process**: the real ``tbplateau watch --max-polls N --interval 0.2`` on the
   idle sweep, in a child process: CPU (``os.wait4`` rusage) of N polls minus that of
   1 poll, per poll, i.e. what the command itself costs while nothing happens.

Targets are printed, never asserted (benchmarks are noisy on shared machines).
"""

from __future__ import annotations

import argparse
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tbplateau.analysis import analyze
from tbplateau.reader import read_logdir
from tbplateau.watch import Watcher

WALL0 = 1.7e9
TAGS = ("train/loss", "val/loss", "train/acc", "lr")


class _Framer:
    """TFRecord framing with the compiled masked CRC-32C (TensorBoard's is pure Python)."""

    def __init__(self, path: Path) -> None:
        try:
            from tbplateau.reader._fastscan import masked_crc32c
        except ImportError:  # pragma: no cover - the compiled scanner is not built
            from tbplateau.reader._scan_py import masked_crc32c
        self._crc: Callable[[bytes], int] = masked_crc32c
        self.path = path

    def frame(self, records: list[bytes]) -> bytes:
        out = []
        crc, pack = self._crc, struct.pack
        for data in records:
            header = pack("<Q", len(data))
            out.append(header + pack("<I", crc(header)) + data + pack("<I", crc(data)))
        return b"".join(out)


def _events(run: int, steps: range, n_steps: int) -> list[bytes]:
    from tensorboard.compat.proto import event_pb2

    rng = np.random.default_rng(run * 100_003 + steps.start)
    s = np.arange(steps.start, steps.stop, dtype=np.float64)
    curves = [
        (0.5 + t)
        * (0.15 + 2.0 / (1.0 + s / max(1.0, n_steps / 40)))
        * (1 + 0.05 * rng.standard_normal(len(s)))
        for t in range(len(TAGS))
    ]
    out = []
    ev = event_pb2.Event()
    value = ev.summary.value.add()
    for i, step in enumerate(steps):
        ev.step = step
        for t, tag in enumerate(TAGS):
            ev.wall_time = WALL0 + run + 0.05 * step
            value.tag = tag
            value.simple_value = float(curves[t][i])
            out.append(ev.SerializeToString())
    return out


def make_sweep(root: Path, runs: int, n_steps: int) -> Path:
    """The sweep; returns run 0's event file (written to half its length)."""
    from tensorboard.compat.proto import event_pb2

    head = event_pb2.Event(wall_time=WALL0, file_version="brain.Event:2").SerializeToString()
    growing = root / "run000" / "events.out.tfevents.1.bench"
    for r in range(runs):
        path = root / f"run{r:03d}" / "events.out.tfevents.1.bench"
        path.parent.mkdir(parents=True)
        framer = _Framer(path)
        stop = n_steps // 2 if r == 0 else n_steps
        path.write_bytes(framer.frame([head, *_events(r, range(stop), n_steps)]))
    return growing


def grow(path: Path, start: int, count: int, n_steps: int) -> None:
    data = _Framer(path).frame(_events(0, range(start, start + count), n_steps))
    with path.open("ab") as fh:
        fh.write(data)


def measure(fn: Callable[[], object]) -> tuple[float, float]:
    c0, w0 = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c0, time.perf_counter() - w0


def full_report(root: Path) -> None:
    analyze(read_logdir(root)).to_json()


def child_cpu(root: Path, polls: int) -> float:
    """CPU seconds (user + system) of ``tbplateau watch --max-polls polls`` on ``root``."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    argv = [
        sys.executable,
        "-m",
        "tbplateau",
        "watch",
        str(root),
        "--max-polls",
        str(polls),
        "--interval",
        "0.2",
        "--state",
        "none",
        "--format",
        "jsonl",
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    if proc.stderr is not None:
        proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"tbplateau watch exited with status {status}")
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="250 steps per run, not 1,000")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--polls", type=int, default=20, help="growing polls (default 20)")
    parser.add_argument("--idle", type=int, default=50, help="idle polls (default 50)")
    parser.add_argument("--child-polls", type=int, default=26, help="polls of the idle process")
    args = parser.parse_args(argv)
    n_steps = 250 if args.quick else 1_000
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp:
        root = Path(tmp) / "sweep"
        t0 = time.perf_counter()
        growing = make_sweep(root, args.runs, n_steps)
        points = (args.runs - 0.5) * n_steps * len(TAGS)
        print(
            f"sweep: {args.runs} runs x {len(TAGS)} tags x {n_steps:,} steps "
            f"({points:,.0f} points), generated in {time.perf_counter() - t0:.1f} s"
        )

        reports = [measure(lambda: full_report(root)) for _ in range(3)]
        report_cpu = statistics.median(c for c, _ in reports)
        report_wall = statistics.median(w for _, w in reports)
        print(
            f"full report (read + analyse + JSON), median of 3: "
            f"{report_cpu * 1e3:,.0f} ms CPU, {report_wall * 1e3:,.0f} ms wall"
        )

        watcher = Watcher(root, clock=lambda: WALL0 + 1e3)
        first = measure(watcher.poll)
        print(
            f"watch, first poll (reads everything): {first[0] * 1e3:,.0f} ms CPU, "
            f"{first[1] * 1e3:,.0f} ms wall"
        )

        step = max(1, n_steps // 100)
        done = n_steps // 2
        grown = []
        for _ in range(args.polls):
            grow(growing, done, step, n_steps)
            done += step
            grown.append(measure(watcher.poll))
        cpu = [c for c, _ in grown]
        wall = [w for _, w in grown]
        ratio = statistics.median(cpu) / report_cpu
        print(
            f"watch, poll after run 0 grew by 1 % ({step} steps x {len(TAGS)} tags), "
            f"{args.polls} polls: median {statistics.median(cpu) * 1e3:.1f} ms CPU "
            f"(max {max(cpu) * 1e3:.1f}), median {statistics.median(wall) * 1e3:.1f} ms wall"
        )
        print(
            f"  = {ratio:.2%} of a full report's CPU (target: under 5 %)"
            f"{'  OK' if ratio < 0.05 else '  MISSED'}"
        )

        idle = [measure(watcher.poll) for _ in range(args.idle)]
        idle_cpu = statistics.median(c for c, _ in idle)
        print(
            f"watch, idle poll ({args.idle} polls, nothing appended): median "
            f"{idle_cpu * 1e3:.2f} ms CPU, {statistics.median(w for _, w in idle) * 1e3:.2f} "
            f"ms wall = {idle_cpu / 5:.3%} of one core at --interval 5"
        )

        one = child_cpu(root, 1)
        many = child_cpu(root, args.child_polls)
        per = (many - one) / (args.child_polls - 1)
        print(
            f"tbplateau watch process on the idle sweep: {one:.2f} s CPU for 1 poll "
            f"(start-up + first read), {many:.2f} s for {args.child_polls} polls: "
            f"{per * 1e3:.1f} ms CPU per idle poll = {per / 5:.3%} of one core at "
            f"--interval 5 (target: near zero)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
