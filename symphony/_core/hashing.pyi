from collections.abc import Iterable

from typing_extensions import Buffer, disjoint_base

from symphony._cdc import ChunkRecord, Manifest

__all__ = [
    "Chunker",
    "cut",
    "cut_points",
    "gear_table",
    "hash_chunks",
    "hash_cuts",
    "sha256",
    "uses_sha_extensions",
]

def gear_table(seed: int = 0) -> list[int]: ...
def cut(
    data: Buffer,
    min_size: int = 4096,
    avg_size: int = 16384,
    max_size: int = 65536,
    level: int = 1,
    seed: int = 0,
) -> tuple[int, int]: ...
def cut_points(
    data: Buffer,
    min_size: int = 4096,
    avg_size: int = 16384,
    max_size: int = 65536,
    level: int = 1,
    seed: int = 0,
) -> list[int]: ...
def hash_chunks(
    data: Buffer,
    min_size: int = 4096,
    avg_size: int = 16384,
    max_size: int = 65536,
    level: int = 1,
    seed: int = 0,
    content_digest: bool = False,
    threads: int = 1,
) -> Manifest: ...
def hash_cuts(data: Buffer, ends: Iterable[int]) -> Manifest: ...
def sha256(data: Buffer) -> bytes: ...
def uses_sha_extensions() -> bool: ...
def _force_portable_sha256(portable: bool) -> None: ...
def _use_fused_path(flag: bool) -> None: ...

@disjoint_base
class Chunker:
    def __init__(
        self,
        min_size: int = 4096,
        avg_size: int = 16384,
        max_size: int = 65536,
        level: int = 1,
        seed: int = 0,
        content_digest: bool = False,
    ) -> None: ...
    @property
    def pending(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def finished(self) -> bool: ...
    @property
    def manifest_id(self) -> bytes: ...
    @property
    def content_sha256(self) -> bytes | None: ...
    def update(self, data: Buffer) -> list[ChunkRecord]: ...
    def finish(self) -> list[ChunkRecord]: ...
