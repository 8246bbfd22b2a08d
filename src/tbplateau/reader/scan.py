"""Scanning one event file, from a byte offset to its current end, in bounded memory.

The record-level work is done by the compiled ``_fastscan`` module when it is built,
else by the pure-Python reference ``_scan_py`` (identical results; set
``TBPLATEAU_PURE_PYTHON=1`` to force it). Both offer two primitives, ``walk`` (read
the valid records that follow each other) and ``find`` (search byte by byte for the
next valid record); this module drives them over a window of the file and makes
every decision about damage, so both scanners share one state machine:

* A record is *valid* when its length CRC matches, its length is at most
  :data:`~tbplateau.reader._scan_py.MAX_RECORD_BYTES`, all its bytes are there and
  its data CRC matches. Valid records are read in order, each from the end of the
  previous one.
* Anywhere else (a bad length CRC, a bad data CRC, an impossible length) damage
  starts: the next valid record is searched from the very next byte, so no valid
  record is lost, whatever the damage (a torn write, a deleted or duplicated chunk,
  another file appended). One ``corrupt`` issue per damaged span says how many bytes
  were skipped and between which offsets.
* A valid header whose record runs past the end of the file is "still being
  written" (a ``truncated`` issue, read again by the next scan) only when no valid
  record starts after it; otherwise it is damage like any other.
* Memory: the window holds one chunk, or one record of at most
  ``MAX_RECORD_BYTES`` while it is being checked, never the rest of the file. Time:
  linear in the bytes scanned.

Damage still open at the end of the data is carried to the next scan
(:class:`Damage`), so that reading a growing file in many scans reports the same
spans as reading it once.
"""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from tbplateau.reader import _scan_py
from tbplateau.reader._scan_py import (
    BAD_DATA,
    BAD_HEADER,
    FOUND,
    INCOMPLETE,
    MAX_RECORD_BYTES,
    SHORT,
    TOO_LONG,
    WalkResult,
)

__all__ = [
    "IMPLEMENTATION",
    "Backend",
    "Damage",
    "FileScan",
    "TagState",
    "backend",
    "scan_bytes",
    "scan_file",
]

Buffer = bytes | bytearray | memoryview
Issue = tuple[int, str, str]


class Backend(Protocol):
    """What a record scanner module offers (``_fastscan`` and ``_scan_py``)."""

    def walk(
        self,
        buf: Buffer,
        pos: int,
        base: int,
        tag_index: dict[bytes, int],
        tag_names: list[bytes],
        tag_offsets: list[int],
        plugins: dict[int, bytes],
    ) -> WalkResult: ...

    def find(self, buf: Buffer, pos: int) -> tuple[int, int, int]: ...

    def masked_crc32c(self, data: Buffer) -> int: ...


def backend(name: str) -> Backend:
    """The scanner ``"c"`` (compiled; ImportError when not built) or ``"python"``."""
    if name == "python":
        return _scan_py
    if name == "c":
        from tbplateau.reader import _fastscan

        return _fastscan
    raise ValueError(f"unknown scanner {name!r}; choose 'c' or 'python'")


def _pick() -> tuple[str, Backend]:
    if os.environ.get("TBPLATEAU_PURE_PYTHON", "") not in ("", "0"):
        return "python", _scan_py
    try:
        return "c", backend("c")
    except ImportError:  # pragma: no cover - depends on the build
        return "python", _scan_py


IMPLEMENTATION, _BACKEND = _pick()
"""Which scanner is in use: ``"c"`` (compiled) or ``"python"`` (fallback)."""

CHUNK_SIZE = 8 << 20
MIN_HOLE = 1 << 20
"""Shortest hole of a sparse file skipped with ``SEEK_DATA`` rather than read."""


@dataclass
class TagState:
    """Per-file decoding state carried between incremental scans."""

    tag_index: dict[bytes, int] = field(default_factory=dict)
    tag_names: list[bytes] = field(default_factory=list)
    tag_offsets: list[int] = field(default_factory=list)
    """File offset of the record where each tag first appeared."""
    plugins: dict[int, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Damage:
    """A damaged span still open at the end of a scan: it starts at ``start``."""

    start: int
    reason: str
    """What was wrong at ``start`` ("bad length CRC at offset 10", ...)."""


@dataclass
class FileScan:
    """What one scan of a file from ``start`` produced (picklable, for worker processes)."""

    start: int
    offset: int
    """Where the next scan must start: the first byte not yet consumed."""
    damage: Damage | None
    """Damage open at ``offset``: the next scan goes on searching for a valid record."""
    size: int
    state: TagState
    tag_ids: npt.NDArray[np.int32]
    steps: npt.NDArray[np.int64]
    wall_times: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]
    encodings: npt.NDArray[np.uint8]
    others: npt.NDArray[np.int32]
    """(n, 2) array of (tag id, kind) for every non-scalar value."""
    issues: list[Issue]
    """Issues of the consumed part (final)."""
    tail_issues: list[Issue]
    """Issues of the held-back tail; they are recomputed by the next scan."""
    records: int
    session_starts: int
    file_version: str | None
    head: bytes
    """The file's first bytes (up to 64), to say what a non-event file is."""
    foreign: int = 0
    """Records that parse but hold no Event field (another protobuf in TFRecord framing)."""
    first_foreign: int = -1
    before_offset: bytes = b""
    """The (up to 16) bytes just before ``offset``: with ``head``, a fingerprint of the
    content already read, to tell an appended file from a replaced one."""

    @property
    def resyncing(self) -> bool:
        """Whether damage is open at ``offset``."""
        return self.damage is not None


