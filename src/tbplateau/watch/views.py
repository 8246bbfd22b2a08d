"""How watch events and alerts are shown: text lines, the live table, chat messages.

Only formatting lives here. Every run and tag name passes through
:mod:`tbplateau.escape` for its medium (:func:`~tbplateau.escape.terminal` for the
terminal, :func:`~tbplateau.escape.chat` for webhooks); JSON lines escape through
:meth:`~tbplateau.watch.events.Event.to_json`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from tbplateau import escape
from tbplateau.explain import Advice
from tbplateau.watch.alerts import Alert, AlertState
from tbplateau.watch.events import Event, EventType

__all__ = ["LiveView", "alert_table", "chat_text", "event_line"]

KIND_STYLE = {
    "nonfinite": "bold red",
    "divergence": "red",
    "overfitting": "magenta",
    "oscillation": "cyan",
    "plateau": "yellow",
}
STATE_ORDER = {
    AlertState.OPEN: 0,
    AlertState.PENDING: 1,
    AlertState.RESOLVED: 2,
    AlertState.WITHDRAWN: 3,
}
KIND_ORDER = {"nonfinite": 0, "divergence": 1, "overfitting": 2, "oscillation": 3, "plateau": 4}
NAME_WIDTH = 40


def _clock(t: float) -> str:
    return _dt.datetime.fromtimestamp(t).strftime("%H:%M:%S")


def _steps(start: int | None, end: int | None) -> str:
    if start is None:
        return "-"
    return f"step {start:,}" + ("" if end is None else f"–{end:,}")


def _tags(tags: Sequence[str], width: int = NAME_WIDTH) -> str:
    return " vs ".join(escape.terminal(escape.shorten(t, width)) for t in tags) or "-"


def _label(kind: str | None) -> str:
    """A kind as the other screens name it (``non-finite``); JSONL keeps the JSON kind."""
    return "-" if kind is None else ("non-finite" if kind == "nonfinite" else kind)


def event_line(event: Event) -> Text:
    """One line for a terminal or a log file: time, event, kind, run, tags, steps."""
    head = Text(f"{_clock(event.time)} ")
    if event.event in (EventType.READ_ISSUE, EventType.RUN_REMOVED):
        head.append(f"{event.event.value:<11}", style="bold red")
        run = escape.terminal(escape.shorten(event.run or ".", NAME_WIDTH))
        head.append(f" run {run}: ")
        head.append(escape.terminal(event.message or "", limit=300))
        return head
    style = KIND_STYLE.get(event.kind or "", "")
    head.append(f"{event.event.value:<9} ", style="bold" if event.event is EventType.OPENED else "")
    head.append(f"{_label(event.kind):<11}", style=style)
    head.append(f" run {escape.terminal(escape.shorten(event.run or '.', NAME_WIDTH))}")
    head.append(f"  {_tags(event.tags)}  {_steps(event.start_step, event.end_step)}")
    if event.confidence is not None:
        head.append(f"  conf {event.confidence:.2f}")
    notes = [w for w, on in (("existing", event.existing), (event.reason or "", True)) if on and w]
    if notes:
        head.append(f"  ({', '.join(notes)})", style="dim")
    return head


def chat_text(event: Event, advice: Advice | None = None) -> str:
    """The ``text`` of a webhook message (Slack ``mrkdwn``; names in code spans)."""
    run = escape.chat(event.run or ".")
    tags = " vs ".join(f"`{escape.chat(t)}`" for t in event.tags) or "-"
    what = "non-finite values" if event.kind == "nonfinite" else (event.kind or "alert")
    verb = {
        EventType.OPENED: "",
        EventType.RESOLVED: "resolved: ",
        EventType.WITHDRAWN: "withdrawn (no longer found): ",
    }.get(event.event, f"{event.event.value}: ")
    where = _steps(event.start_step, event.end_step)
    conf = "" if event.confidence is None else f", confidence {event.confidence:.2f}"
    text = f"tbplateau: {verb}*{what}* in run `{run}`, {tags}, from {where}{conf}"
    if advice is not None and event.event is EventType.OPENED:
        if advice.facts:
            text += "\n" + escape.chat(advice.facts[0], limit=500)
        if advice.tries:
            text += "\nTry: " + escape.chat("; ".join(advice.tries[:2]), limit=500)
    return text


def _rank(a: Alert) -> tuple[int, int, str, tuple[str, ...], int]:
    return (STATE_ORDER[a.state], KIND_ORDER.get(a.kind.value, 9), a.run, a.tags, a.start_step)


def alert_table(alerts: Sequence[Alert], *, rows: int = 30) -> RenderableType:
    """The alerts, open first, then pending, resolved and the latest withdrawn."""
    shown = sorted(alerts, key=_rank)
    table = Table(box=None, pad_edge=False, header_style="bold", show_edge=False, expand=True)
    # the fixed columns keep their width; long run and tag names are cut with an
    # ellipsis to what is left (one line per alert, whatever the terminal's width)
    table.add_column("state", no_wrap=True, min_width=9)
    table.add_column("kind", no_wrap=True, min_width=11)
    table.add_column("run", no_wrap=True, overflow="ellipsis", ratio=1)
    table.add_column("series", no_wrap=True, overflow="ellipsis", ratio=1)
    for name in ("from", "to", "conf", "noticed"):
        table.add_column(name, justify="right", no_wrap=True, min_width=len(name))
    for a in shown[:rows]:
        dim = a.state in (AlertState.PENDING, AlertState.WITHDRAWN)
        state_style = {
            AlertState.OPEN: "bold",
            AlertState.RESOLVED: "green",
        }.get(a.state, "dim")
        table.add_row(
            Text(a.state.value, style=state_style),
            Text(_label(a.kind.value), style="dim" if dim else KIND_STYLE.get(a.kind.value, "")),
            Text(escape.terminal(escape.shorten(a.run, 32))),
            Text(_tags(a.tags, 32)),
            Text(f"{a.start_step:,}"),
            Text("-" if a.end_step is None else f"{a.end_step:,}"),
            Text(f"{a.confidence:.2f}"),
            Text("-" if a.noticed_step is None else f"{a.noticed_step:,}"),
            style="dim" if dim else "",
        )
    if len(shown) > rows:
        table.add_row(Text(f"… {len(shown) - rows} more", style="dim"))
    return table


class LiveView:
    """The live display: a header, the alert table and the latest events."""

    def __init__(self, logdir: str, interval: float, *, recent: int = 6) -> None:
        self.logdir = logdir
        self.interval = interval
        self.recent: list[Event] = []
        self.keep = recent
        self.notices: list[str] = []
        self.alerts: Sequence[Alert] = ()
        self.polls = 0
        self.last = 0.0
        self.runs = 0
        self.series = 0
        self.points = 0

    def add(self, events: Sequence[Event]) -> None:
        self.recent = [*self.recent, *events][-self.keep :]

    def notice(self, line: str) -> None:
        self.notices = [*self.notices, line][-3:]

    def __rich__(self) -> RenderableType:
        head = Text.assemble(
            ("tbplateau watch ", "bold"),
            (escape.terminal(self.logdir), "bold cyan"),
        )
        counts = {s: 0 for s in AlertState}
        for a in self.alerts:
            counts[a.state] += 1
        info = Text(
            f"poll {self.polls:,} at {_clock(self.last)} · every {self.interval:g} s · "
            f"{self.runs:,} runs · {self.series:,} series · {self.points:,} points · "
            f"{counts[AlertState.OPEN]} open, {counts[AlertState.PENDING]} pending, "
            f"{counts[AlertState.RESOLVED]} resolved",
            style="dim",
        )
        live = [a for a in self.alerts if a.state is not AlertState.WITHDRAWN]
        parts: list[RenderableType] = [head, info, Text()]
        if live:
            parts.append(alert_table(live))
        else:
            parts.append(Text("no alerts", style="green"))
        if self.recent:
            parts.append(Text())
            parts.append(Text("latest events", style="bold"))
            parts.extend(event_line(e) for e in self.recent)
        for line in self.notices:
            parts.append(Text(escape.terminal(line, limit=300), style="red"))
        parts.append(Text("Ctrl-C to stop", style="dim"))
        return Group(*parts)
