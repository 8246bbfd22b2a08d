"""The verdict phrases of findings (``tbplateau.explain.view``)."""

from __future__ import annotations

import pytest

from tbplateau.explain.facts import WEAK
from tbplateau.explain.view import phrase
from tbplateau.findings import Finding, FindingKind


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
