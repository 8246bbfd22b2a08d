"""The verdict phrases of findings (``tbplateau.explain.view``)."""

from __future__ import annotations

import dataclasses

import pytest

from tbplateau.explain.facts import WEAK
from tbplateau.explain.model import SeriesView
from tbplateau.explain.view import _row_with, phrase
from tbplateau.findings import Finding, FindingKind
from tbplateau.report import SeriesReport


@pytest.mark.parametrize(
    ("confidence", "weak"), [(0.6, True), (0.69, True), (WEAK, False), (0.95, False)]
)
def test_a_finding_below_the_weak_line_says_so(confidence: float, weak: bool) -> None:
    # a divergence at the detector's floor (0.6) matched a label three times in five on the
    # tuning runs: a reader is told it is weak
    f = Finding(FindingKind.DIVERGENCE, 120, None, ("loss",), confidence, {})
    text = phrase(f, "step")
    assert text.startswith("diverged at step 120")
    assert text.endswith(" (weak)") is weak


def test_a_row_with_changes_is_dataclasses_replace() -> None:
    """``_row_with`` makes what ``dataclasses.replace`` makes of a row (equal, every field
    alike, the original untouched), and refuses an unknown field as it does."""
    summary = SeriesReport("val/loss", "min", 100, 0, 0, 990, 0, 1.0, 1.0, ())
    base = SeriesView("run", summary, (), ((None, "steady"),), None, "")
    verdict: tuple[tuple[FindingKind | None, str], ...] = ((None, "improving"),)
    made = _row_with(base, verdict=verdict, state="improving", twins=("a",))
    replaced = dataclasses.replace(base, verdict=verdict, state="improving", twins=("a",))
    assert type(made) is SeriesView
    assert made == replaced
    assert made.__dict__ == replaced.__dict__
    assert base.state == "steady"
    assert base.twins == ()
    with pytest.raises(TypeError):
        _row_with(base, stat="twin")
    with pytest.raises(TypeError):
        dataclasses.replace(base, stat="twin")  # type: ignore[call-arg]
