"""Quality benchmark: tbplateau against the standard rules on the project's labelled set.

Usage::

    PYTHONPATH=src python benchmarks/bench_quality.py [--seed 0] [--per-family 12] \
        [--no-long] [--fixtures fixtures]

Prints, for tbplateau and every standard rule (Keras/PyTorch ReduceLROnPlateau,
Keras EarlyStopping, Prechelt GL5/UP3, ruptures Pelt(l2)+slope, first non-finite),
per-kind precision, recall, F1 and median onset error (in positions), the macro F1,
and tbplateau's F1 next to the best rule's for every kind. A finding matches a label
when run, kind and (for series kinds) tag agree and the onset is within
max(2, 5 % of the series' points) positions; each label matches one finding at most.
The set is the seeded synthetic generator's, plus ``fixtures/*/labels.json`` cases
when the reader and the fixtures exist (then the synthetic set, the fixtures and both
together are scored separately). A label with an ``onset_range [lo, hi]`` (a fuzzy
onset) is matched by any onset inside the range widened by the tolerance on each side.
"""

from __future__ import annotations

import argparse
import time

from tbplateau.evaluation.benchmark import format_table, load_fixture_cases, run_benchmark
from tbplateau.evaluation.synthetic import generate_cases


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-family", type=int, default=12)
    ap.add_argument("--no-long", action="store_true", help="leave out the 20k/100k-step runs")
    ap.add_argument("--fixtures", default="fixtures", help="folder of labelled real runs")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    cases = generate_cases(args.seed, per_family=args.per_family, long_series=not args.no_long)
    fixtures = load_fixture_cases(args.fixtures)
    labels = sum(len(c.labels) for c in cases + fixtures)
    print(
        f"{len(cases)} synthetic cases (seed {args.seed}) + {len(fixtures)} fixture cases, "
        f"{labels} labels"
    )
    if fixtures:
        print("\nsynthetic only:")
        print(format_table(run_benchmark(cases)))
        print("\nfixtures only:")
        print(format_table(run_benchmark(fixtures)))
        print("\ncombined (synthetic + fixtures):")
    print(format_table(run_benchmark(cases + fixtures)))
    print(f"\n{time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
