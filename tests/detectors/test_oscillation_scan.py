"""The oscillation detector's scans against the plain loops they replaced (same answers)."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest

from tbplateau import stats
from tbplateau.detectors import oscillation
from tbplateau.detectors.oscillation import (
    FLIP_SHARE,
    MIN_FLIPS,
    _first_alternation,
    _first_alternation_scan,
    _flips,
)
from tests.helpers import compiled_kernels


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


def _awkward_series() -> list[npt.NDArray[np.float64]]:
    rng = np.random.default_rng(7)
    swings = np.where(np.arange(50) % 2, 1.0, -1.0)
    out = [np.zeros(0), np.ones(1), np.ones(2), np.ones(3), swings, 1e200 * swings, 1e-200 * swings]
    for n in (3, 4, 5, 8, 13, 40, 200):
        out.append(rng.normal(0, 1, n) + swings[:n] if n <= 50 else rng.normal(0, 1, n))
        out.append(rng.integers(-2, 3, n).astype(np.float64))  # ties: zero differences
        out.append(np.where(rng.random(n) < 0.1, np.nan, rng.normal(0, 1, n)))
        out.append(np.where(rng.random(n) < 0.1, np.inf, rng.normal(0, 1, n)))
        out.append(np.where(rng.random(n) < 0.5, -0.0, 0.0))
    return out


def _answer(
    find: Callable[[npt.NDArray[np.float64], float], tuple[int, int] | None],
    values: npt.NDArray[np.float64],
    bar: float,
) -> tuple[tuple[int, int] | None, list[str]]:
    """What ``find`` answers, with the warnings numpy gives on the way (an overflow)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = find(values, bar)
    return found, [str(w.message) for w in caught]


@pytest.mark.parametrize("seed", range(3))
def test_first_alternation_kernel_is_the_python_scan(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    monkeypatch.setattr(stats, "KERNELS", compiled_kernels())
    rng = np.random.default_rng(seed)
    cases = _awkward_series()
    for _ in range(500):
        n = int(rng.integers(0, 80))
        values = rng.normal(0, 1, n) + np.where(np.arange(n) % 2, 1.0, -1.0) * rng.uniform(0, 3)
        cases.append(values)
    found = 0
    for values in cases:
        for bar in (0.0, float(rng.uniform(0, 2)), 1e300, float("nan")):
            for v in (values, values[::-2]):  # any strides
                want = _answer(_first_alternation_scan, v, bar)
                assert _answer(_first_alternation, v, bar) == want, (v.tolist(), bar)
                found += want[0] is not None
    assert found > 100


def test_first_alternation_kernel_declines_what_is_no_float64_array() -> None:
    kernels = compiled_kernels()
    ints = np.arange(6)
    assert kernels.first_alternation(ints, 0.5, MIN_FLIPS, FLIP_SHARE) is None  # type: ignore[arg-type]
    assert kernels.first_alternation(np.ones((2, 3)), 0.5, MIN_FLIPS, FLIP_SHARE) is None
    swings = np.where(np.arange(40) % 2, 1.0, -1.0)
    assert kernels.first_alternation(swings, 0.5, MIN_FLIPS, FLIP_SHARE) == (0, 39)
    assert kernels.first_alternation(swings, 5.0, MIN_FLIPS, FLIP_SHARE) == (-1, -1)
