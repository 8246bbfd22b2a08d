"""Notifications: a webhook on 127.0.0.1 and a command, behind worker threads."""

from __future__ import annotations

import json
import socket
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from tbplateau.watch import Event, EventType
from tbplateau.watch.notify import (
    ExecSink,
    Notifier,
    WebhookSink,
    parse_command,
    resolve_webhook,
    unset_variables,
)
from tests.watch.growing import Growing
from tests.watch.receiver import SECRET, receiving

HOSTILE = "run\x1b]0;pwned\x07\x1b[2J;rm -rf ~ `id` <!channel>"


def _event(run: str = "r", tag: str = "loss", ident: str = "abc") -> Event:
    return Event(
        EventType.OPENED,
        0.0,
        "/logs",
        id=ident,
        run=run,
        tags=(tag,),
        kind="nonfinite",
        state="open",
        start_step=5,
        confidence=1.0,
        notify=True,
    )


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self.lock:
            self.lines.append(line)


def test_the_webhook_gets_the_json(tmp_path: Path) -> None:
    sent: list[Event] = []
    with receiving() as r:
        n = Notifier(WebhookSink(r.url), report=Lines(), on_sent=sent.append)
        assert n.submit(_event(), "tbplateau: *nonfinite*")
        assert n.close(10)
    (body,) = r.bodies
    assert body["text"] == "tbplateau: *nonfinite*"
    assert body["tbplateau"]["schema"] == "tbplateau.watch/1"
    assert body["tbplateau"]["id"] == "abc"
    assert r.headers[0]["Content-Type"] == "application/json"
    assert [e.id for e in sent] == ["abc"]


def test_a_failing_webhook_is_retried_with_backoff() -> None:
    report = Lines()
    sent: list[Event] = []
    with receiving([500, 503, 200]) as r:
        n = Notifier(WebhookSink(r.url), report=report, on_sent=sent.append, backoff=0.001)
        n.submit(_event(), "x")
        assert n.close(10)
    assert len(r.bodies) == 3
    assert len(sent) == 1
    assert report.lines == []


def test_a_webhook_that_keeps_failing_is_reported_without_its_url() -> None:
    report = Lines()
    sent: list[Event] = []
    with receiving([500] * 10) as r:
        n = Notifier(
            WebhookSink(r.url, retries=2), report=report, on_sent=sent.append, backoff=0.001
        )
        n.submit(_event(), "x")
        n.close(10)
    assert len(r.bodies) == 3
    assert sent == []
    (line,) = report.lines
    assert "HTTP 500 after 3 tries" in line
    assert "alert abc not sent" in line
    assert SECRET not in line
    assert "127.0.0.1" not in line


def test_a_client_error_is_not_retried() -> None:
    report = Lines()
    with receiving([404]) as r:
        n = Notifier(WebhookSink(r.url), report=report, backoff=0.001)
        n.submit(_event(), "x")
        n.close(10)
    assert len(r.bodies) == 1
    assert "HTTP 404" in report.lines[0]


def test_an_unreachable_webhook_is_reported_without_its_url() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hooks/{SECRET}"
    report = Lines()
    n = Notifier(WebhookSink(url, retries=1), report=report, backoff=0.001)
    n.submit(_event(), "x")
    n.close(10)
    (line,) = report.lines
    assert "could not be reached" in line
    assert SECRET not in line


def test_a_stalled_webhook_never_blocks_polling(tmp_path: Path) -> None:
    log = Growing(tmp_path / "logs")
    values = np.full(30, np.nan)
    log.scalars("r", "loss", values, 0)
    watcher = log.watcher(track_delivery=True, notify_existing=True)
    with receiving() as r:
        r.hold.clear()  # the endpoint accepts the request and does not answer
        n = Notifier(
            WebhookSink(r.url), report=Lines(), on_sent=lambda e: watcher.delivered(e.id or "")
        )
        (opened,) = watcher.poll()
        assert n.submit(opened, "x")
        assert r.arrived.wait(10)
        for i in range(5):  # the watch goes on while the request hangs
            log.scalars("r", "loss", values, 30 + 30 * i)
            watcher.poll()
            assert n.submit(_event(ident=f"e{i}"), "x")
        assert [a.delivery for a in watcher.alerts] == ["due"]
        assert n.pending() == 5
        r.hold.set()
        assert n.close(10)
    assert len(r.bodies) == 6
    assert n.sent == 6
    watcher.poll()
    assert [a.delivery for a in watcher.alerts] == ["sent"]


