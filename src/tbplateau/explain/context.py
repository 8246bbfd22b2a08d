"""What the rest of a run says about one series: the logged learning rate, the
training/validation partner, twins holding the same values, and the bounds.

Everything here reads the curves (when they are available) and the tag table
(:mod:`tbplateau.goals`); nothing decides wording.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tbplateau.curves import Curves
from tbplateau.findings import Goal
from tbplateau.goals import TWIN_PREFERENCE, Role, TagMeaning, tag_meaning
from tbplateau.pairing import pair_series
from tbplateau.report import RunReport
from tbplateau.series import Series
from tbplateau.stats import fast_diff, fast_median, fast_ptp

__all__ = [
    "CHANCE_CLASSES",
    "LearningRate",
    "Partner",
    "at_bound",
    "chance_classes",
    "find_learning_rate",
    "finite",
    "partners",
    "prior_entropy",
    "twins",
]

FloatArray = npt.NDArray[np.float64]

CHANCE_CLASSES = (2, 3, 4, 5, 6, 7, 8, 9, 10, 100, 1000)
"""Class counts whose ``ln C`` is recognised as a classification loss at chance level."""


_ALL_FINITE = "_tbplateau_all_finite"
"""Where :func:`finite` notes on a series whether every value is finite (asked often)."""


def finite(series: Series) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """The steps and values of the finite points of ``series`` (read-only: the series' own
    arrays when every point is finite, the usual case, which then need no copy)."""
    all_finite = series.__dict__.get(_ALL_FINITE)
    if all_finite is None:
        all_finite = bool(np.isfinite(series.values).all())
        object.__setattr__(series, _ALL_FINITE, all_finite)  # a memo: the arrays are read-only
    if all_finite:
        return series.steps, series.values
    ok = np.isfinite(series.values)
    steps, values = series.steps[ok], series.values[ok]
    steps.flags.writeable = values.flags.writeable = False
    return steps, values


def _tail(values: FloatArray, share: float = 0.1, least: int = 3) -> FloatArray:
    k = max(least, math.ceil(share * values.size))
    return values[-k:]


def _turns(y: FloatArray, swing: float) -> list[int]:
    """The indices of ``y``'s turning points, each at least ``swing`` from the one before
    (a zigzag filter: the first point, then every extreme the values turn back from by
    ``swing`` or more, then the last extreme)."""
    turns = [0]
    direction, lo, hi = 0, 0, 0
    for i in range(1, y.size):
        v = float(y[i])
        if direction == 0:
            lo = i if v < y[lo] else lo
            hi = i if v > y[hi] else hi
            if v - float(y[0]) >= swing or float(y[0]) - v >= swing:
                direction, hi, lo = (1, i, i) if v > y[0] else (-1, i, i)
        elif direction > 0:
            if v > y[hi]:
                hi = i
            elif float(y[hi]) - v >= swing:
                turns.append(hi)
                direction, lo = -1, i
        elif v < y[lo]:
            lo = i
        elif v - float(y[lo]) >= swing:
            turns.append(lo)
            direction, hi = 1, i
    if direction:
        turns.append(hi if direction > 0 else lo)
    return turns


# -- the learning rate -----------------------------------------------------------------


@dataclass(frozen=True)
class LearningRate:
    """The learning rate logged for a run (possibly by a sibling run of its group)."""

    run: str
    tag: str
    series: Series

    @property
    def name(self) -> str:
        return self.tag

    def at(self, step: int) -> float | None:
        """The last logged value at or before ``step`` (else the first one)."""
        steps, values = finite(self.series)
        if not values.size:
            return None
        i = max(0, int(np.searchsorted(steps, step, side="right")) - 1)
        return float(values[i])

    def window(self, start: int, end: int | None) -> FloatArray:
        steps, values = finite(self.series)
        m = steps >= start
        if end is not None:
            m &= steps <= end
        return values[m]

    # Memos of the series' own facts (functools.cached_property writes the instance's
    # __dict__, which a frozen dataclass allows; the arrays are read-only): every series of
    # the run asks again.

    @functools.cached_property
    def constant(self) -> bool:
        _, values = finite(self.series)
        return bool(values.size) and fast_ptp(values) <= 1e-12 * max(1e-30, abs(values[0]))

    @functools.cached_property
    def _peak(self) -> int:
        """``np.argmax`` of the finite values (at least one)."""
        return int(np.argmax(finite(self.series)[1]))

    def zero_from(self, step: int) -> bool:
        """Whether every logged value from ``step`` on is 0."""
        w = self.window(step, None)
        at = self.at(step)
        return at == 0.0 and (w.size == 0 or float(np.abs(w).max()) == 0.0)

    def zero_since(self, step: int, *, within: int = 2) -> int | None:
        """The step from which every logged value is 0, when that is ``step`` or one of the
        ``within`` logged steps after it (an evaluation logged at the end of an epoch holds
        the weights of the last epoch with a non-zero LR), else ``None``."""
        if self.zero_from(step):
            return step
        steps, values = finite(self.series)
        i = int(np.searchsorted(steps, step, side="right"))
        for j in range(i, min(i + within, steps.size)):
            if float(np.abs(values[j:]).max()) == 0.0:
                return int(steps[j])
        return None

    def warming_up(self, step: int) -> bool:
        """Whether the LR at ``step`` is still rising towards a later peak (a warm-up)."""
        steps, values = finite(self.series)
        if values.size < 3:
            return False
        peak = self._peak
        i = max(0, int(np.searchsorted(steps, step, side="right")) - 1)
        top = float(values[peak])
        return i < peak and float(values[i]) < 0.95 * top and float(values[0]) < 0.5 * top

    @property
    def peak_step(self) -> int | None:
        """The step of the highest logged LR (the end of a warm-up)."""
        steps, values = finite(self.series)
        return int(steps[self._peak]) if values.size else None

    @property
    def warmup_whole_run(self) -> bool:
        """Whether the LR rose over the whole run (its warm-up never finished)."""
        _, values = finite(self.series)
        if values.size < 3:
            return False
        return self._peak >= values.size - 2 and values[0] < 0.5 * values.max()

    def _steps_near(self, step: int, before: int, after: int) -> Iterator[tuple[int, float, float]]:
        """``(step, LR before it, LR at it)`` of each logged step from ``before`` points
        before ``step`` to ``after`` points after it."""
        steps, values = finite(self.series)
        if values.size < 2:
            return
        i = int(np.searchsorted(steps, step, side="left"))
        for j in range(max(1, i - before), min(values.size - 1, i + after) + 1):
            yield int(steps[j]), float(values[j - 1]), float(values[j])

    def cut_near(self, step: int, before: int, after: int) -> tuple[int, float, float] | None:
        """The largest LR cut (at least 2x in one logged step) between the logged points
        ``before`` points before ``step`` and ``after`` points after it:
        ``(step of the cut, LR before, LR after)``."""
        best: tuple[int, float, float] | None = None
        ratio = 2.0
        for at, a, b in self._steps_near(step, before, after):
            if b > 0 and a / b >= ratio:
                ratio = a / b
                best = (at, a, b)
            elif b == 0 and a > 0:
                return (at, a, b)
        return best

    @functools.cached_property
    def cycle(self) -> tuple[float, float, int] | None:
        """``(lowest, highest, rises)`` of an LR that goes up and down again and again (a
        cyclic or triangular schedule, warm restarts): two rises and two falls of 2x or more
        each; else ``None``."""
        _, values = finite(self.series)
        if values.size < 6 or float(values.min()) <= 0.0:
            return None
        # no rise of 2x from any earlier low (a decay, a step schedule, a constant LR): no
        # cycle, without the zigzag's Python loop
        if float((values / np.minimum.accumulate(values)).max()) < 2.0:
            return None
        turns = _turns(np.log(values), math.log(2.0))
        rises = [i for k, i in enumerate(turns[1:], 1) if values[i] > values[turns[k - 1]]]
        falls = len(turns) - 1 - len(rises)
        if len(rises) < 2 or falls < 2:
            return None
        return float(values.min()), float(values.max()), len(rises)

    def raise_near(self, step: int, before: int, after: int) -> tuple[int, float, float] | None:
        """The largest LR raise (at least 2x in one logged step, from a non-zero LR) between
        the logged points ``before`` points before ``step`` and ``after`` points after it:
        ``(step of the raise, LR before, LR after)``."""
        best: tuple[int, float, float] | None = None
        ratio = 2.0
        for at, a, b in self._steps_near(step, before, after):
            if a > 0 and b / a >= ratio:
                ratio = b / a
                best = (at, a, b)
        return best

    def decaying(self, start: int, end: int | None) -> tuple[float, float] | None:
        """``(LR at start, LR at end)`` when the schedule lowered the LR by at least 30 %
        over ``[start, end]`` without raising it."""
        w = self.window(start, end)
        if w.size < 2 or float(w[0]) <= 0:
            return None
        rises = fast_diff(w) > 1e-12 * float(w[0])
        if rises.any() or float(w[-1]) > 0.7 * float(w[0]):
            return None
        return float(w[0]), float(w[-1])

    def cut_before(self, step: int) -> tuple[float, float] | None:
        """``(peak before step, LR at step)`` when the LR at ``step`` is at most half its
        earlier peak (the schedule was already cutting it)."""
        steps, values = finite(self.series)
        before = values[steps <= step]
        if before.size < 2:
            return None
        top, now = float(before.max()), float(before[-1])
        return (top, now) if now <= 0.5 * top else None


def _is_lr(tag: str) -> bool:
    meaning = tag_meaning(tag)
    return meaning.role is Role.SCHEDULE and "learning rate" in meaning.why


def find_learning_rate(
    run: str, group: Sequence[str], curves: Curves, tags_by_run: Mapping[str, Sequence[str]]
) -> LearningRate | None:
    """The run's own logged LR, else one logged by a run of its group (Keras logs
    ``epoch_learning_rate`` in ``train`` only). The first LR tag in name order wins."""
    for name in (run, *(g for g in group if g != run)):
        for tag in sorted(tags_by_run.get(name, ())):
            if _is_lr(tag):
                series = curves.get((name, tag))
                if series is not None and np.isfinite(series.values).any():
                    return LearningRate(name, tag, series)
    return None


# -- training and validation partners --------------------------------------------------


@dataclass(frozen=True)
class Partner:
    """The other side of a train/validation pair: ``side`` is this series' role."""

    side: str
    run: str
    tag: str


