"""Plain-text layout for the terminal views: word wrapping and fixed columns.

rich's ``Table`` measures every cell of every row and is the slowest part of a large
report; the terminal views lay their few columns out here instead, in one pass, and
hand rich finished lines. Widths are terminal cells (a CJK character counts two).

>>> [t.plain for t in wrap([("a verdict that ", ""), ("wraps", "red")], 10)]
['a verdict', 'that wraps']
>>> [t.plain for t in wrap([("x" * 12, "")], 5)]
['xxxxx', 'xxxxx', 'xx']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text

__all__ = ["Column", "cells", "fit", "rows", "wrap"]

Span = tuple[str, str]
"""A piece of text and its rich style."""


def cells(text: str) -> int:
    """The terminal width of ``text`` (fast for ASCII)."""
    return len(text) if text.isascii() else cell_len(text)


def _cut(word: str, width: int) -> tuple[str, str]:
    """The longest head of ``word`` that fits ``width`` cells, and the rest."""
    if word.isascii():
        return word[:width], word[width:]
    used = 0
    for i, ch in enumerate(word):
        w = cell_len(ch)
        if used + w > width:
            return word[:i], word[i:]
        used += w
    return word, ""


def fit(text: str, width: int) -> str:
    """``text`` cropped to ``width`` cells (no ellipsis; for pre-shortened cells)."""
    return text if cells(text) <= width else _cut(text, width)[0]


def wrap(spans: Sequence[Span], width: int, *, indent: str = "") -> list[Text]:
    """Greedy word wrap of styled spans to ``width`` cells; a word longer than a whole
    line is cut. Every line after the first starts with ``indent`` (counted in width)."""
    width = max(1, width)
    lines: list[Text] = [Text()]
    used = 0
    for text, style in spans:
        for i, word in enumerate(text.split(" ")):
            if i:
                word = " " + word
            while word:
                w = cells(word)
                room = width - used
                if w <= room:
                    lines[-1].append(word, style)
                    used += w
                    break
                bare = word.lstrip(" ")
                if used and cells(bare) <= width - len(indent):
                    lines.append(Text(indent))
                    used = len(indent)
                    word = bare
                    continue
                head, word = _cut(word, max(1, room))
                lines[-1].append(head, style)
                lines.append(Text(indent))
                used = len(indent)
                word = word.lstrip(" ")
    for line in lines:
        line.rstrip()
    return [line for line in lines if line.plain.strip() or len(lines) == 1]


@dataclass(frozen=True)
class Column:
    """A column of :func:`rows`: its header, width and alignment (``right`` or not)."""

    header: str
    width: int
    right: bool = False


def rows(
    columns: Sequence[Column],
    cells_: Sequence[Sequence[Sequence[Text]]],
    *,
    indent: int = 2,
    gap: int = 1,
) -> list[Text]:
    """Lay out rows of cells (each cell a list of lines) under a bold header row.

    Every line is at most ``indent + sum(widths) + gaps`` cells; trailing blanks are
    stripped, so no line is padded to the full width.
    """
    pad = " " * indent
    sep = " " * gap
    out = [_line([Text(c.header, style="bold") for c in columns], columns, pad, sep)]
    for row in cells_:
        height = max((len(c) for c in row), default=1)
        for k in range(height):
            parts = [c[k] if k < len(c) else Text() for c in row]
            out.append(_line(parts, columns, pad, sep))
    return out


def _line(parts: Sequence[Text], columns: Sequence[Column], pad: str, sep: str) -> Text:
    line = Text(pad)
    last = len(columns) - 1
    for i, (part, col) in enumerate(zip(parts, columns, strict=True)):
        w = cells(part.plain)
        gap = max(0, col.width - w)
        if col.right:
            line.append(" " * gap)
            line.append_text(part)
        else:
            line.append_text(part)
            if i < last:
                line.append(" " * gap)
        if i < last:
            line.append(sep)
    line.rstrip()
    return line
