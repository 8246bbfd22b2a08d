"""A long-lived reader: rebuild only what changed, and forget runs whose directory vanished."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tbplateau.reader import LogdirReader, read_logdir
from tests.helpers import curve, frame, write_events


def _logdir(root: Path) -> None:
    for run, seed in (("a", 0), ("b", 1), ("x/train", 2), ("x/validation", 3)):
        write_events(root / run / "events.out.tfevents.1", curve("loss", range(30), seed=seed))


def test_fingerprints_change_only_for_runs_that_grew(tmp_path: Path) -> None:
    _logdir(tmp_path)
    reader = LogdirReader(tmp_path)
    reader.poll(collect=False)
    before = reader.fingerprints()
    assert sorted(before) == ["a", "b", "x/train", "x/validation"]
    reader.poll(collect=False)
    assert reader.fingerprints() == before
    with (tmp_path / "b" / "events.out.tfevents.1").open("ab") as fh:
        fh.write(frame(curve("loss", range(30, 40), seed=5))[:-3])  # the last record cut
    reader.poll(collect=False)
    after = reader.fingerprints()
    assert [n for n in after if after[n] != before[n]] == ["b"]


def test_snapshot_of_some_runs_equals_the_whole_snapshot(tmp_path: Path) -> None:
    _logdir(tmp_path)
    reader = LogdirReader(tmp_path)
    reader.poll(collect=False)
    whole = reader.snapshot()
    part = reader.snapshot(runs=["b", "x/validation", "nope"])
    assert [r.name for r in part.runs] == ["b", "x/validation"]
    for run in part.runs:
        other = whole[run.name]
        assert (run.files, run.read_issues, run.tags) == (
            other.files,
            other.read_issues,
            other.tags,
        )
        for a, b in zip(run.series, other.series, strict=True):
            assert np.array_equal(a.steps, b.steps)
            assert np.array_equal(a.values, b.values)


def test_root_directory_issues_go_with_run_dot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _logdir(tmp_path)
    reader = LogdirReader(tmp_path)
    real = reader._fs.list_dir

    def list_dir(path: str) -> list[tuple[str, bool]]:
        if path.endswith("/b"):
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(reader._fs, "list_dir", list_dir)
    reader.poll(collect=False)
    assert "." in reader.fingerprints()
    (dot,) = reader.snapshot(runs=["."]).runs
    assert [i.problem.value for i in dot.read_issues] == ["unreadable"]
    assert [r.name for r in reader.snapshot(runs=["a"]).runs] == ["a"]


def test_a_run_whose_directory_vanished_is_dropped(tmp_path: Path) -> None:
    _logdir(tmp_path)
    reader = LogdirReader(tmp_path)
    reader.poll(collect=False)
    shutil.rmtree(tmp_path / "a")
    reader.poll(collect=False)
    assert [r.name for r in reader.snapshot()] == ["b", "x/train", "x/validation"]
    assert reader.snapshot().read_issues == ()
    assert [r.name for r in reader.snapshot()] == [r.name for r in read_logdir(tmp_path)]
    # the same name again is a new run, read from its start
    write_events(tmp_path / "a" / "events.out.tfevents.9", curve("acc", range(5)))
    reader.poll(collect=False)
    assert reader.snapshot()["a"].tags == ("acc",)


def test_a_run_under_a_directory_that_cannot_be_listed_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _logdir(tmp_path)
    reader = LogdirReader(tmp_path)
    reader.poll(collect=False)
    real = reader._fs.list_dir

    def list_dir(path: str) -> list[tuple[str, bool]]:
        if path.endswith("/x"):
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(reader._fs, "list_dir", list_dir)
    reader.poll(collect=False)
    names = [r.name for r in reader.snapshot()]
    assert names == [".", "a", "b", "x/train", "x/validation"]
    assert reader.snapshot()["x/train"].points == 30


def test_a_file_replaced_by_one_of_the_same_size_changes_the_fingerprint(tmp_path: Path) -> None:
    path = write_events(tmp_path / "a" / "events.out.tfevents.1", curve("loss", range(30)))
    reader = LogdirReader(tmp_path)
    reader.poll(collect=False)
    before = reader.fingerprints()
    replacement = tmp_path / "new"
    write_events(replacement, curve("loss", range(30), seed=9))
    assert replacement.stat().st_size == path.stat().st_size
    replacement.replace(path)  # another file, same name, same length
    reader.poll(collect=False)
    assert reader.fingerprints() != before
