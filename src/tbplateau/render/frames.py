"""A report as pandas DataFrames (``Report.to_pandas()``), with the verdicts and advice."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from tbplateau._optional import import_pandas
from tbplateau.explain import report_view
from tbplateau.findings import Finding

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from tbplateau.explain import SeriesView
    from tbplateau.report import Report

__all__ = ["FINDING_COLUMNS", "SERIES_COLUMNS", "ReportFrames", "report_frames"]

SERIES_COLUMNS = (
    "run",
    "tag",
    "goal",
    "points",
    "replaced_points",
    "duplicate_points",
    "first_step",
    "last_step",
    "best_step",
    "best_value",
    "last_value",
    "findings",
    "state",
    "verdict",
    "advice",
    "judging_note",
)
FINDING_COLUMNS = (
    "run",
    "tag",
    "kind",
    "label",
    "start_step",
    "end_step",
    "confidence",
    "tags",
    "diagnosis",
    "advice",
    "detail",
)


class ReportFrames(NamedTuple):
    """``series``: one row per series (its summary, state, verdict and advice as one
    paragraph); ``findings``: one row per finding, ``tag`` the first tag it involves
    (the validation tag for overfitting), ``end_step`` missing when it lasts to the end,
    ``diagnosis`` whether it is the finding the series' advice is about."""

    series: pd.DataFrame
    findings: pd.DataFrame


def report_frames(report: Report) -> ReportFrames:
    """The two tables of :class:`ReportFrames`."""
    pandas = import_pandas()
    view = report_view(report)
    rows: dict[tuple[str, str], SeriesView] = {
        (run.run, row.tag): row for run in view.runs for row in run.series
    }
    series_rows = []
    finding_rows = []
    for run in report.runs:
        for s in run.series:
            row = rows.get((run.run, s.tag))
            advice = row.advice if row is not None else None
            series_rows.append(
                (
                    run.run,
                    s.tag,
                    s.goal,
                    s.points,
                    s.replaced_points,
                    s.duplicate_points,
                    s.first_step,
                    s.last_step,
                    s.best_step,
                    s.best_value,
                    s.last_value,
                    len(s.findings),
                    None if row is None else row.state,
                    None if row is None else row.verdict_text,
                    None if advice is None else f"{advice.title}. {advice.text}",
                    s.note,
                )
            )
            for f in s.findings:
                finding_rows.append(_finding_row(run.run, f, row))
        for f in run.findings:
            finding_rows.append(_finding_row(run.run, f, rows.get((run.run, f.tags[0]))))
    series = pandas.DataFrame(series_rows, columns=list(SERIES_COLUMNS))
    for col in ("first_step", "last_step", "best_step"):
        series[col] = series[col].astype("Int64")
    findings = pandas.DataFrame(finding_rows, columns=list(FINDING_COLUMNS))
    findings["end_step"] = findings["end_step"].astype("Int64")
    findings["start_step"] = findings["start_step"].astype("int64")
    return ReportFrames(series, findings)


def _finding_row(run: str, f: Finding, row: SeriesView | None) -> tuple[object, ...]:
    from tbplateau.findings import finding_label

    advice = None if row is None else row.advice
    diagnosed = advice is not None and advice.kind is f.kind and advice.start_step == f.start_step
    return (
        run,
        f.tags[0],
        f.kind.value,
        finding_label(f),
        f.start_step,
        f.end_step,
        f.confidence,
        f.tags,
        diagnosed,
        None if advice is None else f"{advice.title}. {advice.text}",
        dict(f.detail),
    )
