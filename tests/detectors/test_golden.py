"""Golden onsets on seeded synthetic curves (exact values from the generators below)."""

from __future__ import annotations

import numpy as np
import pytest

from tbplateau.detectors import (
    DivergenceDetector,
    OscillationDetector,
    OverfittingDetector,
    PlateauDetector,
)
from tbplateau.series import Series


def _tol(n: int) -> int:
    return max(2, round(0.05 * n))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n", [30, 400, 5000])
def test_plateau_after_linear_log_decline(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    t0 = int(0.4 * n)
    u = np.arange(n)
    log_loss = -2.0 * np.minimum(u, t0) / t0 + rng.normal(0, 0.03, n)
    found = PlateauDetector().detect(
        Series("r", "loss", steps=u * 10, values=np.exp(log_loss)), "min"
    )
    assert len(found) == 1
    assert abs(found[0].start_step / 10 - t0) <= _tol(n)
    assert found[0].end_step is None
    assert found[0].detail["constant"] is False


def test_staircase_gives_one_plateau_per_step() -> None:
    rng = np.random.default_rng(7)
    n = 1200
    u = np.arange(n)
    level = np.select([u < 400, u < 800], [-1.0, -2.0], -3.0)
    settle = np.where(u < 60, -u / 60, 0.0)  # initial fall into the first step
    log_loss = np.where(u < 60, settle, level) + rng.normal(0, 0.02, n)
    found = PlateauDetector().detect(Series("r", "loss", steps=u, values=np.exp(log_loss)), "min")
    starts = [f.start_step for f in found]
    assert len(starts) == 3
    for got, want in zip(starts, [60, 400, 800], strict=True):
        assert abs(got - want) <= _tol(n)
    assert [f.end_step is None for f in found] == [False, False, True]


def test_healthy_power_law_has_no_finding_before_it_settles() -> None:
    # Issue 8: the tail of a power-law convergence is a plateau once 90-99 % of the
    # improvement is done (on the loss and on its log both); nothing before that.
    rng = np.random.default_rng(3)
    u = np.arange(2000)
    log_loss = -1.5 * np.log1p(u / 20) + rng.normal(0, 0.02, 2000)
    s = Series("r", "loss", steps=u, values=np.exp(log_loss))
    found = PlateauDetector().detect(s, "min")
    ninety = int(np.argmax(np.log1p(u / 20) >= 0.9 * np.log1p(1999 / 20)))
    assert all(f.start_step >= ninety - 100 for f in found), (ninety, found)
    assert DivergenceDetector().detect(s, "min") == []
    assert OscillationDetector().detect(s, "min") == []


@pytest.mark.parametrize("goal", ["min", "max"])
def test_divergence_onset(goal: str) -> None:
    rng = np.random.default_rng(11)
    n, t0 = 800, 500
    u = np.arange(n)
    trend = np.where(u < t0, -u / 400, -t0 / 400 + (u - t0) / 100)
    if goal == "min":
        values = np.exp(trend + rng.normal(0, 0.02, n))
    else:
        values = 0.5 - 0.3 * trend / 3 + rng.normal(0, 0.005, n)
    found = DivergenceDetector().detect(Series("r", "m", steps=u, values=values), goal)  # type: ignore[arg-type]
    assert len(found) == 1
    assert abs(found[0].start_step - t0) <= _tol(n)


def test_divergence_that_recovers_has_an_end() -> None:
    rng = np.random.default_rng(5)
    n = 1000
    u = np.arange(n)
    bump = np.where((u >= 400) & (u < 600), np.minimum(u - 400, 600 - u) / 50, 0.0)
    log_loss = -u / 500 + bump + rng.normal(0, 0.02, n)
    found = DivergenceDetector().detect(
        Series("r", "loss", steps=u, values=np.exp(log_loss)), "min"
    )
    assert len(found) == 1
    assert abs(found[0].start_step - 400) <= _tol(n)
    assert found[0].end_step is not None
    assert 500 < found[0].end_step < 700


def test_oscillation_onset() -> None:
    rng = np.random.default_rng(9)
    n, t0 = 1000, 600
    u = np.arange(n)
    log_loss = np.where(u < t0, -u / 300, -2 + 0.3 * np.sin(u / 1.3)) + rng.normal(0, 0.01, n)
    found = OscillationDetector().detect(
        Series("r", "loss", steps=u, values=np.exp(log_loss)), "min"
    )
    assert len(found) == 1
    assert abs(found[0].start_step - t0) <= _tol(n)


@pytest.mark.parametrize("every", [1, 10])
def test_overfitting_onset_is_the_best_validation_step(every: int) -> None:
    rng = np.random.default_rng(13)
    n, t0 = 1000, 450
    u = np.arange(n)
    train = np.exp(-2 * np.log1p(u / 50) + rng.normal(0, 0.03, n))
    v = u[::every]
    val = np.exp(
        np.where(v < t0, -v / 500, -t0 / 500 + (v - t0) / 800) + rng.normal(0, 0.01, v.size)
    )
    found = OverfittingDetector().detect_pair(
        Series("validation", "epoch_loss", steps=v, values=val),
        Series("train", "epoch_loss", steps=u, values=train),
        "min",
    )
    assert len(found) == 1
    assert abs(found[0].start_step - t0) <= _tol(n)
    assert found[0].tags == ("epoch_loss", "epoch_loss")
    assert found[0].detail["validation_run"] == "validation"
    assert found[0].detail["training_run"] == "train"


def test_overfitting_when_training_is_flat_but_validation_rises_strongly() -> None:
    # Issue 8: the training loss already flat while the validation loss rises by half
    # its earlier improvement is overfitting (it used to be reported as divergence).
    rng = np.random.default_rng(17)
    u = np.arange(300)
    train = np.exp(np.where(u < 100, -u / 50, -2.0) + rng.normal(0, 0.01, 300))
    val = np.exp(np.where(u < 100, -u / 100, -1 + (u - 100) / 400) + rng.normal(0, 0.01, 300))
    found = OverfittingDetector().detect_pair(
        Series("r", "val_loss", steps=u, values=val),
        Series("r", "loss", steps=u, values=train),
        "min",
    )
    assert len(found) == 1
    assert abs(found[0].start_step - 100) <= _tol(300)


def test_no_overfitting_when_training_gets_worse_too() -> None:
    rng = np.random.default_rng(17)
    u = np.arange(300)
    train = np.exp(np.where(u < 100, -u / 50, -2.0 + (u - 100) / 300) + rng.normal(0, 0.01, 300))
    val = np.exp(np.where(u < 100, -u / 100, -1 + (u - 100) / 400) + rng.normal(0, 0.01, 300))
    det = OverfittingDetector()
    assert (
        det.detect_pair(
            Series("r", "val_loss", steps=u, values=val),
            Series("r", "loss", steps=u, values=train),
            "min",
        )
        == []
    )
