"""``render.layout.wrap``: styled spans wrapped to a width."""

from __future__ import annotations

import pytest

from tbplateau.render.layout import plain, wrap


@pytest.mark.parametrize("width", range(20, 100))
def test_no_wrapped_line_starts_with_the_punctuation_between_two_spans(width: int) -> None:
    # TheCodeheadMT: "worst first: a (1 overfitting, 4 plateau)" then ", b (...)" made a line
    # that began with ", b"
    spans = [("worst first: ", "bold")]
    names = ["archive/logs/mod1-re…90485395/validation", "archive/b/train"]
    for i, run in enumerate(names):
        spans += [(", " if i else "", ""), (run, "cyan"), (" (1 overfitting, 4 plateau)", "")]
    lines = wrap(spans, width)
    assert all(not plain(line).lstrip().startswith((",", ";")) for line in lines), lines
    assert all(len(plain(line)) <= width for line in lines), lines
    text = " ".join(plain(line) for line in lines)
    assert "4 plateau), archive/b/train (1 overfitting, 4 plateau)" in text.replace("  ", " ")
