from __future__ import annotations

import json
import math

import pytest

from tbplateau.errors import InvalidParameterError
from tbplateau.findings import Finding, FindingKind, check_goal, json_safe


def test_kind_is_a_plain_string_in_json() -> None:
    assert json.dumps([FindingKind.PLATEAU]) == '["plateau"]'
    assert str(FindingKind.OVERFITTING) == "overfitting"


def test_to_dict_writes_nonfinite_floats_as_null() -> None:
    f = Finding(
        FindingKind.DIVERGENCE,
        3,
        None,
        ("loss",),
        0.5,
        {"worst": math.inf, "nested": {"x": math.nan}, "ok": 1.5},
    )
    d = f.to_dict()
    assert d == {
        "kind": "divergence",
        "start_step": 3,
        "end_step": None,
        "tags": ["loss"],
        "confidence": 0.5,
        "detail": {"worst": None, "nested": {"x": None}, "ok": 1.5},
    }
    json.dumps(d, allow_nan=False)


def test_finding_is_frozen_and_validated() -> None:
    f = Finding(FindingKind.PLATEAU, 1, 2, ("a",), 1.0)
    with pytest.raises(AttributeError):
        f.start_step = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        f.detail["x"] = 1  # type: ignore[index]
    for bad in (-0.1, 1.1, math.nan):
        with pytest.raises(InvalidParameterError):
            Finding(FindingKind.PLATEAU, 1, 2, ("a",), bad)
    with pytest.raises(ValueError, match="bogus"):
        Finding("bogus", 1, 2, ("a",), 0.5)  # type: ignore[arg-type]


def test_check_goal() -> None:
    assert [check_goal(g) for g in ("min", "max", None)] == ["min", "max", None]
    with pytest.raises(InvalidParameterError, match="'up'"):
        check_goal("up")


def test_json_safe_rejects_unknown_objects() -> None:
    with pytest.raises(TypeError, match="object"):
        json_safe(object())


def test_json_safe_of_plain_and_other_types() -> None:
    import enum
    from collections import OrderedDict
    from types import MappingProxyType

    import numpy as np

    class Level(enum.IntEnum):
        HIGH = 2

    class Share(float):
        pass

    value = {
        "plain": [1, 2.5, float("nan"), "s", True, None, (3, float("-inf"))],
        "numpy": [np.float64(0.5), np.int64(7), np.bool_(True), np.float64("inf")],
        "other": [Level.HIGH, Share(0.25), Share("nan"), FindingKind.PLATEAU],
        "maps": [OrderedDict(a=1.0), MappingProxyType({2: float("nan")})],
    }
    got = json_safe(value)
    assert got == {
        "plain": [1, 2.5, None, "s", True, None, [3, None]],
        "numpy": [0.5, 7, True, None],
        "other": [2, 0.25, None, "plateau"],
        "maps": [{"a": 1.0}, {"2": None}],
    }
    assert [type(v) for v in got["numpy"]] == [float, int, bool, type(None)]
    assert [type(v) for v in got["other"][:2]] == [int, float]
    assert json.dumps(got, allow_nan=False)
