"""The synthetic families of issue 8's failure classes: seeded per case, split by seed."""

from __future__ import annotations

import numpy as np

from tbplateau.evaluation.families import FAMILIES, OPEN_FAMILIES, split_of, synthetic_cases
from tbplateau.findings import FindingKind


def test_cases_are_seeded_one_by_one() -> None:
    a = synthetic_cases(scale=0.25)
    b = synthetic_cases(scale=0.25)
    assert [c.name for c in a] == [c.name for c in b]
    for ca, cb in zip(a, b, strict=True):
        assert ca.labels == cb.labels
        for sa, sb in zip(ca.logdir.iter_series(), cb.logdir.iter_series(), strict=True):
            assert np.array_equal(sa.values, sb.values, equal_nan=True)
    # a case does not depend on how many cases its family has
    more = {c.name: c for c in synthetic_cases(scale=0.5)}
    for c in a:
        assert more[c.name].labels == c.labels


def test_split_is_by_seed_parity_and_every_family_is_in_both() -> None:
    cases = synthetic_cases(scale=0.25)
    assert all(c.split == split_of(c.seed) for c in cases)
    assert split_of(0) == "dev"
    assert split_of(1) == "test"
    for fam in FAMILIES:
        splits = {c.split for c in cases if c.family == fam.name}
        assert splits == {"dev", "test"}, fam.name
    dev = {(c.family, c.seed) for c in cases if c.split == "dev"}
    test = {(c.family, c.seed) for c in cases if c.split == "test"}
    assert not dev & test


def test_labels_point_at_existing_series_and_steps() -> None:
    kinds: dict[str, set[FindingKind]] = {"dev": set(), "test": set()}
    for case in synthetic_cases() + synthetic_cases(open_cases=True):
        for lb in case.labels:
            kinds[case.split].add(lb.kind)
            series = case.logdir[lb.run][lb.tags[0]]
            assert lb.start_step in set(series.steps.tolist()), (case.name, lb)
            if lb.onset_range is not None:
                assert lb.onset_range[0] <= lb.start_step <= lb.onset_range[1]
            if lb.kind is FindingKind.OVERFITTING:
                assert case.logdir[lb.run][lb.tags[0]] is not None
    assert kinds["dev"] == kinds["test"] == set(FindingKind)


def test_every_failure_class_has_a_family_and_open_cases_stay_apart() -> None:
    assert {f.failure_class for f in FAMILIES} == {0, 1, 2, 3, 4, 5, 6}
    assert {c.source for c in synthetic_cases(scale=0.25)} == {"synthetic"}
    assert {c.source for c in synthetic_cases(open_cases=True)} == {"open"}
    assert not {f.name for f in FAMILIES} & {f.name for f in OPEN_FAMILIES}


def test_collapse_is_one_step_and_stays() -> None:
    """Class 1 in the generator itself: the loss jumps 25-400x in one step and stays."""
    for case in synthetic_cases():
        if case.family != "collapse":
            continue
        loss = case.logdir["."]["loss"]
        jump = next(lb for lb in case.labels if lb.kind is FindingKind.DIVERGENCE)
        i = int(np.searchsorted(loss.steps, jump.start_step))
        before = np.median(loss.values[max(0, i - 5) : i])
        after = np.median(loss.values[i:])
        assert 15 < after / before < 700
        assert loss.values[i] / loss.values[i - 1] > 10
