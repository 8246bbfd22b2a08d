"""Announcing alerts without ever holding up the watch: sinks behind worker threads.

A :class:`Notifier` owns one worker thread and a bounded queue in front of one sink
(:class:`WebhookSink` or :class:`ExecSink`). :meth:`Notifier.submit` never blocks: a
full queue drops the event and says so (the alert stays undelivered, and a
restarted watcher offers it again). The worker sends each event with a timeout,
retries a failing webhook with exponential backoff, reports every failure through
``report`` (one line, never the webhook's URL) and calls ``on_sent`` only after a
success. :meth:`Notifier.close` lets the queue drain for a bounded time, then stops
the thread and kills a command still running.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shlex
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Protocol

from tbplateau import escape
from tbplateau.watch.events import Event

__all__ = [
    "DeliveryError",
    "ExecSink",
    "Notifier",
    "Sink",
    "WebhookSink",
    "exec_environment",
    "parse_command",
    "resolve_webhook",
    "unset_variables",
]


class DeliveryError(Exception):
    """A sink failed; ``retry`` says whether trying again may help."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


class Sink(Protocol):
    """Somewhere events go. ``send`` raises :class:`DeliveryError` on failure."""

    name: str
    retries: int

    def send(self, event: Event, text: str) -> None: ...

    def cancel(self) -> None:
        """Stop what ``send`` is doing now, if it can (called from another thread)."""


_VAR = re.compile(r"\$(?:(\w+)|\{(\w+)\})")

# -- webhook ----------------------------------------------------------------------


def resolve_webhook(spec: str, environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The URL and a printable label for ``--notify`` (``URL`` or ``env:NAME``).

    The label never holds the URL (webhook URLs carry their secret in the path).
    Raises ``ValueError`` with a message that does not hold it either.

    >>> resolve_webhook("env:HOOK", {"HOOK": "https://hooks.example/T0/secret"})
    ('https://hooks.example/T0/secret', 'the webhook from $HOOK')
    >>> resolve_webhook("ftp://x")
    Traceback (most recent call last):
    ValueError: --notify needs an http:// or https:// URL (or env:NAME)
    """
    env = os.environ if environ is None else environ
    label = "the webhook"
    url = spec
    if spec.startswith("env:"):
        name = spec[4:]
        url = env.get(name, "")
        label = f"the webhook from ${name}"
        if not url:
            raise ValueError(f"--notify env:{name}: the environment variable {name} is not set")
    if not url.lower().startswith(("http://", "https://")):
        if spec.startswith("env:"):
            raise ValueError(f"--notify {spec}: ${spec[4:]} is not an http:// or https:// URL")
        raise ValueError("--notify needs an http:// or https:// URL (or env:NAME)")
    return url, label


class WebhookSink:
    """POST a JSON body, Slack-compatible: ``{"text": ..., "tbplateau": EVENT}``.

    Success is any 2xx answer. Connection errors, timeouts, 408, 429 and 5xx are
    retried; other answers are not (the request itself is wrong).
    """

    name = "webhook"

    def __init__(
        self, url: str, *, label: str = "the webhook", timeout: float = 10.0, retries: int = 3
    ) -> None:
        self._url = url
        self.label = label
        self.timeout = timeout
        self.retries = retries

    def send(self, event: Event, text: str) -> None:
        body = json.dumps({"text": text, "tbplateau": event.to_dict()}, ensure_ascii=True)
        request = urllib.request.Request(
            self._url,
            data=body.encode("ascii"),
            headers={"Content-Type": "application/json", "User-Agent": "tbplateau-watch"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                answer.read(1 << 16)
        except urllib.error.HTTPError as exc:
            code = exc.code
            retry = code in (408, 429) or code >= 500
            raise DeliveryError(f"{self.label} answered HTTP {code}", retry=retry) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise DeliveryError(
                f"{self.label} could not be reached: {self._hide(str(reason))}", retry=True
            ) from None

    def _hide(self, text: str) -> str:
        return text.replace(self._url, "<url>") if self._url else text

    def cancel(self) -> None:
        """A request in flight ends at its timeout."""


# -- command ----------------------------------------------------------------------


def parse_command(command: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """``--exec``'s argv: split like a shell (``shlex``), ``$VAR`` and ``${VAR}`` expanded
    from the watcher's own environment in every word (``TBPLATEAU_*`` excepted, and
    unknown names left as they are), never run through a shell.

    Names from the logs never enter the argv: the command gets them as environment
    variables (:func:`exec_environment`) and the event as JSON on its standard input.

    >>> parse_command("scancel $JOB --signal=INT", {"JOB": "42"})
    ['scancel', '42', '--signal=INT']
    """
    env = os.environ if environ is None else environ
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise ValueError(f"--exec: cannot split the command: {exc}") from None
    if not words:
        raise ValueError("--exec needs a command")

    def value(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        if name.startswith("TBPLATEAU_"):  # the event's, set for the command only
            return m.group(0)
        return env.get(name, m.group(0))

    return [_VAR.sub(value, w) for w in words]


def unset_variables(command: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """The ``$VAR`` names in ``command`` that the environment does not define."""
    env = os.environ if environ is None else environ
    names = [m.group(1) or m.group(2) for m in _VAR.finditer(command)]
    return sorted({n for n in names if n not in env and not n.startswith("TBPLATEAU_")})


def exec_environment(event: Event, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The command's environment: the watcher's, plus ``TBPLATEAU_*`` for the event.

    Run and tag names are passed with control characters shown as ``\\xNN`` text
    (:func:`tbplateau.escape.terminal`), so a name cannot smuggle anything into a
    terminal or a log the command writes to; the exact names are in the JSON on
    standard input.
    """
    env = dict(os.environ if base is None else base)

    def safe(text: str | None) -> str:
        return "" if text is None else escape.terminal(text, limit=4096)

    env.update(
        {
            "TBPLATEAU_EVENT": event.event.value,
            "TBPLATEAU_ID": event.id or "",
            "TBPLATEAU_RUN": safe(event.run),
            "TBPLATEAU_TAG": safe(event.tags[0] if event.tags else None),
            "TBPLATEAU_TAGS": json.dumps([safe(t) for t in event.tags]),
            "TBPLATEAU_KIND": event.kind or "",
            "TBPLATEAU_STATE": event.state or "",
            "TBPLATEAU_START_STEP": "" if event.start_step is None else str(event.start_step),
            "TBPLATEAU_END_STEP": "" if event.end_step is None else str(event.end_step),
            "TBPLATEAU_CONFIDENCE": "" if event.confidence is None else f"{event.confidence:.4f}",
            "TBPLATEAU_LOGDIR": safe(event.logdir),
        }
    )
    return env


