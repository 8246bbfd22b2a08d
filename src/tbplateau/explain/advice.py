"""What the report says about one series: one diagnosis, with the run's own numbers.

:func:`diagnose` picks the finding that describes the series now (the worst one still
going on, else the latest), builds its :class:`~tbplateau.explain.model.Advice` with
one builder per kind, and mentions the series' other findings as context, so a series
never gets two "Try" lines that contradict each other. What to try follows what the
logs show: the logged learning rate (zero, still warming up, already being cut, flat
at a value the curve barely moves with), the training/validation partner (training
flat: capacity or LR; training improving while validation stalls: regularisation
or data), and the bounds of the metric (solved, at chance level). Replays of the usual
callbacks (Keras and PyTorch ``ReduceLROnPlateau``, ``EarlyStopping``, Prechelt's
criteria) and a forecast of what more steps would bring
(:mod:`~tbplateau.explain.forecast`) quote the logged curve.

Every number a sentence quotes comes from the points the finding covers, and a
plateau's range never contradicts the best value quoted next to it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tbplateau import baselines
from tbplateau.escape import MAX_NAME, shorten
from tbplateau.explain.context import LearningRate, finite
from tbplateau.explain.forecast import Forecast, forecast
from tbplateau.explain.model import Advice
from tbplateau.explain.text import fmt, fmt_step, plural
from tbplateau.findings import Finding, FindingKind, Goal, finding_label
from tbplateau.goals import TagMeaning
from tbplateau.report import SeriesReport
from tbplateau.series import Series

__all__ = ["RANK", "TRY", "WEAK", "SeriesContext", "diagnose", "name", "outlook"]

RANK = {
    FindingKind.NONFINITE: 0,
    FindingKind.DIVERGENCE: 1,
    FindingKind.OVERFITTING: 2,
    FindingKind.OSCILLATION: 3,
    FindingKind.PLATEAU: 4,
}
WEAK = 0.6
"""Findings with a confidence below this are marked "(weak)" in verdicts."""

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

_RAISE_LR = (
    "raise the LR (3-10×; an LR range test finds the usable range)",
    "a warm restart (SGDR) or a one-cycle schedule",
)
_REGULARISE = (
    "regularisation (weight decay, dropout)",
    "data augmentation or more data",
    "keep the checkpoint of the best validation step",
)
_CAPACITY = (
    "more capacity (wider or deeper)",
    "a different optimiser (Adam/AdamW, or SGD with momentum)",
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


def _window(series: Series, start: int, end: int | None) -> npt.NDArray[np.float64]:
    m = series.steps >= start
    if end is not None:
        m &= series.steps <= end
    v = series.values[m]
    return v[np.isfinite(v)]


def _value_at(series: Series, step: int) -> tuple[int, float] | None:
    """The last finite point at or before ``step`` (else the first finite one)."""
    steps, values = finite(series)
    if not values.size:
        return None
    i = max(0, int(np.searchsorted(steps, step, side="right")) - 1)
    return int(steps[i]), float(values[i])


def _better(a: float, b: float, goal: Goal) -> bool:
    return a < b if goal == "min" else a > b


def _consecutive(series: Series) -> bool:
    d = np.diff(series.steps)
    return bool(d.size) and float(np.median(d)) == 1.0


def _barely_moved(ctx: SeriesContext) -> bool:
    """Whether the series' best is within 10 % of where it started (relative)."""
    if ctx.curve is None or ctx.summary.best_value is None:
        return False
    _, values = finite(ctx.curve)
    if values.size < 4:
        return False
    first, best = float(values[0]), float(ctx.summary.best_value)
    gain = first - best if ctx.goal == "min" else best - first
    return gain <= 0.1 * max(abs(first), 1e-12)


