"""tbplateau beats the standard rules on a fresh seed of the synthetic set."""

from __future__ import annotations

import pytest

from tbplateau.evaluation.benchmark import OURS, run_benchmark
from tbplateau.evaluation.synthetic import generate_cases
from tbplateau.findings import FindingKind

# The first synthetic set and the real fixtures were labelled before issue 8 and disagree
# with its rules in places: their step-LR plateaus start where the fall after the cut has
# settled (the evaluation set's real runs, the reference, start them at the cut), a one-step
# collapse is only a plateau there (issue 8: a divergence at the jump and a plateau), a healthy
# accuracy's settled tail is unlabelled. Tuned on the evaluation set's dev split (the issue's
# reference), the detectors lost plateau F1 here (0.95 -> 0.70 on the unseen seed, 0.81 ->
# 0.64 on the project set): the plateau floor below is what they keep, the other kinds keep
# the original 0.8, and no kind may fall under the best standard rule.
LEGACY_PLATEAU_FLOOR = 0.6


@pytest.mark.slow
def test_quality_targets_on_an_unseen_seed() -> None:
    cases = generate_cases(2027, per_family=6, long_series=False)
    results = run_benchmark(cases)
    ours = results[OURS]
    assert ours.macro_f1 >= 0.85
    for kind in FindingKind:
        floor = LEGACY_PLATEAU_FLOOR if kind is FindingKind.PLATEAU else 0.8
        assert ours.by_kind[kind].f1 >= floor, kind
        best_rule = max(r.by_kind[kind].f1 for name, r in results.items() if name != OURS)
        assert ours.by_kind[kind].f1 >= best_rule, kind


@pytest.mark.slow
def test_quality_targets_on_the_project_set() -> None:
    """The issue's targets on the synthetic set (seed 0) plus the labelled real fixtures."""
    from pathlib import Path

    from tbplateau.evaluation.benchmark import load_fixture_cases

    fixtures = load_fixture_cases(Path(__file__).resolve().parents[2] / "fixtures")
    cases = generate_cases(0, per_family=12, long_series=True) + fixtures
    results = run_benchmark(cases)
    ours = results[OURS]
    assert ours.macro_f1 >= 0.8
    for kind in FindingKind:
        floor = LEGACY_PLATEAU_FLOOR if kind is FindingKind.PLATEAU else 0.8
        assert ours.by_kind[kind].f1 >= floor, kind
        best_rule = max(r.by_kind[kind].f1 for name, r in results.items() if name != OURS)
        assert ours.by_kind[kind].f1 >= best_rule, kind


# Floors on the evaluation set's dev split (issue 8) that the detectors met when the set was
# built (dev, combined: macro F1 0.61; plateau 0.58, divergence 0.42, nonfinite 1.00,
# overfitting 0.65, oscillation 0.41). They guard against regressions; the targets are
# far above them and are measured on the test split by benchmarks/bench_quality.py, never here.
DEV_FLOORS = {
    FindingKind.PLATEAU: 0.50,
    FindingKind.DIVERGENCE: 0.35,
    FindingKind.NONFINITE: 0.95,
    FindingKind.OVERFITTING: 0.55,
    FindingKind.OSCILLATION: 0.30,
}


@pytest.mark.slow
def test_floors_on_the_dev_split_of_the_evaluation_set() -> None:
    from tbplateau.evaluation.benchmark import predict_all
    from tbplateau.evaluation.evalset import EVALSET_ROOT, evaluation_cases
    from tbplateau.evaluation.scoring import score

    if not EVALSET_ROOT.is_dir():
        pytest.skip("evalset/real not generated")
    cases = evaluation_cases("dev")
    assert cases
    assert all(c.split == "dev" for c in cases)
    ours = score(cases, predict_all(cases, [OURS])[OURS])
    assert ours.macro_f1 >= 0.55
    for kind, floor in DEV_FLOORS.items():
        assert ours.by_kind[kind].f1 >= floor, kind
