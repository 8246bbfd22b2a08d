"""Alerts people can trust: a stable identity per finding, and a small state machine.

A finding refined as a run grows (its onset moves a little, its end appears, its
confidence changes) is still the same alert. An alert is identified by its run, its
tags, its kind and its onset *within the detector's onset tolerance*
(:func:`~tbplateau.detectors.base.onset_tolerance` positions of the series), and keeps
the id it got when first seen. An ongoing finding (no end yet) also stays the ongoing
alert of its series and kind when its onset moves further than that.

States::

    pending --seen in `confirm` evaluations (non-finite: at once)--> open
    pending --not found--> (forgotten, nothing was said)
    open --has an end in `confirm` evaluations--> resolved
    open, resolved --not found in `confirm` evaluations--> withdrawn
    resolved --ongoing again in `confirm` evaluations--> open
    withdrawn --found again in `confirm` evaluations--> open

An *evaluation* of an alert is an analysis after its own series grew by at least the
onset tolerance (5 % of its points, at least 2): a run that logs its training loss
every second does not confirm a validation plateau every second, and two points
more of the same curve do not confirm a finding either. Between evaluations the
alert follows its finding (``updated`` when its onset, end or confidence moves) but
does not change state. When a run stops growing (:meth:`AlertBook.settle`) its alerts are made to
agree with its findings: found ones open (or resolved when they have an end), the
others withdrawn, so the open and resolved alerts of a logdir that stopped growing
are exactly ``tbplateau report``'s findings. An alert that comes back within
``cooldown`` seconds of being closed is re-opened without being announced again
(an ``updated`` event), and so is its next closing, so a flapping finding is not
re-sent.

>>> import numpy as np
>>> from tbplateau.findings import Finding, FindingKind
>>> from tbplateau.series import Series
>>> s = Series("r", "loss", steps=np.arange(100), values=np.ones(100))
>>> book = AlertBook(confirm=2)
>>> f = Finding(FindingKind.PLATEAU, 40, None, ("loss",), 0.8)
>>> [c.event.value for c in book.evaluate("r", [f], {"loss": s}, fresh={"loss"}, now=0)]
[]
>>> g = Finding(FindingKind.PLATEAU, 42, None, ("loss",), 0.9)  # the same, refined
>>> [(c.event.value, c.alert.start_step) for c in
...  book.evaluate("r", [g], {"loss": s}, fresh={"loss"}, now=1)]
[('opened', 42)]
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from tbplateau.detectors.base import onset_tolerance
from tbplateau.errors import InvalidParameterError
from tbplateau.findings import Finding, FindingKind
from tbplateau.series import Series
from tbplateau.watch.events import EventType

__all__ = ["Alert", "AlertBook", "AlertState", "Change", "Delivery", "alert_id"]

Key = tuple[str, tuple[str, ...], FindingKind]
Mode = Literal["fresh", "stale", "settle"]
Delivery = Literal["none", "due", "sent"]
"""Whether an alert's opening is to be announced: ``none`` (it was already there when
the watch first started), ``due`` (not yet delivered) or ``sent``."""

CONFIDENCE_STEP = 0.1
"""A confidence change at least this large is an ``updated`` event."""


class AlertState(str, enum.Enum):
    PENDING = "pending"
    OPEN = "open"
    RESOLVED = "resolved"
    WITHDRAWN = "withdrawn"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Alert:
    """One alert: the finding it follows (as last seen) and its place in the state machine.

    ``noticed_step`` is the last step of the series when the alert opened; ``seen``,
    ``missing`` and ``streak`` count consecutive evaluations (with the finding, without
    it, and with it ended while open or ongoing while resolved).
    """

    id: str
    run: str
    tags: tuple[str, ...]
    kind: FindingKind
    start_step: int
    end_step: int | None
    confidence: float
    state: AlertState
    noticed_step: int | None = None
    existing: bool = False
    delivery: Delivery = "due"
    seen: int = 0
    missing: int = 0
    streak: int = 0
    closed_at: float | None = None
    muted: bool = False
    """Back within the cooldown: its next closing is not announced either."""

    @property
    def key(self) -> Key:
        return (self.run, self.tags, self.kind)

    def to_dict(self) -> dict[str, Any]:
        """The alert as saved in the state file."""
        return {
            "id": self.id,
            "run": self.run,
            "tags": list(self.tags),
            "kind": self.kind.value,
            "start_step": self.start_step,
            "end_step": self.end_step,
            "confidence": self.confidence,
            "state": self.state.value,
            "noticed_step": self.noticed_step,
            "existing": self.existing,
            "delivery": self.delivery,
            "seen": self.seen,
            "missing": self.missing,
            "streak": self.streak,
            "closed_at": self.closed_at,
            "muted": self.muted,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Alert:
        delivery = str(d.get("delivery", "sent"))
        if delivery not in ("none", "due", "sent"):
            raise ValueError(f"unknown delivery {delivery!r}")
        end = d.get("end_step")
        closed = d.get("closed_at")
        noticed = d.get("noticed_step")
        return cls(
            id=str(d["id"]),
            run=str(d["run"]),
            tags=tuple(str(t) for t in d["tags"]),
            kind=FindingKind(d["kind"]),
            start_step=int(d["start_step"]),
            end_step=None if end is None else int(end),
            confidence=float(d["confidence"]),
            state=AlertState(d["state"]),
            noticed_step=None if noticed is None else int(noticed),
            existing=bool(d.get("existing", False)),
            delivery=delivery,  # type: ignore[arg-type]
            seen=int(d.get("seen", 0)),
            missing=int(d.get("missing", 0)),
            streak=int(d.get("streak", 0)),
            closed_at=None if closed is None else float(closed),
            muted=bool(d.get("muted", False)),
        )


@dataclass(frozen=True)
class Change:
    """A transition of one alert: the event it makes and the alert after it."""

    event: EventType
    alert: Alert
    reason: str


def alert_id(run: str, tags: Sequence[str], kind: FindingKind, start_step: int) -> str:
    """A short stable id from what identified the alert when it was first seen.

    >>> alert_id("r", ["loss"], FindingKind.PLATEAU, 80)
    '189f2b5a4a46'
    """
    text = "\0".join([run, *tags, kind.value, str(start_step)])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


class _Positions:
    """Steps of a run's series as positions, for the onset tolerance."""

    def __init__(self, series: Mapping[str, Series]) -> None:
        self._series = series

    def of(self, tags: Sequence[str], step: int) -> int:
        s = self._series.get(tags[0]) if tags else None
        if s is None:
            return step
        return int(np.searchsorted(s.steps, step))

    def tolerance(self, tags: Sequence[str]) -> int:
        s = self._series.get(tags[0]) if tags else None
        return onset_tolerance(len(s)) if s is not None else 0

    def last_step(self, tags: Sequence[str]) -> int | None:
        s = self._series.get(tags[0]) if tags else None
        return int(s.steps[-1]) if s is not None and len(s) else None