def test_a_full_queue_drops_the_event_and_says_so() -> None:
    report = Lines()
    with receiving() as r:
        r.hold.clear()
        n = Notifier(WebhookSink(r.url), report=report, queue_size=1)
        assert n.submit(_event(ident="first"), "x")
        assert r.arrived.wait(10)
        assert n.submit(_event(ident="second"), "x")
        assert not n.submit(_event(ident="third"), "x")
        r.hold.set()
        n.close(10)
    assert [b["tbplateau"]["id"] for b in r.bodies] == ["first", "second"]
    assert "queue full" in report.lines[0]
    assert "third" in report.lines[0]


SCRIPT = """
import json, os, sys
data = sys.stdin.read()
env = {k: v for k, v in os.environ.items() if k.startswith("TBPLATEAU_")}
with open(sys.argv[1], "w") as fh:
    json.dump({"argv": sys.argv[2:], "env": env, "stdin": data}, fh)
print("some output that must not reach stdout")
sys.exit(int(os.environ.get("EXIT_WITH", "0")))
"""


def test_exec_gets_names_as_environment_never_as_argv(tmp_path: Path) -> None:
    script = tmp_path / "hook.py"
    script.write_text(SCRIPT)
    out = tmp_path / "out.json"
    argv = parse_command(f"{sys.executable} {script} {out} 'a;b' $TBPLATEAU_RUN")
    sent: list[Event] = []
    n = Notifier(ExecSink(argv), report=Lines(), on_sent=sent.append)
    n.submit(_event(run=HOSTILE, tag="loss\x00x"), "x")
    assert n.close(30)
    got = json.loads(out.read_text())
    assert got["argv"] == ["a;b", "$TBPLATEAU_RUN"]  # no shell, no interpolation
    env = got["env"]
    assert env["TBPLATEAU_RUN"] == "run\\x1b]0;pwned\\x07\\x1b[2J;rm -rf ~ `id` <!channel>"
    assert env["TBPLATEAU_TAG"] == "loss\\x00x"
    assert env["TBPLATEAU_KIND"] == "nonfinite"
    assert env["TBPLATEAU_EVENT"] == "opened"
    assert env["TBPLATEAU_START_STEP"] == "5"
    assert json.loads(got["stdin"])["run"] == HOSTILE  # the exact name, as JSON
    assert len(sent) == 1


def test_a_failing_command_is_reported_once_and_not_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "hook.py"
    script.write_text(SCRIPT)
    monkeypatch.setenv("EXIT_WITH", "3")
    report = Lines()
    n = Notifier(ExecSink([sys.executable, str(script), str(tmp_path / "o")]), report=report)
    n.submit(_event(), "x")
    n.close(30)
    (line,) = report.lines
    assert "exit status 3: some output that must not reach stdout" in line


def test_a_command_that_hangs_is_killed(tmp_path: Path) -> None:
    report = Lines()
    sink = ExecSink([sys.executable, "-c", "import time; time.sleep(60)"], timeout=0.3)
    n = Notifier(sink, report=report)
    n.submit(_event(), "x")
    assert n.close(30)
    assert "killed after 0.3 s" in report.lines[0]


def test_a_missing_command_is_reported() -> None:
    report = Lines()
    n = Notifier(ExecSink([str(Path("/nonexistent/tbplateau-hook"))]), report=report)
    n.submit(_event(), "x")
    n.close(30)
    assert "cannot run it" in report.lines[0]


def test_parse_command() -> None:
    env = {"JOB": "42", "TBPLATEAU_RUN": "no"}
    assert parse_command("scancel $JOB", env) == ["scancel", "42"]
    assert parse_command("a ${JOB}x 'b c' $TBPLATEAU_RUN $UNSET", env) == [
        "a",
        "42x",
        "b c",
        "$TBPLATEAU_RUN",
        "$UNSET",
    ]
    assert unset_variables("a $JOB $UNSET ${TBPLATEAU_KIND}", env) == ["UNSET"]
    with pytest.raises(ValueError, match="needs a command"):
        parse_command("  ", env)
    with pytest.raises(ValueError, match="cannot split"):
        parse_command("a 'b", env)


def test_resolve_webhook_never_echoes_the_url() -> None:
    url = f"https://hooks.example/{SECRET}"
    assert resolve_webhook("env:HOOK", {"HOOK": url}) == (url, "the webhook from $HOOK")
    for spec, env in (
        ("env:HOOK", {}),
        ("env:HOOK", {"HOOK": f"file:///{SECRET}"}),
        (f"file:///{SECRET}", {}),
    ):
        with pytest.raises(ValueError, match="--notify") as info:
            resolve_webhook(spec, env)
        assert SECRET not in str(info.value)
