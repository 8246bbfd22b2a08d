"""The points of one series for the tab's chart, thinned for display only.

A chart a few hundred pixels wide cannot show a million points, but it must still show
the spike that made a run diverge. :func:`display_indices` cuts the series into
buckets of consecutive points and keeps, in each, the points with the smallest and the
largest finite value and the first non-finite point, plus the first and last points of
the series. The analysis never sees this thinning: it runs on every point.

>>> import numpy as np
>>> values = np.zeros(1000)
>>> values[637] = 50.0  # one spike
>>> keep = display_indices(values, buckets=10)
>>> 637 in keep.tolist(), len(keep) <= 2 * 10 + 2
(True, True)
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import numpy.typing as npt

from tbplateau.series import Series

__all__ = ["MAX_BUCKETS", "MIN_BUCKETS", "display_indices", "series_points"]

MIN_BUCKETS = 8
MAX_BUCKETS = 4000


def display_indices(values: npt.NDArray[np.float64], buckets: int) -> npt.NDArray[np.intp]:
    """Sorted indices of the points to draw (all of them when they are few).

    Each of ``buckets`` runs of consecutive points contributes its minimum and maximum
    finite values and its first non-finite value; the first and the last point are
    always kept.
    """
    if buckets < 1:
        raise ValueError(f"buckets must be positive, not {buckets!r}")
    n = int(values.shape[0])
    if n <= 2 * buckets + 2:
        return np.arange(n, dtype=np.intp)
    finite = np.isfinite(values)
    low = np.where(finite, values, np.inf)
    high = np.where(finite, values, -np.inf)
    edges = np.linspace(0, n, buckets + 1).astype(np.intp)
    keep: list[int] = [0, n - 1]
    for a, b in itertools.pairwise(edges.tolist()):
        if b <= a:
            continue
        fin = finite[a:b]
        if fin.any():
            keep.append(a + int(np.argmin(low[a:b])))
            keep.append(a + int(np.argmax(high[a:b])))
        if not fin.all():
            keep.append(a + int(np.argmin(fin)))
    return np.unique(np.asarray(keep, dtype=np.intp))


def _json_value(v: float) -> float | None:
    return v if math.isfinite(v) else None


def _nonfinite_name(v: float) -> str:
    return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def series_points(series: Series, *, buckets: int) -> dict[str, Any]:
    """The JSON payload of one chart: thinned steps and values (``null`` where not
    finite, with ``nonfinite`` saying which: ``nan``, ``inf`` or ``-inf``)."""
    keep = display_indices(series.values, buckets)
    steps = series.steps[keep].tolist()
    raw = series.values[keep].tolist()
    return {
        "run": series.run,
        "tag": series.tag,
        "points": len(series),
        "shown": len(steps),
        "steps": steps,
        "values": [_json_value(v) for v in raw],
        "nonfinite": [
            [s, _nonfinite_name(v)] for s, v in zip(steps, raw, strict=True) if not math.isfinite(v)
        ],
    }
