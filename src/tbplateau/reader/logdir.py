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
from tbplateau.reader._pool import die_with_parent
from tbplateau.reader.discover import FileSystem, RunFiles, discover_runs, filesystem_for
from tbplateau.reader.model import Logdir, Problem, ReadIssue, Run, TagInfo
from tbplateau.reader.scan import Damage, FileScan, TagState, scan_file
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
    damage: Damage | None = None
    size: int = 0
    scanned: bool = False
    scanned_size: int = 0
    """The file's size when the last scan ended (a scan is due once it grows)."""
    version: object = None
    """The filesystem's version key of the file (inode and mtime, locally)."""
    tags: TagState = field(default_factory=TagState)
    scans: list[FileScan] = field(default_factory=list)
    issues: list[ReadIssue] = field(default_factory=list)
    tail_issues: list[ReadIssue] = field(default_factory=list)
    records: int = 0
    foreign: int = 0
    first_foreign: int = -1
    session_starts: int = 0
    file_version: str | None = None
    head: bytes = b""
    before_offset: bytes = b""
    unreadable: ReadIssue | None = None
    generation: int = 0
    """How many times the file was read again from the start (rewritten or replaced)."""

    def reset(self) -> None:
        fresh = _FileState(self.path, self.rel, generation=self.generation + 1)
        self.__dict__.update(fresh.__dict__)

    def apply(self, scan: FileScan) -> None:
        self.unreadable = None
        if scan.start == 0:
            self.head = scan.head
        self.scanned = True
        self.offset = scan.offset
        self.damage = scan.damage
        self.before_offset = scan.before_offset
        self.size = max(self.size, scan.size)
        self.scanned_size = scan.size
        self.tags = scan.state
        if scan.steps.shape[0] or scan.others.shape[0]:
            self.scans.append(scan)
        self.issues.extend(_issue(self.rel, i) for i in scan.issues)
        self.tail_issues = [_issue(self.rel, i) for i in scan.tail_issues]
        self.records += scan.records
        if scan.foreign and self.first_foreign < 0:
            self.first_foreign = scan.first_foreign
        self.foreign += scan.foreign
        self.session_starts += scan.session_starts
        if self.file_version is None:
            self.file_version = scan.file_version

    def read_issues(self) -> list[ReadIssue]:
        if self.unreadable is not None:
            return [self.unreadable]
        found = [*self.issues, *self.tail_issues]
        if self.records == 0:
            whole_file_bad = self.size == 0 or any(
                i.offset == 0 and i.problem is Problem.CORRUPT for i in found
            )
            if whole_file_bad:
                return [ReadIssue(self.rel, 0, Problem.NOT_EVENT_FILE, self._not_event_message())]
        elif self.foreign == self.records:
            return [
                ReadIssue(
                    self.rel,
                    0,
                    Problem.NOT_EVENT_FILE,
                    f"{self.rel}: a TFRecord file, but none of its {self.records} records "
                    "is a TensorFlow Event (another protobuf, e.g. tf.Example data)",
                ),
                *found,
            ]
        elif self.foreign:
            found.append(
                ReadIssue(
                    self.rel,
                    self.first_foreign,
                    Problem.CORRUPT,
                    f"{self.rel}: {self.foreign} of {self.records} records hold no Event field "
                    f"(the first at offset {self.first_foreign}); they were skipped",
                )
            )
        return found

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


