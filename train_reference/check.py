"""Check that generated logdirs still carry their labelled phenomena.

``python -m train_reference.check DIR`` reads every ``DIR/*/labels.json``, reads the runs back with
TensorBoard's ``EventAccumulator`` and applies one simple, robust test per label kind. The tests are
deliberately independent of tbplateau's detectors (they would prove nothing otherwise):

* plateau: with ``exact``, every value in the window is bit-for-bit the same; otherwise the drift
  across the window (median of its last third minus median of its first third) is at most a
  quarter of the change before the window (the largest distance from the window's first value
  to an earlier value), or within the window's own noise.
* divergence: the last finite value in the window is at least 10x the value before the onset, and
  at least 70% of the window's steps go up; a ``"rule": "collapse"`` label (one step to a worse
  level that stays) instead sits, on the median, a factor 1.22 above (a loss) or 5 points below
  (an accuracy) the median of the 3 values before it.
* nonfinite: the value at ``start_step`` is non-finite and every earlier value is finite.
* overfitting: the validation minimum is at ``start_step`` (within ``onset_range``), the validation
  loss ends clearly above it, and the training loss ends below where it was at ``start_step``.
* oscillation: on the log of the window (positive series), lightly smoothed and detrended by a
  one-period moving average, the autocorrelation at the labelled period beats 0.3 and beats its
  value at half the period.

Negatives (the generator only emits them with a margin, so these use the labelling thresholds):
nonfinite (all finite), divergence (the last quarter's median stays below the first quarter's
maximum), overfitting (the last 3 values' median ends within 2% of the minimum, or within 3x the
noise), plateau (the centred 5-point mean goes down on >= 60% of steps; emitted at >= 80%).
Oscillation negatives are not checked. ``reader`` expectations (resumed runs, cut files) are
checked on the raw bytes.

The evaluation set (``evalset/real``, logdirs whose ``labels.json`` has ``"evalset"``) is checked
by :func:`check_evalset`: its labels are derived again from the event files and the stored spec
(``train_reference.evalset.labelling``) and must equal the stored ones; each label is checked by a
test of its own rule (a divergence's values sit above the level before it, an oscillation's
differences alternate, a plateau passes the drift test above, ...).

Exit status 0 when everything passes, 1 otherwise; one line per check on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from train_reference.common import falling_share, read_run

Series = tuple[np.ndarray, np.ndarray]


def _window(series: Series, start: int, end: int | None) -> np.ndarray:
    steps, values = series
    hi = steps[-1] if end is None else end
    return values[(steps >= start) & (steps <= hi)]


def _noise(values: np.ndarray) -> float:
    """Robust noise scale: MAD of first differences / sqrt(2), scaled to a standard deviation."""
    d = np.diff(values[np.isfinite(values)])
    if len(d) == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / math.sqrt(2))


def check_plateau(label: dict[str, Any], series: Series) -> str | None:
    w = _window(series, label["start_step"], label["end_step"])
    if len(w) < 3:
        return f"window holds {len(w)} points"
    if label.get("exact"):
        return None if np.all(w == w[0]) else f"not constant: spread {np.ptp(w):.3g}"
    third = max(1, len(w) // 3)
    drift = abs(float(np.median(w[-third:]) - np.median(w[:third])))
    earlier = series[1][(series[0] < label["start_step"]) & np.isfinite(series[1])]
    before = float(np.max(np.abs(earlier - w[0]))) if len(earlier) else 0.0
    allowed = max(0.25 * before, 2.0 * _noise(w), 1e-12)
    return None if drift <= allowed else f"drift {drift:.3g} > allowed {allowed:.3g}"


def check_divergence(label: dict[str, Any], series: Series) -> str | None:
    steps, values = series
    w = _window(series, label["start_step"], label["end_step"])
    w = w[np.isfinite(w)]
    before = values[steps < label["start_step"]]
    if len(w) < 2 or len(before) == 0:
        return "window too short"
    ref = float(before[-1])
    rising = float(np.mean(np.diff(w) > 0))
    if w[-1] < 10 * ref:
        return f"last finite value {w[-1]:.3g} < 10x the pre-onset {ref:.3g}"
    return None if rising >= 0.7 else f"only {rising:.0%} of steps rise"


def check_nonfinite(label: dict[str, Any], series: Series) -> str | None:
    steps, values = series
    at = values[steps == label["start_step"]]
    if len(at) == 0 or np.isfinite(at[0]):
        return f"value at step {label['start_step']} is finite"
    if not np.all(np.isfinite(values[steps < label["start_step"]])):
        return "a non-finite value comes earlier"
    return None


def check_overfitting(label: dict[str, Any], val: Series, train: Series) -> str | None:
    steps, values = val
    lo, hi = label.get("onset_range") or [label["start_step"]] * 2
    best = int(steps[int(np.argmin(values))])
    if not lo <= best <= hi:
        return f"validation minimum at {best}, outside [{lo}, {hi}]"
    rise = float(values[-1] - values.min())
    if rise < max(3 * _noise(values), 0.02 * abs(float(values.min()))):
        return f"validation ends only {rise:.3g} above its minimum"
    t = _window(train, label["start_step"], None)
    if not float(np.median(t[-3:])) < float(t[0]):
        return "training loss does not keep falling"
    return None


def check_oscillation(label: dict[str, Any], series: Series) -> str | None:
    steps, values = series
    keep = (steps >= label["start_step"]) & (steps <= (label["end_step"] or steps[-1]))
    s, w = steps[keep], values[keep]
    spacing = int(np.median(np.diff(s)))
    lag = max(1, round(label["period"] / spacing))
    if len(w) < 2 * lag + 2:
        return "window shorter than two periods"
    if np.all(w > 0):
        w = np.log(w)  # loss swings are multiplicative; one huge first cycle must not dominate
    k = max(1, lag // 10)
    w = np.convolve(w, np.ones(k) / k, mode="valid")  # per-step batch noise off
    trend = np.convolve(w, np.ones(lag) / lag, mode="valid")
    r = w[lag // 2 : lag // 2 + len(trend)] - trend

    def acf(k: int) -> float:
        a, b = r[:-k] - r[:-k].mean(), r[k:] - r[k:].mean()
        return float((a * b).sum() / math.sqrt((a * a).sum() * (b * b).sum() + 1e-300))

    full, half = acf(lag), acf(max(1, lag // 2))
    return (
        None if full > 0.3 and full > half else f"acf(period) {full:.2f}, acf(period/2) {half:.2f}"
    )


def check_negative(kind: str, series: Series) -> str | None:
    values = series[1]
    if kind == "nonfinite":
        return None if np.all(np.isfinite(values)) else "non-finite value present"
    finite = values[np.isfinite(values)]
    quarter = max(1, len(finite) // 4)
    if kind == "divergence":
        first_max = float(finite[:quarter].max())
        last_median = float(np.median(finite[-quarter:]))
        return (
            None
            if last_median <= first_max
            else f"tail median {last_median:.3g} above the head's max {first_max:.3g}"
        )
    if kind == "overfitting":
        low = float(finite.min())
        tail = float(np.median(finite[-3:]))
        limit = low + max(0.02 * abs(low), 3 * _noise(finite), 1e-12)
        return None if tail <= limit else f"tail {tail:.3g} rose above {limit:.3g}"
    if kind == "plateau":
        down = falling_share(finite)
        return None if down >= 0.6 else f"its running mean goes down on only {down:.0%} of steps"
    return None  # oscillation negatives: not checked


def _series(root: Path, run: str, tag: str, cache: dict[str, dict[str, Series]]) -> Series:
    if run not in cache:
        cache[run] = read_run(root / run)
    if tag not in cache[run]:
        raise KeyError(f"{run}: no scalar tag {tag!r} (has {sorted(cache[run])})")
    return cache[run][tag]


def _records(path: Path) -> tuple[int, int]:
    """(complete TFRecords, bytes of a partial trailing record) of an event file."""
    data = path.read_bytes()
    pos = count = 0
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos : pos + 8], "little")
        if pos + 16 + length > len(data):
            break
        pos, count = pos + 16 + length, count + 1
    return count, len(data) - pos


def check_reader(root: Path, expect: dict[str, Any]) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for run in expect.get("resumed_runs", []):
        files = sorted((root / run).glob("*tfevents*"))
        problem = None
        if len(files) != expect["event_files_per_run"]:
            problem = f"{len(files)} event files"
        else:
            merged = read_run(root / run)["epoch_loss"][0]
            lo, hi = expect["repeated_steps"]
            if not np.array_equal(merged, np.unique(merged)) or not {lo, hi} <= set(
                merged.tolist()
            ):
                problem = "merged steps not strictly increasing or repeated range missing"
        out.append((f"reader resumed {run}", problem))
    if "truncated_file" in expect:
        count, partial = _records(root / expect["truncated_file"])
        problem = None
        if count != expect["complete_records"] or partial != expect["truncated_record_bytes_kept"]:
            problem = f"{count} complete records, {partial} trailing bytes"
        out.append((f"reader truncated {expect['truncated_file']}", problem))
    return out


def _shift_check(label: dict[str, Any], series: Series, goal: str) -> str | None:
    """A divergence by ``collapse``/``growth``: from the onset to the label's end the values are
    worse than the median of the 3 before by more than a factor 1.22 (a loss) or 5 points (an
    accuracy), on the median; by ``spike``: at least 3 values of the window are."""
    steps, values = series
    before = values[steps < label["start_step"]][-3:]
    w = _window(series, label["start_step"], label["end_step"])
    w = w[np.isfinite(w)]
    if len(before) == 0 or len(w) == 0:
        return "nothing before the onset or in the window"
    if label["rule"] == "spike":  # the third-worst point of the window stands for the median
        w = np.sort(w)[:3] if goal == "max" else np.sort(w)[-3:]
        if len(w) < 3:
            return "a spike of fewer than 3 points"
    ref, mid = float(np.median(before)), float(np.median(w))
    if label["rule"] == "spike":
        mid = float(w[-1] if goal == "max" else w[0])
    if goal == "max":
        return None if mid <= ref - 0.05 else f"median {mid:.3g} not 5 points below {ref:.3g}"
    if ref > 0:
        return None if mid >= 1.22 * ref else f"median {mid:.3g} < 1.22x the level {ref:.3g}"
    return None if mid > ref else f"median {mid:.3g} not above {ref:.3g}"


def _alternation_check(label: dict[str, Any], series: Series, goal: str) -> str | None:
    """An oscillation by ``alternation``: inside the window successive differences change sign on
    >= 70% of steps and the median swing is >= 5% of the level (1.5 points for an accuracy)."""
    start = (label.get("onset_range") or [label["start_step"]] * 2)[1]  # the alternation's start
    w = _window(series, start, label["end_step"])
    w = w[np.isfinite(w)]
    if goal == "min" and len(w) and np.all(w > 0):
        w = np.log(w)
    d = np.diff(w)
    if len(d) < 8:
        return f"window of {len(d)} steps"
    flips = float(np.mean(d[:-1] * d[1:] < 0))
    swing = float(np.median(np.abs(d)))
    bar = 0.015 if goal == "max" else 0.05
    if flips < 0.7 or swing < bar:
        return f"sign changes {flips:.0%}, median swing {swing:.3g}"
    return None


def check_evalset(root: Path, doc: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The evaluation-set logdirs: labels derived again equal the stored ones, and each label's
    phenomenon passes its simple check; resumed runs hold two sessions' files."""
    from train_reference.evalset.labelling import Layout, derive, spec_from_json

    spec = spec_from_json(doc["spec"])
    layout = Layout.from_json(doc["layout"])
    results: list[tuple[str, str | None]] = []
    labels, complete, _notes = derive(root, spec, layout, doc["sizes"])
    same = labels == doc["labels"] and complete == doc["complete"]
    results.append(
        (f"{root.name}: labels derived again from the event files", None if same else "differ")
    )
    goals = {v: ("max" if k.endswith("accuracy") else "min") for k, v in layout.series.items()}
    cache: dict[str, dict[str, Series]] = {}
    for label in doc["labels"]:
        name = f"{root.name}/{label['run']} {label['kind']} {label['tags']} @{label['start_step']}"
        series = _series(root, label["run"], label["tags"][0], cache)
        goal = goals.get((label["run"], label["tags"][0]), "min")
        rule = label["rule"]
        if rule == "overfit_onset":
            train = _series(root, label.get("other_run", label["run"]), label["tags"][1], cache)
            problem = check_overfitting(label, series, train)
        elif rule in ("collapse", "growth", "spike"):
            problem = _shift_check(label, series, goal)
        elif rule == "alternation":
            problem = _alternation_check(label, series, goal)
        elif rule == "first_nonfinite":
            problem = check_nonfinite(label, series)
        else:  # frozen, flat, settled
            problem = check_plateau(label, series)
        results.append((name, problem))
    for entry in doc["complete"]:
        found = (root / entry["run"]).is_dir() and any((root / entry["run"]).glob("*tfevents*"))
        results.append(
            (
                f"{root.name}/{entry['run']} {entry['tags']} is a series",
                None if found else "missing",
            )
        )
    for run in doc.get("resumed", {}).get("runs", []):
        files = sorted((root / run).glob("*tfevents*"))
        problem = None if len(files) >= 2 else f"{len(files)} event file(s)"
        results.append((f"{root.name}/{run}: written by two sessions", problem))
    return results


