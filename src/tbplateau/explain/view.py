"""Assemble the view model of a whole report (:func:`build_view`).

Per run: the logged learning rate (its own, or its group's), the framework, twins,
train/validation partners, chance level and class prior; per series: its state, its
verdict phrases and its one advice (:func:`~tbplateau.explain.advice.diagnose`); per
run the notes (restarts, duplicate steps, an unfinished warm-up) and the line naming
what was not judged. Runs come worst first, a run group (Keras ``train`` and
``validation``) kept together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from typing import Any

import numpy as np

from tbplateau.curves import Curves
from tbplateau.explain.advice import (
    WEAK,
    SeriesContext,
    diagnose,
    improving_advice,
    name,
    primary,
    worsening,
)
from tbplateau.explain.context import (
    LearningRate,
    Partner,
    at_bound,
    chance_classes,
    find_learning_rate,
    finite,
    partners,
    prior_entropy,
    twins,
)
from tbplateau.explain.model import Advice, ReportView, RunView, SeriesView, Verdict
from tbplateau.explain.text import fmt, join_words, plural, unit_of
from tbplateau.findings import Finding, FindingKind, finding_label
from tbplateau.goals import Role, TagMeaning, detect_framework, tag_meaning
from tbplateau.pairing import run_groups
from tbplateau.report import (
    KIND_ORDER,
    Report,
    RunReport,
    SeriesReport,
    report_summary,
    run_severity,
)
from tbplateau.series import Series
from tbplateau.stats import fast_median, fast_ptp

__all__ = ["build_view", "phrase", "verdict"]

_SHORT = {
    Role.COUNTER: "a counter",
    Role.SCHEDULE: "a schedule",
    Role.DIAGNOSTIC: "a diagnostic",
}


def phrase(f: Finding, unit: str) -> str:
    """A finding as a verdict phrase: ``plateaued since step 80``, ``diverged at epoch 8``."""
    s = f"{unit} {f.start_step:,}"
    e = None if f.end_step is None else f"{f.end_step:,}"
    label = finding_label(f)
    if f.kind is FindingKind.PLATEAU:
        text = f"{label} since {s}" if e is None else f"{label} {s}–{e}"
        if label == "plateau":
            text = "plateaued" + text[len("plateau") :]
    elif f.kind is FindingKind.DIVERGENCE:
        text = f"diverged at {s}" + ("" if e is None else f", recovered by {e}")
    elif f.kind is FindingKind.NONFINITE:
        text = f"non-finite from {s}" + ("" if e is None else f" to {e}")
    elif f.kind is FindingKind.OVERFITTING:
        text = f"overfitting since {s}"
    else:
        text = f"oscillating since {s}" if e is None else f"oscillated {s}–{e}"
    return text + (" (weak)" if f.confidence < WEAK else "")


def verdict(summary: SeriesReport, findings: Sequence[Finding], *, most: int = 3) -> Verdict:
    """The verdict phrases of a series from its summary and findings alone.

    The diagnosed finding (:func:`~tbplateau.explain.advice.primary`) comes first, then
    the others in time order; without findings: ``improving`` when the best value is
    in the last fifth of the steps, ``no finding`` otherwise, ``not judged`` for a
    series that is not a metric. :func:`build_view` refines this with the curves
    (solved, chance level, warm-up, the forecast).
    """
    unit = unit_of(summary.tag)
    if not findings:
        if summary.goal is None or not summary.judged_kinds:
            note = (summary.note or "no goal").removeprefix("not a metric (").removesuffix(")")
            return ((None, f"not judged ({note})"),)
        if summary.points < 4 or summary.best_step is None:
            return ((None, "too short to judge"),)
        first, last = summary.first_step or 0, summary.last_step or 0
        if last > first and summary.best_step >= first + 0.8 * (last - first):
            return ((None, "improving"),)
        return ((None, f"no finding (best at {unit} {summary.best_step:,})"),)
    main = primary(findings)
    others = sorted((f for f in findings if f is not main), key=lambda f: f.start_step)
    ordered = [main, *others]
    out: list[tuple[FindingKind | None, str]] = [(f.kind, phrase(f, unit)) for f in ordered]
    if len(out) > most:
        out = [*out[: most - 1], (None, f"+{len(ordered) - most + 1} more")]
    return tuple(out)


# -- per run -----------------------------------------------------------------------------


def _drawn(run: RunReport) -> dict[str, list[Finding]]:
    """The findings drawn on each series of ``run``: its own, and the overfitting
    findings whose validation series it is."""
    by_tag: dict[str, list[Finding]] = {s.tag: list(s.findings) for s in run.series}
    for f in run.findings:
        vrun = f.detail.get("validation_run", run.run)
        if vrun == run.run and f.tags and f.tags[0] in by_tag:
            by_tag[f.tags[0]].append(f)
    return by_tag


def _without_ongoing_plateaus(
    phrases: list[tuple[FindingKind | None, str]], base: SeriesView
) -> list[tuple[FindingKind | None, str]]:
    """``phrases`` less those of the series' plateaus that last to the end (a state that
    says more, such as "at the class prior", replaces them)."""
    flat = {
        phrase(f, base.unit)
        for f in base.findings
        if f.kind is FindingKind.PLATEAU and f.end_step is None
    }
    return [(k, t) for k, t in phrases if t not in flat]


def _tail_flat(values: np.ndarray) -> float | None:
    """The median of the last fifth when it is flat (its spread within 1 %), else None."""
    if values.size < 5:
        return None
    tail = values[-max(2, values.size // 5) :]
    m = fast_median(tail)
    return m if fast_ptp(tail) <= 0.01 * max(abs(m), 1e-12) else None


def _tail_constant(values: np.ndarray) -> float | None:
    """The last value when the last fifth (at least 3 points) is exactly constant."""
    if values.size < 5:
        return None
    tail = values[-max(3, values.size // 5) :]
    return float(tail[0]) if fast_ptp(tail) == 0.0 else None


def _priors(run: RunReport, curves: Curves) -> dict[str, float]:
    """``{tag: p}`` for a binary loss and its accuracy that say the model outputs the
    class prior ``p`` for every input: the accuracy exactly constant at ``p >= 0.5``
    (a constant prediction scores the same every epoch; a calibrated model that still
    learns does not), the loss flat and equal (within 3 %) to the entropy of ``p``.
    Tags pair up by the words ``loss`` and ``accuracy``/``acc`` (``epoch_loss`` with
    ``epoch_accuracy``)."""
    tags = {s.tag for s in run.series}
    out: dict[str, float] = {}
    for loss_tag in tags:
        if "loss" not in loss_tag:
            continue
        for word in ("accuracy", "acc"):
            acc_tag = loss_tag.replace("loss", word)
            if acc_tag not in tags:
                continue
            lc, ac = curves.get((run.run, loss_tag)), curves.get((run.run, acc_tag))
            if lc is None or ac is None:
                continue
            loss, acc = _tail_flat(finite(lc)[1]), _tail_constant(finite(ac)[1])
            if loss is None or acc is None or not 0.5 <= acc < 1.0:
                continue
            if abs(loss - prior_entropy(acc)) <= 0.03 * loss:
                out[loss_tag] = out[acc_tag] = acc
    # precision and recall at 0: the model never predicts the positive class, so its
    # accuracy is the share of the majority class
    zero = []
    for t in tags:
        low = t.lower()
        if "precision" in low or "recall" in low:
            c = curves.get((run.run, t))
            tail = None if c is None else _tail_flat(finite(c)[1])
            if tail == 0.0:
                zero.append(t)
    if any("precision" in t.lower() for t in zero) and any("recall" in t.lower() for t in zero):
        for t in tags:
            c = curves.get((run.run, t))
            if c is None or not any(w in t.lower() for w in ("accuracy", "acc")):
                continue
            acc = _tail_constant(finite(c)[1])
            if acc is not None and 0.5 <= acc < 1.0:
                out[t] = acc
                out.update((z, acc) for z in zero)
    return out


def _chance_accuracy(
    curve: Series | None, meaning: TagMeaning, classes: int | None
) -> float | None:
    if classes is None or curve is None or meaning.goal != "max" or meaning.high != 1.0:
        return None
    values = finite(curve)[1]
    if values.size < 4:
        return None
    chance = 1.0 / classes
    tail = fast_median(values[-max(2, values.size // 5) :])
    scale = 100.0 if float(values.max()) > 1.0 else 1.0
    if abs(tail / scale - chance) <= max(0.05, 0.1 * chance):
        return chance * scale
    return None


def _reason(row: SeriesView) -> str:
    """Why a row was folded, in a few words."""
    if row.state == "short":
        return f"too short to judge: {plural(row.summary.points, 'point')}"
    note = row.summary.note or "no goal"
    return note.removeprefix("not a metric (").removesuffix(")")


def _not_judged_line(rows: Sequence[SeriesView]) -> str | None:
    """``not judged: x/lr0, x/lr1 (the learning rate); epoch (a counter). ...``"""
    groups: dict[str, list[str]] = {}
    for r in rows:
        if r.state in ("not judged", "short") or (r.state == "partly judged" and not r.findings):
            label = name(r.tag) + "".join(f" (= {name(t)})" for t in r.twins[:1])
            groups.setdefault(_reason(r), []).append(label)
    if not groups:
        return None
    parts = []
    for reason, tags in groups.items():
        shown = tags if len(tags) <= 4 else [*tags[:3], f"{len(tags) - 3} more"]
        parts.append(f"{join_words(shown)} ({reason})")
    return "not judged: " + "; ".join(parts) + ". To judge a tag: --goal 'TAG=min' (or max)."


def _notes(run: RunReport, rows: Sequence[SeriesView], lr: LearningRate | None) -> tuple[str, ...]:
    notes = []
    restarted = [(s.tag, s.restarted_points) for s in run.series if s.restarted_points > 0]
    if restarted:
        total = sum(n for _, n in restarted)
        where = (
            ", ".join(f"{n:,} in {name(t)}" for t, n in restarted)
            if len(restarted) <= 3
            else f"in {len(restarted)} series"
        )
        notes.append(
            f"restart: {plural(total, 'point')} replaced ({where}); "
            "the newest write of a step wins."
        )
    dup = [(s.tag, s.duplicate_points) for s in run.series if s.duplicate_points]
    if dup:
        total = sum(n for _, n in dup)
        shown = [name(t) for t, _ in dup[:3]] + ([f"{len(dup) - 3} more"] if len(dup) > 3 else [])
        where = join_words(shown)
        notes.append(
            f"duplicate steps: {plural(total, 'point')} logged twice at the same step with the "
            f"same value ({where}); one of each is kept. Not a restart."
        )
    if lr is not None and lr.warmup_whole_run and any(r.findings for r in rows):
        values = finite(lr.series)[1]
        notes.append(
            f"warm-up: {name(lr.tag)} rose from {fmt(float(values[0]))} to "
            f"{fmt(float(values[-1]))} over the whole run; findings on the metrics are too "
            "early to act on."
        )
    return tuple(notes)


_ROW_FIELDS = frozenset(f.name for f in fields(SeriesView))


def _row_with(row: SeriesView, **changes: Any) -> SeriesView:
    """``dataclasses.replace(row, **changes)``: :class:`SeriesView` has no
    ``__post_init__``, so its fields as they are with ``changes``, without the rebuild
    (1,676 rows of a 200-run sweep). An unknown field raises ``TypeError``, as there."""
    unknown = changes.keys() - _ROW_FIELDS
    if unknown:
        raise TypeError(f"SeriesView has no field {sorted(unknown)[0]!r}")
    copy = object.__new__(SeriesView)
    copy.__dict__.update(row.__dict__)
    copy.__dict__.update(changes)
    return copy


class _RunBuilder:
    """Builds the :class:`RunView` of one run (see the module docstring)."""

    def __init__(
        self,
        run: RunReport,
        curves: Curves,
        lr: LearningRate | None,
        pairs: Mapping[tuple[str, str], Partner],
        overfit_series: tuple[str, str] | None,
    ) -> None:
        self.run = run
        self.curves = curves
        self.lr = lr
        self.pairs = pairs
        self.overfit_series = overfit_series
        self.framework = detect_framework(s.tag for s in run.series)
        self.twins = twins(run, curves)
        self.priors = _priors(run, curves)
        self.warmup = lr is not None and lr.warmup_whole_run
        self.classes = self._classes()

    def _classes(self) -> int | None:
        for s in self.run.series:
            meaning = tag_meaning(s.tag, self.framework)
            c = chance_classes(self.curves.get((self.run.run, s.tag)), meaning)
            if c is not None:
                return c
        return None

    def _training_like(self, s: SeriesReport) -> Partner | None:
        """For a validation series pairing found no partner for (``ptl/val_loss``), a
        training series of the run with the same goal and the same quantity
        (``train_loss_epoch``): the one with ``train`` and the quantity's word in its
        name, an epoch-level one first."""
        low = s.tag.lower()
        if s.goal is None or not any(w in low for w in ("val", "eval", "test")):
            return None
        word = "loss" if "loss" in low else ("acc" if "acc" in low else None)
        if word is None:
            return None
        found = [
            t.tag
            for t in self.run.series
            if t.goal == s.goal and "train" in t.tag.lower() and word in t.tag.lower()
        ]
        if not found:
            return None
        found.sort(key=lambda t: (not t.endswith("epoch"), len(t)))
        return Partner("validation", self.run.run, found[0])

    def _name(self, run: str, tag: str) -> str:
        """A series as this run's advice names it (with its run when it is another's)."""
        return name(tag) if run == self.run.run else f"{run} {name(tag)}"

    def context(self, s: SeriesReport, found: tuple[Finding, ...]) -> SeriesContext:
        run = self.run.run
        curve = self.curves.get((run, s.tag))
        meaning = tag_meaning(s.tag, self.framework)
        partner = self.pairs.get((run, s.tag)) or self._training_like(s)
        pcurve = None if partner is None else self.curves.get((partner.run, partner.tag))
        pname = None if partner is None else self._name(partner.run, partner.tag)
        classes = chance_classes(curve, meaning)
        return SeriesContext(
            run=run,
            summary=s,
            findings=found,
            curve=curve,
            unit=unit_of(s.tag),
            meaning=meaning,
            lr=self.lr,
            side=None if partner is None else partner.side,
            partner=pcurve,
            partner_name=pname,
            run_overfits=self.overfit_series is not None,
            overfit_name=None if self.overfit_series is None else self._name(*self.overfit_series),
            warmup=self.warmup,
            chance=classes,
            chance_accuracy=_chance_accuracy(curve, meaning, self.classes),
            prior=self.priors.get(s.tag),
            bound=at_bound(curve, s.goal, meaning),
        )

    def row(self, s: SeriesReport, found: tuple[Finding, ...]) -> SeriesView:
        run, unit = self.run.run, unit_of(s.tag)
        curve = self.curves.get((run, s.tag))
        base = SeriesView(run, s, found, verdict(s, found), curve, unit)
        if s.tag in self.twins:
            phrase_ = f"same values as {name(self.twins[s.tag])}"
            return _row_with(
                base, verdict=((None, phrase_),), state="twin", twin_of=self.twins[s.tag]
            )
        if not found and (s.goal is None or not s.judged_kinds):
            return _row_with(base, state="not judged")
        if not found and not s.fully_judged:
            kinds = sorted(k.value for k in s.judged_kinds)
            words = [k.replace("nonfinite", "non-finite value") for k in kinds]
            text = f"no {join_words(words, 'or')}"
            return _row_with(base, verdict=((None, text),), state="partly judged")
        ctx = self.context(s, found)
        advice = diagnose(ctx)
        if found:
            return self._with_findings(base, ctx, advice)
        return self._without_findings(base, ctx, advice)

    def _with_findings(
        self, base: SeriesView, ctx: SeriesContext, advice: Advice | None
    ) -> SeriesView:
        phrases = list(base.verdict)
        state = "finding"
        if ctx.prior is not None and not (advice is not None and advice.label == "chance level"):
            # collapsed to one class (a divergence to the prior): the flat line after it
            # is that prediction, said plainly
            phrases = [
                *_without_ongoing_plateaus(phrases, base),
                (FindingKind.PLATEAU, self._state_phrase(ctx, "chance")),
            ]
        if advice is not None and advice.label == "warm-up":
            state = "warm-up"
            phrases.insert(0, (None, "too early (LR warm-up)"))
        elif advice is not None and advice.label in ("solved", "fits", "chance level"):
            state = "chance" if advice.label == "chance level" else advice.label
            colour = FindingKind.PLATEAU if state == "chance" else None
            # an ongoing plateau is the same thing said less well: the state replaces it
            phrases = _without_ongoing_plateaus(phrases, base)
            phrases.insert(0, (colour, self._state_phrase(ctx, state)))
        return _row_with(base, verdict=tuple(phrases[:3]), state=state, advice=advice)

    def _state_phrase(self, ctx: SeriesContext, state: str) -> str:
        if state in ("solved", "fits"):
            assert ctx.bound is not None
            where, bound, since = ctx.bound
            at = "maximum" if where == "high" else "floor"
            lead = "solved" if state == "solved" else "fits the training data"
            return f"{lead}: at its {at} ({fmt(bound)}) since {ctx.at(since)}"
        if ctx.chance is not None:
            return f"at chance level (ln {ctx.chance})"
        if ctx.prior is not None:
            low = ctx.tag.lower()
            if "precision" in low or "recall" in low:
                return "0: no positive predictions (the majority class only)"
            return f"at the class prior ({ctx.prior:.0%}): predicts one class"
        return f"at chance level ({fmt(ctx.chance_accuracy)})"

    def _without_findings(
        self, base: SeriesView, ctx: SeriesContext, advice: Advice | None
    ) -> SeriesView:
        if advice is not None:  # solved, fits the training data, or at chance level
            state = "chance" if advice.label == "chance level" else advice.label
            colour = FindingKind.PLATEAU if state == "chance" else None
            return _row_with(
                base,
                verdict=((colour, self._state_phrase(ctx, state)),),
                state=state,
                advice=advice,
            )
        worse = worsening(ctx)
        if worse is not None:
            text = f"{worse.title} ({plural(base.summary.points, 'evaluation')})"
            return _row_with(
                base, verdict=((FindingKind.OVERFITTING, text),), state="worsening", advice=worse
            )
        first_phrase = base.verdict[0][1]
        if first_phrase == "too short to judge":
            return _row_with(base, state="short")
        if first_phrase == "improving" and ctx.curve is not None:
            imp = improving_advice(ctx)
            if imp is not None:
                return _row_with(base, verdict=((None, imp.title),), state="improving", advice=imp)
        return _row_with(base, state="improving" if first_phrase == "improving" else "steady")

    def build(self) -> RunView:
        drawn = _drawn(self.run)
        rows = []
        for s in self.run.series:
            found = tuple(sorted(drawn[s.tag], key=lambda f: f.sort_key))
            rows.append(self.row(s, found))
        rows = _fold_twins(rows)
        advice = _merge([r.advice for r in rows if r.advice is not None])
        # run-level findings not drawn on a series of this run (their series is elsewhere)
        for f in self.run.findings:
            vrun = f.detail.get("validation_run", self.run.run)
            if vrun == self.run.run and f.tags and f.tags[0] in drawn:
                continue
            advice.append(_orphan(self.run.run, f))
        return RunView(
            self.run.run,
            self.run.read_issues,
            tuple(rows),
            tuple(advice),
            _notes(self.run, rows, self.lr),
            _not_judged_line(rows),
            self.framework,
            _severity(rows, run_severity(self.run)),
        )


def _severity(rows: Sequence[SeriesView], model: tuple[int, int]) -> tuple[int, int]:
    """How bad a run looks on screen: the worst finding label of its rows that are
    problems now (not solved, not too early in a warm-up), and how many findings it
    has; a run whose findings are all on such rows ranks just after the others."""
    worst = len(KIND_ORDER)
    for r in rows:
        if r.state not in ("finding", "chance", "worsening"):
            continue
        for f in r.findings:
            worst = min(worst, KIND_ORDER.index(finding_label(f)))
    if worst == len(KIND_ORDER) and model[1]:
        worst = len(KIND_ORDER) - 1 if model[0] < len(KIND_ORDER) else worst
    return (worst, model[1])


def _orphan(run: str, f: Finding) -> Advice:
    unit = unit_of(f.tags[0])
    return Advice(
        run,
        f.tags[0],
        f.kind,
        finding_label(f),
        phrase(f, unit),
        (f"{finding_label(f)} of {name(f.tags[0])} from {unit} {f.start_step:,}.",),
        (),
        f.confidence,
        f.start_step,
    )


def _fold_twins(rows: list[SeriesView]) -> list[SeriesView]:
    """Name each row's twins on it (the twin rows stay, marked ``twin``)."""
    folded: dict[str, list[str]] = {}
    for r in rows:
        if r.twin_of is not None:
            folded.setdefault(r.twin_of, []).append(r.tag)
    if not folded:
        return rows
    return [
        _row_with(r, twins=tuple(folded.get(r.tag, ()))) if r.tag in folded else r for r in rows
    ]


