"""What the report says in words: a verdict per series and advice per finding.

:func:`build_view` turns a :class:`~tbplateau.analysis.Report` (and the curves behind
it) into a :class:`ReportView`, the one source of the terminal, Markdown and HTML
layouts. Advice quotes the run's own numbers: the best value and its step, how long
the run went on without beating it, what Keras and PyTorch ``ReduceLROnPlateau`` and
``EarlyStopping`` and Prechelt's criteria would have done on the logged curve, the
logged learning rate when there is one, and a forecast of what more steps would
bring (:mod:`~tbplateau.explain.forecast`). Without the curves the advice falls back
to the numbers in the report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tbplateau import baselines
from tbplateau.curves import Curves
from tbplateau.explain.forecast import Forecast, forecast
from tbplateau.findings import Finding, FindingKind, Goal, finding_label
from tbplateau.reader.model import ReadIssue
from tbplateau.report import Report, SeriesReport
from tbplateau.series import Series

__all__ = [
    "Advice",
    "ReportView",
    "RunView",
    "SeriesView",
    "build_view",
    "fmt",
    "fmt_step",
    "verdict",
]

RANK = {
    FindingKind.NONFINITE: 0,
    FindingKind.DIVERGENCE: 1,
    FindingKind.OVERFITTING: 2,
    FindingKind.OSCILLATION: 3,
    FindingKind.PLATEAU: 4,
}
WEAK = 0.6
"""Findings with a confidence below this are marked "(weak)" in verdicts."""

_LR = re.compile(r"(^|[/_\-. ])(lr|learning[_ -]?rate)($|[/_\-. ])", re.IGNORECASE)

TRY = {
    "plateau": (
        "ReduceLROnPlateau or an LR schedule (step or cosine decay)",
        "a different optimiser (Adam/AdamW, or SGD with momentum)",
        "more capacity (wider or deeper) if the training metric is flat too",
    ),
    "flat line": (
        "check that the LR is not zero and that the optimiser steps",
        "check for frozen layers (requires_grad / trainable) and dead ReLUs "
        "(LeakyReLU, better initialisation, a lower LR)",
        "check the labels and class balance",
    ),
    "divergence": (
        "lower the LR (3-10×)",
        "an LR warm-up",
        "gradient clipping (clipnorm=1.0, clip_grad_norm_)",
    ),
    "non-finite": (
        "lower the LR and clip gradients",
        "guard log(0) and divisions in the loss (log(x + eps), clamp probabilities)",
        "with mixed precision: dynamic loss scaling or bfloat16",
        "find the first bad op with tf.debugging.enable_check_numerics / "
        "torch.autograd.detect_anomaly",
    ),
    "overfitting": (
        "early stopping at the best step (EarlyStopping(restore_best_weights=True), "
        "or keep that checkpoint)",
        "regularisation (weight decay) and dropout",
        "data augmentation or more data",
    ),
    "oscillation": ("a lower LR", "a larger batch"),
}
"""What to try, by finding label."""


# -- formatting -------------------------------------------------------------------


def fmt(value: float | None) -> str:
    """A number for people: 4 significant digits, thousands separators, ``nan``/``inf``.

    >>> fmt(0.41234), fmt(12345.6), fmt(3e-7), fmt(float("nan")), fmt(None)
    ('0.4123', '12,346', '3e-07', 'nan', '-')
    """
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


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def unit_of(tag: str) -> str:
    """``epoch`` for Keras' ``epoch_*`` tags, else ``step``."""
    return "epoch" if tag.lower().startswith("epoch") else "step"


# -- the view ---------------------------------------------------------------------


@dataclass(frozen=True)
class Advice:
    """Advice on one finding (or, with ``kind`` ``None``, the outlook of an improving
    series): a ``title``, ``facts`` with the run's numbers and what to ``try``."""

    run: str
    tag: str
    kind: FindingKind | None
    label: str
    title: str
    facts: tuple[str, ...]
    tries: tuple[str, ...]
    confidence: float | None
    start_step: int | None


@dataclass(frozen=True)
class SeriesView:
    """One row of a run's table: the summary, the findings drawn on it (its own and
    the overfitting findings whose validation series it is), the verdict phrases and
    the curve (``None`` when the points are not available)."""

    run: str
    summary: SeriesReport
    findings: tuple[Finding, ...]
    verdict: tuple[tuple[FindingKind | None, str], ...]
    curve: Series | None
    unit: str

    @property
    def tag(self) -> str:
        return self.summary.tag


