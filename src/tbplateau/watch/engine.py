"""The watch engine: poll a growing logdir, turn its findings into alert events.

:class:`Watcher` is the streaming API (notebooks, training loops) and the engine of
``tbplateau watch``. Each :meth:`Watcher.poll` reads only what was appended
(:class:`~tbplateau.live.LiveAnalysis`), re-analyses only the runs that grew (with
their train/validation partners), moves the alerts of those runs
(:class:`~tbplateau.watch.alerts.AlertBook`) and returns what changed as
:class:`~tbplateau.watch.events.Event` values.

A run *stops growing* (settles) when nothing was appended to it, nor to its partners,
for ``settle`` seconds, or three times its usual logging interval if that is longer
(a run that logs once an epoch is not declared stopped between two epochs). Its
alerts then agree with its findings, so when a logdir stops growing its open and
resolved alerts are exactly ``tbplateau report``'s findings. On the first start
(no saved state) a run's last write is taken from its data's wall times, so a
finished run settles at once and what it holds is shown (``existing`` events, not
announced unless ``notify_existing``).

``runs``, ``tags`` and ``goals`` select as ``tbplateau report --runs/--tags/--goal``
do, with the same :class:`~tbplateau.selection.Selection`; since a watch may start
before its runs do, a pattern that matches nothing is not an error but
:attr:`Watcher.unmatched`, known once the logdir holds a series (``strict`` polls make
it one, as ``report`` does).

A poll is all or nothing: the alerts, the issues reported and the evaluated points
are committed together at its end, then saved (atomically) when a state file is
given, so a watcher stopped at any moment restarts from a consistent state.

>>> import tempfile
>>> w = Watcher(tempfile.mkdtemp())
>>> w.poll()
[]
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from tbplateau.curves import attach
from tbplateau.detectors import Detector
from tbplateau.detectors.base import onset_tolerance
from tbplateau.errors import InvalidParameterError
from tbplateau.explain import Advice, report_view
from tbplateau.findings import Finding, FindingKind
from tbplateau.goals import GoalOverride
from tbplateau.live import LiveAnalysis, Update
from tbplateau.pairing import run_groups
from tbplateau.reader.model import Logdir, Problem, ReadIssue, Run
from tbplateau.report import Report, RunReport
from tbplateau.selection import Pattern, Selection, Unmatched
from tbplateau.watch.alerts import Alert, AlertBook, AlertState, Change
from tbplateau.watch.events import Event, EventType
from tbplateau.watch.state import IssueKey, WatchState, load_state, logdir_key, save_state

__all__ = ["Watcher"]

MIN_EVALUATION_POINTS = 20
"""A series shorter than this is not an evaluation yet: findings on the first few
points of a run are the least stable (measured on the fixtures replayed in 20 chunks:
alerts later withdrawn fall from 51 % to 44 %). Non-finite values still open at once,
and a run that stops growing still settles whatever its length."""

SETTLE_INTERVALS = 3.0
"""A run has stopped growing after this many of its usual logging intervals (or ``settle``)."""


@dataclass
class _Clock:
    """When a run last grew, and how long it must stay still to count as stopped."""

    grew_at: float
    settle_after: float
    settled: bool = False


@dataclass
class _Work:
    """The working copy of a poll, committed at its end."""

    book: AlertBook
    evaluated: dict[str, dict[str, tuple[int, int]]]
    issues: set[IssueKey]
    clocks: dict[str, _Clock]
    changes: list[tuple[Change, float]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    dirty: bool = False


def _fresh_tags(
    run: Run, before: Mapping[str, tuple[int, int]]
) -> tuple[dict[str, tuple[int, int]], set[str]]:
    """The points counted at each tag's last evaluation, updated, and the tags that
    make this analysis an evaluation: new, restarted (points replaced), shrunk, or
    grown by the onset tolerance since their last evaluation. A series shorter than
    :data:`MIN_EVALUATION_POINTS` is never an evaluation yet."""
    versions = {}
    fresh = set()
    for s in run.series:
        now = (len(s), int(s.replaced_points))
        old = before.get(s.tag)
        if now[0] < MIN_EVALUATION_POINTS:
            changed = False
        elif old is None or now[1] != old[1] or now[0] < old[0]:
            changed = True
        else:
            changed = now[0] - old[0] >= onset_tolerance(old[0])
        if changed:
            fresh.add(s.tag)
            versions[s.tag] = now
        elif old is not None:
            versions[s.tag] = old
    return versions, fresh


def _run_findings(run: RunReport) -> list[Finding]:
    return [f for s in run.series for f in s.findings] + list(run.findings)


def _cadence(run: Run) -> float:
    """The run's usual interval between writes: median gap of its latest wall times."""
    tails = [s.wall_times[-33:] for s in run.series if len(s)]
    if not tails:
        return 0.0
    walls = np.unique(np.concatenate(tails))[-33:]
    walls = walls[np.isfinite(walls)]
    gaps = np.diff(walls)
    gaps = gaps[gaps > 0]
    if gaps.size == 0:
        return 0.0
    return float(min(np.median(gaps), 86400.0))