def _concat(parts: list[bytes], dtype: type[np.generic]) -> npt.NDArray[Any]:
    if not parts:
        return np.empty(0, dtype=dtype)
    if len(parts) == 1:
        return np.frombuffer(parts[0], dtype=dtype)
    return np.concatenate([np.frombuffer(p, dtype=dtype) for p in parts])


class _Window:
    """The bytes of the file from offset ``base``, read from ``chunks`` on demand."""

    def __init__(self, chunks: Iterable[Buffer], start: int) -> None:
        self._it: Iterator[Buffer] = iter(chunks)
        self.buf: Buffer = b""
        self.base = start
        self.eof = False
        self._before = b""  # the last bytes dropped from the front (up to 16)

    @property
    def end(self) -> int:
        return self.base + len(self.buf)

    def feed(self, keep_from: int, need_end: int) -> bool:
        """Read on until the window reaches ``need_end`` or the source is dry.

        Bytes before ``keep_from`` may be dropped. Returns whether anything was added.
        """
        parts: list[Buffer] = []
        have = self.end
        while have < need_end and not self.eof:
            chunk = next(self._it, None)
            if chunk is None:
                self.eof = True
            elif len(chunk):
                parts.append(chunk)
                have += len(chunk)
        if not parts:
            return False
        cut = keep_from - self.base
        if cut:
            self._before = (self._before + bytes(memoryview(self.buf)[max(0, cut - 16) : cut]))[
                -16:
            ]
        live = memoryview(self.buf)[cut:]
        if not len(live) and len(parts) == 1 and isinstance(parts[0], bytes | bytearray):
            self.buf = parts[0]
        else:
            self.buf = b"".join([live, *parts])
        self.base = keep_from
        return True

    def bytes_before(self, offset: int) -> bytes:
        k = max(0, offset - self.base)
        return (self._before + bytes(memoryview(self.buf)[max(0, k - 16) : k]))[-16:]

    def skip_hole(self) -> int | None:
        """Move past a hole of a sparse file that starts at the window's end.

        Returns the new position to search from, or ``None`` when there is no hole
        worth skipping (or the source cannot tell). Only called while searching for
        the next valid record (see :class:`_FileWindow`).
        """
        return None


