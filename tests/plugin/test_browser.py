"""End to end in Debian's Chromium: TensorBoard's page, the "Plateaus" tab in its frame.

The logdir is a copy of ``fixtures/sample`` plus a run and a tag named with HTML,
JavaScript and terminal escapes. The test opens ``/#tbplateau``, checks every row
against the findings ``tbplateau.analyze`` gives, opens a chart (one shaded span per
finding), checks that the hostile names are text, then appends points that create a
new finding, presses TensorBoard's reload button and sees the new row appear; the
console must hold no error. A screenshot goes to the test's temporary folder (and to
``$TBPLATEAU_TAB_SCREENSHOT`` when set).
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tbplateau.analysis import analyze
from tbplateau.explain import report_view
from tbplateau.findings import FindingKind
from tests.helpers import frame, scalar
from tests.plugin.support import (
    FIXTURES,
    HOSTILE_RUN,
    HOSTILE_TAG,
    REALWORLD,
    chrome,
    have_chromium,
    hostile_logdir,
    tensorboard,
    wait_for,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not have_chromium(), reason="Debian's chromium and chromium-driver"),
]

APPENDED_TAG = "appended/loss"


def expected_rows(logdir: Path) -> dict[tuple[str, str], str]:
    """``(run, tag) -> "kind@start ..."`` for every row the tab should show."""
    view = report_view(analyze(logdir))
    return {
        (s.run, s.tag): " ".join(f"{f.kind.value}@{f.start_step}" for f in s.findings)
        for run in view.runs
        for s in run.series
        if (s.summary.goal is not None or s.findings) and s.twin_of is None
    }


def shown_rows(driver: Any) -> dict[tuple[str, str], str]:
    rows = driver.execute_script(
        "return [...document.querySelectorAll('tr.series')]"
        ".map(r => [r.dataset.run, r.dataset.tag, r.dataset.findings]);"
    )
    return {(run, tag): found for run, tag, found in rows}


def enter_tab(driver: Any) -> None:
    """Switch into the tab's frame and wait until its document is ready and advised."""
    from selenium.webdriver.common.by import By

    driver.switch_to.default_content()
    frame_el = wait_for(lambda: driver.find_element(By.TAG_NAME, "iframe"), 60, "the tab's frame")
    driver.switch_to.frame(frame_el)
    wait_for(
        lambda: driver.execute_script(
            "const d = document.body.dataset;return d.state === 'ready' && d.advicePending === '0';"
        ),
        90,
        "the tab's report",
    )


def append_nonfinite_tag(run_dir: Path) -> None:
    """A new tag in an existing event file: a loss that goes NaN at step 60."""
    path = sorted(run_dir.glob("*tfevents*"))[0]
    events = [scalar(APPENDED_TAG, s, 1.0 / (1 + s) if s < 60 else math.nan) for s in range(100)]
    with path.open("ab") as fh:
        fh.write(frame(events))