@dataclass(frozen=True)
class RunView:
    run: str
    read_issues: tuple[ReadIssue, ...]
    series: tuple[SeriesView, ...]
    advice: tuple[Advice, ...]


@dataclass(frozen=True)
class ReportView:
    logdir: str
    runs: tuple[RunView, ...]
    series: int
    findings: int
    read_issues: int
    has_curves: bool
    kinds: tuple[tuple[str, int], ...]

    def headline(self) -> str:
        """``4 runs, 7 series, 6 findings, 0 read issues``."""
        return (
            f"{_plural(len(self.runs), 'run')}, {self.series:,} series, "
            f"{_plural(self.findings, 'finding')}, {_plural(self.read_issues, 'read issue')}"
        )


def _phrase(f: Finding, unit: str) -> str:
    s = f"{unit} {f.start_step:,}"
    e = None if f.end_step is None else f"{f.end_step:,}"
    label = finding_label(f)
    if f.kind is FindingKind.PLATEAU:
        text = f"{label} since {s}" if e is None else f"{label} {s}–{e}"
        if label == "plateau":
            text = "plateaued" + text[len("plateau") :]
    elif f.kind is FindingKind.DIVERGENCE:
        text = f"diverged at {s}" + ("" if e is None else f", recovered by {e}")
    elif f.kind is FindingKind.NONFINITE:
        text = f"non-finite from {s}" + ("" if e is None else f" to {e}")
    elif f.kind is FindingKind.OVERFITTING:
        text = f"overfitting since {s}"
    else:
        text = f"oscillating since {s}" if e is None else f"oscillated {s}–{e}"
    return text + (" (weak)" if f.confidence < WEAK else "")


def verdict(
    summary: SeriesReport, findings: Sequence[Finding], *, most: int = 3
) -> tuple[tuple[FindingKind | None, str], ...]:
    """The verdict phrases of a series, the present state first.

    Findings lasting to the end come first (worst kind first), then those that ended,
    in time order; without findings: ``improving`` when the best value is in the last
    fifth of the steps, ``no finding`` otherwise, ``not judged (no goal)`` for a series
    that is not a metric.
    """
    unit = unit_of(summary.tag)
    if not findings:
        if summary.goal is None:
            return ((None, "not judged (no goal)"),)
        if summary.points < 4 or summary.best_step is None:
            return ((None, "too short to judge"),)
        first, last = summary.first_step or 0, summary.last_step or 0
        if last > first and summary.best_step >= first + 0.8 * (last - first):
            return ((None, "improving"),)
        return ((None, f"no finding (best at {unit} {summary.best_step:,})"),)
    ongoing = sorted((f for f in findings if f.end_step is None), key=lambda f: RANK[f.kind])
    ended = sorted((f for f in findings if f.end_step is not None), key=lambda f: f.start_step)
    ordered = ongoing + ended
    out: list[tuple[FindingKind | None, str]] = [(f.kind, _phrase(f, unit)) for f in ordered]
    if len(out) > most:
        out = [*out[: most - 1], (None, f"+{len(ordered) - most + 1} more")]
    return tuple(out)


def _at(series: Series, step: int) -> tuple[int, float] | None:
    """The last finite point at or before ``step`` (else the first finite one)."""
    finite = np.isfinite(series.values)
    if not finite.any():
        return None
    steps = series.steps[finite]
    vals = series.values[finite]
    i = int(np.searchsorted(steps, step, side="right")) - 1
    i = max(i, 0)
    return int(steps[i]), float(vals[i])


def _window(series: Series, start: int, end: int | None) -> np.ndarray:
    m = series.steps >= start
    if end is not None:
        m &= series.steps <= end
    v = series.values[m]
    return v[np.isfinite(v)]


def _lr_series(curves: Curves, run: str) -> Series | None:
    for (r, tag), s in curves.items():
        if r == run and _LR.search(tag) and len(s):
            return s
    return None


