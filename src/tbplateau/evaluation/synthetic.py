"""Seeded synthetic training logs with exact labels, for the quality benchmark and tests.

Each :class:`Case` is a small in-memory logdir (one or more runs) and the findings a
careful reader would report on it, as :class:`Label` values in the same shape as
findings. Curves are built on a log scale for losses (``log L = trend + noise``)
with the shapes real training produces: exponential and power-law decay, a step
learning-rate schedule (staircase), dead networks (exact constants), divergence
(exponential growth, sometimes ending in NaN/inf), NaN holes, overfitting in every
pairing layout, oscillation from a learning rate set too high, and healthy runs with
no finding at all as negatives. Noise is multiplicative, sometimes autocorrelated
(AR(1)); steps are regular, uneven or per-epoch; lengths go from 10 epochs to
100,000 steps.

A label's onset is where the noiseless curve changes regime. Where the change is
gradual (an exponential approach to a floor), ``onset_range`` spans the steps where
the remaining progress falls from two noise units to half of one, and the onset is
where it crosses one.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

from tbplateau.findings import FindingKind
from tbplateau.reader.model import Logdir, Run
from tbplateau.series import Series

__all__ = ["Case", "Label", "generate_cases", "labels_to_json"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Label:
    """An expected finding: same shape as a report finding, plus the run it sits in."""

    run: str
    kind: FindingKind
    tags: tuple[str, ...]
    start_step: int
    end_step: int | None
    onset_range: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "run": self.run,
            "kind": self.kind.value,
            "tags": list(self.tags),
            "start_step": self.start_step,
            "end_step": self.end_step,
        }
        if self.onset_range is not None:
            out["onset_range"] = list(self.onset_range)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Label:
        rng = d.get("onset_range")
        return cls(
            str(d["run"]),
            FindingKind(d["kind"]),
            tuple(d["tags"]),
            int(d["start_step"]),
            None if d.get("end_step") is None else int(d["end_step"]),
            None if rng is None else (int(rng[0]), int(rng[1])),
        )


@dataclass(frozen=True)
class Case:
    """One labelled logdir.

    ``complete`` says on which series every phenomenon of a kind is labelled, as
    ``{(run, tag): kinds}``; ``None`` means every series, for every kind (synthetic cases).
    A finding that matches no label is a false positive only on such a series; elsewhere it
    is not scored. ``split`` (``"dev"`` or ``"test"``) follows ``seed``; ``source`` is
    ``"synthetic"``, ``"real"``, ``"fixture"`` or ``"open"``.
    """

    name: str
    logdir: Logdir
    labels: tuple[Label, ...]
    family: str
    split: str = "dev"
    source: str = "synthetic"
    seed: int = 0
    complete: Mapping[tuple[str, str], frozenset[FindingKind]] | None = None

    def is_complete(self, run: str, tag: str, kind: FindingKind) -> bool:
        """Whether an unmatched ``kind`` finding on ``run``/``tag`` counts as a false positive."""
        if self.complete is None:
            return True
        return kind in self.complete.get((run, tag), frozenset())


def labels_to_json(labels: Sequence[Label]) -> str:
    return json.dumps([lb.to_dict() for lb in labels], indent=1)


# ---------------------------------------------------------------------------- pieces


class _Gen:
    """Random building blocks shared by the scenario functions."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def length(self, size: str) -> int:
        r = self.rng
        if size == "short":
            return int(r.integers(10, 31))
        if size == "long":
            return int(r.choice([20_000, 100_000]))
        return int(r.choice([150, 300, 600, 1000, 2000, 5000]))

    def steps(self, n: int) -> npt.NDArray[np.int64]:
        r = self.rng
        mode = r.choice(["regular", "stride", "uneven"], p=[0.4, 0.35, 0.25])
        if mode == "regular":
            return np.arange(n, dtype=np.int64)
        if mode == "stride":
            stride = int(r.choice([10, 50, 100, 391]))
            return np.arange(n, dtype=np.int64) * stride
        gaps = r.integers(1, 20, size=n)
        return np.cumsum(gaps).astype(np.int64) - int(gaps[0])

    def noise(self, n: int, sigma: float) -> FloatArray:
        r = self.rng
        e = r.normal(0.0, 1.0, n)
        if r.random() < 0.35 and n > 20:
            phi = float(r.uniform(0.3, 0.8))
            e = np.asarray(lfilter([1.0], [1.0, -phi], e)) * math.sqrt(1 - phi * phi)
        if r.random() < 0.15:  # occasional spikes
            k = max(1, n // 200)
            idx = r.integers(0, n, size=k)
            e[idx] += r.choice([-1.0, 1.0], size=k) * r.uniform(4, 10, size=k)
        return sigma * e

    def sigma(self) -> float:
        return float(self.rng.choice([0.005, 0.01, 0.02, 0.04, 0.08]))

    def decay(self, n: int, drop: float) -> FloatArray:
        """A healthy log-loss trend over positions 0..n-1 that keeps improving to the end."""
        r = self.rng
        u = np.arange(n) / max(n - 1, 1)
        if r.random() < 0.5:  # power law: log L falls like log(1 + t / c)
            c = float(r.uniform(0.01, 0.1))
            shape = np.log1p(u / c) / math.log1p(1 / c)
        else:  # exponential decay slow enough to keep improving to the end
            tau = float(r.uniform(0.5, 1.2))
            shape = (1 - np.exp(-u / tau)) / (1 - math.exp(-1 / tau))
        return np.asarray(-drop * shape, dtype=np.float64)


def _series(run: str, tag: str, steps: npt.NDArray[np.int64], values: FloatArray) -> Series:
    return Series(run, tag, steps=steps, values=values)


def _loss_from(log_trend: FloatArray, noise: FloatArray, base: float) -> FloatArray:
    return np.asarray(base * np.exp(log_trend + noise), dtype=np.float64)


def _approach_label(
    steps: npt.NDArray[np.int64], gap: FloatArray, sigma: float, start: int
) -> tuple[int, tuple[int, int]]:
    """Onset where the remaining progress ``gap`` falls under one noise unit."""
    after = np.arange(start, gap.size)

    def first_below(level: float) -> int:
        below = after[gap[after] < level]
        return int(below[0]) if below.size else gap.size - 1

    i1 = first_below(sigma)
    lo = first_below(2 * sigma)
    hi = first_below(0.5 * sigma)
    return i1, (int(steps[lo]), int(steps[hi]))


# ------------------------------------------------------------------------- scenarios

Scenario = Callable[[_Gen, str], tuple[list[Series], list[Label]]]


def _healthy(g: _Gen, size: str) -> tuple[list[Series], list[Label]]:
    n = g.length(size)
    steps = g.steps(n)
    sig = g.sigma()
    drop = float(g.rng.uniform(1.0, 3.0)) + 30 * sig
    trend = g.decay(n, drop)
    loss = _loss_from(trend, g.noise(n, sig), float(g.rng.uniform(0.5, 3.0)))
    out = [_series(".", "loss", steps, loss)]
    lr = np.full(n, 1e-3)
    if g.rng.random() < 0.5:
        lr = 1e-3 * 0.5 * (1 + np.cos(np.pi * np.arange(n) / n))
    out.append(_series(".", "learning_rate", steps, lr))
    if g.rng.random() < 0.5:
        acc = 1 - 0.9 * np.exp(trend * 0.7) + g.noise(n, sig / 3)
        out.append(_series(".", "accuracy", steps, np.clip(acc, 0, 1)))
    return out, []


def _plateau_end(g: _Gen, size: str) -> tuple[list[Series], list[Label]]:
    n = g.length(size)
    steps = g.steps(n)
    sig = g.sigma()
    t0 = int(n * g.rng.uniform(0.25, 0.7))
    drop = float(g.rng.uniform(1.0, 3.0)) + 30 * sig
    u = np.arange(n, dtype=np.float64)
    if g.rng.random() < 0.5 or size == "short":
        trend = -drop * np.minimum(u, t0) / t0
        label = Label(".", FindingKind.PLATEAU, ("loss",), int(steps[t0]), None)
    else:
        tau = t0 / float(g.rng.uniform(4.0, 7.0))
        gap = drop * np.exp(-u / tau)
        trend = gap - drop
        i1, rng = _approach_label(steps, gap, sig / math.sqrt(max(1, n // 200)), 1)
        label = Label(".", FindingKind.PLATEAU, ("loss",), int(steps[i1]), None, rng)
    loss = _loss_from(trend, g.noise(n, sig), float(g.rng.uniform(0.5, 3.0)))
    return [_series(".", "loss", steps, loss)], [label]


def _staircase(g: _Gen, size: str) -> tuple[list[Series], list[Label]]:
    n = g.length("medium" if size == "short" else size)
    steps = g.steps(n)
    sig = g.sigma()
    k = int(g.rng.integers(2, 4))
    drops = sorted(int(n * f) for f in g.rng.uniform(0.2, 0.9, size=k))
    drops = [d for i, d in enumerate(drops) if i == 0 or d - drops[i - 1] > 0.12 * n]
    edges = [0, *drops, n]
    trend = np.zeros(n)
    level = 0.0
    labels = []
    for j, (a, b) in enumerate(itertools.pairwise(edges)):
        fall = (
            float(g.rng.uniform(0.5, 1.2)) + 20 * sig
            if j
            else float(g.rng.uniform(1.0, 2.0)) + 20 * sig
        )
        settle = max(3, int((b - a) * g.rng.uniform(0.1, 0.35)))
        u = np.arange(b - a, dtype=np.float64)
        trend[a:b] = level - fall * np.minimum(u, settle) / settle
        level -= fall
        end = None if b == n else int(steps[b - 1])
        labels.append(Label(".", FindingKind.PLATEAU, ("loss",), int(steps[a + settle]), end))
    loss = _loss_from(trend, g.noise(n, sig), float(g.rng.uniform(0.5, 3.0)))
    lr = np.concatenate(
        [np.full(b - a, 0.1 * 0.1**j) for j, (a, b) in enumerate(itertools.pairwise(edges))]
    )
    return [_series(".", "loss", steps, loss), _series(".", "lr", steps, lr)], labels


def _dead(g: _Gen, size: str) -> tuple[list[Series], list[Label]]:
    n = g.length(size)
    steps = g.steps(n)
    if g.rng.random() < 0.5:
        acc = np.full(n, 0.1)
        loss = np.full(n, math.log(10.0))
        lab = [
            Label(".", FindingKind.PLATEAU, ("epoch_loss",), int(steps[0]), None),
            Label(".", FindingKind.PLATEAU, ("epoch_accuracy",), int(steps[0]), None),
        ]
        return [
            _series(".", "epoch_loss", steps, loss),
            _series(".", "epoch_accuracy", steps, acc),
        ], lab
    sig = g.sigma()
    t0 = int(n * g.rng.uniform(0.3, 0.7))
    drop = float(g.rng.uniform(1.0, 2.0)) + 20 * sig
    trend = -drop * np.arange(n) / n
    loss = _loss_from(trend, g.noise(n, sig), 2.0)
    loss[t0:] = round(float(loss[t0 - 1]), 6)  # the network died: one exact value from t0
    return [_series(".", "epoch_loss", steps, loss)], [
        Label(".", FindingKind.PLATEAU, ("epoch_loss",), int(steps[t0]), None)
    ]


def _divergence(g: _Gen, size: str) -> tuple[list[Series], list[Label]]:
    n = g.length(size)
    steps = g.steps(n)
    sig = g.sigma()
    t0 = int(n * g.rng.uniform(0.3, 0.75))
    drop = float(g.rng.uniform(1.0, 2.5)) + 20 * sig
    u = np.arange(n, dtype=np.float64)
    trend = -drop * np.minimum(u, t0) / n
    rise = float(g.rng.uniform(0.6, 3.0)) * drop + 30 * sig
    trend = trend + rise * np.maximum(u - t0, 0) / max(1, n - t0)
    loss = _loss_from(trend, g.noise(n, sig), float(g.rng.uniform(0.5, 3.0)))
    labels = [Label(".", FindingKind.DIVERGENCE, ("loss",), int(steps[t0]), None)]
    out = []
    if g.rng.random() < 0.35 and n - t0 > 8:
        t1 = t0 + int((n - t0) * g.rng.uniform(0.5, 0.9))
        loss[t1:] = g.rng.choice([np.nan, np.inf])
        labels.append(Label(".", FindingKind.NONFINITE, ("loss",), int(steps[t1]), None))
    out.append(_series(".", "loss", steps, loss))
    if g.rng.random() < 0.5:
        good = 0.1 + 0.8 * (1 - np.exp(-3 * np.minimum(u, t0) / max(t0, 1)))
        fall = np.maximum(u - t0, 0) / max(1, n - t0)
        acc = np.clip(good - (good[t0] - 0.15) * fall + g.noise(n, 0.01), 0, 1)
        if np.isnan(loss).any() or np.isinf(loss).any():
            acc[~np.isfinite(loss)] = np.nan
        out.append(_series(".", "accuracy", steps, acc))
        labels.append(Label(".", FindingKind.DIVERGENCE, ("accuracy",), int(steps[t0]), None))
        if not np.isfinite(acc).all():
            first = int(np.flatnonzero(~np.isfinite(acc))[0])
            labels.append(Label(".", FindingKind.NONFINITE, ("accuracy",), int(steps[first]), None))
    return out, labels


def _nonfinite(g: _Gen, size: str) -> tuple[list[Series], list[Label]]:
    series, _ = _healthy(g, size)
    loss = series[0]
    n = len(loss)
    v = loss.values.copy()
    if g.rng.random() < 0.5:
        t0 = int(n * g.rng.uniform(0.3, 0.9))
        v[t0:] = g.rng.choice([np.nan, np.inf, -np.inf])
        end = None
    else:  # NaN holes, the run recovers
        k = int(g.rng.integers(1, 4))
        idx = np.sort(g.rng.choice(np.arange(n // 5, n - 2), size=k, replace=False))
        v[idx] = np.nan
        t0 = int(idx[0])
        end = int(loss.steps[idx[-1]])
    series[0] = _series(".", "loss", loss.steps, v)
    return series, [Label(".", FindingKind.NONFINITE, ("loss",), int(loss.steps[t0]), end)]


_LAYOUTS = (
    ("keras", ("train", "epoch_loss"), ("validation", "epoch_loss")),
    ("hf", (".", "train/loss"), (".", "eval/loss")),
    ("keras_history", (".", "loss"), (".", "val_loss")),
    ("pytorch", (".", "Loss/train"), (".", "Loss/val")),
    ("tbx", ("Loss_train", "Loss"), ("Loss_val", "Loss")),
)


def _overfitting(g: _Gen, size: str) -> tuple[list[Series], list[Label]]:
    _, (trun, ttag), (vrun, vtag) = _LAYOUTS[int(g.rng.integers(len(_LAYOUTS)))]
    n = g.length(size)
    steps = g.steps(n)
    sig = g.sigma()
    drop = float(g.rng.uniform(1.5, 3.0)) + 30 * sig
    u = np.arange(n, dtype=np.float64)
    train_trend = -drop * np.log1p(u / (0.05 * n)) / math.log1p(20)
    train = _loss_from(train_trend, g.noise(n, sig), 2.0)
    # validation evaluated less often on long runs
    every = 1 if n <= 300 else int(g.rng.choice([1, 5, 10]))
    vi = np.arange(0, n, every)
    t0 = int(vi.size * g.rng.uniform(0.25, 0.7))
    vu = np.arange(vi.size, dtype=np.float64)
    vdrop = drop * float(g.rng.uniform(0.4, 0.7))
    vtrend = -vdrop * np.minimum(vu, t0) / t0
    vtrend = vtrend + float(g.rng.uniform(0.3, 1.0)) * vdrop * np.maximum(vu - t0, 0) / max(
        1, vi.size - t0
    )
    vsig = sig * float(g.rng.uniform(0.5, 1.5))
    val = _loss_from(vtrend, g.noise(vi.size, vsig), 2.2)
    out = [_series(trun, ttag, steps, train), _series(vrun, vtag, steps[vi], val)]
    label = Label(vrun, FindingKind.OVERFITTING, (vtag, ttag), int(steps[vi][t0]), None)
    return out, [label]


def _oscillation(g: _Gen, size: str) -> tuple[list[Series], list[Label]]:
    n = g.length("medium" if size == "long" and g.rng.random() < 0.5 else size)
    n = max(n, 40)
    steps = g.steps(n)
    sig = float(g.rng.choice([0.005, 0.01, 0.02]))
    t0 = int(n * g.rng.uniform(0.2, 0.6))
    drop = float(g.rng.uniform(1.0, 2.0))
    u = np.arange(n, dtype=np.float64)
    trend = -drop * np.minimum(u, t0) / max(t0, 1)
    amp = float(g.rng.uniform(0.15, 0.6))
    m = n - t0
    if g.rng.random() < 0.5:
        period = float(g.rng.uniform(2.5, 12.0))
        phase = float(g.rng.uniform(0, 2 * np.pi))
        swing = amp * np.sin(2 * np.pi * np.arange(m) / period + phase)
    else:  # erratic bounces held for a few points
        hold = int(g.rng.integers(1, 4))
        jumps = g.rng.uniform(-1, 1, size=m // hold + 1)
        swing = amp * np.repeat(jumps, hold)[:m] * 1.5
    trend[t0:] += swing + amp * 0.5
    loss = _loss_from(trend, g.noise(n, sig), 1.5)
    return [_series(".", "loss", steps, loss)], [
        Label(".", FindingKind.OSCILLATION, ("loss",), int(steps[t0]), None)
    ]


SCENARIOS: dict[str, Scenario] = {
    "healthy": _healthy,
    "plateau_end": _plateau_end,
    "staircase": _staircase,
    "dead": _dead,
    "divergence": _divergence,
    "nonfinite": _nonfinite,
    "overfitting": _overfitting,
    "oscillation": _oscillation,
}


def _logdir(name: str, series: list[Series]) -> Logdir:
    runs: dict[str, list[Series]] = {}
    for s in series:
        runs.setdefault(s.run, []).append(s)
    return Logdir(
        name,
        tuple(Run(r, (f"{r}/events.out.tfevents.0",), tuple(ss)) for r, ss in sorted(runs.items())),
    )


def generate_cases(seed: int = 0, *, per_family: int = 12, long_series: bool = True) -> list[Case]:
    """``per_family`` cases of every scenario (healthy ones twice as many), seeded.

    About a fifth of the cases are short (10-30 epochs); with ``long_series`` one
    case in twelve is a 20,000 or 100,000-step run.
    """
    rng = np.random.default_rng(seed)
    g = _Gen(rng)
    cases = []
    for family, make in SCENARIOS.items():
        count = per_family * (2 if family == "healthy" else 1)
        for i in range(count):
            roll = rng.random()
            size = (
                "short" if roll < 0.2 else ("long" if long_series and roll > 11 / 12 else "medium")
            )
            series, labels = make(g, size)
            name = f"{family}-{i:03d}"
            cases.append(Case(name, _logdir(name, series), tuple(labels), family))
    return cases


def iter_series(cases: Sequence[Case]) -> Iterator[Series]:
    for c in cases:
        yield from c.logdir.iter_series()
