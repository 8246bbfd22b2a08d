"""The shared preparation's O(1) answers agree with their plain definitions."""

from __future__ import annotations

import numpy as np

from tbplateau.detectors.base import Prepared, prepare, stretch_kappa
from tbplateau.series import Series


def _prepared(values: list[float]) -> Prepared:
    s = Series("r", "loss", steps=np.arange(len(values)), values=np.asarray(values))
    return prepare(s, "max")


def test_is_constant_is_a_zero_range_of_two_or_more_raw_values() -> None:
    rng = np.random.default_rng(3)
    values = rng.choice([1.0, 2.0, -0.0, 0.0, np.nan, np.inf], 60).tolist()
    p = _prepared(values)
    for p0 in range(-2, p.n + 2):
        for p1 in range(-2, p.n + 2):
            raw = p.raw_range(p0, p1)
            expected = raw.size > 1 and float(np.ptp(raw)) == 0.0
            assert p.is_constant(p0, p1) is expected, (p0, p1)


def test_stretch_kappa_weighs_every_overlapping_segment_in_order() -> None:
    rng = np.random.default_rng(5)
    t = np.arange(400.0)
    y = np.where(t < 150, -t / 50, -3.0) + np.where(t > 300, 2.0, 0.0)
    y = y + rng.normal(0, 0.1, t.size) + 0.3 * np.sin(t / 3)
    p = _prepared(y.tolist())
    assert len(p.segments) > 2
    m = len(p.bins)
    for b0 in range(-1, m + 2, 3):
        for b1 in range(b0, m + 2, 5):
            total, weight = 0.0, 0
            for seg in p.segments:
                w = min(b1, seg.b1) - max(b0, seg.b0)
                if w > 0:
                    total += w * seg.kappa
                    weight += w
            expected = total / weight if weight else p.kappa
            assert stretch_kappa(p, b0, b1) == expected, (b0, b1)
