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
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tbplateau import __version__
from tbplateau.analysis import Report, RunReport, SeriesReport, analyze
from tbplateau.errors import TbplateauError
from tbplateau.findings import Finding, FindingKind
from tbplateau.reader import Logdir, read_logdir

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
    report.add_argument("--format", choices=("rich", "json"), default="rich")
    report.add_argument("--color", choices=("auto", "always", "never"), default="auto")
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


def _verdict(series: SeriesReport) -> Text:
    if not series.findings:
        if series.goal is None:
            return Text("not judged (no goal)", style="dim")
        return Text("no finding", style="green")
    parts = []
    for f in series.findings:
        parts.append(_finding_phrase(f))
    return Text("; ").join(parts)


_KIND_STYLE = {
    FindingKind.PLATEAU: "yellow",
    FindingKind.DIVERGENCE: "red",
    FindingKind.NONFINITE: "bold red",
    FindingKind.OVERFITTING: "magenta",
    FindingKind.OSCILLATION: "cyan",
}


def _finding_phrase(f: Finding) -> Text:
    until = "" if f.end_step is None else f" until {f.end_step:,}"
    if f.kind is FindingKind.PLATEAU:
        word = "flat line" if f.detail.get("constant") else "plateaued"
        text = f"{word} since step {f.start_step:,}{until}"
    elif f.kind is FindingKind.DIVERGENCE:
        text = f"diverged at step {f.start_step:,}{until}"
    elif f.kind is FindingKind.NONFINITE:
        text = f"non-finite from step {f.start_step:,}{until}"
    elif f.kind is FindingKind.OVERFITTING:
        text = f"overfitting since step {f.start_step:,} ({f.tags[0]} vs {f.tags[-1]})"
    else:
        text = f"oscillating since step {f.start_step:,}{until}"
    return Text(f"{text} [{f.confidence:.0%}]", style=_KIND_STYLE[f.kind])


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}"


def _render_report(report: Report, console: Console) -> None:
    n_series = sum(len(r.series) for r in report.runs)
    n_findings = sum(1 for _ in report.findings())
    n_issues = sum(len(r.read_issues) for r in report.runs)
    console.print(
        Text.assemble(
            ("logdir ", "bold"),
            (report.logdir, "cyan"),
            f"  {len(report.runs)} runs, {n_series} series, ",
            (f"{n_findings} findings", "bold yellow" if n_findings else "green"),
            ", ",
            (f"{n_issues} read issues", "bold red" if n_issues else "green"),
        )
    )
    for run in report.runs:
        console.print()
        console.print(Text.assemble(("run ", "bold"), (run.run, "bold cyan")))
        for issue in run.read_issues:
            style = "yellow" if issue.problem.value == "truncated" else "red"
            console.print(
                Text.assemble("  ", (f"{issue.problem.value}: ", f"bold {style}"), issue.message)
            )
        if run.series:
            table = Table(show_edge=False, header_style="bold", pad_edge=False, box=None)
            table.add_column("  tag", overflow="fold")
            table.add_column("goal")
            table.add_column("points", justify="right")
            table.add_column("best (step)", justify="right")
            table.add_column("last", justify="right")
            table.add_column("verdict", overflow="fold")
            for s in run.series:
                best = "-" if s.best_step is None else f"{_num(s.best_value)} ({s.best_step:,})"
                table.add_row(
                    f"  {s.tag}",
                    s.goal or "-",
                    f"{s.points:,}",
                    best,
                    _num(s.last_value),
                    _verdict(s),
                )
            console.print(table)
        for f in run.findings:
            console.print(Text.assemble("  ", _finding_phrase(f)))


def _report_command(args: argparse.Namespace, out: Console) -> int:
    fail_on = _parse_kinds(args.fail_on)
    runs = _regex(args.runs, "--runs")
    tags = _regex(args.tags, "--tags")
    logdir = read_logdir(args.logdir, workers=args.workers)
    report = _filter_report(analyze(logdir, goals=args.goal), runs, tags)
    if args.format == "json":
        out.file.write(report.to_json(indent=1) + "\n")
    else:
        _render_report(report, out)
    if fail_on and any(f.kind in fail_on for f in report.findings()):
        return EXIT_FINDINGS
    return EXIT_OK


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
            return _report_command(args, out)
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
