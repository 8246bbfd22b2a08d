"""Sinks that write the torch engine's values through each writer, in that writer's own layout.

===================  ======================================  =====================================
writer               runs (relative to the logdir)           tags
===================  ======================================  =====================================
``torch_scalar``     ``runs/<name>``                         ``Loss/train``, ``Loss/val``,
                                                             ``Accuracy/train``, ``Accuracy/val``,
                                                             ``LR/train``
``torch_scalars``    ``runs/<name>`` + ``runs/<name>/Loss_train``, ``Loss_val``, ... (one sub-run
                     per series, ``add_scalars``)            per key): tag ``Loss``, ``Accuracy``
``tensorboardx``     ``<name>``                              ``train/loss``, ``val/loss``, ...
``tf_summary``       ``<name>/train``, ``<name>/validation``  ``loss``, ``accuracy``, ``lr``
===================  ======================================  =====================================

``tags_for(writer, name)`` says, for labelling, which (run, tag) holds each (split, metric).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["TORCH_WRITERS", "open_sink", "series_name"]

TORCH_WRITERS = ("torch_scalar", "torch_scalars", "tensorboardx", "tf_summary")

_SPLIT = {"train": "train", "val": "val"}


def series_name(writer: str, run: str, split: str, metric: str) -> tuple[str, str]:
    """``(run, tag)`` under which ``writer`` stores ``split``/``metric`` of run ``run``."""
    if writer == "torch_scalar":
        return run, f"{metric.capitalize() if metric != 'lr' else 'LR'}/{split}"
    if writer == "torch_scalars":
        top = metric.capitalize() if metric != "lr" else "LR"
        return f"{run}/{top}_{split}", top
    if writer == "tensorboardx":
        return run, f"{split}/{metric}"
    if writer == "tf_summary":
        return f"{run}/{'train' if split == 'train' else 'validation'}", metric
    raise ValueError(f"unknown writer {writer!r}")


class _TorchScalar:
    def __init__(self, path: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.w = SummaryWriter(log_dir=str(path))

    def scalar(self, split: str, metric: str, value: float, step: int) -> None:
        _, tag = series_name("torch_scalar", "", split, metric)
        self.w.add_scalar(tag, value, step)

    def close(self) -> None:
        self.w.close()


class _TorchScalars(_TorchScalar):
    def scalar(self, split: str, metric: str, value: float, step: int) -> None:
        top = metric.capitalize() if metric != "lr" else "LR"
        self.w.add_scalars(top, {split: value}, step)


class _TBX:
    def __init__(self, path: Path) -> None:
        from tensorboardX import SummaryWriter

        self.w = SummaryWriter(logdir=str(path))

    def scalar(self, split: str, metric: str, value: float, step: int) -> None:
        self.w.add_scalar(f"{split}/{metric}", value, step)

    def close(self) -> None:
        self.w.close()


class _TFSummary:
    def __init__(self, path: Path) -> None:
        import tensorflow as tf

        self.tf = tf
        self.w = {
            "train": tf.summary.create_file_writer(str(path / "train")),
            "val": tf.summary.create_file_writer(str(path / "validation")),
        }

    def scalar(self, split: str, metric: str, value: float, step: int) -> None:
        with self.w[split].as_default():
            self.tf.summary.scalar(metric, value, step=step)

    def close(self) -> None:
        for w in self.w.values():
            w.flush()
            w.close()


def open_sink(writer: str, path: Path) -> Any:
    """A sink writing run folder ``path`` with ``writer``."""
    return {
        "torch_scalar": _TorchScalar,
        "torch_scalars": _TorchScalars,
        "tensorboardx": _TBX,
        "tf_summary": _TFSummary,
    }[writer](path)
