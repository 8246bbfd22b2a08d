"""Display downsampling: thinner, but every bucket's extremes (and spikes) survive."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tbplateau.plugin.points import display_indices, series_points
from tbplateau.series import Series


def test_few_points_are_all_kept() -> None:
    assert display_indices(np.arange(10.0), 8).tolist() == list(range(10))
    assert display_indices(np.zeros(0), 8).tolist() == []


def test_a_single_spike_survives() -> None:
    values = np.ones(100_000)
    values[71_234] = 1e9
    values[3] = -5.0
    keep = display_indices(values, 100)
    assert {3, 71_234, 0, 99_999} <= set(keep.tolist())
    assert len(keep) <= 2 * 100 + 2 + 100


def test_nonfinite_points_are_marked() -> None:
    values = np.linspace(1.0, 0.0, 5000)
    values[4000:] = np.nan
    values[1234] = np.inf
    keep = display_indices(values, 50).tolist()
    assert 1234 in keep
    assert 4000 in keep  # the first NaN of its bucket


def test_rejects_no_buckets() -> None:
    with pytest.raises(ValueError, match="buckets"):
        display_indices(np.zeros(5), 0)


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float64,
        st.integers(0, 3000),
        elements=st.floats(allow_nan=True, allow_infinity=True, width=64),
    ),
    st.integers(1, 200),
)
def test_each_bucket_keeps_its_extremes(values: np.ndarray, buckets: int) -> None:
    keep = display_indices(values, buckets)
    n = len(values)
    assert keep.tolist() == sorted(set(keep.tolist()))
    if n <= 2 * buckets + 2:
        assert len(keep) == n
        return
    assert len(keep) <= 3 * buckets + 2
    kept = set(keep.tolist())
    assert {0, n - 1} <= kept
    edges = np.linspace(0, n, buckets + 1).astype(int)
    for a, b in itertools.pairwise(edges):
        chunk = values[a:b]
        finite = chunk[np.isfinite(chunk)]
        shown = values[[i for i in kept if a <= i < b]]
        if finite.size:
            assert finite.min() in shown
            assert finite.max() in shown
        if finite.size < chunk.size:
            assert not np.isfinite(shown).all()


def test_series_points_json() -> None:
    steps = np.arange(0, 3000, 3)
    values = np.exp(-steps / 500.0)
    values[900:] = np.nan
    values[10] = -np.inf
    s = Series("run", "loss", steps=steps, values=values)
    doc = series_points(s, buckets=20)
    text = json.dumps(doc, allow_nan=False)  # strict JSON
    assert json.loads(text) == doc
    assert doc["points"] == 1000
    assert doc["shown"] == len(doc["steps"]) == len(doc["values"])
    assert [30, "-inf"] in doc["nonfinite"]
    assert [2700, "nan"] in doc["nonfinite"]
    for step, value in zip(doc["steps"], doc["values"], strict=True):
        if value is not None:
            assert math.isclose(value, math.exp(-step / 500.0))
