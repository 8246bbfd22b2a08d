"""Plateaus: stretches where a metric makes no progress that stands out of its noise."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tbplateau.detectors.base import (
    Detector,
    Prepared,
    check_fraction,
    check_positive,
    fitted_path,
    is_jump,
    jump_point,
    onset_tolerance,
    prepare,
    sorted_findings,
    stretch_kappa,
)
from tbplateau.findings import Finding, FindingKind, Goal
from tbplateau.series import Series
from tbplateau.stats import (
    fast_clip,
    fast_mean,
    fast_median,
    fast_ptp,
    fast_quantiles,
    fit_line,
    fit_slope,
    monotone_fit,
    moving_median,
    noise_scale,
)

__all__ = ["PlateauDetector"]

SETTLED = 0.035
"""A converging stretch has settled once what is left of its improvement (in the
metric's own units) is this share of it (within the 90-98 % a reader names, nearer its
middle than 3 %, at which a quiet convergence was named late or, its tail then too short
to judge, not at all: on the evaluation set's real dev runs and a private pool of 760 more,
the settled tails missed fell from 277 to 238, for 20 more false alarms)."""

MOST_SETTLED = 0.05
"""...or this share of it, where the noise hides that much (90-98 % is what a reader
would name)."""

CONSTANT_CONFIDENCE = 0.92
"""Confidence of a plateau of exactly equal values."""

FEW_POINTS = 12
"""A series of fewer points than this (a few evaluations: 4 of an RL reward, 11 of a short
fine-tune) gets plateaus of at most :data:`FEW_POINTS_CONFIDENCE`."""

FEW_POINTS_CONFIDENCE = 0.65
"""The most confidence of a plateau on fewer than :data:`FEW_POINTS` points: the evaluation set
has no such series to calibrate it on (its runs log 25 points or more), and a handful of
evaluations rarely shows a stall beyond doubt. Under the verdicts' "weak" line (0.7)."""


NO_PROGRESS = 0.02
"""A series that stays within this share of its level never made progress: one plateau."""

FLAT_PHASE_POINTS = 6
"""Fewest points of a phase judged flat as a whole."""

FLAT_PHASE_DRIFT = 0.1
"""Most a loss's phase from a jump, an event or a kink may drift on its log scale to be
flat against the progress made before it: a loss still falling by 10 % or more (a steady
20-50 % decline after a logged LR change) is moving, however small that is against the
fall before it. That holds after a kink too (a sudden slowdown of at least
:data:`SLOWDOWN` times, as an LR cut makes): a step schedule's middle phase that keeps
falling 22 % after its cut slowed the fall sevenfold is still learning (on the evaluation
set's dev runs and the tuning pool: 26 fewer false alarms for 3 plateaus found later)."""

INTERIOR_POINTS = 8
"""Fewest points of a plateau that the metric leaves by improving again (a lull)."""

INTERIOR_FRACTION = 0.1
"""Fewest points of such a plateau, as a fraction of the series."""

TAIL_POINTS = 8
"""Fewest points of a settled tail."""

TAIL_FRACTION = 0.15
"""Fewest points of a settled tail that lasts to the end, as a fraction of its phase
(shorter, one cannot tell a converged curve from one still creeping)..."""

TAIL_SERIES_FRACTION = 0.1
"""...and as a fraction of the series (a last phase that a noise step cut short, right
before a NaN tail, leaves too little to judge)."""


GAIN_LEVEL_BLOCKS = 3
"""Fewest blocks of the piece before a jump for the better for that jump to count in the
improvement of the phase it opens (a level the metric sat at: a blow-up's swings, a
staircase's step; not one evaluation logged before training started)."""

SETTLED_SE = 0.03
"""A settled tail after a recovery whose standard error is under this share of its phase's
improvement is measurably flat, however little noise (all of it curvature) it has."""


def _given_back(p: Prepared, b0: int, b1: int) -> float:
    """How far the running median (five blocks) of blocks ``[b0, b1)`` improves past both
    its ends (the medians of up to three blocks there): a dip that comes back up."""
    w = p.robust[b0:b1]
    k = min(3, w.size)
    best = float((moving_median(w, 5) if w.size >= 5 else w).max())
    return min(best - fast_median(w[:k]), best - fast_median(w[-k:]))


def calibrated_confidence(raw: float) -> float:
    """A plateau's confidence from its raw score ``0.4 + 0.3 flatness + 0.3 length`` (in
    [0.4, 1]), so that it reads as the share of such findings a reader would name.

    Fitted on the evaluation set's dev split and the tuning pools (round 8; never on
    test): with the round's fewer false alarms, a raw score up to 0.85 matches a label
    about 80 % of the time whatever its value (0.81-0.83 under 0.75, 0.74-0.80 from 0.76
    to 0.86), above that the share climbs to about 0.9 (0.84 at 0.86-0.90, 0.88 from 0.95).
    Monotone and piecewise linear: [0.4, 0.85] to [0.78, 0.82], [0.85, 1] to [0.82, 0.92].
    """
    r = min(1.0, max(0.4, raw))
    if r < 0.85:
        return 0.78 + 0.04 * (r - 0.4) / 0.45
    return 0.82 + 0.10 * (r - 0.85) / 0.15


@dataclass
class _Stretch:
    """A candidate plateau: blocks ``[b0, b1)``, finite points ``[p0, p1)``."""

    b0: int
    b1: int
    p0: int
    p1: int
    constant: bool = False
    tail: bool = False
    whole: bool = False
    """The whole series, which never made progress (kept without further tests)."""
    phase: bool = False
    """A whole phase that barely moves (from a jump, an event or the start)."""
    piece: bool = False
    """Made of flat pieces of the segmentation only (a settled tail merged into it did
    not move its bounds): flat on its own evidence, not on the shape of the curve."""
    cut_short: bool = False
    """A run of equal values cut from the end of a plateau that a jump, an event or the end
    of the series ends, a few points before that end: it ends where the plateau did."""
    against_jump: bool = False
    """Such a phase, flat against the collapse it starts with (a jump for the worse to a
    new level): its flatness is measured in units of that jump, whatever the noise's
    autocorrelation."""
    scale: float = 0.0
    """For a settled tail on its own: the improvement of its phase (working units) that
    it was judged settled against..."""
    recovered: bool = False
    """...counted from the level before the jump for the better the phase opens with (a
    recovery from a blow-up, a step LR cut)."""
    parts: list[_Stretch] = field(default_factory=list)
    """The candidates this one was joined from (empty for one never joined): judged on
    their own when the joined one is not a plateau (a settled tail inside a phase that
    moves too much as a whole is still a settled tail)."""


def _overlaps(st: _Stretch, others: list[_Stretch]) -> bool:
    """Whether ``st`` shares a block with one of ``others``."""
    return any(st.b0 < o.b1 and o.b0 < st.b1 for o in others)


def _parts(st: _Stretch) -> list[_Stretch]:
    """The candidates ``st`` was joined from, or a copy of ``st`` itself."""
    if st.parts:
        return list(st.parts)
    # replace(st, parts=[]) without its per-call introspection: the same field values
    bare = _Stretch.__new__(_Stretch)
    bare.__dict__.update(st.__dict__)
    bare.parts = []
    return [bare]


