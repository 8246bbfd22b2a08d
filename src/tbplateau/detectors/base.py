"""The detector contract and the shared view of a series the detectors decide on.

Contract of every detector class:

- every parameter is a keyword-only argument of ``__init__``, stored under the same
  name and validated there (:class:`~tbplateau.errors.InvalidParameterError` naming
  the value);
- ``detect(series, goal, *, events=()) -> list[Finding]`` is pure: no state, never raises on odd
  data (empty, NaN, inf, huge values, uneven or repeated steps), findings sorted by
  onset, onsets are steps of the series, confidences in [0, 1], same input gives the
  same output;
- ``start(goal)`` then ``update(step, value) -> Finding | None`` is the streaming form
  (for ``tbplateau watch``). It keeps the points and re-runs ``detect`` as the series
  grows (every point while short, then every 5 % of growth, so the total cost stays
  O(n log n)-ish). A finding is returned once, when first noticed, with
  ``noticed_step`` set; ``flush()`` re-runs now and returns what is new, and
  ``findings`` is exactly ``detect`` on everything seen, so the streaming and batch
  forms agree on the same data.

:func:`prepare` computes, once per (series, goal), what every detector needs: the
finite points, the *working* values (oriented so that larger is better; the log of
a positive loss, since losses move on a log scale), a reduction to at most
:data:`MAX_BINS` blocks (medians, so a spike or a 1e30 does not move a block), a
noise model that follows the level (the local noise of every block, and one factor
for autocorrelated noise), the runs of exactly equal values, and a piecewise-linear
segmentation of the blocks in units of that local noise: cut first at the runs of
equal values, then wherever a break (a level shift, a jump, a kink) stands out of
the noise around it. Each segment carries its own noise and the jump that leads
into it, so that every detector judges a piece with the noise of that piece.
"""

from __future__ import annotations

import abc
import bisect
import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import ClassVar, TypeVar

import numpy as np
import numpy.typing as npt

from tbplateau import stats
from tbplateau.errors import InvalidParameterError
from tbplateau.findings import Finding, FindingKind, Goal, check_goal
from tbplateau.series import Series
from tbplateau.stats import (
    Bins,
    bin_reduce,
    binary_segmentation,
    block_spread,
    equal_runs,
    fast_clip,
    fast_mean,
    fast_median,
    fast_ptp,
    fast_quantile,
    local_noise,
    long_run_factor,
    moving_median,
    noise_autocorrelation,
    noise_scale,
    quantum,
    robust_autocorrelation,
    winsorised,
    winsorised_around,
)

__all__ = [
    "MAX_BINS",
    "Detector",
    "Levels",
    "Prepared",
    "Segment",
    "check_fraction",
    "check_positive",
    "fitted_path",
    "forget_prepared",
    "is_jump",
    "jump_point",
    "levels",
    "onset_tolerance",
    "prepare",
    "stretch_kappa",
]

MAX_BINS = 200
"""Decisions are taken on at most this many blocks; onsets are exact to 0.5 % of a series."""

SEGMENT_PENALTY = 6.0
"""Split penalty of the segmentation, in units of ``noise² · log(blocks)``."""

SEGMENT_PHI_BLOCKS = 12
"""A segment of at least this many blocks has its noise's autocorrelation measured on
its own residuals (a flat piece of white noise after a curved start is judged white)."""

LIST_POINTS = 4096
"""Most positions of repeated values that :class:`Prepared` keeps as a Python list."""

MIN_RUN = 4
"""Fewest exactly equal consecutive values that make a run of equal values."""

RUN_FRACTION = 0.1
LONG_RUN = 8
"""Runs of equal values this long (:data:`RUN_FRACTION` of the series, and at least
:data:`LONG_RUN` values) are cut out as segments of their own (shorter ones are what
a quantised metric does as it moves)."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def check_positive(name: str, value: float, *, integer: bool = False) -> None:
    """Raise :class:`InvalidParameterError` unless ``value`` is a positive finite number."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = ok and math.isfinite(value) and value > 0
    if integer:
        ok = ok and float(value).is_integer()
    if not ok:
        what = "a positive integer" if integer else "a positive finite number"
        raise InvalidParameterError(f"{name} must be {what}, not {value!r}")


def check_fraction(name: str, value: float) -> None:
    """Raise unless ``0 <= value < 1``."""
    if not (isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1):
        raise InvalidParameterError(f"{name} must be in [0, 1), not {value!r}")


def onset_tolerance(points: int) -> int:
    """Positions within which two onsets count as the same: ``max(2, 5 % of points)``."""
    return max(2, round(0.05 * points))


@dataclass(frozen=True)
class Segment:
    """A piece of the segmentation: blocks ``[b0, b1)``, finite points ``[p0, p1)``.

    ``level0``/``level1`` are the fitted working values at its two ends (so
    ``change = level1 - level0`` is the progress made: positive is better), ``z`` the
    change in units of the segment's own noise ``noise`` (the median local block
    noise inside it), ``jump`` the step into it from the previous segment (0 for the
    first; negative is worse): the smaller of the step between the two lines
    halfway between their blocks and the step between those two blocks less what
    the slopes explain, or 0 when they disagree in sign.
    """

    b0: int
    b1: int
    p0: int
    p1: int
    level0: float
    level1: float
    change: float
    z: float
    noise: float = 0.0
    jump: float = 0.0
    kappa: float = 1.0
    """The long-run factor of this segment's own noise (never above the series')."""

    @property
    def points(self) -> int:
        return self.p1 - self.p0


