"""What more steps would likely bring: a power law or an exponential fitted to the tail.

The second half of the curve (its finite points, reduced to at most 100 block
medians) is fitted with two saturating models, ``a + b·(x/x_end)^(-c)`` (a power law
in the step) and ``a + b·exp(-k·u)`` (an exponential over the window). The better
fit (smaller squared error) gives the forecast at twice the steps trained so far;
the 95 % band comes from the fit's covariance (inflated for autocorrelated
residuals) and is widened to cover the other model's forecast, so the disagreement
between two plausible shapes counts as uncertainty. No forecast is made from fewer
than 12 points, or when neither model fits.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> t = np.arange(1, 401)
>>> loss = 0.2 + 2.0 * t ** -0.5 + rng.normal(0, 0.003, t.size)
>>> f = forecast(t, loss, "min")
>>> f.advice
'keep training'
>>> bool(f.low < 0.2 + 2.0 * 799 ** -0.5 < f.high)
True
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from tbplateau.findings import Goal
from tbplateau.stats import bin_reduce, noise_scale

__all__ = ["MIN_POINTS", "Forecast", "forecast"]

MIN_POINTS = 12
"""Fewest finite points in the fitted window for a forecast."""

FloatArray = npt.NDArray[np.float64]
Model = Callable[..., Any]


@dataclass(frozen=True)
class Forecast:
    """The forecast of a metric at ``step`` (twice the steps trained so far).

    ``now`` is the fitted value at the last step, ``value`` the forecast, ``low`` and
    ``high`` its 95 % band, ``noise`` the standard deviation of the points around
    the trend (point to point). ``gain`` is how much better ``value`` is than ``now``
    (positive means better under ``goal``).
    """

    model: str
    goal: Literal["min", "max"]
    last_step: int
    step: int
    now: float
    value: float
    low: float
    high: float
    noise: float

    @property
    def gain(self) -> float:
        return self.now - self.value if self.goal == "min" else self.value - self.now

    @property
    def gain_band(self) -> tuple[float, float]:
        """The 95 % band of the gain, worst first."""
        if self.goal == "min":
            return (self.now - self.high, self.now - self.low)
        return (self.low - self.now, self.high - self.now)

    @property
    def advice(self) -> Literal["keep training", "stop", "uncertain"]:
        """``keep training`` when the whole band is better by more than the noise,
        ``stop`` when even its best end is within the noise, else ``uncertain``. The
        noise is at least 0.1 % of the current value."""
        worst, best = self.gain_band
        noise = max(self.noise, 1e-3 * abs(self.now))  # a floor for exactly flat curves
        if worst > 0 and self.gain > noise:
            return "keep training"
        if best <= noise:
            return "stop"
        return "uncertain"


def _power(x: FloatArray, a: float, b: float, c: float) -> FloatArray:
    return a + b * np.power(x, -c)


def _exponential(u: FloatArray, a: float, b: float, k: float) -> FloatArray:
    return a + b * np.exp(-k * u)


def _fit(
    model: Model, x: FloatArray, y: FloatArray, p0: list[float], bounds: Any, at: float
) -> tuple[float, float, float, float] | None:
    """(sse, fitted value at x[-1], forecast at ``at``, its standard error) or None."""
    from scipy.optimize import curve_fit

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p, cov = curve_fit(model, x, y, p0=p0, bounds=bounds, maxfev=4000)
    except (RuntimeError, ValueError, FloatingPointError):
        return None
    if not np.all(np.isfinite(cov)):
        return None
    resid = y - model(x, *p)
    sse = float(resid @ resid)
    value = float(model(np.array([at]), *p)[0])
    now = float(model(x[-1:], *p)[0])
    grad = np.empty(len(p))
    for i in range(len(p)):
        h = 1e-6 * max(1.0, abs(float(p[i])))
        q = np.array(p, dtype=np.float64)
        q[i] += h
        grad[i] = (float(model(np.array([at]), *q)[0]) - value) / h
    var = float(grad @ cov @ grad)
    if not (math.isfinite(value) and math.isfinite(var)) or var < 0:
        return None
    # Autocorrelated residuals make the covariance optimistic: inflate it.
    if resid.size > 3 and float(resid @ resid) > 0:
        rho = float(np.corrcoef(resid[:-1], resid[1:])[0, 1])
        if math.isfinite(rho) and rho > 0:
            var *= (1 + rho) / max(1e-3, 1 - rho)
    return sse, now, value, math.sqrt(var)


def forecast(steps: npt.ArrayLike, values: npt.ArrayLike, goal: Goal) -> Forecast | None:
    """The forecast at twice the steps trained so far, or ``None`` (see module doc)."""
    if goal is None:
        return None
    s = np.asarray(steps, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v) & (np.abs(v) < 1e100)
    if not ok.any():
        return None
    first, last = float(s[0]), float(s[ok][-1])
    if last <= first or not bool(np.isfinite(v[-1])):
        return None
    mid = first + 0.5 * (last - first)
    win = ok & (s >= mid)
    if int(win.sum()) < MIN_POINTS:
        return None
    bins = bin_reduce(s[win], v[win], 100)
    x, y = bins.x, bins.y
    if x.size < 6 or float(np.ptp(x)) <= 0:
        return None
    target = 2.0 * last - first
    origin = first - 1.0
    xp = (x - origin) / (last - origin)  # in (0, 1]
    at_p = (target - origin) / (last - origin)
    span = float(x[-1] - x[0])
    u = (x - x[0]) / span
    at_u = (target - x[0]) / span
    scale = float(np.ptp(y)) or max(1e-12, abs(float(y[-1])))
    a0, b0 = float(y[-1]), float(y[0] - y[-1])
    wide = 1e3 * scale + abs(a0)
    # Only saturating shapes: the curve may improve ever more slowly, never accelerate
    # (b > 0 for a loss, b < 0 for an accuracy), so a forecast cannot run away.
    b_lo, b_hi = (0.0, wide) if goal == "min" else (-wide, 0.0)
    b_start = abs(b0) if b0 else scale
    b_start = -b_start if goal == "max" else b_start
    # A positive loss cannot head below zero, nor an accuracy in [0, 1] above one.
    a_lo, a_hi = a0 - wide, a0 + wide
    fin = v[ok]
    if goal == "min" and float(fin.min()) > 0:
        a_lo = max(a_lo, 0.0)
    if goal == "max" and float(fin.min()) >= 0 and float(fin.max()) <= 1:
        a_hi = min(a_hi, 1.0)
    a_start = min(max(a0, a_lo), a_hi)
    a0 = a_start - 1e-9 * scale if a_start >= a_hi else a_start + 1e-9 * scale
    fits: dict[str, tuple[float, float, float, float]] = {}
    power = _fit(
        _power,
        xp,
        y,
        [a0, b_start, 0.5],
        ([a_lo, b_lo, 0.01], [a_hi, b_hi, 6.0]),
        at_p,
    )
    if power is not None:
        fits["power law"] = power
    expo = _fit(
        _exponential,
        u,
        y,
        [a0, b_start, 2.0],
        ([a_lo, b_lo, 0.01], [a_hi, b_hi, 50.0]),
        at_u,
    )
    if expo is not None:
        fits["exponential"] = expo
    if not fits:
        return None
    name = min(fits, key=lambda k: fits[k][0])
    _, now, value, se = fits[name]
    low, high = value - 1.96 * se, value + 1.96 * se
    for other, (_, _, v_other, _) in fits.items():
        if other != name:
            low, high = min(low, v_other), max(high, v_other)
    low, high = max(low, a_lo), min(high, a_hi)
    noise = noise_scale(v[win], lags=(1,))
    g: Literal["min", "max"] = "min" if goal == "min" else "max"
    return Forecast(name, g, int(last), int(target), now, value, low, high, noise)
