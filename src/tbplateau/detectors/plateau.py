"""Plateaus: stretches where a metric makes no progress that stands out of its noise."""

from __future__ import annotations

import math

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
from tbplateau.stats import fit_line

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
        self, *, min_progress: float = 3.0, min_points: int = 4, min_fraction: float = 0.06
    ) -> None:
        check_positive("min_progress", min_progress)
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

        def flat(b0: int, b1: int, change: float) -> bool:
            # A short piece's fitted change is uncertain: ask for 2 standard errors too.
            return abs(change) < max(limit, 2.0 * math.sqrt(12.0 / max(b1 - b0, 1))) * sigma

        groups: list[list[Segment]] = []
        for seg in p.segments:
            if groups and groups[-1][-1].b1 == seg.b0:
                first = groups[-1][0]
                group_mean = float(p.bins.y[first.b0 : seg.b0].mean())
                same_level = (
                    abs(float(p.bins.y[seg.b0 : seg.b1].mean()) - group_mean) < limit * sigma
                )
                line = fit_line(p.bins.x[first.b0 : seg.b1], p.bins.y[first.b0 : seg.b1])
                span = float(p.bins.x[seg.b1 - 1] - p.bins.x[first.b0])
                if same_level and flat(first.b0, seg.b1, line.slope * span):
                    groups[-1].append(seg)
                    continue
            if flat(seg.b0, seg.b1, seg.change):
                groups.append([seg])
        need = max(self.min_points, int(np.ceil(self.min_fraction * p.n)))
        out = []
        for g in groups:
            p0, p1 = g[0].p0, g[-1].p1
            if p1 - p0 < need:
                continue
            raw = p.raw_range(p0, p1)
            constant = bool(raw.size and float(np.ptp(raw)) == 0.0)
            change = g[-1].level1 - g[0].level0
            flatness = 1.0 - min(1.0, abs(change) / (limit * sigma))
            length = min(1.0, (p1 - p0) / (3.0 * need))
            conf = 1.0 if constant else round(0.4 + 0.3 * flatness + 0.3 * length, 4)
            end = None if p1 >= p.n else p.step_at(p1 - 1)
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
