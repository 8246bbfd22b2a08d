"""A report of a growing logdir, kept up to date by re-analysing only what changed.

The long-running faces (``tbplateau watch``, the TensorBoard tab) hold one
:class:`LiveAnalysis`. Each :meth:`~LiveAnalysis.refresh` reads only what was appended
since the last one (:class:`~tbplateau.reader.LogdirReader`), finds the runs that
changed (new points, new files, new read issues, new or vanished runs) and re-analyses
only their groups (:func:`~tbplateau.pairing.run_groups`: a validation run travels
with its training sibling). Every other run keeps its report. The result is the report
:func:`~tbplateau.analysis.analyze` gives on the same data, because analysing groups
apart is exactly the analysis of the whole.

>>> import tempfile
>>> live = LiveAnalysis(tempfile.mkdtemp())
>>> update = live.refresh()
>>> len(update.report.runs), update.changed
(0, ())
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tbplateau.analysis import analyze_runs, default_detectors
from tbplateau.curves import attach
from tbplateau.detectors import Detector
from tbplateau.findings import FindingKind
from tbplateau.goals import GoalOverride, parse_goal_override
from tbplateau.pairing import run_groups
from tbplateau.reader import LogdirReader
from tbplateau.reader.model import Logdir, Run
from tbplateau.report import Report, RunReport

__all__ = ["LiveAnalysis", "Update"]


@dataclass(frozen=True)
class Update:
    """The outcome of one refresh: the whole report, the curves it was made from, and
    the runs whose reports were recomputed (``changed``) or are gone (``removed``)."""

    report: Report
    logdir: Logdir
    changed: tuple[str, ...]
    removed: tuple[str, ...]


class LiveAnalysis:
    """Analysis of a logdir that grows (see the module docstring).

    ``goals`` and ``detectors`` are those of :func:`~tbplateau.analysis.analyze`;
    ``reader`` may be given to share one (its position is kept across calls).

    A refresh costs what was appended: the reader reads only new bytes, only runs
    whose :meth:`~tbplateau.reader.LogdirReader.fingerprints` changed are rebuilt, and
    only their groups are analysed again. A run whose directory vanished is dropped
    (as TensorBoard does, and as a fresh read would), and its group analysed again.
    """

    def __init__(
        self,
        logdir: str | os.PathLike[str],
        *,
        goals: Sequence[str | GoalOverride] = (),
        detectors: Mapping[FindingKind, Detector] | None = None,
        reader: LogdirReader | None = None,
    ) -> None:
        self.logdir = os.fspath(logdir)
        self.goals = [parse_goal_override(g) if isinstance(g, str) else g for g in goals]
        self.detectors = default_detectors() if detectors is None else dict(detectors)
        self.reader = reader if reader is not None else LogdirReader(self.logdir)
        self._prints: dict[str, tuple[object, ...]] = {}
        self._runs: dict[str, Run] = {}
        self._reports: dict[str, RunReport] = {}
        self._last: Update | None = None

    def refresh(self) -> Update:
        """Read what was appended, re-analyse the groups of the runs that changed."""
        self.reader.poll(collect=False)
        prints = self.reader.fingerprints()
        grown = {name for name, key in prints.items() if self._prints.get(name) != key}
        removed = tuple(sorted(set(self._runs) - set(prints)))
        if not grown and not removed and self._last is not None:
            return Update(self._last.report, self._last.logdir, (), ())  # nothing new
        for name in removed:
            del self._runs[name], self._prints[name]
            self._reports.pop(name, None)
        if grown:
            for run in self.reader.snapshot(runs=grown).runs:
                self._runs[run.name] = run
            self._prints.update((name, prints[name]) for name in grown)
        # a group is analysed again when a member changed or vanished (its pairs change)
        touched = grown.union(removed)
        names = sorted(self._runs)
        redo = [
            name
            for group in run_groups([*names, *removed])
            if touched.intersection(group)
            for name in group
            if name in self._runs
        ]
        for run_report in analyze_runs(
            [self._runs[name] for name in redo], goals=self.goals, detectors=self.detectors
        ):
            self._reports[run_report.run] = run_report
        logdir = Logdir(self.reader.logdir, tuple(self._runs[name] for name in names))
        report = Report(logdir.path, tuple(self._reports[name] for name in names))
        self._last = Update(attach(report, logdir), logdir, tuple(sorted(set(redo))), removed)
        return self._last
