"""Scoring findings against labels, as the quality benchmark does.

A finding matches a label when the case, run and kind agree, the tag agrees for
series-level kinds (the first tag; overfitting is matched on run and kind), and the
onset is within ``max(2, 5 % of the series' points)`` positions of the label's onset
(or of its ``onset_range``). Positions are counted in the labelled series (the
validation series for overfitting). Each label matches one finding at most and each
finding one label at most: pairs are taken closest first.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from tbplateau.detectors.base import onset_tolerance
from tbplateau.evaluation.synthetic import Case, Label
from tbplateau.findings import Finding, FindingKind
from tbplateau.series import Series

__all__ = ["KindScore", "Prediction", "Scores", "score"]


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
    by_case: dict[str, list[Prediction]] = {}
    for p in predictions:
        by_case.setdefault(p.case, []).append(p)
    for case in cases:
        preds = [p for p in by_case.get(case.name, []) if p.finding.kind in counts]
        labels = [lb for lb in case.labels if lb.kind in counts]
        groups: dict[tuple[str, str, str], tuple[list[Label], list[Finding]]] = {}
        for lb in labels:
            groups.setdefault(_group(lb.kind, lb.run, lb.tags), ([], []))[0].append(lb)
        for p in preds:
            key = _group(p.finding.kind, p.run, p.finding.tags)
            groups.setdefault(key, ([], []))[1].append(p.finding)
        for (kind_name, _run, _tag), (labs, finds) in groups.items():
            c = counts[FindingKind(kind_name)]
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
                c.errors.append(d)
            c.tp += len(used_l)
            c.fp += len(finds) - len(used_f)
            c.fn += len(labs) - len(used_l)
    return Scores({k: KindScore(k, v.tp, v.fp, v.fn, tuple(v.errors)) for k, v in counts.items()})


@dataclass
class _Acc:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    errors: list[int] = field(default_factory=list)
