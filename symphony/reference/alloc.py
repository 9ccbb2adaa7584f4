"""A size-class slab allocator over a shared arena: handles, not pointers.

An :class:`Arena` is one region of bytes — a named POSIX shared-memory segment
(:meth:`Arena.create` / :meth:`Arena.attach`) or any writable buffer
(:meth:`Arena.from_buffer`) — divided into *size classes*: fixed-size blocks of, by default,
64 B, 256 B, 1 KiB, … 1 MiB. :meth:`Arena.alloc` takes a block from the smallest class that
holds the requested number of bytes and returns a **handle**, a 64-bit integer that any
process mapping the same arena can turn back into the bytes (:meth:`Arena.view`) and free
(:meth:`Arena.free`). Everything inside the arena is an offset from its start, so every
process may map it at a different address. The byte layout is in ``docs/arena-format.md``;
the constants are in :mod:`symphony._layout`; ``symphony/include/symphony/arena.h`` is the C
implementation that the Cython twin (:mod:`symphony._core.alloc`) wraps.

Handles::

    handle = generation << 32 | block_index

Each block carries a 32-bit generation. It is even while the block is free and odd while
it is allocated: ``alloc`` makes it odd (+1), ``free`` makes it even again (+1). A handle is
live only while its generation equals the block's, so:

* freeing a handle twice raises :class:`~symphony.commons.errors.DoubleFree` (the block's
  generation is exactly one past the handle's);
* using or freeing a handle whose block has been freed and reused since, or a forged one,
  raises :class:`~symphony.commons.errors.StaleHandle` (``DoubleFree`` is a subclass);
* ``0`` is never a live handle.

Generations wrap after 2**31 alloc/free cycles *of one block*; a handle kept that long could
match again (the usual limit of generation counters).

Free lists are lock-free Treiber stacks, one per class, with a 64-bit head
``tag << 32 | index`` changed only by compare-and-swap; the tag grows on every change, so a
head that was popped and pushed back between a reader's load and its CAS (ABA) fails the
CAS. A pop reads ``next`` of the head block, then CASes the head to ``(tag + 1, next)``; a
push writes the block's ``next`` and CASes the head to ``(tag + 1, block)``. ``free`` first
claims the block by CASing its generation from the handle's (odd) value to the next (even)
one, so of two processes freeing one handle at the same time exactly one succeeds.

Concurrency of THIS twin: Python has no compare-and-swap on shared memory. This module runs
the same algorithm with a plain read-compare-write in place of each CAS, so it writes the
same bytes as the Cython twin, but it is safe only while it is the **only** process (and
thread) mutating the arena at that moment: use it from one process at a time, or hand blocks
between processes in turns (as the interop tests do). The Cython twin is lock-free and safe
for any number of processes and threads at once.

Statistics (:meth:`Arena.stats`) count, per class, allocations, frees and failed
allocations (class exhausted); they live in the arena, so they cover every process.
A crash between claiming a block and pushing it back leaks that block (never corrupts).
"""

from __future__ import annotations

import mmap
import operator
import struct
from collections.abc import Sequence
from types import TracebackType
from typing import Self

import posix_ipc

from symphony._layout import (
    ARENA_BLOCK_ALIGN,
    ARENA_BLOCK_HEADER_FORMAT,
    ARENA_BLOCK_HEADER_SIZE,
    ARENA_CLASS_FORMAT,
    ARENA_CLASS_SIZE,
    ARENA_DEFAULT_SIZE_CLASSES,
    ARENA_HEAD_FORMAT,
    ARENA_HEAD_SIZE,
    ARENA_HEADER_FORMAT,
    ARENA_HEADER_SIZE,
    ARENA_MAGIC,
    ARENA_MAX_BLOCK_SIZE,
    ARENA_MAX_CLASSES,
    ARENA_NIL,
    ARENA_VERSION,
)
from symphony.commons.errors import (
    AllocRequestError,
    ArenaClosed,
    ArenaExhausted,
    ArenaFormatError,
    DoubleFree,
    MessageTooLarge,
    StaleHandle,
)
from symphony.reference._buffer import byte_view

