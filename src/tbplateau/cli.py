"""The ``tbplateau`` command: a thin adapter over the public API.

Exit codes:

* 0 — the command ran (a logdir with damaged files still exits 0; damage is shown
  as read issues).
* 1 — only with ``report --fail-on KIND[,KIND]``: a finding of such a kind exists.
* 2 — usage error, missing logdir, or a logdir without event files; one line on
  stderr names the problem.

Reports go to stdout, diagnostics to stderr. Colour follows ``--color``
(``auto`` colours only a terminal, and honours ``NO_COLOR``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from tbplateau import __version__
from tbplateau.analysis import Report, RunReport, analyze
from tbplateau.errors import TbplateauError
from tbplateau.findings import FindingKind
from tbplateau.goals import parse_goal_override
from tbplateau.reader import Logdir, read_logdir
from tbplateau.render import report_markdown, report_renderable

__all__ = ["EXIT_FINDINGS", "EXIT_OK", "EXIT_USAGE", "console_main", "ls_document", "main"]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
LS_SCHEMA = "tbplateau.ls/1"


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so main() owns exit codes."""

    def error(self, message: str) -> Any:
        raise _UsageError(f"{self.prog}: {message}")


class _UsageError(Exception):
    pass


def _parser() -> _Parser:
    parser = _Parser(
        prog="tbplateau",
        description="Find where training plateaued, diverged, went non-finite, overfit or "
        "oscillates, from TensorBoard logs alone.",
    )
    parser.add_argument("--version", action="version", version=f"tbplateau {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    ls = sub.add_parser(
        "ls",
        help="list runs, tags, points, step ranges and read issues",
        description="List every run and tag of a logdir: kind, points, step range, replaced "
        "points (restarts) and read issues.",
    )
    ls.add_argument("logdir", metavar="LOGDIR", help="a local path or an fsspec URL")
    ls.add_argument("--format", choices=("rich", "json"), default="rich")
    ls.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    ls.add_argument(
        "--workers", type=int, default=None, help="processes for reading (default: CPU count)"
    )
    report = sub.add_parser(
        "report",
        help="say where each series plateaued, diverged, went non-finite, overfit or oscillates",
        description="Analyse every scalar series of every run and report plateaus, divergence, "
        "non-finite values, overfitting and oscillation with their onset step.",
    )
    report.add_argument("logdir", metavar="LOGDIR", help="a local path or an fsspec URL")
    report.add_argument(
        "--format",
        choices=("rich", "json", "markdown"),
        default="rich",
        help="rich: the terminal report (default); json: the tbplateau.report/1 document; "
        "markdown: for pull requests and issue comments",
    )
    report.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="auto (default): colour only a terminal, and never when NO_COLOR is set",
    )
    report.add_argument(
        "--goal",
        action="append",
        default=[],
        metavar="TAG_PATTERN=min|max|none",
        help="override the goal inferred from tag names (fnmatch glob; repeatable)",
    )
    report.add_argument("--runs", metavar="REGEX", help="only runs whose name matches")
    report.add_argument("--tags", metavar="REGEX", help="only series whose tag matches")
    report.add_argument(
        "--fail-on",
        metavar="KIND[,KIND]",
        default="",
        help="exit 1 when a finding of one of these kinds exists (for CI)",
    )
    report.add_argument("--workers", type=int, default=None, help=argparse.SUPPRESS)
    return parser


def _parse_kinds(text: str) -> set[FindingKind]:
    kinds = set()
    for word in filter(None, (w.strip() for w in text.split(","))):
        try:
            kinds.add(FindingKind(word))
        except ValueError:
            choices = ", ".join(k.value for k in FindingKind)
            raise _UsageError(
                f"tbplateau report: unknown kind {word!r} (choose from {choices})"
            ) from None
    return kinds


def _regex(text: str | None, option: str) -> re.Pattern[str] | None:
    if text is None:
        return None
    try:
        return re.compile(text)
    except re.error as exc:
        raise _UsageError(f"tbplateau report: bad {option} regex {text!r}: {exc}") from None


def _filter_report(
    report: Report, runs: re.Pattern[str] | None, tags: re.Pattern[str] | None
) -> Report:
    kept = []
    for run in report.runs:
        if runs is not None and not runs.search(run.run):
            continue
        series = tuple(s for s in run.series if tags is None or tags.search(s.tag))
        findings = tuple(
            f for f in run.findings if tags is None or any(tags.search(t) for t in f.tags)
        )
        kept.append(RunReport(run.run, run.read_issues, series, findings))
    return Report(report.logdir, tuple(kept))


def _report_command(args: argparse.Namespace, out: Console, err: Console) -> int:
    fail_on = _parse_kinds(args.fail_on)
    runs = _regex(args.runs, "--runs")
    tags = _regex(args.tags, "--tags")
    for goal in args.goal:
        try:
            parse_goal_override(goal)
        except TbplateauError as exc:
            raise _UsageError(f"tbplateau report: {exc}") from None
    with _progress(out, err) as step:
        step(f"reading {args.logdir}")
        logdir = read_logdir(args.logdir, workers=args.workers, progress=step.files)
        n = sum(len(r.series) for r in logdir.runs)
        step(f"analysing {n:,} series in {len(logdir.runs):,} runs")
        report = _filter_report(analyze(logdir, goals=args.goal), runs, tags)
        step("writing the report")
        if args.format == "json":
            text = report.to_json(indent=1) + "\n"
        elif args.format == "markdown":
            text = report_markdown(report, logdir)
        else:
            text = ""
            renderable = report_renderable(report, logdir)
            with out.capture() as captured:
                out.print(renderable)
            text = captured.get()
    out.file.write(text)
    out.file.flush()
    if fail_on and any(f.kind in fail_on for f in report.findings()):
        return EXIT_FINDINGS
    return EXIT_OK


