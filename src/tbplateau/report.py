"""The report model: what :func:`tbplateau.analyze` found, as plain frozen values.

This module sits below every view. :class:`Report` holds, per run, its read issues,
one :class:`SeriesReport` per scalar series (summary and findings) and the findings
that involve two series (overfitting). :func:`report_document` builds the
``tbplateau.report/1`` JSON document, the public contract read by scripts and CI, and
:meth:`Report.from_dict` reads it back, so the views can render a merged or stored
result.

The display methods (``__rich__``, ``_repr_html_``, ``to_pandas``, ``plot``) are
notebook conveniences: each imports its view when called (as ``pandas.DataFrame.plot``
does), so nothing in this module depends on a view at import time.

>>> from tbplateau.findings import Finding, FindingKind
>>> f = Finding(FindingKind.PLATEAU, 80, None, ("loss",), 0.9)
>>> s = SeriesReport("loss", "min", 200, 0, 0, 199, 150, 0.0183, 0.0185, (f,))
>>> report = Report("logs", (RunReport(".", (), (s,), ()),))
>>> Report.from_dict(report.to_dict()) == report
True
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tbplateau.findings import Finding, Goal, check_goal, json_safe
from tbplateau.reader.model import Problem, ReadIssue

if TYPE_CHECKING:  # pragma: no cover
    from tbplateau.reader.model import Logdir

__all__ = ["REPORT_SCHEMA", "Report", "RunReport", "SeriesReport", "report_document"]

REPORT_SCHEMA = "tbplateau.report/1"
"""Name and version of the JSON document :meth:`Report.to_dict` builds."""


@dataclass(frozen=True)
class SeriesReport:
    """One series' summary and findings."""

    tag: str
    goal: Goal
    points: int
    replaced_points: int
    first_step: int | None
    last_step: int | None
    best_step: int | None
    best_value: float | None
    last_value: float | None
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class RunReport:
    """One run: its read issues, its series and the findings involving two series."""

    run: str
    read_issues: tuple[ReadIssue, ...]
    series: tuple[SeriesReport, ...]
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class Report:
    """Everything :func:`analyze` found in a logdir; :meth:`to_dict` is the JSON document."""

    logdir: str
    runs: tuple[RunReport, ...]
    schema: str = field(default=REPORT_SCHEMA, init=False)

    def findings(self) -> Iterator[Finding]:
        """Every finding, run by run (series findings, then run-level ones)."""
        for run in self.runs:
            for s in run.series:
                yield from s.findings
            yield from run.findings

    def to_dict(self) -> dict[str, Any]:
        """The ``tbplateau.report/1`` document (see :func:`report_document`)."""
        return report_document(self)

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Report:
        """Read a ``tbplateau.report/1`` document back (the curves are not in it).

        Numbers that the document holds as ``null`` (non-finite) come back as NaN.
        Keys added by later versions are ignored.
        """
        if doc.get("schema") != REPORT_SCHEMA:
            raise ValueError(f"not a {REPORT_SCHEMA} document (schema {doc.get('schema')!r})")
        return cls(str(doc["logdir"]), tuple(_run_from_dict(r) for r in doc["runs"]))

    def __rich__(self) -> Any:
        """The terminal report (see :mod:`tbplateau.render.terminal`)."""
        from tbplateau.render import report_renderable  # a view: imported on use only

        return report_renderable(self)

    def _repr_html_(self) -> str:
        """The report for Jupyter: the same tables with inline SVG sparklines."""
        from tbplateau.render import report_html

        return report_html(self)

    def to_pandas(self) -> Any:
        """``(series, findings)`` DataFrames (see :class:`tbplateau.render.frames.ReportFrames`)."""
        from tbplateau.render.frames import report_frames

        return report_frames(self)

    def plot(self, run: str, tag: str, *, ax: Any = None, logdir: Logdir | None = None) -> Any:
        """Draw ``run``/``tag`` with each finding shaded; return the matplotlib Axes."""
        from tbplateau.plot import plot_series

        return plot_series(self, run, tag, ax=ax, logdir=logdir)


def report_document(report: Report) -> dict[str, Any]:
    """Build the ``tbplateau.report/1`` JSON document; non-finite numbers become ``null``.

    This is the only place the document's shape is decided; it never depends on a flag.
    """
    return {
        "schema": REPORT_SCHEMA,
        "logdir": report.logdir,
        "runs": [
            {
                "run": r.run,
                "read_issues": [i.to_dict() for i in r.read_issues],
                "series": [
                    {
                        "tag": s.tag,
                        "goal": s.goal,
                        "points": s.points,
                        "replaced_points": s.replaced_points,
                        "first_step": s.first_step,
                        "last_step": s.last_step,
                        "best_step": s.best_step,
                        "best_value": json_safe(s.best_value),
                        "last_value": json_safe(s.last_value),
                        "findings": [f.to_dict() for f in s.findings],
                    }
                    for s in r.series
                ],
                "findings": [f.to_dict() for f in r.findings],
            }
            for r in report.runs
        ],
    }


def _float(value: Any) -> float | None:
    return math.nan if value is None else float(value)


def _finding_from_dict(d: Mapping[str, Any]) -> Finding:
    return Finding(
        d["kind"],
        d["start_step"],
        d["end_step"],
        tuple(d["tags"]),
        d["confidence"],
        d.get("detail", {}),
    )


def _series_from_dict(d: Mapping[str, Any]) -> SeriesReport:
    points = int(d["points"])
    return SeriesReport(
        tag=str(d["tag"]),
        goal=check_goal(d["goal"]),
        points=points,
        replaced_points=int(d["replaced_points"]),
        first_step=d["first_step"],
        last_step=d["last_step"],
        best_step=d["best_step"],
        best_value=None if d["best_step"] is None else _float(d["best_value"]),
        last_value=None if points == 0 else _float(d["last_value"]),
        findings=tuple(_finding_from_dict(f) for f in d["findings"]),
    )


def _run_from_dict(d: Mapping[str, Any]) -> RunReport:
    issues = tuple(
        ReadIssue(i["file"], int(i["offset"]), Problem(i["problem"]), i["message"])
        for i in d["read_issues"]
    )
    return RunReport(
        str(d["run"]),
        issues,
        tuple(_series_from_dict(s) for s in d["series"]),
        tuple(_finding_from_dict(f) for f in d["findings"]),
    )
