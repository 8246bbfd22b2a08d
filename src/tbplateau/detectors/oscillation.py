"""Oscillation: large swings without a trend (typically a learning rate too high)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tbplateau.detectors.base import (
    Detector,
    Prepared,
    check_fraction,
    check_positive,
    confidence_from,
    prepare,
    sorted_findings,
)
from tbplateau.findings import Finding, FindingKind, Goal
from tbplateau.series import Series
from tbplateau.stats import fit_line

__all__ = ["OscillationDetector", "swing_profile"]


def swing_profile(p: Prepared) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Swing amplitude around the local trend, one value per block of ``p.bins``.

    Returns the smoothed profile and the unsmoothed one (used to place onsets).

    Combines the spread of the points inside each block with the departure of the
    block from the straight line through its neighbours ``k`` blocks away (largest
    over ``k`` = 1, 2, 3; zero on any straight trend, however steep), smoothed over
    five blocks, so that both fast swings (shorter than a block) and slower ones
    are measured.
    """
    bins = p.bins
    m = len(bins)
    block_of = np.repeat(np.arange(m), bins.count)
    inner = np.abs(p.y - bins.y[block_of])
    if m < p.n:
        size = int(bins.count[0])
        full = int(np.count_nonzero(bins.count == size))
        spread = np.empty(m)
        spread[:full] = 1.4826 * np.median(inner[: full * size].reshape(full, size), axis=1)
        if full < m:
            spread[full:] = 1.4826 * np.median(inner[full * size :])
    else:
        spread = np.zeros(m)
    outer2 = np.zeros(m)
    for k in (1, 2, 3):
        if m > 2 * k:
            d = np.zeros(m)
            d[k:-k] = bins.y[k:-k] - 0.5 * (bins.y[: -2 * k] + bins.y[2 * k :])
            d[:k] = d[k]
            d[-k:] = d[-k - 1]
            outer2 = np.maximum(outer2, d * d / 1.5)
    energy = spread**2 + outer2
    k = min(5, m)
    kernel = np.ones(k) / k
    smooth = np.convolve(np.pad(energy, (k // 2, k - 1 - k // 2), mode="edge"), kernel, "valid")
    return np.asarray(np.sqrt(smooth), dtype=np.float64), np.sqrt(energy)


class OscillationDetector(Detector):
    """Find stretches where a metric swings far more than it does elsewhere, without trend.

    The swing amplitude around the local trend is measured block by block
    (:func:`swing_profile`). Blocks whose amplitude is at least ``min_ratio`` times
    the series' quiet amplitude (its ``quiet_quantile`` quantile) form candidate
    stretches; a stretch is an oscillation when it covers ``min_fraction`` of the
    series and the straight line through it moves less than ``max_trend`` times the
    amplitude (swings, not a climb or a fall). Needs 40 finite points; a stretch
    covers at least 8 blocks.

    Parameters
    ----------
    min_ratio : float
        Amplitude over the quiet amplitude that counts as large (default 4).
    quiet_quantile : float
        Quantile of the amplitude profile taken as the quiet level (default 0.2).
    min_fraction : float
        Shortest stretch, as a fraction of the series (default 0.06).
    max_trend : float
        Largest trend across the stretch, in amplitudes (default 3).

    Examples
    --------
    >>> import numpy as np
    >>> from tbplateau.series import Series
    >>> rng = np.random.default_rng(3)
    >>> t = np.arange(500)
    >>> log_loss = -t / 250 + rng.normal(0, 0.01, 500)
    >>> log_loss[300:] = -1.2 + 0.4 * np.sin(t[300:] * 0.7)
    >>> s = Series("r", "loss", steps=t, values=np.exp(log_loss))
    >>> [(f.start_step, f.end_step) for f in OscillationDetector().detect(s, "min")]
    [(300, None)]
    """

    kind = FindingKind.OSCILLATION

    def __init__(
        self,
        *,
        min_ratio: float = 4.0,
        quiet_quantile: float = 0.2,
        min_fraction: float = 0.06,
        max_trend: float = 3.0,
    ) -> None:
        check_positive("min_ratio", min_ratio)
        check_fraction("quiet_quantile", quiet_quantile)
        check_fraction("min_fraction", min_fraction)
        check_positive("max_trend", max_trend)
        self.min_ratio = float(min_ratio)
        self.quiet_quantile = float(quiet_quantile)
        self.min_fraction = float(min_fraction)
        self.max_trend = float(max_trend)

    @staticmethod
    def _departs(p: Prepared, b: int, threshold: float) -> bool:
        """Whether block ``b`` departs from the past by ``threshold`` (spread included)."""
        y = p.bins.y
        if b < 2:
            return True
        d = abs(float(y[b] - (2 * y[b - 1] - y[b - 2]))) / 2.45  # sqrt(6): white-noise scale
        lo = int(p.bins.start[b])
        inner = p.y[lo : lo + int(p.bins.count[b])]
        spread = 1.4826 * float(np.median(np.abs(inner - y[b]))) if inner.size > 1 else 0.0
        return max(d, spread) >= threshold

    def detect(self, series: Series, goal: Goal) -> list[Finding]:
        if goal is None:
            return []
        p = prepare(series, goal)
        if p.n < 40:
            return []
        amp, raw_amp = swing_profile(p)
        quiet = float(np.quantile(amp, self.quiet_quantile))
        floor = 1e-9 * max(float(np.ptp(p.bins.y)), 1e-12)
        loud = amp >= self.min_ratio * max(quiet, floor)
        if not loud.any():
            return []
        m = len(p.bins)
        need = max(8, int(np.ceil(self.min_fraction * m)))
        # Close gaps shorter than a stretch: one calm swing does not end an oscillation.
        edges = np.flatnonzero(np.diff(np.concatenate([[0], loud.astype(np.int8), [0]])))
        for a, b in zip(edges[1:-1:2].tolist(), edges[2::2].tolist(), strict=True):
            if b - a < need:
                loud[a:b] = True
        edges = np.flatnonzero(np.diff(np.concatenate([[0], loud.astype(np.int8), [0]])))
        out = []
        for b0, b1 in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
            if b1 - b0 < need:
                continue
            # Smoothing and the lags spread a stretch by a few blocks each side. Its start
            # is the first block that departs from the line through the two blocks
            # before it (a measure that sees no later block), its end the last loud one.
            threshold = self.min_ratio * max(quiet, floor)
            for _ in range(4):
                if b1 - b0 > need and not self._departs(p, b0, threshold):
                    b0 += 1
            for _ in range(2):
                if b1 - b0 > need and raw_amp[b1 - 1] < threshold:
                    b1 -= 1
            level = float(np.median(amp[b0:b1]))
            line = fit_line(p.bins.x[b0:b1], p.bins.y[b0:b1])
            trend = abs(line.slope * float(p.bins.x[b1 - 1] - p.bins.x[b0]))
            if trend > self.max_trend * level:
                continue
            p0 = int(p.bins.start[b0])
            p1 = int(p.bins.start[b1]) if b1 < m else p.n
            end = None if b1 >= m else p.step_at(p1 - 1)
            ratio = level / max(quiet, floor)
            detail = {
                "amplitude": level,
                "quiet_amplitude": quiet,
                "ratio": float(ratio),
                "log_scale": p.log_scale,
                "points": int(p1 - p0),
            }
            conf = max(0.5, confidence_from(ratio - self.min_ratio, 4.0))
            out.append(Finding(self.kind, p.step_at(p0), end, (series.tag,), conf, detail))
        return sorted_findings(out)