def _merge(advice: list[Advice]) -> list[Advice]:
    """One advice for the same finding (label, steps, title) on several series of a run;
    the others are named in its ``also``."""
    groups: dict[tuple[object, ...], list[Advice]] = {}
    order: list[tuple[object, ...]] = []
    for a in advice:
        # the kind too: a warm-up's advice on a plateau of a score still at 0 does not hold for
        # a loss whose rise was taken for overfitting (the same label and title)
        key: tuple[object, ...] = (a.label, a.kind, a.start_step, a.title)
        if a.kind is None:  # a state: merged only when it says the same thing
            key += tuple(f.replace(name(a.tag), "TAG") for f in a.facts)
        if key not in groups:
            order.append(key)
        groups.setdefault(key, []).append(a)
    out = []
    for key in order:
        group = groups[key]
        first = group[0]
        if len(group) > 1 and first.label != "improving":
            out.append(replace(first, also=tuple(g.tag for g in group[1:])))
        else:
            out.extend(group)
    return out


def _same_group(run: str, group: Sequence[str]) -> bool:
    return len(run_groups([run, group[0]])) == 1


def _overfitting_series(
    by_name: Mapping[str, RunReport], group: Sequence[str]
) -> tuple[str, str] | None:
    """``(run, tag)`` of the validation series of a group's first overfitting finding."""
    for g in group:
        for f in by_name[g].all_findings():
            if f.kind is FindingKind.OVERFITTING and f.tags:
                return g, f.tags[0]
    return None


