"""The checksum kernel, and the cost of calling into a kernel at all."""

from __future__ import annotations

from .common import IMPLS, load_kernel, seeded_bytes


class Crc32c:
    params = (IMPLS, [64, 64 * 1024])
    param_names = ["impl", "nbytes"]

    def setup(self, impl: str, nbytes: int) -> None:
        if impl == "python" and nbytes > 64 * 1024:
            raise NotImplementedError("too slow to be useful")
        self.k = load_kernel(impl, "checksum")
        self.data = seeded_bytes(nbytes)

    def time_crc32c(self, impl: str, nbytes: int) -> None:
        self.k.crc32c(self.data)


class CallOverhead:
    params = IMPLS
    param_names = ["impl"]

    def setup(self, impl: str) -> None:
        self.noop = load_kernel(impl, "checksum").noop

    def time_noop(self, impl: str) -> None:
        self.noop()
