"""The ``tbplateau`` command: a thin adapter over the public API.

Exit codes:

* 0 — the command ran (a logdir with damaged files still exits 0; damage is shown
  as read issues).
* 2 — usage error, missing logdir, or a logdir without event files; one line on
  stderr names the problem.

Reports go to stdout, diagnostics to stderr. Colour follows ``--color``
(``auto`` colours only a terminal, and honours ``NO_COLOR``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tbplateau import __version__
from tbplateau.errors import TbplateauError
from tbplateau.reader import Logdir, read_logdir

__all__ = ["EXIT_OK", "EXIT_USAGE", "console_main", "ls_document", "main"]

EXIT_OK = 0
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
    return parser


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
        logdir = read_logdir(args.logdir, workers=args.workers)
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
