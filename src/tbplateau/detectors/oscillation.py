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
from tbplateau.stats import dominant_period, drawdown, fit_line

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
        floor = 1e-9 * max(float(np.ptp(p.bins.y)), 1e-12)
        # Exactly frozen blocks (a dead network, a zero learning rate) say nothing
        # about how much the series moves when it moves: the quiet level is taken
        # over the blocks that move at all.
        moving = amp[amp > floor]
        quiet = float(np.quantile(moving, self.quiet_quantile)) if moving.size else 0.0
        out = self._swing_stretches(series, p, amp, raw_amp, quiet, floor)
        # Recurring swings are judged against the calmest tenth of the series: when
        # they fill most of it, the usual quiet quantile already sits inside them.
        calm = float(np.quantile(moving, 0.5 * self.quiet_quantile)) if moving.size else 0.0
        periodic = self._recurring(series, p, calm, floor)
        if periodic is not None:
            out = _merge(periodic, out, p)
        return sorted_findings(out)

    def _swing_stretches(
        self,
        series: Series,
        p: Prepared,
        amp: npt.NDArray[np.float64],
        raw_amp: npt.NDArray[np.float64],
        quiet: float,
        floor: float,
    ) -> list[Finding]:
        """Stretches of blocks swinging ``min_ratio`` times the quiet amplitude."""
        loud = amp >= self.min_ratio * max(quiet, floor)
        if not loud.any():
            return []
        m = len(p.bins)
        need = max(8, int(np.ceil(self.min_fraction * m)))
        # Close gaps shorter than a stretch, and gaps that stay half as loud (hysteresis):
        # one calm swing does not end an oscillation.
        half = 0.5 * self.min_ratio * max(quiet, floor)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], loud.astype(np.int8), [0]])))
        for a, b in zip(edges[1:-1:2].tolist(), edges[2::2].tolist(), strict=True):
            if b - a < need or float(np.median(amp[a:b])) >= half:
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
        return out

    def _recurring(self, series: Series, p: Prepared, quiet: float, floor: float) -> Finding | None:
        """Swings that come back period after period (a cyclic or restarting schedule).

        Slow swings (a period of many points) raise the series' overall amplitude, so
        :meth:`_swing_stretches` may not see them stand out. Here the detrended block
        values must have an autocorrelation peak at some period (at least
        ``MIN_CYCLES`` of them in the series), and within ``MIN_CYCLES`` distinct
        periods the series must fall back from its recent best by ``min_ratio`` times
        the calm amplitude, and the typical such fall must be ``min_ratio`` times the
        median one: the metric is usually near its recent best, and repeatedly gets
        much worse and recovers (noise alone falls back a little all the time). A
        staircase or a converging curve never gets worse, so it never qualifies. The
        onset is the start of the first such fall.
        """
        y = p.bins.y
        m = len(y)
        if m < 20:
            return None
        lag, height = dominant_period(y, min_cycles=MIN_CYCLES)
        if lag == 0:
            return None
        threshold = self.min_ratio * max(quiet, floor)
        dd = drawdown(y, lag)
        events = np.flatnonzero(dd >= threshold)
        if events.size == 0:
            return None
        # One swing per cluster of falls closer than a third of a period; a swing recovers
        # within a period, and the next one comes about a period later.
        new = np.concatenate([[True], np.diff(events) > max(1.0, lag / 3)])
        firsts = events[new]
        lasts = events[np.concatenate([new[1:], [True]])]
        chain: list[int] = []
        best: list[int] = []
        for i in range(firsts.size):
            if lasts[i] - firsts[i] > lag + 1:
                chain = []
                continue
            if chain and firsts[i] - firsts[chain[-1]] > 2 * lag + 1:
                chain = []
            chain.append(i)
            if len(chain) > len(best):
                best = list(chain)
        if len(best) < MIN_CYCLES:
            return None
        starts = firsts[best]
        b0 = int(starts[0])
        while b0 > 0 and dd[b0 - 1] >= 0.25 * threshold:
            b0 -= 1
        last = int(lasts[best[-1]])
        b1 = m if last + 1.5 * lag >= m else min(m, last + lag)
        size = float(np.median([dd[s : s + lag].max() for s in starts.tolist()]))
        # Swings stand out from the typical fall below the recent best: noise alone
        # falls back a little all the time, a swinging metric is usually near its best.
        if size < self.min_ratio * float(np.median(dd)):
            return None
        line = fit_line(p.bins.x[b0:b1], y[b0:b1])
        trend = abs(line.slope * float(p.bins.x[b1 - 1] - p.bins.x[b0]))
        if trend > self.max_trend * size:
            return None
        p0 = int(p.bins.start[b0])
        p1 = int(p.bins.start[b1]) if b1 < m else p.n
        end = None if b1 >= m else p.step_at(p1 - 1)
        ratio = size / max(quiet, floor)
        detail = {
            "amplitude": size,
            "quiet_amplitude": quiet,
            "ratio": float(ratio),
            "log_scale": p.log_scale,
            "points": int(p1 - p0),
            "period_points": int(p.bins.start[min(lag, m - 1)]),
            "swings": int(starts.size),
            "autocorrelation": round(height, 4),
        }
        conf = max(0.5, confidence_from(ratio - self.min_ratio, 4.0))
        return Finding(self.kind, p.step_at(p0), end, (series.tag,), conf, detail)


MIN_CYCLES = 3
"""Recurring swings need this many periods in the series and this many falls."""


def _merge(periodic: Finding, found: list[Finding], p: Prepared) -> list[Finding]:
    """Fold the stretches overlapping the recurring-swing finding into it."""
    a = periodic.start_step
    b = periodic.end_step if periodic.end_step is not None else p.step_at(p.n - 1) + 1
    rest = []
    start, end = periodic.start_step, periodic.end_step
    for f in found:
        fb = f.end_step if f.end_step is not None else p.step_at(p.n - 1) + 1
        if f.start_step <= b and fb >= a:
            start = min(start, f.start_step)
            end = None if f.end_step is None or end is None else max(end, f.end_step)
        else:
            rest.append(f)
    merged = Finding(periodic.kind, start, end, periodic.tags, periodic.confidence, periodic.detail)
    return [*rest, merged]
