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

import bisect
import contextlib
import functools
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
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
from tbplateau.reader.scan import Damage, FileScan, TagState, scan_bytes, scan_file
from tbplateau.series import Series

__all__ = ["LogdirReader", "read_logdir", "restart_keep_mask"]

PARALLEL_MIN_BYTES = 128 << 20
"""Below this many bytes to read, a pool of processes costs more than it saves.

Measured on 2 cores (benchmarks/bench_reader.py, 200 files, 75 MB): the pool's fork
and the transfer of results back made the read slower, not faster, so the pool is
only used for larger logdirs, where scanning dominates.
"""

FETCH_MAX_BYTES = 32 << 20
"""Remote files with at most this much to read are fetched whole, many at a time."""

FETCH_BATCH_BYTES = 64 << 20
"""Remote bytes fetched at once, at most (more only for one file)."""

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
        self._preset: tuple[list[RunFiles], list[ReadIssue]] | None = None

    def _relative(self, path: str) -> str:
        return _relative(self._fs.root, path)

    def _discover(self) -> list[RunFiles]:
        if self._preset is not None:
            (runs, issues), self._preset = self._preset, None
        else:
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
        return _scan_serial(self._fs, files, report)

    @staticmethod
    def _unreadable(f: _FileState, exc: BaseException) -> ReadIssue:
        return _unreadable(f, exc)

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
        if wanted is not None and "." not in wanted:
            return tuple(runs)
        return _with_dir_issues(runs, self._dir_issues)


def _relative(root: str, path: str) -> str:
    """``path`` relative to the logdir ``root``, '/'-separated."""
    root = root.rstrip("/\\")
    rel = path[len(root) :].lstrip("/\\") if path.startswith(root) else path
    return rel.replace(os.sep, "/")


def _with_dir_issues(runs: list[Run], issues: Sequence[ReadIssue]) -> tuple[Run, ...]:
    """``runs`` with the directories that could not be listed as issues of run ``.``."""
    if not issues:
        return tuple(runs)
    out = list(runs)
    if out and out[0].name == ".":
        first = out[0]
        out[0] = Run(
            first.name,
            first.files,
            first.series,
            first.other_tags,
            (*issues, *first.read_issues),
            first.session_starts,
        )
    else:
        out.insert(0, Run(".", (), (), (), tuple(issues), 0))
    return tuple(out)


def _unreadable(f: _FileState, exc: BaseException) -> ReadIssue:
    why = " ".join(str(getattr(exc, "strerror", None) or exc or type(exc).__name__).split())
    return ReadIssue(f.rel, 0, Problem.UNREADABLE, f"{f.rel}: cannot read file: {why}")


def _fetch_batches(files: Sequence[_FileState]) -> Iterator[list[_FileState]]:
    """Files cut into batches of at most :data:`FETCH_BATCH_BYTES` still to read."""
    batch: list[_FileState] = []
    pending = 0
    for f in files:
        size = max(0, f.size - f.offset)
        if batch and pending + size > FETCH_BATCH_BYTES:
            yield batch
            batch, pending = [], 0
        batch.append(f)
        pending += size
    if batch:
        yield batch


def _scan_serial(
    fs: FileSystem, files: Sequence[_FileState], report: Callable[[int, int], None]
) -> list[FileScan | ReadIssue]:
    """Scan ``files`` here, in order; remote ones fetched many at a time, in bounded memory."""
    out: list[FileScan | ReadIssue] = []
    fetch = None if fs.is_local else getattr(fs, "fetch", None)
    for batch in _fetch_batches(files) if fetch is not None else [list(files)]:
        fetched: dict[str, bytes | BaseException] = {}
        if fetch is not None:
            small = [(f.path, f.offset) for f in batch if 0 < f.size - f.offset <= FETCH_MAX_BYTES]
            fetched = fetch(small)
            # listed empty: nothing to ask for (a range on an empty object is invalid)
            fetched.update((f.path, b"") for f in batch if f.size == 0 and f.offset == 0)
        for f in batch:
            data = fetched.pop(f.path, None)
            try:
                if isinstance(data, BaseException):
                    raise data
                if data is not None:
                    head = data[:64] if f.offset == 0 else b""
                    scan = scan_bytes(
                        [data], start=f.offset, damage=f.damage, state=f.tags, head=head
                    )
                else:
                    opener = functools.partial(fs.open, f.path)
                    scan = scan_file(opener, start=f.offset, damage=f.damage, state=f.tags)
                out.append(scan)
            except OSError as exc:
                out.append(_unreadable(f, exc))
            except Exception as exc:
                if fs.is_local:
                    raise
                out.append(_unreadable(f, exc))  # a remote store's error is a read issue
            report(len(out), len(files))
    return out


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


@dataclass
class _Columns:
    """One run's points, grouped by tag: tag ``t`` holds ``[starts[t], starts[t] + counts[t])``."""

    steps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    walls: npt.NDArray[np.float64]
    encs: npt.NDArray[np.uint8]
    starts: list[int]
    counts: list[int]
    tensors: list[int]
    """Points of each tag stored as tensors (``encoding != 0``)."""
    steps_back: list[int]
    """Positions whose step is not above the previous one (restart candidates), sorted."""


