from __future__ import annotations

import numpy as np

from tbplateau.evaluation.scoring import Prediction, score
from tbplateau.evaluation.synthetic import Case, Label
from tbplateau.findings import Finding, FindingKind
from tbplateau.reader.model import Logdir, Run
from tbplateau.series import Series

P = FindingKind.PLATEAU
OF = FindingKind.OVERFITTING


def _case(labels: list[Label], n: int = 100) -> Case:
    s = Series(".", "loss", steps=np.arange(n) * 10, values=np.ones(n))
    v = Series(".", "val_loss", steps=np.arange(n) * 10, values=np.ones(n))
    return Case("c", Logdir("c", (Run(".", ("f",), (s, v)),)), tuple(labels), "test")


def _pred(kind: FindingKind, step: int, tags: tuple[str, ...] = ("loss",)) -> Prediction:
    return Prediction("c", ".", Finding(kind, step, None, tags, 1.0))


def test_tolerance_is_five_percent_of_points_in_positions() -> None:
    case = _case([Label(".", P, ("loss",), 500, None)])  # position 50 of 100: tolerance 5
    assert score([case], [_pred(P, 550)]).by_kind[P].tp == 1
    s = score([case], [_pred(P, 560)]).by_kind[P]
    assert (s.tp, s.fp, s.fn) == (0, 1, 1)


def test_short_series_tolerance_is_two_positions() -> None:
    case = _case([Label(".", P, ("loss",), 50, None)], n=12)
    assert score([case], [_pred(P, 70)]).by_kind[P].tp == 1
    assert score([case], [_pred(P, 80)]).by_kind[P].tp == 0


def test_each_label_matches_one_finding_closest_first() -> None:
    case = _case([Label(".", P, ("loss",), 500, None), Label(".", P, ("loss",), 530, None)])
    s = score([case], [_pred(P, 520), _pred(P, 540), _pred(P, 545)]).by_kind[P]
    assert (s.tp, s.fp, s.fn) == (2, 1, 0)
    assert sorted(s.onset_errors) == [1, 4]  # greedy closest first: 530 takes 520


def test_tag_must_agree_for_series_kinds_but_not_overfitting() -> None:
    case = _case(
        [Label(".", P, ("loss",), 500, None), Label(".", OF, ("val_loss", "loss"), 300, None)]
    )
    sc = score([case], [_pred(P, 500, ("val_loss",)), _pred(OF, 300, ("val_loss", "other"))])
    assert sc.by_kind[P].tp == 0
    assert sc.by_kind[P].fp == 1
    assert sc.by_kind[OF].tp == 1


def test_onset_range_counts_as_zero_error() -> None:
    case = _case([Label(".", P, ("loss",), 500, None, (400, 700))])
    s = score([case], [_pred(P, 650)]).by_kind[P]
    assert s.tp == 1
    assert s.onset_errors == (0,)


def test_f1_and_macro() -> None:
    case = _case([Label(".", P, ("loss",), 500, None)])
    sc = score([case], [_pred(P, 500), _pred(FindingKind.NONFINITE, 10)])
    assert sc.by_kind[P].f1 == 1.0
    assert sc.by_kind[FindingKind.NONFINITE].f1 == 0.0  # a false alarm with no label
    assert sc.by_kind[FindingKind.DIVERGENCE].f1 == 1.0  # nothing expected, nothing found
    assert abs(sc.macro_f1 - (1 + 0 + 1 + 1 + 1) / 5) < 1e-12