def partners(runs: Iterable[RunReport], curves: Curves) -> dict[tuple[str, str], Partner]:
    """For every paired series, its role and the series on the other side.

    Pairs come from :func:`~tbplateau.pairing.pair_series` (all the layouts it knows),
    over the report's runs and the runs whose curves are known (a report filtered to
    ``keras/validation`` still compares it with ``keras/train``). A training series
    paired with several validation series keeps the first.
    """
    tags: dict[str, set[str]] = {}
    for r in runs:
        tags.setdefault(r.run, set()).update(s.tag for s in r.series)
    for run, tag in curves:
        tags.setdefault(run, set()).add(tag)
    out: dict[tuple[str, str], Partner] = {}
    for p in pair_series((run, sorted(t)) for run, t in tags.items()):
        out[(p.validation_run, p.validation_tag)] = Partner(
            "validation", p.training_run, p.training_tag
        )
        out.setdefault(
            (p.training_run, p.training_tag), Partner("train", p.validation_run, p.validation_tag)
        )
    return out


# -- twins -----------------------------------------------------------------------------


_TWIN_RES = tuple(re.compile(p) for p in TWIN_PREFERENCE)


def _twin_rank(tag: str) -> tuple[int, int, str]:
    first = next((i for i, p in enumerate(_TWIN_RES) if p.search(tag)), len(_TWIN_RES))
    return (first, len(tag), tag)


