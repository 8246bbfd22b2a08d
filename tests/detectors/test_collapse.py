"""Failure class 1 of issue 8: a one-step collapse is a divergence.

A metric that is good and steady, then in ONE step falls to chance (an accuracy to
the class prior) or jumps 25-400x (a loss) and stays at the new level, flat or
noisy: a divergence at the jump, a plateau on the new level, no oscillation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tbplateau.detectors.base import onset_tolerance
from tbplateau.findings import FindingKind
from tests.detectors.shapes import (
    analyse,
    approach,
    describe,
    near,
    noise,
    of_kind,
    position,
    series,
)

LENGTHS = [25, 32, 50, 300, 2000, 5000]


def _collapsed_loss(seed: int, n: int) -> tuple[np.ndarray, int]:
    rng = np.random.default_rng(seed)
    t0 = int(n * rng.uniform(0.45, 0.7))
    sigma = float(rng.choice([0.01, 0.03]))
    log = math.log(2.3) + approach(n, tau=0.25 * t0, drop=2.0) + noise(rng, n, sigma)
    factor = float(rng.choice([25.0, 100.0, 400.0]))
    after_sigma = float(rng.choice([sigma, 0.1]))  # flat or noisy at the new level
    level = float(np.mean(log[max(0, t0 - 3) : t0])) + math.log(factor)
    log[t0:] = level + noise(rng, n - t0, after_sigma)
    return np.exp(log), t0


def _collapsed_accuracy(seed: int, n: int) -> tuple[np.ndarray, int]:
    rng = np.random.default_rng(seed)
    t0 = int(n * rng.uniform(0.45, 0.7))
    prior = float(rng.choice([0.1, 0.5]))
    sigma = float(rng.choice([0.005, 0.02]))
    acc = prior - approach(n, tau=0.25 * t0, drop=0.9 - prior) + noise(rng, n, sigma)
    if rng.random() < 0.5:
        acc[t0:] = prior  # the model predicts one class: exactly the prior
    else:
        acc[t0:] = prior + noise(rng, n - t0, 0.01)
    return np.clip(acc, 0.0, 1.0), t0


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n", LENGTHS)
@pytest.mark.parametrize("metric", ["loss", "accuracy"])
def test_one_step_collapse_is_a_divergence_and_a_plateau(metric: str, n: int, seed: int) -> None:
    if metric == "loss":
        values, t0 = _collapsed_loss(seed, n)
        s, goal = series(values, "loss"), "min"
    else:
        values, t0 = _collapsed_accuracy(seed, n)
        s, goal = series(values, "accuracy", stride=10), "max"
    found = analyse(s, goal)
    what = describe(s, found)
    div = of_kind(found, FindingKind.DIVERGENCE)
    assert len(div) == 1, what
    assert near(s, div[0].start_step, t0), what
    assert div[0].end_step is None, what
    tol = onset_tolerance(n)
    flat = [f for f in of_kind(found, FindingKind.PLATEAU) if position(s, f.start_step) > t0 - tol]
    assert len(flat) == 1, what
    assert near(s, flat[0].start_step, t0), what
    assert flat[0].end_step is None, what
    assert not of_kind(found, FindingKind.OSCILLATION), what
    # anything before the collapse ends before it
    for f in of_kind(found, FindingKind.PLATEAU):
        if f is not flat[0]:
            assert position(s, f.end_step) <= t0 + 1, what
