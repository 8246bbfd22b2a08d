"""``explain.kinds``: the words of a plateau's range say whether its median still creeps."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tbplateau.explain.kinds import CREEP_SHARE, _progress_words
from tbplateau.stats import fast_median


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


def test_a_median_that_worsens_or_barely_moves_is_no_creep() -> None:
    worse = np.linspace(2.16, 2.28, 400)  # a loss that rises: not progress
    assert _progress_words(worse, "min") == "with no progress beyond the noise"
    barely = np.linspace(1.0, 1.0 - 0.5 * CREEP_SHARE, 400)
    assert _progress_words(barely, "min") == "with no progress beyond the noise"
    assert _progress_words(np.linspace(1.0, 0.5, 10), "min") == "with no progress beyond the noise"
    assert _progress_words(np.linspace(1.0, 0.5, 400), None) == "with no progress beyond the noise"


@pytest.mark.parametrize("goal", ["min", "max"])
def test_progress_words_given_the_median_say_the_same(goal: str) -> None:
    rng = np.random.default_rng(2)
    for trend in (np.linspace(2.28, 2.16, 800), np.linspace(2.16, 2.28, 800), np.full(800, 0.0)):
        w = trend + rng.normal(0.0, 0.1, trend.size)
        assert _progress_words(w, goal, fast_median(w)) == _progress_words(w, goal)