def _key(run: str, f: Finding) -> Key:
    return (run, f.tags, f.kind)


_RANK = {
    AlertState.OPEN: 0,
    AlertState.RESOLVED: 0,
    AlertState.PENDING: 0,
    AlertState.WITHDRAWN: 1,
}


class AlertBook:
    """Every alert of a logdir, and the rules that move them (see the module docstring).

    Parameters
    ----------
    confirm : int
        Consecutive evaluations that open (and withdraw, resolve) an alert (default 2).
    cooldown : float
        Seconds after an alert closed within which its return is not announced again.
    alerts
        Alerts to start from (a restarted watcher's saved state).
    announce_existing : bool
        Whether alerts made with ``existing=True`` (already there at the first start)
        are to be announced too (``delivery`` ``due`` instead of ``none``).
    """

    def __init__(
        self,
        *,
        confirm: int = 2,
        cooldown: float = 1800.0,
        alerts: Iterable[Alert] = (),
        announce_existing: bool = False,
    ) -> None:
        if isinstance(confirm, bool) or not isinstance(confirm, int) or confirm < 1:
            raise InvalidParameterError(f"confirm must be a positive integer, not {confirm!r}")
        if not (isinstance(cooldown, (int, float)) and cooldown >= 0):
            raise InvalidParameterError(f"cooldown must be a number >= 0, not {cooldown!r}")
        self.confirm = confirm
        self.cooldown = float(cooldown)
        self.announce_existing = announce_existing
        self._alerts: dict[str, Alert] = {a.id: a for a in alerts}
        self._by_key: dict[Key, list[str]] = {}
        for a in self._alerts.values():
            self._by_key.setdefault(a.key, []).append(a.id)

    def copy(self) -> AlertBook:
        """An independent book with the same alerts (alerts are frozen values)."""
        return AlertBook(
            confirm=self.confirm,
            cooldown=self.cooldown,
            alerts=self._alerts.values(),
            announce_existing=self.announce_existing,
        )

    @property
    def alerts(self) -> tuple[Alert, ...]:
        """Every alert, in the order they were first seen."""
        return tuple(self._alerts.values())

    def get(self, alert_id: str) -> Alert | None:
        return self._alerts.get(alert_id)

    def set_delivery(self, alert_id: str, delivery: Delivery) -> None:
        a = self._alerts.get(alert_id)
        if a is not None:
            self._alerts[alert_id] = replace(a, delivery=delivery)

    # -- the three ways an alert moves --------------------------------------------

    def evaluate(
        self,
        run: str,
        findings: Sequence[Finding],
        series: Mapping[str, Series],
        *,
        fresh: Collection[str],
        now: float,
        existing: bool = False,
    ) -> list[Change]:
        """``run`` was analysed again: match its ``findings`` to its alerts.

        ``series`` are the run's series by tag (for positions and the last step);
        ``fresh`` the tags whose points changed since the run's last evaluation: an
        alert counts an evaluation only when one of its tags is fresh.
        """
        return self._apply(run, findings, series, now, existing, lambda tags: _fresh(tags, fresh))

    def settle(
        self,
        run: str,
        findings: Sequence[Finding],
        series: Mapping[str, Series],
        *,
        now: float,
        existing: bool = False,
    ) -> list[Change]:
        """``run`` stopped growing: its alerts now agree with its ``findings``.

        ``now`` is when the data judged was written (the run's last growth), not when
        the run was found to have stopped: a finding back in the last points is back
        then, and the cooldown counts from there (a run that logs every 15 minutes is
        declared stopped 45 minutes after its last write, longer than the cooldown).
        """
        return self._apply(run, findings, series, now, existing, lambda tags: "settle")

    def remove_run(self, run: str, *, now: float) -> list[Change]:
        """``run`` vanished: its open and resolved alerts are withdrawn, pending ones forgotten."""
        out = []
        for alert_id in [i for i, a in self._alerts.items() if a.run == run]:
            a = self._alerts[alert_id]
            if a.state is AlertState.PENDING:
                self._forget(a)
            elif a.state is not AlertState.WITHDRAWN:
                out.append(self._close(a, AlertState.WITHDRAWN, now, "run_removed"))
        return out

    # -- internals ------------------------------------------------------------------

    def _apply(
        self,
        run: str,
        findings: Sequence[Finding],
        series: Mapping[str, Series],
        now: float,
        existing: bool,
        mode_of: Any,
    ) -> list[Change]:
        pos = _Positions(series)
        found: dict[Key, list[Finding]] = {}
        for f in findings:
            found.setdefault(_key(run, f), []).append(f)
        keys = [*found, *(k for k in self._by_key if k[0] == run and k not in found)]
        out: list[Change] = []
        for key in keys:
            mode: Mode = mode_of(key[1])
            alerts = [self._alerts[i] for i in self._by_key.get(key, [])]
            pairs, new, gone = _match(alerts, found.get(key, []), pos)
            for a, f in pairs:
                out.extend(self._present(a, f, mode, pos, now))
            for f in new:
                out.extend(self._new(run, f, mode, pos, now, existing))
            for a in gone:
                out.extend(self._absent(a, mode, now))
        return out

    def _store(self, a: Alert) -> Alert:
        if a.id not in self._alerts:
            self._by_key.setdefault(a.key, []).append(a.id)
        self._alerts[a.id] = a
        return a

    def _forget(self, a: Alert) -> None:
        del self._alerts[a.id]
        ids = self._by_key[a.key]
        ids.remove(a.id)
        if not ids:
            del self._by_key[a.key]

    def _new(
        self, run: str, f: Finding, mode: Mode, pos: _Positions, now: float, existing: bool
    ) -> list[Change]:
        ident = alert_id(run, f.tags, f.kind, f.start_step)
        n = 1
        while ident in self._alerts:  # the same onset seen again after a forgotten alert
            ident = alert_id(run, f.tags, f.kind, f.start_step * 1000 + n)
            n += 1
        a = Alert(
            id=ident,
            run=run,
            tags=f.tags,
            kind=f.kind,
            start_step=f.start_step,
            end_step=f.end_step,
            confidence=f.confidence,
            state=AlertState.PENDING,
            existing=existing,
            delivery="none" if existing and not self.announce_existing else "due",
            seen=1 if mode == "fresh" else 0,
        )
        self._store(a)
        if f.kind is FindingKind.NONFINITE or self.confirm <= 1 or mode == "settle":
            return self._open(a, f, mode, pos, now, _why(f, mode))
        return []

    def _present(
        self, a: Alert, f: Finding, mode: Mode, pos: _Positions, now: float
    ) -> list[Change]:
        material = (
            f.start_step != a.start_step
            or f.end_step != a.end_step
            or abs(f.confidence - a.confidence) >= CONFIDENCE_STEP
        )
        a = replace(
            a, start_step=f.start_step, end_step=f.end_step, confidence=f.confidence, missing=0
        )
        counted = mode == "fresh"
        if a.state is AlertState.PENDING:
            a = self._store(replace(a, seen=a.seen + counted))
            if f.kind is FindingKind.NONFINITE or a.seen >= self.confirm or mode == "settle":
                return self._open(a, f, mode, pos, now, _why(f, mode))
            return []
        if a.state is AlertState.WITHDRAWN:
            a = self._store(replace(a, seen=a.seen + counted))
            if f.kind is FindingKind.NONFINITE or a.seen >= self.confirm or mode == "settle":
                return self._reopen(a, f, mode, pos, now)
            return []
        ended = f.end_step is not None
        if a.state is AlertState.OPEN:
            streak = a.streak + 1 if counted and ended else (a.streak if ended else 0)
            a = self._store(replace(a, streak=streak))
            if ended and (streak >= self.confirm or mode == "settle"):
                return [self._close(a, AlertState.RESOLVED, now, "ended")]
            return [Change(EventType.UPDATED, a, "refined")] if material else []
        # resolved: ongoing again?
        streak = a.streak + 1 if counted and not ended else (0 if ended else a.streak)
        a = self._store(replace(a, streak=streak))
        if not ended and (streak >= self.confirm or mode == "settle"):
            return self._reopen(a, f, mode, pos, now)
        return [Change(EventType.UPDATED, a, "refined")] if material else []

    def _absent(self, a: Alert, mode: Mode, now: float) -> list[Change]:
        if a.state is AlertState.PENDING:
            if mode != "stale":
                self._forget(a)  # a pending alert that disappears says nothing
            return []
        if a.state is AlertState.WITHDRAWN:
            self._store(replace(a, seen=0))
            return []
        missing = a.missing + (mode == "fresh")
        a = self._store(replace(a, missing=missing))
        if missing >= self.confirm or mode == "settle":
            return [self._close(a, AlertState.WITHDRAWN, now, "not_found")]
        return []

    def _open(
        self, a: Alert, f: Finding, mode: Mode, pos: _Positions, now: float, reason: str
    ) -> list[Change]:
        a = self._store(
            replace(
                a,
                state=AlertState.OPEN,
                noticed_step=pos.last_step(a.tags),
                seen=0,
                missing=0,
                streak=0,
                closed_at=None,
                muted=False,
            )
        )
        out = [Change(EventType.OPENED, a, reason)]
        if mode == "settle" and f.end_step is not None:
            out.append(self._close(a, AlertState.RESOLVED, now, "ended"))
        return out

    def _reopen(
        self, a: Alert, f: Finding, mode: Mode, pos: _Positions, now: float
    ) -> list[Change]:
        if a.closed_at is not None and now - a.closed_at < self.cooldown:
            # back within the cooldown: open again, but do not announce it twice
            a = self._store(
                replace(
                    a,
                    state=AlertState.OPEN,
                    seen=0,
                    missing=0,
                    streak=0,
                    closed_at=None,
                    muted=True,
                )
            )
            out = [Change(EventType.UPDATED, a, "back_within_cooldown")]
            if mode == "settle" and f.end_step is not None:
                out.append(self._close(a, AlertState.RESOLVED, now, "ended"))
            return out
        # back after the cooldown: announced again, as a new alert would be
        return self._open(replace(a, existing=False, delivery="due"), f, mode, pos, now, "back")

    def _close(self, a: Alert, state: AlertState, now: float, reason: str) -> Change:
        a = self._store(replace(a, state=state, seen=0, missing=0, streak=0, closed_at=now))
        event = EventType.RESOLVED if state is AlertState.RESOLVED else EventType.WITHDRAWN
        return Change(event, a, reason)


