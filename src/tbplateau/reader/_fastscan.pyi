from typing import Any

def scan(
    buf: bytes,
    base: int,
    final: bool,
    resyncing: bool,
    tag_index: dict[bytes, int],
    tag_names: list[bytes],
    plugins: dict[int, bytes],
) -> tuple[Any, ...]: ...
def masked_crc32c(data: bytes) -> int: ...
