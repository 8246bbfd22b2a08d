"""Replays of the standard rules a user has today, returning findings in our shape.

Each function replays a logged curve through a rule as if the rule had been
watching training, and reports what it would have concluded, as
:class:`~tbplateau.findings.Finding` values so that the quality benchmark scores the
rules and tbplateau the same way. ``detail.rule`` names the rule, ``detail.fired_step``
the step at which it would have acted.

- :func:`keras_reduce_lr_on_plateau`, :func:`keras_early_stopping`: Keras callbacks,
  ``patience`` 10, ``min_delta`` 1e-4 absolute; they act after ``patience`` epochs
  without improvement. A plateau finding starts at the best value the rule was
  waiting to beat; repeated learning-rate drops waiting on the same best value are
  one plateau.
- :func:`torch_reduce_lr_on_plateau`: PyTorch's scheduler, ``threshold`` 1e-4
  relative, acts after ``patience + 1`` bad epochs.
- :func:`prechelt_gl`, :func:`prechelt_up`: Prechelt's (1998) early-stopping criteria
  for overfitting on the validation error: GL5 (the error is 5 % above its best so
  far) and UP3 (the error rose at the end of three successive strips of five
  epochs). The onset is the best validation step before the rule fires.
- :func:`pelt_slope`: ruptures ``Pelt(model="l2")`` change points, then a slope
  t-test per segment: flat segments are plateaus, significantly worsening ones
  divergence. Series over ``max_points`` are thinned to that many points first
  (Pelt is quadratic; it takes minutes on 100,000 points).
- :func:`first_nonfinite`: the first NaN or infinity.

Every "value" is one epoch for the callbacks (one logged point). Non-finite values
never count as improvements, as in the frameworks.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np

from tbplateau import stats
from tbplateau.detectors.base import working_values
from tbplateau.findings import Finding, FindingKind, Goal
from tbplateau.series import Series
from tbplateau.stats import fit_line, noise_scale

__all__ = [
    "RULES",
    "early_stopping_step",
    "first_nonfinite",
    "keras_early_stopping",
    "keras_reduce_lr_on_plateau",
    "pelt_slope",
    "prechelt_gl",
    "prechelt_up",
    "torch_reduce_lr_on_plateau",
]


def _improves(goal: Goal, mode: str, delta: float) -> Callable[[float, float], bool]:
    if mode == "abs":
        if goal == "max":
            return lambda cur, best: cur - delta > best
        return lambda cur, best: cur + delta < best
    if goal == "max":
        return lambda cur, best: cur > best * (1 + delta) if best >= 0 else cur > best * (1 - delta)
    return lambda cur, best: cur < best * (1 - delta) if best >= 0 else cur < best * (1 + delta)


_RECORDS: dict[tuple[int, Goal, str, float], tuple[np.ndarray, list[int]]] = {}
"""The last few :func:`_records` results, by values array (kept alive, so its id is not
reused), goal, mode and delta: one plateau's text replays three rules on the same
improvements."""

_RECORDS_KEPT = 8


def _record_candidates(values: np.ndarray, goal: Goal, mode: str, delta: float) -> np.ndarray:
    """The indices :func:`_records` must look at, on finite ``values``: every index when
    ``delta`` is negative (or, relative, 1 or more), else the strict running extrema only.

    With such a ``delta`` a new best is strictly better than the threshold of the last
    best, which is no better than that best, and every value that did not improve is
    no better than that threshold; so a new best is strictly better than every value
    before it (the comparisons are monotone in the value, rounding included).
    """
    if delta < 0 or (mode != "abs" and delta >= 1) or values.size < 2:
        return np.arange(values.size)
    if goal == "min":
        ahead = values[1:] < np.minimum.accumulate(values[:-1])
    else:
        ahead = values[1:] > np.maximum.accumulate(values[:-1])
    out: np.ndarray = np.flatnonzero(ahead)
    out += 1
    return np.concatenate(([0], out))


def _records(values: np.ndarray, goal: Goal, mode: str, delta: float) -> list[int]:
    """The indices at which a patience rule sees an improvement (a new best), in order.

    The best value only changes there, whatever the patience, so every patience rule
    with the same ``mode`` and ``delta`` shares them. Non-finite values never improve.
    """
    key = (id(values), goal, mode, delta)
    hit = _RECORDS.get(key)
    if hit is not None and hit[0] is values:
        return hit[1]
    kernels = stats.KERNELS  # the same loop compiled, or None: numpy's way
    found = (
        None if kernels is None else kernels.records(values, goal == "min", mode != "abs", delta)
    )
    out = _python_records(values, goal, mode, delta) if found is None else found
    if len(_RECORDS) >= _RECORDS_KEPT:
        del _RECORDS[next(iter(_RECORDS))]
    _RECORDS[key] = (values, out)
    return out


def _python_records(values: np.ndarray, goal: Goal, mode: str, delta: float) -> list[int]:
    """:func:`_records` in Python (what the compiled ``records`` kernel does)."""
    out: list[int] = []
    best = math.inf if goal == "min" else -math.inf
    if bool(np.isfinite(values).all()):
        # the comparisons of _improves, inlined (the same expressions, so the same bits),
        # over the candidates of _record_candidates only
        at = _record_candidates(values, goal, mode, delta)
        pairs = zip(at.tolist(), values[at].tolist(), strict=True)
        if mode == "abs" and goal == "min":
            for i, v in pairs:
                if v + delta < best:
                    best = v
                    out.append(i)
        elif mode == "abs":
            for i, v in pairs:
                if v - delta > best:
                    best = v
                    out.append(i)
        elif goal == "min":
            for i, v in pairs:
                if v < best * (1 - delta) if best >= 0 else v < best * (1 + delta):
                    best = v
                    out.append(i)
        else:
            for i, v in pairs:
                if v > best * (1 + delta) if best >= 0 else v > best * (1 - delta):
                    best = v
                    out.append(i)
    else:
        vals = values.tolist()
        better = _improves(goal, mode, delta)
        for i, v in enumerate(vals):
            if math.isfinite(v) and better(v, best):
                best = v
                out.append(i)
    return out


def _patience_rule(
    series: Series,
    goal: Goal,
    *,
    rule: str,
    patience: int,
    delta: float,
    mode: str,
    bad_needed: int,
    stop: bool,
) -> list[Finding]:
    if goal is None or len(series) == 0:
        return []
    n = len(series)
    # Between two improvements every value counts as bad: the rule fires after each
    # ``bad_needed`` of them (its wait restarts then), acting for the best so far (the
    # first index before any improvement).
    step = max(1, bad_needed)
    fired: dict[int, list[int]] = {}
    marks = _records(series.values, goal, mode, delta)
    for s, e in zip([-1, *marks], [*marks, n], strict=True):
        if e - s <= step:
            continue
        when = list(range(s + step, e, step))
        if stop:
            fired[max(s, 0)] = when[:1]
            break
        fired.setdefault(max(s, 0), []).extend(when)
    steps = series.steps
    out = []
    for b, when in sorted(fired.items()):
        later = [k for k in fired if k > b]
        end = int(steps[min(later) - 1]) if later else None
        detail = {
            "rule": rule,
            "fired_step": int(steps[when[0]]),
            "actions": len(when),
            "patience": patience,
        }
        out.append(Finding(FindingKind.PLATEAU, int(steps[b]), end, (series.tag,), 1.0, detail))
    return out


def keras_reduce_lr_on_plateau(
    series: Series, goal: Goal, *, patience: int = 10, min_delta: float = 1e-4
) -> list[Finding]:
    """Keras ``ReduceLROnPlateau`` (absolute ``min_delta``, ``cooldown`` 0).

    >>> s = Series("r", "loss", steps=range(30), values=[1.0] * 30)
    >>> found = keras_reduce_lr_on_plateau(s, "min")
    >>> [(f.start_step, f.detail["fired_step"], f.detail["actions"]) for f in found]
    [(0, 10, 2)]
    """
    return _patience_rule(
        series,
        goal,
        rule="keras.ReduceLROnPlateau",
        patience=patience,
        delta=min_delta,
        mode="abs",
        bad_needed=patience,
        stop=False,
    )


def keras_early_stopping(
    series: Series, goal: Goal, *, patience: int = 10, min_delta: float = 1e-4
) -> list[Finding]:
    """Keras ``EarlyStopping``: one plateau at most, where training would have stopped."""
    return _patience_rule(
        series,
        goal,
        rule="keras.EarlyStopping",
        patience=patience,
        delta=min_delta,
        mode="abs",
        bad_needed=patience,
        stop=True,
    )


def early_stopping_step(
    series: Series, goal: Goal, *, patience: int = 10, min_delta: float = 1e-4
) -> int | None:
    """The step at which :func:`keras_early_stopping` would have stopped (its finding's
    ``fired_step``), or ``None``: the first wait of more than ``patience`` points after
    an improvement (or from the start), without building the finding."""
    if goal is None or len(series) == 0:
        return None
    wait = max(1, patience)
    last = -1
    for mark in [*_records(series.values, goal, "abs", min_delta), len(series)]:
        if mark - last > wait:
            return int(series.steps[last + wait])
        last = mark
    return None


def torch_reduce_lr_on_plateau(
    series: Series, goal: Goal, *, patience: int = 10, threshold: float = 1e-4
) -> list[Finding]:
    """PyTorch ``ReduceLROnPlateau`` (``threshold_mode="rel"``):
    acts after ``patience + 1`` bad epochs.
    """
    return _patience_rule(
        series,
        goal,
        rule="torch.ReduceLROnPlateau",
        patience=patience,
        delta=threshold,
        mode="rel",
        bad_needed=patience + 1,
        stop=False,
    )


def _validation_error(values: np.ndarray, goal: Goal) -> np.ndarray | None:
    """Prechelt's criteria need a positive error: the loss, or 1 - accuracy."""
    finite = values[np.isfinite(values)]
    if goal == "min" and finite.size and finite.min() > 0:
        return values
    if goal == "max" and finite.size and finite.min() >= 0 and finite.max() <= 1:
        return 1.0 - values
    return None


