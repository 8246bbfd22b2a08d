"""Plain-text layout for the terminal views: word wrapping, fixed columns, segments.

rich's ``Table`` and ``Text`` measure and restyle every cell and every word; on a
sweep of thousands of runs that cost more than the analysis. The terminal views lay
their lines out here instead, as lists of ``(text, style)`` runs, in one pass, and
hand rich finished :class:`~rich.segment.Segment` objects. Widths are terminal cells
(a CJK character counts two).

>>> [plain(line) for line in wrap([("a verdict that ", ""), ("wraps", "red")], 10)]
['a verdict', 'that wraps']
>>> [plain(line) for line in wrap([("x" * 12, "")], 5)]
['xxxxx', 'xxxxx', 'xx']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style

__all__ = ["Column", "Line", "cells", "plain", "rows", "segments", "width_of", "wrap"]

Run = tuple[str, str]
"""A piece of text and its rich style (``""``: none)."""
Line = list[Run]
"""One output line."""


def cells(text: str) -> int:
    """The terminal width of ``text`` (fast for ASCII)."""
    return len(text) if text.isascii() else cell_len(text)


def plain(line: Line) -> str:
    return "".join(t for t, _ in line)


def width_of(line: Line) -> int:
    return sum(cells(t) for t, _ in line)


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


def _add(line: Line, text: str, style: str) -> None:
    if line and line[-1][1] == style:
        line[-1] = (line[-1][0] + text, style)
    else:
        line.append((text, style))


def _rstrip(line: Line) -> Line:
    while line and not line[-1][0].rstrip(" "):
        line.pop()
    if line:
        line[-1] = (line[-1][0].rstrip(" "), line[-1][1])
    return line


def _glued(spans: Iterable[Run]) -> list[Run]:
    """``spans`` with the punctuation that opens a span (``", "`` between two styled names)
    moved to the end of the span before it, so that no wrapped line starts with it."""
    out: list[Run] = []
    for text, style in spans:
        head = len(text) - len(text.lstrip(",;:.)"))
        if head and out:
            prev, prev_style = out[-1]
            out[-1] = (prev + text[:head], prev_style)
            text = text[head:]
        out.append((text, style))
    return out


def wrap(spans: Iterable[Run], width: int, *, indent: str = "") -> list[Line]:
    """Greedy word wrap of styled spans to ``width`` cells; a word longer than a whole
    line is cut, and punctuation that opens a span stays with the word before it. Every
    line after the first starts with ``indent`` (counted in width)."""
    width = max(1, width)
    lines: list[Line] = [[]]
    used = 0
    for text, style in _glued(spans):
        for i, word in enumerate(text.split(" ")):
            if i:
                word = " " + word
            while word:
                w = cells(word)
                if w <= width - used:
                    _add(lines[-1], word, style)
                    used += w
                    break
                bare = word.lstrip(" ")
                if used and cells(bare) <= width - len(indent):
                    lines.append([(indent, "")] if indent else [])
                    used = len(indent)
                    word = bare
                    continue
                head, word = _cut(word, max(1, width - used))
                _add(lines[-1], head, style)
                lines.append([(indent, "")] if indent else [])
                used = len(indent)
                word = word.lstrip(" ")
    out = [_rstrip(line) for line in lines]
    return [line for line in out if plain(line).strip()] or [[]]


@dataclass(frozen=True)
class Column:
    """A column of :func:`rows`: its header, width and alignment (``right`` or not)."""

    header: str
    width: int
    right: bool = False


def rows(
    columns: Sequence[Column],
    cells_: Sequence[Sequence[Sequence[Line]]],
    *,
    indent: int = 2,
    gap: int = 1,
) -> list[Line]:
    """Lay out rows of cells (each cell a list of lines) under a bold header row.

    Every line is at most ``indent + sum(widths) + gaps`` cells; trailing blanks are
    stripped, so no line is padded to the full width.
    """
    pad = " " * indent
    sep = " " * gap
    out = [_line([[(c.header, "bold")] for c in columns], columns, pad, sep)]
    for row in cells_:
        height = max((len(c) for c in row), default=1)
        for k in range(height):
            parts = [c[k] if k < len(c) else [] for c in row]
            out.append(_line(parts, columns, pad, sep))
    return out


def _line(parts: Sequence[Line], columns: Sequence[Column], pad: str, sep: str) -> Line:
    line: Line = [(pad, "")]
    last = len(columns) - 1
    for i, (part, col) in enumerate(zip(parts, columns, strict=True)):
        gap = max(0, col.width - width_of(part))
        if col.right:
            line.append((" " * gap, ""))
            line.extend(part)
        else:
            line.extend(part)
            if i < last:
                line.append((" " * gap, ""))
        if i < last:
            line.append((sep, ""))
    return _rstrip(line)


@lru_cache(maxsize=256)
def _style(name: str) -> Style:
    return Style.parse(name) if name else Style.null()


def segments(lines: Iterable[Line]) -> Iterator[Segment]:
    """rich segments of ``lines``, each ended by a newline."""
    newline = Segment.line()
    for line in lines:
        for text, style in line:
            if text:
                yield Segment(text, _style(style))
        yield newline
