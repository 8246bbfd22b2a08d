"""Building runs from scans: grouping by tag, restarts, encodings, against a plain reference.

The reader groups a run's points by tag with a handful of numpy calls per run (reading
many small runs is dominated by per-call overhead); this checks it against the rule
written out point by point, on random runs of several files.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tbplateau.reader import read_logdir
from tests import helpers as h

# (tag, step, kind): kind 0 simple_value, 1 tensor with scalars metadata, 2 tensor without
_EVENT = st.tuples(st.sampled_from(["a", "b", "c/d"]), st.integers(0, 6), st.integers(0, 2))
_FILES = st.lists(st.lists(_EVENT, min_size=1, max_size=14), min_size=1, max_size=3)


def _reference(
    files: list[list[tuple[str, int, int]]],
) -> tuple[dict[str, tuple[list[int], list[float], int, str]], dict[str, int]]:
    """Per tag: kept steps, kept values, replaced points, encoding; and dropped tensors."""
    declared = {tag for f in files for tag, _, kind in f if kind == 1}
    points: dict[str, list[tuple[int, float, int]]] = {}
    dropped: dict[str, int] = {}
    value = 0.0
    for f in files:
        for tag, step, kind in f:
            value += 1.0
            if kind == 2 and tag not in declared:
                dropped[tag] = dropped.get(tag, 0) + 1
                continue
            points.setdefault(tag, []).append((step, value, kind))
    out = {}
    for tag, pts in points.items():
        steps = [p[0] for p in pts]
        if min(steps) == max(steps):
            kept = pts
        else:
            kept = [p for i, p in enumerate(pts) if all(q[0] > p[0] for q in pts[i + 1 :])]
        tensors = sum(1 for p in pts if p[2] != 0)
        encoding = "simple_value" if tensors == 0 else "tensor" if tensors == len(pts) else "mixed"
        out[tag] = ([p[0] for p in kept], [p[1] for p in kept], len(pts) - len(kept), encoding)
    return out, dropped


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_FILES)
def test_runs_are_built_as_the_rule_says(
    tmp_path_factory: pytest.TempPathFactory, files: list[list[tuple[str, int, int]]]
) -> None:
    root: Path = tmp_path_factory.mktemp("run")
    value = 0.0
    for i, events in enumerate(files):
        written = []
        for tag, step, kind in events:
            value += 1.0
            if kind == 0:
                written.append(h.scalar(tag, step, value))
            else:
                written.append(h.tensor_scalar(tag, step, value, metadata=kind == 1))
        h.write_events(root / f"events.out.tfevents.{i}", written)
    expected, dropped = _reference(files)
    run = read_logdir(root)["."]
    assert run.tags == tuple(sorted(expected))
    for s in run.series:
        steps, values, replaced, encoding = expected[s.tag]
        assert s.steps.tolist() == steps
        assert s.values.tolist() == values
        assert s.replaced_points == replaced
        assert s.encoding == encoding
    assert {t.tag: t.count for t in run.other_tags} == dropped
