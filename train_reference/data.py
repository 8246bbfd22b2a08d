"""Seeded synthetic data sets (numpy only), shared by every framework's runs."""

from __future__ import annotations

import numpy as np

__all__ = ["binary_images", "binary_tabular", "regression"]


def binary_tabular(
    n: int, d: int = 64, *, seed: int, label_noise: float = 0.1, positive_rate: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples of a mildly non-linear binary problem with ``label_noise`` of labels flipped.

    The flipped labels set a loss floor no model can beat, so a long run must stall. With
    ``positive_rate`` the decision threshold is moved so that this fraction of clean labels is 1.
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    w1 = rng.standard_normal(d)
    w2 = rng.standard_normal(d)
    score = x @ w1 / np.sqrt(d) + 0.7 * (x @ w2 / np.sqrt(d)) ** 2 + 0.4 * np.sin(2.0 * x[:, 0])
    threshold = 0.7 if positive_rate is None else float(np.quantile(score, 1.0 - positive_rate))
    y = (score > threshold).astype(np.float32)
    flip = rng.random(n) < label_noise
    y[flip] = 1.0 - y[flip]
    return x, y


def binary_images(
    n: int,
    size: int = 16,
    *,
    seed: int,
    label_noise: float = 0.0,
    amp: float = 1.0,
    positive_rate: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` noisy ``size`` x ``size`` grey images; class 1 holds a faint cross somewhere."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, (n, size, size, 1)).astype(np.float32)
    y = (rng.random(n) < positive_rate).astype(np.float32)
    for i in np.nonzero(y)[0]:
        r, c = rng.integers(2, size - 2, 2)
        x[i, r, c - 2 : c + 3, 0] += amp
        x[i, r - 2 : r + 3, c, 0] += amp
    flip = rng.random(n) < label_noise
    y[flip] = 1.0 - y[flip]
    return x, y


def regression(
    n: int, d: int = 16, *, seed: int, noise: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """A linear regression problem with Gaussian noise, features of unit scale."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    w = rng.standard_normal(d) / np.sqrt(d)
    y = (x @ w + noise * rng.standard_normal(n)).astype(np.float32)
    return x, y.reshape(-1, 1)
