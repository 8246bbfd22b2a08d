"""``tbplateau watch``: live diagnosis of a logdir being written, with alerts.

A thin adapter over :class:`tbplateau.watch.Watcher`: it polls every ``--interval``
seconds, shows the alerts (a live table on a terminal, event lines otherwise, or
``tbplateau.watch/1`` JSON lines), hands announcements to the webhook and command
workers, and turns ``--fail-on`` into exit status 1. Ctrl-C (or SIGTERM) stops it
with exit status 0; the state file is consistent whenever it stops.
"""

from __future__ import annotations

import argparse
import queue
import re
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from tbplateau.cli._common import EXIT_FINDINGS, EXIT_OK, Subparsers, UsageError
from tbplateau.errors import TbplateauError
from tbplateau.findings import FindingKind
from tbplateau.goals import parse_goal_override
from tbplateau.watch import AlertState, Event, EventType, Watcher
from tbplateau.watch.notify import (
    ExecSink,
    Notifier,
    Sink,
    WebhookSink,
    parse_command,
    resolve_webhook,
    unset_variables,
)
from tbplateau.watch.state import default_state_path, inside
from tbplateau.watch.views import LiveView, chat_text, event_line

__all__ = ["watch_command", "watch_parser"]

INTERRUPT_GRACE = 2.0
"""Seconds a notification in flight gets to finish after Ctrl-C."""


def watch_parser(name: str, sub: Subparsers) -> None:
    """Add the ``watch`` command's parser."""
    # TODO(merge): --runs/--tags/--goal/--fail-on/--color mirror `report`'s; switch to
    # the shared option helpers of cli/_common.py once they land.
    p = sub.add_parser(
        name,
        help="watch a logdir as it is written and alert on plateaus, divergence, NaN...",
        description="Poll a logdir every few seconds, analyse what was appended and alert "
        "when a finding is confirmed, resolved or withdrawn. Exit status as `report`: 0, "
        "1 with --fail-on when such an alert is open, 2 for usage errors.",
    )
    p.add_argument("logdir", metavar="LOGDIR", help="a local path or an fsspec URL")
    p.add_argument(
        "--format",
        choices=("rich", "jsonl"),
        default="rich",
        help="rich: a live table on a terminal, one line per event otherwise (default); "
        "jsonl: one tbplateau.watch/1 JSON object per event",
    )
    p.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="auto (default): colour only a terminal, and never when NO_COLOR is set",
    )
    p.add_argument(
        "--goal",
        action="append",
        default=[],
        metavar="TAG_PATTERN=min|max|none",
        help="override the goal inferred from tag names (fnmatch glob; repeatable)",
    )
    p.add_argument("--runs", metavar="REGEX", help="only runs whose name matches")
    p.add_argument("--tags", metavar="REGEX", help="only series whose tag matches")
    p.add_argument(
        "--fail-on",
        metavar="KIND[,KIND]",
        default="",
        help="exit 1 as soon as an alert of one of these kinds is open (CI, schedulers)",
    )
    p.add_argument(
        "--interval",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="seconds between polls (default 5, like TensorBoard's reload)",
    )
    p.add_argument(
        "--once",
        action="store_true",
        help="poll once and treat every run as stopped (the alerts are then report's findings)",
    )
    p.add_argument("--max-polls", type=int, metavar="N", help="stop after N polls")
    p.add_argument(
        "--confirm",
        type=int,
        default=2,
        metavar="N",
        help="evaluations a finding must survive before it is alerted (default 2; "
        "non-finite values alert at once)",
    )
    p.add_argument(
        "--cooldown",
        type=float,
        default=1800.0,
        metavar="SECONDS",
        help="an alert back within this time of closing is not sent again (default 1800)",
    )
    p.add_argument(
        "--settle",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="a run still for this long (or 3 of its logging intervals) counts as stopped; "
        "its alerts then match report's findings (default 60)",
    )
    p.add_argument(
        "--state",
        metavar="FILE|none",
        help="where alerts are kept across restarts (default: under $XDG_STATE_HOME or "
        "~/.local/state/tbplateau, keyed by logdir; never inside the logdir); none: nowhere",
    )
    p.add_argument(
        "--notify",
        metavar="URL|env:NAME",
        help='POST each alert as JSON to this webhook (Slack-compatible {"text": ...}); '
        "env:NAME reads the URL from an environment variable. The URL is never printed",
    )
    p.add_argument(
        "--notify-existing",
        action="store_true",
        help="on the first start, also announce what the logdir already holds",
    )
    p.add_argument("--notify-timeout", type=float, default=10.0, help=argparse.SUPPRESS)
    p.add_argument("--notify-retries", type=int, default=3, help=argparse.SUPPRESS)
    p.add_argument("--notify-backoff", type=float, default=1.0, help=argparse.SUPPRESS)
    p.add_argument(
        "--exec",
        dest="exec_command",
        metavar="COMMAND",
        help="run COMMAND when an alert opens: split like a shell, $VARS from this "
        "environment, no shell; TBPLATEAU_RUN, TBPLATEAU_TAG, TBPLATEAU_KIND... in its "
        "environment and the event as JSON on its stdin",
    )
    p.add_argument("--exec-timeout", type=float, default=60.0, help=argparse.SUPPRESS)


