"""What a sweep reads: its runs, their event files and their sizes, found once on the client.

The reader's own discovery finds them (:func:`~tbplateau.reader.discover.discover_runs`:
the same runs, in the same order, with the same read issues for directories that
cannot be listed; a remote logdir is listed flat, in pages of about 1,000 objects).
A manifest (``--runs-from``) names the runs and skips listing on the client
altogether: each worker lists only the directories of its own runs.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass

from tbplateau.errors import LogdirNotFoundError
from tbplateau.reader.discover import (
    FileSystem,
    LocalFileSystem,
    RemoteFileSystem,
    RunFiles,
    discover_runs,
    filesystem_for,
)
from tbplateau.reader.model import Problem, ReadIssue

__all__ = [
    "Listing",
    "RunEntry",
    "list_logdir",
    "list_run",
    "listing_from_manifest",
    "read_manifest",
]


@dataclass(frozen=True)
class RunEntry:
    """One run: its name, its event file names (inside its directory) and their sizes.

    ``files`` empty means "not listed yet": the worker lists the run's directory (runs
    given by a manifest). ``sizes`` is empty when unknown.
    """

    name: str
    files: tuple[str, ...] = ()
    sizes: tuple[int, ...] = ()

    @property
    def nbytes(self) -> int:
        """The run's bytes, or -1 when unknown."""
        return sum(self.sizes) if len(self.sizes) == len(self.files) and self.files else -1


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


def _root_url(fs: FileSystem) -> str:
    if isinstance(fs, RemoteFileSystem):
        return str(fs.fs.unstrip_protocol(fs.root))
    return fs.root


def _is_remote(text: str) -> bool:
    return "://" in text and not text.startswith("file://")


def list_logdir(logdir: str | os.PathLike[str]) -> Listing:
    """Every run of ``logdir`` with its event files and their sizes."""
    text = os.fspath(logdir)
    fs = filesystem_for(text)
    found, issues = discover_runs(fs)
    runs = []
    for r in found:
        sizes = r.sizes
        if len(sizes) != len(r.files):  # a local walk: stat each file
            listed = []
            for path in r.files:
                size = 0
                with contextlib.suppress(OSError):  # the worker reports it as unreadable
                    size = os.stat(path).st_size
                listed.append(size)
            sizes = tuple(listed)
        names = tuple(p.replace("\\", "/").rsplit("/", 1)[-1] for p in r.files)
        runs.append(RunEntry(r.name, names, sizes))
    return Listing(text, _root_url(fs), fs.is_local, tuple(runs), tuple(issues))


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
    if _is_remote(text):
        return Listing(text, _root_url(filesystem_for(text)), False, runs)
    local = text.removeprefix("file://")
    root = os.path.abspath(os.path.expanduser(local))
    if not os.path.isdir(root):
        raise LogdirNotFoundError(f"logdir does not exist: {text}")
    return Listing(text, root, True, runs)


def run_directory(fs: FileSystem, name: str) -> str:
    """The directory of run ``name`` on ``fs``."""
    if name == ".":
        return fs.root
    if isinstance(fs, LocalFileSystem):
        return os.path.join(fs.root, *name.split("/"))
    return fs.join(fs.root, name)


def list_run(fs: FileSystem, entry: RunEntry) -> RunFiles | ReadIssue:
    """``entry``'s event files as the reader takes them; its directory listed if need be."""
    directory = run_directory(fs, entry.name)
    files = entry.files
    if not files:
        try:
            files = tuple(
                sorted(n for n, is_dir in fs.list_dir(directory) if not is_dir and "tfevents" in n)
            )
        except (OSError, ValueError) as exc:
            why = " ".join(str(getattr(exc, "strerror", None) or exc).split())
            return ReadIssue(
                entry.name, 0, Problem.UNREADABLE, f"cannot list run directory {entry.name}: {why}"
            )
        if not files:
            return ReadIssue(
                entry.name,
                0,
                Problem.UNREADABLE,
                f"no event files (*tfevents*) in run directory {entry.name}",
            )
    paths = tuple(fs.join(directory, f) for f in files)
    sizes = entry.sizes if len(entry.sizes) == len(files) else ()
    return RunFiles(entry.name, directory, paths, sizes)
