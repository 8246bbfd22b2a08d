"""Quality benchmark: tbplateau and the standard rules on the evaluation set, dev and test apart.

Usage::

    PYTHONPATH=src python benchmarks/bench_quality.py [--split dev|test|both] [--kind KIND ...]
        [--no-rules] [--open-cases] [--show-cases] [--show-test-cases] [--scale 1.0]
        [--pool DIR]

The set (``tbplateau.evaluation.evalset``): real training runs made by ``train_reference``
(``evalset/real/*``, labels from what each script did), the legacy ``fixtures/*`` runs
(``dev`` only) and the seeded synthetic families, split by seed (odd: ``test``, even:
``dev``). For each split it prints, for real runs, synthetic curves and both together:
per-kind TP/FP/FN, precision, recall, F1 and median onset error (points) of tbplateau,
the best standard rule's F1 beside it, every system's F1 per kind and macro F1; then a
reliability table of tbplateau's scored findings by reported confidence.

Scoring (issue 8): a finding matches a label when run, kind and (except overfitting, which
is per run) tag agree and its onset lies within max(2, 5% of the series' points) points of
the label's onset, or of its fuzzy ``onset_range``; each label matches one finding at most
(closest first); an unmatched finding is a false positive on a series fully labelled for
its kind and unscored elsewhere. tbplateau is read through its JSON document.

The test split is for scoring a finished change: only aggregate tables are printed.
``--show-cases`` prints every dev case's labels and findings; the test split's only with
``--show-test-cases``. ``--open-cases`` adds the issue's open cases as a separate group,
never in the main tables. ``--pool DIR`` also scores the tuning pool made by
``python -m train_reference.evalset.generate --pool --quick --out DIR`` (760 real runs, not
committed; neither split): tune on ``dev`` and the pool together, and a change that helps
``dev`` alone is tuning noise.
"""

from __future__ import annotations

import argparse
import time

from tbplateau.baselines import RULES
from tbplateau.evaluation.benchmark import (
    OURS,
    format_cases,
    format_group,
    format_reliability,
    predict_all,
)
from tbplateau.evaluation.evalset import POOL, TWINS_FROM, evaluation_cases, load_real_cases
from tbplateau.findings import FindingKind


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["dev", "test", "both"], default="both")
    ap.add_argument("--kind", nargs="*", choices=[k.value for k in FindingKind], default=None)
    ap.add_argument("--no-rules", action="store_true", help="tbplateau only (faster)")
    ap.add_argument("--open-cases", action="store_true", help="also score the open cases apart")
    ap.add_argument("--show-cases", action="store_true", help="per-case labels/findings (dev)")
    ap.add_argument(
        "--show-test-cases", action="store_true", help="per-case output of the test split too"
    )
    ap.add_argument("--scale", type=float, default=1.0, help="synthetic cases per family, x")
    ap.add_argument(
        "--first-set",
        action="store_true",
        help=f"real runs of the first set only (seeds below {TWINS_FROM}), without the twins",
    )
    ap.add_argument("--pool", metavar="DIR", default=None, help="also score this tuning pool")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    c0 = time.process_time()
    kinds = tuple(FindingKind(k) for k in args.kind) if args.kind else tuple(FindingKind)
    cases = evaluation_cases(args.split, synthetic_scale=args.scale, open_cases=args.open_cases)
    if args.first_set:
        cases = [c for c in cases if c.source != "real" or c.seed < TWINS_FROM]
    if args.pool:
        pool = load_real_cases(args.pool)
        if not pool or any(c.split != POOL for c in pool):
            ap.error(f"{args.pool}: no tuning pool (train_reference.evalset.generate --pool)")
        cases += pool
    systems = [OURS] if args.no_rules else [OURS, *RULES]
    preds = predict_all(cases, systems)
    series = sum(len(c.logdir.runs[i].series) for c in cases for i in range(len(c.logdir.runs)))
    real_series = sum(
        1 for c in cases if c.source == "real" for r in c.logdir.runs for _ in r.series
    )
    print(
        f"{len(cases)} cases ({series} series, {real_series} in real evalset runs), "
        f"{sum(len(c.labels) for c in cases)} labels; split {args.split}"
    )
    splits = ("dev", "test") if args.split == "both" else (args.split,)
    for split in (*splits, POOL) if args.pool else splits:
        main_cases = [c for c in cases if c.split == split and c.source != "open"]
        print(f"\n=== {split} ===")
        groups = (
            ("real runs", [c for c in main_cases if c.source in ("real", "fixture")]),
            ("synthetic", [c for c in main_cases if c.source == "synthetic"]),
            ("combined", main_cases),
        )
        for title, group in groups:
            if group and (title != "combined" or len(group) > len(groups[0][1])):
                print()
                print(format_group(f"{split} · {title}", group, preds, kinds))
        print(f"\n{split} · reliability (tbplateau, combined)")
        print(format_reliability(main_cases, preds[OURS]))
        open_group = [c for c in cases if c.split == split and c.source == "open"]
        if open_group:
            print()
            print(
                format_group(
                    f"{split} · open cases (not in the score)",
                    open_group,
                    {OURS: preds[OURS]},
                    kinds,
                )
            )
    if args.show_cases or args.show_test_cases:
        shown = [c for c in cases if c.split == "dev" or args.show_test_cases]
        print()
        print(format_cases(shown, preds[OURS]))
    print(f"\n{time.perf_counter() - t0:.1f} s wall, {time.process_time() - c0:.1f} s CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
