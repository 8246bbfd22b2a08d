"""The tab's background thread: poll, re-analyse what grew, publish the document.

One :class:`Analyst` owns one thread. It refreshes its source every ``interval``
seconds (TensorBoard's ``--reload_interval``; ``0`` means only when asked) or at once
when :meth:`Analyst.request_refresh` is called (the page does on TensorBoard's
``DataReloaded`` message and on its own reload button). After each refresh it
publishes the document with every run's findings and verdicts, then builds the advice
of the runs that lack it, a few at a time, publishing as it goes; a new refresh
request interrupts that work between two runs.

Requests never wait for any of this: they read the last published :class:`Published`
value and the :meth:`Analyst.status` (``loading`` with the reading progress until the
first analysis is done).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tbplateau.errors import TbplateauError
from tbplateau.live import Update
from tbplateau.plugin.document import advised_runs, drawn_findings, quick_run, tab_document
from tbplateau.plugin.sources import Source
from tbplateau.report import Report
from tbplateau.series import Series

__all__ = ["Analyst", "Published"]

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
"""How soon a refresh that failed is tried again when no interval is set."""


@dataclass(frozen=True)
class Published:
    """One published state: the document (JSON text, without the status) and the
    curves it was made from, by ``(run, tag)``."""

    version: int
    body: str
    curves: Mapping[tuple[str, str], Series] = field(repr=False)


def _severity(report: Report) -> dict[str, int]:
    """Runs with findings first when building advice (lower is sooner)."""
    order: dict[str, int] = {}
    for r in report.runs:
        drawn = drawn_findings(r)
        order[r.run] = 0 if r.findings or any(drawn.values()) else 1
    return order


class Analyst:
    """Owns the background thread of one tab (see the module docstring).

    ``clock`` gives wall-clock seconds for the ``checked_at``/``changed_at`` fields.
    """

    def __init__(
        self,
        source: Source,
        *,
        interval: float,
        publish_every: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if interval < 0:
            raise ValueError(f"interval must be >= 0 seconds, not {interval!r}")
        self.source = source
        self.interval = float(interval)
        self.publish_every = float(publish_every)
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._published: Published | None = None
        self._status: dict[str, Any] = {
            "state": "loading",
            "message": None,
            "progress": None,
            "advice": None,
            "scan": 0,
            "scanning": False,
            "scan_seconds": None,
            "reanalysed": None,
            "checked_at": None,
            "changed_at": None,
        }
        self._started_scans = 0
        self._last: Update | None = None
        self._entries: dict[str, dict[str, Any]] = {}
        self._progress_at = 0.0

    # -- owner API ------------------------------------------------------------------

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is not None:
            raise RuntimeError("the analyst is already started")
        self._thread = threading.Thread(target=self._loop, name="tbplateau-tab", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 30.0) -> bool:
        """Stop the thread; wait for a refresh in progress up to ``timeout`` seconds.

        Returns whether the thread has stopped.
        """
        self._stop.set()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- request API (never blocks on a refresh) ----------------------------------------

    def request_refresh(self) -> int:
        """Ask for a refresh now; returns the scan number whose completion includes
        everything written before this call."""
        with self._lock:
            target = self._started_scans + 1
        self._wake.set()
        return target

    def status(self) -> dict[str, Any]:
        """What the thread is doing, as the ``status`` object of the report route.

        ``state``: ``loading`` (no analysis yet), ``ready`` or ``error`` (the first
        refresh failed unexpectedly); ``message``: why the last refresh failed (a
        missing logdir...), else ``None``; ``progress``: ``{phase, done, total}`` while
        reading and analysing; ``advice``: ``{done, total}`` runs while advice is being
        written; ``scan``: refreshes done; ``scanning``: one is under way;
        ``scan_seconds`` and ``reanalysed``: the last one's duration and the runs it
        analysed again; ``checked_at`` and ``changed_at``: wall-clock seconds of the
        last refresh and of the last one that changed something; ``version``: that of
        the published document.
        """
        with self._lock:
            out = dict(self._status)
            out["version"] = None if self._published is None else self._published.version
        return out

    def published(self) -> Published | None:
        with self._lock:
            return self._published

    @property
    def last_update(self) -> Update | None:
        """The last refresh's outcome (its ``changed`` runs were analysed again)."""
        return self._last

    # -- the thread ---------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            ok = self._scan()
            if ok:
                self._advise()
            if self._stop.is_set():
                break
            if self._wake.is_set():
                continue
            wait = self.interval if ok else (self.interval or RETRY_SECONDS)
            self._wake.wait(wait if wait > 0 else None)

    def _set(self, **fields: Any) -> None:
        with self._lock:
            self._status.update(fields)

    def _progress(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if 0 < done < total and now - self._progress_at < 0.1:
            return
        self._progress_at = now
        self._set(progress={"phase": phase, "done": done, "total": total})

    def _scan(self) -> bool:
        with self._lock:
            self._started_scans += 1
            self._status["scanning"] = True
        began = time.perf_counter()
        try:
            update = self.source.refresh(self._progress)
        except (TbplateauError, OSError) as exc:  # the logdir is missing or unreadable
            self._set(
                state="loading" if self._last is None else "ready",
                message=str(exc),
                scanning=False,
                progress=None,
            )
            return False
        except Exception as exc:  # keep the tab alive; the log has the traceback
            logger.exception("tbplateau: refreshing the Plateaus tab failed")
            self._set(message=f"{type(exc).__name__}: {exc}", scanning=False, progress=None)
            if self._last is None:
                self._set(state="error")
            return False
        now = self._clock()
        first = self._last is None
        self._last = update
        for name in update.removed:
            self._entries.pop(name, None)
        runs = {r.run: r for r in update.report.runs}
        for name in update.changed:
            if name in runs:
                self._entries[name] = quick_run(runs[name])
        changed = first or bool(update.changed or update.removed)
        if changed:
            self._publish()
        pending = self._pending()
        with self._lock:
            self._status.update(
                state="ready",
                message=None,
                progress=None,
                advice={"done": 0, "total": len(pending)} if pending else None,
                scanning=False,
                scan=self._status["scan"] + 1,
                scan_seconds=round(time.perf_counter() - began, 4),
                reanalysed=len(update.changed),
                checked_at=now,
            )
            if changed:
                self._status["changed_at"] = now
        return True

    def _pending(self) -> list[str]:
        """The runs without advice, those with findings first."""
        update = self._last
        assert update is not None
        order = _severity(update.report)
        return sorted(
            (name for name, e in self._entries.items() if not e["advised"]),
            key=lambda n: (order.get(n, 1), n),
        )

    def _advise(self) -> None:
        """Build the advice run by run until done, stopped, or asked to refresh."""
        update = self._last
        assert update is not None
        pending = self._pending()
        last_publish = time.monotonic()
        done = 0
        for name in pending:
            if self._stop.is_set() or self._wake.is_set():
                break
            try:
                self._entries.update(advised_runs(update.report, update.logdir, (name,)))
            except Exception:  # advice is words: a failure must not cost the findings
                logger.exception("tbplateau: building the advice of run %r failed", name)
                self._entries[name] = {**self._entries[name], "advised": True}
            done += 1
            if done < len(pending) and time.monotonic() - last_publish >= self.publish_every:
                self._publish()
                last_publish = time.monotonic()
            self._set(advice={"done": done, "total": len(pending)})
        if done:
            self._publish()
        left = len(pending) - done
        self._set(advice={"done": 0, "total": left} if left else None)

    def _publish(self) -> None:
        update = self._last
        assert update is not None
        # milliseconds since the epoch, then +1: a restarted server never reuses the
        # version a page holds from before (it would wrongly answer "unchanged")
        previous = 0 if self._published is None else self._published.version
        version = max(previous + 1, int(self._clock() * 1000))
        doc = tab_document(
            update.report,
            self._entries,
            version=version,
            source=self.source.kind,
            sampled=self.source.sampled,
        )
        body = json.dumps(doc, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
        curves = {(r.name, s.tag): s for r in update.logdir.runs for s in r.series}
        with self._lock:
            self._published = Published(version, body, curves)