def _lr_note(lr: Series | None, start: int, end: int | None) -> str | None:
    if lr is None:
        return None
    w = _window(lr, start, end)
    at = _at(lr, start)
    if at is None:
        return None
    if w.size == 0:
        return f"The logged {lr.tag} was {fmt(at[1])} at {fmt_step(start)}."
    lo, hi = float(w.min()), float(w.max())
    if hi == 0.0:
        return f"The logged {lr.tag} is 0 there: nothing can change."
    if lo == hi:
        return f"The logged {lr.tag} stayed at {fmt(lo)} throughout."
    return f"The logged {lr.tag} went from {fmt(float(w[0]))} to {fmt(float(w[-1]))} over it."


def _consecutive(series: Series) -> bool:
    d = np.diff(series.steps)
    return bool(d.size) and float(np.median(d)) == 1.0


def _patience_word(series: Series) -> str:
    return "" if _consecutive(series) else " logged points"


def _early_stopping(series: Series, goal: Goal, unit: str) -> str | None:
    last = int(series.steps[-1])
    parts = []
    for patience in (10, 20):
        found = baselines.keras_early_stopping(series, goal, patience=patience)
        if not found:
            parts.append(f"would not have stopped with patience={patience}")
            continue
        fired = int(found[0].detail["fired_step"])
        saving = f"saving {_plural(last - fired, unit)}" if fired < last else "the last one"
        parts.append(f"would have stopped at {unit} {fired:,} with patience={patience} ({saving})")
    where = "" if _consecutive(series) else " (patience counts logged points)"
    return f"Keras EarlyStopping {parts[0]}, and {parts[1]}{where}."


def _reduce_lr(series: Series, goal: Goal, unit: str, start: int) -> str | None:
    k = baselines.keras_reduce_lr_on_plateau(series, goal, patience=10)
    t = baselines.torch_reduce_lr_on_plateau(series, goal, patience=10)
    if not k and not t:
        return (
            "ReduceLROnPlateau(factor=0.1, patience=10) would never have cut the LR: "
            "the curve kept making improvements larger than its threshold."
        )
    kf = min(int(f.detail["fired_step"]) for f in k) if k else None
    tf = min(int(f.detail["fired_step"]) for f in t) if t else None
    cuts = sum(int(f.detail["actions"]) for f in k)
    first = kf if kf is not None else tf
    assert first is not None
    text = (
        f"ReduceLROnPlateau(factor=0.1, patience=10{_patience_word(series)}) "
        f"would first have cut the LR at {unit} {first:,}"
    )
    if kf is not None and tf is not None and tf != kf:
        text += f" (Keras; PyTorch at {unit} {tf:,})"
    if cuts > 1:
        text += f", and {cuts} times by the end (Keras)"
    if first < start:
        text += f", before this plateau began at {unit} {start:,}"
    return text + "."


def _outlook(fc: Forecast | None, unit: str) -> str | None:
    if fc is None:
        return None
    band = f"{fmt(fc.low)}–{fmt(fc.high)}"
    head = (
        f"More {unit}s: a fitted {fc.model} puts it at {fmt(fc.value)} (95% {band}) "
        f"at {unit} {fc.step:,}, against {fmt(fc.now)} now"
    )
    if fc.advice == "keep training":
        tail = f"a gain of about {fmt(fc.gain)}: keep training."
    elif fc.advice == "stop":
        tail = f"within the noise ({fc.noise:.2g}): more of the same will not help."
    else:
        tail = "the gain is uncertain."
    return f"{head}; {tail}"