def check_logdir(root: Path) -> list[tuple[str, str | None]]:
    """Every check of one logdir as ``(description, problem or None)``."""
    doc = json.loads((root / "labels.json").read_text())
    if isinstance(doc, dict) and doc.get("evalset"):
        return check_evalset(root, doc)
    labels = doc["labels"] if isinstance(doc, dict) else doc
    cache: dict[str, dict[str, Series]] = {}
    results: list[tuple[str, str | None]] = []
    for label in labels:
        name = f"{root.name}/{label['run']} {label['kind']} {label['tags']} @{label['start_step']}"
        try:
            if not any((root / label["run"]).glob("*tfevents*")):
                raise KeyError(f"run {label['run']!r} holds no event file")
            series = _series(root, label["run"], label["tags"][0], cache)
            kind = label["kind"]
            if kind == "overfitting":
                train = _series(root, label.get("other_run", label["run"]), label["tags"][1], cache)
                problem = check_overfitting(label, series, train)
            elif kind == "divergence" and label.get("rule") == "collapse":
                goal = "max" if "accuracy" in label["tags"][0] else "min"
                problem = _shift_check(label, series, goal)
            else:
                problem = {
                    "plateau": check_plateau,
                    "divergence": check_divergence,
                    "nonfinite": check_nonfinite,
                    "oscillation": check_oscillation,
                }[kind](label, series)
        except KeyError as exc:
            problem = str(exc)
        results.append((name, problem))
    for neg in doc.get("negatives", []) if isinstance(doc, dict) else []:
        for tag in neg["tags"]:
            for kind in neg["kinds"]:
                name = f"{root.name}/{neg['run']} not-{kind} [{tag}]"
                try:
                    problem = check_negative(kind, _series(root, neg["run"], tag, cache))
                except KeyError as exc:
                    problem = str(exc)
                results.append((name, problem))
    if isinstance(doc, dict) and doc.get("reader"):
        results += check_reader(root, doc["reader"])
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m train_reference.check",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("dirs", nargs="+", type=Path, help="folders holding generated logdirs")
    args = parser.parse_args(argv)
    failed = passed = 0
    for top in args.dirs:
        logdirs = sorted(p.parent for p in top.glob("*/labels.json"))
        if (top / "labels.json").exists():
            logdirs = [top]
        if not logdirs:
            print(f"{top}: no labels.json found", file=sys.stderr)
            return 2
        for root in logdirs:
            for name, problem in check_logdir(root):
                if problem is None:
                    passed += 1
                    print(f"PASS {name}")
                else:
                    failed += 1
                    print(f"FAIL {name}: {problem}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
