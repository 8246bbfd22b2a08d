"""The committed fixtures still carry the phenomena their labels name.

``train_reference.check`` tests each label with a simple rule of its own (a frozen
metric is bit-for-bit constant, the validation minimum sits at the labelled epoch,
the first non-finite value is at ``start_step`` ...), reading the files with
TensorBoard's loader and not with tbplateau's detectors.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from train_reference.common import read_run

from train_reference import check

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def test_every_fixture_label_holds() -> None:
    assert check.main([str(FIXTURES)]) == 0


def test_every_fixture_logdir_has_labels() -> None:
    logdirs = [p for p in FIXTURES.iterdir() if p.is_dir() and p.name != "sample"]
    assert len(logdirs) >= 16
    missing = [p.name for p in logdirs if not (p / "labels.json").is_file()]
    assert missing == []


@pytest.mark.parametrize(
    "kind", ["plateau", "divergence", "nonfinite", "overfitting", "oscillation"]
)
def test_every_kind_is_labelled_in_real_runs(kind: str) -> None:
    import json

    kinds = {
        label["kind"]
        for p in FIXTURES.glob("*/labels.json")
        for label in json.loads(p.read_text())["labels"]
    }
    assert kind in kinds


def test_a_collapse_label_is_checked_as_a_collapse_and_can_fail() -> None:
    """keras_dead_relu's one-step collapse passes the collapse rule (not the 10x growth one);
    the same label moved to before the LR spike, where nothing collapsed, fails it."""
    import json

    doc = json.loads((FIXTURES / "keras_dead_relu" / "labels.json").read_text())
    collapse = [lb for lb in doc["labels"] if lb.get("rule") == "collapse"]
    assert {lb["tags"][0] for lb in collapse} >= {"epoch_accuracy", "epoch_loss"}
    for label in collapse:
        s = read_run(FIXTURES / "keras_dead_relu" / label["run"])[label["tags"][0]]
        goal = "max" if "accuracy" in label["tags"][0] else "min"
        assert check._shift_check(label, s, goal) is None
        at = int(label["start_step"]) * 4 // 10  # before the spike: epoch 4 (or iteration 400)
        early = {**label, "start_step": at, "end_step": at * 2, "onset_range": [at, at]}
        assert check._shift_check(early, s, goal) is not None
