"""Helpers shared by the allocator tests (not a test module)."""

from __future__ import annotations

import itertools
import os
import struct
import uuid

from symphony import _layout as L

PREFIX = "sy-test-alloc-"
_counter = itertools.count()


def shm_name() -> str:
    """A fresh POSIX shared-memory name owned by this test run."""
    return f"/{PREFIX}{os.getpid()}-{next(_counter)}-{uuid.uuid4().hex[:8]}"


def shm_segments() -> set[str]:
    """Our segments currently in /dev/shm (names without the leading slash)."""
    return {n for n in os.listdir("/dev/shm") if n.startswith(PREFIX)}


def free_list(buf: bytes | bytearray | memoryview, cls: int) -> list[int]:
    """Block indices on the free list of class ``cls``, head first (walks the raw bytes)."""
    (heads_offset,) = struct.unpack_from("<Q", buf, 40)
    (blocks_offset,) = struct.unpack_from("<Q", buf, 48)
    (nblocks,) = struct.unpack_from("<I", buf, 28)
    (head,) = struct.unpack_from("<Q", buf, heads_offset + cls * L.ARENA_HEAD_SIZE)
    index = head & 0xFFFFFFFF
    out: list[int] = []
    while index != L.ARENA_NIL:
        assert index < nblocks, "free list leaves the arena"
        assert len(out) <= nblocks, "free list loops"
        out.append(index)
        (index,) = struct.unpack_from("<I", buf, blocks_offset + 16 * index + 8)
    return out
