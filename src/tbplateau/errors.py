"""The exceptions tbplateau raises for caller mistakes.

Data problems (a truncated or corrupt event file, a Git LFS pointer where an event
file should be) are never exceptions: they are :class:`~tbplateau.reader.ReadIssue`
values in the result. Exceptions are for mistakes the caller can fix::

    TbplateauError
    ├── LogdirNotFoundError   (also FileNotFoundError) the logdir does not exist
    ├── NoEventFilesError     (also FileNotFoundError) the logdir holds no event file
    ├── MissingExtraError     (also ImportError) an optional extra is not installed
    └── InvalidParameterError (also ValueError) a parameter value is out of range

Every message names the path or value it is about and fits on one line.
"""

from __future__ import annotations

__all__ = [
    "InvalidParameterError",
    "LogdirNotFoundError",
    "MissingExtraError",
    "NoEventFilesError",
    "TbplateauError",
]


class TbplateauError(Exception):
    """Base class of every exception raised on purpose by tbplateau."""


class LogdirNotFoundError(TbplateauError, FileNotFoundError):
    """The logdir given does not exist or is not a directory."""


class NoEventFilesError(TbplateauError, FileNotFoundError):
    """The logdir exists but no file under it has ``tfevents`` in its name."""


class MissingExtraError(TbplateauError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""


class InvalidParameterError(TbplateauError, ValueError):
    """A parameter is outside its valid range; the message names the value."""
