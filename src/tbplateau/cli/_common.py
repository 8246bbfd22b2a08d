"""What the commands share: the usage error, consoles and the progress display."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeAlias

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

__all__ = [
    "EXIT_FINDINGS",
    "EXIT_OK",
    "EXIT_USAGE",
    "AddParser",
    "Command",
    "Parser",
    "Steps",
    "Subparsers",
    "UsageError",
    "console",
    "progress",
]

Subparsers: TypeAlias = "argparse._SubParsersAction[Parser]"
AddParser = Callable[[str, Subparsers], None]
"""Adds one command's parser (its name, the subparsers) to the command line."""
Command = Callable[[argparse.Namespace, Console, Console], int]
"""Runs one command: parsed arguments, stdout and stderr consoles; returns the exit code."""

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so main() owns exit codes."""

    def error(self, message: str) -> Any:
        raise UsageError(f"{self.prog}: {message}")


class UsageError(Exception):
    pass


class Steps:
    """What the report command tells its progress display: a phase, and files read."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._task = progress.add_task("starting", total=None) if progress else None

    def __call__(self, text: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=text, total=None, completed=0)

    def files(self, done: int, total: int) -> None:
        if self._progress is not None and self._task is not None and total:
            self._progress.update(self._task, total=total, completed=done)


@contextmanager
def progress(out: Console, err: Console) -> Iterator[Steps]:
    """A transient progress bar on stderr, only when both streams are terminals.

    While reading it counts files; while analysing it shows the phase and elapsed time.
    """
    if not (out.is_terminal and err.is_terminal):
        yield Steps(None)
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with progress:
        yield Steps(progress)


def console(color: str, file: Any) -> Console:
    if color == "always":
        return Console(file=file, force_terminal=True, no_color=False, soft_wrap=False)
    if color == "never":
        return Console(file=file, no_color=True, color_system=None, force_terminal=False)
    return Console(file=file)