def _overfit(
    validation: Series, training: Series | None, best_i: int, fired_i: int, rule: str
) -> Finding:
    tags = (validation.tag,) + ((training.tag,) if training is not None else ())
    detail = {
        "rule": rule,
        "fired_step": int(validation.steps[fired_i]),
        "validation_run": validation.run,
        "training_run": training.run if training is not None else None,
    }
    return Finding(FindingKind.OVERFITTING, int(validation.steps[best_i]), None, tags, 1.0, detail)


def prechelt_gl(
    validation: Series, goal: Goal, *, training: Series | None = None, alpha: float = 5.0
) -> list[Finding]:
    """Prechelt's GL_alpha: stop when the validation error exceeds its best by ``alpha`` %."""
    err = _validation_error(validation.values, goal)
    if err is None:
        return []
    best, best_i = math.inf, 0
    for i, e in enumerate(err.tolist()):
        if not math.isfinite(e):
            continue
        if e < best:
            best, best_i = e, i
        elif best > 0 and 100.0 * (e / best - 1.0) > alpha:
            return [_overfit(validation, training, best_i, i, f"prechelt.GL{alpha:g}")]
    return []


def prechelt_up(
    validation: Series,
    goal: Goal,
    *,
    training: Series | None = None,
    strip: int = 5,
    successive: int = 3,
) -> list[Finding]:
    """Prechelt's UP_s: the error rose at the end of ``successive`` strips of ``strip`` epochs."""
    err = _validation_error(validation.values, goal)
    if err is None:
        return []
    rises = 0
    for t in range(strip, len(err), strip):
        a, b = float(err[t]), float(err[t - strip])
        if math.isfinite(a) and math.isfinite(b) and a > b:
            rises += 1
            if rises >= successive:
                finite = np.where(np.isfinite(err[: t + 1]), err[: t + 1], np.inf)
                return [
                    _overfit(
                        validation, training, int(np.argmin(finite)), t, f"prechelt.UP{successive}"
                    )
                ]
        else:
            rises = 0
    return []


