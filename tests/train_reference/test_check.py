"""The committed fixtures still carry the phenomena their labels name.

``train_reference.check`` tests each label with a simple rule of its own (a frozen
metric is bit-for-bit constant, the validation minimum sits at the labelled epoch,
the first non-finite value is at ``start_step`` ...), reading the files with
TensorBoard's loader and not with tbplateau's detectors.
"""

from __future__ import annotations

from pathlib import Path

import pytest

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
