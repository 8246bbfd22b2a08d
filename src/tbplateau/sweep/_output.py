"""The JSON outputs of a sweep, written run by run.

``json`` is the ``tbplateau.report/1`` document, byte for byte what
``Report.to_json(indent=1)`` gives, written as runs arrive, its ``summary`` built run
by run (:class:`Summary`) and written last; ``jsonl`` is one run per line (an element
of the document's ``runs`` array, in the same order). Neither holds more than one
run at a time.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from tbplateau.report import (
    KIND_ORDER,
    REPORT_SCHEMA,
    Report,
    RunReport,
    report_summary,
    run_severity,
)

__all__ = ["Summary", "json_chunks", "jsonl_lines", "run_report"]

RunDoc = Mapping[str, Any]

WORST_RUNS = 10
"""Runs named in the summary's ``worst_runs`` (as :func:`~tbplateau.report.report_summary`)."""


def run_report(doc: RunDoc, logdir: str = "") -> RunReport:
    """One element of a document's ``runs`` array read back."""
    return Report.from_dict({"schema": REPORT_SCHEMA, "logdir": logdir, "runs": [doc]}).runs[0]


class Summary:
    """The document's ``summary``, run by run: :func:`~tbplateau.report.report_summary`
    of all the runs added, without holding them.

    >>> from tbplateau.report import SeriesReport
    >>> runs = [RunReport(n, (), (SeriesReport("loss", "min", 3, 0, 0, 2, 2, .1, .1, ()),), ())
    ...         for n in ("a", "b")]
    >>> s = Summary()
    >>> for r in runs:
    ...     s.add(r)
    >>> s.result() == report_summary(Report("x", tuple(runs)))
    True
    """

    def __init__(self) -> None:
        self._total = report_summary(Report("", ()))
        self._labels: dict[str, int] = {}
        self._worst: list[_Desc] = []  # the best WORST_RUNS so far; the root is the least bad

    def add(self, run: RunReport) -> None:
        part = report_summary(Report("", (run,)))
        for key, value in part.items():
            if isinstance(value, int):
                self._total[key] += value
        for label, n in part["findings_by_label"].items():
            self._labels[label] = self._labels.get(label, 0) + n
        worst, n = run_severity(run)
        if n:
            rank = ((worst, -n), run.run)
            if len(self._worst) < WORST_RUNS:
                heapq.heappush(self._worst, _Desc(rank))
            elif rank < self._worst[0].key:
                heapq.heapreplace(self._worst, _Desc(rank))

    def result(self) -> dict[str, Any]:
        out = dict(self._total)
        out["findings_by_label"] = {k: self._labels[k] for k in KIND_ORDER if k in self._labels}
        out["worst_runs"] = [name for _, name in sorted(d.key for d in self._worst)]
        return out


class _Desc:
    """A heap entry ordered the other way round (heapq is a min-heap)."""

    __slots__ = ("key",)

    def __init__(self, key: tuple[tuple[int, int], str]) -> None:
        self.key = key

    def __lt__(self, other: _Desc) -> bool:
        return other.key < self.key


def jsonl_lines(runs: Iterable[RunDoc]) -> Iterator[str]:
    """One line per run: its element of the report's ``runs`` array."""
    for run in runs:
        yield json.dumps(run, allow_nan=False) + "\n"


def _nested(value: Any, indent: int, level: int) -> str:
    # JSON strings escape newlines: every newline here is structure, safe to indent
    text = json.dumps(value, indent=indent, allow_nan=False)
    return text.replace("\n", "\n" + " " * (indent * level))


def json_chunks(
    logdir: str, runs: Iterable[RunDoc], summary: Summary | None = None, *, indent: int = 1
) -> Iterator[str]:
    """The report document, as ``json.dumps(doc, indent=indent)`` and a newline give it.

    ``summary`` is read once the runs are written (feed it as they go by).

    >>> doc = {"schema": REPORT_SCHEMA, "logdir": "x", "runs": [{"run": ".", "a": [1, {}]}]}
    >>> "".join(json_chunks("x", doc["runs"])) == json.dumps(doc, indent=1) + "\\n"
    True
    """
    pad = " " * indent
    yield "{\n" + pad + '"schema": ' + json.dumps(REPORT_SCHEMA) + ",\n"
    yield pad + '"logdir": ' + json.dumps(logdir) + ",\n" + pad + '"runs": ['
    first = True
    for run in runs:
        yield ("\n" if first else ",\n") + pad * 2 + _nested(run, indent, 2)
        first = False
    yield "]" if first else "\n" + pad + "]"
    if summary is not None:
        yield ",\n" + pad + '"summary": ' + _nested(summary.result(), indent, 1)
    yield "\n}\n"
