"""``report`` on a sweep: ``--format jsonl``, ``--dask``, ``--runs-from``, ``--workers``.

With any of these options the report is computed by :mod:`tbplateau.sweep`: the runs
are read and analysed group by group, on a local process pool (every core by
default), on Dask, or here with ``--workers 1``, and JSON is written run by run in
bounded memory. The output is the same as without them: ``--format json`` gives the
same bytes, and ``jsonl`` lines are the elements of its ``runs`` array. Two
differences: ``--tags`` and ``--goal`` are not checked against the tags before the
work starts (they are not known until every run is read), and the other formats say
the curves are not available (they stayed on the workers).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any, overload

from rich.console import Console

from tbplateau import selection as core
from tbplateau.cli._common import (
    EXIT_FINDINGS,
    EXIT_OK,
    FailOn,
    Selection,
    Steps,
    UsageError,
    print_line,
    progress,
    write_output,
)
from tbplateau.findings import Finding
from tbplateau.reader.model import Logdir, Run
from tbplateau.report import REPORT_SCHEMA, Report
from tbplateau.sweep import (
    LocalPool,
    Summary,
    Sweep,
    dask_client,
    json_chunks,
    jsonl_lines,
    read_manifest,
    run_report,
)

__all__ = ["add_sweep_arguments", "sweep_report", "sweep_requested"]

Render = Callable[[Report, Logdir, argparse.Namespace, Console], str]


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


@contextlib.contextmanager
def _output(path: str | None, out: Console) -> Iterator[IO[str]]:
    """Where to stream: stdout, or a temporary file renamed onto ``path`` at the end."""
    if path is None:
        yield out.file
        return
    target = os.path.abspath(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tbplateau-", dir=os.path.dirname(target) or ".")
    except OSError as exc:
        raise UsageError(f"tbplateau: cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp made it private; a report is to share
        os.replace(tmp, target)
    except OSError as exc:
        raise UsageError(f"tbplateau: cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class _Hits(Sequence[tuple[str, Finding]]):
    """What tripped ``--fail-on``: the first few, and how many in all."""

    def __init__(self, keep: int = 5) -> None:
        self.first: list[tuple[str, Finding]] = []
        self.total = 0
        self._keep = keep

    def add(self, hit: tuple[str, Finding]) -> None:
        self.total += 1
        if len(self.first) < self._keep:
            self.first.append(hit)

    def __len__(self) -> int:
        return self.total

    @overload
    def __getitem__(self, i: int) -> tuple[str, Finding]: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[tuple[str, Finding]]: ...

    def __getitem__(self, i: int | slice) -> Any:
        return self.first[i]


def _write(fh: IO[str], chunks: Iterator[str]) -> bool:
    """Write ``chunks`` as they come; False when stdout was closed under us (``| head``)."""
    try:
        for chunk in chunks:
            fh.write(chunk)
        fh.flush()
    except BrokenPipeError:
        if fh is sys.stdout:  # no second error when Python flushes it at exit
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return False
    return True


def _check_runs(selection: Selection, names: Sequence[str]) -> None:
    """``--runs`` must match a run, as without a sweep (tags are not known yet)."""
    runs_only = core.Selection(runs=selection.select.runs_pattern)
    for unmatched in runs_only.unmatched(_names_only(names)):
        raise selection.unmatched_error(unmatched)


def _names_only(names: Sequence[str]) -> Logdir:
    return Logdir("", tuple(Run(n, (), ()) for n in names))


def _open(
    args: argparse.Namespace, client: object, selection: Selection, step: Steps, err: Console
) -> Sweep:
    """List the sweep's runs (those of ``--runs-from`` when given), check the selection
    against them and say how the analysis will run."""
    names = None if args.runs_from is None else _manifest(args.runs_from)
    step(f"listing {args.logdir}")
    sweep = Sweep(
        args.logdir,
        client=client,
        goals=selection.goals,
        runs=names,
        select_runs=selection.select.runs_pattern,
        select_tags=selection.select.tags_pattern,
        progress=step.runs,
    )
    listed = [r.name for r in sweep.listing.runs]
    _check_runs(selection, listed)
    for note in selection.notes(_names_only(listed)):
        print_line(err, note)
    step(f"analysing {len(sweep.names()):,} runs on {sweep.workers} {sweep.backend}")
    return sweep


def sweep_report(
    args: argparse.Namespace,
    out: Console,
    err: Console,
    *,
    selection: Selection,
    fail_on: FailOn,
    render: Render,
) -> int:
    """``report`` as a sweep; ``render`` draws the formats other than JSON."""
    summary = Summary()
    hits = _Hits()

    def docs(sweep: Sweep) -> Iterator[dict[str, Any]]:
        for _, text in sweep.texts():
            doc = json.loads(text)
            run = run_report(doc, args.logdir)
            summary.add(run)
            for f in run.all_findings():
                if fail_on and fail_on.matches(f):
                    hits.add((run.run, f))
            yield doc

    kept: list[dict[str, Any]] = []
    with _client(args) as client, progress(out, err) as step:
        sweep = _open(args, client, selection, step, err)
        if args.format in ("json", "jsonl"):
            with _output(args.output, out) as fh:
                chunks = (
                    json_chunks(args.logdir, docs(sweep), summary)
                    if args.format == "json"
                    else jsonl_lines(docs(sweep))
                )
                if not _write(fh, chunks):
                    return EXIT_OK  # the reader of our output went away: stop quietly
        else:
            kept = list(docs(sweep))
    if args.format not in ("json", "jsonl"):
        doc = {"schema": REPORT_SCHEMA, "logdir": args.logdir, "runs": kept}
        # the curves stayed on the workers: the views say so rather than re-read the logdir
        empty = Logdir(args.logdir, ())
        write_output(render(Report.from_dict(doc), empty, args, out), args.output, out)
    if hits:
        print_line(err, fail_on.message(hits))
        return EXIT_FINDINGS
    return EXIT_OK
