"""One builder per kind of finding: its facts (the run's numbers) and what to try.

Each builder takes the :class:`~tbplateau.explain.facts.SeriesContext` and the finding
diagnosed; :data:`BUILDERS` maps finding labels (:func:`~tbplateau.findings.finding_label`)
to them. A plateau's range never contradicts the best value quoted next to it; what to
try follows the logged LR and the training/validation partner.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from tbplateau import baselines
from tbplateau.explain.context import finite
from tbplateau.explain.facts import (
    CAPACITY,
    RAISE_LR,
    RANK,
    REGULARISE,
    RL_STALL,
    TRY,
    WEAK,
    LrStory,
    SeriesContext,
    barely_moved,
    better,
    early_stopping,
    generalisation_gap,
    lr_story,
    name,
    outlook,
    partner_improving,
    partner_solved,
    prior_fact,
    reduce_lr,
    value_at,
    window,
)
from tbplateau.explain.forecast import forecast
from tbplateau.explain.text import fmt, plural
from tbplateau.findings import Finding, FindingKind, finding_label
from tbplateau.series import Series
from tbplateau.stats import fast_diff, fast_median, fast_quantiles

__all__ = ["BUILDERS", "context_line", "finding_title", "primary"]

# -- one builder per kind -------------------------------------------------------------------------


CREEP_SHARE = 0.02
"""A plateau (20 points or more) whose median improves by this share of its level from its
first fifth to its last is said to creep, with the figures: slow progress the noise hides point
to point, not none (wanghoppe/tempo: a loss 5 % lower over 5,895 points in noise of 15 %)."""


def _progress_words(
    w: npt.NDArray[np.float64], goal: str | None, median: float | None = None
) -> str:
    """How much a plateau's values ``w`` still moved: "with no progress beyond the noise", or
    the creep of its median from the first fifth to the last (:data:`CREEP_SHARE`).
    ``median``: ``fast_median(w)``, where the caller has it."""
    plain = "with no progress beyond the noise"
    k = w.size // 5
    if w.size < 20 or goal not in ("min", "max"):
        return plain
    first, last = fast_median(w[:k]), fast_median(w[-k:])
    level = abs(fast_median(w) if median is None else median)
    gained = (first - last) if goal == "min" else (last - first)
    if level == 0 or gained < CREEP_SHARE * level:
        return plain
    return (
        f"its median still creeping from {fmt(first)} to {fmt(last)} "
        f"({(last - first) / abs(first):+.0%} from its first fifth to its last)"
    )


def _plateau_range(ctx: SeriesContext, f: Finding, series: Series) -> list[str]:
    """The plateau's range, and where the best value sits relative to it."""
    tag, start, till = name(ctx.tag), ctx.at(f.start_step), ctx.till(f)
    w = window(series, f.start_step, f.end_step)
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
        lo, hi = fast_quantiles(w, (0.1, 0.9))
        median = fast_median(w)
        facts.append(
            f"{tag} stayed between {fmt(lo)} and {fmt(hi)} (80% of its points; median "
            f"{fmt(median)}) from {start} to {till}: "
            f"{plural(int(w.size), 'point')}, {share:.0%} of the run, "
            f"{_progress_words(w, ctx.goal, median)}."
        )
        s = ctx.summary
        if s.best_step is not None and s.best_value is not None:
            inside = f.start_step <= s.best_step and (
                f.end_step is None or s.best_step <= f.end_step
            )
            outside = better(s.best_value, hi if ctx.goal == "max" else lo, ctx.goal)
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


