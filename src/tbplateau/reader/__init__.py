"""The reader: every scalar of any TensorBoard logdir, exactly, quickly, and without losing data.

Layers, in the order data flows: :mod:`~tbplateau.reader.discover` finds runs,
:mod:`~tbplateau.reader.scan` walks each file's records (compiled fast path, with a
pure-Python reference), :mod:`~tbplateau.reader.logdir` merges files into runs and
resolves restarts (:mod:`~tbplateau.reader.runs` reads given runs, or a large logdir
run by run in a pool), and :mod:`~tbplateau.reader.model` holds the values returned.
"""

from tbplateau.reader.discover import RunFiles
from tbplateau.reader.logdir import LogdirReader, read_logdir, restart_keep_mask
from tbplateau.reader.model import Logdir, Problem, ReadIssue, Run, TagInfo
from tbplateau.reader.runs import read_runs
from tbplateau.reader.scan import IMPLEMENTATION

__all__ = [
    "IMPLEMENTATION",
    "Logdir",
    "LogdirReader",
    "Problem",
    "ReadIssue",
    "Run",
    "RunFiles",
    "TagInfo",
    "read_logdir",
    "read_runs",
    "restart_keep_mask",
]
