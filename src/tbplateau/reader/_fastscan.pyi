from tbplateau.reader._scan_py import WalkResult
from tbplateau.reader.scan import Buffer

def walk(
    buf: Buffer,
    pos: int,
    base: int,
    tag_index: dict[bytes, int],
    tag_names: list[bytes],
    tag_offsets: list[int],
    plugins: dict[int, bytes],
) -> WalkResult: ...
def find(buf: Buffer, pos: int) -> tuple[int, int, int]: ...
def masked_crc32c(data: Buffer) -> int: ...
