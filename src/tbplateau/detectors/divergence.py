"""Divergence: sustained worsening of a metric, or explosive growth."""

from __future__ import annotations

import math

import numpy as np

from tbplateau.detectors.base import (
    Detector,
    check_fraction,
    check_positive,
    confidence_from,
    prepare,
    sorted_findings,
)
from tbplateau.findings import Finding, FindingKind, Goal
from tbplateau.series import Series

__all__ = ["DivergenceDetector"]


class DivergenceDetector(Detector):
    """Find where a metric starts to get worse and stays worse.

    On the same straight pieces as the plateau detector, an episode starts at a
    piece whose line worsens by more than ``min_worsening`` noise units and goes on
    through the following pieces that do not improve significantly. It is a
    divergence when the worst level it reaches is below the level at its onset by
    at least ``min_worsening`` noise units *and* by ``min_relative`` of the progress
    made before the onset (or, with no earlier progress, of the series' spread), and
    when it lasts: ``min_fraction`` of the series, or to the end of the series (which
    includes running into NaN); an episode that recovers (the series comes back to
    within half the loss of its onset level, which gives ``end_step``) must last
    twice that and not start in the first 10 % of the series (a warm-up bump).
    Losses are judged on a log scale, so explosive growth is a straight rise.

    With fewer than ``min_points`` finite points the noise cannot be told from a
    trend (its scale comes from second differences), so a short series only
    diverges when it runs into non-finite values or grows explosively (a loss 10x
    its onset level).

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
    [(250, None)]
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

    def detect(self, series: Series, goal: Goal) -> list[Finding]:
        if goal is None:
            return []
        p = prepare(series, goal)
        segs = p.segments
        if p.n < 4 or not segs:
            return []
        yb = p.bins.y
        ends_nonfinite = len(series) > 0 and not math.isfinite(float(series.values[-1]))
        out = []
        i = 0
        while i < len(segs):
            seg = segs[i]
            if seg.z > -self.min_worsening / 2:
                i += 1
                continue
            onset_level = max(seg.level0, float(yb[seg.b0]))
            j = i
            worst = seg.level1
            recovered_at = None
            while j + 1 < len(segs):
                nxt = segs[j + 1]
                if nxt.level1 >= onset_level - 0.5 * (onset_level - worst) and nxt.z > 0:
                    recovered_at = j + 1
                    break
                j += 1
                worst = min(worst, nxt.level1, nxt.level0)
            drop = onset_level - worst
            before = yb[: seg.b0 + 1]
            progress = float(before.max() - yb[0]) if before.size else 0.0
            if progress <= 0:
                progress = float(np.ptp(yb))
            end_p = segs[j].p1
            lasting = end_p - seg.p0
            to_end = recovered_at is None
            big = drop >= self.min_worsening * p.sigma and drop >= self.min_relative * progress
            long_enough = lasting >= max(3, self.min_fraction * p.n) or (to_end and ends_nonfinite)
            # A bump that recovers must last twice as long, and not be a warm-up at the start.
            bump_ok = lasting >= max(3, 2 * self.min_fraction * p.n) and seg.p0 >= 0.1 * p.n
            if p.n < self.min_points:
                # Too few points to know the noise: only a blow-up counts.
                explosive = p.log_scale and drop > math.log(10.0)
                big = big and (explosive or (to_end and ends_nonfinite))
            if big and long_enough and (to_end or bump_ok):
                end = None
                if recovered_at is not None:
                    rec = segs[recovered_at]
                    target = onset_level - 0.5 * drop
                    rise = rec.level1 - rec.level0
                    frac = (target - rec.level0) / rise if rise > 0 else 0.0
                    back = rec.p0 + round(min(max(frac, 0.0), 1.0) * (rec.p1 - 1 - rec.p0))
                    end = p.step_at(back)
                detail = {
                    "worsening": float(drop),
                    "noise": float(p.sigma),
                    "relative": float(drop / progress) if progress > 0 else None,
                    "log_scale": p.log_scale,
                    "explosive": bool(p.log_scale and drop > math.log(100.0)),
                }
                conf = confidence_from(drop / p.sigma - self.min_worsening, 6.0)
                conf = max(conf, 0.5)
                out.append(Finding(self.kind, p.step_at(seg.p0), end, (series.tag,), conf, detail))
            i = j + 1 if recovered_at is None else recovered_at
        return sorted_findings(out)
