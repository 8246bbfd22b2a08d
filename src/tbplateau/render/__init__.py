"""Layouts of a report for people: terminal, Markdown, HTML, pandas.

The JSON document (:func:`tbplateau.report.report_document`) is the contract; the
layouts here are for people and may change between versions. Each one only formats
the view model of :mod:`tbplateau.explain` (verdicts, advice, numbers), so they always
say the same thing, and each escapes names from the logs at the edge
(:mod:`tbplateau.escape`):

- :mod:`~tbplateau.render.sparkline` draws a curve in a few characters or an SVG;
- :mod:`~tbplateau.render.terminal`, :mod:`~tbplateau.render.markdown` and
  :mod:`~tbplateau.render.html` lay the view out for a terminal, a pull request or a
  notebook and a shareable page; :mod:`~tbplateau.render.frames` gives the pandas
  tables; :mod:`~tbplateau.render.document` the words of the JSON document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tbplateau.explain import report_view

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import ConsoleRenderable

    from tbplateau.reader.model import Logdir
    from tbplateau.report import Report

__all__ = [
    "report_html",
    "report_html_page",
    "report_markdown",
    "report_renderable",
    "report_view",
]


def report_renderable(
    report: Report, logdir: Logdir | None = None, *, show_all: bool = False
) -> ConsoleRenderable:
    """The terminal report, a rich renderable (``show_all``: unfold not-judged rows)."""
    from tbplateau.render.terminal import TerminalReport

    return TerminalReport(report_view(report, logdir), show_all=show_all)


def report_markdown(report: Report, logdir: Logdir | None = None, *, show_all: bool = False) -> str:
    """The report as Markdown."""
    from tbplateau.render.markdown import render_markdown

    return render_markdown(report_view(report, logdir), show_all=show_all)


def report_html(report: Report, logdir: Logdir | None = None, *, show_all: bool = False) -> str:
    """The report as an HTML fragment (what a notebook shows)."""
    from tbplateau.render.html import render_html

    return render_html(report_view(report, logdir), show_all=show_all)


def report_html_page(
    report: Report, logdir: Logdir | None = None, *, show_all: bool = False
) -> str:
    """The report as a whole self-contained HTML page."""
    from tbplateau.render.html import render_html_page

    return render_html_page(report_view(report, logdir), show_all=show_all)
