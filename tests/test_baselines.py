from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

from tbplateau import baselines
from tbplateau.findings import FindingKind
from tbplateau.series import Series
from tests.helpers import compiled_kernels


def _s(values: list[float], tag: str = "loss") -> Series:
    return Series("r", tag, steps=list(range(len(values))), values=values)


def test_keras_reduce_lr_fires_after_patience_bad_epochs() -> None:
    values = [1.0, 0.5] + [0.5] * 25
    found = baselines.keras_reduce_lr_on_plateau(_s(values), "min")
    assert [(f.start_step, f.detail["fired_step"], f.detail["actions"]) for f in found] == [
        (1, 11, 2)
    ]


def test_keras_min_delta_is_absolute() -> None:
    values = [1.0 - 5e-6 * i for i in range(15)]  # 10 epochs improve by less than 1e-4
    assert [f.detail["fired_step"] for f in baselines.keras_early_stopping(_s(values), "min")] == [
        10
    ]


def test_torch_needs_patience_plus_one_and_is_relative() -> None:
    values = [100.0] + [99.995] * 12  # 5e-5 relative: not an improvement
    found = baselines.torch_reduce_lr_on_plateau(_s(values), "min")
    assert [f.detail["fired_step"] for f in found] == [11]


def test_early_stopping_stops_once_and_max_goal() -> None:
    values = [0.1, 0.5, 0.6] + [0.6] * 30
    found = baselines.keras_early_stopping(_s(values, "acc"), "max")
    assert [(f.start_step, f.detail["fired_step"]) for f in found] == [(2, 12)]


def test_nan_is_never_an_improvement() -> None:
    values = [1.0] + [math.nan] * 12
    assert baselines.keras_early_stopping(_s(values), "min")[0].detail["fired_step"] == 10


def test_prechelt_gl5_and_up3() -> None:
    val = [1.0, 0.8, 0.7, 0.72, 0.74, 0.76] + [0.8] * 20
    gl = baselines.prechelt_gl(_s(val, "val_loss"), "min", training=_s(val))
    assert [(f.kind, f.start_step, f.detail["fired_step"], f.tags) for f in gl] == [
        (FindingKind.OVERFITTING, 2, 4, ("val_loss", "loss"))
    ]
    rising = list(np.linspace(1, 0.5, 10)) + list(np.linspace(0.5, 1.0, 20))
    up = baselines.prechelt_up(_s(rising, "val_loss"), "min")
    assert [(f.start_step, f.detail["fired_step"]) for f in up] == [(9, 25)]
    acc = baselines.prechelt_gl(_s([0.5, 0.9, 0.8], "val_acc"), "max")
    assert [f.start_step for f in acc] == [1]  # error 0.2 is 100 % above 0.1


def test_pelt_slope_finds_a_plateau_and_a_rise() -> None:
    rng = np.random.default_rng(0)
    u = np.arange(300)
    log_loss = np.select([u < 100, u < 200], [-u / 50, -2.0], -2.0 + (u - 200) / 25) + rng.normal(
        0, 0.01, 300
    )
    found = baselines.pelt_slope(_s(list(np.exp(log_loss))), "min")
    kinds = {f.kind for f in found}
    assert FindingKind.PLATEAU in kinds
    assert FindingKind.DIVERGENCE in kinds
    plateau = next(f for f in found if f.kind is FindingKind.PLATEAU)
    assert abs(plateau.start_step - 100) <= 10


def test_first_nonfinite() -> None:
    assert [f.start_step for f in baselines.first_nonfinite(_s([1.0, math.inf, 1.0]))] == [1]
    assert baselines.first_nonfinite(_s([1.0])) == []


@pytest.mark.parametrize("name", list(baselines.RULES))
def test_every_rule_survives_edge_series(name: str) -> None:
    where, rule = baselines.RULES[name]
    for values in ([], [1.0], [math.nan] * 20, [1e30, -1e30] * 10, [0.0] * 30):
        s = _s(values)
        found = rule(s, "min", training=s) if where == "pair" else rule(s, "min")
        assert all(0 <= f.confidence <= 1 for f in found)