@dataclass(frozen=True, eq=False)
class _Blocks:
    """What every view of one (series, goal) holds, events or not: the working values, their
    blocks and the noise model (the fields :class:`Levels` and :class:`Prepared` share)."""

    series: Series
    goal: Goal
    pos: IntArray
    """Positions (in the series) of the finite points."""
    x: FloatArray
    """Steps of the finite points, as floats."""
    y: FloatArray
    """Working values of the finite points: larger is better, log of positive losses."""
    log_scale: bool
    bins: Bins
    sigma: float
    """Noise scale of ``bins.y`` (never 0: a tiny floor for exact lines)."""
    exact_sigma: bool
    """True when the reduced series has no noise at all (piecewise-exact)."""
    local: FloatArray
    """Noise of every block (:func:`~tbplateau.stats.local_noise`, floored like
    ``sigma``): the noise model that follows the level."""
    smooth: FloatArray
    """Running median of five blocks: levels that two outlying blocks do not move."""
    spread: FloatArray
    """Spread of the points inside every block around the line through the block
    medians (:func:`~tbplateau.stats.block_spread`; 0 for blocks of one point)."""
    runs: tuple[tuple[int, int], ...]
    """Runs of at least :data:`MIN_RUN` exactly equal finite values, as finite points
    ``[p0, p1)``."""
    robust: FloatArray
    """The block values with every block pulled back to within four local noise units
    of ``smooth`` (at most eight typical ones: spikes in a cluster raise the local
    noise), so that an outlying block, a spike, moves no fitted line; the first and
    last two blocks as they are (the running median lags there)."""

    @property
    def n(self) -> int:
        return int(self.y.shape[0])


_BLOCK_NAMES = tuple(f.name for f in fields(_Blocks))
"""The fields :func:`prepare` copies from the :class:`Levels` it segments."""

_Made = TypeVar("_Made", bound=_Blocks)


def _made(cls: type[_Made], values: dict[str, object]) -> _Made:
    """``cls(**values)`` of :class:`Levels` or :class:`Prepared`, ``values`` holding every
    field in order, without the frozen dataclass's ``__init__`` (an ``object.__setattr__``
    per field; neither has a ``__post_init__``): the same object, a fifth of the cost."""
    obj = object.__new__(cls)
    obj.__dict__.update(values)
    return obj


@dataclass(frozen=True, eq=False)
class Prepared(_Blocks):
    """What the detectors share about one series (see the module docstring): the blocks and
    noise model of :class:`_Blocks`, and the segmentation cut at the run's events."""

    segments: tuple[Segment, ...]
    sigma_long: float
    """Noise scale of changes fitted over many blocks (see
    :func:`~tbplateau.stats.long_run_noise_scale`): ``sigma`` for white noise, larger
    for autocorrelated noise; never below ``sigma``."""
    kappa: float
    """How much more uncertain a change fitted over many blocks is than white noise of
    the same local scale (>= 1; :func:`~tbplateau.stats.long_run_factor` of the
    noise's autocorrelation)."""
    events: tuple[int, ...]
    """Blocks where an event of the run (a learning-rate change) starts a new regime."""

    def noise(self, b0: int, b1: int) -> float:
        """Mean local noise of blocks ``[b0, b1)`` (from cumulative sums: O(1))."""
        csum: list[float] | None = self.__dict__.get("_csum")
        if csum is None:
            csum = self._local_sum
        blocks = b1 - b0
        return (csum[b1] - csum[b0]) / (blocks if blocks > 1 else 1)  # max(), less the call

    @property
    def _local_sum(self) -> list[float]:
        """Cumulative sums of ``local`` from 0.0 (memoised), as Python floats: the same
        doubles, read and subtracted without numpy's scalars."""
        cached: list[float] | None = self.__dict__.get("_csum")
        if cached is None:
            cached = np.concatenate(([0.0], self.local.cumsum())).tolist()
            object.__setattr__(self, "_csum", cached)
        return cached

    def step_at(self, point: int) -> int:
        """Step of finite point ``point`` (clipped into the series)."""
        return int(self.series.steps[self.pos[min(max(point, 0), self.n - 1)]])

    def raw_range(self, p0: int, p1: int) -> FloatArray:
        """Raw (unoriented) finite values of finite points ``[p0, p1)`` (a fresh array)."""
        values = self.series.values
        if self.pos.shape[0] == values.shape[0]:
            # every point finite (the usual case): ``pos`` is 0, 1, ..., n - 1, and the
            # points are the values at the same slice, copied without the gather
            return np.asarray(values[p0:p1].copy(), dtype=np.float64)
        return np.asarray(values[self.pos[p0:p1]], dtype=np.float64)

    def is_constant(self, p0: int, p1: int) -> bool:
        """Whether finite points ``[p0, p1)`` (slice bounds) are two or more equal raw
        values: ``np.ptp(raw_range(p0, p1)) == 0``, in O(log n) from the positions where a
        raw value repeats the one before (finite values: equal exactly when each of the
        ``hi - lo - 1`` neighbours in the stretch repeats; none on most noisy curves)."""
        n = self.n
        lo, hi = (p0, p1) if 0 <= p0 <= p1 <= n else slice(p0, p1).indices(n)[:2]
        if hi - lo < 2:
            return False
        repeats = self._repeats
        if len(repeats) < hi - lo - 1:
            return False
        if isinstance(repeats, list):
            found = bisect.bisect_left(repeats, hi - 1) - bisect.bisect_left(repeats, lo)
        else:
            found = int(np.searchsorted(repeats, hi - 1) - np.searchsorted(repeats, lo))
        return found == hi - lo - 1

    # Memos of the segmentation (functools.cached_property writes the instance's __dict__,
    # which a frozen dataclass allows: computed once, never a field).

    @functools.cached_property
    def segment_starts(self) -> dict[int, int]:
        """The index of the segment that starts at each block ``b0``."""
        return {seg.b0: k for k, seg in enumerate(self.segments)}

    @functools.cached_property
    def constant_segments(self) -> list[bool]:
        """:meth:`is_constant` of every segment's points, in order."""
        if not len(self._repeats):  # no value repeats the one before it (most noisy curves)
            return [False] * len(self.segments)
        return [self.is_constant(seg.p0, seg.p1) for seg in self.segments]

    @functools.cached_property
    def segment_ends(self) -> list[int]:
        """``b1`` of every segment, in order."""
        return [seg.b1 for seg in self.segments]

    @functools.cached_property
    def _repeats(self) -> list[int] | IntArray:
        """The positions ``i`` of the raw finite values equal to the one after them, in
        order (as Python ints up to :data:`LIST_POINTS` of them, else the array: a list of
        a million ints costs tens of MB and more time to build than it saves)."""
        raw = self.raw_range(0, self.n)
        found: IntArray = (raw[1:] == raw[:-1]).nonzero()[0]  # np.flatnonzero, 1-D
        return found.tolist() if found.size <= LIST_POINTS else found


