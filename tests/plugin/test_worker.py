"""The tab's background thread: one owner, clean start and stop, requests never wait."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tbplateau.live import LiveAnalysis, Update
from tbplateau.plugin import document
from tbplateau.plugin.sources import LogdirSource, Progress
from tbplateau.plugin.worker import Analyst
from tests.helpers import curve, frame, write_events


class FakeSource:
    """A source whose refreshes the test controls: each one runs ``steps.pop(0)``."""

    kind = "logdir"
    sampled = False

    def __init__(self, live: LiveAnalysis, steps: list[Callable[[], None]] | None = None) -> None:
        self.live = live
        self.steps = steps or []
        self.calls = 0

    def refresh(self, progress: Progress) -> Update:
        self.calls += 1
        if self.steps:
            self.steps.pop(0)()
        return self.live.refresh()


def until(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
    return value


def _idle(analyst: Analyst) -> bool:
    status = analyst.status()
    return bool(status["scan"] >= 1 and status["advice"] is None and not status["scanning"])


def two_runs(root: Path) -> Path:
    write_events(root / "a" / "events.out.tfevents.1", curve("loss", range(60)))
    write_events(root / "b" / "events.out.tfevents.1", curve("loss", range(60), seed=2))
    return root / "a" / "events.out.tfevents.1"


@pytest.fixture
def analysts() -> Any:
    made: list[Analyst] = []
    yield made
    for a in made:
        assert a.close(30), "the thread did not stop"


def test_interval_zero_refreshes_only_when_asked(tmp_path: Path, analysts: list[Analyst]) -> None:
    two_runs(tmp_path)
    source = FakeSource(LiveAnalysis(tmp_path))
    analyst = Analyst(source, interval=0)
    analysts.append(analyst)
    assert analyst.status()["state"] == "loading"
    assert analyst.published() is None
    analyst.start()
    until(lambda: analyst.status()["scan"] == 1 and analyst.status()["advice"] is None)
    time.sleep(0.2)
    assert source.calls == 1
    version = analyst.status()["version"]
    target = analyst.request_refresh()
    assert target == 2
    until(lambda: analyst.status()["scan"] == 2)
    status = analyst.status()
    # nothing changed: same version and changed_at, a newer checked_at
    assert status["version"] == version
    assert status["checked_at"] >= status["changed_at"]


def test_growth_is_published_with_a_new_version(tmp_path: Path, analysts: list[Analyst]) -> None:
    a = two_runs(tmp_path)
    analyst = Analyst(LogdirSource(str(tmp_path)), interval=0)
    analysts.append(analyst)
    analyst.start()
    until(lambda: analyst.status()["scan"] == 1 and analyst.status()["advice"] is None)
    first = analyst.published()
    assert first is not None
    with a.open("ab") as fh:
        fh.write(frame(curve("loss", range(60, 100), seed=3)))
    target = analyst.request_refresh()
    until(lambda: analyst.status()["scan"] >= target)
    until(lambda: analyst.status()["advice"] is None and not analyst.status()["scanning"])
    last = analyst.published()
    assert last is not None
    assert last.version > first.version
    assert analyst.last_update is not None
    assert analyst.last_update.changed == ("a",)
    assert len(last.curves[("a", "loss")]) == 100


def test_close_stops_a_waiting_thread_at_once(tmp_path: Path) -> None:
    two_runs(tmp_path)
    analyst = Analyst(FakeSource(LiveAnalysis(tmp_path)), interval=3600)
    analyst.start()
    until(lambda: analyst.published() is not None)
    start = time.monotonic()
    assert analyst.close(10)
    assert time.monotonic() - start < 5
    assert not analyst.running
    with pytest.raises(RuntimeError, match="already started"):
        analyst.start()


def test_a_missing_logdir_is_a_message_then_recovers(
    tmp_path: Path, analysts: list[Analyst]
) -> None:
    missing = tmp_path / "later"
    analyst = Analyst(LogdirSource(str(missing)), interval=0)
    analysts.append(analyst)
    analyst.start()
    status = until(lambda: (s := analyst.status())["message"] and s)
    assert status["state"] == "loading"
    assert str(missing) in status["message"]
    two_runs(missing)
    analyst.request_refresh()
    until(lambda: analyst.status()["state"] == "ready")
    assert analyst.status()["message"] is None


def test_an_unexpected_error_keeps_the_thread_alive(
    tmp_path: Path, analysts: list[Analyst], caplog: pytest.LogCaptureFixture
) -> None:
    two_runs(tmp_path)

    def boom() -> None:
        raise RuntimeError("disk on fire")

    analyst = Analyst(FakeSource(LiveAnalysis(tmp_path), [boom]), interval=0)
    analysts.append(analyst)
    analyst.start()
    status = until(lambda: (s := analyst.status())["state"] == "error" and s)
    assert status["message"] == "RuntimeError: disk on fire"
    assert analyst.running
    assert "refreshing the Plateaus tab failed" in caplog.text
    analyst.request_refresh()
    until(lambda: analyst.status()["state"] == "ready")


def test_failed_advice_keeps_the_findings(
    tmp_path: Path, analysts: list[Analyst], monkeypatch: pytest.MonkeyPatch
) -> None:
    two_runs(tmp_path)

    def broken(*args: Any) -> Any:
        raise ValueError("no words today")

    monkeypatch.setattr("tbplateau.plugin.worker.advised_runs", broken)
    analyst = Analyst(FakeSource(LiveAnalysis(tmp_path)), interval=0)
    analysts.append(analyst)
    analyst.start()
    until(lambda: analyst.status()["scan"] == 1 and analyst.status()["advice"] is None)
    published = analyst.published()
    assert published is not None
    assert '"advice_pending":0' in published.body
    assert '"report":{"schema":"tbplateau.report/1"' in published.body


def test_a_refresh_request_interrupts_the_advice(
    tmp_path: Path, analysts: list[Analyst], monkeypatch: pytest.MonkeyPatch
) -> None:
    two_runs(tmp_path)
    real = document.advised_runs
    started = threading.Event()
    release = threading.Event()
    calls: list[tuple[tuple[str, ...], int]] = []

    def slow(report: Any, logdir: Any, names: Any) -> Any:
        calls.append((tuple(names), source.calls))
        started.set()
        release.wait(30)
        return real(report, logdir, names)

    monkeypatch.setattr("tbplateau.plugin.worker.advised_runs", slow)
    source = FakeSource(LiveAnalysis(tmp_path))
    analyst = Analyst(source, interval=0)
    analysts.append(analyst)
    analyst.start()
    assert started.wait(30)
    # the findings are published before any advice
    assert analyst.published() is not None
    assert analyst.status()["advice"] == {"done": 0, "total": 2}
    analyst.request_refresh()
    release.set()
    until(lambda: source.calls == 2)
    until(lambda: analyst.status()["advice"] is None and analyst.status()["scan"] == 2)
    # run b was advised after the second scan, not before it
    assert calls == [(("a",), 1), (("b",), 2)]


def test_interval_must_not_be_negative(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="interval"):
        Analyst(FakeSource(LiveAnalysis(tmp_path)), interval=-1)


def test_versions_grow_across_restarts(tmp_path: Path, analysts: list[Analyst]) -> None:
    """A page that kept the version of a server that restarted never gets 'unchanged'."""
    two_runs(tmp_path)
    versions = []
    for now in (1000.0, 1000.5):
        analyst = Analyst(
            FakeSource(LiveAnalysis(tmp_path)), interval=0, clock=functools.partial(float, now)
        )
        analysts.append(analyst)
        analyst.start()
        until(functools.partial(_idle, analyst))
        published = analyst.published()
        assert published is not None
        versions.append(published.version)
    # first publish at 1000.0 s, then +1 per advised run; the restart starts at 1000.5 s
    assert versions[0] >= 1_000_000
    assert versions[1] >= 1_000_500 > versions[0]
