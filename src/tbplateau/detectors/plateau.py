"""Plateaus: stretches where a metric makes no progress that stands out of its noise."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from tbplateau.detectors.base import (
    Detector,
    Segment,
    check_fraction,
    check_positive,
    prepare,
    sorted_findings,
)
from tbplateau.findings import Finding, FindingKind, Goal
from tbplateau.series import Series
from tbplateau.stats import fit_line, moving_median

__all__ = ["PlateauDetector"]


class PlateauDetector(Detector):
    """Find the plateaus of a metric (``goal`` ``"min"`` or ``"max"``; nothing for ``None``).

    The series is reduced to at most 200 blocks and cut into straight pieces (see
    :func:`~tbplateau.detectors.base.prepare`). A piece is *flat* when the progress its
    line makes from end to end is less than ``min_progress`` times the noise scale
    of the blocks, in either direction (and, for a piece of ``L`` blocks, less than
    two standard errors of that change, ``2 sqrt(12 / L)`` noise units). A piece
    that joins a plateau at the same level and keeps the whole stretch flat extends
    it, so consecutive flat pieces at the same level form one plateau; pieces
    separated by a jump (a step learning-rate schedule makes a staircase) stay
    separate plateaus. A plateau needs ``min_points`` points and
    ``min_fraction`` of the series. ``end_step`` is ``None`` when it lasts to the end;
    ``detail.constant`` is true when every value in it is exactly equal (a dead
    network, frozen layers, a learning rate of zero).

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
    [(120, None)]
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

    def detect(self, series: Series, goal: Goal) -> list[Finding]:
        if goal is None:
            return []
        p = prepare(series, goal)
        if p.n < max(self.min_points, 3):
            return []
        limit = self.min_progress
        sigma = p.sigma
        by = p.bins.y

        def se(b0: int, b1: int) -> float:
            # Standard error of the change a line fits over blocks [b0, b1), under the
            # (possibly autocorrelated) noise: sqrt(12 / L) long-run noise units.
            return math.sqrt(12.0 / max(b1 - b0, 1)) * p.sigma_long

        def flat(b0: int, b1: int, change: float) -> bool:
            # A short piece's fitted change is uncertain: ask for 2 standard errors too.
            return abs(change) < max(limit * sigma, 2.0 * se(b0, b1))

        def same_level(a0: int, a1: int, c0: int, c1: int) -> bool:
            # Two stretches of blocks sit at one level when their means differ by less
            # than the progress limit and by less than the noise of that difference.
            diff = abs(float(by[c0:c1].mean()) - float(by[a0:a1].mean()))
            return diff < limit * sigma or diff < 2.0 * math.hypot(se(a0, a1), se(c0, c1)) / 2

        groups: list[list[Segment]] = []
        for seg in p.segments:
            if groups and groups[-1][-1].b1 == seg.b0:
                first = groups[-1][0]
                line = fit_line(p.bins.x[first.b0 : seg.b1], by[first.b0 : seg.b1])
                span = float(p.bins.x[seg.b1 - 1] - p.bins.x[first.b0])
                if same_level(first.b0, seg.b0, seg.b0, seg.b1) and flat(
                    first.b0, seg.b1, line.slope * span
                ):
                    groups[-1].append(seg)
                    continue
            if flat(seg.b0, seg.b1, seg.change):
                groups.append([seg])
        groups = self._merge(groups, same_level)
        need = max(self.min_points, int(np.ceil(self.min_fraction * p.n)))
        smooth = moving_median(by, 5)
        progress = float(np.ptp(smooth)) if smooth.size else 0.0
        out = []
        for g in groups:
            p0, p1 = g[0].p0, g[-1].p1
            if p1 - p0 < need:
                continue
            raw = p.raw_range(p0, p1)
            constant = bool(raw.size and float(np.ptp(raw)) == 0.0)
            # Flatness must be measurable: under strongly autocorrelated noise a short
            # stretch of a steadily improving curve often looks flat by chance.
            blocks = g[-1].b1 - g[0].b0
            white = 2.0 * math.sqrt(12.0 / max(blocks, 1)) * sigma
            if not constant and 2.0 * se(g[0].b0, g[-1].b1) > max(limit * sigma, white):
                continue
            # Small next to the noise is not enough when the stretch is long enough to
            # show a clear trend: then the trend must also be a small part of the
            # progress the whole series made (a slowly but surely improving curve is
            # not stuck).
            b0, b1 = g[0].b0, g[-1].b1
            line = fit_line(p.bins.x[b0:b1], by[b0:b1])
            trend = line.slope * float(p.bins.x[b1 - 1] - p.bins.x[b0])
            if (
                not constant
                and abs(trend) >= max(2.0 * se(b0, b1), sigma)
                and abs(trend) >= self.max_share * progress
            ):
                continue
            change = float(np.median(by[g[-1].b0 : g[-1].b1]) - np.median(by[g[0].b0 : g[0].b1]))
            if len(g) == 1:
                change = g[0].change
            flatness = 1.0 - min(1.0, abs(change) / (limit * sigma))
            length = min(1.0, (p1 - p0) / (3.0 * need))
            conf = 1.0 if constant else round(0.4 + 0.3 * flatness + 0.3 * length, 4)
            # A plateau that runs into a non-finite tail ends at its last finite point.
            to_end = p1 >= p.n and int(p.pos[-1]) == len(series) - 1
            end = None if to_end else p.step_at(p1 - 1)
            detail = {
                "constant": constant,
                "points": int(p1 - p0),
                "change": float(-change if not p.log_scale else change),
                "noise": float(p.sigma),
                "log_scale": p.log_scale,
                "level": float(np.median(raw)) if raw.size else None,
            }
            out.append(Finding(self.kind, p.step_at(p0), end, (series.tag,), conf, detail))
        return sorted_findings(out)

    @staticmethod
    def _merge(
        groups: list[list[Segment]], same_level: Callable[[int, int, int, int], bool]
    ) -> list[list[Segment]]:
        """Join consecutive flat groups that sit at one level.

        Two flat stretches separated only by pieces whose net progress does not stand
        out of the noise (a bump, a noise excursion, a one-step jump of a quantised
        metric) are one plateau; a staircase, whose steps make real progress, is not.
        The pieces in between become part of the plateau.
        """
        out: list[list[Segment]] = []
        for g in groups:
            if out:
                prev = out[-1]
                a0, a1 = prev[0].b0, prev[-1].b1
                c0, c1 = g[0].b0, g[-1].b1
                if same_level(a0, a1, c0, c1):
                    out[-1] = [*prev, *g]
                    continue
            out.append(g)
        return out
