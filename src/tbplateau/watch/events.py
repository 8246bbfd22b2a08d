"""What a watcher says: one :class:`Event` per change, as the ``tbplateau.watch/1`` JSON line.

The document is described in ``docs/watch-events.md``; :meth:`Event.to_dict` is the
only place its shape is decided, and every key is present in every event (``null``
where it does not apply), whatever the event.

>>> e = Event(EventType.OPENED, 0.0, "logs", id="a1", run="r", tags=("loss",),
...           kind="plateau", state="open", start_step=80, confidence=0.9)
>>> d = e.to_dict()
>>> d["schema"], d["event"], d["time"], d["end_step"]
('tbplateau.watch/1', 'opened', '1970-01-01T00:00:00.000Z', None)
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
from dataclasses import dataclass
from typing import Any

from tbplateau.findings import json_safe

__all__ = ["WATCH_SCHEMA", "Event", "EventType", "iso_time"]

WATCH_SCHEMA = "tbplateau.watch/1"
"""Name and version of the JSON object of each event."""


class EventType(str, enum.Enum):
    """What happened (a ``str`` enum, so JSON holds plain strings)."""

    OPENED = "opened"
    """An alert was confirmed (seen in ``confirm`` evaluations, non-finite at once, or
    still there when its run stopped growing), or came back after its cooldown."""
    UPDATED = "updated"
    """An open alert was refined (onset, end or confidence), or came back within its
    cooldown (``state`` says it is open again; nothing is re-sent)."""
    RESOLVED = "resolved"
    """The finding has an end and the series moved on (a plateau ended after an LR drop)."""
    WITHDRAWN = "withdrawn"
    """The finding is no longer found (in ``confirm`` evaluations, or its run is gone)."""
    READ_ISSUE = "read_issue"
    """A data problem met while reading (reported once)."""
    RUN_REMOVED = "run_removed"
    """A run's directory vanished; its alerts are withdrawn."""

    def __str__(self) -> str:
        return self.value


def iso_time(t: float) -> str:
    """``t`` (seconds since the epoch) as ISO 8601 UTC with milliseconds.

    >>> iso_time(1714564800.25)
    '2024-05-01T12:00:00.250Z'
    """
    stamp = _dt.datetime.fromtimestamp(t, tz=_dt.timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Event:
    """One change seen by a watcher (see ``docs/watch-events.md`` for every field).

    Alert events carry the alert's ``id``, ``run``, ``tags``, ``kind``, ``state`` and
    the finding's steps and confidence; ``read_issue`` events carry ``problem``,
    ``file`` and ``message``. ``existing`` marks what was already there when the
    watch first started; ``notify`` whether the event goes to ``--notify``/``--exec``.
    """

    event: EventType
    time: float
    logdir: str
    id: str | None = None
    run: str | None = None
    tags: tuple[str, ...] = ()
    kind: str | None = None
    state: str | None = None
    start_step: int | None = None
    end_step: int | None = None
    confidence: float | None = None
    noticed_step: int | None = None
    existing: bool = False
    notify: bool = False
    reason: str | None = None
    message: str | None = None
    problem: str | None = None
    file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``tbplateau.watch/1`` object (non-finite numbers as ``null``)."""
        return {
            "schema": WATCH_SCHEMA,
            "event": self.event.value,
            "id": self.id,
            "run": self.run,
            "tags": list(self.tags),
            "kind": self.kind,
            "state": self.state,
            "start_step": self.start_step,
            "end_step": self.end_step,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "noticed_step": self.noticed_step,
            "time": iso_time(self.time),
            "logdir": self.logdir,
            "existing": self.existing,
            "notify": self.notify,
            "reason": self.reason,
            "message": self.message,
            "problem": self.problem,
            "file": self.file,
        }

    def to_json(self) -> str:
        """One line of JSON; every non-ASCII or control character is ``\\u``-escaped, so
        a name from a log can never reach a terminal or a log collector raw."""
        return json.dumps(json_safe(self.to_dict()), ensure_ascii=True, allow_nan=False)
