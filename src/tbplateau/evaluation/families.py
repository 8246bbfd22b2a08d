"""Seeded synthetic families for the failure classes of issue 8, and the per-seed case builder.

Every family draws one labelled case from ``_Gen`` (the building blocks of
:mod:`tbplateau.evaluation.synthetic`); :func:`synthetic_cases` seeds each case on its own
(``(family index, seed)``), so a case's seed decides its split (:func:`split_of`) and adding a
family never changes another family's cases.

The failure classes (shapes in general terms, labels exact by construction):

1. ``collapse``: good and steady, then in ONE step to chance (accuracy to the class prior) or a
   loss 25-400x higher, staying there (flat or noisy): divergence at the jump and a plateau on
   the new level from it. Short per-epoch runs (25-50 points) too.
2. ``eos_oscillation``: a raise makes the loss jump 30-100x within 1-3 points, then alternate
   period-2 between two levels (to the end, or damped over 20-35 points, then falling again):
   oscillation from the raise. ``burst_oscillation``: a sine-like burst (period 4-10, amplitude
   well above the noise) on a decaying trend: oscillation from the burst's first point to its end.
3. negatives for oscillation: ``level_shift`` (a fast smooth start, then one jump down to a flat
   level: a plateau), ``floor_noise`` (converged onto a floor with additive noise, louder on a log
   scale: a plateau), ``tiny_swings`` (a swing of a fraction of a percent on a plateau),
   ``isolated_spikes`` (a few one-point spikes on a healthy decline: nothing).
4. ``overfit_two_pairs`` (one run logs a loss pair and an accuracy pair: one overfitting label,
   at the validation-loss minimum), ``overfit_flat_train`` (training loss already flat while the
   validation loss rises strongly: overfitting, and the training plateau),
   ``overfit_noisy_start`` (one low outlier in a very noisy early phase is not the minimum).
5. plateaus: ``slow_tail`` (exponential or power-law convergence: onset where 95% of the
   improvement is done, range 90-99%), ``long_staircase`` (3-4 step-LR phases on 1,500-100,000
   points, every phase a plateau ending at the next drop), ``mid_stall`` (a stall of 12-30% of
   the run inside a noisy decay), ``plateau_before_event`` (a short plateau right before a
   collapse, NaN or LR raise), ``constant_stretch`` (exactly repeated values mid-run),
   ``tiny_range`` (no progress from point 0, the whole range 1-2% of the level).
6. negatives: ``rising_lull`` (a 4-6 point lull inside an improving accuracy: nothing),
   ``decline_then_chaos`` (a steady 20-50% decline, then a loud phase still falling: nothing),
   ``outlier_before_blowup`` (one low outlier before a blow-up: divergence at the blow-up).

``OPEN_FAMILIES`` (the issue's "open cases", reported apart and never in the main score):
``zigzag_recovery``, ``flat_step_drop``, ``quantised_accuracy``, ``creeping_plateau``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tbplateau.evaluation.synthetic import (
    SCENARIOS,
    Case,
    Label,
    _approach_label,
    _Gen,
    _logdir,
    _loss_from,
    _series,
)
from tbplateau.findings import FindingKind
from tbplateau.series import Series

__all__ = ["FAMILIES", "OPEN_FAMILIES", "Family", "split_of", "synthetic_cases"]

P, D, N, OF, X = (
    FindingKind.PLATEAU,
    FindingKind.DIVERGENCE,
    FindingKind.NONFINITE,
    FindingKind.OVERFITTING,
    FindingKind.OSCILLATION,
)
Made = tuple[list[Series], list[Label]]
FloatArray = npt.NDArray[np.float64]


def split_of(seed: int) -> str:
    """``"test"`` for an odd seed, ``"dev"`` for an even one (real runs use the same rule)."""
    return "test" if seed % 2 else "dev"


def _steps(g: _Gen, n: int) -> npt.NDArray[np.int64]:
    return g.steps(n) if n > 60 else np.arange(n, dtype=np.int64)


def _n(g: _Gen, short_share: float = 0.3) -> int:
    if g.rng.random() < short_share:
        return int(g.rng.integers(25, 51))
    return int(g.rng.choice([120, 200, 400, 1000]))


def _decline(g: _Gen, n: int, drop: float) -> FloatArray:
    return g.decay(n, drop)


# ----------------------------------------------------------------------------- class 1


def _collapse(g: _Gen) -> Made:
    n = _n(g, 0.4)
    s = _steps(g, n)
    t0 = int(n * g.rng.uniform(0.45, 0.75))
    sig = float(g.rng.choice([0.01, 0.02, 0.04]))
    ts = int(t0 * g.rng.uniform(0.3, 0.6))
    u = np.arange(n, dtype=np.float64)
    trend = -2.0 * np.minimum(u, ts) / ts  # good and steady from ts
    jump = math.log(float(g.rng.uniform(25, 400)))
    trend[t0:] = trend[ts] + jump
    noisy_after = g.rng.random() < 0.5
    e = g.noise(n, sig)
    if noisy_after:
        e[t0:] *= 3
    loss = _loss_from(trend, e, 0.5)
    labels = [
        Label(".", P, ("loss",), int(s[ts]), int(s[t0 - 1])),
        Label(".", D, ("loss",), int(s[t0]), int(s[t0])),
        Label(".", P, ("loss",), int(s[t0]), None),
    ]
    out = [_series(".", "loss", s, loss)]
    if g.rng.random() < 0.6:
        classes = int(g.rng.choice([2, 3, 10]))
        prior = 1.0 / classes if classes > 2 else float(g.rng.uniform(0.5, 0.7))
        good = float(g.rng.uniform(0.85, 0.97))
        acc = prior + (good - prior) * np.minimum(u, ts) / ts + g.rng.normal(0, 0.005, n)
        acc[t0:] = prior + (g.rng.normal(0, 0.01, n - t0) if noisy_after else 0.0)
        out.append(_series(".", "accuracy", s, np.clip(acc, 0, 1)))
        labels += [
            Label(".", P, ("accuracy",), int(s[ts]), int(s[t0 - 1])),
            Label(".", D, ("accuracy",), int(s[t0]), int(s[t0])),
            Label(".", P, ("accuracy",), int(s[t0]), None),
        ]
    return out, labels


# ----------------------------------------------------------------------------- class 2


def _eos_oscillation(g: _Gen) -> Made:
    n = int(g.rng.choice([120, 200, 300]))
    s = np.arange(n, dtype=np.int64)
    t0 = int(n * g.rng.uniform(0.3, 0.5))
    sig = 0.01
    trend = _decline(g, n, 1.5)
    level = trend[t0 - 1] + math.log(float(g.rng.uniform(30, 100)))
    rise = int(g.rng.integers(1, 4))
    gap = float(g.rng.uniform(0.4, 1.2))  # log distance between the two levels
    damped = g.rng.random() < 0.5
    length = int(g.rng.integers(20, 36)) if damped else n - t0 - rise
    k = np.arange(length, dtype=np.float64)
    amp = gap / 2 * (np.exp(-3 * k / length) if damped else 1.0)
    trend[t0 : t0 + rise] = np.linspace(trend[t0 - 1], level, rise + 1)[1:]
    osc_end = t0 + rise + length
    trend[t0 + rise : osc_end] = level + amp * np.where(k % 2 == 0, 1.0, -1.0)
    if osc_end < n:  # falling again after the damped swings
        trend[osc_end:] = level - 1.5 * np.log1p(np.arange(n - osc_end) / 10) / math.log1p(5)
    loss = _loss_from(trend, g.noise(n, sig), 1.0)
    end = int(s[min(osc_end, n) - 1])
    return [_series(".", "loss", s, loss)], [
        Label(".", X, ("loss",), int(s[t0]), end, (int(s[t0]), int(s[t0 + rise])))
    ]


def _burst_oscillation(g: _Gen) -> Made:
    n = int(g.rng.choice([200, 400, 800]))
    s = _steps(g, n)
    sig = float(g.rng.choice([0.005, 0.01, 0.02]))
    trend = _decline(g, n, 2.0)
    t0 = int(n * g.rng.uniform(0.3, 0.55))
    period = float(g.rng.uniform(4, 10))
    t1 = min(n, t0 + int(period * g.rng.uniform(5, 12)))
    amp = max(8 * sig, float(g.rng.uniform(0.1, 0.3)))
    k = np.arange(t1 - t0, dtype=np.float64)
    trend[t0:t1] += amp * np.sin(2 * np.pi * k / period)
    loss = _loss_from(trend, g.noise(n, sig), 1.0)
    end = None if t1 >= n else int(s[t1 - 1])
    return [_series(".", "loss", s, loss)], [Label(".", X, ("loss",), int(s[t0]), end)]


# ----------------------------------------------------------------------------- class 3


def _level_shift(g: _Gen) -> Made:
    n = _n(g)
    s = _steps(g, n)
    t0 = int(n * g.rng.uniform(0.15, 0.35))
    u = np.arange(n, dtype=np.float64)
    trend = -1.0 * (1 - np.exp(-u / max(2.0, t0 / 4)))
    trend[t0:] = trend[t0 - 1] - float(g.rng.uniform(0.7, 2.0))
    loss = _loss_from(trend, g.noise(n, float(g.rng.choice([0.005, 0.01]))), 1.0)
    return [_series(".", "loss", s, loss)], [Label(".", P, ("loss",), int(s[t0]), None)]


def _floor_noise(g: _Gen) -> Made:
    n = int(g.rng.choice([200, 400, 1000]))
    s = _steps(g, n)
    floor = float(g.rng.uniform(0.005, 0.02))
    tau = n * float(g.rng.uniform(0.05, 0.12))
    u = np.arange(n, dtype=np.float64)
    gap = 2.0 * np.exp(-u / tau)
    noise_sd = floor * float(g.rng.uniform(0.3, 0.6))
    loss = floor + gap + np.abs(g.rng.normal(0, noise_sd, n))
    # plateau where the remaining gap falls under the noise (range: 2x .. 0.5x the noise)
    i1, rng = _approach_label(s, gap, noise_sd, 1)
    return [_series(".", "loss", s, loss)], [Label(".", P, ("loss",), int(s[i1]), None, rng)]


def _tiny_swings(g: _Gen) -> Made:
    n = _n(g, 0.2)
    s = _steps(g, n)
    t0 = int(n * g.rng.uniform(0.25, 0.5))
    u = np.arange(n, dtype=np.float64)
    trend = -2.0 * np.minimum(u, t0) / t0
    period = int(g.rng.choice([2, 4, 6]))
    trend[t0:] += float(g.rng.uniform(0.001, 0.006)) * np.sin(2 * np.pi * (u[t0:] - t0) / period)
    loss = _loss_from(trend, g.noise(n, 0.001), 1.0)
    return [_series(".", "loss", s, loss)], [Label(".", P, ("loss",), int(s[t0]), None)]


def _isolated_spikes(g: _Gen) -> Made:
    n = int(g.rng.choice([150, 300, 600]))
    s = _steps(g, n)
    e = g.rng.normal(0, 0.01, n)
    idx = g.rng.choice(np.arange(5, n - 5), size=int(g.rng.integers(2, 5)), replace=False)
    e[idx] += g.rng.uniform(0.5, 1.5, size=len(idx))
    trend = _decline(g, n, 2.0)
    return [_series(".", "loss", s, _loss_from(trend, e, 1.0))], []


# ----------------------------------------------------------------------------- class 4

_PAIRS = (
    ((".", "train/loss"), (".", "eval/loss"), (".", "train/accuracy"), (".", "eval/accuracy")),
    (
        ("train", "epoch_loss"),
        ("validation", "epoch_loss"),
        ("train", "epoch_accuracy"),
        ("validation", "epoch_accuracy"),
    ),
    ((".", "loss"), (".", "val_loss"), (".", "acc"), (".", "val_acc")),
)


def _val_curve(g: _Gen, m: int, t0: int, drop: float, rise: float, sig: float) -> FloatArray:
    u = np.arange(m, dtype=np.float64)
    trend = -drop * (1 - np.exp(-3 * np.minimum(u, t0) / t0)) / (1 - math.exp(-3))
    trend += rise * np.maximum(u - t0, 0) / max(1, m - t0)
    return _loss_from(trend, g.noise(m, sig), 1.2)


def _overfit_two_pairs(g: _Gen) -> Made:
    (tr, ttag), (vr, vtag), (ar, atag), (var, vatag) = _PAIRS[int(g.rng.integers(len(_PAIRS)))]
    n = int(g.rng.choice([40, 60, 100, 200]))
    s = np.arange(n, dtype=np.int64)
    sig = float(g.rng.choice([0.01, 0.02]))
    train = _loss_from(_decline(g, n, 3.0), g.noise(n, sig), 1.0)
    t0 = int(n * g.rng.uniform(0.25, 0.5))
    val = _val_curve(g, n, t0, 1.0, float(g.rng.uniform(0.5, 1.2)), sig)
    tacc = np.clip(1 - 0.5 * train / train[0], 0, 1)
    u = np.arange(n, dtype=np.float64)
    vacc = 0.5 + 0.35 * (1 - np.exp(-np.minimum(u, t0) / (t0 / 3)))
    vacc -= float(g.rng.uniform(0.05, 0.15)) * np.maximum(u - t0, 0) / max(1, n - t0)
    vacc = np.clip(vacc + g.rng.normal(0, 0.003, n), 0, 1)
    out = [
        _series(tr, ttag, s, train),
        _series(vr, vtag, s, val),
        _series(ar, atag, s, tacc),
        _series(var, vatag, s, vacc),
    ]
    return out, [Label(vr, OF, (vtag, ttag), int(s[t0]), None)]


def _overfit_flat_train(g: _Gen) -> Made:
    n = int(g.rng.choice([60, 100, 200, 400]))
    s = _steps(g, n)
    u = np.arange(n, dtype=np.float64)
    tflat = int(n * g.rng.uniform(0.15, 0.3))
    train = _loss_from(-3.0 * np.minimum(u, tflat) / tflat, g.noise(n, 0.01), 1.0)
    t0 = int(n * g.rng.uniform(0.3, 0.5))
    val = _val_curve(g, n, t0, 0.8, float(g.rng.uniform(1.0, 2.0)), 0.01)
    out = [_series(".", "loss", s, train), _series(".", "val_loss", s, val)]
    return out, [
        Label(".", OF, ("val_loss", "loss"), int(s[t0]), None),
        Label(".", P, ("loss",), int(s[tflat]), None),
    ]


def _overfit_noisy_start(g: _Gen) -> Made:
    n = int(g.rng.choice([60, 100, 200]))
    s = np.arange(n, dtype=np.int64)
    train = _loss_from(_decline(g, n, 3.0), g.noise(n, 0.02), 1.0)
    t0 = int(n * g.rng.uniform(0.4, 0.6))
    e = g.noise(n, 0.02)
    e[: n // 5] = g.rng.normal(0, 0.15, n // 5)  # a very noisy early phase
    u = np.arange(n, dtype=np.float64)
    trend = -0.8 * (1 - np.exp(-3 * np.minimum(u, t0) / t0)) / (1 - math.exp(-3))
    trend += 0.8 * np.maximum(u - t0, 0) / max(1, n - t0)
    val = _loss_from(trend, e, 1.2)
    lo = int(g.rng.integers(2, n // 5))
    val[lo] = float(val[t0]) * 0.9  # one low outlier below the true minimum
    out = [_series(".", "train_loss", s, train), _series(".", "val_loss", s, val)]
    tol = max(2, round(0.05 * n))
    return out, [
        Label(
            ".",
            OF,
            ("val_loss", "train_loss"),
            int(s[t0]),
            None,
            (int(s[max(0, t0 - tol)]), int(s[min(n - 1, t0 + tol)])),
        )
    ]


# ----------------------------------------------------------------------------- class 5


def _slow_tail(g: _Gen) -> Made:
    n = int(g.rng.choice([150, 300, 600, 2000]))
    s = _steps(g, n)
    u = np.arange(n, dtype=np.float64)
    total = float(g.rng.uniform(1.5, 3.0))
    if g.rng.random() < 0.5:
        tau = n * float(g.rng.uniform(0.06, 0.15))
        done = 1 - np.exp(-u / tau)
    else:
        c = n * float(g.rng.uniform(0.005, 0.02))
        done = 1 - (1 + u / c) ** -2.0
        done = done / done[-1]
    trend = -total * done
    loss = _loss_from(trend, g.noise(n, float(g.rng.choice([0.005, 0.01, 0.02]))), 1.0)

    def first(frac: float) -> int:
        idx = np.nonzero(done >= frac)[0]
        return int(idx[0]) if len(idx) else n - 1

    i = first(0.95)
    return [_series(".", "loss", s, loss)], [
        Label(".", P, ("loss",), int(s[i]), None, (int(s[first(0.9)]), int(s[first(0.99)])))
    ]


def _long_staircase(g: _Gen) -> Made:
    n = int(g.rng.choice([1500, 3000, 20_000, 100_000]))
    s = np.arange(n, dtype=np.int64) * int(g.rng.choice([1, 10]))
    k = int(g.rng.integers(3, 5))
    edges = [0, *[int(n * (j + 1) / k) for j in range(k - 1)], n]
    sig = float(g.rng.choice([0.01, 0.02, 0.04]))
    trend = np.zeros(n)
    level = 0.0
    labels = []
    for j in range(k):
        a, b = edges[j], edges[j + 1]
        fall = float(g.rng.uniform(0.6, 1.2)) * (1.5 if j == 0 else 1.0)
        settle = max(5, int((b - a) * g.rng.uniform(0.1, 0.3)))
        u = np.arange(b - a, dtype=np.float64)
        trend[a:b] = level - fall * np.minimum(u, settle) / settle
        level -= fall
        labels.append(
            Label(".", P, ("loss",), int(s[a + settle]), None if b == n else int(s[b - 1]))
        )
    loss = _loss_from(trend, g.noise(n, sig), 2.0)
    return [_series(".", "loss", s, loss)], labels


def _mid_stall(g: _Gen) -> Made:
    n = int(g.rng.choice([200, 400, 1000]))
    s = _steps(g, n)
    sig = float(g.rng.choice([0.02, 0.04, 0.06]))
    a = int(n * g.rng.uniform(0.25, 0.45))
    b = a + int(n * g.rng.uniform(0.12, 0.3))
    u = np.arange(n, dtype=np.float64)
    rate = float(g.rng.uniform(2.0, 3.0)) / (n - (b - a))
    trend = -rate * (np.minimum(u, a) + np.maximum(u - b, 0))
    loss = _loss_from(trend, g.noise(n, sig), 1.0)
    return [_series(".", "loss", s, loss)], [Label(".", P, ("loss",), int(s[a]), int(s[b - 1]))]


def _plateau_before_event(g: _Gen) -> Made:
    n = int(g.rng.choice([60, 150, 300]))
    s = _steps(g, n)
    t0 = int(n * g.rng.uniform(0.55, 0.8))
    ts = t0 - max(6, int(n * g.rng.uniform(0.08, 0.15)))
    u = np.arange(n, dtype=np.float64)
    trend = -2.0 * np.minimum(u, ts) / ts
    event = str(g.rng.choice(["collapse", "nan", "raise"]))
    labels = [Label(".", P, ("loss",), int(s[ts]), int(s[t0 - 1]))]
    if event == "collapse":
        trend[t0:] = trend[ts] + math.log(float(g.rng.uniform(25, 200)))
        labels += [
            Label(".", D, ("loss",), int(s[t0]), int(s[t0])),
            Label(".", P, ("loss",), int(s[t0]), None),
        ]
    elif event == "raise":  # the loss grows from the raise on
        trend[t0:] = trend[ts] + 4.0 * np.arange(n - t0) / max(1, n - t0)
        labels.append(Label(".", D, ("loss",), int(s[t0]), None))
    loss = _loss_from(trend, g.noise(n, 0.01), 1.0)
    if event == "nan":
        loss[t0:] = np.nan
        labels.append(Label(".", N, ("loss",), int(s[t0]), None))
    return [_series(".", "loss", s, loss)], labels


def _constant_stretch(g: _Gen) -> Made:
    n = int(g.rng.choice([100, 200, 400]))
    s = _steps(g, n)
    a = int(n * g.rng.uniform(0.3, 0.5))
    b = a + int(n * g.rng.uniform(0.1, 0.25))
    trend = _decline(g, n, 2.5)
    loss = _loss_from(trend, g.noise(n, 0.01), 1.0)
    loss[a:b] = loss[a]
    after = np.arange(n - b, dtype=np.float64)
    loss[b:] = loss[a] * np.exp(-1.0 * after / max(1, n - b)) * np.exp(g.rng.normal(0, 0.01, n - b))
    return [_series(".", "loss", s, loss)], [Label(".", P, ("loss",), int(s[a]), int(s[b - 1]))]


def _tiny_range(g: _Gen) -> Made:
    n = _n(g, 0.3)
    s = _steps(g, n)
    level = float(g.rng.uniform(0.3, 3.0))
    width = float(g.rng.uniform(0.01, 0.02)) * level
    values = level + g.rng.uniform(-width / 2, width / 2, n)
    tag = str(g.rng.choice(["loss", "val_loss"]))
    return [_series(".", tag, s, values)], [Label(".", P, (tag,), int(s[0]), None)]


# ----------------------------------------------------------------------------- class 6


def _rising_lull(g: _Gen) -> Made:
    n = int(g.rng.choice([50, 100, 200]))
    s = np.arange(n, dtype=np.int64)
    a = int(n * g.rng.uniform(0.2, 0.5))
    ln = int(g.rng.integers(4, 7))
    u = np.arange(n, dtype=np.float64)
    prog = np.where(u < a, u, np.where(u < a + ln, a, u - ln)) / (n - ln)
    acc = 0.3 + 0.6 * prog + g.rng.normal(0, 0.004, n)
    return [_series(".", "accuracy", s, acc)], []


def _decline_then_chaos(g: _Gen) -> Made:
    n = int(g.rng.choice([100, 200, 400]))
    s = _steps(g, n)
    t0 = int(n * g.rng.uniform(0.5, 0.7))
    u = np.arange(n, dtype=np.float64)
    fall = -math.log(1 - float(g.rng.uniform(0.2, 0.5)))
    trend = -fall * u / t0
    e = g.rng.normal(0, 0.005, n)
    e[t0:] = g.rng.normal(0, 0.15, n - t0)  # the loud phase, still falling
    return [_series(".", "loss", s, _loss_from(trend, e, 1.0))], []


def _outlier_before_blowup(g: _Gen) -> Made:
    n = int(g.rng.choice([60, 120, 300]))
    s = _steps(g, n)
    t0 = int(n * g.rng.uniform(0.5, 0.75))
    u = np.arange(n, dtype=np.float64)
    trend = -1.0 * u / n
    trend[t0:] = trend[t0 - 1] + 5.0 * (u[t0:] - t0 + 1) / max(1, n - t0)
    e = g.rng.normal(0, 0.01, n)
    e[t0 - int(g.rng.integers(2, 5))] -= float(g.rng.uniform(0.5, 1.0))  # one low outlier
    return [_series(".", "loss", s, _loss_from(trend, e, 1.0))], [
        Label(".", D, ("loss",), int(s[t0]), None)
    ]


# ----------------------------------------------------------------------------- open cases


def _zigzag_recovery(g: _Gen) -> Made:
    n = int(g.rng.choice([100, 200]))
    s = np.arange(n, dtype=np.int64)
    t0 = int(n * 0.4)
    u = np.arange(n, dtype=np.float64)
    trend = -2.0 * np.minimum(u, t0) / t0
    k = u[t0:] - t0
    trend[t0:] = trend[t0 - 1] + 3.0 * np.exp(-k / (0.2 * n)) + 0.05 * np.where(k % 2 == 0, 1, -1)
    loss = _loss_from(trend, g.noise(n, 0.01), 1.0)
    return [_series(".", "loss", s, loss)], [Label(".", D, ("loss",), int(s[t0]), int(s[t0]))]


def _flat_step_drop(g: _Gen) -> Made:
    n = int(g.rng.choice([300, 600]))
    s = np.arange(n, dtype=np.int64)
    t0 = int(n * 0.5)
    e = g.noise(n, 0.1)
    e[t0:] *= 0.3
    trend = np.full(n, -1.0)
    trend[: n // 10] = np.linspace(0, -1, n // 10)
    trend[t0:] -= 0.05
    loss = _loss_from(trend, e, 1.0)
    return [_series(".", "loss", s, loss)], [Label(".", P, ("loss",), int(s[t0]), None)]


def _quantised_accuracy(g: _Gen) -> Made:
    n = int(g.rng.choice([40, 80]))
    s = np.arange(n, dtype=np.int64)
    size = int(g.rng.choice([30, 50]))
    p = 0.5 + 0.4 * (1 - np.exp(-np.arange(n) / (n / 5)))
    acc = g.rng.binomial(size, p) / size
    t = int(np.nonzero(p >= p[-1] - 0.05 * (p[-1] - p[0]))[0][0])
    return [_series(".", "val_accuracy", s, acc)], [
        Label(".", P, ("val_accuracy",), int(s[t]), None)
    ]


def _creeping_plateau(g: _Gen) -> Made:
    n = int(g.rng.choice([200, 400]))
    s = np.arange(n, dtype=np.int64)
    u = np.arange(n, dtype=np.float64)
    t0 = int(n * 0.3)
    trend = -2.0 * np.minimum(u, t0) / t0 - 0.04 * np.maximum(u - t0, 0) / (n - t0)
    loss = _loss_from(trend, g.noise(n, 0.001), 1.0)
    return [_series(".", "loss", s, loss)], [Label(".", P, ("loss",), int(s[t0]), None)]


@dataclass(frozen=True)
class Family:
    name: str
    make: Callable[[_Gen], Made]
    failure_class: int  # 0 for the families that predate issue 8
    count: int = 8


def _legacy(name: str) -> Callable[[_Gen], Made]:
    make = SCENARIOS[name]

    def draw(g: _Gen) -> Made:
        roll = g.rng.random()
        size = "short" if roll < 0.2 else ("long" if roll > 14 / 15 else "medium")
        return make(g, size)

    return draw


FAMILIES: tuple[Family, ...] = (
    *(Family(name, _legacy(name), 0, 16 if name == "healthy" else 8) for name in SCENARIOS),
    Family("collapse", _collapse, 1, 12),
    Family("eos_oscillation", _eos_oscillation, 2, 10),
    Family("burst_oscillation", _burst_oscillation, 2, 8),
    Family("level_shift", _level_shift, 3),
    Family("floor_noise", _floor_noise, 3),
    Family("tiny_swings", _tiny_swings, 3),
    Family("isolated_spikes", _isolated_spikes, 3),
    Family("overfit_two_pairs", _overfit_two_pairs, 4),
    Family("overfit_flat_train", _overfit_flat_train, 4),
    Family("overfit_noisy_start", _overfit_noisy_start, 4),
    Family("slow_tail", _slow_tail, 5),
    Family("long_staircase", _long_staircase, 5, 6),
    Family("mid_stall", _mid_stall, 5),
    Family("plateau_before_event", _plateau_before_event, 5),
    Family("constant_stretch", _constant_stretch, 5),
    Family("tiny_range", _tiny_range, 5),
    Family("rising_lull", _rising_lull, 6),
    Family("decline_then_chaos", _decline_then_chaos, 6),
    Family("outlier_before_blowup", _outlier_before_blowup, 6),
)

OPEN_FAMILIES: tuple[Family, ...] = (
    Family("zigzag_recovery", _zigzag_recovery, -1, 4),
    Family("flat_step_drop", _flat_step_drop, -1, 4),
    Family("quantised_accuracy", _quantised_accuracy, -1, 4),
    Family("creeping_plateau", _creeping_plateau, -1, 4),
)


def synthetic_cases(*, open_cases: bool = False, scale: float = 1.0) -> list[Case]:
    """Every family's cases, each seeded by ``(family index, seed)``; seeds ``0 .. count-1``.

    ``open_cases`` gives the open-case families instead (source ``"open"``). ``scale``
    multiplies every family's count (at least 2, so both splits keep every family).
    """
    fams = OPEN_FAMILIES if open_cases else FAMILIES
    base = 1000 if open_cases else 0
    out = []
    for index, fam in enumerate(fams):
        for seed in range(max(2, round(fam.count * scale))):
            g = _Gen(np.random.default_rng([base + index, seed, 8]))
            series, labels = fam.make(g)
            name = f"{fam.name}-s{seed:02d}"
            out.append(
                Case(
                    name,
                    _logdir(name, series),
                    tuple(labels),
                    fam.name,
                    split=split_of(seed),
                    source="open" if open_cases else "synthetic",
                    seed=seed,
                )
            )
    return out
