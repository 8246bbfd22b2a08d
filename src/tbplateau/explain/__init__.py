"""What a report says in words, independent of any layout (the view model).

:func:`build_view` turns a :class:`~tbplateau.report.Report` and the curves behind it
into a :class:`~tbplateau.explain.model.ReportView`: per series a state, a verdict and
one diagnosis (:class:`~tbplateau.explain.model.Advice`: a title, facts quoting the
run's own numbers, what to try, the other findings as context), per run its notes and
what was not judged, and the runs worst first. Every face (terminal, Markdown, HTML,
JSON, the TensorBoard tab, ``watch``) formats this one view, so they never disagree.
Nothing here imports a view or escapes a name: the views escape at the edge.

- :mod:`~tbplateau.explain.context`: the logged LR, train/validation partners, twins,
  bounds and chance level;
- :mod:`~tbplateau.explain.advice`: :func:`~tbplateau.explain.advice.diagnose`, one
  diagnosis per series, from :mod:`~tbplateau.explain.kinds` (one builder per kind of
  finding), :mod:`~tbplateau.explain.states` (solved, chance level, warm-up, improving,
  worsening) and :mod:`~tbplateau.explain.facts` (the sentences they are made of);
- :mod:`~tbplateau.explain.view`: the whole report;
- :mod:`~tbplateau.explain.forecast`: what more steps would bring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tbplateau.curves import curves_for
from tbplateau.explain.model import Advice, ReportView, RunView, SeriesView, Verdict
from tbplateau.explain.text import fmt, fmt_best, fmt_step, plural
from tbplateau.explain.view import build_view, phrase, series_texts, verdict

if TYPE_CHECKING:  # pragma: no cover
    from tbplateau.reader.model import Logdir
    from tbplateau.report import Report

__all__ = [
    "Advice",
    "ReportView",
    "RunView",
    "SeriesView",
    "Verdict",
    "build_view",
    "fmt",
    "fmt_best",
    "fmt_step",
    "phrase",
    "plural",
    "report_view",
    "series_texts",
    "verdict",
]


def report_view(report: Report, logdir: Logdir | None = None, *, reread: bool = True) -> ReportView:
    """The view of ``report``, with the curves of ``logdir`` (or found as
    :func:`~tbplateau.curves.curves_for` says; ``reread=False``: only the curves the
    report was analysed from)."""
    return build_view(report, curves_for(report, logdir, reread=reread))
