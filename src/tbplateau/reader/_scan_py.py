"""Pure-Python record scanner: the reference the compiled fast path must match.

An event file is a sequence of TFRecords::

    uint64 length | uint32 masked_crc32c(length) | byte data[length] | uint32 masked_crc32c(data)

and each ``data`` is a serialized ``tensorflow.Event`` protobuf. This module and the
compiled ``_fastscan`` offer the same two primitives (tested to give identical
results, byte for byte, on every input); :mod:`tbplateau.reader.scan` drives them
over a file and owns every decision about damage:

* ``walk(buf, pos, base, tag_index, tag_names, tag_offsets, plugins)`` reads the
  records that follow each other from ``buf[pos:]`` (``buf[0]`` is at file offset
  ``base``) while each has a valid length CRC, a length of at most
  :data:`MAX_RECORD_BYTES`, all its bytes in ``buf`` and a valid data CRC; it decodes
  the protobuf wire format by hand (no protobuf dependency). It returns where it
  stopped and why (:data:`SHORT`, :data:`BAD_HEADER`, :data:`TOO_LONG`,
  :data:`INCOMPLETE`, :data:`BAD_DATA`), the length field there, and the points.
  A record with valid CRCs whose Event does not parse is a ``corrupt`` issue and is
  skipped by its length.
* ``find(buf, pos)`` searches, byte by byte from ``pos``, for the next offset where a
  complete record with both CRCs valid starts (:data:`FOUND`), or where a valid
  header's record runs past the end of ``buf`` (:data:`INCOMPLETE`: more data
  decides).
* ``tag_index`` (bytes -> id), ``tag_names`` (list of bytes), ``tag_offsets`` (file
  offset of the record that first used each tag) and ``plugins`` (id -> plugin name
  bytes of the first metadata seen) are state shared across calls, mutated in place.

``walk`` returns ``(stop, status, length, tag_ids, steps, wall_times, values,
encodings, others, issues, records, session_starts, file_version, foreign,
first_foreign)`` where the array fields are ``bytes`` holding packed little-endian
int32 / int64 / float64 / float64 / uint8 / int32-pairs, ``issues`` is a list of
``(offset, problem, message)``, ``others`` packs ``(tag_id, kind)`` for every
non-scalar value, and ``foreign`` counts records that parse but hold no Event field
at all (another protobuf in TFRecord framing), the first at ``first_foreign``.
"""

from __future__ import annotations

import struct
from array import array

import numpy as np

from tbplateau.reader._crc import crc32c, header_crcs, masked_crc32c

__all__ = [
    "BAD_DATA",
    "BAD_HEADER",
    "FOUND",
    "INCOMPLETE",
    "KIND_AUDIO",
    "KIND_HISTOGRAM",
    "KIND_IMAGE",
    "KIND_NONE",
    "KIND_TENSOR",
    "MAX_RECORD_BYTES",
    "SHORT",
    "TOO_LONG",
    "crc32c",
    "find",
    "masked_crc32c",
    "walk",
]

# Value kinds of non-scalar summary values, as packed in ``others``.
KIND_NONE = 0
KIND_HISTOGRAM = 1
KIND_IMAGE = 2
KIND_AUDIO = 3
KIND_TENSOR = 4

ENC_SIMPLE = 0
ENC_TENSOR = 1


class _ParseError(Exception):
    pass


def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= end or shift >= 70:
            raise _ParseError("varint runs past its field")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, pos
        shift += 7


def _skip(buf: bytes, pos: int, end: int, wire: int) -> int:
    if wire == 0:
        return _varint(buf, pos, end)[1]
    if wire == 1:
        pos += 8
    elif wire == 2:
        n, pos = _varint(buf, pos, end)
        pos += n
    elif wire == 5:
        pos += 4
    else:
        raise _ParseError(f"unsupported wire type {wire}")
    if pos > end:
        raise _ParseError("field runs past its message")
    return pos


