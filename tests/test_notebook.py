"""``tbplateau.detect`` on in-memory curves."""

from __future__ import annotations

import numpy as np
import pytest

import tbplateau
from tbplateau import FindingKind, InvalidParameterError


def _loss(n: int = 200, knee: int = 80) -> np.ndarray:
    t = np.arange(n)
    rng = np.random.default_rng(0)
    return np.where(t < knee, np.exp(-t / 20), np.exp(-knee / 20)) * np.exp(rng.normal(0, 0.02, n))


def test_list_array_and_steps_agree() -> None:
    loss = _loss()
    by_array = tbplateau.detect(loss)
    assert [f.kind for f in by_array] == [FindingKind.PLATEAU]
    knee = by_array[0].start_step
    assert abs(knee - 80) <= 10  # the knee of the curve, within the onset tolerance
    assert tbplateau.detect(list(loss)) == by_array
    steps = np.arange(200) * 10
    assert [f.start_step for f in tbplateau.detect(loss, steps)] == [10 * knee]


def test_pandas_series_and_long_frame() -> None:
    pd = pytest.importorskip("pandas")
    loss = _loss()
    knee = tbplateau.detect(loss)[0].start_step
    s = pd.Series(loss, index=np.arange(200) * 5, name="val_loss")
    (f,) = tbplateau.detect(s)
    assert (f.start_step, f.tags) == (5 * knee, ("val_loss",))
    frame = pd.DataFrame({"step": np.arange(200), "value": loss, "tag": "loss", "run": "a"})
    assert [g.start_step for g in tbplateau.detect(frame.sample(frac=1, random_state=0))] == [knee]
    acc = frame.assign(tag="accuracy", value=1 - loss)
    both = pd.concat([frame, acc])
    assert {g.tags for g in tbplateau.detect(both, goal="auto")} == {("loss",), ("accuracy",)}
    with pytest.raises(InvalidParameterError, match="'step' and 'value'"):
        tbplateau.detect(pd.DataFrame({"x": [1.0]}))


def test_goal_none_reports_only_nonfinite_and_bad_input() -> None:
    v = [1.0, 0.5, 0.4, float("nan")]
    assert [f.kind for f in tbplateau.detect(v, goal=None)] == [FindingKind.NONFINITE]
    with pytest.raises(InvalidParameterError, match="goal"):
        tbplateau.detect(v, goal="up")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="differ in length"):
        tbplateau.detect(v, [1, 2])
    with pytest.raises(InvalidParameterError, match="one-dimensional"):
        tbplateau.detect(np.ones((2, 2)))


def test_reprs_are_short_and_say_what_matters() -> None:
    from pathlib import Path

    report = tbplateau.analyze(Path(__file__).resolve().parents[1] / "fixtures" / "sample")
    text = repr(report)
    assert text.startswith("Report(")
    assert "4 runs, 7 series (6 judged), 5 findings: 1 non-finite" in text
    assert len(text) < 300
    nan = next(f for f in report.findings() if f.kind is FindingKind.NONFINITE)
    assert nan.run == "torch_lr_too_high"  # a finding knows its run
    assert repr(nan) == (
        "Finding(nonfinite of 'Loss/train' in run 'torch_lr_too_high' from step 900 "
        "to the end, confidence 1.00)"
    )
    # the run is not part of a finding's identity nor of its JSON object
    assert "run" not in nan.to_dict()
    bare = tbplateau.detect(_loss())[0]
    assert bare.run == "."


def test_to_pandas_has_verdicts_and_advice() -> None:
    pytest.importorskip("pandas")
    from pathlib import Path

    report = tbplateau.analyze(Path(__file__).resolve().parents[1] / "fixtures" / "sample")
    series, findings = report.to_pandas()
    row = series.set_index(["run", "tag"]).loc[("torch_lr_too_high", "Loss/train")]
    assert row["verdict"].startswith("non-finite from step 900")
    assert row["state"] == "finding"
    assert "Try:" in row["advice"]
    lr = series.set_index(["run", "tag"]).loc[("torch_lr_too_high", "lr")]
    assert lr["verdict"] == "not judged (the learning rate)"
    assert lr["judging_note"] == "not a metric (the learning rate)"
    torch = findings[findings["run"] == "torch_lr_too_high"].set_index("kind")
    assert bool(torch.loc["nonfinite", "diagnosis"]) is True
    assert bool(torch.loc["divergence", "diagnosis"]) is False  # context of the NaN
    assert torch.loc["divergence", "advice"] == torch.loc["nonfinite", "advice"]
