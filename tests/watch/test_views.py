"""Hostile run and tag names through every watch view: nothing raw reaches a terminal,
a log collector or a chat."""

from __future__ import annotations

import io
import json
import re

from rich.console import Console

from tbplateau.findings import FindingKind
from tbplateau.watch import Alert, AlertState, Event, EventType
from tbplateau.watch.views import LiveView, alert_table, chat_text, event_line

HOSTILE_RUN = "r\x1b]0;pwned\x07\u202e"
HOSTILE_TAG = "loss\x1b[2J\x1b[31m`x` <!channel> & |"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _event(kind: EventType = EventType.OPENED) -> Event:
    return Event(
        kind,
        1714564800.0,
        "/logs\x1b[2J",
        id="abc",
        run=HOSTILE_RUN,
        tags=(HOSTILE_TAG,),
        kind="plateau",
        state="open",
        start_step=1200,
        end_step=None,
        confidence=0.87,
        message=f"plateau in {HOSTILE_TAG}",
        problem="corrupt" if kind.value == "read_issue" else None,
    )


def _alert() -> Alert:
    return Alert(
        "abc",
        HOSTILE_RUN,
        (HOSTILE_TAG,),
        FindingKind.PLATEAU,
        1200,
        None,
        0.87,
        AlertState.OPEN,
        noticed_step=1300,
    )


def _render(renderable: object) -> str:
    buf = io.StringIO()
    Console(file=buf, width=160, force_terminal=True, color_system="truecolor").print(renderable)
    text = buf.getvalue()
    return re.sub(r"\x1b\[[0-9;]*m", "", text)  # rich's own colours; nothing else may remain


def test_json_lines_are_ascii_and_escape_names() -> None:
    line = _event().to_json()
    assert line.isascii()
    assert not CONTROL.search(line)
    doc = json.loads(line)
    assert doc["run"] == HOSTILE_RUN
    assert doc["tags"] == [HOSTILE_TAG]
    assert list(doc) == [
        "schema",
        "event",
        "id",
        "run",
        "tags",
        "kind",
        "state",
        "start_step",
        "end_step",
        "confidence",
        "noticed_step",
        "time",
        "logdir",
        "existing",
        "notify",
        "reason",
        "message",
        "problem",
        "file",
    ]


def test_terminal_lines_and_the_live_table_show_controls_as_text() -> None:
    for kind in (EventType.OPENED, EventType.READ_ISSUE):
        text = _render(event_line(_event(kind)))
        assert not CONTROL.search(text.replace("\x1b", ""))
        assert "\x1b" not in text
        assert "\\x1b]0;pwned\\x07" in text
    view = LiveView("/logs\x1b[2J", 5)
    view.alerts = [_alert()]
    view.add([_event()])
    view.notice("webhook failed \x1b[2J")
    text = _render(view)
    assert "\x1b" not in text
    assert not CONTROL.search(text)
    assert "\\x1b[2J" in text
    assert "\\u202e" in text
    assert "plateau" in _render(alert_table([_alert()]))


def test_chat_text_keeps_names_in_their_code_spans() -> None:
    text = chat_text(_event())
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;" in text
    assert "\x1b" not in text
    assert text.count("`") == 4
    assert "*plateau*" in text
    assert "from step 1,200" in text
    assert chat_text(_event(EventType.RESOLVED)).startswith("tbplateau: resolved: ")