def _fields(buf: bytes, pos: int, end: int) -> list[tuple[int, int, int, int]]:
    """(field number, wire type, start, stop) of each field in buf[pos:end].

    For wire type 0 start is the varint's value and stop the position after it.
    """
    out = []
    while pos < end:
        key, pos = _varint(buf, pos, end)
        num, wire = key >> 3, key & 7
        if num == 0:
            raise _ParseError("field number 0")
        if wire == 0:
            value, pos = _varint(buf, pos, end)
            out.append((num, 0, value, pos))
        elif wire == 2:
            n, pos = _varint(buf, pos, end)
            if pos + n > end:
                raise _ParseError("length-delimited field runs past its message")
            out.append((num, 2, pos, pos + n))
            pos += n
        elif wire == 1:
            if pos + 8 > end:
                raise _ParseError("fixed64 field runs past its message")
            out.append((num, 1, pos, pos + 8))
            pos += 8
        elif wire == 5:
            if pos + 4 > end:
                raise _ParseError("fixed32 field runs past its message")
            out.append((num, 5, pos, pos + 4))
            pos += 4
        else:
            raise _ParseError(f"unsupported wire type {wire}")
    if pos != end:
        raise _ParseError("message runs past its end")
    return out


def _signed64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _signed32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def _half(bits: int) -> float:
    return float(struct.unpack("<e", struct.pack("<H", bits & 0xFFFF))[0])


def _bfloat16(bits: int) -> float:
    return float(struct.unpack("<f", struct.pack("<I", (bits & 0xFFFF) << 16))[0])


# dtype -> (tensor_content struct format, size, repeated field, decoder of that field)
_DT_FLOAT, _DT_DOUBLE, _DT_INT32, _DT_UINT8, _DT_INT16, _DT_INT8 = 1, 2, 3, 4, 5, 6
_DT_INT64, _DT_BOOL, _DT_BFLOAT16, _DT_UINT16, _DT_HALF = 9, 10, 14, 17, 19
_DT_UINT32, _DT_UINT64 = 22, 23

_CONTENT = {
    _DT_FLOAT: ("<f", 4),
    _DT_DOUBLE: ("<d", 8),
    _DT_INT32: ("<i", 4),
    _DT_UINT8: ("<B", 1),
    _DT_INT16: ("<h", 2),
    _DT_INT8: ("<b", 1),
    _DT_INT64: ("<q", 8),
    _DT_BOOL: ("<B", 1),
    _DT_UINT16: ("<H", 2),
    _DT_UINT32: ("<I", 4),
    _DT_UINT64: ("<Q", 8),
}
# dtype -> field number of its repeated value field
_VALUE_FIELD = {
    _DT_FLOAT: 5,
    _DT_DOUBLE: 6,
    _DT_INT32: 7,
    _DT_UINT8: 7,
    _DT_INT16: 7,
    _DT_INT8: 7,
    _DT_UINT16: 7,
    _DT_INT64: 10,
    _DT_BOOL: 11,
    _DT_HALF: 13,
    _DT_BFLOAT16: 13,
    _DT_UINT32: 16,
    _DT_UINT64: 17,
}


def _first_repeated(buf: bytes, fields: list[tuple[int, int, int, int]], num: int) -> int | None:
    """Raw bits of the first element of repeated scalar field ``num`` (packed or not)."""
    for f, wire, a, b in fields:
        if f != num:
            continue
        if wire == 0:
            return a
        if wire == 5:
            return int.from_bytes(buf[a:b], "little")
        if wire == 1:
            return int.from_bytes(buf[a:b], "little")
        if wire == 2 and b > a:
            if num == 5:
                return int.from_bytes(buf[a : a + 4], "little") if b - a >= 4 else None
            if num == 6:
                return int.from_bytes(buf[a : a + 8], "little") if b - a >= 8 else None
            return _varint(buf, a, b)[0]
    return None


