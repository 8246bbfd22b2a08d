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

import bisect
import importlib
import importlib.machinery
import importlib.util
import itertools
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

import numpy as np
import numpy.typing as npt

__all__ = [
    "MAD_TO_SIGMA",
    "Bins",
    "Line",
    "autocorrelation",
    "bin_medians",
    "bin_reduce",
    "binary_segmentation",
    "block_spread",
    "difference_autocorrelation",
    "dominant_period",
    "drawdown",
    "equal_runs",
    "fast_clip",
    "fast_diff",
    "fast_mean",
    "fast_median",
    "fast_ptp",
    "fast_quantile",
    "fast_quantiles",
    "fit_line",
    "fit_slope",
    "local_line_residuals",
    "local_noise",
    "long_run_factor",
    "long_run_noise_scale",
    "mad",
    "monotone_fit",
    "moving_median",
    "noise_autocorrelation",
    "noise_scale",
    "quantum",
    "regime_changes",
    "robust_autocorrelation",
    "robust_slope",
    "segment_sse",
    "trailing_median",
    "window_medians",
    "winsorised",
    "winsorised_around",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MAD_TO_SIGMA = 1.482602218505602
"""Factor turning a median absolute deviation into a normal standard deviation."""


class _Kernels(Protocol):
    """The compiled kernels (``tbplateau/_kernels.c``): the same results as the numpy code
    here, to the bit, or ``None``/``False`` where they decline and numpy decides."""

    def median(self, values: FloatArray, /) -> float | None: ...

    def mean(self, values: FloatArray, /) -> float | None: ...

    def ptp(self, values: FloatArray, /) -> float | None: ...

    def centred(
        self, x: FloatArray, y: FloatArray, dx: FloatArray, dy: FloatArray, /
    ) -> tuple[float, float] | None: ...

    def row_means(self, rows: FloatArray, out: FloatArray, /) -> bool: ...

    def winsorise(self, values: FloatArray, scale: float, out: FloatArray, /) -> int: ...

    def winsorise_running(
        self, values: FloatArray, window: int, scale: float, out: FloatArray, /
    ) -> int: ...

    def winsorise_line(
        self,
        x: FloatArray,
        y: FloatArray,
        level: float,
        slope: float,
        scale: float,
        out: FloatArray,
        /,
    ) -> int: ...

    def quantiles(
        self, values: FloatArray, qs: tuple[float, ...], /
    ) -> tuple[float, ...] | None: ...

    def rank_autocorrelation(self, order: IntArray, out: FloatArray, /) -> bool: ...

    def row_medians(self, rows: FloatArray, out: FloatArray, /) -> bool: ...

    def prefix_medians(self, y: FloatArray, first: int, out: FloatArray, /) -> bool: ...

    def moving_median(self, y: FloatArray, window: int, out: FloatArray, /) -> bool: ...

    def trailing_median(self, y: FloatArray, window: int, out: FloatArray, /) -> bool: ...

    def d2_median(self, y: FloatArray, lag: int, /) -> float | None: ...

    def local_noise(self, y: FloatArray, window: int, out: FloatArray, /) -> bool: ...

    def tiled_path(
        self,
        x: FloatArray,
        pieces: Sequence[tuple[int, int, float, float]],
        out: FloatArray,
        /,
    ) -> bool: ...

    def block_spread(
        self,
        x: FloatArray,
        y: FloatArray,
        bx: FloatArray,
        by: FloatArray,
        counts: IntArray,
        out: FloatArray,
        /,
    ) -> bool: ...

    def noise_model(
        self,
        y: FloatArray,
        window: int,
        resolution: float,
        local: FloatArray,
        smooth: FloatArray,
        robust: FloatArray,
        /,
    ) -> tuple[float, float, float, float] | None: ...

    def local_lines(
        self,
        xc: FloatArray,
        y: FloatArray,
        fit_to: FloatArray,
        phase: IntArray,
        h: int,
        out: FloatArray,
        /,
    ) -> bool: ...

    def equal_runs(self, y: FloatArray, k: int, /) -> tuple[list[int], list[int]] | None: ...

    def many_distinct(self, values: FloatArray, /) -> bool | None: ...

    def first_alternation(
        self, values: FloatArray, bar: float, min_flips: int, share: float, /
    ) -> tuple[int, int] | None: ...

    def segment(
        self,
        x: FloatArray,
        y: FloatArray,
        weights: FloatArray | None,
        pen: float,
        min_size: int,
        max_segments: int,
        fixed: tuple[int, ...],
        /,
    ) -> list[int]: ...

    def best_ab(
        self,
        sf: FloatArray,
        sff: FloatArray,
        sfy: FloatArray,
        n: float,
        sy: float,
        syy: float,
        a_lo: float,
        a_hi: float,
        b_lo: float,
        b_hi: float,
        a: FloatArray,
        b: FloatArray,
        err: FloatArray,
        /,
    ) -> bool: ...

    def records(
        self, values: FloatArray, minimise: bool, relative: bool, delta: float, /
    ) -> list[int] | None: ...

    def dumps_indented(
        self, doc: object, step: str, encode: Callable[[str], str], /
    ) -> str | None: ...


def _load_kernels() -> _Kernels | None:
    """The compiled kernels, or ``None`` where they are not built or
    ``TBPLATEAU_PURE_PYTHON`` is set (then numpy computes everything)."""
    if os.environ.get("TBPLATEAU_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        from tbplateau import _kernels
    except ImportError:  # pragma: no cover - depends on the build
        return None
    return _kernels


KERNELS: _Kernels | None = _load_kernels()
"""The compiled kernels in use (``None``: the numpy fallback; tests swap it)."""


class _Pava(Protocol):
    """scipy's compiled pool-adjacent-violators (``scipy.optimize._pava_pybind.pava``): fits
    ``x`` in place (increasing), with weights ``w`` and block starts ``r``."""

    def __call__(
        self, x: FloatArray, w: FloatArray, r: npt.NDArray[np.intp], /
    ) -> tuple[FloatArray, FloatArray, npt.NDArray[np.intp], int]: ...


_PAVA: list[_Pava | None] = []
"""The loaded :class:`_Pava` (empty until first needed; ``[None]``: the Python loop)."""


def _pava() -> _Pava | None:
    """The compiled pool-adjacent-violators that ``scipy.optimize.isotonic_regression``
    calls (scipy >= 1.12), or ``None`` (older scipy: :func:`monotone_fit` loops in Python).

    Loaded from its extension file alone where it is found: importing ``scipy.optimize``
    costs some 50 MB of memory and a third of a second, and nothing else of it is needed.
    """
    if not _PAVA:
        _PAVA.append(_pava_from_file() or _pava_from_package())
    return _PAVA[0]


def _pava_from_package() -> _Pava | None:
    try:
        from scipy.optimize import _pava_pybind
    except ImportError:  # pragma: no cover - older scipy
        return None
    return cast(_Pava, _pava_pybind.pava)


def _load_extension(name: str, path: str) -> object:
    """The extension module ``name`` of file ``path``, loaded without its package (and
    left out of ``sys.modules``)."""
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    if spec is None:  # pragma: no cover - a file location always has a spec
        return None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _pava_from_file() -> _Pava | None:
    """``pava`` of the file ``scipy/optimize/_pava_pybind.*`` (not through the package)."""
    spec = importlib.util.find_spec("scipy")
    bases = spec.submodule_search_locations if spec is not None else None
    for base in bases or []:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(base, "optimize", "_pava_pybind" + suffix)
            if not os.path.isfile(path):
                continue
            try:
                module = _load_extension("scipy.optimize._pava_pybind", path)
            except ImportError:  # a file that does not load alone: the package's, then
                return None
            found = getattr(module, "pava", None)
            return cast(_Pava, found) if callable(found) else None
    return None


def _same_sums(kernels: _Kernels | None) -> bool:
    """Whether the kernels' mean adds in this numpy's order (pairwise sums of 8
    interleaved accumulators, onto 0.0): probes whose sums round differently in any
    other order."""
    if kernels is None:
        return False
    rng = np.random.default_rng(0)
    for n in (1, 5, 8, 13, 100, 129, 300, 1000):
        probe = rng.normal(0, 1, n) * 10.0 ** rng.integers(-8, 8, n)
        for values in (probe, probe[::-1], np.full(n, -0.0)):
            if _bits(kernels.mean(values)) != _bits(float(values.mean())):
                return False
    return True


def _bits(x: float | None) -> str:
    return "None" if x is None else x.hex()


_SAME_SUMS = _same_sums(KERNELS)
"""The kernels' mean is numpy's to the bit here (checked once, at import)."""


def _same_spread(kernels: _Kernels | None) -> bool:
    """Whether the kernels' :func:`block_spread` is numpy's to the bit here: their sums are
    (:data:`_SAME_SUMS`) and their interpolation rounds as ``np.interp`` does (which a
    numpy built to fuse its multiply-adds would not), on probes of uneven blocks."""
    if kernels is None or not hasattr(kernels, "block_spread") or not _same_sums(kernels):
        return False  # (a build older than the kernel: no import error, numpy's way)
    rng = np.random.default_rng(1)
    for n, size in ((50, 3), (301, 7), (1000, 5)):
        x = np.cumsum(rng.uniform(0.1, 3.0, n))
        y = np.cumsum(rng.normal(0, 1, n)) * 10.0 ** rng.integers(-6, 6)
        full = n // size
        counts = np.full(full + (n > full * size), size, dtype=np.int64)
        counts[-1] = n - size * (counts.size - 1)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        bins = Bins(np.add.reduceat(x, starts) / counts, y[starts], starts, counts)
        out = np.zeros(counts.size)
        if not kernels.block_spread(x, y, bins.x, bins.y, bins.count, out):
            return False
        if out.tobytes() != _block_spread(x, y, bins).tobytes():
            return False
    return True


def _clip_ufunc() -> np.ufunc | None:
    """numpy's ``clip`` ufunc, which ``np.clip`` calls once its argument checks are done
    (``None`` where this numpy keeps it elsewhere)."""
    for name in ("numpy._core.umath", "numpy.core.umath"):
        try:
            found = getattr(importlib.import_module(name), "clip", None)
        except ImportError:  # pragma: no cover - the other numpy layout
            continue
        if isinstance(found, np.ufunc):
            return found
    return None  # pragma: no cover - a numpy without it


_CLIP = _clip_ufunc()


def fast_clip(values: FloatArray, lo: float | FloatArray, hi: float | FloatArray) -> FloatArray:
    """``np.clip(values, lo, hi)`` of a float64 array with both bounds given: the very ufunc
    ``np.clip`` ends in, without the Python layers before it (the same values, to the bit).

    >>> fast_clip(np.array([-2.0, 0.5, 3.0]), -1.0, 1.0).tolist()
    [-1.0, 0.5, 1.0]
    """
    if _CLIP is None:  # pragma: no cover - a numpy without the ufunc
        return np.asarray(np.clip(values, lo, hi), dtype=np.float64)
    out: FloatArray = _CLIP(values, lo, hi)
    return out


_Array = TypeVar("_Array", bound=npt.NDArray[Any])


def fast_diff(values: _Array) -> _Array:
    """``np.diff(values)`` of a 1-D numeric array: the very subtraction ``np.diff`` makes
    (``values[1:] - values[:-1]``), without its per-call checks; ``np.diff`` itself for
    other shapes and for booleans (which it compares instead).

    >>> fast_diff(np.array([1.0, 4.0, 2.0])).tolist()
    [3.0, -2.0]
    """
    if values.ndim != 1 or values.dtype == np.bool_:
        return cast(_Array, np.diff(values))
    return cast(_Array, values[1:] - values[:-1])


def fast_ptp(values: FloatArray) -> float:
    """``float(np.ptp(values))``: the same maximum less the same minimum, without
    ``np.ptp``'s Python layers (an empty array raises as there).

    >>> fast_ptp(np.array([3.0, -1.0, 2.0]))
    4.0

    One compiled pass where the kernels are built (the extremes are values of the array,
    so the same bits; numpy's where the kernel declines: see ``_kernels.c``).
    """
    if KERNELS is not None:
        found = KERNELS.ptp(values)
        if found is not None:
            return found
    return float(values.max() - values.min())


def fast_mean(values: FloatArray) -> float:
    """``float(values.mean())`` of a 1-D float64 array, without numpy's per-call overhead
    (the same pairwise summation, so the same bits); numpy's own for an empty, long or
    non-finite mean.

    >>> fast_mean(np.array([1.0, 2.0, 4.0]))
    2.3333333333333335
    """
    if KERNELS is not None and _SAME_SUMS and values.ndim == 1 and values.dtype == np.float64:
        m = KERNELS.mean(values)
        if m is not None:
            return m
    return float(values.mean())


_SHORT_MEDIAN = 40
"""Up to this many values, :func:`fast_median` sorts a Python list (numpy's per-call
overhead is larger than the work there)."""


_SHORT_PREFIXES = 256
"""Up to this many values, the prefix medians of a running median's edges come from one
sorted Python list (numpy would sort a row per prefix)."""


def fast_median(values: FloatArray) -> float:
    """``float(np.median(values))`` of a 1-D float64 array, without numpy's per-call overhead.

    The same order statistics (the middle value, or the mean of the two middle values
    as ``(lo + hi) / 2``, which is what ``np.median`` computes), so the result is
    identical to the last bit (a zero median is +0.0, as numpy's). Empty, non-1-D or
    non-float64 input, NaN anywhere and an infinite median (an overflow numpy warns
    about) go through ``np.median`` itself.

    >>> fast_median(np.array([3.0, 1.0, 2.0, 10.0]))
    2.5
    """
    if KERNELS is not None:  # the same order statistics, or None where numpy decides
        found = KERNELS.median(values)
        return float(np.median(values)) if found is None else found
    n = values.shape[0] if values.ndim == 1 else 0
    if n == 0 or values.dtype != np.float64:
        return float(np.median(values))
    h = n // 2
    if n <= _SHORT_MEDIAN:
        v = sorted(values.tolist())
        total = sum(v)
        if total != total:  # a NaN (or inf - inf): numpy's NaN handling
            return float(np.median(values))
        m = v[h] if n % 2 else (v[h - 1] + v[h]) / 2
    else:
        part = np.partition(values, (h - 1, h, n - 1) if n % 2 == 0 else (h, n - 1))
        if math.isnan(part[-1]):
            return float(np.median(values))
        m = float(part[h]) if n % 2 else (float(part[h - 1]) + float(part[h])) / 2
    if math.isinf(m):  # an overflow, and numpy's warning about it
        return float(np.median(values))
    # numpy's mean of the middle values starts its sum at 0.0: a zero median is +0.0
    return 0.0 if m == 0.0 else float(m)


def fast_quantile(values: FloatArray, q: float) -> float:
    """``float(np.quantile(values, q))`` of a 1-D float64 array, to the bit (see
    :func:`fast_quantiles`).

    >>> fast_quantile(np.array([3.0, 1.0, 2.0, 10.0]), 0.75)
    4.75
    """
    return fast_quantiles(values, (q,))[0]


def fast_quantiles(values: FloatArray, qs: tuple[float, ...]) -> tuple[float, ...]:
    """``np.quantile(values, qs)`` (the default linear method) of a 1-D float64 array, as
    floats, without numpy's per-call overhead.

    The same order statistics and numpy's interpolation (``a + (b - a) * t``, or
    ``b - (b - a) * (1 - t)`` from ``t = 0.5``), so the result is identical to the last
    bit. Empty, non-1-D or non-float64 input, NaN anywhere, an infinite neighbour and
    a zero result (whose sign follows where numpy's partition leaves signed zeros) go
    through ``np.quantile`` itself.

    >>> fast_quantiles(np.array([3.0, 1.0, 2.0, 10.0]), (0.1, 0.9))
    (1.3, 7.900000000000001)
    """
    if KERNELS is not None:  # the same arithmetic, or None where numpy decides
        found = KERNELS.quantiles(values, qs)
        return _np_quantiles(values, qs) if found is None else found
    n = values.shape[0] if values.ndim == 1 else 0
    if n == 0 or values.dtype != np.float64:
        return _np_quantiles(values, qs)
    spots: list[tuple[int, int, float]] = []
    for q in qs:
        at = (n - 1) * q  # numpy's virtual index
        if not 0.0 <= at < n - 1:  # the last value (q = 1, or one value); odd q: numpy
            if at == at and at >= n - 1:
                spots.append((n - 1, n - 1, 0.0))
                continue
            return _np_quantiles(values, qs)
        lo = math.floor(at)
        spots.append((lo, lo + 1, at - lo))
    v: list[float]
    if n <= _SHORT_MEDIAN:
        v = sorted(values.tolist())
        total = sum(v)
        if total != total:  # a NaN (or inf - inf)
            return _np_quantiles(values, qs)
    else:
        kth = sorted({i for lo, hi, _ in spots for i in (lo, hi)} | {n - 1})
        part = np.partition(values, kth)
        if math.isnan(part[-1]):
            return _np_quantiles(values, qs)
        v = [0.0] * n
        for i in kth:
            v[i] = float(part[i])
    out = []
    for lo, hi, t in spots:
        a, b = v[lo], v[hi]
        if not (math.isfinite(a) and math.isfinite(b)):
            return _np_quantiles(values, qs)
        d = b - a
        r = b - d * (1 - t) if t >= 0.5 else a + d * t
        if r == 0.0:
            return _np_quantiles(values, qs)
        out.append(r)
    return tuple(out)


def _np_quantiles(values: FloatArray, qs: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(float(x) for x in np.quantile(values, list(qs)))


def window_medians(values: npt.ArrayLike, window: int) -> FloatArray:
    """The median of every ``window`` consecutive values (``n - window + 1`` of them):
    ``np.median(sliding_window_view(values, window), axis=1)``, to the bit.

    >>> window_medians([1.0, 9.0, 2.0, 4.0], 3).tolist()
    [2.0, 4.0]
    """
    return _window_medians(np.asarray(values, dtype=np.float64), int(window))


def _window_medians(y: FloatArray, w: int) -> FloatArray:
    """``np.median(sliding_window_view(y, w), axis=1)`` of a 1-D float64 array, to the bit."""
    return _row_medians(_windows(y, w))


def _windows(y: FloatArray, w: int) -> FloatArray:
    """``sliding_window_view(y, w)`` (the same strided view, to be read only), built
    directly on a contiguous ``y`` (numpy's checks cost more than a short median)."""
    n = y.shape[0] if y.ndim == 1 else 0
    if 1 <= w <= n and y.flags.c_contiguous:
        step = y.strides[0]
        view: FloatArray = np.ndarray((n - w + 1, w), y.dtype, y, 0, (step, step))
        return view
    return np.lib.stride_tricks.sliding_window_view(y, w)


def _row_means(rows: FloatArray) -> FloatArray:
    """``rows.mean(axis=1)`` of a 2-D float64 array, to the bit (numpy's pairwise sum of
    every row, in one compiled call where the kernels add in numpy's order)."""
    if KERNELS is not None and _SAME_SUMS and rows.dtype == np.float64:
        means = np.empty(rows.shape[0])
        if KERNELS.row_means(rows, means):
            return means
    return np.asarray(rows.mean(axis=1), dtype=np.float64)


def _row_medians(windows: FloatArray) -> FloatArray:
    """``np.median(windows, axis=1)`` of a 2-D float64 array, to the bit.

    The same partition numpy's median makes (the middle one or two positions and the
    last), without its per-call machinery; a NaN in a row goes through ``np.median``
    itself.
    """
    w = windows.shape[1]
    if windows.shape[0] == 0 or w < 1 or windows.dtype != np.float64:
        return np.asarray(np.median(windows, axis=1), dtype=np.float64)
    if KERNELS is not None:
        medians = np.empty(windows.shape[0])
        if KERNELS.row_medians(windows, medians):
            return medians
    h = w // 2
    # numpy's mean of the middle values starts its sum at 0.0 (so -0.0 comes out 0.0)
    if w % 2:
        part = np.partition(windows, (h, w - 1), axis=1)
        out = part[:, h] + 0.0
    else:
        part = np.partition(windows, (h - 1, h, w - 1), axis=1)
        out = (part[:, h - 1] + 0.0 + part[:, h]) / 2
    if np.isnan(part[:, -1]).any():
        return np.asarray(np.median(windows, axis=1), dtype=np.float64)
    return out


def _reflect(a: FloatArray, h: int) -> FloatArray:
    """``np.pad(a, h, mode="reflect")`` for ``0 < h < a.size``."""
    return np.concatenate([a[h:0:-1], a, a[-2 : -h - 2 : -1]])


def mad(values: npt.ArrayLike) -> float:
    """Robust standard deviation: ``1.4826 * median(|x - median(x)|)``; 0.0 when empty.

    >>> mad([1.0, 2.0, 3.0, 4.0, 100.0])
    1.482602218505602
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return 0.0
    return MAD_TO_SIGMA * fast_median(np.abs(x - fast_median(x)))


def winsorised(values: FloatArray, scale: float) -> FloatArray | None:
    """Deviations from the median, winsorised at three robust deviations:
    ``clip(c, -3 s, 3 s)`` where ``c = values - median(values)`` and
    ``s = scale * median(|c|)`` (``scale`` 1.4826 or :data:`MAD_TO_SIGMA`); ``None`` when
    ``s`` is 0. One compiled pass where the kernels are built (the same bits).

    >>> winsorised(np.array([0.0, 1.0, 2.0, 3.0, 100.0]), 1.0).tolist()
    [-2.0, -1.0, 0.0, 1.0, 3.0]
    """
    if KERNELS is not None and values.ndim == 1:
        out = np.empty(values.shape[0])
        done = KERNELS.winsorise(values, scale, out)
        if done == 1:
            return out
        if done == 0:
            return None
    c = values - fast_median(values)
    s = scale * fast_median(np.abs(c))
    if s == 0.0:
        return None
    return fast_clip(c, -3 * s, 3 * s)


def _winsorised_residuals(y: FloatArray, window: int, scale: float) -> FloatArray | None:
    """``winsorised(y - moving_median(y, window), scale)`` of a 1-D array: in one compiled
    call where the kernels are built (the same bits, or -1: this numpy code)."""
    w = max(1, int(window) | 1)  # moving_median's window
    if KERNELS is not None and y.ndim == 1 and w > 1:
        out = np.empty(y.shape[0])
        done = KERNELS.winsorise_running(y, w, scale, out)
        if done == 1:
            return out
        if done == 0:
            return None
    return winsorised(y - moving_median(y, window), scale)


def winsorised_around(
    x: FloatArray, y: FloatArray, level: float, slope: float, scale: float
) -> FloatArray | None:
    """:func:`winsorised` of the residuals ``y - (level + slope * (x - x[0]))`` around a
    line (one compiled pass where the kernels are built: the same bits).

    >>> y = np.array([0.0, 2.0, 2.0, 2.0, 100.0])
    >>> winsorised_around(np.arange(5.0), y, 0.0, 1.0, 1.0).tolist()
    [0.0, 1.0, 0.0, -1.0, 3.0]
    """
    if KERNELS is not None and x.ndim == 1 and y.ndim == 1 and x.shape == y.shape:
        out = np.empty(y.shape[0])
        done = KERNELS.winsorise_line(x, y, level, slope, scale, out)
        if done == 1:
            return out
        if done == 0:
            return None
    return winsorised(y - (level + slope * (x - x[0])), scale)


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
        m = None if KERNELS is None else KERNELS.d2_median(y, k)
        if m is None:
            m = fast_median(np.abs(y[2 * k :] - 2.0 * y[k:-k] + y[: -2 * k]))
        best = max(best, MAD_TO_SIGMA * m / math.sqrt(6.0))
    if best == 0.0 and y.size >= 3:
        # An exactly piecewise-linear series has zero noise; that is a valid answer.
        return 0.0
    return best


def long_run_noise_scale(values: npt.ArrayLike, *, window: int = 15) -> float:
    """Noise scale that governs changes measured over many points (AR-robust).

    Under white noise a line fitted over ``L`` points has its change known to
    ``sigma * sqrt(12 / L)``; under positively autocorrelated noise the points wander
    together and the change is far less certain. For AR(1) noise this is the lag-1
    noise scale (:func:`noise_scale` at lag 1) times :func:`long_run_factor` of the
    noise's autocorrelation (:func:`noise_autocorrelation`). About ``sigma`` for
    white noise; 0.0 for fewer than 8 points.

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
    phi = noise_autocorrelation(y, window=window)
    return noise_scale(y, lags=(1,)) * long_run_factor(phi)


def long_run_factor(phi: float) -> float:
    """Long-run standard deviation of AR(1) noise over its lag-1 noise scale.

    The long-run deviation is ``s * sqrt((1 + phi) / (1 - phi))`` and the lag-1
    second differences measure ``s * sqrt((1 - phi) (3 - phi) / 3)``; 1 for white
    noise, about 2.7 for ``phi = 0.5``, 16 for ``phi = 0.9``.

    >>> long_run_factor(0.0)
    1.0
    """
    f = min(max(phi, 0.0), 0.9)
    return math.sqrt(3.0 * (1.0 + f) / ((1.0 - f) ** 2 * (3.0 - f)))


def noise_autocorrelation(values: npt.ArrayLike, *, window: int = 15) -> float:
    """The AR(1) coefficient of the noise around a trend, in ``[0, 0.9]``.

    The smaller of two estimates that fail in different ways:
    :func:`difference_autocorrelation` (the kinks of a training curve do not count;
    a strong curvature over a few points does) and the lag-1 autocorrelation of the
    residuals around a running median of a quarter of the series, winsorised at 3
    robust deviations (a strong short curvature does not count; a kink does). A
    series whose noise is louder in some places than in others has no bias here.
    0.0 for fewer than 8 points.

    >>> rng = np.random.default_rng(0)
    >>> round(noise_autocorrelation(np.cumsum(np.ones(500)) + rng.normal(0, 1, 500)), 1)
    0.0
    """
    y = np.asarray(values, dtype=np.float64)
    if y.size < 8:
        return 0.0
    return min(difference_autocorrelation(y, window=window), _residual_autocorrelation(y))


def _residual_autocorrelation(y: FloatArray) -> float:
    """Lag-1 autocorrelation of the residuals around a running median of a quarter of ``y``
    (shorter windows at the ends)."""
    w = max(5, y.size // 4) | 1
    r = _winsorised_residuals(y, w, MAD_TO_SIGMA)
    if r is None:
        return 0.0
    den = float(r.dot(r))
    phi = (float(r[1:].dot(r[:-1])) + 0.0) / den if den > 0 else 0.0
    return min(max(phi, 0.0), 0.9)


def robust_autocorrelation(values: npt.ArrayLike, *, window: int = 15) -> float:
    """:func:`noise_autocorrelation` with the residuals beyond three robust deviations left
    out rather than clipped, in ``[0, 0.9]``.

    A blow-up that ramps up over a few points leaves a run of large residuals of one sign,
    and a run of clipped residuals still correlates: the estimate would take the event for
    noise that wanders. Left out (set to zero), such a run no longer counts, while noise
    that does wander (no residual of it an outlier) is measured as before. 0.0 for fewer
    than 8 points.

    >>> rng = np.random.default_rng(1)
    >>> y = -np.log(np.exp(-np.arange(80) / 20) + 0.3) + rng.normal(0, 0.02, 80)
    >>> y[50:] -= 0.4 * np.minimum(1.0, np.arange(1, 31) / 5)  # a loss up by half in 5 steps
    >>> round(noise_autocorrelation(y), 1), round(robust_autocorrelation(y), 1)
    (0.8, 0.3)
    """
    y = np.asarray(values, dtype=np.float64)
    if y.size < 8:
        return 0.0
    d = y[1:] - y[:-1]
    e = _trimmed(d - moving_median(d, min(window, d.size) | 1))
    r = _lag1_share(e)
    by_differences = min(max(1.0 + 2.0 * r, 0.0), 0.9) if r is not None else 0.0
    c = _trimmed(y - moving_median(y, max(5, y.size // 4) | 1))
    phi = _lag1_share(c)
    around_median = min(max(phi, 0.0), 0.9) if phi is not None else 0.0
    return min(by_differences, around_median)


def _trimmed(values: FloatArray) -> FloatArray | None:
    """Deviations from the median, those beyond three robust deviations
    (:data:`MAD_TO_SIGMA`) set to zero; ``None`` when the deviations have no spread."""
    c = values - fast_median(values)
    s = MAD_TO_SIGMA * fast_median(np.abs(c))
    if s == 0.0:
        return None
    return np.where(np.abs(c) <= 3.0 * s, c, 0.0)


def _lag1_share(c: FloatArray | None) -> float | None:
    """Lag-1 autocorrelation of ``c`` (``None`` for no residuals, or none left)."""
    if c is None:
        return None
    den = float(c.dot(c))
    return (float(c[1:].dot(c[:-1])) + 0.0) / den if den > 0 else None


def difference_autocorrelation(values: npt.ArrayLike, *, window: int = 15) -> float:
    """The AR(1) coefficient of the noise, from its first differences (see above).

    Returns ``1 + 2 r`` clipped to ``[0, 0.9]``, where ``r`` is the lag-1
    autocorrelation of the first differences minus their running median over
    ``window`` points. 0.0 for fewer than 8 points.

    >>> rng = np.random.default_rng(1)
    >>> round(difference_autocorrelation(np.linspace(0, 5, 3000) + rng.normal(0, 1, 3000)), 1)
    0.1
    """
    y = np.asarray(values, dtype=np.float64)
    if y.size < 8:
        return 0.0
    d = y[1:] - y[:-1]  # np.diff(y), without its per-call checks
    e = _winsorised_residuals(d, min(window, d.size) | 1, MAD_TO_SIGMA)
    if e is None:
        return 0.0
    den = float(e.dot(e))
    r = (float(e[1:].dot(e[:-1])) + 0.0) / den if den > 0 else -0.5
    return min(max(1.0 + 2.0 * r, 0.0), 0.9)


def local_noise(values: npt.ArrayLike, window: int) -> FloatArray:
    """Noise scale around each point: a noise model that follows the level.

    The median absolute lag-1 second difference in a centred window of ``window``
    points (odd, shrunk to the series), in normal units and divided by ``sqrt(6)``
    (as :func:`noise_scale` at lag 1). A locally linear trend cancels out, a jump or
    a spike touches two or three differences only, so the median ignores it. Zeros
    for fewer than three points.

    >>> rng = np.random.default_rng(0)
    >>> loud = np.r_[np.full(200, 0.01), np.full(200, 0.1)]
    >>> y = np.linspace(0, 1, 400) + rng.normal(0, 1, 400) * loud
    >>> s = local_noise(y, 21)
    >>> round(float(s[100]), 2), round(float(s[300]), 2)
    (0.01, 0.1)
    """
    y = np.asarray(values, dtype=np.float64)
    n = int(y.size)
    if n < 3:
        return np.zeros(n)
    w = max(3, min(int(window), n if n % 2 else n - 1)) | 1
    if KERNELS is not None:  # the same arithmetic in one call, or False where numpy decides
        noise = np.empty(n)
        if KERNELS.local_noise(y, w, noise):
            return noise
    d2 = y[2:] - 2.0 * y[1:-1] + y[:-2]
    d2 = np.concatenate([d2[:1], d2, d2[-1:]])
    h = w // 2
    spread = _window_medians(_reflect(np.abs(d2), h), w)
    return np.asarray(MAD_TO_SIGMA * spread / math.sqrt(6.0), dtype=np.float64)


def regime_changes(values: npt.ArrayLike, *, least: float = 1.25) -> IntArray:
    """Positions where a positive schedule (a learning rate) starts a new regime.

    A change by a factor of at least ``least`` that is five times larger (in log
    terms) than the typical change of the seven around it: a step down or up, a
    restart, the start and the end of a spike; a change to or from zero. Also a rise by
    that factor right after three falls: the warm restart of a cosine schedule, whose
    last steps towards zero fall by as much in log terms as the restart rises. A smooth
    warm-up or cosine decay, which changes a little every step, has none. Returns
    the first position of each new regime.

    >>> regime_changes([1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.0, 0.0]).tolist()
    [3, 6]
    >>> regime_changes([1.0, 1.0, 1.0, 100.0, 1.0, 1.0, 1.0]).tolist()
    [3, 4]
    >>> regime_changes(np.cos(np.linspace(0, 1.5, 50)) + 0.01).tolist()
    []
    >>> cosine = 0.5 * (1 + np.cos(np.linspace(0, np.pi, 16, endpoint=False)))
    >>> regime_changes(np.concatenate((cosine, 0.3 * cosine, 0.09 * cosine))).tolist()
    [16, 32]
    """
    v = np.asarray(values, dtype=np.float64)
    if v.size < 2:
        return np.zeros(0, dtype=np.int64)
    zero = v <= 0
    logv = np.log(np.where(zero, 1.0, v))
    d = np.abs(logv[1:] - logv[:-1])  # np.diff, without its per-call checks
    to_zero = zero[1:] != zero[:-1]
    d = np.where(to_zero | zero[1:] | zero[:-1], 0.0, d)
    # the medians of seven around each change, the ends repeated (np.pad's "edge" mode)
    around = _window_medians(np.concatenate((d[:1], d[:1], d[:1], d, d[-1:], d[-1:], d[-1:])), 7)
    big = (d >= math.log(least)) & (d >= 5.0 * around)
    big |= _restarts(logv, zero, least)
    return np.asarray(np.flatnonzero(big | to_zero) + 1, dtype=np.int64)


def _restarts(logv: FloatArray, zero: npt.NDArray[np.bool_], least: float) -> npt.NDArray[np.bool_]:
    """Per change of ``logv``: a rise by ``least`` or more right after three falls (a warm
    restart of a decaying schedule, whose last falls may be as large as the rise)."""
    step = logv[1:] - logv[:-1]
    valid = ~(zero[1:] | zero[:-1])
    fell = (step < 0) & valid
    out = (step >= math.log(least)) & valid
    out[:3] = False
    out[3:] &= fell[2:-1] & fell[1:-2] & fell[:-3]
    return out


def trailing_median(values: npt.ArrayLike, window: int) -> FloatArray:
    """Median of the ``window`` values before each position (fewer at the start; the
    first position gets its own value).

    >>> trailing_median([1.0, 5.0, 3.0, 2.0, 8.0], 2).tolist()
    [1.0, 1.0, 3.0, 4.0, 2.5]
    """
    y = np.asarray(values, dtype=np.float64)
    n = int(y.size)
    w = max(1, int(window))
    out = np.empty(n)
    if n == 0:
        return out
    if KERNELS is not None and y.ndim == 1 and KERNELS.trailing_median(y, w, out):
        return out  # the same medians in one call (or False: numpy decides)
    out[0] = y[0]
    # the first windows are shorter: the medians of the prefixes
    k = min(w, n)
    if k > 1:
        out[1:k] = _prefix_medians(y[: k - 1], 1)
    if n > w:
        out[w:] = _window_medians(y[:-1], w)
    return out


def local_line_residuals(
    x: FloatArray, y: FloatArray, fit_to: FloatArray, phase: IntArray, h: int
) -> FloatArray:
    """``y`` minus the least-squares line through ``fit_to`` at the ``2 h + 1`` values
    around each position (shrunk at the ends and where ``phase`` changes, so that no
    line reaches across a change of phase). At least one value.

    >>> x = np.arange(6.0)
    >>> y = np.array([0.0, 1.0, 2.0, 9.0, 4.0, 5.0])
    >>> one = np.zeros(6, dtype=np.int64)
    >>> (local_line_residuals(x, y, y, one, 1).round(6) + 0.0).tolist()
    [0.0, 0.0, -2.0, 4.0, -2.0, 0.0]
    >>> (local_line_residuals(x, y, y, np.array([0, 0, 0, 1, 1, 1]), 1).round(6) + 0.0).tolist()
    [0.0, 0.0, 0.0, 0.0, -2.0, 0.0]
    """
    xc = x - fast_mean(x)
    scale = fast_ptp(xc) or 1.0
    xc = xc / scale
    if KERNELS is not None:  # the same cumulative sums and arithmetic, value by value
        out = np.empty(y.size)
        if KERNELS.local_lines(xc, y, fit_to, phase, int(h), out):
            return out
    m = y.size
    idx = np.arange(m)
    starts = np.flatnonzero(np.concatenate(([True], phase[1:] != phase[:-1])))
    first = starts[np.searchsorted(starts, idx, side="right") - 1]
    stops = np.concatenate((starts[1:], np.array([m], dtype=starts.dtype)))
    last = stops[np.searchsorted(starts, idx, side="right") - 1]
    lo = np.maximum(idx - h, first)
    hi = np.minimum(idx + h + 1, last)
    pre = np.zeros((5, m + 1))
    pre[0, 1:] = np.arange(1, m + 1)
    np.cumsum(xc, out=pre[1, 1:])
    np.cumsum(fit_to, out=pre[2, 1:])
    np.cumsum(xc * xc, out=pre[3, 1:])
    np.cumsum(xc * fit_to, out=pre[4, 1:])
    n, sx, sy, sxx, sxy = pre[:, hi] - pre[:, lo]
    cxx = sxx - sx * sx / n
    slope = np.where(cxx > 1e-15, (sxy - sx * sy / n) / np.where(cxx > 1e-15, cxx, 1.0), 0.0)
    fit = sy / n + slope * (xc - sx / n)
    return np.asarray(y - fit, dtype=np.float64)


def equal_runs(values: npt.ArrayLike, min_length: int) -> tuple[IntArray, IntArray]:
    """Runs of exactly equal consecutive values: ``(starts, stops)``, each run ``[start, stop)``.

    Only runs of at least ``min_length`` (>= 2) values are returned. A frozen network, a
    learning rate of zero or a model that predicts one class logs the very same value
    again and again; no noise estimate is needed to see that.

    >>> equal_runs([1.0, 2.0, 2.0, 2.0, 3.0, 4.0, 4.0], 2)
    (array([1, 5]), array([4, 7]))
    """
    y = np.asarray(values, dtype=np.float64)
    k = max(2, int(min_length))
    if y.size < k:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    found = None if KERNELS is None else KERNELS.equal_runs(y, k)
    if found is not None:  # the same runs, found in one pass
        return np.asarray(found[0], dtype=np.int64), np.asarray(found[1], dtype=np.int64)
    same = (y[1:] == y[:-1]).astype(np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], same, [0]])))
    starts = edges[::2].astype(np.int64)
    stops = edges[1::2].astype(np.int64) + 1
    keep = stops - starts >= k
    return starts[keep], stops[keep]


def block_spread(x: npt.ArrayLike, values: npt.ArrayLike, bins: Bins) -> FloatArray:
    """Spread of the points inside each block of ``bins`` around the line through the
    block medians.

    ``sqrt(pi / 2) * mean(|y - interpolated block medians|)`` per block (a normal
    standard deviation; vectorised over the equal-size blocks): the trend at the
    scale of blocks is not spread, swings faster than a block are. 0.0 for blocks of
    one point.

    >>> x = np.arange(40.0)
    >>> y = x / 10 + np.r_[np.zeros(20), 0.5 * (-1.0) ** np.arange(20)]
    >>> block_spread(x, y, bin_reduce(x, y, 4)).round(2).tolist()
    [0.0, 0.0, 0.63, 0.63]
    """
    xa = np.asarray(x, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    m = len(bins)
    out = np.zeros(m)
    if m == 0 or m == y.size:
        return out
    # the same arithmetic in one compiled call, or False where numpy decides
    if (
        KERNELS is not None
        and _SAME_SPREAD
        and KERNELS.block_spread(xa, y, bins.x, bins.y, bins.count, out)
    ):
        return out
    return _block_spread(xa, y, bins)


def _block_spread(xa: FloatArray, y: FloatArray, bins: Bins) -> FloatArray:
    """:func:`block_spread` of ``len(bins) >= 1`` blocks of more points than blocks, in numpy."""
    m = len(bins)
    out = np.zeros(m)
    line = np.interp(xa, bins.x, bins.y)
    if m >= 2:  # beyond the first and last block centres: their lines, extended
        for a, b, side in ((0, 1, xa < bins.x[0]), (m - 2, m - 1, xa > bins.x[-1])):
            dx = float(bins.x[b] - bins.x[a])
            slope = float(bins.y[b] - bins.y[a]) / dx if dx > 0 else 0.0
            line[side] = bins.y[a] + slope * (xa[side] - bins.x[a])
    r = np.abs(y - line)
    size = int(bins.count[0])
    full = int(np.count_nonzero(bins.count == size))
    out[:full] = _row_means(r[: full * size].reshape(full, size))
    if full < m:
        out[full:] = float(r[full * size :].mean())
    return np.asarray(out * math.sqrt(math.pi / 2.0), dtype=np.float64)


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
    if _many_distinct(y):  # the test below, without the sort (most curves)
        return 0.0
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


def _many_distinct(y: FloatArray) -> bool:
    """Whether more than half of the finite values of ``y`` are distinct (in one compiled
    call where the kernels are built; else ``False``, and :func:`quantum` counts them)."""
    if KERNELS is None or y.ndim != 1 or not hasattr(KERNELS, "many_distinct"):
        return False
    return KERNELS.many_distinct(y) is True


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
    xb = _row_means(xa[:head].reshape(full, size))
    yb = bin_medians(ya, max_bins)
    starts = np.arange(0, head, size, dtype=np.int64)
    counts = np.full(full, size, dtype=np.int64)
    if head < n:
        xb = np.append(xb, xa[head:].mean())
        starts = np.append(starts, head)
        counts = np.append(counts, n - head)
    return Bins(xb, yb, starts, counts)


def bin_medians(y: FloatArray, max_bins: int) -> FloatArray:
    """The ``y`` of :func:`bin_reduce` alone (the medians of its blocks of ``y``), for a
    caller that knows the blocks' abscissae already.

    >>> bin_medians(np.arange(10.0), 4).tolist()
    [1.0, 4.0, 7.0, 9.0]
    """
    n = int(y.size)
    if n <= max_bins:
        copy: FloatArray = y.copy()
        return copy
    size = -(-n // max_bins)
    full = n // size
    head = full * size
    yb = _row_medians(y[:head].reshape(full, size))
    if head < n:
        yb = np.append(yb, np.median(y[head:]))
    return yb


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
    found = _centred(xa, ya)
    if found is not None:
        xm, ym, dx, dy = found
    else:
        xm = fast_mean(xa)
        ym = fast_mean(ya)
        dx = xa - xm
        dy = ya - ym
    sxx = float(dx.dot(dx))
    slope = (float(dx.dot(dy)) + 0.0) / sxx if sxx > 0 else 0.0
    resid = dy - slope * dx
    return Line(slope, ym - slope * xm, float(resid.dot(resid)), n)


def fit_slope(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """``fit_line(x, y).slope`` (the same arithmetic, so the same bits), without the
    residuals and intercept that :func:`fit_line` computes too.

    >>> fit_slope([0.0, 1.0, 2.0], [1.0, 3.0, 5.0])
    2.0
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if xa.size == 0:
        return 0.0
    # ndarray.dot of two contiguous vectors: the very cblas_ddot call ``@`` ends in,
    # without the matmul ufunc's per-call overhead (here and elsewhere); ``@`` adds the
    # result to 0.0 (a -0.0 comes out +0.0), so a dot of two different vectors does too
    found = _centred(xa, ya)
    if found is not None:
        dx, dy = found[2], found[3]
        sxx = float(dx.dot(dx))
        return (float(dx.dot(dy)) + 0.0) / sxx if sxx > 0 else 0.0
    dx = xa - fast_mean(xa)
    sxx = float(dx.dot(dx))
    return (float(dx.dot(ya - fast_mean(ya))) + 0.0) / sxx if sxx > 0 else 0.0


def _centred(xa: FloatArray, ya: FloatArray) -> tuple[float, float, FloatArray, FloatArray] | None:
    """``(fast_mean(xa), fast_mean(ya), xa - that, ya - that)`` of two vectors of one length
    in one compiled call (fresh arrays, as the subtractions make), or ``None`` where the
    kernels are not built or do not add as numpy does, or where a mean is numpy's to take."""
    if KERNELS is None or not _SAME_SUMS:
        return None
    dx, dy = np.empty(xa.shape[0] if xa.ndim == 1 else 0), np.empty(ya.size)
    means = KERNELS.centred(xa, ya, dx, dy)
    return None if means is None else (means[0], means[1], dx, dy)


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
    return fast_median((ya[h : 2 * h] - ya[:h])[ok] / dx[ok])


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
    if KERNELS is not None:  # the same medians in one call, or False where numpy decides
        medians = np.empty(n)
        if KERNELS.moving_median(y, w, medians):
            return medians
    h = w // 2
    if n < w:
        out = [fast_median(y[max(0, i - h) : i + h + 1]) for i in range(n)]
        return np.asarray(out, dtype=np.float64)
    core = _window_medians(y, w)
    left = _prefix_medians(y[: 2 * h], h + 1)
    right = _prefix_medians(y[n - 2 * h :][::-1], h + 1)[::-1]
    return np.concatenate([left, core, right]).astype(np.float64, copy=False)


def _prefix_medians(y: FloatArray, first: int) -> FloatArray:
    """Medians of ``y[:first]``, ``y[:first + 1]``, ... up to ``y`` itself, vectorised: each
    prefix sorted in a row of a NaN-padded matrix."""
    k = np.arange(first, y.size + 1)
    if k.size == 0:
        return np.zeros(0)
    if KERNELS is not None and y.dtype == np.float64 and y.ndim == 1:
        medians = np.empty(k.size)
        if KERNELS.prefix_medians(y, first, medians):
            return medians
    if y.size <= _SHORT_PREFIXES and y.dtype == np.float64:
        # short prefixes: one sorted list grown a value at a time, the same arithmetic
        # (no NaN, and no zero whose sign could depend on how a sort orders equal zeros)
        vals = y.tolist()
        total = sum(vals)
        if total == total and 0.0 not in vals:
            v = sorted(vals[:first])
            out = [0.5 * (v[(first - 1) // 2] + v[first // 2])]
            for size in range(first + 1, len(vals) + 1):
                bisect.insort(v, vals[size - 1])
                out.append(0.5 * (v[(size - 1) // 2] + v[size // 2]))
            if math.inf not in out and -math.inf not in out:  # else numpy's overflow warning
                return np.asarray(out, dtype=np.float64)
    rows = np.where(np.arange(y.size)[None, :] < k[:, None], y[None, :], np.nan)
    rows.sort(axis=1)  # NaN sorts last
    lo = np.take_along_axis(rows, ((k - 1) // 2)[:, None], axis=1)[:, 0]
    hi = np.take_along_axis(rows, (k // 2)[:, None], axis=1)[:, 0]
    return np.asarray(0.5 * (lo + hi), dtype=np.float64)


def monotone_fit(values: npt.ArrayLike, *, increasing: bool = True) -> FloatArray:
    """Least-squares monotone (isotonic) fit of ``values``, by pooling adjacent violators.

    Where the values go the wrong way, neighbours are pooled into their mean, so a
    noisy flat stretch becomes one level and a converging curve keeps its shape: the
    improvement still to come from each point is read off it without the noise of
    single points.

    >>> monotone_fit([1.0, 3.0, 2.0, 4.0]).tolist()
    [1.0, 2.5, 2.5, 4.0]
    >>> monotone_fit([3.0, 1.0, 2.0], increasing=False).tolist()
    [3.0, 1.5, 1.5]
    """
    y = np.asarray(values, dtype=np.float64)
    if y.size < 2:
        return np.array(y, dtype=np.float64)
    pava = _pava()
    if pava is not None:
        # what scipy.optimize.isotonic_regression does around it (equal weights), with
        # the same arrays made without np.full's and np.ones_like's Python layers
        x = (y if increasing else y[::-1]).copy()  # C-ordered float64, as scipy's
        blocks = np.empty(y.size + 1, dtype=np.intp)
        blocks.fill(-1)
        weights = np.empty(y.size)
        weights.fill(1.0)
        fitted = pava(x, weights, blocks)[0]
        return fitted if increasing else fitted[::-1]
    z = y if increasing else -y
    means: list[float] = []
    sizes: list[int] = []
    for v in z.tolist():
        means.append(v)
        sizes.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            size = sizes[-2] + sizes[-1]
            mean = (means[-2] * sizes[-2] + means[-1] * sizes[-1]) / size
            means[-2:] = [mean]
            sizes[-2:] = [size]
    out = np.repeat(np.asarray(means), np.asarray(sizes))
    return np.asarray(out if increasing else -out, dtype=np.float64)


def _prefix(x: FloatArray, y: FloatArray, w: FloatArray | None = None) -> FloatArray:
    """Cumulative (weighted) sums of 1, x, y, x², xy, y² with a leading zero row (6, n+1)."""
    n = x.size
    wa = np.ones(n) if w is None else w
    out = np.zeros((6, n + 1))
    np.cumsum(wa, out=out[0, 1:])
    np.cumsum(wa * x, out=out[1, 1:])
    np.cumsum(wa * y, out=out[2, 1:])
    np.cumsum(wa * x * x, out=out[3, 1:])
    np.cumsum(wa * x * y, out=out[4, 1:])
    np.cumsum(wa * y * y, out=out[5, 1:])
    return out


def _sse_of(sums: FloatArray) -> FloatArray:
    """Residual sums of squares of least-squares lines from their (weighted) sums
    ``(n, sx, sy, sxx, sxy, syy)`` (rows of ``sums``, one column per line)."""
    n, sx, sy, sxx, sxy, syy = sums
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.where(n > 0, n, np.inf)
        cxx = sxx - sx * sx / n
        cxy = sxy - sx * sy / n
        cyy = syy - sy * sy / n
        fit = np.where(cxx > 1e-300, cxy * cxy / np.where(cxx > 1e-300, cxx, 1.0), 0.0)
        sse = np.maximum(cyy - fit, 0.0)
    return np.asarray(np.where(np.isfinite(sse), sse, np.inf), dtype=np.float64)


def segment_sse(prefix: FloatArray, i: npt.ArrayLike, j: npt.ArrayLike) -> FloatArray:
    """Residual sum of squares of the (weighted) least-squares line on points ``[i, j)``.

    ``prefix`` comes from the cumulative sums used by :func:`binary_segmentation`;
    ``i`` and ``j`` may be arrays (broadcast).
    """
    ia, ja = np.broadcast_arrays(np.atleast_1d(np.asarray(i)), np.atleast_1d(np.asarray(j)))
    s = prefix[:, ja] - prefix[:, ia]
    n, sx, sy, sxx, sxy, syy = s
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.where(n > 0, n, np.inf)
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
    weights: npt.ArrayLike | None = None,
    forced: tuple[int, ...] = (),
) -> list[int]:
    """Piecewise-linear change points by binary segmentation.

    A segment is split at the position that most reduces the residual sum of squares
    of independent least-squares lines on each side, when that reduction exceeds
    ``penalty``; the largest reductions are taken first, up to ``max_segments``
    segments; then every break is moved to its best place between its neighbours and
    new splits are looked for again (twice at most: a first split in the middle of a
    short feature is moved to one of its edges). With ``weights`` (one per point,
    typically the inverse squared local
    noise) the squares are weighted, so ``penalty`` is in units of that noise. The
    ``forced`` breakpoints are taken first, whatever they gain. Each split costs
    O(segment length) thanks to cumulative sums, so the whole search is O(n *
    segments). Returns the sorted interior breakpoints (positions where a new
    segment starts).

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
    fixed = sorted({int(b) for b in forced if 0 < int(b) < n})
    if (n < 2 * min_size and not fixed) or max_segments < 2:
        return []
    # Centre and scale for numerical stability of the cumulative sums.
    xs = (xa - fast_mean(xa)) / (fast_ptp(xa) or 1.0)
    yc = ya - fast_median(ya)
    scale = float(np.abs(yc).max()) or 1.0
    yc = yc / scale
    wa = None
    if weights is not None:
        wa = np.asarray(weights, dtype=np.float64)
        wscale = fast_median(wa) or 1.0
        wa = wa / wscale
        pen = penalty / wscale / (scale * scale)
    else:
        pen = penalty / (scale * scale)
    if KERNELS is not None and min_size >= 1:  # the same search, compiled
        return KERNELS.segment(xs, yc, wa, pen, min_size, max_segments, tuple(fixed))
    return _Segmenter(_prefix(xs, yc, wa), min_size, max_segments, pen).search(fixed)


class _Segmenter:
    """The numpy search of :func:`binary_segmentation` (the compiled kernel does the same).

    The line on ``[i, k)`` does not depend on where the piece being split ends, nor the
    line on ``[k, j)`` on where it starts: the squares of every line from a break (to
    every end) and to it (from every start) are computed once, in one pass, and shared
    by the pieces that start or end there; the best split of each piece is memoised.
    """

    def __init__(self, prefix: FloatArray, min_size: int, max_segments: int, pen: float) -> None:
        self.prefix = prefix
        self.n = int(prefix.shape[1]) - 1
        self.min_size = min_size
        self.max_segments = max_segments
        self.pen = pen
        self.cache: dict[tuple[int, int], tuple[float, int]] = {}
        self.at: dict[int, tuple[FloatArray, FloatArray]] = {}

    def lines_at(self, k: int) -> tuple[FloatArray, FloatArray]:
        """``(a, b)``: ``a[c]`` squares of the line on ``[k, k + c)``; ``b[i]``, on ``[i, k)``."""
        if k not in self.at:
            prefix, n = self.prefix, self.n
            here = prefix[:, k : k + 1]
            sse = _sse_of(np.concatenate([prefix[:, k:] - here, here - prefix[:, : k + 1]], axis=1))
            self.at[k] = (sse[: n + 1 - k], sse[n + 1 - k :])
        return self.at[k]

    def best_split(self, i: int, j: int) -> tuple[float, int]:
        """``(gain, position)`` of the best split of ``[i, j)``; ``(0, -1)`` when none."""
        if (i, j) not in self.cache:
            self.cache[(i, j)] = self._best(i, j)
        return self.cache[(i, j)]

    def _best(self, i: int, j: int) -> tuple[float, int]:
        min_size = self.min_size
        if j - i < 2 * min_size:
            return (0.0, -1)
        lo, hi = i + min_size, j - min_size + 1
        left = self.lines_at(i)[0]
        gain = left[j - i] - left[lo - i : hi - i] - self.lines_at(j)[1][lo:hi]
        finite = np.isfinite(gain)
        if not finite.all():
            if not finite.any():
                return (0.0, -1)
            gain = np.where(finite, gain, -np.inf)
        b = int(gain.argmax())
        return (float(gain[b]), lo + b)

    def grow(self, breaks: list[int]) -> list[int]:
        """``breaks`` plus the greedy splits that gain more than the penalty, largest first."""
        edges = [0, *sorted(breaks), self.n]
        candidates = [(*self.best_split(a, b), a, b) for a, b in itertools.pairwise(edges)]
        out = list(breaks)
        while candidates and len(out) + 1 < self.max_segments:
            candidates.sort(key=lambda c: (-c[0], c[1]))
            g, k, i, j = candidates.pop(0)
            if k < 0 or not g > self.pen:
                break
            out.append(k)
            candidates += [(*self.best_split(a, b), a, b) for a, b in ((i, k), (k, j))]
        return sorted(out)

    def search(self, fixed: list[int]) -> list[int]:
        """The sorted interior breakpoints, ``fixed`` ones first."""
        breaks = self.grow(list(fixed))
        # Greedy splits can land inside a feature (the middle of a stall): move every free
        # break to its best place between its neighbours, then look for new splits again.
        for _ in range(2):
            moved = False
            for idx, k in enumerate(breaks):
                if k in fixed:
                    continue
                a = breaks[idx - 1] if idx else 0
                b = breaks[idx + 1] if idx + 1 < len(breaks) else self.n
                best = self.best_split(a, b)[1]
                if best >= 0 and best != k:
                    breaks[idx] = best
                    moved = True
            if not moved:
                break
            breaks = self.grow(breaks)
        return sorted(set(breaks))


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
    r = y - fast_mean(y)
    den = float(r.dot(r))
    if not den > 0 or not math.isfinite(den):
        return out
    for k in range(lags + 1):
        out[k] = (float(r[k:].dot(r[: n - k])) + 0.0) / den
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
    acf = _rank_autocorrelation(resid.argsort(kind="stable"), max_lag + 1)  # np.argsort's
    if acf.size < 4:
        return (0, 0.0)
    a = acf.tolist()  # Python floats: the same comparisons without numpy scalars
    low = a[1]
    for k in range(2, min(max_lag, len(a) - 2) + 1):
        if a[k - 1] < low:  # min(low, a[k - 1]) without the call
            low = a[k - 1]
        peak = a[k] >= a[k - 1] and a[k] >= a[k + 1] and a[k] > 0
        if peak and a[k] - low >= prominence:
            return (k, a[k])
    return (0, 0.0)


def _rank_autocorrelation(order: IntArray, max_lag: int) -> FloatArray:
    """``autocorrelation(np.argsort(order), max_lag)`` of a permutation ``order`` (an
    argsort): the autocorrelation of the ranks (exact sums, so the kernel's bits)."""
    n = int(order.size)
    if KERNELS is not None and n >= 2:
        out = np.empty(max(0, min(int(max_lag), n - 1)) + 1)
        if KERNELS.rank_autocorrelation(order, out):
            return out
    return autocorrelation(np.argsort(order), max_lag)


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


_SAME_SPREAD = _same_spread(KERNELS)
"""The kernels' :func:`block_spread` is numpy's to the bit here (checked once, at import)."""
