"""The whole pipeline in one function: read → series → detectors → findings → report.

>>> import numpy as np
>>> from tbplateau.reader.model import Logdir, Run
>>> from tbplateau.series import Series
>>> t = np.arange(200)
>>> rng = np.random.default_rng(0)
>>> loss = np.where(t < 80, np.exp(-t / 20), np.exp(-4.0)) * np.exp(rng.normal(0, 0.02, 200))
>>> run = Run(".", ("events.out.tfevents.1",), (Series(".", "loss", steps=t, values=loss),))
>>> report = analyze(Logdir("logs", (run,)))
>>> [(f.kind.value, f.start_step) for f in report.findings()]
[('plateau', 78)]
>>> report.to_dict()["schema"]
'tbplateau.report/1'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from os import PathLike
from typing import TYPE_CHECKING

import numpy as np

from tbplateau.curves import attach
from tbplateau.detectors import REGISTRY, Detector, OverfittingDetector
from tbplateau.detectors.base import forget_prepared, onset_tolerance
from tbplateau.detectors.events import schedule_events
from tbplateau.errors import InvalidParameterError
from tbplateau.findings import Finding, FindingKind, Goal
from tbplateau.goals import (
    GoalOverride,
    JudgePlan,
    detect_framework,
    judge_plan,
    parse_goal_override,
    resolve_goal,
)
from tbplateau.pairing import pair_series, run_groups
from tbplateau.report import REPORT_SCHEMA, Report, RunReport, SeriesReport, report_document
from tbplateau.series import Series

if TYPE_CHECKING:  # pragma: no cover
    from tbplateau.reader.model import Logdir, Run

# The report model lives in tbplateau.report; its names stay importable from here.
__all__ = [
    "REPORT_SCHEMA",
    "Report",
    "RunReport",
    "SeriesReport",
    "analyze",
    "analyze_runs",
    "report_document",
]

SERIES_KINDS = (
    FindingKind.NONFINITE,
    FindingKind.PLATEAU,
    FindingKind.DIVERGENCE,
    FindingKind.OSCILLATION,
)


def default_detectors() -> dict[FindingKind, Detector]:
    """One detector of every kind with its default parameters."""
    return {kind: cls() for kind, cls in REGISTRY.items()}


def analyze(
    logdir: Logdir | str | PathLike[str],
    *,
    goals: Sequence[str | GoalOverride] = (),
    detectors: Mapping[FindingKind, Detector] | None = None,
    progress: Callable[[int, int], None] | None = None,
    client: object = None,
) -> Report:
    """Analyse every scalar series of a logdir.

    Parameters
    ----------
    logdir
        A path (read with :func:`tbplateau.reader.read_logdir`) or a ``Logdir`` already read.
    goals
        Goal overrides, ``"TAG_PATTERN=min|max|none"`` strings (fnmatch globs, first
        match wins) or ``(pattern, goal)`` tuples; other tags get
        :func:`~tbplateau.goals.infer_goal`.
    detectors
        Detector instances by kind, to change parameters or leave kinds out; the
        default is one of each kind from :data:`~tbplateau.detectors.REGISTRY`.
    progress
        Called as ``progress(runs_done, runs_total)`` after each group of runs.
    client
        A ``distributed.Client`` or a :class:`concurrent.futures.Executor`: read and
        analyse on its workers, run group by run group (see :mod:`tbplateau.sweep`);
        ``logdir`` must then be a path or URL, and the report holds no curves.
    """
    if client is not None:
        from tbplateau.sweep import Sweep

        if hasattr(logdir, "runs"):
            raise InvalidParameterError("analyze(client=...) needs a path or URL, not a Logdir")
        assert isinstance(logdir, (str, PathLike))
        sweep = Sweep(logdir, client=client, goals=goals, detectors=detectors, progress=progress)
        return sweep.report()
    if not hasattr(logdir, "runs"):
        from tbplateau.reader import read_logdir

        logdir = read_logdir(logdir)
    assert not isinstance(logdir, (str, PathLike))
    overrides = [parse_goal_override(g) if isinstance(g, str) else g for g in goals]
    dets = default_detectors() if detectors is None else dict(detectors)
    runs = _analyze_by_group(logdir.runs, overrides, dets, progress)
    # the report keeps a reference to its curves (no copy) for sparklines and plots
    return attach(Report(str(logdir.path), runs), logdir)


def analyze_runs(
    runs: Sequence[Run],
    *,
    goals: Sequence[str | GoalOverride] = (),
    detectors: Mapping[FindingKind, Detector] | None = None,
) -> tuple[RunReport, ...]:
    """Analyse some runs of a logdir: the same reports :func:`analyze` gives for them.

    ``runs`` must hold whole groups of :func:`~tbplateau.pairing.run_groups` (a
    validation run with its training sibling); the reports come back in the order of
    ``runs``. This is the unit of work of sweeps, ``watch`` and the TensorBoard tab.
    """
    overrides = [parse_goal_override(g) if isinstance(g, str) else g for g in goals]
    dets = default_detectors() if detectors is None else dict(detectors)
    return _analyze_by_group(runs, overrides, dets, None)


def _analyze_by_group(
    runs: Sequence[Run],
    overrides: Sequence[GoalOverride],
    dets: Mapping[FindingKind, Detector],
    progress: Callable[[int, int], None] | None,
) -> tuple[RunReport, ...]:
    """``runs`` analysed group by group (nothing of one group, such as its logged
    learning rate, may reach another), in the order of ``runs``."""
    by_name = {run.name: run for run in runs}
    reports: dict[str, RunReport] = {}
    for group in run_groups(by_name):
        for r in _analyze_group([by_name[name] for name in group], overrides, dets):
            reports[r.run] = r
        if progress is not None:
            progress(len(reports), len(by_name))
    return tuple(reports[run.name] for run in runs)


def _analyze_group(
    runs: Sequence[Run],
    overrides: Sequence[GoalOverride],
    dets: Mapping[FindingKind, Detector],
) -> list[RunReport]:
    """Every series finding and every overfitting pair of ``runs`` (see :func:`analyze`)."""
    by_key: dict[tuple[str, str], tuple[Series, Goal]] = {}
    series_findings: dict[tuple[str, str], list[Finding]] = {}
    plans: dict[tuple[str, str], JudgePlan] = {}
    # where the group's logged learning rate changes regime: a new phase may start there
    events = schedule_events(s for run in runs for s in run.series)
    for run in runs:
        framework = detect_framework(run.tags)
        for s in run.series:
            # what the tag table says is worth judging on this series (goals.TAG_RULES)
            plan = plans[(run.name, s.tag)] = judge_plan(
                s.tag, s.values, overrides, framework=framework
            )
            goal = plan.goal
            by_key[(run.name, s.tag)] = (s, goal)
            found: list[Finding] = []
            for kind in SERIES_KINDS:
                if kind in dets and kind in plan.kinds:
                    found.extend(dets[kind].detect(s, goal, events=events))
            series_findings[(run.name, s.tag)] = found
    run_findings = _overfitting(runs, by_key, series_findings, dets, plans)
    # every detector is done with this group: its prepared copies need not outlive it
    for run in runs:
        for s in run.series:
            forget_prepared(s)
    out = []
    for run in runs:
        reports = []
        for s in run.series:
            goal = by_key[(run.name, s.tag)][1]
            found = _resolve(series_findings[(run.name, s.tag)], s)
            reports.append(_series_report(s, goal, found, plans[(run.name, s.tag)]))
        out.append(
            RunReport(
                run.name,
                tuple(run.read_issues),
                tuple(reports),
                tuple(sorted(run_findings[run.name], key=lambda f: f.sort_key)),
            )
        )
    return out


def _overfitting(
    runs: Sequence[Run],
    by_key: Mapping[tuple[str, str], tuple[Series, Goal]],
    series_findings: dict[tuple[str, str], list[Finding]],
    dets: Mapping[FindingKind, Detector],
    plans: Mapping[tuple[str, str], JudgePlan],
) -> dict[str, list[Finding]]:
    """One overfitting finding per validation run, and the rises it explains.

    Every (validation, training) pair is judged; a run whose pairs overfit gets one
    finding, that of its loss pair (the validation loss minimum) when it has one,
    else its most confident pair, with the other pairs named in ``detail.also``. A
    validation run without a loss pair of its own beside one with it (a writer that logs
    every metric to a run of its own, ``Loss_val`` and ``Accuracy_val``) gets none: the
    group's verdict is its validation loss's, reported once.
    The rise is then explained, not reported as a divergence, on every validation
    series of the run from the onset on (an accuracy that sags as the loss rises),
    and on any copy of them (Keras writes every validation metric twice).
    """
    out: dict[str, list[Finding]] = {r.name: [] for r in runs}
    over = dets.get(FindingKind.OVERFITTING)
    if not isinstance(over, OverfittingDetector):
        return out
    by_name = {r.name: r for r in runs}
    found: dict[str, list[Finding]] = {}
    validation_tags: dict[str, set[str]] = {}
    with_loss: set[str] = set()  # validation runs with a judged loss pair
    for pair in pair_series(runs):
        val, vgoal = by_key[(pair.validation_run, pair.validation_tag)]
        train, tgoal = by_key[(pair.training_run, pair.training_tag)]
        if vgoal is None or tgoal is None:
            continue
        vplan = plans[(pair.validation_run, pair.validation_tag)]
        tplan = plans[(pair.training_run, pair.training_tag)]
        if FindingKind.OVERFITTING not in vplan.kinds & tplan.kinds:
            continue  # the tag table says this pair is not judged for overfitting
        validation_tags.setdefault(pair.validation_run, set()).add(pair.validation_tag)
        if _is_loss(pair.validation_tag):
            with_loss.add(pair.validation_run)
        found.setdefault(pair.validation_run, []).extend(
            over.detect_pair(val, train, vgoal, training_goal=tgoal)
        )
    for run_name, fs in found.items():
        if not fs:
            continue
        main = min(fs, key=_main_pair_key)
        also = [
            {"validation_tag": f.tags[0], "training_tag": f.tags[1], "start_step": f.start_step}
            for f in sorted(fs, key=lambda f: f.sort_key)
            if f is not main
        ]
        if also:
            main = replace(main, detail={**main.detail, "also": also})
        if run_name in with_loss or not with_loss:
            # a validation run without a loss of its own, beside one with it (a writer that
            # logs each metric to a run of its own): the group's verdict is its loss's
            out[run_name].append(main)
        vals = [by_key[(run_name, tag)][0] for tag in sorted(validation_tags[run_name])]
        _explain_rises(by_name[run_name], vals, fs, main, series_findings)
    return out


def _explain_rises(
    run: Run,
    vals: Sequence[Series],
    fs: Sequence[Finding],
    main: Finding,
    series_findings: dict[tuple[str, str], list[Finding]],
) -> None:
    """Drop the rises that the run's overfitting explains from the findings of its
    validation series ``vals`` and of their copies (see :func:`_explained_by_overfitting`),
    each from the onset of its own pair when it has one, else from the run's."""
    for val in vals:
        onset = next((f for f in fs if f.tags[0] == val.tag), main)
        for target in (val, *_same_values(run.series, val)):
            key = (run.name, target.tag)
            moved = _at_positions_of(_onset_in(onset, main, val), val, target)
            series_findings[key] = _explained_by_overfitting(series_findings[key], moved, target)


