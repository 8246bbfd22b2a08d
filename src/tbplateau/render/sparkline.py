"""A curve in a few characters (Unicode blocks or ASCII) or in a small inline SVG.

The steps from the first to the last are cut into ``width`` equal ranges; each
character is the mean of the finite values logged in its range (a gap is a blank,
a range holding only NaN or infinities is a cross). Values spanning more than two
orders of magnitude, all positive, are drawn on a log scale. Every finding marks the
ranges it covers: a style in the sparkline and a row of markers under it, a letter
at the onset and a line to the end, so the interval shows without colour too.

>>> import numpy as np
>>> from tbplateau.findings import Finding, FindingKind
>>> steps = np.arange(40)
>>> values = np.r_[np.linspace(1.0, 0.2, 20), np.full(20, 0.2)]
>>> f = Finding(FindingKind.PLATEAU, 20, None, ("loss",), 0.9)
>>> line = Sparkline.of(steps, values, [f], width=20)
>>> line.chars()
'█▇▆▆▅▄▃▃▂▁▁▁▁▁▁▁▁▁▁▁'
>>> line.markers()
'          P─────────'
>>> line.chars(ascii_only=True)
'#*++=~--.___________'
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rich.text import Text

from tbplateau.findings import Finding, FindingKind, finding_label

__all__ = ["KIND_LETTER", "KIND_STYLE", "SVG_COLOUR", "Sparkline", "finding_label"]

BLOCKS = "▁▂▃▄▅▆▇█"
ASCII = "_.-~=+*#"
NONFINITE_CHAR = ("×", "x")
PRIORITY = (
    FindingKind.NONFINITE,
    FindingKind.DIVERGENCE,
    FindingKind.OVERFITTING,
    FindingKind.OSCILLATION,
    FindingKind.PLATEAU,
)

KIND_STYLE = {
    FindingKind.PLATEAU: "yellow",
    FindingKind.DIVERGENCE: "red",
    FindingKind.NONFINITE: "bold red",
    FindingKind.OVERFITTING: "magenta",
    FindingKind.OSCILLATION: "cyan",
}
"""rich style of each kind, in sparklines, verdicts and advice."""

SVG_COLOUR = {
    FindingKind.PLATEAU: "#d4a017",
    FindingKind.DIVERGENCE: "#d62728",
    FindingKind.NONFINITE: "#7f0000",
    FindingKind.OVERFITTING: "#9467bd",
    FindingKind.OSCILLATION: "#17becf",
}
"""Fill colour of each kind's shaded span in SVG and matplotlib plots."""

KIND_LETTER = {
    FindingKind.PLATEAU: "P",
    FindingKind.DIVERGENCE: "D",
    FindingKind.NONFINITE: "N",
    FindingKind.OVERFITTING: "O",
    FindingKind.OSCILLATION: "S",
}
"""Marker letter of each kind (a constant plateau, a flat line, is ``F``)."""


def _letter(f: Finding) -> str:
    if f.kind is FindingKind.PLATEAU and f.detail.get("constant"):
        return "F"
    return KIND_LETTER[f.kind]


@dataclass(frozen=True)
class Sparkline:
    """A curve cut into ``len(level)`` columns, with the findings covering each column.

    ``level`` is each column's height in [0, 1] (NaN for a gap, -1 for a column with
    only non-finite values); ``lo`` and ``hi`` the step range of each column;
    ``kind`` the highest-priority finding covering it (or ``None``); ``marks`` the
    marker row; ``log_scale`` whether heights are on a log scale.
    """

    level: tuple[float, ...]
    lo: tuple[int, ...]
    hi: tuple[int, ...]
    kind: tuple[FindingKind | None, ...]
    marks: str
    log_scale: bool

    @classmethod
    def of(
        cls,
        steps: npt.ArrayLike,
        values: npt.ArrayLike,
        findings: Sequence[Finding] = (),
        *,
        width: int = 24,
    ) -> Sparkline:
        """The sparkline of ``values`` logged at ``steps`` in ``width`` columns."""
        s = np.asarray(steps, dtype=np.float64)
        v = np.asarray(values, dtype=np.float64)
        if s.size == 0 or width < 1:
            return cls((), (), (), (), "", False)
        first, last = float(s[0]), float(s[-1])
        n_cols = int(min(width, s.size)) if last > first else 1
        if last > first:
            edges = np.linspace(first, last, n_cols + 1)
            col = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, n_cols - 1)
        else:  # every point at one step: columns by position
            n_cols = int(min(width, s.size))
            edges = np.full(n_cols + 1, first)
            col = (np.arange(s.size) * n_cols) // s.size
        level, log_scale = _column_levels(v, col, n_cols)
        los = [math.ceil(edges[i]) if i else int(first) for i in range(n_cols)]
        his = [math.floor(edges[i + 1]) for i in range(n_cols)]
        his[-1] = int(last)
        if last <= first:
            los = [int(first)] * n_cols
            his = [int(first)] * n_cols
        kinds, marks = _marks(findings, los, his, last)
        return cls(
            tuple(float(x) for x in level),
            tuple(los),
            tuple(his),
            tuple(kinds),
            "".join(marks).rstrip(),
            log_scale,
        )

    def __len__(self) -> int:
        return len(self.level)

    def chars(self, *, ascii_only: bool = False) -> str:
        """The curve as plain characters."""
        ramp = ASCII if ascii_only else BLOCKS
        out = []
        for x in self.level:
            if math.isnan(x):
                out.append(" ")
            elif x < 0:
                out.append(NONFINITE_CHAR[ascii_only])
            else:
                out.append(ramp[round(x * (len(ramp) - 1))])
        return "".join(out)

    def markers(self, *, ascii_only: bool = False) -> str:
        """The marker row: a letter at each finding's onset and a line over its span."""
        return self.marks.replace("─", "-") if ascii_only else self.marks

    def text(self, *, ascii_only: bool = False) -> Text:
        """The curve as rich ``Text``, each finding's columns in its kind's style."""
        out = Text(no_wrap=True, overflow="crop")
        for ch, kind in zip(self.chars(ascii_only=ascii_only), self.kind, strict=True):
            out.append(ch, style=KIND_STYLE[kind] if kind is not None else "bright_black")
        return out

    def marker_text(self, *, ascii_only: bool = False) -> Text:
        out = Text(no_wrap=True, overflow="crop")
        for ch, kind in zip(self.markers(ascii_only=ascii_only), self.kind, strict=False):
            out.append(ch, style=KIND_STYLE[kind] if kind is not None else "")
        return out