__all__ = ["Arena"]

_HEADER = struct.Struct(ARENA_HEADER_FORMAT)
_CLASS = struct.Struct(ARENA_CLASS_FORMAT)
_HEAD = struct.Struct(ARENA_HEAD_FORMAT)
_BLOCK = struct.Struct(ARENA_BLOCK_HEADER_FORMAT)
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_M32 = 0xFFFFFFFF
_M64 = 0xFFFFFFFFFFFFFFFF

# Byte offsets of fields inside their records (see ARENA_*_FORMAT).
_HEAD_HEAD, _HEAD_ALLOCS, _HEAD_FREES, _HEAD_FAILURES = 0, 8, 16, 24
_BLK_GEN, _BLK_NBYTES, _BLK_NEXT, _BLK_CLASS = 0, 4, 8, 12


def _align(n: int, to: int = ARENA_BLOCK_ALIGN) -> int:
    return (n + to - 1) // to * to


def _layout_offsets(nclasses: int) -> tuple[int, int]:
    """(heads_offset, blocks_offset) of an arena with ``nclasses`` classes."""
    heads = ARENA_HEADER_SIZE + _align(ARENA_CLASS_SIZE * nclasses)
    return heads, heads + ARENA_HEAD_SIZE * nclasses


def _counts(size: int, classes: Sequence[int]) -> list[int]:
    """Blocks per class: each class gets an equal share of the bytes after the head lines
    (less 64 bytes of alignment slack), and each block costs its size plus its header."""
    _, blocks_offset = _layout_offsets(len(classes))
    avail = size - blocks_offset - ARENA_BLOCK_ALIGN
    if avail <= 0:
        return [0] * len(classes)
    share = avail // len(classes)
    return [share // (bs + ARENA_BLOCK_HEADER_SIZE) for bs in classes]


def _check_classes(size_classes: Sequence[int]) -> tuple[int, ...]:
    if isinstance(size_classes, str | bytes) or not isinstance(size_classes, Sequence):
        raise TypeError(f"size_classes must be a sequence of ints, got {size_classes!r}")
    classes = tuple(operator.index(bs) for bs in size_classes)
    if not 1 <= len(classes) <= ARENA_MAX_CLASSES:
        raise ArenaFormatError(
            f"size_classes must name 1 to {ARENA_MAX_CLASSES} classes, got {len(classes)}"
        )
    prev = 0
    for bs in classes:
        if bs <= prev or bs % ARENA_BLOCK_ALIGN or bs > ARENA_MAX_BLOCK_SIZE:
            raise ArenaFormatError(
                f"size class {bs} in {list(classes)}: classes must be strictly increasing "
                f"multiples of {ARENA_BLOCK_ALIGN} no larger than {ARENA_MAX_BLOCK_SIZE}"
            )
        prev = bs
    return classes


def _plan(size: int, size_classes: Sequence[int] | None) -> list[tuple[int, int]]:
    """The ``(block_size, block_count)`` of each class of a new arena of ``size`` bytes.

    With ``size_classes=None`` the defaults are used, dropping the largest classes until
    every class gets at least one block. Explicit classes must all get one.
    """
    if size_classes is None:
        classes: tuple[int, ...] = ARENA_DEFAULT_SIZE_CLASSES
        while classes and 0 in _counts(size, classes):
            classes = classes[:-1]
        if not classes:
            raise ArenaFormatError(
                f"an arena of {size} bytes is too small for even one "
                f"{ARENA_DEFAULT_SIZE_CLASSES[0]}-byte block"
            )
    else:
        classes = _check_classes(size_classes)
    counts = _counts(size, classes)
    if 0 in counts:
        raise ArenaFormatError(
            f"an arena of {size} bytes is too small for size classes {list(classes)}: "
            f"class {classes[counts.index(0)]} gets no block"
        )
    if sum(counts) >= ARENA_NIL:
        raise ArenaFormatError(f"an arena of {size} bytes would hold more than 2**32-2 blocks")
    return list(zip(classes, counts))


def _shm_name(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"arena name must be a str, got {name!r}")
    return name if name.startswith("/") else "/" + name


def _size_arg(size: int) -> int:
    size = operator.index(size)
    if size < ARENA_HEADER_SIZE:
        raise ArenaFormatError(
            f"arena size {size} is smaller than its {ARENA_HEADER_SIZE}-byte header"
        )
    return size


class Arena:
    """A size-class slab allocator over shared memory. See the module docstring.

    Make one with :meth:`create`, :meth:`attach` or :meth:`from_buffer` (calling the class
    directly raises ``TypeError``). Every method raises
    :class:`~symphony.commons.errors.ArenaClosed` after :meth:`close`. Usable as a context
    manager, which closes (but does not unlink) on exit.
    """

    _mv: memoryview | None
    _mmap: mmap.mmap | None
    _name: str | None
    _total: int
    _nblocks: int
    _heads: int
    _blocks: int
    _sizes: list[int]
    _counts: list[int]
    _firsts: list[int]
    _datas: list[int]

    def __init__(self) -> None:
        raise TypeError("use Arena.create(), Arena.attach() or Arena.from_buffer()")

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(cls, name: str, size: int, *, size_classes: Sequence[int] | None = None) -> Self:
        """Create the shared-memory segment ``name`` of ``size`` bytes and format an arena in it.

        Args:
            name: POSIX shared-memory name; a leading ``/`` is added if missing.
            size: bytes of the whole arena (header and tables included).
            size_classes: block sizes, strictly increasing multiples of 64 (at most 32 of
                them); ``None`` for the defaults that fit (64 B … 1 MiB, by fours).

        Raises:
            ArenaFormatError: the segment exists already, or ``size``/``size_classes`` give
                no valid layout (a class would get no block).
            TypeError: ``name`` is not a str, ``size`` or a class is not an integer.
        """
        name = _shm_name(name)
        size = _size_arg(size)
        plan = _plan(size, size_classes)
        try:
            shm = posix_ipc.SharedMemory(name, posix_ipc.O_CREX, mode=0o600, size=size)
        except posix_ipc.ExistentialError as exc:
            raise ArenaFormatError(f"shared-memory segment {name!r} already exists") from exc
        except (posix_ipc.Error, ValueError, OSError) as exc:
            raise ArenaFormatError(f"cannot create shared-memory segment {name!r}: {exc}") from exc
        try:
            try:
                mm = mmap.mmap(shm.fd, size)
            finally:
                shm.close_fd()
            self = cls._new(mm, mm, name)
            try:
                self._format(plan)
            except BaseException:
                self.close()
                raise
        except BaseException:
            posix_ipc.unlink_shared_memory(name)
            raise
        return self

    @classmethod
    def attach(cls, name: str) -> Self:
        """Map the existing arena in the shared-memory segment ``name``.

        Raises:
            ArenaFormatError: no such segment, or it is too small or has a bad magic,
                version, size or table.
        """
        name = _shm_name(name)
        try:
            shm = posix_ipc.SharedMemory(name)
        except posix_ipc.ExistentialError as exc:
            raise ArenaFormatError(f"no shared-memory segment named {name!r}") from exc
        except (posix_ipc.Error, ValueError, OSError) as exc:
            raise ArenaFormatError(f"cannot open shared-memory segment {name!r}: {exc}") from exc
        try:
            if shm.size < ARENA_HEADER_SIZE:
                raise ArenaFormatError(
                    f"segment {name!r} has {shm.size} bytes, less than an arena header "
                    f"({ARENA_HEADER_SIZE})"
                )
            mm = mmap.mmap(shm.fd, shm.size)
        finally:
            shm.close_fd()
        self = cls._new(mm, mm, name)
        try:
            self._open()
        except BaseException:
            self.close()
            raise
        return self

    @classmethod
    def from_buffer(
        cls, buf: object, *, create: bool, size_classes: Sequence[int] | None = None
    ) -> Self:
        """An arena over any writable C-contiguous buffer (mmap, bytearray, memoryview …).

        Args:
            buf: the whole arena; the caller keeps it alive and owns it.
            create: format a new arena in ``buf`` (True) or open the one already there.
            size_classes: as for :meth:`create` (only with ``create=True``).

        Raises:
            TypeError, BufferError: ``buf`` is not a writable contiguous buffer.
            ArenaFormatError: as for :meth:`create` / :meth:`attach`.
        """
        mv = byte_view(buf, "arena buffer", writable=True)  # type: ignore[arg-type]
        if create:
            size = _size_arg(len(mv))
            plan = _plan(size, size_classes)
            self = cls._new(mv, None, None)
            self._format(plan)
        else:
            if size_classes is not None:
                raise TypeError("size_classes is only accepted with create=True")
            if len(mv) < ARENA_HEADER_SIZE:
                raise ArenaFormatError(
                    f"arena buffer has {len(mv)} bytes, less than an arena header "
                    f"({ARENA_HEADER_SIZE})"
                )
            self = cls._new(mv, None, None)
            self._open()
        return self

    @classmethod
    def _new(cls, buf: mmap.mmap | memoryview, owned: mmap.mmap | None, name: str | None) -> Self:
        self = cls.__new__(cls)
        self._mv = byte_view(buf, "arena buffer", writable=True)
        self._mmap = owned
        self._name = name
        return self

    def _format(self, plan: list[tuple[int, int]]) -> None:
        """Write a fresh arena for ``plan``; the magic goes last."""
        mv = self._mv
        assert mv is not None
        n = len(plan)
        heads_offset, blocks_offset = _layout_offsets(n)
        nblocks = sum(count for _, count in plan)
        data_offset = _align(blocks_offset + ARENA_BLOCK_HEADER_SIZE * nblocks)
        size = len(mv)
        mv[:blocks_offset] = bytes(blocks_offset)
        first = 0
        data = data_offset
        for c, (bs, count) in enumerate(plan):
            _CLASS.pack_into(
                mv, ARENA_HEADER_SIZE + c * ARENA_CLASS_SIZE, bs, count, first, 0, data, 0
            )
            _HEAD.pack_into(mv, heads_offset + c * ARENA_HEAD_SIZE, first, 0, 0, 0)
            for i in range(first, first + count):
                nxt = i + 1 if i + 1 < first + count else ARENA_NIL
                _BLOCK.pack_into(mv, blocks_offset + i * ARENA_BLOCK_HEADER_SIZE, 0, 0, nxt, c)
            first += count
            data += bs * count
        mv[blocks_offset + nblocks * ARENA_BLOCK_HEADER_SIZE : data_offset] = bytes(
            data_offset - blocks_offset - nblocks * ARENA_BLOCK_HEADER_SIZE
        )
        _HEADER.pack_into(
            mv, 0, b"\0" * 8, ARENA_VERSION, ARENA_HEADER_SIZE, size, n, nblocks,
            ARENA_HEADER_SIZE, heads_offset, blocks_offset, data_offset,
        )  # fmt: skip
        mv[:8] = ARENA_MAGIC
        self._open()

    def _open(self) -> None:
        """Validate the header and class table and cache them (process-private)."""
        mv = self._mv
        assert mv is not None
        (magic, version, header_size, total, n, nblocks, classes_off, heads_off, blocks_off,
         data_off) = _HEADER.unpack_from(mv, 0)  # fmt: skip
        where = f"arena {self._name!r}" if self._name else "arena buffer"
        if magic != ARENA_MAGIC:
            raise ArenaFormatError(f"{where}: bad magic {magic!r} (expected {ARENA_MAGIC!r})")
        if version != ARENA_VERSION:
            raise ArenaFormatError(
                f"{where}: format version {version}, this build reads {ARENA_VERSION}"
            )
        if header_size != ARENA_HEADER_SIZE or not 1 <= n <= ARENA_MAX_CLASSES:
            raise ArenaFormatError(f"{where}: bad header (header_size={header_size}, nclasses={n})")
        if total > len(mv):
            raise ArenaFormatError(
                f"{where}: header says {total} bytes but only {len(mv)} are mapped"
            )
        exp_heads, exp_blocks = _layout_offsets(n)
        if (
            classes_off != ARENA_HEADER_SIZE
            or heads_off != exp_heads
            or blocks_off != exp_blocks
            or nblocks >= ARENA_NIL
            or data_off != _align(blocks_off + ARENA_BLOCK_HEADER_SIZE * nblocks)
            or data_off > total
        ):
            raise ArenaFormatError(f"{where}: inconsistent table offsets in the header")
        sizes, counts, firsts, datas = [], [], [], []
        prev = first = 0
        data = data_off
        for c in range(n):
            bs, count, first_index, _, cdata, _ = _CLASS.unpack_from(
                mv, ARENA_HEADER_SIZE + c * ARENA_CLASS_SIZE
            )
            if (
                bs <= prev
                or bs % ARENA_BLOCK_ALIGN
                or bs > ARENA_MAX_BLOCK_SIZE
                or count == 0
                or first_index != first
                or cdata != data
                or data + bs * count > total
            ):
                raise ArenaFormatError(f"{where}: size class {c} is inconsistent")
            sizes.append(bs)
            counts.append(count)
            firsts.append(first_index)
            datas.append(cdata)
            prev = bs
            first += count
            data += bs * count
        if first != nblocks:
            raise ArenaFormatError(f"{where}: class block counts do not add up to {nblocks}")
        self._total = total
        self._nblocks = nblocks
        self._heads = heads_off
        self._blocks = blocks_off
        self._sizes = sizes
        self._counts = counts
        self._firsts = firsts
        self._datas = datas

    # ------------------------------------------------------------------ primitives
    def _load64(self, off: int) -> int:
        assert self._mv is not None
        value: int = _U64.unpack_from(self._mv, off)[0]
        return value

    def _load32(self, off: int) -> int:
        assert self._mv is not None
        value: int = _U32.unpack_from(self._mv, off)[0]
        return value

    def _cas64(self, off: int, expected: int, new: int) -> bool:
        """Compare-and-swap, NOT atomic here (see the module docstring)."""
        if self._load64(off) != expected:
            return False
        _U64.pack_into(self._mv, off, new)  # type: ignore[arg-type]
        return True

    def _cas32(self, off: int, expected: int, new: int) -> bool:
        """Compare-and-swap, NOT atomic here (see the module docstring)."""
        if self._load32(off) != expected:
            return False
        _U32.pack_into(self._mv, off, new)  # type: ignore[arg-type]
        return True

    def _add64(self, off: int, delta: int) -> None:
        _U64.pack_into(self._mv, off, (self._load64(off) + delta) & _M64)  # type: ignore[arg-type]

    def _live(self) -> memoryview:
        if self._mv is None:
            raise ArenaClosed("the arena is closed")
        return self._mv

    def _index(self, handle: int) -> tuple[int, int]:
        """Split a handle into (generation, index), refusing handles that name no block."""
        handle = operator.index(handle)
        if not 0 <= handle <= _M64:
            raise StaleHandle(f"handle {handle:#x} is not a 64-bit arena handle")
        gen, index = handle >> 32, handle & _M32
        if index >= self._nblocks:
            raise StaleHandle(
                f"handle {handle:#x} names block {index}; the arena has {self._nblocks}"
            )
        return gen, index

    def _class_of(self, index: int) -> int:
        c = self._load32(self._blocks + index * ARENA_BLOCK_HEADER_SIZE + _BLK_CLASS)
        if c >= len(self._sizes) or not (
            self._firsts[c] <= index < self._firsts[c] + self._counts[c]
        ):
            raise ArenaFormatError(f"block {index} has a corrupt class field {c}")
        return c

    def _resolve(self, handle: int) -> tuple[int, int]:
        """(payload offset, nbytes) of a live handle; StaleHandle otherwise."""
        self._live()
        gen, index = self._index(handle)
        block = self._blocks + index * ARENA_BLOCK_HEADER_SIZE
        current = self._load32(block + _BLK_GEN)
        if current != gen or not gen & 1:
            raise StaleHandle(
                f"handle {handle:#x} is stale: block {index} is at generation {current}"
                + (" (freed)" if current == (gen + 1) & _M32 else "")
            )
        c = self._class_of(index)
        nbytes = self._load32(block + _BLK_NBYTES)
        if nbytes > self._sizes[c]:
            raise ArenaFormatError(f"block {index} has a corrupt size {nbytes}")
        return self._datas[c] + (index - self._firsts[c]) * self._sizes[c], nbytes

    # ------------------------------------------------------------------ public API
    def alloc(self, nbytes: int) -> int:
        """Allocate a block for ``nbytes`` bytes from the smallest class that holds them.

        Returns:
            A handle (``generation << 32 | block index``, never 0). The block's bytes are
            whatever the previous user left; :meth:`view` shows exactly ``nbytes`` of them.

        Raises:
            MessageTooLarge: ``nbytes`` exceeds the largest size class.
            ArenaExhausted: the class has no free block (the arena is left unchanged except
                for the class's ``failures`` counter).
            AllocRequestError: ``nbytes`` is negative.
            TypeError: ``nbytes`` is not an integer.
        """
        self._live()
        nbytes = operator.index(nbytes)
        if nbytes < 0:
            raise AllocRequestError(f"cannot allocate a negative number of bytes ({nbytes})")
        sizes = self._sizes
        if nbytes > sizes[-1]:
            raise MessageTooLarge(
                f"allocation of {nbytes} bytes exceeds the largest size class ({sizes[-1]})"
            )
        c = 0
        while sizes[c] < nbytes:
            c += 1
        line = self._heads + c * ARENA_HEAD_SIZE
        while True:
            old = self._load64(line + _HEAD_HEAD)
            index = old & _M32
            if index == ARENA_NIL:
                self._add64(line + _HEAD_FAILURES, 1)
                raise ArenaExhausted(
                    f"size class {sizes[c]} is exhausted ({self._counts[c]} blocks in use); "
                    f"cannot allocate {nbytes} bytes"
                )
            if not self._firsts[c] <= index < self._firsts[c] + self._counts[c]:
                raise ArenaFormatError(
                    f"free list of size class {sizes[c]} holds block {index}, outside the class"
                )
            block = self._blocks + index * ARENA_BLOCK_HEADER_SIZE
            nxt = self._load32(block + _BLK_NEXT)
            new = (((old >> 32) + 1) & _M32) << 32 | nxt
            if self._cas64(line + _HEAD_HEAD, old, new):
                break
        gen = (self._load32(block + _BLK_GEN) + 1) & _M32
        mv = self._live()
        _U32.pack_into(mv, block + _BLK_NBYTES, nbytes)
        _U32.pack_into(mv, block + _BLK_GEN, gen)  # publishes the block (release in C)
        self._add64(line + _HEAD_ALLOCS, 1)
        return gen << 32 | index

    def free(self, handle: int) -> None:
        """Return the block of ``handle`` to its class's free list.

        Raises:
            DoubleFree: ``handle`` was already freed (its block is free, one generation on).
            StaleHandle: ``handle`` is not live: freed and its block reused, never issued,
                or not a 64-bit value naming a block of this arena.
            TypeError: ``handle`` is not an integer.
        """
        self._live()
        gen, index = self._index(handle)
        block = self._blocks + index * ARENA_BLOCK_HEADER_SIZE
        current = self._load32(block + _BLK_GEN)
        if (
            current != gen
            or not gen & 1
            or not self._cas32(block + _BLK_GEN, gen, (gen + 1) & _M32)
        ):
            if gen & 1 and current == (gen + 1) & _M32:
                raise DoubleFree(f"handle {handle:#x} was already freed (block {index})")
            raise StaleHandle(
                f"handle {handle:#x} is stale: block {index} is at generation {current}"
            )
        c = self._class_of(index)
        line = self._heads + c * ARENA_HEAD_SIZE
        mv = self._live()
        while True:
            old = self._load64(line + _HEAD_HEAD)
            _U32.pack_into(mv, block + _BLK_NEXT, old & _M32)
            new = (((old >> 32) + 1) & _M32) << 32 | index
            if self._cas64(line + _HEAD_HEAD, old, new):
                break
        self._add64(line + _HEAD_FREES, 1)

    def view(self, handle: int) -> memoryview:
        """A writable ``memoryview`` of exactly the bytes requested for ``handle``.

        The view keeps the mapping alive: release it (``view.release()`` or ``with``) before
        :meth:`close`. Using it after freeing the handle is the caller's bug (the bytes may
        belong to the next owner); the handle itself is checked here, the view cannot be.

        Raises:
            StaleHandle: the handle is not live.
        """
        off, nbytes = self._resolve(handle)
        return self._live()[off : off + nbytes]

    def size(self, handle: int) -> int:
        """The number of bytes requested when ``handle`` was allocated.

        Raises:
            StaleHandle: the handle is not live.
        """
        return self._resolve(handle)[1]

    def offset(self, handle: int) -> int:
        """Byte offset of ``handle``'s payload from the start of the arena (for embedders).

        Raises:
            StaleHandle: the handle is not live.
        """
        return self._resolve(handle)[0]

    def stats(self) -> dict[str, object]:
        """Counters of the whole arena and of each size class (shared by all processes).

        Returns:
            ``{"size", "nblocks", "in_use", "allocs", "frees", "failures", "classes"}`` where
            ``classes`` is a list, smallest first, of ``{"block_size", "total", "free",
            "allocs", "frees", "failures"}``. ``free`` is ``total - (allocs - frees)``; it is
            exact when no other process is mid-operation.
        """
        self._live()
        classes: list[dict[str, int]] = []
        for c, bs in enumerate(self._sizes):
            mv = self._live()
            _, allocs, frees, failures = _HEAD.unpack_from(mv, self._heads + c * ARENA_HEAD_SIZE)
            classes.append(
                {
                    "block_size": bs,
                    "total": self._counts[c],
                    "free": self._counts[c] - ((allocs - frees) & _M64),
                    "allocs": allocs,
                    "frees": frees,
                    "failures": failures,
                }
            )
        return {
            "size": self._total,
            "nblocks": self._nblocks,
            "in_use": sum(k["total"] - k["free"] for k in classes),
            "allocs": sum(k["allocs"] for k in classes),
            "frees": sum(k["frees"] for k in classes),
            "failures": sum(k["failures"] for k in classes),
            "classes": classes,
        }

    @property
    def name(self) -> str | None:
        """The shared-memory name (with its leading ``/``), or None over a plain buffer."""
        return self._name

    @property
    def nbytes(self) -> int:
        """Total bytes of the arena, as its header says."""
        self._live()
        return self._total

    @property
    def size_classes(self) -> tuple[int, ...]:
        """The block size of each class, smallest first."""
        self._live()
        return tuple(self._sizes)

    @property
    def max_alloc(self) -> int:
        """The largest request :meth:`alloc` can serve (the largest block size)."""
        self._live()
        return self._sizes[-1]

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._mv is None

    def close(self) -> None:
        """Unmap the arena from this process (idempotent); the segment stays until
        :meth:`unlink`. Other processes are unaffected.

        Raises:
            BufferError: views returned by :meth:`view` are still alive (the arena stays
                open; release them and retry).
        """
        mv = self._mv
        if mv is None:
            return
        mv.release()
        self._mv = None
        if self._mmap is not None:
            try:
                self._mmap.close()
            except BufferError:
                self._mv = byte_view(self._mmap, "arena buffer", writable=True)
                raise BufferError(
                    f"cannot close arena {self._name!r}: views from view() are still alive; "
                    "release them first"
                ) from None
            self._mmap = None

    def unlink(self) -> None:
        """Remove the shared-memory segment's name (mappings stay valid until closed).

        Idempotent: a segment already unlinked is not an error. No-op over a plain buffer.
        """
        if self._name is None:
            return
        try:
            posix_ipc.unlink_shared_memory(self._name)
        except posix_ipc.ExistentialError:
            pass

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._mv is None:
            return f"<Arena {self._name!r} closed>"
        return f"<Arena {self._name!r} {self._total} bytes, classes {self._sizes}>"
