"""Numbers and small phrases in the report's one style.

>>> fmt(0.41234), fmt(12345.6), fmt(3e-7), fmt(float("nan")), fmt(None)
('0.4123', '12,346', '3e-07', 'nan', '-')
>>> plural(1, "run"), plural(2_000, "series", "series")
('1 run', '2,000 series')
"""

from __future__ import annotations

import math

from tbplateau.report import SeriesReport

__all__ = ["fmt", "fmt_best", "fmt_step", "join_words", "plural", "sentence", "unit_of"]


def fmt(value: float | None) -> str:
    """A number for people: 4 significant digits, thousands separators, ``nan``/``inf``."""
    if value is None:
        return "-"
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if 1e4 <= abs(value) < 1e15:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def fmt_step(step: int | None) -> str:
    return "-" if step is None else f"{step:,}"


def fmt_best(summary: SeriesReport) -> str:
    """The "best (step)" cell of a series table, ``-`` when the series has no goal."""
    if summary.best_step is None:
        return "-"
    return f"{fmt(summary.best_value)} ({summary.best_step:,})"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` and ``word``, with ``many`` (default ``word + "s"``) unless ``n`` is 1."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def unit_of(tag: str) -> str:
    """``epoch`` for Keras' ``epoch_*`` tags, else ``step``."""
    return "epoch" if tag.lower().startswith("epoch") else "step"


def join_words(items: list[str], last: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``.

    >>> join_words(["a", "b", "c"])
    'a, b and c'
    """
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


def sentence(text: str) -> str:
    """``text`` ending with a full stop (a tag name may start it: no capital added)."""
    text = text.strip()
    return text if not text or text.endswith((".", "!", "?", ":")) else text + "."
