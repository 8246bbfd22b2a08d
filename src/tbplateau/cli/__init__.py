"""The ``tbplateau`` command: a thin adapter over the public API.

Exit codes:

* 0 — the command ran (a logdir with damaged files still exits 0; damage is shown
  as read issues).
* 1 — only with ``report --fail-on KIND[,KIND]``: a finding of such a kind exists;
  the last line of stderr names the findings (``watch --fail-on``: an alert of such a
  kind is open).
* 2 — usage error (including a ``--runs``/``--tags``/``--goal`` pattern that
  matches nothing; for ``watch`` only with ``--once``, a live watch warns once and
  waits), missing logdir, or a logdir without event files; one line on
  stderr names the problem.

Reports go to stdout, diagnostics to stderr. Colour follows ``--color``
(``auto`` colours only a terminal, and honours ``NO_COLOR``). Each command lives in
its own module (:mod:`~tbplateau.cli.ls`, :mod:`~tbplateau.cli.report`); this one
parses the command line and turns exceptions into exit codes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from tbplateau import __version__, escape
from tbplateau.cli._common import (
    EXIT_CODES,
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    AddParser,
    Command,
    Parser,
    UsageError,
    console,
)
from tbplateau.cli.ls import ls_command, ls_document, ls_parser
from tbplateau.cli.report import report_command, report_parser
from tbplateau.cli.watch import watch_command, watch_parser
from tbplateau.errors import TbplateauError

__all__ = ["EXIT_FINDINGS", "EXIT_OK", "EXIT_USAGE", "console_main", "ls_document", "main"]

COMMANDS: dict[str, tuple[AddParser, Command]] = {
    "ls": (ls_parser, ls_command),
    "report": (report_parser, report_command),
    "watch": (watch_parser, watch_command),
}
"""Every command: the function that adds its parser, and the one that runs it."""


def _parser() -> Parser:
    parser = Parser(
        prog="tbplateau",
        description="Find where training plateaued, diverged, went non-finite, overfit or\n"
        "oscillates, from TensorBoard logs alone.",
        epilog=f"{EXIT_CODES}\n\nRun 'tbplateau COMMAND --help' for a command's options "
        "and examples.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tbplateau {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, (add_arguments, _) in COMMANDS.items():
        add_arguments(name, sub)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: Console | None = None,
    stderr: Console | None = None,
) -> int:
    """Run the command line ``argv``; return the exit code (never calls ``sys.exit``)."""
    err = stderr or Console(file=sys.stderr)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            args = _parser().parse_args(argv)
    except UsageError as exc:
        err.print(Text(str(exc)), highlight=False, soft_wrap=True)
        return EXIT_USAGE
    except SystemExit as exc:  # --help, --version: argparse printed and "exits"
        out = stdout or Console()
        out.file.write(printed.getvalue())
        out.file.flush()
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    if args.command is None:
        out = stdout or Console()
        out.print(_parser().format_help(), highlight=False, markup=False)
        return EXIT_USAGE
    out = stdout or console(args.color, sys.stdout)
    try:
        return COMMANDS[args.command][1](args, out, err)
    except UsageError as exc:
        err.print(Text(str(exc)), highlight=False, soft_wrap=True)
        return EXIT_USAGE
    except TbplateauError as exc:
        message = escape.terminal(f"tbplateau: error: {exc}", limit=2000)
        err.print(Text(message), highlight=False, soft_wrap=True)
        return EXIT_USAGE


def console_main() -> None:
    """Entry point of the ``tbplateau`` console script."""
    sys.exit(main())
