"""Byte-level tests: damage of every kind costs only the damaged bytes, and is reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tbplateau import Problem, read_logdir
from tbplateau.reader import LogdirReader, _scan_py
from tbplateau.reader.scan import scan_bytes
from tests import helpers as h

N = 40


def loss_file(tmp_path: Path, n: int = N) -> tuple[Path, bytes]:
    path = h.write_events(
        tmp_path / "run" / "events.out.tfevents.1.host", h.curve("loss", range(n))
    )
    return path, path.read_bytes()


def test_masked_crc_matches_tensorboard() -> None:
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as tb_masked

    for data in (b"", b"a", b"hello world" * 7, bytes(range(256))):
        assert _scan_py.masked_crc32c(data) == tb_masked(data)
    try:
        from tbplateau.reader import _fastscan
    except ImportError:  # pragma: no cover
        return
    for data in (b"", b"a", b"hello world" * 7, bytes(range(256)) * 3):
        assert _fastscan.masked_crc32c(data) == tb_masked(data)


def test_clean_file(impl: str, tmp_path: Path) -> None:
    loss_file(tmp_path)
    run = read_logdir(tmp_path)["run"]
    assert run.read_issues == ()
    assert run["loss"].steps.tolist() == list(range(N))


@pytest.mark.parametrize("cut", [1, 5, 11, 12, 13, 20, -5, -4, -1])
def test_truncated_last_record(impl: str, tmp_path: Path, cut: int) -> None:
    path, data = loss_file(tmp_path)
    last = h.record_offsets(data)[-1]
    end = last + cut if cut > 0 else len(data) + cut
    path.write_bytes(data[:end])
    run = read_logdir(tmp_path)["run"]
    assert run["loss"].steps.tolist() == list(range(N - 1))
    (issue,) = run.read_issues
    assert issue.problem is Problem.TRUNCATED
    assert issue.offset == last
    assert "may still be being written" in issue.message
    assert issue.file == "run/events.out.tfevents.1.host"


@pytest.mark.parametrize("where", ["length", "length_crc", "data", "data_crc"])
@pytest.mark.parametrize("record", [1, 17, N])
def test_flipped_byte_costs_one_record(impl: str, tmp_path: Path, where: str, record: int) -> None:
    path, data = loss_file(tmp_path)
    offsets = h.record_offsets(data)
    start = offsets[record]
    end = offsets[record + 1] if record + 1 < len(offsets) else len(data)
    pos = {"length": start + 2, "length_crc": start + 9, "data": start + 20, "data_crc": end - 2}[
        where
    ]
    damaged = bytearray(data)
    damaged[pos] ^= 0x5A
    path.write_bytes(bytes(damaged))
    run = read_logdir(tmp_path)["run"]
    lost = record - 1  # record 0 is the file_version event
    assert run["loss"].steps.tolist() == [s for s in range(N) if s != lost]
    corrupt = [i for i in run.read_issues if i.problem is Problem.CORRUPT]
    assert [i.offset for i in corrupt] == [start]
    if record == N and where in ("length", "length_crc"):
        # the resync search meets no later record: nothing else to report
        assert len(run.read_issues) == 1


def test_garbage_between_records(impl: str, tmp_path: Path) -> None:
    path, data = loss_file(tmp_path)
    at = h.record_offsets(data)[10]
    junk = bytes(np.random.default_rng(1).integers(0, 256, 1000, dtype=np.uint8))
    path.write_bytes(data[:at] + junk + data[at:])
    run = read_logdir(tmp_path)["run"]
    assert run["loss"].steps.tolist() == list(range(N))
    (issue,) = run.read_issues
    assert (issue.problem, issue.offset) == (Problem.CORRUPT, at)


def test_unparsable_record_with_valid_crc(impl: str, tmp_path: Path) -> None:
    bad = b"\x0a\xff\xff\xff\xff\x0f"  # field 1, length 2**32-1: runs past the message
    good = h.frame([h.file_version(), h.scalar("loss", 0, 1.0)])
    import io

    from tensorboard.summary.writer.record_writer import RecordWriter

    buf = io.BytesIO()
    RecordWriter(buf).write(bad)
    data = good + buf.getvalue() + h.frame([h.scalar("loss", 1, 0.5)])
    (tmp_path / "events.out.tfevents.x").write_bytes(data)
    run = read_logdir(tmp_path)["."]
    assert run["loss"].steps.tolist() == [0, 1]
    (issue,) = run.read_issues
    assert (issue.problem, issue.offset) == (Problem.CORRUPT, len(good))
    assert "unparsable Event" in issue.message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty file"),
        (
            b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 124479\n",
            "Git LFS pointer",
        ),
        (b"this is not an event file at all, just some text\n" * 3, "not a TFRecord"),
    ],
)
def test_not_event_files(impl: str, tmp_path: Path, content: bytes, words: str) -> None:
    (tmp_path / "events.out.tfevents.bad").write_bytes(content)
    h.write_events(tmp_path / "events.out.tfevents.good", [h.scalar("acc", 1, 0.5)])
    run = read_logdir(tmp_path)["."]
    assert run["acc"].values.tolist() == [0.5]
    (issue,) = run.read_issues
    assert issue.problem is Problem.NOT_EVENT_FILE
    assert issue.file == "events.out.tfevents.bad"
    assert words in issue.message
    assert "\n" not in issue.message


@pytest.mark.parametrize("split", [3, 12, 15, 30])
def test_record_cut_in_two_then_completed(impl: str, tmp_path: Path, split: int) -> None:
    path, data = loss_file(tmp_path)
    offsets = h.record_offsets(data)
    cut = offsets[20] + split
    path.write_bytes(data[:cut])
    reader = LogdirReader(tmp_path, workers=1)
    first = reader.poll()
    assert [s.steps.tolist() for s in first] == [list(range(19))]
    snap = reader.snapshot()
    assert [i.problem for i in snap["run"].read_issues] == [Problem.TRUNCATED]
    assert reader.poll() == ()  # nothing new: the half record is still held back
    with path.open("ab") as fh:
        fh.write(data[cut:])
    second = reader.poll()
    assert [s.steps.tolist() for s in second] == [list(range(19, N))]
    snap = reader.snapshot()
    assert snap["run"].read_issues == ()
    fresh = read_logdir(tmp_path)
    np.testing.assert_array_equal(snap["run"]["loss"].values, fresh["run"]["loss"].values)
    np.testing.assert_array_equal(snap["run"]["loss"].steps, np.arange(N))


def test_incremental_append_of_new_file_and_run(impl: str, tmp_path: Path) -> None:
    h.write_events(tmp_path / "a" / "events.out.tfevents.1", h.curve("loss", range(5)))
    reader = LogdirReader(tmp_path, workers=1)
    assert sum(len(s) for s in reader.poll()) == 5
    h.write_events(tmp_path / "a" / "events.out.tfevents.2", h.curve("loss", range(5, 8)))
    h.write_events(tmp_path / "b" / "events.out.tfevents.1", h.curve("acc", range(3)))
    new = reader.poll()
    assert sorted((s.run, s.tag, len(s)) for s in new) == [("a", "loss", 3), ("b", "acc", 3)]
    assert reader.snapshot()["a"]["loss"].steps.tolist() == list(range(8))


def test_chunk_boundaries_do_not_matter(impl: str, tmp_path: Path) -> None:
    _, data = loss_file(tmp_path)
    at = h.record_offsets(data)[7]
    damaged = data[:at] + b"\x00garbage\xff" * 9 + data[at:]
    whole = scan_bytes([damaged])
    for size in (1, 7, 13, 64, 1000):
        chunks = [damaged[i : i + size] for i in range(0, len(damaged), size)]
        part = scan_bytes(chunks)
        np.testing.assert_array_equal(part.steps, whole.steps)
        np.testing.assert_array_equal(part.values, whole.values)
        assert part.issues == whole.issues
        assert part.offset == whole.offset == len(damaged)
