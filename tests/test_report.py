"""The report model reads its own JSON document back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tbplateau.analysis import analyze
from tbplateau.report import REPORT_SCHEMA, Report

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LOGDIRS = sorted(p for p in FIXTURES.iterdir() if p.is_dir())


@pytest.mark.parametrize("logdir", LOGDIRS, ids=lambda p: p.name)
def test_from_dict_round_trips_every_fixture(logdir: Path) -> None:
    doc = json.loads(analyze(logdir).to_json())
    again = Report.from_dict(doc)
    assert again.to_dict() == doc
    assert sum(1 for _ in again.findings()) == sum(
        len(s["findings"]) for r in doc["runs"] for s in r["series"]
    ) + sum(len(r["findings"]) for r in doc["runs"])


def test_from_dict_rejects_another_document() -> None:
    with pytest.raises(ValueError, match=REPORT_SCHEMA):
        Report.from_dict({"schema": "tbplateau.ls/1", "logdir": ".", "runs": []})
