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
from dataclasses import dataclass
from typing import IO, Any, Protocol

from tbplateau._optional import import_fsspec
from tbplateau.errors import LogdirNotFoundError
from tbplateau.reader.model import Problem, ReadIssue

__all__ = [
    "FileSystem",
    "LocalFileSystem",
    "RemoteFileSystem",
    "RunFiles",
    "discover_runs",
    "filesystem_for",
]

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


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

    def __init__(self, url: str) -> None:
        fsspec = import_fsspec()
        try:
            fs, root = fsspec.core.url_to_fs(url)
        except (ImportError, ValueError) as exc:
            raise LogdirNotFoundError(f"cannot open logdir {url}: {exc}") from exc
        self.fs: Any = fs
        self.root = str(root).rstrip("/") or "/"
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
        info = self.fs.info(path)
        version = tuple(
            str(info.get(k)) for k in ("mtime", "LastModified", "ETag", "created", "generation")
        )
        return int(info.get("size") or 0), version

    def open(self, path: str) -> IO[bytes]:
        return self.fs.open(path, "rb")  # type: ignore[no-any-return]

    def join(self, parent: str, name: str) -> str:
        return parent.rstrip("/") + "/" + name


def filesystem_for(logdir: str | os.PathLike[str]) -> FileSystem:
    """The filesystem holding ``logdir``: local, or fsspec for a URL."""
    text = os.fspath(logdir)
    if _URL.match(text) and not text.startswith("file://"):
        return RemoteFileSystem(text)
    if text.startswith("file://"):
        text = text[len("file://") :]
    return LocalFileSystem(text)


@dataclass(frozen=True)
class RunFiles:
    """A run's name, its directory and its event files (full paths, sorted by name)."""

    name: str
    directory: str
    files: tuple[str, ...]


def _rel(parts: tuple[str, ...]) -> str:
    return "/".join(parts) if parts else "."


def discover_runs(fs: FileSystem) -> tuple[list[RunFiles], list[ReadIssue]]:
    """Every run under ``fs.root``, sorted by name, and the directories that could not be read.

    Directories are visited depth first in name order, with an explicit stack, so a
    tree thousands of levels deep costs no recursion.
    """
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
