"""Reading a whole logdir: discovery, parallel scanning, run merging, restarts.

:func:`read_logdir` reads everything once. :class:`LogdirReader` keeps the state
of every file, so that :meth:`LogdirReader.poll` later reads only what was appended
since (``watch`` uses it); a partial last record is held back until it is complete.

Restarted runs: within a run, a scalar record whose step goes back to or before a
step already kept for its tag replaces the kept records from that step on, so the
newest write of a step wins (TensorBoard's intent with its purge of orphaned
data). Equivalently, a point is kept iff every later point of the tag has a larger
step. A series whose steps never advance (all points at one step) is kept whole, in
record order.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

import numpy as np
import numpy.typing as npt

from tbplateau.errors import InvalidParameterError, NoEventFilesError
from tbplateau.reader import _scan_py
from tbplateau.reader.discover import FileSystem, RunFiles, discover_runs, filesystem_for
from tbplateau.reader.model import Logdir, Problem, ReadIssue, Run, TagInfo
from tbplateau.reader.scan import FileScan, TagState, scan_file
from tbplateau.series import Series

__all__ = ["LogdirReader", "read_logdir", "restart_keep_mask"]

PARALLEL_MIN_BYTES = 128 << 20
"""Below this many bytes to read, a pool of processes costs more than it saves.

Measured on 2 cores (benchmarks/bench_reader.py, 200 files, 75 MB): the pool's fork
and the transfer of results back made the read slower, not faster, so the pool is
only used for larger logdirs, where scanning dominates.
"""

_KIND_LABELS = {
    _scan_py.KIND_NONE: "none",
    _scan_py.KIND_HISTOGRAM: "histogram",
    _scan_py.KIND_IMAGE: "image",
    _scan_py.KIND_AUDIO: "audio",
    _scan_py.KIND_TENSOR: "tensor",
}
_SCALARS_PLUGIN = b"scalars"
_INT64_MAX = np.iinfo(np.int64).max


def restart_keep_mask(steps: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Which points of one tag (in record order) survive restarts.

    A point is kept iff every later point has a strictly larger step, i.e. no later
    write went back to or before its step. A series whose steps never advance is
    kept whole.

    >>> restart_keep_mask(np.array([0, 1, 2, 3, 1, 2, 5])).tolist()
    [True, False, False, False, True, True, True]
    >>> restart_keep_mask(np.array([0, 0, 0])).tolist()
    [True, True, True]
    """
    n = steps.shape[0]
    if n == 0:
        return np.zeros(0, dtype=bool)
    if steps.min() == steps.max():
        return np.ones(n, dtype=bool)
    later_min = np.empty(n, dtype=np.int64)
    later_min[-1] = _INT64_MAX
    if n > 1:
        later_min[:-1] = np.minimum.accumulate(steps[::-1])[::-1][1:]
    keep: npt.NDArray[np.bool_] = steps < later_min
    keep[-1] = True
    return keep


def _issue(rel: str, raw: tuple[int, str, str]) -> ReadIssue:
    offset, problem, message = raw
    return ReadIssue(
        file=rel, offset=int(offset), problem=Problem(problem), message=f"{rel}: {message}"
    )


@dataclass
class _FileState:
    path: str
    rel: str
    offset: int = 0
    resyncing: bool = False
    size: int = 0
    tags: TagState = field(default_factory=TagState)
    scans: list[FileScan] = field(default_factory=list)
    issues: list[ReadIssue] = field(default_factory=list)
    tail_issues: list[ReadIssue] = field(default_factory=list)
    records: int = 0
    session_starts: int = 0
    file_version: str | None = None
    head: bytes = b""
    unreadable: ReadIssue | None = None

    def reset(self) -> None:
        fresh = _FileState(self.path, self.rel)
        self.__dict__.update(fresh.__dict__)

    def apply(self, scan: FileScan) -> None:
        self.unreadable = None
        if scan.start == 0:
            self.head = scan.head
        self.offset = scan.offset
        self.resyncing = scan.resyncing
        self.size = max(self.size, scan.size)
        self.tags = scan.state
        if scan.steps.shape[0] or scan.others.shape[0]:
            self.scans.append(scan)
        self.issues.extend(_issue(self.rel, i) for i in scan.issues)
        self.tail_issues = [_issue(self.rel, i) for i in scan.tail_issues]
        self.records += scan.records
        self.session_starts += scan.session_starts
        if self.file_version is None:
            self.file_version = scan.file_version

    def read_issues(self) -> list[ReadIssue]:
        if self.unreadable is not None:
            return [self.unreadable]
        if self.records == 0:
            whole_file_bad = self.size == 0 or any(
                i.offset == 0 and i.problem is Problem.CORRUPT for i in self.issues
            )
            if whole_file_bad:
                return [ReadIssue(self.rel, 0, Problem.NOT_EVENT_FILE, self._not_event_message())]
        return [*self.issues, *self.tail_issues]

    def _not_event_message(self) -> str:
        if self.size == 0:
            return f"{self.rel}: empty file (0 bytes), not an event file"
        if self.head.startswith(b"version https://git-lfs"):
            return (
                f"{self.rel}: Git LFS pointer file, not event data "
                "(fetch the real file with `git lfs pull`)"
            )
        return f"{self.rel}: not a TFRecord event file (starts with {self.head[:16]!r})"