def _tensor_scalar(buf: bytes, start: int, end: int) -> float | None:
    """The value of a rank-0 numeric TensorProto, or None if it is not one."""
    fields = _fields(buf, start, end)
    dtype = 0
    rank0 = True
    content: tuple[int, int] | None = None
    for num, wire, a, b in fields:
        if num == 1 and wire == 0:
            dtype = a
        elif num == 2 and wire == 2:
            for snum, swire, _sa, _sb in _fields(buf, a, b):
                if (snum == 2 and swire == 2) or (snum == 3 and swire == 0 and _sa != 0):
                    rank0 = False
        elif num == 4 and wire == 2:
            content = (a, b)
    if not rank0 or dtype not in _VALUE_FIELD:
        return None
    if content is not None and content[1] > content[0]:
        a, b = content
        if dtype in (_DT_HALF, _DT_BFLOAT16):
            if b - a < 2:
                return 0.0
            bits = int.from_bytes(buf[a : a + 2], "little")
            return _half(bits) if dtype == _DT_HALF else _bfloat16(bits)
        fmt, size = _CONTENT[dtype]
        if b - a < size:
            return 0.0
        return float(struct.unpack_from(fmt, buf, a)[0])
    raw = _first_repeated(buf, fields, _VALUE_FIELD[dtype])
    if raw is None:
        return 0.0
    if dtype == _DT_FLOAT:
        return float(struct.unpack("<f", struct.pack("<I", raw & 0xFFFFFFFF))[0])
    if dtype == _DT_DOUBLE:
        return float(struct.unpack("<d", struct.pack("<Q", raw & 0xFFFFFFFFFFFFFFFF))[0])
    if dtype == _DT_HALF:
        return _half(raw)
    if dtype == _DT_BFLOAT16:
        return _bfloat16(raw)
    if dtype in (_DT_INT32, _DT_INT16, _DT_INT8):
        return float(_signed32(raw))
    if dtype in (_DT_UINT8, _DT_UINT16, _DT_UINT32):
        return float(raw & 0xFFFFFFFF)
    if dtype == _DT_INT64:
        return float(_signed64(raw))
    if dtype == _DT_BOOL:
        return 1.0 if raw else 0.0
    return float(raw)  # uint64


def _plugin_name(buf: bytes, start: int, end: int) -> bytes:
    name = b""
    for num, wire, a, b in _fields(buf, start, end):
        if num == 1 and wire == 2:
            for pnum, pwire, pa, pb in _fields(buf, a, b):
                if pnum == 1 and pwire == 2:
                    name = buf[pa:pb]
    return name


class _Out:
    def __init__(self) -> None:
        self.tag_ids = array("i")
        self.steps = array("q")
        self.walls = array("d")
        self.values = array("d")
        self.encs = array("B")
        self.others = array("i")
        self.issues: list[tuple[int, str, str]] = []
        self.records = 0
        self.session_starts = 0
        self.file_version: str | None = None
        self.foreign = 0
        self.first_foreign = -1


# (field number, wire type) of every field of tensorflow.Event
_EVENT_FIELDS = frozenset(
    [(1, 1), (2, 0), (3, 2), (4, 2), (5, 2), (6, 2), (7, 2), (8, 2), (9, 2), (10, 2)]
)


_Decoded = tuple[bytes, int, float, bytes | None]
"""One summary value: tag, kind (-1 simple, -2 scalar tensor, else a ``KIND_*``), value, plugin."""


def _parse_event(
    buf: bytes,
    start: int,
    end: int,
    out: _Out,
    offset: int,
    tags: tuple[dict[bytes, int], list[bytes], list[int], dict[int, bytes]],
) -> None:
    """Decode one Event; raise _ParseError before emitting anything if it is malformed."""
    wall = 0.0
    step = 0
    summaries: list[tuple[int, int]] = []
    file_version: bytes | None = None
    session_start = False
    event_like = False
    for num, wire, a, b in _fields(buf, start, end):
        if (num, wire) in _EVENT_FIELDS:
            event_like = True
        if num == 1 and wire == 1:
            wall = struct.unpack_from("<d", buf, a)[0]
        elif num == 2 and wire == 0:
            step = _signed64(a)
        elif num == 5 and wire == 2:
            summaries.append((a, b))
        elif num == 3 and wire == 2:
            file_version = buf[a:b]
        elif num == 7 and wire == 2:
            for snum, swire, sa, _sb in _fields(buf, a, b):
                if snum == 1 and swire == 0:
                    session_start = sa == 1
    # Decode every value before emitting, so a malformed record emits nothing.
    decoded = [
        _summary_value(buf, a, b)
        for sa, sb in summaries
        for num, wire, a, b in _fields(buf, sa, sb)
        if num == 1 and wire == 2
    ]
    out.records += 1
    if not event_like:
        out.foreign += 1
        if out.first_foreign < 0:
            out.first_foreign = offset
    if session_start:
        out.session_starts += 1
    if file_version is not None and out.file_version is None:
        out.file_version = file_version.decode("utf-8", "replace")
    _emit(decoded, step, wall, out, offset, tags)


