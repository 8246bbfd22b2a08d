"""The curves behind a report.

A :class:`~tbplateau.analysis.Report` holds summaries and findings, not the points.
The views need the points (sparklines, callback replays, forecasts, plots); they get
them from, in order: the ``Logdir`` passed explicitly, the one remembered on the
report by :func:`attach`, or the logdir re-read from ``report.logdir`` when that path
still exists. Without any of them a view leaves the curve out and says so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from tbplateau.series import Series

if TYPE_CHECKING:  # pragma: no cover
    from tbplateau.reader.model import Logdir
    from tbplateau.report import Report

__all__ = ["Curves", "attach", "curves_for"]

Curves = Mapping[tuple[str, str], Series]
"""Series by ``(run, tag)``."""

_ATTR = "_tbplateau_curves"


def _index(logdir: Logdir) -> dict[tuple[str, str], Series]:
    return {(run.name, s.tag): s for run in logdir.runs for s in run.series}


def attach(report: Report, logdir: Logdir) -> Report:
    """Remember on ``report`` the ``logdir`` it was analysed from; returns ``report``.

    The report stays a frozen value (equality and the JSON document ignore this).
    """
    object.__setattr__(report, _ATTR, _index(logdir))
    return report


def curves_for(report: Report, logdir: Logdir | None = None, *, reread: bool = True) -> Curves:
    """The series behind ``report`` by ``(run, tag)``; empty when none can be found.

    With ``reread=False`` the logdir is never read again (the JSON document uses the
    curves it was analysed from, or none).
    """
    if logdir is not None:
        return _index(logdir)
    cached: Curves | None = getattr(report, _ATTR, None)
    if cached is not None:
        return cached
    if not reread:
        return {}
    found: Curves = {}
    if _readable(report.logdir):
        from tbplateau.errors import TbplateauError
        from tbplateau.reader import read_logdir

        try:
            found = _index(read_logdir(report.logdir))
        except (TbplateauError, OSError):
            found = {}
    object.__setattr__(report, _ATTR, found)
    return found


def _readable(path: str) -> bool:
    return "://" in path or os.path.isdir(path)