# -- options ------------------------------------------------------------------------


def _usage(message: str) -> UsageError:
    return UsageError(f"tbplateau watch: {message}")


def _parse_kinds(text: str) -> set[FindingKind]:
    kinds = set()
    for word in filter(None, (w.strip() for w in text.split(","))):
        try:
            kinds.add(FindingKind(word))
        except ValueError:
            choices = ", ".join(k.value for k in FindingKind)
            raise _usage(f"unknown kind {word!r} (choose from {choices})") from None
    return kinds


def _regex(text: str | None, option: str) -> re.Pattern[str] | None:
    if text is None:
        return None
    try:
        return re.compile(text)
    except re.error as exc:
        raise _usage(f"bad {option} regex {text!r}: {exc}") from None


def _check_numbers(args: argparse.Namespace) -> None:
    if not args.interval > 0:
        raise _usage(f"--interval must be positive, not {args.interval:g}")
    if args.max_polls is not None and args.max_polls < 1:
        raise _usage(f"--max-polls must be at least 1, not {args.max_polls}")
    if args.confirm < 1:
        raise _usage(f"--confirm must be at least 1, not {args.confirm}")
    for option, value in (("--cooldown", args.cooldown), ("--settle", args.settle)):
        if not value >= 0:
            raise _usage(f"{option} must be >= 0, not {value:g}")
    for goal in args.goal:
        try:
            parse_goal_override(goal)
        except TbplateauError as exc:
            raise _usage(str(exc)) from None


def _state_path(args: argparse.Namespace) -> str | None:
    if args.state is not None and args.state.lower() == "none":
        return None
    path = args.state or str(default_state_path(args.logdir))
    if inside(path, args.logdir):
        raise _usage(f"--state {path} is inside the logdir; keep the state elsewhere")
    return path


def _sinks(args: argparse.Namespace) -> list[Sink]:
    sinks: list[Sink] = []
    if args.notify:
        try:
            url, label = resolve_webhook(args.notify)
        except ValueError as exc:
            raise _usage(str(exc)) from None
        sinks.append(
            WebhookSink(url, label=label, timeout=args.notify_timeout, retries=args.notify_retries)
        )
    if args.exec_command is not None:
        try:
            argv = parse_command(args.exec_command)
        except ValueError as exc:
            raise _usage(str(exc)) from None
        sinks.append(ExecSink(argv, timeout=args.exec_timeout))
    return sinks


# -- the session ------------------------------------------------------------------


class _Terminated(Exception):  # noqa: N818 - not an error: a request to stop
    """SIGTERM: stop like Ctrl-C."""


