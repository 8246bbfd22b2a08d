"""The view model: plain frozen values every face formats (no layout, no escaping).

A :class:`ReportView` holds the runs worst first; each :class:`RunView` its rows
(:class:`SeriesView`, one per series, twins marked), at most one :class:`Advice` per
series (one diagnosis, the other findings as context), and its notes. Names from the
logs are kept as they are (cut to :data:`tbplateau.escape.MAX_NAME` characters inside
sentences); every view escapes them at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tbplateau.escape import shorten
from tbplateau.findings import Finding, FindingKind
from tbplateau.reader.model import ReadIssue
from tbplateau.report import SeriesReport
from tbplateau.series import Series

__all__ = ["Advice", "ReportView", "RunView", "SeriesView", "Verdict"]

Verdict = tuple[tuple[FindingKind | None, str], ...]
"""Verdict phrases, the present state first: ``(kind of the finding or None, text)``."""


@dataclass(frozen=True)
class Advice:
    """What the report says about one series: a ``title``, ``facts`` quoting the run's
    numbers, what to ``try``, and ``context`` (the series' other findings, and other
    series with the same finding). ``kind`` is the finding diagnosed, or ``None`` for a
    state without a finding (``label`` says which: ``improving``, ``solved``,
    ``chance level``, ``warm-up``, ``worsening``)."""

    run: str
    tag: str
    kind: FindingKind | None
    label: str
    title: str
    facts: tuple[str, ...]
    tries: tuple[str, ...]
    confidence: float | None
    start_step: int | None
    context: tuple[str, ...] = ()
    also: tuple[str, ...] = ()
    """Other tags of the run with the same finding at the same steps (folded here)."""
    others: tuple[Finding, ...] = field(default=(), compare=False)
    """The series' other findings, the ``context`` sentences are about."""

    def to_dict(self) -> dict[str, Any]:
        """The ``advice`` object of a series in the JSON document."""
        return {
            "kind": None if self.kind is None else self.kind.value,
            "label": self.label,
            "title": self.title,
            "facts": list(self.facts),
            "try": list(self.tries),
            "context": list(self.context),
            "also": list(self.also),
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "start_step": self.start_step,
        }

    @property
    def shown_confidence(self) -> float | None:
        """The confidence a view prints beside the title: none for a warm-up's "too early to
        judge" (its facts give the finding's own, which says little this early)."""
        return None if self.label == "warm-up" else self.confidence

    @property
    def also_text(self) -> str | None:
        """``The same plateau (same steps) in 2 more series: a, b.`` (or ``None``)."""
        if not self.also:
            return None
        tags = [shorten(t, 60) for t in self.also[:5]]
        more = f" and {len(self.also) - 5} more" if len(self.also) > 5 else ""
        n = len(self.also)
        what = "non-finite values" if self.label == "non-finite" else self.label
        lead = (
            f"The same {what} (same steps) in {n:,} more series"
            if self.kind is not None and self.label != "warm-up"
            else f"The same holds for {n:,} more series"
        )
        return f"{lead}: " + ", ".join(tags) + more + "."

    def lines(self) -> list[str]:
        """Facts, context, the series folded here, and what to try (``Try: ...``)."""
        out = [*self.facts, *self.context]
        if self.also_text:
            out.append(self.also_text)
        if self.tries:
            out.append("Try: " + "; ".join(self.tries) + ".")
        return out

    @property
    def text(self) -> str:
        """:meth:`lines` as one paragraph."""
        return " ".join(self.lines())


@dataclass(frozen=True)
class SeriesView:
    """One row of a run's table.

    ``findings`` are the findings drawn on its curve (its own, and the overfitting
    findings whose validation series it is); ``state`` is the row's state in one word
    (``finding``, ``solved``, ``chance``, ``warm-up``, ``worsening``, ``improving``,
    ``steady``, ``short``, ``partly judged``, ``not judged``, ``twin``); ``twins`` the
    tags folded into this row (same values), ``twin_of`` the row this one is folded
    into. ``curve`` is ``None`` when the points are not available.
    """

    run: str
    summary: SeriesReport
    findings: tuple[Finding, ...]
    verdict: Verdict
    curve: Series | None
    unit: str
    state: str = "steady"
    twins: tuple[str, ...] = ()
    twin_of: str | None = None
    advice: Advice | None = None

    @property
    def tag(self) -> str:
        return self.summary.tag

    @property
    def judged(self) -> bool:
        """Whether the row says something a reader should see without ``--all``."""
        if self.state == "twin":
            return False  # its row names it
        return self.state not in ("not judged", "partly judged", "short") or bool(self.findings)

    @property
    def verdict_text(self) -> str:
        return "; ".join(text for _, text in self.verdict)


@dataclass(frozen=True)
class RunView:
    """One run: its rows, its advice, its notes (restarts, duplicates, warm-up) and
    ``not_judged``, the one line naming the tags that were not (fully) judged."""

    run: str
    read_issues: tuple[ReadIssue, ...]
    series: tuple[SeriesView, ...]
    advice: tuple[Advice, ...]
    notes: tuple[str, ...] = ()
    not_judged: str | None = None
    framework: str | None = None
    severity: tuple[int, int] = (99, 0)

    @property
    def findings(self) -> int:
        return self.severity[1]


@dataclass(frozen=True)
class ReportView:
    """The whole report: runs worst first, the ``summary`` object of the JSON document,
    and the finding labels counted in the screen's order."""

    logdir: str
    runs: tuple[RunView, ...]
    series: int
    findings: int
    read_issues: int
    has_curves: bool
    kinds: tuple[tuple[str, int], ...]
    summary: dict[str, Any] = field(default_factory=dict)
    states: tuple[tuple[str, int], ...] = ()
    """Series in a state worth a line of the summary without being a finding
    (``at chance level``, ``getting worse``, ``solved``...), with their counts."""

    @property
    def sweep(self) -> bool:
        """Whether the report is worth a runs x kinds table (more than 3 runs with series)."""
        return sum(1 for r in self.runs if r.series) > 3

    def headline(self) -> str:
        """``4 runs, 7 series (5 judged), 6 findings, 0 read issues``."""
        judged = self.summary.get("judged_series", self.series)
        return (
            f"{len(self.runs):,} run{'' if len(self.runs) == 1 else 's'}, "
            f"{self.series:,} series ({judged:,} judged), "
            f"{self.findings:,} finding{'' if self.findings == 1 else 's'}, "
            f"{self.read_issues:,} read issue{'' if self.read_issues == 1 else 's'}"
        )
