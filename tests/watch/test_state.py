"""The state file: where it lives, what it holds, and that a save is atomic."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from tbplateau.watch import state as st
from tests.watch.growing import Growing


def test_the_default_path_is_under_the_user_state_dir_keyed_by_logdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    logs = tmp_path / "runs"
    logs.mkdir()
    a = st.default_state_path(logs)
    assert a.parent == tmp_path / "xdg" / "tbplateau" / "watch"
    assert a.name.startswith("runs-")
    assert a.suffix == ".json"
    assert st.default_state_path(str(logs) + "/") == a
    monkeypatch.chdir(tmp_path)
    assert st.default_state_path("runs") == a
    assert st.default_state_path(tmp_path / "other") != a
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert st.default_state_path(logs).parent == tmp_path / "home/.local/state/tbplateau/watch"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/is/ignored")
    assert st.default_state_path(logs).parent == tmp_path / "home/.local/state/tbplateau/watch"


def test_inside(tmp_path: Path) -> None:
    assert st.inside(tmp_path / "a" / "s.json", tmp_path)
    assert st.inside(tmp_path, tmp_path)
    assert not st.inside(str(tmp_path) + "-state.json", tmp_path)
    assert not st.inside(tmp_path / "s.json", "s3://bucket/runs")


def test_a_watcher_saves_and_reloads_its_alerts(tmp_path: Path) -> None:
    log = Growing(tmp_path / "logs")
    path = tmp_path / "s" / "state.json"
    values = np.linspace(1, 0.1, 60)
    values[30:] = np.nan
    log.scalars("r", "loss", values, 0)
    w = log.watcher(state=path)
    assert len(w.poll()) == 1
    doc = json.loads(path.read_text())
    assert doc["schema"] == st.STATE_SCHEMA
    assert doc["logdir"] == os.path.realpath(tmp_path / "logs")
    assert [a["kind"] for a in doc["alerts"]] == ["nonfinite"]
    assert doc["evaluated"] == {"r": {"loss": [60, 0]}}
    mtime = path.stat().st_mtime_ns
    w.poll()  # nothing changed: nothing written
    assert path.stat().st_mtime_ns == mtime
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not a valid"),
        ('{"schema": "other/1"}', "not a valid"),
        (
            '{"schema": "tbplateau.watch-state/1", "logdir": "/elsewhere", "alerts": [], '
            '"issues": [], "evaluated": {}}',
            "belongs to logdir /elsewhere",
        ),
    ],
)
def test_a_bad_state_file_is_named_and_the_watch_starts_afresh(
    tmp_path: Path, content: str, problem: str
) -> None:
    log = Growing(tmp_path / "logs")
    values = np.full(40, np.nan)
    log.scalars("r", "loss", values, 0)
    path = tmp_path / "state.json"
    path.write_text(content)
    w = log.watcher(state=path)
    assert w.state_problem is not None
    assert problem in w.state_problem
    assert str(path) in w.state_problem
    events = w.poll()
    assert [(e.event.value, e.existing, e.notify) for e in events] == [("opened", True, False)]
    assert json.loads(path.read_text())["schema"] == st.STATE_SCHEMA  # replaced by a good one


def test_a_failed_save_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.json"
    st.save_state(path, st.WatchState("/logs"))
    before = path.read_text()

    def broken(src: str, dst: str) -> None:
        raise KeyboardInterrupt  # Ctrl-C at the worst moment

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(KeyboardInterrupt):
        st.save_state(path, st.WatchState("/logs", issues={("r", "f", 0, "corrupt")}))
    assert path.read_text() == before
    assert list(tmp_path.iterdir()) == [path]
