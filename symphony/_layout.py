"""Shared-memory byte layouts: magic numbers, versions and struct formats.

Imported by BOTH twins (``symphony._core`` and ``symphony.reference``) so that they write the
same bytes; the C headers under ``symphony/include/`` repeat these values, and a test checks
that they agree. Nothing here may change without bumping the matching version.
"""

from __future__ import annotations

from typing import Final

CACHE_LINE: Final = 64
"""Bytes per cache line; cursors written by different processes live on different lines."""

# ---- ring (owned by symphony/{_core,reference}/ring) -------------------------------------

# ---- arena allocator (owned by symphony/{_core,reference}/alloc) -------------------------
# Byte layout in docs/arena-format.md; C mirror in symphony/include/symphony/arena.h.
# All integers little-endian. An arena is: header | class table | head lines | block headers |
# data. Offsets are from the start of the arena, never pointers.

ARENA_MAGIC: Final = b"SYMARENA"
"""First 8 bytes of every arena; written last on create (a half-made arena has no magic)."""
ARENA_VERSION: Final = 1
"""Bumped on any change to the bytes below."""

ARENA_HEADER_SIZE: Final = 64
ARENA_HEADER_FORMAT: Final = "<8sIIQIIQQQQ"
"""magic, version, header_size, total_size, nclasses, nblocks, classes_offset, heads_offset,
blocks_offset, data_offset (64 bytes)."""

ARENA_CLASS_SIZE: Final = 32
ARENA_CLASS_FORMAT: Final = "<IIIIQQ"
"""block_size, block_count, first_index, reserved, data_offset, reserved (read-only)."""

ARENA_HEAD_SIZE: Final = CACHE_LINE
ARENA_HEAD_FORMAT: Final = "<QQQQ"
"""One cache line per size class: head (tag << 32 | index), allocs, frees, failures."""

ARENA_BLOCK_HEADER_SIZE: Final = 16
ARENA_BLOCK_HEADER_FORMAT: Final = "<IIII"
"""generation, nbytes (requested size), next (free-list link), class index."""

ARENA_NIL: Final = 0xFFFFFFFF
"""The empty free list / end of list (a block index no arena has)."""
ARENA_MAX_CLASSES: Final = 32
ARENA_BLOCK_ALIGN: Final = 64
"""Every block size is a multiple of this, so every block starts on a cache line."""
ARENA_MAX_BLOCK_SIZE: Final = 1 << 31
ARENA_DEFAULT_SIZE_CLASSES: Final = (64, 256, 1024, 4096, 16384, 65536, 262144, 1048576)
"""Used when create() gets no size_classes; the largest that would get no block are dropped."""
ARENA_HANDLE_INDEX_BITS: Final = 32
"""handle = generation << 32 | block index; a live handle has an odd generation."""