def _is_loss(tag: str) -> bool:
    """Whether a validation tag is a loss (what overfitting is judged on first)."""
    return resolve_goal(tag) == "min" and "loss" in tag.lower()


def _main_pair_key(f: Finding) -> tuple[int, float, int]:
    """Loss pairs first, then the most confident, then the earliest."""
    return (0 if _is_loss(f.tags[0]) else 1, -f.confidence, f.start_step)


def _onset_in(own: Finding, main: Finding, val: Series) -> Finding:
    """The finding whose onset explains ``val``'s rise: its own pair's, else the run's
    (moved to the nearest step of ``val``)."""
    if own.tags[0] == val.tag:
        return own
    i = int(np.searchsorted(val.steps, main.start_step))
    step = int(val.steps[min(i, len(val) - 1)]) if len(val) else main.start_step
    return replace(main, start_step=step, end_step=None)


def _position(series: Series, step: int | None) -> int:
    if step is None:
        return len(series)
    return int(np.searchsorted(series.steps, step))


def _same_values(series: Sequence[Series], val: Series) -> list[Series]:
    """The other series of ``series`` whose values equal ``val``'s point for point.

    Steps may differ (a copy logged against another step counter); values must match
    bit for bit, NaN matching NaN. Needs 5 points, so a short constant stretch is not
    mistaken for a copy.
    """
    if len(val) < 5 or not np.isfinite(val.values).any():
        return []
    first = float(val.values[0])
    return [
        s
        for s in series
        if s.tag != val.tag
        and len(s) == len(val)
        and _same_value(float(s.values[0]), first)  # most differ at once: no array pass
        and np.array_equal(s.values, val.values, equal_nan=True)
    ]


