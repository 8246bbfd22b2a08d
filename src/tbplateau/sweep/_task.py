"""The unit of work of a sweep, and what a worker does with it.

A :class:`Task` names whole run groups (:func:`~tbplateau.pairing.run_groups`: a
validation run travels with its training sibling) and where to read them. It holds
names and options only: no data, no filesystem object, no credentials. A worker
reads the task's runs, analyses group by group and sends back the JSON of each
selected run (one element of the ``runs`` array of ``tbplateau.report/1``, its words
written with the group's curves at hand), never ``Report`` objects, which carry the
curves.

A group whose reading or analysis raises does not sink the task: each of its runs
comes back with an ``unreadable`` read issue naming the error, and no series.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from tbplateau.analysis import analyze_runs
from tbplateau.curves import attach
from tbplateau.detectors import Detector
from tbplateau.findings import FindingKind
from tbplateau.goals import GoalOverride, compile_pattern
from tbplateau.reader.discover import FETCH_THREADS, RunFiles, filesystem_for
from tbplateau.reader.model import Logdir, Problem, ReadIssue, Run
from tbplateau.reader.runs import read_runs
from tbplateau.report import Report, RunReport, report_document
from tbplateau.selection import Selection
from tbplateau.sweep._listing import RunEntry, list_run

__all__ = [
    "Task",
    "TaskResult",
    "failed_run_json",
    "run_task",
    "runs_json",
    "worker_version",
]


@dataclass(frozen=True)
class Task:
    """Whole run groups of one logdir, to be read and analysed together.

    ``select_runs`` and ``select_tags`` are patterns of the pattern language
    (:func:`~tbplateau.goals.compile_pattern`), as ``report --runs/--tags`` take them:
    the runs and series reported (the others of a group are still read and lend their
    curves, as they do to ``report``).
    """

    index: int
    root: str
    local: bool
    groups: tuple[tuple[RunEntry, ...], ...]
    goals: tuple[str | GoalOverride, ...] = ()
    detectors: Mapping[FindingKind, Detector] | None = None
    isolated: bool = False
    """A retry of one group alone, after the task holding it failed."""
    select_runs: str | None = None
    select_tags: str | None = None

    @property
    def names(self) -> list[str]:
        """Every run read."""
        return [r.name for g in self.groups for r in g]

    @property
    def wanted(self) -> list[str]:
        """The runs reported."""
        ok = _matcher(self.select_runs)
        return [n for n in self.names if ok(n)]

    @property
    def nbytes(self) -> int:
        return sum(max(0, r.nbytes) for g in self.groups for r in g)

    def split(self) -> list[Task]:
        """One isolated task per group (to find the group that made a task fail)."""
        return [replace(self, groups=(g,), isolated=True) for g in self.groups]


@dataclass
class TaskResult:
    """What a worker sends back: each reported run's JSON, in task order, and the cost."""

    version: str
    runs: list[tuple[str, str]]
    read_s: float = 0.0
    analyze_s: float = 0.0
    cpu_s: float = 0.0
    nbytes: int = 0
    series: int = 0
    points: int = 0
    failed_groups: int = 0
    errors: list[str] = field(default_factory=list)


def _matcher(pattern: str | None) -> Callable[[str], bool]:
    return (lambda name: True) if pattern is None else compile_pattern(pattern)


def worker_version() -> str:
    """The tbplateau version and report schema of the process that runs this."""
    from tbplateau import __version__
    from tbplateau.report import REPORT_SCHEMA

    return f"{__version__} ({REPORT_SCHEMA})"


def runs_json(report: Report) -> list[tuple[str, str]]:
    """Each run's element of the document's ``runs`` array, as compact JSON text.

    The words (verdict, advice) are those of the whole report's document: they depend
    on the run's group only, whose curves ``report`` must carry.
    """
    doc = report_document(report)
    return [(r["run"], json.dumps(r, allow_nan=False)) for r in doc["runs"]]


