"""Datasets that ship with scikit-learn (nothing is downloaded), standardised and split.

``load(name, seed)`` returns a :class:`Dataset`: float32 features scaled to zero mean and unit
variance on the training part, a seeded train/validation split, the task (``"class"`` with
``classes`` and the majority-class share ``prior``, or ``"reg"``), and for ``digits`` the 8x8
images for the CNNs. The ``make_*`` generators are seeded with the run's seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DATASETS", "Dataset", "load"]

DATASETS = ("digits", "iris", "wine", "breast_cancer", "diabetes", "moons", "blobs", "regression")


@dataclass(frozen=True)
class Dataset:
    name: str
    task: str  # "class" or "reg"
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    classes: int  # 0 for regression
    prior: float  # majority-class share of the validation labels (0 for regression)
    image_shape: tuple[int, int] | None = None

    @property
    def features(self) -> int:
        return int(self.x_train.shape[1])


def _raw(name: str, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    from sklearn import datasets as sk

    if name == "digits":
        x, y = sk.load_digits(return_X_y=True)
        return x, y, "class"
    if name == "iris":
        x, y = sk.load_iris(return_X_y=True)
        return x, y, "class"
    if name == "wine":
        x, y = sk.load_wine(return_X_y=True)
        return x, y, "class"
    if name == "breast_cancer":
        x, y = sk.load_breast_cancer(return_X_y=True)
        return x, y, "class"
    if name == "diabetes":
        x, y = sk.load_diabetes(return_X_y=True)
        return x, (y - y.mean()) / y.std(), "reg"
    if name == "moons":
        x, y = sk.make_moons(n_samples=1200, noise=0.25, random_state=seed)
        return x, y, "class"
    if name == "blobs":
        x, y = sk.make_classification(
            n_samples=1500,
            n_features=20,
            n_informative=8,
            n_classes=4,
            flip_y=0.05,
            random_state=seed,
        )
        return x, y, "class"
    if name == "regression":
        x, y = sk.make_friedman1(n_samples=1500, noise=0.5, random_state=seed)
        return x, (y - y.mean()) / y.std(), "reg"
    raise ValueError(f"unknown dataset {name!r}")


def load(name: str, seed: int, *, val_share: float = 0.3, train_size: int | None = None) -> Dataset:
    """``name`` split by ``seed``; ``train_size`` keeps only that many training samples."""
    x, y, task = _raw(name, seed)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))
    n_val = round(val_share * len(x))
    vi, ti = order[:n_val], order[n_val:]
    if train_size is not None:
        ti = ti[:train_size]
    mean, std = x[ti].mean(axis=0), x[ti].std(axis=0) + 1e-8
    xs = ((x - mean) / std).astype(np.float32)
    if task == "class":
        yy = y.astype(np.int64)
        classes = int(yy.max()) + 1
        prior = float(np.bincount(yy[vi], minlength=classes).max() / len(vi))
    else:
        yy = y.astype(np.float32)
        classes, prior = 0, 0.0
    return Dataset(
        name,
        task,
        xs[ti],
        yy[ti],
        xs[vi],
        yy[vi],
        classes,
        prior,
        (8, 8) if name == "digits" else None,
    )
