"""Overfitting: the validation metric worsens while the training metric still improves."""

from __future__ import annotations

import numpy as np

from tbplateau.detectors.base import (
    Detector,
    Prepared,
    check_fraction,
    check_positive,
    confidence_from,
    prepare,
)
from tbplateau.findings import Finding, FindingKind, Goal, check_goal
from tbplateau.series import Series

__all__ = ["OverfittingDetector"]


def _tail_level(p: Prepared, fraction: float) -> float:
    """Median working value of the last ``fraction`` of the blocks (at least two)."""
    m = len(p.bins)
    k = max(2, int(np.ceil(fraction * m)))
    return float(np.median(p.bins.y[-k:]))


def _level_from(p: Prepared, x: float, fraction: float) -> float:
    """Median working value of the ``fraction`` of blocks that start at abscissa ``x``."""
    m = len(p.bins)
    k = max(2, int(np.ceil(fraction * m)))
    c = int(np.clip(np.searchsorted(p.bins.x, x), 0, m - 1))
    return float(np.median(p.bins.y[c : c + k]))


class OverfittingDetector(Detector):
    """Find where a validation metric starts to worsen while its training metric improves.

    Works on a *pair* of series (:meth:`detect_pair`); :meth:`detect` on one series
    returns nothing. The onset is the step of the best validation value (on the
    block medians, so one lucky point does not decide). It is overfitting when,
    after that step, the validation metric ends worse than its best by at least
    ``min_worsening`` noise units and ``min_relative`` of the progress it had made,
    at least ``min_fraction`` of its points come after the best, and the training
    metric at the end is better than at the onset by ``min_training_progress`` of
    its own noise units. Steps of the two series are matched by value (they need
    not be logged at the same steps). Needs four finite validation points.

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
        pv = prepare(validation, goal)
        pt = prepare(training, tgoal)
        if pv.n < 4 or pt.n < 2:
            return []
        yb = pv.bins.y
        len(yb)
        b = int(np.argmax(yb))
        # The best raw point inside the best block is the onset.
        lo = int(pv.bins.start[b])
        hi = lo + int(pv.bins.count[b])
        best_point = lo + int(np.argmax(pv.y[lo:hi]))
        after = pv.n - 1 - best_point
        if after < max(2, self.min_fraction * pv.n):
            return []
        best = float(yb[b])
        final = _tail_level(pv, 0.1)
        drop = best - final
        progress = best - float(np.median(yb[: max(1, min(3, b + 1))]))
        if progress <= 0:
            progress = float(np.ptp(yb))
        if drop < self.min_worsening * pv.sigma or drop < self.min_relative * progress:
            return []
        onset_x = float(pv.x[best_point])
        if pt.x.size == 0 or float(pt.x[-1]) <= onset_x:
            return []
        gain = _tail_level(pt, 0.1) - _level_from(pt, onset_x, 0.1)
        if gain < self.min_training_progress * pt.sigma:
            return []
        detail = {
            "validation_run": validation.run,
            "training_run": training.run,
            "validation_tag": validation.tag,
            "training_tag": training.tag,
            "validation_worsening": drop,
            "training_progress": gain,
            "log_scale": pv.log_scale,
        }
        conf = max(0.5, confidence_from(drop / pv.sigma - self.min_worsening, 6.0))
        conf = min(conf, 0.5 + 0.5 * min(1.0, gain / (4 * self.min_training_progress * pt.sigma)))
        start = int(validation.steps[pv.pos[best_point]])
        return [Finding(self.kind, start, None, (validation.tag, training.tag), conf, detail)]

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

    def detect(self, series: Series, goal: Goal) -> list[Finding]:
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