def failed_run_json(name: str, error: str, issues: Sequence[ReadIssue] = ()) -> str:
    """A run whose reading or analysis failed: its read issues, then one naming ``error``."""
    issue = ReadIssue(name, 0, Problem.UNREADABLE, f"{name}: {error}")
    return runs_json(Report("", (RunReport(name, (*issues, issue), (), ()),)))[0][1]


def _error(what: str, exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{what} failed: {type(exc).__name__}" + (f": {text}" if text else "")


def _read(task: Task, entries: Sequence[RunEntry]) -> dict[str, Run]:
    """The runs ``entries`` of ``task``'s logdir, by name (with this worker's credentials)."""
    fs = filesystem_for(task.root, check=False)
    unlisted = sum(1 for e in entries if not e.files)
    if fs.is_local or unlisted < 2:
        listed = [list_run(fs, e) for e in entries]
    else:  # runs from a manifest on a store: list their directories many at a time
        with ThreadPoolExecutor(min(FETCH_THREADS, unlisted)) as pool:
            listed = list(pool.map(lambda e: list_run(fs, e), entries))
    runs = {
        r.name: r for r in read_runs(task.root, [f for f in listed if isinstance(f, RunFiles)]).runs
    }
    for entry, found in zip(entries, listed, strict=True):
        if isinstance(found, ReadIssue):
            runs[entry.name] = Run(entry.name, (), (), (), (found,), 0)
    return runs


def _selected(task: Task, reports: Sequence[RunReport]) -> tuple[RunReport, ...]:
    """The reports of the selected runs, with the selected series only (as ``report``)."""
    select = Selection(task.select_runs, task.select_tags)
    return select.filter(Report("", tuple(reports))).runs


def run_task(task: Task) -> TaskResult:
    """Read and analyse ``task``'s runs (the function workers run)."""
    cpu0 = time.process_time()
    result = TaskResult(worker_version(), [])
    entries = [r for g in task.groups for r in g]
    t0 = time.perf_counter()
    runs: dict[str, Run] = {}
    try:
        runs = _read(task, entries)
        result.nbytes = task.nbytes
    except Exception as exc:  # read group by group below, to confine the failure
        result.errors.append(_error("reading", exc))
    result.read_s = time.perf_counter() - t0
    for group in task.groups:
        result.runs.extend(_run_group(task, group, runs, result))
    del runs
    # the detectors' memo on each series is a reference cycle: free this task's curves
    # now rather than when the collector next gets round to them (memory stays flat)
    gc.collect()
    result.cpu_s = time.process_time() - cpu0
    return result


def _run_group(
    task: Task, group: Sequence[RunEntry], runs: Mapping[str, Run], result: TaskResult
) -> list[tuple[str, str]]:
    names = [r.name for r in group]
    ok = _matcher(task.select_runs)
    wanted = {n for n in names if ok(n)}
    have = [runs[n] for n in names if n in runs]
    if len(have) < len(names):
        t0 = time.perf_counter()
        try:
            have = [_read(task, group)[n] for n in names]
        except Exception as exc:
            result.failed_groups += 1
            result.errors.append(_error("reading", exc))
            return [(n, failed_run_json(n, _error("reading", exc))) for n in names if n in wanted]
        finally:
            result.read_s += time.perf_counter() - t0
    t0 = time.perf_counter()
    try:
        reports = analyze_runs(have, goals=task.goals, detectors=task.detectors)
        curves = Logdir("", tuple(have))
        out = runs_json(attach(Report("", _selected(task, reports)), curves))
    except Exception as exc:  # one group's failure is a value in its runs' reports
        result.failed_groups += 1
        result.errors.append(_error("analysis", exc))
        out = [
            (r.name, failed_run_json(r.name, _error("analysis", exc), r.read_issues))
            for r in have
            if r.name in wanted
        ]
    result.analyze_s += time.perf_counter() - t0
    result.series += sum(len(r.series) for r in have)
    result.points += sum(r.points for r in have)
    return out