def svg(
    steps: npt.ArrayLike,
    values: npt.ArrayLike,
    findings: Sequence[Finding] = (),
    *,
    width: int = 160,
    height: int = 32,
) -> str:
    """An inline SVG sparkline: the curve as a polyline, each finding a shaded span.

    Each span is a ``<rect class="finding" data-kind="...">`` with a ``<title>``;
    the non-finite points are red ticks along the top.
    """
    line = Sparkline.of(steps, values, (), width=min(width, 400))
    s = np.asarray(steps, dtype=np.float64)
    if len(line) == 0:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"></svg>'
    first, last = float(s[0]), float(s[-1])
    span = last - first

    def x_of(step: float) -> float:
        return 1.0 + (width - 2.0) * ((step - first) / span if span > 0 else 0.5)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" class="tbplateau-sparkline">'
    ]
    for f in findings:
        a = x_of(max(first, float(f.start_step)))
        b = x_of(last if f.end_step is None else min(last, float(f.end_step)))
        until = "the end" if f.end_step is None else f"step {f.end_step:,}"
        title = html.escape(f"{finding_label(f)} from step {f.start_step:,} to {until}")
        parts.append(
            f'<rect class="finding" data-kind="{f.kind.value}" data-start="{f.start_step}" '
            f'x="{a:.1f}" y="0" width="{max(b - a, 1.5):.1f}" height="{height}" '
            f'fill="{SVG_COLOUR[f.kind]}" fill-opacity="0.25"><title>{title}</title></rect>'
        )
    points = []
    bad = []
    for i, lv in enumerate(line.level):
        mid = (line.lo[i] + line.hi[i]) / 2.0
        if math.isnan(lv):
            continue
        if lv < 0:
            bad.append(x_of(mid))
            continue
        points.append(f"{x_of(mid):.1f},{2.0 + (height - 4.0) * (1.0 - lv):.1f}")
    if points:
        parts.append(
            '<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" '
            f'points="{" ".join(points)}"/>'
        )
    for x in bad:
        parts.append(
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="4" stroke="#d62728" stroke-width="1"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _column_levels(
    v: npt.NDArray[np.float64], col: npt.NDArray[np.intp], n_cols: int
) -> tuple[npt.NDArray[np.float64], bool]:
    """Each column's mean on 0..1 (log scale when the values span over 100x), -1 for a
    column of non-finite values only, NaN for an empty one; and whether the scale is log."""
    finite = np.isfinite(v)
    pos = bool(finite.any()) and float(v[finite].min()) > 0
    log_scale = pos and float(v[finite].max()) / float(v[finite].min()) > 100.0
    w = np.log(np.where(finite, v, 1.0)) if log_scale else np.where(finite, v, 0.0)
    w = np.clip(w, -1e150, 1e150)
    sums = np.bincount(col, weights=np.where(finite, w, 0.0), minlength=n_cols)
    counts = np.bincount(col, weights=finite.astype(np.float64), minlength=n_cols)
    present = np.bincount(col, minlength=n_cols) > 0
    means = np.full(n_cols, np.nan)
    np.divide(sums, counts, out=means, where=counts > 0)
    ok = np.isfinite(means)
    level = np.full(n_cols, np.nan)
    if ok.any():
        lo_v, hi_v = float(means[ok].min()), float(means[ok].max())
        span = hi_v - lo_v
        level[ok] = (means[ok] - lo_v) / span if span > 0 else 0.5
    level[present & ~ok] = -1.0
    return level, log_scale


def _marks(
    findings: Sequence[Finding], los: list[int], his: list[int], last: float
) -> tuple[list[FindingKind | None], list[str]]:
    """Each column's finding kind and mark: the letter where a finding starts, a rule
    after it; the most important kind wins a shared column."""
    n_cols = len(los)
    kinds: list[FindingKind | None] = [None] * n_cols
    marks = [" "] * n_cols
    rank = {k: i for i, k in enumerate(PRIORITY)}
    for f in sorted(findings, key=lambda f: -rank[f.kind]):
        end = last if f.end_step is None else f.end_step
        cols = [i for i in range(n_cols) if los[i] <= end and his[i] >= f.start_step]
        if not cols and f.start_step <= last:
            cols = [int(np.searchsorted(his, f.start_step))]
            cols = [min(cols[0], n_cols - 1)]
        for j, i in enumerate(cols):
            kinds[i] = f.kind
            marks[i] = _letter(f) if j == 0 else "─"
    return kinds, marks
