"""Scoring findings against labels, as the quality benchmark does.

A finding matches a label when the case, run and kind agree, the tag agrees for
series-level kinds (the first tag; overfitting is matched on run and kind), and the
onset is within ``max(2, 5 % of the series' points)`` positions of the label's onset
(or of its ``onset_range``). Positions are counted in the labelled series (the
validation series for overfitting). Each label matches one finding at most and each
finding one label at most: pairs are taken closest first.

A finding that matches no label is a false positive when its series is fully labelled
for its kind (:meth:`Case.is_complete`; for overfitting, the finding's validation
series); on other series it is left out of the score (it can only help recall). Every
scored finding is kept, with its confidence and whether it matched, for the
reliability table (:func:`reliability`).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from tbplateau.detectors.base import onset_tolerance
from tbplateau.evaluation.synthetic import Case, Label
from tbplateau.findings import Finding, FindingKind
from tbplateau.series import Series

__all__ = ["BUCKETS", "Bucket", "KindScore", "Prediction", "Scores", "reliability", "score"]


@dataclass(frozen=True)
class Prediction:
    """A finding reported in ``run`` of case ``case``."""

    case: str
    run: str
    finding: Finding


@dataclass(frozen=True)
class KindScore:
    """Counts and onset errors (in positions) for one kind."""

    kind: FindingKind
    tp: int = 0
    fp: int = 0
    fn: int = 0
    onset_errors: tuple[int, ...] = ()

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else (1.0 if not self.fn else 0.0)

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def median_onset_error(self) -> float | None:
        return float(statistics.median(self.onset_errors)) if self.onset_errors else None


@dataclass(frozen=True)
class Scores:
    by_kind: dict[FindingKind, KindScore] = field(default_factory=dict)
    judged: tuple[tuple[FindingKind, float, bool], ...] = ()
    """``(kind, confidence, matched)`` of every scored finding (TP or FP)."""
    unscored: int = 0
    """Findings that matched nothing on a series not fully labelled for their kind."""

    @property
    def macro_f1(self) -> float:
        return sum(s.f1 for s in self.by_kind.values()) / max(1, len(self.by_kind))


def _position(series: Series, step: int) -> int:
    return int(np.clip(np.searchsorted(series.steps, step), 0, max(0, len(series) - 1)))


def _distance(series: Series, label: Label, step: int) -> int:
    p = _position(series, step)
    if label.onset_range is not None:
        lo = _position(series, label.onset_range[0])
        hi = _position(series, label.onset_range[1])
        return 0 if lo <= p <= hi else min(abs(p - lo), abs(p - hi))
    return abs(p - _position(series, label.start_step))


def _group(kind: FindingKind, run: str, tags: Sequence[str]) -> tuple[str, str, str]:
    tag = "" if kind is FindingKind.OVERFITTING else (tags[0] if tags else "")
    return (kind.value, run, tag)


def score(
    cases: Sequence[Case],
    predictions: Iterable[Prediction],
    *,
    kinds: Sequence[FindingKind] = tuple(FindingKind),
) -> Scores:
    """Per-kind true/false positives, misses and onset errors of ``predictions``."""
    counts = {k: _Acc() for k in kinds}
    judged: list[tuple[FindingKind, float, bool]] = []
    unscored = 0
    by_case: dict[str, list[Prediction]] = {}
    for p in predictions:
        by_case.setdefault(p.case, []).append(p)
    for case in cases:
        preds = [p for p in by_case.get(case.name, []) if p.finding.kind in counts]
        labels = [lb for lb in case.labels if lb.kind in counts]
        groups: dict[tuple[str, str, str], tuple[list[Label], list[Prediction]]] = {}
        for lb in labels:
            groups.setdefault(_group(lb.kind, lb.run, lb.tags), ([], []))[0].append(lb)
        for p in preds:
            key = _group(p.finding.kind, p.run, p.finding.tags)
            groups.setdefault(key, ([], []))[1].append(p)
        for (kind_name, _run, _tag), (labs, finds) in groups.items():
            kind = FindingKind(kind_name)
            c = counts[kind]
            used_l, used_f = _match(case, labs, [p.finding for p in finds], c.errors)
            c.tp += len(used_l)
            c.fn += len(labs) - len(used_l)
            for j, p in enumerate(finds):
                if j in used_f:
                    judged.append((kind, p.finding.confidence, True))
                elif case.is_complete(p.run, p.finding.tags[0] if p.finding.tags else "", kind):
                    c.fp += 1
                    judged.append((kind, p.finding.confidence, False))
                else:
                    unscored += 1
    return Scores(
        {k: KindScore(k, v.tp, v.fp, v.fn, tuple(v.errors)) for k, v in counts.items()},
        tuple(judged),
        unscored,
    )


def _match(
    case: Case, labs: Sequence[Label], finds: Sequence[Finding], errors: list[int]
) -> tuple[set[int], set[int]]:
    """Pair labels and findings closest first within the tolerance; onset errors to ``errors``."""
    pairs = []
    for i, lb in enumerate(labs):
        series = case.logdir[lb.run][lb.tags[0]]
        tol = onset_tolerance(len(series))
        for j, f in enumerate(finds):
            d = _distance(series, lb, f.start_step)
            if d <= tol:
                pairs.append((d, i, j))
    used_l: set[int] = set()
    used_f: set[int] = set()
    for d, i, j in sorted(pairs):
        if i in used_l or j in used_f:
            continue
        used_l.add(i)
        used_f.add(j)
        errors.append(d)
    return used_l, used_f


BUCKETS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass(frozen=True)
class Bucket:
    """Scored findings whose confidence lies in ``[lo, hi)`` (the last bucket includes 1.0)."""

    lo: float
    hi: float
    count: int
    matched: int
    mean_confidence: float | None

    @property
    def share(self) -> float | None:
        return self.matched / self.count if self.count else None

    @property
    def off(self) -> bool:
        """>= 20 findings and a matched share more than 0.1 from the mean confidence."""
        if self.count < 20 or self.share is None or self.mean_confidence is None:
            return False
        return abs(self.share - self.mean_confidence) > 0.1


def reliability(
    judged: Iterable[tuple[FindingKind, float, bool]], edges: Sequence[float] = BUCKETS
) -> list[Bucket]:
    """Scored findings bucketed by confidence: count, matched share, mean confidence."""
    items = list(judged)
    out = []
    for k, (lo, hi) in enumerate(itertools.pairwise(edges)):
        last = k == len(edges) - 2
        sel = [(c, m) for _, c, m in items if lo <= c < hi or (last and c == hi)]
        mean = sum(c for c, _ in sel) / len(sel) if sel else None
        out.append(Bucket(lo, hi, len(sel), sum(m for _, m in sel), mean))
    return out


@dataclass
class _Acc:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    errors: list[int] = field(default_factory=list)