def set_filter(driver: Any, label: str, text: str) -> None:
    """Type ``text`` into the filter box labelled ``label`` (replacing what is there)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element(By.CSS_SELECTOR, f'input[aria-label="{label}"]')
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE)
    if text:
        box.send_keys(text)


def console_errors(driver: Any) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_tab_end_to_end(tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    logdir = tmp_path / "logs"
    shutil.copytree(FIXTURES / "sample", logdir)
    hostile_logdir(logdir)
    args = ["--logdir", str(logdir), "--reload_interval", "0"]
    with tensorboard(args, tmp_path / "tb.log") as tb, chrome(tmp_path / "profile") as driver:
        driver.get(tb.url + "#tbplateau")
        title = wait_for(lambda: driver.title, 30, "TensorBoard's title")
        enter_tab(driver)

        # every row, with its findings, the worst first
        assert shown_rows(driver) == expected_rows(logdir)
        first = driver.find_element(By.CSS_SELECTOR, "tr.series")
        assert first.get_attribute("data-run") == "torch_lr_too_high"
        # the loss rises from step 600 (fixtures/make_sample.py) and is NaN from 900
        (diverged,) = [
            f.start_step
            for f in analyze(logdir).findings()
            if f.run == "torch_lr_too_high" and f.kind is FindingKind.DIVERGENCE
        ]
        assert 600 <= diverged <= 650
        assert first.get_attribute("data-findings") == f"divergence@{diverged} nonfinite@900"

        # filters: run regex, kinds
        set_filter(driver, "filter runs", "^keras/")
        assert {run for run, _ in shown_rows(driver)} == {"keras/train", "keras/validation"}
        set_filter(driver, "filter runs", "")
        driver.find_element(By.CSS_SELECTOR, 'input[data-label="no finding"]').click()
        assert all(shown_rows(driver).values())
        driver.find_element(By.CSS_SELECTOR, 'input[data-label="no finding"]').click()
        assert shown_rows(driver) == expected_rows(logdir)

        # a chart: one shaded span per finding, its onset marked, the curve drawn
        row = driver.find_element(
            By.CSS_SELECTOR, 'tr.series[data-run="torch_lr_too_high"][data-tag="Loss/train"]'
        )
        n_findings = len(row.get_attribute("data-findings").split())
        assert n_findings == 2
        row.click()
        chart = wait_for(
            lambda: driver.find_element(By.CSS_SELECTOR, "tr.detail .chart svg"), 30, "the chart"
        )
        spans = chart.find_elements(By.CSS_SELECTOR, "rect.finding")
        assert sorted(s.get_attribute("data-kind") for s in spans) == ["divergence", "nonfinite"]
        assert len(chart.find_elements(By.CSS_SELECTOR, "line.onset")) == n_findings
        assert chart.find_element(By.CSS_SELECTOR, "path.curve").get_attribute("d").startswith("M")
        advice = driver.find_elements(By.CSS_SELECTOR, "tr.detail li.advice-item")
        # one diagnosis per series; the series' other finding is its context
        assert [a.get_attribute("data-kind") for a in advice] == ["nonfinite"]
        assert f"diverged at step {diverged}" in advice[0].text
        assert "Try:" in advice[0].text
        link = driver.find_element(By.CSS_SELECTOR, "tr.detail a.open")
        href = link.get_attribute("href")
        assert href.startswith(tb.url)
        assert href.endswith("#timeseries")
        assert "runFilter=%5Etorch_lr_too_high%24" in href

        # hostile names are text: no injected element, no title change
        names = driver.execute_script(
            "return [...document.querySelectorAll('tr.series code')].map(c => c.textContent);"
        )
        assert HOSTILE_RUN in names
        assert HOSTILE_TAG in names
        assert driver.find_elements(By.CSS_SELECTOR, "img, iframe, tr.series script") == []
        scripts = driver.execute_script(
            "return [...document.scripts].map(s => s.textContent);"
        )  # only TensorBoard's bootstrap of the tab's module
        assert len(scripts) == 1
        assert scripts[0].startswith("import(")
        assert driver.execute_script("return document.title;") in ("", "Plateaus")

        # grow the logdir, press TensorBoard's reload button: the new row appears
        before = driver.execute_script("return document.body.dataset.version;")
        append_nonfinite_tag(logdir / "torch_lr_too_high")
        driver.switch_to.default_content()
        driver.find_element(By.CSS_SELECTOR, "app-header-reload button.reload-button").click()
        enter_tab(driver)
        new_row = wait_for(
            lambda: driver.find_element(
                By.CSS_SELECTOR,
                f'tr.series[data-run="torch_lr_too_high"][data-tag="{APPENDED_TAG}"]',
            ),
            60,
            "the new row",
        )
        # NaN from step 60 (the settled tail of 1/(1+s) before it may be a plateau)
        shown = new_row.get_attribute("data-findings")
        assert shown == expected_rows(logdir)[("torch_lr_too_high", APPENDED_TAG)]
        assert "nonfinite@60" in shown.split()
        assert driver.execute_script("return document.body.dataset.version;") != before
        assert shown_rows(driver) == expected_rows(logdir)

        driver.switch_to.default_content()
        assert driver.title == title
        shot = tmp_path / "tab.png"
        driver.save_screenshot(str(shot))
        if os.environ.get("TBPLATEAU_TAB_SCREENSHOT"):
            shutil.copyfile(shot, os.environ["TBPLATEAU_TAB_SCREENSHOT"])
        assert console_errors(driver) == []

        # the link opens that run and tag in TensorBoard's Time Series tab
        enter_tab(driver)
        driver.find_element(By.CSS_SELECTOR, "tr.detail a.open").click()
        driver.switch_to.default_content()
        filters = wait_for(
            lambda: driver.execute_script(
                "const v = [...document.querySelectorAll('input[placeholder^=\"Filter\"]')]"
                ".map(i => i.value); return v.length && v.every(x => x) ? v : null;"
            ),
            30,
            "the Time Series filters",
        )
        assert filters == ["^torch_lr_too_high$", "^Loss/train$"]
        assert driver.current_url.endswith("#timeseries")


@pytest.mark.parametrize(
    "logdir",
    [
        FIXTURES,
        pytest.param(
            REALWORLD,
            marks=pytest.mark.skipif(not REALWORLD.is_dir(), reason="../shared/realworld"),
        ),
    ],
    ids=["fixtures", "realworld"],
)
def test_every_row_and_chart_renders(tmp_path: Path, logdir: Path) -> None:
    """Every fixture (or real-world logdir) at once: the rows, and the charts of the six
    worst rows, drawn with no console error."""
    from selenium.webdriver.common.by import By

    args = ["--logdir", str(logdir), "--reload_interval", "0"]
    with tensorboard(args, tmp_path / "tb.log") as tb, chrome(tmp_path / "profile") as driver:
        driver.get(tb.url + "#tbplateau")
        enter_tab(driver)
        assert shown_rows(driver) == expected_rows(logdir)
        for i in range(min(6, len(driver.find_elements(By.CSS_SELECTOR, "tr.series")))):
            row = driver.find_elements(By.CSS_SELECTOR, "tr.series")[i]
            n_findings = len(row.get_attribute("data-findings").split())
            row.click()
            chart = wait_for(
                lambda: driver.find_element(By.CSS_SELECTOR, "tr.detail .chart svg"), 30, "chart"
            )
            assert len(chart.find_elements(By.CSS_SELECTOR, "rect.finding")) == n_findings
            driver.find_elements(By.CSS_SELECTOR, "tr.series")[i].click()  # fold it again
        driver.switch_to.default_content()
        assert console_errors(driver) == []
