"""The hashing kernel: FastCDC 2020 chunking, chunk + SHA-256, streaming, per implementation."""

from __future__ import annotations

import time
from typing import ClassVar

from .common import IMPLS, load_kernel, seeded_bytes

MIB = 1 << 20


def _skip_slow_twin(impl: str, nbytes: int) -> None:
    if impl == "python" and nbytes > MIB:
        raise NotImplementedError("the pure-Python twin is too slow to be useful here")


class Chunking:
    params = (IMPLS, [64 * 1024, MIB, 16 * MIB], [4096, 16384, 65536])
    param_names: ClassVar[list[str]] = ["impl", "nbytes", "avg_size"]

    def setup(self, impl: str, nbytes: int, avg_size: int) -> None:
        _skip_slow_twin(impl, nbytes)
        self.k = load_kernel(impl, "hashing")
        self.data = seeded_bytes(nbytes, seed=1)

    def time_cut_points(self, impl: str, nbytes: int, avg_size: int) -> None:
        self.k.cut_points(self.data, avg_size // 4, avg_size, avg_size * 4)

    def peakmem_cut_points(self, impl: str, nbytes: int, avg_size: int) -> None:
        self.k.cut_points(self.data, avg_size // 4, avg_size, avg_size * 4)

    def track_mb_per_s(self, impl: str, nbytes: int, avg_size: int) -> float:
        t0 = time.perf_counter()
        self.k.cut_points(self.data, avg_size // 4, avg_size, avg_size * 4)
        return nbytes / (time.perf_counter() - t0) / 1e6

    track_mb_per_s.unit = "MB/s"  # type: ignore[attr-defined]


class HashChunks:
    params = (IMPLS, [MIB, 16 * MIB], [1, 2], [False, True])
    param_names: ClassVar[list[str]] = ["impl", "nbytes", "threads", "content_digest"]

    def setup(self, impl: str, nbytes: int, threads: int, content_digest: bool) -> None:
        _skip_slow_twin(impl, nbytes)
        self.k = load_kernel(impl, "hashing")
        self.data = seeded_bytes(nbytes, seed=2)

    def time_hash_chunks(self, impl: str, nbytes: int, threads: int, content_digest: bool) -> None:
        self.k.hash_chunks(self.data, threads=threads, content_digest=content_digest)


class Streaming:
    params = (IMPLS, [4 * 1024, 64 * 1024, MIB])
    param_names: ClassVar[list[str]] = ["impl", "piece"]

    def setup(self, impl: str, piece: int) -> None:
        self.nbytes = MIB if impl == "python" else 16 * MIB
        self.k = load_kernel(impl, "hashing")
        self.data = memoryview(seeded_bytes(self.nbytes, seed=3))

    def time_chunker(self, impl: str, piece: int) -> None:
        chunker = self.k.Chunker()
        for pos in range(0, self.nbytes, piece):
            chunker.update(self.data[pos : pos + piece])
        chunker.finish()


class Sha256:
    params = (IMPLS, [64, 64 * 1024, 16 * MIB])
    param_names: ClassVar[list[str]] = ["impl", "nbytes"]

    def setup(self, impl: str, nbytes: int) -> None:
        self.k = load_kernel(impl, "hashing")
        self.data = seeded_bytes(nbytes, seed=4)

    def time_sha256(self, impl: str, nbytes: int) -> None:
        self.k.sha256(self.data)


class HashCuts:
    """SHA-256 of every chunk at given cut points (how the artifact store verifies a read)."""

    params = (IMPLS, [MIB, 16 * MIB])
    param_names: ClassVar[list[str]] = ["impl", "nbytes"]

    def setup(self, impl: str, nbytes: int) -> None:
        _skip_slow_twin(impl, nbytes)
        self.k = load_kernel(impl, "hashing")
        self.data = seeded_bytes(nbytes, seed=5)
        self.ends = self.k.cut_points(self.data)

    def time_hash_cuts(self, impl: str, nbytes: int) -> None:
        self.k.hash_cuts(self.data, self.ends)
