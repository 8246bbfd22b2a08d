"""``tbplateau report`` in a terminal: names from logs never reach it raw (issue 12)."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from tbplateau.analysis import analyze
from tbplateau.reader import read_logdir
from tbplateau.render import report_renderable
from tests.helpers import scalar, write_events

HOSTILE = "loss\x1b]2;pwned\x07\x1b[2J\u202e"


def test_hostile_names_are_shown_as_text(tmp_path: Path) -> None:
    values = [1.0 / (1 + s) for s in range(60)] + [float("nan")] * 5
    write_events(
        tmp_path / "run\x1b[31m" / "events.out.tfevents.1",
        [scalar(HOSTILE, s, v) for s, v in enumerate(values)],
    )
    logdir = read_logdir(tmp_path)
    buf = io.StringIO()
    Console(file=buf, width=160, color_system=None).print(
        report_renderable(analyze(logdir), logdir)
    )
    out = buf.getvalue()
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "\u202e" not in out
    assert "loss\\x1b]2;pwned\\x07" in out
    assert "run\\x1b[31m" in out
