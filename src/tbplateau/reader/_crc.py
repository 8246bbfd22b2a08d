"""CRC-32C (Castagnoli) as TFRecord framing uses it, fast enough in pure Python and numpy.

Three tools, each exact (tested against TensorBoard's own implementation):

* :func:`crc32c` of one buffer: a table loop for short data, and for long data a
  numpy computation over many *lanes* at once, joined with the linear "advance by d
  zero bytes" operator of the CRC register (the idea of zlib's ``crc32_combine``);
* :func:`header_crcs`: the masked CRC of the 8 length bytes at many offsets of a
  buffer at once (the resynchronisation search checks thousands of candidates);
* :func:`advance`: the register after ``d`` more zero bytes, in O(log d).

The CRC register update ``s' = T[(s ^ byte) & 0xFF] ^ (s >> 8)`` is linear over
GF(2) in ``(s, byte)``, which is what every trick here relies on.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

__all__ = ["crc32c", "header_crcs", "mask", "masked_crc32c"]

_POLY = 0x82F63B78
_MASK_DELTA = 0xA282EAD8
_NUMPY_MIN = 12288
"""Below this many bytes the plain table loop is faster than numpy's call overheads."""


def _make_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        table.append(c)
    return table


TABLE = _make_table()
NP_TABLE = np.array(TABLE, dtype=np.uint32)


def mask(crc: int) -> int:
    """The masking TFRecord applies to a CRC before storing it."""
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def _update_loop(state: int, data: bytes | bytearray | memoryview) -> int:
    table = TABLE
    for b in data:
        state = table[(state ^ b) & 0xFF] ^ (state >> 8)
    return state


# ------------------------------------------------------------------ the advance operator
# An operator is the tuple of its 32 columns: the image of each single-bit register.


def _apply(cols: tuple[int, ...], x: int) -> int:
    out = 0
    i = 0
    while x:
        if x & 1:
            out ^= cols[i]
        x >>= 1
        i += 1
    return out


def _compose(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The operator ``a(b(x))``."""
    return tuple(_apply(a, c) for c in b)


@cache
def _advance_pow2(k: int) -> tuple[int, ...]:
    """The operator that feeds ``2**k`` zero bytes to the register."""
    if k == 0:
        return tuple(TABLE[(1 << i) & 0xFF] ^ ((1 << i) >> 8) for i in range(32))
    half = _advance_pow2(k - 1)
    return _compose(half, half)


def advance(state: int, d: int) -> int:
    """The register ``state`` after ``d`` zero bytes, in O(log d) steps."""
    k = 0
    while d:
        if d & 1:
            state = _apply(_advance_pow2(k), state)
        d >>= 1
        k += 1
    return state


@cache
def _advance_tables(d: int) -> npt.NDArray[np.uint32]:
    """(4, 256) tables applying "advance by d zero bytes" to a uint32 array, byte by byte."""
    k = 0
    cols = tuple(1 << i for i in range(32))
    while d:
        if d & 1:
            cols = _compose(_advance_pow2(k), cols)
        d >>= 1
        k += 1
    tables = np.zeros((4, 256), dtype=np.uint32)
    for t in range(4):
        row = [0] * 256
        for v in range(1, 256):
            low = v & -v
            row[v] = row[v ^ low] ^ cols[8 * t + low.bit_length() - 1]
        tables[t] = row
    return tables


def _advance_array(x: npt.NDArray[np.uint32], d: int) -> npt.NDArray[np.uint32]:
    t = _advance_tables(d)
    out: npt.NDArray[np.uint32] = (
        t[0][x & 0xFF] ^ t[1][(x >> 8) & 0xFF] ^ t[2][(x >> 16) & 0xFF] ^ t[3][x >> 24]
    )
    return out


def _update_numpy(state: int, data: bytes | bytearray | memoryview) -> int:
    """The register after ``data``, computed over lanes of ``m`` bytes in parallel."""
    n = len(data)
    m = 256 if n < (1 << 22) else 4096
    k = n // m
    r = n - k * m
    state = _update_loop(state, memoryview(data)[:r])
    lanes = np.frombuffer(data, dtype=np.uint8, count=k * m, offset=r).reshape(k, m).T.copy()
    s = np.zeros(k, dtype=np.uint32)
    for j in range(m):
        s = NP_TABLE[(s ^ lanes[j]) & 0xFF] ^ (s >> 8)
    # Each lane's register started from 0: join them pairwise, doubling the span.
    span = m
    while s.shape[0] > 1:
        if s.shape[0] % 2:
            s = np.concatenate([np.zeros(1, dtype=np.uint32), s])
        s = _advance_array(s[0::2], span) ^ s[1::2]
        span *= 2
    return advance(state, k * m) ^ int(s[0])


def crc32c(data: bytes | bytearray | memoryview) -> int:
    """CRC-32C of ``data``.

    >>> hex(crc32c(b"123456789"))
    '0xe3069283'
    """
    if len(data) < _NUMPY_MIN:
        return _update_loop(0xFFFFFFFF, data) ^ 0xFFFFFFFF
    return _update_numpy(0xFFFFFFFF, data) ^ 0xFFFFFFFF


def masked_crc32c(data: bytes | bytearray | memoryview) -> int:
    """The masked CRC-32C that TFRecord framing stores."""
    return mask(crc32c(data))


def header_crcs(arr: npt.NDArray[np.uint8], pos: npt.NDArray[np.int64]) -> npt.NDArray[np.uint32]:
    """Masked CRC-32C of the 8 bytes at each offset ``pos`` of ``arr``."""
    c = np.full(pos.shape[0], 0xFFFFFFFF, dtype=np.uint32)
    for j in range(8):
        c = NP_TABLE[(c ^ arr[pos + j]) & 0xFF] ^ (c >> 8)
    c = c ^ np.uint32(0xFFFFFFFF)
    out: npt.NDArray[np.uint32] = ((c >> 15) | (c << 17)) + np.uint32(_MASK_DELTA)
    return out
