"""``tbplateau ls``: every run and tag of a logdir, and its read issues."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tbplateau.cli._common import EXIT_OK, Subparsers
from tbplateau.reader import Logdir, read_logdir

__all__ = ["LS_SCHEMA", "ls_command", "ls_document", "ls_parser"]

LS_SCHEMA = "tbplateau.ls/1"


def ls_parser(name: str, sub: Subparsers) -> None:
    """Add the ``ls`` command's parser."""
    ls = sub.add_parser(
        name,
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


def ls_command(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Run ``tbplateau ls`` with parsed ``args``."""
    logdir = read_logdir(args.logdir, workers=args.workers)
    if args.format == "json":
        out.file.write(json.dumps(ls_document(logdir), indent=1, allow_nan=False) + "\n")
    else:
        _render_ls(logdir, out)
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
