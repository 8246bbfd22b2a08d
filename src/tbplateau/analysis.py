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
[('plateau', 80)]
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
from tbplateau.detectors.base import onset_tolerance
from tbplateau.errors import InvalidParameterError
from tbplateau.findings import Finding, FindingKind, Goal
from tbplateau.goals import (
    GoalOverride,
    JudgePlan,
    detect_framework,
    judge_plan,
    parse_goal_override,
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
    by_name = {run.name: run for run in logdir.runs}
    reports: dict[str, RunReport] = {}
    for group in run_groups(by_name):
        for r in _analyze_group([by_name[name] for name in group], overrides, dets):
            reports[r.run] = r
        if progress is not None:
            progress(len(reports), len(by_name))
    runs = tuple(reports[run.name] for run in logdir.runs)
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
    return tuple(_analyze_group(runs, overrides, dets))


def _analyze_group(
    runs: Sequence[Run],
    overrides: Sequence[GoalOverride],
    dets: Mapping[FindingKind, Detector],
) -> list[RunReport]:
    """Every series finding and every overfitting pair of ``runs`` (see :func:`analyze`)."""
    by_key: dict[tuple[str, str], tuple[Series, Goal]] = {}
    series_findings: dict[tuple[str, str], list[Finding]] = {}
    plans: dict[tuple[str, str], JudgePlan] = {}
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
                    found.extend(dets[kind].detect(s, goal))
            series_findings[(run.name, s.tag)] = found
    run_findings: dict[str, list[Finding]] = {r.name: [] for r in runs}
    by_name = {r.name: r for r in runs}
    over = dets.get(FindingKind.OVERFITTING)
    if isinstance(over, OverfittingDetector):
        for pair in pair_series(runs):
            val, vgoal = by_key[(pair.validation_run, pair.validation_tag)]
            train, tgoal = by_key[(pair.training_run, pair.training_tag)]
            if vgoal is None or tgoal is None:
                continue
            vplan = plans[(pair.validation_run, pair.validation_tag)]
            tplan = plans[(pair.training_run, pair.training_tag)]
            if FindingKind.OVERFITTING not in vplan.kinds & tplan.kinds:
                continue
            copies = _same_values(by_name[pair.validation_run].series, val)
            for f in over.detect_pair(val, train, vgoal, training_goal=tgoal):
                run_findings[pair.validation_run].append(f)
                # The rise is explained on the paired series and on any copy of it that
                # another tag of the run holds (Keras writes every validation metric
                # twice: `epoch_X` by epoch and `evaluation_X_vs_iterations` by step).
                for target in (val, *copies):
                    key = (pair.validation_run, target.tag)
                    moved = _at_positions_of(f, val, target)
                    series_findings[key] = _explained_by_overfitting(
                        series_findings[key], moved, target
                    )
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
    return [
        s
        for s in series
        if s.tag != val.tag
        and len(s) == len(val)
        and np.array_equal(s.values, val.values, equal_nan=True)
    ]


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
    the validation loss, reported once, as overfitting.
    """
    tol = onset_tolerance(len(val))
    o = _position(val, over.start_step)

    def explained(f: Finding) -> bool:
        if f.kind is not FindingKind.DIVERGENCE:
            return False
        if _position(val, f.start_step) >= o - tol:
            return True
        return _position(val, f.end_step) >= o

    return [f for f in found if not explained(f)]


def _resolve(found: list[Finding], series: Series) -> list[Finding]:
    """Settle overlaps between kinds on one series, then sort.

    A stretch that oscillates is flat on average; the plateau detector would report
    it too. A plateau mostly covered by an oscillation is dropped, and so is a
    divergence that starts inside an oscillation (the swings, not a trend, moved it).
    """
    osc = [f for f in found if f.kind is FindingKind.OSCILLATION]
    tol = onset_tolerance(len(series))
    keep = []
    for f in found:
        if f.kind is FindingKind.DIVERGENCE and osc:
            a = _position(series, f.start_step)
            if any(
                _position(series, o.start_step) - tol <= a <= _position(series, o.end_step)
                for o in osc
            ):
                continue
        if f.kind is FindingKind.PLATEAU and osc:
            a, b = _position(series, f.start_step), _position(series, f.end_step)
            covered = 0
            for o in osc:
                oa, ob = _position(series, o.start_step), _position(series, o.end_step)
                covered += max(0, min(b, ob) - max(a, oa))
            if covered >= 0.5 * max(1, b - a):
                continue
        keep.append(f)
    return sorted(keep, key=lambda f: f.sort_key)


def _series_report(s: Series, goal: Goal, found: list[Finding], plan: JudgePlan) -> SeriesReport:
    n = len(s)
    finite = np.isfinite(s.values)
    best_step: int | None = None
    best_value: float | None = None
    if goal is not None and finite.any():
        vals = np.where(finite, s.values, np.inf if goal == "min" else -np.inf)
        i = int(np.argmin(vals) if goal == "min" else np.argmax(vals))
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
