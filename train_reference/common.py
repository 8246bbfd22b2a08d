"""Shared pieces of the reference-run generator: labels, reading back what was logged, onset rules.

Nothing here imports a training framework, so :mod:`train_reference.check` can use it with only
``tensorboard`` and ``numpy`` installed.

Ground-truth rules
------------------
Every label is derived from what the generating script did (the epoch where it changed the learning
rate, the epoch it spiked it, the first step whose logged value is non-finite) or, where the
phenomenon is a property of the curve the script produced (the epoch of best validation loss, the
epoch after which a metric never changes again), from the logged curve itself by one of the pure
functions below.  No label is set by eye.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "FLAT_WHY",
    "KINDS",
    "Label",
    "Logdir",
    "Negative",
    "falling_share",
    "first_nonfinite",
    "flat_onset",
    "frozen_from",
    "loss_story",
    "overfit_onset",
    "read_run",
    "reset_dir",
    "settled_from",
    "settled_label",
]

KINDS = ("plateau", "divergence", "nonfinite", "overfitting", "oscillation")
LABELS_SCHEMA = "tbplateau.train_reference.labels/1"


@dataclass(frozen=True)
class Label:
    """One phenomenon the script caused, in the shape ``labels.json`` stores it.

    ``tags`` is ``[validation_tag, training_tag]`` for overfitting (the two may live in different
    runs: then ``run`` is the validation run and ``other_run`` the training run). ``exact`` marks a
    plateau whose values are bit-for-bit constant; ``period`` (steps) goes with an oscillation.
    ``rule`` (see below) says how a divergence shows.
    """

    run: str
    kind: str
    tags: list[str]
    start_step: int
    end_step: int | None
    why: str
    onset_range: list[int] | None = None
    other_run: str | None = None
    exact: bool = False
    period: int | None = None
    rule: str | None = None
    """How a divergence shows, when not by growth (``"collapse"``: one step to a worse level
    that stays; checked by :func:`train_reference.check` as such)."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown label kind {self.kind!r}")
        if self.onset_range is not None and not (
            self.onset_range[0] <= self.start_step <= self.onset_range[1]
        ):
            raise ValueError(f"start_step {self.start_step} outside onset_range {self.onset_range}")

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("onset_range", "other_run", "period", "rule"):
            if out[key] is None:
                del out[key]
        if not self.exact:
            del out["exact"]
        return out


@dataclass(frozen=True)
class Negative:
    """A series on which a detector must NOT report ``kinds`` (healthy behaviour, for precision)."""

    run: str
    tags: list[str]
    kinds: list[str]
    why: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Logdir:
    """A generated logdir: where it is, what it holds and what the reader must make of it."""

    path: Path
    framework: str
    writer: str
    step_convention: str
    scenario: str
    labels: list[Label] = field(default_factory=list)
    negatives: list[Negative] = field(default_factory=list)
    reader: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def write(self) -> Path:
        """Write ``labels.json`` next to the runs and return its path."""
        doc: dict[str, Any] = {
            "schema": LABELS_SCHEMA,
            "scenario": self.scenario,
            "framework": self.framework,
            "writer": self.writer,
            "step_convention": self.step_convention,
            "labels": [label.to_json() for label in self.labels],
            "negatives": [neg.to_json() for neg in self.negatives],
        }
        if self.reader:
            doc["reader"] = self.reader
        if self.notes:
            doc["notes"] = self.notes
        out = self.path / "labels.json"
        out.write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n")
        return out


def reset_dir(path: Path) -> Path:
    """Empty ``path`` (a generated logdir) and create it again."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def read_run(run_dir: Path | str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every scalar tag of one run as ``{tag: (steps, values)}``, as TensorBoard itself reads it.

    Uses TensorBoard's ``EventAccumulator`` without sampling; TF2 tensor scalars and TF1
    ``simple_value`` scalars come back alike. A step written more than once (a run resumed from a
    checkpoint) keeps its newest write, and the result is sorted by step.
    """
    from tensorboard.backend.event_processing import event_accumulator as ea

    acc = ea.EventAccumulator(str(run_dir), size_guidance={ea.SCALARS: 0, ea.TENSORS: 0})
    acc.Reload()
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    tags = acc.Tags()
    for tag in tags.get(ea.SCALARS, []):
        events = acc.Scalars(tag)
        out[tag] = (
            np.array([e.step for e in events], dtype=np.int64),
            np.array([e.value for e in events], dtype=np.float64),
        )
    for tag in tags.get(ea.TENSORS, []):
        events = acc.Tensors(tag)
        vals = []
        for e in events:
            arr = _tensor_value(e.tensor_proto)
            if arr is None:
                break
            vals.append(arr)
        else:
            out[tag] = (
                np.array([e.step for e in events], dtype=np.int64),
                np.array(vals, dtype=np.float64),
            )
    return {tag: _newest_wins(*series) for tag, series in out.items()}


