"""The pure statistics, on their own."""

from __future__ import annotations

import math
import warnings

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tbplateau import stats


def test_mad_is_robust_to_one_outlier() -> None:
    assert stats.mad([1.0, 2.0, 3.0, 4.0, 1e9]) == pytest.approx(stats.MAD_TO_SIGMA)
    assert stats.mad([]) == 0.0


@pytest.mark.parametrize("sigma", [0.01, 0.1, 1.0])
def test_noise_scale_ignores_a_linear_trend(sigma: float) -> None:
    rng = np.random.default_rng(0)
    y = np.linspace(100, -100, 5000) + rng.normal(0, sigma, 5000)
    assert stats.noise_scale(y) == pytest.approx(sigma, rel=0.1)


def test_noise_scale_sees_autocorrelated_noise() -> None:
    rng = np.random.default_rng(1)
    e = rng.normal(0, 1, 20000)
    ar = np.empty_like(e)
    acc = 0.0
    for i, v in enumerate(e):
        acc = 0.8 * acc + v
        ar[i] = acc
    ar *= math.sqrt(1 - 0.64)  # unit marginal standard deviation
    lag1 = stats.noise_scale(ar, lags=(1,))
    assert lag1 < 0.45  # lag 1 alone underestimates the wandering
    assert stats.noise_scale(ar) > 0.65  # the default lags (1, 2, 4) see most of it


def test_noise_scale_of_short_inputs() -> None:
    assert stats.noise_scale([]) == 0.0
    assert stats.noise_scale([1.0, 2.0]) == 0.0
    assert stats.noise_scale([1.0, 2.0, 3.0, 4.0]) == 0.0


def test_bin_reduce_keeps_every_point() -> None:
    x = np.arange(1001.0)
    b = stats.bin_reduce(x, x * 2, 200)
    assert len(b) <= 200
    assert int(b.count.sum()) == 1001
    assert b.start[0] == 0
    assert np.all(np.diff(b.start) == b.count[:-1])
    small = stats.bin_reduce(x[:10], x[:10], 200)
    assert small.y.tolist() == x[:10].tolist()


def test_bin_reduce_uses_medians() -> None:
    y = np.ones(1000)
    y[7] = 1e30
    assert stats.bin_reduce(np.arange(1000.0), y, 100).y.max() == 1.0


def test_fit_line_and_robust_slope() -> None:
    x = np.arange(50.0)
    y = 3 * x + 1
    line = stats.fit_line(x, y)
    assert line.slope == pytest.approx(3)
    assert line.at(2.0) == pytest.approx(7)
    y[10] = 1e6
    assert stats.robust_slope(x, y) == pytest.approx(3)
    assert stats.fit_line([], []).n == 0
    assert stats.fit_line([1.0, 1.0], [2.0, 4.0]).slope == 0.0


def test_moving_median_removes_a_spike() -> None:
    y = np.zeros(20)
    y[10] = 5.0
    assert stats.moving_median(y, 5).max() == 0.0
    assert len(stats.moving_median(y[:3], 5)) == 3


def test_binary_segmentation_finds_a_knee_not_a_staircase() -> None:
    rng = np.random.default_rng(2)
    x = np.arange(400.0)
    smooth = -x / 100 + rng.normal(0, 0.01, 400)
    assert stats.binary_segmentation(x, smooth, penalty=6 * 0.01**2 * math.log(400)) == []
    knee = np.where(x < 250, -x / 100, -2.5) + rng.normal(0, 0.01, 400)
    breaks = stats.binary_segmentation(x, knee, penalty=6 * 0.01**2 * math.log(400))
    assert len(breaks) == 1
    assert abs(breaks[0] - 250) <= 3


def test_segment_sse_matches_numpy() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=30)
    y = rng.normal(size=30)
    pre = stats._prefix(x, y)
    got = stats.segment_sse(pre, 5, 25)[0]
    assert got == pytest.approx(stats.fit_line(x[5:25], y[5:25]).sse)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), max_size=60))
def test_statistics_never_fail_on_finite_input(values: list[float]) -> None:
    y = np.asarray(values, dtype=np.float64)
    x = np.arange(y.size, dtype=np.float64)
    assert stats.noise_scale(y) >= 0
    b = stats.bin_reduce(x, y, 7)
    assert int(b.count.sum()) == y.size
    breaks = stats.binary_segmentation(x, y, penalty=1.0)
    assert breaks == sorted(set(breaks))
    assert all(0 < k < max(y.size, 1) for k in breaks)


