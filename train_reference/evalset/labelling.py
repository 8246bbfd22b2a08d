"""From a written run and its spec to the ``labels.json`` entries (numpy + tensorboard only).

Used by the generator right after training and by ``train_reference.check``, which derives the
labels again from the event files read back and the spec stored in ``labels.json`` and requires
them to equal the stored ones (so no label can be edited by hand without the check failing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from train_reference.common import overfit_onset, read_run
from train_reference.evalset.rules import Event, SeriesLabels, label_series
from train_reference.evalset.spec import Intervention, RunSpec

__all__ = ["Layout", "derive", "events_of", "spec_from_json"]


@dataclass(frozen=True)
class Layout:
    """Where each ``(split, metric)`` landed: ``{"train/loss": [run, tag], ...}``, and how steps
    map to epochs: ``epoch = step // steps_per_epoch[series]`` (1 for per-epoch series)."""

    series: dict[str, tuple[str, str]]
    steps_per_epoch: dict[str, int]
    offset: dict[str, int]  # added to a series' step before the division (HF/Lightning: 1-based)

    def to_json(self) -> dict[str, Any]:
        return {
            "series": {k: list(v) for k, v in self.series.items()},
            "steps_per_epoch": self.steps_per_epoch,
            "offset": self.offset,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Layout:
        return cls(
            {k: (v[0], v[1]) for k, v in d["series"].items()},
            {k: int(v) for k, v in d["steps_per_epoch"].items()},
            {k: int(v) for k, v in d.get("offset", {}).items()},
        )


def events_of(spec: RunSpec) -> list[tuple[int, str]]:
    """``(epoch, what)`` of everything the script did that can change the curves."""
    out: list[tuple[int, str]] = []
    for iv in spec.interventions:
        if iv.what == "lr":
            out.append((iv.epoch, "lr x0 (frozen)" if iv.factor == 0 else f"lr x{iv.factor:g}"))
        elif iv.what == "spike":
            out.append((iv.epoch, f"lr spike x{iv.factor:g}"))
            out.append((iv.epoch + iv.length, "lr back after the spike"))
        elif iv.what == "poison":
            out.append((iv.epoch, f"last hidden bias set to {iv.factor:g}"))
    what = "lr drop x0.1" if spec.schedule == "step" else "cosine phase restart (peak x0.3)"
    out += [(e, what) for e in spec.schedule_epochs()]
    return sorted(out)


def spec_from_json(d: dict[str, Any]) -> RunSpec:
    """The :class:`RunSpec` stored in a ``labels.json``."""
    fields = dict(d)
    fields["interventions"] = tuple(Intervention(**iv) for iv in fields["interventions"])
    return RunSpec(**fields)


def _positions(steps: np.ndarray, spe: int, offset: int, epoch: int) -> int:
    """Index of the first point of ``epoch``; ``spe`` 0: one point per epoch (point i = epoch i)."""
    if spe == 0:
        return min(epoch, len(steps))
    epochs = (steps + offset) // spe
    return int(np.searchsorted(epochs, epoch))


def _goal(key: str) -> str:
    return "max" if key.endswith("accuracy") else "min"


def derive(
    root: Path, spec: RunSpec, layout: Layout, sizes: dict[str, int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """``(labels, complete, notes)`` of one logdir written for ``spec``.

    ``sizes``: samples behind each split's accuracy (``{"train": n, "val": m}``); an accuracy
    computed on fewer than 300 samples moves in visible quanta: its plateaus are not claimed
    complete, and a constant run (``frozen``) that an event ends is not labelled ("every
    constant run of a quantised accuracy on a tiny validation set" is an open case of issue 8:
    neither a miss nor a false alarm). One that lasts to the end (LR set to zero, a dead
    network) is still labelled.
    """
    cache: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}

    def series(key: str) -> tuple[np.ndarray, np.ndarray]:
        run, tag = layout.series[key]
        if run not in cache:
            cache[run] = read_run(root / run)
        return cache[run][tag]

    keys = [k for k in layout.series if not k.endswith("/lr")]
    evs = events_of(spec)
    # a series going non-finite is an event for every other series of the run
    nf_epoch = _first_nonfinite_epoch(keys, series, layout)
    if nf_epoch is not None:
        evs.append((nf_epoch, "another series went non-finite"))
    labels: list[dict[str, Any]] = []
    complete: list[dict[str, Any]] = []
    notes: list[str] = []
    results = {key: _label_one(series(key), layout, key, evs) for key in keys}
    over = _overfitting(spec, layout, series, results)
    for key in keys:
        run, tag = layout.series[key]
        events, res = results[key]
        over_complete = True
        if key == "val/loss" and over is not None:
            steps, values = series(key)
            res = label_series(
                steps, values, "min", events, explained_from=int(np.searchsorted(steps, over[0]))
            )
        if key.startswith("val/"):
            over_complete = over != "unsure"
        incomplete = set(res.incomplete)
        split = key.split("/")[0]
        quantised = key.endswith("accuracy") and sizes.get(split, 0) < 300
        if quantised:
            incomplete.add("plateau")
        claimed, unclaimed = _claimed(res.labels, quantised)
        labels += [{"run": run, "tags": [tag], **lb, "why": _why(lb, spec, evs)} for lb in claimed]
        notes += [
            f"{run} {tag}: constant run from {lb['start_step']} not claimed" for lb in unclaimed
        ]
        kinds = [k for k in res.complete if k not in incomplete]
        if key.startswith("val/") and over_complete:
            kinds.append("overfitting")
        complete.append({"run": run, "tags": [tag], "kinds": kinds})
        notes += [f"{run} {tag}: {n}" for n in res.notes]
    if isinstance(over, tuple):
        labels.append(_overfit_label(layout, over))
    return labels, complete, notes


def _label_one(
    curve: tuple[np.ndarray, np.ndarray], layout: Layout, key: str, evs: list[tuple[int, str]]
) -> tuple[list[Event], SeriesLabels]:
    """The events (at the series' own positions) and the rules' labels of one series."""
    steps, values = curve
    spe, off = layout.steps_per_epoch[key], layout.offset.get(key, 0)
    events = [Event(_positions(steps, spe, off, e), what) for e, what in evs]
    return events, label_series(steps, values, _goal(key), events)


def _claimed(
    found: list[dict[str, Any]], quantised: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(claimed, unclaimed)``: a constant run of an accuracy in visible quanta that the next
    event ends is issue 8's open case, not claimed (one that lasts to the end still is)."""
    claimed, unclaimed = [], []
    for lb in found:
        if quantised and lb["rule"] == "frozen" and lb["end_step"] is not None:
            unclaimed.append(lb)
        else:
            claimed.append(lb)
    return claimed, unclaimed


def _first_nonfinite_epoch(
    keys: list[str], series: Callable[[str], tuple[np.ndarray, np.ndarray]], layout: Layout
) -> int | None:
    """The first epoch at which any of the series ``keys`` holds a non-finite value."""
    nf_epochs = []
    for key in keys:
        steps, values = series(key)
        bad = np.nonzero(~np.isfinite(values))[0]
        if len(bad):
            spe, off = layout.steps_per_epoch[key], layout.offset.get(key, 0)
            nf_epochs.append(int(bad[0]) if spe == 0 else int((steps[bad[0]] + off) // spe))
    return min(nf_epochs) if nf_epochs else None


def _overfit_label(layout: Layout, over: tuple[int, list[int]]) -> dict[str, Any]:
    """The run's one overfitting label: at the validation loss's minimum."""
    (vrun, vtag), (trun, ttag) = layout.series["val/loss"], layout.series["train/loss"]
    lab: dict[str, Any] = {
        "run": vrun,
        "kind": "overfitting",
        "tags": [vtag, ttag],
        "start_step": over[0],
        "end_step": None,
        "rule": "overfit_onset",
        "onset_range": over[1],
        "why": "the validation loss rises after its minimum while the training loss keeps "
        "falling (common.overfit_onset): start = the minimum",
    }
    if trun != vrun:
        lab["other_run"] = trun
    return lab


def _overfitting(
    spec: RunSpec, layout: Layout, series: Any, results: dict[str, Any]
) -> tuple[int, list[int]] | str | None:
    """The overfitting label of the run, ``None`` (none, for sure) or ``"unsure"``."""
    if "val/loss" not in layout.series or "train/loss" not in layout.series:
        return None
    val, train = series("val/loss"), series("train/loss")
    _, vres = results["val/loss"]
    found = overfit_onset(*val, *train)
    moved = vres.thrown or any(
        lb["kind"] in ("divergence", "oscillation", "nonfinite") for lb in vres.labels
    )
    if found is not None:
        return "unsure" if moved else found
    v = val[1][np.isfinite(val[1])]
    if len(v) and float(np.median(v[-3:]) - v.min()) > 0.01 * abs(float(v.min())) and not moved:
        return "unsure"  # ends 1% or more above its minimum without meeting the label's bar
    return None


def _why(label: dict[str, Any], spec: RunSpec, evs: list[tuple[int, str]]) -> str:
    script = "; ".join(f"epoch {e}: {w}" for e, w in evs) or "no intervention"
    return (
        f"{spec.scenario} (script: {script}); rule {label['rule']} (train_reference.evalset.rules)"
    )
