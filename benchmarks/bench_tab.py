"""The "Plateaus" tab on a sweep: time to the first report, a reload, the document's size.

Usage::

    python benchmarks/bench_tab.py [--quick] [--loader auto|true|false ...] [--data-dir DIR]

The sweep is 200 runs x 8 tags x 1,000 steps (``--quick``: 40 x 8 x 250), generated
once into ``--data-dir`` (default ``benchmarks/_data/``, git-ignored) with TensorBoard's
protobufs. Its curves are a mix that gives the tab something to say: losses that
level off (plateaus), a run in ten that diverges then goes NaN, validation losses that
turn up (overfitting), accuracies that rise, a learning rate that steps down.

For each loader (``--load_fast`` value) a real ``tensorboard`` is started on
127.0.0.1 with ``--port 0 --reload_interval 0`` and the tab's report route is polled
(every 50 ms, with ``since`` so that an unchanged document is not sent again). Printed:

* **start → listening**: TensorBoard printed its URL;
* **start → findings**: the first document with every run's findings and verdicts
  (``state: ready``); the target is 2 s on 2 cores;
* **start → advice**: every run's advice is in the document too;
* the server's own figures for that first scan (``scan_seconds``, runs re-analysed) and
  the process's CPU time (user + system, TensorBoard's own loading included);
* **reload after one run grew**: 100 steps are appended to one run, ``POST reload``,
  then the time until the scan is done, with the scan's own seconds and the runs it
  re-analysed (the grown run's group only), beside the first scan's;
* the document's size, raw and gzipped (target: under 2 MB).

Beside them, measured in a fresh interpreter on the same data: reading, analysing
(``tbplateau.analyze``) and building the view model (``report_view``: the advice), so
the gap between the tab and the analysis itself is visible. Wall and CPU seconds;
the machine is shared, so compare the figures of one run with each other.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = HERE / "_data"
TARGET_FIRST_S = 2.0
TARGET_DOC_MB = 2.0
TAGS = (
    "train/loss",
    "val/loss",
    "train/accuracy",
    "val/accuracy",
    "train/top5",
    "val/top5",
    "lr",
    "grad_norm",
)


# -- the sweep ------------------------------------------------------------------------


def _curves(run: int, steps: int) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(run)
    s = np.arange(steps, dtype=np.float64)
    speed = steps / (8 + run % 7)
    floor = 0.2 + 0.05 * (run % 5)
    train = floor + 2.0 * np.exp(-s / speed)
    val = train + 0.05 + (np.maximum(0, s - 0.6 * steps) / steps) * (run % 3) * 0.8
    acc = 1.0 - 0.8 * np.exp(-s / speed) - 0.1 * (run % 4) / 4
    if run % 10 == 0:  # diverges, then NaN
        blow = int(0.7 * steps)
        train[blow:] = train[blow] * np.exp((s[blow:] - blow) / (steps / 40))
        train[int(0.9 * steps) :] = np.nan
    noise = 1 + 0.02 * rng.standard_normal((6, steps))
    return {
        "train/loss": train * noise[0],
        "val/loss": val * noise[1],
        "train/accuracy": acc * noise[2],
        "val/accuracy": (acc - 0.05) * noise[3],
        "train/top5": np.minimum(1, acc + 0.1) * noise[4],
        "val/top5": np.minimum(1, acc + 0.05) * noise[5],
        "lr": 0.1 * 0.1 ** np.floor(s / (steps / 3)),
        "grad_norm": 1 + rng.standard_normal(steps) ** 2,
    }


def _frame(data: bytes) -> bytes:
    import struct

    from tbplateau.reader._fastscan import masked_crc32c

    header = struct.pack("<Q", len(data))
    return (
        header
        + struct.pack("<I", masked_crc32c(header))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )


def _events(run: int, steps: range, n_steps: int) -> bytes:
    from tensorboard.compat.proto import event_pb2

    curves = _curves(run, n_steps)
    out = []
    ev = event_pb2.Event()
    value = ev.summary.value.add()
    for step in steps:
        ev.step = step
        ev.wall_time = 1.7e9 + run + step
        for tag in TAGS:
            value.tag = tag
            value.simple_value = float(curves[tag][step % n_steps])
            out.append(_frame(ev.SerializeToString()))
    return b"".join(out)


def make_sweep(root: Path, runs: int, steps: int) -> Path:
    """The sweep under ``root`` (reused when already there)."""
    from tensorboard.compat.proto import event_pb2

    path = root / f"tab-sweep-r{runs}-s{steps}"
    done = path / "COMPLETE"
    if done.exists():
        return path
    for run in range(runs):
        run_dir = path / f"lr{run % 4}_wd{run % 5}_seed{run:03d}"
        run_dir.mkdir(parents=True, exist_ok=True)
        version = event_pb2.Event(wall_time=1.7e9, file_version="brain.Event:2")
        head = _frame(version.SerializeToString())
        (run_dir / f"events.out.tfevents.1700000000.bench.{run}.0").write_bytes(
            head + _events(run, range(steps), steps)
        )
    done.write_text("")
    return path


# -- the analysis alone, in a fresh interpreter ---------------------------------------------

CHILD = """
import json, sys, time
t = time.perf_counter(); c = time.process_time()
from tbplateau.reader import read_logdir
from tbplateau.analysis import analyze
from tbplateau.explain import report_view
marks = {"import": (time.perf_counter() - t, time.process_time() - c)}
t = time.perf_counter(); c = time.process_time()
logdir = read_logdir(sys.argv[1])
marks["read"] = (time.perf_counter() - t, time.process_time() - c)
t = time.perf_counter(); c = time.process_time()
report = analyze(logdir)
marks["analyze"] = (time.perf_counter() - t, time.process_time() - c)
t = time.perf_counter(); c = time.process_time()
report_view(report, logdir)
marks["view (advice)"] = (time.perf_counter() - t, time.process_time() - c)
marks["findings"] = (sum(1 for _ in report.findings()), 0)
print(json.dumps(marks))
"""


def analysis_alone(path: Path) -> dict[str, tuple[float, float]]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True
    )
    marks: dict[str, tuple[float, float]] = json.loads(out.stdout)
    return marks


# -- the tab in a real tensorboard ----------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its waited-for children so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(x) for x in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        body: bytes = response.read()
    return body


def _post(url: str) -> bytes:
    request = urllib.request.Request(url, data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        body: bytes = response.read()
    return body


def _tensorboard() -> str:
    exe = Path(sys.executable).parent / "tensorboard"
    return str(exe) if exe.exists() else "tensorboard"


def run_tab(path: Path, loader: str, grow: Path, steps: int) -> dict[str, Any]:
    log = Path(tempfile.mkdtemp()) / "tb.log"
    out: dict[str, Any] = {"loader": loader}
    args = [_tensorboard(), "--logdir", str(path), "--host", "127.0.0.1", "--port", "0"]
    args += ["--reload_interval", "0", f"--load_fast={loader}"]
    with log.open("wb") as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(
            args,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            base = None
            while base is None:
                found = re.search(rb"(http://127\.0\.0\.1:\d+/)", log.read_bytes())
                if found:
                    base = found.group(1).decode()
                elif proc.poll() is not None:
                    raise SystemExit(f"tensorboard exited:\n{log.read_text()}")
                else:
                    time.sleep(0.02)
            out["listening"] = time.perf_counter() - start
            report = base + "data/plugin/tbplateau/report"
            version = None
            doc: dict[str, Any] = {}
            while True:
                body = _get(report + ("" if version is None else f"?since={version}"))
                got = json.loads(body)
                status = got["status"]
                if "report" in got:
                    doc, version = got, got["version"]
                    out.setdefault("findings", time.perf_counter() - start)
                    out.setdefault("cpu_findings", _cpu_seconds(proc.pid))
                # the document is published a moment before the scan's status is (the
                # first answer with a report may still say "scanning")
                if doc and status["scan_seconds"] is not None:
                    out.setdefault("first_scan", (status["scan_seconds"], status["reanalysed"]))
                idle = status["advice"] is None and not status["scanning"]
                if doc and idle and doc["advice_pending"] == 0 and status["version"] == version:
                    break
                time.sleep(0.05)
            out["advice"] = time.perf_counter() - start
            out["cpu_advice"] = _cpu_seconds(proc.pid)
            full = _get(report)
            out["doc_bytes"] = len(full)
            out["doc_gzip"] = len(gzip.compress(full, 6))
            out["findings_n"] = sum(
                len(s["findings"]) for r in doc["report"]["runs"] for s in r["series"]
            ) + sum(len(r["findings"]) for r in doc["report"]["runs"])

            # one run grows: only its group is read and analysed again
            event_file = sorted(grow.glob("*tfevents*"))[0]
            run = int(grow.name.rsplit("seed", 1)[1])
            with event_file.open("ab") as fh:
                fh.write(_events(run, range(steps, steps + 100), steps))
            t = time.perf_counter()
            target = json.loads(_post(base + "data/plugin/tbplateau/reload"))["scan"]
            while True:
                status = json.loads(_get(report + f"?since={version}"))["status"]
                if status["scan"] >= target:
                    break
                time.sleep(0.02)
            out["reload"] = time.perf_counter() - t
            out["reload_scan"] = (status["scan_seconds"], status["reanalysed"])
            while status["advice"] is not None or status["scanning"]:
                time.sleep(0.02)
                status = json.loads(_get(report + f"?since={version}"))["status"]
            out["reload_advice"] = time.perf_counter() - t
        finally:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
            with contextlib.suppress(ProcessLookupError):  # a data server left in its session
                os.killpg(proc.pid, signal.SIGKILL)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="40 runs x 8 tags x 250 steps")
    ap.add_argument("--loader", action="append", choices=["auto", "true", "false"])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    args = ap.parse_args(argv)
    runs, steps = (40, 250) if args.quick else (200, 1000)
    loaders = args.loader or ["true", "false"]
    print(f"sweep: {runs} runs x {len(TAGS)} tags x {steps:,} steps; {os.cpu_count()} CPUs")
    path = make_sweep(args.data_dir, runs, steps)
    print(f"data: {path}")

    alone = analysis_alone(path)
    print("\nthe analysis alone (fresh interpreter), wall s / CPU s:")
    for key in ("import", "read", "analyze", "view (advice)"):
        wall, cpu = alone[key]
        print(f"  {key:<15} {wall:7.2f} / {cpu:6.2f}")
    print(f"  findings        {int(alone['findings'][0])}")
    read_analyze = alone["read"][0] + alone["analyze"][0]
    print(f"  read + analyze  {read_analyze:7.2f}  (the floor of the tab's first report)")

    for loader in loaders:
        # the grown run is restored by regenerating the sweep next time: use a copy
        work = Path(tempfile.mkdtemp()) / "sweep"
        subprocess.run(["cp", "-r", str(path), str(work)], check=True)
        grow = sorted(p for p in work.iterdir() if p.is_dir())[1]
        r = run_tab(work, loader, grow, steps)
        subprocess.run(["rm", "-rf", str(work.parent)], check=True)
        print(f"\ntensorboard --load_fast={loader} (wall s from the process start):")
        print(f"  listening                  {r['listening']:6.2f}")
        print(
            f"  findings (first report)    {r['findings']:6.2f}   target {TARGET_FIRST_S:.0f} s; "
            f"CPU so far {r['cpu_findings']:.2f} s"
        )
        scan_s, scan_runs = r["first_scan"]
        print(f"    its scan on the server   {scan_s:6.2f}   ({scan_runs} runs analysed)")
        print(
            f"  advice for every run       {r['advice']:6.2f}   CPU so far {r['cpu_advice']:.2f} s"
        )
        reload_s, reload_runs = r["reload_scan"]
        print(
            f"  reload after one run grew  {r['reload']:6.2f}   scan {reload_s:.3f} s, "
            f"{reload_runs} run(s) re-analysed (first scan: {scan_s:.2f} s, {scan_runs} runs)"
        )
        print(f"    with that run's advice   {r['reload_advice']:6.2f}")
        mb = r["doc_bytes"] / 1e6
        print(
            f"  document                   {mb:6.2f} MB ({r['doc_gzip'] / 1e6:.2f} MB gzipped), "
            f"target < {TARGET_DOC_MB:.0f} MB; {r['findings_n']} findings"
        )
        print(
            f"  gap: first report {r['findings']:.2f} s vs read + analyze alone "
            f"{read_analyze:.2f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
