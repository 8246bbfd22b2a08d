"""Planning a sweep into tasks, running them on a client, and merging in run order.

The client is one of: nothing (tasks run here, one after another), any
:class:`concurrent.futures.Executor` (a process pool), or a Dask
``distributed.Client``. Dask is recognised by its type's module and never imported
here. At most a few tasks per worker are in flight, and results are emitted in run
order as soon as every run before them has been: memory holds the listing, the
tasks in flight and the few results waiting for an earlier one, not the logdir.
"""

from __future__ import annotations

import functools
import json
import math
import os
import queue
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, Protocol

from tbplateau.curves import attach
from tbplateau.detectors import Detector
from tbplateau.errors import InvalidParameterError, NoEventFilesError, TbplateauError
from tbplateau.findings import FindingKind
from tbplateau.goals import GoalOverride, compile_pattern, parse_goal_override
from tbplateau.pairing import run_groups
from tbplateau.reader.logdir import _no_event_files_message
from tbplateau.reader.model import Logdir
from tbplateau.report import REPORT_SCHEMA, Report, RunReport
from tbplateau.sweep._listing import Listing, RunEntry, list_logdir, listing_from_manifest
from tbplateau.sweep._task import (
    Task,
    TaskResult,
    failed_run_json,
    run_task,
    runs_json,
    worker_version,
)

__all__ = ["TASK_BYTES", "TASK_RUNS", "Sweep", "SweepStats", "plan_tasks"]

TASK_BYTES = 64 << 20
"""A task holds about this many bytes of event data (more only for one larger group)."""

TASK_RUNS = 256
"""A task holds at most this many runs (more only for one larger group)."""

TASKS_PER_WORKER = 4
"""Small sweeps are cut into at least this many tasks per worker, to share the work."""

IN_FLIGHT_PER_WORKER = 2
"""Tasks submitted ahead per worker."""

BUFFER_BYTES = 64 << 20
"""JSON held for runs waiting on an earlier one before submission pauses."""


@dataclass
class SweepStats:
    """What a sweep did; ``read_s``, ``analyze_s`` and ``worker_cpu_s`` add up every worker."""

    workers: int = 0
    tasks: int = 0
    runs: int = 0
    series: int = 0
    points: int = 0
    nbytes: int = 0
    read_s: float = 0.0
    analyze_s: float = 0.0
    worker_cpu_s: float = 0.0
    wall_s: float = 0.0
    failed_tasks: int = 0
    failed_groups: int = 0
    retried_groups: int = 0

    def add(self, result: TaskResult) -> None:
        self.read_s += result.read_s
        self.analyze_s += result.analyze_s
        self.worker_cpu_s += result.cpu_s
        self.nbytes += result.nbytes
        self.series += result.series
        self.points += result.points
        self.failed_groups += result.failed_groups


def plan_tasks(
    listing: Listing,
    *,
    select: Callable[[str], bool] | None = None,
    workers: int = 1,
    task_runs: int = TASK_RUNS,
    task_bytes: int = TASK_BYTES,
) -> list[tuple[tuple[RunEntry, ...], ...]]:
    """Whole run groups packed into tasks, in the order of each group's first run.

    A group is kept when ``select`` accepts one of its runs (a filtered-out training
    sibling is still read: the validation run's overfitting finding needs it). A
    task closes at ``task_bytes`` of event data or ``task_runs`` runs; small sweeps
    get smaller tasks, so that every worker has several.
    """
    if task_runs < 1 or task_bytes < 1:
        raise InvalidParameterError(
            f"task_runs and task_bytes must be positive, got {task_runs} and {task_bytes}"
        )
    by_name = {r.name: r for r in listing.runs}
    groups = [
        tuple(by_name[n] for n in g)
        for g in run_groups(by_name)
        if select is None or any(select(n) for n in g)
    ]
    n_runs = sum(len(g) for g in groups)
    limit = max(1, min(task_runs, math.ceil(n_runs / max(1, workers * TASKS_PER_WORKER))))
    tasks: list[tuple[tuple[RunEntry, ...], ...]] = []
    current: list[tuple[RunEntry, ...]] = []
    runs = nbytes = 0
    for group in groups:
        size = sum(max(0, r.nbytes) for r in group)
        if current and (runs + len(group) > limit or nbytes + size > task_bytes):
            tasks.append(tuple(current))
            current, runs, nbytes = [], 0, 0
        current.append(group)
        runs += len(group)
        nbytes += size
    if current:
        tasks.append(tuple(current))
    return tasks


