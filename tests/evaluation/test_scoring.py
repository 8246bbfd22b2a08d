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


def _partial_case(
    labels: list[Label], complete: dict[tuple[str, str], frozenset[FindingKind]]
) -> Case:
    base = _case(labels)
    return Case("c", base.logdir, tuple(labels), "test", complete=complete)


def test_unmatched_finding_is_a_false_positive_only_on_a_fully_labelled_series() -> None:
    labels = [Label(".", P, ("loss",), 500, None)]
    full = _partial_case(labels, {(".", "loss"): frozenset({P})})
    part = _partial_case(labels, {(".", "loss"): frozenset()})
    preds = [_pred(P, 500), _pred(P, 900)]
    s_full, s_part = score([full], preds), score([part], preds)
    assert (s_full.by_kind[P].tp, s_full.by_kind[P].fp) == (1, 1)
    assert (s_part.by_kind[P].tp, s_part.by_kind[P].fp) == (1, 0)  # the extra one is unscored
    assert s_part.unscored == 1
    # a series missing from `complete` is not fully labelled for any kind
    other = _partial_case(labels, {})
    assert score([other], [_pred(P, 900, ("val_loss",))]).by_kind[P].fp == 0


def test_overfitting_is_scored_per_run_one_finding_per_label() -> None:
    label = Label(".", OF, ("val_loss", "loss"), 300, None)
    case = _partial_case(
        [label], {(".", "val_loss"): frozenset({OF}), (".", "val_acc"): frozenset({OF})}
    )
    # one finding on the loss pair, one on an accuracy pair of the same run: one TP, one FP
    preds = [_pred(OF, 300, ("val_loss", "loss")), _pred(OF, 310, ("val_acc", "acc"))]
    s = score([case], preds).by_kind[OF]
    assert (s.tp, s.fp, s.fn) == (1, 1, 0)
    assert s.onset_errors == (0,)


def test_fuzzy_onset_range_widened_by_the_tolerance() -> None:
    case = _case([Label(".", P, ("loss",), 500, None, (400, 700))])  # positions 40..70, tol 5
    assert score([case], [_pred(P, 350)]).by_kind[P].onset_errors == (5,)
    s = score([case], [_pred(P, 340)]).by_kind[P]
    assert (s.tp, s.fp, s.fn) == (0, 1, 1)
    assert score([case], [_pred(P, 750)]).by_kind[P].tp == 1


def test_one_finding_cannot_match_two_labels() -> None:
    case = _case([Label(".", P, ("loss",), 500, None), Label(".", P, ("loss",), 510, None)])
    s = score([case], [_pred(P, 505)]).by_kind[P]
    assert (s.tp, s.fp, s.fn) == (1, 0, 1)


def test_reliability_buckets_count_matched_share_and_flag_the_off_ones() -> None:
    from tbplateau.evaluation.scoring import reliability

    judged = [(P, 0.95, i < 10) for i in range(20)] + [(P, 0.55, True), (P, 1.0, True)]
    buckets = reliability(judged)
    assert [(b.lo, b.hi) for b in buckets][-1] == (0.9, 1.0)
    top = buckets[-1]
    assert (top.count, top.matched) == (21, 11)  # 1.0 falls in the last bucket
    assert top.off  # 21 findings, share 0.52 against a mean confidence of 0.95
    mid = buckets[1]
    assert (mid.count, mid.matched, mid.off) == (1, 1, False)  # too few to flag
    assert buckets[0].share is None


def test_scores_keep_every_judged_finding_for_the_reliability_table() -> None:
    case = _case([Label(".", P, ("loss",), 500, None)])
    preds = [
        Prediction("c", ".", Finding(P, 500, None, ("loss",), 0.8)),
        Prediction("c", ".", Finding(P, 900, None, ("loss",), 0.6)),
    ]
    assert sorted(score([case], preds).judged) == [(P, 0.6, False), (P, 0.8, True)]
