"""What the commands share: the usage error, consoles, the progress display, and the
options several commands take (``--runs``, ``--tags``, ``--goal``, ``--fail-on``,
``--color``, ``-o``), each added by one helper and read back by one class, so
``report`` and ``watch`` accept exactly the same words."""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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
from rich.text import Text

from tbplateau import escape, selection
from tbplateau.curves import attach
from tbplateau.errors import TbplateauError
from tbplateau.findings import Finding, finding_label
from tbplateau.reader.model import Logdir
from tbplateau.report import Report

__all__ = [
    "EXIT_CODES",
    "EXIT_FINDINGS",
    "EXIT_OK",
    "EXIT_USAGE",
    "FAIL_ON_HELP",
    "PATTERN_HELP",
    "AddParser",
    "Command",
    "FailOn",
    "Parser",
    "Selection",
    "Steps",
    "Subparsers",
    "UsageError",
    "add_color_option",
    "add_fail_on_option",
    "add_output_option",
    "add_selection_options",
    "console",
    "print_line",
    "progress",
    "write_output",
]

Subparsers: TypeAlias = "argparse._SubParsersAction[Parser]"
AddParser = Callable[[str, Subparsers], None]
"""Adds one command's parser (its name, the subparsers) to the command line."""
Command = Callable[[argparse.Namespace, Console, Console], int]
"""Runs one command: parsed arguments, stdout and stderr consoles; returns the exit code."""

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2

EXIT_CODES = """exit codes:
  0  done (damaged files are read issues in the output, not errors)
  1  --fail-on: a finding of one of the given kinds exists
  2  usage error, a pattern that matches nothing, a missing logdir or one
     without event files (one line on stderr says which)"""

PATTERN_HELP = """patterns (--runs, --tags and the TAG_PATTERN of --goal):
  a shell glob matched against the whole name, case-sensitively ('*' also
  matches '/', '?' one character, '[ab]' a set): 'keras/*', '*loss*',
  'eval/bleu';
  or 're:' and a Python regular expression searched anywhere in the name:
  're:^val', 're:(acc|loss)$'. A pattern that matches nothing is an error."""


class Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so main() owns exit codes."""

    def error(self, message: str) -> Any:
        raise UsageError(f"{self.prog}: {message}")


class UsageError(Exception):
    pass


# -- progress ----------------------------------------------------------------------------


class Steps:
    """What a command tells its progress display: a phase, and files read or runs
    analysed (a bar that moves)."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._task = progress.add_task("starting", total=None) if progress else None

    def __call__(self, text: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=text, total=None, completed=0)

    def files(self, done: int, total: int) -> None:
        if self._progress is not None and self._task is not None and total:
            self._progress.update(self._task, total=total, completed=done)

    runs = files
    """``runs(done, total)``: the analysis' progress (``analyze(progress=...)``)."""


@contextmanager
def progress(out: Console, err: Console) -> Iterator[Steps]:
    """A transient progress bar on stderr, only when both streams are terminals.

    While reading it counts files, while analysing runs.
    """
    if not (out.is_terminal and err.is_terminal):
        yield Steps(None)
        return
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with bar:
        yield Steps(bar)


def console(color: str, file: Any) -> Console:
    if color == "always":
        return Console(file=file, force_terminal=True, no_color=False, soft_wrap=False)
    if color == "never":
        return Console(file=file, no_color=True, color_system=None, force_terminal=False)
    return Console(file=file)


# -- shared options ---------------------------------------------------------------------------


def add_color_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="auto (default): colour only a terminal, and never when NO_COLOR is set",
    )


def add_output_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write to FILE instead of stdout (any format; no colour unless --color always)",
    )


def add_selection_options(parser: argparse.ArgumentParser) -> None:
    """``--runs``, ``--tags`` and ``--goal`` (see :data:`PATTERN_HELP`)."""
    parser.add_argument("--runs", metavar="PATTERN", help="only runs whose name matches")
    parser.add_argument("--tags", metavar="PATTERN", help="only series whose tag matches")
    parser.add_argument(
        "--goal",
        action="append",
        default=[],
        metavar="TAG_PATTERN=min|max|none",
        help="set the goal of matching tags (repeatable; the first match wins); a series "
        "given a goal this way is judged on every kind, 'none' leaves it unjudged",
    )


FAIL_ON: dict[str, str] = {
    "non-finite": "non-finite",
    "nonfinite": "non-finite",
    "nan": "non-finite",
    "divergence": "divergence",
    "diverged": "divergence",
    "overfitting": "overfitting",
    "oscillation": "oscillation",
    "plateau": "plateau",
    "flat line": "flat line",
    "flatline": "flat line",
    "flat-line": "flat line",
    "plateau:constant": "flat line",
    "any": "any",
}
"""``--fail-on`` words (as the screen shows them, or the JSON ``kind``) and what they select."""