class _FileWindow(_Window):
    """A window over an open file, read with ``readinto`` into one reused buffer.

    No allocation per chunk: the bytes still needed move to the front, the next
    chunk is read behind them.
    """

    def __init__(self, fh: Any, start: int, chunk_size: int, size_hint: int | None) -> None:
        super().__init__((), start)
        self._fh = fh
        self._chunk = chunk_size
        self._hint = size_hint
        self._store = bytearray()
        self._n = 0
        self.head = b""
        """The file's first 64 bytes, once read (when the scan starts at 0)."""
        # a short read of a local file is its end: no second call to be told so
        self._short_is_eof = isinstance(fh, io.FileIO | io.BufferedReader)

    @property
    def buf(self) -> Buffer:
        return memoryview(self._store)[: self._n]

    @buf.setter
    def buf(self, value: Buffer) -> None:  # the base class initialiser sets b""
        self._n = 0

    def feed(self, keep_from: int, need_end: int) -> bool:
        if self.eof:
            return False
        cut = keep_from - self.base
        live = self._n - cut
        chunk = self._chunk
        if self._hint is not None and self._hint - self.end + 1 < chunk:
            chunk = max(self._hint - self.end + 1, 4096)  # a small file: no 8 MB buffer
        want = max(need_end - self.end, chunk)
        store = self._store
        if cut:
            self._before = (self._before + bytes(store[max(0, cut - 16) : cut]))[-16:]
        if live + want > len(store):
            grown = bytearray(live + want)
            grown[:live] = store[cut : self._n]
            self._store = store = grown
        elif cut:
            store[:live] = store[cut : self._n]
        self._n = live
        self.base = keep_from
        added = 0
        with memoryview(store) as view:
            while added < want:
                k = self._fh.readinto(view[live + added : live + want])
                if not k:
                    self.eof = True
                    break
                added += k
                if self._short_is_eof and added < want:
                    self.eof = True
                    break
        self._n = live + added
        if self.base == 0 and not self.head:
            self.head = bytes(store[: min(64, self._n)])
        return added > 0

    def skip_hole(self) -> int | None:
        """Skip a hole (``SEEK_DATA``) instead of reading its zeros.

        A hole reads as zeros, and 12 zero bytes are never a valid record header (the
        masked CRC of eight zero bytes is not zero), so no record starts more than 11
        bytes before the next data: the search resumes there, over 11 zero bytes, and
        the skipped span is still reported as damage. Holes under :data:`MIN_HOLE`
        are read as usual.
        """
        seek_data = getattr(os, "SEEK_DATA", None)
        if seek_data is None or self.eof or self._hint is None:
            return None
        end = self.end
        try:
            data = os.lseek(self._fh.fileno(), end, seek_data)
        except OSError as exc:
            if exc.errno != errno.ENXIO:  # ENXIO: a hole up to the end of the file
                return None
            data = max(self._hint, end)
        except (AttributeError, ValueError):  # no file descriptor behind it
            return None
        if data - end < MIN_HOLE:
            self._fh.seek(end)
            return None
        self._fh.seek(data)
        self._store[:11] = bytes(11)
        self._n = 11
        self.base = data - 11
        self._before = bytes(16)
        return self.base


class _Collected:
    def __init__(self) -> None:
        self.cols: list[list[bytes]] = [[], [], [], [], [], []]
        self.issues: list[Issue] = []
        self.records = 0
        self.session_starts = 0
        self.file_version: str | None = None
        self.foreign = 0
        self.first_foreign = -1

    def add(self, res: WalkResult) -> None:
        _, _, _, *columns = res[:9]
        for col, data in zip(self.cols, columns, strict=True):
            if data:
                col.append(data)
        issues, records, session_starts, file_version, foreign, first_foreign = res[9:]
        self.issues.extend(issues)
        self.records += records
        self.session_starts += session_starts
        if self.file_version is None:
            self.file_version = file_version
        self.foreign += foreign
        if self.first_foreign < 0:
            self.first_foreign = first_foreign


def _reason(status: int, p: int, length: int) -> str:
    if status == BAD_HEADER:
        return f"bad length CRC at offset {p}"
    if status == BAD_DATA:
        return f"bad data CRC in the record at offset {p}"
    if status == TOO_LONG:
        return (
            f"record at offset {p} claims {length} bytes, more than a record may hold "
            f"({MAX_RECORD_BYTES})"
        )
    return f"record at offset {p} claims {length} bytes and runs past the end of the file"


def _truncated(p: int, length: int, end: int) -> Issue:
    return (
        p,
        "truncated",
        f"record at offset {p} needs {16 + length} bytes, {end - p} remain "
        "(the file may still be being written)",
    )


def _walk(
    win: _Window, pos: int, state: TagState, impl: Backend, out: _Collected
) -> tuple[int, int, int]:
    """Walk the valid records from ``pos``, collecting them; return (offset, status, length)."""
    res = impl.walk(
        win.buf,
        pos - win.base,
        win.base,
        state.tag_index,
        state.tag_names,
        state.tag_offsets,
        state.plugins,
    )
    out.add(res)
    return win.base + int(res[0]), int(res[1]), int(res[2])


def _short_tail(win: _Window, pos: int) -> list[Issue]:
    """The issue of data that ends inside a record header at ``pos`` (none at the very end)."""
    if pos == win.end:
        return []
    return [
        (
            pos,
            "truncated",
            f"file ends inside a record header at offset {pos} "
            f"({win.end - pos} of 12 bytes; the file may still be being written)",
        )
    ]


