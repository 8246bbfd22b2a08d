"""The watch engine, stepped chunk by chunk: the event sequences people will see."""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tbplateau.analysis import analyze
from tbplateau.curves import attach
from tbplateau.detectors import Detector
from tbplateau.errors import InvalidParameterError
from tbplateau.findings import Finding, FindingKind, Goal, finding_label
from tbplateau.reader import read_logdir
from tbplateau.selection import Selection
from tbplateau.series import Series
from tbplateau.watch import AlertState, EventType, Watcher
from tbplateau.watch.events import Event as WatchEvent
from tests.helpers import frame, scalar
from tests.watch.growing import Growing, alert_keys, grow, report_keys

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _loss(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return np.exp(-t / 40) * np.exp(0.01 * rng.standard_normal(n))


def _plateau_then_lr_drop(n: int = 400) -> np.ndarray:
    """Improves until step 100, flat until 250, improves again after an LR drop."""
    rng = np.random.default_rng(0)
    t = np.arange(n)
    level = np.where(t < 100, np.exp(-t / 30), np.exp(-100 / 30))
    level = np.where(t >= 250, np.exp(-100 / 30) * np.exp(-(t - 250) / 40), level)
    return level * np.exp(0.01 * rng.standard_normal(n))


def _kinds(events: list[tuple[int, WatchEvent]]) -> list[tuple[int, str, str | None]]:
    return [(c, e.event.value, e.kind) for c, e in events]


def test_nan_opens_one_alert_at_the_first_nonfinite_step(tmp_path: Path) -> None:
    log = Growing(tmp_path)
    values = _loss(400)
    values[250:] = np.nan
    events = grow(log, log.watcher(), "r", "loss", values, range(50, 401, 50))
    assert _kinds(events) == [(300, "opened", "nonfinite")]
    ((_, e),) = events
    assert e.start_step == 250
    assert e.noticed_step == 299
    assert e.reason == "nonfinite"


def test_a_plateau_that_ends_after_an_lr_drop_opens_then_resolves(tmp_path: Path) -> None:
    log = Growing(tmp_path)
    events = grow(log, log.watcher(), "r", "loss", _plateau_then_lr_drop(), range(50, 401, 25))
    changes = [(e.event.value, e.id) for _, e in events if e.event is not EventType.UPDATED]
    assert [c for c, _ in changes] == ["opened", "resolved"]
    assert changes[0][1] == changes[1][1]  # one alert, refined in between
    opened = next(e for _, e in events if e.event is EventType.OPENED)
    resolved = next(e for _, e in events if e.event is EventType.RESOLVED)
    assert opened.kind == "plateau"
    assert opened.end_step is None
    assert opened.start_step is not None
    assert 95 <= opened.start_step <= 110
    assert resolved.end_step is not None
    assert 240 <= resolved.end_step <= 255
    assert alert_keys(log.watcher()) == []  # a fresh watcher has nothing yet
    assert [k[2] for k in report_keys(tmp_path)] == ["plateau"]


def _transient_pause() -> np.ndarray:
    """A loss that stalls for 9 steps at step 120, the logger repeating its last value:
    found as a plateau by one evaluation (when the data has just left it), then part
    of a decay. (A noisy 8-step lull is no plateau at all for the detectors of issue 8.)"""
    rng = np.random.default_rng(1)
    t = np.arange(300)
    progress = np.where(t < 120, t, np.where(t < 129, 120, t - 9))
    values = np.exp(-progress / 60) * np.exp(0.01 * rng.standard_normal(300))
    values[120:129] = values[120]
    return values


def test_a_transient_flat_stretch_sends_nothing_with_confirm_2(tmp_path: Path) -> None:
    log = Growing(tmp_path / "a")
    events = grow(log, log.watcher(confirm=2), "r", "loss", _transient_pause(), range(110, 301, 5))
    assert events == []
    # the same data with --confirm 1 alerts it, then takes it back: the test can fail
    log = Growing(tmp_path / "b")
    events = grow(log, log.watcher(confirm=1), "r", "loss", _transient_pause(), range(110, 301, 5))
    assert [e.event.value for _, e in events] == ["opened", "withdrawn"]


def test_a_restart_with_the_same_state_sends_nothing_twice(tmp_path: Path) -> None:
    log = Growing(tmp_path / "logs")
    state = tmp_path / "state.json"
    values = _loss(400)
    values[300:] = np.nan
    first = log.watcher(state=state)
    log.scalars("r", "loss", values[:200], 0)
    assert first.poll() == []
    log.scalars("r", "loss", values[200:320], 200)
    seen = first.poll()
    assert [(e.event.value, e.kind) for e in seen] == [("opened", "nonfinite")]

    again = log.watcher(state=state)
    assert again.state_problem is None
    assert again.poll() == []  # the same data: no duplicate, no double count
    assert {a.id for a in again.alerts} == {a.id for a in first.alerts}
    log.scalars("r", "acc", np.full(200, 0.5), 0)  # a flat line appears: pending
    log.scalars("r", "loss", values[320:], 320)
    assert again.poll() == []
    log.scalars("r", "acc", np.full(40, 0.5), 200)  # still flat 20 % later: confirmed
    events = again.poll()
    assert [(e.event.value, e.kind, e.tags) for e in events] == [("opened", "plateau", ("acc",))]
    assert events[0].existing is False
    assert events[0].notify is True
    log.later(1e5)
    assert again.poll() == []
    assert alert_keys(again) == report_keys(tmp_path / "logs")
    third = log.watcher(state=state)
    assert third.poll() == []
    assert alert_keys(third) == alert_keys(again)


def test_the_first_start_shows_what_exists_and_announces_only_new_alerts(tmp_path: Path) -> None:
    log = Growing(tmp_path)
    values = _loss(300)
    values[200:] = np.inf
    log.scalars("old", "loss", values, 0)
    log.later(1e5)  # a finished run: it has stopped growing
    for notify_existing in (False, True):
        events = log.watcher(notify_existing=notify_existing).poll()
        assert [(e.event.value, e.kind, e.existing) for e in events] == [
            ("opened", "nonfinite", True)
        ]
        assert events[0].notify is notify_existing
    w = log.watcher()
    w.poll()
    bad = _loss(100, seed=3)
    bad[60:] = np.nan
    log.scalars("new", "loss", bad, 0)
    events = w.poll()
    assert [(e.run, e.existing, e.notify) for e in events] == [("new", False, True)]


def test_a_finding_on_the_first_few_points_waits_until_the_series_is_longer(
    tmp_path: Path,
) -> None:
    log = Growing(tmp_path / "short")
    flat = np.full(60, 0.5)  # a flat line from the start
    events = grow(log, log.watcher(), "r", "acc", flat[:18], range(3, 19, 3))
    assert [(c, e.event.value, e.reason) for c, e in events] == [(-1, "opened", "settled")]
    log = Growing(tmp_path / "long")
    events = grow(log, log.watcher(), "r", "acc", flat, range(3, 61, 3))
    assert [(c, e.event.value, e.reason) for c, e in events] == [(24, "opened", "confirmed")]


class _Scripted(Detector):
    """A plateau from step 20 on, found only when the series has one of ``lengths`` points."""

    kind = FindingKind.PLATEAU

    def __init__(self, lengths: set[int]) -> None:
        self.lengths = lengths

    def detect(self, series: Series, goal: Goal, *, events: Sequence[int] = ()) -> list[Finding]:
        if len(series) not in self.lengths:
            return []
        return [Finding(FindingKind.PLATEAU, 20, None, (series.tag,), 0.8)]


@pytest.mark.parametrize(("cooldown", "back"), [(1800.0, "updated"), (2.0, "opened")])
def test_a_finding_back_in_the_last_points_is_dated_by_them_not_by_the_settle(
    tmp_path: Path, cooldown: float, back: str
) -> None:
    """Withdrawn after 52 points, found again in the last 4 (4 s of the writer's clock
    later), and the run is declared stopped a day on: it came back within a 30-minute
    cooldown (not announced again), but not within 2 s (announced)."""
    log = Growing(tmp_path)
    dets = {FindingKind.PLATEAU: _Scripted({40, 44, 56})}
    w = log.watcher(detectors=dets, cooldown=cooldown)
    events = grow(log, w, "r", "loss", _loss(56), [40, 44, 48, 52, 56])
    assert [(c, e.event.value) for c, e in events] == [
        (44, "opened"),
        (52, "withdrawn"),
        (-1, back),
    ]
    assert alert_keys(w) == [("r", ("loss",), "plateau", 20, None)]


def test_an_onset_refinement_keeps_the_id(tmp_path: Path) -> None:
    log = Growing(tmp_path)
    events = grow(log, log.watcher(), "r", "loss", _plateau_then_lr_drop(), range(50, 401, 10))
    ids = {e.id for _, e in events}
    assert len(ids) == 1
    starts = {e.start_step for _, e in events}
    assert len(starts) > 1  # the onset was refined, the alert stayed the same


@pytest.mark.parametrize(
    "fixture",
    sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and any(p.rglob("*tfevents*"))),
)
def test_every_fixture_replayed_in_20_chunks_ends_as_report(tmp_path: Path, fixture: str) -> None:
    """Each file grows by 5 % of its bytes per poll (records cut anywhere); when the
    logdir stops growing the open and resolved alerts are report's findings, and no
    alert was opened twice."""
    src = FIXTURES / fixture
    files = {p.relative_to(src): p.read_bytes() for p in src.rglob("*tfevents*") if p.is_file()}
    root = tmp_path / fixture
    root.mkdir()
    now = [0.0]
    watcher = Watcher(root, clock=lambda: now[0])
    opened: collections.Counter[str | None] = collections.Counter()
    latest: dict[str | None, WatchEvent] = {}
    for i in range(1, 21):
        for rel, data in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data[: len(data) * i // 20])
        walls = [float(s.wall_times.max()) for s in read_logdir(root).iter_series() if len(s)]
        now[0] = max(walls, default=now[0])  # the writer's clock
        events = watcher.poll()
        opened.update(e.id for e in events if e.event is EventType.OPENED)
        latest.update((e.id, e) for e in events if e.id is not None)
    now[0] += 1e6
    events = watcher.poll()
    opened.update(e.id for e in events if e.event is EventType.OPENED)
    latest.update((e.id, e) for e in events if e.id is not None)
    assert alert_keys(watcher) == report_keys(root)
    assert [i for i, n in opened.items() if n > 1] == []
    # ... and the event stream says so too: the latest event of each alert
    streamed = sorted(
        (e.run, e.tags, e.kind, e.start_step, e.end_step)
        for e in latest.values()
        if e.state in ("open", "resolved")
    )
    assert streamed == report_keys(root)


def test_a_vanished_run_is_dropped_and_its_alerts_withdrawn(tmp_path: Path) -> None:
    log = Growing(tmp_path)
    values = _loss(100)
    values[50:] = np.nan
    log.scalars("a", "loss", values, 0)
    log.scalars("b", "loss", _loss(100, seed=1), 0)
    w = log.watcher()
    assert [e.run for e in w.poll()] == ["a"]
    shutil.rmtree(tmp_path / "a")
    events = w.poll()
    assert [(e.event.value, e.run) for e in events] == [("run_removed", "a"), ("withdrawn", "a")]
    assert events[1].reason == "run_removed"
    assert w.poll() == []  # reported once
    assert w.report is not None
    assert [r.run for r in w.report.runs] == ["b"] == [r.name for r in read_logdir(tmp_path)]


def test_read_issues_are_reported_once_and_a_partial_record_only_when_stopped(
    tmp_path: Path,
) -> None:
    log = Growing(tmp_path)
    path = log.scalars("r", "loss", _loss(50), 0)
    w = log.watcher()
    assert w.poll() == []
    with path.open("ab") as fh:  # half a record: the writer is in the middle of it
        fh.write(frame([scalar("loss", 50, 0.1, wall=1050.0)])[:20])
    assert w.poll() == []
    assert w.poll() == []
    log.later(1e5)  # ... and never finishes it
    events = w.poll()
    assert [(e.event.value, e.problem, e.file) for e in events] == [
        ("read_issue", "truncated", "r/events.out.tfevents.1")
    ]
    assert w.poll() == []
    (tmp_path / "r" / "events.out.tfevents.2").write_bytes(b"version https://git-lfs\n")
    events = w.poll()
    assert [(e.event.value, e.problem) for e in events] == [("read_issue", "not_event_file")]
    assert w.poll() == []


def test_a_file_rewritten_shorter_is_read_again(tmp_path: Path) -> None:
    log = Growing(tmp_path)
    values = _loss(200)
    values[150:] = np.nan
    path = log.scalars("r", "loss", values, 0)
    w = log.watcher()
    assert [e.kind for e in w.poll()] == ["nonfinite"]
    path.unlink()
    log.scalars("r", "loss", _loss(60, seed=2), 0)  # the run restarted from scratch
    assert w.poll() == []  # not found once: not yet withdrawn
    log.later(1e5)
    events = w.poll()
    assert [(e.event.value, e.kind) for e in events] == [("withdrawn", "nonfinite")]
    assert alert_keys(w) == report_keys(tmp_path)


def test_runs_and_tags_filters_match_report(tmp_path: Path) -> None:
    log = Growing(tmp_path)
    for run in ("keep", "drop"):
        for tag in ("loss", "acc"):
            values = _loss(100)
            values[70:] = np.nan
            log.scalars(run, tag, values, 0)
    w = log.watcher(runs="ke*", tags="loss")
    events = w.poll(final=True)
    assert [(e.run, e.tags) for e in events] == [("keep", ("loss",))]
    # what `tbplateau report --runs 'ke*' --tags loss --format json` writes
    assert w.report is not None
    assert w.update is not None
    want = attach(Selection(runs="ke*", tags="loss").filter(analyze(tmp_path)), w.update.logdir)
    assert w.report.to_dict() == want.to_dict()  # (NaN last values: no == on reports)
    # the pattern language of --runs/--tags; a compiled regex is searched, as before
    w = log.watcher(runs="re:^ke", tags=re.compile("lo"))
    assert [(e.run, e.tags) for e in w.poll()] == [("keep", ("loss",))]
    assert log.watcher(runs="^ke").poll() == []  # a glob: matches no run


def test_patterns_that_match_nothing_are_known_once_the_logdir_holds_a_series(
    tmp_path: Path,
) -> None:
    log = Growing(tmp_path)
    w = log.watcher(runs="x*", goals=["acc=max"])
    assert (w.poll(), w.unmatched) == ([], None)  # an empty logdir: nothing to match yet
    assert w.poll(strict=True) == []
    log.scalars("r", "loss", [float("nan")] * 5, 0)
    assert w.poll() == []
    assert w.unmatched is not None
    assert [u.message() for u in w.unmatched] == ["--runs 'x*' matches no run (there are: r)"]
    log.scalars("x1", "acc", [float("nan")] * 5, 0)
    assert [e.run for e in w.poll()] == ["x1"]
    assert w.unmatched == ()


def test_strict_makes_a_pattern_that_matches_nothing_an_error_and_keeps_nothing(
    tmp_path: Path,
) -> None:
    log = Growing(tmp_path)
    log.scalars("r", "loss", [float("nan")] * 5, 0)
    state = tmp_path.parent / f"{tmp_path.name}-state.json"
    w = log.watcher(tags="re:^val", state=state)
    with pytest.raises(InvalidParameterError, match=r"--tags 're:\^val' matches no tag"):
        w.poll(final=True, strict=True)
    assert (w.alerts, w.polls, w.update, state.exists()) == ((), 0, None, False)
    log.scalars("r", "val_loss", [float("nan")] * 5, 0)
    assert [e.tags for e in w.poll(final=True, strict=True)] == [("val_loss",)]


def test_findings_of_alerts_say_which_plateau_is_a_flat_line(tmp_path: Path) -> None:
    log = Growing(tmp_path)
    log.scalars("r", "loss", [*np.linspace(1, 0.5, 40), *[0.5] * 60], 0)
    w = log.watcher()
    w.poll(final=True)
    ((alert, finding),) = w.findings(w.alerts)
    assert (alert.kind, finding_label(finding), finding.run) == (
        FindingKind.PLATEAU,
        "flat line",
        "r",
    )
    gone = replace(alert, start_step=3)  # not in the report: made of its own fields
    ((_, made),) = w.findings([gone])
    assert (finding_label(made), made.start_step, made.run) == ("plateau", 3, "r")


def test_a_poll_is_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = Growing(tmp_path / "logs")
    state = tmp_path / "state.json"
    values = _loss(100)
    values[40:] = np.nan
    log.scalars("a", "loss", values[:30], 0)
    log.scalars("b", "loss", values[:30], 0)
    w = log.watcher(state=state)
    w.poll()
    before = state.read_text()
    log.scalars("a", "loss", values[30:], 30)
    log.scalars("b", "loss", values[30:], 30)
    calls = []
    original = w._book.copy

    def copy_then_interrupt() -> object:
        book = original()
        real = book.evaluate

        def evaluate(*args: object, **kwargs: object) -> object:
            calls.append(args[0])
            if len(calls) == 2:
                raise KeyboardInterrupt
            return real(*args, **kwargs)  # type: ignore[arg-type]

        book.evaluate = evaluate  # type: ignore[method-assign,assignment]
        return book

    monkeypatch.setattr(w._book, "copy", copy_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        w.poll()
    assert calls == ["a", "b"]
    assert w.alerts == ()
    assert state.read_text() == before
    doc = json.loads(state.read_text())
    assert doc["schema"] == "tbplateau.watch-state/1"


def test_the_watcher_is_in_the_public_api(tmp_path: Path) -> None:
    import tbplateau

    log = Growing(tmp_path)
    log.append("r", [scalar("loss", s, float("nan")) for s in range(3)])
    events = tbplateau.Watcher(tmp_path).poll()
    assert [e.to_dict()["event"] for e in events] == ["opened"]
    assert all(a.state is AlertState.OPEN for a in tbplateau.Watcher(tmp_path).alerts) is True


def test_an_unreadable_file_is_reported_once_and_the_rest_is_watched(tmp_path: Path) -> None:
    log = Growing(tmp_path)
    log.scalars("r", "loss", _loss(30), 0)
    os.mkfifo(tmp_path / "r" / "events.out.tfevents.2")  # not a regular file
    w = log.watcher()
    events = w.poll()
    assert [(e.event.value, e.problem, e.file) for e in events] == [
        ("read_issue", "unreadable", "r/events.out.tfevents.2")
    ]
    values = _loss(30, seed=1)
    values[10:] = np.nan
    log.scalars("r", "loss", values, 30)
    assert [(e.event.value, e.kind) for e in w.poll()] == [("opened", "nonfinite")]
