"""Divergence: sustained worsening of a metric from a good level, or explosive growth."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tbplateau.detectors.base import (
    CONFIDENCE_FLOOR,
    Detector,
    FloatArray,
    Prepared,
    check_fraction,
    check_positive,
    confidence_from,
    fitted_path,
    jump_point,
    prepare,
    sorted_findings,
    stretch_kappa,
)
from tbplateau.findings import Finding, FindingKind, Goal
from tbplateau.series import Series
from tbplateau.stats import (
    fast_median,
    long_run_factor,
    robust_autocorrelation,
    trailing_median,
)

__all__ = ["DivergenceDetector"]

LEVEL_SHARE = 0.05
"""Least worsening that counts, as a share of the level (a loss: 5 %, on its log scale)."""


DIP_SHARE = 0.2
"""Least worsening of a short dip that recovers, as a share of the level (a loss: on its
log scale, about 22 %)."""


HUGE_LOG = math.log(10.0)
"""A loss jump this large (10x) from a steady level is a divergence however long it
lasts before the run recovers (an LR raise's blow-up at the edge of stability: real runs
thrash at 12-20x for a tenth of the run as often as at 30x; a 25x floor missed them)."""


HUGE_SHARE = 0.3
"""The same for a metric on a linear scale (an accuracy): a fall of 30 % of its level."""


ORBIT_POINTS = 12
"""Points after a jump looked at for a period-2 orbit (the edge of stability)."""


ORBIT_DRIFT = 0.4
"""Most a level of a period-2 orbit moves between visits, as a share of the swing (dev
set: the blow-ups of real edge-of-stability runs stay divergences up to 0.7)."""


SAG_SHARE = 0.25
"""A one-step jump that carries half an episode's fall or more starts it when what the
metric lost before the jump is less than this share of the fall (a validation loss that
creeps up before it collapses: the creep is the prelude, the jump the onset)."""


OVERSHOOT_SIGMAS = 4.0
"""How far (in noise units) the fitted path may run above the best the metric reached: a
steep piece (the jump from an evaluation before training) extrapolated to its end is
no level the metric fell from."""


NEAR_DEEP = 0.5
"""How far below the running best (a share of an episode's drop) a block must fall to be
the blow-up itself: blocks after it are no longer searched for the good level (see
:func:`_past_the_level`)."""


STEADY_BLOCKS = 5
"""Blocks before a short dip that must sit at the level it falls from (within 0.4 of the
dip's depth)."""


@dataclass(frozen=True)
class _Episode:
    """A stretch of blocks ``[b0, b1)`` below the best level reached before it."""

    b0: int
    b1: int
    level: float
    """The good level the metric fell from (working units)."""
    drop: float
    """How far below it the metric went (working units, robust)."""
    recovered: bool
    top: int = 0
    """Last block still at the good level before the episode (:func:`_held_until`)."""


class DivergenceDetector(Detector):
    """Find where a metric starts to get worse from a good level and stays worse.

    The series is reduced to blocks and cut into straight pieces at its level shifts,
    jumps and kinks (:func:`~tbplateau.detectors.base.prepare`); the fitted path of
    those pieces (one outlying block does not move it) is followed against the best
    level reached so far. An episode starts where the path leaves that best level, in
    one step (a one-step collapse: an accuracy falling to chance, a loss jumping 100x)
    or along a worsening piece, and goes on while the path stays below half the way
    back. It is a divergence when the worst level it reaches (a running median, not
    one point) is below that good level by at least ``min_worsening`` units of the
    local noise before the onset (autocorrelation included; the swings of a blow-up are
    the divergence, not noise)
    *and* by ``min_relative`` of the progress made before the onset (or, with no
    earlier progress, of the series' spread), and when it lasts: ``min_fraction`` of
    the series, or to the end of the series (which includes running into NaN). An
    episode that recovers (back within half the loss, which gives ``end_step``) must
    last twice that and not start in the first 10 % of the series: a warm-up dip that
    climbs back is no divergence. Losses are judged on a log scale, so explosive
    growth is a straight rise.

    With fewer than ``min_points`` finite points the noise cannot be told from a
    trend, so a short series only diverges when it runs into non-finite values or
    grows explosively (a loss 10x its onset level).

    Parameters
    ----------
    min_worsening : float
        Worsening needed, in noise units (default 6).
    min_relative : float
        Worsening needed, as a fraction of the earlier progress (default 0.15).
    min_fraction : float
        Shortest episode that does not reach the end, as a fraction of the series
        (default 0.05).
    min_points : int
        Fewest finite points for a divergence that is neither explosive nor runs into
        non-finite values (default 6).

    Examples
    --------
    >>> import numpy as np
    >>> from tbplateau.series import Series
    >>> rng = np.random.default_rng(2)
    >>> t = np.arange(400)
    >>> log_loss = np.where(t < 250, -t / 100, -2.5 + (t - 250) / 40) + rng.normal(0, 0.03, 400)
    >>> s = Series("r", "loss", steps=t, values=np.exp(log_loss))
    >>> [(f.start_step, f.end_step) for f in DivergenceDetector().detect(s, "min")]
    [(252, None)]
    """

    kind = FindingKind.DIVERGENCE

    def __init__(
        self,
        *,
        min_worsening: float = 6.0,
        min_relative: float = 0.15,
        min_fraction: float = 0.05,
        min_points: int = 6,
    ) -> None:
        check_positive("min_worsening", min_worsening)
        check_fraction("min_relative", min_relative)
        check_fraction("min_fraction", min_fraction)
        check_positive("min_points", min_points, integer=True)
        self.min_points = int(min_points)
        self.min_worsening = float(min_worsening)
        self.min_relative = float(min_relative)
        self.min_fraction = float(min_fraction)

    def detect(self, series: Series, goal: Goal, *, events: Sequence[int] = ()) -> list[Finding]:
        if goal is None:
            return []
        p = prepare(series, goal, events, outliers_out=True)
        if p.n < 4 or not p.segments:
            return []
        ends_nonfinite = len(series) > 0 and not math.isfinite(float(series.values[-1]))
        path = fitted_path(p)
        # the level it falls from is one it reached (see OVERSHOOT_SIGMAS)
        path = np.minimum(path, np.maximum.accumulate(p.robust) + OVERSHOOT_SIGMAS * p.sigma)
        out = []
        for ep in _episodes(p, path):
            found = self._judge(series, p, path, ep, ends_nonfinite)
            if found is not None:
                out.append(found)
        return sorted_findings(out)

    def _judge(
        self, series: Series, p: Prepared, path: FloatArray, ep: _Episode, ends_nonfinite: bool
    ) -> Finding | None:
        m = len(p.bins)
        p0 = int(p.bins.start[ep.b0])
        p1 = int(p.bins.start[ep.b1]) if ep.b1 < m else p.n
        progress, noise = _scales(p, path, ep)
        to_end = not ep.recovered
        # a worsening of less than 5 % of the level is no divergence, however quiet
        level = 1.0 if p.log_scale else fast_median(np.abs(p.y))
        big = (
            ep.drop >= self.min_worsening * noise
            and ep.drop >= self.min_relative * progress
            and ep.drop >= LEVEL_SHARE * level
        )
        long_enough, bump_ok = self._lasts(p, ep, p1 - p0, to_end and ends_nonfinite, level)
        if p.n < self.min_points:
            # Too few points to know the noise: only a blow-up counts.
            explosive = p.log_scale and ep.drop > math.log(10.0)
            big = big and (explosive or (to_end and ends_nonfinite))
        if not (big and long_enough and (to_end or bump_ok)):
            return None
        onset = _onset_point(p, ep)
        if to_end and _period_two_orbit(p.y, onset):
            return None  # a jump into clean period-2 swings: an oscillation, reported as such
        end = None if to_end else p.step_at(p1 - 1)
        detail = {
            "worsening": float(ep.drop),
            "noise": float(noise),
            "relative": float(ep.drop / progress) if progress > 0 else None,
            "log_scale": p.log_scale,
            "explosive": bool(p.log_scale and ep.drop > math.log(100.0)),
            "from_value": _raw(p, ep.level),
            "worst_value": _raw(p, ep.level - ep.drop),
            "sudden": _sudden(p, ep, onset),
        }
        conf = confidence_from(ep.drop / noise - self.min_worsening, 6.0)
        conf = max(conf, CONFIDENCE_FLOOR)
        return Finding(self.kind, p.step_at(onset), end, (series.tag,), conf, detail)

    def _lasts(
        self, p: Prepared, ep: _Episode, lasting: int, nonfinite_end: bool, level: float
    ) -> tuple[bool, bool]:
        """Whether the episode lasts long enough to be a divergence, and (if it recovers)
        long enough to be more than a dip: ``(long_enough, bump_ok)``."""
        long_enough = lasting >= max(3, self.min_fraction * p.n) or nonfinite_end
        # A dip that recovers must last twice as long (twice the 3-point floor on a short
        # run too), and not be a warm-up at the start.
        good_at = int(p.bins.start[ep.top])
        bump_ok = lasting >= max(6, 2 * self.min_fraction * p.n) and good_at >= 0.1 * p.n
        # A short, deep dip (an LR spike or raise the run comes back from) is a divergence
        # too: three points or more but short (a long bump that recovers is judged as
        # above: a cyclic schedule's swings are no divergence), a fifth of the level below
        # where it was...
        short = 3 <= lasting <= max(10, self.min_fraction * p.n)
        held = _held(p, ep)
        # ...from a level the metric held, or climbed to by steady progress (not a swing
        # back from a fresh drop)
        steady = held.size == STEADY_BLOCKS and (
            bool(np.all(np.abs(held - ep.level) <= 0.4 * ep.drop)) or _rising_into(held, ep)
        )
        # (its depth: the line through a dip of three or four blocks cuts off its bottom)
        depth = max(ep.drop, ep.level - float(p.bins.y[ep.b0 : ep.b1].min()))
        deep = depth >= DIP_SHARE * level
        # ...and so is a blow-up of 10x or more (30 % of the level on a linear scale) that
        # thrashes longer before the run comes back (the edge of stability after a raise)
        huge = ep.drop >= (HUGE_LOG if p.log_scale else HUGE_SHARE * level)
        if ep.recovered and (short or huge) and deep and steady and good_at >= 0.1 * p.n:
            return True, True
        return long_enough, bump_ok


def _held(p: Prepared, ep: _Episode) -> FloatArray:
    """The :data:`STEADY_BLOCKS` blocks before the episode, or one block earlier when the
    last of them already fell more than 0.4 of the drop (a block that holds the jump is the
    blow-up's first points, not the level the metric held)."""
    lo = max(0, ep.b0 - STEADY_BLOCKS)
    held = p.robust[lo : ep.b0]
    if lo > 0 and held.size and ep.level - float(held[-1]) > 0.4 * ep.drop:
        return p.robust[lo - 1 : ep.b0 - 1]
    return held


def _rising_into(held: FloatArray, ep: _Episode) -> bool:
    """Whether ``held`` climbs to the episode's good level by steady progress (every step
    forward or nearly, none carrying half the climb) and ends there: a spike after an LR
    raise sped the run up, not a swing back from a fresh drop in one step."""
    steps = np.diff(held)
    climb = float(held[-1] - held[0])
    return bool(
        climb > 0
        and np.all(steps >= -0.1 * ep.drop)
        and float(steps.max()) < 0.5 * climb
        and abs(float(held[-1]) - ep.level) <= 0.4 * ep.drop
    )


def _scales(p: Prepared, path: FloatArray, ep: _Episode) -> tuple[float, float]:
    """``(progress, noise)`` an episode is judged against: the progress before it, and the
    noise of the good level it fell from (the swings of a blow-up, and its first points
    before the episode's first block, are the divergence itself, not noise to measure it
    against)."""
    before = path[: ep.b0 + 1]
    progress = float(before.max() - path[0]) if before.size else 0.0
    if progress <= 0:
        progress = float(np.ptp(path))
    lo = max(0, ep.b0 - 5)
    # each block's own noise, or the calmer blocks' just before it (as in _episodes): a
    # dip and a climb that start the blow-up a few blocks before its episode are loud
    quiet = _quiet_noise(p.local[: ep.b0 + 1])
    local = quiet[lo : ep.b0] if ep.b0 > lo else quiet[ep.b0 : ep.b0 + 1]
    kappa = min(stretch_kappa(p, lo, max(ep.b0, lo + 1)), _robust_kappa(p))
    return progress, fast_median(local) * kappa


def _robust_kappa(p: Prepared) -> float:
    """The long-run factor of the series' noise with its outlying residuals left out
    (:func:`~tbplateau.stats.robust_autocorrelation`): the noise a worsening is judged
    against is at most this loud. A blow-up that ramps up over a few points makes the
    residuals around it (and the curvature of the one line fitted over a decay before it)
    look like wandering noise, and the blow-up then hides in the noise it made.

    Memoised on ``p`` (several episodes may ask).
    """
    found: float | None = p.__dict__.get("_robust_kappa")
    if found is None:
        y = p.bins.y
        found = long_run_factor(robust_autocorrelation(y)) if y.size >= 8 else 1.0
        object.__setattr__(p, "_robust_kappa", found)  # a memo, not a field
    return found


QUIET_BLOCKS = 10
"""Blocks before a block whose median noise is its calm (see :func:`_quiet_noise`)."""


def _quiet_noise(local: FloatArray) -> FloatArray:
    """The noise a fall is measured against at each block: its own, or the median of the
    :data:`QUIET_BLOCKS` calmer blocks just before it, whichever is less (a blow-up is loud;
    that is not noise)."""
    return np.minimum(local, trailing_median(local, QUIET_BLOCKS))


def _raw(p: Prepared, working: float) -> float:
    """A working value back in the metric's own units."""
    if p.log_scale:
        return float(math.exp(-working)) if working > -700 else math.inf
    return float(-working if p.goal == "min" else working)


_Aids = tuple[FloatArray, FloatArray, npt.NDArray[np.int64]]
"""What :func:`_episodes` reads besides the path: see :func:`_aids`."""


def _aids(p: Prepared, path: FloatArray, quiet: FloatArray) -> _Aids:
    """Where the metric held its level (the fitted ``path`` capped at the best it reached: a
    steep first piece's fitted line may overshoot that), the noise it held it within (its
    ``quiet`` noise, long-run), and the segment of every block."""
    reached = np.minimum(path, np.maximum.accumulate(p.robust))
    held_noise = quiet * p.kappa
    seg_of = np.zeros(path.size, dtype=np.int64)
    for k, seg in enumerate(p.segments):
        seg_of[seg.b0 : seg.b1] = k
    return reached, held_noise, seg_of


def _episodes(p: Prepared, path: FloatArray) -> list[_Episode]:
    """Stretches where the fitted path falls below the best level reached before it.

    The path first falls clearly (two long-run noise units) below its running best
    inside some segment; the episode starts where that segment starts (at a jump
    down, or where a worsening piece begins), past any leading pieces that lose less
    than a tenth of the whole drop (a slow sag before the blow-up), and after the
    last block still at the good level before the blow-up (:func:`_past_the_level`).
    It ends when the path comes back within half of the worst drop so far, or at the end. After an
    episode the running best starts again from where it ended.
    """
    m = path.size
    quiet = _quiet_noise(p.local)
    aids: _Aids | None = None  # made at the first fall (most series have none)
    out: list[_Episode] = []
    start = 0
    while start < m - 1:
        best = np.maximum.accumulate(path[start:])
        depth = best - path[start:]
        below = (depth > 2.0 * quiet[start:] * p.kappa).nonzero()[0]  # np.flatnonzero
        if below.size == 0:
            break
        if aids is None:
            aids = _aids(p, path, quiet)
        reached, held_noise, seg_of = aids
        first = start + int(below[0])
        b0 = max(start, p.segments[int(seg_of[first])].b0)
        top = float(best[b0 - start])
        fall = top - np.minimum.accumulate(path[b0:])
        back = ((path[b0:] >= top - 0.5 * fall) & (fall >= depth[first - start])).nonzero()[0]
        b1 = b0 + int(back[0]) if back.size else m
        drop = float(fall[b1 - b0 - 1])
        # skip leading pieces that lose less than a tenth of the drop
        k = int(seg_of[b0])
        while k + 1 < len(p.segments) and p.segments[k + 1].b0 < b1:
            nxt = p.segments[k + 1].b0
            if top - float(path[nxt - 1]) >= 0.1 * drop or top - float(path[nxt]) < 0.5 * drop:
                break
            k += 1
            b0 = nxt
            top = float(path[b0 - 1])
        if b1 >= m:  # a collapse that stays
            b0, top = _at_jump(p, path, b0, b1, top, drop)
        b0 = _past_the_level(p, quiet, start, b0, b0 + int(np.argmin(path[b0:b1])), drop)
        top_at = _held_until(reached, held_noise, start, b0)
        out.append(_Episode(b0, b1, top, drop, b1 < m, top_at))
        if b1 >= m:
            break
        start = b1
    return out


HELD_SIGMAS = 2.0
"""Noise units below its best that the fitted path may sit and still hold the good level
(see :func:`_held_until`)."""


def _held_until(path: FloatArray, noise: FloatArray, start: int, b0: int) -> int:
    """The last block of ``[start, b0]`` still at the best level the fitted path reached
    there (within :data:`HELD_SIGMAS` noise units of it): where the metric last held the
    level it falls from, not where it first got there (a level reached in the warm-up and
    held for half the run is no warm-up peak)."""
    w = path[start : b0 + 1]
    best = int(np.argmax(w))
    at = np.flatnonzero(w[best:] >= w[best] - HELD_SIGMAS * noise[start + best : b0 + 1])
    return start + best + int(at[-1])


def _past_the_level(
    p: Prepared, quiet: FloatArray, start: int, b0: int, worst: int, drop: float
) -> int:
    """Where an episode found to start at block ``b0`` (worst block ``worst``) really
    starts: after the last block still at the good level (within two quiet noise units of
    the running best since ``start``) before the first block :data:`NEAR_DEEP` of its
    ``drop`` below it. A fitted line through a settled stretch and the first points of an
    explosion starts to fall too early; a blow-up that thrashes swings back near the level
    now and then, and those swings are the blow-up, not the level it held."""
    running = np.maximum.accumulate(p.robust[start:worst])[b0 - start :]
    r = p.robust[b0:worst]
    deep = np.flatnonzero(running - r >= NEAR_DEEP * drop)
    upto = int(deep[0]) if deep.size else r.size
    near = np.flatnonzero(r[:upto] >= running[:upto] - 2.0 * quiet[b0 : b0 + upto] * p.kappa)
    if near.size and b0 + int(near[-1]) + 1 < worst:
        return b0 + int(near[-1]) + 1
    return b0


def _period_two_orbit(y: FloatArray, onset: int) -> bool:
    """Whether the finite working values just after a jump at ``onset`` swing period-2
    between two steady levels: past the 3-point rise, :data:`ORBIT_POINTS` points whose
    every step reverses the last one, each level (highs and lows apart) moving less than
    :data:`ORBIT_DRIFT` of the swing from one visit to the next (a damped orbit converges
    slowly). A blow-up's chaos swings too, but not between two levels."""
    w = y[onset + 3 : onset + 3 + ORBIT_POINTS]
    if w.size < ORBIT_POINTS:
        return False
    d = np.diff(w)
    if not np.all(d[1:] * d[:-1] < 0):
        return False
    swing = float(np.median(np.abs(d)))
    drift = max(float(np.max(np.abs(np.diff(w[0::2])))), float(np.max(np.abs(np.diff(w[1::2])))))
    return drift < ORBIT_DRIFT * swing


def _at_jump(
    p: Prepared, path: FloatArray, b0: int, b1: int, top: float, drop: float
) -> tuple[int, float]:
    """Where the episode ``[b0, b1)`` starts when a one-step fall inside it (the block
    before it to both blocks after it) carries half its ``drop`` or more after a sag of
    less than :data:`SAG_SHARE` of it: at that fall, from the level just before it.
    Else ``(b0, top)`` unchanged."""
    r = p.robust
    for j in range(b0 + 1, b1):
        before = float(r[j - 1])
        if top - before >= SAG_SHARE * drop:
            break
        if before - float(r[j : j + 2].max()) >= 0.5 * drop:  # np.max, less the wrapper
            return j, before
    return b0, top


def _sudden(p: Prepared, ep: _Episode, onset: int) -> bool:
    """Whether the episode starts with a one-step fall that carries half its worsening or
    more: the step into ``onset`` does, and the three points from it on sit that far below
    the three before it (on points, not blocks: a block may hold the jump). A collapse,
    not a drift."""
    if onset < 1:
        return False
    half = 0.5 * ep.drop
    before = p.y[max(0, onset - 3) : onset]
    after = p.y[onset : onset + 3]
    return bool(
        float(p.y[onset - 1] - p.y[onset]) >= half
        and fast_median(before) - fast_median(after) >= half
    )


def _onset_point(p: Prepared, ep: _Episode) -> int:
    """The finite point where the episode starts: exact at a jump (a one-step collapse
    inside a block of several points), else the first point of its first block."""
    seg = next((s for s in p.segments if s.b0 == ep.b0), None)
    if seg is not None and seg.jump < 0:
        return jump_point(p, ep.b0)
    return int(p.bins.start[ep.b0])
