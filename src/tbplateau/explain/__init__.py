"""What a report says in words, independent of any layout (the view model).

:func:`build_view` turns a :class:`~tbplateau.report.Report` and the curves behind it
into a :class:`~tbplateau.explain.advice.ReportView`: per series a verdict, per finding
a title, facts quoting the run's own numbers and what to try, plus forecasts and the
replays of the usual callbacks. Every face (terminal, Markdown, HTML, the TensorBoard
tab, ``watch``) formats this one view, so they never disagree. Nothing here imports a
view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tbplateau.curves import curves_for
from tbplateau.explain.advice import (
    Advice,
    ReportView,
    RunView,
    SeriesView,
    build_view,
    fmt,
    fmt_step,
    verdict,
)

if TYPE_CHECKING:  # pragma: no cover
    from tbplateau.reader.model import Logdir
    from tbplateau.report import Report

__all__ = [
    "Advice",
    "ReportView",
    "RunView",
    "SeriesView",
    "build_view",
    "fmt",
    "fmt_step",
    "report_view",
    "verdict",
]


def report_view(report: Report, logdir: Logdir | None = None) -> ReportView:
    """The view of ``report``, with the curves of ``logdir`` (or found as
    :func:`~tbplateau.curves.curves_for` says)."""
    return build_view(report, curves_for(report, logdir))