@dataclass(frozen=True, eq=False)
class Levels(_Blocks):
    """What :func:`prepare` computes before it segments a series (the fields of
    :class:`Prepared` that do not depend on the run's events): shared by every
    segmentation of one (series, goal)."""

    lag1: float
    """Noise scale of the changes between neighbouring blocks (floored like ``sigma``):
    ``sigma_long`` is this times the long-run factor (and never below ``sigma``)."""
    first_kappa: float
    """The long-run factor measured on the blocks themselves, before any segmentation
    refits it (``Prepared.kappa`` is this or the smaller refitted one)."""

    @property
    def kappa(self) -> float:
        """``prepare(series, goal).kappa`` (no events), without building its segments:
        the first guess, or the factor refitted on the residuals around the pieces of
        the segmentation without events when that is below 0.8 of it (memoised)."""
        cached: float | None = self.__dict__.get("_kappa")
        if cached is None:
            cached = self.first_kappa
            if cached > 1.0 and len(self.bins) >= 8:  # else no refit: no lines needed
                cached = _cut(self, (), recut=False)[1]
            object.__setattr__(self, "_kappa", cached)  # a memo, not a field
        return cached


_CACHE_ATTR = "_tbplateau_prepared"
"""Where :func:`prepare` memoises on the series itself: the memo dies with its series.

(A ``WeakKeyDictionary`` cannot hold it: each value refers back to its key through
``Prepared.series``, so no entry would ever be dropped and every series analysed would
stay in memory.)
"""


_LEVELS_ATTR = "_tbplateau_levels"
"""Where :func:`levels` memoises on the series itself (one per goal)."""


def forget_prepared(series: Series) -> None:
    """Drop the memo of :func:`prepare` on ``series`` (its prepared copies: the working
    values, blocks and segments of every goal it was analysed under).

    An analysis calls this once every detector is done with a group of runs, so that
    a report keeps the curves it shows and no prepared copies of them.
    """
    series.__dict__.pop(_CACHE_ATTR, None)
    series.__dict__.pop(_LEVELS_ATTR, None)


def working_values(values: FloatArray, goal: Goal) -> tuple[FloatArray, bool]:
    """Oriented working values (larger is better) and whether they are logs.

    A ``"min"`` series whose values are all positive is taken on a log scale (losses,
    perplexities and errors shrink geometrically); everything else stays linear.
    """
    if values.size and goal == "min" and float(values.min()) > 0:
        return -np.log(values), True
    if goal == "min":
        return -values, False
    return values.astype(np.float64, copy=True), False


def prepare(
    series: Series, goal: Goal, events: Sequence[int] = (), *, outliers_out: bool = False
) -> Prepared:
    """The shared view of ``series`` under ``goal`` (memoised per series object).

    ``events`` are steps where the run was changed (a learning-rate drop, raise or
    restart; :mod:`tbplateau.detectors.events`): the segmentation is cut there too.
    Everything before the segmentation (:func:`levels`) is shared by every set of events.
    ``outliers_out``: cut under :func:`_cutting_factor` (the same view, where that is
    the same factor: nearly every series).
    """
    if outliers_out:
        lv = levels(series, goal)
        outliers_out = _cutting_factor(lv, lv.first_kappa) != lv.first_kappa
    key = (goal, tuple(sorted({int(e) for e in events})), outliers_out)
    cached: dict[tuple[Goal, tuple[int, ...], bool], Prepared] | None = series.__dict__.get(
        _CACHE_ATTR
    )
    if cached is not None and key in cached:
        return cached[key]
    lv = levels(series, goal)
    cuts = _event_blocks(lv.bins, lv.x, key[1])
    lines, kappa, path = _cut(lv, cuts, outliers_out=outliers_out)
    if not cuts and not outliers_out and "_kappa" not in lv.__dict__:
        object.__setattr__(lv, "_kappa", kappa)  # Levels.kappa, by its definition
    shared = lv.__dict__
    prepared = _made(
        Prepared,
        {
            **{name: shared[name] for name in _BLOCK_NAMES},
            "segments": _segments(lv.bins, lv.robust, lines, lv.local, lv.n, kappa),
            "sigma_long": max(lv.sigma, lv.lag1 * kappa),
            "kappa": kappa,
            "events": cuts,
        },
    )
    if path is not None:  # fitted_path(prepared): the path of the same pieces
        path.setflags(write=False)
        object.__setattr__(prepared, "_fitted_path", path)  # a memo, not a field
    if cached is None:
        cached = {}
        object.__setattr__(series, _CACHE_ATTR, cached)  # a memo, not a field
    cached[key] = prepared
    return prepared


def levels(series: Series, goal: Goal) -> Levels:
    """What :func:`prepare` computes before it segments ``series`` under ``goal``
    (memoised per series object, like :func:`prepare`)."""
    cached: dict[Goal, Levels] | None = series.__dict__.get(_LEVELS_ATTR)
    if cached is None:
        cached = {}
        object.__setattr__(series, _LEVELS_ATTR, cached)  # a memo, not a field
    found = cached.get(goal)
    if found is None:
        found = cached[goal] = _levels(series, goal)
    return found


