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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from tbplateau import stats
from tbplateau.findings import Goal
from tbplateau.stats import bin_medians, bin_reduce, fast_mean, fast_ptp, noise_scale

__all__ = ["MIN_POINTS", "Forecast", "forecast"]

MIN_POINTS = 12
"""Fewest finite points in the fitted window for a forecast."""

FloatArray = npt.NDArray[np.float64]


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


_GRID = 28
"""Exponents tried per model before the refinement (log-spaced over the bounds)."""


def _basis(model: str, x: FloatArray, rate: FloatArray) -> FloatArray:
    """The shape ``x^-c`` (power law) or ``exp(-k x)`` (exponential), one row per rate."""
    arg = np.log(x)[None, :] if model == "power law" else x[None, :]
    out: FloatArray = np.exp(-rate[:, None] * arg)
    return out


def _ab_kernel() -> stats._Kernels | None:
    """The compiled kernels when they have ``best_ab`` (:func:`_edge_optima` to the bit),
    else ``None`` (no kernels, ``TBPLATEAU_PURE_PYTHON``, or a build older than it)."""
    kernels = stats.KERNELS
    return kernels if kernels is not None and hasattr(kernels, "best_ab") else None


def _best_ab(
    f: FloatArray,
    y: FloatArray,
    box: tuple[float, float, float, float],
    sums: tuple[FloatArray, FloatArray] | None = None,
    y_sums: tuple[float, float] | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """For each row of ``f``: the least-squares ``(a, b)`` of ``y ≈ a + b f`` within the
    box ``(a_lo, a_hi, b_lo, b_hi)``, and its squared error (vectorised over rows).
    ``sums``: the row sums and sums of squares of ``f`` (:func:`_row_sums`), and
    ``y_sums`` those of ``y`` (``float(y.sum()), float(y @ y)``), when known.

    The sums come from numpy; the rest (:func:`_edge_optima`) from the compiled kernel
    when there is one (the same arithmetic, without numpy's per-call overhead).
    """
    n = float(y.size)
    sy, syy = (float(y.sum()), float(y.dot(y))) if y_sums is None else y_sums
    sf, sff = _row_sums(f) if sums is None else sums
    sfy = f @ y
    kernel = _ab_kernel()
    if kernel is not None and sfy.dtype == np.float64:
        rows = f.shape[0]
        a, b, err = np.empty(rows), np.empty(rows), np.empty(rows)
        if kernel.best_ab(sf, sff, sfy, n, sy, syy, *box, a, b, err):
            return a, b, err
    return _edge_optima(n, sy, syy, sf, sff, sfy, box)


def _edge_optima(
    n: float,
    sy: float,
    syy: float,
    sf: FloatArray,
    sff: FloatArray,
    sfy: FloatArray,
    box: tuple[float, float, float, float],
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`_best_ab` from the sums (``n`` points, ``sy`` and ``syy`` of ``y``; per row
    ``sf``, ``sff`` and ``sfy``, the sums of ``f``, ``f²`` and ``f y``).

    The optimum is the free one when it lies in the box, else the best of the optima
    along the four edges (the error is a convex quadratic in ``(a, b)``).
    """
    a_lo, a_hi, b_lo, b_hi = box
    det = n * sff - sf * sf
    solvable = det > 0
    rows = sf.shape[0]
    a = np.empty((5, rows))
    b = np.empty((5, rows))
    # the free optimum, then those along the edges a = a_lo, a_hi and b = b_lo, b_hi (each
    # pair of edges in one broadcast: the same arithmetic, element by element)
    a_edges, b_edges = np.array([[a_lo], [a_hi]]), np.array([[b_lo], [b_hi]])
    with np.errstate(divide="ignore", invalid="ignore"):
        b[0] = np.where(solvable, (n * sfy - sf * sy) / np.where(solvable, det, 1.0), 0.0)
        a[0] = (sy - b[0] * sf) / n
        safe = np.where(sff > 0, sff, 1.0)
        a[1:3] = a_edges
        b[1:3] = np.clip((sfy - a_edges * sf) / safe, b_lo, b_hi)
        b[3:5] = b_edges
        a[3:5] = np.clip((sy - b_edges * sf) / n, a_lo, a_hi)
    twice_a = 2 * a
    err = syy - twice_a * sy - 2 * b * sfy + n * a * a + twice_a * b * sf + b * b * sff
    inside = (a[0] >= a_lo) & (a[0] <= a_hi) & (b[0] >= b_lo) & (b[0] <= b_hi)
    err[0] = np.where(inside, err[0], np.inf)
    pick = np.argmin(err, axis=0)
    cols = np.arange(rows)
    return a[pick, cols], b[pick, cols], err[pick, cols]


def _row_sums(f: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The sum and the sum of squares of every row of ``f``."""
    return f.sum(axis=1), np.einsum("ij,ij->i", f, f)


_EPS = float(np.finfo(float).eps)
"""The float64 machine epsilon (looked up once)."""

_Model = tuple[str, FloatArray, tuple[float, float]]
"""A model's name, its abscissae and the bounds of its rate."""


_FIRST_GRIDS: dict[tuple[float, float], tuple[FloatArray, float]] = {}
"""The first round's rates of each pair of bounds, and their log spacing (the same for
every curve)."""


def _first_grid(bounds: tuple[float, float]) -> tuple[FloatArray, float]:
    """The log-spaced rates of the first round over ``bounds``, and their log step."""
    found = _FIRST_GRIDS.get(bounds)
    if found is None:
        lo, hi = math.log(bounds[0]), math.log(bounds[1])
        grid = np.exp(np.linspace(lo, hi, _GRID))
        grid.flags.writeable = False
        found = _FIRST_GRIDS[bounds] = (grid, (hi - lo) / (_GRID - 1))
    return found


_FIRST_ROUNDS: dict[tuple[tuple[str, bytes, tuple[float, float]], ...], tuple[FloatArray, ...]] = {}
"""The first round's basis of the last few abscissae, with its row sums (the same for
every curve logged at the same steps, as in a sweep)."""

_FIRST_ROUNDS_KEPT = 8


def _first_round(models: list[_Model]) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The basis of the first round's rates of every model, stacked, with its row sums
    and sums of squares (memoised by the models' abscissae, bit for bit; read-only)."""
    key = tuple((name, x.tobytes(), bounds) for name, x, bounds in models)
    found = _FIRST_ROUNDS.get(key)
    if found is None:
        basis = np.vstack([_basis(m, x, _first_grid(bounds)[0]) for m, x, bounds in models])
        found = (basis, *_row_sums(basis))
        for array in found:
            array.flags.writeable = False
        if len(_FIRST_ROUNDS) >= _FIRST_ROUNDS_KEPT:
            del _FIRST_ROUNDS[next(iter(_FIRST_ROUNDS))]
        _FIRST_ROUNDS[key] = found
    return found[0], found[1], found[2]


_RAMP = np.arange(11, dtype=np.float64)
"""``0, 1, ..., 10``: the second round's grid is ``np.linspace`` of 11 points."""


def _second_grids(models: list[_Model], centres: list[float], steps: list[float]) -> FloatArray:
    """The second round's rates, one row per model: 11 log-spaced around each centre,
    within the bounds. ``np.exp(np.linspace(lo, hi, 11))`` of each row, the same
    operations (``arange * step + lo``, the last set to ``hi``) in one pass."""
    lo = [max(math.log(m[2][0]), c - d) for m, c, d in zip(models, centres, steps, strict=True)]
    hi = [min(math.log(m[2][1]), c + d) for m, c, d in zip(models, centres, steps, strict=True)]
    step = [(h - low) / 10 for low, h in zip(lo, hi, strict=True)]
    if 0.0 in step:  # np.linspace's special case (never: the range is at least 2 steps)
        lin = np.array([np.linspace(low, h, 11) for low, h in zip(lo, hi, strict=True)])
    else:
        lin = _RAMP * np.array(step)[:, None]
        lin += np.array(lo)[:, None]
        lin[:, -1] = hi
    grids: FloatArray = np.exp(lin)
    return grids


_Round = tuple[FloatArray, FloatArray, FloatArray, FloatArray]
"""The second round of :func:`_search`: its rates (one row per model), the stacked basis
and the basis' row sums and sums of squares (read-only)."""

_SECOND_ROUNDS_KEPT = 32
"""Second rounds memoised per window of steps (:class:`_Window`)."""


def _second_round(
    models: list[_Model], args: list[FloatArray], picks: tuple[int, ...], n: int
) -> _Round:
    """The second round of :func:`_search` around the first round's ``picks`` (the index
    of each model's best rate), on the first ``n`` points (the same for every curve
    logged at the same steps whose first round picked the same rates)."""
    first = [_first_grid(bounds) for _, _, bounds in models]
    centres = [math.log(g[i]) for (g, _), i in zip(first, picks, strict=True)]
    grids = _second_grids(models, centres, [d for _, d in first])
    # every model's shapes exp(-rate * arg), the same products as :func:`_basis`, stacked
    prod = np.empty((len(models), grids.shape[1], n))
    for k, arg in enumerate(args):
        np.multiply(-grids[k][:, None], arg[:n], out=prod[k])
    basis = np.exp(prod, out=prod).reshape(-1, n)
    found = (grids, basis, *_row_sums(basis))
    for array in found:
        array.flags.writeable = False
    return found


def _search(
    models: list[_Model],
    args: list[FloatArray],
    y: FloatArray,
    box: tuple[float, float, float, float],
    memo: dict[tuple[int, ...], _Round] | None = None,
) -> list[tuple[float, float, float, float]]:
    """``(a, b, rate, sse)`` of each model: a log-spaced search over the rate, refined once
    around the best, with ``(a, b)`` solved exactly (within their bounds) at each rate.
    Both models are searched in one vectorised pass per round. ``args``: what each model's
    rate multiplies (the log of its abscissae for the power law, else the abscissae),
    at least as long as ``y`` (the first ``y.size`` are used). ``memo``: the second rounds
    already computed for these models and abscissae, by the first round's picks."""
    y_sums = (float(y.sum()), float(y.dot(y)))
    basis, sf, sff = _first_round(models)
    a, b, err = _best_ab(basis, y, box, (sf, sff), y_sums)
    picks = tuple(err.reshape(len(models), -1).argmin(axis=1).tolist())
    found = None if memo is None else memo.get(picks)
    if found is None:
        found = _second_round(models, args, picks, y.size)
        if memo is not None and len(memo) < _SECOND_ROUNDS_KEPT:
            memo[picks] = found
    grids, basis, sf, sff = found
    a, b, err = _best_ab(basis, y, box, (sf, sff), y_sums)
    size = grids.shape[1]
    best = []
    for k, i in enumerate(err.reshape(len(models), -1).argmin(axis=1).tolist()):
        j = k * size + i
        best.append((float(a[j]), float(b[j]), float(grids[k, i]), float(err[j])))
    return best


def _thin_svd_gufunc() -> Callable[..., tuple[FloatArray, FloatArray, FloatArray]] | None:
    """The gufunc ``np.linalg.svd(a, full_matrices=False)`` ends in, or ``None`` (a numpy
    that does not have it where this one does)."""
    try:
        from numpy.linalg import _umath_linalg
    except ImportError:  # pragma: no cover - another numpy layout
        return None
    found = getattr(_umath_linalg, "svd_s", None)
    return found if callable(found) else None


_SVD_S = _thin_svd_gufunc()


def _svd(a: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``np.linalg.svd(a, full_matrices=False)`` of a 2-D float64 matrix: its gufunc under
    its error state (a failure to converge raises ``LinAlgError``), without the checks and
    conversions that a float64 matrix does not need (the same LAPACK call, the same bits)."""
    if _SVD_S is None:  # pragma: no cover - another numpy layout
        u, s, vt = np.linalg.svd(a, full_matrices=False)
        return u, s, vt
    with np.errstate(invalid="raise", over="ignore", divide="ignore", under="ignore"):
        try:
            return _SVD_S(a, signature="d->ddd")
        except FloatingPointError as error:
            raise np.linalg.LinAlgError("SVD did not converge") from error


def _fit(
    arg: FloatArray, y: FloatArray, best: tuple[float, float, float, float]
) -> tuple[float, float, float, float] | None:
    """(sse, fitted value at the last point, forecast, its standard error) or None, for
    the optimum ``best`` of :func:`_search`; ``arg`` is what the rate multiplies
    (see :func:`_search`) at every point and, last, at the forecast's step. The standard
    error comes from the Jacobian at the optimum, as ``scipy.optimize.curve_fit``
    computes it."""
    a0, b0, rate, _ = best
    if not all(map(math.isfinite, best)):
        return None
    dof = y.size - 3
    if dof <= 0:
        return None
    # the shape and its derivative with respect to the rate, at every point and at the
    # forecast's step (the same operations as :func:`_basis`, element by element)
    shape = np.exp(-rate * arg)
    resid = y - (a0 + b0 * shape[:-1])
    sse = float(resid.dot(resid))  # exactly, not from the sums (no cancellation)
    jac = np.empty((y.size, 3))  # np.column_stack's array, without its overhead
    jac[:, 0] = 1.0
    jac[:, 1] = shape[:-1]
    # the derivative ``(-b0 * arg) * shape``, element by element, straight into its column
    # (at the forecast's step in Python floats below: the same products)
    np.multiply(-b0 * arg[:-1], shape[:-1], out=jac[:, 2])
    # the pseudo-inverse, dropping singular directions, as curve_fit does
    try:
        _, sv, vt = _svd(jac)
    except np.linalg.LinAlgError:
        return None
    # the comparisons of ``sv > threshold``, value by value, in Python floats
    threshold = _EPS * max(jac.shape) * float(sv[0])
    if not all(v > threshold for v in sv.tolist()):
        keep = sv > threshold
        vt, sv = vt[keep], sv[keep]
    cov = (vt.T / sv**2) @ vt * (sse / dof)
    if not all(map(math.isfinite, cov.ravel().tolist())):  # np.isfinite(cov).all()
        return None
    last = float(shape[-1])
    value = a0 + b0 * last
    now = a0 + b0 * float(shape[-2])
    grad = np.array([1.0, last, (-b0 * float(arg[-1])) * last])
    var = float(grad @ cov @ grad)
    if not (math.isfinite(value) and math.isfinite(var)) or var < 0:
        return None
    # Autocorrelated residuals make the covariance optimistic: inflate it.
    if resid.size > 3 and sse > 0:
        # both deviations from their means in one compiled call where the kernels are
        # built (the same values as fast_mean and the subtractions)
        found = stats._centred(resid[:-1], resid[1:])
        if found is None:
            u, v = resid[:-1] - fast_mean(resid[:-1]), resid[1:] - fast_mean(resid[1:])
        else:
            u, v = found[2], found[3]
        denom = math.sqrt(float(u.dot(u)) * float(v.dot(v)))
        rho = (float(u.dot(v)) + 0.0) / denom if denom > 0 else math.nan
        if math.isfinite(rho) and rho > 0:
            var *= (1 + rho) / max(1e-3, 1 - rho)
    return sse, now, value, math.sqrt(var)


def _box(goal: Goal, y: np.ndarray, fin: np.ndarray) -> tuple[float, float, float, float]:
    """Bounds ``(a_lo, a_hi, b_lo, b_hi)`` of a fit's level ``a`` and scale ``b`` on the
    block values ``y`` of a series whose finite values are ``fin``.

    Only saturating shapes: the curve may improve ever more slowly, never accelerate
    (b > 0 for a loss, b < 0 for an accuracy), so a forecast cannot run away; a positive
    loss cannot head below zero, nor an accuracy in [0, 1] above one.
    """
    scale = fast_ptp(y) or max(1e-12, abs(float(y[-1])))
    a0 = float(y[-1])
    wide = 1e3 * scale + abs(a0)
    b_lo, b_hi = (0.0, wide) if goal == "min" else (-wide, 0.0)
    a_lo, a_hi = a0 - wide, a0 + wide
    if goal == "min" and float(fin.min()) > 0:
        a_lo = max(a_lo, 0.0)
    if goal == "max" and float(fin.min()) >= 0 and float(fin.max()) <= 1:
        a_hi = min(a_hi, 1.0)
    return a_lo, a_hi, b_lo, b_hi


@dataclass(frozen=True)
class _Window:
    """What a forecast takes from the steps and which values are finite alone: the
    fitted window (a mask of the points), the last finite step, the forecast's step, and
    each model's abscissae and ``args`` (see :func:`_search`), read-only."""

    win: npt.NDArray[np.bool_]
    last: float
    target: float
    models: list[_Model]
    args: list[FloatArray]
    rounds: dict[tuple[int, ...], _Round] = field(default_factory=dict, compare=False)
    """Second rounds of :func:`_search` on these abscissae (a memo)."""


def _window(s: FloatArray, ok: npt.NDArray[np.bool_]) -> _Window | None:
    """The :class:`_Window` of the steps ``s`` whose values are usable where ``ok``, or
    None when there is too little to fit (see the module docstring)."""
    if not ok.any():
        return None
    first, last = float(s[0]), float(s[ok][-1])
    if last <= first:
        return None
    mid = first + 0.5 * (last - first)
    win = ok & (s >= mid)
    if int(win.sum()) < MIN_POINTS:
        return None
    x = bin_reduce(s[win], s[win], 100).x  # the blocks' abscissae: the same whatever y
    if x.size < 6 or fast_ptp(x) <= 0:
        return None
    target = 2.0 * last - first
    origin = first - 1.0
    xp = (x - origin) / (last - origin)  # in (0, 1]
    at_p = (target - origin) / (last - origin)
    span = float(x[-1] - x[0])
    u = (x - x[0]) / span
    at_u = (target - x[0]) / span
    models: list[_Model] = [("power law", xp, (0.01, 6.0)), ("exponential", u, (0.01, 50.0))]
    # what each rate multiplies, at the points and last at the forecast's step
    args = [np.empty(x.size + 1), np.empty(x.size + 1)]
    args[0][:-1], args[0][-1] = xp, at_p
    np.log(args[0], out=args[0])
    args[1][:-1], args[1][-1] = u, at_u
    for array in (win, xp, u, *args):
        array.flags.writeable = False
    return _Window(win, last, target, models, args)


_WINDOWS: dict[bytes, _Window | None] = {}
"""The windows of the last few step arrays whose values are all finite, by their bytes
(the same for every curve logged at the same steps, as in a sweep)."""

_WINDOWS_KEPT = 8

_WINDOWS_LONGEST = 20_000
"""Longer step arrays are not memoised (their key would be large, the saving small)."""


def _steps_window(s: FloatArray) -> _Window | None:
    """:func:`_window` of the steps ``s`` when every value is usable (memoised)."""
    if s.size > _WINDOWS_LONGEST:
        return _window(s, np.ones(s.size, dtype=bool))
    key = s.tobytes()
    if key in _WINDOWS:
        return _WINDOWS[key]
    found = _WINDOWS[key] = _window(s, np.ones(s.size, dtype=bool))
    if len(_WINDOWS) > _WINDOWS_KEPT:
        del _WINDOWS[next(iter(_WINDOWS))]
    return found


def forecast(steps: npt.ArrayLike, values: npt.ArrayLike, goal: Goal) -> Forecast | None:
    """The forecast at twice the steps trained so far, or ``None`` (see module doc)."""
    if goal is None:
        return None
    s = np.asarray(steps, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    ok = np.abs(v) < 1e100  # finite too: NaN and inf compare False
    every = bool(ok.all())
    w = _steps_window(s) if every else _window(s, ok)
    if w is None or not bool(np.isfinite(v[-1])):
        return None
    fitted = v[w.win]
    y = bin_medians(fitted, 100)
    box = _box(goal, y, v if every else v[ok])
    a_lo, a_hi = box[0], box[1]
    fits: dict[str, tuple[float, float, float, float]] = {}
    optima = _search(w.models, w.args, y, box, w.rounds)
    for (model, _, _), optimum, arg in zip(w.models, optima, w.args, strict=True):
        fit = _fit(arg, y, optimum)
        if fit is not None:
            fits[model] = fit
    if not fits:
        return None
    name = min(fits, key=lambda k: fits[k][0])
    _, now, value, se = fits[name]
    low, high = value - 1.96 * se, value + 1.96 * se
    for other, (_, _, v_other, _) in fits.items():
        if other != name:
            low, high = min(low, v_other), max(high, v_other)
    low, high = max(low, a_lo), min(high, a_hi)
    noise = noise_scale(fitted, lags=(1,))
    g: Literal["min", "max"] = "min" if goal == "min" else "max"
    return Forecast(name, g, int(w.last), int(w.target), now, value, low, high, noise)