def _awkward(rng: np.random.Generator, n: int, kind: str) -> npt.NDArray[np.float64]:
    """``n`` values of a kind that trips exact re-implementations of numpy: ``normal``,
    ``ties``, signed ``zeros``, one ``nan``, or ``inf`` mixed with huge values."""
    if kind == "normal":
        return rng.normal(size=n)
    if kind == "ties":
        return rng.integers(-2, 3, n).astype(np.float64)
    if kind == "zeros":
        return rng.choice([0.0, -0.0, 1.0, -1.0], n)
    if kind == "nan":
        a = rng.normal(size=n)
        a[rng.integers(0, n)] = np.nan
        return a
    return rng.choice([np.inf, -np.inf, 1.0, 1e308], n)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 39, 40, 41, 42, 200, 201])
@pytest.mark.parametrize("kind", ["normal", "ties", "zeros", "nan", "inf"])
def test_fast_median_is_numpys_median_to_the_bit(n: int, kind: str) -> None:
    rng = np.random.default_rng(n)
    for _ in range(50):
        a = _awkward(rng, n, kind)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = float(np.median(a))
            got = stats.fast_median(a)
        if math.isnan(want):
            assert math.isnan(got)
        else:
            assert got == want
            assert math.copysign(1.0, got) == math.copysign(1.0, want)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 39, 40, 41, 42, 200, 201])
@pytest.mark.parametrize("kind", ["normal", "ties", "zeros", "nan", "inf"])
def test_fast_quantiles_are_numpys_quantiles_to_the_bit(n: int, kind: str) -> None:
    rng = np.random.default_rng(n)
    qs = (0.0, 0.05, 0.1, 0.25, 0.375, 0.5, 0.75, 0.9, 0.95, 1.0)
    for _ in range(50):
        a = _awkward(rng, n, kind)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = [float(x) for x in np.quantile(a, list(qs))]
            got = stats.fast_quantiles(a, qs)
            one = [stats.fast_quantile(a, q) for q in qs]
            single = [float(np.quantile(a, q)) for q in qs]
        for g, o, w, s in zip(got, one, want, single, strict=True):
            if math.isnan(w):
                assert math.isnan(g)
                assert math.isnan(o)
                assert math.isnan(s)
            else:
                assert g == o == w == s
                assert math.copysign(1.0, g) == math.copysign(1.0, w)
                assert math.copysign(1.0, o) == math.copysign(1.0, s)


@pytest.mark.parametrize("w", [1, 2, 3, 4, 5, 15, 51])
def test_window_medians_are_numpys_to_the_bit(w: int) -> None:
    rng = np.random.default_rng(w)
    for kind in range(3):
        y = [
            np.round(rng.normal(size=120)),  # ties and signed zeros
            rng.normal(size=120),
            np.where(rng.random(120) < 0.05, np.nan, rng.normal(size=120)),
        ][kind]
        windows = np.lib.stride_tricks.sliding_window_view(y, w)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = np.median(windows, axis=1)
            got = stats._window_medians(y, w)
        np.testing.assert_array_equal(got, want)
        assert np.array_equal(np.signbit(got), np.signbit(want))


def test_prefix_medians_of_long_edges_match_a_sort_per_prefix() -> None:
    rng = np.random.default_rng(0)
    y = np.round(rng.normal(size=60), 1) + 0.05
    got = stats._prefix_medians(y, 3)
    want = [float(np.median(y[:k])) for k in range(3, 61)]
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    ("lo", "hi"),
    [
        (-1.0, 1.0),
        (0.0, 0.0),
        (-0.0, 0.0),
        (0.0, -0.0),
        (np.nan, 1.0),
        (-np.inf, np.inf),
        (2.0, 1.0),
    ],
)
def test_fast_clip_is_np_clip_to_the_bit(lo: float, hi: float) -> None:
    values = np.array([-2.0, -0.0, 0.0, 0.5, 3.0, np.inf, -np.inf, np.nan, 1.0, -1.0])
    for v in (values, values[::-1], values[::2]):
        got = stats.fast_clip(v, lo, hi)
        want = np.clip(v, lo, hi)
        assert [x.hex() for x in got.tolist()] == [x.hex() for x in want.tolist()]
    bounds = np.linspace(-1.0, 1.0, values.size)
    got = stats.fast_clip(values, bounds - 0.5, bounds + 0.5)
    want = np.clip(values, bounds - 0.5, bounds + 0.5)
    assert [x.hex() for x in got.tolist()] == [x.hex() for x in want.tolist()]