def _last_write(run: Run) -> float | None:
    ends = [float(s.wall_times[-1]) for s in run.series if len(s)]
    ends = [t for t in ends if np.isfinite(t)]
    return max(ends) if ends else None


def _message(a: Alert) -> str:
    what = a.kind.value if a.kind is not FindingKind.NONFINITE else "non-finite values"
    where = a.tags[0] if a.tags else "?"
    if a.kind is FindingKind.OVERFITTING and len(a.tags) > 1:
        where = f"{a.tags[0]} (vs {a.tags[1]})"
    text = f"{what} in {where} from step {a.start_step:,}"
    return text if a.end_step is None else f"{text} to {a.end_step:,}"


class Watcher:
    """Watch a logdir as it grows; :meth:`poll` returns what changed since the last poll.

    Parameters
    ----------
    logdir
        A local path or an fsspec URL.
    goals, detectors
        As for :func:`tbplateau.analyze`.
    runs, tags
        Patterns (:class:`~tbplateau.selection.Selection`: a glob matched against the
        whole name, ``re:`` and a regular expression searched anywhere, or a compiled
        ``re.Pattern``, searched): only the runs, and the findings on tags, that match,
        as ``tbplateau report --runs/--tags``. Runs are analysed with their
        train/validation partners either way.
    confirm
        Evaluations (analyses after the series grew) that open an alert (default 2);
        also those that resolve or withdraw it. Non-finite values open at once.
    cooldown
        Seconds after an alert closed within which its return is not announced again.
    settle
        Seconds without growth after which a run counts as stopped (at least; see the
        module docstring).
    state
        A file to keep the alerts in across restarts (``None``: kept in memory only).
    notify_existing
        Announce (``notify``) what was already there at the first start, too.
    track_delivery
        When true, an opened alert stays *due* until :meth:`delivered` is called (the
        CLI calls it once a notification succeeded), and a restart offers it again
        (:meth:`undelivered`). When false (the default), returning it is delivering it.
    clock
        Seconds since the epoch (``time.time``); tests pass their own.
    """

    def __init__(
        self,
        logdir: str | os.PathLike[str],
        *,
        goals: Sequence[str | GoalOverride] = (),
        detectors: Mapping[FindingKind, Detector] | None = None,
        runs: Pattern | None = None,
        tags: Pattern | None = None,
        confirm: int = 2,
        cooldown: float = 1800.0,
        settle: float = 60.0,
        state: str | os.PathLike[str] | None = None,
        notify_existing: bool = False,
        track_delivery: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not (isinstance(settle, (int, float)) and settle >= 0):
            raise InvalidParameterError(f"settle must be a number >= 0, not {settle!r}")
        self.selection = Selection(runs, tags, goals)
        """The ``runs``, ``tags`` and ``goals`` patterns (one filter with ``report``)."""
        self.unmatched: tuple[Unmatched, ...] | None = None
        """The patterns that match nothing in the logdir as last polled; ``None`` until
        the logdir holds a series (a watch may start before its runs do)."""
        self.live = LiveAnalysis(logdir, goals=goals, detectors=detectors)
        self.logdir = self.live.logdir
        self.settle = float(settle)
        self.notify_existing = notify_existing
        self.track_delivery = track_delivery
        self.state_path = None if state is None else Path(state)
        self.state_problem: str | None = None
        """Why a saved state could not be used (one line), if it could not."""
        self.save_problem: str | None = None
        """Why the last save failed (one line), until a save succeeds."""
        self._clock = clock
        saved: WatchState | None = None
        if self.state_path is not None:
            saved, self.state_problem = load_state(self.state_path, self.logdir)
        self._book = AlertBook(
            confirm=confirm,
            cooldown=cooldown,
            alerts=saved.alerts if saved else (),
            announce_existing=notify_existing,
        )
        self._initial = saved is None
        self._issues: set[IssueKey] = set(saved.issues) if saved else set()
        self._evaluated = dict(saved.evaluated) if saved else {}
        self._clocks: dict[str, _Clock] = {}
        self._sizes: dict[str, dict[str, tuple[int, int]]] = {}
        """Points of each series at the last poll (to see which runs grew)."""
        self._groups: dict[str, tuple[str, ...]] = {}
        self._deliveries: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._latest: Update | None = None
        self._dirty = False
        self.polls = 0

    # -- the public surface -----------------------------------------------------

    @property
    def alerts(self) -> tuple[Alert, ...]:
        """Every alert known (pending, open, resolved, withdrawn), oldest first."""
        return self._book.alerts

    @property
    def confirm(self) -> int:
        return self._book.confirm

    @property
    def update(self) -> Update | None:
        """The latest refresh of the analysis (``None`` before the first poll)."""
        return self._latest

    @property
    def report(self) -> Report | None:
        """The latest report, with ``runs``/``tags`` applied (``None`` before the first poll)."""
        if self._latest is None:
            return None
        report = self.selection.filter(self._latest.report)
        return report if report is self._latest.report else attach(report, self._latest.logdir)

    def poll(self, *, final: bool = False, strict: bool = False) -> list[Event]:
        """Read what was appended, analyse what grew; return the events, in order.

        ``final=True`` treats every run as stopped (``tbplateau watch --once``): the
        open and resolved alerts are then exactly the report's findings.
        ``strict=True`` makes a pattern that matches nothing (:attr:`unmatched`, once
        the logdir holds a series) an :class:`~tbplateau.errors.InvalidParameterError`
        naming it, as ``tbplateau report`` does; such a poll changes nothing (the next
        one reads the logdir afresh).
        """
        self._take_deliveries()
        update = self.live.refresh()
        if update.changed or update.removed or self.unmatched is None:
            self._check(update.logdir, strict=strict)
        now = float(self._clock())
        work = _Work(
            self._book.copy(), dict(self._evaluated), set(self._issues), dict(self._clocks)
        )
        if update.changed or update.removed or not self._groups:
            self._groups = {n: g for g in run_groups(r.name for r in update.logdir) for n in g}
        for name in update.removed:
            self._remove(work, name, now)
        reports = {r.run: r for r in update.report.runs}
        for name in update.changed:
            self._evaluate(work, update.logdir[name], reports[name], now)
        self._settle(work, update, reports, now, final)
        self._latest = update
        self._book, self._evaluated = work.book, work.evaluated
        self._issues, self._clocks = work.issues, work.clocks
        self._initial = False
        self.polls += 1
        events = [self._event(c, t) for c, t in work.changes]
        if not self.track_delivery:
            for c, _ in work.changes:
                if c.event is EventType.OPENED and c.alert.delivery == "due":
                    self._book.set_delivery(c.alert.id, "sent")
        self._dirty = self._dirty or work.dirty or bool(work.changes)
        self.save()
        return self._merge(work.events, events)

    def findings(self, alerts: Iterable[Alert]) -> list[tuple[Alert, Finding]]:
        """Each alert with the finding it follows in the latest report (the same run,
        tags, kind and onset: an alert takes its finding's onset at each analysis).

        An alert not found there (it stays open until missing from ``confirm``
        evaluations) gets a finding made of its own fields, without the finding's
        details. ``tbplateau watch --fail-on`` matches these findings as ``report
        --fail-on`` matches the report's (a flat line is a constant plateau).
        """
        alerts = list(alerts)
        wanted = {a.run for a in alerts}
        found: dict[tuple[str, tuple[str, ...], FindingKind, int], Finding] = {}
        for run in self._latest.report.runs if self._latest is not None else ():
            if run.run in wanted:
                for f in _run_findings(run):
                    found.setdefault((run.run, f.tags, f.kind, f.start_step), f)
        out = []
        for a in alerts:
            f = found.get((a.run, a.tags, a.kind, a.start_step)) or Finding(
                a.kind, a.start_step, a.end_step, a.tags, a.confidence, run=a.run
            )
            out.append((a, f))
        return out

    def delivered(self, alert_id: str) -> None:
        """Mark an alert's opening as delivered (thread-safe; applied at the next poll)."""
        self._deliveries.put(alert_id)

    def undelivered(self) -> list[Event]:
        """``opened`` events of open alerts whose announcement never succeeded."""
        now = float(self._clock())
        return [
            self._event(Change(EventType.OPENED, a, "undelivered"), now)
            for a in self._book.alerts
            if a.state is AlertState.OPEN and a.delivery == "due"
        ]

    def advice(self, event: Event) -> Advice | None:
        """The report's advice on the finding of an alert event (``None`` if not found)."""
        if self._latest is None or event.run is None or not event.tags:
            return None
        run = next((r for r in self._latest.report.runs if r.run == event.run), None)
        if run is None:
            return None
        view = report_view(Report(self.logdir, (run,)), self._latest.logdir)
        for a in view.runs[0].advice:
            same = a.kind is not None and a.kind.value == event.kind
            if same and a.tag == event.tags[0] and a.start_step == event.start_step:
                return a
        return None

    def save(self) -> bool:
        """Write the state file if anything changed since the last save.

        A failure (a full disk, a read-only state directory) does not stop the watch:
        it is kept in :attr:`save_problem` (one line) and retried at the next save;
        returns whether the state on disk is up to date.
        """
        self._take_deliveries()
        if self.state_path is None or not self._dirty:
            return True
        state = WatchState(
            logdir_key(self.logdir),
            list(self._book.alerts),
            set(self._issues),
            dict(self._evaluated),
        )
        try:
            save_state(self.state_path, state)
        except OSError as exc:
            self.save_problem = (
                f"cannot save the state file {self.state_path}: {exc.strerror or exc}"
            )
            return False
        self.save_problem = None
        self._dirty = False
        return True

    # -- one poll ---------------------------------------------------------------

    def _check(self, logdir: Logdir, *, strict: bool) -> None:
        """Match the patterns against the logdir, once it holds a series."""
        if not any(r.series for r in logdir.runs):
            return
        unmatched = tuple(self.selection.unmatched(logdir))
        if strict and unmatched:
            # nothing of this poll is kept: the next one reads the logdir afresh
            live = self.live
            self.live = LiveAnalysis(live.logdir, goals=live.goals, detectors=live.detectors)
            raise InvalidParameterError(unmatched[0].message())
        self.unmatched = unmatched

    def _findings(self, run: RunReport) -> list[Finding]:
        return [f for f in _run_findings(run) if self.selection.finding_ok(f)]

    def _remove(self, work: _Work, name: str, now: float) -> None:
        work.clocks.pop(name, None)
        self._sizes.pop(name, None)
        if work.evaluated.pop(name, None) is None or not self.selection.run_ok(name):
            return
        work.events.append(
            Event(
                EventType.RUN_REMOVED,
                now,
                self.logdir,
                run=name,
                reason="directory_vanished",
                message=f"run {name} is gone (its directory vanished); its alerts are withdrawn",
            )
        )
        work.changes.extend((c, now) for c in work.book.remove_run(name, now=now))
        work.dirty = True

    def _evaluate(self, work: _Work, run: Run, report: RunReport, now: float) -> None:
        name = run.name
        before = work.evaluated.get(name, {})
        versions, fresh = _fresh_tags(run, before)
        clock = work.clocks.get(name)
        sizes = {s.tag: (len(s), int(s.replaced_points)) for s in run.series}
        grew = sizes != self._sizes.get(name)
        self._sizes[name] = sizes
        if clock is None or grew:
            last = _last_write(run) if clock is None else None
            grew_at = now if last is None else min(now, last)
            after = max(self.settle, SETTLE_INTERVALS * _cadence(run))
            work.clocks[name] = _Clock(grew_at, after)
            for other in self._groups.get(name, (name,)):
                if other in work.clocks and other != name:
                    work.clocks[other] = replace(work.clocks[other], settled=False)
        if not self.selection.run_ok(name):
            return
        series = {s.tag: s for s in run.series}
        changes = work.book.evaluate(
            name, self._findings(report), series, fresh=fresh, now=now, existing=self._initial
        )
        work.changes.extend((c, now) for c in changes)
        if before != versions:
            work.evaluated[name] = versions
            work.dirty = True
        self._report_issues(work, name, report.read_issues, now, settled=False)

    def _settle(
        self,
        work: _Work,
        update: Update,
        reports: Mapping[str, RunReport],
        now: float,
        final: bool,
    ) -> None:
        def still(name: str) -> bool:
            c = work.clocks.get(name)
            return c is None or now - c.grew_at >= c.settle_after

        for name, clock in list(work.clocks.items()):
            if clock.settled:
                continue
            group = self._groups.get(name, (name,))
            if not (final or all(still(n) for n in group)):
                continue
            work.clocks[name] = replace(clock, settled=True)
            if not self.selection.run_ok(name) or name not in reports:
                continue
            run = update.logdir[name]
            # the data judged is as of the group's last growth (for the cooldown)
            written = max(work.clocks[n].grew_at for n in group if n in work.clocks)
            changes = work.book.settle(
                name,
                self._findings(reports[name]),
                {s.tag: s for s in run.series},
                now=min(now, written),
                existing=self._initial,
            )
            work.changes.extend((c, now) for c in changes)
            self._report_issues(work, name, reports[name].read_issues, now, settled=True)

    def _report_issues(
        self, work: _Work, run: str, issues: Sequence[ReadIssue], now: float, *, settled: bool
    ) -> None:
        """Each read issue once; a truncated last record only once its run stopped
        growing (while a run is written, a partial last record is normal)."""
        for issue in issues:
            if issue.problem is Problem.TRUNCATED and not settled:
                continue
            key = (run, issue.file, issue.offset, issue.problem.value)
            if key in work.issues:
                continue
            work.issues.add(key)
            work.dirty = True
            work.events.append(
                Event(
                    EventType.READ_ISSUE,
                    now,
                    self.logdir,
                    run=run,
                    existing=self._initial,
                    problem=issue.problem.value,
                    file=issue.file,
                    message=issue.message,
                )
            )

    def _event(self, change: Change, now: float) -> Event:
        a = change.alert
        if change.event is EventType.OPENED:
            notify = a.delivery == "due"
        elif change.event in (EventType.RESOLVED, EventType.WITHDRAWN):
            notify = a.delivery != "none" and not a.muted
        else:
            notify = False
        return Event(
            change.event,
            now,
            self.logdir,
            id=a.id,
            run=a.run,
            tags=a.tags,
            kind=a.kind.value,
            state=a.state.value,
            start_step=a.start_step,
            end_step=a.end_step,
            confidence=a.confidence,
            noticed_step=a.noticed_step,
            existing=a.existing,
            notify=notify,
            reason=change.reason,
            message=_message(a),
        )

    @staticmethod
    def _merge(first: list[Event], then: list[Event]) -> list[Event]:
        """Run removals first, then alert events, then read issues (stable otherwise)."""
        removed = [e for e in first if e.event is EventType.RUN_REMOVED]
        issues = [e for e in first if e.event is not EventType.RUN_REMOVED]
        return [*removed, *then, *issues]

    def _take_deliveries(self) -> None:
        while True:
            try:
                alert_id = self._deliveries.get_nowait()
            except queue.Empty:
                return
            a = self._book.get(alert_id)
            if a is not None and a.delivery == "due":
                self._book.set_delivery(alert_id, "sent")
                self._dirty = True
