"""Human-readable views of a :class:`~tbplateau.analysis.Report`.

The JSON document (:func:`tbplateau.analysis.report_document`) is the contract; the
views here are for people and may change between versions:

- :mod:`~tbplateau.render.source` finds the curves behind a report (the ``Logdir``
  it was analysed from, or the logdir re-read from its path);
- :mod:`~tbplateau.render.sparkline` draws a curve in a few characters or an SVG;
- :mod:`~tbplateau.render.forecast` fits the tail of a curve to say what more steps
  would likely bring;
- :mod:`~tbplateau.render.advice` turns each finding into a verdict and advice with
  the run's own numbers (and the replays of the usual callbacks);
- :mod:`~tbplateau.render.terminal`, :mod:`~tbplateau.render.markdown` and
  :mod:`~tbplateau.render.html` lay it all out for a terminal, a pull request or a
  notebook; :mod:`~tbplateau.render.frames` gives the pandas tables.

Every view is computed by :func:`~tbplateau.render.advice.build_view` once, so the
three layouts always say the same thing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import ConsoleRenderable

    from tbplateau.analysis import Report
    from tbplateau.reader.model import Logdir
    from tbplateau.render.advice import ReportView

__all__ = ["report_html", "report_markdown", "report_renderable", "report_view"]


def report_view(report: Report, logdir: Logdir | None = None) -> ReportView:
    """What every layout shows, with the curves of ``logdir`` (or found as
    :func:`~tbplateau.render.source.curves_for` says)."""
    from tbplateau.render.advice import build_view
    from tbplateau.render.source import curves_for

    return build_view(report, curves_for(report, logdir))


def report_renderable(report: Report, logdir: Logdir | None = None) -> ConsoleRenderable:
    """The terminal report, a rich renderable."""
    from tbplateau.render.terminal import TerminalReport

    return TerminalReport(report_view(report, logdir))


def report_markdown(report: Report, logdir: Logdir | None = None) -> str:
    """The report as Markdown."""
    from tbplateau.render.markdown import render_markdown

    return render_markdown(report_view(report, logdir))


def report_html(report: Report, logdir: Logdir | None = None) -> str:
    """The report as an HTML fragment."""
    from tbplateau.render.html import render_html

    return render_html(report_view(report, logdir))
