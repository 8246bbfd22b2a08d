"""Perturbations move points and labels together, and touch only what they say."""

from __future__ import annotations

import numpy as np
import pytest

from tbplateau.errors import InvalidParameterError
from tbplateau.evaluation.perturb import PERTURBATIONS, perturb
from tbplateau.evaluation.scoring import Prediction, score
from tbplateau.evaluation.synthetic import Case, Label
from tbplateau.findings import Finding, FindingKind
from tbplateau.reader.model import Logdir, Run
from tbplateau.series import Series


def _case() -> Case:
    steps = np.arange(0, 200, 2)
    t = np.arange(100, dtype=np.float64)
    loss = np.exp(-t / 20) + 0.1
    acc = 0.9 - 0.5 * np.exp(-t / 20)
    series = (
        Series(".", "loss", steps=steps, values=loss),
        Series(".", "val_accuracy", steps=steps, values=acc),
    )
    labels = (
        Label(".", FindingKind.PLATEAU, ("loss",), 120, None, (110, 130)),
        Label(".", FindingKind.DIVERGENCE, ("val_accuracy",), 60, 80),
    )
    return Case("c", Logdir("d", (Run(".", ("f",), series),)), labels, "family")


@pytest.mark.parametrize("name", list(PERTURBATIONS))
def test_labels_stay_on_the_same_points(name: str) -> None:
    case = _case()
    moved = perturb(case, name)
    shift = 1 if name == "pretrain" else 0  # one point logged before the first
    for before, after in zip(case.labels, moved.labels, strict=True):
        s0 = case.logdir["."][before.tags[0]]
        s1 = moved.logdir["."][after.tags[0]]
        assert len(s1) == len(s0) + shift
        assert np.all(np.diff(s1.steps) > 0)
        for a, b in ((before.start_step, after.start_step), (before.end_step, after.end_step)):
            if a is not None and b is not None:
                assert np.searchsorted(s1.steps, b) == np.searchsorted(s0.steps, a) + shift
        if before.onset_range is not None:
            assert after.onset_range is not None
            assert np.searchsorted(s1.steps, after.onset_range[1]) == (
                np.searchsorted(s0.steps, before.onset_range[1]) + shift
            )


def test_a_finding_on_the_moved_points_scores_as_it_did() -> None:
    case = _case()
    moved = perturb(case, "steps")
    lb = moved.labels[0]
    found = Finding(FindingKind.PLATEAU, lb.start_step, None, ("loss",), 0.9, {})
    scores = score([moved], [Prediction("c", ".", found)])
    assert scores.by_kind[FindingKind.PLATEAU].tp == 1


def test_percent_scales_only_metrics_in_0_to_1_to_maximise() -> None:
    case = _case()
    moved = perturb(case, "percent")
    assert np.array_equal(moved.logdir["."]["loss"].values, case.logdir["."]["loss"].values)
    assert np.allclose(
        moved.logdir["."]["val_accuracy"].values, 100 * case.logdir["."]["val_accuracy"].values
    )
    assert moved.labels == case.labels


def test_pretrain_logs_chance_accuracy_and_a_worse_loss_first() -> None:
    moved = perturb(_case(), "pretrain")
    acc = moved.logdir["."]["val_accuracy"]
    loss = moved.logdir["."]["loss"]
    assert acc.steps[0] == -2
    assert acc.values[0] == pytest.approx(0.1)
    assert loss.values[0] > 4 * loss.values[1]


def test_an_unknown_perturbation_is_named() -> None:
    with pytest.raises(InvalidParameterError, match="'shuffle'"):
        perturb(_case(), "shuffle")


def test_pretrain_logs_a_worse_first_value_for_any_goal_and_leaves_the_lr_alone() -> None:
    steps = np.arange(50)
    t = steps.astype(np.float64)
    walls = 1000.0 + t
    series = (
        Series(".", "reward", steps=steps, values=-200 + 3 * t, wall_times=walls),
        Series(".", "val_accuracy_pct", steps=steps, values=50 + 0.5 * t),
        Series(".", "lr", steps=steps, values=np.full(50, 1e-3)),
    )
    case = Case("c", Logdir("d", (Run(".", ("f",), series),)), (), "family")
    moved = perturb(case, "pretrain").logdir["."]
    reward, pct, lr = moved["reward"], moved["val_accuracy_pct"], moved["lr"]
    assert reward.values[0] < reward.values[1:].min()
    assert pct.values[0] < pct.values[1:].min()
    assert len(lr) == 50  # no goal: untouched
    assert reward.wall_times[0] == walls[0]
    assert np.array_equal(reward.wall_times[1:], walls)
