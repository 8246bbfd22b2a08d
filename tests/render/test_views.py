"""The rendered report: stored expectations, colour rules, Markdown and HTML."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

import tbplateau
from tbplateau.cli import EXIT_FINDINGS, EXIT_OK, main
from tbplateau.explain.forecast import forecast
from tbplateau.findings import Finding, FindingKind
from tbplateau.render import report_html, report_markdown, report_view
from tbplateau.render.sparkline import Sparkline, svg
from tests.expected import regen

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "fixtures" / "sample"


@pytest.fixture(scope="module")
def sample() -> tuple[tbplateau.Report, tbplateau.Logdir]:
    logdir = tbplateau.read_logdir(SAMPLE)
    return tbplateau.analyze(logdir), logdir


def test_stored_expectations_match(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regenerate with ``python -m tests.expected.regen`` and review the diff by eye."""
    monkeypatch.chdir(ROOT)
    for name, text in regen.expected().items():
        stored = (regen.HERE / name).read_text(encoding="utf-8")
        assert text == stored, f"{name} changed: run python -m tests.expected.regen"


@pytest.mark.parametrize("width", [80, 100, 160])
def test_rich_report_shows_every_run_series_and_finding(
    sample: tuple[tbplateau.Report, tbplateau.Logdir], width: int
) -> None:
    report, _ = sample
    out = regen.render(["report", str(SAMPLE)], width)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= width
    assert all(line == line.rstrip() for line in lines)  # nothing padded to the full width
    for run in report.runs:
        assert f"run {run.run}" in out
        for s in run.series:
            assert s.tag in out
    for f in report.findings():
        assert f"{f.start_step:,}" in out
    assert "Try:" in out
    assert "\x1b[" not in out


def has_colour(text: str) -> bool:
    """Whether ``text`` holds an SGR colour code (bold and dim are not colours)."""
    for params in re.findall(r"\x1b\[([0-9;]*)m", text):
        codes = [int(c) for c in params.split(";") if c]
        if any(30 <= c <= 38 or 90 <= c <= 97 or 40 <= c <= 48 for c in codes):
            return True
    return False


def test_colour_follows_no_color_and_force(monkeypatch: pytest.MonkeyPatch) -> None:
    def coloured(*extra: str) -> bool:
        buf = io.StringIO()
        with monkeypatch.context() as m:
            m.setattr(sys, "stdout", buf)
            assert main(["report", str(SAMPLE), *extra]) == EXIT_OK
        return has_colour(buf.getvalue())

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert coloured()
    monkeypatch.setenv("NO_COLOR", "1")
    assert not coloured()
    assert not coloured("--color", "never")
    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.delenv("NO_COLOR")
    assert not coloured()  # not a terminal
    assert coloured("--color", "always")


def test_piped_report_has_no_colour_and_no_progress() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tbplateau", "report", str(SAMPLE)],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "", "COLUMNS": "100"},
    )
    assert proc.returncode == EXIT_OK, proc.stderr
    assert "\x1b[" not in proc.stdout
    assert proc.stderr == ""
    assert "run torch_lr_too_high" in proc.stdout


def test_fail_on_with_markdown_and_rich() -> None:
    for fmt in ("rich", "markdown"):
        out = io.StringIO()
        code = main(
            ["report", str(SAMPLE), "--format", fmt, "--fail-on", "divergence"],
            stdout=Console(file=out, width=100, color_system=None),
        )
        assert code == EXIT_FINDINGS
        name = "torch\\_lr\\_too\\_high" if fmt == "markdown" else "torch_lr_too_high"
        assert name in out.getvalue()


def test_markdown_has_a_table_per_run(sample: tuple[tbplateau.Report, tbplateau.Logdir]) -> None:
    from tbplateau import escape

    report, logdir = sample
    md = report_markdown(report, logdir)
    assert md.count("| tag | goal | points |") == len(report.runs)
    for run in report.runs:
        assert f"### run {escape.markdown(run.run)}" in md
        for s in run.series:
            assert escape.markdown(s.tag) in md
    assert "\x1b[" not in md


