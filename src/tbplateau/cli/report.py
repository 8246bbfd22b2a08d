"""``tbplateau report``: analyse a logdir and print the report."""

from __future__ import annotations

import argparse
import io

from rich.console import Console

from tbplateau.analysis import analyze
from tbplateau.cli._common import (
    EXIT_CODES,
    EXIT_FINDINGS,
    EXIT_OK,
    PATTERN_HELP,
    FailOn,
    Selection,
    Subparsers,
    add_color_option,
    add_fail_on_option,
    add_output_option,
    add_selection_options,
    print_line,
    progress,
    write_output,
)
from tbplateau.cli._sweep import add_sweep_arguments, sweep_report, sweep_requested
from tbplateau.reader import Logdir, read_logdir
from tbplateau.render import report_html_page, report_markdown, report_renderable
from tbplateau.render.terminal import TerminalReport
from tbplateau.report import Report

__all__ = ["report_command", "report_parser"]

EXAMPLES = """examples:
  tbplateau report logs/
  tbplateau report logs/ --runs 'sweep/lr_*' --tags '*loss*'
  tbplateau report logs/ --goal 'eval/bleu=max' --goal 'batch_*=min'
  tbplateau report logs/ --format markdown -o summary.md   # a CI job summary
  tbplateau report logs/ --format html -o report.html      # one page to share
  tbplateau report logs/ --fail-on non-finite,divergence   # exit 1 if any
  tbplateau report s3://bucket/sweep --format jsonl        # a sweep, every core
  tbplateau report s3://bucket/sweep --dask local:8        # a sweep on Dask"""


def report_parser(name: str, sub: Subparsers) -> None:
    """Add the ``report`` command's parser."""
    report = sub.add_parser(
        name,
        help="say where each series plateaued, diverged, went non-finite, overfit or oscillates",
        description="Analyse every scalar series of every run and report plateaus, divergence,\n"
        "non-finite values, overfitting and oscillation with their onset step, a verdict\n"
        "per series and what to try.",
        epilog=f"{PATTERN_HELP}\n\n{EXAMPLES}\n\n{EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("logdir", metavar="LOGDIR", help="a local path or an fsspec URL")
    report.add_argument(
        "--format",
        choices=("rich", "json", "markdown", "html", "jsonl"),
        default="rich",
        help="rich: the terminal report (default); json: the tbplateau.report/1 document; "
        "markdown: for pull requests and CI job summaries; html: one self-contained page; "
        "jsonl: one run per line, written as runs are done (for sweeps)",
    )
    add_output_option(report)
    add_color_option(report)
    add_selection_options(report)
    add_fail_on_option(report)
    report.add_argument(
        "--all",
        action="store_true",
        help="show every series, also those not judged (folded into one line per run)",
    )
    report.add_argument("--workers", type=int, default=None, help=argparse.SUPPRESS)
    add_sweep_arguments(report)  # --dask, --runs-from (cli/_sweep.py)


def _render(report: Report, logdir: Logdir, args: argparse.Namespace, out: Console) -> str:
    if args.format == "json":
        return report.to_json(indent=1) + "\n"
    if args.format == "markdown":
        return report_markdown(report, logdir, show_all=args.all)
    if args.format == "html":
        return report_html_page(report, logdir, show_all=args.all)
    renderable = report_renderable(report, logdir, show_all=args.all)
    colour = args.color == "always" or (args.output is None and out.color_system is not None)
    if not colour and isinstance(renderable, TerminalReport):
        ascii_only = not (out.encoding or "utf-8").lower().startswith("utf")
        return renderable.plain(out.width, ascii_only=ascii_only)
    if args.output is None:
        with out.capture() as captured:
            out.print(renderable)
        return captured.get()
    target = Console(
        file=io.StringIO(),
        width=out.width,
        color_system="truecolor" if args.color == "always" else None,
        force_terminal=args.color == "always",
        legacy_windows=False,
    )
    with target.capture() as captured:
        target.print(renderable)
    return captured.get()


def report_command(args: argparse.Namespace, out: Console, err: Console) -> int:
    fail_on = FailOn.parse(args.fail_on, "tbplateau report")
    selection = Selection.from_args(args, "tbplateau report")
    if sweep_requested(args):  # --format jsonl, --dask, --runs-from, --workers
        return sweep_report(args, out, err, selection=selection, fail_on=fail_on, render=_render)
    with progress(out, err) as step:
        step(f"reading {args.logdir}")
        logdir = read_logdir(args.logdir, workers=args.workers, progress=step.files)
        logdir = selection.runs_of(logdir)
        for note in selection.notes(logdir):
            print_line(err, note)
        n = sum(len(r.series) for r in logdir.runs)
        step(f"analysing {n:,} series in {len(logdir.runs):,} runs")
        report = analyze(logdir, goals=selection.goals, progress=step.runs)
        report = selection.filter(report, logdir)
        step("writing the report")
        text = _render(report, logdir, args, out)
    write_output(text, args.output, out)
    if fail_on:
        hits = fail_on.tripped(report)
        if hits:
            print_line(err, fail_on.message(hits))
            return EXIT_FINDINGS
    return EXIT_OK
