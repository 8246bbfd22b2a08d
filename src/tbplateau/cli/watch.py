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
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any

from rich.console import Console
from rich.live import Live

from tbplateau.cli._common import (
    EXIT_FINDINGS,
    EXIT_OK,
    PATTERN_HELP,
    FailOn,
    Selection,
    Subparsers,
    UsageError,
    add_color_option,
    add_fail_on_option,
    add_selection_options,
    print_line,
)
from tbplateau.errors import InvalidParameterError
from tbplateau.findings import Finding
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

COMMAND = "tbplateau watch"

INTERRUPT_GRACE = 2.0
"""Seconds a notification in flight gets to finish after Ctrl-C."""


EXAMPLES = """examples:
  tbplateau watch runs/                                  # a live table (5 s)
  tbplateau watch runs/ --format jsonl                   # one event per line
  tbplateau watch runs/ --runs 'sweep/lr_*' --tags '*loss*'
  tbplateau watch runs/ --fail-on non-finite,divergence  # exit 1 at the first
  tbplateau watch runs/ --notify env:SLACK_WEBHOOK       # a webhook per alert
  tbplateau watch runs/ --once --fail-on any             # one look, as report"""

WATCH_PATTERNS = """In watch, the logdir may still be empty or growing: the patterns are checked
once it holds a series, and one that matches nothing then is a warning on stderr
(once; the watch goes on, as the run or tag may appear later), or with --once an
error (exit 2), as in report. --fail-on counts an alert once it is open
(confirmed; non-finite values at once), and the watch stops at the first one."""

EXIT_CODES = """exit codes:
  0  stopped (--once, --max-polls, Ctrl-C or SIGTERM); damaged files are read
     issues
  1  --fail-on: an alert of one of the given kinds is open (the last line of
     stderr names the findings)
  2  usage error, a pattern that matches nothing with --once, a missing logdir
     (one line on stderr says which)"""


def watch_parser(name: str, sub: Subparsers) -> None:
    """Add the ``watch`` command's parser."""
    p = sub.add_parser(
        name,
        help="watch a logdir as it is written and alert on plateaus, divergence, NaN...",
        description="Poll a logdir every few seconds, analyse what was appended and alert\n"
        "when a finding is confirmed, resolved or withdrawn. --runs, --tags, --goal,\n"
        "--fail-on and --color are report's.",
        epilog=f"{PATTERN_HELP}\n\n{WATCH_PATTERNS}\n\n{EXAMPLES}\n\n{EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("logdir", metavar="LOGDIR", help="a local path or an fsspec URL")
    p.add_argument(
        "--format",
        choices=("rich", "jsonl"),
        default="rich",
        help="rich: a live table on a terminal, one line per event otherwise (default); "
        "jsonl: one tbplateau.watch/1 JSON object per event",
    )
    add_color_option(p)
    add_selection_options(p)
    add_fail_on_option(p)
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
    _delivery_options(p)


def _delivery_options(p: argparse.ArgumentParser) -> None:
    """Where alerts are kept and sent: ``--state``, ``--notify`` and ``--exec``."""
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
    return UsageError(f"{COMMAND}: {message}")


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
        *,
        fail_on: FailOn,
        selection: Selection,
    ) -> None:
        self.args = args
        self.watcher = watcher
        self.out = out
        self.err = err
        self.fail_on = fail_on
        self.selection = selection
        self.checked = False
        self.tripped: list[tuple[str, Finding]] = []
        """What tripped ``--fail-on`` (run, finding), when it did."""
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
            print_line(self.err, line)

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
            try:
                events = self.watcher.poll(final=self.args.once, strict=self.args.once)
            except InvalidParameterError as exc:  # --once: a pattern that matches nothing
                raise UsageError(f"{COMMAND}: {exc}") from None
            polls += 1
            self.check_selection()
            self.show(events)
            self.report_save_problem()
            for event in events:
                if event.notify:
                    self.announce(event, first_sink_only=event.event is not EventType.OPENED)
            self.flush_lines()
            self.tripped = self.failing(events)
            if self.tripped:
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

    def check_selection(self) -> None:
        """Once the logdir holds a series: a note for each bare word that leaves out
        names holding it and a warning for each pattern that matches nothing (said
        once: the run or tag may still appear)."""
        unmatched = self.watcher.unmatched
        update = self.watcher.update
        if self.checked or unmatched is None or update is None:
            return
        self.checked = True
        for note in self.selection.notes(update.logdir):
            self.say(note)
        for u in unmatched:
            self.say(f"{COMMAND}: warning: {u.message()}; watching on, in case it appears")

    def failing(self, events: Sequence[Event]) -> list[tuple[str, Finding]]:
        """``(run, finding)`` of each alert open now or opened by ``events`` whose
        finding ``--fail-on`` selects (as ``report --fail-on`` selects findings)."""
        if not self.fail_on:
            return []
        opened = {e.id for e in events if e.event is EventType.OPENED}
        alerts = [a for a in self.watcher.alerts if a.state is AlertState.OPEN or a.id in opened]
        return [(a.run, f) for a, f in self.watcher.findings(alerts) if self.fail_on.matches(f)]

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
    fail_on = FailOn.parse(args.fail_on, COMMAND)
    selection = Selection.from_args(args, COMMAND)
    state = _state_path(args)
    sinks = _sinks(args)
    if args.exec_command is not None:
        for name in unset_variables(args.exec_command):
            print_line(err, f"{COMMAND}: --exec: ${name} is not set")
    watcher = Watcher(
        args.logdir,
        goals=args.goal,
        runs=args.runs,
        tags=args.tags,
        confirm=args.confirm,
        cooldown=args.cooldown,
        settle=args.settle,
        state=state,
        notify_existing=args.notify_existing,
        track_delivery=bool(sinks),
    )
    if watcher.state_problem:
        print_line(err, f"{COMMAND}: {watcher.state_problem}; starting afresh")
    session = _Session(args, watcher, sinks, out, err, fail_on=fail_on, selection=selection)
    interrupted = False
    live = args.format == "rich" and out.is_terminal and not args.once
    try:
        with _sigterm_stops(), _live(session, live):
            code = session.run()
    except (KeyboardInterrupt, _Terminated):
        interrupted = True
        code = EXIT_OK
    finally:
        session.close(interrupted=interrupted)
    if session.tripped:
        print_line(err, fail_on.message(session.tripped))
    return code


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
