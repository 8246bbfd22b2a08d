"""``tbplateau ls``: every run and tag of a logdir, and its read issues."""

from __future__ import annotations

import argparse
import io
import json
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult

from tbplateau import escape
from tbplateau.cli._common import (
    EXIT_CODES,
    EXIT_OK,
    Subparsers,
    add_color_option,
    add_output_option,
    write_output,
)
from tbplateau.reader import Logdir, Run, read_logdir
from tbplateau.render.layout import Column, Line, cells, plain, rows, segments, wrap

__all__ = [
    "LS_SCHEMA",
    "ls_command",
    "ls_document",
    "ls_lines",
    "ls_parser",
    "ls_text",
    "render_ls",
]

LS_SCHEMA = "tbplateau.ls/1"


def ls_parser(name: str, sub: Subparsers) -> None:
    """Add the ``ls`` command's parser."""
    ls = sub.add_parser(
        name,
        help="list runs, tags, points, step ranges and read issues",
        description="List every run and tag of a logdir: kind, points, step range, replaced\n"
        "points (restarts), duplicate steps and read issues.",
        epilog="examples:\n  tbplateau ls logs/\n  tbplateau ls logs/ --format json -o "
        f"tags.json\n\n{EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ls.add_argument("logdir", metavar="LOGDIR", help="a local path or an fsspec URL")
    ls.add_argument("--format", choices=("rich", "json"), default="rich")
    add_output_option(ls)
    add_color_option(ls)
    ls.add_argument(
        "--workers", type=int, default=None, help="processes for reading (default: CPU count)"
    )


def ls_command(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Run ``tbplateau ls`` with parsed ``args``."""
    logdir = read_logdir(args.logdir, workers=args.workers)
    if args.format == "json":
        text = json.dumps(ls_document(logdir), indent=1, allow_nan=False) + "\n"
    elif args.color != "always" and (args.output is not None or out.color_system is None):
        text = ls_text(logdir, out.width)
    else:
        target = out
        if args.output is not None:
            target = Console(
                file=io.StringIO(),
                width=out.width,
                color_system="truecolor" if args.color == "always" else None,
                force_terminal=args.color == "always",
            )
        with target.capture() as captured:
            render_ls(logdir, target)
        text = captured.get()
    write_output(text, args.output, out)
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
                "duplicate_points": s.duplicate_points,
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


def _name(text: str, width: int | None = None) -> str:
    safe = escape.terminal(text)
    return safe if width is None else escape.shorten(safe, max(1, width))


class _Lines:
    """Finished lines as a rich renderable (segments only: nothing to re-measure)."""

    def __init__(self, lines: list[Line]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from segments(self.lines)


def render_ls(logdir: Logdir, console: Console) -> None:
    """Print the ``ls`` listing of ``logdir`` on ``console`` (names escaped)."""
    console.print(_Lines(ls_lines(logdir, console.width)))


def ls_text(logdir: Logdir, width: int) -> str:
    """The ``ls`` listing as plain text (what a console without colour prints), fast."""
    return "".join(plain(line) + "\n" for line in ls_lines(logdir, width))


def ls_lines(logdir: Logdir, width: int) -> list[Line]:
    """The ``ls`` listing's lines at ``width`` columns (at least 40)."""
    width = max(40, width)
    n_series = sum(len(r.series) for r in logdir.runs)
    n_points = sum(r.points for r in logdir.runs)
    issues = logdir.read_issues
    lines = wrap(
        [
            ("logdir ", "bold"),
            (_name(logdir.path, width - 7), "cyan"),
            (f"  {len(logdir.runs):,} runs, {n_series:,} scalar series, {n_points:,} points, ", ""),
            (f"{len(issues):,} read issues", "bold red" if issues else "green"),
        ],
        width,
    )
    for run in logdir.runs:
        lines.append([])
        files = f"{len(run.files)} file" + ("s" if len(run.files) != 1 else "")
        lines.append(
            [("run ", "bold"), (_name(run.name, width - 20), "bold cyan"), (f"  ({files})", "")]
        )
        if run.series or run.other_tags:
            lines.extend(_table(run, width))
        for issue in run.read_issues:
            style = "yellow" if issue.problem.value == "truncated" else "red"
            lines.extend(
                [("  ", ""), *line]
                for line in wrap(
                    [(f"{issue.problem.value}: ", f"bold {style}"), (_name(issue.message), "")],
                    width - 2,
                )
            )
    return lines


def _table(run: Run, width: int) -> list[Line]:
    series, others = run.series, run.other_tags
    spans = [f"{s.steps[0]:,}..{s.steps[-1]:,}" if len(s) else "-" for s in series]
    kinds = ["scalar" if s.encoding == "simple_value" else f"scalar ({s.encoding})" for s in series]
    dup = any(s.duplicate_points for s in series)
    fixed = {
        "kind": max([4, *map(len, kinds), *(len(t.kind) for t in others)]),
        "points": max(
            [6, *(len(f"{len(s):,}") for s in series), *(len(f"{t.count:,}") for t in others)]
        ),
        "steps": max([5, *map(len, spans)]),
        "replaced": 8,
        "dups": 5,
    }
    keys = ["tag", "kind", "points", "steps", "replaced"] + (["dups"] if dup else [])
    room = width - 2 - sum(fixed[k] + 2 for k in keys[1:])
    names = [_name(s.tag) for s in series] + [_name(t.tag) for t in others]
    # the tag gets what is left of the width (12 cells at least: very narrow terminals wrap)
    tag_w = max(3, min(max(12, room), max((cells(n) for n in names), default=3)))
    columns = [Column("tag", tag_w)] + [Column(k, fixed[k], right=k != "kind") for k in keys[1:]]
    table: list[list[list[Line]]] = []
    for s, span, kind in zip(series, spans, kinds, strict=True):
        restarted = s.replaced_points - s.duplicate_points
        row: list[list[Line]] = [
            [[(escape.shorten(_name(s.tag), tag_w), "")]],
            [[(kind, "")]],
            [[(f"{len(s):,}", "")]],
            [[(span, "")]],
            [[(f"{restarted:,}", "yellow" if restarted else "")]],
        ]
        if dup:
            row.append([[(f"{s.duplicate_points:,}", "dim")]])
        table.append(row)
    for t in others:
        row = [
            [[(escape.shorten(_name(t.tag), tag_w), "")]],
            [[(t.kind, "dim")]],
            [[(f"{t.count:,}", "")]],
            [[]],
            [[]],
        ]
        if dup:
            row.append([[]])
        table.append(row)
    return rows(columns, table, gap=2)