def _run_columns(parts: list[tuple[npt.NDArray[np.int32], FileScan]], n_tags: int) -> _Columns:
    """The points of a run's scans, in file order, stably grouped by tag.

    One reorder of each column for the whole run (none when one tag or already grouped),
    so each series is a slice and the common case costs a handful of numpy calls per
    run, not per series: reading many small runs is dominated by per-call overhead.
    """

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
    counts = np.bincount(rid, minlength=n_tags)
    if rid.shape[0] > 1 and bool((rid[1:] < rid[:-1]).any()):
        order = np.argsort(rid, kind="stable")
        steps, values, walls, encs = steps[order], values[order], walls[order], encs[order]
        rid = rid[order]
    tensors = np.bincount(rid, weights=encs != 0, minlength=n_tags)
    back = np.flatnonzero(steps[1:] <= steps[:-1]) + 1
    ends = np.cumsum(counts)
    return _Columns(
        steps,
        values,
        walls,
        encs,
        (ends - counts).tolist(),
        counts.tolist(),
        [int(x) for x in tensors.tolist()],
        back.tolist(),
    )


def _tag_series(
    name: str,
    cols: _Columns,
    names_by_id: dict[int, bytes],
    display: dict[bytes, str],
    plugins: dict[bytes, bytes],
) -> Iterator[tuple[bytes, Series | tuple[str, int]]]:
    """Each tag's series, or ``(label, count)`` of its points that are not scalars."""
    for tid, (a, n) in enumerate(zip(cols.starts, cols.counts, strict=True)):
        if n == 0:
            continue
        raw = names_by_id[tid]
        b = a + n
        chunk: npt.NDArray[np.intp] | slice = slice(a, b)
        enc = cols.encs[a:b]
        n_tensors = cols.tensors[tid]
        if n_tensors and plugins.get(raw) != _SCALARS_PLUGIN:
            # tensors that the scalars plugin does not own are not scalars
            scalar = enc == 0
            label = plugins.get(raw, b"").decode("utf-8", "replace") or "tensor"
            yield raw, (label, int(n - np.count_nonzero(scalar)))
            chunk = np.flatnonzero(scalar) + a
            enc = enc[scalar]
            n = int(chunk.shape[0])
            if n == 0:
                continue
            n_tensors = 0
            restart = True
        else:
            i = bisect.bisect_right(cols.steps_back, a)  # a step going back inside the tag?
            restart = i < len(cols.steps_back) and cols.steps_back[i] < b
        duplicates = 0
        if restart:
            chunk, duplicates = _after_restarts(cols, chunk, a, b)
        steps = cols.steps[chunk]
        kept = int(steps.shape[0])
        encoding = (
            _encoding_label(enc)
            if restart or n_tensors not in (0, n)
            else ("tensor" if n_tensors else "simple_value")
        )
        yield (
            raw,
            Series(
                name,
                display[raw],
                steps=steps,
                values=cols.values[chunk],
                wall_times=cols.walls[chunk],
                replaced_points=n - kept,
                encoding=encoding,
                duplicate_points=duplicates,
                _owned=True,
            ),
        )


def _after_restarts(
    cols: _Columns, chunk: npt.NDArray[np.intp] | slice, a: int, b: int
) -> tuple[npt.NDArray[np.intp], int]:
    """The positions of a tag's points ``chunk`` (within ``a:b``) that a restart does not
    replace, and how many dropped ones merely repeat the point before them."""
    steps = cols.steps[chunk]
    keep = restart_keep_mask(steps)
    duplicates = 0
    if not keep.all():
        # the same step logged twice in a row with the same value is a duplicate,
        # not a restart (Lightning and HF write `epoch` once per logger call)
        values = cols.values[chunk]
        same = (steps[:-1] == steps[1:]) & (values[:-1] == values[1:]) & ~keep[:-1]
        duplicates = int(np.count_nonzero(same))
    return (np.arange(a, b) if isinstance(chunk, slice) else chunk)[keep], duplicates


def _build_run(name: str, files: list[_FileState]) -> Run:
    plugins = _run_plugins(files)
    display = _tag_names(files)
    tag_ids: dict[bytes, int] = {}
    parts: list[tuple[npt.NDArray[np.int32], FileScan]] = []
    other_counts: dict[tuple[str, str], int] = {}
    for f in files:
        names = f.tags.tag_names
        ids = [tag_ids.setdefault(t, len(tag_ids)) for t in names]
        identity = ids == list(range(len(ids)))  # the common case: no remapping
        mapping = None if identity else np.array(ids, dtype=np.int32)
        for scan in f.scans:
            if scan.steps.shape[0]:
                parts.append((scan.tag_ids if mapping is None else mapping[scan.tag_ids], scan))
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
        columns = _run_columns(parts, len(tag_ids))
        for raw, tag_series in _tag_series(name, columns, names_by_id, display, plugins):
            if isinstance(tag_series, Series):
                series.append(tag_series)
            else:
                key = (display[raw], tag_series[0])
                other_counts[key] = other_counts.get(key, 0) + tag_series[1]
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
    result = _read_in_pool(reader, progress)
    if result is None:
        reader.poll(collect=False, progress=progress)
        result = reader.snapshot()
    if not any(r.files for r in result.runs):
        raise NoEventFilesError(_no_event_files_message(os.fspath(logdir), result.read_issues))
    return result


def _read_in_pool(
    reader: LogdirReader, progress: Callable[[int, int], None] | None
) -> Logdir | None:
    """A large local logdir read run by run on a pool; None when a pool would not pay."""
    if not reader._fs.is_local or reader.workers < 2:
        return None
    runs, issues = discover_runs(reader._fs)
    sizes = []
    for run in runs:
        total = 0
        for path in run.files:
            with contextlib.suppress(OSError):  # read (and reported) by the worker
                total += os.stat(path).st_size
        sizes.append(total)
    if len(runs) < 2 or sum(sizes) < reader.parallel_min_bytes:
        reader._preset = (runs, issues)  # not walked twice
        return None
    from tbplateau.reader.runs import read_in_pool

    return read_in_pool(
        reader.logdir, runs, sizes, issues, workers=reader.workers, progress=progress
    )


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
