"""Logdirs laid out like sweeps, for the sweep tests: every layout pairing knows.

Written with TensorBoard's own protobufs and record writer (``tests.helpers``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tbplateau.detectors import REGISTRY, Detector, PlateauDetector
from tbplateau.findings import Finding, FindingKind, Goal
from tbplateau.series import Series
from tests import helpers as h

EVENTS = "events.out.tfevents.1.host"


def loss_curve(n: int, knee: int, rise: float, seed: int) -> list[float]:
    """A loss that falls until ``knee``, then rises by ``rise`` per step (noisy)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    curve = np.exp(-np.minimum(t, knee) / 10) * (1 + rise * np.maximum(t - knee, 0))
    return [float(v) for v in curve * np.exp(rng.normal(0, 0.02, n))]


def write_run(run_dir: Path, tags: dict[str, list[float]], *, name: str = EVENTS) -> None:
    events = [h.scalar(tag, s, v) for tag, values in tags.items() for s, v in enumerate(values)]
    h.write_events(run_dir / name, events)


def make_sweep(root: Path, size: int = 6, seed: int = 0) -> Path:
    """A sweep of about ``7 * size + 8`` runs: Keras siblings, add_scalars, HF tag pairs,
    nested runs, a root run, a restarted run and damaged files."""
    rng = np.random.default_rng(seed)
    n = 60
    for i in range(size):
        knee = int(rng.integers(15, 40))
        write_run(root / f"lr_{i:02d}" / "train", {"epoch_loss": loss_curve(n, n, 0, i)})
        write_run(
            root / f"lr_{i:02d}" / "validation", {"epoch_loss": loss_curve(n, knee, 0.04, i + 100)}
        )
        write_run(root / f"grp_{i:02d}" / "Loss_train", {"Loss": loss_curve(n, n, 0, i + 200)})
        write_run(root / f"grp_{i:02d}" / "Loss_val", {"Loss": loss_curve(n, knee, 0.03, i + 300)})
        write_run(
            root / f"hf_{i:02d}",
            {"train/loss": loss_curve(n, n, 0, i + 400), "eval/loss": loss_curve(n, knee, 0.05, i)},
        )
        write_run(
            root / "nested" / "a" / f"run_{i:02d}",
            {"loss": loss_curve(n, knee, 0.0, i + 500), "val_loss": loss_curve(n, knee, 0.02, i)},
        )
        write_run(root / f"plain_{i:02d}", {"lr": [1e-3] * n, "acc": loss_curve(n, 20, 0, i)})
    # group order differs from run order: x/train2 and x/u sort between x/train and x/validation
    for name in ("x/train", "x/train2", "x/u", "x/validation"):
        write_run(root / name, {"epoch_loss": loss_curve(n, 30, 0.03, len(name))})
    write_run(root, {"loss": loss_curve(n, 25, 0.0, 7)})  # run "."
    restarted = root / "restarted"
    write_run(restarted, {"loss": loss_curve(n, n, 0, 8)})
    write_run(restarted, {"loss": loss_curve(30, n, 0, 9)}, name="events.out.tfevents.2.host")
    damaged = root / "damaged"
    write_run(damaged, {"loss": loss_curve(n, n, 0, 10)})
    path = damaged / EVENTS
    path.write_bytes(path.read_bytes()[:-5])  # truncated: still being written
    (root / "empty").mkdir()
    (root / "empty" / EVENTS).write_bytes(b"")
    lfs = root / "lfs"
    lfs.mkdir()
    (lfs / EVENTS).write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:00\n")
    return root


class Boom(Detector):
    """A plateau detector that raises on the series of one run (a failing group)."""

    kind = FindingKind.PLATEAU

    def __init__(self, *, run: str = "bad") -> None:
        self.run = run
        self._inner = PlateauDetector()

    def detect(
        self, series: Series, goal: Goal = "min", *, events: Sequence[int] = ()
    ) -> list[Finding]:
        if series.run == self.run:
            raise ZeroDivisionError(f"boom in {series.run}")
        return self._inner.detect(series, goal, events=events)


class Crash(Boom):
    """A plateau detector that kills its process on the series of one run."""

    def detect(
        self, series: Series, goal: Goal = "min", *, events: Sequence[int] = ()
    ) -> list[Finding]:
        if series.run == self.run:
            import os

            os._exit(3)
        return self._inner.detect(series, goal, events=events)


def detectors_with(plateau: Detector) -> dict[FindingKind, Detector]:
    dets = {kind: cls() for kind, cls in REGISTRY.items()}
    dets[FindingKind.PLATEAU] = plateau
    return dets
