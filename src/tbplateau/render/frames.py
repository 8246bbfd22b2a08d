"""A report as pandas DataFrames (``Report.to_pandas()``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from tbplateau._optional import import_pandas
from tbplateau.findings import Finding

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from tbplateau.report import Report

__all__ = ["FINDING_COLUMNS", "SERIES_COLUMNS", "ReportFrames", "report_frames"]

SERIES_COLUMNS = (
    "run",
    "tag",
    "goal",
    "points",
    "replaced_points",
    "first_step",
    "last_step",
    "best_step",
    "best_value",
    "last_value",
    "findings",
)
FINDING_COLUMNS = ("run", "tag", "kind", "start_step", "end_step", "confidence", "tags", "detail")


class ReportFrames(NamedTuple):
    """``series``: one row per series (its summary and number of findings);
    ``findings``: one row per finding, ``tag`` the first tag it involves (the
    validation tag for overfitting), ``end_step`` missing when it lasts to the end."""

    series: pd.DataFrame
    findings: pd.DataFrame


def report_frames(report: Report) -> ReportFrames:
    """The two tables of :class:`ReportFrames`."""
    pandas = import_pandas()
    series_rows = []
    finding_rows = []
    for run in report.runs:
        for s in run.series:
            series_rows.append(
                (
                    run.run,
                    s.tag,
                    s.goal,
                    s.points,
                    s.replaced_points,
                    s.first_step,
                    s.last_step,
                    s.best_step,
                    s.best_value,
                    s.last_value,
                    len(s.findings),
                )
            )
            for f in s.findings:
                finding_rows.append(_finding_row(run.run, f))
        for f in run.findings:
            finding_rows.append(_finding_row(run.run, f))
    series = pandas.DataFrame(series_rows, columns=list(SERIES_COLUMNS))
    for col in ("first_step", "last_step", "best_step"):
        series[col] = series[col].astype("Int64")
    findings = pandas.DataFrame(finding_rows, columns=list(FINDING_COLUMNS))
    findings["end_step"] = findings["end_step"].astype("Int64")
    findings["start_step"] = findings["start_step"].astype("int64")
    return ReportFrames(series, findings)


def _finding_row(run: str, f: Finding) -> tuple[object, ...]:
    return (
        run,
        f.tags[0],
        f.kind.value,
        f.start_step,
        f.end_step,
        f.confidence,
        f.tags,
        dict(f.detail),
    )