@dataclass
class _RunState:
    name: str
    files: dict[str, _FileState] = field(default_factory=dict)

    def ordered(self) -> list[_FileState]:
        return [self.files[k] for k in sorted(self.files, key=lambda p: self.files[p].rel)]


def _scan_path(path: str, start: int, resyncing: bool, state: TagState) -> FileScan:
    """Worker entry point: scan a local file (must be a module-level function)."""
    return scan_file(lambda: open(path, "rb"), start=start, resyncing=resyncing, state=state)


def _pool_context() -> str:
    # fork is cheapest, but unsafe once the process has threads.
    if os.name == "posix" and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class LogdirReader:
    """Reads a logdir, then only what was appended to it since the last read.

    >>> import tempfile
    >>> reader = LogdirReader(tempfile.mkdtemp())
    >>> reader.poll(), len(reader.snapshot())
    ((), 0)
    """

    def __init__(
        self,
        logdir: str | os.PathLike[str],
        *,
        workers: int | None = None,
        parallel_min_bytes: int = PARALLEL_MIN_BYTES,
    ) -> None:
        if workers is not None and workers < 1:
            raise InvalidParameterError(f"workers must be at least 1, got {workers}")
        self.logdir = os.fspath(logdir)
        self.workers = workers if workers is not None else _default_workers()
        self.parallel_min_bytes = parallel_min_bytes
        self._fs: FileSystem = filesystem_for(self.logdir)
        self._runs: dict[str, _RunState] = {}
        self._dir_issues: list[ReadIssue] = []

    def _relative(self, path: str) -> str:
        root = self._fs.root.rstrip("/\\")
        rel = path[len(root) :].lstrip("/\\") if path.startswith(root) else path
        return rel.replace(os.sep, "/")

    def _discover(self) -> list[RunFiles]:
        runs, issues = discover_runs(self._fs)
        self._dir_issues = issues
        for run in runs:
            state = self._runs.setdefault(run.name, _RunState(run.name))
            for path in run.files:
                if path not in state.files:
                    state.files[path] = _FileState(path=path, rel=self._relative(path))
        return runs

    def poll(
        self, *, collect: bool = True, progress: Callable[[int, int], None] | None = None
    ) -> tuple[Series, ...]:
        """Read what was written since the last call; return the new points of each series.

        The points are returned in record order, before restart resolution (a restart
        shows as a step that goes back); :meth:`snapshot` gives the resolved series.
        With ``collect=False`` nothing is returned (saves the copies when only the
        snapshot is wanted). ``progress(files_done, files_total)`` is called as files
        are read (for a progress bar).
        """
        self._discover()
        todo: list[tuple[_RunState, _FileState]] = []
        for run in self._runs.values():
            for fstate in run.ordered():
                try:
                    size = self._fs.size(fstate.path)
                except (OSError, FileNotFoundError) as exc:
                    fstate.unreadable = ReadIssue(
                        fstate.rel,
                        0,
                        Problem.UNREADABLE,
                        f"{fstate.rel}: cannot read file: {getattr(exc, 'strerror', None) or exc}",
                    )
                    continue
                if size < fstate.size or size < fstate.offset:
                    fstate.reset()  # the file was rewritten from scratch
                if size > fstate.offset or (size == 0 and fstate.records == 0):
                    fstate.size = size
                    todo.append((run, fstate))
        scans = self._scan_all([f for _, f in todo], progress)
        new_points: list[Series] = []
        for (run, fstate), scan in zip(todo, scans, strict=True):
            if isinstance(scan, ReadIssue):
                fstate.unreadable = scan
                continue
            before = len(fstate.scans)
            fstate.apply(scan)
            if collect and len(fstate.scans) > before:
                new_points.extend(self._new_series(run, fstate, scan))
        return tuple(new_points)

    def _scan_all(
        self,
        files: Sequence[_FileState],
        progress: Callable[[int, int], None] | None = None,
    ) -> list[FileScan | ReadIssue]:
        report = progress or (lambda done, total: None)
        report(0, len(files))
        pending = sum(max(0, f.size - f.offset) for f in files)
        parallel = (
            self._fs.is_local
            and self.workers > 1
            and len(files) > 1
            and pending >= self.parallel_min_bytes
        )
        if parallel:
            results: list[FileScan | ReadIssue] = []
            ctx = get_context(_pool_context())
            with ProcessPoolExecutor(
                max_workers=min(self.workers, len(files)), mp_context=ctx
            ) as ex:
                futures = [
                    ex.submit(_scan_path, f.path, f.offset, f.resyncing, f.tags) for f in files
                ]
                for f, fut in zip(files, futures, strict=True):
                    try:
                        results.append(fut.result())
                    except OSError as exc:
                        results.append(self._unreadable(f, exc))
                    report(len(results), len(files))
            return results
        out: list[FileScan | ReadIssue] = []
        for f in files:
            try:
                out.append(
                    scan_file(
                        functools.partial(self._fs.open, f.path),
                        start=f.offset,
                        resyncing=f.resyncing,
                        state=f.tags,
                    )
                )
            except OSError as exc:
                out.append(self._unreadable(f, exc))
            report(len(out), len(files))
        return out

    @staticmethod
    def _unreadable(f: _FileState, exc: OSError) -> ReadIssue:
        return ReadIssue(
            f.rel, 0, Problem.UNREADABLE, f"{f.rel}: cannot read file: {exc.strerror or exc}"
        )

    def _new_series(self, run: _RunState, fstate: _FileState, scan: FileScan) -> list[Series]:
        plugins = _run_plugins(run.ordered())
        names = [t.decode("utf-8", "replace") for t in fstate.tags.tag_names]
        out = []
        for tid in np.unique(scan.tag_ids):
            tag = names[int(tid)]
            sel = scan.tag_ids == tid
            enc = scan.encodings[sel]
            keep = (enc == 0) | (plugins.get(tag) == _SCALARS_PLUGIN)
            if not keep.any():
                continue
            out.append(
                Series(
                    run.name,
                    tag,
                    steps=scan.steps[sel][keep],
                    values=scan.values[sel][keep],
                    wall_times=scan.wall_times[sel][keep],
                    encoding=_encoding_label(enc[keep]),
                )
            )
        return out

    def snapshot(self) -> Logdir:
        """Everything read so far, restarts resolved."""
        runs = [
            _build_run(name, state.ordered())
            for name, state in sorted(self._runs.items())
            if state.files
        ]
        if self._dir_issues:
            root_issues = tuple(self._dir_issues)
            if runs and runs[0].name == ".":
                first = runs[0]
                runs[0] = Run(
                    first.name,
                    first.files,
                    first.series,
                    first.other_tags,
                    (*root_issues, *first.read_issues),
                    first.session_starts,
                )
            else:
                runs.insert(0, Run(".", (), (), (), root_issues, 0))
        return Logdir(self.logdir, tuple(runs))


