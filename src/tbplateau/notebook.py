"""``detect()``: findings of a curve held in memory, for notebooks.

>>> import numpy as np
>>> t = np.arange(200)
>>> rng = np.random.default_rng(0)
>>> loss = np.where(t < 80, np.exp(-t / 20), np.exp(-4.0)) * np.exp(rng.normal(0, 0.02, 200))
>>> [(f.kind.value, f.start_step) for f in detect(loss)]
[('plateau', 78)]
>>> detect([1.0, 0.5, float("nan"), float("nan")])[0].kind.value
'nonfinite'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from tbplateau.analysis import analyze
from tbplateau.detectors import Detector
from tbplateau.errors import InvalidParameterError
from tbplateau.findings import Finding, FindingKind
from tbplateau.goals import GoalOverride
from tbplateau.reader.model import Logdir, Run
from tbplateau.series import Series

__all__ = ["detect"]

GoalArg = Literal["min", "max", "auto"] | None


def _goals(goal: GoalArg) -> list[GoalOverride]:
    if goal == "auto":
        return []
    if goal not in ("min", "max", None):
        raise InvalidParameterError(f"goal must be 'min', 'max', 'auto' or None, not {goal!r}")
    return [("*", goal)]


def _is_frame(values: Any) -> bool:
    return hasattr(values, "columns") and hasattr(values, "groupby")


def _from_frame(frame: Any) -> tuple[Run, ...]:
    cols = set(frame.columns)
    if not {"step", "value"} <= cols:
        raise InvalidParameterError(
            "a DataFrame must be in tbparse's long format, with 'step' and 'value' columns "
            f"(and optionally 'run', 'tag', 'wall_time'); it has {sorted(map(str, cols))}"
        )
    keys = [c for c in ("run", "tag") if c in cols]
    groups = frame.groupby(keys, sort=False) if keys else [((), frame)]
    by_run: dict[str, list[Series]] = {}
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        named = dict(zip(keys, key, strict=True))
        run, tag = str(named.get("run", ".")), str(named.get("tag", "value"))
        part = part.sort_values("step", kind="stable")
        wall = part["wall_time"].to_numpy() if "wall_time" in cols else None
        by_run.setdefault(run, []).append(
            Series(
                run,
                tag,
                steps=part["step"].to_numpy(),
                values=part["value"].to_numpy(),
                wall_times=wall,
            )
        )
    return tuple(Run(name, (), tuple(series)) for name, series in by_run.items())


def _curve(values: Any, steps: Any, tag: str | None) -> Series:
    """One curve given as a list, an array or a pandas Series, in step order."""
    name = tag or (str(values.name) if getattr(values, "name", None) is not None else "value")
    index = getattr(values, "index", None)
    arr = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values, float)
    if arr.ndim != 1:
        raise InvalidParameterError(f"values must be one-dimensional, not of shape {arr.shape}")
    if steps is None:
        if index is not None and np.issubdtype(np.asarray(index).dtype, np.integer):
            steps = np.asarray(index)
        else:
            steps = np.arange(arr.size)
    st = np.asarray(steps)
    if st.shape != arr.shape:
        raise InvalidParameterError(f"steps and values differ in length ({st.size} and {arr.size})")
    order = np.argsort(st, kind="stable")
    return Series(".", name, steps=st[order], values=arr[order])


def detect(
    values: Any,
    steps: Any = None,
    *,
    goal: GoalArg = "min",
    tag: str | None = None,
    detectors: Mapping[FindingKind, Detector] | None = None,
) -> list[Finding]:
    """Findings of one curve, or of every series of a tbparse long DataFrame.

    Parameters
    ----------
    values
        A list, a numpy array, a pandas Series (its integer index is used as the
        steps when ``steps`` is not given), a :class:`~tbplateau.series.Series`, or a
        DataFrame in tbparse's long format (``step``, ``value`` and optionally
        ``run``, ``tag``, ``wall_time``), whose series are analysed together, so a
        validation/training pair can give an overfitting finding.
    steps
        The steps of ``values`` (default ``0, 1, 2, ...``); not used with a DataFrame.
    goal
        ``"min"`` (a loss), ``"max"`` (an accuracy), ``None`` (not judged: only
        non-finite values are reported) or ``"auto"``: inferred from each tag name.
    tag
        The name used in the findings (default: the pandas Series' name, else
        ``"value"``).
    detectors
        Detector instances by kind, as for :func:`~tbplateau.analysis.analyze`.

    Returns
    -------
    list of Finding
        Sorted by run, then series, then onset, exactly as :func:`analyze` reports them.
    """
    goals = _goals(goal)
    if _is_frame(values):
        if steps is not None:
            raise InvalidParameterError("steps cannot be given with a DataFrame (it has 'step')")
        runs = _from_frame(values)
    elif isinstance(values, Series):
        runs = (Run(values.run or ".", (), (values,)),)
    else:
        runs = (Run(".", (), (_curve(values, steps, tag),)),)
    report = analyze(Logdir("<memory>", runs), goals=goals, detectors=detectors)
    return list(report.findings())
