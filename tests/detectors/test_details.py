"""Issue 9: what a finding quotes in ``detail`` comes from the finding's own points.

The views quote a plateau's level, band and best value, and an overfitting finding's
best value at its step: those must be computed on the same points as the verdict,
and where one lucky point would mislead, a robust best is there beside it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tbplateau.detectors import OverfittingDetector, PlateauDetector
from tbplateau.findings import Goal
from tests.detectors.shapes import approach, noise, position, series


def _points(s_values: np.ndarray, s_len: int, start: int, end: int | None) -> np.ndarray:
    stop = s_len if end is None else end + 1
    return s_values[start:stop]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n", [40, 300, 3000])
@pytest.mark.parametrize("goal", ["min", "max"])
def test_plateau_detail_is_computed_on_the_plateau_points(goal: Goal, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    t0 = int(0.4 * n)
    if goal == "min":
        log = math.log(2.0) + approach(n, tau=0.1 * t0, drop=1.5) + noise(rng, n, 0.02)
        values = np.exp(log)
        values[t0 + (n - t0) // 2] *= 0.5  # one lucky evaluation inside the plateau
        s = series(values, "loss")
    else:
        values = 0.1 - approach(n, tau=0.1 * t0, drop=0.8) + noise(rng, n, 0.005)
        values[t0 + (n - t0) // 2] += 0.05
        s = series(values, "accuracy")
    found = PlateauDetector().detect(s, goal)
    assert found, "a settled tail is a plateau"
    for f in found:
        a, b = position(s, f.start_step), position(s, f.end_step)
        pts = _points(s.values, len(s), a, None if f.end_step is None else b)
        d = f.detail
        assert d["level"] == pytest.approx(float(np.median(pts)))
        low, high = np.quantile(pts, [0.05, 0.95])
        assert d["low"] == pytest.approx(float(low))
        assert d["high"] == pytest.approx(float(high))
        best = float(pts.min() if goal == "min" else pts.max())
        assert d["best"] == pytest.approx(best)
        at = position(s, d["best_step"])
        assert a <= at < a + pts.size
        assert float(s.values[at]) == pytest.approx(best)
        assert d["low"] <= d["level"] <= d["high"]
        # the robust best lies between the best point and the level
        lo, hi = sorted((d["best"], d["level"]))
        assert lo <= d["robust_best"] <= hi
    last = found[-1]
    lucky = t0 + (n - t0) // 2
    assert position(s, last.start_step) < lucky, "the settled tail holds the lucky point"
    # the lucky point is the best, flagged, and the robust best is not it
    assert position(s, last.detail["best_step"]) == lucky
    assert last.detail["best_is_outlier"]
    assert last.detail["robust_best"] != pytest.approx(last.detail["best"])
    # without the lucky point nothing is flagged
    clean = s.values.copy()
    clean[lucky] = 0.5 * (clean[lucky - 1] + clean[lucky + 1])
    again = PlateauDetector().detect(series(clean, s.tag), goal)
    assert again
    assert not again[-1].detail["best_is_outlier"]


@pytest.mark.parametrize("n", [6, 30, 400])
def test_overfitting_detail_quotes_the_value_logged_at_its_step(n: int) -> None:
    rng = np.random.default_rng(n)
    t = np.arange(n, dtype=np.float64)
    turn = int(0.4 * n)
    train = np.exp(-t / (0.3 * n) + noise(rng, n, 0.01))
    val = np.exp(np.where(t < turn, -t / (0.3 * n), -turn / (0.3 * n) + (t - turn) / (0.4 * n)))
    val = val * np.exp(noise(rng, n, 0.01))
    found = OverfittingDetector().detect_pair(series(val, "val_loss"), series(train, "loss"), "min")
    assert len(found) == 1
    d = found[0].detail
    at = position(series(val), d["best_step"])
    assert d["best_step"] == found[0].start_step
    assert d["best_value"] == pytest.approx(float(val[at]))
    assert d["final_value"] > d["robust_best"]
    assert abs(math.log(d["robust_best"] / d["best_value"])) < 0.1


def test_plateau_confidence_is_the_calibrated_monotone_map_of_its_raw_score() -> None:
    """Raw scores in [0.4, 1] map monotonically onto [0.78, 0.92]: every raw score up to
    0.85 reads as about 80% (what the dev split and the tuning pools measured), the best
    as 92%."""
    from tbplateau.detectors.plateau import calibrated_confidence

    raws = np.linspace(0.3, 1.1, 81)
    cal = np.array([calibrated_confidence(float(r)) for r in raws])
    assert np.all(np.diff(cal) >= 0)
    assert calibrated_confidence(0.4) == pytest.approx(0.78)
    assert calibrated_confidence(0.85) == pytest.approx(0.82)
    assert calibrated_confidence(1.0) == pytest.approx(0.92)
    assert cal.min() >= 0.78
    assert cal.max() <= 0.92
