"""The tab's document: the report contract plus the words of the view model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tbplateau.analysis import analyze
from tbplateau.explain import report_view
from tbplateau.findings import FindingKind, finding_label
from tbplateau.plugin.document import (
    TAB_SCHEMA,
    advised_runs,
    drawn_findings,
    legend,
    quick_run,
    tab_document,
)
from tbplateau.reader import read_logdir
from tests.plugin.support import fixture_logdirs, hostile_logdir

FIXTURES = fixture_logdirs()


@pytest.mark.parametrize("logdir", FIXTURES, ids=lambda p: p.name)
def test_quick_rows_agree_with_the_view(logdir: Path) -> None:
    """Before the advice is ready, rows carry the same findings as the view's, and the
    same verdicts except where the view names a state the findings alone do not show
    (an improving series' outlook, solved, fits the training data, warm-up...)."""
    data = read_logdir(logdir)
    report = analyze(data)
    view = {r.run: r for r in report_view(report, data).runs}
    advised = advised_runs(report, data, [r.run for r in report.runs])
    for run in report.runs:
        quick = quick_run(run)
        assert quick["advised"] is False
        full = advised[run.run]
        assert full["advised"] is True
        assert [r["tag"] for r in quick["rows"]] == [s.tag for s in view[run.run].series]
        for q, f, s in zip(quick["rows"], full["rows"], view[run.run].series, strict=True):
            assert q["findings"] == f["findings"]
            assert [(g["kind"], g["start_step"]) for g in f["findings"]] == [
                (x.kind.value, x.start_step) for x in s.findings
            ]
            if q["verdict"] != f["verdict"]:
                assert s.state != "finding" or s.advice is not None, (s.state, f["verdict"])
                assert f["verdict"] == [
                    {"kind": None if k is None else k.value, "text": t} for k, t in s.verdict
                ]


@pytest.mark.parametrize("logdir", FIXTURES, ids=lambda p: p.name)
def test_document_holds_the_report_and_advice_for_every_finding(logdir: Path) -> None:
    data = read_logdir(logdir)
    report = analyze(data)
    runs = advised_runs(report, data, [r.run for r in report.runs])
    doc = tab_document(report, runs, version=3, source="logdir", sampled=False)
    json.dumps(doc, allow_nan=False)  # strict JSON
    assert doc["schema"] == TAB_SCHEMA
    assert doc["report"] == report.to_dict()
    assert doc["advice_pending"] == 0
    for entry in doc["runs"]:
        for row in entry["rows"]:
            if not row["findings"] or row.get("twin_of"):
                continue  # a twin's findings are on the row it is folded into
            # one diagnosis per series (or the series is folded into another's advice);
            # its other findings are the diagnosis' context
            said = [a for a in entry["advice"] if a["tag"] == row["tag"]]
            folded = [a for a in entry["advice"] if any(row["tag"] in c for c in a["context"])]
            assert len(said) == 1 or folded, (entry["run"], row["tag"])
            for a in said:
                kinds = {(f["kind"], f["start_step"]) for f in row["findings"]}
                if a["kind"] is not None:
                    assert (a["kind"], a["start_step"]) in kinds
                for f in row["findings"]:
                    if (f["kind"], f["start_step"]) != (a["kind"], a["start_step"]):
                        assert any(f"{f['start_step']:,}" in c for c in a["context"]), (a, f)
                # each advice says what to try, or the document does
                assert a["tries"] or doc["tries"].get(a["label"]) or a["kind"] is None


def test_document_without_advice_counts_what_is_pending() -> None:
    data = read_logdir("fixtures/sample")
    report = analyze(data)
    first = report.runs[0].run
    doc = tab_document(
        report, advised_runs(report, data, [first]), version=1, source="logdir", sampled=False
    )
    assert doc["advice_pending"] == len(report.runs) - 1
    assert [e["advised"] for e in doc["runs"]] == [e["run"] == first for e in doc["runs"]]


def test_overfitting_is_drawn_on_the_validation_series() -> None:
    report = analyze("fixtures/sample")
    (validation,) = [r for r in report.runs if r.run == "keras/validation"]
    drawn = drawn_findings(validation)
    assert [f.kind for f in drawn["epoch_loss"]] == [FindingKind.OVERFITTING]


def test_legend_covers_every_label() -> None:
    labels = {entry["label"] for entry in legend()}
    kinds = {"non-finite", "divergence", "overfitting", "oscillation", "plateau", "flat line"}
    assert labels == kinds
    ranks = [entry["rank"] for entry in legend()]
    assert ranks == sorted(ranks)
    report = analyze("fixtures")
    assert {finding_label(f) for f in report.findings()} <= labels


def test_hostile_names_stay_data(tmp_path: Path) -> None:
    data = read_logdir(hostile_logdir(tmp_path))
    report = analyze(data)
    (entry,) = advised_runs(report, data, [report.runs[0].run]).values()
    text = json.dumps(entry)
    # JSON keeps the names verbatim (escaped as JSON); the page shows them as text
    assert json.loads(text)["run"] == report.runs[0].run
