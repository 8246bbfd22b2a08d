"""The ``tbplateau`` command: a thin adapter over the public API.

Exit codes:

* 0 — the command ran (a logdir with damaged files still exits 0; damage is shown
  as read issues).
* 1 — only with ``report --fail-on KIND[,KIND]``: a finding of such a kind exists.
* 2 — usage error, missing logdir, or a logdir without event files; one line on
  stderr names the problem.

Reports go to stdout, diagnostics to stderr. Colour follows ``--color``
(``auto`` colours only a terminal, and honours ``NO_COLOR``). Each command lives in
its own module (:mod:`~tbplateau.cli.ls`, :mod:`~tbplateau.cli.report`); this one
parses the command line and turns exceptions into exit codes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from tbplateau import __version__
from tbplateau.cli._common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    Parser,
    UsageError,
    console,
)
from tbplateau.cli.ls import ls_command, ls_document
from tbplateau.cli.report import report_command
from tbplateau.errors import TbplateauError

__all__ = ["EXIT_FINDINGS", "EXIT_OK", "EXIT_USAGE", "console_main", "ls_document", "main"]

COMMANDS = {"ls": ls_command, "report": report_command}


def _parser() -> Parser:
    parser = Parser(
        prog="tbplateau",
        description="Find where training plateaued, diverged, went non-finite, overfit or "
        "oscillates, from TensorBoard logs alone.",
    )
    parser.add_argument("--version", action="version", version=f"tbplateau {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
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
    except UsageError as exc:
        err.print(Text(str(exc)), highlight=False)
        return EXIT_USAGE
    if args.command is None:
        out = stdout or Console()
        out.print(_parser().format_help(), highlight=False, markup=False)
        return EXIT_USAGE
    out = stdout or console(args.color, sys.stdout)
    try:
        return COMMANDS[args.command](args, out, err)
    except UsageError as exc:
        err.print(Text(str(exc)), highlight=False)
        return EXIT_USAGE
    except TbplateauError as exc:
        err.print(Text(f"tbplateau: error: {exc}"), highlight=False)
        return EXIT_USAGE


def console_main() -> None:
    """Entry point of the ``tbplateau`` console script."""
    sys.exit(main())
