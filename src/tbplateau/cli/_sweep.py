"""``report`` on a sweep: ``--format jsonl``, ``--dask``, ``--runs-from``, ``--workers``.

With any of these options the report is computed by :mod:`tbplateau.sweep`: the runs
are read and analysed group by group, on a local process pool (every core by
default), on Dask, or here with ``--workers 1``, and JSON is written run by run in
bounded memory. The output is the same as without them: ``--format json`` gives the
same bytes, and ``jsonl`` lines are the elements of its ``runs`` array.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
from collections.abc import Iterator
from typing import Any

from rich.console import Console

from tbplateau.cli._common import EXIT_FINDINGS, EXIT_OK, UsageError, progress
from tbplateau.curves import attach
from tbplateau.findings import FindingKind
from tbplateau.reader.model import Logdir
from tbplateau.render import report_markdown, report_renderable
from tbplateau.report import REPORT_SCHEMA, Report
from tbplateau.sweep import LocalPool, Sweep, dask_client, json_chunks, jsonl_lines, read_manifest

__all__ = ["add_sweep_arguments", "sweep_report", "sweep_requested"]


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--dask`` and ``--runs-from`` to the ``report`` parser."""
    parser.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="read and analyse on Dask: local:N starts N worker processes on 127.0.0.1 "
        "(no dashboard), tcp://HOST:PORT uses a running cluster whose workers read with "
        "their own credentials (needs tbplateau[dask])",
    )
    parser.add_argument(
        "--runs-from",
        metavar="FILE",
        help="read only the runs named in FILE, one per line relative to LOGDIR ('-' for "
        "stdin), without listing LOGDIR",
    )


def sweep_requested(args: argparse.Namespace) -> bool:
    """Whether ``report`` runs as a sweep (see the module docstring)."""
    return (
        args.format == "jsonl"
        or args.dask is not None
        or args.runs_from is not None
        or args.workers is not None
    )


def _manifest(path: str) -> list[str]:
    try:
        if path == "-":
            return read_manifest(sys.stdin)
        with open(path, encoding="utf-8") as fh:
            return read_manifest(fh)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        why = getattr(exc, "strerror", None) or exc
        raise UsageError(f"tbplateau report: cannot read --runs-from {path}: {why}") from None


@contextlib.contextmanager
def _client(args: argparse.Namespace) -> Iterator[object]:
    if args.dask is not None:
        with dask_client(args.dask) as client:
            yield client
        return
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"tbplateau report: --workers must be at least 1, got {args.workers}")
    pool = LocalPool(args.workers)
    if pool._max_workers == 1:
        yield None
        return
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _filter_tags(run: dict[str, Any], tags: re.Pattern[str] | None) -> dict[str, Any]:
    if tags is None:
        return run
    run["series"] = [s for s in run["series"] if tags.search(s["tag"])]
    run["findings"] = [f for f in run["findings"] if any(tags.search(t) for t in f["tags"])]
    return run


def _kinds(run: dict[str, Any]) -> Iterator[str]:
    for s in run["series"]:
        yield from (f["kind"] for f in s["findings"])
    yield from (f["kind"] for f in run["findings"])


def _write(out: Console, chunks: Iterator[str]) -> bool:
    """Write ``chunks`` as they come; False when stdout was closed under us."""
    try:
        for chunk in chunks:
            out.file.write(chunk)
        out.file.flush()
    except BrokenPipeError:
        if out.file is sys.stdout:  # no second error when Python flushes it at exit
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return False
    return True


def sweep_report(
    args: argparse.Namespace,
    out: Console,
    err: Console,
    *,
    runs: re.Pattern[str] | None,
    tags: re.Pattern[str] | None,
    fail_on: set[FindingKind],
) -> int:
    """``report`` as a sweep; the other options were checked by ``report_command``."""
    names = None if args.runs_from is None else _manifest(args.runs_from)
    wanted = {k.value for k in fail_on}
    found = False

    def docs(sweep: Sweep) -> Iterator[dict[str, Any]]:
        nonlocal found
        for _, text in sweep.texts():
            doc = _filter_tags(json.loads(text), tags)
            found = found or any(k in wanted for k in _kinds(doc))
            yield doc

    kept: list[dict[str, Any]] = []
    with _client(args) as client, progress(out, err) as step:
        step(f"listing {args.logdir}")
        sweep = Sweep(
            args.logdir,
            client=client,
            goals=args.goal,
            runs=names,
            select=None if runs is None else (lambda n: runs.search(n) is not None),
            progress=step.files,
        )
        step(f"analysing {len(sweep.names()):,} runs on {sweep.workers} {sweep.backend}")
        if args.format in ("json", "jsonl"):
            chunks = (
                json_chunks(args.logdir, docs(sweep))
                if args.format == "json"
                else jsonl_lines(docs(sweep))
            )
            if not _write(out, chunks):
                return EXIT_OK  # the reader of our output went away (| head): stop quietly
        else:
            kept = list(docs(sweep))
    if args.format in ("rich", "markdown"):
        report = Report.from_dict({"schema": REPORT_SCHEMA, "logdir": args.logdir, "runs": kept})
        # the curves stayed on the workers: the views say so rather than re-read the logdir
        attach(report, Logdir(args.logdir, ()))
        if args.format == "markdown":
            out.file.write(report_markdown(report))
        else:
            out.print(report_renderable(report))
    out.file.flush()
    return EXIT_FINDINGS if found else EXIT_OK
