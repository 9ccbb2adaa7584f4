"""The shared-memory ring: push/pop cost in one process (the two-process figures, and the
peers, are in ``symphony bench ring``)."""

from __future__ import annotations

import os
from typing import Any

from .common import IMPLS, load_kernel


class _RingBench:
    def _open(self, impl: str, **kw: Any) -> None:
        self.k = load_kernel(impl, "ring")
        self.name = f"asv-ring-{os.getpid()}-{id(self)}"
        self.k.unlink(self.name)
        self.ring = self.k.Ring.create(self.name, 1 << 20, **kw)

    def teardown(self, *args: object) -> None:
        self.ring.close()
        self.k.unlink(self.name)


class PushPop(_RingBench):
    params = (IMPLS, [64, 4096])
    param_names = ("impl", "nbytes")

    def setup(self, impl: str, nbytes: int) -> None:
        self._open(impl)
        self.msg = bytes(nbytes)

    def time_push_pop(self, impl: str, nbytes: int) -> None:
        self.ring.push(self.msg)
        self.ring.pop()


class PushPopMulti(_RingBench):
    params = IMPLS
    param_names = ("impl",)

    def setup(self, impl: str) -> None:
        self._open(impl, multi_producer=True)
        self.msg = bytes(64)

    def time_push_pop(self, impl: str) -> None:
        self.ring.push(self.msg)
        self.ring.pop()


class Batch64(_RingBench):
    params = IMPLS
    param_names = ("impl",)

    def setup(self, impl: str) -> None:
        self._open(impl)
        self.batch = [bytes(64)] * 64

    def time_push_many_pop_many(self, impl: str) -> None:
        self.ring.push_many(self.batch)
        self.ring.pop_many(64)


class Arena(_RingBench):
    params = IMPLS
    param_names = ("impl",)

    def setup(self, impl: str) -> None:
        self._open(impl, inline_limit=1024, arena_size=8 << 20)
        self.msg = bytes(64 * 1024)

    def time_push_pop_view(self, impl: str) -> None:
        self.ring.push(self.msg)
        self.ring.pop_view().release()