def _levels(series: Series, goal: Goal) -> Levels:
    values = series.values
    finite = np.isfinite(values)
    if finite.all():  # every point (the common case), without gathering them
        pos = np.arange(values.shape[0], dtype=np.int64)
        x = series.steps.astype(np.float64)
        raw = values
    else:
        pos = np.flatnonzero(finite).astype(np.int64, copy=False)
        x = series.steps[pos].astype(np.float64)
        raw = values[pos]
    # 1e300 is finite but its square is not: clip the working values to a safe range.
    y, log_scale = working_values(fast_clip(raw, -1e150, 1e150), goal)
    bins = bin_reduce(x, y, MAX_BINS)
    m = len(bins)
    model = _noise_model(bins.y, _noise_window(m), _resolution(raw, log_scale))
    sig, floor, least, lag1, local, smooth, robust = model
    kappa = long_run_factor(noise_autocorrelation(bins.y)) if m >= 8 else 1.0
    starts, stops = equal_runs(y, MIN_RUN)
    runs = tuple((int(a), int(b)) for a, b in zip(starts.tolist(), stops.tolist(), strict=True))
    return _made(
        Levels,
        {
            "series": series,
            "goal": goal,
            "pos": pos,
            "x": x,
            "y": y,
            "log_scale": log_scale,
            "bins": bins,
            "sigma": max(sig, least),
            "exact_sigma": sig <= floor,
            "local": local,
            "smooth": smooth,
            "spread": block_spread(x, y, bins),
            "runs": runs,
            "robust": robust,
            "lag1": max(lag1, least),
            "first_kappa": kappa,
        },
    )


_NoiseModel = tuple[float, float, float, float, FloatArray, FloatArray, FloatArray]
"""What :func:`_noise_model` returns: ``(sig, floor, least, lag1, local, smooth, robust)``."""


def _noise_model(by: FloatArray, window: int, resolution: float) -> _NoiseModel:
    """The noise model of the block values ``by`` (a local noise ``window`` wide, and the
    finest change the metric shows, :func:`_resolution`): their :func:`noise_scale` and the
    floor under it (a billionth of their size), the least noise any block is given (the
    floor or the resolution), the noise scale at lag 1, and the :class:`_Blocks` arrays
    ``local``, ``smooth`` and ``robust``.

    In one compiled call where the kernels are built (the same values to the bit, or
    ``None`` where one of the kernels it is made of would decline: then this code).
    """
    m = by.size
    kernels = stats.KERNELS
    if kernels is not None and m:
        out = np.empty(m), np.empty(m), np.empty(m)
        found = kernels.noise_model(by, window, resolution, *out)
        if found is not None:
            return (*found, *out)
    sig = noise_scale(by)
    span = fast_ptp(by) if m else 0.0
    level = fast_median(np.abs(by)) if m else 0.0
    floor = 1e-9 * max(span, level, 1e-12)
    least = max(floor, resolution)
    local = local_noise(by, window)
    # A window of a few lucky differences must not make its blocks look noiseless.
    local = np.maximum(local, max(least, 0.25 * fast_quantile(local, 0.25) if m else 0.0))
    smooth = moving_median(by, 5) if m >= 5 else by.copy()
    bound = 4.0 * np.minimum(local, 2.0 * fast_median(local)) if m else local
    robust = fast_clip(by, smooth - bound, smooth + bound)
    # the running median lags at the ends (a steep start is no outlier)
    robust[:2] = by[:2]
    robust[-2:] = by[-2:]
    return sig, floor, least, noise_scale(by, lags=(1,)), local, smooth, robust


_Line = tuple[int, int, float, float, float]
"""A piece's least-squares line, ``(b0, b1, level0, level1, slope)`` (:func:`_lines`)."""


def _cut(
    lv: Levels, cuts: tuple[int, ...], *, recut: bool = True, outliers_out: bool = False
) -> tuple[list[_Line], float, FloatArray | None]:
    """The lines of the segmentation of ``lv`` cut at the blocks ``cuts`` too, the long-run
    factor it was cut under, and the lines' fitted path (:func:`_path_of`) when the refit
    computed it for these very lines (else ``None``).

    The first guess at the noise's autocorrelation counts the curvature of the trend
    too; the residuals around the fitted pieces do not. The series is cut again with
    the smaller factor when they say so (below 0.8 of it); not when ``recut`` is false
    (the lines are then those of the first cut: for the factor alone). ``outliers_out``:
    cut under :func:`_cutting_factor` (the factor refitted on the residuals around those
    pieces decides as before).
    """
    bins, robust = lv.bins, lv.robust
    kappa = lv.first_kappa
    if len(bins) == 0:
        return [], kappa, None
    cut_at = _cutting_factor(lv, kappa) if outliers_out else kappa
    lines = _lines(bins, robust, _breaks(bins, robust, lv.local, cut_at, lv.runs, lv.n, cuts))
    if not (kappa > 1.0 and len(bins) >= 8):
        return lines, kappa, None
    path = _path_of(bins, [(b0, b1, l0, l1 - l0) for b0, b1, l0, l1, _ in lines])
    refit = long_run_factor(_residual_phi(robust - path))
    if not refit < 0.8 * kappa:
        return lines, kappa, path
    if not recut:
        return lines, refit, None
    cut_at = _cutting_factor(lv, refit) if outliers_out else refit
    breaks = _breaks(bins, robust, lv.local, cut_at, lv.runs, lv.n, cuts)
    return _lines(bins, robust, breaks), refit, None


ROBUST_SHARE = 0.5
"""The divergence detector's view of a series (``prepare(..., outliers_out=True)``) is cut
under the long-run factor of its noise measured with the outlying residuals left out
(:func:`~tbplateau.stats.robust_autocorrelation`) where that is below this share of the
factor ``kappa`` it would be cut under (see :func:`_cutting_factor`)."""