def _plateau_after(ctx: SeriesContext, f: Finding, series: Series, story: LrStory) -> str | None:
    """What happened after a plateau that ended."""
    if f.end_step is None:
        return None
    w = window(series, f.start_step, f.end_step)
    later = series.values[series.steps > f.end_step]
    later = later[np.isfinite(later)]
    if not (later.size and w.size):
        return None
    up = fast_median(later[: max(3, later.size // 4)]) - fast_median(w)
    till = ctx.till(f)
    if not better(up, 0.0, ctx.goal) or up == 0:
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


def _is_reward(ctx: SeriesContext) -> bool:
    """Whether the series is a reinforcement-learning reward or return."""
    words = (ctx.meaning.why + " " + ctx.tag).lower()
    return ctx.goal == "max" and any(w in words for w in ("reward", "ep_rew", "return"))


def _plateau_tries(ctx: SeriesContext, f: Finding, story: LrStory) -> tuple[str, ...]:
    """What to try on a plateau, from what the logs show (see the module docstring)."""
    if story.zero:
        return (
            "restore a non-zero LR (a schedule that reaches 0 ends learning: check its length)",
        )
    if story.warmup or ctx.warmup:
        return ("judge it after the LR warm-up: train longer",)
    if f.end_step is not None:
        return ()  # it ended by itself: nothing to fix
    partner_up = partner_improving(ctx, f.start_step)
    slow = story.constant and (barely_moved(ctx) or ctx.chance is not None)
    if slow and partner_up is None:  # a training side that improves: the LR is not too low
        return (*RAISE_LR, "check that the optimiser steps on every batch")
    validation_side = ctx.side == "validation" or (ctx.side is None and ctx.run_overfits)
    if validation_side and (partner_up is not None or ctx.run_overfits):
        return REGULARISE
    if validation_side and generalisation_gap(ctx) is not None:
        return REGULARISE
    if ctx.side == "train" and partner_solved(ctx) is not None:
        return ("nothing to fix: stop here (or make the task harder)",)
    if ctx.side == "train" and (ctx.run_overfits or generalisation_gap(ctx) is not None):
        # the model already fits its training data better than it generalises: more
        # capacity or a faster fit would widen the gap
        return REGULARISE
    if _is_reward(ctx):  # a policy's return: the network's capacity is rarely the limit
        return RL_STALL
    tries: list[str] = []
    scheduled = ctx.lr is not None and not ctx.lr.constant  # the run already has a schedule
    if story.cut_before is None and story.decaying is None and not scheduled:
        tries.append(TRY["plateau"][0])
    tries.extend(CAPACITY)
    return tuple(tries)


def _plateau(ctx: SeriesContext, f: Finding) -> tuple[list[str], tuple[str, ...]]:
    series = ctx.curve
    story = lr_story(ctx, f)
    if series is None:
        return [], _plateau_tries(ctx, f, story)
    facts = _plateau_range(ctx, f, series)
    after = _plateau_after(ctx, f, series, story)
    if after:
        facts.append(after)
    n_pts = window(series, f.start_step, f.end_step).size
    if f.end_step is None and n_pts <= 10:
        facts.append(
            f"Only {plural(n_pts, 'point')} since the onset: ReduceLROnPlateau and "
            "EarlyStopping with patience=10 could not have acted yet."
        )
    elif f.end_step is None:
        scheduled = story.cut_before or story.decaying or story.zero or story.warmup
        if not scheduled:
            facts.append(reduce_lr(series, ctx.goal, ctx.unit, f.start_step))
        facts.append(early_stopping(series, ctx.goal, ctx.unit))
        note = outlook(forecast(series.steps, series.values, ctx.goal), ctx.unit)
        if note:
            facts.append(note)
    facts.extend(_lr_facts(ctx, f, story))
    facts.extend(_partner_facts(ctx, f))
    return facts, _plateau_tries(ctx, f, story)


def _lr_facts(ctx: SeriesContext, f: Finding, story: LrStory) -> list[str]:
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
    up = partner_improving(ctx, f.start_step)
    if ctx.side == "validation" and up is not None:
        return [
            f"Meanwhile the training side, {ctx.partner_name}, kept improving "
            f"({fmt(up[0])} → {fmt(up[1])}): the model still learns the training data "
            "but that no longer carries over to validation."
        ]
    if ctx.side == "train" and ctx.run_overfits and ctx.partner_name is not None:
        return [
            "This run overfits (found on its validation side): the training side no longer "
            "limits it, and more capacity would widen the gap."
        ]
    gap = generalisation_gap(ctx)
    if gap is not None and ctx.partner_name is not None and not ctx.run_overfits:
        other = "validation" if ctx.side == "train" else "training"
        here, there = (gap[0], gap[1]) if ctx.side == "train" else (gap[1], gap[0])
        return [
            f"The {other} side, {ctx.partner_name}, ends at {fmt(there)}, against "
            f"{fmt(here)} here: the model fits the training data far better than it "
            "generalises, so the gap, not capacity, is what limits this run."
        ]
    solved = partner_solved(ctx)
    if ctx.side == "train" and solved is not None:
        return [
            f"The validation side, {ctx.partner_name}, is at its maximum ({fmt(solved)}): "
            "what the run is for is reached, and the training side has nothing to add."
        ]
    if ctx.side == "train" and up is None and not ctx.run_overfits:
        return [
            f"The validation side, {ctx.partner_name}, is not improving either: the model "
            "has stopped learning, not just generalising."
        ]
    return []


def _near_its_end(story: LrStory) -> bool:
    """Whether the schedule had brought the LR under a tenth of its peak (not to 0)."""
    return story.cut_before is not None and 0 < story.cut_before[1] <= 0.1 * story.cut_before[0]


def _flat_line(ctx: SeriesContext, f: Finding) -> tuple[list[str], tuple[str, ...]]:
    facts: list[str] = []
    series = ctx.curve
    if series is not None:
        facts.extend(_plateau_range(ctx, f, series)[:1])
    story = lr_story(ctx, f)
    tries = list(TRY["flat line"])
    if story.zero:
        facts.append(
            f"The logged LR ({name(ctx.lr.tag if ctx.lr else 'LR')}) is 0 from "
            f"{ctx.at(f.start_step)}: the weights cannot change."
        )
        tries = [
            "restore a non-zero LR (a schedule that reaches 0 ends learning: check its length)"
        ]
    elif _near_its_end(story) and ctx.lr is not None and story.cut_before is not None:
        peak, value = story.cut_before
        facts.append(
            f"The schedule had brought the LR down to {fmt(value)} ({name(ctx.lr.tag)}; its "
            f"peak was {fmt(peak)}): the weights barely move any more, and an evaluation "
            "on a fixed set then scores the same every time."
        )
        tries = [
            "nothing to fix if the schedule is meant to end here: keep the best checkpoint",
            "a longer schedule or a higher final LR if the run should still learn",
        ]
    elif ctx.lr is not None:
        now = ctx.lr.at(f.start_step)
        facts.append(
            f"The LR was not zero ({name(ctx.lr.tag)} {fmt(now)}): the weights still got "
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
        facts.append(prior_fact(ctx))
    return facts, tuple(tries)


def _divergence(ctx: SeriesContext, f: Finding) -> tuple[list[str], tuple[str, ...]]:
    facts: list[str] = []
    series = ctx.curve
    start, till = ctx.at(f.start_step), ctx.till(f)
    tries = list(TRY["divergence"])
    if series is not None:
        # from the last point before the onset: the onset is the first worse point
        at = value_at(series, f.start_step - 1) or value_at(series, f.start_step)
        w = window(series, f.start_step, f.end_step)
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
        if ctx.prior is not None and f.end_step is None:
            facts.append(prior_fact(ctx))
    story = lr_story(ctx, f)
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
        at = value_at(series, f.start_step)
        if at is not None:
            after = series.values[series.steps > f.start_step]
            n_after = int(np.count_nonzero(series.steps > f.start_step))
            rest = after[np.isfinite(after)]
            beat = rest[rest < at[1] if ctx.goal == "min" else rest > at[1]]  # better(), at once
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
        facts.append(early_stopping(series, ctx.goal, ctx.unit))
        pre: list[str] = []
        early: list[str] = []
        for label, rule in (("GL5", baselines.prechelt_gl), ("UP3", baselines.prechelt_up)):
            found = rule(series, ctx.goal)
            if found:
                fired = int(found[0].detail["fired_step"])
                # a stop before the best step would have lost the best model: say so
                (early if fired < f.start_step else pre).append(f"{label} at {ctx.unit} {fired:,}")
        if pre:
            facts.append("Prechelt's criteria would have stopped training: " + ", ".join(pre) + ".")
        if early:
            facts.append(
                "Prechelt's "
                + ", ".join(early)
                + f" would have stopped too early, before the best {ctx.unit} (noise early on)."
            )
    return facts, TRY["overfitting"]


def _train_gain(train: Series, step: int) -> str:
    at = value_at(train, step)
    _, values = finite(train)
    if at is None or not values.size:
        return ""
    return f" ({fmt(at[1])} → {fmt(float(values[-1]))})"


def _oscillation(ctx: SeriesContext, f: Finding) -> tuple[list[str], tuple[str, ...]]:
    facts: list[str] = []
    series = ctx.curve
    if series is not None:
        w = window(series, f.start_step, f.end_step)
        if w.size > 2:
            amp = fast_median(np.abs(fast_diff(w))) / 2.0
            times = float(f.detail.get("ratio", 0.0))
            facts.append(
                f"{name(ctx.tag)} swings by about ±{fmt(amp)} around {fmt(fast_median(w))} "
                f"from {ctx.at(f.start_step)} to {ctx.till(f)}"
                + (f", {times:.1f}× those of its quiet stretches." if times else ".")
            )
    story = lr_story(ctx, f)
    if story.note:
        facts.append(story.note)
    return facts, TRY["oscillation"]


BUILDERS = {
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


def context_line(f: Finding, unit: str) -> str:
    conf = "" if f.confidence >= WEAK else ", weak"
    return (
        f"Found on this series too: {finding_title(f, unit)} (confidence {f.confidence:.0%}{conf})."
    )