def _summary_value(buf: bytes, a: int, b: int) -> _Decoded:
    """Decode one ``Summary.Value`` (raises _ParseError if it is malformed)."""
    tag = b""
    kind = KIND_NONE
    simple = 0.0
    tensor: tuple[int, int] | None = None
    meta: tuple[int, int] | None = None
    for vnum, vwire, va, vb in _fields(buf, a, b):
        if vnum == 1 and vwire == 2:
            tag = buf[va:vb]
        elif vnum == 2 and vwire == 5:
            kind = -1
            simple = struct.unpack_from("<f", buf, va)[0]
        elif vnum in (3, 5) and vwire == 2:
            kind = KIND_HISTOGRAM
        elif vnum == 4 and vwire == 2:
            kind = KIND_IMAGE
        elif vnum == 6 and vwire == 2:
            kind = KIND_AUDIO
        elif vnum == 8 and vwire == 2:
            kind = KIND_TENSOR
            tensor = (va, vb)
        elif vnum == 9 and vwire == 2:
            meta = (va, vb)
    plugin = _plugin_name(buf, *meta) if meta is not None else None
    value = simple
    if kind == KIND_TENSOR and tensor is not None:
        scalar = _tensor_scalar(buf, *tensor)
        if scalar is not None:
            kind = -2
            value = scalar
    return tag, kind, value, plugin


def _emit(
    decoded: list[_Decoded],
    step: int,
    wall: float,
    out: _Out,
    offset: int,
    tags: tuple[dict[bytes, int], list[bytes], list[int], dict[int, bytes]],
) -> None:
    """Append one event's decoded values to ``out``, registering new tags."""
    tag_index, tag_names, tag_offsets, plugins = tags
    for tag, kind, value, plugin in decoded:
        tid = tag_index.get(tag)
        if tid is None:
            tid = len(tag_names)
            tag_index[tag] = tid
            tag_names.append(tag)
            tag_offsets.append(offset)
        if plugin is not None and tid not in plugins:
            plugins[tid] = plugin
        if kind < 0:
            out.tag_ids.append(tid)
            out.steps.append(step)
            out.walls.append(wall)
            out.values.append(value)
            out.encs.append(ENC_SIMPLE if kind == -1 else ENC_TENSOR)
        else:
            out.others.append(tid)
            out.others.append(kind)


# ------------------------------------------------------------------ framing

Buffer = bytes | bytearray | memoryview

MAX_RECORD_BYTES = 256 << 20
"""The longest record the reader accepts (256 MiB); a longer length field is damage.

Protocol buffers cannot exceed 2 GiB, and no summary writer comes near this; the
bound keeps what one record can make the reader hold in memory finite.
"""

# Why walk() stopped, and what find() met.
SHORT = 0
"""Fewer than 12 bytes left: no complete header at this offset."""
BAD_HEADER = 1
"""The length CRC does not match."""
TOO_LONG = 2
"""The length CRC matches but the length exceeds MAX_RECORD_BYTES."""
INCOMPLETE = 3
"""A valid header whose record runs past the end of the buffer."""
BAD_DATA = 4
"""A complete record whose data CRC does not match."""
FOUND = 5
"""find(): a complete record with both CRCs valid."""

_ZERO_HEADER_CRC = masked_crc32c(bytes(8))
assert _ZERO_HEADER_CRC != 0, "the zero-run shortcut of find() relies on this"


def _length(buf: Buffer, p: int) -> int:
    return int.from_bytes(buf[p : p + 8], "little")


def _header_ok(buf: Buffer, p: int) -> bool:
    return masked_crc32c(bytes(buf[p : p + 8])) == int.from_bytes(buf[p + 8 : p + 12], "little")


def _data_ok(buf: Buffer, p: int, length: int) -> bool:
    start = p + 12
    stored = int.from_bytes(buf[start + length : start + length + 4], "little")
    return masked_crc32c(memoryview(buf)[start : start + length]) == stored