def _encoding_label(enc: npt.NDArray[np.uint8]) -> str:
    if enc.size == 0 or not enc.any():
        return "simple_value"
    return "tensor" if enc.all() else "mixed"


def _run_plugins(files: Iterable[_FileState]) -> dict[str, bytes]:
    """Plugin of each tag: from the first metadata met, in file order."""
    plugins: dict[str, bytes] = {}
    for f in files:
        for tid, plugin in f.tags.plugins.items():
            tag = f.tags.tag_names[tid].decode("utf-8", "replace")
            plugins.setdefault(tag, plugin)
    return plugins


def _build_run(name: str, files: list[_FileState]) -> Run:
    plugins = _run_plugins(files)
    tag_ids: dict[str, int] = {}
    parts: list[tuple[npt.NDArray[np.int32], FileScan]] = []
    other_counts: dict[tuple[str, str], int] = {}
    for f in files:
        names = [t.decode("utf-8", "replace") for t in f.tags.tag_names]
        mapping = np.array([tag_ids.setdefault(t, len(tag_ids)) for t in names], dtype=np.int32)
        for scan in f.scans:
            if scan.steps.shape[0]:
                identity = mapping.shape[0] and bool((mapping == np.arange(len(mapping))).all())
                parts.append((scan.tag_ids if identity else mapping[scan.tag_ids], scan))
            if scan.others.shape[0]:
                ids, counts = np.unique(
                    scan.others[:, 0].astype(np.int64) * 8 + scan.others[:, 1], return_counts=True
                )
                for code, count in zip(ids.tolist(), counts.tolist(), strict=True):
                    tag = names[code // 8]
                    kind = code % 8
                    label = _KIND_LABELS[kind]
                    plugin = plugins.get(tag, b"")
                    if kind in (_scan_py.KIND_TENSOR, _scan_py.KIND_NONE) and plugin:
                        label = plugin.decode("utf-8", "replace")
                    other_counts[(tag, label)] = other_counts.get((tag, label), 0) + count
    names_by_id = {v: k for k, v in tag_ids.items()}
    series: list[Series] = []
    if parts:

        def column(get: Callable[[FileScan], npt.NDArray[Any]]) -> npt.NDArray[Any]:
            # one part (the common case): no copy
            if len(parts) == 1:
                return get(parts[0][1])
            return np.concatenate([get(p[1]) for p in parts])

        rid = parts[0][0] if len(parts) == 1 else np.concatenate([p[0] for p in parts])
        steps = column(lambda p: p.steps)
        values = column(lambda p: p.values)
        walls = column(lambda p: p.wall_times)
        encs = column(lambda p: p.encodings)
        counts = np.bincount(rid, minlength=len(tag_ids))
        if np.count_nonzero(counts) == 1:
            groups: list[npt.NDArray[np.intp]] = [np.arange(rid.shape[0])]
        else:
            order = np.argsort(rid, kind="stable")
            groups = np.split(order, np.cumsum(counts)[:-1])
        for chunk in groups:
            if chunk.size == 0:
                continue
            tag = names_by_id[int(rid[chunk[0]])]
            enc = encs[chunk]
            scalar = (enc == 0) | (plugins.get(tag) == _SCALARS_PLUGIN)
            dropped = int((~scalar).sum())
            if dropped:
                label = plugins.get(tag, b"").decode("utf-8", "replace") or "tensor"
                other_counts[(tag, label)] = other_counts.get((tag, label), 0) + dropped
                chunk = chunk[scalar]
                enc = enc[scalar]
            if chunk.size == 0:
                continue
            keep = restart_keep_mask(steps[chunk])
            kept = chunk[keep]
            duplicates = 0
            if kept.size < chunk.size:
                # the same step logged twice in a row with the same value is a duplicate,
                # not a restart (Lightning and HF write `epoch` once per logger call)
                cs, cv = steps[chunk], values[chunk]
                same = (cs[:-1] == cs[1:]) & (cv[:-1] == cv[1:]) & ~keep[:-1]
                duplicates = int(np.count_nonzero(same))
            series.append(
                Series(
                    name,
                    tag,
                    steps=steps[kept],
                    values=values[kept],
                    wall_times=walls[kept],
                    replaced_points=int(chunk.size - kept.size),
                    encoding=_encoding_label(enc),
                    duplicate_points=duplicates,
                    _owned=True,
                )
            )
    series.sort(key=lambda s: s.tag)
    others = tuple(TagInfo(tag, kind, count) for (tag, kind), count in sorted(other_counts.items()))
    issues = tuple(i for f in files for i in f.read_issues())
    return Run(
        name=name,
        files=tuple(f.rel for f in files),
        series=tuple(series),
        other_tags=others,
        read_issues=issues,
        session_starts=sum(f.session_starts for f in files),
    )


def read_logdir(
    logdir: str | os.PathLike[str],
    *,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Logdir:
    """Read every scalar series of every run under ``logdir``.

    ``logdir`` is a local path or any fsspec URL (with the ``remote`` extra).
    Damaged files never raise: their problems are :class:`ReadIssue` values in
    ``Run.read_issues``, and every readable record is kept. Raises
    :class:`~tbplateau.errors.LogdirNotFoundError` for a missing logdir and
    :class:`~tbplateau.errors.NoEventFilesError` when no file under it has
    ``tfevents`` in its name. ``progress(files_done, files_total)``, if given, is
    called as files are read.
    """
    reader = LogdirReader(logdir, workers=workers)
    reader.poll(collect=False, progress=progress)
    result = reader.snapshot()
    if not any(r.files for r in result.runs):
        raise NoEventFilesError(f"no event files (*tfevents*) under {os.fspath(logdir)}")
    return result
