"""The explanation's view of a series: its finite points."""

from __future__ import annotations

import numpy as np
import pytest

from tbplateau.explain.context import _ALL_FINITE, LearningRate, finite
from tbplateau.series import Series


def test_finite_is_the_series_itself_when_every_point_is_finite() -> None:
    s = Series("r", "loss", steps=[0, 5, 9], values=[1.0, 0.5, 0.25])
    steps, values = finite(s)
    assert steps is s.steps
    assert values is s.values
    assert s.__dict__[_ALL_FINITE] is True  # noted once, for the next calls
    assert finite(s)[1] is s.values


def test_finite_drops_nan_and_inf_into_read_only_copies() -> None:
    s = Series("r", "loss", steps=[0, 5, 9, 12], values=[1.0, np.nan, np.inf, 0.25])
    steps, values = finite(s)
    assert steps.tolist() == [0, 12]
    assert values.tolist() == [1.0, 0.25]
    assert steps.dtype == np.int64
    with pytest.raises(ValueError, match="read-only"):
        values[0] = 2.0
    assert s.__dict__[_ALL_FINITE] is False
    assert finite(s)[1].tolist() == [1.0, 0.25]
    empty = finite(Series("r", "loss", steps=[], values=[]))
    assert [a.size for a in empty] == [0, 0]


def test_fewer_than_three_values_counts_as_np_unique() -> None:
    from tbplateau.explain.context import _fewer_than_three_values

    rng = np.random.default_rng(4)
    pool = [0.0, -0.0, 1.0, 2.5, -3.0, np.inf, -np.inf, np.nan]
    for size in (1, 2, 3, 4, 7):
        for _ in range(300):
            v = np.array(rng.choice(pool, size), dtype=np.float64)
            assert _fewer_than_three_values(v) == (len(np.unique(v)) < 3), v.tolist()
    assert _fewer_than_three_values(np.array([np.nan, np.nan, 1.0, 1.0]))
    # three distinct first values settle it; a NaN or a signed zero among them does not
    assert not _fewer_than_three_values(np.array([3.0, 1.0, 2.0, 2.0, 2.0]))
    assert _fewer_than_three_values(np.array([np.nan, np.nan, 1.0]))
    assert _fewer_than_three_values(np.array([0.0, -0.0, 1.0, 1.0]))
    assert not _fewer_than_three_values(np.array([0.0, -0.0, 1.0, 2.0]))
    assert not _fewer_than_three_values(np.array([np.nan, 0.0, 1.0]))
    assert not _fewer_than_three_values(np.linspace(0.0, 1.0, 1000))


def test_learning_rate_facts_are_memoised_and_the_same_as_computed() -> None:
    warm = [0.1, 0.5, 1.0, np.nan, 0.5, 0.1]
    for values in (warm, [0.2] * 6, [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]):
        lr = LearningRate("r", "lr", Series("r", "lr", steps=range(0, 60, 10), values=values))
        _, v = finite(lr.series)
        assert lr._peak == int(np.argmax(v))
        assert lr.peak_step == int(finite(lr.series)[0][int(np.argmax(v))])
        constant = bool(np.ptp(v) <= 1e-12 * max(1e-30, abs(v[0])))
        assert lr.constant == constant
        assert lr.__dict__["constant"] == constant  # (memoised)
        assert lr == LearningRate("r", "lr", lr.series)  # memos take no part in equality
    assert LearningRate("r", "lr", Series("r", "lr", steps=range(6), values=warm)).warming_up(1)


def test_an_lr_that_turns_zero_a_step_after_the_onset_is_zero_since_then() -> None:
    # keras_lr_zero_and_healthy: the validation accuracy is flat from epoch 14 (the weights
    # after epoch 14's update), the LR is logged as 0 from epoch 15
    values = np.r_[np.full(15, 1e-3), np.zeros(15)]
    lr = LearningRate("r", "lr", Series("r", "lr", steps=np.arange(30), values=values))
    assert lr.zero_since(14) == 15
    assert lr.zero_since(15) == 15
    assert lr.zero_since(10) is None  # five epochs before: not the cause
    rising = LearningRate("r", "lr", Series("r", "lr", steps=np.arange(3), values=[0.0, 0.0, 1.0]))
    assert rising.zero_since(0) is None


def _lr(values: list[float] | np.ndarray) -> LearningRate:
    v = np.asarray(values, dtype=np.float64)
    return LearningRate("r", "lr", Series("r", "lr", steps=np.arange(v.size), values=v))


def test_an_lr_that_goes_up_and_down_again_and_again_is_a_cycle() -> None:
    sgdr = np.tile(np.geomspace(1.0, 0.01, 10), 4)  # four cosine-like cycles, three restarts
    assert _lr(sgdr).cycle == (0.01, 1.0, 3)
    triangle = np.r_[np.linspace(0.05, 15, 50), np.linspace(15, 0.05, 50)]
    assert _lr(np.tile(triangle, 3)).cycle == (0.05, 15.0, 3)


def test_a_decay_a_step_schedule_or_one_spike_is_no_cycle() -> None:
    assert _lr(np.geomspace(1.0, 1e-3, 20)).cycle is None
    assert _lr([0.01] * 5 + [0.001] * 5 + [0.0001] * 5).cycle is None
    assert _lr([0.05] * 10 + [5.0] + [0.05] * 10).cycle is None
    assert _lr([0.0] * 10).cycle is None
