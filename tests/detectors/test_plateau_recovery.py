"""Plateaus after a metric recovers from a blow-up (issue 8, failure class 5): the tail of
the convergence that follows the recovery jump."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tbplateau.detectors.base import onset_tolerance
from tbplateau.detectors.plateau import PlateauDetector
from tbplateau.findings import FindingKind
from tests.detectors.shapes import describe, noise, of_kind, position, series


def _recovery(seed: int, n: int) -> tuple[np.ndarray, int, float]:
    """A loss that falls slowly, blows up after an LR raise (chaotic, 0.2-20) and then
    recovers with one jump onto a power-law convergence to 0.018, nearly noise-free.

    Returns the values, where the recovery jump lands, and the level (log scale) the
    chaos sat at before it (its median)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64)
    a, b = int(0.4 * n), int(0.6 * n)
    log = -t / n
    log[a:b] = rng.uniform(math.log(0.2), math.log(20.0), b - a)
    u = (t[b:] - b) * 160.0 / n
    log[b:] = np.log(0.018 + 0.1 / (1.0 + u / 5.0))
    return np.exp(log + noise(rng, n, 0.001)), b, float(np.median(log[a:b]))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("n", [160, 400, 1000])
def test_the_tail_of_a_recovery_counts_the_recovery_jump_as_progress(n: int, seed: int) -> None:
    # After the jump the loss still falls by a factor of five, slower and slower. Against
    # the fall from the chaos it recovered from (the jump is part of that improvement) the
    # last stretch is settled: a plateau to the end, from where 90-98 % of the fall from
    # the chaos's level is done (on the log scale and the loss's own). Against the fall
    # after the jump alone its tail comes too late, too short to be judged.
    values, b, chaos = _recovery(seed, n)
    s = series(values)
    clean = np.log(0.018 + 0.1 / (1.0 + (np.arange(b, n) - b) * 160.0 / n / 5.0))
    lo, hi = [], []
    for c in (np.concatenate(([chaos], clean)), np.exp(np.concatenate(([chaos], clean)))):
        done = (c - c[0]) / (c[-1] - c[0])
        lo.append(b - 1 + int(np.argmax(done >= 0.9)))
        hi.append(b - 1 + int(np.argmax(done >= 0.98)))
    found = of_kind(PlateauDetector().detect(s, "min"), FindingKind.PLATEAU)
    tails = [f for f in found if f.end_step is None and position(s, f.start_step) >= b]
    assert len(tails) == 1, (b, describe(s, found))
    at = position(s, tails[0].start_step)
    assert min(lo) <= at <= max(hi), (min(lo), max(hi), describe(s, found))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [160, 400])
def test_a_settled_tail_survives_a_recovery_phase_that_is_no_plateau(n: int, seed: int) -> None:
    # After the blow-up the loss lands, falls fast for a few points to 0.025 and then
    # creeps to 0.0185 with slowly wandering noise (AR(1), phi 0.95). Judged as a whole
    # from the jump, the phase's flatness is not measurable under that noise; its settled
    # tail is: a plateau to the end from no later than where 98 % of the fall is done.
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64)
    a, b = int(0.4 * n), int(0.6 * n)
    log = np.log(0.3 + 0.75 * np.exp(-t / (0.25 * n)))
    log[a:b] = rng.uniform(math.log(0.15), math.log(20.0), b - a)
    u = (t[b:] - b) / (n - b - 1)
    log[b:] = np.log(0.0245 - 0.006 * u**1.3 + 0.13 * np.exp(-u * (n - b - 1) * 160 / n / 1.3))
    log[b:] += noise(rng, n - b, 0.01, 0.95)
    s = series(np.exp(log))
    found = of_kind(PlateauDetector().detect(s, "min"), FindingKind.PLATEAU)
    tails = [f for f in found if f.end_step is None and position(s, f.start_step) >= b]
    assert len(tails) == 1, (b, describe(s, found))
    # 98 % of the fall from the chaos (a median of 1.7) to 0.0185, on the log scale
    settled = b + int(np.argmax(log[b:] <= math.log(0.0185) + 0.02 * math.log(1.7 / 0.0185)))
    assert position(s, tails[0].start_step) <= settled + onset_tolerance(n), (
        settled,
        describe(s, found),
    )


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n", [160, 400])
def test_a_steady_decline_that_turns_unstable_is_no_plateau(n: int, seed: int) -> None:
    # After the recovery the loss converges, then declines steadily by 40 % over a seventh
    # of the run, then turns unstable: it swings back up to its level before the decline.
    # That unstable end is no final level: the decline before it is not flat against it,
    # and no plateau runs from the decline into the swings.
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64)
    a, b = int(0.4 * n), int(0.55 * n)
    c, d = int(0.78 * n), int(0.93 * n)
    log = np.log(0.25 + 0.8 * np.exp(-t / (0.15 * n)))
    log[a:b] = rng.uniform(math.log(0.5), math.log(12.0), b - a)
    u = t[b:c] - b
    log[b:c] = np.log(0.024 + 0.11 * np.exp(-u / (0.05 * n))) - 0.1 * u / (c - b)
    log[c:d] = log[c - 1] - 0.5 * (t[c:d] - c + 1) / (d - c)
    log[d:] = log[d - 1] + np.linspace(0.05, 0.7, n - d) + 0.15 * rng.uniform(-1, 1, n - d)
    s = series(np.exp(log + noise(rng, n, 0.005)))
    found = of_kind(PlateauDetector().detect(s, "min"), FindingKind.PLATEAU)
    tol = onset_tolerance(n)
    across = [
        f for f in found if position(s, f.start_step) < d - 2 and position(s, f.end_step) > d + tol
    ]
    assert not across, (c, d, describe(s, found))