def test_fit_slope_is_fit_lines_slope_to_the_bit() -> None:
    rng = np.random.default_rng(4)
    for n in (0, 1, 2, 3, 8, 9, 50, 129):
        for x in (np.sort(rng.normal(0, 1e3, n)), np.full(n, 2.0), np.arange(n) * 1e9):
            y = rng.normal(0, 1, n) * 10.0 ** rng.integers(-6, 6, n)
            assert stats.fit_slope(x, y).hex() == stats.fit_line(x, y).slope.hex()


@pytest.mark.parametrize("size", [0, 1, 2, 3, 50, 1000])
def test_monotone_fit_is_scipys_isotonic_regression_bit_for_bit(size: int) -> None:
    from scipy.optimize import isotonic_regression

    rng = np.random.default_rng(size)
    y = np.cumsum(rng.normal(size=size)) + rng.standard_t(2, size=size)
    for increasing in (True, False):
        got = stats.monotone_fit(y, increasing=increasing)
        expected = isotonic_regression(y, increasing=increasing).x if size else y
        assert got.tobytes() == np.ascontiguousarray(expected).tobytes()
    assert stats.monotone_fit([1.0, 3.0, 2.0]).tolist() == [1.0, 2.5, 2.5]


def test_monotone_fit_does_not_import_scipy_optimize() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from tbplateau import analysis, stats\n"
        "assert stats.monotone_fit([2.0, 1.0, 3.0]).tolist() == [1.5, 1.5, 3.0]\n"
        "assert stats._PAVA[0] is not None\n"
        "print(sorted(m for m in sys.modules if m.startswith('scipy.optimize')))\n"
        "import scipy.optimize\n"  # the package still imports (and works) after it
        "print(scipy.optimize.isotonic_regression([2.0, 1.0]).x.tolist())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["[]", "[1.5, 1.5]"]


def test_the_package_pava_is_the_files() -> None:
    from_file, from_package = stats._pava_from_file(), stats._pava_from_package()
    assert from_file is not None
    assert from_package is not None
    y = np.array([3.0, 1.0, 2.0, 5.0, 4.0])
    fits = []
    for pava in (from_file, from_package):
        x = y.copy()
        fits.append(pava(x, np.ones_like(y), np.full(y.size + 1, -1, dtype=np.intp))[0].tolist())
    assert fits[0] == fits[1] == [2.0, 2.0, 2.0, 4.5, 4.5]


def test_pava_falls_back_to_the_package_when_the_file_does_not_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(name: str, path: str) -> object:
        raise ImportError(f"cannot load {name} from {path}")

    monkeypatch.setattr(stats, "_load_extension", broken)
    assert stats._pava_from_file() is None
    monkeypatch.setattr(stats, "_PAVA", [])
    assert stats._pava() is stats._pava_from_package()
    assert stats.monotone_fit([3.0, 1.0, 2.0]).tolist() == [2.0, 2.0, 2.0]


def _regime_changes_by_definition(values: npt.ArrayLike, least: float = 1.25) -> list[int]:
    """regime_changes as first written: np.diff, np.pad's edge mode and np.median."""
    v = np.asarray(values, dtype=np.float64)
    zero = v <= 0
    logv = np.log(np.where(zero, 1.0, v))
    to_zero = zero[1:] != zero[:-1]
    d = np.where(to_zero | zero[1:] | zero[:-1], 0.0, np.abs(np.diff(logv)))
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(d, 3, mode="edge"), 7)
    around = np.median(windows, axis=1)
    big = (d >= math.log(least)) & (d >= 5.0 * around)
    # a rise right after three falls: a warm restart
    step = np.diff(logv)
    ok = ~(zero[1:] | zero[:-1])
    for i in range(3, step.size):
        if (
            ok[i]
            and step[i] >= math.log(least)
            and all(ok[j] and step[j] < 0 for j in (i - 3, i - 2, i - 1))
        ):
            big[i] = True
    return [int(i) + 1 for i in np.flatnonzero(big | to_zero)]


def test_the_warm_restarts_of_a_cosine_schedule_are_regime_changes() -> None:
    # SGDR with a period of 16 steps: the last steps towards zero fall by as much (in log
    # terms) as the restart rises, so the restart is no outlier among the changes around it
    cosine = 0.5 * (1 + np.cos(np.linspace(0, np.pi, 16, endpoint=False)))
    lr = 0.15 * np.concatenate([cosine * 0.3**k for k in range(4)])
    assert stats.regime_changes(lr).tolist() == [16, 32, 48]
    assert stats.regime_changes(cosine).tolist() == []


