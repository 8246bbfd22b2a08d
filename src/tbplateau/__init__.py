"""tbplateau: where did training plateau, diverge, go non-finite, overfit or oscillate?

Read any TensorBoard logdir::

    >>> import tbplateau
    >>> logdir = tbplateau.read_logdir("fixtures/sample")  # doctest: +SKIP
"""

from tbplateau.errors import (
    InvalidParameterError,
    LogdirNotFoundError,
    MissingExtraError,
    NoEventFilesError,
    TbplateauError,
)
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

__version__ = "0.1.0"

__all__ = [
    "InvalidParameterError",
    "Logdir",
    "LogdirNotFoundError",
    "LogdirReader",
    "MissingExtraError",
    "NoEventFilesError",
    "Problem",
    "ReadIssue",
    "Run",
    "Series",
    "TagInfo",
    "TbplateauError",
    "__version__",
    "read_logdir",
]
