"""Reading given runs on a worker, without discovering the logdir.

The result is what :func:`tbplateau.read_logdir` gives for the same runs: the same
series, the same read issues with the same messages, file by file. Remote files are
fetched concurrently (a pool of threads over ``fs.cat_file``), small ones whole and
large ones streamed, instead of one after another.

This module stands in for ``tbplateau.reader.read_runs`` until the reader grows one;
it reuses the reader's own per-file state and run building, so the two cannot differ.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any

from tbplateau.reader.logdir import _build_run, _FileState
from tbplateau.reader.model import Problem, ReadIssue, Run
from tbplateau.reader.scan import scan_file
from tbplateau.sweep._listing import RunEntry, run_directory

__all__ = ["FETCH_THREADS", "STREAM_MIN_BYTES", "ReadResult", "read_runs"]

FETCH_THREADS = 16
"""Remote files fetched at the same time by one worker."""

STREAM_MIN_BYTES = 32 << 20
"""Remote runs at least this large are streamed file by file rather than fetched whole."""


@dataclass
class ReadResult:
    """The runs read, in the order asked, and the bytes read for them."""

    runs: list[Run]
    nbytes: int


def _message(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())


def _unreadable(rel: str, exc: BaseException) -> ReadIssue:
    return ReadIssue(rel, 0, Problem.UNREADABLE, f"{rel}: cannot read file: {_message(exc)}")


def _rel(run: str, file: str) -> str:
    return file if run == "." else f"{run}/{file}"


class _Source:
    """Where one worker reads a task's files: local disk or one fsspec filesystem."""

    def __init__(self, root: str, *, local: bool) -> None:
        self.root = root
        self.local = local
        self.fs: Any = None
        if not local:
            from tbplateau._optional import import_fsspec

            # credentials come from this worker's environment, never from the task
            self.fs, _ = import_fsspec().core.url_to_fs(root)
            self.root = str(self.fs._strip_protocol(root)).rstrip("/") or "/"

    def path(self, run: str, file: str) -> str:
        directory = run_directory(self.root, run, local=self.local)
        return os.path.join(directory, file) if self.local else f"{directory}/{file}"

    def list_run(self, run: str) -> tuple[list[str], int]:
        """Event file names in ``run``'s directory (not below it) and their bytes."""
        directory = run_directory(self.root, run, local=self.local)
        names: list[tuple[str, int]] = []
        if self.local:
            with os.scandir(directory) as it:
                for entry in it:
                    if "tfevents" in entry.name and not _is_dir(entry):
                        names.append((entry.name, _entry_size(entry)))
        else:
            for info in self.fs.ls(directory, detail=True):
                name = str(info["name"]).rstrip("/").rsplit("/", 1)[-1]
                if info.get("type") != "directory" and "tfevents" in name:
                    names.append((name, int(info.get("size") or 0)))
        names.sort()
        return [n for n, _ in names], sum(s for _, s in names)

    def size(self, path: str) -> int:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"not a regular file: {path}")
        return st.st_size

    def opener(self, path: str) -> Callable[[], IO[bytes]]:
        if self.local:
            return lambda: open(path, "rb")
        return lambda: self.fs.open(path, "rb")

    def fetch(self, paths: Sequence[str]) -> dict[str, bytes | BaseException]:
        """Whole remote files, fetched concurrently; a failure is the exception."""

        def one(path: str) -> bytes | BaseException:
            try:  # a ranged read from 0: one GET, where a plain one may ask the size first
                return bytes(self.fs.cat_file(path, start=0))
            except Exception:
                pass  # e.g. an empty object, for which a range is invalid: ask plainly
            try:
                return bytes(self.fs.cat_file(path))
            except Exception as exc:  # any failure is a read issue of that file
                return exc

        if not paths:
            return {}
        with ThreadPoolExecutor(min(FETCH_THREADS, len(paths))) as pool:
            return dict(zip(paths, pool.map(one, paths), strict=True))


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=True)
    except OSError:
        return False


def _entry_size(entry: os.DirEntry[str]) -> int:
    try:
        return entry.stat().st_size
    except OSError:
        return 0


def _listed(source: _Source, entry: RunEntry) -> tuple[RunEntry, ReadIssue | None]:
    """``entry`` with its files, listing its directory when the listing has none."""
    if entry.files:
        return entry, None
    try:
        files, nbytes = source.list_run(entry.name)
    except (OSError, ValueError) as exc:
        issue = ReadIssue(
            entry.name,
            0,
            Problem.UNREADABLE,
            f"cannot list run directory {entry.name}: {_message(exc)}",
        )
        return entry, issue
    if not files:
        issue = ReadIssue(
            entry.name,
            0,
            Problem.UNREADABLE,
            f"no event files (*tfevents*) in run directory {entry.name}",
        )
        return entry, issue
    return RunEntry(entry.name, tuple(files), nbytes), None


def read_runs(root: str, runs: Sequence[RunEntry], *, local: bool) -> ReadResult:
    """Read ``runs`` of the logdir at ``root`` (a local path, or a URL when not ``local``)."""
    source = _Source(root, local=local)
    listed = [_listed(source, r) for r in runs]
    fetched: dict[str, bytes | BaseException] = {}
    if not local:
        small = [
            source.path(e.name, f)
            for e, issue in listed
            if issue is None and e.nbytes < STREAM_MIN_BYTES
            for f in e.files
        ]
        fetched = source.fetch(small)
    out: list[Run] = []
    nbytes = 0
    for entry, issue in listed:
        if issue is not None:
            out.append(Run(entry.name, (), (), (), (issue,), 0))
            continue
        states = []
        for f in entry.files:
            state = _read_file(source, source.path(entry.name, f), _rel(entry.name, f), fetched)
            nbytes += state.offset
            states.append(state)
        states.sort(key=lambda s: s.rel)
        out.append(_build_run(entry.name, states))
    return ReadResult(out, nbytes)


def _read_file(
    source: _Source, path: str, rel: str, fetched: dict[str, bytes | BaseException]
) -> _FileState:
    """One file read from its start, as :meth:`LogdirReader.poll` reads a new file."""
    state = _FileState(path=path, rel=rel)
    data = fetched.get(path)
    if isinstance(data, BaseException):
        state.unreadable = _unreadable(rel, data)
        return state
    if data is not None:
        state.size = len(data)
        payload = data
        opener: Callable[[], IO[bytes]] = lambda: io.BytesIO(payload)  # noqa: E731
    else:
        try:
            state.size = source.size(path) if source.local else 0
        except OSError as exc:
            state.unreadable = _unreadable(rel, exc)
            return state
        opener = source.opener(path)
    try:
        scan = scan_file(opener)
    except Exception as exc:  # an unreadable file is a read issue, whatever the filesystem
        state.unreadable = _unreadable(rel, exc)
        return state
    state.apply(scan)
    return state
