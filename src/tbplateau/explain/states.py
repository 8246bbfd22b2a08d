"""What is said about a series in a state rather than a finding: solved (or fitting the
training data), at chance level or predicting one class, too early in an LR warm-up,
improving (with a forecast), or getting worse on too few points for a finding."""

from __future__ import annotations

import itertools
import math

import numpy as np

from tbplateau.explain.context import finite
from tbplateau.explain.facts import (
    RAISE_LR,
    REGULARISE,
    SeriesContext,
    better,
    lr_story,
    name,
    outlook,
    partner_improving,
    prior_fact,
    value_at,
)
from tbplateau.explain.forecast import forecast
from tbplateau.explain.kinds import finding_title
from tbplateau.explain.model import Advice
from tbplateau.explain.text import fmt, fmt_step, plural
from tbplateau.findings import Finding

__all__ = ["at_chance", "improving_advice", "solved", "state_advice", "warmup_advice", "worsening"]

# -- states without a finding ---------------------------------------------------------------


def state_advice(ctx: SeriesContext) -> Advice | None:
    """Advice for a series at a bound or at chance level without a finding."""
    if ctx.bound is not None and ctx.prior is None:
        return solved(ctx)
    if ctx.chance is not None or ctx.chance_accuracy is not None or ctx.prior is not None:
        return at_chance(ctx, None)
    return None


def solved(ctx: SeriesContext) -> Advice:
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
            + _overfits_where(ctx),
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


def _so_far(ctx: SeriesContext) -> str:
    """ "It has learned nothing beyond chance.", or, for a loss still at its best at the end
    that started 5 % or more above it, that it still falls (keras_lr_too_low: from 0.874 to
    0.6925 in 30 epochs at an LR of 1e-5)."""
    s, curve = ctx.summary, ctx.curve
    first = None if curve is None else value_at(curve, int(curve.steps[0]))
    last = s.last_value
    if (
        first is not None
        and last is not None
        and s.best_step is not None
        and s.best_step == s.last_step
        and first[1] > 1.05 * last
    ):
        return (
            f"It has learned little beyond chance so far, though it still falls (from "
            f"{fmt(first[1])} at the start)."
        )
    return "It has learned nothing beyond chance."


def _chance_facts(ctx: SeriesContext) -> list[str]:
    s = ctx.summary
    tag = name(ctx.tag)
    facts: list[str] = []
    if ctx.chance is not None:
        c = ctx.chance
        facts.append(
            f"{tag} is {fmt(s.last_value)}, within 1.5% of ln {c} = {math.log(c):.4g}: the loss "
            f"of a model that gives each of {c} classes probability 1/{c}. " + _so_far(ctx)
        )
    elif ctx.chance_accuracy is not None:
        facts.append(
            f"{tag} is {fmt(s.last_value)}, about {fmt(ctx.chance_accuracy)}: what guessing "
            "scores (the loss of this run is at chance level too)."
        )
    if ctx.prior is not None:
        facts.append(f"{tag} has been {fmt(s.last_value)} since it levelled off.")
        facts.append(prior_fact(ctx))
    return facts


def _chance_tries(ctx: SeriesContext, f: Finding | None) -> tuple[list[str], tuple[str, ...]]:
    """What the logged LR adds, and what to try, for a series at chance level."""
    lr, first = ctx.lr, ctx.summary.first_step or 0
    note = lr_story(ctx, f).note if f is not None else None
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
        return [fact], (*RAISE_LR, "check that the labels match the inputs")
    tries = (
        "check that the labels match the inputs (shuffled together) and that the loss gets "
        "logits, not probabilities",
        "a higher LR",
        "check for frozen layers or a dead network",
    )
    return ([note] if note else []), tries


def at_chance(ctx: SeriesContext, f: Finding | None) -> Advice:
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


def warmup_advice(ctx: SeriesContext, f: Finding) -> Advice:
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


def improving_advice(ctx: SeriesContext) -> Advice | None:
    """The outlook of a series that improves to its end (a forecast), or ``None``."""
    s, series = ctx.summary, ctx.curve
    if series is None:
        return None
    fc = forecast(series.steps, series.values, s.goal)
    overfit_by = ctx.overfit_name if ctx.side == "train" and ctx.run_overfits else None
    note = outlook(fc, ctx.unit, overfit_by=overfit_by)
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
    worse_each = all(better(float(x), float(y), s.goal) for x, y in itertools.pairwise(after))
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
        up = partner_improving(ctx, s.best_step)
        if up is not None:
            facts.append(
                f"Meanwhile {ctx.partner_name} improved ({fmt(up[0])} → {fmt(up[1])}): the "
                "usual sign of overfitting, though with "
                f"{plural(int(values.size), 'evaluation')} it is an early sign."
            )
    tries = (
        "evaluate more often to confirm it",
        "keep the checkpoint of the best validation step",
        *REGULARISE[:2],
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


def _overfits_where(ctx: SeriesContext) -> str:
    """How the sentence about the validation side ends: where the run overfits, if it does."""
    if not ctx.run_overfits:
        return "."
    if ctx.overfit_name is None or ctx.overfit_name == ctx.partner_name:
        return ": it overfits."
    return f"; the run overfits on {ctx.overfit_name}."
