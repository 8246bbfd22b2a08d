"""Golden tests for the plateau detector on noisy, autocorrelated and quantised curves."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.signal import lfilter

from tbplateau.analysis import default_detectors
from tbplateau.detectors import PlateauDetector
from tbplateau.findings import FindingKind
from tbplateau.series import Series
from tbplateau.stats import long_run_noise_scale, noise_scale, quantum


def _healthy(seed: int, sigma: float, phi: float, n: int = 200) -> Series:
    rng = np.random.default_rng(seed)
    u = np.arange(n) / (n - 1)
    trend = -2.0 * (1 - np.exp(-u)) / (1 - math.exp(-1))
    e = rng.normal(0.0, 1.0, n)
    if phi:
        e = lfilter([1.0], [1.0, -phi], e) * math.sqrt(1 - phi * phi)
    return Series(".", "loss", steps=np.arange(n), values=np.exp(trend + sigma * e))


def _series_findings(s: Series) -> list[tuple[str, int]]:
    out = []
    for kind, det in default_detectors().items():
        if kind is FindingKind.OVERFITTING:
            continue
        out += [(f.kind.value, f.start_step) for f in det.detect(s, "min")]
    return out


def _only_a_settled_tail(s: Series) -> None:
    """No divergence, no oscillation, no plateau before the curve has made 90 % of its
    improvement (in the loss itself: issue 8's rule for the tail of a convergence)."""
    found = _series_findings(s)
    assert [k for k, _ in found if k != "plateau"] == []
    loss = np.exp(-2.0 * (1 - np.exp(-np.arange(len(s)) / (len(s) - 1))) / (1 - math.exp(-1)))
    done = (loss[0] - loss) / (loss[0] - loss[-1])
    ninety = int(np.argmax(done >= 0.9))
    assert all(start >= ninety - 10 for _, start in found), (ninety, found)
    assert len(found) <= 1


@pytest.mark.parametrize("seed", range(10))
def test_healthy_loss_with_large_white_noise_has_no_false_finding(seed: int) -> None:
    _only_a_settled_tail(_healthy(seed, 0.25, 0.0))


@pytest.mark.parametrize("seed", range(10))
def test_healthy_loss_with_ar09_noise_has_no_false_finding(seed: int) -> None:
    _only_a_settled_tail(_healthy(seed, 0.1, 0.9))


def test_quantised_accuracy_plateau_is_one_finding() -> None:
    # Validation accuracy over 50 samples: 0.98 for 50 epochs, then 1.0: one plateau.
    t = np.arange(200)
    acc = np.where(t < 100, 0.46 + 0.52 * t / 100, 0.98)
    acc = np.where(t >= 150, 1.0, np.round(acc * 50) / 50)
    found = PlateauDetector().detect(Series(".", "epoch_accuracy", steps=t, values=acc), "max")
    assert len(found) == 1
    assert found[0].end_step is None
    assert abs(found[0].start_step - 100) <= 3


def test_staircase_keeps_separate_plateaus() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(300)
    log_loss = np.select([t < 100, t < 200], [0.0, -1.0], -2.0) + rng.normal(0, 0.02, 300)
    s = Series(".", "loss", steps=t, values=np.exp(log_loss))
    starts = [f.start_step for f in PlateauDetector().detect(s, "min")]
    assert len(starts) == 3
    assert all(abs(a - b) <= 3 for a, b in zip(starts, [0, 100, 200], strict=True))


def test_loss_stuck_at_ln2_is_a_plateau() -> None:
    loss = [0.69309, 0.69307, 0.69305, 0.69303]
    s = Series(".", "epoch_loss", steps=[0, 1, 2, 3], values=loss)
    assert [(f.start_step, f.end_step) for f in PlateauDetector().detect(s, "min")] == [(0, None)]


def test_plateau_before_a_nonfinite_tail_ends_at_the_last_finite_point() -> None:
    t = np.arange(60)
    loss = np.where(t < 20, np.exp(-t / 5), math.exp(-4.0)) * (1 + 0.01 * np.sin(t))
    loss[50:] = np.nan
    found = PlateauDetector().detect(Series(".", "loss", steps=t, values=loss), "min")
    assert [f.end_step for f in found] == [49]


def test_quantum_and_long_run_noise() -> None:
    assert quantum(np.round(np.linspace(0, 1, 500) * 50) / 50) == pytest.approx(0.02)
    assert quantum(np.linspace(0, 1, 500)) == 0.0
    rng = np.random.default_rng(0)
    e = rng.normal(0, 1, 1000)
    assert long_run_noise_scale(e) == pytest.approx(1.0, rel=0.2)
    ar = lfilter([1.0], [1.0, -0.9], e) * math.sqrt(1 - 0.81)
    assert long_run_noise_scale(ar) > 2 * noise_scale(ar)
