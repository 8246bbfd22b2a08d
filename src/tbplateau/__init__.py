"""tbplateau: where did training plateau, diverge, go non-finite, overfit or oscillate?

Read any TensorBoard logdir, then analyse it::

    >>> import tbplateau
    >>> logdir = tbplateau.read_logdir("fixtures/sample")  # doctest: +SKIP
    >>> report = tbplateau.analyze(logdir)  # doctest: +SKIP
    >>> report.to_dict()["schema"]  # doctest: +SKIP
    'tbplateau.report/1'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below are imported on first use (see __getattr__)
    from tbplateau.analysis import analyze
    from tbplateau.errors import (
        InvalidParameterError,
        LogdirNotFoundError,
        MissingExtraError,
        NoEventFilesError,
        TbplateauError,
    )
    from tbplateau.findings import Finding, FindingKind
    from tbplateau.notebook import detect
    from tbplateau.reader import (
        Logdir,
        LogdirReader,
        Problem,
        ReadIssue,
        Run,
        TagInfo,
        read_logdir,
    )
    from tbplateau.report import REPORT_SCHEMA, Report
    from tbplateau.series import Series
    from tbplateau.sweep import analyze_iter
    from tbplateau.watch import Watcher

__version__ = "0.1.0"

__all__ = [
    "REPORT_SCHEMA",
    "Finding",
    "FindingKind",
    "InvalidParameterError",
    "Logdir",
    "LogdirNotFoundError",
    "LogdirReader",
    "MissingExtraError",
    "NoEventFilesError",
    "Problem",
    "ReadIssue",
    "Report",
    "Run",
    "Series",
    "TagInfo",
    "TbplateauError",
    "Watcher",
    "__version__",
    "analyze",
    "analyze_iter",
    "detect",
    "read_logdir",
]

_HOME = {
    "REPORT_SCHEMA": "tbplateau.report",
    "Report": "tbplateau.report",
    "analyze": "tbplateau.analysis",
    "analyze_iter": "tbplateau.sweep",
    "InvalidParameterError": "tbplateau.errors",
    "LogdirNotFoundError": "tbplateau.errors",
    "MissingExtraError": "tbplateau.errors",
    "NoEventFilesError": "tbplateau.errors",
    "TbplateauError": "tbplateau.errors",
    "Finding": "tbplateau.findings",
    "FindingKind": "tbplateau.findings",
    "detect": "tbplateau.notebook",
    "Logdir": "tbplateau.reader",
    "LogdirReader": "tbplateau.reader",
    "Problem": "tbplateau.reader",
    "ReadIssue": "tbplateau.reader",
    "Run": "tbplateau.reader",
    "TagInfo": "tbplateau.reader",
    "read_logdir": "tbplateau.reader",
    "Series": "tbplateau.series",
    "Watcher": "tbplateau.watch",
}
"""Where each public name lives. ``import tbplateau`` imports none of them (so the
TensorBoard entry point, which imports this package first, stays cheap and cannot fail
on a broken numeric stack); each is imported on first use."""


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'tbplateau' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
