"""Seeded damage for event files, and an independent judge of what must survive it.

* :func:`base_files` writes small event files in every encoding with the test
  helpers (TensorBoard's protobufs and record writer);
* :func:`mutate` damages one as an unlucky disk or an attacker would: bit flips,
  byte runs, deleted and duplicated chunks, splices of two files, length fields
  rewritten with and without a recomputed CRC, torn records, headers without data,
  truncation;
* :func:`intact_records` is the judge: a framing walker written apart from the
  reader (TensorBoard's own CRC-32C, no numpy, no shortcut) that lists the records
  a reader must recover. It walks the file greedily: where a record with both CRCs
  valid, a length of at most ``MAX_RECORD_BYTES`` and all its bytes starts, it is
  taken and the walk jumps past it; anywhere else the walk moves on by one byte.
"""

from __future__ import annotations

import random
import struct
from functools import cache

from tensorboard.compat.proto import event_pb2
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as tb_crc

from tbplateau.reader._scan_py import MAX_RECORD_BYTES
from tests import helpers as h

__all__ = ["MUTATIONS", "base_files", "frame_payloads", "intact_records", "mutate"]


def frame_payloads(payloads: list[bytes]) -> bytes:
    """TFRecord framing of ``payloads``, with TensorBoard's CRC."""
    out = []
    for data in payloads:
        header = struct.pack("<Q", len(data))
        out.append(
            header + struct.pack("<I", tb_crc(header)) + data + struct.pack("<I", tb_crc(data))
        )
    return b"".join(out)


def intact_records(data: bytes) -> list[tuple[int, bytes]]:
    """(offset, payload) of every record a reader must recover from ``data`` (see above)."""
    n = len(data)
    out: list[tuple[int, bytes]] = []
    p = 0
    while p + 16 <= n:
        (length,) = struct.unpack_from("<Q", data, p)
        end = p + 16 + length
        if (
            length <= MAX_RECORD_BYTES
            and end <= n
            and tb_crc(data[p : p + 8]) == struct.unpack_from("<I", data, p + 8)[0]
            and tb_crc(data[p + 12 : end - 4]) == struct.unpack_from("<I", data, end - 4)[0]
        ):
            out.append((p, data[p + 12 : end - 4]))
            p = end
        else:
            p += 1
    return out


@cache
def base_files() -> tuple[bytes, ...]:
    """Small event files, each in one writer's style; together every encoding."""
    tensors = [
        h.tensor_scalar(f"t/{dtype}/{field}", s, 0.5 + s, dtype=dtype, field=field, metadata=s == 0)
        for dtype, field in [
            ("float", "float_val"),
            ("float", "tensor_content"),
            ("double", "double_val"),
            ("half", "half_val"),
            ("bfloat16", "half_val"),
            ("int32", "int_val"),
            ("int64", "int64_val"),
            ("int64", "tensor_content"),
        ]
        for s in range(3)
    ]
    mixed = []
    for s in range(6):
        mixed += [h.scalar("loss", s, 1.0 / (s + 1)), h.histogram("w", s), h.image("img", s)]
    files = [
        h.curve("loss", range(30)),
        h.curve("loss", range(20), tensor=True),
        tensors,
        mixed,
        [h.audio("snd", 0), h.text("notes", 0), h.tensor_histogram("w2", 0), h.hparams_session()],
        [h.graph(), h.session_start(0), *h.curve("acc", range(10), seed=3)],
        [h.scalar("perte/é/😀", s, 1.0 + s) for s in range(3)],
    ]
    out = [h.frame([h.file_version(), *events]) for events in files]
    # records that are not Events (tf.Example-like payloads) in TFRecord framing
    out.append(frame_payloads([b"\x0a\x05\x0a\x03\x0a\x01x" * (i + 1) for i in range(8)]))
    out.append(_invalid_utf8_tags())
    return tuple(out)