FAIL_ON_HELP = (
    "exit 1 when a finding of one of these kinds exists (for CI): non-finite (or "
    "nonfinite), divergence, overfitting, oscillation, plateau (flat lines included), "
    "flat line (or flatline, plateau:constant), any; comma-separated. The last line of "
    "stderr then names the findings"
)


def add_fail_on_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fail-on", metavar="KIND[,KIND]", default="", help=FAIL_ON_HELP)


@dataclass(frozen=True)
class FailOn:
    """The ``--fail-on`` selection: labels as :func:`~tbplateau.findings.finding_label`
    gives them, ``plateau`` covering flat lines and ``any`` everything."""

    text: str
    labels: frozenset[str]

    @classmethod
    def parse(cls, text: str, command: str = "tbplateau") -> FailOn:
        labels = set()
        for raw in text.split(","):
            word = " ".join(raw.strip().lower().replace("_", " ").split())
            if not word:
                continue
            label = FAIL_ON.get(word) or FAIL_ON.get(word.replace(" ", ""))
            if label is None:
                choices = (
                    "non-finite, divergence, overfitting, oscillation, plateau, flat line, any"
                )
                raise UsageError(f"{command}: unknown kind {raw.strip()!r} (choose from {choices})")
            labels.add(label)
        return cls(text, frozenset(labels))

    def __bool__(self) -> bool:
        return bool(self.labels)

    def matches(self, f: Finding) -> bool:
        label = finding_label(f)
        if "any" in self.labels or label in self.labels:
            return True
        return label == "flat line" and "plateau" in self.labels

    def tripped(self, report: Report) -> list[tuple[str, Finding]]:
        """``(run, finding)`` of every finding the selection matches."""
        return [(r.run, f) for r in report.runs for f in r.all_findings() if self.matches(f)]

    def message(self, hits: Sequence[tuple[str, Finding]], most: int = 5) -> str:
        """One line naming what tripped ``--fail-on`` (names escaped for a terminal)."""
        parts = []
        for run, f in hits[:most]:
            where = escape.terminal(f"{run} {f.tags[0]}", limit=120)
            parts.append(f"{finding_label(f)} in {where} at step {f.start_step:,}")
        more = f"; and {len(hits) - most:,} more" if len(hits) > most else ""
        n = f"{len(hits):,} finding{'' if len(hits) == 1 else 's'}"
        return f"tbplateau: --fail-on {self.text}: {n}: " + "; ".join(parts) + more


class Selection:
    """``--runs``, ``--tags`` and ``--goal`` for a command: a
    :class:`tbplateau.selection.Selection` whose mistakes are usage errors (exit 2),
    each line starting with the command's name."""

    def __init__(self, runs: str | None, tags: str | None, goals: Sequence[str], command: str):
        self.command = command
        try:
            self.select = selection.Selection(runs, tags, goals)
        except TbplateauError as exc:
            raise UsageError(f"{command}: {exc}") from None
        self.goals = list(goals)

    @classmethod
    def from_args(cls, args: argparse.Namespace, command: str) -> Selection:
        return cls(args.runs, args.tags, args.goal, command)

    def run_ok(self, name: str) -> bool:
        return self.select.run_ok(name)

    def tag_ok(self, tag: str) -> bool:
        return self.select.tag_ok(tag)

    def unmatched_error(self, unmatched: selection.Unmatched) -> UsageError:
        return UsageError(f"{self.command}: {unmatched.message()}")

    def runs_of(self, logdir: Logdir) -> Logdir:
        """The logdir with the selected runs and, to keep train/validation pairs whole,
        the other runs of their groups; raises :class:`UsageError` when a pattern
        matches nothing."""
        for unmatched in self.select.unmatched(logdir):
            raise self.unmatched_error(unmatched)
        keep = self.select.runs_to_read(r.name for r in logdir.runs)
        if len(keep) == len(logdir.runs):
            return logdir
        return Logdir(logdir.path, tuple(r for r in logdir.runs if r.name in keep))

    def notes(self, logdir: Logdir) -> list[str]:
        """:meth:`tbplateau.selection.Selection.notes`, each line naming the command."""
        return [f"{self.command}: {note}" for note in self.select.notes(logdir)]

    def filter(self, report: Report, logdir: Logdir) -> Report:
        """The report with only the selected runs and series (and the curves of
        ``logdir`` attached, for the words of the JSON document)."""
        if not self.select.narrows:
            return report
        return attach(self.select.filter(report), logdir)


def write_output(text: str, path: str | None, out: Console) -> None:
    """``text`` to ``path`` (written whole, then renamed into place) or to stdout."""
    if path is None:
        out.file.write(text)
        out.file.flush()
        return
    target = os.path.abspath(path)
    folder = os.path.dirname(target) or "."
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tbplateau-", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp made it private; a report is to share
        os.replace(tmp, target)
    except OSError as exc:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise UsageError(f"tbplateau: cannot write {path}: {exc.strerror or exc}") from None


def print_line(err: Console, text: str) -> None:
    """One line on stderr, never wrapped."""
    err.print(Text(text), highlight=False, soft_wrap=True)
