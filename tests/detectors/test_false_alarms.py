"""Failure class 6 of issue 8 (and issue 9's warm-up): plateau and divergence false alarms.

No plateau on a 4-6-point lull inside a rising stretch; no flat verdict on a steady
20-50 % decline because the series turns chaotic later; a divergence onset at the
blow-up, not at one low outlier before it; no divergence "at step 0" on a short
warm-up that falls first and climbs back near its best by the end.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tbplateau.detectors.plateau import PlateauDetector
from tbplateau.findings import FindingKind
from tests.detectors.shapes import (
    analyse,
    describe,
    known_weak,
    near,
    noise,
    of_kind,
    position,
    series,
    stalled,
)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [30, 50, 120])
def test_a_short_lull_inside_a_rising_stretch_is_not_a_plateau(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = int(n * rng.uniform(0.3, 0.5))
    k = int(rng.integers(4, 7))
    moving = stalled(n, a, k)
    acc = 0.2 + 0.7 * moving / (n - k) + noise(rng, n, 0.005)
    s = series(acc, "accuracy")
    found = analyse(s, "max")
    assert not of_kind(found, FindingKind.PLATEAU), describe(s, found)
    assert not of_kind(found, FindingKind.DIVERGENCE), describe(s, found)


_WEAK_LULL = {
    (60, 4): "the lull's piece takes in two points before it: 8 points, as many as a "
    "plateau that the metric leaves by improving needs (INTERIOR_POINTS)",
}


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [40, 60, 120])
def test_a_short_lull_that_a_sudden_fall_ends_is_not_a_plateau(
    n: int, seed: int, request: pytest.FixtureRequest
) -> None:
    known_weak(request, _WEAK_LULL, n, seed)
    # A loss falls steadily, stalls for 4-6 points, then drops 15-25 % in one step and
    # falls on (an LR raise that is not logged, a lucky batch): a lull the loss left by
    # improving at once, no plateau, though the jump cuts it short.
    rng = np.random.default_rng(seed)
    a = int(n * rng.uniform(0.35, 0.5))
    k = int(rng.integers(4, 7))
    moving = stalled(n, a, k)
    log = math.log(0.6) - 1.0 * moving / (n - k)
    log[a + k :] += math.log(1.0 - float(rng.uniform(0.15, 0.25)))
    s = series(np.exp(log + noise(rng, n, 0.01)))
    found = analyse(s, "min")
    lull = [f for f in of_kind(found, FindingKind.PLATEAU) if near(s, f.start_step, a, slack=2)]
    assert not lull, (a, k, describe(s, found))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n", [40, 200, 1000])
def test_a_steady_decline_is_not_flat_because_the_series_turns_chaotic_later(
    n: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    c = int(n * rng.uniform(0.3, 0.45))
    fall = float(rng.uniform(0.2, 0.5))  # a 20-50 % decline before the chaos
    t = np.arange(n, dtype=np.float64)
    log = math.log(1.5) + math.log(1 - fall) * np.minimum(t, c) / c + noise(rng, n, 0.01)
    log[c:] += noise(rng, n - c, float(rng.uniform(0.4, 0.8)))  # chaotic from c
    s = series(np.exp(log))
    found = analyse(s, "min")
    early = [f for f in of_kind(found, FindingKind.PLATEAU) if position(s, f.start_step) < c - 3]
    assert not early, (c, describe(s, found))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [30, 60, 400, 3000])
def test_divergence_onset_is_the_blow_up_not_a_low_outlier_before_it(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    t0 = int(n * rng.uniform(0.55, 0.7))
    t = np.arange(n, dtype=np.float64)
    log = math.log(2.0) - 1.5 * np.minimum(t, t0) / t0 + noise(rng, n, 0.02)
    log[t0:] += (t[t0:] - t0) / (n - t0) * float(rng.uniform(3.0, 8.0))
    dip = t0 - int(rng.integers(2, max(3, n // 8)))
    log[dip] -= float(rng.uniform(0.3, 0.8))  # one lucky low point before the blow-up
    s = series(np.exp(log))
    found = analyse(s, "min")
    div = of_kind(found, FindingKind.DIVERGENCE)
    assert len(div) == 1, (t0, dip, describe(s, found))
    assert near(s, div[0].start_step, t0), (t0, dip, describe(s, found))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("n", [8, 11, 15])
def test_no_divergence_at_step_0_on_a_short_warm_up(n: int, seed: int) -> None:
    # A yolov5-style recall over a few epochs: it falls at first, then climbs back to
    # near its best by the end.
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64)
    dip = float(rng.uniform(0.1, 0.3))
    start = float(rng.uniform(0.4, 0.6))
    recall = start - dip * np.sin(np.pi * t / (n - 1)) ** 0.7 + 0.05 * t / n
    recall = recall + noise(rng, n, 0.01)
    s = series(np.clip(recall, 0, 1), "metrics/recall")
    found = analyse(s, "max")
    assert not of_kind(found, FindingKind.DIVERGENCE), describe(s, found)


def test_yolov5_recall_warm_up_is_not_a_divergence() -> None:
    # haniaraslan/yolov5 runs/train/exp metrics/recall (11 epochs), rounded.
    recall = [43e-4, 19e-4, 3e-4, 2e-4, 2e-4, 9e-4, 10e-4, 18e-4, 21e-4, 54e-4, 41e-4]
    s = series(recall, "metrics/recall")
    found = analyse(s, "max")
    assert not of_kind(found, FindingKind.DIVERGENCE), describe(s, found)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n", [80, 160, 600])
def test_a_steady_decline_after_an_lr_cut_is_not_flat_against_the_progress_before_it(
    n: int, seed: int
) -> None:
    # A loss falls by a factor of 25, then a step schedule cuts the LR at a logged event;
    # after it the loss goes on falling steadily on a log scale, by 25-35 % to the end.
    # That is less than a tenth of the progress before the cut, but a phase that still
    # falls by a quarter is moving: no plateau from the cut on.
    rng = np.random.default_rng(seed)
    cut = n // 2
    t = np.arange(n, dtype=np.float64)
    log = math.log(0.2) + math.log(25.0) * np.exp(-t / (0.08 * n))
    fall = rng.uniform(0.3, 0.45)
    log[cut:] = log[cut - 1] - fall * (t[cut:] - cut + 1) / (n - cut)
    s = series(np.exp(log + noise(rng, n, 0.004)))
    found = of_kind(PlateauDetector().detect(s, "min", events=(cut,)), FindingKind.PLATEAU)
    assert not [f for f in found if position(s, f.start_step) >= cut - 2], describe(s, found)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [30, 40, 80])
def test_an_evaluation_before_training_does_not_make_a_divergence(n: int, seed: int) -> None:
    # A validation accuracy logged once before training (at chance), then at 85 % after
    # the first epoch, levelling off within a point and sagging by under a point before it
    # climbs again: a line fitted through the first jump overshoots every value the metric
    # reached, and is no level it fell from.
    rng = np.random.default_rng(seed)
    chance = float(rng.choice([0.1, 0.5]))
    t = np.arange(n - 1, dtype=np.float64)
    acc = 0.87 - 0.01 * np.exp(-t / 2) + noise(rng, n - 1, 0.002)
    lo = int(n * 0.3)
    acc[lo : lo + 5] -= 0.006
    acc = np.round(np.concatenate([[chance], acc]) * 300) / 300  # 300 samples: quanta
    s = series(acc, "accuracy")
    found = analyse(s, "max")
    assert not of_kind(found, FindingKind.DIVERGENCE), describe(s, found)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [60, 160, 400, 2000])
def test_a_fall_that_climbs_back_before_a_blow_up_is_not_a_flat_phase(n: int, seed: int) -> None:
    # After an LR raise (a logged event) the loss falls by 25-45 %, climbs back to its
    # level at the raise as the instability builds, then blows up. The medians of the
    # phase's first and last thirds are at one level; its middle third is not: the
    # phase is a V, no plateau from the raise.
    rng = np.random.default_rng(seed)
    r = int(n * rng.uniform(0.4, 0.5))
    k = max(5, int(n * rng.uniform(0.06, 0.1)))
    t = np.arange(n, dtype=np.float64)
    log = math.log(2.0) - 1.5 * (1 - np.exp(-t / (0.1 * n)))
    u = t[r:] - r + 1
    v = np.where(u <= k, u / k, np.maximum(0.0, 2 - u / k))
    log[r:] = log[r - 1] - float(rng.uniform(0.3, 0.6)) * v
    log[r + 2 * k :] += float(rng.uniform(1.5, 2.5))
    s = series(np.exp(log + noise(rng, n, 0.01)))
    found = of_kind(PlateauDetector().detect(s, "min", events=(r,)), FindingKind.PLATEAU)
    spans = [
        f
        for f in found
        if position(s, f.start_step) <= r + k // 2 and position(s, f.end_step) >= r + k
    ]
    assert not spans, (r, k, describe(s, found))