def _fresh(tags: Sequence[str], fresh: Collection[str]) -> Mode:
    return "fresh" if any(t in fresh for t in tags) else "stale"


def _why(f: Finding, mode: Mode) -> str:
    if f.kind is FindingKind.NONFINITE:
        return "nonfinite"
    return "settled" if mode == "settle" else "confirmed"


def _match(
    alerts: Sequence[Alert], found: Sequence[Finding], pos: _Positions
) -> tuple[list[tuple[Alert, Finding]], list[Finding], list[Alert]]:
    """Pair findings with alerts of the same key whose onsets are within tolerance.

    Live alerts are preferred to withdrawn ones, then the nearest onset; each alert
    and each finding is used once. Then an ongoing finding left over takes an
    ongoing pending or open alert left over (its onset moved further than the
    tolerance: a series has one ongoing finding of a kind at a time).
    """
    if not alerts or not found:
        return [], list(found), list(alerts)
    tags = alerts[0].tags
    tol = pos.tolerance(tags)
    candidates = []
    for i, a in enumerate(alerts):
        pa = pos.of(tags, a.start_step)
        for j, f in enumerate(found):
            d = abs(pos.of(tags, f.start_step) - pa)
            if d <= tol or f.start_step == a.start_step:
                candidates.append((_RANK[a.state], d, i, j))
    candidates.sort()
    used_a: set[int] = set()
    used_f: set[int] = set()
    pairs = []
    for _, _, i, j in candidates:
        if i in used_a or j in used_f:
            continue
        used_a.add(i)
        used_f.add(j)
        pairs.append((alerts[i], found[j]))
    # A series has one ongoing finding of a kind at a time: an ongoing finding whose
    # onset moved further than the tolerance is still the ongoing alert it refines.
    for j, f in enumerate(found):
        if j in used_f or f.end_step is not None:
            continue
        for i, a in enumerate(alerts):
            live = a.state in (AlertState.PENDING, AlertState.OPEN)
            if i not in used_a and live and a.end_step is None:
                used_a.add(i)
                used_f.add(j)
                pairs.append((a, f))
                break
    new = [f for j, f in enumerate(found) if j not in used_f]
    gone = [a for i, a in enumerate(alerts) if i not in used_a]
    return pairs, new, gone
