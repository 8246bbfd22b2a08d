"""The sentences every diagnosis is made of: the run's numbers, the logged learning
rate, the callback replays and the forecast, and what the series' context
(:class:`SeriesContext`) says. Used by :mod:`~tbplateau.explain.kinds` (one builder per
kind of finding) and :mod:`~tbplateau.explain.states` (solved, at chance level, warm-up,
improving, worsening)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tbplateau import baselines
from tbplateau.escape import MAX_NAME, shorten
from tbplateau.explain.context import LearningRate, at_bound, finite
from tbplateau.explain.forecast import Forecast
from tbplateau.explain.text import fmt, fmt_step, plural
from tbplateau.findings import Finding, FindingKind, Goal
from tbplateau.goals import TagMeaning
from tbplateau.report import SeriesReport
from tbplateau.series import Series
from tbplateau.stats import fast_diff, fast_median, fast_ptp

__all__ = [
    "CAPACITY",
    "RAISE_LR",
    "RANK",
    "REGULARISE",
    "RL_STALL",
    "TRY",
    "WEAK",
    "LrStory",
    "SeriesContext",
    "barely_moved",
    "better",
    "consecutive",
    "early_stopping",
    "entropy",
    "generalisation_gap",
    "lr_over",
    "lr_story",
    "name",
    "outlook",
    "partner_improving",
    "partner_solved",
    "prior_fact",
    "reduce_lr",
    "value_at",
    "window",
]

RANK = {
    FindingKind.NONFINITE: 0,
    FindingKind.DIVERGENCE: 1,
    FindingKind.OVERFITTING: 2,
    FindingKind.OSCILLATION: 3,
    FindingKind.PLATEAU: 4,
}
WEAK = 0.7
"""Findings with a confidence below this are marked "(weak)" in verdicts: the confidences are
calibrated (a finding at 0.6 matched a label about three times in five on the tuning runs),
so a weak finding is one that is wrong about as often as one in three."""

TRY = {
    "plateau": (
        "ReduceLROnPlateau or an LR schedule (step or cosine decay)",
        "a different optimiser (Adam/AdamW, or SGD with momentum)",
        "more capacity (wider or deeper) if the training metric is flat too",
    ),
    "flat line": (
        "check that the LR is not zero and that the optimiser steps",
        "check for frozen layers (requires_grad / trainable) and dead ReLUs "
        "(LeakyReLU, better initialisation, a lower LR)",
        "check the labels and class balance",
    ),
    "divergence": (
        "lower the LR (3-10×)",
        "an LR warm-up",
        "gradient clipping (clipnorm=1.0, clip_grad_norm_)",
    ),
    "non-finite": (
        "lower the LR and clip gradients",
        "guard log(0) and divisions in the loss (log(x + eps), clamp probabilities)",
        "with mixed precision: dynamic loss scaling or bfloat16",
        "find the first bad op with tf.debugging.enable_check_numerics / "
        "torch.autograd.detect_anomaly",
    ),
    "overfitting": (
        "early stopping at the best step (EarlyStopping(restore_best_weights=True), "
        "or keep that checkpoint)",
        "regularisation (weight decay) and dropout",
        "data augmentation or more data",
    ),
    "oscillation": ("a lower LR", "a larger batch"),
}
"""What to try by finding label, when the logs say nothing more specific."""

RAISE_LR = (
    "raise the LR (3-10×; an LR range test finds the usable range)",
    "a warm restart (SGDR) or a one-cycle schedule",
)
REGULARISE = (
    "regularisation (weight decay, dropout)",
    "data augmentation or more data",
    "keep the checkpoint of the best validation step",
)
CAPACITY = (
    "more capacity (wider or deeper)",
    "a different optimiser (Adam/AdamW, or SGD with momentum)",
)
RL_STALL = (
    "more environment steps (rewards often climb again after a long flat stretch)",
    "more exploration (a larger entropy bonus, curiosity, more parallel environments)",
    "reward shaping or a curriculum if the task is too hard to stumble on",
)


def name(tag: str) -> str:
    """A tag inside a sentence: the full name, cut in the middle past
    :data:`~tbplateau.escape.MAX_NAME` characters."""
    return shorten(tag, MAX_NAME)


@dataclass(frozen=True)
class SeriesContext:
    """Everything the advice on one series may quote."""

    run: str
    summary: SeriesReport
    findings: tuple[Finding, ...]
    curve: Series | None
    unit: str
    meaning: TagMeaning
    lr: LearningRate | None = None
    side: str | None = None
    """``"train"`` or ``"validation"`` when the series is one side of a pair."""
    partner: Series | None = None
    partner_name: str | None = None
    run_overfits: bool = False
    """Whether the run (or its group) overfits: validation metrics stall for that reason."""
    overfit_name: str | None = None
    """The validation series found overfitting in the run (or its group), as the report
    names it: not always this series' partner (a run with three loss pairs overfits on one)."""
    warmup: bool = False
    """Whether the whole run is inside an LR warm-up."""
    chance: int | None = None
    """``C`` when this series is a loss at ``ln C`` (chance level for ``C`` classes)."""
    chance_accuracy: float | None = None
    """The chance accuracy of this series (``1/C``, or the class prior) when it sits there."""
    prior: float | None = None
    """The class prior this series (a binary loss or accuracy) says the model outputs."""
    bound: tuple[str, float, int] | None = None
    extra_context: tuple[str, ...] = field(default=())

    @property
    def tag(self) -> str:
        return self.summary.tag

    @property
    def goal(self) -> Goal:
        return self.summary.goal

    def at(self, step: int) -> str:
        return f"{self.unit} {step:,}"

    def till(self, f: Finding) -> str:
        return "the end" if f.end_step is None else self.at(f.end_step)


