"""``tbplateau report``: analyse a logdir and print the report."""

from __future__ import annotations

import argparse
import re

from rich.console import Console

from tbplateau.analysis import analyze
from tbplateau.cli._common import EXIT_FINDINGS, EXIT_OK, Subparsers, UsageError, progress
from tbplateau.cli._sweep import add_sweep_arguments, sweep_report, sweep_requested
from tbplateau.errors import TbplateauError
from tbplateau.findings import FindingKind
from tbplateau.goals import parse_goal_override
from tbplateau.reader import read_logdir
from tbplateau.render import report_markdown, report_renderable
from tbplateau.report import Report, RunReport

__all__ = ["report_command", "report_parser"]


def report_parser(name: str, sub: Subparsers) -> None:
    """Add the ``report`` command's parser."""
    report = sub.add_parser(
        name,
        help="say where each series plateaued, diverged, went non-finite, overfit or oscillates",
        description="Analyse every scalar series of every run and report plateaus, divergence, "
        "non-finite values, overfitting and oscillation with their onset step.",
    )
    report.add_argument("logdir", metavar="LOGDIR", help="a local path or an fsspec URL")
    report.add_argument(
        "--format",
        choices=("rich", "json", "markdown", "jsonl"),
        default="rich",
        help="rich: the terminal report (default); json: the tbplateau.report/1 document; "
        "markdown: for pull requests and issue comments; jsonl: one run per line, written "
        "as runs are done (for sweeps)",
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
    add_sweep_arguments(report)  # --dask, --runs-from (cli/_sweep.py)


def _parse_kinds(text: str) -> set[FindingKind]:
    kinds = set()
    for word in filter(None, (w.strip() for w in text.split(","))):
        try:
            kinds.add(FindingKind(word))
        except ValueError:
            choices = ", ".join(k.value for k in FindingKind)
            raise UsageError(
                f"tbplateau report: unknown kind {word!r} (choose from {choices})"
            ) from None
    return kinds


def _regex(text: str | None, option: str) -> re.Pattern[str] | None:
    if text is None:
        return None
    try:
        return re.compile(text)
    except re.error as exc:
        raise UsageError(f"tbplateau report: bad {option} regex {text!r}: {exc}") from None


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


def report_command(args: argparse.Namespace, out: Console, err: Console) -> int:
    fail_on = _parse_kinds(args.fail_on)
    runs = _regex(args.runs, "--runs")
    tags = _regex(args.tags, "--tags")
    for goal in args.goal:
        try:
            parse_goal_override(goal)
        except TbplateauError as exc:
            raise UsageError(f"tbplateau report: {exc}") from None
    if sweep_requested(args):  # --format jsonl, --dask, --runs-from, --workers
        return sweep_report(args, out, err, runs=runs, tags=tags, fail_on=fail_on)
    with progress(out, err) as step:
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
