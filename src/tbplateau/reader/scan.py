"""Scanning one event file, from a byte offset to its current end, in bounded memory.

The record-level work is done by the compiled ``_fastscan`` module when it is built,
else by the pure-Python reference ``_scan_py`` (identical results; set
``TBPLATEAU_PURE_PYTHON=1`` to force it). This module feeds either one fixed-size
chunks, carries what a chunk leaves incomplete into the next, and holds back a
partial last record so that a later scan from the returned offset picks it up once
the writer has finished it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from tbplateau.reader import _scan_py

__all__ = ["IMPLEMENTATION", "FileScan", "TagState", "scan_bytes", "scan_file"]

ScanFn = Callable[..., tuple[Any, ...]]


def _pick() -> tuple[str, ScanFn]:
    if os.environ.get("TBPLATEAU_PURE_PYTHON", "") not in ("", "0"):
        return "python", _scan_py.scan
    try:
        from tbplateau.reader import _fastscan
    except ImportError:  # pragma: no cover - depends on the build
        return "python", _scan_py.scan
    return "c", _fastscan.scan


IMPLEMENTATION, _SCAN = _pick()
"""Which scanner is in use: ``"c"`` (compiled) or ``"python"`` (fallback)."""

CHUNK_SIZE = 8 << 20


@dataclass
class TagState:
    """Per-file decoding state carried between incremental scans."""

    tag_index: dict[bytes, int] = field(default_factory=dict)
    tag_names: list[bytes] = field(default_factory=list)
    plugins: dict[int, bytes] = field(default_factory=dict)


@dataclass
class FileScan:
    """What one scan of a file from ``start`` produced (picklable, for worker processes)."""

    start: int
    offset: int
    """Where the next scan must start: the first byte not yet consumed."""
    resyncing: bool
    size: int
    state: TagState
    tag_ids: npt.NDArray[np.int32]
    steps: npt.NDArray[np.int64]
    wall_times: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]
    encodings: npt.NDArray[np.uint8]
    others: npt.NDArray[np.int32]
    """(n, 2) array of (tag id, kind) for every non-scalar value."""
    issues: list[tuple[int, str, str]]
    """Issues of the consumed part (final)."""
    tail_issues: list[tuple[int, str, str]]
    """Issues of the held-back tail (a partial record); they vanish once it completes."""
    records: int
    session_starts: int
    file_version: str | None
    head: bytes
    """The file's first bytes (up to 64), to say what a non-event file is."""


def _concat(parts: list[bytes], dtype: type[np.generic]) -> npt.NDArray[Any]:
    if not parts:
        return np.empty(0, dtype=dtype)
    if len(parts) == 1:
        return np.frombuffer(parts[0], dtype=dtype)
    return np.concatenate([np.frombuffer(p, dtype=dtype) for p in parts])


def scan_bytes(
    chunks: Any,
    *,
    start: int = 0,
    resyncing: bool = False,
    state: TagState | None = None,
    size: int = -1,
    head: bytes = b"",
) -> FileScan:
    """Scan an iterable of byte chunks that continue the file at offset ``start``."""
    state = state if state is not None else TagState()
    cols: list[list[bytes]] = [[], [], [], [], [], []]
    issues: list[tuple[int, str, str]] = []
    records = 0
    starts = 0
    version: str | None = None
    base = start
    carry = b""
    for chunk in chunks:
        buf = carry + bytes(chunk) if carry else bytes(chunk)
        if not buf:
            continue
        res = _SCAN(buf, base, False, resyncing, state.tag_index, state.tag_names, state.plugins)
        consumed, resyncing = int(res[0]), bool(res[1])
        for i in range(6):
            if res[2 + i]:
                cols[i].append(res[2 + i])
        issues.extend(res[8])
        records += res[9]
        starts += res[10]
        if version is None:
            version = res[11]
        carry = buf[consumed:]
        base += consumed
    tail_issues: list[tuple[int, str, str]] = []
    if carry:
        # A final-mode scan of the held-back tail only names its problem; the state it
        # would change is thrown away, so the tail is read again next time.
        throwaway = TagState(dict(state.tag_index), list(state.tag_names), dict(state.plugins))
        res = _SCAN(
            carry,
            base,
            True,
            resyncing,
            throwaway.tag_index,
            throwaway.tag_names,
            throwaway.plugins,
        )
        tail_issues = list(res[8])
    return FileScan(
        start=start,
        offset=base,
        resyncing=resyncing,
        size=size if size >= 0 else base + len(carry),
        state=state,
        tag_ids=_concat(cols[0], np.int32),
        steps=_concat(cols[1], np.int64),
        wall_times=_concat(cols[2], np.float64),
        values=_concat(cols[3], np.float64),
        encodings=_concat(cols[4], np.uint8),
        others=_concat(cols[5], np.int32).reshape(-1, 2),
        issues=issues,
        tail_issues=tail_issues,
        records=records,
        session_starts=starts,
        file_version=version,
        head=head,
    )


def scan_file(
    opener: Callable[[], Any],
    *,
    start: int = 0,
    resyncing: bool = False,
    state: TagState | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> FileScan:
    """Scan the file ``opener()`` returns, from byte ``start`` to its current end."""
    with opener() as fh:
        head = b""
        if start == 0:
            head = fh.read(64)
            fh.seek(0)
        else:
            fh.seek(start)

        def chunks() -> Any:
            while True:
                block = fh.read(chunk_size)
                if not block:
                    return
                yield block

        result = scan_bytes(chunks(), start=start, resyncing=resyncing, state=state, head=head)
    return result
