"""Overfitting: the validation metric worsens while the training metric still improves."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tbplateau.detectors.base import (
    Detector,
    Levels,
    check_fraction,
    check_positive,
    confidence_from,
    levels,
)
from tbplateau.findings import Finding, FindingKind, Goal, check_goal
from tbplateau.series import Series
from tbplateau.stats import fast_median

__all__ = ["OverfittingDetector"]


def _tail_level(p: Levels, fraction: float) -> float:
    """Median working value of the last ``fraction`` of the blocks (at least two)."""
    m = len(p.bins)
    k = max(2, int(np.ceil(fraction * m)))
    return fast_median(p.bins.y[-k:])


def _level_at(p: Levels, x: float, fraction: float) -> float:
    """Median working value of the ``fraction`` of blocks that end at abscissa ``x`` (the
    level reached by then; what follows, a collapse say, does not count)."""
    m = len(p.bins)
    k = max(2, int(np.ceil(fraction * m)))
    c = int(np.clip(np.searchsorted(p.bins.x, x, side="right"), 1, m))
    return fast_median(p.bins.y[max(0, c - k) : c])


ROBUST_BEST = 20
"""From this many blocks the best validation value is taken robustly."""

OUTLIER_UNITS = 5.0
"""How far above the running median of the five blocks around it (in the series' typical
long-run noise units) the best block must stand to be one lucky evaluation rather than
the best: at three units the true minimum of a loss that turns noisy after an LR raise
was passed over for a worse block a few epochs before it (lr_raise and overfit runs of
the extra pool); five still sets aside a lone outlier of a noisy phase."""

LEVEL_RISE = 0.02
"""A validation loss that ends 2 % above its best (and out of its noise) has risen,
whatever it had gained before."""

SHORT = 10
"""A validation series of at most this many points is judged by the short-series rule."""

SHORT_RELATIVE = 0.5
"""On a short validation series the rise must be this share of the earlier improvement."""

STRONG_RISE = 0.5
"""With the training metric flat, the validation rise must be this share of its earlier
improvement (and stand out of the noise) to be overfitting."""

FLOOR = 0.7
"""Lowest confidence of a finding (and the most when the training side barely improved):
those at the floor still matched a label four times in five on the tuning runs (the dev
split and the tuning pools; a floor of 0.5 read as a coin toss, and was not)."""

COLLAPSE_LOG = math.log(1.5)
"""A validation loss (on its log scale) that gets worse in one step by less than half again
has not collapsed: a raised learning rate that opens the gap between training and validation
at once (the validation loss 40 % up and drifting on while the training loss falls) is
overfitting. (A one-step fall of an accuracy or other linear metric is a collapse at any size.)"""


def _robust_best(p: Levels) -> tuple[int, float]:
    """The finite point of the best validation value, and that value, robustly.

    The best block, unless (from 20 blocks) it stands out of the running median of the
    five around it by more than :data:`OUTLIER_UNITS` of the series' typical long-run
    noise units: one lucky evaluation in a noisy phase is not the best, and the best
    block near the best of that running median is taken instead. Inside a block of several points,
    its best point.
    """
    yb = p.bins.y
    b = int(np.argmax(yb))
    if yb.size >= ROBUST_BEST and _outlying(p, b):
        c = int(np.argmax(p.smooth))
        lo, hi = max(0, c - 2), min(yb.size, c + 3)
        b = lo + int(np.argmax(yb[lo:hi]))
    lo = int(p.bins.start[b])
    hi = lo + int(p.bins.count[b])
    point = lo + int(np.argmax(p.y[lo:hi])) if hi - lo > 1 else lo
    return point, float(yb[b])


def _outlying(p: Levels, b: int) -> bool:
    """Whether block ``b`` stands above the running median by more than
    :data:`OUTLIER_UNITS` of the series' typical long-run noise units,
    ``median(local) * kappa``.

    The long-run factor lies between 1 and its first guess (a refit only lowers it) and
    the product grows with it: the refitted factor is only worked out when the two
    bounds disagree (the same answer, bit for bit).
    """
    excess = p.bins.y[b] - p.smooth[b]
    level = fast_median(p.local)
    if excess > OUTLIER_UNITS * (level * p.first_kappa):
        return True
    if excess <= OUTLIER_UNITS * (level * 1.0):
        return False
    return bool(excess > OUTLIER_UNITS * (level * p.kappa))


def _level_rise(p: Levels, best: float) -> float:
    """A rise of :data:`LEVEL_RISE` of the best value, in working units."""
    if p.log_scale:
        return math.log1p(LEVEL_RISE)
    return LEVEL_RISE * abs(best)


def _raw(p: Levels, working: float) -> float:
    """A working value back in the metric's own units."""
    if p.log_scale:
        return float(np.exp(-working)) if working > -700 else float("inf")
    return float(-working if p.goal == "min" else working)


