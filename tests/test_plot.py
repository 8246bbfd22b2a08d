"""``Report.plot``: the curve with one shaded span per finding (matplotlib, optional)."""

from __future__ import annotations

from pathlib import Path

import pytest

import tbplateau
from tbplateau import InvalidParameterError

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "sample"


@pytest.fixture(scope="module")
def report() -> tbplateau.Report:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    return tbplateau.analyze(SAMPLE)


@pytest.mark.parametrize(
    ("run", "tag"),
    [
        ("torch_lr_too_high", "Loss/train"),
        ("keras/validation", "epoch_loss"),
        ("keras/validation", "epoch_accuracy"),
        ("resumed", "train_loss"),
    ],
)
def test_one_shaded_span_per_finding(
    report: tbplateau.Report, run: str, tag: str, tmp_path: Path
) -> None:
    import matplotlib.pyplot as plt

    from tbplateau.plot import findings_of

    ax = report.plot(run, tag)
    spans = [p for p in ax.patches if str(p.get_gid() or "").startswith("finding:")]
    expected = findings_of(report, run, tag)
    assert len(spans) == len(expected)
    assert sorted(p.get_gid() for p in spans) == sorted(
        f"finding:{f.kind.value}:{f.start_step}" for f in expected
    )
    ax.figure.savefig(tmp_path / "plot.png")
    assert (tmp_path / "plot.png").stat().st_size > 1000
    plt.close(ax.figure)


def test_unknown_series(report: tbplateau.Report) -> None:
    with pytest.raises(InvalidParameterError, match="no run"):
        report.plot("nope", "loss")
    with pytest.raises(InvalidParameterError, match="no series"):
        report.plot("resumed", "nope")


def test_an_overfitting_finding_draws_both_curves(report: tbplateau.Report) -> None:
    import matplotlib.pyplot as plt

    (over,) = [f for f in report.findings() if f.kind.value == "overfitting"]
    assert over.run == "keras/validation"  # a finding knows its run
    ax = report.plot(over)
    lines = {str(line.get_label()) for line in ax.get_lines()}
    assert "epoch_loss" in lines
    assert "keras/train · epoch_loss (training)" in lines
    plt.close(ax.figure)
    ax = report.plot("torch_lr_too_high", "Loss/train")
    assert not any("(training)" in str(line.get_label()) for line in ax.get_lines())
    plt.close(ax.figure)