def _records_by_every_point(values: np.ndarray, goal: str, mode: str, delta: float) -> list[int]:
    """The improvements of a patience rule, comparing at every point (the reference)."""
    better = baselines._improves(goal, mode, delta)  # type: ignore[arg-type]
    best, out = (math.inf if goal == "min" else -math.inf), []
    for i, v in enumerate(values.tolist()):
        if better(v, best):
            best = v
            out.append(i)
    return out


@pytest.mark.parametrize("mode", ["abs", "rel"])
@pytest.mark.parametrize("goal", ["min", "max"])
@pytest.mark.parametrize("delta", [0.0, 1e-4, 0.05, -0.05, 1.0, 2.0])
def test_records_over_candidates_equal_every_point(goal: str, mode: str, delta: float) -> None:
    rng = np.random.default_rng(7)
    curves = [
        np.exp(-np.linspace(0, 3, 400)) + rng.normal(0, 0.02, 400),  # a noisy loss
        np.round(rng.normal(0, 1, 300), 1),  # many ties, both signs
        -np.abs(rng.normal(0, 1e-3, 200)),  # negative values, relative thresholds
        np.linspace(1.0, 0.0, 50),  # every point a new extreme
        np.array([0.0, -0.0, 0.0, 1e-300, -1e-300, 5.0]),
    ]
    for y in curves:
        for values in (y, -y):
            baselines._RECORDS.clear()
            got = baselines._records(values, goal, mode, delta)  # type: ignore[arg-type]
            assert got == _records_by_every_point(values, goal, mode, delta)
    baselines._RECORDS.clear()


@pytest.mark.parametrize("mode", ["abs", "rel"])
@pytest.mark.parametrize("goal", ["min", "max"])
@pytest.mark.parametrize("delta", [0.0, 1e-4, 0.05, -0.05, 1.0, 2.0, math.inf, math.nan])
def test_records_kernel_is_the_python_loop(goal: str, mode: str, delta: float) -> None:
    kernels = compiled_kernels()
    rng = np.random.default_rng(8)
    awkward = [0.0, -0.0, 1.0, -1.0, 1e-300, 1e300, math.inf, -math.inf, math.nan]
    curves = [
        np.exp(-np.linspace(0, 3, 400)) + rng.normal(0, 0.02, 400),
        np.round(rng.normal(0, 1, 300), 1),
        -np.abs(rng.normal(0, 1e-3, 200)),
        np.array(list(itertools.product(awkward, repeat=3))).ravel(),
        np.array(awkward * 3)[::2],  # strided, non-finite values
        np.array([]),
        np.array([2.5]),
    ]
    for y in curves:
        for values in (y, -y):
            want = baselines._python_records(values, goal, mode, delta)  # type: ignore[arg-type]
            assert kernels.records(values, goal == "min", mode != "abs", delta) == want
    ints: Any = np.arange(3)
    assert kernels.records(ints, True, False, 0.0) is None  # int64: declined


@pytest.mark.parametrize("goal", ["min", "max"])
def test_early_stopping_step_is_the_fired_step_of_the_replay(goal: str) -> None:
    rng = np.random.default_rng(11)
    curves = [
        np.exp(-np.linspace(0, 3, 300)) + rng.normal(0, 0.02, 300),
        np.r_[np.linspace(1.0, 0.5, 40), np.full(60, 0.5)],  # stops in the flat tail
        np.linspace(1.0, 0.0, 30),  # improves at every point
        np.r_[1.0, np.nan, 0.5, np.inf, np.full(25, 0.4)],
        np.array([2.0]),
        np.array([]),
    ]
    for y in curves:
        s = Series("r", "loss", steps=np.arange(y.size) * 5 + 3, values=y)
        for values_goal, patience in itertools.product((goal, None), (0, 1, 3, 10, 20, 500)):
            found = baselines.keras_early_stopping(s, values_goal, patience=patience)  # type: ignore[arg-type]
            want = int(found[0].detail["fired_step"]) if found else None
            got = baselines.early_stopping_step(s, values_goal, patience=patience)  # type: ignore[arg-type]
            assert got == want
