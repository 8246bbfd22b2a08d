"""The contract every detector in REGISTRY keeps, on edge series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tbplateau.detectors import REGISTRY, Detector, OverfittingDetector
from tbplateau.errors import InvalidParameterError
from tbplateau.findings import Finding, FindingKind
from tbplateau.series import Series

rng = np.random.default_rng(12345)
_noisy = np.exp(-np.arange(300) / 60 + rng.normal(0, 0.05, 300))
_with_holes = _noisy.copy()
_with_holes[[20, 21, 150]] = np.nan

EDGE: dict[str, tuple[list[int] | np.ndarray, list[float] | np.ndarray]] = {
    "empty": ([], []),
    "one point": ([0], [1.0]),
    "two points": ([0, 1], [1.0, 0.5]),
    "three points": ([0, 1, 2], [1.0, 0.5, 2.0]),
    "constant": (list(range(50)), [0.7] * 50),
    "constant zero": (list(range(50)), [0.0] * 50),
    "all nan": (list(range(50)), [math.nan] * 50),
    "plus inf": (list(range(20)), [1.0] * 10 + [math.inf] * 10),
    "minus inf": (list(range(20)), [-math.inf] + [1.0] * 19),
    "huge values": (list(range(100)), [1e30] * 50 + [1e-30] * 50),
    "1e300 spike": (list(range(100)), [1.0] * 60 + [1e300] + [1.0] * 39),
    "negative values": (list(range(100)), list(-np.linspace(0, 5, 100))),
    "uneven steps": (np.cumsum(rng.integers(1, 500, 300)), _noisy),
    "decreasing steps": (list(range(100, 0, -1)), list(np.linspace(2, 1, 100))),
    "repeated step": ([5] * 30, list(np.linspace(2, 1, 30))),
    "nan holes": (list(range(300)), _with_holes),
    "alternating": (list(range(200)), [1.0, 3.0] * 100),
    "step function": (list(range(200)), [2.0] * 100 + [1.0] * 100),
}


def _series(name: str) -> Series:
    steps, values = EDGE[name]
    return Series("run", "loss", steps=steps, values=values)


def _run(det: Detector, s: Series, goal: str | None) -> list[Finding]:
    if isinstance(det, OverfittingDetector):
        return det.detect_pair(s, s, goal)  # type: ignore[arg-type]
    return det.detect(s, goal)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", list(REGISTRY), ids=lambda k: k.value)
@pytest.mark.parametrize("name", list(EDGE))
@pytest.mark.parametrize("goal", ["min", "max", None])
def test_contract_on_edge_series(kind: FindingKind, name: str, goal: str | None) -> None:
    det = REGISTRY[kind]()
    s = _series(name)
    found = _run(det, s, goal)
    assert isinstance(found, list)
    assert found == sorted(found, key=lambda f: f.sort_key)
    steps = set(s.steps.tolist())
    for f in found:
        assert f.kind is kind
        assert f.start_step in steps
        assert f.end_step is None or f.end_step in steps
        assert 0.0 <= f.confidence <= 1.0
        assert f.tags
        assert f.tags[0] == "loss"
        assert f.to_dict()["kind"] == kind.value
    # deterministic, on a fresh object holding the same data too
    again = _run(REGISTRY[kind](), Series("run", "loss", steps=s.steps, values=s.values), goal)
    assert [f.to_dict() for f in again] == [f.to_dict() for f in found]


@pytest.mark.parametrize("kind", list(REGISTRY), ids=lambda k: k.value)
def test_registry_maps_kind_to_its_detector(kind: FindingKind) -> None:
    assert REGISTRY[kind].kind is kind


@pytest.mark.parametrize("kind", list(REGISTRY), ids=lambda k: k.value)
def test_parameters_are_keyword_only_stored_and_validated(kind: FindingKind) -> None:
    cls = REGISTRY[kind]
    det = cls()
    params = {k: v for k, v in vars(det).items() if not k.startswith("_")}
    assert params, "every detector has parameters"
    for name, value in params.items():
        assert getattr(cls(**{name: value}), name) == value
        with pytest.raises(InvalidParameterError, match=str(-1)):
            cls(**{name: -1})
        with pytest.raises(InvalidParameterError, match="nan"):
            cls(**{name: math.nan})
    with pytest.raises(TypeError):
        cls(1)  # type: ignore[call-arg]


def test_nonfinite_reports_the_first_bad_value() -> None:
    found = REGISTRY[FindingKind.NONFINITE]().detect(_series("plus inf"), "min")
    assert [(f.start_step, f.end_step, f.detail["first_value"]) for f in found] == [
        (10, None, "inf")
    ]
    holes = REGISTRY[FindingKind.NONFINITE]().detect(_series("nan holes"), "min")
    assert [(f.start_step, f.end_step, f.detail["stretches"]) for f in holes] == [(20, 150, 2)]


def test_constant_series_is_a_constant_plateau() -> None:
    found = REGISTRY[FindingKind.PLATEAU]().detect(_series("constant"), "min")
    assert [(f.start_step, f.end_step, f.detail["constant"]) for f in found] == [(0, None, True)]


def test_goal_none_is_not_judged_as_a_metric() -> None:
    s = _series("step function")
    for kind in (FindingKind.PLATEAU, FindingKind.DIVERGENCE, FindingKind.OSCILLATION):
        assert REGISTRY[kind]().detect(s, None) == []