class _Handle(Protocol):
    def result(self, timeout: float | None = None) -> Any: ...

    def cancel(self) -> bool: ...

    def add_done_callback(self, fn: Callable[[Any], object]) -> None: ...


class _Backend:
    """Runs tasks here, synchronously; the base of the other backends."""

    name = "this process"

    @property
    def workers(self) -> int:
        return 1

    def check_version(self) -> None:
        return None

    def submit(self, task: Task) -> _Handle:
        fut: Future[TaskResult] = Future()
        try:
            fut.set_result(run_task(task))
        except Exception as exc:
            fut.set_exception(exc)
        return fut


def _version_error(where: str, theirs: object) -> TbplateauError:
    return TbplateauError(
        f"tbplateau {worker_version()} here but {theirs} on {where}: "
        "install the same tbplateau on the workers"
    )


class _ExecutorBackend(_Backend):
    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.name = "worker processes"

    @property
    def workers(self) -> int:
        n = getattr(self.executor, "_max_workers", None) or os.cpu_count() or 1
        return max(1, int(n))

    def check_version(self) -> None:
        try:
            theirs = self.executor.submit(worker_version).result()
        except Exception as exc:
            raise TbplateauError(f"cannot run tbplateau on the executor's workers: {exc}") from exc
        if theirs != worker_version():
            raise _version_error("a worker", theirs)

    def submit(self, task: Task) -> _Handle:
        return self.executor.submit(run_task, task)


class _DaskBackend(_Backend):
    def __init__(self, client: Any) -> None:
        self.client = client
        self.name = "Dask workers"
        self._token = os.urandom(4).hex()

    @property
    def workers(self) -> int:
        threads: dict[str, int] = self.client.nthreads()
        return max(1, sum(threads.values()))

    def check_version(self) -> None:
        try:
            versions: dict[str, str] = self.client.run(worker_version)
        except Exception as exc:
            raise TbplateauError(
                f"cannot run tbplateau on the Dask workers ({type(exc).__name__}: {exc}): "
                "install tbplateau on them"
            ) from exc
        if not versions:
            raise TbplateauError("the Dask cluster has no workers")
        for address, theirs in sorted(versions.items()):
            if theirs != worker_version():
                raise _version_error(f"Dask worker {address}", theirs)

    def submit(self, task: Task) -> _Handle:
        key = f"tbplateau-{self._token}-{task.index}-{os.urandom(4).hex()}"
        handle: _Handle = self.client.submit(run_task, task, key=key, pure=False)
        return handle


def _backend(client: object) -> _Backend:
    if client is None:
        return _Backend()
    if type(client).__module__.split(".")[0] == "distributed" and hasattr(client, "run"):
        return _DaskBackend(client)
    if isinstance(client, Executor):
        return _ExecutorBackend(client)
    raise InvalidParameterError(
        f"client must be a distributed.Client or a concurrent.futures.Executor, "
        f"not {type(client).__name__}"
    )


