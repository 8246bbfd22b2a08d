"""Pure numpy statistics the detectors decide on; no decisions here.

Every function takes plain arrays, never raises on empty or short input (it returns a
neutral value instead: ``0.0`` for a scale, no breakpoints for a segmentation), and
is vectorised so that one series of a million points costs a few milliseconds.

The noise model the detectors rely on: a series is a smooth trend plus noise that
may be autocorrelated. :func:`noise_scale` estimates the standard deviation of that
noise from second differences at several lags, which cancels any locally linear
trend, and takes the largest lag's estimate so that slowly wandering (positively
autocorrelated) noise is not mistaken for signal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "MAD_TO_SIGMA",
    "Bins",
    "Line",
    "autocorrelation",
    "bin_reduce",
    "binary_segmentation",
    "dominant_period",
    "drawdown",
    "fit_line",
    "long_run_noise_scale",
    "mad",
    "moving_median",
    "noise_scale",
    "quantum",
    "robust_slope",
    "segment_sse",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MAD_TO_SIGMA = 1.482602218505602
"""Factor turning a median absolute deviation into a normal standard deviation."""


def mad(values: npt.ArrayLike) -> float:
    """Robust standard deviation: ``1.4826 * median(|x - median(x)|)``; 0.0 when empty.

    >>> mad([1.0, 2.0, 3.0, 4.0, 100.0])
    1.482602218505602
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return 0.0
    return float(MAD_TO_SIGMA * np.median(np.abs(x - np.median(x))))


def noise_scale(values: npt.ArrayLike, *, lags: tuple[int, ...] | None = None) -> float:
    """Robust standard deviation of the noise around a locally linear trend.

    For each lag ``k`` the second difference ``y[i+2k] - 2 y[i+k] + y[i]`` removes a
    linear trend and has standard deviation ``sqrt(6) * sigma`` under white noise;
    its MAD gives ``sigma``. The largest estimate over the lags is returned, so that
    positively autocorrelated noise (which hides at lag 1) is still measured. The
    default lags grow with the length (1; 1, 2 from 40 points; 1, 2, 4 from 100),
    because on a short curved series a long lag measures the curvature, not the
    noise. Returns 0.0 for fewer than three points.

    >>> rng = np.random.default_rng(0)
    >>> round(noise_scale(np.linspace(5, 1, 2000) + rng.normal(0, 0.1, 2000)), 2)
    0.1
    """
    y = np.asarray(values, dtype=np.float64)
    if lags is None:
        lags = (1, 2, 4) if y.size >= 100 else (1, 2) if y.size >= 40 else (1,)
    best = 0.0
    for k in lags:
        if y.size < 2 * k + 3:
            continue
        d2 = y[2 * k :] - 2.0 * y[k:-k] + y[: -2 * k]
        best = max(best, float(MAD_TO_SIGMA * np.median(np.abs(d2))) / math.sqrt(6.0))
    if best == 0.0 and y.size >= 3:
        # An exactly piecewise-linear series has zero noise; that is a valid answer.
        return 0.0
    return best


