"""The oscillation detector's scans against the plain loops they replaced (same answers)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from tbplateau.detectors import oscillation
from tbplateau.detectors.oscillation import FLIP_SHARE, MIN_FLIPS, _first_alternation, _flips


def _first_alternation_by_pairs(
    values: npt.NDArray[np.float64], bar: float
) -> tuple[int, int] | None:
    """The scan as first written: pair by pair over numpy's booleans, the share by np.mean."""
    f = _flips(values, bar)
    m = f.size
    i = 0
    while i < m:
        if not f[i]:
            i += 1
            continue
        j = i
        while j + 1 < m and (f[j + 1] or (j + 2 < m and f[j + 2])):
            j += 1
        j = j if f[j] else j - 1
        if j - i + 2 >= MIN_FLIPS and float(np.mean(f[i : j + 1])) >= FLIP_SHARE:
            return i, j + 2
        i = j + 1
    return None


@pytest.mark.parametrize("seed", range(4))
def test_first_alternation_is_the_pair_by_pair_scan(seed: int) -> None:
    rng = np.random.default_rng(seed)
    found = 0
    for _ in range(2000):
        n = int(rng.integers(0, 60))
        values = rng.normal(0, 1, n)
        if rng.random() < 0.5:  # swings of a random size, so that some stretches alternate
            values += np.where(np.arange(n) % 2, 1.0, -1.0) * rng.uniform(0, 3)
        bar = float(rng.uniform(0, 2))
        want = _first_alternation_by_pairs(values, bar)
        assert _first_alternation(values, bar) == want
        found += want is not None
    assert 100 < found < 1900  # both answers were asked for


def test_first_alternation_of_edge_series() -> None:
    swings = np.where(np.arange(40) % 2, 1.0, -1.0)
    for values in (np.zeros(0), np.ones(1), np.ones(2), np.full(30, 3.0), swings, 1e150 * swings):
        for bar in (0.0, 0.5, 5.0):
            assert _first_alternation(values, bar) == _first_alternation_by_pairs(values, bar)
    assert oscillation._first_alternation(swings, 0.5) == (0, 39)
