"""Labels of one logged series from what the script did and simple rules on the curve.

Numpy only, and independent of tbplateau's detectors. The script says *where* something
happened (the positions of its events: an LR change, a spike, a poisoned bias, a schedule's
drop, another series of the run going non-finite); the rules below say *what* the curve did
there and where each stretch settles. Every label carries ``rule``: the rule that produced it.

Working values ``w`` are "higher is worse": ``log(v)`` for a loss that is positive wherever it is
finite, ``v`` for another loss, ``-v`` for an accuracy. ``sig`` is the robust step-to-step noise
of ``w`` (MAD of first differences / sqrt 2, as a standard deviation) on the stretch before the
event, and ``T = max(5 sig, theta)`` the change that counts, with ``theta`` = log 1.5 for a
loss on a log scale (a factor 1.5), 0.1 for an accuracy (10 points).

At an event at position ``p`` (``pre`` = the last 3 points before it, ``post`` = ``p`` up to the
next event):

* ``first_nonfinite``: the first non-finite value is a ``nonfinite`` label; the rules then look
  only at the finite prefix.
* ``alternation``: from within 3 points of ``p`` (or right after a jump that starts within 5 points
  of ``p`` and has not come back), successive differences change sign on >= 75% of at least 8
  steps, each swing at least ``max(4 sig, theta_osc)`` (``theta_osc`` = 0.1 in log units,
  0.03 for an accuracy): ``oscillation`` from ``p`` (range: ``p`` .. the stretch's first point)
  to the stretch's end. A divergence at ``p`` is then neither expected nor a false alarm. When
  the stretch sits ``T`` or more above the level before (the event threw the curve onto a new
  level), it must change sign on >= 90% of its steps, as swings between two levels do; white
  noise changes sign about two times in three, and chaotic bouncing that alternates less
  regularly is neither claimed as an oscillation nor as a divergence (issue 8: a collapse onto
  a noisy level is no oscillation; an oscillation is repeated, regular alternation).
* ``collapse`` / ``growth``: the median of ``post`` lies ``T`` or more above ``pre`` and its last
  third at least ``T/2`` above: ``divergence`` at ``p`` (range ``p`` .. the first point ``T/2``
  above). ``collapse`` when the curve gets within 20% of its post-event median in at most 2 points
  (then the new level is judged like any stretch, from the jump on, and is flat when it moves by
  less than a tenth of the jump), else ``growth``.
* ``spike``: ``T`` above for at least 3 points, then back (the last third under ``T/2``):
  ``divergence`` ending at the last point ``T/2`` above. Above for 1-2 points only: no label,
  and the series is not fully labelled for divergence. A growth or spike that leaves the level
  more than 3 points after ``p`` starts where it does (range: the 2 points before): where it
  last rose ``T/2`` above before its first 3 points ``T`` above. A bump that came back before
  that is not its onset and leaves the series not fully labelled for divergence.
* worse, but by less than ``T`` (by ``max(3 sig, theta / 3)`` or more): no label, and the series
  is not fully labelled for divergence. Otherwise nothing happened at ``p`` that the rules name.

Each quiet stretch (between events, after a collapse's jump, after an oscillation) is judged on
its own: ``frozen`` (bit-for-bit equal values for >= 5 points to its end: ``plateau``, exact),
``flat`` (>= 6 points whose first-third and last-third medians differ by at most 2 of its own
noise, or by at most a tenth of the series' progress before the stretch, or of the collapse it
starts with, and never by more than ``theta_osc``: ``plateau`` from its start), ``settled``
(:func:`settle_onset` on the stretch, on the raw and, for a loss, the log scale, settled for at
least 8 points and a fifth of the stretch: ``plateau`` with a fuzzy onset; settled on one scale
only leaves it undecided), or ``moving`` (the centred 5-point mean improves on >= 70% of steps:
no plateau). Anything else leaves the series not fully labelled for ``plateau``. A plateau that
runs on across an event that changed nothing (same level on both sides) is one plateau, not two.

Completeness: a series is fully labelled for a kind when the rules leave no doubt about it:
``nonfinite`` always; ``divergence`` unless a blip or an unexplained rise (the centred 5-point mean
rising ``T`` over its running best outside labelled stretches) was seen; ``oscillation`` unless a
looser alternation (>= 65% sign changes over 8 steps, swings >= half the oscillation bar and >= 2
noise units of the stretch before the first event) has 8 steps outside the labelled ones,
and unless :func:`_periodic_swings` sees repeated swings of any period from 2 to 10 points
(a sawtooth, a sine-like burst: at least 4 periods and 16 points whose repeated pattern explains
85% of the variance around the moving average over one period, swinging by the oscillation bar
``max(4 sig, theta_osc)`` with the noise before the first event) outside the labelled ones;
``plateau`` when every stretch was judged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from train_reference.common import KINDS

__all__ = ["Event", "SeriesLabels", "label_series", "noise", "working"]

THETA_LOG = math.log(1.5)
THETA_ACC = 0.1


@dataclass(frozen=True)
class Event:
    """Position (index into the series) and name of something the script did."""

    position: int
    what: str


@dataclass
class SeriesLabels:
    """What the rules say about one series."""

    labels: list[dict[str, object]] = field(default_factory=list)
    incomplete: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    thrown: bool = False
    """An event threw the curve onto a new level without a label saying so (see
    :func:`_regular_enough`): like a labelled divergence, it explains a later rise."""

    @property
    def complete(self) -> list[str]:
        return [k for k in KINDS if k not in self.incomplete and k != "overfitting"]


def working(values: np.ndarray, goal: str) -> tuple[np.ndarray, bool]:
    """``(w, log)``: higher-is-worse working values, and whether a log scale was used."""
    v = np.asarray(values, dtype=np.float64)
    if goal == "max":
        return -v, False
    fin = v[np.isfinite(v)]
    if len(fin) and np.all(fin > 0):
        return np.log(v), True
    return v, False


def noise(w: np.ndarray) -> float:
    d = np.diff(w[np.isfinite(w)])
    if len(d) == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / math.sqrt(2))


def _smooth(w: np.ndarray, k: int = 5) -> np.ndarray:
    if len(w) < k:
        return np.array(w, dtype=np.float64)
    inner = np.convolve(w, np.ones(k) / k, mode="valid")
    h = k // 2
    return np.concatenate([w[:h], inner, w[len(w) - h :]])


def _alternating(w: np.ndarray, a: int, b: int, bar: float, share: float) -> list[tuple[int, int]]:
    """Stretches ``[i, j]`` of ``w[a:b]`` with >= 8 alternating steps, each swing >= ``bar``."""
    d = np.diff(w[a:b])
    if len(d) < 8:
        return []
    big = np.abs(d) >= bar
    flips = (d[:-1] * d[1:] < 0) & big[:-1] & big[1:]
    out: list[tuple[int, int]] = []
    i = 0
    m = len(flips)
    while i < m:
        if not flips[i]:
            i += 1
            continue
        j = i
        while j + 1 < m and (flips[j + 1] or (j + 2 < m and flips[j + 2])):
            j += 1
        j = j if flips[j] else j - 1
        span = j - i + 1  # flips between d[i] .. d[j+1]
        if span + 1 >= 8 and flips[i : j + 1].mean() >= share:
            out.append((a + i, a + j + 2))
        i = j + 1
    return out


REGULAR_SHARE = 0.9
"""Sign changes an alternation on a new level must make (see :func:`_regular_enough`)."""


def _regular_enough(stretch: np.ndarray, level: float, t_bar: float) -> bool:
    """Whether an alternating stretch is an oscillation rather than noise on a new level.

    On the level before the event the share of :func:`_alternating` is enough. A stretch
    whose median sits ``t_bar`` or more above that level (the loss was thrown onto a new
    level) must change sign on :data:`REGULAR_SHARE` of its steps: swings between two
    levels do, white noise on the new level changes sign about two times in three (issue
    8, class 1: a collapse onto a noisy level is a divergence and a plateau, no
    oscillation).
    """
    if float(np.median(stretch)) - level < t_bar:
        return True
    d = np.diff(stretch)
    return len(d) >= 2 and float(np.mean(d[:-1] * d[1:] < 0)) >= REGULAR_SHARE


def _bar(log: bool, goal: str) -> tuple[float, float]:
    """``(theta, theta_osc)`` for this kind of series."""
    if goal == "max":
        return THETA_ACC, 0.03
    return (THETA_LOG, 0.1) if log else (0.0, 0.0)


def _label(
    kind: str, steps: np.ndarray, start: int, end: int | None, rule: str, **extra: object
) -> dict[str, object]:
    out: dict[str, object] = {
        "kind": kind,
        "start_step": int(steps[start]),
        "end_step": None if end is None else int(steps[end]),
        "rule": rule,
    }
    out.update(extra)
    return out


def _frozen_tail(
    out: SeriesLabels,
    steps: np.ndarray,
    v: np.ndarray,
    w: np.ndarray,
    span: tuple[int, int],
    end: int | None,
) -> bool:
    """Label the stretch's last 5 or more exactly equal values, if it ends with them, as a
    ``frozen`` plateau (what comes before it incomplete unless it improves); say if it did."""
    a, b = span
    seg = v[a:b]
    f = b - 1
    while f > a and seg[f - 1 - a] == seg[-1]:
        f -= 1
    if b - f < 5:
        return False
    out.labels.append(_label("plateau", steps, f, end, "frozen", exact=True))
    if f - a > 2 and _improving_share(w[a:f]) < 0.6:
        out.incomplete.add("plateau")
    return True


def _stretch(
    out: SeriesLabels,
    steps: np.ndarray,
    v: np.ndarray,
    w: np.ndarray,
    a: int,
    b: int,
    last: bool,
    log: bool,
    jump: float = 0.0,
    cap: float = math.inf,
) -> None:
    """Judge the quiet stretch ``[a, b)``: frozen, flat, settled, moving or undecided.

    ``jump``: the size (working units) of the collapse the stretch starts with, if any.
    ``cap``: the most a flat stretch may drift whatever its noise (the oscillation bar: a tenth
    in log units, 3 points of accuracy): a loud zigzag inflates the noise, and a stretch that
    falls 20-50% under it is no plateau (issue 8, class 6).
    """
    m = b - a
    end = None if last else b - 1
    if m < 5:
        if m >= 1:
            out.incomplete.add("plateau")
            out.notes.append(f"stretch [{a}, {b}) too short to judge")
        return
    if _frozen_tail(out, steps, v, w, (a, b), end):
        return
    sig = noise(w[a:b])
    third = max(1, m // 3)
    drift = abs(float(np.median(w[b - third : b]) - np.median(w[a : a + third])))
    fin = w[:a][np.isfinite(w[:a])]
    progress = abs(float(fin[0]) - float(np.median(w[a : a + third]))) if len(fin) else 0.0
    # flat within its noise, relative to a collapse it starts with, or to the series' progress
    calm = max(2 * sig, 0.1 * jump, 0.1 * progress)
    if m >= 6 and drift <= min(calm, cap) and not _drifts(v, a, b):
        rng = [int(steps[a]), int(steps[min(a + 1, b - 1)])]
        out.labels.append(_label("plateau", steps, a, end, "flat", onset_range=rng))
        return
    raw = settle_onset(v, a, b)
    logged = settle_onset(w, a, b) if log else raw
    if raw is not None and logged is not None:
        mid = max(raw[1], logged[1])
        lo, hi = min(raw[0], logged[0]), min(b - 1, max(raw[2], logged[2]))
        if b - mid >= max(8, 0.2 * m) and not _drifts(v, mid, b):
            rng = [int(steps[lo]), int(steps[hi])]
            out.labels.append(_label("plateau", steps, mid, end, "settled", onset_range=rng))
            return
    elif raw is not None or logged is not None:
        out.incomplete.add("plateau")
        out.notes.append(f"stretch [{a}, {b}) settled on one scale only (raw / log)")
        return
    if _improving_share(w[a:b]) >= 0.7:
        return
    out.incomplete.add("plateau")
    out.notes.append(f"stretch [{a}, {b}) neither settled nor moving")


def settle_onset(x: np.ndarray, a: int, b: int) -> tuple[int, int, int] | None:
    """Where ``x[a:b]`` has settled at its final level, as positions for 10%, 5% and 2%.

    ``final`` = mean of the stretch's last 5 values, ``R = |x[a] - final|`` (the stretch's own
    progress). For each fraction ``f`` the first position from which the centred 5-point mean
    stays within ``f * R`` of ``final`` to the stretch's end. ``None`` when ``R`` is 0.
    """
    seg = x[a:b]
    final = float(seg[-5:].mean())
    ref = abs(float(seg[0]) - final)
    if not ref > 0:
        return None
    sm = _smooth(seg)
    out = []
    for f in (0.10, 0.05, 0.02):
        outside = np.nonzero(np.abs(sm - final) > f * ref)[0]
        out.append(a + (int(outside[-1]) + 1 if len(outside) else 0))
    return out[0], out[1], out[2]


def _drifts(v: np.ndarray, start: int, b: int) -> bool:
    """The drift test of ``train_reference.check`` on ``v[start:b]``: the medians of its first and
    last thirds differ by more than a quarter of the largest change before it and more than 2
    of its own noise."""
    w = v[start:b]
    third = max(1, len(w) // 3)
    drift = abs(float(np.median(w[-third:]) - np.median(w[:third])))
    earlier = v[:start][np.isfinite(v[:start])]
    before = float(np.max(np.abs(earlier - w[0]))) if len(earlier) else 0.0
    return drift > max(0.25 * before, 2.0 * noise(w), 1e-12)


def _improving_share(w: np.ndarray) -> float:
    return float(np.mean(np.diff(_smooth(w)) < 0)) if len(w) > 1 else 0.0


@dataclass(frozen=True)
class _At:
    """An event at ``p`` (the stretch after it ends at ``b_next``), with the level of the 3
    points before it, their noise ``sig`` and the change that counts there, ``t_bar``."""

    p: int
    b_next: int
    level: float
    sig: float
    t_bar: float


def _event_effect(
    out: SeriesLabels,
    steps: np.ndarray,
    w: np.ndarray,
    p: int,
    b_prev: int,
    b_next: int,
    theta: float,
    theta_osc: float,
) -> tuple[int, float]:
    """Label what happened at the event at ``p``.

    Returns where the quiet stretch after it starts and, after a collapse, the jump's size.
    """
    pre = w[max(b_prev, p - 3) : p]
    if len(pre) < 2 or b_next - p < 1:
        if b_next - p >= 1:
            out.notes.append(f"event at {p}: too little before it to judge")
            out.incomplete.update({"divergence", "oscillation"})
        return p, 0.0
    sig = noise(w[max(b_prev, p - 20) : p]) if p - b_prev >= 3 else noise(w[b_prev:b_next])
    at = _At(p, b_next, float(np.median(pre)), sig, max(5 * sig, theta))
    after = _alternation_effect(out, steps, w, at, theta_osc)
    if after is not None:
        return after, 0.0
    if b_next - p < 2:
        return p, 0.0
    return _worsening_effect(out, steps, w, at, theta)


def _alternation_effect(
    out: SeriesLabels, steps: np.ndarray, w: np.ndarray, at: _At, theta_osc: float
) -> int | None:
    """An alternation from the event on, or right after a jump (within 5 points of it) that
    has not come back: labelled (or left unclaimed when irregular on a new level); returns
    where the stretch after it starts, ``None`` when there is none."""
    p, level, sig = at.p, at.level, at.sig
    for i, j in _alternating(w, p, at.b_next, max(4 * sig, theta_osc), 0.75):
        high = np.nonzero(w[p : min(i, p + 5)] - level >= max(3 * sig, theta_osc))[0]
        jumped = len(high) > 0 and bool(
            np.all(w[p + int(high[0]) : i] - level >= max(3 * sig, theta_osc))
        )
        if not (i <= p + 3 or jumped):
            return None
        if not _regular_enough(w[i : j + 1], level, at.t_bar):
            # bouncing on a new level, too irregular for swings between two levels and too
            # loud for noise: neither kind is claimed there
            out.incomplete.update({"divergence", "oscillation"})
            out.notes.append(f"event at {p}: irregular alternation on a new level to {j}")
            out.thrown = True
            return j + 1
        period = int(2 * max(1, np.median(np.diff(steps[i : j + 1]))))
        rng = [int(steps[p]), int(steps[i])]
        out.labels.append(
            _label("oscillation", steps, p, j, "alternation", onset_range=rng, period=period)
        )
        out.incomplete.add("divergence")
        return j + 1
    return None


def _worsening_effect(
    out: SeriesLabels, steps: np.ndarray, w: np.ndarray, at: _At, theta: float
) -> tuple[int, float]:
    """A collapse, growth or spike after the event (see the module's docstring), or a
    worsening too small or too short to name; returns like :func:`_event_effect`."""
    p, level, t_bar = at.p, at.level, at.t_bar
    post = w[p : at.b_next]
    rise = float(np.median(post)) - level
    tail = float(np.median(post[-max(1, len(post) // 3) :])) - level
    if rise >= t_bar and tail >= t_bar / 2:
        j0 = p + int(np.argmax(post - level >= t_bar / 2))
        target = float(np.median(post))
        reach = np.nonzero(np.abs(post - target) <= 0.2 * abs(target - level))[0]
        if len(reach) and reach[0] <= 1:
            rng = [int(steps[p]), int(steps[j0])]
            out.labels.append(_label("divergence", steps, p, j0, "collapse", onset_range=rng))
            return p + int(reach[0]), rise  # the new level starts at the first point on it
        first, bumped = _rise_start(post, level, t_bar)
        # its peak comes after its start (a bump before it does not count)
        peak = p + first + int(np.argmax(post[first:]))
        onset, rng = _onset(steps, p, p + first)
        _bumped(out, p, bumped)
        out.labels.append(_label("divergence", steps, onset, peak, "growth", onset_range=rng))
        if peak < at.b_next - 1:
            out.incomplete.add("plateau")
        return at.b_next, 0.0
    above = post - level >= t_bar
    if above.any():
        run = best = 0
        for x in above:
            run = run + 1 if x else 0
            best = max(best, run)
        if best >= 3 and tail < t_bar / 2:
            first, bumped = _rise_start(post, level, t_bar)
            last = p + int(np.nonzero(post - level >= t_bar / 2)[0][-1])
            onset, rng = _onset(steps, p, p + first)
            _bumped(out, p, bumped)
            out.labels.append(_label("divergence", steps, onset, last, "spike", onset_range=rng))
            return last + 1, 0.0
        out.incomplete.add("divergence")
        out.notes.append(f"event at {p}: worse for {best} point(s), neither a spike nor for good")
        return p, 0.0
    grey = max(3 * at.sig, theta / 3)
    if rise >= grey or (post - level >= grey).sum() >= 3:
        out.incomplete.add("divergence")
        out.notes.append(f"event at {p}: worse by less than the bar")
    return p, 0.0


def _rise_start(post: np.ndarray, level: float, t_bar: float) -> tuple[int, bool]:
    """Where the worsening after an event begins, as an index into ``post``, and whether a
    separate bump came first.

    The worsening is the first run of 3 points ``t_bar`` or more above ``level`` (the first such
    point when no run is that long), from where the curve last rose ``t_bar / 2`` above the
    level before it (dips of 1-2 points under that inside it do not count): a bump that came
    back in between is not its onset (issue 8: a
    divergence's onset is at the blow-up, not at a point before it).
    """
    high = post - level >= t_bar
    half = post - level >= t_bar / 2
    runs = np.nonzero(high[:-2] & high[1:-1] & high[2:])[0] if len(high) >= 3 else np.zeros(0)
    k = int(runs[0]) if len(runs) else int(np.argmax(high))
    start = k
    while True:  # back over the stretch above t_bar / 2, across dips of up to 2 points
        prev = np.nonzero(half[max(0, start - 3) : start])[0]
        if not len(prev):
            break
        start = max(0, start - 3) + int(prev[0])
    return start, bool(half[:start].any())


def _bumped(out: SeriesLabels, p: int, bumped: bool) -> None:
    """A bump that came back before the worsening at ``p``: like a blip, no label, and the
    series is not fully labelled for divergence."""
    if bumped:
        out.incomplete.add("divergence")
        out.notes.append(f"event at {p}: a bump that came back before the worsening")


def _onset(steps: np.ndarray, p: int, j0: int) -> tuple[int, list[int]]:
    """Onset and range of a worsening first seen at ``j0`` after an event at ``p``: the event
    when the curve leaves its level within 3 points of it, else ``j0`` (range 2 points before)."""
    if j0 <= p + 3:
        return p, [int(steps[p]), int(steps[j0])]
    return j0, [int(steps[max(p, j0 - 2)]), int(steps[j0])]


def label_series(
    steps: Sequence[int] | np.ndarray,
    values: Sequence[float] | np.ndarray,
    goal: str,
    events: Sequence[Event],
    *,
    explained_from: int | None = None,
) -> SeriesLabels:
    """Apply the rules of this module to one series; ``events`` in positions, any order.

    ``explained_from``: a validation loss whose rise from that position on is labelled
    overfitting (a run-level label): that rise is no divergence, and its plateaus are not judged.
    """
    s = np.asarray(steps, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    out = SeriesLabels()
    n = len(v)
    bad = np.nonzero(~np.isfinite(v))[0]
    cut = int(bad[0]) if len(bad) else n
    if len(bad):
        out.labels.append(_label("nonfinite", s, cut, None, "first_nonfinite"))
    w, log = working(v, goal)
    theta, theta_osc = _bar(log, goal)
    if theta == 0.0:
        fin = np.abs(w[:cut])
        theta = 0.5 * float(np.median(fin)) if len(fin) else 1.0
        theta_osc = 0.1 * theta
    cuts = sorted({e.position for e in events if 0 < e.position < cut})
    if explained_from is not None:
        cut_over = min(cut, explained_from)
        out.incomplete.add("plateau")
    else:
        cut_over = cut
    bounds = [0, *[c for c in cuts if c < cut_over], cut_over]
    start = 0
    for k in range(len(bounds) - 1):
        a, b = bounds[k], bounds[k + 1]
        start, jump = (
            _event_effect(out, s, w, a, bounds[k - 1], b, theta, theta_osc) if k > 0 else (a, 0.0)
        )
        if start < b:
            before = len(out.labels)
            _stretch(out, s, v, w, start, b, last=(b == n), log=log, jump=jump, cap=theta_osc)
            if k > 0 and start == a:
                _merge_across(out, before, s, w, a)
    quiet = cuts[0] if cuts else cut_over
    _completeness(out, s, w, cut_over, theta, theta_osc, quiet=quiet)
    if cut_over < cut:
        _swings_after(out, s, w, cut, theta, theta_osc, quiet=quiet)
    if explained_from is not None:  # the overfitting label covers the rest; no plateau claims
        out.labels = [lb for lb in out.labels if lb["kind"] != "plateau"]
    return out


def _swings_after(
    out: SeriesLabels,
    steps: np.ndarray,
    w: np.ndarray,
    cut: int,
    theta: float,
    theta_osc: float,
    *,
    quiet: int,
) -> None:
    """Oscillation is incomplete on a series whose part past the overfitting onset (which no
    rule labels) alternates or swings as :func:`_completeness` looks for on the rest."""
    if "oscillation" in out.incomplete:
        return
    probe = SeriesLabels(labels=list(out.labels))
    _completeness(probe, steps, w, cut, theta, theta_osc, quiet=quiet)
    if "oscillation" in probe.incomplete:
        out.incomplete.add("oscillation")
        out.notes.append("swings past the overfitting onset left unlabelled")


def _merge_across(out: SeriesLabels, new: int, steps: np.ndarray, w: np.ndarray, p: int) -> None:
    """One plateau, not two, across an event at ``p`` that changed nothing.

    When the stretch before ``p`` ended on a plateau and the one from ``p`` starts on one at the
    same level (bit-for-bit for frozen values, else within 2 noise units of the medians of the 5
    points on each side), the first is extended to the second's end.
    """
    if new == 0 or new >= len(out.labels):
        return
    prev, nxt = out.labels[new - 1], out.labels[new]
    if prev["kind"] != "plateau" or nxt["kind"] != "plateau":
        return
    if prev["end_step"] != int(steps[p - 1]) or nxt["start_step"] != int(steps[p]):
        return
    a, b = w[max(0, p - 5) : p], w[p : p + 5]
    if prev.get("exact") and nxt.get("exact"):
        same = bool(w[p - 1] == w[p])
    else:
        same = abs(float(np.median(a) - np.median(b))) <= max(
            2 * noise(w[max(0, p - 20) : p + 20]), 1e-12
        )
    if same:
        prev["end_step"] = nxt["end_step"]
        if not nxt.get("exact"):
            prev.pop("exact", None)
        del out.labels[new]


def _covered(out: SeriesLabels, steps: np.ndarray, kind: str) -> np.ndarray:
    mask = np.zeros(len(steps), dtype=bool)
    for lb in out.labels:
        if lb["kind"] != kind:
            continue
        lo = int(np.searchsorted(steps, int(lb["start_step"])))  # type: ignore[call-overload]
        end = lb["end_step"]
        hi = len(steps) - 1 if end is None else int(np.searchsorted(steps, int(end)))  # type: ignore[call-overload]
        mask[max(0, lo - 2) : hi + 3] = True  # the 5-point smoothing reaches 2 points across
    return mask


def _longest_false(mask: np.ndarray) -> int:
    """The longest run of ``False`` in ``mask``."""
    best = run = 0
    for x in mask:
        run = 0 if x else run + 1
        best = max(best, run)
    return best


SWING_SHARE = 0.85
"""Share of a window's variance a repeated swing must explain (see :func:`_periodic_swings`)."""
SWING_PERIODS = 4
SWING_POINTS = 16
"""A window of repeated swings holds at least this many periods and points."""


def _periodic_swings(w: np.ndarray, covered: np.ndarray, bar: float) -> tuple[int, int] | None:
    """The first window of repeated swings outside labelled oscillations: ``(start, period)``.

    For each period ``P`` from 2 to 10 points: ``r`` = ``w`` minus its centred moving average
    over one period (which removes a trend, a level or a slow decay and keeps a swing of that
    period, whatever its shape: a zigzag, a sawtooth, a sine). A window of at least
    :data:`SWING_PERIODS` periods and :data:`SWING_POINTS` points of ``r``, none of it in
    ``covered``, holds repeated swings when the pattern its periods share (the mean of ``r`` at
    each phase) explains :data:`SWING_SHARE` or more of ``r``'s variance there and swings by
    ``bar`` or more (its highest minus its lowest phase mean). White noise folded onto ``P``
    phases of ``L`` points explains about ``(P-1)/(L-1)`` of it (85% is an F-test level below
    1e-4 per window), a single spike about one period in four, and a level shift (a collapse)
    leaves a blip at one place. Issue 8: an oscillation is a repeated swing, large relative to
    the level and to the noise, sustained over a stretch; not a spike, not noise on a new level.
    """
    n = len(w)
    for period in range(2, 11):
        m = max(SWING_PERIODS, -(-SWING_POINTS // period))  # periods in the window
        size = m * period
        h = period // 2
        kernel = np.ones(period + 1 - period % 2)
        if period % 2 == 0:
            kernel[[0, -1]] = 0.5
        if n < size + 2 * h:
            break
        r = w[h : n - h] - np.convolve(w, kernel / period, mode="valid")
        hit = _swing_windows(r, covered[h : n - h], period, m, bar)
        if len(hit):
            return int(hit[0]) + h, period
    return None


def _swing_windows(
    r: np.ndarray, covered: np.ndarray, period: int, m: int, bar: float
) -> np.ndarray:
    """Starts of the windows of ``m`` periods of ``r`` that :func:`_periodic_swings` accepts."""
    size = m * period
    comb = np.zeros((m - 1) * period + 1)
    comb[::period] = 1.0
    fold = np.convolve(r, comb[::-1], mode="valid")  # fold[t] = sum of r[t + j P], j < m
    starts = len(r) - size + 1
    win = np.lib.stride_tricks.sliding_window_view(fold, period)[:starts]
    sums = np.convolve(r, np.ones(size), mode="valid")
    squares = np.convolve(r * r, np.ones(size), mode="valid")
    blocked = np.convolve(covered.astype(np.float64), np.ones(size), mode="valid") > 0
    total = squares - sums * sums / size
    explained = np.sum(win * win, axis=1) / m - sums * sums / size
    swing = (win.max(axis=1) - win.min(axis=1)) / m
    large = (swing >= bar) & (swing > 0)
    good = ~blocked & (total > 0) & (explained >= SWING_SHARE * total) & large
    return np.nonzero(good)[0]


def _completeness(
    out: SeriesLabels,
    steps: np.ndarray,
    w: np.ndarray,
    cut: int,
    theta: float,
    theta_osc: float,
    *,
    quiet: int,
) -> None:
    """Mark the kinds whose every phenomenon the labels may not cover.

    ``quiet``: where the first event is. An alternation is looked for with the noise before it
    (the noise of the whole series counts the alternation itself: a period-2 swing on 40 % of
    the points makes the bar higher than the swing); only the part of an alternating stretch
    that no oscillation label covers counts, when it still holds 8 alternating steps.
    """
    if cut < 3:
        return
    ww = w[:cut]
    sig = noise(ww)
    sig_quiet = noise(ww[:quiet]) if quiet >= 10 else sig
    osc = _covered(out, steps, "oscillation")[:cut]
    for i, j in _alternating(ww, 0, cut, max(2 * sig_quiet, theta_osc / 2), 0.65):
        free = _longest_false(osc[i : j + 1])
        if free >= 9:
            out.incomplete.add("oscillation")
            out.notes.append(f"alternation at [{i}, {j}] left unlabelled")
            break
    if "oscillation" not in out.incomplete:
        found = _periodic_swings(ww, osc, max(4 * sig_quiet, theta_osc))
        if found is not None:
            out.incomplete.add("oscillation")
            out.notes.append(f"repeated swings of period {found[1]} at {found[0]} left unlabelled")
    div = _covered(out, steps, "divergence")[:cut] | osc
    sm = _smooth(ww)
    t_bar = max(3 * sig, theta)
    best = math.inf
    for i in range(cut):
        if div[i]:
            best = math.inf  # a labelled stretch restarts the running best
            continue
        best = min(best, float(sm[i]))
        if sm[i] - best >= t_bar:
            out.incomplete.add("divergence")
            out.notes.append(f"unlabelled rise at {i}")
            break
