"""Every real event file in ../shared/realworld, against TensorBoard's own loader.

For every run and scalar tag (``simple_value`` and rank-0 tensors of the
``scalars`` plugin), tbplateau must keep what TensorBoard's ``EventAccumulator``
(size guidance 0) keeps, except where our rules differ on purpose; each such run
is named below with the reason. Independently of those exceptions, applying our
restart rule to TensorBoard's unpurged record stream must give exactly our
points, steps and values, so nothing is lost or invented anywhere.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from tbplateau import Logdir, Problem, read_logdir
from tbplateau.reader import restart_keep_mask

REALWORLD = Path(__file__).resolve().parents[2].parent / "shared" / "realworld"

pytestmark = [
    pytest.mark.skipif(not REALWORLD.is_dir(), reason="../shared/realworld is absent"),
    pytest.mark.slow,
]

# Runs where our series differ from EventAccumulator's default on purpose.
# Lightning's `epoch` tag and the duplicate_steps test runs write the same step twice
# (the newest write wins: a duplicated step is not a new point); the others are
# restarted runs whose zig-zag EventAccumulator keeps (it purges only after a
# SessionLog.START or in pre-v2 files).
EXPECTED_DIFFERENCES = {
    "Abdul-AA__Text-Generation-With-LSTM/lightning_logs/version_0": "epoch logged twice per step",
    "AradhyaSpace11__KANKAN/lightning_logs/version_0": "epoch logged twice per step",
    "AradhyaSpace11__KANKAN/lightning_logs/version_1": "epoch logged twice per step",
    "AradhyaSpace11__KANKAN/lightning_logs/version_3": "epoch logged twice per step",
    "AradhyaSpace11__KANKAN/lightning_logs/version_5": "epoch logged twice per step",
    "AradhyaSpace11__KANKAN/lightning_logs/version_7": "epoch logged twice per step",
    "AradhyaSpace11__KANKAN/lightning_logs/version_9": "epoch logged twice per step",
    "AradhyaSpace11__KANKAN/lightning_logs/version_12": "epoch logged twice per step",
    "EnderXiao__SATD/lightning_logs/version_0": "epoch logged twice per step",
    "janosh__tensorboard-reducer/tests/runs/duplicate_steps/": "duplicate steps on purpose",
    "bwubrian__snakeai/summaries/multiMedSnake2_SnakeBrain": "second file restarts at step 1000",
    "huzaifasharafat__TFODCourse/Tensorflow/workspace/mobile 320x320": "4 sessions, same steps",
    "huzaifasharafat__TFODCourse/Tensorflow/workspace/models/my_ssd_mobnet/eval": (
        "step 50000 twice"
    ),
    "ldebris__Rossman/logs/": "six Keras sessions appended into the same run dirs",
    "wanghoppe__tempo/training": "restart from an older checkpoint; TF1 SessionLog.START purges",
}

# The damage present in the corpus, and nothing else.
EXPECTED_ISSUES = {
    "CoralReefFish__whisper-tiny-nbaiLab/runs/Dec30_05-50-47_ficino": [Problem.NOT_EVENT_FILE] * 2,
    "CoralReefFish__whisper-tiny-nbaiLab/runs/Dec30_05-50-47_ficino/1672375864.9455469": [
        Problem.NOT_EVENT_FILE
    ],
    "wanghoppe__tempo/training": [Problem.TRUNCATED],
}


@cache
def ours() -> Logdir:
    return read_logdir(REALWORLD)


def _tensorboard_points(run_dir: str, purge: bool) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing import event_accumulator as eam
    from tensorboard.backend.event_processing import io_wrapper
    from tensorboard.util import tensor_util

    original = io_wrapper.IsSummaryEventsFile

    def events_file(path: str) -> bool:  # its loader crashes on a *directory* named tfevents
        return bool(original(path)) and os.path.isfile(path)

    io_wrapper.IsSummaryEventsFile = events_file
    try:
        guidance = {k: 0 for k in (eam.SCALARS, eam.TENSORS, eam.HISTOGRAMS, eam.IMAGES, eam.AUDIO)}
        acc = eam.EventAccumulator(run_dir, size_guidance=guidance, purge_orphaned_data=purge)
        acc.Reload()
    finally:
        io_wrapper.IsSummaryEventsFile = original
    out: dict[str, list[tuple[int, float]]] = {}
    tags = acc.Tags()
    for tag in tags["scalars"]:
        out[tag] = [(e.step, e.value) for e in acc.Scalars(tag)]
    for tag in tags["tensors"]:
        if acc.SummaryMetadata(tag).plugin_data.plugin_name != "scalars":
            continue
        for e in acc.Tensors(tag):
            array = tensor_util.make_ndarray(e.tensor_proto)
            if array.ndim == 0:
                out.setdefault(tag, []).append((e.step, float(array)))
    return out


def _run_names() -> list[str]:
    if not REALWORLD.is_dir():
        return []
    return [r.name for r in ours().runs]


def test_corpus_totals_match_the_manifest() -> None:
    logdir = ours()
    kept = sum(len(s) for s in logdir.iter_series())
    replaced = sum(s.replaced_points for s in logdir.iter_series())
    assert kept + replaced == 191_904  # MANIFEST.md: "191,904 scalar points in total"


def test_read_issues_are_exactly_the_corpus_damage() -> None:
    found = {r.name: [i.problem for i in r.read_issues] for r in ours().runs if r.read_issues}
    assert found == EXPECTED_ISSUES


@pytest.mark.parametrize("run_name", _run_names())
def test_run_matches_tensorboard(run_name: str) -> None:
    run = ours()[run_name]
    run_dir = str(REALWORLD / run_name)
    default = _tensorboard_points(run_dir, purge=True)
    raw = _tensorboard_points(run_dir, purge=False)
    assert set(run.tags) == set(default) == set(raw)
    differs_on_purpose = any(
        run_name == name or (name.endswith("/") and run_name.startswith(name))
        for name in EXPECTED_DIFFERENCES
    )
    any_difference = False
    for series in run.series:
        steps = np.array([p[0] for p in raw[series.tag]], dtype=np.int64)
        values = np.array([p[1] for p in raw[series.tag]], dtype=np.float64)
        keep = restart_keep_mask(steps)
        np.testing.assert_array_equal(series.steps, steps[keep])
        np.testing.assert_array_equal(series.values, values[keep])
        assert series.replaced_points == int((~keep).sum())
        tb_steps = [p[0] for p in default[series.tag]]
        if tb_steps != series.steps.tolist():
            any_difference = True
            assert differs_on_purpose, f"{run_name}/{series.tag} differs from TensorBoard"
    if differs_on_purpose:
        assert any_difference, f"{run_name} is listed as differing but does not"


def _projects() -> list[str]:
    if not REALWORLD.is_dir():
        return []
    return sorted(p.name for p in REALWORLD.iterdir() if p.is_dir())


@pytest.mark.parametrize("project", _projects())
def test_ls_and_report_work_on_every_project(project: str) -> None:
    import io
    import json
    from importlib.resources import files

    import jsonschema
    from rich.console import Console

    from tbplateau.cli import main

    schema = json.loads(files("tbplateau").joinpath("schema/report-1.json").read_text())
    for argv in (["ls"], ["ls", "--format", "json"], ["report"], ["report", "--format", "json"]):
        out, err = io.StringIO(), io.StringIO()
        code = main(
            [argv[0], str(REALWORLD / project), *argv[1:]],
            stdout=Console(file=out, width=100),
            stderr=Console(file=err, width=100),
        )
        assert code == 0, err.getvalue()
        if "json" in argv:
            doc = json.loads(out.getvalue())
            assert doc["runs"]
            if argv[0] == "report":
                jsonschema.validate(doc, schema)


def test_pure_python_scanner_matches_the_compiled_one_on_the_corpus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tbplateau.reader import _scan_py, scan

    if scan.IMPLEMENTATION != "c":  # pragma: no cover - depends on the build
        pytest.skip("the compiled scanner is not built")
    compiled = ours()
    monkeypatch.setattr(scan, "_BACKEND", _scan_py)
    pure = read_logdir(REALWORLD, workers=1)
    assert [r.name for r in pure.runs] == [r.name for r in compiled.runs]
    for a, b in zip(compiled.runs, pure.runs, strict=True):
        assert a.read_issues == b.read_issues
        assert a.other_tags == b.other_tags
        for x, y in zip(a.series, b.series, strict=True):
            assert (x.tag, x.replaced_points, x.encoding) == (y.tag, y.replaced_points, y.encoding)
            np.testing.assert_array_equal(x.steps, y.steps)
            np.testing.assert_array_equal(x.values, y.values)
            np.testing.assert_array_equal(x.wall_times, y.wall_times)
