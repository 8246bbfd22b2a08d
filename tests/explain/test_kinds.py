"""``explain.kinds``: the words of a plateau's range say whether its median still creeps."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tbplateau.explain.kinds import CREEP_SHARE, _progress_words


def test_a_flat_plateau_made_no_progress_beyond_the_noise() -> None:
    rng = np.random.default_rng(0)
    w = 2.2 + rng.normal(0.0, 0.3, 5000)
    assert _progress_words(w, "min") == "with no progress beyond the noise"


@pytest.mark.parametrize("goal", ["min", "max"])
def test_a_loud_plateau_whose_median_still_improves_says_so(goal: str) -> None:
    # wanghoppe/tempo: a per-step loss 5 % lower over 5,895 points in noise of 15 %
    rng = np.random.default_rng(1)
    trend = np.linspace(2.28, 2.16, 5895) if goal == "min" else np.linspace(2.16, 2.28, 5895)
    words = _progress_words(trend + rng.normal(0.0, 0.34, 5895), goal)
    assert words.startswith("its median still creeping from ")
    # the medians of its first and last fifths: about 2.27 and 2.17, 4-5 % apart
    assert re.search(r"\(-[45]%" if goal == "min" else r"\(\+[45]%", words), words


def test_a_median_that_worsens_says_so() -> None:
    # haniaraslan/yolov5 mAP_0.5: 0.395 to 0.364 over its plateau, its best early on
    worse = np.linspace(2.16, 2.28, 400)  # a loss that rises: not progress
    assert _progress_words(worse, "min").startswith("its median worsening from 2.172 to 2.268")
    assert _progress_words(worse[::-1], "max").startswith("its median worsening from 2.268")


def test_a_median_that_barely_moves_is_no_creep() -> None:
    rng = np.random.default_rng(2)
    barely = np.linspace(1.0, 1.0 - 0.5 * CREEP_SHARE, 400) + rng.normal(0.0, 0.05, 400)
    assert _progress_words(barely, "min") == "with no progress beyond the noise"
    assert _progress_words(np.linspace(1.0, 0.5, 5), "min") == "with no progress beyond the noise"
    assert _progress_words(np.linspace(1.0, 0.5, 400), None) == "with no progress beyond the noise"


def test_a_short_plateau_that_still_rises_at_nearly_every_step_says_so() -> None:
    # keras_lr_zero_and_healthy, healthy/train epoch_accuracy from epoch 22: a settled tail
    # (97 % of the climb done) that still rises 0.0101 in 8 epochs, in noise of 0.0009
    w = np.array([0.8855, 0.8879, 0.8902, 0.8921, 0.8940, 0.8957, 0.8973, 0.8989])
    words = _progress_words(w, "max")
    assert words.startswith("its median still creeping from 0.8867 to 0.8981"), words
    assert words.endswith("(+1% from its first third to its last)"), words
    # and a steady fall of half its level in 10 points is no flat line either
    assert _progress_words(np.linspace(1.0, 0.5, 10), "min").startswith("its median still")


def test_one_step_of_a_quantised_accuracy_is_no_drift() -> None:
    # Alwaysproblem: a validation accuracy over 75 samples between 0.9867 and 0.98 (one
    # sample) is no "worsening"
    w = np.r_[np.full(9, 74 / 75), np.full(20, 74 / 75), np.full(12, 73 / 75)]
    assert _progress_words(w, "max") == "with no progress beyond the noise"
    w2 = np.r_[np.full(12, 74 / 75), np.full(8, 73 / 75), [72 / 75] * 8, np.full(13, 71 / 75)]
    assert _progress_words(w2, "max").startswith("its median worsening")  # three samples
