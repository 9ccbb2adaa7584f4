"""Cython twin of :mod:`symphony.reference.alloc`; semantics there.

Performance notes: the allocator itself is ``symphony/include/symphony/arena.h`` (header-only
C, lock-free through ``__atomic_*`` builtins, safe for many processes at once); this module
holds a ``Py_buffer`` on the mapping for the raw pointer and a whole-arena ``memoryview``
that :meth:`Arena.view` slices (a slice keeps the mapping exported, so ``close`` can never
unmap memory a view still points at). ``alloc``/``free`` take ``object`` arguments and convert
them by hand so that bad values raise the same errors as the twin.
"""

cimport cython

import mmap
import operator
from collections.abc import Sequence

import posix_ipc

from cpython.buffer cimport PyBuffer_Release
from cpython.number cimport PyNumber_Index
from libc.stdint cimport uint32_t, uint64_t

from symphony._core._buffer cimport acquire_bytes

from symphony._layout import (
    ARENA_BLOCK_ALIGN,
    ARENA_HEADER_SIZE,
    ARENA_MAGIC,
    ARENA_MAX_BLOCK_SIZE,
    ARENA_MAX_CLASSES,
    ARENA_VERSION,
    ARENA_DEFAULT_SIZE_CLASSES,
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

__all__ = ["Arena"]

cdef uint64_t _M32 = 0xFFFFFFFF


def _shm_name(name):
    if not isinstance(name, str):
        raise TypeError(f"arena name must be a str, got {name!r}")
    return name if name.startswith("/") else "/" + name


def _size_arg(size):
    size = operator.index(size)
    if size < ARENA_HEADER_SIZE:
        raise ArenaFormatError(f"arena size {size} is smaller than its {ARENA_HEADER_SIZE}-byte header")
    return size


def _check_classes(size_classes):
    if isinstance(size_classes, (str, bytes)) or not isinstance(size_classes, Sequence):
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


def _plan_check(size, classes):
    """Raise the twin's ArenaFormatError if no arena of ``size`` bytes fits ``classes``."""
    if size >= 1 << 64:
        raise ArenaFormatError(f"an arena of {size} bytes would hold more than 2**32-2 blocks")
    _plan_check_c(size, classes)


cdef int _plan_check_c(uint64_t size, object classes) except -1:
    cdef uint32_t arr[32]
    cdef uint32_t sizes[32]
    cdef uint64_t counts[32]
    cdef uint32_t n = 0, nout = 0
    if classes is not None:
        for bs in classes:
            arr[n] = bs
            n += 1
    rc = sy_arena_plan(size, arr, n, sizes, counts, &nout)
    if rc == SY_ARENA_OK:
        return 0
    if rc == SY_ARENA_E_NOSPACE and classes is None:
        raise ArenaFormatError(
            f"an arena of {size} bytes is too small for even one "
            f"{ARENA_DEFAULT_SIZE_CLASSES[0]}-byte block"
        )
    if rc == SY_ARENA_E_NOSPACE:
        zero = next(c for c in range(nout) if counts[c] == 0)
        raise ArenaFormatError(
            f"an arena of {size} bytes is too small for size classes {list(classes)}: "
            f"class {classes[zero]} gets no block"
        )
    if rc == SY_ARENA_E_TOO_MANY:
        raise ArenaFormatError(f"an arena of {size} bytes would hold more than 2**32-2 blocks")
    raise ArenaFormatError(f"no valid layout for an arena of {size} bytes (code {rc})")


# no_gc_clear: Cython's generated tp_clear would drop ``_buf.obj`` without releasing the
# buffer, leaving the exporter (a bytearray, an mmap) with an export that is never returned.
@cython.no_gc_clear
cdef class Arena:
    """Cython twin of :class:`symphony.reference.alloc.Arena`; semantics there."""

    def __init__(self):
        raise TypeError("use Arena.create(), Arena.attach() or Arena.from_buffer()")

    def __dealloc__(self):
        self._release()

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(cls, name, size, *, size_classes=None):
        """create(name, size, *, size_classes=None) -> Arena. See the twin."""
        name = _shm_name(name)
        size = _size_arg(size)
        classes = None if size_classes is None else _check_classes(size_classes)
        _plan_check(size, classes)  # before making a segment that would be wasted
        try:
            shm = posix_ipc.SharedMemory(name, posix_ipc.O_CREX, mode=0o600, size=size)
        except posix_ipc.ExistentialError as exc:
            raise ArenaFormatError(f"shared-memory segment {name!r} already exists") from exc
        except (posix_ipc.Error, ValueError, OSError) as exc:
            raise ArenaFormatError(f"cannot create shared-memory segment {name!r}: {exc}") from exc
        cdef Arena self
        try:
            try:
                mm = mmap.mmap(shm.fd, size)
            finally:
                shm.close_fd()
            self = cls.__new__(cls)
            self._mmap = mm
            self._name = name
            self._acquire(mm)
            try:
                self._format(classes)
            except BaseException:
                self.close()
                raise
        except BaseException:
            posix_ipc.unlink_shared_memory(name)
            raise
        return self

    @classmethod
    def attach(cls, name):
        """attach(name) -> Arena. See the twin."""
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
        cdef Arena self = cls.__new__(cls)
        self._mmap = mm
        self._name = name
        self._acquire(mm)
        try:
            self._raise(sy_arena_open(&self._a, self._buf.buf, <uint64_t>self._buf.len), None)
        except BaseException:
            self.close()
            raise
        return self

    @classmethod
    def from_buffer(cls, buf, *, create, size_classes=None):
        """from_buffer(buf, *, create, size_classes=None) -> Arena. See the twin."""
        cdef Arena self = cls.__new__(cls)
        self._acquire(buf)
        try:
            if create:
                size = _size_arg(self._buf.len)
                classes = None if size_classes is None else _check_classes(size_classes)
                self._format(classes)
            else:
                if size_classes is not None:
                    raise TypeError("size_classes is only accepted with create=True")
                if self._buf.len < ARENA_HEADER_SIZE:
                    raise ArenaFormatError(
                        f"arena buffer has {self._buf.len} bytes, less than an arena header "
                        f"({ARENA_HEADER_SIZE})"
                    )
                self._raise(sy_arena_open(&self._a, self._buf.buf, <uint64_t>self._buf.len), None)
        except BaseException:
            self._release()
            raise
        return self

    cdef int _format(self, object classes) except -1:
        cdef uint32_t arr[32]
        cdef uint32_t n = 0
        if classes is not None:
            for bs in classes:
                arr[n] = bs
                n += 1
        _plan_check(<uint64_t>self._buf.len, classes)
        return self._raise(
            sy_arena_format(&self._a, self._buf.buf, <uint64_t>self._buf.len, arr, n), None
        )

    cdef int _acquire(self, object buf) except -1:
        acquire_bytes(buf, &self._buf, "arena buffer", True)
        self._open = True
        try:
            mv = memoryview(buf)
            self._mv = mv if mv.format == "B" and mv.ndim == 1 else mv.cast("B")
        except BaseException:
            self._release()
            raise
        return 0

    cdef void _release(self) noexcept:
        if self._open:
            self._open = False
            PyBuffer_Release(&self._buf)
        mv = self._mv
        self._mv = None
        if mv is not None:
            try:
                mv.release()
            except BaseException:
                pass

    cdef int _raise(self, int rc, object what) except -1:
        """Turn a non-OK result code of arena.h into the twin's exception."""
        if rc == SY_ARENA_OK:
            return 0
        where = f"arena {self._name!r}" if self._name else "arena buffer"
        if rc == SY_ARENA_EXHAUSTED:
            c = sy_arena_class_for(&self._a, what)
            raise ArenaExhausted(
                f"size class {self._a.block_size[c]} is exhausted ({self._a.block_count[c]} "
                f"blocks in use); cannot allocate {what} bytes"
            )
        if rc == SY_ARENA_TOO_LARGE:
            raise MessageTooLarge(
                f"allocation of {what} bytes exceeds the largest size class "
                f"({self._a.block_size[self._a.nclasses - 1]})"
            )
        if rc == SY_ARENA_DOUBLE_FREE:
            raise DoubleFree(f"handle {what:#x} was already freed (block {what & _M32})")
        if rc == SY_ARENA_STALE:
            index = what & _M32
            if index >= self._a.nblocks:
                raise StaleHandle(
                    f"handle {what:#x} names block {index}; the arena has {self._a.nblocks}"
                )
            raise StaleHandle(
                f"handle {what:#x} is stale: block {index} is at generation "
                f"{sy_arena_generation(&self._a, <uint32_t>index)}"
            )
        if rc == SY_ARENA_CORRUPT:
            raise ArenaFormatError(f"{where}: corrupt free list or block header")
        messages = {
            SY_ARENA_E_SMALL: f"less than an arena header ({ARENA_HEADER_SIZE} bytes)",
            SY_ARENA_E_MAGIC: f"bad magic (expected {ARENA_MAGIC!r})",
            SY_ARENA_E_VERSION: f"bad format version (this build reads {ARENA_VERSION})",
            SY_ARENA_E_HEADER: "bad header (header_size or nclasses)",
            SY_ARENA_E_SIZE: f"header size exceeds the {self._buf.len} bytes mapped",
            SY_ARENA_E_OFFSETS: "inconsistent table offsets in the header",
            SY_ARENA_E_CLASS: "a size class entry is inconsistent",
            SY_ARENA_E_COUNTS: "class block counts do not add up",
        }
        raise ArenaFormatError(f"{where}: {messages.get(rc, f'error code {rc}')}")

    # ------------------------------------------------------------------ public API
    def alloc(self, nbytes):
        """alloc(nbytes) -> int. See the twin."""
        cdef Py_ssize_t n
        cdef uint64_t handle = 0
        cdef int rc
        if not self._open:
            raise ArenaClosed("the arena is closed")
        try:
            n = nbytes
        except OverflowError:
            if nbytes < 0:
                raise AllocRequestError(f"cannot allocate a negative number of bytes ({nbytes})") from None
            raise MessageTooLarge(
                f"allocation of {nbytes} bytes exceeds the largest size class "
                f"({self._a.block_size[self._a.nclasses - 1]})"
            ) from None
        if n < 0:
            raise AllocRequestError(f"cannot allocate a negative number of bytes ({nbytes})")
        rc = sy_arena_alloc(&self._a, <uint64_t>n, &handle)
        if rc != SY_ARENA_OK:
            self._raise(rc, n)
        return handle

    cdef uint64_t _handle(self, object handle) except? 0:
        """The open arena's handle as a u64 (as operator.index; no floats), or the errors."""
        if not self._open:
            raise ArenaClosed("the arena is closed")
        if type(handle) is not int:
            handle = PyNumber_Index(handle)
        try:
            return handle
        except OverflowError:
            raise StaleHandle(f"handle {handle:#x} is not a 64-bit arena handle") from None

    cdef int _resolve(self, object handle, uint64_t *off, uint32_t *nbytes) except -1:
        """Offset and requested size of a live handle, or the twin's errors."""
        cdef uint64_t h = self._handle(handle)
        cdef int rc = sy_arena_resolve(&self._a, h, off, nbytes)
        if rc != SY_ARENA_OK:
            self._raise(rc, h)
        return 0

    def free(self, handle):
        """free(handle) -> None. See the twin."""
        cdef uint64_t h = self._handle(handle)
        cdef int rc = sy_arena_free(&self._a, h)
        if rc != SY_ARENA_OK:
            self._raise(rc, h)

    def view(self, handle):
        """view(handle) -> memoryview. See the twin."""
        cdef uint64_t off = 0
        cdef uint32_t nbytes = 0
        self._resolve(handle, &off, &nbytes)
        return self._mv[off:off + nbytes]

    def size(self, handle):
        """size(handle) -> int. See the twin."""
        cdef uint64_t off = 0
        cdef uint32_t nbytes = 0
        self._resolve(handle, &off, &nbytes)
        return nbytes

    def offset(self, handle):
        """offset(handle) -> int. See the twin."""
        cdef uint64_t off = 0
        cdef uint32_t nbytes = 0
        self._resolve(handle, &off, &nbytes)
        return off

    def stats(self):
        """stats() -> dict. See the twin."""
        cdef uint64_t out[3]
        cdef uint32_t c
        if not self._open:
            raise ArenaClosed("the arena is closed")
        classes = []
        for c in range(self._a.nclasses):
            sy_arena_class_stats(&self._a, c, out)
            total = self._a.block_count[c]
            classes.append({
                "block_size": self._a.block_size[c],
                "total": total,
                "free": total - ((out[0] - out[1]) & 0xFFFFFFFFFFFFFFFF),
                "allocs": out[0],
                "frees": out[1],
                "failures": out[2],
            })
        return {
            "size": self._a.size,
            "nblocks": self._a.nblocks,
            "in_use": sum(k["total"] - k["free"] for k in classes),
            "allocs": sum(k["allocs"] for k in classes),
            "frees": sum(k["frees"] for k in classes),
            "failures": sum(k["failures"] for k in classes),
            "classes": classes,
        }

    @property
    def name(self):
        """The shared-memory name, or None over a plain buffer."""
        return self._name

    @property
    def nbytes(self):
        """Total bytes of the arena, as its header says."""
        if not self._open:
            raise ArenaClosed("the arena is closed")
        return self._a.size

    @property
    def size_classes(self):
        """The block size of each class, smallest first."""
        if not self._open:
            raise ArenaClosed("the arena is closed")
        return tuple(self._a.block_size[c] for c in range(self._a.nclasses))

    @property
    def max_alloc(self):
        """The largest request alloc() can serve."""
        if not self._open:
            raise ArenaClosed("the arena is closed")
        return self._a.block_size[self._a.nclasses - 1]

    @property
    def closed(self):
        """True after close()."""
        return not self._open

    def close(self):
        """close() -> None. See the twin."""
        if not self._open:
            return
        self._release()
        if self._mmap is not None:
            try:
                self._mmap.close()
            except BufferError:
                self._acquire(self._mmap)
                raise BufferError(
                    f"cannot close arena {self._name!r}: views from view() are still alive; "
                    "release them first"
                ) from None
            self._mmap = None

    def unlink(self):
        """unlink() -> None. See the twin."""
        if self._name is None:
            return
        try:
            posix_ipc.unlink_shared_memory(self._name)
        except posix_ipc.ExistentialError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()

    def __repr__(self):
        if not self._open:
            return f"<Arena {self._name!r} closed>"
        return f"<Arena {self._name!r} {self._a.size} bytes, classes {list(self.size_classes)}>"


def _c_pairs(Arena arena, Py_ssize_t pairs, Py_ssize_t nbytes):
    """_c_pairs(arena, pairs, nbytes) -> int. Benchmark helper: ``pairs`` alloc+free pairs
    in C with the GIL released (no Python per pair); returns how many succeeded."""
    cdef uint64_t handle
    cdef Py_ssize_t i, ok = 0
    if not arena._open:
        raise ArenaClosed("the arena is closed")
    with nogil:
        for i in range(pairs):
            if sy_arena_alloc(&arena._a, <uint64_t>nbytes, &handle) == SY_ARENA_OK:
                sy_arena_free(&arena._a, handle)
                ok += 1
    return ok
