"""The words of the JSON document: each series' verdict and advice.

:func:`tbplateau.report.report_document` imports this on use (the JSON document is a
view of the report too), so the document says what every other face says. Only the
curves the report was analysed from are used: building the document never reads
the logdir again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tbplateau.explain import report_view
from tbplateau.explain import series_texts as _texts

if TYPE_CHECKING:  # pragma: no cover
    from tbplateau.report import Report

__all__ = ["series_texts"]


def series_texts(report: Report) -> dict[tuple[str, str], dict[str, Any]]:
    """``{(run, tag): {"verdict": str, "advice": dict | None}}`` for every series."""
    return _texts(report_view(report, reread=False))
