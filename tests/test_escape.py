"""The per-medium escape helpers, on hostile names."""

from __future__ import annotations

import pytest

from tbplateau import escape

HOSTILE = [
    "\x1b[2J\x1b[H",  # clear screen, cursor home
    "\x1b]0;owned\x07",  # set the window title
    "tag\rOVERWRITE",
    "\u202eevil",  # right-to-left override
    "a\x00b\x7fc\x9bd",
]


@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize("medium", [escape.terminal, escape.markdown, escape.html])
def test_no_control_character_survives(name: str, medium: object) -> None:
    assert callable(medium)
    out = medium(name)
    assert all(ch.isprintable() for ch in out), repr(out)
    assert "\\x" in out or "\\u" in out


def test_markdown_keeps_a_name_one_literal_cell() -> None:
    out = escape.markdown("a|b`c`*d*[e](f)<script>")
    assert "|" not in out.replace("\\|", "")
    assert "<" not in out
    assert "`" not in out.replace("\\`", "")


def test_html_escapes_markup_and_quotes() -> None:
    out = escape.html("<img src=x onerror='alert(1)'>\"")
    assert "<" not in out
    assert ">" not in out
    assert "'" not in out
    assert '"' not in out


def test_huge_names_are_cut_in_the_middle() -> None:
    name = "a" * 1_000_000 + "END"
    out = escape.terminal(name)
    assert len(out) == escape.MAX_NAME
    assert out.endswith("END")
    assert "…" in out


@pytest.mark.parametrize("width", [1, 2, 3, 10])
def test_shorten_never_exceeds_width(width: int) -> None:
    assert len(escape.shorten("x" * 50, width)) == width
    with pytest.raises(ValueError, match="width"):
        escape.shorten("x", 0)