def _scan_path(path: str, start: int, damage: Damage | None, state: TagState) -> FileScan:
    """Worker entry point: scan a local file (must be a module-level function)."""
    return scan_file(lambda: open(path, "rb"), start=start, damage=damage, state=state)


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
        self._forget_vanished(runs, issues)
        for run in runs:
            state = self._runs.setdefault(run.name, _RunState(run.name))
            for path in run.files:
                if path not in state.files:
                    state.files[path] = _FileState(path=path, rel=self._relative(path))
        return runs

    def _forget_vanished(self, runs: list[RunFiles], issues: list[ReadIssue]) -> None:
        """Drop the runs whose directory (or every event file in it) is gone.

        TensorBoard drops a run whose directory vanished, and so does a fresh read, so
        a long-lived reader does too. A run under a directory that could not be listed
        this time is kept: it may still be there.
        """
        found = {run.name for run in runs}
        unlisted = [i.file for i in issues]
        for name in [n for n in self._runs if n not in found]:
            if not any(d == "." or name == d or name.startswith(d + "/") for d in unlisted):
                del self._runs[name]

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
                if self._due(fstate):
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

    def _due(self, fstate: _FileState) -> bool:
        """Whether the file must be scanned now; resets it when it was replaced."""
        try:
            size, version = self._fs.stat(fstate.path)
            changed = version != fstate.version or size != fstate.scanned_size
            if (
                fstate.scanned
                and changed
                and (size < fstate.scanned_size or not self._same_content(fstate))
            ):
                fstate.reset()  # rewritten or replaced: read it again from the start
        except OSError as exc:
            fstate.unreadable = self._unreadable(fstate, exc)
            return False
        fstate.version = version
        if fstate.scanned and size <= fstate.scanned_size:
            return False
        fstate.size = size
        return True

    def _same_content(self, fstate: _FileState) -> bool:
        """Whether the file still starts with what was read and holds it up to the offset.

        Like TensorBoard's ``--detect_file_replacement``: a file replaced by a longer copy
        of itself (an rsync without ``--inplace``) is read on from the same offset, any
        other replacement from the start.
        """
        if fstate.offset == 0:
            return True
        before = fstate.before_offset
        with self._fs.open(fstate.path) as fh:
            head = fh.read(len(fstate.head))
            fh.seek(fstate.offset - len(before))
            tail = fh.read(len(before))
        return head == fstate.head and tail == before

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
                max_workers=min(self.workers, len(files)),
                mp_context=ctx,
                initializer=die_with_parent,
                initargs=(os.getpid(),),
            ) as ex:
                futures = [ex.submit(_scan_path, f.path, f.offset, f.damage, f.tags) for f in files]
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
                        damage=f.damage,
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
            f.rel,
            0,
            Problem.UNREADABLE,
            f"{f.rel}: cannot read file: {getattr(exc, 'strerror', None) or exc}",
        )

    def _new_series(self, run: _RunState, fstate: _FileState, scan: FileScan) -> list[Series]:
        files = run.ordered()
        plugins = _run_plugins(files)
        display = _tag_names(files)
        out = []
        for tid in np.unique(scan.tag_ids):
            raw = fstate.tags.tag_names[int(tid)]
            tag = display[raw]
            sel = scan.tag_ids == tid
            enc = scan.encodings[sel]
            keep = (enc == 0) | (plugins.get(raw) == _SCALARS_PLUGIN)
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

    def fingerprints(self) -> dict[str, tuple[object, ...]]:
        """A cheap key per run of what has been read from it, without building anything.

        When a run's key is unchanged between two calls, so is its :meth:`snapshot`;
        long-lived readers (``watch``, the TensorBoard tab) rebuild only the runs whose
        key changed. The logdir's own directory issues count as part of run ``"."``.
        """
        out: dict[str, tuple[object, ...]] = {
            name: tuple(
                (
                    f.rel,
                    f.generation,
                    f.offset,
                    f.size,
                    f.records,
                    f.foreign,
                    len(f.scans),
                    len(f.issues),
                    tuple(f.tail_issues),
                    f.unreadable,
                )
                for f in state.ordered()
            )
            for name, state in self._runs.items()
            if state.files
        }
        if self._dir_issues:
            out["."] = (*out.get(".", ()), tuple(self._dir_issues))
        return out

    def snapshot(self, runs: Iterable[str] | None = None) -> Logdir:
        """Everything read so far, restarts resolved.

        With ``runs``, only the runs of those names are built (names not known are
        left out), for callers that keep the other runs from an earlier snapshot.
        """
        wanted = None if runs is None else set(runs)
        built = [
            _build_run(name, state.ordered())
            for name, state in sorted(self._runs.items())
            if state.files and (wanted is None or name in wanted)
        ]
        return Logdir(self.logdir, self._with_root_issues(built, wanted))

    def _with_root_issues(self, runs: list[Run], wanted: set[str] | None) -> tuple[Run, ...]:
        """``runs`` with the logdir's directory issues on run ``"."`` (made if needed)."""
        if self._dir_issues and (wanted is None or "." in wanted):
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
        return tuple(runs)


