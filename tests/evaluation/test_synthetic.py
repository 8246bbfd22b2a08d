from __future__ import annotations

import json

import numpy as np

from tbplateau.evaluation.synthetic import SCENARIOS, Label, generate_cases, labels_to_json
from tbplateau.findings import FindingKind


def test_generation_is_seeded_and_covers_every_family() -> None:
    a = generate_cases(3, per_family=2, long_series=False)
    b = generate_cases(3, per_family=2, long_series=False)
    assert [c.name for c in a] == [c.name for c in b]
    for ca, cb in zip(a, b, strict=True):
        assert ca.labels == cb.labels
        for sa, sb in zip(ca.logdir.iter_series(), cb.logdir.iter_series(), strict=True):
            assert np.array_equal(sa.values, sb.values, equal_nan=True)
    assert {c.family for c in a} == set(SCENARIOS)
    c = generate_cases(4, per_family=2, long_series=False)
    assert any(
        not np.array_equal(x.values, y.values, equal_nan=True)
        for x, y in zip(a[0].logdir.iter_series(), c[0].logdir.iter_series(), strict=False)
    )


def test_labels_point_at_existing_series_and_steps() -> None:
    kinds = set()
    for case in generate_cases(0, per_family=3, long_series=False):
        if case.family == "healthy":
            assert case.labels == ()
        for lb in case.labels:
            kinds.add(lb.kind)
            series = case.logdir[lb.run][lb.tags[0]]
            assert lb.start_step in set(series.steps.tolist())
            if lb.kind is FindingKind.OVERFITTING:
                assert len(lb.tags) == 2
            if lb.onset_range is not None:
                assert lb.onset_range[0] <= lb.start_step <= lb.onset_range[1]
    assert kinds == set(FindingKind)


def test_labels_round_trip_json() -> None:
    labels = [lb for c in generate_cases(1, per_family=1, long_series=False) for lb in c.labels]
    back = [Label.from_dict(d) for d in json.loads(labels_to_json(labels))]
    assert back == labels