class ExecSink:
    """Run a command per event (argv, no shell); success is exit status 0.

    Its output is captured (so it cannot mix into ``--format jsonl`` on stdout) and
    its last line is quoted when it fails. Not retried: a command may not be safe to
    run twice. A command still running after ``timeout`` seconds is killed.
    """

    name = "exec"
    retries = 0

    def __init__(self, argv: list[str], *, timeout: float = 60.0) -> None:
        self.argv = argv
        self.timeout = timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def send(self, event: Event, text: str) -> None:
        try:
            proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=exec_environment(event),
                start_new_session=False,
            )
        except OSError as exc:
            raise DeliveryError(
                f"--exec {escape.terminal(self.argv[0])}: cannot run it: {exc.strerror or exc}",
                retry=False,
            ) from None
        with self._lock:
            self._proc = proc
        try:
            out, _ = proc.communicate(event.to_json().encode() + b"\n", timeout=self.timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise DeliveryError(
                f"--exec {escape.terminal(self.argv[0])}: killed after {self.timeout:g} s",
                retry=False,
            ) from None
        finally:
            with self._lock:
                self._proc = None
        if proc.returncode != 0:
            lines = out.decode("utf-8", "replace").strip().splitlines()
            last = f": {escape.terminal(lines[-1], limit=200)}" if lines else ""
            raise DeliveryError(
                f"--exec {escape.terminal(self.argv[0])}: exit status {proc.returncode}{last}",
                retry=False,
            )

    def cancel(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()


# -- the worker -------------------------------------------------------------------


class Notifier:
    """One sink behind a worker thread and a bounded queue (see the module docstring).

    ``report(line)`` receives failures (called from the worker thread: it must be
    thread-safe); ``on_sent(event)`` each success. ``backoff`` is the first retry
    delay in seconds, doubled at each retry.
    """

    def __init__(
        self,
        sink: Sink,
        *,
        report: Callable[[str], None],
        on_sent: Callable[[Event], None] = lambda e: None,
        queue_size: int = 256,
        backoff: float = 1.0,
    ) -> None:
        self.sink = sink
        self._report = report
        self._on_sent = on_sent
        self._backoff = backoff
        self._queue: queue.Queue[tuple[Event, str] | None] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._work, name=f"tbplateau-{sink.name}", daemon=True
        )
        self.sent = 0
        self.failed = 0
        self.dropped = 0
        self._thread.start()

    def submit(self, event: Event, text: str) -> bool:
        """Queue ``event`` (never blocks); ``False`` when the queue is full."""
        try:
            self._queue.put_nowait((event, text))
        except queue.Full:
            self.dropped += 1
            self._report(
                f"{self.sink.name}: queue full, {event.event.value} alert {event.id} not sent "
                "(it is offered again when the watch restarts)"
            )
            return False
        return True

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self, timeout: float) -> bool:
        """Let the queue drain for up to ``timeout`` seconds, then stop; ``True`` if drained."""
        deadline = time.monotonic() + timeout
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=max(timeout, 0.001))
        self._thread.join(max(0.0, deadline - time.monotonic()))
        drained = not self._thread.is_alive()
        if not drained:
            self._stop.set()
            self.sink.cancel()
            self._thread.join(1.0)
            left = self._queue.qsize()
            if left:
                self._report(f"{self.sink.name}: stopped with {left} event(s) not sent")
        return drained

    def _work(self) -> None:
        while not self._stop.is_set():
            item = self._queue.get()
            if item is None:  # close()
                return
            self._deliver(*item)

    def _deliver(self, event: Event, text: str) -> None:
        delay = self._backoff
        for attempt in range(self.sink.retries + 1):
            try:
                self.sink.send(event, text)
            except DeliveryError as exc:
                last = attempt == self.sink.retries or not exc.retry
                if last or self._stop.is_set():
                    self.failed += 1
                    tries = f" after {attempt + 1} tries" if attempt else ""
                    self._report(f"{exc}{tries}; {event.event.value} alert {event.id} not sent")
                    return
                if self._stop.wait(delay):
                    return
                delay *= 2
            else:
                self.sent += 1
                self._on_sent(event)
                return