def _same_value(a: float, b: float) -> bool:
    """``np.array_equal([a], [b], equal_nan=True)``: equal, or both NaN."""
    return a == b or (a != a and b != b)


def _at_positions_of(f: Finding, src: Series, dst: Series) -> Finding:
    """``f`` (steps of ``src``) moved to the steps of ``dst`` at the same positions."""
    if dst is src:
        return f
    last = len(dst) - 1
    start = int(dst.steps[min(_position(src, f.start_step), last)])
    end = None if f.end_step is None else int(dst.steps[min(_position(src, f.end_step), last)])
    return replace(f, start_step=start, end_step=end)


def _explained_by_overfitting(found: list[Finding], over: Finding, val: Series) -> list[Finding]:
    """Drop a validation series' divergence that the overfitting finding explains.

    That is a divergence starting at or after the overfitting onset (within the onset
    tolerance), or one still going on when the overfitting starts: the same rise of
    the validation loss, reported once, as overfitting. A divergence over before the
    overfitting onset (a spike that recovered) is an event of its own and stays, however
    close to the onset it starts; so does a collapse in one step (``detail.sudden``), not
    the slow drift of a model that memorises its training set. On the series the
    overfitting was found on, a plateau around its onset that the metric leaves (by
    worsening) is the flat bottom of the curve, the minimum it starts from: dropped too.
    """
    tol = onset_tolerance(len(val))
    o = _position(val, over.start_step)

    def explained(f: Finding) -> bool:
        if f.kind is FindingKind.PLATEAU:
            # the flat bottom of the validation curve, left by worsening: the minimum
            # the overfitting starts from, not a stall of its own
            return (
                f.end_step is not None
                and val.tag == over.tags[0]
                and _position(val, f.start_step) <= o + tol
                and _position(val, f.end_step) >= o - tol
            )
        if f.kind is not FindingKind.DIVERGENCE:
            return False
        if f.end_step is not None and _position(val, f.end_step) < o:
            return False  # over before the overfitting begins: an event of its own
        if f.detail.get("sudden"):
            return False  # a collapse in one step: not the drift of overfitting
        if _position(val, f.start_step) >= o - tol:
            return True
        return _position(val, f.end_step) >= o

    return [f for f in found if not explained(f)]


