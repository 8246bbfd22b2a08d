"""Non-finite values: NaN or ±inf, reported at the first step they appear."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from tbplateau.detectors.base import Detector, check_positive
from tbplateau.findings import Finding, FindingKind, Goal
from tbplateau.series import Series

__all__ = ["NonFiniteDetector"]


class NonFiniteDetector(Detector):
    """Report where NaN or ±inf values begin.

    One finding per series, at the step of the first non-finite value, whatever the
    goal (a NaN gradient norm matters too). ``end_step`` is ``None`` when the series
    never becomes finite again; otherwise the step of the last non-finite value seen
    (the series recovered, as in a NaN hole). ``detail`` counts the non-finite points
    and the separate stretches they form, and names the first value (``"nan"``,
    ``"inf"`` or ``"-inf"``). Confidence grows with the number of non-finite points
    (``1 - 0.5 ** count``) and is 1 when they last to the end.

    Parameters
    ----------
    min_points : int
        Non-finite points needed for a finding (default 1).

    Examples
    --------
    >>> import numpy as np
    >>> from tbplateau.series import Series
    >>> rng = np.random.default_rng(0)
    >>> v = np.exp(-np.arange(100) / 30) + rng.normal(0, 0.01, 100)
    >>> v[70:] = np.nan
    >>> s = Series("r", "loss", steps=np.arange(100), values=v)
    >>> [(f.kind.value, f.start_step, f.end_step) for f in NonFiniteDetector().detect(s, "min")]
    [('nonfinite', 70, None)]
    """

    kind = FindingKind.NONFINITE

    def __init__(self, *, min_points: int = 1) -> None:
        check_positive("min_points", min_points, integer=True)
        self.min_points = int(min_points)

    def detect(self, series: Series, goal: Goal, *, events: Sequence[int] = ()) -> list[Finding]:
        bad = ~np.isfinite(series.values)
        count = int(bad.sum())
        if count < self.min_points:
            return []
        idx = np.flatnonzero(bad)
        first = int(idx[0])
        last = int(idx[-1])
        to_end = last == len(series) - 1
        stretches = int(1 + np.count_nonzero(np.diff(idx) > 1))
        v = float(series.values[first])
        name = "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
        detail = {
            "first_value": name,
            "nonfinite_points": count,
            "stretches": stretches,
            "recovered": not to_end,
        }
        conf = 1.0 if to_end else 1.0 - 0.5**count
        end = None if to_end else int(series.steps[last])
        return [Finding(self.kind, int(series.steps[first]), end, (series.tag,), conf, detail)]

    def update(self, step: int, value: float) -> Finding | None:
        """Streaming form: reports at the very point the first non-finite value arrives."""
        self._ensure_started()
        self._steps.append(int(step))
        self._values.append(float(value))
        if self._emitted or math.isfinite(value):
            return None
        bad = sum(1 for v in self._values if not math.isfinite(v))
        if bad < self.min_points:
            return None
        found = self._new(self.detect(self._stream_series(), self._stream_goal))
        return found[0] if found else None
