"""Failure classes 2 and 3 of issue 8: oscillations found, and no oscillation false alarms.

An oscillation is repeated sign alternation with swings large relative to the level
and to the local noise, sustained over a stretch: the loss at the edge of stability
after an LR raise (a jump of 30-100x, then period-2 alternation), a sine-like burst
on a decaying trend. Not an oscillation: a level shift, white noise at a loss floor
(louder on a log scale), swings of a fraction of a percent of the level, a few
isolated spikes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tbplateau.findings import FindingKind
from tests.detectors.shapes import (
    analyse,
    approach,
    describe,
    known_weak,
    near,
    noise,
    of_kind,
    position,
    series,
)


def _edge_of_stability(seed: int, n: int, damped: bool) -> tuple[np.ndarray, int]:
    """A decaying loss; at t0 the LR is raised: a jump of 30-100x, then period-2 swings."""
    rng = np.random.default_rng(seed)
    t0 = int(n * rng.uniform(0.35, 0.6))
    sigma = float(rng.choice([0.005, 0.02]))
    log = math.log(2.0) + approach(n, tau=0.3 * t0, drop=2.5)
    jump = math.log(float(rng.uniform(30, 100)))
    ramp = int(rng.integers(1, 4))  # within a few points
    k = np.arange(n - t0, dtype=np.float64)
    high = log[t0 - 1] + jump * np.minimum(1.0, (k + 1) / ramp)
    half = 0.5 * math.log(float(rng.uniform(1.5, 4.0)))  # high/low ratio of the two levels
    sign = np.where(k.astype(np.int64) % 2 == 0, 1.0, -1.0)
    if damped:
        length = float(rng.uniform(20, 35))
        amp = half * np.exp(-3.0 * k / length)
        recover = np.maximum(k - length, 0.0) / (n - t0) * 2.0
        log[t0:] = high - half + amp * sign - recover
    else:
        log[t0:] = high - half + half * sign
    return np.exp(log + noise(rng, n, sigma)), t0


_WEAK_EOS = {
    (True, 300, 0): "swings that die out within 20 points after a 3x raise, then a slow "
    "recovery: read as a divergence (the jump) with plateaus, the short burst not seen",
}


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("n", [120, 300, 1000, 2000])
@pytest.mark.parametrize("damped", [False, True], ids=["to_end", "damped"])
def test_edge_of_stability_is_an_oscillation_from_the_raise(
    damped: bool, n: int, seed: int, request: pytest.FixtureRequest
) -> None:
    if damped and n > 300:
        pytest.skip("damping over 20-35 points is a spike on a long run")
    known_weak(request, _WEAK_EOS, damped, n, seed)
    values, t0 = _edge_of_stability(seed, n, damped)
    s = series(values, "loss")
    found = analyse(s, "min")
    osc = of_kind(found, FindingKind.OSCILLATION)
    assert len(osc) == 1, describe(s, found)
    assert near(s, osc[0].start_step, t0), describe(s, found)


def _sine_burst(seed: int, n: int) -> tuple[np.ndarray, int, int]:
    rng = np.random.default_rng(seed)
    sigma = float(rng.choice([0.005, 0.01]))
    log = math.log(2.0) - 2.0 * np.log1p(np.arange(n) / (0.05 * n)) / math.log1p(20)
    period = float(rng.uniform(4, 10))
    a = int(n * rng.uniform(0.3, 0.5))
    b = min(n, a + int(period * rng.uniform(6, 10)))
    amp = float(rng.uniform(8, 20)) * sigma
    k = np.arange(b - a, dtype=np.float64)
    log[a:b] += amp * np.sin(2 * np.pi * k / period)
    return np.exp(log + noise(rng, n, sigma)), a, b


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [150, 300, 600])
def test_sine_burst_on_a_decaying_trend_is_found_from_its_start(n: int, seed: int) -> None:
    values, a, b = _sine_burst(seed, n)
    s = series(values, "loss")
    found = analyse(s, "min")
    osc = of_kind(found, FindingKind.OSCILLATION)
    assert len(osc) == 1, describe(s, found)
    assert near(s, osc[0].start_step, a), describe(s, found)
    assert abs(position(s, osc[0].end_step) - b) <= max(3, 0.05 * n), describe(s, found)


# ------------------------------------------------------------------- false alarms


def _no_oscillation(values: np.ndarray, goal: str = "min", tag: str = "loss") -> None:
    s = series(values, tag)
    found = analyse(s, goal)
    assert not of_kind(found, FindingKind.OSCILLATION), describe(s, found)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n", [40, 300, 2000])
@pytest.mark.parametrize("up", [False, True], ids=["drop", "rise"])
def test_level_shift_after_a_fast_start_is_not_an_oscillation(up: bool, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    t0 = int(n * rng.uniform(0.3, 0.6))
    log = math.log(2.0) + approach(n, tau=0.05 * n, drop=2.0)
    log[t0:] = log[t0 - 1] + (1.0 if up else -1.0) * float(rng.uniform(0.5, 3.0))
    _no_oscillation(np.exp(log + noise(rng, n, float(rng.choice([0.005, 0.02])))))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n", [50, 300, 3000])
def test_white_noise_at_a_loss_floor_is_not_an_oscillation(n: int, seed: int) -> None:
    # Additive noise: a hundredth of the start, a tenth of the floor. On a log scale the
    # floor looks a hundred times louder than the start.
    rng = np.random.default_rng(seed)
    floor = float(rng.uniform(0.02, 0.1))
    loss = floor + 2.0 * np.exp(-np.arange(n) / (0.1 * n)) + noise(rng, n, 0.1 * floor)
    _no_oscillation(np.abs(loss))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("goal", ["min", "max"])
def test_swings_of_a_fraction_of_a_percent_are_not_an_oscillation(goal: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 600
    t = np.arange(n)
    level = 0.3 * np.exp(-t / 150) + 0.5 if goal == "min" else 0.95 - 0.4 * np.exp(-t / 150)
    swing = float(rng.uniform(0.001, 0.004)) * np.sin(2 * np.pi * t / float(rng.uniform(3, 8)))
    values = level * (1 + swing) + noise(rng, n, 2e-4)
    _no_oscillation(values, goal, "loss" if goal == "min" else "accuracy")


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [60, 500, 4000])
def test_a_few_isolated_spikes_are_not_an_oscillation(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    log = math.log(2.0) + approach(n, tau=0.3 * n, drop=2.0) + noise(rng, n, 0.02)
    # isolated: at least three points apart, none in the last three (where one cannot
    # tell a spike from the start of a blow-up)
    spikes = np.sort(
        rng.choice(np.arange(5, n - 3, 3), size=int(rng.integers(2, 6)), replace=False)
    )
    log[spikes] += rng.uniform(0.5, 2.5, spikes.size)
    values = np.exp(log)
    _no_oscillation(values)
    s = series(values)
    assert not of_kind(analyse(s, "min"), FindingKind.DIVERGENCE), describe(s, analyse(s, "min"))
