from __future__ import annotations

import numpy as np
import pytest

from tbplateau import Series


def test_arrays_are_typed_and_read_only() -> None:
    s = Series("r", "loss", steps=[1, 2], values=[0.5, 0.25], wall_times=[10.0, 11.0])
    assert s.steps.dtype == np.int64
    assert s.values.dtype == np.float64
    with pytest.raises(ValueError, match="read-only"):
        s.values[0] = 1.0


def test_length_mismatch_names_the_series() -> None:
    with pytest.raises(ValueError, match="'r'/'loss'"):
        Series("r", "loss", steps=[1, 2], values=[0.5])


def test_to_pandas_long_format() -> None:
    pytest.importorskip("pandas")
    df = Series("r", "loss", steps=[1, 2], values=[0.5, 0.25]).to_pandas()
    assert list(df.columns) == ["run", "tag", "step", "value", "wall_time"]
    assert df["value"].tolist() == [0.5, 0.25]