def _finding_advice(
    run: str,
    f: Finding,
    summary: SeriesReport | None,
    curves: Curves,
    siblings: Sequence[Finding],
) -> Advice:
    tag = f.tags[0]
    unit = unit_of(tag)
    series = curves.get((run, tag))
    goal = summary.goal if summary is not None else None
    label = finding_label(f)
    facts: list[str] = []
    lr = _lr_series(curves, run)
    start = f"{unit} {f.start_step:,}"
    till = "the end" if f.end_step is None else f"{unit} {f.end_step:,}"
    if f.kind is FindingKind.PLATEAU:
        title = f"{label} since {start}" if f.end_step is None else f"{label} {start} to {till}"
        if series is not None:
            w = _window(series, f.start_step, f.end_step)
            n_pts = int(w.size)
            share = n_pts / max(1, len(series))
            if f.detail.get("constant") and w.size:
                facts.append(
                    f"{tag} has been exactly {fmt(float(w[0]))} from {start} to {till} "
                    f"({_plural(n_pts, 'point')}): the weights stopped changing (an LR of zero, "
                    "frozen layers, dead ReLUs) or the model predicts one class (an accuracy "
                    "equal to the class prior)."
                )
            elif w.size:
                lo, hi = np.quantile(w, [0.1, 0.9])
                facts.append(
                    f"{tag} stayed between {fmt(float(lo))} and {fmt(float(hi))} (median "
                    f"{fmt(float(np.median(w)))}) from {start} to {till}: "
                    f"{_plural(n_pts, 'point')}, {share:.0%} of the run, with no progress "
                    "beyond the noise."
                )
            if summary is not None and summary.best_step is not None:
                facts.append(f"Best {fmt(summary.best_value)} at {unit} {summary.best_step:,}.")
            if f.end_step is not None:
                later = series.values[series.steps > f.end_step]
                later = later[np.isfinite(later)]
                if later.size and w.size:
                    up = float(np.median(later[: max(3, later.size // 4)])) - float(np.median(w))
                    better = up < 0 if goal == "min" else up > 0
                    facts.append(
                        f"After {till} it "
                        + (
                            "improved again (an LR drop or a schedule step ends a plateau "
                            "like this)."
                            if better
                            else "got worse."
                        )
                    )
            elif n_pts <= 10:
                facts.append(
                    f"Only {_plural(n_pts, 'point')} since the onset: ReduceLROnPlateau and "
                    "EarlyStopping with patience=10 could not have acted yet."
                )
            else:
                if not f.detail.get("constant"):
                    note = _reduce_lr(series, goal, unit, f.start_step)
                    if note:
                        facts.append(note)
                stop = _early_stopping(series, goal, unit)
                if stop:
                    facts.append(stop)
                if not f.detail.get("constant"):
                    note = _outlook(forecast(series.steps, series.values, goal), unit)
                    if note:
                        facts.append(note)
            note = _lr_note(lr, f.start_step, f.end_step)
            if note:
                facts.append(note)
    elif f.kind is FindingKind.DIVERGENCE:
        title = f"diverged at {start}" + ("" if f.end_step is None else f", recovered by {till}")
        if series is not None:
            at = _at(series, f.start_step)
            w = _window(series, f.start_step, f.end_step)
            if at is not None and w.size:
                worst = float(w.max() if goal != "max" else w.min())
                ratio = ""
                if at[1] != 0 and worst / at[1] > 1.5 and goal != "max":
                    r = worst / at[1]
                    ratio = (
                        f" (×{r:.1e})"
                        if r >= 1e4
                        else f" (×{r:,.0f})"
                        if r >= 10
                        else f" (×{r:.1f})"
                    )
                facts.append(
                    f"{tag} turned worse at {start}: from {fmt(at[1])} it went to "
                    f"{fmt(worst)}{ratio} by {till}."
                )
            if summary is not None and summary.best_step is not None:
                facts.append(
                    f"The best value, {fmt(summary.best_value)}, was at {unit} "
                    f"{summary.best_step:,}: keep that checkpoint."
                )
            nf = [s for s in siblings if s.kind is FindingKind.NONFINITE]
            if nf and nf[0].start_step >= f.start_step:
                facts.append(f"It then went non-finite at {unit} {nf[0].start_step:,}.")
            if f.detail.get("explosive"):
                facts.append("It exploded (more than 100×): a classic sign of an LR too high.")
            note = _lr_note(lr, f.start_step, f.end_step)
            if note:
                facts.append(note)
    elif f.kind is FindingKind.NONFINITE:
        title = f"non-finite from {start}" + ("" if f.end_step is None else f" to {till}")
        what = {"nan": "NaN", "inf": "+inf", "-inf": "-inf"}.get(
            str(f.detail.get("first_value", "nan")), "non-finite"
        )
        count = int(f.detail.get("nonfinite_points", 0))
        stretch = int(f.detail.get("stretches", 1))
        text = f"{tag} is {what} from {start}"
        if f.end_step is None:
            text += f" to the end ({_plural(count, 'point')})"
        else:
            text += f": {_plural(count, 'point')} in {_plural(stretch, 'stretch')[:-1]}"
            text += "es" if stretch != 1 else ""
            text += f", finite again after {till}"
        if series is not None:
            before = series.values[series.steps < f.start_step]
            fin = np.flatnonzero(np.isfinite(before))
            if fin.size:
                i = int(fin[-1])
                text += f"; the last finite value was {fmt(float(before[i]))} at {unit} "
                text += f"{int(series.steps[i]):,}"
        facts.append(text + ".")
        div = [s for s in siblings if s.kind is FindingKind.DIVERGENCE]
        if div and div[0].start_step < f.start_step:
            facts.append(
                f"It diverged first, at {unit} {div[0].start_step:,}: the values blew up before "
                "they overflowed, which points at the LR or missing gradient clipping."
            )
        else:
            facts.append(
                "Nothing diverged first: a sudden NaN points at log(0) or a division by zero "
                "in the loss, a bad batch, or a mixed-precision overflow."
            )
        note = _lr_note(lr, f.start_step, f.start_step)
        if note:
            facts.append(note)
    elif f.kind is FindingKind.OVERFITTING:
        title = f"overfitting since {start}"
        vrun = str(f.detail.get("validation_run", run))
        trun = str(f.detail.get("training_run", run))
        ttag = f.tags[-1]
        train = curves.get((trun, ttag))
        if series is not None:
            at = _at(series, f.start_step)
            after = series.values[series.steps > f.start_step]
            if at is not None:
                n_after = int(np.count_nonzero(series.steps > f.start_step))
                rest = after[np.isfinite(after)]
                beat = rest[rest < at[1]] if goal == "min" else rest[rest > at[1]]
                still = "did not improve it"
                if beat.size:
                    top = float(beat.min() if goal == "min" else beat.max())
                    still = f"improved it only to {fmt(top)}"
                last = fmt(float(series.values[-1]))
                facts.append(
                    f"{vrun} {tag} was best at {start} ({fmt(at[1])}); the "
                    f"{_plural(n_after, unit)} after it {still} (last {last})"
                    + (
                        f", while {trun} {ttag} kept improving"
                        + _train_gain(train, f.start_step)
                        + "."
                        if train is not None
                        else "."
                    )
                )
            stop = _early_stopping(series, goal, unit)
            if stop:
                facts.append(stop)
            pre = []
            for name, rule in (("GL5", baselines.prechelt_gl), ("UP3", baselines.prechelt_up)):
                found = rule(series, goal)
                if found:
                    pre.append(f"{name} at {unit} {int(found[0].detail['fired_step']):,}")
            if pre:
                facts.append("Prechelt's criteria would have stopped training: " + ", ".join(pre))
                facts[-1] += "."
    else:
        title = f"oscillating since {start}" if f.end_step is None else f"oscillated {start}–{till}"
        if series is not None:
            w = _window(series, f.start_step, f.end_step)
            if w.size > 2:
                amp = float(np.median(np.abs(np.diff(w)))) / 2.0
                times = float(f.detail.get("ratio", 0.0))
                facts.append(
                    f"{tag} swings by about ±{fmt(amp)} around {fmt(float(np.median(w)))} "
                    f"from {start} to {till}"
                    + (f", {times:.1f}× the swings before it." if times else ".")
                )
            note = _lr_note(lr, f.start_step, f.end_step)
            if note:
                facts.append(note)
    if series is None and not facts:
        facts.append(f"{label} of {tag} from {start} to {till} (the curve was not available).")
    return Advice(
        run, tag, f.kind, label, title, tuple(facts), TRY[label], f.confidence, f.start_step
    )


def _train_gain(train: Series | None, step: int) -> str:
    if train is None:
        return ""
    at = _at(train, step)
    fin = train.values[np.isfinite(train.values)]
    if at is None or not fin.size:
        return ""
    return f" ({fmt(at[1])} → {fmt(float(fin[-1]))})"


def _improving_advice(run: str, summary: SeriesReport, series: Series) -> Advice | None:
    unit = unit_of(summary.tag)
    fc = forecast(series.steps, series.values, summary.goal)
    note = _outlook(fc, unit)
    if fc is None or note is None:
        return None
    title = {
        "keep training": "still improving",
        "stop": "levelling off",
        "uncertain": "improving",
    }[fc.advice]
    facts = (f"Best {fmt(summary.best_value)} at {unit} {fmt_step(summary.best_step)}.", note)
    return Advice(run, summary.tag, None, "improving", title, facts, (), None, None)


def restart_note(run: RunView) -> str | None:
    """One line on the points replaced by restarts in ``run``, or ``None``."""
    hit = [(s.tag, s.summary.replaced_points) for s in run.series if s.summary.replaced_points]
    if not hit:
        return None
    total = sum(n for _, n in hit)
    if len(hit) <= 3:
        where = ", ".join(f"{n:,} in {tag}" for tag, n in hit)
    else:
        where = f"in {len(hit)} series"
    return (
        f"restart: {_plural(total, 'point')} replaced ({where}); the newest write of a step wins."
    )


def _merge(advice: list[Advice]) -> list[Advice]:
    """One advice for the findings of the same label and steps on several series."""
    out: list[Advice] = []
    groups: dict[tuple[str, int | None, str], list[Advice]] = {}
    for a in advice:
        if a.kind is None:
            out.append(a)
            continue
        key = (a.label, a.start_step, a.title)
        if key in groups:
            groups[key].append(a)
            continue
        groups[key] = [a]
        out.append(a)
    merged = []
    for a in out:
        group = groups.get((a.label, a.start_step, a.title), [a]) if a.kind is not None else [a]
        if len(group) == 1:
            merged.append(a)
            continue
        others = ", ".join(g.tag for g in group[1:])
        facts = (
            *a.facts,
            f"The same {a.label} (same steps) in {len(group) - 1} more series: {others}.",
        )
        merged.append(
            Advice(
                a.run,
                a.tag,
                a.kind,
                a.label,
                a.title,
                facts,
                a.tries,
                max(g.confidence or 0.0 for g in group),
                a.start_step,
            )
        )
    return merged


def build_view(report: Report, curves: Curves) -> ReportView:
    """The words and numbers every layout shows (see the module docstring)."""
    runs = []
    kinds: dict[str, int] = {}
    n_series = 0
    for run in report.runs:
        by_tag: dict[str, list[Finding]] = {s.tag: list(s.findings) for s in run.series}
        for f in run.findings:
            vrun = f.detail.get("validation_run", run.run)
            if vrun == run.run and f.tags and f.tags[0] in by_tag:
                by_tag[f.tags[0]].append(f)
        rows = []
        advice: list[Advice] = []
        shown: set[str] = set()
        summaries = {s.tag: s for s in run.series}
        for s in run.series:
            found = tuple(sorted(by_tag[s.tag], key=lambda f: f.sort_key))
            curve = curves.get((run.run, s.tag))
            rows.append(SeriesView(run.run, s, found, verdict(s, found), curve, unit_of(s.tag)))
            n_series += 1
            for f in found:
                a = _finding_advice(run.run, f, s, curves, found)
                kinds[a.label] = kinds.get(a.label, 0) + 1
                if a.label in shown:
                    a = Advice(
                        a.run,
                        a.tag,
                        a.kind,
                        a.label,
                        a.title,
                        a.facts,
                        (),
                        a.confidence,
                        a.start_step,
                    )
                shown.add(a.label)
                advice.append(a)
            if not found and curve is not None and rows[-1].verdict[0][1] == "improving":
                imp = _improving_advice(run.run, s, curve)
                if imp is not None:
                    advice.append(imp)
                    rows[-1] = SeriesView(
                        run.run, s, found, ((None, imp.title),), curve, unit_of(s.tag)
                    )
        for f in run.findings:  # run-level findings not drawn on a series of this run
            vrun = f.detail.get("validation_run", run.run)
            if vrun == run.run and f.tags and f.tags[0] in by_tag:
                continue
            a = _finding_advice(run.run, f, summaries.get(f.tags[0]), curves, ())
            kinds[a.label] = kinds.get(a.label, 0) + 1
            advice.append(a)
        runs.append(RunView(run.run, run.read_issues, tuple(rows), tuple(_merge(advice))))
    n_findings = sum(1 for _ in report.findings())
    n_issues = sum(len(r.read_issues) for r in report.runs)
    order = ["non-finite", "divergence", "overfitting", "oscillation", "plateau", "flat line"]
    ordered_kinds = tuple((k, kinds[k]) for k in order if k in kinds)
    return ReportView(
        report.logdir, tuple(runs), n_series, n_findings, n_issues, bool(curves), ordered_kinds
    )