def _keras_base(tag: str) -> str | None:
    """``epoch_X`` for Keras' ``epoch_X`` and ``evaluation_X_vs_iterations``, else None."""
    if tag.startswith("evaluation_") and tag.endswith("_vs_iterations"):
        return "epoch_" + tag[len("evaluation_") : -len("_vs_iterations")]
    return tag if tag.startswith("epoch_") else None


def _fewer_than_three_values(v: FloatArray) -> bool:
    """``len(np.unique(v)) < 3`` without the sort: NaNs count as one value, ``-0.0`` and
    ``0.0`` as one."""
    if v.size >= 3:
        a, b, c = v[:3].tolist()
        if a == a and b == b and c == c and a != b and a != c and b != c:
            return False  # three distinct values among the first three (most curves)
    nan = np.isnan(v)
    count = 0
    rest = v
    if nan.any():
        count, rest = 1, v[~nan]
    if rest.size == 0:
        return True
    rest = rest[rest != rest[0]]  # the first value's copies gone
    if rest.size == 0:
        return True
    if count == 1:  # NaN and two values already
        return False
    return bool((rest == rest[0]).all())


def twins(run: RunReport, curves: Curves) -> dict[str, str]:
    """``{twin tag: primary tag}`` for the series of ``run`` that hold the same values.

    Keras writes every validation metric twice (``epoch_X`` by epoch and
    ``evaluation_X_vs_iterations`` by step); ML-Agents logs the same reward under two
    names. Series of at least 4 points equal point for point (steps may differ) are
    twins when they hold 3 distinct values or more, or when Keras' naming says so;
    :data:`~tbplateau.goals.TWIN_PREFERENCE` says which one names the row.
    Without the curves, Keras' naming rule and equal summaries decide.
    """
    groups: dict[tuple[object, ...], list[str]] = {}
    for s in run.series:
        if s.points < 4:
            continue
        curve = curves.get((run.run, s.tag))
        base = _keras_base(s.tag)
        if curve is not None:
            v = curve.values
            if not np.isfinite(v).any():
                continue
            few = _fewer_than_three_values(v)
            if base is None and few:
                continue  # a short constant stretch is no evidence of a copy
            # np.nansum(v) is v.sum() (a copy, summed in the same order) without a NaN
            total = float(v.sum()) if finite(curve)[1] is v else float(np.nansum(v))
            key: tuple[object, ...] = (len(v), v[0].tobytes(), v[-1].tobytes(), total)
            if base is not None and few:
                key = (base, *key)
        else:
            key = (base or s.tag, s.points, s.best_value, s.last_value)
        groups.setdefault(key, []).append(s.tag)
    out: dict[str, str] = {}
    for tags in groups.values():
        if len(tags) < 2:
            continue
        tags.sort(key=_twin_rank)
        primary = tags[0]
        pc = curves.get((run.run, primary))
        for t in tags[1:]:
            tc = curves.get((run.run, t))
            same = pc is None or tc is None or np.array_equal(pc.values, tc.values, equal_nan=True)
            if not same:
                continue
            out[t] = primary
    return out


