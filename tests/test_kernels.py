"""The compiled kernels (``tbplateau/_kernels.c``) against the numpy code they replace.

Every statistic of :mod:`tbplateau.stats` that has a kernel is computed both ways (the
kernels swapped out through ``stats.KERNELS``) on random and awkward inputs (ties,
lengths 1 to 3, constants, signed zeros, infinities, NaN) and must agree to the bit.
``TBPLATEAU_REQUIRE_C=1`` (CI's sanitizer step) fails instead of skipping when the
kernels are not built.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator

import numpy as np
import numpy.typing as npt
import pytest

from tbplateau import stats
from tests.helpers import compiled_kernels

FloatArray = npt.NDArray[np.float64]


@pytest.fixture
def both(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[[], object]], tuple[str, str]]:
    """Runs a computation with the kernels and with numpy; returns both results' reprs
    (bits of floats included: ``float.hex`` of every value)."""
    kernels = compiled_kernels()

    same_sums = stats._same_sums(kernels)  # (False at import under TBPLATEAU_PURE_PYTHON)

    def run(compute: Callable[[], object]) -> tuple[str, str]:
        monkeypatch.setattr(stats, "KERNELS", kernels)
        monkeypatch.setattr(stats, "_SAME_SUMS", same_sums)
        fast = _bits(compute())
        monkeypatch.setattr(stats, "KERNELS", None)
        slow = _bits(compute())
        return fast, slow

    return run


def _bits(value: object) -> str:
    if isinstance(value, np.ndarray):
        return repr([float(v).hex() for v in value.ravel().tolist()]) + str(value.shape)
    if isinstance(value, float):
        return float(value).hex()
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_bits(v) for v in value) + ")"
    return repr(value)


def _samples() -> Iterator[FloatArray]:
    rng = np.random.default_rng(7)
    for n in (1, 2, 3, 4, 5, 7, 8, 16, 17, 40, 41, 64, 65, 200, 333):
        yield rng.normal(0, 1, n)
        yield rng.integers(-3, 4, n).astype(np.float64)  # many ties
        yield np.full(n, 2.5)
        yield np.cumsum(rng.normal(0, 1, n)) * 1e6
    yield np.array([0.0, -0.0, 0.0, -0.0, 1.0])
    yield np.array([-0.0, -0.0, 0.0, 0.0])
    yield np.array([-0.0, 0.0, -0.0, 0.0, -0.0, 0.0, -0.0])
    yield np.array([-1.0, 1.0, 0.0, 0.0, -0.0, 2.0])
    yield np.array([np.inf, 1.0, 2.0, -np.inf, 3.0])
    yield np.array([-np.inf, np.inf])
    yield np.array([np.inf, np.inf, 1.0])
    yield np.array([1e308, 1.5e308, 1e308, 1.7e308])
    yield np.array([1.0, np.nan, 3.0, 2.0, 5.0])
    yield np.array([5e-324, -5e-324, 0.0, 1e-310])


SAMPLES = list(_samples())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("values", SAMPLES)
def test_medians_agree(
    both: Callable[[Callable[[], object]], tuple[str, str]], values: FloatArray
) -> None:
    fast, slow = both(lambda: stats.fast_median(values))
    assert fast == slow
    assert fast == _bits(float(np.median(values)))  # np.median's answer, to the bit
    strided = np.repeat(values, 2)[::2]  # a strided view
    assert both(lambda: stats.fast_median(strided)) == (fast, fast)
    assert both(lambda: stats.fast_median(values[::-1].copy()[::-1])) == (fast, fast)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("values", SAMPLES)
def test_ranges_agree(
    both: Callable[[Callable[[], object]], tuple[str, str]], values: FloatArray
) -> None:
    fast, slow = both(lambda: stats.fast_ptp(values))
    assert fast == slow == _bits(float(np.ptp(values)))  # np.ptp's answer, to the bit
    assert both(lambda: stats.fast_ptp(values[::-1])) == (fast, fast)
    strided = np.repeat(values, 2)[::2]
    assert both(lambda: stats.fast_ptp(strided)) == (fast, fast)


def test_range_declines_what_numpy_must_decide() -> None:
    kernels = compiled_kernels()
    assert kernels.ptp(np.zeros(0)) is None  # numpy raises
    assert kernels.ptp(np.array([0.0, -0.0])) is None  # the sign of a zero range
    assert kernels.ptp(np.array([1.0, np.nan])) is None
    assert kernels.ptp(np.array([np.nan, 1.0])) is None
    assert kernels.ptp(np.array([1.7e308, -1.7e308])) is None  # overflows: numpy warns
    assert kernels.ptp(np.arange(3)) is None  # type: ignore[arg-type]  # numpy's integers
    assert kernels.ptp(np.array([-np.inf, 2.0, np.inf])) == np.inf


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("values", SAMPLES)
@pytest.mark.parametrize("window", [1, 2, 3, 4, 5, 9, 31])
def test_running_medians_agree(
    both: Callable[[Callable[[], object]], tuple[str, str]], values: FloatArray, window: int
) -> None:
    for compute in (
        lambda: stats.window_medians(values, window) if window <= values.size else None,
        lambda: stats.window_medians(values[::-1], window) if window <= values.size else None,
        lambda: stats.moving_median(values, window),
        lambda: stats.moving_median(values[::-1], window),
        lambda: stats.local_noise(values, window),
        lambda: stats.local_noise(values[::-1], window),
        lambda: stats.noise_scale(values, lags=(1, 2, window)),
        lambda: stats.equal_runs(np.round(values, 0), window),
        lambda: stats.equal_runs(values, window),
        lambda: stats.trailing_median(values, window),
        lambda: stats.trailing_median(values[::-1], window),
        lambda: stats._prefix_medians(values, min(window, values.size)),
    ):
        fast, slow = both(compute)
        assert fast == slow


@pytest.mark.parametrize("values", SAMPLES[:-6])
def test_window_medians_are_numpy_medians(values: FloatArray) -> None:
    compiled_kernels()
    for window in range(1, min(values.size, 12) + 1):
        view = np.lib.stride_tricks.sliding_window_view(values, window)
        expected = np.median(view, axis=1)
        assert stats.window_medians(values, window).tobytes() == expected.tobytes()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("values", SAMPLES)
def test_means_and_quantiles_agree(
    both: Callable[[Callable[[], object]], tuple[str, str]], values: FloatArray
) -> None:
    assert stats._same_sums(compiled_kernels())  # the kernel adds in this numpy's order
    fast, slow = both(lambda: stats.fast_mean(values))
    assert fast == slow == _bits(float(values.mean()))
    assert both(lambda: stats.fast_mean(values[::-1]))[0] == _bits(float(values[::-1].mean()))
    qs = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
    fast, slow = both(lambda: stats.fast_quantiles(values, qs))
    assert fast == slow
    x = np.arange(values.size, dtype=np.float64)
    fast, slow = both(lambda: stats.fit_line(x, values))  # a Line's repr: floats exact
    assert fast == slow


def test_row_means_agree(both: Callable[[Callable[[], object]], tuple[str, str]]) -> None:
    rng = np.random.default_rng(11)
    for cols in (*range(1, 20), 31, 64, 127, 128, 129, 300, 1000):
        n = 5000 if cols < 4 else 40
        rows = rng.normal(0, 1, (n, cols)) * 10.0 ** rng.integers(-12, 12, (n, cols))
        # contiguous rows, and layouts numpy reduces in another order (numpy decides)
        for view in (rows, np.abs(rows), rows[::2, ::-1], rows.T.copy().T, rows[:, ::2]):
            fast, slow = both(lambda: stats._row_means(view))  # noqa: B023
            assert fast == slow == _bits(view.mean(axis=1))


def test_row_means_decline_what_numpy_must_decide() -> None:
    kernels = compiled_kernels()
    assert not kernels.row_means(np.zeros((3, 0)), np.empty(3))  # rows of no value
    assert not kernels.row_means(np.full((2, 2), 1.7e308), np.empty(2))  # overflows
    assert not kernels.row_means(np.zeros((1, 8193)), np.empty(1))  # beyond one buffer
    assert not kernels.row_means(np.ones((3, 9)).T.copy().T, np.empty(3))  # not C-contiguous
    out = np.empty(2)
    assert kernels.row_means(np.array([[1.0, 2.0], [3.0, 5.0]]), out)
    assert out.tolist() == [1.5, 4.0]
    with pytest.raises(ValueError, match="float64"):
        kernels.row_means(np.ones((2, 3)), np.empty(3))


def _winsorised_by_numpy(values: FloatArray, scale: float) -> FloatArray | None:
    """The formula :func:`stats.winsorised` computes, in plain numpy."""
    c = values - float(np.median(values))
    s = scale * float(np.median(np.abs(c)))
    return None if s == 0.0 else np.clip(c, -3 * s, 3 * s)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("values", SAMPLES)
def test_winsorised_agrees(
    both: Callable[[Callable[[], object]], tuple[str, str]], values: FloatArray
) -> None:
    for scale in (1.4826, stats.MAD_TO_SIGMA, 1e300):
        fast, slow = both(lambda: stats.winsorised(values, scale))  # noqa: B023
        assert fast == slow
        if np.isfinite(values).all():
            assert fast == _bits(_winsorised_by_numpy(values, scale))
        strided = np.repeat(values, 2)[::2]
        assert both(lambda: stats.winsorised(strided, scale)) == (fast, fast)  # noqa: B023


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("values", SAMPLES)
def test_winsorised_around_a_line_agrees(
    both: Callable[[Callable[[], object]], tuple[str, str]], values: FloatArray
) -> None:
    x = np.cumsum(np.arange(values.size, dtype=np.float64) % 3) * 0.37
    for level, slope in ((0.0, 0.0), (1.5, -0.25), (-3e5, 7e3)):
        fast, slow = both(
            lambda: stats.winsorised_around(x, values, level, slope, stats.MAD_TO_SIGMA)  # noqa: B023
        )
        assert fast == slow
        resid = values - (level + slope * (x - x[0]))
        if np.isfinite(resid).all():
            assert fast == _bits(_winsorised_by_numpy(resid, stats.MAD_TO_SIGMA))
    kernels = compiled_kernels()
    if values.size > 1:  # x and y of different lengths: numpy decides
        assert kernels.winsorise_line(x[1:], values, 0.0, 1.0, 1.0, np.empty(values.size)) == -1


def test_winsorise_declines_what_numpy_must_decide() -> None:
    kernels = compiled_kernels()
    out = np.full(5, 7.0)
    values = np.array([0.0, 1.0, 2.0, 3.0, 100.0])
    assert kernels.winsorise(values, 1.0, out) == 1
    assert out.tolist() == [-2.0, -1.0, 0.0, 1.0, 3.0]
    assert kernels.winsorise(np.array([1.0, 1.0, 1.0, 5.0, 1.0]), 1.0, out) == 0  # s = 0
    assert kernels.winsorise(np.array([1.0, np.nan, 2.0, 3.0, 4.0]), 1.0, out) == -1
    assert kernels.winsorise(np.array([1.0, np.inf, 2.0, 3.0, 4.0]), 1.0, out) == -1
    assert kernels.winsorise(values, 0.0, out) == -1  # no positive scale
    assert kernels.winsorise(values, -1.0, out) == -1
    assert kernels.winsorise(values, 1.0, np.empty(4)) == -1  # wrong length
    assert kernels.winsorise(np.zeros(0), 1.0, np.empty(0)) == -1
    assert kernels.winsorise(np.arange(5), 1.0, out) == -1  # type: ignore[arg-type]
    assert kernels.winsorise(np.array([1e308, 1.7e308]), 1.0, np.empty(2)) == -1  # overflows


def test_long_means_agree(both: Callable[[Callable[[], object]], tuple[str, str]]) -> None:
    rng = np.random.default_rng(5)
    for n in (127, 128, 129, 255, 256, 1000, 8192, 8193, 20000):
        values = rng.normal(0, 1, n) * 10.0 ** rng.integers(-8, 8, n)
        fast, slow = both(lambda: stats.fast_mean(values))  # noqa: B023
        assert fast == slow == _bits(float(values.mean()))


def test_periods_agree(both: Callable[[Callable[[], object]], tuple[str, str]]) -> None:
    rng = np.random.default_rng(9)
    for n in (2, 3, 9, 12, 50, 200, 1001):
        t = np.arange(n, dtype=np.float64)
        for y in (np.sin(t / 2) + rng.normal(0, 0.3, n), np.round(rng.normal(0, 1, n)), t):
            for max_lag in (1, 3, n // 3, n):
                order = np.argsort(y, kind="stable")
                fast, slow = both(lambda: stats._rank_autocorrelation(order, max_lag))  # noqa: B023
                assert fast == slow
            assert len(set(both(lambda: stats.dominant_period(y)))) == 1  # noqa: B023


def test_block_medians_agree(both: Callable[[Callable[[], object]], tuple[str, str]]) -> None:
    rng = np.random.default_rng(3)
    for n in (201, 1000, 4001):
        x = np.arange(n, dtype=np.float64)
        y = np.round(rng.normal(0, 1, n), 1)
        fast, slow = both(lambda: stats.bin_reduce(x, y, 200).y)  # noqa: B023
        assert fast == slow


def _spread_cases() -> Iterator[tuple[FloatArray, FloatArray, stats.Bins]]:
    rng = np.random.default_rng(12)
    for n in (2, 3, 5, 41, 199, 201, 1000, 1003):
        for x in (np.arange(n, dtype=np.float64), np.cumsum(rng.uniform(0.0, 3.0, n)) * 1e9):
            for y in (
                rng.normal(0, 1, n),
                np.cumsum(rng.normal(0, 1, n)) * 1e6,
                np.full(n, -0.0),
                np.round(rng.normal(0, 1, n)),
                rng.normal(0, 1, n) * 1e140,
            ):
                for blocks in (1, 2, 3, 200):
                    yield x, y, stats.bin_reduce(x, y, blocks)


def test_block_spread_agrees(
    monkeypatch: pytest.MonkeyPatch, both: Callable[[Callable[[], object]], tuple[str, str]]
) -> None:
    monkeypatch.setattr(stats, "_SAME_SPREAD", stats._same_spread(compiled_kernels()))
    assert stats._SAME_SPREAD  # (numpy fuses no multiply-add in np.interp here)
    for x, y, bins in _spread_cases():
        fast, slow = both(lambda: stats.block_spread(x, y, bins))  # noqa: B023
        assert fast == slow


def test_block_spread_declines_what_numpy_must_decide() -> None:
    kernels = compiled_kernels()
    x = np.arange(10.0)
    y = np.cumsum(np.ones(10))
    bins = stats.bin_reduce(x, y, 4)

    def call(
        xs: FloatArray = x,
        ys: FloatArray = y,
        bx: FloatArray = bins.x,
        counts: npt.NDArray[np.int64] = bins.count,
        n: int = 4,
    ) -> bool:
        out = np.zeros(n)
        return kernels.block_spread(xs, ys, bx, bins.y[:n], counts, out)

    assert call()  # the blocks of bin_reduce
    assert not call(bx=np.array([1.0, 4.0, 4.0, 9.0]))  # centres that do not increase
    assert not call(ys=np.where(x == 3.0, np.nan, y))
    assert not call(xs=np.where(x == 3.0, np.inf, x))
    assert not call(ys=y[:9])  # not one value per point
    assert not call(counts=bins.count.astype(np.int32))
    assert not call(counts=np.array([5, 5, 5, 5]))  # more points in the blocks than given
    assert not call(ys=np.where(x == 3.0, 1e308, -1e308))  # distances that overflow
    assert not call(bx=bins.x[:1], counts=bins.count[:1], n=1)  # a single block
    floats = bins.count.astype(np.float64)
    assert not kernels.block_spread(x, y, bins.x, bins.y, floats, np.zeros(4))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="float64 array of 4"):
        call(n=3)
    with pytest.raises(TypeError):
        kernels.block_spread(x, y, bins.x)  # type: ignore[call-arg]


def _phases(n: int) -> Iterator[npt.NDArray[np.int64]]:
    t = np.arange(n, dtype=np.int64)
    yield np.zeros(n, dtype=np.int64)
    yield t // 3
    yield (t >= n // 2).astype(np.int64)
    yield np.random.default_rng(n).integers(0, 2, n)  # phases of one value among longer ones
    yield np.repeat(np.arange(n, dtype=np.int64), 2)[::2]  # a strided view


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("values", SAMPLES)
def test_local_lines_agree(
    both: Callable[[Callable[[], object]], tuple[str, str]], values: FloatArray
) -> None:
    n = values.size
    t = np.arange(n, dtype=np.float64)
    strided = np.repeat(values, 2)[1::2]
    xs = (t, np.zeros(n), 1e6 + t * 1e-9, values, np.sort(np.round(values, 1)))
    for x, phase, h in itertools.product(xs, list(_phases(n)), (0, 1, 2, 5)):
        for y, fit_to in ((values, values), (strided, t[::-1]), (t, values[::-1])):

            def residuals(
                x: FloatArray = x,
                y: FloatArray = y,
                fit_to: FloatArray = fit_to,
                phase: npt.NDArray[np.int64] = phase,
                h: int = h,
            ) -> FloatArray:
                return stats.local_line_residuals(x, y, fit_to, phase, h)

            fast, slow = both(residuals)
            assert fast == slow


def test_local_lines_decline_what_they_cannot_compute() -> None:
    kernels = compiled_kernels()
    x, phase, out = np.arange(4.0), np.zeros(4, dtype=np.int64), np.full(4, 7.0)
    assert not kernels.local_lines(x, x, x, phase, -1, out)  # no window
    assert not kernels.local_lines(x, x, x, phase.astype(np.int32), 1, out)
    assert not kernels.local_lines(x, x[:3], x, phase, 1, out)  # lengths differ
    assert not kernels.local_lines(x[:0], x[:0], x[:0], phase[:0], 1, out[:0])  # no values
    assert out.tolist() == [7.0] * 4
    assert kernels.local_lines(x, x, x, phase, 1, out)
    assert out.tolist() == [0.0] * 4  # on the line
    with pytest.raises(ValueError, match="float64"):
        kernels.local_lines(x, x, x, phase, 1, np.empty(3))


def _series() -> Iterator[tuple[FloatArray, FloatArray, FloatArray | None]]:
    rng = np.random.default_rng(11)
    for n in (2, 3, 5, 6, 7, 12, 40, 120, 200):
        t = np.arange(n, dtype=np.float64)
        drop: FloatArray = np.where(t < n // 2, 40 - t, 0.0) + rng.normal(0, 0.5, n)
        yield t, drop, None
        yield t, rng.normal(0, 1, n), rng.uniform(0.1, 10, n)
        yield t, np.full(n, 3.0), None
        yield np.zeros(n), rng.normal(0, 1, n), None  # x does not vary
        yield t, np.asarray(np.round(np.sin(t / 3), 1), dtype=np.float64), np.full(n, 1e-6)


@pytest.mark.parametrize(("x", "y", "w"), list(_series()))
@pytest.mark.parametrize("min_size", [1, 2, 3])
def test_segmentation_agrees(
    both: Callable[[Callable[[], object]], tuple[str, str]],
    x: FloatArray,
    y: FloatArray,
    w: FloatArray | None,
    min_size: int,
) -> None:
    n = x.size
    for penalty, forced, most in itertools.product(
        (1e-3, 1.0, 50.0), ((), (1,), (n // 2, n - 1), (0, n // 3, n)), (2, 3, 12)
    ):

        def segment(
            penalty: float = penalty, forced: tuple[int, ...] = forced, most: int = most
        ) -> list[int]:
            return stats.binary_segmentation(
                x,
                y,
                penalty=penalty,
                min_size=min_size,
                weights=w,
                forced=forced,
                max_segments=most + len(forced),
            )

        fast, slow = both(segment)
        assert fast == slow


def test_segment_finds_the_break() -> None:
    kernels = compiled_kernels()
    t = np.arange(60.0)
    y = np.where(t < 30, 1.0 - t / 60, 0.0)
    assert kernels.segment(t, y, None, 1e-3, 3, 12, ()) == [30]
    assert kernels.segment(t, y, np.ones(60), 1e-3, 3, 12, (10,)) == [10, 30]
    assert kernels.segment(t, y, None, 1e3, 3, 12, ()) == []  # nothing beats the penalty
    assert kernels.segment(t[:5], y[:5], None, 1e-3, 3, 12, ()) == []  # too short to split


def test_kernels_decline_what_numpy_must_decide() -> None:
    kernels = compiled_kernels()
    assert kernels.median(np.zeros(0)) is None
    assert kernels.median(np.array([1.0, np.nan])) is None
    assert kernels.median(np.array([-np.inf, np.inf])) is None
    out = np.empty(1)
    assert not kernels.row_medians(np.array([[1.0, np.nan, 2.0]]), out)
    assert not kernels.row_medians(np.array([[1e308, 1.7e308]]), out)  # overflows
    assert not kernels.prefix_medians(np.array([-0.0, 0.0, 1.0]), 1, np.empty(3))
    assert kernels.mean(np.zeros(0)) is None
    assert kernels.mean(np.array([1e308, 1e308])) is None  # overflows: numpy warns
    assert kernels.quantiles(np.array([2.0, np.nan]), (0.5,)) is None
    assert kernels.quantiles(np.array([3.0, 1.0, 2.0]), (0.0, 1.0, 0.75)) == (1.0, 3.0, 2.5)
    assert kernels.quantiles(np.array([-1.0, 1.0]), (0.5,)) is None  # zero: numpy's sign
    assert kernels.quantiles(np.array([1.0, 2.0]), (-0.5,)) is None  # numpy raises
    assert kernels.median(np.arange(3)) is None  # type: ignore[arg-type]  # numpy's median
    acf = np.empty(2)
    assert not kernels.rank_autocorrelation(np.array([0, 0, 1]), acf)  # no permutation
    assert not kernels.rank_autocorrelation(np.array([0, 3, 1]), acf)
    assert kernels.rank_autocorrelation(np.array([2, 0, 1]), acf)
    assert acf.tolist() == stats.autocorrelation(np.argsort(np.array([2, 0, 1])), 1).tolist()
    with pytest.raises(ValueError, match="float64"):
        kernels.row_medians(np.ones((2, 3)), np.empty(3))
    with pytest.raises(ValueError, match="one length"):
        kernels.segment(np.zeros(5), np.zeros(4), None, 1.0, 1, 12, ())
    with pytest.raises(ValueError, match="ascend"):
        kernels.segment(np.zeros(5), np.zeros(5), None, 1.0, 1, 12, (3, 2))


def test_trailing_median_declines_what_numpy_must_decide() -> None:
    kernels = compiled_kernels()
    y = np.array([3.0, 1.0, 2.0, 5.0, 4.0])
    out = np.empty(5)
    assert kernels.trailing_median(y, 2, out)
    assert out.tolist() == stats.trailing_median(y, 2).tolist() == [3.0, 3.0, 2.0, 1.5, 3.5]
    assert not kernels.trailing_median(y, 0, out)
    assert not kernels.trailing_median(np.zeros(0), 2, np.empty(0))
    assert not kernels.trailing_median(y.astype(np.float32), 2, out)
    assert not kernels.trailing_median(np.array([1.0, np.nan, 2.0, 3.0, 4.0]), 2, out)
    with pytest.raises(ValueError, match="float64 array of 5"):
        kernels.trailing_median(y, 2, np.empty(4))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("values", SAMPLES)
def test_line_fits_agree(
    both: Callable[[Callable[[], object]], tuple[str, str]], values: FloatArray
) -> None:
    n = values.size
    for x in (np.arange(n, dtype=np.float64), np.full(n, 2.0), np.cumsum(values[::-1]) * 1e3):
        for compute in (
            lambda: stats.fit_slope(x, values),  # noqa: B023
            lambda: stats.fit_line(x, values),  # noqa: B023
            lambda: stats.fit_line(x[::-1], values),  # noqa: B023
        ):
            fast, slow = both(compute)
            assert fast == slow


def test_centred_declines_what_numpy_must_decide() -> None:
    kernels = compiled_kernels()
    x, y = np.arange(4.0), np.array([1.0, -2.0, 0.5, 3.0])
    dx, dy = np.empty(4), np.empty(4)
    assert kernels.centred(x, y, dx, dy) == (1.5, 0.625)
    assert dx.tolist() == [-1.5, -0.5, 0.5, 1.5]
    assert dy.tolist() == [0.375, -2.625, -0.125, 2.375]
    assert kernels.centred(x, y[:3], dx, dy) is None  # not one length
    assert kernels.centred(x, np.array([1.0, np.inf, 0.0, 1.0]), dx, dy) is None
    assert kernels.centred(x, np.array([1e308, 1e308, 0.0, 1.0]), dx, dy) is None  # overflow
    assert kernels.centred(np.zeros(0), np.zeros(0), np.empty(0), np.empty(0)) is None
    assert kernels.centred(np.zeros(9000), np.zeros(9000), np.empty(9000), np.empty(9000)) is None
    assert kernels.centred(x, y, np.empty(3), dy) is None
    assert kernels.centred(x.astype(np.float32), y, dx, dy) is None


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("values", SAMPLES)
def test_noise_autocorrelations_agree(
    both: Callable[[Callable[[], object]], tuple[str, str]], values: FloatArray
) -> None:
    trend = np.cumsum(values[::-1]) + values  # a wandering curve with the sample as noise
    for y in (values, trend, np.repeat(values, 3)):
        for compute in (
            lambda: stats.noise_autocorrelation(y),  # noqa: B023
            lambda: stats.difference_autocorrelation(y, window=5),  # noqa: B023
            lambda: stats._winsorised_residuals(y, 7, stats.MAD_TO_SIGMA),  # noqa: B023
        ):
            fast, slow = both(compute)
            assert fast == slow


def test_winsorise_running_declines_what_numpy_must_decide() -> None:
    kernels = compiled_kernels()
    y = np.array([0.0, 1.0, 5.0, 2.0, 3.0, 9.0, 4.0])
    out = np.empty(7)
    assert kernels.winsorise_running(y, 3, 1.0, out) == 1
    want = stats.winsorised(y - stats.moving_median(y, 3), 1.0)
    assert want is not None
    assert out.tolist() == want.tolist()
    assert kernels.winsorise_running(np.full(7, 2.0), 3, 1.0, out) == 0  # no spread
    assert kernels.winsorise_running(y, 4, 1.0, out) == -1  # an even window
    assert kernels.winsorise_running(y, 1, 1.0, out) == -1
    assert kernels.winsorise_running(y, 3, 0.0, out) == -1
    assert kernels.winsorise_running(y, 3, np.inf, out) == -1
    assert kernels.winsorise_running(np.zeros(0), 3, 1.0, np.empty(0)) == -1
    assert kernels.winsorise_running(np.where(y == 5.0, np.nan, y), 3, 1.0, out) == -1
    assert kernels.winsorise_running(y, 3, 1.0, np.empty(6)) == -1
    assert kernels.winsorise_running(y.astype(np.float32), 3, 1.0, out) == -1


def _quantum_cases() -> Iterator[FloatArray]:
    rng = np.random.default_rng(5)
    yield from SAMPLES
    yield np.zeros(0)
    yield np.array([np.nan, np.nan])
    for n in (2, 3, 10, 11, 100, 1000):
        yield np.round(rng.random(n), 1)  # a grid of 11 values: few distinct
        yield np.round(rng.random(n), 2)  # up to 101 distinct
        grid = np.round(rng.random(n), 1)
        yield np.where(rng.random(n) < 0.2, np.nan, grid)
        yield np.where(rng.random(n) < 0.5, -0.0, 0.0) + np.round(rng.random(n) * 3)
        yield np.where(np.arange(n) < n // 2, np.arange(n) * 0.5, 7.0)  # half distinct


def test_many_distinct_is_the_count_of_np_unique() -> None:
    kernels = compiled_kernels()
    for values in _quantum_cases():
        for v in (values, values[::-1], values[::2]):
            finite = v[np.isfinite(v)]
            assert kernels.many_distinct(v) == (2 * np.unique(finite).size > finite.size), v
    assert kernels.many_distinct(np.arange(4)) is None  # type: ignore[arg-type]
    assert kernels.many_distinct(np.ones((2, 2))) is None


def test_quantum_agrees(both: Callable[[Callable[[], object]], tuple[str, str]]) -> None:
    for values in _quantum_cases():
        fast, slow = both(functools.partial(stats.quantum, values))
        assert fast == slow, values
