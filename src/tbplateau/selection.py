"""Which runs and series are looked at: the ``--runs``, ``--tags`` and ``--goal`` patterns.

``tbplateau report``, ``tbplateau watch`` and :class:`~tbplateau.watch.Watcher` select
the same way, with one :class:`Selection`. Its patterns, in the pattern language of
:func:`~tbplateau.goals.compile_pattern` (a glob matched against the whole name, or
``re:`` and a regular expression searched anywhere), are compiled once. A run is
selected when its name matches ``runs``; a series when its tag matches ``tags``; a
finding when any of its tags does. A validation run is only judged with its training
partner, so the runs to *analyse* are the selected ones and the other runs of their
train/validation groups (:meth:`Selection.runs_to_read`,
:func:`~tbplateau.pairing.run_groups`); the report then keeps only the selected ones
(:meth:`Selection.filter`).

A pattern that matches nothing is a mistake worth saying (:meth:`Selection.unmatched`:
``report`` makes it an error, ``watch`` a warning while the logdir may still grow),
and so is a bare word that leaves out names holding it (:meth:`Selection.notes`),
since ``--runs``/``--tags`` used to be regular expressions searched anywhere.

>>> s = Selection(runs="keras/train", tags="re:loss$")
>>> s.run_ok("keras/train"), s.tag_ok("epoch_loss"), s.tag_ok("loss/x")
(True, True, False)
>>> sorted(s.runs_to_read(["keras/train", "keras/validation", "torch"]))
['keras/train', 'keras/validation']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from tbplateau import escape
from tbplateau.findings import Finding
from tbplateau.goals import GoalOverride, compile_pattern, parse_goal_override
from tbplateau.pairing import run_groups
from tbplateau.reader.model import Logdir
from tbplateau.report import Report, RunReport

__all__ = ["Pattern", "Selection", "Unmatched"]

Pattern = str | re.Pattern[str]
"""A pattern of the pattern language, or a compiled regular expression (searched)."""

_GLOB = "*?["


@dataclass(frozen=True)
class Unmatched:
    """A pattern that matches nothing: the option it was given to (``--runs``,
    ``--tags`` or ``--goal``), the pattern as given, what it was matched against
    (``run`` or ``tag``) and the distinct names there are, sorted."""

    option: str
    pattern: str
    what: str
    names: tuple[str, ...]

    def message(self) -> str:
        """One line naming the pattern, a few of the names there are, and a hint
        when the pattern looks written for the other half of the pattern language
        (names escaped for a terminal)."""
        pattern = self.pattern
        some = ", ".join(escape.terminal(n, limit=60) for n in self.names[:5])
        more = ", ..." if len(self.names) > 5 else ""
        hint = ""
        if not pattern.startswith("re:") and any(c in pattern for c in "^$+()|\\"):
            hint = f"; patterns are globs: for a regular expression write 're:{pattern}'"
        elif not pattern.startswith("re:") and not any(c in pattern for c in _GLOB):
            hint = f"; a glob must match the whole name: '*{pattern}*' matches it anywhere"
        return (
            f"{self.option} {escape.terminal(pattern, limit=200)!r} matches no "
            f"{self.what} (there are: {some}{more}){hint}"
        )


def _compile(pattern: Pattern) -> tuple[str, Callable[[str], bool]]:
    if isinstance(pattern, re.Pattern):
        regex = pattern
        return f"re:{regex.pattern}", lambda name: regex.search(name) is not None
    return pattern, compile_pattern(pattern)


def _goal_text(goal: str | GoalOverride) -> str:
    return goal if isinstance(goal, str) else f"{goal[0]}={goal[1] or 'none'}"


class Selection:
    """The runs, series and findings that ``runs``, ``tags`` and ``goals`` select.

    ``runs`` and ``tags`` are patterns (``None``: everything); ``goals`` are goal
    overrides (``TAG_PATTERN=min|max|none`` or parsed pairs), checked here only for
    patterns that match no tag. A bad pattern raises
    :class:`~tbplateau.errors.InvalidParameterError` naming it.
    """

    def __init__(
        self,
        runs: Pattern | None = None,
        tags: Pattern | None = None,
        goals: Sequence[str | GoalOverride] = (),
    ) -> None:
        self.runs_pattern: str | None = None
        """``runs`` as text (a compiled regex as ``re:`` and its pattern)."""
        self.tags_pattern: str | None = None
        self._runs: Callable[[str], bool] | None = None
        self._tags: Callable[[str], bool] | None = None
        if runs is not None:
            self.runs_pattern, self._runs = _compile(runs)
        if tags is not None:
            self.tags_pattern, self._tags = _compile(tags)
        self.goals = list(goals)
        self._goals = [
            (
                _goal_text(g),
                compile_pattern(parse_goal_override(g)[0] if isinstance(g, str) else g[0]),
            )
            for g in self.goals
        ]

    @property
    def narrows(self) -> bool:
        """Whether ``runs`` or ``tags`` leaves anything out (``goals`` select nothing)."""
        return self._runs is not None or self._tags is not None

    def run_ok(self, name: str) -> bool:
        return self._runs is None or self._runs(name)

    def tag_ok(self, tag: str) -> bool:
        return self._tags is None or self._tags(tag)

    def finding_ok(self, finding: Finding) -> bool:
        """A finding is selected when any of its tags is (overfitting names two)."""
        return self._tags is None or any(self._tags(t) for t in finding.tags)

    def runs_to_read(self, names: Iterable[str]) -> set[str]:
        """The selected runs of ``names`` and the other runs of their train/validation
        groups, which their analysis needs."""
        names = list(names)
        if self._runs is None:
            return set(names)
        keep: set[str] = set()
        for group in run_groups(names):
            if any(self.run_ok(n) for n in group):
                keep.update(group)
        return keep

    def unmatched(self, logdir: Logdir) -> list[Unmatched]:
        """The patterns that match nothing in ``logdir``: ``runs`` against its run
        names (when it matches none, that is all that is said); ``tags`` and each goal
        pattern against the tags of the selected runs."""
        if self._runs is None and self._tags is None and not self._goals:
            return []
        names = tuple(sorted({r.name for r in logdir.runs}))
        if self._runs is not None and not any(self._runs(n) for n in names):
            return [Unmatched("--runs", self.runs_pattern or "", "run", names)]
        if self._tags is None and not self._goals:
            return []
        tags = tuple(sorted({s.tag for r in logdir.runs if self.run_ok(r.name) for s in r.series}))
        out = []
        if self._tags is not None and not any(self._tags(t) for t in tags):
            out.append(Unmatched("--tags", self.tags_pattern or "", "tag", tags))
        for text, match in self._goals:
            if not any(match(t) for t in tags):
                out.append(Unmatched("--goal", text, "tag", tags))
        return out

    def notes(self, logdir: Logdir) -> list[str]:
        """One ``note: ...`` line for each bare-word ``runs``/``tags`` pattern (no
        ``*?[``, no ``re:``) that leaves out names holding the word: a glob matches the
        whole name, where ``--runs``/``--tags`` used to be regular expressions
        searched anywhere."""
        out = []
        runs = [r.name for r in logdir.runs]
        tags = sorted({s.tag for r in logdir.runs if self.run_ok(r.name) for s in r.series})
        for option, pattern, names in (
            ("--runs", self.runs_pattern, runs),
            ("--tags", self.tags_pattern, tags),
        ):
            if not pattern or pattern.startswith("re:") or any(c in pattern for c in _GLOB):
                continue
            left_out = sum(1 for n in names if pattern in n and n != pattern)
            if left_out:
                shown = escape.terminal(pattern, limit=200)
                out.append(
                    f"note: {option} {shown!r} matches whole names only; "
                    f"{left_out:,} other name{'' if left_out == 1 else 's'} "
                    f"contain{'s' if left_out == 1 else ''} it ('*{shown}*' or "
                    f"'re:{shown}' selects them too)"
                )
        return out

    def filter(self, report: Report) -> Report:
        """``report`` with only the selected runs, their selected series and the
        findings on a selected tag (``report`` itself when nothing is left out)."""
        if not self.narrows:
            return report
        kept = []
        for run in report.runs:
            if not self.run_ok(run.run):
                continue
            series = tuple(s for s in run.series if self.tag_ok(s.tag))
            findings = tuple(f for f in run.findings if self.finding_ok(f))
            kept.append(RunReport(run.run, run.read_issues, series, findings))
        return Report(report.logdir, tuple(kept))
