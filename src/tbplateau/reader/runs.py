"""Reading given runs, without discovering the logdir; and whole logdirs, run by run, in a pool.

:func:`read_runs` reads the runs it is given (their event files listed already), as
:func:`~tbplateau.reader.read_logdir` would read them: the same series and the same
read issues. Sweep workers use it, each on its own runs.

:func:`read_in_pool` is ``read_logdir`` on a pool of processes for large local logdirs:
each worker reads and builds whole runs (:func:`read_runs` on a slice of them) and
sends back finished runs, rather than sending every file's scan columns to be merged
here, one future per file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from tbplateau.reader._pool import die_with_parent
from tbplateau.reader.discover import FileSystem, RemoteFileSystem, RunFiles, filesystem_for
from tbplateau.reader.logdir import (
    _build_run,
    _FileState,
    _pool_context,
    _relative,
    _scan_serial,
    _unreadable,
    _with_dir_issues,
)
from tbplateau.reader.model import Logdir, ReadIssue, Run

__all__ = ["TASKS_PER_WORKER", "read_in_pool", "read_runs"]

TASKS_PER_WORKER = 4
"""A pooled read cuts the runs into this many slices per worker (by bytes)."""


def _first_stat(fs: FileSystem, f: _FileState, size: int | None) -> bool:
    """Size a file not read yet, as ``LogdirReader`` does; False when it cannot be."""
    if size is not None and not fs.is_local:
        f.size = size  # the listing's: no request per file
        if isinstance(fs, RemoteFileSystem):
            fs.remember(f.path, size)
        return True
    try:
        f.size, f.version = fs.stat(f.path)
    except OSError as exc:
        f.unreadable = _unreadable(f, exc)
        return False
    return True


def read_runs(
    logdir: str | os.PathLike[str],
    runs: Iterable[RunFiles],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Logdir:
    """Read ``runs`` of ``logdir``: each with its event files (full paths, as listed).

    No listing: the logdir is not walked, and a remote one is not even checked
    (sizes given in ``RunFiles.sizes`` spare a request per file). A file that cannot
    be read is an ``unreadable`` read issue of its run. Runs come back sorted by name.
    """
    fs = filesystem_for(logdir, check=False)
    states: list[tuple[str, list[_FileState]]] = []
    todo: list[_FileState] = []
    for run in sorted(runs, key=lambda r: r.name):
        sizes: Sequence[int | None] = run.sizes
        if len(sizes) != len(run.files):
            sizes = [None] * len(run.files)
        files = []
        for path, size in zip(run.files, sizes, strict=True):
            f = _FileState(path=path, rel=_relative(fs.root, path))
            files.append(f)
            if _first_stat(fs, f, size):
                todo.append(f)
        states.append((run.name, sorted(files, key=lambda f: f.rel)))
    scans = _scan_serial(fs, todo, progress or (lambda done, total: None))
    for f, scan in zip(todo, scans, strict=True):
        if isinstance(scan, ReadIssue):
            f.unreadable = scan
        else:
            f.apply(scan)
    built = tuple(_build_run(name, files) for name, files in states if files)
    return Logdir(os.fspath(logdir), built)


def _read_slice(logdir: str, runs: list[RunFiles]) -> list[Run]:
    """Worker entry point: read and build some runs (a module-level function)."""
    return list(read_runs(logdir, runs).runs)


def _slices(runs: Sequence[RunFiles], sizes: Sequence[int], n: int) -> list[list[RunFiles]]:
    """``runs`` cut into about ``n`` consecutive slices of similar bytes."""
    target = max(1, sum(sizes) // max(1, n))
    out: list[list[RunFiles]] = []
    current: list[RunFiles] = []
    acc = 0
    for run, size in zip(runs, sizes, strict=True):
        current.append(run)
        acc += size
        if acc >= target:
            out.append(current)
            current, acc = [], 0
    if current:
        out.append(current)
    return out


def read_in_pool(
    logdir: str,
    runs: Sequence[RunFiles],
    sizes: Sequence[int],
    issues: Sequence[ReadIssue],
    *,
    workers: int,
    progress: Callable[[int, int], None] | None = None,
) -> Logdir:
    """``read_logdir`` of a local logdir whose ``runs`` were discovered, on ``workers``
    processes that die with this one."""
    report = progress or (lambda done, total: None)
    n_files = sum(len(r.files) for r in runs)
    report(0, n_files)
    slices = _slices(runs, sizes, workers * TASKS_PER_WORKER)
    built: list[Run] = []
    done = 0
    with ProcessPoolExecutor(
        max_workers=min(workers, len(slices)),
        mp_context=get_context(_pool_context()),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    ) as ex:
        futures = [ex.submit(_read_slice, logdir, s) for s in slices]
        for part, fut in zip(slices, futures, strict=True):
            built.extend(fut.result())
            done += sum(len(r.files) for r in part)
            report(done, n_files)
    return Logdir(logdir, _with_dir_issues(built, issues))