def test_markdown_items_use_hard_line_breaks(
    sample: tuple[tbplateau.Report, tbplateau.Logdir],
) -> None:
    """Inside a list item every line but the last ends with a backslash, which GitHub
    (and a CI job summary) renders as a line break; a plain newline would be a space."""
    report, logdir = sample
    lines = report_markdown(report, logdir).splitlines()
    items = 0
    for i, line in enumerate(lines):
        if not line.startswith("- **"):
            continue
        items += 1
        body = [line]
        for nxt in lines[i + 1 :]:
            if not nxt.startswith("  "):
                break
            body.append(nxt)
        assert all(b.endswith("\\") for b in body[:-1]), body
        assert not body[-1].endswith("\\")
    assert items >= 4


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str | None]] = []
        self.rects: list[dict[str, str | None]] = []
        self.advice: list[dict[str, str | None]] = []
        self.context: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and a.get("class") == "series":
            self.rows.append(a)
        elif tag == "rect" and a.get("class") == "finding":
            self.rects.append(a)
        elif tag == "li" and a.get("class") == "advice":
            self.advice.append(a)
        elif tag == "span" and a.get("class") == "context":
            self.context.append(a)


def test_html_repr_has_every_series_and_finding(
    sample: tuple[tbplateau.Report, tbplateau.Logdir],
) -> None:
    report, logdir = sample
    html = report_html(report, logdir)
    assert html == report._repr_html_()  # the report re-reads its own path
    parser = _Collect()
    parser.feed(html)
    expected_rows = {(r.run, s.tag) for r in report.runs for s in r.series}
    assert {(a["data-run"], a["data-tag"]) for a in parser.rows} == expected_rows
    findings = list(report.findings())
    assert sorted((a["data-kind"], int(a["data-start"] or -1)) for a in parser.rects) == sorted(
        (f.kind.value, f.start_step) for f in findings
    )
    # every finding is diagnosed in an advice item, or said as its context
    told = {(a["data-kind"], a["data-start"]) for a in parser.advice + parser.context}
    for f in findings:
        assert (f.kind.value, str(f.start_step)) in told


def test_rich_protocol_and_missing_curves() -> None:
    report = tbplateau.analyze(SAMPLE)
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(report)
    assert "run keras/validation" in out.getvalue()
    gone = tbplateau.Report("/no/such/logdir", report.runs)
    view = report_view(gone)
    assert not view.has_curves
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(gone)
    assert "curves not available" in out.getvalue()
    assert "overfitting since epoch 37" in out.getvalue()


def test_to_pandas(sample: tuple[tbplateau.Report, tbplateau.Logdir]) -> None:
    pytest.importorskip("pandas")
    report, _ = sample
    series, findings = report.to_pandas()
    assert len(series) == sum(len(r.series) for r in report.runs)
    assert len(findings) == sum(1 for _ in report.findings())
    assert set(findings["kind"]) == {f.kind.value for f in report.findings()}
    assert {"verdict", "advice", "state"} <= set(series.columns)
    assert {"advice", "diagnosis", "label"} <= set(findings.columns)


def test_sparkline_marks_findings_and_nonfinite() -> None:
    steps = np.arange(100)
    values = np.r_[np.linspace(1, 0.1, 50), np.linspace(0.1, 5, 40), np.full(10, np.nan)]
    found = [
        Finding(FindingKind.DIVERGENCE, 50, None, ("loss",), 1.0),
        Finding(FindingKind.NONFINITE, 90, None, ("loss",), 1.0),
    ]
    line = Sparkline.of(steps, values, found, width=20)
    assert len(line.chars()) == 20
    assert line.chars().endswith("××")
    assert line.markers() == " " * 10 + "D" + "─" * 7 + "N─"
    assert line.chars(ascii_only=True).isascii()
    assert line.markers(ascii_only=True).isascii()
    assert Sparkline.of([], [], width=10).chars() == ""
    assert len(Sparkline.of([5, 5, 5], [1.0, 2.0, 3.0], width=10).chars()) == 3
    picture = svg(steps, values, found)
    assert picture.count('class="finding"') == 2


def test_forecast_says_stop_on_a_flat_tail() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(300)
    flat = 0.5 + rng.normal(0, 0.01, t.size)
    f = forecast(t, flat, "min")
    assert f is not None
    assert f.advice in ("stop", "uncertain")
    assert forecast(t[:5], flat[:5], "min") is None
    assert forecast(t, flat, None) is None