@contextmanager
def _sigterm_stops() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Session:
    """One ``tbplateau watch`` run: the watcher, its outputs and its workers."""

    def __init__(
        self,
        args: argparse.Namespace,
        watcher: Watcher,
        sinks: Sequence[Sink],
        out: Console,
        err: Console,
    ) -> None:
        self.args = args
        self.watcher = watcher
        self.out = out
        self.err = err
        self.fail_on = _parse_kinds(args.fail_on)
        self.lines: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.notifiers = [
            Notifier(
                sink,
                report=self.lines.put,
                on_sent=self._sent if i == 0 else (lambda e: None),
                backoff=args.notify_backoff,
            )
            for i, sink in enumerate(sinks)
        ]
        self.live: Live | None = None
        self.view = LiveView(args.logdir, args.interval)
        self.said_save_problem: str | None = None

    def _sent(self, event: Event) -> None:
        if event.event is EventType.OPENED and event.id is not None:
            self.watcher.delivered(event.id)

    def say(self, line: str) -> None:
        """A diagnostic line: on stderr, or in the live display when both share a terminal."""
        if self.live is not None and self.err.is_terminal:
            self.view.notice(line)
            self.live.refresh()
        else:
            self.err.print(Text(line), highlight=False, markup=False)

    def flush_lines(self) -> None:
        while True:
            try:
                self.say(self.lines.get_nowait())
            except queue.Empty:
                return

    def run(self) -> int:
        for event in self.watcher.undelivered():
            self.announce(event, first_sink_only=True)
        polls = 0
        while True:
            started = time.monotonic()
            events = self.watcher.poll(final=self.args.once)
            polls += 1
            self.show(events)
            self.report_save_problem()
            for event in events:
                if event.notify:
                    self.announce(event, first_sink_only=event.event is not EventType.OPENED)
            self.flush_lines()
            if self.failing(events):
                return EXIT_FINDINGS
            if self.args.once or (self.args.max_polls is not None and polls >= self.args.max_polls):
                return EXIT_OK
            self.wait(self.args.interval - (time.monotonic() - started))

    def report_save_problem(self) -> None:
        """Say once that the state cannot be saved (and again if the reason changes)."""
        problem = self.watcher.save_problem
        if problem is not None and problem != self.said_save_problem:
            self.say(f"tbplateau watch: {problem}; the watch goes on")
        self.said_save_problem = problem

    def failing(self, events: Sequence[Event]) -> bool:
        if not self.fail_on:
            return False
        kinds = {k.value for k in self.fail_on}
        if any(e.event is EventType.OPENED and e.kind in kinds for e in events):
            return True
        return any(
            a.state is AlertState.OPEN and a.kind in self.fail_on for a in self.watcher.alerts
        )

    def wait(self, seconds: float) -> None:
        """Sleep until the next poll, showing worker diagnostics as they come."""
        deadline = time.monotonic() + max(0.0, seconds)
        while (left := deadline - time.monotonic()) > 0:
            try:
                self.say(self.lines.get(timeout=left))
            except queue.Empty:
                return

    def announce(self, event: Event, *, first_sink_only: bool) -> None:
        if not self.notifiers:
            return
        text = chat_text(event, self.watcher.advice(event))
        # --exec runs on openings only; closings and updates go to the webhook
        targets = self.notifiers[:1] if first_sink_only else self.notifiers
        for n in targets:
            if isinstance(n.sink, ExecSink) and event.event is not EventType.OPENED:
                continue
            n.submit(event, text)

    def show(self, events: Sequence[Event]) -> None:
        if self.args.format == "jsonl":
            if events:
                self.out.file.write("".join(e.to_json() + "\n" for e in events))
                self.out.file.flush()
            return
        if self.live is None:
            for e in events:
                self.out.print(event_line(e), highlight=False, markup=False, soft_wrap=True)
            return
        update = self.watcher.update
        v = self.view
        v.add(events)
        v.alerts = self.watcher.alerts
        v.polls = self.watcher.polls
        v.last = time.time()
        if update is not None:
            v.runs = len(update.logdir.runs)
            v.series = sum(len(r.series) for r in update.logdir.runs)
            v.points = sum(r.points for r in update.logdir.runs)
        self.live.refresh()

    def close(self, *, interrupted: bool) -> None:
        args = self.args
        budget = args.notify_timeout * (args.notify_retries + 1) + args.notify_backoff * (
            2 ** max(args.notify_retries, 0)
        )
        try:
            for n in self.notifiers:
                n.close(INTERRUPT_GRACE if interrupted else max(budget, args.exec_timeout))
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting for the workers
            pass
        self.flush_lines()
        problem = None if self.watcher.save() else self.watcher.save_problem
        if problem is not None and problem != self.said_save_problem:
            self.say(f"tbplateau watch: {problem}")


def watch_command(args: argparse.Namespace, out: Console, err: Console) -> int:
    _check_numbers(args)
    _parse_kinds(args.fail_on)
    runs = _regex(args.runs, "--runs")
    tags = _regex(args.tags, "--tags")
    state = _state_path(args)
    sinks = _sinks(args)
    if args.exec_command is not None:
        for name in unset_variables(args.exec_command):
            err.print(Text(f"tbplateau watch: --exec: ${name} is not set"), highlight=False)
    watcher = Watcher(
        args.logdir,
        goals=args.goal,
        runs=runs,
        tags=tags,
        confirm=args.confirm,
        cooldown=args.cooldown,
        settle=args.settle,
        state=state,
        notify_existing=args.notify_existing,
        track_delivery=bool(sinks),
    )
    if watcher.state_problem:
        err.print(
            Text(f"tbplateau watch: {watcher.state_problem}; starting afresh"), highlight=False
        )
    session = _Session(args, watcher, sinks, out, err)
    interrupted = False
    live = args.format == "rich" and out.is_terminal and not args.once
    try:
        with _sigterm_stops(), _live(session, live):
            return session.run()
    except (KeyboardInterrupt, _Terminated):
        interrupted = True
        return EXIT_OK
    finally:
        session.close(interrupted=interrupted)


@contextmanager
def _live(session: _Session, enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    with Live(
        session.view,
        console=session.out,
        auto_refresh=False,
        transient=False,
        redirect_stdout=False,
        redirect_stderr=False,
    ) as live:
        session.live = live
        try:
            yield live
        finally:
            session.live = None
