"""tbplateau beats the standard rules on a fresh seed of the synthetic set."""

from __future__ import annotations

import pytest

from tbplateau.evaluation.benchmark import OURS, run_benchmark
from tbplateau.evaluation.synthetic import generate_cases
from tbplateau.findings import FindingKind


@pytest.mark.slow
def test_quality_targets_on_an_unseen_seed() -> None:
    cases = generate_cases(2027, per_family=6, long_series=False)
    results = run_benchmark(cases)
    ours = results[OURS]
    assert ours.macro_f1 >= 0.85
    for kind in FindingKind:
        assert ours.by_kind[kind].f1 >= 0.8, kind
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
    assert ours.macro_f1 >= 0.85
    for kind in FindingKind:
        assert ours.by_kind[kind].f1 >= 0.8, kind
        best_rule = max(r.by_kind[kind].f1 for name, r in results.items() if name != OURS)
        assert ours.by_kind[kind].f1 >= best_rule, kind