def build_view(report: Report, curves: Curves) -> ReportView:
    """The words and numbers every layout shows (see the module docstring)."""
    by_name = {r.run: r for r in report.runs}
    tags_by_run: dict[str, list[str]] = {r.run: [s.tag for s in r.series] for r in report.runs}
    for run, tag in curves:  # runs filtered out of the report still lend their LR
        if run not in by_name:
            tags_by_run.setdefault(run, []).append(tag)
    groups = run_groups(by_name)
    pairs = partners(report.runs, curves)
    views: dict[str, RunView] = {}
    ranked: list[tuple[tuple[int, int], int, tuple[str, ...]]] = []
    outside = [n for n in tags_by_run if n not in by_name]  # once, not once per group
    for i, group in enumerate(groups):
        overfitting = _overfitting_series(by_name, group)
        kin = [n for n in outside if _same_group(n, group)]
        for g in group:
            lr = find_learning_rate(g, (*group, *kin), curves, tags_by_run)
            views[g] = _RunBuilder(by_name[g], curves, lr, pairs, overfitting).build()
        worst = min(views[g].severity for g in group)
        ranked.append(((worst[0], -worst[1]), i, group))
    ranked.sort()
    runs = tuple(views[g] for _, _, group in ranked for g in group)
    summary = report_summary(report)
    kinds = tuple(summary["findings_by_label"].items())
    return ReportView(
        report.logdir,
        runs,
        summary["series"],
        summary["findings"],
        summary["read_issues"],
        bool(curves),
        kinds,
        summary,
        _states(runs),
    )


STATE_WORDS = {
    "chance": "at chance level",
    "worsening": "getting worse (too few points for a finding)",
    "warm-up": "too early to judge (LR warm-up)",
    "solved": "solved",
    "fits": "fitting the training data",
}
"""Row states the summary counts, in its words and order."""


def _states(runs: Sequence[RunView]) -> tuple[tuple[str, int], ...]:
    counts: dict[str, int] = {}
    for run in runs:
        for row in run.series:
            if row.state in STATE_WORDS:
                counts[row.state] = counts.get(row.state, 0) + 1
    return tuple((STATE_WORDS[k], counts[k]) for k in STATE_WORDS if k in counts)


def series_texts(view: ReportView) -> dict[tuple[str, str], dict[str, object]]:
    """``{(run, tag): {"verdict": ..., "advice": ...}}``, the words of the JSON document."""
    out: dict[tuple[str, str], dict[str, object]] = {}
    for run in view.runs:
        for row in run.series:
            out[(run.run, row.tag)] = {
                "verdict": row.verdict_text,
                "advice": None if row.advice is None else row.advice.to_dict(),
            }
    return out
