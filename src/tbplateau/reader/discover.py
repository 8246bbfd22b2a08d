"""Finding runs in a logdir, on local disk or any fsspec filesystem.

A run is every directory holding a file whose name contains ``tfevents`` (the rule
TensorBoard uses). Its name is its path relative to the logdir, '/'-separated, and
'.' for the logdir itself. Files of a run are read in lexicographic order of their
names. Symbolic links to directories are followed, but each directory is visited
once, so a link loop cannot hang the walk; a directory that cannot be listed is an
``unreadable`` read issue, not a crash. The walk is iterative: any depth is fine.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any, Protocol

from tbplateau._optional import import_fsspec
from tbplateau.errors import LogdirNotFoundError
from tbplateau.reader.model import Problem, ReadIssue

__all__ = [
    "FETCH_THREADS",
    "FileSystem",
    "LocalFileSystem",
    "RemoteFileSystem",
    "RunFiles",
    "discover_runs",
    "filesystem_for",
]

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")

FETCH_THREADS = 16
"""Remote files read at the same time."""


class FileSystem(Protocol):
    """What the reader needs of a filesystem."""

    root: str

    def list_dir(self, path: str) -> list[tuple[str, bool]]:
        """(name, is_directory) of each entry; raises OSError when unreadable."""

    def dir_identity(self, path: str) -> object:
        """A key equal for two paths naming the same directory (loop detection)."""

    def size(self, path: str) -> int: ...

    def stat(self, path: str) -> tuple[int, object]:
        """(size, version): the version changes when the file is written or replaced."""

    def open(self, path: str) -> IO[bytes]: ...

    def join(self, parent: str, name: str) -> str: ...

    @property
    def is_local(self) -> bool: ...


class LocalFileSystem:
    """The local disk, through ``os``."""

    is_local = True

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(os.path.expanduser(root))
        if not os.path.isdir(self.root):
            if os.path.exists(self.root):
                raise LogdirNotFoundError(f"logdir is not a directory: {root}")
            raise LogdirNotFoundError(f"logdir does not exist: {root}")

    def list_dir(self, path: str) -> list[tuple[str, bool]]:
        out = []
        with os.scandir(path) as it:
            for entry in it:
                try:
                    is_dir = entry.is_dir(follow_symlinks=True)
                except OSError:
                    is_dir = False
                out.append((entry.name, is_dir))
        return out

    def dir_identity(self, path: str) -> object:
        st = os.stat(path)
        return (st.st_dev, st.st_ino)

    def size(self, path: str) -> int:
        return self.stat(path)[0]

    def stat(self, path: str) -> tuple[int, object]:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"not a regular file: {path}")
        return st.st_size, (st.st_dev, st.st_ino, st.st_mtime_ns)

    def open(self, path: str) -> IO[bytes]:
        return open(path, "rb")

    def join(self, parent: str, name: str) -> str:
        return os.path.join(parent, name)


class RemoteFileSystem:
    """Any fsspec filesystem (``s3://``, ``gs://``, ``memory://``, ...)."""

    is_local = False

    def __init__(self, url: str, *, check: bool = True) -> None:
        fsspec = import_fsspec()
        try:
            fs, root = fsspec.core.url_to_fs(url)
        except (ImportError, ValueError) as exc:
            raise LogdirNotFoundError(f"cannot open logdir {url}: {exc}") from exc
        self.fs: Any = fs
        self.root = str(root).rstrip("/") or "/"
        self._listed: dict[str, tuple[int, object]] = {}
        if not check:  # a worker given a listing: no request before the reads
            return
        try:
            ok = bool(fs.isdir(self.root))
        except OSError as exc:
            raise LogdirNotFoundError(f"cannot open logdir {url}: {exc}") from exc
        if not ok:
            raise LogdirNotFoundError(f"logdir does not exist: {url}")

    def list_dir(self, path: str) -> list[tuple[str, bool]]:
        out = []
        for info in self.fs.ls(path, detail=True):
            name = str(info["name"]).rstrip("/").rsplit("/", 1)[-1]
            out.append((name, info.get("type") == "directory"))
        return out

    def dir_identity(self, path: str) -> object:
        return path.rstrip("/")

    def size(self, path: str) -> int:
        return int(self.fs.size(path))

    def stat(self, path: str) -> tuple[int, object]:
        listed = self._listed.get(path)
        if listed is not None:  # as of the last listing (no request per file)
            return listed
        return _size_version(self.fs.info(path))

    def remember(self, path: str, size: int) -> None:
        """Take ``size`` from a listing made elsewhere (a sweep's client) for ``path``."""
        self._listed[path] = (size, None)

    def find(self, path: str) -> list[tuple[str, int]]:
        """Every file under ``path`` and its size: one flat listing, paginated by the store.

        An object store lists every key under a prefix in pages of about 1,000, where a
        walk costs one listing per directory. The sizes and versions are kept for
        :meth:`stat` until the next listing; the filesystem's own cache of the listing
        is dropped, so that a later listing is fresh and memory is not held twice.
        """
        prefix = path.rstrip("/") + "/"
        self._forget(path, prefix)
        try:
            found: dict[str, Any] = self.fs.find(path, detail=True)
        finally:
            self._forget(path, prefix)
        self._listed = {}
        out = []
        for name, info in found.items():
            if info.get("type") == "directory":
                continue
            entry = _size_version(info)
            self._listed[str(name)] = entry
            out.append((str(name), entry[0]))
        return out

    def _forget(self, path: str, prefix: str) -> None:
        cache = getattr(self.fs, "dircache", None)
        if cache is not None:
            for key in [k for k in cache if k == path or str(k).startswith(prefix)]:
                cache.pop(key, None)

    def open(self, path: str) -> IO[bytes]:
        listed = self._listed.get(path)
        if listed is not None:
            try:  # the size from the listing spares a request for it (s3fs, gcsfs take it)
                return self.fs.open(path, "rb", size=listed[0])  # type: ignore[no-any-return]
            except TypeError:
                pass
        return self.fs.open(path, "rb")  # type: ignore[no-any-return]

    def fetch(self, items: Sequence[tuple[str, int]]) -> dict[str, bytes | BaseException]:
        """``(path, start)`` files read from ``start`` to their end, concurrently.

        A failure is the exception, in place of the bytes. Object stores answer many
        small reads at once far faster than one after another.
        """

        def one(item: tuple[str, int]) -> bytes | BaseException:
            path, start = item
            try:  # a ranged read: one GET, where a plain one may ask the size first
                return bytes(self.fs.cat_file(path, start=start))
            except Exception as exc:
                if start:
                    return exc
            try:  # an empty object, for which a range is invalid: ask plainly
                return bytes(self.fs.cat_file(path))
            except Exception as exc:  # any failure is a read issue of that file
                return exc

        if not items:
            return {}
        with ThreadPoolExecutor(min(FETCH_THREADS, len(items))) as pool:
            return {p: data for (p, _), data in zip(items, pool.map(one, items), strict=True)}

    def join(self, parent: str, name: str) -> str:
        return parent.rstrip("/") + "/" + name


def _size_version(info: Any) -> tuple[int, object]:
    version = tuple(
        str(info.get(k)) for k in ("mtime", "LastModified", "ETag", "created", "generation")
    )
    return int(info.get("size") or 0), version


def filesystem_for(logdir: str | os.PathLike[str], *, check: bool = True) -> FileSystem:
    """The filesystem holding ``logdir``: local, or fsspec for a URL.

    ``check=False`` skips the request that checks a remote logdir exists.
    """
    text = os.fspath(logdir)
    if _URL.match(text) and not text.startswith("file://"):
        return RemoteFileSystem(text, check=check)
    if text.startswith("file://"):
        text = text[len("file://") :]
    return LocalFileSystem(text)


@dataclass(frozen=True)
class RunFiles:
    """A run's name, its directory and its event files (full paths, sorted by name)."""

    name: str
    directory: str
    files: tuple[str, ...]
    sizes: tuple[int, ...] = ()
    """Sizes of ``files`` when the listing gave them (a flat remote listing does)."""


def _rel(parts: tuple[str, ...]) -> str:
    return "/".join(parts) if parts else "."


def discover_runs(fs: FileSystem) -> tuple[list[RunFiles], list[ReadIssue]]:
    """Every run under ``fs.root``, sorted by name, and the directories that could not be read.

    Directories are visited depth first in name order, with an explicit stack, so a
    tree thousands of levels deep costs no recursion. A remote filesystem is listed
    flat instead (:meth:`RemoteFileSystem.find`): the same runs, in a few requests.
    """
    if isinstance(fs, RemoteFileSystem):
        return _discover_flat(fs)
    runs: list[RunFiles] = []
    issues: list[ReadIssue] = []
    seen: set[object] = set()
    stack: list[tuple[str, tuple[str, ...]]] = [(fs.root, ())]
    while stack:
        path, parts = stack.pop()
        try:
            ident = fs.dir_identity(path)
        except OSError:
            ident = path
        if ident in seen:
            continue
        seen.add(ident)
        try:
            entries = fs.list_dir(path)
        except OSError as exc:
            issues.append(
                ReadIssue(
                    file=_rel(parts),
                    offset=0,
                    problem=Problem.UNREADABLE,
                    message=f"cannot list directory {_rel(parts)}: {exc.strerror or exc}",
                )
            )
            continue
        files = sorted(name for name, is_dir in entries if not is_dir and "tfevents" in name)
        if files:
            runs.append(
                RunFiles(
                    name=_rel(parts),
                    directory=path,
                    files=tuple(fs.join(path, f) for f in files),
                )
            )
        subdirs = sorted(name for name, is_dir in entries if is_dir)
        stack.extend((fs.join(path, name), (*parts, name)) for name in reversed(subdirs))
    runs.sort(key=lambda r: r.name)
    return runs, issues


def _discover_flat(fs: RemoteFileSystem) -> tuple[list[RunFiles], list[ReadIssue]]:
    """:func:`discover_runs` from one flat listing of every file under the root."""
    try:
        found = fs.find(fs.root)
    except OSError as exc:
        issue = ReadIssue(
            file=".",
            offset=0,
            problem=Problem.UNREADABLE,
            message=f"cannot list directory .: {exc.strerror or exc}",
        )
        return [], [issue]
    root = fs.root.rstrip("/")
    prefix = root + "/"
    by_dir: dict[str, list[tuple[str, int]]] = {}
    for path, size in found:
        directory, _, name = path.rpartition("/")
        if "tfevents" not in name:
            continue
        if directory == root:
            by_dir.setdefault(".", []).append((name, size))
        elif directory.startswith(prefix):
            by_dir.setdefault(directory[len(prefix) :], []).append((name, size))
    runs = []
    for run, files in sorted(by_dir.items()):
        files.sort()
        directory = root if run == "." else prefix + run
        runs.append(
            RunFiles(
                name=run,
                directory=directory,
                files=tuple(fs.join(directory, f) for f, _ in files),
                sizes=tuple(size for _, size in files),
            )
        )
    return runs, []