def _cutting_factor(lv: Levels, kappa: float) -> float:
    """The long-run factor the pieces of ``lv`` are cut under: ``kappa``, or the robust
    one (memoised on ``lv``) where that is below :data:`ROBUST_SHARE` of it.

    A few points that ramp up or dip and come back (an LR spike, a blow-up the run
    recovers from) make the residuals around them look like wandering noise: cut under
    that factor, the penalty of a cut grows with its square and the dip is never cut
    out, so the divergence detector cannot see it. Left out, they no longer count; noise
    that really wanders (no residual of it an outlier) is measured as before. (The other
    detectors keep the pieces cut under ``kappa``: finer pieces there split plateaus and
    move their onsets on quantised and noisy curves, for no gain on the tuning runs.)
    """
    if not kappa * ROBUST_SHARE > 1.0:  # the robust factor is 1 or more
        return kappa
    robust: float | None = lv.__dict__.get("_robust_kappa")
    if robust is None:
        robust = long_run_factor(robust_autocorrelation(lv.robust))
        object.__setattr__(lv, "_robust_kappa", robust)  # a memo, not a field
    return robust if robust < ROBUST_SHARE * kappa else kappa


def _event_blocks(bins: Bins, x: FloatArray, events: tuple[int, ...]) -> tuple[int, ...]:
    """Blocks where each event's regime starts (the block holding the first finite point
    at or after the event's step, or the next one when that point is in its second half)."""
    m = len(bins)
    out: set[int] = set()
    for e in events:
        point = int(x.searchsorted(float(e), side="left"))  # np.searchsorted, less the wrapper
        if point <= 0 or point >= x.size:
            continue
        b = int(bins.start.searchsorted(point, side="right")) - 1
        if point - int(bins.start[b]) > int(bins.count[b]) // 2:
            b += 1
        if 0 < b < m:
            out.add(b)
    return tuple(sorted(out))