def _drive(
    win: _Window, pos: int, damage: Damage | None, state: TagState, impl: Backend, out: _Collected
) -> tuple[int, Damage | None, list[Issue]]:
    """Scan from ``pos`` to the end of the data; return (offset, open damage, tail issues)."""
    pending: tuple[int, int] | None = None  # first over-long header met at the end of the data
    while True:
        if damage is None:
            pos, status, length = _walk(win, pos, state, impl, out)
            if status == SHORT:
                if win.feed(pos, pos + 12):
                    continue
                return pos, None, _short_tail(win, pos)
            if status == INCOMPLETE:
                if win.feed(pos, pos + 16 + length):
                    continue
                pending = (pos, length)  # damage only if a valid record follows
            damage = Damage(pos, _reason(status, pos, length))
            pos += 1
            continue
        q, status, length = impl.find(win.buf, pos - win.base)
        q += win.base
        if status == FOUND:
            out.issues.append(
                (
                    damage.start,
                    "corrupt",
                    f"{damage.reason}; skipped {q - damage.start} bytes "
                    f"(offsets {damage.start} to {q}) to the next valid record",
                )
            )
            damage, pending, pos = None, None, q
            continue
        if status == INCOMPLETE:
            if win.feed(q, q + 16 + length):
                pos = q
                continue
            if pending is None:
                pending = (q, length)
            pos = q + 1
            continue
        hole = win.skip_hole()
        if hole is not None:
            pos = hole
            continue
        if win.feed(q, win.end + 1):
            pos = q
            continue
        return _tail(win, q, damage, pending)


def _tail(
    win: _Window, q: int, damage: Damage, pending: tuple[int, int] | None
) -> tuple[int, Damage | None, list[Issue]]:
    """The end of the data met while damage is open."""
    end = win.end
    if pending is None:
        return (
            q,
            damage,
            [
                (
                    damage.start,
                    "corrupt",
                    f"{damage.reason}; skipped {end - damage.start} bytes "
                    f"(offsets {damage.start} to {end}, the end of the file): "
                    "no valid record after it",
                )
            ],
        )
    h, length = pending
    truncated = _truncated(h, length, end)
    if damage.start == h:  # the over-long header itself: nothing valid follows it
        return h, None, [truncated]
    skipped = (
        damage.start,
        "corrupt",
        f"{damage.reason}; skipped {h - damage.start} bytes (offsets {damage.start} to {h})",
    )
    return h, damage, [skipped, truncated]


def scan_bytes(
    chunks: Iterable[Buffer],
    *,
    start: int = 0,
    damage: Damage | None = None,
    state: TagState | None = None,
    size: int = -1,
    head: bytes = b"",
    impl: Backend | None = None,
) -> FileScan:
    """Scan an iterable of byte chunks that continue the file at offset ``start``.

    ``damage`` is the damage a previous scan left open at ``start``; ``impl`` picks
    the scanner (default: the one in use, see :data:`IMPLEMENTATION`).
    """
    return _scan(_Window(chunks, start), start, damage, state, size, head, impl)


def _scan(
    win: _Window,
    start: int,
    damage: Damage | None,
    state: TagState | None,
    size: int,
    head: bytes,
    impl: Backend | None,
) -> FileScan:
    state = state if state is not None else TagState()
    out = _Collected()
    offset, damage, tail = _drive(win, start, damage, state, impl or _BACKEND, out)
    cols = out.cols
    return FileScan(
        start=start,
        offset=offset,
        damage=damage,
        size=size if size >= 0 else win.end,
        state=state,
        tag_ids=_concat(cols[0], np.int32),
        steps=_concat(cols[1], np.int64),
        wall_times=_concat(cols[2], np.float64),
        values=_concat(cols[3], np.float64),
        encodings=_concat(cols[4], np.uint8),
        others=_concat(cols[5], np.int32).reshape(-1, 2),
        issues=out.issues,
        tail_issues=tail,
        records=out.records,
        session_starts=out.session_starts,
        file_version=out.file_version,
        head=head,
        foreign=out.foreign,
        first_foreign=out.first_foreign,
        before_offset=win.bytes_before(offset),
    )


def _size_of(fh: Any) -> int | None:
    try:
        return int(os.fstat(fh.fileno()).st_size)
    except (AttributeError, OSError, ValueError):
        size = getattr(fh, "size", None)
        return size if isinstance(size, int) else None


def scan_file(
    opener: Callable[[], Any],
    *,
    start: int = 0,
    damage: Damage | None = None,
    state: TagState | None = None,
    chunk_size: int = CHUNK_SIZE,
    impl: Backend | None = None,
) -> FileScan:
    """Scan the file ``opener()`` returns, from byte ``start`` to its current end."""
    with opener() as fh:
        if start:
            fh.seek(start)
        if not hasattr(fh, "readinto"):  # pragma: no cover - every file object we open has it
            head = fh.read(64) if start == 0 else b""
            fh.seek(start)
            chunks = iter(lambda: fh.read(chunk_size), b"")
            return _scan(_Window(chunks, start), start, damage, state, -1, head, impl)
        win = _FileWindow(fh, start, chunk_size, _size_of(fh))
        win.feed(start, start + 1)  # a small file whole: one walk over it, not two
        scan = _scan(win, start, damage, state, -1, b"", impl)
        scan.head = win.head  # the first bytes, kept by the window's first read
        return scan