def _resolve(found: list[Finding], series: Series) -> list[Finding]:
    """Settle overlaps between kinds on one series, then sort.

    A stretch that oscillates is flat on average; the plateau detector would report
    it too, so a plateau mostly covered by an oscillation is dropped, and so is a
    plateau that ends and lies mostly inside a divergence the run came back from (the
    thrashing of a blow-up is not a level the metric settled at; a plateau on the level
    a collapse stays at, and an exactly constant stretch inside it, are kept). Nothing
    else is dropped: one kind's finding never hides another kind's event (a divergence
    inside or after an oscillation, a blow-up into chaotic swings, or a collapse onto a
    lower level that swings period-2 from there, stays; a jump straight into a clean
    period-2 orbit is no divergence by the divergence detector's own rule).
    """
    osc = [f for f in found if f.kind is FindingKind.OSCILLATION]
    blown = [f for f in found if f.kind is FindingKind.DIVERGENCE and f.end_step is not None]
    keep = []
    for f in found:
        if f.kind is FindingKind.PLATEAU:
            if _mostly_inside(series, f, osc):
                continue
            thrashing = f.end_step is not None and not f.detail.get("constant")
            if thrashing and _mostly_inside(series, f, blown):
                continue
        keep.append(f)
    return sorted(keep, key=lambda f: f.sort_key)


def _mostly_inside(series: Series, f: Finding, others: list[Finding]) -> bool:
    """Whether half of ``f``'s points or more lie inside the stretches of ``others``."""
    if not others:
        return False
    a, b = _position(series, f.start_step), _position(series, f.end_step)
    covered = 0
    for o in others:
        oa, ob = _position(series, o.start_step), _position(series, o.end_step)
        covered += max(0, min(b, ob) - max(a, oa))
    return covered >= 0.5 * max(1, b - a)


def _series_report(s: Series, goal: Goal, found: list[Finding], plan: JudgePlan) -> SeriesReport:
    n = len(s)
    finite = np.isfinite(s.values)
    best_step: int | None = None
    best_value: float | None = None
    if goal is not None and finite.any():
        # every value finite (the usual case): the values themselves, nothing to mask
        vals = (
            s.values
            if finite.all()
            else np.where(finite, s.values, np.inf if goal == "min" else -np.inf)
        )
        i = int(vals.argmin() if goal == "min" else vals.argmax())
        best_step, best_value = int(s.steps[i]), float(s.values[i])
    return SeriesReport(
        tag=s.tag,
        goal=goal,
        points=n,
        replaced_points=int(s.replaced_points),
        first_step=int(s.steps[0]) if n else None,
        last_step=int(s.steps[-1]) if n else None,
        best_step=best_step,
        best_value=best_value,
        last_value=float(s.values[-1]) if n else None,
        findings=tuple(found),
        duplicate_points=int(s.duplicate_points),
        judged=plan.kinds,
        note=plan.note,
    )
