"""Findings a user would see as false alarms on real, unlabelled runs: every finding on a series
that improves to its end.

Usage::

    PYTHONPATH=src python benchmarks/realworld_false_alarms.py [ROOT]  # ../shared/realworld

Each folder of ROOT (one public project) is one logdir; it is analysed as a user would
(``tbplateau.analyze(...).to_dict()``, the JSON of ``tbplateau report DIR --format json``).
A series *improves to its end* when all of these hold:

* it is judged (``goal`` is ``min`` or ``max`` in the report) and has at least 20 finite points;
* its best finite value (lowest for ``min``, highest for ``max``) lies in the last 10% of its
  points;
* the Theil-Sen slope of its last quarter (at most 400 evenly spaced points of it), with its
  90% confidence interval, lies entirely on the goal's side of zero (falling for ``min``, rising
  for ``max``).

On such a series no plateau, divergence, overfitting or oscillation is a fair verdict about the
end of the run; each finding there is listed, one line per finding: logdir, run, tag, kind,
onset step. (An overfitting finding is listed when its validation series improves to its end.)
The list is the issue-8 closing note's "before / after" evidence; fewer lines is better.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import theilslopes

from tbplateau import analyze, read_logdir

ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "realworld"


def safe_text(name: str) -> str:
    """A name from a log, printable in a terminal: control characters as ``\\xNN``."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in name)


def improves_to_end(values: np.ndarray, goal: str | None) -> bool:
    """The rule of the module docstring on one series' values (in step order)."""
    if goal not in ("min", "max"):
        return False
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    n = len(v)
    if n < 20:
        return False
    sign = -1.0 if goal == "min" else 1.0
    best = int(np.argmax(sign * v))
    if best < int(0.9 * n):
        return False
    tail = v[n - max(5, n // 4) :]
    idx = np.unique(np.linspace(0, len(tail) - 1, min(len(tail), 400)).astype(int))
    _, _, lo, hi = theilslopes(tail[idx], idx, alpha=0.90)
    return bool(hi < 0) if goal == "min" else bool(lo > 0)


def false_alarms(logdir: Path) -> list[tuple[str, str, str, int]]:
    """``(run, tag, kind, onset)`` of every finding on a series that improves to its end."""
    data = read_logdir(logdir)
    doc: dict[str, Any] = analyze(data).to_dict()
    out = []
    for run in doc["runs"]:
        series = {s.tag: s for s in data[run["run"]].series}
        goals = {s["tag"]: s["goal"] for s in run["series"]}
        improving = {t for t, s in series.items() if improves_to_end(s.values, goals.get(t))}
        for s in run["series"]:
            if s["tag"] in improving:
                out += [(run["run"], s["tag"], f["kind"], f["start_step"]) for f in s["findings"]]
        for f in run["findings"]:
            if f["tags"] and f["tags"][0] in improving:
                out.append((run["run"], f["tags"][0], f["kind"], f["start_step"]))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", nargs="?", type=Path, default=ROOT)
    args = ap.parse_args(argv)
    if not args.root.is_dir():
        print(f"{args.root}: no such folder", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    total = 0
    for logdir in sorted(p for p in args.root.iterdir() if p.is_dir()):
        for run, tag, kind, onset in false_alarms(logdir):
            total += 1
            print(f"{safe_text(logdir.name)}\t{safe_text(run)}\t{safe_text(tag)}\t{kind}\t{onset}")
    print(
        f"{total} findings on series that improve to their end ({time.perf_counter() - t0:.1f} s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