# -- small helpers on curves --------------------------------------------------------------


def window(series: Series, start: int, end: int | None) -> npt.NDArray[np.float64]:
    m = series.steps >= start
    if end is not None:
        m &= series.steps <= end
    v = series.values[m]
    return v[np.isfinite(v)]


def value_at(series: Series, step: int) -> tuple[int, float] | None:
    """The last finite point at or before ``step`` (else the first finite one)."""
    steps, values = finite(series)
    if not values.size:
        return None
    i = max(0, int(np.searchsorted(steps, step, side="right")) - 1)
    return int(steps[i]), float(values[i])


def better(a: float, b: float, goal: Goal) -> bool:
    return a < b if goal == "min" else a > b


def consecutive(series: Series) -> bool:
    # np.median of the integer gaps takes the mean of the middle ones in float64: the
    # same as the median of the gaps converted first (an order-preserving conversion)
    d = fast_diff(series.steps).astype(np.float64)
    return bool(d.size) and fast_median(d) == 1.0


def barely_moved(ctx: SeriesContext) -> bool:
    """Whether the series' best is within 10 % of where it started (relative)."""
    if ctx.curve is None or ctx.summary.best_value is None:
        return False
    _, values = finite(ctx.curve)
    if values.size < 4:
        return False
    first, best = float(values[0]), float(ctx.summary.best_value)
    gain = first - best if ctx.goal == "min" else best - first
    return gain <= 0.1 * max(abs(first), 1e-12)


def partner_improving(ctx: SeriesContext, step: int) -> tuple[float, float] | None:
    """``(partner at step, partner at its end)`` when the partner kept improving after
    ``step`` (by more than a tenth of its whole range).

    Memoised on ``ctx`` by ``step`` (a plateau's tries and its facts both ask)."""
    if ctx.partner is None:
        return None
    memo: dict[int, tuple[float, float] | None] | None = ctx.__dict__.get("_partner_improving")
    if memo is None:
        memo = {}
        object.__setattr__(ctx, "_partner_improving", memo)  # a memo, not a field
    if step not in memo:
        memo[step] = _partner_improving(ctx, ctx.partner, step)
    return memo[step]


