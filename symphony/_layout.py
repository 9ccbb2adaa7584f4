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
# Byte layout in docs/ring-format.md; C mirror in symphony/include/symphony/ring.h (a test
# checks that they agree). All integers little-endian, cursors are 64-bit byte positions that
# never wrap (position % capacity is the offset in the data area).

RING_MAGIC: Final = 0x474E524850594D53
"""b"SYMPHRNG" as a little-endian u64; written last (released) on create."""
RING_VERSION: Final = 1
RING_HEADER_SIZE: Final = 512
"""Eight cache lines of header; producer slots follow, then the data area."""
RING_MIN_CAPACITY: Final = 64
RING_MAX_CAPACITY: Final = 1 << 40
RING_MAX_SLOTS: Final = 1024
RING_DEFAULT_SLOTS: Final = 32
"""Producer slots of a multi-producer ring (processes producing at once)."""
RING_SLOT_SIZE: Final = 32
"""pid u32, bell fd u32, intent start u64, intent end u64, bell waiting u32, unused u32."""
RING_SLOT_PID: Final = 0
RING_SLOT_BELL_FD: Final = 4
RING_SLOT_START: Final = 8
RING_SLOT_END: Final = 16
RING_SLOT_BELL_WAITING: Final = 24
RING_REC_HDR: Final = 8
"""Record header: u64 word = flags << 32 | payload length; payload padded to 8 bytes."""
RING_ALIGN: Final = 8
RING_MAX_INLINE: Final = 1 << 31
"""Largest inline payload (the header's length field is 32 bits)."""

# header offsets
RING_OFF_MAGIC: Final = 0
RING_OFF_VERSION: Final = 8
RING_OFF_FLAGS: Final = 12
RING_OFF_CAPACITY: Final = 16
RING_OFF_DATA: Final = 24
RING_OFF_SEGSIZE: Final = 32
RING_OFF_INLINE: Final = 40
RING_OFF_CREATOR: Final = 48
RING_OFF_NSLOTS: Final = 52
RING_OFF_TAIL: Final = 64
"""Line 1: producer cursor."""
RING_OFF_HEAD: Final = 128
"""Line 2: consumer cursor."""
RING_OFF_CONSUMER_PID: Final = 192
RING_OFF_WAITING: Final = 196
RING_OFF_DATA_SEQ: Final = 200
RING_OFF_BELL_PID: Final = 204
RING_OFF_BELL_FD: Final = 208
RING_OFF_SPACE_WAITERS: Final = 256
RING_OFF_SPACE_SEQ: Final = 260
RING_OFF_PRODUCER_PID: Final = 264
RING_OFF_SPACE_BELLS: Final = 268
"""Producers parked in an async writable wait on an eventfd doorbell (a count)."""
RING_OFF_SPACE_BELL_PID: Final = 272
RING_OFF_SPACE_BELL_FD: Final = 276
"""Single-producer mode: (pid, fd) of the producer's doorbell eventfd."""
RING_OFF_ARENA_LEN: Final = 320
RING_OFF_ARENA_NAME: Final = 324
RING_ARENA_NAME_MAX: Final = 124
RING_OFF_SLOTS: Final = 512

# flags
RING_FLAG_MULTI_PRODUCER: Final = 1
RING_FLAG_HAS_ARENA: Final = 2
REC_COMMITTED: Final = 1
REC_PAD: Final = 2
REC_ARENA: Final = 4
WAIT_FUTEX: Final = 1
WAIT_DOORBELL: Final = 2

RING_ARENA_DESC_FORMAT: Final = "<QQ"
"""Payload of an arena record: allocator handle, payload length."""
RING_ARENA_SUFFIX: Final = ".arena"
"""The arena of ring ``name`` is the shm segment ``name + RING_ARENA_SUFFIX``."""
RING_PENDING_POLLS: Final = 64
"""Polls of one uncommitted record before the consumer checks whether its writer died."""
RING_SPIN_NS: Final = 50_000
"""Default spin before a blocking wait sleeps (PLATFORM.md: tens of microseconds)."""

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
