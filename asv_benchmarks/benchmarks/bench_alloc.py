"""The shared-arena allocator: alloc+free pairs from Python, per implementation."""

from __future__ import annotations

from typing import ClassVar

from .common import IMPLS, load_kernel


class AllocFree:
    params = (IMPLS, [64, 4096])
    param_names: ClassVar[list[str]] = ["impl", "nbytes"]

    def setup(self, impl: str, nbytes: int) -> None:
        mod = load_kernel(impl, "alloc")
        self.arena = mod.Arena.from_buffer(bytearray(1 << 22), create=True)

    def teardown(self, impl: str, nbytes: int) -> None:
        self.arena.close()

    def time_alloc_free(self, impl: str, nbytes: int) -> None:
        self.arena.free(self.arena.alloc(nbytes))

    def time_alloc_view_free(self, impl: str, nbytes: int) -> None:
        h = self.arena.alloc(nbytes)
        self.arena.view(h).release()
        self.arena.free(h)


class Exhaust:
    """Fill a 64-byte class, then free it all: the free list's worst-case walk."""

    params = IMPLS
    param_names: ClassVar[list[str]] = ["impl"]

    def setup(self, impl: str) -> None:
        mod = load_kernel(impl, "alloc")
        self.arena = mod.Arena.from_buffer(bytearray(1 << 16), create=True, size_classes=[64])
        self.count = self.arena.stats()["classes"][0]["total"]

    def teardown(self, impl: str) -> None:
        self.arena.close()

    def time_fill_and_drain(self, impl: str) -> None:
        alloc, free = self.arena.alloc, self.arena.free
        handles = [alloc(64) for _ in range(self.count)]
        for h in handles:
            free(h)


class Format:
    params = IMPLS
    param_names: ClassVar[list[str]] = ["impl"]

    def setup(self, impl: str) -> None:
        self.mod = load_kernel(impl, "alloc")
        self.buf = bytearray(1 << 20)

    def time_format_1mib(self, impl: str) -> None:
        self.mod.Arena.from_buffer(self.buf, create=True).close()