# -- bounds and chance ----------------------------------------------------------------------


def at_bound(
    curve: Series | None, goal: Goal | None, meaning: TagMeaning
) -> tuple[str, float, int] | None:
    """``("high" | "low", bound, since_step)`` when the series sits at a bound of its
    values (an accuracy at 1, an error at 0, a reward at its maximum).

    It is at the high bound ``H`` of a metric to maximise when the median of its last
    tenth (at least 3 points) is within 2 % of the range of ``H`` and its best within
    0.5 %; at the low bound 0 of an error (not a loss) likewise. ``since_step`` is the
    first step from which it stays within 5 %.
    """
    if curve is None or goal is None:
        return None
    steps, values = finite(curve)
    if values.size < 3:
        return None
    low, high = meaning.bounds(values)
    tail = fast_median(_tail(values))
    if goal == "max" and high is not None:
        span = high - (low if low is not None else 0.0)
        if span <= 0:
            return None
        near = values >= high - 0.05 * span
        if tail >= high - 0.02 * span and float(values.max()) >= high - 0.005 * span:
            return ("high", high, _since(steps, near))
    if goal == "min" and low is not None and not meaning.chance_loss:
        top = float(np.abs(values).max())
        if top <= 0:
            return None
        near = values <= low + 0.05 * top
        if tail <= low + 0.02 * top and float(values.min()) <= low + 0.005 * top:
            return ("low", low, _since(steps, near))
    return None


def _since(steps: npt.NDArray[np.int64], near: npt.NDArray[np.bool_]) -> int:
    """The first step from which ``near`` holds to the end."""
    bad = np.flatnonzero(~near)
    i = int(bad[-1]) + 1 if bad.size else 0
    return int(steps[min(i, steps.size - 1)])


def chance_classes(curve: Series | None, meaning: TagMeaning) -> int | None:
    """``C`` when a classification loss sits at ``ln C``, the loss of a model that
    predicts every class with probability ``1/C``.

    The median of the last fifth must be within 1.5 % of ``ln C`` and every point of
    that fifth within 3 %; and either the first value was within 5 % of ``ln C`` too
    (it never left chance) or the loss came down to it and stays there.
    """
    if curve is None or not meaning.chance_loss:
        return None
    _, values = finite(curve)
    if values.size < 4:
        return None
    tail = _tail(values, 0.2, 2)
    m = fast_median(tail)
    for c in CHANCE_CLASSES:
        ln_c = math.log(c)
        if abs(m - ln_c) > 0.015 * ln_c:
            continue
        if float(np.abs(tail - ln_c).max()) > 0.03 * ln_c:
            continue
        return c
    return None


def prior_entropy(accuracy: float) -> float:
    """The binary cross-entropy of a model that always outputs the class prior ``p``
    (its accuracy, predicting the majority class): ``-p ln p - (1-p) ln(1-p)``."""
    p = min(max(accuracy, 1e-12), 1 - 1e-12)
    return -(p * math.log(p) + (1 - p) * math.log(1 - p))
