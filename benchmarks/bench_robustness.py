"""Robustness benchmark: the quality score when the same runs are logged another way.

Usage::

    PYTHONPATH=src python benchmarks/bench_robustness.py [--split dev|test|both]
        [--perturb NAME ...]

Each perturbation of :mod:`tbplateau.evaluation.perturb` rewrites every case of the
evaluation set (real runs, legacy fixtures and synthetic families) as another writer or
script could have logged the same training: global steps instead of epochs, accuracies
in percent, sparser evaluations later in the run, one evaluation logged before
training. The labels move with the points. For each split it prints tbplateau's macro
F1 and F1 per kind, unperturbed and under each perturbation, with the change; a finding
that hangs on how the run was logged shows as a drop. Aggregates only, as for the
quality benchmark's test split. Printed, never asserted.
"""

from __future__ import annotations

import argparse
import time

from tbplateau.evaluation.benchmark import OURS, predict_all
from tbplateau.evaluation.evalset import evaluation_cases
from tbplateau.evaluation.perturb import PERTURBATIONS, perturb
from tbplateau.evaluation.scoring import Scores, score
from tbplateau.evaluation.synthetic import Case
from tbplateau.findings import FindingKind


def _scores(cases: list[Case]) -> dict[str, Scores]:
    preds = predict_all(cases, [OURS])[OURS]
    out = {}
    for split in ("dev", "test"):
        group = [c for c in cases if c.split == split]
        if group:
            names = {c.name for c in group}
            out[split] = score(group, [p for p in preds if p.case in names])
    return out


def _row(name: str, s: Scores, base: Scores | None) -> str:
    cells = [f"{name:10s}", f"{s.macro_f1:.3f}"]
    cells.append("" if base is None else f"{s.macro_f1 - base.macro_f1:+.3f}")
    for kind in FindingKind:
        f1 = s.by_kind[kind].f1
        delta = "" if base is None else f" ({f1 - base.by_kind[kind].f1:+.2f})"
        cells.append(f"{f1:.2f}{delta}")
    return " | ".join(cells)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["dev", "test", "both"], default="both")
    ap.add_argument("--perturb", nargs="*", choices=list(PERTURBATIONS), default=None)
    args = ap.parse_args(argv)
    t0, c0 = time.perf_counter(), time.process_time()
    cases = [c for c in evaluation_cases(args.split) if c.source != "open"]
    names = args.perturb or list(PERTURBATIONS)
    base = _scores(cases)
    results = {name: _scores([perturb(c, name) for c in cases]) for name in names}
    head = ["logged as", "macro", "change", *(k.value for k in FindingKind)]
    for split, unperturbed in base.items():
        print(f"\n=== {split}: {sum(c.split == split for c in cases)} cases ===")
        print(" | ".join(head))
        print(_row("recorded", unperturbed, None))
        for name in names:
            print(_row(name, results[name][split], unperturbed))
    print(f"\n{time.perf_counter() - t0:.1f} s wall, {time.process_time() - c0:.1f} s CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
