"""What a sweep reads: its runs, their event files and their sizes, found once on the client.

A local logdir is walked with the reader's own discovery (the same runs, in the same
order, with the same read issues for directories that cannot be listed). A remote one
is listed *flat*: one paginated listing of every object under the root
(``fs.find``), grouped by directory, instead of one listing per directory. A
manifest (``--runs-from``) names the runs and skips listing on the client
altogether: each worker lists only the directories of its own runs.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tbplateau.errors import LogdirNotFoundError
from tbplateau.reader.discover import LocalFileSystem, RemoteFileSystem, discover_runs
from tbplateau.reader.model import ReadIssue

__all__ = ["Listing", "RunEntry", "list_logdir", "listing_from_manifest", "read_manifest"]


@dataclass(frozen=True)
class RunEntry:
    """One run: its name, its event file names (inside its directory) and their bytes.

    ``files`` empty means "not listed yet": the worker lists the run's directory
    (runs given by a manifest). ``nbytes`` is -1 when unknown.
    """

    name: str
    files: tuple[str, ...] = ()
    nbytes: int = -1


@dataclass(frozen=True)
class Listing:
    """The runs of a logdir, sorted by name, and where workers find them.

    ``logdir`` is the text the caller gave (it becomes the report's ``logdir``);
    ``root`` is where workers open files: an absolute local path, or a URL with its
    protocol (never a filesystem object, which could carry credentials).
    """

    logdir: str
    root: str
    local: bool
    runs: tuple[RunEntry, ...]
    issues: tuple[ReadIssue, ...] = ()

    def __post_init__(self) -> None:
        names = [r.name for r in self.runs]
        if names != sorted(names) or len(set(names)) != len(names):
            raise ValueError("Listing.runs must be sorted by name, without duplicates")


def run_directory(root: str, name: str, *, local: bool) -> str:
    """The directory of run ``name`` under ``root``."""
    if name == ".":
        return root
    if local:
        return os.path.join(root, *name.split("/"))
    return root.rstrip("/") + "/" + name


def _remote_root(url: str) -> tuple[Any, str, str]:
    """The fsspec filesystem of ``url``, its root path and the root as a URL."""
    remote = RemoteFileSystem(url)  # raises LogdirNotFoundError like read_logdir does
    return remote.fs, remote.root, str(remote.fs.unstrip_protocol(remote.root))


def list_logdir(logdir: str | os.PathLike[str]) -> Listing:
    """Every run of ``logdir`` with its event files and their sizes."""
    text = os.fspath(logdir)
    if "://" in text and not text.startswith("file://"):
        return _list_remote(text)
    return _list_local(text)


def _list_local(text: str) -> Listing:
    fs = LocalFileSystem(text.removeprefix("file://"))
    found, issues = discover_runs(fs)
    runs = []
    for r in found:
        nbytes = 0
        for path in r.files:
            with contextlib.suppress(OSError):  # the worker reports it as unreadable
                nbytes += os.stat(path).st_size
        runs.append(RunEntry(r.name, tuple(os.path.basename(p) for p in r.files), nbytes))
    return Listing(text, fs.root, True, tuple(runs), tuple(issues))


def _list_remote(url: str) -> Listing:
    fs, root, root_url = _remote_root(url)
    found: dict[str, Any] = fs.find(root, detail=True)
    by_dir: dict[str, list[tuple[str, int]]] = {}
    prefix = root.rstrip("/") + "/"
    for path, info in found.items():
        if info.get("type") == "directory":
            continue
        directory, _, name = str(path).rpartition("/")
        if "tfevents" not in name:
            continue
        if directory == root.rstrip("/"):
            run = "."
        elif directory.startswith(prefix):
            run = directory[len(prefix) :]
        else:  # pragma: no cover - find returns paths under its root
            continue
        by_dir.setdefault(run, []).append((name, int(info.get("size") or 0)))
    # find() filled the filesystem's listing cache with every object: let it go
    for key in [k for k in fs.dircache if k == root or k.startswith(prefix)]:
        fs.dircache.pop(key, None)
    runs = tuple(
        RunEntry(name, tuple(f for f, _ in sorted(files)), sum(s for _, s in files))
        for name, files in sorted(by_dir.items())
    )
    return Listing(url, root_url, False, runs)


def read_manifest(lines: Iterable[str]) -> list[str]:
    """Run names from a manifest: one per line; blank lines and ``#`` comments skipped.

    >>> read_manifest(["# sweep 3", "b/train", "", "a", "b/train", "./c/"])
    ['a', 'b/train', 'c']
    """
    names = set()
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        parts = [p for p in text.replace("\\", "/").split("/") if p not in ("", ".")]
        if ".." in parts:
            raise ValueError(f"run name {text!r} leaves the logdir")
        names.add("/".join(parts) or ".")
    return sorted(names)


def listing_from_manifest(logdir: str | os.PathLike[str], names: Iterable[str]) -> Listing:
    """A listing of the runs ``names`` (relative to ``logdir``), to be listed by the workers."""
    text = os.fspath(logdir)
    runs = tuple(RunEntry(n) for n in sorted(set(names)))
    if "://" in text and not text.startswith("file://"):
        _, _, root_url = _remote_root(text)
        return Listing(text, root_url, False, runs)
    local = text.removeprefix("file://")
    root = os.path.abspath(os.path.expanduser(local))
    if not os.path.isdir(root):
        raise LogdirNotFoundError(f"logdir does not exist: {text}")
    return Listing(text, root, True, runs)
