"""Sweeps: ``report`` over thousands to millions of runs, on all cores or a Dask cluster.

The unit of work is a run group (:func:`~tbplateau.pairing.run_groups`): a
validation run travels with its training sibling, every other run alone, and
analysing groups apart gives exactly the analysis of the whole logdir. Groups are
packed into tasks of about 64 MB of event data or a few hundred runs
(:func:`plan_tasks`). A worker reads its task's runs (remote files fetched
concurrently) and sends back each run's JSON; the client merges them in run order,
holding only what waits on an earlier run, so memory does not grow with the sweep.

A task that fails (a worker died, a detector raised) is retried group by group,
alone; a group that fails again comes back as an ``unreadable`` read issue on each
of its runs: never a crash, never a silent gap. Tasks carry names and options only:
workers read with the credentials of their own environment.

>>> import tempfile
>>> Sweep(tempfile.mkdtemp())  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
tbplateau.errors.NoEventFilesError: no event files (*tfevents*) under /tmp/...
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence

from tbplateau.detectors import Detector
from tbplateau.findings import FindingKind
from tbplateau.goals import GoalOverride
from tbplateau.sweep._clients import LocalPool, dask_client, default_workers, parse_dask_address
from tbplateau.sweep._engine import TASK_BYTES, TASK_RUNS, Sweep, SweepStats, plan_tasks
from tbplateau.sweep._listing import (
    Listing,
    RunEntry,
    list_logdir,
    listing_from_manifest,
    read_manifest,
)
from tbplateau.sweep._output import Summary, json_chunks, jsonl_lines, run_report
from tbplateau.sweep._task import Task, TaskResult, run_task

__all__ = [
    "TASK_BYTES",
    "TASK_RUNS",
    "Listing",
    "LocalPool",
    "RunEntry",
    "Summary",
    "Sweep",
    "SweepStats",
    "Task",
    "TaskResult",
    "analyze_iter",
    "dask_client",
    "default_workers",
    "json_chunks",
    "jsonl_lines",
    "list_logdir",
    "listing_from_manifest",
    "parse_dask_address",
    "plan_tasks",
    "read_manifest",
    "run_report",
    "run_task",
]


def analyze_iter(
    logdir: str | os.PathLike[str],
    *,
    client: object = None,
    goals: Sequence[str | GoalOverride] = (),
    detectors: Mapping[FindingKind, Detector] | None = None,
    runs: Iterable[str] | None = None,
) -> Sweep:
    """Analyse ``logdir`` run group by run group; iterate the result for each run's report.

    ``client`` is a ``distributed.Client``, any :class:`concurrent.futures.Executor`
    (such as :class:`LocalPool`), or ``None`` to work here, one task at a time.
    ``runs`` names the runs to read (a manifest), skipping the listing of the logdir.
    Reports come in run order, each as soon as it and every run before it are done;
    they are the reports :func:`tbplateau.analyze` gives, without the curves.
    """
    return Sweep(logdir, client=client, goals=goals, detectors=detectors, runs=runs)
