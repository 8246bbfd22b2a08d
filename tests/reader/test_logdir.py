"""Logdir-level reading: discovery, every encoding, restarts, parallel and remote reads."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tbplateau import (
    LogdirNotFoundError,
    MissingExtraError,
    NoEventFilesError,
    Problem,
    read_logdir,
)
from tbplateau.reader import LogdirReader, restart_keep_mask
from tbplateau.reader import discover as discover_mod
from tests import helpers as h


def test_runs_are_named_like_tensorboard(tmp_path: Path) -> None:
    h.write_events(tmp_path / "events.out.tfevents.0", [h.scalar("a", 0, 1.0)])
    h.write_events(tmp_path / "exp1" / "train" / "events.out.tfevents.1", [h.scalar("a", 0, 1.0)])
    h.write_events(tmp_path / "exp1" / "validation" / "x.tfevents.y", [h.scalar("a", 0, 1.0)])
    (tmp_path / "exp1" / "notes.txt").write_text("not an event file")
    (tmp_path / "empty_dir").mkdir()
    logdir = read_logdir(tmp_path)
    assert [r.name for r in logdir.runs] == [".", "exp1/train", "exp1/validation"]
    assert logdir["exp1/train"].files == ("exp1/train/events.out.tfevents.1",)


def test_files_of_a_run_are_read_in_lexicographic_order(tmp_path: Path) -> None:
    # names chosen so that creation order and lexicographic order differ
    h.write_events(tmp_path / "events.out.tfevents.2", [h.scalar("x", s, 2.0) for s in (0, 1)])
    h.write_events(tmp_path / "events.out.tfevents.10", [h.scalar("x", s, 10.0) for s in (0, 1)])
    series = read_logdir(tmp_path)["."]["x"]
    # "...10" < "...2": the file ending in 2 is read last, so its writes win
    assert series.values.tolist() == [2.0, 2.0]
    assert series.replaced_points == 2


def test_symlink_loop_does_not_hang(tmp_path: Path) -> None:
    h.write_events(tmp_path / "run" / "events.out.tfevents.1", [h.scalar("a", 0, 1.0)])
    os.symlink(tmp_path, tmp_path / "run" / "loop")
    os.symlink(tmp_path / "self", tmp_path / "self")  # dangling self-loop
    logdir = read_logdir(tmp_path)
    assert [r.name for r in logdir.runs] == ["run"]


def test_symlinked_run_is_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    h.write_events(elsewhere / "events.out.tfevents.1", [h.scalar("a", 0, 1.0)])
    logdir_path = tmp_path / "logs"
    logdir_path.mkdir()
    os.symlink(elsewhere, logdir_path / "linked")
    assert [r.name for r in read_logdir(logdir_path).runs] == ["linked"]


def test_unreadable_directory_is_an_issue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    h.write_events(tmp_path / "ok" / "events.out.tfevents.1", [h.scalar("a", 0, 1.0)])
    (tmp_path / "locked").mkdir()
    real = discover_mod.LocalFileSystem.list_dir

    def list_dir(self: discover_mod.LocalFileSystem, path: str) -> list[tuple[str, bool]]:
        if path.endswith("locked"):
            raise PermissionError(13, "Permission denied", path)
        return real(self, path)

    monkeypatch.setattr(discover_mod.LocalFileSystem, "list_dir", list_dir)
    logdir = read_logdir(tmp_path)
    assert [(i.problem, i.file) for i in logdir.read_issues] == [(Problem.UNREADABLE, "locked")]
    assert logdir["ok"]["a"].values.tolist() == [1.0]


@pytest.mark.parametrize("dtype", sorted(h.DTYPES))
@pytest.mark.parametrize("field", ["tensor_content", "natural"])
def test_tf2_tensor_scalars_of_every_dtype(
    impl: str, tmp_path: Path, dtype: str, field: str
) -> None:
    natural = {
        "float": "float_val",
        "double": "double_val",
        "half": "half_val",
        "bfloat16": "half_val",
        "int32": "int_val",
        "int64": "int64_val",
    }[dtype]
    values = [1.5, -2.0, 3.0, 1024.0] if "int" not in dtype else [1, -2, 3, 1 << 20]
    if dtype == "int64":
        values.append(-(1 << 40))
    events = [
        h.tensor_scalar(
            "m", i, v, dtype=dtype, field=natural if field == "natural" else field, metadata=i == 0
        )
        for i, v in enumerate(values)
    ]
    h.write_events(tmp_path / "events.out.tfevents.1", events)
    series = read_logdir(tmp_path)["."]["m"]
    assert series.values.tolist() == [float(v) for v in values]
    assert series.encoding == "tensor"


def test_special_float_values(impl: str, tmp_path: Path) -> None:
    vals = [float("nan"), float("inf"), -float("inf"), 1e30, -0.0]
    events = [h.scalar("s", i, v) for i, v in enumerate(vals)]
    events += [
        h.tensor_scalar("t", i, v, dtype="double", field="double_val", metadata=i == 0)
        for i, v in enumerate(vals)
    ]
    events += [
        h.tensor_scalar("hf", i, v, dtype="half", field="half_val", metadata=i == 0)
        for i, v in enumerate(vals[:3])
    ]
    h.write_events(tmp_path / "events.out.tfevents.1", events)
    run = read_logdir(tmp_path)["."]
    np.testing.assert_array_equal(run["t"].values, np.array(vals))
    np.testing.assert_array_equal(run["s"].values, np.array(vals, dtype=np.float32).astype(float))
    np.testing.assert_array_equal(run["hf"].values, np.array(vals[:3]))


def test_plugin_metadata_only_on_first_event_in_an_earlier_file(impl: str, tmp_path: Path) -> None:
    h.write_events(
        tmp_path / "events.out.tfevents.1", [h.tensor_scalar("loss", 0, 1.0, metadata=True)]
    )
    h.write_events(
        tmp_path / "events.out.tfevents.2",
        [h.tensor_scalar("loss", s, 1.0 / s, metadata=False) for s in range(1, 4)],
    )
    assert read_logdir(tmp_path)["."]["loss"].steps.tolist() == [0, 1, 2, 3]


def test_non_scalars_are_listed_not_read_as_series(impl: str, tmp_path: Path) -> None:
    events = [
        h.scalar("loss", 0, 1.0),
        h.histogram("w", 0),
        h.histogram("w", 1),
        h.image("img", 0),
        h.audio("snd", 0),
        h.text("notes", 0),
        h.tensor_histogram("w2", 0),
        h.hparams_session(),
        h.graph(),
        h.tensor_scalar("not_scalars_plugin", 0, 3.0, plugin="custom"),
        h.tensor_scalar("no_metadata", 0, 3.0, metadata=False),
    ]
    h.write_events(tmp_path / "events.out.tfevents.1", events)
    run = read_logdir(tmp_path)["."]
    assert run.tags == ("loss",)
    assert {(t.tag, t.kind, t.count) for t in run.other_tags} == {
        ("w", "histogram", 2),
        ("img", "image", 1),
        ("snd", "audio", 1),
        ("notes", "text", 1),
        ("w2", "histograms", 1),
        ("_hparams_/session_start_info", "hparams", 1),
        ("not_scalars_plugin", "custom", 1),
        ("no_metadata", "tensor", 1),
    }


def test_restart_in_a_second_file_newest_write_wins(impl: str, tmp_path: Path) -> None:
    h.write_events(
        tmp_path / "events.out.tfevents.1", [h.scalar("loss", s, 1.0) for s in range(10)]
    )
    h.write_events(
        tmp_path / "events.out.tfevents.2",
        [h.session_start(5)] + [h.scalar("loss", s, 2.0) for s in range(5, 15)],
    )
    run = read_logdir(tmp_path)["."]
    series = run["loss"]
    assert series.steps.tolist() == list(range(15))
    assert series.values.tolist() == [1.0] * 5 + [2.0] * 10
    assert series.replaced_points == 5
    assert run.session_starts == 1


def test_steps_that_never_advance_keep_record_order(impl: str, tmp_path: Path) -> None:
    h.write_events(
        tmp_path / "events.out.tfevents.1", [h.scalar("q", 0, float(i)) for i in range(6)]
    )
    series = read_logdir(tmp_path)["."]["q"]
    assert series.values.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert series.replaced_points == 0


def test_restart_rule_matches_sequential_definition() -> None:
    rng = np.random.default_rng(3)
    for _ in range(300):
        steps = rng.integers(0, 12, size=rng.integers(1, 25)).astype(np.int64)
        kept: list[tuple[int, int]] = []  # (step, index)
        for i, s in enumerate(steps.tolist()):
            kept = [k for k in kept if k[0] < s]
            kept.append((s, i))
        expected = np.zeros(len(steps), dtype=bool)
        expected[[i for _, i in kept]] = True
        if steps.min() == steps.max():
            expected[:] = True
        np.testing.assert_array_equal(restart_keep_mask(steps), expected)


def test_parallel_read_equals_serial(tmp_path: Path) -> None:
    for r in range(6):
        for f in range(2):
            h.write_events(
                tmp_path / f"run{r}" / f"events.out.tfevents.{f}",
                [*h.curve("loss", range(f * 50, f * 50 + 80), seed=r), h.histogram("w", 1)],
            )
    serial = LogdirReader(tmp_path, workers=1)
    serial.poll()
    parallel = LogdirReader(tmp_path, workers=2, parallel_min_bytes=0)
    parallel.poll()
    a, b = serial.snapshot(), parallel.snapshot()
    assert [r.name for r in a.runs] == [r.name for r in b.runs]
    for ra, rb in zip(a.runs, b.runs, strict=True):
        assert ra.other_tags == rb.other_tags
        assert ra.read_issues == rb.read_issues
        for sa, sb in zip(ra.series, rb.series, strict=True):
            assert (sa.tag, sa.replaced_points) == (sb.tag, sb.replaced_points)
            np.testing.assert_array_equal(sa.steps, sb.steps)
            np.testing.assert_array_equal(sa.values, sb.values)
            np.testing.assert_array_equal(sa.wall_times, sb.wall_times)


def test_remote_logdir_through_fsspec_memory(tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    local = h.write_events(tmp_path / "events.out.tfevents.1", h.curve("loss", range(30)))
    data = local.read_bytes()
    fs.pipe("/remote-logs/train/events.out.tfevents.1", data)
    fs.pipe("/remote-logs/val/events.out.tfevents.1", data[:-7])
    logdir = read_logdir("memory://remote-logs")
    assert [r.name for r in logdir.runs] == ["train", "val"]
    assert len(logdir["train"]["loss"]) == 30
    assert len(logdir["val"]["loss"]) == 29
    assert [i.problem for i in logdir["val"].read_issues] == [Problem.TRUNCATED]
    fs.rm("/remote-logs", recursive=True)


def test_remote_without_fsspec_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_fsspec(name: str, *args: object, **kwargs: object) -> object:
        if name == "fsspec" or name.startswith("fsspec."):
            raise ImportError("No module named 'fsspec'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_fsspec)
    with pytest.raises(MissingExtraError, match=r"tbplateau\[remote\]"):
        read_logdir("s3://bucket/logs")


def test_missing_logdir(tmp_path: Path) -> None:
    with pytest.raises(LogdirNotFoundError, match=r"does not exist: .*nope"):
        read_logdir(tmp_path / "nope")


def test_logdir_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(LogdirNotFoundError, match="not a directory"):
        read_logdir(tmp_path / "f")


def test_logdir_without_event_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "readme.txt").write_text("x")
    with pytest.raises(NoEventFilesError, match=f"no event files .* under {tmp_path}"):
        read_logdir(tmp_path)


def test_to_pandas_long_format(tmp_path: Path) -> None:
    pytest.importorskip("pandas")
    h.write_events(tmp_path / "a" / "events.out.tfevents.1", h.curve("loss", range(3)))
    h.write_events(tmp_path / "b" / "events.out.tfevents.1", h.curve("acc", range(2)))
    df = read_logdir(tmp_path).to_pandas()
    assert list(df.columns) == ["run", "tag", "step", "value", "wall_time"]
    assert df[["run", "tag", "step"]].values.tolist() == [
        ["a", "loss", 0],
        ["a", "loss", 1],
        ["a", "loss", 2],
        ["b", "acc", 0],
        ["b", "acc", 1],
    ]
    assert str(df["step"].dtype) == "int64"


def test_progress_counts_files(tmp_path: Path) -> None:
    for r in range(3):
        h.write_events(tmp_path / f"run{r}" / "events.out.tfevents.1", [h.scalar("a", 0, 1.0)])
    calls: list[tuple[int, int]] = []
    read_logdir(tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]
