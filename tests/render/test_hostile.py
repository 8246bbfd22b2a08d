"""Names from the logs are data: hostile run and tag names through every view.

A logdir whose run and tag names hold terminal escape sequences, BEL, carriage
returns, bidirectional overrides, Markdown and HTML syntax and a megabyte of text must
come out of ``ls``, ``report`` (rich with and without colour, Markdown, HTML, JSON)
without a raw control character, without markup that takes effect, and at a bounded
size. The HTML page is also opened in headless Chromium (when installed) and its DOM
checked.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path

import pytest
from rich.console import Console

from tbplateau.cli import EXIT_OK, main
from tests import helpers as h

HOSTILE_TAGS = [
    "loss\x1b[2J\x1b[H",  # clear the screen
    "acc\x1b]0;owned\x07",  # set the window title
    "val/loss\rOVERWRITE",
    "\u202eevil_loss",  # right-to-left override
    "loss|`code`*b*[x](http://e)",
    "<img src=x onerror=alert(1)>_loss",
    "x\x9b31m_loss",  # a C1 control (CSI)
]
HOSTILE_RUN = "run\x1b[31m\x07<b>bold</b>|`r`"
CHROMIUM = Path("/usr/bin/chromium")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    events = []
    for i, tag in enumerate(HOSTILE_TAGS):
        for step in range(60):
            value = 1.0 / (1 + step) if step < 30 or i % 2 else float("nan")
            events.append(h.scalar(tag, step, value))
    h.write_events(root / HOSTILE_RUN / "events.out.tfevents.1", events)
    return root


def run(argv: list[str], *, colour: bool = False, width: int = 100) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        argv,
        stdout=Console(
            file=out,
            width=width,
            color_system="truecolor" if colour else None,
            force_terminal=colour,
            legacy_windows=False,
        ),
        stderr=Console(file=err, width=width, color_system=None),
    )
    return code, out.getvalue(), err.getvalue()


def _without_sgr(text: str) -> str:
    """``text`` without rich's own colour codes (ESC [ ... m), which are ours."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


@pytest.mark.parametrize(
    ("argv", "colour"),
    [
        (["ls"], False),
        (["ls", "--color", "never"], False),
        (["ls", "--color", "always"], True),
        (["report"], False),
        (["report", "--color", "never"], False),
        (["report", "--color", "always"], True),
        (["report", "--all"], False),
        (["report", "--format", "markdown"], False),
        (["report", "--format", "html"], False),
        (["report", "--format", "json"], False),
        (["ls", "--format", "json"], False),
    ],
)
def test_no_raw_control_character_in_any_output(
    hostile: Path, argv: list[str], colour: bool
) -> None:
    code, out, err = run([argv[0], str(hostile), *argv[1:]], colour=colour)
    assert code == EXIT_OK, err
    text = _without_sgr(out) if colour else out
    bad = _CONTROL.findall(text)
    assert not bad, sorted(set(bad))
    assert "\x1b" not in text
    if "json" not in argv:
        # every hostile name is still there, made visible
        assert "\\x1b" in text
        assert "\\u202e" in text


def test_markdown_names_stay_literal(hostile: Path) -> None:
    _, md, _ = run(["report", str(hostile), "--format", "markdown"])
    assert "<img" not in md
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;" in md
    for line in md.splitlines():
        if line.startswith("| ") and "tag" not in line:
            # pipes inside names are escaped, so every table row keeps 7 cells
            assert len(re.split(r"(?<!\\)\|", line)) == 9, line
    assert "<b>bold</b>" not in md


def test_html_names_are_text(hostile: Path) -> None:
    _, page, _ = run(["report", str(hostile), "--format", "html"])
    assert "<img" not in page
    assert "<b>bold</b>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script" not in page


def test_json_keeps_names_exactly(hostile: Path) -> None:
    _, doc_text, _ = run(["report", str(hostile), "--format", "json"])
    doc = json.loads(doc_text)
    (r,) = doc["runs"]
    assert r["run"] == HOSTILE_RUN
    assert sorted(s["tag"] for s in r["series"]) == sorted(HOSTILE_TAGS)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent")
def test_the_html_page_renders_in_headless_chromium(hostile: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    code, _, err = run(["report", str(hostile), "--format", "html", "-o", str(page)])
    assert code == EXIT_OK, err
    proc = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    dom = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '<div class="tbplateau-report">' in dom
    rows = re.findall(r'<tr class="series" data-run="([^"]*)" data-tag="([^"]*)"', dom)
    assert len(rows) == len(HOSTILE_TAGS)  # one row per series (folded or not)
    assert len(re.findall(r'<li class="advice"', dom)) >= 1
    # the hostile names are text in the rendered document, not elements
    assert "<img" not in dom
    assert "&lt;img src=x onerror=alert(1)&gt;_loss" in dom
    assert "<b>bold</b>" not in dom
    assert "<svg" in dom  # the inline sparklines survived parsing


def test_huge_names_are_capped(tmp_path: Path) -> None:
    """A 1 MB tag name is drawn cut in the middle: the output stays small."""
    tag = "metrics/" + "x" * 1_000_000 + "/loss"
    h.write_events(
        tmp_path / "r" / "events.out.tfevents.1",
        [h.scalar(tag, s, 1.0 / (1 + s)) for s in range(40)],
    )
    for argv in (
        ["report"],
        ["report", "--format", "markdown"],
        ["report", "--format", "html"],
        ["ls"],
    ):
        code, out, err = run([argv[0], str(tmp_path), *argv[1:]], width=80)
        assert code == EXIT_OK, err
        assert len(out) < 40_000, (argv, len(out))
        assert "…" in out
        assert max(len(line) for line in out.splitlines()) <= (
            80 if "--format" not in argv else 10_000
        )
    _, doc, _ = run(["report", str(tmp_path), "--format", "json"])
    assert json.loads(doc)["runs"][0]["series"][0]["tag"] == tag  # the contract keeps it whole


def test_long_tags_are_cut_in_the_middle_and_named_in_full_in_the_advice(tmp_path: Path) -> None:
    tag = "metrics/precision_at_recall_0.5_for_the_long_tail_classes"
    events = [h.scalar(tag, s, 0.5 + 0.4 * (1 - 0.9**s) if s < 40 else 0.86) for s in range(120)]
    h.write_events(tmp_path / "r" / "events.out.tfevents.1", events)
    code, out, _ = run(["report", str(tmp_path)], width=80)
    assert code == EXIT_OK
    table = [line for line in out.splitlines() if line.startswith("  metrics/")]
    assert table
    assert "…" in table[0]
    assert tag not in table[0]
    assert tag in out.replace("\n    ", " ")  # the advice names it in full
