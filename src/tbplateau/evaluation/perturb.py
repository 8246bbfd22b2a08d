"""Perturbations of labelled cases that should not change what a user is told.

A benchmark that scores well on its own set may still hang on details of how that set
was logged. Each perturbation here rewrites a :class:`~tbplateau.evaluation.synthetic.Case`
the way another writer or another script could have logged the same training, and maps
its labels with it, so the score before and after tells how much the findings depend
on that detail:

* ``steps``: global steps instead of epochs (every step x37, from 1,000);
* ``percent``: accuracies (and other 0..1 metrics to maximise) logged in percent;
* ``warp``: logging intervals that grow along the run (step ``s`` becomes
  ``s + round(s**1.3 / 10)``), as when evaluations get sparser;
* ``pretrain``: one evaluation logged before training, one step before the first point:
  an accuracy at chance (0.1), a loss five times its first value, any other metric to
  maximise as far below its worst value as its whole range (series without a goal,
  such as the learning rate, are left as they are).

Pure functions of the case; the labels keep their onsets on the same points.

>>> from tbplateau.evaluation.synthetic import generate_cases
>>> case = next(c for c in generate_cases(seed=0, per_family=1) if c.labels)
>>> moved = perturb(case, "steps")
>>> moved.labels[0].start_step == 37 * case.labels[0].start_step + 1000
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from tbplateau.errors import InvalidParameterError
from tbplateau.evaluation.synthetic import Case, Label
from tbplateau.goals import infer_goal
from tbplateau.reader.model import Logdir
from tbplateau.series import Series

__all__ = ["PERTURBATIONS", "perturb"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _affine(steps: IntArray) -> IntArray:
    return steps * 37 + 1000


def _warp(steps: IntArray) -> IntArray:
    grow = np.round(np.abs(steps).astype(np.float64) ** 1.3 / 10).astype(np.int64)
    out: IntArray = steps + np.sign(steps).astype(np.int64) * grow
    return out


def _is_unit_max(s: Series) -> bool:
    """A metric to maximise whose finite values all lie in 0..1 (an accuracy, a recall)."""
    v = s.values[np.isfinite(s.values)]
    return infer_goal(s.tag) == "max" and v.size > 0 and float(v.min()) >= 0 and float(v.max()) <= 1


def _with(
    s: Series, steps: IntArray, values: FloatArray, walls: FloatArray | None = None
) -> Series:
    """``s`` with other steps and values; what the reader said of it is kept."""
    return Series(
        s.run,
        s.tag,
        steps=steps,
        values=values,
        wall_times=s.wall_times if walls is None else walls,
        replaced_points=s.replaced_points,
        encoding=s.encoding,
        duplicate_points=s.duplicate_points,
    )


def _steps(s: Series) -> Series:
    return _with(s, _affine(s.steps), s.values)


def _percent(s: Series) -> Series:
    return _with(s, s.steps, s.values * 100.0) if _is_unit_max(s) else s


def _warped(s: Series) -> Series:
    return _with(s, _warp(s.steps), s.values)


def _pretrain(s: Series) -> Series:
    goal = infer_goal(s.tag)
    finite = s.values[np.isfinite(s.values)]
    if len(s) < 4 or goal is None or not np.isfinite(s.values[0]):
        return s
    if _is_unit_max(s):
        first = 0.1
    elif goal == "max":
        first = float(finite.min()) - max(float(np.ptp(finite)), 1e-3)
    else:
        first = abs(float(s.values[0])) * 5 + 1e-3
    gap = max(1, int(s.steps[1] - s.steps[0]))
    steps = np.concatenate([[s.steps[0] - gap], s.steps])
    walls = np.concatenate([[s.wall_times[0]], s.wall_times])
    return _with(s, steps, np.concatenate([[first], s.values]), walls)


_Rewrite = tuple[Callable[[Series], Series], Callable[[IntArray], IntArray] | None]

PERTURBATIONS: dict[str, _Rewrite] = {
    "steps": (_steps, _affine),
    "percent": (_percent, None),
    "warp": (_warped, _warp),
    "pretrain": (_pretrain, None),
}
"""name -> (series rewrite, step map applied to the labels, ``None`` when steps stay)."""


def _label(lb: Label, move: Callable[[IntArray], IntArray]) -> Label:
    def at(step: int) -> int:
        return int(move(np.array([step], dtype=np.int64))[0])

    return replace(
        lb,
        start_step=at(lb.start_step),
        end_step=None if lb.end_step is None else at(lb.end_step),
        onset_range=None
        if lb.onset_range is None
        else (at(lb.onset_range[0]), at(lb.onset_range[1])),
    )


def perturb(case: Case, name: str) -> Case:
    """``case`` logged another way (see the module doc), its labels moved with it."""
    if name not in PERTURBATIONS:
        raise InvalidParameterError(
            f"unknown perturbation {name!r}: one of {', '.join(PERTURBATIONS)}"
        )
    rewrite, move = PERTURBATIONS[name]
    runs = tuple(
        replace(run, series=tuple(rewrite(s) for s in run.series)) for run in case.logdir.runs
    )
    labels = case.labels if move is None else tuple(_label(lb, move) for lb in case.labels)
    return replace(case, logdir=Logdir(case.logdir.path, runs), labels=labels)
