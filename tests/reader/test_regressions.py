"""One test per defect of issue 10 ("Reader hardening"); each failed before the fix.

Every input is built here from the test helpers (no binary blob). The tests use the
public reader API only (``read_logdir``, ``LogdirReader``, ``scan_bytes``), with the
``impl`` fixture where both scanners must be checked.
"""

from __future__ import annotations

import io
import os
import random
import signal
import struct
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from rich.console import Console
from tensorboard.compat.proto.event_pb2 import Event

from tbplateau import NoEventFilesError, Problem, read_logdir
from tbplateau.reader import LogdirReader, _scan_py
from tbplateau.reader import discover as discover_mod
from tbplateau.reader.scan import scan_bytes
from tests import helpers as h
from tests.reader import fuzzing

EVENTS = "events.out.tfevents.1.host"


def records(events: list[Event]) -> list[bytes]:
    """Each event as its own framed record."""
    return [h.frame([ev]) for ev in events]


def steps(path: Path, run: str = ".", tag: str = "loss") -> list[int]:
    out: list[int] = read_logdir(path)[run][tag].steps.tolist()
    return out


def header(length: int) -> bytes:
    """A record header claiming ``length`` bytes, with a valid length CRC."""
    raw = struct.pack("<Q", length)
    return raw + struct.pack("<I", _scan_py.masked_crc32c(raw))


# ----------------------------------------------------------------- 1. intact records kept


def test_torn_record_keeps_the_records_inside_its_declared_length(
    impl: str, tmp_path: Path
) -> None:
    # a crash tore a 250-byte graph record after 40 bytes; the writer went on appending
    head = records([h.file_version(), *h.curve("loss", range(5))])
    graph = h.frame([h.graph()])
    after = records(h.curve("loss", range(5, 15)))
    torn_at = sum(map(len, head))
    (tmp_path / EVENTS).write_bytes(b"".join(head) + graph[:40] + b"".join(after))
    run = read_logdir(tmp_path)["."]
    assert run["loss"].steps.tolist() == list(range(15))
    (issue,) = run.read_issues
    assert (issue.problem, issue.offset) == (Problem.CORRUPT, torn_at)
    assert f"skipped 40 bytes (offsets {torn_at} to {torn_at + 40})" in issue.message


def test_interrupted_copy_followed_by_another_file(impl: str, tmp_path: Path) -> None:
    first = h.frame([h.file_version(), h.graph(), *h.curve("loss", range(3))])
    second = h.frame([h.file_version(), *h.curve("loss", range(3, 30))])
    cut = h.record_offsets(first)[1] + 100  # inside the graph record
    (tmp_path / EVENTS).write_bytes(first[:cut] + second)
    assert steps(tmp_path) == list(range(3, 30))


def test_over_long_header_followed_by_records_is_damage(impl: str, tmp_path: Path) -> None:
    # a valid header whose length runs past the end of the file, then valid records
    good = h.frame([h.file_version(), *h.curve("loss", range(4))])
    after = h.frame(h.curve("loss", range(4, 12)))
    (tmp_path / EVENTS).write_bytes(good + header(len(after) + 500) + after)
    run = read_logdir(tmp_path)["."]
    assert run["loss"].steps.tolist() == list(range(12))
    (issue,) = run.read_issues
    assert (issue.problem, issue.offset) == (Problem.CORRUPT, len(good))
    assert "skipped 12 bytes" in issue.message


def test_poll_goes_on_past_a_torn_record_once_later_records_arrive(
    impl: str, tmp_path: Path
) -> None:
    path = tmp_path / EVENTS
    start = h.frame([h.file_version(), *h.curve("loss", range(5))])
    torn = h.frame([h.graph()])[:60]
    path.write_bytes(start + torn)
    reader = LogdirReader(tmp_path, workers=1)
    reader.poll()
    first = reader.snapshot()["."]
    assert [i.problem for i in first.read_issues] == [Problem.TRUNCATED]
    with path.open("ab") as fh:  # the restarted writer appends to the same file
        fh.write(h.frame(h.curve("loss", range(5, 40))))
    new = reader.poll()
    assert [s.steps.tolist() for s in new] == [list(range(5, 40))]
    run = reader.snapshot()["."]
    assert run["loss"].steps.tolist() == list(range(40))
    assert [(i.problem, i.offset) for i in run.read_issues] == [(Problem.CORRUPT, len(start))]