def _frame(buf: Buffer, p: int, n: int) -> tuple[int, int]:
    """``(status, length)`` of the record at ``p``: ``FOUND`` when its header and data are
    whole and their checksums agree, else why not (``length`` is the record's length
    field once the header is valid, 0 before)."""
    if n - p < 12:
        return SHORT, 0
    if not _header_ok(buf, p):
        return BAD_HEADER, 0
    length = _length(buf, p)
    if length > MAX_RECORD_BYTES:
        return TOO_LONG, length
    if n - p - 16 < length:
        return INCOMPLETE, length
    if not _data_ok(buf, p, length):
        return BAD_DATA, length
    return FOUND, length


WalkResult = tuple[
    int,
    int,
    int,
    bytes,
    bytes,
    bytes,
    bytes,
    bytes,
    bytes,
    list[tuple[int, str, str]],
    int,
    int,
    str | None,
    int,
    int,
]
"""What :func:`walk` returns: the offset it stopped at, why (a status), the length of the
record there, the columns (tag ids, steps, wall times, values, encodings, other kinds) as
bytes, the issues, the record and session-start counts, the file version, and the count
and first offset of records that are not Events."""


def walk(
    buf: Buffer,
    pos: int,
    base: int,
    tag_index: dict[bytes, int],
    tag_names: list[bytes],
    tag_offsets: list[int],
    plugins: dict[int, bytes],
) -> WalkResult:
    """Read the valid records that follow each other from ``buf[pos:]`` (see the module doc)."""
    n = len(buf)
    out = _Out()
    tags = (tag_index, tag_names, tag_offsets, plugins)
    p = pos
    while True:
        status, length = _frame(buf, p, n)
        if status != FOUND:
            break
        try:
            _parse_event(bytes(buf[p + 12 : p + 12 + length]), 0, length, out, base + p, tags)
        except _ParseError:
            out.issues.append(
                (
                    base + p,
                    "corrupt",
                    f"unparsable Event in the record at offset {base + p}; record skipped",
                )
            )
        p += 16 + length
    return (
        p,
        status,
        length,
        out.tag_ids.tobytes(),
        out.steps.tobytes(),
        out.walls.tobytes(),
        out.values.tobytes(),
        out.encs.tobytes(),
        out.others.tobytes(),
        out.issues,
        out.records,
        out.session_starts,
        out.file_version,
        out.foreign,
        out.first_foreign,
    )


_FIND_BLOCK = 1 << 20


def find(buf: Buffer, pos: int) -> tuple[int, int, int]:
    """The first offset ``q >= pos`` where a record starts, or where more data is needed.

    Returns ``(q, FOUND, length)`` for a complete record with both CRCs valid,
    ``(q, INCOMPLETE, length)`` for a valid header (length at most
    MAX_RECORD_BYTES) whose record runs past the end of ``buf``, else
    ``(max(pos, len(buf) - 11), SHORT, 0)``: every offset with a whole header was
    searched. The search is vectorised: a length above MAX_RECORD_BYTES, or twelve
    zero bytes, rule an offset out before any CRC is computed.
    """
    n = len(buf)
    last = n - 12
    arr = np.frombuffer(buf, dtype=np.uint8)
    q = pos
    while q <= last:
        hi = min(last + 1, q + _FIND_BLOCK)
        m = hi - q
        lengths = np.ndarray((m,), dtype="<u8", buffer=arr, offset=q, strides=(1,))
        stored = np.ndarray((m,), dtype="<u4", buffer=arr, offset=q + 8, strides=(1,))
        maybe = lengths <= np.uint64(MAX_RECORD_BYTES)
        maybe &= (lengths != 0) | (stored != 0)
        idx = np.flatnonzero(maybe)
        if idx.shape[0]:
            at = idx.astype(np.int64) + q
            good = at[header_crcs(arr, at) == stored[idx]]
            for h in good.tolist():
                length = _length(buf, h)
                if n - h - 16 < length:
                    return h, INCOMPLETE, length
                if _data_ok(buf, h, length):
                    return h, FOUND, length
        q = hi
    return max(pos, n - 11), SHORT, 0
