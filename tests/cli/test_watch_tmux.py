"""The live view in a real terminal (tmux): the table is drawn, names stay text, Ctrl-C is 0."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import scalar
from tests.watch.growing import Growing

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "loss\x1b]2;pwned\x07\x1b[2J\x1b[31mred"

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.slow,
]


class Tmux:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return done.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "w")

    def wait_for(self, *texts: str, timeout: float = 60) -> str:
        """The screen once it shows every one of ``texts`` (a redraw may be caught midway)."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if all(t in screen for t in texts):
                return screen
            time.sleep(0.1)  # waiting for another process to draw; not a test of timing
        raise AssertionError(f"{texts!r} never appeared; the screen was:\n{screen}")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    t = Tmux(f"tbplateau-test-{os.getpid()}-{tmp_path.name}")
    yield t
    try:
        pid = int(t("display-message", "-p", "#{pid}").strip())
    except (subprocess.CalledProcessError, ValueError):
        return
    os.kill(pid, signal.SIGTERM)


def test_the_live_view_in_a_real_terminal(tmp_path: Path, tmux: Tmux) -> None:
    log = Growing(tmp_path / "logs")
    log.append("run", [scalar(HOSTILE, s, float("nan")) for s in range(5)])
    command = (
        "unset COLUMNS LINES; "  # the pane's own size, whatever the test runner set
        f"PYTHONPATH={ROOT / 'src'} XDG_STATE_HOME={tmp_path / 'state'} "
        f"{sys.executable} -m tbplateau watch {tmp_path / 'logs'} --interval 0.2; "
        "echo EXIT=$?; sleep 60"
    )
    tmux("new-session", "-d", "-s", "w", "-x", "150", "-y", "40", command)
    # the table, with the hostile tag shown as text: nothing cleared the screen,
    # coloured or retitled it
    screen = tmux.wait_for(
        "tbplateau watch",
        "state",
        "noticed",
        "nonfinite",
        "loss\\x1b]2;pwned\\x07\\x1b[2J\\x1b[31mred",
        "Ctrl-C to stop",
    )
    assert screen.startswith("tbplateau watch")
    assert "pwned" not in tmux("display-message", "-p", "-t", "w", "#{pane_title}")
    log.scalars("run", "acc", [float("inf")] * 3, 0)
    tmux.wait_for("acc", "Ctrl-C to stop")
    tmux("send-keys", "-t", "w", "C-c")
    screen = tmux.wait_for("EXIT=")
    assert "EXIT=0" in screen
    assert "Traceback" not in screen


def test_the_live_table_keeps_one_line_per_alert_at_80_columns(tmp_path: Path, tmux: Tmux) -> None:
    log = Growing(tmp_path / "logs")
    run = "a_run_name_much_longer_than_the_column_for_it"
    log.append(run, [scalar("a/tag/that/is/long/too/loss", s, float("nan")) for s in range(5)])
    command = (
        "unset COLUMNS LINES; "
        f"PYTHONPATH={ROOT / 'src'} XDG_STATE_HOME={tmp_path / 'state'} "
        f"{sys.executable} -m tbplateau watch {tmp_path / 'logs'} --interval 0.2; "
        "echo EXIT=$?; sleep 60"
    )
    tmux("new-session", "-d", "-s", "w", "-x", "80", "-y", "30", command)
    screen = tmux.wait_for("noticed", "non-finite", "Ctrl-C to stop")
    header = next(line for line in screen.splitlines() if line.startswith("state"))
    assert header.rstrip().endswith("noticed")  # every column is there
    rows = [line for line in screen.splitlines() if line.startswith("open")]
    assert len(rows) == 1
    assert "…" in rows[0]  # the long run name is cut, not folded onto a second line
    assert rows[0].rstrip().endswith(" 4")  # ...and the row ends with its noticed step
    tmux("send-keys", "-t", "w", "C-c")
    assert "EXIT=0" in tmux.wait_for("EXIT=")
