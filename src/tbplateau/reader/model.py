"""What the reader returns: frozen values, no protobufs."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from tbplateau.series import LONG_COLUMNS, Series

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Logdir", "Problem", "ReadIssue", "Run", "TagInfo"]


class Problem(str, enum.Enum):
    """Kinds of read issue (a ``str`` enum, so JSON holds plain strings)."""

    TRUNCATED = "truncated"
    """The last record is incomplete: the file may still be being written."""
    CORRUPT = "corrupt"
    """A record in the middle fails its CRC or does not parse; reading resumed after it."""
    NOT_EVENT_FILE = "not_event_file"
    """Named ``*tfevents*`` but not an event file (empty, Git LFS pointer, other data)."""
    UNREADABLE = "unreadable"
    """The file or directory could not be opened or listed."""

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ReadIssue:
    """A data problem met while reading; reading went on past it.

    ``file`` is the path relative to the logdir ('/'-separated), ``offset`` the byte
    offset of the damage (0 for whole-file problems).
    """

    file: str
    offset: int
    problem: Problem
    message: str

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "offset": self.offset,
            "problem": self.problem.value,
            "message": self.message,
        }


@dataclass(frozen=True)
class TagInfo:
    """A tag that is not a scalar series (histogram, image, text, ...), by kind."""

    tag: str
    kind: str
    count: int


@dataclass(frozen=True)
class Run:
    """One run: a directory holding event files, named relative to the logdir."""

    name: str
    files: tuple[str, ...]
    series: tuple[Series, ...]
    other_tags: tuple[TagInfo, ...] = ()
    read_issues: tuple[ReadIssue, ...] = ()
    session_starts: int = 0

    def __getitem__(self, tag: str) -> Series:
        for s in self.series:
            if s.tag == tag:
                return s
        raise KeyError(f"run {self.name!r} has no scalar tag {tag!r}")

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(s.tag for s in self.series)

    @property
    def points(self) -> int:
        return sum(len(s) for s in self.series)


@dataclass(frozen=True)
class Logdir:
    """Everything read from one logdir: its runs sorted by name."""

    path: str
    runs: tuple[Run, ...]
    _by_name: Mapping[str, Run] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {r.name: r for r in self.runs})

    def __getitem__(self, run: str) -> Run:
        try:
            return self._by_name[run]
        except KeyError:
            raise KeyError(f"logdir {self.path!r} has no run {run!r}") from None

    def __iter__(self) -> Iterator[Run]:
        return iter(self.runs)

    def __len__(self) -> int:
        return len(self.runs)

    @property
    def read_issues(self) -> tuple[ReadIssue, ...]:
        return tuple(i for r in self.runs for i in r.read_issues)

    def iter_series(self) -> Iterator[Series]:
        for run in self.runs:
            yield from run.series

    def to_pandas(self) -> pd.DataFrame:
        """Every scalar point in tbparse's long format: ``run, tag, step, value, wall_time``."""
        from tbplateau._optional import import_pandas

        pandas = import_pandas()
        frames = [s.to_pandas() for s in self.iter_series()]
        if not frames:
            return cast("pd.DataFrame", pandas.DataFrame({c: [] for c in LONG_COLUMNS}))
        return cast("pd.DataFrame", pandas.concat(frames, ignore_index=True))