def pelt_slope(
    series: Series, goal: Goal, *, max_points: int = 2000, min_fraction: float = 0.05
) -> list[Finding]:
    """ruptures ``Pelt(model="l2")`` (penalty ``3 σ² log n``) plus a slope t-test per segment."""
    if goal is None:
        return []
    import ruptures

    finite = np.isfinite(series.values)
    pos = np.flatnonzero(finite)
    if pos.size < 8:
        return []
    if pos.size > max_points:
        pos = pos[np.linspace(0, pos.size - 1, max_points).astype(np.int64)]
    y, _ = working_values(np.clip(series.values[pos], -1e150, 1e150), goal)
    x = series.steps[pos].astype(np.float64)
    n = y.size
    sigma = noise_scale(y, lags=(1,)) or 1e-12
    bkps = ruptures.Pelt(model="l2", min_size=2).fit(y).predict(pen=3 * sigma**2 * math.log(n))
    edges = [0, *bkps]
    segs: list[tuple[int, int, str]] = []
    for a, b in itertools.pairwise(edges):
        line = fit_line(x[a:b], y[a:b])
        dx = x[a:b] - x[a:b].mean()
        sxx = float(dx @ dx)
        if b - a < 3 or sxx == 0:
            t = 0.0
        else:
            se = math.sqrt(line.sse / (b - a - 2) / sxx) if line.sse > 0 else 0.0
            t = (
                line.slope / se
                if se > 0
                else (0.0 if line.slope == 0 else math.copysign(math.inf, line.slope))
            )
        kind = "flat" if abs(t) < 2.0 else ("worse" if t < 0 else "better")
        if segs and segs[-1][2] == kind:
            segs[-1] = (segs[-1][0], b, kind)
        else:
            segs.append((a, b, kind))
    out = []
    for a, b, kind in segs:
        if kind == "better" or b - a < max(3, min_fraction * n):
            continue
        end = None if b >= n else int(series.steps[pos[b - 1]])
        k = FindingKind.PLATEAU if kind == "flat" else FindingKind.DIVERGENCE
        detail = {"rule": "ruptures.Pelt(l2)+slope", "fired_step": int(series.steps[pos[b - 1]])}
        out.append(Finding(k, int(series.steps[pos[a]]), end, (series.tag,), 1.0, detail))
    return out


def first_nonfinite(series: Series, goal: Goal = None) -> list[Finding]:
    """The first NaN or infinity, as a non-finite finding lasting to the end."""
    bad = np.flatnonzero(~np.isfinite(series.values))
    if bad.size == 0:
        return []
    step = int(series.steps[bad[0]])
    detail = {"rule": "first non-finite", "fired_step": step}
    return [Finding(FindingKind.NONFINITE, step, None, (series.tag,), 1.0, detail)]


RULES: dict[str, tuple[str, Callable[..., list[Finding]]]] = {
    "keras.ReduceLROnPlateau": ("series", keras_reduce_lr_on_plateau),
    "keras.EarlyStopping": ("series", keras_early_stopping),
    "torch.ReduceLROnPlateau": ("series", torch_reduce_lr_on_plateau),
    "prechelt.GL5": ("pair", prechelt_gl),
    "prechelt.UP3": ("pair", prechelt_up),
    "ruptures.Pelt(l2)+slope": ("series", pelt_slope),
    "first non-finite": ("series", first_nonfinite),
}
"""Every rule by name, with whether it runs on one series or on a (validation, training) pair."""