class Sweep:
    """A logdir's runs analysed task by task, on a client; iterate for the run reports.

    Listing and planning happen here, so a missing logdir or one without event files
    raises now (:class:`~tbplateau.errors.LogdirNotFoundError`,
    :class:`~tbplateau.errors.NoEventFilesError`), before any work is sent. Iterating
    yields one :class:`~tbplateau.report.RunReport` per run, in run order;
    :meth:`texts` yields each run's JSON instead. Either can be iterated once.
    ``stats`` fills in as results arrive.

    Parameters
    ----------
    client
        ``None`` (tasks run here, one after another), a ``distributed.Client`` or any
        :class:`concurrent.futures.Executor` (such as :class:`~tbplateau.sweep.LocalPool`).
    goals, detectors
        As for :func:`tbplateau.analyze`.
    runs
        Run names (a manifest): no listing of the logdir; workers list these runs.
    select_runs, select_tags
        Patterns of ``report --runs/--tags``: only these runs and series are reported
        (whole groups are still read; see :class:`~tbplateau.sweep.Task`).
    task_runs, task_bytes
        The size of a task (see :func:`plan_tasks`).
    progress
        Called as ``progress(runs_done, runs_total)`` as runs are emitted.
    """

    def __init__(
        self,
        logdir: str | os.PathLike[str],
        *,
        client: object = None,
        goals: Sequence[str | GoalOverride] = (),
        detectors: Mapping[FindingKind, Detector] | None = None,
        runs: Iterable[str] | None = None,
        select_runs: str | None = None,
        select_tags: str | None = None,
        task_runs: int = TASK_RUNS,
        task_bytes: int = TASK_BYTES,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.logdir = os.fspath(logdir)
        self._backend = _backend(client)
        overrides = tuple(parse_goal_override(g) if isinstance(g, str) else g for g in goals)
        self.detectors = None if detectors is None else dict(detectors)
        if runs is None:
            self.listing = list_logdir(self.logdir)
            if not self.listing.runs:  # the words read_logdir uses
                message = _no_event_files_message(self.logdir, self.listing.issues)
                raise NoEventFilesError(message)
        else:
            self.listing = listing_from_manifest(self.logdir, runs)
            if not self.listing.runs:
                raise InvalidParameterError(f"no run named for {self.logdir}")
        self.stats = SweepStats(workers=self._backend.workers)
        select = None if select_runs is None else compile_pattern(select_runs)
        planned = plan_tasks(
            self.listing,
            select=select,
            workers=self.stats.workers,
            task_runs=task_runs,
            task_bytes=task_bytes,
        )
        self.tasks = [
            Task(
                i,
                self.listing.root,
                self.listing.local,
                groups,
                overrides,
                self.detectors,
                select_runs=select_runs,
                select_tags=select_tags,
            )
            for i, groups in enumerate(planned)
        ]
        self.stats.tasks = len(self.tasks)
        self._select = select
        self._progress = progress
        self._used = False

    @property
    def workers(self) -> int:
        return self.stats.workers

    @property
    def backend(self) -> str:
        """Where the tasks run, in words (``this process``, ``worker processes``, ...)."""
        return self._backend.name

    def names(self) -> list[str]:
        """The runs this sweep reports on, in order."""
        names = [n for t in self.tasks for n in t.wanted]
        if self.listing.issues and "." not in {n for t in self.tasks for n in t.names}:
            keep = self._select
            if keep is None or keep("."):
                names.append(".")
        return sorted(names)

    def __iter__(self) -> Iterator[RunReport]:
        for _, text in self.texts():
            doc = {"schema": REPORT_SCHEMA, "logdir": self.logdir, "runs": [json.loads(text)]}
            yield Report.from_dict(doc).runs[0]

    def report(self) -> Report:
        """Every run in one :class:`~tbplateau.report.Report` (curves not attached)."""
        report = Report(self.logdir, tuple(self))
        # the curves stay on the workers: the views say so rather than re-read the logdir
        return attach(report, Logdir(self.logdir, ()))

    def texts(self) -> Iterator[tuple[str, str]]:
        """``(run, JSON of the run)`` in run order: one element of the report's ``runs``."""
        if self._used:
            raise RuntimeError("a Sweep can be iterated once")
        self._used = True
        return _Merge(self).run()


class _Merge:
    """The submission loop of one sweep, and the run-order merge of its results."""

    def __init__(self, sweep: Sweep) -> None:
        self.sweep = sweep
        self.backend = sweep._backend
        self.stats = sweep.stats
        self.names = sweep.names()
        self.wanted = set(self.names)
        self.task_of = {n: t.index for t in sweep.tasks for n in t.wanted}
        self.read = {n for t in sweep.tasks for n in t.names}
        self.pending: deque[Task] = deque(sweep.tasks)
        self.submitted = 0  # tasks of the plan submitted so far (they go in order)
        self.in_flight: dict[int, tuple[Task, _Handle]] = {}
        self.done: queue.Queue[int] = queue.Queue()
        self.buffer: dict[str, str] = {}
        self.buffered = 0
        self.emitted = 0
        self.serial = 0

    def run(self) -> Iterator[tuple[str, str]]:
        t0 = time.perf_counter()
        self.backend.check_version()
        report = self.sweep._progress or (lambda done, total: None)
        report(0, len(self.names))
        issues = self.sweep.listing.issues
        if issues and "." not in self.read:
            self._keep(".", runs_json(Report("", (RunReport(".", issues, (), ()),)))[0][1])
        try:
            while self.emitted < len(self.names):
                self._fill()
                if not self.in_flight:  # pragma: no cover - would be a planning bug
                    missing = self.names[self.emitted]
                    raise RuntimeError(f"run {missing!r} is in no task")
                serial = self.done.get()
                task, handle = self.in_flight.pop(serial)
                self._collect(task, handle)
                while self.emitted < len(self.names) and self.names[self.emitted] in self.buffer:
                    name = self.names[self.emitted]
                    text = self.buffer.pop(name)
                    self.buffered -= len(text)
                    self.emitted += 1
                    self.stats.runs += 1
                    yield name, text
                report(self.emitted, len(self.names))
        finally:
            for _, handle in self.in_flight.values():
                handle.cancel()
            self.stats.wall_s += time.perf_counter() - t0

    def _may_submit(self) -> bool:
        if not self.pending:
            return False
        isolated = self.pending[0].isolated or any(t.isolated for t, _ in self.in_flight.values())
        if isolated:  # retries run alone, so that one failing group cannot take others down
            return not self.in_flight
        if len(self.in_flight) >= IN_FLIGHT_PER_WORKER * self.stats.workers:
            return False
        if self.buffered < BUFFER_BYTES:
            return True
        # the buffer is full of runs waiting on an earlier one: submit until it is sent
        return self.task_of[self.names[self.emitted]] >= self.submitted

    def _fill(self) -> None:
        while self._may_submit():
            task = self.pending.popleft()
            if not task.isolated:
                self.submitted += 1
            handle = self.backend.submit(task)
            serial = self.serial
            self.serial += 1
            self.in_flight[serial] = (task, handle)
            handle.add_done_callback(functools.partial(self._finished, serial))

    def _finished(self, serial: int, _: object) -> None:
        self.done.put(serial)  # called in the client's thread, or Dask's

    def _collect(self, task: Task, handle: _Handle) -> None:
        try:
            result: TaskResult = handle.result()
        except Exception as exc:
            self._failed(task, exc)
            return
        if result.version != worker_version():
            raise _version_error("a worker", result.version)
        self.stats.add(result)
        for name, text in result.runs:
            self._put(name, text)
        for name in set(task.wanted) - {n for n, _ in result.runs}:
            self._put(name, failed_run_json(name, "analysis failed: missing from the result"))

    def _failed(self, task: Task, exc: BaseException) -> None:
        if not task.isolated:
            self.stats.retried_groups += len(task.groups)
            self.pending.extendleft(reversed(task.split()))
            return
        self.stats.failed_tasks += 1
        text = " ".join(str(exc).split())
        error = f"analysis failed on a worker: {type(exc).__name__}" + (f": {text}" if text else "")
        for name in task.wanted:
            self._put(name, failed_run_json(name, error))

    def _put(self, name: str, text: str) -> None:
        issues = self.sweep.listing.issues
        if name == "." and issues:  # directories that could not be listed: run "."
            doc = json.loads(text)
            doc["read_issues"] = [i.to_dict() for i in issues] + doc["read_issues"]
            text = json.dumps(doc, allow_nan=False)
        self._keep(name, text)

    def _keep(self, name: str, text: str) -> None:
        if name in self.wanted:
            self.buffer[name] = text
            self.buffered += len(text)