def _join(j: _Stretch, g: _Stretch) -> None:
    """Record, before ``j`` takes ``g`` in, what the two were joined from."""
    j.parts = _parts(j) + _parts(g)


class PlateauDetector(Detector):
    """Find the plateaus of a metric (``goal`` ``"min"`` or ``"max"``; nothing for ``None``).

    The series is reduced to at most 200 blocks and cut into straight pieces at its
    runs of equal values, level shifts, jumps and kinks, each piece with its own
    local noise (see :func:`~tbplateau.detectors.base.prepare`). A piece is *flat*
    when the progress its line makes from end to end is less than ``min_progress``
    times its noise, in either direction (and, for a piece of ``L`` blocks, less than
    two standard errors of that change, ``2 sqrt(12 / L)`` long-run noise units).
    Consecutive flat pieces at one level form one plateau; pieces separated by a jump
    (a step learning-rate schedule makes a staircase) stay separate plateaus, but for a
    brief excursion (a dip or a spike of at most three blocks that comes back to the
    level, with no event of the run in it), which leaves one plateau. Between
    two jumps (a *phase*), a converging curve has also plateaued once what is left of
    its improvement is less than 3.5 % of it (5 % where noise hides that much: the tail
    of an exponential or power-law convergence), for a loss both in its own units and
    on its log scale; a phase that opens with a jump for the better (a recovery from a
    blow-up) counts that jump in its improvement. A run of
    exactly equal values is a plateau of its own (``detail.constant`` true: a dead
    network, frozen layers, a learning rate of zero). A series that stays within 2 %
    of its level (90 % of its points) made no progress at all: one plateau from its
    first point.

    A plateau needs ``min_points`` points and ``min_fraction`` of the series (a run of
    five or more equal values that lasts to an event of the run or a non-finite value,
    five: exact equality needs no noise to be judged against); one
    that the metric leaves by improving again (a lull, not cut short by a jump, a
    non-finite value or the end) needs 8 points and a tenth of the series, and a
    settled tail that lasts to the end 15 % of it. ``end_step`` is
    ``None`` when it lasts to the end. ``detail`` gives, on the plateau's own points,
    its ``level`` (median), the ``low``/``high`` band holding 90 % of them, the
    ``best`` value and its ``best_step``, and ``robust_best``, the best of a running
    median of three points (``best_is_outlier`` when the best point lies further from
    it than half the band is wide: one lucky point).

    Needs at least ``min_points`` finite points; NaN holes are skipped over.

    Parameters
    ----------
    min_progress : float
        Progress, in noise units, that a piece must make not to be flat (default 3).
    min_points : int
        Fewest points in a plateau (default 4).
    min_fraction : float
        Fewest points in a plateau as a fraction of the series (default 0.06).
    max_share : float
        A stretch whose trend is statistically clear (two standard errors under the
        possibly autocorrelated noise) is a plateau only while that trend is less than
        this share of the whole series' progress (default 0.2).

    Examples
    --------
    >>> import numpy as np
    >>> from tbplateau.series import Series
    >>> rng = np.random.default_rng(1)
    >>> t = np.arange(300)
    >>> trend = np.where(t < 120, 2.0 * np.exp(-t / 40), 2.0 * np.exp(-3.0))
    >>> loss = trend * np.exp(rng.normal(0, 0.02, 300))
    >>> s = Series("r", "loss", steps=t, values=loss)
    >>> [(f.start_step, f.end_step) for f in PlateauDetector().detect(s, "min")]
    [(116, None)]
    """

    kind = FindingKind.PLATEAU

    def __init__(
        self,
        *,
        min_progress: float = 3.0,
        min_points: int = 4,
        min_fraction: float = 0.06,
        max_share: float = 0.2,
    ) -> None:
        check_positive("min_progress", min_progress)
        check_fraction("max_share", max_share)
        self.max_share = float(max_share)
        check_positive("min_points", min_points, integer=True)
        check_fraction("min_fraction", min_fraction)
        self.min_progress = float(min_progress)
        self.min_points = int(min_points)
        self.min_fraction = float(min_fraction)

    def detect(self, series: Series, goal: Goal, *, events: Sequence[int] = ()) -> list[Finding]:
        if goal is None:
            return []
        p = prepare(series, goal, events)
        if p.n < max(self.min_points, 3):
            return []
        need = max(self.min_points, int(np.ceil(self.min_fraction * p.n)))
        path = fitted_path(p)
        kept: list[_Stretch] = []
        for st in self._candidates(p, path, need):
            if self._keep(series, p, path, st, need):
                kept.append(st)
                continue
            # a joined candidate that is no plateau: the settled tails it was joined from
            # (a tail inside a phase that moves too much as a whole is still settled)
            for part in (part for part in st.parts if part.tail):
                if not _overlaps(part, kept) and self._keep(series, p, path, part, need):
                    kept.append(part)
        for frozen in _frozen_ends(p, kept):
            if self._keep(series, p, path, frozen, need):
                kept.append(frozen)
        kept = self._across_excursions(p, kept)
        out = [self._finding(series, p, st, need) for st in _across_quiet_events(p, kept)]
        return sorted_findings(out)

    def _across_excursions(self, p: Prepared, kept: list[_Stretch]) -> list[_Stretch]:
        """Join two plateaus at one level and of like noise that a brief excursion
        separates (see :func:`_brief_excursion`): the metric left its level for a moment
        and came back to it, one plateau from the first one's start to the second one's
        end. The level it left is that of the first one's last blocks (as many as the
        second one has): a settled tail may still have crept at its start."""
        out: list[_Stretch] = []
        for st in sorted(kept, key=lambda g: g.b0):
            prev = out[-1] if out else None
            if (
                prev is not None
                and not (prev.constant or st.constant)
                and _brief_excursion(p, prev, st)
                and self._same_level(
                    p, max(prev.b0, prev.b1 - (st.b1 - st.b0)), prev.b1, st.b0, st.b1
                )
                and self._same_calm(p, prev, st)
            ):
                prev.b1, prev.p1 = st.b1, st.p1
                continue
            out.append(st)
        return out

    def _same_calm(self, p: Prepared, a: _Stretch, c: _Stretch) -> bool:
        """Whether the noise of ``a`` and ``c`` is within a factor of :data:`CALM_RATIO`
        of each other (a metric that comes back to its level swinging, at the edge of
        stability, did not come back to its plateau)."""
        na, nc = p.noise(a.b0, a.b1), p.noise(c.b0, c.b1)
        return max(na, nc) <= CALM_RATIO * min(na, nc)

    def _candidates(self, p: Prepared, path: np.ndarray, need: int) -> list[_Stretch]:
        """Flat pieces, settled tails and flat phases, joined; or the whole series."""
        if _no_progress(p):
            # the whole series within a percent or two of its level: never learnt
            whole = _Stretch(0, len(p.bins), 0, p.n, constant=_is_constant(p, 0, p.n), whole=True)
            return _split_at_frozen_ends(p, [whole], self.min_progress, need)
        stretches = self._flat(p, path)
        stretches = self._with_tails(p, path, stretches)
        stretches = self._with_flat_phases(p, stretches)
        for st in stretches:
            for one in (st, *st.parts):
                _snap_to_jumps(p, one, self.min_progress)
                one.constant = _is_constant(p, one.p0, one.p1)
        return _split_at_frozen_ends(p, stretches, self.min_progress, need)

    # -- candidates -------------------------------------------------------------------

    def _se(self, p: Prepared, b0: int, b1: int, kappa: float | None = None) -> float:
        """Standard error of a change fitted over blocks [b0, b1), long-run noise units
        (``kappa``: their :func:`stretch_kappa`, where the caller has it)."""
        if kappa is None:
            kappa = stretch_kappa(p, b0, b1)
        blocks = b1 - b0
        return math.sqrt(12.0 / (blocks if blocks > 1 else 1)) * p.noise(b0, b1) * kappa

    def _flat(self, p: Prepared, path: np.ndarray) -> list[_Stretch]:
        """Flat pieces, joined when consecutive and at one level; runs of equal values."""
        limit = self.min_progress
        by = p.bins.y
        groups: list[_Stretch] = []
        for k, seg in enumerate(p.segments):
            constant = p.constant_segments[k]
            flat = constant or abs(seg.change) < max(
                limit * seg.noise, 2.0 * self._se(p, seg.b0, seg.b1)
            )
            if not flat:
                continue
            if groups and self._joins(p, groups[-1], k, constant):
                g = groups[-1]
                line = fit_line(p.bins.x[g.b0 : seg.b1], by[g.b0 : seg.b1])
                span = float(p.bins.x[seg.b1 - 1] - p.bins.x[g.b0])
                noise = max(p.noise(g.b0, g.b1), seg.noise)
                if self._same_level(p, g.b0, g.b1, seg.b0, seg.b1) and abs(line.slope * span) < max(
                    limit * noise, 2.0 * self._se(p, g.b0, seg.b1)
                ):
                    g.b1, g.p1 = seg.b1, seg.p1
                    g.constant = g.constant and constant
                    continue
            groups.append(_Stretch(seg.b0, seg.b1, seg.p0, seg.p1, constant, piece=True))
        # Runs of equal values keep their exact bounds (a block may hold both sides).
        for g in groups:
            if g.constant:
                for a, b in p.runs:
                    if a <= g.p0 and g.p1 <= b:
                        g.p0, g.p1 = a, b
        return self._merge(p, groups)

    def _joins(self, p: Prepared, g: _Stretch, k: int, constant: bool) -> bool:
        """Whether flat piece ``k`` (``constant``: a run of equal values) may continue stretch
        ``g``: right after it, no jump between them, and no event of the run that starts
        a new stretch (rejoined after if it changed nothing).

        A run of equal values and a flat stretch of :data:`FROZEN_POINTS` or more join (a
        quantised metric holds one value for a while inside its plateau: 0.985 for 9 epochs
        after 20 at 0.985-0.987 is no plateau of its own), but for a run that ends the
        series: a metric that stops changing at all at the end has stopped there
        (:func:`_split_at_frozen_ends`).
        """
        seg = p.segments[k]
        if g.b1 != seg.b0 or is_jump(p, k, self.min_progress):
            return False
        if not (constant or seg.b0 not in p.events or _quiet_event(p, g.b0, seg.b0, seg.b1)):
            return False
        if g.constant == constant:
            return True
        # the flat stretch must be a level held on its own (as many points as a run of equal
        # values needs), not a few flat points of a decay that lend a short run their length
        if g.constant:
            return seg.p1 - seg.p0 >= FROZEN_POINTS
        return seg.b1 < len(p.bins) and g.p1 - g.p0 >= FROZEN_POINTS

    def _same_level(self, p: Prepared, a0: int, a1: int, c0: int, c1: int) -> bool:
        """Two stretches of blocks sit at one level when their means differ by less than
        the progress limit and by less than the noise of that difference."""
        by = p.bins.y
        diff = abs(fast_mean(by[c0:c1]) - fast_mean(by[a0:a1]))
        noise = max(p.noise(a0, a1), p.noise(c0, c1))
        se = math.hypot(self._se(p, a0, a1), self._se(p, c0, c1))
        return diff < self.min_progress * noise or diff < se

    def _merge(self, p: Prepared, groups: list[_Stretch]) -> list[_Stretch]:
        """Join consecutive flat groups at one level: a bump between two flat stretches
        (a noise excursion, a one-step jump of a quantised metric) is part of the plateau,
        a staircase step is not. Runs of equal values join only each other."""
        out: list[_Stretch] = []
        for g in groups:
            if out and out[-1].constant == g.constant:
                prev = out[-1]
                gap_ok = not any(
                    prev.b1 <= seg.b0 <= g.b0
                    and (
                        is_jump(p, k, self.min_progress)
                        or (
                            not g.constant
                            and seg.b0 in p.events
                            and not _quiet_event(p, prev.b0, seg.b0, g.b1)
                        )
                        or (not g.constant and seg.b1 <= g.b0 and p.constant_segments[k])
                    )
                    for k, seg in enumerate(p.segments)
                )
                if gap_ok and self._same_level(p, prev.b0, prev.b1, g.b0, g.b1):
                    prev.b1, prev.p1 = g.b1, g.p1
                    continue
            out.append(g)
        return out

    def _with_tails(
        self, p: Prepared, path: np.ndarray, stretches: list[_Stretch]
    ) -> list[_Stretch]:
        """Add the settled tail of every converging phase (between jumps), merged with
        the flat stretches it overlaps."""
        out = list(stretches)
        for q0, q1 in _phases(p, self.min_progress):
            found = self._tail(p, path, q0, q1)
            if found is None:
                continue
            b0, scale, recovered = found
            merged = False
            p1 = int(p.bins.start[q1]) if q1 < len(p.bins) else p.n
            alone = _Stretch(b0, q1, int(p.bins.start[b0]), p1, tail=True, scale=scale)
            alone.recovered = recovered
            for g in out:
                inside = not g.constant and g.b1 > b0 and g.b0 < q1 and g.b0 >= q0
                if inside and (g.b1 >= q1 or g.b0 <= b0):
                    _join(g, alone)
                    g.piece = g.piece and g.b0 <= b0 and g.b1 >= q1
                    g.b0 = min(g.b0, b0)
                    g.p0 = int(p.bins.start[g.b0])
                    g.b1 = max(g.b1, q1)
                    g.p1 = int(p.bins.start[g.b1]) if g.b1 < len(p.bins) else p.n
                    merged = True
            if not merged:
                out.append(alone)
            else:
                for g in out:
                    if g.b0 <= b0 < g.b1:
                        g.tail = True
        out.sort(key=lambda g: g.b0)
        # overlapping candidates become one
        joined: list[_Stretch] = []
        for g in out:
            if joined and g.b0 < joined[-1].b1 and g.constant == joined[-1].constant:
                j = joined[-1]
                _join(j, g)
                if g.b1 > j.b1:
                    j.b1, j.p1 = g.b1, g.p1
                    j.piece = j.piece and g.piece
                j.tail = j.tail or g.tail
                continue
            joined.append(g)
        return joined

    def _with_flat_phases(self, p: Prepared, stretches: list[_Stretch]) -> list[_Stretch]:
        """Add every phase after the first that barely moves, from its first block.

        A phase (between jumps and events) is flat when the medians of its thirds
        (first, middle and last) differ by at most two long-run noise units, or by a tenth of the
        progress made before it (for a loss, by at most
        :data:`FLAT_PHASE_DRIFT` on its log scale), or of the jump it starts with: a metric
        that stalls after an LR cut or a collapse does so from there on.
        """
        out = list(stretches)
        kinks = _kinks(p, self.min_progress)
        for k, (q0, q1) in enumerate(_phases(p, self.min_progress)):
            # the first phase starts with the first fall, one cut at a fast fall (a drop)
            # with that fall: their settled tails are their plateaus; a kink inside a
            # phase (an LR cut without a jump) starts a flat stretch of its own
            starts = [q0] if k and _jump_at(p, q0, self.min_progress) else []
            starts += [b for b in kinks if q0 < b < q1]
            for b0 in starts:
                calm = self._flat_phase(p, b0, q1, sharp=any(b0 < b < q1 for b in kinks))
                if calm is not None:
                    p1 = int(p.bins.start[q1]) if q1 < len(p.bins) else p.n
                    st = _Stretch(b0, q1, int(p.bins.start[b0]), p1, phase=True)
                    st.against_jump = calm == "jump"
                    out.append(st)
                    break
        # a phase that is a run of equal values is that run
        consts = [g for g in out if g.constant]
        out = [
            g
            for g in out
            if not (g.phase and any(c.b0 <= g.b0 and g.b1 <= c.b1 + 1 for c in consts))
        ]
        out.sort(key=lambda g: (g.b0, g.constant))
        joined: list[_Stretch] = []
        for g in out:
            if joined and g.b0 < joined[-1].b1 and g.constant == joined[-1].constant:
                j = joined[-1]
                _join(j, g)
                if g.b1 > j.b1:
                    j.b1, j.p1 = g.b1, g.p1
                    j.piece = j.piece and g.piece
                j.tail = j.tail or g.tail
                j.phase = j.phase or (g.phase and g.b0 == j.b0)
                j.against_jump = j.against_jump or (g.against_jump and g.b0 == j.b0)
                continue
            joined.append(g)
        return joined

    def _flat_phase(self, p: Prepared, q0: int, q1: int, *, sharp: bool = False) -> str | None:
        """Whether blocks ``[q0, q1)`` (to the end of a phase) barely move (see
        :meth:`_with_flat_phases`; ``sharp``: a kink lies inside), and against
        what:
        the collapse (``"jump"``) or the ``"drop"`` it starts with, its ``"noise"`` or the
        progress made ``"before"`` it."""
        if q1 - q0 < 3 or int(p.bins.start[q0]) + FLAT_PHASE_POINTS > (
            int(p.bins.start[q1]) if q1 < len(p.bins) else p.n
        ):
            return None
        w = p.robust[q0:q1]
        third = max(1, (q1 - q0) // 3)
        first = fast_median(w[:third])
        last = fast_median(w[-third:])
        # the middle third too: a fall that turns back up (a loss that falls after an LR
        # raise, then climbs back to its level before it blows up) has its outer thirds
        # at one level, never its middle one
        middle = fast_median(w[third:-third])
        drift = max(abs(last - first), abs(middle - first), abs(middle - last))
        if sharp:
            # from its first blocks too: a fall that ends in a kink shorter than half a
            # third hides in the medians
            drift = max(drift, abs(last - fast_median(w[: min(3, third)])))
        noise = p.noise(q0, q1) * stretch_kappa(p, q0, q1)
        before = abs(fast_median(p.robust[: min(3, q0)]) - first)
        at = p.segment_starts.get(q0)
        jump = 0.0 if at is None else p.segments[at].jump
        # a collapse's new level (a jump for the worse) is judged against that jump first
        collapse = 0.1 * -jump
        capped = p.log_scale and drift > FLAT_PHASE_DRIFT
        for what, calm in (("jump", collapse), ("noise", 2.0 * noise), ("before", 0.1 * before)):
            if drift <= calm and not (capped and what == "before"):
                return what
        if drift <= 0.1 * jump:
            return "drop"
        return None

    def _tail(
        self, p: Prepared, path: np.ndarray, q0: int, q1: int
    ) -> tuple[int, float, bool] | None:
        """First block of the settled tail of phase ``[q0, q1)``, or ``None``; with the
        improvement (working units) it settled after, and whether that counts the jump
        for the better the phase opens with (see :meth:`_opening_gain`).

        Settled on the metric's own scale *and*, for a loss, on its log scale (a loss
        that still halves from 0.02 to 0.01 after falling from 2.3 has done 99.6 % of
        its improvement in its own units, 84 % in log units: a reader who looks at
        either plot must see it flat), whichever comes later.
        """
        if q1 - q0 < 4:
            return None
        w = p.robust[q0:q1]
        noise = p.noise(q0, q1)
        kappa = stretch_kappa(p, q0, q1)
        k_end = max(3, (q1 - q0) // 10)
        k = min(3, w.size)
        gained = fast_median(w[-k_end:]) - fast_median(w[:k])
        if abs(gained) < self.min_progress * noise * kappa:
            return None
        block = p.local[q0:q1] * kappa
        gain = self._opening_gain(p, q0) if gained > 0 else 0.0
        if gain > 0:
            # the phase opens with a jump for the better (a recovery, a step LR cut) and
            # goes on improving: its improvement counts from the level before that jump
            w = np.concatenate(([float(w[0]) - gain], w))
            block = np.concatenate((block[:1], block))
        onset, total = _settled(w, block, k_end)
        if p.log_scale and onset is not None:
            raw = np.exp(-fast_clip(w, -700.0, 700.0))
            # the metric's own units (oriented: larger is better), and their block noise
            own, _ = _settled(-raw, block * raw, k_end)
            onset = None if own is None else max(onset, own)
        if onset is None:
            return None
        return q0 + max(0, onset - (1 if gain > 0 else 0)), total, gain > 0

    def _opening_gain(self, p: Prepared, q0: int) -> float:
        """The improvement of the real jump that phase ``[q0, ...)`` starts with (0 if none)."""
        k = p.segment_starts.get(q0, 0)
        if k == 0 or not is_jump(p, k, self.min_progress):
            return 0.0
        before = p.segments[k - 1]
        if before.b1 - before.b0 < GAIN_LEVEL_BLOCKS:
            return 0.0
        return max(p.segments[k].jump, 0.0)

    # -- decisions ---------------------------------------------------------------------

    def _settled_at_once(self, p: Prepared, st: _Stretch, need: int) -> bool | None:
        """The verdicts that need no statistics: too short, a quantised metric's brief run
        of equal values, a run of equal values or the whole series (kept), a fall of an
        order of magnitude (not kept); ``None`` when the stretch must be judged."""
        points = st.p1 - st.p0
        if points < need and not self._frozen_to_an_event(p, st):
            return False
        if (
            st.constant
            and st.b1 < len(p.bins)
            and not st.cut_short
            and not _ends_at_event(p, st.b1, self.min_progress)
            and points < max(INTERIOR_POINTS, INTERIOR_FRACTION * p.n)
        ):
            return False  # a quantised metric repeats its value for a while as it moves
        if st.constant or st.whole:
            return True
        if p.log_scale and _spans_a_decade(p.raw_range(st.p0, st.p1)):
            return False  # a fall of an order of magnitude is progress, whatever the noise
        return None

    def _tail_too_short(self, p: Prepared, st: _Stretch) -> bool:
        """Whether a settled tail has too few points to tell from a curve still creeping."""
        if not st.tail:
            return False
        points, to_end = st.p1 - st.p0, st.b1 >= len(p.bins)
        if to_end and points < TAIL_FRACTION * self._phase_points(p, st.b0):
            return True
        if to_end and points < TAIL_SERIES_FRACTION * p.n:
            return True
        return points < TAIL_POINTS

    def _keep(self, series: Series, p: Prepared, path: np.ndarray, st: _Stretch, need: int) -> bool:
        at_once = self._settled_at_once(p, st, need)
        if at_once is not None:
            return at_once
        m = len(p.bins)
        b0, b1 = st.b0, st.b1
        limit = self.min_progress
        noise = p.noise(b0, b1)
        kappa = stretch_kappa(p, b0, b1)
        se = self._se(p, b0, b1, kappa)
        # Flatness must be measurable: under strongly autocorrelated noise a short
        # stretch of a steadily improving curve often looks flat by chance.
        white = 2.0 * math.sqrt(12.0 / max(b1 - b0, 1)) * noise
        # (a settled tail after a recovery is judged against the improvement it settled
        # after: on a nearly noise-free curve the noise, all curvature, cannot tell)
        measured = st.recovered and se <= SETTLED_SE * st.scale
        if se > max(limit * noise, white) and not st.against_jump and not measured:
            return False
        # A settled tail rests on the shape of the whole curve: judge it under the
        # series' autocorrelation, not the (shorter, less certain) piece's own.
        tail_only = st.tail and not st.piece
        loose = se * p.kappa / kappa
        if tail_only and not measured and loose > max(limit * noise, white):
            return False
        trend = fit_slope(p.bins.x[b0:b1], p.robust[b0:b1]) * float(p.bins.x[b1 - 1] - p.bins.x[b0])
        # the running median of five blocks: the prepared one where it is that
        smooth = p.smooth if m >= 5 else moving_median(p.bins.y, 5)
        progress = fast_ptp(smooth) if smooth.size else 0.0
        clear = abs(trend) >= max(2.0 * se, noise)
        if clear and abs(trend) >= self.max_share * progress:
            return False
        # nor one that climbs and falls back (a hump: its line may be flat); a phase from
        # a jump was judged by its thirds (its first blocks' running median straddles it)
        if not (st.whole or st.phase) and _bump(p, b0, b1) >= max(
            self.max_share * progress, 2.0 * limit * noise
        ):
            return False
        # A settled tail may not dip past both its ends by more than a settled tail may
        # have left to improve: its end swung back up (a steady decline, then the run
        # turned unstable), and the level it was judged settled to was no level.
        if st.scale > 0 and _given_back(p, b0, b1) > MOST_SETTLED * st.scale:
            return False
        if self._tail_too_short(p, st):
            return False
        # A settled tail that a jump or an event cuts short (a raise, a collapse) rests on
        # the shape of its phase: it need not stand out against the trend before it (a
        # smooth convergence settles at the pace it was already slowing to). Not one
        # settled against a recovery: that much improvement hides a steady decline.
        cut_short = st.tail and b1 < m and _ends_at_event(p, b1, limit) and not st.recovered
        # Nor one that lasts to the end and whose own trend is under what a settled tail
        # may have left to improve: 95 % of the way to its level is a plateau, whatever the
        # pace before it (a slow convergence's tail keeps the pace it slowed to).
        done = st.tail and b1 >= m and abs(trend) <= MOST_SETTLED * st.scale
        if not (cut_short or done) and not self._stands_out(p, st, trend, se):
            return False
        return not self._short_lull(p, path, st, noise)

    def _short_lull(self, p: Prepared, path: np.ndarray, st: _Stretch, noise: float) -> bool:
        """Whether ``st`` is a lull the metric leaves by improving again, with fewer points
        than such a plateau needs (:data:`INTERIOR_POINTS`, :data:`INTERIOR_FRACTION`). So is
        one cut short by a jump for the better that no logged event explains (a few points
        between an LR raise and the fall it brings on); not one that an event or a jump for
        the worse ends."""
        b0, b1, m = st.b0, st.b1, len(p.bins)
        limit = self.min_progress
        if b1 >= m or (_ends_at_event(p, b1, limit) and not self._better_jump(p, st)):
            return False
        after = path[b1 : min(m, b1 + max(3, b1 - b0))]
        improves = after.size and float(after[-1]) > float(path[b1 - 1]) + limit * noise
        return bool(improves and st.p1 - st.p0 < max(INTERIOR_POINTS, INTERIOR_FRACTION * p.n))

    def _better_jump(self, p: Prepared, st: _Stretch) -> bool:
        """Whether ``st`` (not a run of equal values) ends at a jump for the better that is
        no event of the run."""
        if st.b1 in p.events or st.constant:
            return False
        k = p.segment_starts.get(st.b1)
        return k is not None and is_jump(p, k, self.min_progress) and p.segments[k].jump > 0

    @staticmethod
    def _frozen_to_an_event(p: Prepared, st: _Stretch) -> bool:
        """Whether ``st`` is a run of :data:`FROZEN_POINTS` or more equal values that lasts to
        the end of the series, an event of the run or a non-finite value
        (:func:`_before_event`), on a series not held between updates (:func:`_held`): the
        metric stopped changing at all there, however few points it has left (issue 8: scan
        for runs of equal values directly; on the evaluation set's dev runs and the tuning
        pool, 8 more frozen tails found and no false alarm)."""
        if not st.constant or st.p1 - st.p0 < FROZEN_POINTS or _held(p):
            return False
        return st.p1 >= p.n or _before_event(p, st.p1)

    def _phase_points(self, p: Prepared, b: int) -> int:
        """Points of the phase (between jumps and events) that block ``b`` lies in."""
        for q0, q1 in _phases(p, self.min_progress):
            if q0 <= b < q1:
                return (int(p.bins.start[q1]) if q1 < len(p.bins) else p.n) - int(p.bins.start[q0])
        return p.n

    def _stands_out(self, p: Prepared, st: _Stretch, trend: float, se: float) -> bool:
        """Whether the stretch makes clearly less progress than the trend before it.

        A stretch that starts at the first block or right after a jump (a new phase)
        needs nothing more. Otherwise the line through the blocks just before it (as
        many as it has, within its phase), extended over it, must have made more
        progress than the stretch did by two standard errors of that difference: a
        noisy curve that keeps its pace is not stalling, however flat a piece of it
        looks.
        """
        b0, b1 = st.b0, st.b1
        if b0 == 0 or _jump_at(p, b0, self.min_progress):
            return True
        q0 = max((q for q, _ in _phases(p, self.min_progress) if q <= b0), default=0)
        if b0 - q0 < 3:
            return True  # right after the start of its phase (the settling after a drop)
        a = max(q0, b0 - (b1 - b0))
        span = float(p.bins.x[b1 - 1] - p.bins.x[b0])
        expected = fit_slope(p.bins.x[a:b0], p.bins.y[a:b0]) * span
        se_before = self._se(p, a, b0) * span / max(float(p.bins.x[b0 - 1] - p.bins.x[a]), 1e-300)
        return abs(expected - trend) >= 2.0 * math.hypot(se, se_before)

    def _finding(self, series: Series, p: Prepared, st: _Stretch, need: int) -> Finding:
        limit = self.min_progress
        b0, b1 = st.b0, st.b1
        noise = p.noise(b0, b1)
        change = fast_median(p.bins.y[max(b0, b1 - 3) : b1]) - fast_median(
            p.bins.y[b0 : min(b1, b0 + 3)]
        )
        flatness = 1.0 - min(1.0, abs(change) / (limit * noise))
        length = min(1.0, (st.p1 - st.p0) / (3.0 * need))
        # calibrated on the evaluation set's dev split: nine in ten runs of exactly equal
        # values are the plateau a reader names (the others: a short flat run inside a
        # longer one, a quantised metric)
        raw = 0.4 + 0.3 * flatness + 0.3 * length
        conf = CONSTANT_CONFIDENCE if st.constant else round(calibrated_confidence(raw), 4)
        if p.n < FEW_POINTS:
            conf = min(conf, FEW_POINTS_CONFIDENCE)
        # One or two last points inside the plateau's range (an event such as an LR
        # logged as 0 at the very end cuts the pieces there) do not end it.
        if p.n - 2 <= st.p1 < p.n:
            w, rest = p.y[st.p0 : st.p1], p.y[st.p1 : p.n]
            if w.size and float(w.min()) <= float(rest.min()) <= float(rest.max()) <= w.max():
                st.p1 = p.n
        # A plateau that runs into a non-finite tail ends at its last finite point.
        to_end = st.p1 >= p.n and int(p.pos[-1]) == len(series) - 1
        end = None if to_end else p.step_at(st.p1 - 1)
        detail: dict[str, Any] = {
            "constant": st.constant,
            "points": int(st.p1 - st.p0),
            "change": float(-change if not p.log_scale else change),
            "noise": noise,
            "log_scale": p.log_scale,
        }
        detail.update(_levels(p, st.p0, st.p1))
        return Finding(self.kind, p.step_at(st.p0), end, (series.tag,), conf, detail)


BRIEF_EXCURSION = 3
"""Most blocks of an excursion between two stretches at one level that leaves them one
plateau (see :func:`_brief_excursion`)."""


CALM_RATIO = 2.0
"""Most ratio of the noise of two plateaus that a brief excursion separates, for them to
be one (see :meth:`PlateauDetector._across_excursions`)."""


def _brief_excursion(p: Prepared, a: _Stretch, c: _Stretch) -> bool:
    """Whether the blocks between ``a`` and ``c`` (which follows it) are a brief excursion:
    one to :data:`BRIEF_EXCURSION` blocks, fewer than either stretch has, with no event of
    the run among them (a dip or a spike that comes back, not a schedule's step)."""
    gap = c.b0 - a.b1
    if not 0 < gap <= BRIEF_EXCURSION or gap >= min(a.b1 - a.b0, c.b1 - c.b0):
        return False
    return not any(a.b1 <= e <= c.b0 for e in p.events)


def _bump(p: Prepared, b0: int, b1: int) -> float:
    """How far the running median of blocks ``[b0, b1)`` rises above both its ends (the
    medians of up to three blocks there) or falls below both: a hump or a dip, which a
    curve that only settles does not make."""
    smooth = p.smooth[b0:b1]
    if smooth.size < 3:
        return 0.0
    k = min(3, b1 - b0)
    e0, e1 = fast_median(p.robust[b0 : b0 + k]), fast_median(p.robust[b1 - k : b1])
    return max(float(smooth.max()) - max(e0, e1), min(e0, e1) - float(smooth.min()), 0.0)


def _spans_a_decade(raw: np.ndarray) -> bool:
    """Whether the middle 80 % of positive values spans more than a factor of ten (on a
    few points, one huge first value inflates the noise that flatness is judged by)."""
    if raw.size < 2 or float(raw.min()) <= 0:
        return False
    low, high = fast_quantiles(raw, (0.1, 0.9))
    return bool(high > 10.0 * low)


def _levels(p: Prepared, p0: int, p1: int) -> dict[str, Any]:
    """What a reader quotes about a plateau, all from its own points ``[p0, p1)``."""
    raw = p.raw_range(p0, p1)
    if raw.size == 0:
        return {"level": None}
    w = p.y[p0:p1]
    low, high = fast_quantiles(raw, (0.05, 0.95))
    i = int(w.argmax())
    robust = moving_median(w, 3) if w.size >= 3 else w
    j = int(robust.argmax())
    best = float(raw[i])
    robust_best = fast_median(raw[max(0, j - 1) : j + 2]) if w.size >= 3 else best
    return {
        "level": fast_median(raw),
        "low": low,
        "high": high,
        "best": best,
        "best_step": p.step_at(p0 + i),
        "robust_best": robust_best,
        # one lucky point: further from the robust best than half the band is wide
        "best_is_outlier": bool(abs(best - robust_best) > 0.5 * (high - low)),
    }


def _settled(y: np.ndarray, block: np.ndarray, k_end: int) -> tuple[int | None, float]:
    """Where ``y`` (larger is better or worse, one phase of blocks) has settled.

    On a monotone fit, the first block from which what is left of the improvement is
    at most :data:`SETTLED` (3.5 %) of it, or up to 5 % where the noise (one and a half
    long-run block noise units) hides that much (a reader would name 90-98 %), give or take the
    uncertainty of the final level (the median of the last ``k_end`` blocks: a block's
    long-run noise over ``sqrt(k_end)``, at most another 3.5 %). With that block (or
    ``None``), the improvement it was judged against.
    """
    k = min(3, y.size)
    up = fast_median(y[-k:]) >= fast_median(y[:k])
    fit = monotone_fit(y, increasing=up)
    # the final level: the blocks at the end, not the fit's last pool (which noise, and
    # wandering noise most, pushes to an extreme)
    final = fast_median(y[-k_end:])
    total = abs(final - float(fit[0]))
    if not total > 0:
        return None, 0.0
    noise = fast_median(block[-max(k_end, 3) :])
    thr = max(SETTLED * total, min(1.5 * noise, MOST_SETTLED * total))
    thr += min(noise / math.sqrt(k_end), SETTLED * total)
    settled = np.abs(fit - final) <= thr
    first = int(settled.argmax())  # the first True, or 0 when there is none
    return (first if settled[first] else None), total


FROZEN_POINTS = 5
"""Fewest exactly equal values that end a plateau as a stretch of its own (see
:func:`_split_at_frozen_ends`)."""


def _split_at_frozen_ends(
    p: Prepared, stretches: list[_Stretch], limit: float, need: int
) -> list[_Stretch]:
    """Cut off the run of exactly equal values a plateau ends with, as a plateau of its own.

    A quantised metric (an accuracy on a small set) that wanders between a few values and
    then stops changing at all has stopped *there*: a run of :data:`FROZEN_POINTS` or more
    equal values that lasts to the plateau's end (a jump, an event or the end of the
    series) and starts more than the onset tolerance after the plateau does is reported
    from its first value (``detail.constant``); what comes before it stays a candidate of
    its own (kept only if it is a plateau on its own points). A run of equal values
    followed by one no longer than itself (a step of one quantum, say) stays one plateau:
    the metric held its first value at least as long. Nor is one cut off at the end of the
    series that is too short to be a plateau (under ``need`` points): a 400-point accuracy
    that happens to repeat its value over its last 7 points has not stopped there, and its
    plateau runs to the end.
    """
    tol = onset_tolerance(p.n)
    out: list[_Stretch] = []
    for st in stretches:
        found = None if st.constant else _frozen_run(p, st, tol)
        if found is None:
            out.append(st)
            continue
        run, stop = found
        if stop >= p.n and stop - run < need:
            out.append(st)
            continue
        if _is_constant(p, st.p0, run) and run - st.p0 >= stop - run:
            # a run of equal values, then one as long or shorter a quantum away: one plateau
            out.append(st)
            continue
        cut = int(np.searchsorted(p.bins.start, run, side="right")) - 1
        if cut > st.b0:
            before = _Stretch(st.b0, cut, st.p0, run, tail=st.tail, phase=st.phase, whole=st.whole)
            before.scale, before.recovered = st.scale, st.recovered  # a tail stays what it was
            out.append(before)
        b1 = st.b1 if stop >= st.p1 else int(np.searchsorted(p.bins.start, stop, side="left"))
        frozen = _Stretch(max(cut, st.b0), max(b1, cut + 1), run, stop, constant=True)
        frozen.cut_short = stop < st.p1 and (
            st.b1 >= len(p.bins) or _ends_at_event(p, st.b1, limit)
        )
        out.append(frozen)
    return out


def _frozen_run(p: Prepared, st: _Stretch, tol: int) -> tuple[int, int] | None:
    """The run of equal values a stretch ends with, as points ``(first, stop)``.

    The run starts more than ``tol`` points after the stretch and holds at least
    :data:`FROZEN_POINTS` of its points; it may run on past the stretch's end (cut there:
    an event of the run) or stop a few points before it (fewer than the run has: the
    metric moved only as the stretch ended, at the jump that ends it).
    """
    for a, b in reversed(p.runs):
        stop = min(b, st.p1)
        if a - st.p0 <= tol or stop - a < FROZEN_POINTS:
            continue
        if st.p1 >= p.n > stop:
            return None  # a plateau to the end of the series ends frozen only if its run does
        if st.p1 - stop <= min(FROZEN_POINTS, stop - a - 1):
            return a, stop
        return None
    return None


EVENT_SIDE = 5
"""Blocks on each side of an event whose medians tell whether it changed the level."""

EVENT_NOISE = 20
"""Blocks on each side of an event whose point-to-point noise that change is judged by
(unfloored: on a smooth curve a small steady move is a change)."""


def _across_quiet_events(p: Prepared, kept: list[_Stretch]) -> list[_Stretch]:
    """Join two plateaus that meet at an event of the run that changed nothing.

    A schedule's event (a warm restart, an LR change) cuts the phases, but where the
    metric sits at the same level on both sides (the medians of :data:`EVENT_SIDE` blocks
    on each side within two units of the block-to-block noise around the event) it went
    on stalling: one plateau, from the first one's start to the second one's end.
    """
    out: list[_Stretch] = []
    for st in sorted(kept, key=lambda g: g.b0):
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.b1 == st.b0
            and st.b0 in p.events
            and _quiet_event(p, prev.b0, st.b0, st.b1)
        ):
            prev.b1, prev.p1 = st.b1, st.p1
            prev.constant = _is_constant(p, prev.p0, prev.p1)
            continue
        out.append(st)
    return out


def _quiet_event(p: Prepared, b0: int, b: int, b1: int) -> bool:
    """Whether the event at block ``b`` left the level of blocks ``[b0, b1)`` as it was: the
    medians of up to :data:`EVENT_SIDE` blocks on each side within two units of the
    block-to-block noise around it."""
    lo, hi = max(b0, b - EVENT_SIDE), min(b1, b + EVENT_SIDE)
    if lo >= b or hi <= b:
        return True
    gap = abs(fast_median(p.robust[lo:b]) - fast_median(p.robust[b:hi]))
    around = p.bins.y[max(0, b - EVENT_NOISE) : b + EVENT_NOISE]
    return gap <= 2.0 * noise_scale(around, lags=(1,))


def _frozen_ends(p: Prepared, kept: list[_Stretch]) -> list[_Stretch]:
    """The runs of :data:`FROZEN_POINTS` or more equal values that end the series, or end at
    an event of the run or a non-finite value (:func:`_before_event`), when no plateau holds
    their first value (a run too short for the segmentation to cut out as a piece of its
    own, after a metric that kept moving): the metric stopped changing there."""
    out: list[_Stretch] = []
    held = _held(p)
    for a, b in p.runs:
        if b - a < FROZEN_POINTS or any(st.p0 <= a < st.p1 for st in kept):
            continue
        if b < p.n and (held or not _before_event(p, b)):
            continue
        b1 = len(p.bins) if b >= p.n else int(np.searchsorted(p.bins.start, b, side="left"))
        b0 = int(np.searchsorted(p.bins.start, a, side="right")) - 1
        out.append(_Stretch(b0, max(b1, b0 + 1), a, b, constant=True, cut_short=b < p.n))
    return out


def _before_event(p: Prepared, p1: int) -> bool:
    """Whether a stretch ending at point ``p1`` ends within two points of an event of the
    run (the run of equal values may cross it by a point or two) or at a non-finite value
    (a hole, or a non-finite tail)."""
    if p1 >= p.n:
        return int(p.pos[-1]) < len(p.series) - 1
    if p.pos[p1] - p.pos[p1 - 1] > 1:
        return True
    return any(abs(int(p.bins.start[e]) - p1) <= 2 for e in p.events)


HELD_SHARE = 0.8
"""Share of a series' points in runs of equal values from which it is taken for a metric
held between updates (logged every step, recomputed every few steps): a run of it that
ends at an event says nothing."""


def _held(p: Prepared) -> bool:
    """Whether :data:`HELD_SHARE` or more of the points lie in runs of equal values."""
    return sum(b - a for a, b in p.runs) >= HELD_SHARE * p.n


def _no_progress(p: Prepared) -> bool:
    """Whether the whole series stays within :data:`NO_PROGRESS` of its level (90 % of its
    points; on a log scale, 2 % of the loss; else 2 % of the metric's typical size, or of
    its typical distance to 1 for a metric to maximise that lies in [0, 1]: an accuracy
    from 0.959 to 0.979 halved its errors)."""
    if p.n < 4:
        return False
    lo, hi = fast_quantiles(p.y, (0.05, 0.95))
    scale = 1.0 if p.log_scale else fast_median(np.abs(p.y))
    if not p.log_scale and p.goal == "max" and lo >= 0.0 and hi <= 1.0:
        scale = min(scale, fast_median(1.0 - p.y))
    return bool(hi - lo <= NO_PROGRESS * scale)


def _is_constant(p: Prepared, p0: int, p1: int) -> bool:
    return p.is_constant(p0, p1)


def _phases(p: Prepared, limit: float) -> list[tuple[int, int]]:
    """Stretches of blocks between the real jumps of the segmentation
    (:func:`~tbplateau.detectors.base.is_jump`), the run's events (learning-rate
    changes) and around its runs of equal values.

    Memoised on ``p`` (a fresh list each call): several steps of the detector ask.
    """
    memo: dict[float, list[tuple[int, int]]] | None = p.__dict__.get("_phases")
    if memo is None:
        memo = {}
        object.__setattr__(p, "_phases", memo)  # a memo, not a field
    found = memo.get(limit)
    if found is None:
        found = memo[limit] = _find_phases(p, limit)
    return list(found)


def _find_phases(p: Prepared, limit: float) -> list[tuple[int, int]]:
    cuts = {0, len(p.bins), *p.events}
    segs = p.segments
    for k in range(1, len(segs)):
        if (
            is_jump(p, k, limit)
            or _drop(p, k, limit)
            or p.constant_segments[k]
            or p.constant_segments[k - 1]
        ):
            cuts.add(segs[k].b0)
            run_up = segs[k - 1]
            short = run_up.b1 - run_up.b0 <= RUN_UP_BLOCKS
            if (
                is_jump(p, k, limit)
                and k > 1
                and short
                and (run_up.change < 0 or _disturbed(p, k - 1, limit))
            ):
                # a short disturbed piece right before a jump (an LR raise that moves the
                # curve a few points before it blows up) belongs to the jump
                cuts.add(run_up.b0)
    return [(a, b) for a, b in itertools.pairwise(sorted(cuts)) if b > a]


RUN_UP_BLOCKS = 4
"""Longest disturbed piece right before a jump that is cut off with the jump."""


def _disturbed(p: Prepared, k: int, limit: float) -> bool:
    """Whether segment ``k`` moves, either way, by ``limit`` noise units of the calmer
    piece before it, and is noisier than that piece: the curve left its course."""
    seg, calm = p.segments[k], p.segments[k - 1]
    return abs(seg.change) >= limit * calm.noise and seg.noise > calm.noise


DROP_SPEEDUP = 5.0
"""A short piece improving this many times faster than the piece before it starts a new
phase (a step learning-rate cut seen as a fast fall rather than a jump)."""

DROP_BLOCKS = 0.1
"""Longest such fall, as a fraction of the blocks."""


def _drop(p: Prepared, k: int, limit: float) -> bool:
    """Whether segment ``k`` is a sudden fast improvement after slower progress.

    A converging curve only slows down; one whose improvement suddenly speeds up
    ``DROP_SPEEDUP`` times, over a short piece (at most a tenth of the blocks, and
    shorter than the piece before it) that makes ``2 limit`` noise units of progress,
    has entered a new phase (an LR cut, a warm restart ending): a staircase step.
    """
    a, b = p.segments[k - 1], p.segments[k]
    length = b.b1 - b.b0
    if length > max(3, DROP_BLOCKS * len(p.bins)) or length >= a.b1 - a.b0:
        return False
    if b.change < 2.0 * limit * max(a.noise * a.kappa, b.noise * b.kappa):
        return False
    speed_b = b.change / max(float(p.bins.x[b.b1 - 1] - p.bins.x[b.b0]), 1e-300)
    speed_a = a.change / max(float(p.bins.x[a.b1 - 1] - p.bins.x[a.b0]), 1e-300)
    return speed_b > DROP_SPEEDUP * max(speed_a, 0.0)


SLOWDOWN = 5.0
"""A piece improving this many times slower than the clearly improving piece before it
starts a phase that the flat-phase test judges (a step learning-rate cut on a
converging curve, seen as a kink rather than a jump)."""


KINK_BLOCKS = 4
"""Blocks on either side of a break over which a kink's slowdown is measured."""

KINK_STEADY = 0.5
"""Least pace just before a kink, as a share of the pace over the blocks before that."""


def _kinks(p: Prepared, limit: float) -> list[int]:
    """First blocks of the pieces where a steady improvement suddenly slows.

    Over the :data:`KINK_BLOCKS` blocks on either side of a break, the pace after is
    :data:`SLOWDOWN` times slower than the pace before, which makes ``limit`` noise units
    of progress and is at least half the pace of the :data:`KINK_BLOCKS` blocks before
    it: a curve that was keeping its pace (an exponential approach slows by the same
    factor over each window, so it cannot both keep its pace and then drop it).
    """
    out = []
    x, r = p.bins.x, p.robust
    for seg in p.segments[1:]:
        b = seg.b0
        lo, hi = b - 2 * KINK_BLOCKS, min(seg.b1, b + KINK_BLOCKS)
        if lo < 0 or hi - b < 2:
            continue
        # the three tests in order of cost saved: most breaks fail the first
        before = fit_slope(x[b - KINK_BLOCKS : b], r[b - KINK_BLOCKS : b])
        span = float(x[b - 1] - x[b - KINK_BLOCKS])
        if not before * span >= limit * p.noise(b - KINK_BLOCKS, b) * p.kappa:
            continue  # no clear improvement before the break
        if not SLOWDOWN * fit_slope(x[b:hi], r[b:hi]) <= before:
            continue  # no sudden slowdown after it
        if before >= KINK_STEADY * fit_slope(x[lo : b - KINK_BLOCKS], r[lo : b - KINK_BLOCKS]):
            out.append(b)
    return out


def _snap_to_jumps(p: Prepared, st: _Stretch, limit: float) -> None:
    """Put the bounds of a stretch that starts or ends at a jump on the jump's point."""
    if st.constant:
        return
    if st.b0 > 0 and _jump_at(p, st.b0, limit):
        st.p0 = jump_point(p, st.b0)
    if st.b1 < len(p.bins) and _jump_at(p, st.b1, limit):
        st.p1 = jump_point(p, st.b1)


def _jump_at(p: Prepared, b: int, limit: float) -> bool:
    """Whether a new phase starts at block ``b``: a real jump or an event of the run."""
    if b in p.events:
        return True
    k = p.segment_starts.get(b)
    return k is not None and is_jump(p, k, limit)


def _ends_at_event(p: Prepared, b1: int, limit: float) -> bool:
    """Whether a stretch ending at block ``b1`` is cut short by a jump, a sudden fast
    improvement (:func:`_drop`) or a non-finite hole."""
    if _jump_at(p, b1, limit):
        return True
    k = p.segment_starts.get(b1)
    if k and _drop(p, k, limit):
        return True
    p1 = int(p.bins.start[b1])
    return bool(p1 < p.n and p.pos[p1] - p.pos[p1 - 1] > 1)
