"""What the analysis costs next to the read: CPU and peak memory of a report against reading alone.

Usage::

    PYTHONPATH=src python benchmarks/bench_report_cost.py [--quick] [--repeat 3]

On the tab benchmark's sweep (200 runs x 8 tags x 1,000 steps of loss, accuracy, top-5, LR and
gradient-norm curves, generated once into ``benchmarks/_data/``; ``--quick``: 40 x 8 x 250), two
kinds of fresh interpreter, run alternately ``--repeat`` times:

* **read**: ``read_logdir`` alone;
* **report**: what ``tbplateau report --format json`` does: ``read_logdir``, ``analyze`` and the
  JSON document.

Each child times its phases in CPU and wall seconds and reads its own peak resident set
(``VmHWM``) at the end. Printed, never asserted (issue 8's targets): the analysis (analyze and
JSON) at most 3x the read in CPU, the CPU per judged series, and the report's peak RSS at most
1.5x the read's. Medians of the repeats; CPU beside wall, as this machine is shared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_tab import TAGS, make_sweep  # noqa: E402

CHILD = """
import json, sys, time
def mark():
    return time.perf_counter(), time.process_time()
def since(m):
    w, c = mark()
    return [w - m[0], c - m[1]]
def hwm_mb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return -1.0
m = mark()
from tbplateau.reader import read_logdir
if sys.argv[2] == "report":
    from tbplateau.analysis import analyze
out = {"import": since(m)}
m = mark()
logdir = read_logdir(sys.argv[1])
out["read"] = since(m)
if sys.argv[2] == "report":
    m = mark()
    report = analyze(logdir)
    out["analyze"] = since(m)
    m = mark()
    doc = report.to_json()
    out["json"] = since(m)
    out["judged"] = sum(1 for r in report.to_dict()["runs"] for s in r["series"] if s["goal"])
    out["bytes"] = len(doc)
out["peak_mb"] = hwm_mb()
print(json.dumps(out))
"""


def child(path: Path, what: str) -> dict[str, Any]:
    """One fresh interpreter doing ``what`` (``read`` or ``report``) on ``path``."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), what], capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _median(rows: list[dict[str, Any]], key: str, i: int) -> float:
    return statistics.median(float(r[key][i]) for r in rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="40 runs x 8 tags x 250 steps")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data-dir", type=Path, default=HERE / "_data")
    args = ap.parse_args(argv)
    runs, steps = (40, 250) if args.quick else (200, 1000)
    path = make_sweep(args.data_dir, runs, steps)
    print(f"sweep: {runs} runs x {len(TAGS)} tags x {steps:,} steps ({path})")
    reads: list[dict[str, Any]] = []
    reports: list[dict[str, Any]] = []
    for _ in range(args.repeat):
        reads.append(child(path, "read"))
        reports.append(child(path, "report"))
    read_cpu = _median(reads, "read", 1)
    read_wall = _median(reads, "read", 0)
    an_cpu = statistics.median(float(r["analyze"][1]) + float(r["json"][1]) for r in reports)
    an_wall = statistics.median(float(r["analyze"][0]) + float(r["json"][0]) for r in reports)
    judged = int(reports[0]["judged"])
    peak_read = statistics.median(float(r["peak_mb"]) for r in reads)
    peak_report = statistics.median(float(r["peak_mb"]) for r in reports)
    print(f"read alone:            {read_cpu:6.2f} s CPU, {read_wall:6.2f} s wall")
    print(f"analyze + JSON:        {an_cpu:6.2f} s CPU, {an_wall:6.2f} s wall")
    print(f"judged series:         {judged:,} ({1000 * an_cpu / max(judged, 1):.2f} ms CPU each)")
    print(f"analysis / read (CPU): {an_cpu / read_cpu:6.2f}x (target <= 3x)")
    print(f"peak RSS: read {peak_read:.0f} MB, report {peak_report:.0f} MB: ", end="")
    print(f"{peak_report / peak_read:.2f}x (target <= 1.5x)")
    print(f"medians of {args.repeat} fresh interpreters each; JSON {reports[0]['bytes']:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