def long_run_noise_scale(values: npt.ArrayLike, *, window: int | None = None) -> float:
    """Noise scale that governs changes measured over many points (AR-robust).

    Under white noise a line fitted over ``L`` points has its change known to
    ``sigma * sqrt(12 / L)``; under positively autocorrelated noise the points wander
    together and the change is far less certain. This returns the long-run standard
    deviation ``s * sqrt((1 + phi) / (1 - phi))`` of the residuals around a centred
    running median of ``window`` points (default a tenth of the series, at least 5):
    ``s`` is their robust spread and ``phi`` their lag-1 autocorrelation (residuals
    winsorised at 3 robust deviations so that a spike does not count, ``phi`` clipped
    to ``[0, 0.95]``). About ``sigma`` for white noise. 0.0 for fewer than 8 points.

    >>> rng = np.random.default_rng(0)
    >>> e = rng.normal(0, 1, 2000)
    >>> round(long_run_noise_scale(e), 1)
    1.0
    >>> from scipy.signal import lfilter
    >>> ar = lfilter([1.0], [1.0, -0.9], e) * math.sqrt(1 - 0.81)
    >>> long_run_noise_scale(ar) > 2 * noise_scale(ar)
    True
    """
    y = np.asarray(values, dtype=np.float64)
    if y.size < 8:
        return 0.0
    w = (max(5, y.size // 4) if window is None else max(3, window)) | 1
    # The running median of moving_median (shrinking at the ends), vectorised: full
    # windows with np.median, the 2 * (w // 2) shrinking ones with np.nanmedian.
    h = w // 2
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(y, h, constant_values=np.nan), w)
    smooth = np.empty_like(y)
    if y.size > 2 * h:
        smooth[h : y.size - h] = np.median(windows[h : y.size - h], axis=1)
        edges = np.r_[0:h, y.size - h : y.size]
    else:
        edges = np.arange(y.size)
    smooth[edges] = np.nanmedian(windows[edges], axis=1)
    r = y - smooth
    s = mad(r)
    if s == 0.0:
        return 0.0
    r = np.clip(r - np.median(r), -3 * s, 3 * s)
    den = float(r @ r)
    phi = float(r[1:] @ r[:-1]) / den if den > 0 else 0.0
    phi = min(max(phi, 0.0), 0.95)
    return s * math.sqrt((1 + phi) / (1 - phi))


def quantum(values: npt.ArrayLike) -> float:
    """The grid step of values that only take a few evenly spaced levels, else 0.0.

    Accuracies over a small validation set move in steps of ``1 / size``; a change of
    one step is then the finest change the metric can show. A grid is recognised when
    there are at most half as many distinct values as points and every distinct value
    lies (to 0.1 % of the step) on the grid of the smallest gap between them.

    >>> quantum([0.46, 0.48, 0.48, 0.52, 0.52, 0.98, 0.98, 0.98, 1.0, 1.0])
    0.02
    >>> quantum([0.1, 0.2, 0.35, 0.35])
    0.0
    """
    y = np.asarray(values, dtype=np.float64)
    y = y[np.isfinite(y)]
    u = np.unique(y)
    if u.size < 2 or u.size * 2 > y.size:
        return 0.0
    gaps = np.diff(u)
    span = float(u[-1] - u[0])
    q = float(gaps.min())
    if q <= 1e-6 * max(span, 1e-300):
        return 0.0
    k = (u - u[0]) / q
    if float(np.max(np.abs(k - np.round(k)))) > 1e-3 * max(1.0, float(k[-1]) / 1000):
        return 0.0
    return round(q, 12)


@dataclass(frozen=True)
class Bins:
    """A series reduced to at most ``max_bins`` consecutive blocks of points.

    ``x`` is each block's mean abscissa, ``y`` its median value (robust to spikes),
    ``start`` the position of its first point in the input and ``count`` its size.
    """

    x: FloatArray
    y: FloatArray
    start: IntArray
    count: IntArray

    def __len__(self) -> int:
        return int(self.x.shape[0])


def bin_reduce(x: npt.ArrayLike, y: npt.ArrayLike, max_bins: int) -> Bins:
    """Reduce ``(x, y)`` to at most ``max_bins`` blocks of equal size (the last may be smaller).

    No point is dropped: every input point falls in exactly one block.

    >>> b = bin_reduce(np.arange(10.0), np.arange(10.0), 4)
    >>> b.start.tolist(), b.count.tolist(), b.y.tolist()
    ([0, 3, 6, 9], [3, 3, 3, 1], [1.0, 4.0, 7.0, 9.0])
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    n = int(xa.size)
    if n <= max_bins:
        return Bins(xa.copy(), ya.copy(), np.arange(n, dtype=np.int64), np.ones(n, dtype=np.int64))
    size = -(-n // max_bins)
    full = n // size
    head = full * size
    xb = xa[:head].reshape(full, size).mean(axis=1)
    yb = np.median(ya[:head].reshape(full, size), axis=1)
    starts = np.arange(0, head, size, dtype=np.int64)
    counts = np.full(full, size, dtype=np.int64)
    if head < n:
        xb = np.append(xb, xa[head:].mean())
        yb = np.append(yb, np.median(ya[head:]))
        starts = np.append(starts, head)
        counts = np.append(counts, n - head)
    return Bins(xb, yb, starts, counts)


@dataclass(frozen=True)
class Line:
    """A least-squares line ``y = intercept + slope * x`` and its residual spread."""

    slope: float
    intercept: float
    sse: float
    n: int

    def at(self, x: float) -> float:
        return self.intercept + self.slope * x


def fit_line(x: npt.ArrayLike, y: npt.ArrayLike) -> Line:
    """Ordinary least squares; a horizontal line at the mean when ``x`` does not vary.

    >>> fit_line([0.0, 1.0, 2.0], [1.0, 3.0, 5.0]).slope
    2.0
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    n = int(xa.size)
    if n == 0:
        return Line(0.0, 0.0, 0.0, 0)
    xm = float(xa.mean())
    ym = float(ya.mean())
    dx = xa - xm
    dy = ya - ym
    sxx = float(dx @ dx)
    slope = float(dx @ dy) / sxx if sxx > 0 else 0.0
    resid = dy - slope * dx
    return Line(slope, ym - slope * xm, float(resid @ resid), n)


def robust_slope(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """A Theil-Sen-like slope: the median slope between points half the series apart.

    Uses the ``n // 2`` pairs ``(i, i + n // 2)``, so it costs O(n) and tolerates up to
    a quarter of the points being outliers. 0.0 for fewer than two points.

    >>> robust_slope([0, 1, 2, 3, 4, 5], [0.0, 2.0, 4.0, 600.0, 8.0, 10.0])
    2.0
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    n = int(xa.size)
    if n < 2:
        return 0.0
    h = n // 2
    dx = xa[h : 2 * h] - xa[:h]
    ok = dx != 0
    if not ok.any():
        return 0.0
    return float(np.median((ya[h : 2 * h] - ya[:h])[ok] / dx[ok]))


def moving_median(values: npt.ArrayLike, window: int) -> FloatArray:
    """Centred running median of odd width ``window`` (shrinking at the edges).

    >>> moving_median([1.0, 9.0, 1.0, 1.0, 1.0], 3).tolist()
    [5.0, 1.0, 1.0, 1.0, 1.0]
    """
    y = np.asarray(values, dtype=np.float64)
    n = int(y.size)
    w = max(1, int(window) | 1)
    if n == 0 or w == 1:
        return np.array(y, dtype=np.float64)
    h = w // 2
    if n < w:
        out = [float(np.median(y[max(0, i - h) : i + h + 1])) for i in range(n)]
        return np.asarray(out, dtype=np.float64)
    core = np.median(np.lib.stride_tricks.sliding_window_view(y, w), axis=1)
    left = [float(np.median(y[: i + h + 1])) for i in range(h)]
    right = [float(np.median(y[n - w + 1 + j :])) for j in range(h)]
    return np.concatenate([np.asarray(left), core, np.asarray(right)]).astype(np.float64)


def _prefix(x: FloatArray, y: FloatArray) -> FloatArray:
    """Cumulative sums of 1, x, y, x², xy, y² with a leading zero row (shape (6, n+1))."""
    n = x.size
    out = np.zeros((6, n + 1))
    out[0, 1:] = np.arange(1, n + 1)
    np.cumsum(x, out=out[1, 1:])
    np.cumsum(y, out=out[2, 1:])
    np.cumsum(x * x, out=out[3, 1:])
    np.cumsum(x * y, out=out[4, 1:])
    np.cumsum(y * y, out=out[5, 1:])
    return out


def segment_sse(prefix: FloatArray, i: npt.ArrayLike, j: npt.ArrayLike) -> FloatArray:
    """Residual sum of squares of the least-squares line on points ``[i, j)``.

    ``prefix`` comes from the cumulative sums used by :func:`binary_segmentation`;
    ``i`` and ``j`` may be arrays (broadcast).
    """
    ia, ja = np.broadcast_arrays(np.atleast_1d(np.asarray(i)), np.atleast_1d(np.asarray(j)))
    s = prefix[:, ja] - prefix[:, ia]
    n, sx, sy, sxx, sxy, syy = s
    with np.errstate(divide="ignore", invalid="ignore"):
        cxx = sxx - sx * sx / n
        cxy = sxy - sx * sy / n
        cyy = syy - sy * sy / n
        fit = np.where(cxx > 1e-300, cxy * cxy / np.where(cxx > 1e-300, cxx, 1.0), 0.0)
        sse = np.maximum(cyy - fit, 0.0)
    return np.asarray(np.where(np.isfinite(sse), sse, np.inf), dtype=np.float64)


def binary_segmentation(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    penalty: float,
    min_size: int = 3,
    max_segments: int = 12,
) -> list[int]:
    """Piecewise-linear change points by binary segmentation.

    A segment is split at the position that most reduces the residual sum of squares
    of independent least-squares lines on each side, when that reduction exceeds
    ``penalty``; the largest reductions are taken first, up to ``max_segments``
    segments. Each split costs O(segment length) thanks to cumulative sums, so the
    whole search is O(n * segments). Returns the sorted interior breakpoints
    (positions where a new segment starts).

    Unlike a piecewise-constant (``l2``) cost, a smooth monotone decline is one
    segment here, not a staircase.

    >>> t = np.arange(60.0)
    >>> y = np.where(t < 30, 40 - t, 0.0)
    >>> binary_segmentation(t, y, penalty=1.0)
    [30]
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    n = int(xa.size)
    if n < 2 * min_size or max_segments < 2:
        return []
    # Centre and scale for numerical stability of the cumulative sums.
    xs = (xa - xa.mean()) / (float(np.ptp(xa)) or 1.0)
    yc = ya - float(np.median(ya))
    scale = float(np.max(np.abs(yc))) or 1.0
    yc = yc / scale
    pen = penalty / (scale * scale)
    prefix = _prefix(xs, yc)

    def best_split(i: int, j: int) -> tuple[float, int]:
        if j - i < 2 * min_size:
            return (0.0, -1)
        ks = np.arange(i + min_size, j - min_size + 1)
        total = segment_sse(prefix, np.array([i]), np.array([j]))[0]
        gain = total - segment_sse(prefix, i, ks) - segment_sse(prefix, ks, j)
        if not np.isfinite(gain).any():
            return (0.0, -1)
        gain = np.where(np.isfinite(gain), gain, -np.inf)
        b = int(np.argmax(gain))
        return (float(gain[b]), int(ks[b]))

    breaks: list[int] = []
    candidates: list[tuple[float, int, int, int]] = []
    g, k = best_split(0, n)
    candidates.append((g, k, 0, n))
    while candidates and len(breaks) + 1 < max_segments:
        candidates.sort(key=lambda c: (-c[0], c[1]))
        g, k, i, j = candidates.pop(0)
        if k < 0 or not g > pen:
            break
        breaks.append(k)
        for a, b in ((i, k), (k, j)):
            ga, ka = best_split(a, b)
            candidates.append((ga, ka, a, b))
    return sorted(breaks)


def autocorrelation(values: npt.ArrayLike, max_lag: int) -> FloatArray:
    """Sample autocorrelation of ``values`` at lags ``0..max_lag`` (mean removed).

    Lag 0 is 1.0; all zeros when the values do not vary or there are fewer than two.

    >>> autocorrelation([1.0, -1.0, 1.0, -1.0, 1.0, -1.0], 2).round(2).tolist()
    [1.0, -0.83, 0.67]
    """
    y = np.asarray(values, dtype=np.float64)
    n = int(y.size)
    lags = max(0, min(int(max_lag), n - 1))
    out = np.zeros(lags + 1)
    if n < 2:
        return out
    r = y - float(y.mean())
    den = float(r @ r)
    if not den > 0 or not math.isfinite(den):
        return out
    for k in range(lags + 1):
        out[k] = float(r[k:] @ r[: n - k]) / den
    return out


def dominant_period(
    values: npt.ArrayLike, *, min_cycles: float = 3.0, prominence: float = 0.25
) -> tuple[int, float]:
    """The lag of the first clear autocorrelation peak of the linearly detrended values.

    The autocorrelation is that of the ranks of the detrended values (Spearman's),
    so one huge swing does not hide the regular smaller ones.

    A periodic component makes the autocorrelation dip and come back up at its period.
    Returns ``(lag, height)`` of the first local maximum at lag >= 2 that leaves room
    for ``min_cycles`` periods, is positive and rises at least ``prominence`` above
    the lowest autocorrelation at a shorter lag; ``(0, 0.0)`` when there is none (a
    trend, a staircase of unequal steps, white or wandering noise).

    >>> t = np.arange(120.0)
    >>> dominant_period(np.sin(2 * np.pi * t / 12) - t / 50)[0]
    12
    >>> dominant_period(np.exp(-t / 30))
    (0, 0.0)
    """
    y = np.asarray(values, dtype=np.float64)
    n = int(y.size)
    max_lag = int(n / max(min_cycles, 1.0))
    if max_lag < 3:
        return (0, 0.0)
    x = np.arange(n, dtype=np.float64)
    line = fit_line(x, y)
    # Ranks, not values: one huge swing must not drown the autocorrelation of the rest.
    resid = y - (line.intercept + line.slope * x)
    acf = autocorrelation(np.argsort(np.argsort(resid, kind="stable")), max_lag + 1)
    if acf.size < 4:
        return (0, 0.0)
    low = float(acf[1])
    for k in range(2, min(max_lag, acf.size - 2) + 1):
        low = min(low, float(acf[k - 1]))
        peak = acf[k] >= acf[k - 1] and acf[k] >= acf[k + 1] and acf[k] > 0
        if peak and acf[k] - low >= prominence:
            return (k, float(acf[k]))
    return (0, 0.0)


def drawdown(values: npt.ArrayLike, window: int) -> FloatArray:
    """How far each value lies below the largest of the ``window`` values before it.

    0.0 where a value is at least as large as all of them (and at the first point).

    >>> drawdown([1.0, 3.0, 2.0, 0.0, 4.0], 2).tolist()
    [0.0, 0.0, 1.0, 3.0, 0.0]
    """
    y = np.asarray(values, dtype=np.float64)
    n = int(y.size)
    w = max(1, int(window))
    if n == 0:
        return np.zeros(0)
    padded = np.concatenate([np.full(w, -np.inf), y])
    prev = np.lib.stride_tricks.sliding_window_view(padded[:-1], w).max(axis=1)
    return np.asarray(np.maximum(prev - y, 0.0), dtype=np.float64)
