"""Golden findings: a byte-for-byte record of the reports, to prove a speed change changes nothing.

Usage::

    PYTHONPATH=src python benchmarks/golden_findings.py dump OUT.jsonl
    python benchmarks/golden_findings.py compare A.jsonl B.jsonl

``dump`` analyses every logdir under ``fixtures/`` (each subdirectory holding event
files), every run directory under ``evalset/real/`` and every logdir under
the shared real-world corpus (``../shared/realworld/`` next to the checkout, or
``/work/shared/realworld``; skipped when absent), and writes one JSON line per logdir:
its path and ``tbplateau.analyze(path).to_json()``; then the dev split of the seeded
synthetic families (and of the open cases) and the generated loss curves of
``bench_detect_speed.py`` (1,000-point and 50-point grids, one 200,000-point series),
analysed in memory. ``compare`` exits 1 and prints
the first differences when the two dumps are not identical (floats included).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from tbplateau.reader.model import Logdir, Run
from tbplateau.series import Series

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _has_events(d: Path) -> bool:
    return any("tfevents" in p.name for p in d.rglob("*") if p.is_file())


def _realworld() -> Path:
    for base in (ROOT.parent / "shared" / "realworld", Path("/work/shared/realworld")):
        if base.is_dir():
            return base
    return ROOT.parent / "shared" / "realworld"


def logdirs() -> list[tuple[str, Path]]:
    """Every logdir the golden record covers, with a stable label, in a fixed order."""
    out: list[tuple[str, Path]] = []
    bases = (
        ("fixtures", ROOT / "fixtures"),
        ("evalset/real", ROOT / "evalset" / "real"),
        ("realworld", _realworld()),
    )
    for label, base in bases:
        if not base.is_dir():
            continue
        for d in sorted(base.iterdir()):
            if d.is_dir() and _has_events(d):
                out.append((f"{label}/{d.name}", d))
    return out


def memory_logdirs() -> Iterator[tuple[str, Logdir]]:
    """The synthetic dev cases and the speed benchmark's curves, built in memory."""
    import numpy as np

    sys.path.insert(0, str(HERE))
    import bench_detect_speed as speed

    from tbplateau.evaluation.families import synthetic_cases

    for open_cases in (False, True):
        for case in synthetic_cases(open_cases=open_cases):
            if case.split == "dev":
                yield f"synthetic/{case.source}/{case.name}", case.logdir
    rng = np.random.default_rng(0)
    yield "speed/grid-1000", speed._grid(rng, 2, 10, 1000)
    yield "speed/grid-50", speed._grid(rng, 2, 10, 50)
    n = 200_000
    long = Series(".", "loss", steps=np.arange(n) * 10, values=speed._loss(rng, n))
    yield "speed/200k", Logdir("bench", (Run(".", ("f",), (long,)),))


def dump(out: Path) -> None:
    """Write one line per logdir: ``{"path": ..., "report": <to_json()>}``."""
    from tbplateau import analyze

    with out.open("w", encoding="utf-8") as f:
        for label, d in logdirs():
            doc = analyze(d).to_json(indent=None)
            f.write(json.dumps({"path": label, "report": doc}) + "\n")
        for label, logdir in memory_logdirs():
            doc = analyze(logdir).to_json(indent=None)
            f.write(json.dumps({"path": label, "report": doc}) + "\n")


def compare(a: Path, b: Path, limit: int = 5) -> int:
    """0 when ``a`` and ``b`` are identical, else 1 after printing the first differences."""
    la = a.read_text(encoding="utf-8").splitlines()
    lb = b.read_text(encoding="utf-8").splitlines()
    shown = 0
    if len(la) != len(lb):
        print(f"{len(la)} logdirs in {a}, {len(lb)} in {b}")
        shown += 1
    for x, y in zip(la, lb, strict=False):
        if x == y:
            continue
        pa, pb = json.loads(x), json.loads(y)
        ra, rb = pa["report"], pb["report"]
        i = next((k for k in range(min(len(ra), len(rb))) if ra[k] != rb[k]), min(len(ra), len(rb)))
        print(f"{pa['path']} / {pb['path']}: first difference at character {i}")
        print(f"  A: ...{ra[max(0, i - 120) : i + 120]}")
        print(f"  B: ...{rb[max(0, i - 120) : i + 120]}")
        shown += 1
        if shown >= limit:
            break
    if shown:
        return 1
    print(f"identical: {len(la)} logdirs")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = ap.parse_args()
    if args.cmd == "dump":
        dump(args.out)
        return 0
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