class _Steps:
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
def _progress(out: Console, err: Console) -> Iterator[_Steps]:
    """A transient progress bar on stderr, only when both streams are terminals.

    While reading it counts files; while analysing it shows the phase and elapsed time.
    """
    if not (out.is_terminal and err.is_terminal):
        yield _Steps(None)
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
        yield _Steps(progress)


def ls_document(logdir: Logdir) -> dict[str, Any]:
    """The JSON document printed by ``tbplateau ls --format json``."""
    runs = []
    for run in logdir.runs:
        tags: list[dict[str, Any]] = [
            {
                "tag": s.tag,
                "kind": "scalar",
                "encoding": s.encoding,
                "points": len(s),
                "first_step": int(s.steps[0]) if len(s) else None,
                "last_step": int(s.steps[-1]) if len(s) else None,
                "replaced_points": s.replaced_points,
            }
            for s in run.series
        ]
        tags.extend({"tag": t.tag, "kind": t.kind, "count": t.count} for t in run.other_tags)
        runs.append(
            {
                "run": run.name,
                "files": list(run.files),
                "session_starts": run.session_starts,
                "tags": tags,
                "read_issues": [i.to_dict() for i in run.read_issues],
            }
        )
    return {"schema": LS_SCHEMA, "logdir": logdir.path, "runs": runs}


def _render_ls(logdir: Logdir, console: Console) -> None:
    n_series = sum(len(r.series) for r in logdir.runs)
    n_points = sum(r.points for r in logdir.runs)
    issues = logdir.read_issues
    console.print(
        Text.assemble(
            ("logdir ", "bold"),
            (logdir.path, "cyan"),
            f"  {len(logdir.runs)} runs, {n_series} scalar series, {n_points:,} points, ",
            (f"{len(issues)} read issues", "bold red" if issues else "green"),
        )
    )
    for run in logdir.runs:
        console.print()
        files = f"{len(run.files)} file" + ("s" if len(run.files) != 1 else "")
        console.print(Text.assemble(("run ", "bold"), (run.name, "bold cyan"), f"  ({files})"))
        if run.series or run.other_tags:
            table = Table(show_edge=False, header_style="bold", pad_edge=False, box=None)
            table.add_column("  tag", overflow="fold")
            table.add_column("kind")
            table.add_column("points", justify="right")
            table.add_column("steps", justify="right")
            table.add_column("replaced", justify="right")
            for s in run.series:
                span = f"{s.steps[0]:,}..{s.steps[-1]:,}" if len(s) else "-"
                kind = "scalar" if s.encoding == "simple_value" else f"scalar ({s.encoding})"
                replaced = (
                    Text(f"{s.replaced_points:,}", style="yellow") if s.replaced_points else "0"
                )
                table.add_row(f"  {s.tag}", kind, f"{len(s):,}", span, replaced)
            for t in run.other_tags:
                table.add_row(f"  {t.tag}", Text(t.kind, style="dim"), f"{t.count:,}", "", "")
            console.print(table)
        for issue in run.read_issues:
            style = "yellow" if issue.problem.value == "truncated" else "red"
            console.print(
                Text.assemble(
                    ("  ", ""), (f"{issue.problem.value}: ", f"bold {style}"), issue.message
                )
            )


def _console(color: str, file: Any) -> Console:
    if color == "always":
        return Console(file=file, force_terminal=True, no_color=False, soft_wrap=False)
    if color == "never":
        return Console(file=file, no_color=True, color_system=None, force_terminal=False)
    return Console(file=file)


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: Console | None = None,
    stderr: Console | None = None,
) -> int:
    """Run the command line ``argv``; return the exit code (never calls ``sys.exit``)."""
    err = stderr or Console(file=sys.stderr)
    try:
        args = _parser().parse_args(argv)
    except _UsageError as exc:
        err.print(Text(str(exc)), highlight=False)
        return EXIT_USAGE
    if args.command is None:
        out = stdout or Console()
        out.print(_parser().format_help(), highlight=False, markup=False)
        return EXIT_USAGE
    out = stdout or _console(args.color, sys.stdout)
    try:
        if args.command == "report":
            return _report_command(args, out, err)
        logdir = read_logdir(args.logdir, workers=args.workers)
    except _UsageError as exc:
        err.print(Text(str(exc)), highlight=False)
        return EXIT_USAGE
    except TbplateauError as exc:
        err.print(Text(f"tbplateau: error: {exc}"), highlight=False)
        return EXIT_USAGE
    if args.format == "json":
        out.file.write(json.dumps(ls_document(logdir), indent=1, allow_nan=False) + "\n")
    else:
        _render_ls(logdir, out)
    return EXIT_OK


def console_main() -> None:
    """Entry point of the ``tbplateau`` console script."""
    sys.exit(main())