def _partner_improving(
    ctx: SeriesContext, partner: Series, step: int
) -> tuple[float, float] | None:
    """:func:`partner_improving` of ``ctx``'s ``partner``, computed."""
    at = value_at(partner, step)
    _, values = finite(partner)
    if at is None or not values.size:
        return None
    end = fast_median(values[-max(1, values.size // 10) :])
    gain = at[1] - end if ctx.goal == "min" else end - at[1]
    return (at[1], float(values[-1])) if gain > 0.1 * fast_ptp(values) > 0 else None


def generalisation_gap(ctx: SeriesContext) -> tuple[float, float] | None:
    """``(train, validation)`` end levels when this series is one side of a pair of
    positive losses whose training side ends at under a third of the validation side's
    level (the model fits the training data far better than it generalises)."""
    if ctx.side is None or ctx.goal != "min" or ctx.partner is None or ctx.curve is None:
        return None
    _, mine = finite(ctx.curve)
    _, theirs = finite(ctx.partner)
    if mine.size < 3 or theirs.size < 3:
        return None
    a = fast_median(mine[-max(3, mine.size // 10) :])
    b = fast_median(theirs[-max(3, theirs.size // 10) :])
    if ctx.side == "validation":
        a, b = b, a
    return (a, b) if 0 < 3.0 * a < b else None


def partner_solved(ctx: SeriesContext) -> float | None:
    """The bound at which the other side of a pair of metrics to maximise sits (a
    validation accuracy of 1), else None (see :func:`~tbplateau.explain.context.at_bound`)."""
    if ctx.goal != "max":
        return None
    bound = at_bound(ctx.partner, ctx.goal, ctx.meaning)
    return bound[1] if bound is not None and bound[0] == "high" else None


# -- the learning rate in sentences ----------------------------------------------------------


def lr_over(lr: LearningRate, start: int, end: int | None) -> str | None:
    w = lr.window(start, end)
    at = lr.at(start)
    if at is None:
        return None
    if lr.cycle is not None:
        lo, hi, rises = lr.cycle
        return (
            f"The logged {name(lr.tag)} cycles between {fmt(lo)} and {fmt(hi)} (a cyclic "
            f"schedule: it rose {rises} times): the curve's swings and stalls follow it."
        )
    if w.size == 0:
        return f"The logged {name(lr.tag)} was {fmt(at)} at {fmt_step(start)}."
    lo, hi = float(w.min()), float(w.max())
    if hi == 0.0:
        return f"The logged {name(lr.tag)} is 0 there: the weights cannot change."
    if lo == hi:
        return f"The logged {name(lr.tag)} stayed at {fmt(lo)} throughout."
    return f"The logged {name(lr.tag)} went from {fmt(float(w[0]))} to {fmt(float(w[-1]))} over it."


@dataclass(frozen=True)
class LrStory:
    """What the logged LR did around a finding: at most one of these is the story."""

    zero: bool = False
    zero_step: int | None = None
    """Where the LR became 0 for good (the finding's onset or a step or two after it)."""
    warmup: bool = False
    decaying: tuple[float, float] | None = None
    cut_before: tuple[float, float] | None = None
    cut_at_end: tuple[int, float, float] | None = None
    constant: bool = False
    note: str | None = None


def lr_story(ctx: SeriesContext, f: Finding) -> LrStory:
    lr = ctx.lr
    if lr is None:
        return LrStory()
    note = lr_over(lr, f.start_step, f.end_step)
    zero_step = lr.zero_since(f.start_step)
    if zero_step is not None:
        return LrStory(zero=True, zero_step=zero_step, note=note)
    if lr.warming_up(f.start_step):
        end = f.end_step
        if end is None and ctx.curve is not None and len(ctx.curve):
            end = int(ctx.curve.steps[-1])
        peak = lr.peak_step
        if peak is not None and end is not None and peak >= end:  # all of it in the warm-up
            return LrStory(warmup=True, note=note)
    if lr.cycle is not None:  # no cut "before it" or decay "over it": the next rise undoes it
        return LrStory(note=note)
    end_cut = None
    if f.end_step is not None:
        end_cut = lr.cut_near(f.end_step, before=2, after=1)
    return LrStory(
        decaying=lr.decaying(f.start_step, f.end_step),
        cut_before=lr.cut_before(f.start_step),
        cut_at_end=end_cut,
        constant=lr.constant,
        note=note,
    )


# -- replays and forecasts --------------------------------------------------------------------


def early_stopping(series: Series, goal: Goal, unit: str) -> str:
    last = int(series.steps[-1])
    parts = []
    for patience in (10, 20):
        fired = baselines.early_stopping_step(series, goal, patience=patience)
        if fired is None:
            parts.append(f"would not have stopped with patience={patience}")
            continue
        missed = _later_best(series, goal, fired)
        if missed is not None:
            step, value = missed
            saving = f"missing its later best, {fmt(value)} at {unit} {step:,}"
        else:
            saving = f"saving {plural(last - fired, unit)}" if fired < last else "the last one"
        parts.append(f"would have stopped at {unit} {fired:,} with patience={patience} ({saving})")
    where = "" if consecutive(series) else " (patience counts logged points)"
    lead = "EarlyStopping (as Keras and Lightning count patience)"
    return f"{lead} {parts[0]}, and {parts[1]}{where}."


LATER_BEST = 0.01
"""A best value after an early stop that beats the best before it by this share of that best
(or more) is named instead of the steps "saved": stopping there would have lost it."""


def _later_best(series: Series, goal: Goal, fired: int) -> tuple[int, float] | None:
    """The step and value of the best finite value after step ``fired`` when it beats the best
    up to ``fired`` by :data:`LATER_BEST` of it, else ``None``."""
    steps, values = finite(series)
    before, after = values[steps <= fired], values[steps > fired]
    if not (before.size and after.size) or goal not in ("min", "max"):
        return None
    pick = np.argmin if goal == "min" else np.argmax
    b, i = float(before[pick(before)]), int(pick(after))
    a = float(after[i])
    gain = (b - a) if goal == "min" else (a - b)
    if gain <= LATER_BEST * abs(b):
        return None
    return int(steps[steps > fired][i]), a


def reduce_lr(series: Series, goal: Goal, unit: str, start: int) -> str:
    k = baselines.keras_reduce_lr_on_plateau(series, goal, patience=10)
    t = baselines.torch_reduce_lr_on_plateau(series, goal, patience=10)
    if not k and not t:
        return (
            "ReduceLROnPlateau(factor=0.1, patience=10) would never have cut the LR: "
            "the curve kept making improvements larger than its threshold."
        )
    kf = min(int(f.detail["fired_step"]) for f in k) if k else None
    tf = min(int(f.detail["fired_step"]) for f in t) if t else None
    cuts = sum(int(f.detail["actions"]) for f in k)
    first = kf if kf is not None else tf
    assert first is not None
    words = "" if consecutive(series) else " logged points"
    text = (
        f"ReduceLROnPlateau(factor=0.1, patience=10{words}) "
        f"would first have cut the LR at {unit} {first:,}"
    )
    if kf is not None and tf is not None and tf != kf:
        text += f" (Keras; PyTorch at {unit} {tf:,})"
    if cuts > 8:
        # eight cuts of 0.1 take any LR below 1e-8: on a per-step series the replay only
        # says that its noise never beats the threshold for 10 points
        if first < start:
            text += f", before this plateau began at {unit} {start:,}"
        return (
            text + f", and {cuts} times by the end (Keras): on values this noisy it would "
            "have ended learning; replay it on epoch-level validation values instead."
        )
    if cuts > 1:
        text += f", and {cuts} times by the end (Keras)"
    if first < start:
        text += f", before this plateau began at {unit} {start:,}"
    return text + "."


def outlook(fc: Forecast | None, unit: str, *, overfit_by: str | None = None) -> str | None:
    """What more steps would bring, in one sentence (``None`` without a forecast).

    ``overfit_by``: the validation series of a training series whose run overfits; more
    steps then help the training data only, and the sentence says so instead of "keep
    training"."""
    if fc is None:
        return None
    band = f"{fmt(fc.low)}–{fmt(fc.high)}"
    if fc.high - fc.low > max(abs(fc.now), abs(fc.value)):
        # a band wider than the values it is about says nothing ("95% -32.04–93.22")
        return (
            f"More {unit}s: the fitted curves are too uncertain to forecast (their 95% band "
            f"at {unit} {fc.step:,} is {band})."
        )
    head = (
        f"More {unit}s: a fitted {fc.model} puts it at {fmt(fc.value)} (95% {band}) "
        f"at {unit} {fc.step:,}, against {fmt(fc.now)} on that curve now"
    )
    if fc.advice == "keep training" and overfit_by is not None:
        tail = (
            f"a gain of about {fmt(fc.gain)} on the training data, but {overfit_by} is "
            "overfitting: more steps will not help the model generalise."
        )
    elif fc.advice == "keep training":
        tail = f"a gain of about {fmt(fc.gain)}: keep training."
    elif fc.advice == "stop":
        tail = f"within the noise ({fc.noise:.2g}): more of the same will not help."
    else:
        tail = "the gain is uncertain."
    return f"{head}; {tail}"


def prior_fact(ctx: SeriesContext) -> str:
    assert ctx.prior is not None
    p = ctx.prior
    return (
        "That is what a model that gives every input the same prediction scores: the "
        f"majority class is {p:.0%} of the data (the accuracy), precision and recall of "
        f"the other class are 0, and a constant {p:.0%}/{1 - p:.0%} prediction has a "
        f"cross-entropy of {fmt(entropy(p))}. The network is dead or not learning."
    )


def entropy(p: float) -> float:
    return -(p * math.log(p) + (1 - p) * math.log(1 - p))