def _encoding_label(enc: npt.NDArray[np.uint8]) -> str:
    if enc.size == 0 or not enc.any():
        return "simple_value"
    return "tensor" if enc.all() else "mixed"


def _run_plugins(files: Iterable[_FileState]) -> dict[bytes, bytes]:
    """Plugin of each tag (by its raw name): from the first metadata met, in file order."""
    plugins: dict[bytes, bytes] = {}
    for f in files:
        for tid, plugin in f.tags.plugins.items():
            plugins.setdefault(f.tags.tag_names[tid], plugin)
    return plugins


def _tag_names(files: Iterable[_FileState]) -> dict[bytes, str]:
    """The name shown for each raw tag name of a run: distinct raw names stay distinct.

    A name that is not valid UTF-8 is shown with its undecodable bytes escaped
    (``b"loss\\xff"`` -> ``loss\\xff``); should that text be some other tag's name,
    it is marked ``(invalid UTF-8)`` (and numbered if need be). Valid names keep
    their text.
    """
    raws = list(dict.fromkeys(t for f in files for t in f.tags.tag_names))
    names: dict[bytes, str] = {}
    invalid: list[bytes] = []
    for raw in raws:
        try:
            names[raw] = raw.decode("utf-8")
        except UnicodeDecodeError:
            invalid.append(raw)
    taken = set(names.values())
    for raw in invalid:
        text = raw.decode("utf-8", "backslashreplace")
        candidate, n = text, 1
        while candidate in taken:
            candidate = f"{text} (invalid UTF-8)" if n == 1 else f"{text} (invalid UTF-8 {n})"
            n += 1
        names[raw] = candidate
        taken.add(candidate)
    return names


def _name_issues(f: _FileState, display: dict[bytes, str]) -> list[ReadIssue]:
    out = []
    for raw, offset in zip(f.tags.tag_names, f.tags.tag_offsets, strict=True):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            out.append(
                ReadIssue(
                    f.rel,
                    offset,
                    Problem.CORRUPT,
                    f"{f.rel}: tag name {raw!r} (first in the record at offset {offset}) is "
                    f"not valid UTF-8; read as {display[raw]!r}",
                )
            )
    return out


def _build_run(name: str, files: list[_FileState]) -> Run:
    plugins = _run_plugins(files)
    display = _tag_names(files)
    tag_ids: dict[bytes, int] = {}
    parts: list[tuple[npt.NDArray[np.int32], FileScan]] = []
    other_counts: dict[tuple[str, str], int] = {}
    for f in files:
        names = f.tags.tag_names
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
                    raw = names[code // 8]
                    tag = display[raw]
                    kind = code % 8
                    label = _KIND_LABELS[kind]
                    plugin = plugins.get(raw, b"")
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
            raw = names_by_id[int(rid[chunk[0]])]
            tag = display[raw]
            enc = encs[chunk]
            scalar = (enc == 0) | (plugins.get(raw) == _SCALARS_PLUGIN)
            dropped = int((~scalar).sum())
            if dropped:
                label = plugins.get(raw, b"").decode("utf-8", "replace") or "tensor"
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
    issues = tuple(i for f in files for i in (*f.read_issues(), *_name_issues(f, display)))
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
        raise NoEventFilesError(_no_event_files_message(os.fspath(logdir), result.read_issues))
    return result


def _no_event_files_message(logdir: str, issues: Sequence[ReadIssue]) -> str:
    """Why nothing was found: an unreadable logdir is not an empty one."""
    unlisted = [i for i in issues if i.problem is Problem.UNREADABLE]
    for issue in unlisted:
        if issue.file == ".":
            reason = issue.message.rsplit(": ", 1)[-1]
            return f"cannot list logdir {logdir}: {reason.lower()}; no event files could be read"
    message = f"no event files (*tfevents*) under {logdir}"
    if unlisted:
        message += (
            f"; {len(unlisted)} director{'y' if len(unlisted) == 1 else 'ies'} could not be "
            f"listed ({unlisted[0].message})"
        )
    return message