def _invalid_utf8_tags() -> bytes:
    payloads = [event_pb2.Event(wall_time=1.0, file_version="brain.Event:2").SerializeToString()]
    for step in range(4):
        for tag in (b"loss\xff", b"loss\xfe", b"loss"):
            # Summary.Value{tag, simple_value} written by hand: protobuf refuses bad UTF-8
            value = b"\x0a" + bytes([len(tag)]) + tag + b"\x15" + struct.pack("<f", step / 3)
            summary = b"\x0a" + bytes([len(value)]) + value
            event = (
                b"\x09"
                + struct.pack("<d", 1000.0 + step)
                + b"\x10"
                + bytes([step])
                + b"\x2a"
                + bytes([len(summary)])
                + summary
            )
            payloads.append(event)
    return frame_payloads(payloads)


def _offsets(data: bytes) -> list[int]:
    return [p for p, _ in intact_records(data)] or [0]


def _bit_flips(rng: random.Random, data: bytes, other: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def _byte_run(rng: random.Random, data: bytes, other: bytes) -> bytes:
    if not data:
        return data
    at = rng.randrange(len(data))
    n = rng.randint(1, 64)
    fill = rng.choice([b"\x00", b"\xff", None])
    run = fill * n if fill else rng.randbytes(n)
    return data[:at] + run + data[at + n :]


def _chunk_delete(rng: random.Random, data: bytes, other: bytes) -> bytes:
    if not data:
        return data
    a = rng.randrange(len(data))
    return data[:a] + data[a + rng.randint(1, 200) :]


def _chunk_duplicate(rng: random.Random, data: bytes, other: bytes) -> bytes:
    if not data:
        return data
    a = rng.randrange(len(data))
    chunk = data[a : a + rng.randint(1, 300)]
    at = rng.randrange(len(data) + 1)
    return data[:at] + chunk + data[at:]


def _splice(rng: random.Random, data: bytes, other: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)] + other[rng.randrange(len(other) + 1) :]


def _length_field(rng: random.Random, data: bytes, other: bytes, recompute: bool) -> bytes:
    p = rng.choice(_offsets(data))
    if p + 12 > len(data):
        return data
    (old,) = struct.unpack_from("<Q", data, p)
    new = rng.choice(
        [
            old + rng.randint(1, 400),
            max(0, old - rng.randint(1, 40)),
            rng.getrandbits(64),
            1 << 40,
            (1 << 64) - 1,
            (1 << 64) - 16,
            MAX_RECORD_BYTES,
            MAX_RECORD_BYTES + 1,
            0,
        ]
    )
    header = struct.pack("<Q", new)
    crc = struct.pack("<I", tb_crc(header)) if recompute else data[p + 8 : p + 12]
    return data[:p] + header + crc + data[p + 12 :]


def _torn_record(rng: random.Random, data: bytes, other: bytes) -> bytes:
    p = rng.choice(_offsets(data))
    if p + 12 > len(data):
        return data
    (length,) = struct.unpack_from("<Q", data, p)
    end = p + 16 + length
    keep = rng.randint(1, max(1, end - p - 1))
    return data[: p + keep] + data[end:]


def _header_without_data(rng: random.Random, data: bytes, other: bytes) -> bytes:
    p = rng.choice([*_offsets(data), len(data)])
    header = struct.pack("<Q", rng.choice([rng.randint(1, 5000), 1 << 40, MAX_RECORD_BYTES]))
    return data[:p] + header + struct.pack("<I", tb_crc(header)) + data[p:]


def _truncate(rng: random.Random, data: bytes, other: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


MUTATIONS = {
    "bit_flips": _bit_flips,
    "byte_run": _byte_run,
    "chunk_delete": _chunk_delete,
    "chunk_duplicate": _chunk_duplicate,
    "splice": _splice,
    "length_same_crc": lambda r, d, o: _length_field(r, d, o, recompute=False),
    "length_new_crc": lambda r, d, o: _length_field(r, d, o, recompute=True),
    "torn_record": _torn_record,
    "header_without_data": _header_without_data,
    "truncate": _truncate,
}


def mutate(rng: random.Random) -> tuple[bytes, list[str]]:
    """A damaged file and the names of the mutations applied (one to three)."""
    files = base_files()
    data = rng.choice(files)
    names = rng.sample(sorted(MUTATIONS), rng.choice([1, 1, 1, 2, 3]))
    for name in names:
        data = MUTATIONS[name](rng, data, rng.choice(files))
    return data, names
