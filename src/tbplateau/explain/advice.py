"""What the report says about one series: one diagnosis, with the run's own numbers.

:func:`diagnose` picks the finding that describes the series now (the worst one still
going on, else the latest), builds its :class:`~tbplateau.explain.model.Advice` with
the builder of its kind (:mod:`~tbplateau.explain.kinds`), and mentions the series'
other findings as context, so a series never gets two "Try" lines that contradict each
other. A series in a state that says more than its findings (solved, at chance level,
too early in an LR warm-up: :mod:`~tbplateau.explain.states`) is described by that
state, unless it is non-finite or diverging. The sentences themselves (the run's
numbers, the logged learning rate, callback replays, forecasts) are in
:mod:`~tbplateau.explain.facts`.
"""

from __future__ import annotations

from dataclasses import replace

from tbplateau.explain.facts import RANK, TRY, WEAK, SeriesContext, name, outlook
from tbplateau.explain.kinds import BUILDERS, context_line, finding_title, primary
from tbplateau.explain.model import Advice
from tbplateau.explain.states import improving_advice, state_advice, warmup_advice, worsening
from tbplateau.findings import FindingKind, finding_label

__all__ = [
    "RANK",
    "TRY",
    "WEAK",
    "SeriesContext",
    "diagnose",
    "finding_title",
    "improving_advice",
    "name",
    "outlook",
    "primary",
    "worsening",
]

_SERIOUS = (FindingKind.NONFINITE, FindingKind.DIVERGENCE)


def diagnose(ctx: SeriesContext) -> Advice | None:
    """The one advice on a series (``None`` when there is nothing to say but its verdict).

    The state of the series now wins over findings that do not describe it any more:
    a series at its bound or at chance level is said to be so (its plateaus, and
    findings that ended, become context), unless it is non-finite or diverging.
    """
    if not ctx.findings:
        return state_advice(ctx)
    f = primary(ctx.findings)
    label = finding_label(f)
    rest = tuple(g for g in ctx.findings if g is not f)
    if ctx.warmup and ctx.lr is not None and f.kind is not FindingKind.NONFINITE:
        lines = tuple(context_line(g, ctx.unit) for g in rest)
        return _with(warmup_advice(ctx, f), context=lines + ctx.extra_context, others=rest)
    serious = f.end_step is None and f.kind in _SERIOUS
    state = None if serious else state_advice(ctx)
    if state is not None:
        lines = tuple(context_line(g, ctx.unit) for g in ctx.findings)
        return _with(state, context=lines + ctx.extra_context, others=tuple(ctx.findings))
    context = tuple(context_line(g, ctx.unit) for g in rest) + ctx.extra_context
    facts, tries = BUILDERS[label](ctx, f)
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
    return replace(a, **changes)  # type: ignore[arg-type]
