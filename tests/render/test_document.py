"""The words of the JSON document: added keys, read back, and the summary."""

from __future__ import annotations

import json
import math
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

import tbplateau
from tbplateau.reader.model import Logdir, Run
from tbplateau.report import Report
from tbplateau.series import Series

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample"
OLD_SERIES_KEYS = {
    "tag",
    "goal",
    "points",
    "replaced_points",
    "first_step",
    "last_step",
    "best_step",
    "best_value",
    "last_value",
    "findings",
}


def test_keys_are_only_added() -> None:
    doc = tbplateau.analyze(SAMPLE).to_dict()
    assert set(doc) == {"schema", "logdir", "runs", "summary"}
    for run in doc["runs"]:
        assert set(run) == {"run", "read_issues", "series", "findings"}
        for s in run["series"]:
            assert set(s) >= OLD_SERIES_KEYS
            assert set(s) - OLD_SERIES_KEYS == {
                "duplicate_points",
                "last_value_nonfinite",
                "judged",
                "judging_note",
                "verdict",
                "advice",
            }
            for f in s["findings"]:
                assert set(f) == {"kind", "start_step", "end_step", "tags", "confidence", "detail"}


def test_the_schema_documents_every_added_key() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(files("tbplateau").joinpath("schema/report-1.json").read_text())
    jsonschema.validate(tbplateau.analyze(SAMPLE).to_dict(), schema)
    series = schema["$defs"]["series"]["properties"]
    for key in ("duplicate_points", "last_value_nonfinite", "judged", "verdict", "advice"):
        assert series[key]["description"]
    assert schema["$defs"]["summary"]["description"]


@pytest.mark.parametrize(
    ("value", "text"), [(math.nan, "nan"), (math.inf, "inf"), (-math.inf, "-inf")]
)
def test_a_nonfinite_last_value_keeps_its_kind(value: float, text: str) -> None:
    t = np.arange(30)
    values = np.r_[np.exp(-t[:-1] / 10), value]
    ld = Logdir("mem", (Run("r", ("f",), (Series("r", "loss", steps=t, values=values),)),))
    doc = tbplateau.analyze(ld).to_dict()
    s = doc["runs"][0]["series"][0]
    assert s["last_value"] is None
    assert s["last_value_nonfinite"] == text
    back = Report.from_dict(doc).runs[0].series[0].last_value
    assert back is not None
    assert (math.isnan(back) and math.isnan(value)) or back == value


def test_a_document_read_back_keeps_its_words() -> None:
    """A report read from JSON has no curves; its document keeps the stored words."""
    doc = json.loads(tbplateau.analyze(SAMPLE).to_json())
    again = Report.from_dict(doc)
    assert again.to_dict() == doc
    verdicts = [s["verdict"] for r in doc["runs"] for s in r["series"]]
    assert all(verdicts)
    assert any(s["advice"] for r in doc["runs"] for s in r["series"])


def test_summary_counts() -> None:
    summary = tbplateau.analyze(SAMPLE).to_dict()["summary"]
    assert summary == {
        "runs": 4,
        "runs_with_findings": 3,
        "series": 7,
        "judged_series": 6,
        "partly_judged_series": 0,
        "not_judged_series": 1,
        # keras/train's accuracy settles at 0.97 by about epoch 50 (fixtures/make_sample.py)
        "findings": 5,
        "findings_by_label": {"non-finite": 1, "divergence": 1, "overfitting": 1, "plateau": 2},
        "read_issues": 0,
        "worst_runs": ["torch_lr_too_high", "keras/validation", "keras/train"],
    }