def _newest_wins(steps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep the last write of every step (events arrive in file order), sorted by step."""
    rev_steps = steps[::-1]
    uniq, first_in_rev = np.unique(rev_steps, return_index=True)
    return uniq, values[::-1][first_in_rev]


def _tensor_value(proto: Any) -> float | None:
    from tensorboard.util import tensor_util

    arr = tensor_util.make_ndarray(proto)
    if arr.size != 1 or arr.dtype.kind not in "fiu":
        return None
    return float(arr.reshape(()))


def first_nonfinite(steps: npt.ArrayLike, values: npt.ArrayLike) -> int | None:
    """The step of the first non-finite value, or ``None``."""
    for s, v in zip(np.asarray(steps), np.asarray(values, dtype=np.float64), strict=True):
        if not math.isfinite(v):
            return int(s)
    return None


def frozen_from(steps: npt.ArrayLike, values: npt.ArrayLike) -> int | None:
    """The first step from which every later logged value equals it bit for bit, or ``None``.

    ``None`` when only the last value satisfies it (a single point is not a frozen stretch).
    """
    steps = np.asarray(steps)
    vals = np.asarray(values, dtype=np.float64)
    i = len(vals) - 1
    while i > 0 and vals[i - 1] == vals[-1]:
        i -= 1
    if i >= len(vals) - 1:
        return None
    return int(steps[i])


def settled_from(steps: npt.ArrayLike, values: npt.ArrayLike, *, rel_tol: float) -> int:
    """The first step from which every later value lies within ``rel_tol * |last|`` of the last."""
    steps = np.asarray(steps)
    v = np.asarray(values, dtype=np.float64)
    tol = rel_tol * abs(float(v[-1]))
    outside = np.nonzero(np.abs(v - v[-1]) > tol)[0]
    return int(steps[int(outside[-1]) + 1]) if len(outside) else int(steps[0])


def _centred_mean(v: np.ndarray, k: int = 5) -> np.ndarray:
    if len(v) < k:
        return np.array(v, dtype=np.float64)
    inner = np.convolve(v, np.ones(k) / k, mode="valid")
    h = k // 2
    out: np.ndarray = np.concatenate([v[:h], inner, v[len(v) - h :]])
    return out


def falling_share(values: npt.ArrayLike) -> float:
    """Share of steps on which the centred 5-point running mean goes down."""
    v = np.asarray(values, dtype=np.float64)
    return float(np.mean(np.diff(_centred_mean(v)) < 0)) if len(v) > 1 else 0.0


def flat_onset(
    steps: npt.ArrayLike,
    values: npt.ArrayLike,
    fractions: Sequence[float] = (0.9, 0.95, 0.98),
    *,
    min_points: int = 5,
    min_share: float = 0.15,
) -> list[int] | None:
    """Where a converging curve has settled at its final level, or ``None`` if it has not.

    ``final`` is the mean of the last 5 values and ``total = |v[0] - final|``. For each fraction
    ``f`` the step returned is the first from which a centred 5-point running mean stays within
    ``(1 - f) * total`` of ``final`` for the rest of the curve. ``None`` when the settled stretch
    from the middle fraction is shorter than ``min_points`` points or ``min_share`` of the curve
    (a curve still falling at the end has not plateaued). Used for fuzzy plateau onsets: the
    middle fraction gives ``start_step``, the outer two the ``onset_range``.
    """
    s = np.asarray(steps)
    v = np.asarray(values, dtype=np.float64)
    if len(v) < 2 * min_points:
        return None
    final = float(v[-5:].mean())
    total = abs(float(v[0]) - final)
    smooth = _centred_mean(v)
    out = []
    for f in fractions:
        outside = np.nonzero(np.abs(smooth - final) > (1.0 - f) * total)[0]
        out.append(int(outside[-1]) + 1 if len(outside) else 0)
    mid = out[len(out) // 2]
    if len(v) - mid < max(min_points, min_share * len(v)):
        return None
    return [int(s[min(i, len(s) - 1)]) for i in out]


def overfit_onset(
    val_steps: npt.ArrayLike,
    val_values: npt.ArrayLike,
    train_steps: npt.ArrayLike,
    train_values: npt.ArrayLike,
) -> tuple[int, list[int]] | None:
    """``(start, onset_range)`` of overfitting, or ``None``.

    Overfitting here: the validation loss ends (median of its last 3 values) above its minimum by
    more than 3x its step-to-step noise and more than 2% of the minimum, the minimum lies at least
    5 points before the end, and the training loss ends below its value at that step. ``start`` is
    the minimum's step; the range holds the steps within 2% of the rise of the minimum.
    """
    vs, v = np.asarray(val_steps), np.asarray(val_values, dtype=np.float64)
    ts, t = np.asarray(train_steps), np.asarray(train_values, dtype=np.float64)
    if len(v) < 8 or not np.all(np.isfinite(v)):
        return None
    best = int(np.argmin(v))
    rise = float(np.median(v[-3:]) - v[best])
    d = np.diff(v)
    noise = float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2))
    if best > len(v) - 5 or rise <= max(3 * noise, 0.02 * abs(float(v[best]))):
        return None
    at = t[ts <= vs[best]]
    if len(at) == 0 or not float(np.median(t[-3:])) < float(at[-1]):
        return None
    near = vs[v <= v[best] + 0.02 * (v.max() - v[best])]
    return int(vs[best]), [int(near.min()), int(near.max())]


FLAT_WHY = (
    "onset = first point from which the centred 5-point mean stays within 5% of the total "
    "improvement of the final level (range: 10% .. 2%; common.flat_onset)"
)


def settled_label(
    run: str, tag: str, series: tuple[np.ndarray, np.ndarray], why: str
) -> Label | None:
    """A plateau label where the logged curve has settled at its final level, else ``None``."""
    steps, values = series
    onset = flat_onset(steps, values)
    if onset is None:
        return None
    lo, mid, hi = onset
    return Label(run, "plateau", [tag], mid, int(steps[-1]), why, onset_range=[lo, hi])


def loss_story(
    log: Logdir,
    train_run: str,
    val_run: str,
    why: str,
    tag: str = "epoch_loss",
    *,
    train_tag: str | None = None,
) -> None:
    """Label what a train/validation pair of loss curves shows, by the rules in ``common``.

    Validation: overfitting (``overfit_onset``) or else a settled plateau (``flat_onset``);
    training: a settled plateau. A curve becomes a negative only where it is clearly on the other
    side: an ``overfitting`` negative when the validation loss ends less than 1% above its minimum
    (half the labelling threshold), a ``plateau`` negative when the centred 5-point mean still
    goes down on >= 80% of steps. Between the two lies a grey zone with neither.
    """
    ttag = train_tag or tag
    train = read_run(log.path / train_run)[ttag]
    val = read_run(log.path / val_run)[tag]
    over = overfit_onset(*val, *train)
    if over is not None:
        log.labels.append(
            Label(
                val_run,
                "overfitting",
                [tag, ttag],
                over[0],
                None,
                f"{why}; the validation loss rises after its minimum while the training loss "
                "keeps falling: start = the minimum (common.overfit_onset on the logged curves)",
                onset_range=over[1],
                other_run=None if train_run == val_run else train_run,
            )
        )
    else:
        v = val[1]
        if float(np.median(v[-3:]) - v.min()) < 0.01 * abs(float(v.min())):
            log.negatives.append(
                Negative(val_run, [tag], ["overfitting"], "ends within 1% of its minimum")
            )
    for run, t, series, is_val in ((train_run, ttag, train, False), (val_run, tag, val, True)):
        if is_val and over is not None:
            continue
        label = settled_label(run, t, series, f"{why}; {FLAT_WHY}")
        if label is not None:
            log.labels.append(label)
        elif falling_share(series[1]) >= 0.8:
            log.negatives.append(
                Negative(run, [t], ["plateau"], f"{why}; still improving at the end of the run")
            )