def _partner_improving(ctx: SeriesContext, step: int) -> tuple[float, float] | None:
    """``(partner at step, partner at its end)`` when the partner kept improving after
    ``step`` (by more than a tenth of its whole range)."""
    if ctx.partner is None:
        return None
    at = _value_at(ctx.partner, step)
    _, values = finite(ctx.partner)
    if at is None or not values.size:
        return None
    end = float(np.median(values[-max(1, values.size // 10) :]))
    gain = at[1] - end if ctx.goal == "min" else end - at[1]
    return (at[1], float(values[-1])) if gain > 0.1 * float(np.ptp(values)) > 0 else None


# -- the learning rate in sentences ----------------------------------------------------------


def _lr_over(lr: LearningRate, start: int, end: int | None) -> str | None:
    w = lr.window(start, end)
    at = lr.at(start)
    if at is None:
        return None
    if w.size == 0:
        return f"The logged {name(lr.tag)} was {fmt(at)} at {fmt_step(start)}."
    lo, hi = float(w.min()), float(w.max())
    if hi == 0.0:
        return f"The logged {name(lr.tag)} is 0 there: the weights cannot change."
    if lo == hi:
        return f"The logged {name(lr.tag)} stayed at {fmt(lo)} throughout."
    return f"The logged {name(lr.tag)} went from {fmt(float(w[0]))} to {fmt(float(w[-1]))} over it."


@dataclass(frozen=True)
class _LrStory:
    """What the logged LR did around a finding: at most one of these is the story."""

    zero: bool = False
    warmup: bool = False
    decaying: tuple[float, float] | None = None
    cut_before: tuple[float, float] | None = None
    cut_at_end: tuple[int, float, float] | None = None
    constant: bool = False
    note: str | None = None


def _lr_story(ctx: SeriesContext, f: Finding) -> _LrStory:
    lr = ctx.lr
    if lr is None:
        return _LrStory()
    note = _lr_over(lr, f.start_step, f.end_step)
    if lr.zero_from(f.start_step):
        return _LrStory(zero=True, note=note)
    if lr.warming_up(f.start_step):
        end = f.end_step
        if end is None and ctx.curve is not None and len(ctx.curve):
            end = int(ctx.curve.steps[-1])
        peak = lr.peak_step
        if peak is not None and end is not None and peak >= end:  # all of it in the warm-up
            return _LrStory(warmup=True, note=note)
    end_cut = None
    if f.end_step is not None:
        end_cut = lr.cut_near(f.end_step, before=2, after=1)
    return _LrStory(
        decaying=lr.decaying(f.start_step, f.end_step),
        cut_before=lr.cut_before(f.start_step),
        cut_at_end=end_cut,
        constant=lr.constant,
        note=note,
    )


# -- replays and forecasts --------------------------------------------------------------------


def _early_stopping(series: Series, goal: Goal, unit: str) -> str:
    last = int(series.steps[-1])
    parts = []
    for patience in (10, 20):
        found = baselines.keras_early_stopping(series, goal, patience=patience)
        if not found:
            parts.append(f"would not have stopped with patience={patience}")
            continue
        fired = int(found[0].detail["fired_step"])
        saving = f"saving {plural(last - fired, unit)}" if fired < last else "the last one"
        parts.append(f"would have stopped at {unit} {fired:,} with patience={patience} ({saving})")
    where = "" if _consecutive(series) else " (patience counts logged points)"
    return f"Keras EarlyStopping {parts[0]}, and {parts[1]}{where}."


def _reduce_lr(series: Series, goal: Goal, unit: str, start: int) -> str:
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
    words = "" if _consecutive(series) else " logged points"
    text = (
        f"ReduceLROnPlateau(factor=0.1, patience=10{words}) "
        f"would first have cut the LR at {unit} {first:,}"
    )
    if kf is not None and tf is not None and tf != kf:
        text += f" (Keras; PyTorch at {unit} {tf:,})"
    if cuts > 1:
        text += f", and {cuts} times by the end (Keras)"
    if first < start:
        text += f", before this plateau began at {unit} {start:,}"
    return text + "."


def outlook(fc: Forecast | None, unit: str) -> str | None:
    """What more steps would bring, in one sentence (``None`` without a forecast)."""
    if fc is None:
        return None
    band = f"{fmt(fc.low)}–{fmt(fc.high)}"
    head = (
        f"More {unit}s: a fitted {fc.model} puts it at {fmt(fc.value)} (95% {band}) "
        f"at {unit} {fc.step:,}, against {fmt(fc.now)} now"
    )
    if fc.advice == "keep training":
        tail = f"a gain of about {fmt(fc.gain)}: keep training."
    elif fc.advice == "stop":
        tail = f"within the noise ({fc.noise:.2g}): more of the same will not help."
    else:
        tail = "the gain is uncertain."
    return f"{head}; {tail}"


# -- one builder per kind -------------------------------------------------------------------------


def _plateau_range(ctx: SeriesContext, f: Finding, series: Series) -> list[str]:
    """The plateau's range, and where the best value sits relative to it."""
    tag, start, till = name(ctx.tag), ctx.at(f.start_step), ctx.till(f)
    w = _window(series, f.start_step, f.end_step)
    if not w.size:
        return []
    share = w.size / max(1, len(series))
    facts = []
    if f.detail.get("constant"):
        facts.append(
            f"{tag} has been exactly {fmt(float(w[0]))} from {start} to {till} "
            f"({plural(int(w.size), 'point')}, {share:.0%} of the run)."
        )
    else:
        lo, hi = (float(q) for q in np.quantile(w, [0.1, 0.9]))
        facts.append(
            f"{tag} stayed between {fmt(lo)} and {fmt(hi)} (80% of its points; median "
            f"{fmt(float(np.median(w)))}) from {start} to {till}: "
            f"{plural(int(w.size), 'point')}, {share:.0%} of the run, with no progress beyond "
            "the noise."
        )
        s = ctx.summary
        if s.best_step is not None and s.best_value is not None:
            inside = f.start_step <= s.best_step and (
                f.end_step is None or s.best_step <= f.end_step
            )
            outside = _better(s.best_value, hi if ctx.goal == "max" else lo, ctx.goal)
            if inside and outside:
                beyond = int(np.count_nonzero(w > hi if ctx.goal == "max" else w < lo))
                side = "above" if ctx.goal == "max" else "below"
                what = (
                    f"a single noisy point {side} that range"
                    if beyond <= 1
                    else f"a noisy point {side} that range (like {beyond:,} of its "
                    f"{w.size:,} points)"
                )
                facts.append(
                    f"Its best, {fmt(s.best_value)} at {ctx.at(s.best_step)}, is {what}, "
                    "not progress."
                )
                return facts
    s = ctx.summary
    if s.best_step is not None:
        if s.best_step < f.start_step:
            facts.append(
                f"The best, {fmt(s.best_value)}, came at {ctx.at(s.best_step)}, before it."
            )
        elif f.end_step is not None and s.best_step > f.end_step:
            facts.append(f"The best, {fmt(s.best_value)}, came at {ctx.at(s.best_step)}, after it.")
        else:
            facts.append(f"Best {fmt(s.best_value)} at {ctx.at(s.best_step)}.")
    return facts


def _plateau_after(ctx: SeriesContext, f: Finding, series: Series, story: _LrStory) -> str | None:
    """What happened after a plateau that ended."""
    if f.end_step is None:
        return None
    w = _window(series, f.start_step, f.end_step)
    later = series.values[series.steps > f.end_step]
    later = later[np.isfinite(later)]
    if not (later.size and w.size):
        return None
    up = float(np.median(later[: max(3, later.size // 4)])) - float(np.median(w))
    till = ctx.till(f)
    if not _better(up, 0.0, ctx.goal) or up == 0:
        return f"After {till} it got worse."
    if story.cut_at_end is not None:
        step, a, b = story.cut_at_end
        return (
            f"After {till} it improved again: the LR was cut at {ctx.at(step)} "
            f"({fmt(a)} → {fmt(b)}), which ended the plateau."
        )
    if story.constant and ctx.lr is not None:
        return (
            f"After {till} it improved again by itself (the LR did not change): a slow "
            "start rather than a stall."
        )
    return f"After {till} it improved again."


def _plateau_tries(ctx: SeriesContext, f: Finding, story: _LrStory) -> tuple[str, ...]:
    """What to try on a plateau, from what the logs show (see the module docstring)."""
    if story.zero:
        return (
            "restore a non-zero LR (a schedule that reaches 0 ends learning: check its length)",
        )
    if story.warmup or ctx.warmup:
        return ("judge it after the LR warm-up: train longer",)
    if f.end_step is not None:
        return ()  # it ended by itself: nothing to fix
    partner_up = _partner_improving(ctx, f.start_step)
    slow = story.constant and (_barely_moved(ctx) or ctx.chance is not None)
    if slow and partner_up is None:  # a training side that improves: the LR is not too low
        return (*_RAISE_LR, "check that the optimiser steps on every batch")
    validation_side = ctx.side == "validation" or (ctx.side is None and ctx.run_overfits)
    if validation_side and (partner_up is not None or ctx.run_overfits):
        return _REGULARISE
    tries: list[str] = []
    scheduled = ctx.lr is not None and not ctx.lr.constant  # the run already has a schedule
    if story.cut_before is None and story.decaying is None and not scheduled:
        tries.append(TRY["plateau"][0])
    tries.extend(_CAPACITY)
    return tuple(tries)


def _plateau(ctx: SeriesContext, f: Finding) -> tuple[list[str], tuple[str, ...]]:
    series = ctx.curve
    story = _lr_story(ctx, f)
    if series is None:
        return [], _plateau_tries(ctx, f, story)
    facts = _plateau_range(ctx, f, series)
    after = _plateau_after(ctx, f, series, story)
    if after:
        facts.append(after)
    n_pts = _window(series, f.start_step, f.end_step).size
    if f.end_step is None and n_pts <= 10:
        facts.append(
            f"Only {plural(n_pts, 'point')} since the onset: ReduceLROnPlateau and "
            "EarlyStopping with patience=10 could not have acted yet."
        )
    elif f.end_step is None:
        scheduled = story.cut_before or story.decaying or story.zero or story.warmup
        if not scheduled:
            facts.append(_reduce_lr(series, ctx.goal, ctx.unit, f.start_step))
        facts.append(_early_stopping(series, ctx.goal, ctx.unit))
        note = outlook(forecast(series.steps, series.values, ctx.goal), ctx.unit)
        if note:
            facts.append(note)
    facts.extend(_lr_facts(ctx, f, story))
    facts.extend(_partner_facts(ctx, f))
    return facts, _plateau_tries(ctx, f, story)


def _lr_facts(ctx: SeriesContext, f: Finding, story: _LrStory) -> list[str]:
    lr = ctx.lr
    if lr is None:
        return []
    if story.warmup:
        return [
            f"The LR was still warming up at {ctx.at(f.start_step)} ({name(lr.tag)} "
            f"{fmt(lr.at(f.start_step))}, rising to {fmt(float(finite(lr.series)[1].max()))}): "
            "curves move little and unevenly during a warm-up."
        ]
    if story.cut_before is not None:
        top, now = story.cut_before
        return [
            f"The schedule had already cut the LR before it ({name(lr.tag)} {fmt(top)} → "
            f"{fmt(now)}): more LR cuts are unlikely to help."
        ]
    if story.decaying is not None:
        a, b = story.decaying
        return [
            f"The schedule kept lowering the LR over it ({name(lr.tag)} {fmt(a)} → {fmt(b)}), "
            "and it still did not improve: ReduceLROnPlateau would add little."
        ]
    if story.cut_at_end is not None:
        return []  # told in the "after" sentence
    return [story.note] if story.note else []


def _partner_facts(ctx: SeriesContext, f: Finding) -> list[str]:
    if ctx.partner is None or ctx.partner_name is None:
        return []
    up = _partner_improving(ctx, f.start_step)
    if ctx.side == "validation" and up is not None:
        return [
            f"Meanwhile the training side, {ctx.partner_name}, kept improving "
            f"({fmt(up[0])} → {fmt(up[1])}): the model still learns the training data "
            "but that no longer carries over to validation."
        ]
    if ctx.side == "train" and up is None and not ctx.run_overfits:
        return [
            f"The validation side, {ctx.partner_name}, is not improving either: the model "
            "has stopped learning, not just generalising."
        ]
    return []


def _flat_line(ctx: SeriesContext, f: Finding) -> tuple[list[str], tuple[str, ...]]:
    facts: list[str] = []
    series = ctx.curve
    if series is not None:
        facts.extend(_plateau_range(ctx, f, series)[:1])
    story = _lr_story(ctx, f)
    tries = list(TRY["flat line"])
    if story.zero:
        facts.append(
            f"The logged LR ({name(ctx.lr.tag if ctx.lr else 'LR')}) is 0 from "
            f"{ctx.at(f.start_step)}: the weights cannot change."
        )
        tries = [
            "restore a non-zero LR (a schedule that reaches 0 ends learning: check its length)"
        ]
    elif ctx.lr is not None:
        value = ctx.lr.at(f.start_step)
        facts.append(
            f"The LR was not zero ({name(ctx.lr.tag)} {fmt(value)}): the weights still got "
            "no useful gradient (frozen layers, dead ReLUs), or the model outputs the same "
            "prediction for every input."
        )
        tries = tries[1:]
    else:
        facts.append(
            "The weights stopped changing (an LR of zero, frozen layers, dead ReLUs) or the "
            "model gives the same prediction for every input."
        )
    if ctx.prior is not None:
        facts.append(_prior_fact(ctx))
    return facts, tuple(tries)


def _prior_fact(ctx: SeriesContext) -> str:
    assert ctx.prior is not None
    p = ctx.prior
    return (
        "That is what a model that gives every input the same prediction scores: the "
        f"majority class is {p:.0%} of the data (the accuracy), precision and recall of "
        f"the other class are 0, and a constant {p:.0%}/{1 - p:.0%} prediction has a "
        f"cross-entropy of {fmt(_entropy(p))}. The network is dead or not learning."
    )


def _entropy(p: float) -> float:
    return -(p * math.log(p) + (1 - p) * math.log(1 - p))


def _divergence(ctx: SeriesContext, f: Finding) -> tuple[list[str], tuple[str, ...]]:
    facts: list[str] = []
    series = ctx.curve
    start, till = ctx.at(f.start_step), ctx.till(f)
    tries = list(TRY["divergence"])
    if series is not None:
        at = _value_at(series, f.start_step)
        w = _window(series, f.start_step, f.end_step)
        if at is not None and w.size:
            worst = float(w.max() if ctx.goal != "max" else w.min())
            ratio = ""
            if at[1] != 0 and worst / at[1] > 1.5 and ctx.goal != "max":
                r = worst / at[1]
                ratio = (
                    f" (×{r:.1e})" if r >= 1e4 else f" (×{r:,.0f})" if r >= 10 else f" (×{r:.1f})"
                )
            facts.append(
                f"{name(ctx.tag)} turned worse at {start}: from {fmt(at[1])} it went to "
                f"{fmt(worst)}{ratio} by {till}."
            )
        s = ctx.summary
        if s.best_step is not None:
            facts.append(
                f"The best value, {fmt(s.best_value)}, was at {ctx.at(s.best_step)}: keep "
                "that checkpoint."
            )
        nf = [g for g in ctx.findings if g.kind is FindingKind.NONFINITE]
        if nf and nf[0].start_step >= f.start_step:
            facts.append(f"It then went non-finite at {ctx.at(nf[0].start_step)}.")
        if f.detail.get("explosive"):
            facts.append("It exploded (more than 100×): a classic sign of an LR too high.")
    story = _lr_story(ctx, f)
    if story.warmup and ctx.lr is not None:
        facts.append(
            f"It began during the LR warm-up ({name(ctx.lr.tag)} {fmt(ctx.lr.at(f.start_step))} "
            "and rising): the peak LR is too high for this model, or the warm-up too short."
        )
        tries = ["a lower peak LR", "a longer warm-up", TRY["divergence"][2]]
    elif story.note:
        facts.append(story.note)
    return facts, tuple(tries)


def _nonfinite(ctx: SeriesContext, f: Finding) -> tuple[list[str], tuple[str, ...]]:
    start, till = ctx.at(f.start_step), ctx.till(f)
    what = {"nan": "NaN", "inf": "+inf", "-inf": "-inf"}.get(
        str(f.detail.get("first_value", "nan")), "non-finite"
    )
    count = int(f.detail.get("nonfinite_points", 0))
    stretch = int(f.detail.get("stretches", 1))
    text = f"{name(ctx.tag)} is {what} from {start}"
    if f.end_step is None:
        text += f" to the end ({plural(count, 'point')})"
    else:
        text += f": {plural(count, 'point')} in {plural(stretch, 'stretch', 'stretches')}"
        text += f", finite again after {till}"
    series = ctx.curve
    if series is not None:
        before = series.values[series.steps < f.start_step]
        fin = np.flatnonzero(np.isfinite(before))
        if fin.size:
            i = int(fin[-1])
            text += f"; the last finite value was {fmt(float(before[i]))} at "
            text += ctx.at(int(series.steps[i]))
    facts = [text + "."]
    div = [g for g in ctx.findings if g.kind is FindingKind.DIVERGENCE]
    if div and div[0].start_step < f.start_step:
        facts.append(
            f"It diverged first, at {ctx.at(div[0].start_step)}: the values blew up before "
            "they overflowed, which points at the LR or missing gradient clipping."
        )
    else:
        facts.append(
            "Nothing diverged first: a sudden NaN points at log(0) or a division by zero "
            "in the loss, a bad batch, or a mixed-precision overflow."
        )
    lr = ctx.lr
    if lr is not None:
        value = lr.at(f.start_step)
        if value is not None and lr.warming_up(f.start_step):
            facts.append(
                f"It happened during the LR warm-up, as {name(lr.tag)} rose to {fmt(value)} "
                f"(on its way to {fmt(float(finite(lr.series)[1].max()))}): the LR is most "
                "likely too high for this model."
            )
            return facts, (
                "a lower peak LR, or a longer warm-up",
                *TRY["non-finite"][:1],
                *TRY["non-finite"][1:],
            )
        if value is not None:
            facts.append(f"The logged {name(lr.tag)} was {fmt(value)} at {start}.")
    return facts, TRY["non-finite"]


def _overfitting(ctx: SeriesContext, f: Finding) -> tuple[list[str], tuple[str, ...]]:
    facts: list[str] = []
    series = ctx.curve
    start = ctx.at(f.start_step)
    vrun = str(f.detail.get("validation_run", ctx.run))
    trun = str(f.detail.get("training_run", ctx.run))
    ttag = f.tags[-1]
    train = ctx.partner if ctx.partner is not None and ctx.side == "validation" else None
    if series is not None:
        at = _value_at(series, f.start_step)
        if at is not None:
            after = series.values[series.steps > f.start_step]
            n_after = int(np.count_nonzero(series.steps > f.start_step))
            rest = after[np.isfinite(after)]
            beat = rest[[_better(v, at[1], ctx.goal) for v in rest]] if rest.size else rest
            still = "did not improve it"
            if beat.size:
                top = float(beat.min() if ctx.goal == "min" else beat.max())
                still = f"improved it only to {fmt(top)}"
            last = fmt(float(series.values[-1]))
            where = "" if vrun == trun else f"{vrun} "
            text = (
                f"{where}{name(ctx.tag)} was best at {start} ({fmt(at[1])}); the "
                f"{plural(n_after, ctx.unit)} after it {still} (last {last})"
            )
            if train is not None:
                twhere = "" if vrun == trun else f"{trun} "
                text += f", while {twhere}{name(ttag)} kept improving" + _train_gain(
                    train, f.start_step
                )
            facts.append(text + ".")
        facts.append(_early_stopping(series, ctx.goal, ctx.unit))
        pre = []
        for label, rule in (("GL5", baselines.prechelt_gl), ("UP3", baselines.prechelt_up)):
            found = rule(series, ctx.goal)
            if found:
                pre.append(f"{label} at {ctx.unit} {int(found[0].detail['fired_step']):,}")
        if pre:
            facts.append("Prechelt's criteria would have stopped training: " + ", ".join(pre) + ".")
    return facts, TRY["overfitting"]


def _train_gain(train: Series, step: int) -> str:
    at = _value_at(train, step)
    _, values = finite(train)
    if at is None or not values.size:
        return ""
    return f" ({fmt(at[1])} → {fmt(float(values[-1]))})"


def _oscillation(ctx: SeriesContext, f: Finding) -> tuple[list[str], tuple[str, ...]]:
    facts: list[str] = []
    series = ctx.curve
    if series is not None:
        w = _window(series, f.start_step, f.end_step)
        if w.size > 2:
            amp = float(np.median(np.abs(np.diff(w)))) / 2.0
            times = float(f.detail.get("ratio", 0.0))
            facts.append(
                f"{name(ctx.tag)} swings by about ±{fmt(amp)} around {fmt(float(np.median(w)))} "
                f"from {ctx.at(f.start_step)} to {ctx.till(f)}"
                + (f", {times:.1f}× the swings before it." if times else ".")
            )
    story = _lr_story(ctx, f)
    if story.note:
        facts.append(story.note)
    return facts, TRY["oscillation"]


_BUILDERS = {
    "plateau": _plateau,
    "flat line": _flat_line,
    "divergence": _divergence,
    "non-finite": _nonfinite,
    "overfitting": _overfitting,
    "oscillation": _oscillation,
}


def finding_title(f: Finding, unit: str) -> str:
    """``plateau since step 80``, ``diverged at epoch 8, recovered by epoch 12``..."""
    label = finding_label(f)
    start = f"{unit} {f.start_step:,}"
    till = None if f.end_step is None else f"{unit} {f.end_step:,}"
    if f.kind is FindingKind.PLATEAU:
        return f"{label} since {start}" if till is None else f"{label} {start} to {till}"
    if f.kind is FindingKind.DIVERGENCE:
        return f"diverged at {start}" + ("" if till is None else f", recovered by {till}")
    if f.kind is FindingKind.NONFINITE:
        return f"non-finite from {start}" + ("" if till is None else f" to {till}")
    if f.kind is FindingKind.OVERFITTING:
        return f"overfitting since {start}"
    return f"oscillating since {start}" if till is None else f"oscillated {start}–{till}"


def primary(findings: Sequence[Finding]) -> Finding:
    """The finding that describes the series now: the worst one still going on, else
    the latest to start (the worst kind on a tie)."""
    ongoing = [f for f in findings if f.end_step is None]
    if ongoing:
        return min(ongoing, key=lambda f: (RANK[f.kind], -f.start_step))
    return max(findings, key=lambda f: (f.start_step, -RANK[f.kind]))


def _context_line(f: Finding, unit: str) -> str:
    conf = "" if f.confidence >= WEAK else ", weak"
    return (
        f"Found on this series too: {finding_title(f, unit)} (confidence {f.confidence:.0%}{conf})."
    )


# -- states without a finding ---------------------------------------------------------------


def _state_advice(ctx: SeriesContext) -> Advice | None:
    """Advice for a series at a bound or at chance level without a finding."""
    if ctx.bound is not None and ctx.prior is None:
        return _solved(ctx)
    if ctx.chance is not None or ctx.chance_accuracy is not None or ctx.prior is not None:
        return _at_chance(ctx, None)
    return None


def _solved(ctx: SeriesContext) -> Advice:
    assert ctx.bound is not None
    where, bound, since = ctx.bound
    s = ctx.summary
    tag = name(ctx.tag)
    best = f"best {fmt(s.best_value)} at {ctx.at(s.best_step or 0)}, last {fmt(s.last_value)}"
    if where == "high":
        fact = (
            f"{tag} is at its maximum of {fmt(bound)} ({best}) and has stayed within 5% of "
            f"it since {ctx.at(since)}"
        )
    else:
        fact = f"{tag} is at its floor of {fmt(bound)} ({best}) since {ctx.at(since)}"
    if ctx.side == "train":
        facts = [
            fact + ": the model fits its training data.",
            "Judge the run by its validation side"
            + (f", {ctx.partner_name}" if ctx.partner_name else "")
            + (": it overfits." if ctx.run_overfits else "."),
        ]
        return Advice(
            ctx.run, ctx.tag, None, "fits", "fits the training data", tuple(facts), (), None, since
        )
    facts = [fact + ": nothing is left to gain on this metric."]
    if "reward" in ctx.meaning.why or "reward" in ctx.tag.lower():
        facts.append("The task looks solved: stop here, or make the task harder.")
    elif ctx.side == "validation" or "val" in ctx.tag.lower() or "eval" in ctx.tag.lower():
        facts.append(
            "A perfect validation score often means the task is easy or the validation "
            "data overlaps the training data; judge by the loss or a harder test set."
        )
    else:
        facts.append("Judge the run by its validation metrics or a harder test set.")
    return Advice(ctx.run, ctx.tag, None, "solved", "solved", tuple(facts), (), None, since)


def _chance_facts(ctx: SeriesContext) -> list[str]:
    s = ctx.summary
    tag = name(ctx.tag)
    facts: list[str] = []
    if ctx.chance is not None:
        c = ctx.chance
        facts.append(
            f"{tag} is {fmt(s.last_value)}, within 1.5% of ln {c} = {math.log(c):.4g}: the loss "
            f"of a model that gives each of {c} classes probability 1/{c}. It has learned "
            "nothing beyond chance."
        )
    elif ctx.chance_accuracy is not None:
        facts.append(
            f"{tag} is {fmt(s.last_value)}, about {fmt(ctx.chance_accuracy)}: what guessing "
            "scores (the loss of this run is at chance level too)."
        )
    if ctx.prior is not None:
        facts.append(f"{tag} has been {fmt(s.last_value)} since it levelled off.")
        facts.append(_prior_fact(ctx))
    return facts


def _chance_tries(ctx: SeriesContext, f: Finding | None) -> tuple[list[str], tuple[str, ...]]:
    """What the logged LR adds, and what to try, for a series at chance level."""
    lr, first = ctx.lr, ctx.summary.first_step or 0
    note = _lr_story(ctx, f).note if f is not None else None
    if lr is not None and lr.zero_from(first):
        return [f"The logged {name(lr.tag)} is 0: the weights cannot change."], (
            "set a non-zero LR",
        )
    if ctx.prior is not None:  # one class for every input: a dead or frozen network
        tries = (
            "check for frozen layers (trainable=False, requires_grad) and dead ReLUs",
            "class weights or resampling if the classes are imbalanced",
            "a higher LR if the loss barely moves",
        )
        return ([note] if lr is not None and note else []), tries
    if lr is not None and lr.constant:
        fact = (
            f"The logged {name(lr.tag)} stayed at {fmt(lr.at(first))} throughout: at that LR "
            "the model barely moves."
        )
        return [fact], (*_RAISE_LR, "check that the labels match the inputs")
    tries = (
        "check that the labels match the inputs (shuffled together) and that the loss gets "
        "logits, not probabilities",
        "a higher LR",
        "check for frozen layers or a dead network",
    )
    return ([note] if note else []), tries


def _at_chance(ctx: SeriesContext, f: Finding | None) -> Advice:
    facts = _chance_facts(ctx)
    more, tries = _chance_tries(ctx, f)
    title = (
        "predicts one class"
        if ctx.prior is not None and ctx.chance is None
        else ("at chance level")
    )
    start = f.start_step if f is not None else ctx.summary.first_step
    confidence = None if f is None else f.confidence
    return Advice(
        ctx.run,
        ctx.tag,
        None,
        "chance level",
        title,
        tuple(facts + more),
        tries,
        confidence,
        start,
    )


def _warmup(ctx: SeriesContext, f: Finding) -> Advice:
    lr = ctx.lr
    assert lr is not None
    _, values = finite(lr.series)
    facts = [
        f"The logged {name(lr.tag)} rose from {fmt(float(values[0]))} to "
        f"{fmt(float(values[-1]))} over the whole run: the LR warm-up has not finished, and "
        f"{finding_title(f, ctx.unit)} (confidence {f.confidence:.0%}) says little this early.",
    ]
    s = ctx.summary
    if s.best_step is not None:
        facts.append(
            f"Best {fmt(s.best_value)} at {ctx.at(s.best_step)}, last {fmt(s.last_value)}."
        )
        high = ctx.meaning.bounds(finite(ctx.curve)[1])[1] if ctx.curve is not None else None
        if s.goal == "max" and high and s.best_value is not None and s.best_value < 0.01 * high:
            facts.append(
                f"It is still about 0 (of a possible {fmt(high)}): the model has not started "
                "to score yet."
            )
    return Advice(
        ctx.run,
        ctx.tag,
        f.kind,
        "warm-up",
        "too early to judge: LR still warming up",
        tuple(facts),
        ("train past the warm-up before judging this metric",),
        f.confidence,
        f.start_step,
    )


_SERIOUS = (FindingKind.NONFINITE, FindingKind.DIVERGENCE)


def diagnose(ctx: SeriesContext) -> Advice | None:
    """The one advice on a series (``None`` when there is nothing to say but its verdict).

    The state of the series now wins over findings that do not describe it any more:
    a series at its bound or at chance level is said to be so (its plateaus, and
    findings that ended, become context), unless it is non-finite or diverging.
    """
    if not ctx.findings:
        return _state_advice(ctx)
    f = primary(ctx.findings)
    label = finding_label(f)
    rest = tuple(g for g in ctx.findings if g is not f)
    if ctx.warmup and ctx.lr is not None and f.kind is not FindingKind.NONFINITE:
        lines = tuple(_context_line(g, ctx.unit) for g in rest)
        return _with(_warmup(ctx, f), context=lines + ctx.extra_context, others=rest)
    serious = f.end_step is None and f.kind in _SERIOUS
    state = None if serious else _state_advice(ctx)
    if state is not None:
        lines = tuple(_context_line(g, ctx.unit) for g in ctx.findings)
        return _with(state, context=lines + ctx.extra_context, others=tuple(ctx.findings))
    context = tuple(_context_line(g, ctx.unit) for g in rest) + ctx.extra_context
    facts, tries = _BUILDERS[label](ctx, f)
    if ctx.curve is None and not facts:
        facts = [
            f"{label} of {name(ctx.tag)} from {ctx.at(f.start_step)} to {ctx.till(f)} "
            "(the curve was not available)."
        ]
    return Advice(
        ctx.run,
        ctx.tag,
        f.kind,
        label,
        finding_title(f, ctx.unit),
        tuple(facts),
        tuple(tries),
        f.confidence,
        f.start_step,
        context,
        others=rest,
    )


def _with(a: Advice, **changes: object) -> Advice:
    from dataclasses import replace

    return replace(a, **changes)  # type: ignore[arg-type]


def improving_advice(ctx: SeriesContext) -> Advice | None:
    """The outlook of a series that improves to its end (a forecast), or ``None``."""
    s, series = ctx.summary, ctx.curve
    if series is None:
        return None
    fc = forecast(series.steps, series.values, s.goal)
    note = outlook(fc, ctx.unit)
    if fc is None or note is None:
        return None
    title = {"keep training": "still improving", "stop": "levelling off", "uncertain": "improving"}[
        fc.advice
    ]
    facts = (f"Best {fmt(s.best_value)} at {ctx.unit} {fmt_step(s.best_step)}.", note)
    return Advice(ctx.run, ctx.tag, None, "improving", title, facts, (), None, None)


def worsening(ctx: SeriesContext) -> Advice | None:
    """A short validation series (4-10 points) that got clearly worse after its best
    while its training side improved: too few points for the overfitting detector, but
    worth saying (no finding is made)."""
    s, series = ctx.summary, ctx.curve
    if series is None or s.goal is None or s.best_step is None or s.best_value is None:
        return None
    if ctx.side != "validation" and "val" not in ctx.tag.lower():
        return None
    steps, values = finite(series)
    if not 4 <= values.size <= 10:
        return None
    b = int(np.flatnonzero(steps == s.best_step)[0]) if (steps == s.best_step).any() else -1
    after = values[b + 1 :]
    if b < 0 or after.size < 2:
        return None
    best, last = float(values[b]), float(values[-1])
    rise = (last - best) if s.goal == "min" else (best - last)
    earlier = (float(values[0]) - best) if s.goal == "min" else (best - float(values[0]))
    worse_each = all(_better(float(x), float(y), s.goal) for x, y in itertools.pairwise(after))
    if rise <= 0.05 * max(abs(best), 1e-12) or rise < 0.5 * earlier or not worse_each:
        return None
    facts = [
        f"{name(ctx.tag)} was best at its {'first' if b == 0 else 'evaluation ' + str(b + 1)} "
        f"evaluation, {ctx.at(s.best_step)} ({fmt(best)}), and got worse at every one of the "
        f"{plural(int(after.size), 'evaluation')} after it, to {fmt(last)} "
        f"({rise / max(abs(best), 1e-12):+.0%})."
    ]
    partner = ctx.partner
    if partner is not None and ctx.partner_name:
        up = _partner_improving(ctx, s.best_step)
        if up is not None:
            facts.append(
                f"Meanwhile {ctx.partner_name} improved ({fmt(up[0])} → {fmt(up[1])}): the "
                "usual sign of overfitting, though with "
                f"{plural(int(values.size), 'evaluation')} it is an early sign."
            )
    tries = (
        "evaluate more often to confirm it",
        "keep the checkpoint of the best validation step",
        *_REGULARISE[:2],
    )
    return Advice(
        ctx.run,
        ctx.tag,
        None,
        "worsening",
        f"worse since {ctx.at(s.best_step)}",
        tuple(facts),
        tries,
        None,
        s.best_step,
    )
