"""The compiled kernels of ``detectors.base`` against their numpy twins: ``_noise_model``
(``_kernels.noise_model``) and ``_tiled_path`` (``_kernels.tiled_path``) give the same
values to the bit, on random and awkward inputs (lengths 1 to 5, ties, constants, signed
zeros, huge values, every window, pieces that do not move along x), and the kernels
refuse what they cannot compute. ``TBPLATEAU_REQUIRE_C=1`` (CI's sanitizer step) fails
instead of skipping when the kernels are not built."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest

from tbplateau import stats
from tbplateau.detectors import base
from tbplateau.stats import Bins
from tests.helpers import compiled_kernels

FloatArray = npt.NDArray[np.float64]


def _bits(model: base._NoiseModel) -> list[object]:
    return [
        [float(x).hex() for x in v.tolist()] if isinstance(v, np.ndarray) else float(v).hex()
        for v in model
    ]


def _both(
    monkeypatch: pytest.MonkeyPatch, y: FloatArray, window: int, resolution: float
) -> tuple[list[object], list[object]]:
    monkeypatch.setattr(stats, "KERNELS", compiled_kernels())
    fast = _bits(base._noise_model(y, window, resolution))
    monkeypatch.setattr(stats, "KERNELS", None)
    slow = _bits(base._noise_model(y, window, resolution))
    return fast, slow


def _blocks() -> Iterator[FloatArray]:
    rng = np.random.default_rng(11)
    for n in (1, 2, 3, 4, 5, 6, 7, 9, 16, 39, 40, 41, 99, 100, 101, 200):
        yield rng.normal(0, 1, n)
        yield rng.integers(-3, 4, n).astype(np.float64)  # many ties
        yield np.full(n, 2.5)
        yield np.cumsum(rng.normal(0, 1, n)) * 1e6
        yield rng.normal(0, 1, n) * 1e140  # huge, but their second differences are finite
        yield np.where(rng.random(n) < 0.5, -0.0, 0.0)  # signed zeros
        yield np.where(rng.random(n) < 0.8, 1.0, 0.0) * np.exp(-np.arange(n) / 30.0)


@pytest.mark.parametrize("resolution", [0.0, 1e-30, 1e-3, 0.02])
def test_noise_model_kernel_is_its_numpy_twin(
    monkeypatch: pytest.MonkeyPatch, resolution: float
) -> None:
    for y in _blocks():
        for window in (-1, 1, 3, 9, y.size, 31, y.size + 7):
            fast, slow = _both(monkeypatch, y, window, resolution)
            assert fast == slow, (y.size, window)


def test_noise_model_kernel_computes_the_sweeps_blocks() -> None:
    kernels = compiled_kernels()
    rng = np.random.default_rng(3)
    y = np.log(np.linspace(2.0, 0.1, 200) + rng.normal(0, 0.01, 200) ** 2)
    out = np.empty(200), np.empty(200), np.empty(200)
    found = kernels.noise_model(y, base._noise_window(200), 1e-3, *out)
    assert found is not None  # not declined: the usual curve is the compiled one's
    sig, floor, least, lag1 = found
    assert 0.0 < floor < least == 1e-3
    assert sig > lag1 > 0.0  # sig: the largest over lags 1, 2 and 4
    assert (out[0] >= least).all()


def test_noise_model_kernel_declines_what_numpy_must_decide() -> None:
    kernels = compiled_kernels()
    ok = np.arange(6.0)

    def call(y: FloatArray, n: int = 6) -> object:
        return kernels.noise_model(y, 5, 0.0, np.empty(n), np.empty(n), np.empty(n))

    assert call(np.zeros(0), 0) is None  # nothing to model
    assert call(np.array([0.0, 1.0, np.nan, 3.0, 4.0, 5.0])) is None
    assert call(np.array([0.0, 1.0, np.inf, 3.0, 4.0, 5.0])) is None
    assert call(np.array([1e308, -1e308, 1e308, 0.0, 1.0, 2.0])) is None  # an overflow
    assert call(ok.astype(np.float32)) is None
    assert call(np.zeros((2, 3))) is None
    with pytest.raises(ValueError, match="float64 array of 6"):
        kernels.noise_model(ok, 5, 0.0, np.empty(5), np.empty(6), np.empty(6))
    with pytest.raises(TypeError):
        kernels.noise_model(ok, 5, 0.0)  # type: ignore[call-arg]


def _tilings() -> Iterator[tuple[Bins, list[tuple[int, int, float, float]]]]:
    rng = np.random.default_rng(5)
    for m in (1, 2, 3, 5, 40, 200):
        centres: tuple[FloatArray, ...] = (
            np.cumsum(rng.uniform(0.0, 2.0, m)) * 1e9,
            np.full(m, 3.0),
            np.arange(m, dtype=np.float64) - 0.5,
        )
        for x in centres:
            bins = Bins(x, np.zeros(m), np.arange(m, dtype=np.int64), np.ones(m, dtype=np.int64))
            for pieces in (1, 2, 7):
                cuts = np.sort(rng.choice(np.arange(1, m), min(pieces, m) - 1, replace=False))
                edges = [0, *cuts.tolist(), m]
                yield (
                    bins,
                    [
                        (a, b, float(rng.normal()) * 1e140 ** (a % 2), float(rng.normal(0, 1e-300)))
                        if a % 3 == 2
                        else (a, b, float(rng.normal()), float(rng.normal()))
                        for a, b in itertools.pairwise(edges)
                    ],
                )


def test_tiled_path_kernel_is_its_numpy_twin(monkeypatch: pytest.MonkeyPatch) -> None:
    for bins, pieces in _tilings():
        monkeypatch.setattr(stats, "KERNELS", compiled_kernels())
        fast = base._path_of(bins, pieces)
        monkeypatch.setattr(stats, "KERNELS", None)
        slow = base._path_of(bins, pieces)
        assert fast.tobytes() == slow.tobytes() == base._tiled_path(bins, pieces).tobytes()


def test_tiled_path_kernel_declines_what_it_cannot_compute() -> None:
    kernels = compiled_kernels()
    x = np.arange(4.0)

    def call(pieces: object, xs: FloatArray = x) -> bool:
        return kernels.tiled_path(xs, pieces, np.empty(4))  # type: ignore[arg-type]

    assert call([(0, 2, 1.0, 1.0), (2, 4, 0.0, -1.0)])
    assert not call([])
    assert not call([(0, 2, 1.0, 1.0)])  # not to the end
    assert not call([(0, 2, 1.0, 1.0), (1, 4, 0.0, 1.0)])  # overlapping
    assert not call([(0, 2, 1.0, 1.0), (2, 2, 0.0, 1.0), (2, 4, 0.0, 1.0)])  # an empty piece
    assert not call([(0, 5, 1.0, 1.0)])  # past the blocks
    assert not call([(0, 4, 1.0, np.nan)])
    assert not call([(0, 4, np.inf, 1.0)])
    assert not call([(0, 4, "1", 1.0)])
    assert not call([(0, 4, 1.0)])
    assert not call(None)
    assert not call([(0, 4, 1.0, 1.0)], xs=np.array([0.0, np.nan, 2.0, 3.0]))
    assert not call([(0, 4, 1.0, 1.0)], xs=x.astype(np.float32))
    with pytest.raises(ValueError, match="float64 array of 4"):
        kernels.tiled_path(x, [(0, 4, 1.0, 1.0)], np.empty(3))


def test_lines_are_the_same_with_and_without_the_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    kernels = compiled_kernels()
    same_sums = stats._same_sums(kernels)  # (False at import under TBPLATEAU_PURE_PYTHON)
    for bins, pieces in _tilings():
        m = len(bins)
        breaks = [b0 for b0, _, _, _ in pieces[1:]]
        for y in _blocks():
            if y.size != m:
                continue
            monkeypatch.setattr(stats, "KERNELS", kernels)
            monkeypatch.setattr(stats, "_SAME_SUMS", same_sums)
            fast = base._lines(bins, y, breaks)
            monkeypatch.setattr(stats, "KERNELS", None)
            slow = base._lines(bins, y, breaks)
            assert repr([tuple(map(float.hex, map(float, f))) for f in fast]) == repr(
                [tuple(map(float.hex, map(float, s))) for s in slow]
            )