@dataclass(frozen=True, slots=True)
class _Rise:
    """A validation metric's worsening after its robust best (working units)."""

    best_point: int
    best: float
    final: float
    drop: float
    progress: float


class OverfittingDetector(Detector):
    """Find where a validation metric starts to worsen while its training metric improves.

    Works on a *pair* of series (:meth:`detect_pair`); :meth:`detect` on one series
    returns nothing. The onset is the step of the best validation value, robustly
    (one lucky evaluation far out of its neighbours in a noisy phase does not decide;
    ``detail`` gives ``best_step`` and the value logged there, ``best_value``; the
    level of its block, ``robust_best``; and the level of the last tenth,
    ``final_value``). It is
    overfitting when, after that step, the validation metric ends worse than its best
    by at least ``min_worsening`` noise units and by ``min_relative`` of the progress
    it had made or 2 % of its best value (half the progress on a series of 10
    evaluations or fewer, whose noise is unknown), at least ``min_fraction`` of its
    points come after the best, and the training metric at the end is better than at
    the onset by ``min_training_progress`` of its own noise units, or is flat (not
    clearly worse) while the validation rise is at least half the earlier
    improvement. A rise that happens in one step (half of it between two blocks of
    the running median; for a loss, by half again or more: :data:`COLLAPSE_LOG`) is a
    collapse, not overfitting. Steps of the two series are
    matched by value (they need not be logged at the same steps). Needs four finite
    validation points.

    Parameters
    ----------
    min_worsening : float
        Validation worsening needed, in noise units (default 4).
    min_relative : float
        Validation worsening needed, as a fraction of its earlier progress (default 0.1).
    min_training_progress : float
        Training progress needed after the onset, in noise units (default 2).
    min_fraction : float
        Fraction of validation points that must follow the best one (default 0.1).

    Examples
    --------
    >>> import numpy as np
    >>> from tbplateau.series import Series
    >>> rng = np.random.default_rng(4)
    >>> t = np.arange(0, 3000, 100)
    >>> train = np.exp(-t / 800) + rng.normal(0, 0.005, 30)
    >>> val = 0.3 + np.exp(-t / 500) + 1e-4 * np.maximum(t - 1200, 0) + rng.normal(0, 0.005, 30)
    >>> v = Series("r", "val_loss", steps=t, values=val)
    >>> f = OverfittingDetector().detect_pair(v, Series("r", "loss", steps=t, values=train), "min")
    >>> [(x.kind.value, x.start_step, x.tags) for x in f]
    [('overfitting', 1400, ('val_loss', 'loss'))]
    """

    kind = FindingKind.OVERFITTING

    def __init__(
        self,
        *,
        min_worsening: float = 4.0,
        min_relative: float = 0.1,
        min_training_progress: float = 2.0,
        min_fraction: float = 0.1,
    ) -> None:
        check_positive("min_worsening", min_worsening)
        check_fraction("min_relative", min_relative)
        check_positive("min_training_progress", min_training_progress)
        check_fraction("min_fraction", min_fraction)
        self.min_worsening = float(min_worsening)
        self.min_relative = float(min_relative)
        self.min_training_progress = float(min_training_progress)
        self.min_fraction = float(min_fraction)

    def detect_pair(
        self,
        validation: Series,
        training: Series,
        goal: Goal,
        *,
        training_goal: Goal | str = "same",
    ) -> list[Finding]:
        """Overfitting findings of ``validation`` against ``training`` (at most one)."""
        tgoal: Goal = goal if training_goal == "same" else check_goal(training_goal)
        if goal is None or tgoal is None:
            return []
        # no segmentation is read here: the levels before it (the same, whatever the events)
        pv = levels(validation, goal)
        pt = levels(training, tgoal)
        if pv.n < 4 or pt.n < 2:
            return []
        rise = self._validation_rise(pv)
        if rise is None:
            return []
        onset_x = float(pv.x[rise.best_point])
        if pt.x.size == 0 or float(pt.x[-1]) <= onset_x:
            return []
        gain = _tail_level(pt, 0.1) - _level_at(pt, onset_x, 0.1)
        improving = gain >= self.min_training_progress * pt.sigma
        # Training already flat (neither better nor clearly worse) while validation
        # rises strongly: the model memorises what it already fits. (Its long-run factor
        # is only worked out when asked.)
        if not improving and not (
            rise.drop >= STRONG_RISE * rise.progress
            and gain > -(self.min_training_progress * pt.sigma * pt.kappa)
        ):
            return []
        return [self._finding(validation, training, (pv, pt), rise, gain)]

    def _validation_rise(self, pv: Levels) -> _Rise | None:
        """The validation metric's worsening after its robust best, when it is large enough
        (next to the noise and to the progress before it) and not a one-step collapse."""
        best_point, best = _robust_best(pv)
        after = pv.n - 1 - best_point
        if after < max(2, self.min_fraction * pv.n):
            return None
        yb = pv.bins.y
        b = int(np.searchsorted(pv.bins.start, best_point, side="right")) - 1
        final = _tail_level(pv, 0.1)
        drop = best - final
        progress = best - fast_median(yb[: max(1, min(3, b + 1))])
        if progress <= 0:
            progress = float(np.ptp(yb))
        # A few evaluations say little about the noise: the rise must then be large
        # next to the improvement before it.
        if drop < self.min_worsening * pv.sigma:
            return None
        if pv.n <= SHORT:
            # ...and large next to the level: a model that learned nothing (an accuracy
            # at chance) has no best to fall from, only noise around it
            if drop < max(self.min_relative, SHORT_RELATIVE) * progress:
                return None
            if drop < _level_rise(pv, best):
                return None
        elif drop < self.min_relative * progress and drop < _level_rise(pv, best):
            return None
        # A rise in one step is a collapse (a divergence), not the slow drift of a model
        # that memorises its training set.
        if pv.n > SHORT:
            steps = np.diff(pv.smooth[b:]) if b + 1 < len(pv.bins) else np.zeros(0)
            jump = -float(steps.min()) if steps.size else 0.0
            if jump >= 0.5 * drop and (jump >= COLLAPSE_LOG or not pv.log_scale):
                return None
        return _Rise(best_point, best, final, drop, progress)

    def _finding(
        self,
        validation: Series,
        training: Series,
        levels_of: tuple[Levels, Levels],
        rise: _Rise,
        gain: float,
    ) -> Finding:
        """The finding, its detail and its confidence (capped by the training side's progress)."""
        pv, pt = levels_of
        at = pv.pos[rise.best_point]
        detail = {
            "validation_run": validation.run,
            "training_run": training.run,
            "validation_tag": validation.tag,
            "training_tag": training.tag,
            "validation_worsening": rise.drop,
            "training_progress": gain,
            "log_scale": pv.log_scale,
            "best_step": int(validation.steps[at]),
            "best_value": float(validation.values[at]),
            "robust_best": _raw(pv, rise.best),
            "final_value": _raw(pv, rise.final),
        }
        conf = max(FLOOR, confidence_from(rise.drop / pv.sigma - self.min_worsening, 6.0))
        if gain >= self.min_training_progress * pt.sigma:
            ratio = min(1.0, gain / (4 * self.min_training_progress * pt.sigma))
            conf = min(conf, FLOOR + (1.0 - FLOOR) * ratio)
        else:
            conf = min(conf, FLOOR)
        if pv.n <= SHORT:
            # a few evaluations make no finding certain (4 points: at most 0.875)
            conf = min(conf, 1.0 - 0.5 / pv.n)
        start = int(validation.steps[at])
        return Finding(self.kind, start, None, (validation.tag, training.tag), conf, detail)

    # -- streaming over a pair ------------------------------------------------------

    def start(self, goal: Goal, *, run: str = "", tag: str = "") -> None:
        super().start(goal, run=run, tag=tag)
        self._train_steps: list[int] = []
        self._train_values: list[float] = []
        self._train_run = run
        self._train_tag = "training"

    def start_pair(
        self,
        goal: Goal,
        *,
        validation_run: str = "",
        validation_tag: str = "validation",
        training_run: str = "",
        training_tag: str = "training",
    ) -> None:
        """Begin a stream over a pair; feed it with :meth:`update` and :meth:`update_training`."""
        self.start(goal, run=validation_run, tag=validation_tag)
        self._train_run = training_run
        self._train_tag = training_tag

    def update_training(self, step: int, value: float) -> None:
        """Add one point of the training series (never reports by itself)."""
        self._ensure_started()
        self._train_steps.append(int(step))
        self._train_values.append(float(value))

    _streaming = False

    def detect(self, series: Series, goal: Goal, *, events: Sequence[int] = ()) -> list[Finding]:
        """One series alone cannot overfit: ``[]`` (use :meth:`detect_pair`).

        While streaming, the series is the validation stream and is paired with the
        training points fed through :meth:`update_training`.
        """
        if self._streaming:
            train = Series(
                self._train_run, self._train_tag, steps=self._train_steps, values=self._train_values
            )
            return self.detect_pair(series, train, goal)
        return []

    def update(self, step: int, value: float) -> Finding | None:
        self._streaming = True
        try:
            return super().update(step, value)
        finally:
            self._streaming = False

    def flush(self) -> list[Finding]:
        self._streaming = True
        try:
            return super().flush()
        finally:
            self._streaming = False

    @property
    def findings(self) -> list[Finding]:
        self._ensure_started()
        train = Series(
            self._train_run, self._train_tag, steps=self._train_steps, values=self._train_values
        )
        return self.detect_pair(self._stream_series(), train, self._stream_goal)