@pytest.mark.parametrize("size", [2, 3, 7, 8, 50, 1000])
def test_regime_changes_is_its_definition(size: int) -> None:
    rng = np.random.default_rng(size)
    steps = np.exp(rng.normal(0, 1, size)) * (rng.random(size) < 0.2)  # jumps, zeros
    smooth = 0.1 * np.exp(rng.normal(0, 0.01, size).cumsum())
    for v in (
        smooth,
        np.where(steps > 0, steps, smooth),
        np.where(rng.random(size) < 0.1, 0, smooth),
        np.tile(np.linspace(0.1, 0.001, 7), size // 7 + 1)[:size],  # warm restarts
        np.tile(1.0001 + np.cos(np.linspace(0, np.pi, 16)), size // 16 + 1)[:size],
    ):
        assert stats.regime_changes(v).tolist() == _regime_changes_by_definition(v)
    with_nan = smooth.copy()
    with_nan[size // 2] = np.nan
    assert stats.regime_changes(with_nan).tolist() == _regime_changes_by_definition(with_nan)


def test_fast_diff_is_np_diff() -> None:
    rng = np.random.default_rng(5)
    values = rng.normal(0, 1, 50) * 10.0 ** rng.integers(-300, 300, 50)
    cases = [values, values[::3], np.zeros(0), np.ones(1), np.array([np.inf, 1.0, np.nan])]
    for v in [*cases, np.arange(7), np.array([True, False, False])]:
        got, want = stats.fast_diff(v), np.diff(v)
        assert got.dtype == want.dtype
        assert got.tobytes() == want.tobytes()
    grid = rng.normal(size=(3, 4))
    assert stats.fast_diff(grid).tobytes() == np.diff(grid).tobytes()


def test_dot_of_contiguous_vectors_is_matmul_to_the_bit() -> None:
    # the statistics call ndarray.dot on fresh (contiguous) vectors for speed: it must
    # make the same BLAS call as ``@`` (the same bits, whatever the length, but for the
    # sign of a zero)
    rng = np.random.default_rng(6)
    for n in (*range(40), 100, 127, 128, 129, 1000, 4097, 20001):
        a = rng.normal(0, 1, n + 1) * 10.0 ** rng.integers(-8, 8, n + 1)
        b = rng.normal(0, 1, n + 1) * 10.0 ** rng.integers(-8, 8, n + 1)
        for x, y in ((a[1:], b[1:]), (a[1:], a[:-1]), (a[:n], a[:n])):
            assert float(x.dot(y)).hex() == float(x @ y).hex()
    # a zero dot: ``@`` adds to 0.0, so -0.0 comes out +0.0 (the callers add 0.0 too)
    for x, y in (([1.0], [-0.0]), ([-1.0, 1.0], [0.0, 0.0]), ([-0.0], [-0.0]), ([], [])):
        u, v = np.array(x), np.array(y)
        assert (float(u.dot(v)) + 0.0).hex() == float(u @ v).hex() == "0x0.0p+0"


@pytest.mark.parametrize("seed", range(5))
def test_robust_autocorrelation_measures_wandering_noise_as_before(seed: int) -> None:
    # AR(1) noise of phi 0.6 around a slow trend: no residual is an outlier, so leaving the
    # outliers out changes little
    rng = np.random.default_rng(seed)
    e = np.zeros(400)
    for i in range(1, 400):
        e[i] = 0.6 * e[i - 1] + rng.normal()
    y = np.linspace(0.0, 3.0, 400) + 0.1 * e
    assert abs(stats.robust_autocorrelation(y) - stats.noise_autocorrelation(y)) < 0.15
    assert stats.robust_autocorrelation(y) > 0.3


def test_robust_autocorrelation_is_less_fooled_by_a_ramp() -> None:
    # white noise around a decay that ramps up by 20 noise units over five points: the
    # residuals around the ramp are a run of outliers, left out (the residuals next to
    # them, and the running median's lag, still count a little)
    plain, robust = [], []
    for seed in range(8):
        rng = np.random.default_rng(seed)
        t = np.arange(120, dtype=np.float64)
        y = -np.log(np.exp(-t / 30) + 0.3) + rng.normal(0, 0.02, 120)
        y[70:] -= 0.4 * np.minimum(1.0, np.arange(1, 51) / 5)
        plain.append(stats.noise_autocorrelation(y))
        robust.append(stats.robust_autocorrelation(y))
    assert max(robust) <= 0.4
    assert np.mean(robust) < np.mean(plain) - 0.1


def test_robust_autocorrelation_of_too_few_or_equal_values_is_zero() -> None:
    assert stats.robust_autocorrelation(np.arange(7.0)) == 0.0
    assert stats.robust_autocorrelation(np.ones(50)) == 0.0
