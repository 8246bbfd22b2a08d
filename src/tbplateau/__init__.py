"""tbplateau: where did training plateau, diverge, go non-finite, overfit or oscillate?

Read any TensorBoard logdir, then analyse it::

    >>> import tbplateau
    >>> logdir = tbplateau.read_logdir("fixtures/sample")  # doctest: +SKIP
    >>> report = tbplateau.analyze(logdir)  # doctest: +SKIP
    >>> report.to_dict()["schema"]  # doctest: +SKIP
    'tbplateau.report/1'
"""

from tbplateau.analysis import REPORT_SCHEMA, Report, analyze
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
from tbplateau.series import Series
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
    "detect",
    "read_logdir",
]