def _noise_window(blocks: int) -> int:
    """Width of the local noise window: a fifth of the blocks, 9 to 31 (fewer values
    make too noisy an estimate; more would not follow the level)."""
    return int(min(31, max(9, blocks // 5))) | 1


def _breaks(
    bins: Bins,
    y: FloatArray,
    local: FloatArray,
    kappa: float,
    runs: tuple[tuple[int, int], ...],
    n: int,
    cuts: tuple[int, ...] = (),
) -> list[int]:
    """Where the (robust) block values ``y`` are cut into pieces (at least one block).

    The blocks come pulled back towards the median of each block and its two
    neighbours (one outlying block is not a piece of its own; a jump moves the median
    with it, so it is kept). Runs of equal values are cut out first. Squares are
    weighted by the inverse long-run local noise (``local * kappa``).
    """
    m = len(bins)
    noise = local * kappa
    forced = list(cuts)
    ends = bins.start + bins.count
    long_run = max(LONG_RUN, math.ceil(RUN_FRACTION * n))
    for p0, p1 in runs:
        if p1 - p0 < long_run:
            continue
        # cut around the blocks that lie wholly inside the run
        first = int(np.searchsorted(bins.start, p0, side="left"))
        last = int(np.searchsorted(ends, p1, side="right"))
        if last > first:
            forced += [first, last]
    min_size = 2 if m < 12 else 3
    return binary_segmentation(
        bins.x,
        y,
        penalty=SEGMENT_PENALTY * math.log(max(m, 3)) * min(fast_median(noise), 1e150) ** 2,
        min_size=min_size,
        max_segments=16 + len(forced),
        weights=_weights(noise),
        forced=tuple(forced),
    )


RELATIVE_RESOLUTION = 1e-3
"""Smallest change that counts as progress, relative to the metric (0.1 %)."""


def _resolution(raw: FloatArray, log_scale: bool) -> float:
    """The finest change a metric can meaningfully show, in working units.

    A loss on a log scale: :data:`RELATIVE_RESOLUTION` (0.1 % of its value; a loss stuck
    at ``ln 2`` that creeps by 0.01 % an epoch makes no progress, however smooth). A
    linear metric: 0.1 % of its typical magnitude, and at least its grid step when it
    only takes evenly spaced values (an accuracy over 50 samples moves in steps of 0.02).
    """
    if raw.size == 0:
        return 0.0
    if log_scale:
        return RELATIVE_RESOLUTION
    finite = raw[np.isfinite(raw)]
    if finite.size == 0:
        return 0.0
    typical = fast_median(np.abs(finite))
    return max(RELATIVE_RESOLUTION * typical, quantum(finite))


def _weights(noise: FloatArray) -> FloatArray:
    """Inverse squared noise relative to its median (bounded, so no square overflows)."""
    ratio = fast_clip(noise / fast_median(noise), 1e-6, 1e6)
    return np.asarray(1.0 / (ratio * ratio), dtype=np.float64)


def _segments(
    bins: Bins,
    y: FloatArray,
    fitted: Sequence[_Line],
    noise: FloatArray,
    n: int,
    kappa: float = 1.0,
) -> tuple[Segment, ...]:
    """The segments of the (robust) block values ``y`` along their pieces' lines
    ``fitted`` (:func:`_lines`), in units of the local noise ``noise``."""
    m = len(bins)
    if m == 0:
        return ()
    out: list[Segment] = []
    prev_slope = 0.0
    # Python floats for the scalar arithmetic (the same doubles as numpy's scalars)
    bx, by, starts = bins.x.tolist(), y.tolist(), bins.start.tolist()
    for b0, b1, l0, l1, slope in fitted:
        p0 = starts[b0]
        p1 = starts[b1] if b1 < m else n
        change = l1 - l0
        sig = fast_median(noise[b0:b1])
        jump = 0.0
        if out:
            # The two lines compared halfway between the blocks either side of the
            # break, and the step between those two blocks less what the slopes
            # explain: a level shift shows in both, the bend of a smooth curve (whose
            # lines overshoot at their ends) or one noisy block in only one.
            dx = bx[b0] - bx[b0 - 1]
            lines = (l0 - 0.5 * slope * dx) - (out[-1].level1 + 0.5 * prev_slope * dx)
            # the step across one to three blocks each side (a jump that settles over
            # a few blocks), less what the slopes explain
            blocks = 0.0
            for j in range(3):
                left, right = b0 - 1 - j, b0 + j
                if left < out[-1].b0 or right >= b1:
                    break
                step = (by[right] - by[left]) - (
                    slope * (bx[right] - bx[b0])
                    + 0.5 * (slope + prev_slope) * dx
                    + prev_slope * (bx[b0 - 1] - bx[left])
                )
                if abs(step) > abs(blocks):
                    blocks = step
            if lines * blocks > 0:
                jump = lines if abs(lines) < abs(blocks) else blocks
        own = kappa
        if b1 - b0 >= SEGMENT_PHI_BLOCKS and kappa > 1.0:
            # _residual_phi of the residuals around the piece's line, in one pass
            phi = 0.0
            if b1 - b0 >= 8:
                phi = _lag1(winsorised_around(bins.x[b0:b1], y[b0:b1], l0, slope, 1.4826))
            own = min(kappa, long_run_factor(phi))
        out.append(_segment(b0, b1, p0, p1, l0, l1, change, change / sig, sig, jump, own))
        prev_slope = slope
    return tuple(out)


def _segment(
    b0: int,
    b1: int,
    p0: int,
    p1: int,
    level0: float,
    level1: float,
    change: float,
    z: float,
    noise: float,
    jump: float,
    kappa: float,
) -> Segment:
    """``Segment(b0, ..., kappa)``, every field given, without the frozen dataclass's
    ``__init__`` (an ``object.__setattr__`` per field; it has no ``__post_init__``): the
    same object, a third of the cost (7,783 segments on a 200-run sweep)."""
    seg = object.__new__(Segment)
    seg.__dict__.update(
        {
            "b0": b0,
            "b1": b1,
            "p0": p0,
            "p1": p1,
            "level0": level0,
            "level1": level1,
            "change": change,
            "z": z,
            "noise": noise,
            "jump": jump,
            "kappa": kappa,
        }
    )
    return seg


def _lines(bins: Bins, y: FloatArray, breaks: Sequence[int]) -> list[_Line]:
    """The least-squares line through the blocks of every piece between ``breaks``:
    ``(b0, b1, level0, level1, slope)``, its fitted values at its first and last block
    (flat at the mean when its blocks do not move along x)."""
    m = len(bins)
    bx = bins.x.tolist()
    out = []
    for b0, b1 in itertools.pairwise([0, *breaks, m]):
        xs = bins.x[b0:b1]
        ys = y[b0:b1]
        slope = 0.0
        # x moves inside the piece (np.ptp > 0): some block's x differs from the first's
        # (equality is transitive, so some neighbour's does; blocks' x are finite); the
        # second block's first, without the generator (it almost always does)
        if b1 - b0 >= 2 and (
            bx[b0 + 1] != bx[b0] or any(bx[k] != bx[b0] for k in range(b0 + 2, b1))
        ):
            # both means and both deviations in one compiled call where the kernels are
            # built (the same values as fast_mean and the subtractions)
            found = stats._centred(xs, ys)
            if found is None:
                ym, xm = fast_mean(ys), fast_mean(xs)
                centred, dy = xs - xm, ys - ym
            else:
                xm, ym, centred, dy = found
            slope = (float(centred.dot(dy)) + 0.0) / float(centred.dot(centred))
            l0 = ym + slope * (bx[b0] - xm)
            l1 = ym + slope * (bx[b1 - 1] - xm)
        else:
            l0 = l1 = fast_mean(ys)
        out.append((b0, b1, l0, l1, slope))
    return out


def _residual_phi(r: FloatArray) -> float:
    """Lag-1 autocorrelation of residuals (winsorised at three robust deviations), in [0, 0.9]."""
    if r.size < 8:
        return 0.0
    return _lag1(winsorised(r, 1.4826))


def _lag1(c: FloatArray | None) -> float:
    """Lag-1 autocorrelation of winsorised residuals ``c`` in [0, 0.9] (0.0 for ``None``:
    residuals with no spread)."""
    if c is None:
        return 0.0
    den = float(c.dot(c))
    return min(max((float(c[1:].dot(c[:-1])) + 0.0) / den if den > 0 else 0.0, 0.0), 0.9)


def fitted_path(p: Prepared) -> FloatArray:
    """The segments' fitted lines evaluated at every block (jumps between them kept).

    Memoised on ``p`` (read-only: several detectors ask).
    """
    cached: FloatArray | None = p.__dict__.get("_fitted_path")
    if cached is None:
        cached = _path(p.bins, p.segments)
        cached.setflags(write=False)
        object.__setattr__(p, "_fitted_path", cached)  # a memo, not a field
    return cached


def _path(bins: Bins, segments: Sequence[Segment]) -> FloatArray:
    return _path_of(bins, [(seg.b0, seg.b1, seg.level0, seg.change) for seg in segments])


def _path_of(bins: Bins, pieces: Sequence[tuple[int, int, float, float]]) -> FloatArray:
    """Lines ``(b0, b1, level0, change)`` evaluated at every block of ``[b0, b1)``."""
    m = len(bins)
    if (
        pieces
        and pieces[0][0] == 0
        and pieces[-1][1] == m
        and all(a[1] == c[0] for a, c in itertools.pairwise(pieces))
        and all(b1 > b0 for b0, b1, _, _ in pieces)
    ):
        kernels = stats.KERNELS  # the same arithmetic in one call, or False: numpy's
        if kernels is not None:
            out = np.empty(m)
            if kernels.tiled_path(bins.x, pieces, out):
                return out
        return _tiled_path(bins, pieces)
    out = np.empty(m)
    for b0, b1, level0, change in pieces:
        xs = bins.x[b0:b1]
        span = float(xs[-1] - xs[0])
        if span > 0:
            out[b0:b1] = level0 + (xs - xs[0]) * (change / span)
        else:
            out[b0:b1] = level0
    return out


def _tiled_path(bins: Bins, pieces: Sequence[tuple[int, int, float, float]]) -> FloatArray:
    """:func:`_path_of` of pieces that tile the blocks in order, in a few whole-array
    operations: every block gets its piece's ``level0 + (x - x0) * (change / span)``, the
    same IEEE operations on the same doubles as the loop over pieces (the division and
    the span in Python floats there too), so the same bits; a piece that does not move
    along x stays flat at ``level0`` (written after, as the loop does)."""
    bx = bins.x.tolist()
    counts = [b1 - b0 for b0, b1, _, _ in pieces]
    firsts, rates, levels, flat = [], [], [], []
    for b0, b1, level0, change in pieces:
        span = bx[b1 - 1] - bx[b0]
        firsts.append(bx[b0])
        levels.append(level0)
        if span > 0:
            rates.append(change / span)
        else:
            rates.append(0.0)
            flat.append((b0, b1, level0))
    x0 = np.repeat(np.array(firsts), counts)
    rate = np.repeat(np.array(rates), counts)
    out: FloatArray = np.repeat(np.array(levels, dtype=np.float64), counts) + (bins.x - x0) * rate
    for b0, b1, level0 in flat:
        out[b0:b1] = level0
    return out


def stretch_kappa(p: Prepared, b0: int, b1: int) -> float:
    """Long-run factor of blocks ``[b0, b1)``: their segments' own, weighted by overlap."""
    total = 0.0
    weight = 0
    segments = p.segments
    ends = p.segment_ends
    # the segments are in order: start at the first that ends after b0 (the ones before
    # it overlap nothing), stop at the first that starts at or after b1
    first = bisect.bisect_right(ends, b0)
    if first < len(ends) and b1 <= ends[first]:
        # inside one segment (most stretches asked about): the loop's one term
        start = segments[first].b0
        w = b1 - (start if start > b0 else b0)
        if w > 0:
            return (total + w * segments[first].kappa) / w
    for k in range(first, len(segments)):
        seg = segments[k]
        if seg.b0 >= b1:
            break
        w = (seg.b1 if seg.b1 < b1 else b1) - (seg.b0 if seg.b0 > b0 else b0)  # min - max
        if w > 0:
            total += w * seg.kappa
            weight += w
    return total / weight if weight else p.kappa


def is_jump(p: Prepared, k: int, limit: float = 3.0) -> bool:
    """Whether segment ``k`` starts with a real jump (see :func:`_is_jump`).

    Memoised on ``p``: every detector asks about the same breaks.
    """
    memo: dict[tuple[int, float], bool] | None = p.__dict__.get("_jumps")
    if memo is None:
        memo = {}
        object.__setattr__(p, "_jumps", memo)  # a memo, not a field
    key = (k, limit)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _is_jump(p, k, limit)
    return found


def _is_jump(p: Prepared, k: int, limit: float) -> bool:
    """Whether segment ``k`` starts with a real jump.

    Its ``jump`` is at least ``limit`` long-run noise units of the quieter of the two
    segments (a jump into a loud, swinging stretch is still a jump) and 2.5 standard
    errors of the difference of their lines' ends (each with its own noise; short
    pieces have uncertain ends), and three times the typical step between the
    blocks just before it (a sharp bend of a fast fall, seen at the resolution of
    blocks, is no jump).
    """
    if k <= 0 or k >= len(p.segments):
        return False
    a, b = p.segments[k - 1], p.segments[k]
    na, nb = a.noise * a.kappa, b.noise * b.kappa
    ends = math.sqrt(4.0 * na * na / max(a.b1 - a.b0, 1) + 4.0 * nb * nb / max(b.b1 - b.b0, 1))
    if abs(b.jump) < max(limit * min(na, nb), 2.5 * ends):
        return False
    # A step far larger than the steps just before it: a sharp bend of a fast fall,
    # seen at the resolution of blocks, is no jump (the curve was already moving).
    lo = max(a.b0, b.b0 - 5)
    before = np.abs(p.robust[lo + 1 : b.b0] - p.robust[lo : b.b0 - 1])  # np.diff's values
    if before.size and abs(b.jump) < 3.0 * fast_median(before):
        return False
    # The level itself must move: the median of up to three blocks after the break
    # against that of up to three before, with nothing taken off for the slopes (the
    # line through a bending piece overshoots at its end, and so does its slope), by
    # half the limit in the jump's direction, or by more than the jump the other way
    # (a transition over a few blocks, between two pieces whose lines miss it).
    r = p.robust
    w = max(1, min(3, a.b1 - a.b0, b.b1 - b.b0))
    raw = fast_median(r[b.b0 : b.b0 + w]) - fast_median(r[b.b0 - w : b.b0])
    if raw * b.jump > 0:
        return abs(raw) >= 0.5 * limit * min(na, nb)
    return abs(raw) > max(abs(b.jump), limit * min(na, nb))


def jump_point(p: Prepared, b: int) -> int:
    """The finite point where the jump into block ``b`` happens (see :func:`_jump_point`).

    Memoised on ``p``: the plateau detector asks again for every candidate that starts or
    ends at the same jump (1,420 distinct of 2,756 calls on a 200-run sweep).
    """
    memo: dict[int, int] | None = p.__dict__.get("_jump_points")
    if memo is None:
        memo = {}
        object.__setattr__(p, "_jump_points", memo)  # a memo, not a field
    found = memo.get(b)
    if found is None:
        found = memo[b] = _jump_point(p, b)
    return found


def _jump_point(p: Prepared, b: int) -> int:
    """The finite point where the jump into block ``b`` happens.

    With one point per block, the first point of block ``b``. Otherwise the first
    point of blocks ``b - 1`` and ``b`` that lies closer to block ``b``'s level than
    to block ``b - 1``'s (a block holding both sides of a one-step jump has its
    median on one of them).
    """
    bins = p.bins
    lo = int(bins.start[b])
    if b == 0 or int(bins.count[b]) == 1:
        return lo
    a = int(bins.start[b - 1])
    hi = lo + int(bins.count[b])
    before, after = float(bins.y[max(0, b - 2)]), float(bins.y[min(len(bins) - 1, b + 1)])
    ys = p.y[a:hi]
    if ys.size <= SHORT_JUMP_POINTS:
        return _short_jump_point(ys.tolist(), a, lo, before, after)
    closer = np.abs(ys - after) < np.abs(ys - before)
    near = np.flatnonzero(closer)
    if near.size == 0:
        return lo
    # the first point from which most of the rest (80 %) stays on the new side
    rest = np.cumsum(closer[::-1])[::-1]  # rest[k]: points from k on that are closer
    stays = np.flatnonzero(rest[near] >= 0.8 * (ys.size - near))
    return a + int(near[stays[0]]) if stays.size else lo


SHORT_JUMP_POINTS = 64
"""Most points of two blocks that :func:`_jump_point` scans in plain Python (numpy's
per-call overhead is larger than the work there)."""


def _short_jump_point(ys: list[float], a: int, lo: int, before: float, after: float) -> int:
    """:func:`_jump_point`'s scan in Python floats (the same comparisons of the same
    doubles): from the last point back, the first one closer to ``after`` from which at
    least 80 % of the points on stay closer; ``lo`` if none."""
    found, count, size = lo, 0, len(ys)
    for k in range(size - 1, -1, -1):
        v = ys[k]
        if abs(v - after) < abs(v - before):
            count += 1  # points from k on that are closer
            if count >= 0.8 * (size - k):
                found = a + k
    return found


class Detector(abc.ABC):
    """Base class: a pure ``detect`` plus the streaming machinery built on it."""

    kind: ClassVar[FindingKind]

    _stream_goal: Goal = "min"
    _stream_run: str = ""
    _stream_tag: str = ""

    @abc.abstractmethod
    def detect(self, series: Series, goal: Goal, *, events: Sequence[int] = ()) -> list[Finding]:
        """Findings of this detector's kind on ``series``, sorted by onset.

        ``events`` are steps where the run was changed (learning-rate changes, from
        :func:`~tbplateau.detectors.events.schedule_events`); a detector may use them
        as the places where a new regime can start.
        """

    def __repr__(self) -> str:
        params = ", ".join(
            f"{k}={v!r}" for k, v in sorted(vars(self).items()) if not k.startswith("_")
        )
        return f"{type(self).__name__}({params})"

    # -- streaming -------------------------------------------------------------------

    def start(self, goal: Goal, *, run: str = "", tag: str = "") -> None:
        """Begin (or restart) a stream of points of one series under ``goal``."""
        self._stream_goal = check_goal(goal)
        self._stream_run = run
        self._stream_tag = tag
        self._steps: list[int] = []
        self._values: list[float] = []
        self._emitted: list[Finding] = []
        self._pending: list[Finding] = []
        self._next_eval = 1

    def _ensure_started(self) -> None:
        if not hasattr(self, "_steps"):
            self.start(self._stream_goal, run=self._stream_run, tag=self._stream_tag)

    def _stream_series(self) -> Series:
        return Series(self._stream_run, self._stream_tag, steps=self._steps, values=self._values)

    def update(self, step: int, value: float) -> Finding | None:
        """Add one point; return a finding the first time it is noticed, else ``None``."""
        self._ensure_started()
        self._steps.append(int(step))
        self._values.append(float(value))
        n = len(self._steps)
        if n >= self._next_eval:
            self._next_eval = n + 1 if n < 64 else n + max(1, n // 20)
            self._pending.extend(self._new(self.detect(self._stream_series(), self._stream_goal)))
        return self._pending.pop(0) if self._pending else None

    def flush(self) -> list[Finding]:
        """Re-run detection on every point seen now; return the findings not yet reported."""
        self._ensure_started()
        new = self._pending + self._new(self.detect(self._stream_series(), self._stream_goal))
        self._pending = []
        return new

    @property
    def findings(self) -> list[Finding]:
        """Batch detection on every point seen so far (equal to ``detect`` on the same data)."""
        self._ensure_started()
        return self.detect(self._stream_series(), self._stream_goal)

    def _new(self, found: list[Finding]) -> list[Finding]:
        n = len(self._steps)
        tol = onset_tolerance(n)
        steps = np.asarray(self._steps, dtype=np.int64)
        out = []
        for f in found:
            i = int(np.searchsorted(steps, f.start_step))
            seen = False
            for e in [*self._emitted, *self._pending]:
                if e.kind == f.kind and e.tags == f.tags:
                    j = int(np.searchsorted(steps, e.start_step))
                    if abs(i - j) <= tol:
                        seen = True
                        break
            if not seen:
                g = Finding(
                    f.kind,
                    f.start_step,
                    f.end_step,
                    f.tags,
                    f.confidence,
                    f.detail,
                    self._steps[-1],
                )
                self._emitted.append(g)
                out.append(g)
        return out


def sorted_findings(found: list[Finding]) -> list[Finding]:
    """``found`` sorted by onset, then kind, then tags."""
    return sorted(found, key=lambda f: f.sort_key)


CONFIDENCE_FLOOR = 0.6
"""Lowest confidence of a divergence finding: one that only just passes the detector's
tests still matched a label about three times in five on the tuning runs (the dev split
and the tuning pools; a floor of 0.5 read as a coin toss, and was not). The overfitting
detector has a floor of its own (:data:`~tbplateau.detectors.overfitting.FLOOR`)."""


def confidence_from(z: float, scale: float = 3.0) -> float:
    """Map a non-negative strength ``z`` (in noise units) to a confidence in [0, 1)."""
    if not math.isfinite(z):
        return 1.0 if z > 0 else 0.0
    return float(round(1.0 - math.exp(-max(z, 0.0) / scale), 4))
