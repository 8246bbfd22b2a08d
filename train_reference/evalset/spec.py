"""What one evaluation run does: a frozen :class:`RunSpec` and the LR plan it implies.

Framework-free (numpy only), so the labeller and the checker can read a spec back from
``labels.json`` without importing a training framework.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Intervention", "RunSpec"]


@dataclass(frozen=True)
class Intervention:
    """Something the script does at the start of epoch ``epoch`` (0-based).

    ``what``: ``"lr"`` (multiply the base LR by ``factor`` from then on; 0 stops learning),
    ``"spike"`` (multiply it by ``factor`` for ``length`` epochs, then back),
    ``"poison"`` (set every bias of the last hidden layer to ``factor``: a large negative value
    kills every ReLU for good), ``"crash"`` (the LR is multiplied by ``factor`` until the epoch's
    loss is non-finite or 100x the first epoch's, a loss guard; the run is then resumed by a
    second writer session from the checkpoint taken at the start of ``epoch``, with the old LR).
    """

    epoch: int
    what: str
    factor: float = 1.0
    length: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunSpec:
    """One run of the evaluation set."""

    name: str  # logdir name under the output folder
    scenario: str
    seed: int
    dataset: str
    model: str  # "mlp", "mlp_tanh", "wide_mlp", "cnn", "linear"
    optimizer: str  # "sgd", "momentum", "adam", "adamw", "rmsprop"
    lr: float
    epochs: int
    batch: int | None  # None: full-batch gradient descent
    writer: str
    per_step: bool = False  # log the training loss every optimizer step
    schedule: str = "const"  # "const", "step", "cosine" (phases: see phases)
    phases: int = 1
    train_size: int | None = None
    interventions: tuple[Intervention, ...] = field(default_factory=tuple)
    width: int = 32

    def lr_at(self, epoch: int, frac: float = 0.0) -> float:
        """Learning rate during ``epoch`` (``frac`` in [0, 1): progress inside it)."""
        lr = self.lr
        if self.schedule in ("step", "cosine") and self.phases > 1:
            plen = self.epochs / self.phases
            k = min(self.phases - 1, int(epoch // plen))
            if self.schedule == "step":
                lr = self.lr * 0.1**k
            else:  # cosine decay inside each phase, each phase peaking lower
                t = (epoch + frac - k * plen) / plen
                peak = self.lr * 0.3**k
                lr = 0.02 * peak + 0.98 * peak * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))
        for iv in self.interventions:
            if (iv.what == "lr" and epoch >= iv.epoch) or (
                iv.what == "spike" and iv.epoch <= epoch < iv.epoch + iv.length
            ):
                lr *= iv.factor
        return lr

    def schedule_epochs(self) -> list[int]:
        """Epochs where the schedule starts a new phase (LR drops / restarts)."""
        if self.schedule not in ("step", "cosine") or self.phases < 2:
            return []
        plen = self.epochs / self.phases
        return sorted({math.ceil(k * plen) for k in range(1, self.phases)})

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["interventions"] = [iv.to_json() for iv in self.interventions]
        return out