# ----------------------------------------------------------------- 2. linear, bounded


def test_bogus_length_does_not_make_the_reader_hold_the_file(impl: str) -> None:
    # 12 crafted bytes claiming 2**40 bytes, then valid graph records (less in pure
    # Python, which tracemalloc slows down)
    size = 1_500_000 if impl == "c" else 400_000
    graph = h.frame([h.graph()])
    body = h.frame([h.file_version()]) + header(1 << 40) + graph * (size // len(graph))
    chunk = 1 << 12

    def chunks() -> list[bytes]:
        return [body[i : i + chunk] for i in range(0, len(body), chunk)]

    parts = chunks()
    tracemalloc.start()
    try:
        res = scan_bytes(iter(parts))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert res.records == 1 + size // len(graph)
    assert peak < 250_000, f"peak {peak / 1e6:.2f} MB for {size / 1e6} MB read in 4 KB chunks"


@pytest.mark.skipif(not hasattr(os, "SEEK_DATA"), reason="no SEEK_DATA on this platform")
def test_a_hole_in_a_sparse_file_is_skipped_not_read(
    impl: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # records, then a 4 GB hole (a crashed preallocation, a sparse copy), then records
    path = tmp_path / EVENTS
    before = h.frame([h.file_version(), *h.curve("loss", range(5))])
    after = h.frame(h.curve("loss", range(5, 12)))
    hole = 4 << 30
    with path.open("wb") as fh:
        fh.write(before)
        fh.seek(len(before) + hole)
        fh.write(after)
    read = 0
    real_open = io.open

    class Counting(io.BufferedReader):
        def readinto(self, buf: object) -> int | None:  # type: ignore[override]
            nonlocal read
            n = super().readinto(buf)  # type: ignore[arg-type]
            read += n or 0
            return n

    def counting_open(file: object, mode: str = "r", *args: object, **kw: object) -> object:
        fh = real_open(file, mode, *args, **kw)  # type: ignore[call-overload]
        return Counting(fh.detach()) if mode == "rb" else fh

    monkeypatch.setattr(discover_mod, "open", counting_open, raising=False)
    run = read_logdir(tmp_path)["."]
    assert run["loss"].steps.tolist() == list(range(12))
    (issue,) = run.read_issues
    start, end = len(before), len(before) + hole
    assert f"skipped {hole} bytes (offsets {start} to {end})" in issue.message
    # the local file system opens files through discover's `open`
    assert 0 < read < 64 << 20, f"read {read / 2**20:.0f} MB of a file that holds a 4 GB hole"


def test_python_resync_checks_few_offsets_one_by_one(
    impl: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if impl != "python":
        pytest.skip("counts the pure-Python scanner's CRCs")
    calls = 0
    real = _scan_py.masked_crc32c

    def counting(data: bytes) -> int:
        nonlocal calls
        calls += 1
        return real(data)

    monkeypatch.setattr(_scan_py, "masked_crc32c", counting)
    garbage = random.Random(5).randbytes(1 << 18)
    data = h.frame([h.file_version()]) + garbage + h.frame(h.curve("loss", range(3)))
    res = scan_bytes([data])
    assert res.steps.tolist() == [0, 1, 2]
    assert calls < 100, f"{calls} CRCs computed one by one for 256 KB of garbage"


# ----------------------------------------------------------------- 3. scanners agree


def _tensor_with_field(number: int) -> bytes:
    """An Event whose rank-0 float tensor holds 3.5 in field ``number`` (wire type 5)."""
    key = number << 3 | 5
    varint = bytearray()
    while True:
        byte = key & 0x7F
        key >>= 7
        varint.append(byte | (0x80 if key else 0))
        if not key:
            break
    tensor = b"\x08\x01" + b"\x12\x00" + bytes(varint) + struct.pack("<f", 3.5)
    meta = b"\x0a\x09\x0a\x07scalars"
    value = b"\x0a\x01m" + b"\x42" + bytes([len(tensor)]) + tensor + b"\x4a" + bytes([len(meta)])
    value += meta
    summary = b"\x0a" + bytes([len(value)]) + value
    return (
        b"\x09" + struct.pack("<d", 1.0) + b"\x10\x01" + b"\x2a" + bytes([len(summary)]) + summary
    )


def test_field_number_above_2_32_is_not_float_val(impl: str, tmp_path: Path) -> None:
    data = fuzzing.frame_payloads([_tensor_with_field(5), _tensor_with_field((1 << 32) + 5)])
    (tmp_path / EVENTS).write_bytes(data)
    # field 5 is float_val; field 2**32+5 is an unknown field: no value, so 0.0
    assert read_logdir(tmp_path)["."]["m"].values.tolist() == [3.5, 0.0]


@pytest.mark.parametrize("length", [(1 << 64) - 16, (1 << 64) - 1, 1 << 40])
def test_huge_length_is_reported_without_wrapping(impl: str, tmp_path: Path, length: int) -> None:
    good = h.frame([h.file_version(), h.scalar("loss", 0, 1.0)])
    (tmp_path / EVENTS).write_bytes(good + header(length) + h.frame([h.scalar("loss", 1, 2.0)]))
    run = read_logdir(tmp_path)["."]
    assert run["loss"].steps.tolist() == [0, 1]
    (issue,) = run.read_issues
    assert str(length) in issue.message


# ----------------------------------------------------------------- 4. deep trees


def test_a_tree_1500_levels_deep(tmp_path: Path) -> None:
    from tbplateau.cli import main

    chain = [tmp_path / "deep"]
    for _ in range(1500):  # not os.makedirs: it recurses too
        chain.append(chain[-1] / "d")
    for d in chain:
        d.mkdir()
    try:
        h.write_events(chain[-1] / EVENTS, h.curve("loss", range(3)))
        logdir = read_logdir(tmp_path)
        assert [len(r.name.split("/")) for r in logdir.runs] == [1501]
        reader = LogdirReader(tmp_path, workers=1)
        assert [len(s) for s in reader.poll()] == [3]
        out, err = io.StringIO(), io.StringIO()
        code = main(["ls", str(tmp_path)], stdout=Console(file=out), stderr=Console(file=err))
        assert code == 0, err.getvalue()
    finally:  # bottom up: shutil.rmtree (and so pytest's clean-up) recurses too
        (chain[-1] / EVENTS).unlink(missing_ok=True)
        for d in reversed(chain):
            d.rmdir()


# ----------------------------------------------------------------- 6. invalid UTF-8 tags


def test_tags_differing_only_in_invalid_utf8_stay_apart(impl: str, tmp_path: Path) -> None:
    (tmp_path / EVENTS).write_bytes(fuzzing._invalid_utf8_tags())
    run = read_logdir(tmp_path)["."]
    assert run.tags == ("loss", "loss\\xfe", "loss\\xff")
    for series in run.series:
        assert series.steps.tolist() == [0, 1, 2, 3]
        assert series.replaced_points == 0
    messages = sorted(i.message for i in run.read_issues)
    assert len(messages) == 2
    assert "b'loss\\xfe'" in messages[0]
    assert "not valid UTF-8" in messages[0]
    assert "b'loss\\xff'" in messages[1]


def test_an_escaped_name_never_takes_a_valid_tag_name(tmp_path: Path) -> None:
    payloads = fuzzing._invalid_utf8_tags()
    literal = h.frame([h.scalar("loss\\xff", s, 9.0) for s in range(4)])
    (tmp_path / EVENTS).write_bytes(payloads + literal)
    run = read_logdir(tmp_path)["."]
    assert run.tags == ("loss", "loss\\xfe", "loss\\xff", "loss\\xff (invalid UTF-8)")
    assert run["loss\\xff"].values.tolist() == [9.0] * 4


# ----------------------------------------------------------------- 7. replaced files


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@pytest.mark.parametrize("how", ["rename", "in_place"])
@pytest.mark.parametrize("size", ["equal", "greater"])
def test_file_replaced_between_polls_is_read_again(tmp_path: Path, how: str, size: str) -> None:
    path = tmp_path / "run" / EVENTS
    h.write_events(path, [h.scalar("loss", s, 1.0) for s in range(20)])
    old_size = path.stat().st_size
    reader = LogdirReader(tmp_path, workers=1)
    reader.poll()
    n = 20 if size == "equal" else 30
    new = h.frame([h.file_version(), *(h.scalar("loss", s, 2.0) for s in range(n))])
    assert (len(new) == old_size) == (size == "equal")
    if how == "rename":
        _replace(path, new)
    else:
        path.write_bytes(new)
        os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    reader.poll()
    run = reader.snapshot()["run"]
    assert run.read_issues == ()
    assert run["loss"].values.tolist() == [2.0] * n
    assert run["loss"].replaced_points == 0


def test_longer_copy_of_the_same_file_is_read_on_from_the_offset(tmp_path: Path) -> None:
    # rsync without --inplace: the new file is the old one plus appended records
    path = tmp_path / "run" / EVENTS
    events = [h.file_version(), *h.curve("loss", range(50))]
    data = h.frame(events)
    path.parent.mkdir()
    cut = h.record_offsets(data)[20]
    path.write_bytes(data[:cut])
    reader = LogdirReader(tmp_path, workers=1)
    reader.poll()
    _replace(path, data)
    new = reader.poll()
    assert [s.steps.tolist() for s in new] == [list(range(19, 50))]
    assert reader.snapshot()["run"]["loss"].steps.tolist() == list(range(50))


# ----------------------------------------------------------------- 8. no orphan workers


_KILLED_PARENT = """
import os, sys, time
from tbplateau.reader import logdir

def slow(*args):
    open(os.path.join(sys.argv[2], str(os.getpid())), "w").close()
    time.sleep(120)

logdir._scan_path = slow
logdir.LogdirReader(sys.argv[1], workers=2, parallel_min_bytes=0).poll()
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pool_workers_exit_when_the_parent_is_killed(tmp_path: Path) -> None:
    for r in range(2):
        h.write_events(tmp_path / "logs" / f"r{r}" / EVENTS, h.curve("loss", range(5)))
    pids_dir = tmp_path / "pids"
    pids_dir.mkdir()
    parent = subprocess.Popen(
        [sys.executable, "-c", _KILLED_PARENT, str(tmp_path / "logs"), str(pids_dir)]
    )
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
            workers = [int(p.name) for p in pids_dir.iterdir()]
        assert len(workers) == 2, "the workers did not start"
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [p for p in workers if _alive(p)], "workers outlived their parent"
    finally:
        parent.kill()
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


# ----------------------------------------------------------------- 9. smaller


def test_unreadable_logdir_says_permission_denied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h.write_events(tmp_path / "run" / EVENTS, [h.scalar("a", 0, 1.0)])

    def list_dir(self: discover_mod.LocalFileSystem, path: str) -> list[tuple[str, bool]]:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(discover_mod.LocalFileSystem, "list_dir", list_dir)
    expected = f"cannot list logdir {tmp_path}: permission denied"
    with pytest.raises(NoEventFilesError, match=expected):
        read_logdir(tmp_path)


def test_tfrecord_file_of_other_protobufs_is_reported(impl: str, tmp_path: Path) -> None:
    examples = [b"\x0a\x0c\x0a\x0a\x0a\x05label\x12\x01x" for _ in range(5)]
    (tmp_path / "events.out.tfevents.data").write_bytes(fuzzing.frame_payloads(examples))
    h.write_events(tmp_path / "events.out.tfevents.real", [h.scalar("acc", 1, 0.5)])
    run = read_logdir(tmp_path)["."]
    assert run["acc"].values.tolist() == [0.5]
    (issue,) = run.read_issues
    assert (issue.problem, issue.file) == (Problem.NOT_EVENT_FILE, "events.out.tfevents.data")
    assert "none of its 5 records is a TensorFlow Event" in issue.message


def test_some_records_of_other_protobufs_are_reported(impl: str, tmp_path: Path) -> None:
    good = h.frame([h.file_version(), *h.curve("loss", range(3))])
    stray = fuzzing.frame_payloads([b"\x0a\x03abc"])
    (tmp_path / EVENTS).write_bytes(good + stray + h.frame(h.curve("loss", range(3, 6))))
    run = read_logdir(tmp_path)["."]
    assert run["loss"].steps.tolist() == list(range(6))
    (issue,) = run.read_issues
    assert (issue.problem, issue.offset) == (Problem.CORRUPT, len(good))
    assert "1 of 8 records hold no Event field" in issue.message


def test_fuzz_inputs_reach_every_outcome() -> None:
    """The base files of the fuzz test read cleanly (the damage is all in the mutations)."""
    for data in fuzzing.base_files():
        res = scan_bytes([data])
        assert res.issues == []
        assert res.tail_issues == []
        assert res.damage is None
        assert res.records == len(fuzzing.intact_records(data))
