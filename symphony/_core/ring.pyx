# cython: boundscheck=False, wraparound=False, cdivision=True
"""Cython twin of :mod:`symphony.reference.ring`; semantics there.

Performance notes: the algorithm is the static inline C in
``symphony/include/symphony/ring.h`` (the same code a C program embeds), called on a
``sy_ring`` handle kept in the object. Single-producer push is a bounds check, a memcpy, two
release stores and one seq_cst fence (to see a sleeping consumer); multi-producer adds one CAS.
Blocking waits spin then sleep on a futex with the GIL released. ``push_many``/``pop_many``
publish the cursor once per batch.
"""

from cpython.buffer cimport PyBUF_SIMPLE, PyBUF_WRITABLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t
from libc.string cimport memcpy

from symphony._core._buffer cimport acquire_bytes

import contextlib
import os
import struct
import time

from symphony import _layout as L
from symphony.commons.errors import (
    ArenaExhausted,
    MessageTooLarge,
    RingClosed,
    RingError,
    RingFormatError,
    ValidationError,
)
from symphony.reference._ringshm import (
    Message,
    attach_segment,
    check_error,
    cleanup,
    create_segment,
    find_orphans,
    unlink_segment,
)

__all__ = ["Message", "Ring", "cleanup", "find_orphans", "unlink"]

cdef int _ARENA_FULL = -2
cdef uint32_t _DESC = 16


def _alloc_module():
    from symphony._core import alloc
    return alloc


def _timeout_ns(timeout):
    if timeout is None:
        return -1
    if timeout != timeout or timeout < 0:
        raise ValidationError(f"timeout must be None or >= 0 seconds, got {timeout!r}")
    return int(timeout * 1e9)


def unlink(name):
    """unlink(name) -> bool. See :func:`symphony.reference.ring.unlink`."""
    unlink_segment(name.lstrip("/") + L.RING_ARENA_SUFFIX)
    return unlink_segment(name)


def _layout_constants():
    """The C header's constants, for the test that checks them against _layout."""
    return {
        "RING_MAGIC": SY_RING_MAGIC, "RING_VERSION": SY_RING_VERSION,
        "RING_HEADER_SIZE": SY_RING_HEADER_SIZE, "RING_SLOT_SIZE": SY_RING_SLOT_SIZE,
        "RING_REC_HDR": SY_RING_REC_HDR, "RING_MAX_SLOTS": SY_RING_MAX_SLOTS,
        "RING_MIN_CAPACITY": SY_RING_MIN_CAPACITY, "RING_MAX_CAPACITY": SY_RING_MAX_CAPACITY,
        "RING_MAX_INLINE": SY_RING_MAX_INLINE, "RING_PENDING_POLLS": SY_RING_PENDING_POLLS,
        "RING_OFF_MAGIC": SY_RING_OFF_MAGIC, "RING_OFF_VERSION": SY_RING_OFF_VERSION,
        "RING_OFF_FLAGS": SY_RING_OFF_FLAGS, "RING_OFF_CAPACITY": SY_RING_OFF_CAPACITY,
        "RING_OFF_DATA": SY_RING_OFF_DATA, "RING_OFF_SEGSIZE": SY_RING_OFF_SEGSIZE,
        "RING_OFF_INLINE": SY_RING_OFF_INLINE, "RING_OFF_CREATOR": SY_RING_OFF_CREATOR,
        "RING_OFF_NSLOTS": SY_RING_OFF_NSLOTS, "RING_OFF_TAIL": SY_RING_OFF_TAIL,
        "RING_OFF_HEAD": SY_RING_OFF_HEAD, "RING_OFF_CONSUMER_PID": SY_RING_OFF_CONSUMER_PID,
        "RING_OFF_WAITING": SY_RING_OFF_WAITING, "RING_OFF_DATA_SEQ": SY_RING_OFF_DATA_SEQ,
        "RING_OFF_BELL_PID": SY_RING_OFF_BELL_PID, "RING_OFF_BELL_FD": SY_RING_OFF_BELL_FD,
        "RING_OFF_SPACE_WAITERS": SY_RING_OFF_SPACE_WAITERS,
        "RING_OFF_SPACE_SEQ": SY_RING_OFF_SPACE_SEQ,
        "RING_OFF_PRODUCER_PID": SY_RING_OFF_PRODUCER_PID,
        "RING_OFF_SPACE_BELLS": SY_RING_OFF_SPACE_BELLS,
        "RING_OFF_SPACE_BELL_PID": SY_RING_OFF_SPACE_BELL_PID,
        "RING_OFF_SPACE_BELL_FD": SY_RING_OFF_SPACE_BELL_FD,
        "RING_SLOT_BELL_FD": SY_RING_SLOT_BELL_FD,
        "RING_SLOT_BELL_WAITING": SY_RING_SLOT_BELL_WAITING,
        "RING_OFF_ARENA_LEN": SY_RING_OFF_ARENA_LEN, "RING_OFF_ARENA_NAME": SY_RING_OFF_ARENA_NAME,
        "RING_ARENA_NAME_MAX": SY_RING_ARENA_NAME_MAX, "RING_OFF_SLOTS": SY_RING_OFF_SLOTS,
        "RING_SLOT_PID": SY_RING_SLOT_PID, "RING_SLOT_START": SY_RING_SLOT_START,
        "RING_SLOT_END": SY_RING_SLOT_END,
        "RING_FLAG_MULTI_PRODUCER": SY_RING_MULTI_PRODUCER,
        "RING_FLAG_HAS_ARENA": SY_RING_HAS_ARENA, "REC_COMMITTED": SY_REC_COMMITTED,
        "REC_PAD": SY_REC_PAD, "REC_ARENA": SY_REC_ARENA, "WAIT_FUTEX": SY_WAIT_FUTEX,
        "WAIT_DOORBELL": SY_WAIT_DOORBELL,
    }


cdef int ring_push_raw(sy_ring *r, const void *data, uint32_t length) noexcept nogil:
    """Push ``length`` bytes inline (caller checks length <= inline_limit): 1 pushed,
    0 full, -1 no producer slot."""
    return sy_ring_push(r, data, length, 0)


cdef int64_t ring_pop_raw(sy_ring *r, void *out, uint64_t outcap) noexcept nogil:
    """Pop one inline record into ``out``: its length, -1 none, -2 too small, -3 arena."""
    return sy_ring_pop_copy(r, out, outcap)


cdef class Ring:
    """Cython twin of :class:`symphony.reference.ring.Ring`; semantics there."""

    def __cinit__(self):
        self._mapped = False
        self._held = False
        self._busy = 0
        self._own_bell = -1
        self._space_bell = -1
        self._wakes = 0
        self._spin_ns = L.RING_SPIN_NS
        self._name = ""
        self._arena = None
        self._mm = None

    def __dealloc__(self):
        if self._held:
            sy_ring_release_handle(&self._r)
            PyBuffer_Release(&self._view)
            self._held = False
        self._mapped = False
        if self._own_bell >= 0:
            os.close(self._own_bell)
            self._own_bell = -1
        if self._space_bell >= 0:
            os.close(self._space_bell)
            self._space_bell = -1

    cdef int _map(self, str name, object mm) except -1:
        PyObject_GetBuffer(mm, &self._view, PyBUF_WRITABLE)
        self._mm = mm
        self._mapped = True
        self._held = True
        self._name = name
        sy_ring_open(&self._r, <uint8_t *>self._view.buf, <uint32_t>os.getpid())
        return 0

    @classmethod
    def create(cls, name, capacity, *, multi_producer=False, inline_limit=None, arena_size=0,
               arena_size_classes=None, producer_slots=None, spin_ns=L.RING_SPIN_NS):
        """Ring.create(...). See :meth:`symphony.reference.ring.Ring.create`."""
        if not isinstance(capacity, int) or isinstance(capacity, bool):
            raise TypeError(f"ring capacity must be an int, got {type(capacity).__name__}")
        if not (L.RING_MIN_CAPACITY <= capacity <= L.RING_MAX_CAPACITY
                and capacity & (capacity - 1) == 0):
            raise RingFormatError(
                f"ring capacity must be a power of two in [{L.RING_MIN_CAPACITY}, 2**40], "
                f"got {capacity}")
        cap = capacity
        nslots = 0
        if multi_producer:
            nslots = L.RING_DEFAULT_SLOTS if producer_slots is None else producer_slots
            if not 1 <= nslots <= L.RING_MAX_SLOTS:
                raise RingFormatError(
                    f"producer_slots must be in [1, {L.RING_MAX_SLOTS}], got {nslots}")
        elif producer_slots not in (None, 0):
            raise RingFormatError("producer_slots is only meaningful with multi_producer=True")
        max_inline = min(cap - L.RING_REC_HDR, L.RING_MAX_INLINE)
        if inline_limit is None:
            inline_limit = min(cap // 8, max_inline) if arena_size > 0 else max_inline
        if not 0 <= inline_limit <= max_inline:
            raise RingFormatError(
                f"inline_limit must be in [0, min(capacity - 8, 2**31) = {max_inline}], "
                f"got {inline_limit}")
        if arena_size < 0:
            raise RingFormatError(f"arena_size must be >= 0, got {arena_size}")
        bare = name.lstrip("/") if isinstance(name, str) else name
        arena_name = f"{bare}{L.RING_ARENA_SUFFIX}" if arena_size > 0 else ""
        aname = arena_name.encode()
        if len(aname) > L.RING_ARENA_NAME_MAX:
            raise RingFormatError(f"ring name {name!r} is too long to name its arena")
        data_off = sy_ring_data_offset(nslots)
        mm = create_segment(name, data_off + cap)
        cdef Ring self = cls()
        cdef uint32_t flags = ((SY_RING_MULTI_PRODUCER if multi_producer else 0)
                               | (SY_RING_HAS_ARENA if arena_size > 0 else 0))
        cdef Py_buffer view
        try:
            if arena_size > 0:
                self._arena = _alloc_module().Arena.create(
                    arena_name, arena_size, size_classes=arena_size_classes)
            PyObject_GetBuffer(mm, &view, PyBUF_WRITABLE)
            try:
                sy_ring_format(<uint8_t *>view.buf, cap, flags, nslots, inline_limit,
                               <uint32_t>os.getpid(), PyBytes_AS_STRING(aname), len(aname))
            finally:
                PyBuffer_Release(&view)
            self._map(bare, mm)
        except BaseException:
            self.close()
            mm.close()
            unlink(bare)
            raise
        self._spin_ns = spin_ns
        return self

    @classmethod
    def attach(cls, name, *, spin_ns=L.RING_SPIN_NS):
        """Ring.attach(name, *, spin_ns=...). See :meth:`symphony.reference.ring.Ring.attach`."""
        mm = attach_segment(name)
        cdef Py_buffer view
        PyObject_GetBuffer(mm, &view, PyBUF_WRITABLE)
        code = sy_ring_check(<const uint8_t *>view.buf, <uint64_t>view.len)
        PyBuffer_Release(&view)
        if code:
            err = check_error(name, code, mm)
            mm.close()
            raise err
        cdef Ring self = cls()
        self._map(name.lstrip("/"), mm)
        self._spin_ns = spin_ns
        if self._r.flags & SY_RING_HAS_ARENA:
            (alen,) = struct.unpack_from("<I", mm, L.RING_OFF_ARENA_LEN)
            aname = bytes(mm[L.RING_OFF_ARENA_NAME : L.RING_OFF_ARENA_NAME + alen]).decode()
            try:
                self._arena = _alloc_module().Arena.attach(aname)
            except BaseException:
                self.close()
                raise
        return self

    def close(self):
        """close() -> None. See :meth:`symphony.reference.ring.Ring.close`.

        A call still inside the mapping (``_busy`` > 0: a wait with the GIL released, a parked
        trio waiter) is interrupted instead of unmapped under: the last one to leave unmaps.
        """
        was_open = self._mapped
        self._mapped = False
        if self._busy > 0:
            if was_open:
                sy_ring_interrupt(&self._r)  # futex sleepers (other threads) return CLOSED
                for bell in (self._own_bell, self._space_bell):  # trio waiters wake up
                    if bell >= 0:
                        with contextlib.suppress(OSError):
                            os.eventfd_write(bell, 1)
            return
        self._release()

    cdef int _enter(self) except -1:
        """Start a call that uses the mapping: RingClosed if closed, else busy += 1."""
        if not self._mapped:
            raise RingClosed(f"ring {self._name!r} is closed")
        self._busy += 1
        return 0

    cdef int _leave(self) except -1:
        """End such a call; the last one out after close() unmaps."""
        self._busy -= 1
        if self._busy == 0 and not self._mapped and self._held:
            self._release()
        return 0

    cdef int _release(self) except -1:
        if self._arena is not None:
            try:
                self._arena.close()
            except BufferError:
                pass  # a Message still views the arena; it keeps the arena mapped until released
            self._arena = None
        if self._own_bell >= 0:
            os.close(self._own_bell)
            self._own_bell = -1
        if self._space_bell >= 0:
            os.close(self._space_bell)
            self._space_bell = -1
        if self._held:
            sy_ring_release_handle(&self._r)
            PyBuffer_Release(&self._view)
            self._held = False
        if self._mm is not None:
            self._mm.close()
            self._mm = None
        return 0

    def unlink(self):
        """unlink() -> None. See :meth:`symphony.reference.ring.Ring.unlink`."""
        unlink(self._name)

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        self.close()

    @property
    def name(self):
        return self._name

    @property
    def capacity(self):
        return self._r.cap if self._mapped else 0

    @property
    def multi_producer(self):
        return bool(self._r.flags & SY_RING_MULTI_PRODUCER) if self._mapped else False

    @property
    def inline_limit(self):
        return self._r.inline_limit if self._mapped else 0

    @property
    def arena(self):
        return self._arena

    @property
    def closed(self):
        return not self._mapped

    def stats(self):
        """stats() -> dict. See :meth:`symphony.reference.ring.Ring.stats`."""
        cdef sy_ring_stats *s = &self._r.st
        return {
            "pushed": s.pushed, "pushed_bytes": s.pushed_bytes + self._bytes_adjust_push,
            "popped": s.popped, "popped_bytes": s.popped_bytes + self._bytes_adjust_pop,
            "full_events": s.full_events, "empty_events": s.empty_events,
            "skipped": s.skipped, "wakeups": s.wakeups,
        }

    cdef int _live(self) except -1:
        if not self._mapped:
            raise RingClosed(f"ring {self._name!r} is closed")
        return 0

    # ---- producer -------------------------------------------------------------------
    cdef int _push_one(self, object data) except -3:
        cdef Py_buffer view
        cdef int rc
        cdef uint64_t handle
        cdef bytes desc
        self._live()
        acquire_bytes(data, &view, "ring push data")
        try:
            n = view.len
            if <uint64_t>n <= self._r.inline_limit:
                rc = sy_ring_push(&self._r, view.buf, <uint32_t>n, 0)
            elif self._arena is None:
                raise MessageTooLarge(
                    f"message of {n} bytes exceeds ring {self._name!r} inline limit "
                    f"{self._r.inline_limit} and the ring has no arena")
            else:
                try:
                    handle = self._arena.alloc(n)
                except ArenaExhausted:
                    self._r.st.full_events += 1
                    return _ARENA_FULL
                block = self._arena.view(handle)
                _copy_into(block, view.buf, n)
                block.release()
                desc = struct.pack(L.RING_ARENA_DESC_FORMAT, handle, n)
                rc = sy_ring_push(&self._r, PyBytes_AS_STRING(desc), _DESC, SY_REC_ARENA)
                if rc == SY_RING_PUSHED:
                    self._bytes_adjust_push += n - _DESC
                else:
                    self._arena.free(handle)
        finally:
            PyBuffer_Release(&view)
        if rc == SY_RING_NO_SLOT:
            raise RingError(
                f"ring {self._name!r}: all {self._r.nslots} producer slots are held by live "
                "processes")
        return rc

    def push(self, data):
        """push(data) -> bool. See :meth:`symphony.reference.ring.Ring.push`."""
        cdef Py_buffer view
        cdef int rc
        cdef Py_ssize_t n
        if self._mapped and type(data) is bytes:  # fast path: bytes, no buffer protocol
            n = PyBytes_GET_SIZE(data)
            if <uint64_t>n <= self._r.inline_limit:
                rc = sy_ring_push(&self._r, PyBytes_AS_STRING(data), <uint32_t>n, 0)
                if rc != SY_RING_NO_SLOT:
                    return rc == SY_RING_PUSHED
        self._enter()
        try:
            if not (self._r.flags & SY_RING_MULTI_PRODUCER):
                # fast path: SPSC inline
                acquire_bytes(data, &view, "ring push data")
                if <uint64_t>view.len <= self._r.inline_limit:
                    rc = sy_ring_push(&self._r, view.buf, <uint32_t>view.len, 0)
                    PyBuffer_Release(&view)
                    return rc == SY_RING_PUSHED
                PyBuffer_Release(&view)
            return self._push_one(data) == SY_RING_PUSHED
        finally:
            self._leave()

    def push_many(self, buffers):
        """push_many(buffers) -> int. See :meth:`symphony.reference.ring.Ring.push_many`."""
        self._enter()
        try:
            return self._push_many(buffers)
        finally:
            self._leave()

    cdef object _push_many(self, object buffers):
        cdef Py_buffer view
        cdef int rc
        cdef Py_ssize_t count = 0
        cdef bint spsc
        self._live()
        spsc = not (self._r.flags & SY_RING_MULTI_PRODUCER)
        if not spsc:
            for data in buffers:
                if self._push_one(data) != SY_RING_PUSHED:
                    break
                count += 1
            return count
        sy_ring_producer_sync(&self._r)
        try:
            for data in buffers:
                self._live()  # the iterable runs Python code: close() may have run meanwhile
                acquire_bytes(data, &view, "ring push data")
                if <uint64_t>view.len > self._r.inline_limit:
                    PyBuffer_Release(&view)
                    sy_ring_publish(&self._r)
                    if self._push_one(data) != SY_RING_PUSHED:
                        break
                    count += 1
                    sy_ring_producer_sync(&self._r)
                    continue
                rc = sy_ring_write_spsc(&self._r, view.buf, <uint32_t>view.len, 0)
                PyBuffer_Release(&view)
                if rc != SY_RING_PUSHED:
                    self._r.st.full_events += 1
                    break
                self._r.st.pushed += 1
                self._r.st.pushed_bytes += <uint64_t>view.len
                count += 1
        finally:
            sy_ring_publish(&self._r)
        return count

    def push_wait(self, data, timeout=None):
        """push_wait(data, timeout=None) -> bool. See :meth:`symphony.reference.ring.Ring.push_wait`."""
        cdef int64_t limit
        cdef int64_t left
        cdef int64_t spin = self._spin_ns
        cdef uint64_t need
        cdef Py_buffer view
        if timeout is not None:
            _timeout_ns(timeout)  # validate before touching the ring, as the twin does
        self._enter()
        try:
            return self._push_wait(data, timeout)
        finally:
            self._leave()

    cdef object _push_wait(self, object data, object timeout):
        cdef int64_t limit
        cdef int64_t left
        cdef int64_t spin = self._spin_ns
        cdef uint64_t need
        cdef Py_buffer view
        cdef int rc = -100  # not tried yet
        cdef int woke
        if type(data) is bytes:  # fast path: bytes, no buffer protocol
            if <uint64_t>PyBytes_GET_SIZE(data) <= self._r.inline_limit:
                if sy_ring_nearly_full(&self._r, <uint32_t>PyBytes_GET_SIZE(data)):
                    # the consumer is behind: let it drain an eighth of the ring before we
                    # touch its head again (see sy_ring_nearly_full)
                    need = SY_REC_SIZE(<uint64_t>PyBytes_GET_SIZE(data))
                    left = -1 if timeout is None else <int64_t>(timeout * 1e9)
                    with nogil:
                        woke = sy_ring_wait_writable(&self._r, need, left, spin)
                    if woke == SY_RING_CLOSED or not self._mapped:
                        raise RingClosed(f"ring {self._name!r} was closed during push_wait")
                rc = sy_ring_push(&self._r, PyBytes_AS_STRING(data),
                                  <uint32_t>PyBytes_GET_SIZE(data), 0)
                if rc == SY_RING_PUSHED:
                    return True
                if rc != SY_RING_FULL:
                    rc = -100
        else:  # fast path: an inline message that fits now
            acquire_bytes(data, &view, "ring push data")
            if <uint64_t>view.len <= self._r.inline_limit:
                rc = sy_ring_push(&self._r, view.buf, <uint32_t>view.len, 0)
                PyBuffer_Release(&view)
                if rc == SY_RING_PUSHED:
                    return True
                if rc != SY_RING_FULL:
                    rc = -100
            else:
                PyBuffer_Release(&view)
        limit = -1 if timeout is None else _timeout_ns(timeout)
        deadline = 0 if limit < 0 else time.monotonic_ns() + limit
        while True:
            if rc == -100:
                rc = self._push_one(data)
            if rc == SY_RING_PUSHED:
                return True
            left = -1 if limit < 0 else deadline - time.monotonic_ns()
            if limit >= 0 and left <= 0:
                return False
            if rc == _ARENA_FULL:
                time.sleep(0.0001)
            else:
                n = len(memoryview(data).cast("B"))
                need = SY_REC_SIZE(16 if <uint64_t>n > self._r.inline_limit else <uint64_t>n)
                with nogil:
                    woke = sy_ring_wait_writable(&self._r, need, left, spin)
                if woke == SY_RING_CLOSED or not self._mapped:
                    raise RingClosed(f"ring {self._name!r} was closed during push_wait")
            rc = -100

    # ---- consumer -------------------------------------------------------------------
    cdef object _pop_one(self):
        """Next message as bytes; None when empty/pending. Does not publish the head."""
        cdef uint64_t w, handle, n
        cdef const uint8_t *p
        cdef int rc = sy_ring_peek(&self._r, &w, &p)
        if rc == SY_RING_PENDING:
            sy_ring_consumer_publish(&self._r)
            if sy_ring_note_pending(&self._r, SY_RING_PENDING_POLLS):
                rc = sy_ring_peek(&self._r, &w, &p)
        if rc != SY_RING_READY:
            if rc == SY_RING_EMPTY:
                self._r.st.empty_events += 1
            return None
        if SY_REC_FLAGS(w) & SY_REC_ARENA:
            memcpy(&handle, p, 8)
            memcpy(&n, p + 8, 8)
            if self._arena is None:
                raise RingFormatError(
                    f"ring {self._name!r} carries an arena record but has no arena")
            view = self._arena.view(handle)
            data = bytes(view)
            view.release()
            sy_ring_advance(&self._r, w)
            sy_ring_consumer_publish(&self._r)
            self._arena.free(handle)
            self._bytes_adjust_pop += <int64_t>n - _DESC
            return data
        data = PyBytes_FromStringAndSize(<const char *>p, SY_REC_LEN(w))
        sy_ring_advance(&self._r, w)
        return data

    def pop(self):
        """pop() -> bytes | None. See :meth:`symphony.reference.ring.Ring.pop`."""
        self._enter()
        sy_ring_consumer_sync(&self._r)
        try:
            return self._pop_one()
        finally:
            sy_ring_consumer_publish(&self._r)
            self._leave()

    def pop_many(self, n):
        """pop_many(n) -> list. See :meth:`symphony.reference.ring.Ring.pop_many`."""
        if not isinstance(n, int) or n < 0:
            raise ValidationError(f"pop_many count must be an int >= 0, got {n!r}")
        self._enter()
        cdef list out = []
        cdef Py_ssize_t i, count = n
        sy_ring_consumer_sync(&self._r)
        try:
            for i in range(count):
                data = self._pop_one()
                if data is None:
                    break
                out.append(data)
        finally:
            sy_ring_consumer_publish(&self._r)
            self._leave()
        return out

    def pop_into(self, buffer):
        """pop_into(buffer) -> int. See :meth:`symphony.reference.ring.Ring.pop_into`."""
        cdef Py_buffer out
        cdef uint64_t w, handle, n
        cdef const uint8_t *p
        cdef int rc
        acquire_bytes(buffer, &out, "ring pop_into buffer", True)
        try:
            self._enter()
        except BaseException:
            PyBuffer_Release(&out)
            raise
        try:
            sy_ring_consumer_sync(&self._r)
            rc = sy_ring_peek(&self._r, &w, &p)
            if rc == SY_RING_PENDING:
                sy_ring_consumer_publish(&self._r)
                if sy_ring_note_pending(&self._r, SY_RING_PENDING_POLLS):
                    rc = sy_ring_peek(&self._r, &w, &p)
            if rc != SY_RING_READY:
                if rc == SY_RING_EMPTY:
                    self._r.st.empty_events += 1
                return -1
            arena = SY_REC_FLAGS(w) & SY_REC_ARENA
            if arena:
                memcpy(&handle, p, 8)
                memcpy(&n, p + 8, 8)
                if self._arena is None:
                    raise RingFormatError(
                        f"ring {self._name!r} carries an arena record but has no arena")
            else:
                n = SY_REC_LEN(w)
            if n > <uint64_t>out.len:
                raise MessageTooLarge(
                    f"message of {n} bytes does not fit the pop_into buffer of {out.len} bytes")
            if arena:
                view = self._arena.view(handle)
                _copy_from(view, out.buf, n)
                view.release()
                sy_ring_advance(&self._r, w)
                sy_ring_consumer_publish(&self._r)
                self._arena.free(handle)
                self._bytes_adjust_pop += <int64_t>n - _DESC
            else:
                memcpy(out.buf, p, n)
                sy_ring_advance(&self._r, w)
            return n
        finally:
            sy_ring_consumer_publish(&self._r)
            PyBuffer_Release(&out)
            self._leave()

    def pop_view(self):
        """pop_view() -> Message | None. See :meth:`symphony.reference.ring.Ring.pop_view`."""
        cdef uint64_t w, handle, n
        cdef const uint8_t *p
        self._enter()
        sy_ring_consumer_sync(&self._r)
        try:
            rc = sy_ring_peek(&self._r, &w, &p)
            if rc == SY_RING_PENDING:
                sy_ring_consumer_publish(&self._r)
                if sy_ring_note_pending(&self._r, SY_RING_PENDING_POLLS):
                    rc = sy_ring_peek(&self._r, &w, &p)
            if rc != SY_RING_READY:
                if rc == SY_RING_EMPTY:
                    self._r.st.empty_events += 1
                return None
            if SY_REC_FLAGS(w) & SY_REC_ARENA:
                memcpy(&handle, p, 8)
                memcpy(&n, p + 8, 8)
                arena = self._arena
                if arena is None:
                    raise RingFormatError(
                        f"ring {self._name!r} carries an arena record but has no arena")
                sy_ring_advance(&self._r, w)
                self._bytes_adjust_pop += <int64_t>n - _DESC
                h = handle
                return Message(arena.view(h), lambda: arena.free(h), in_arena=True)
            data = PyBytes_FromStringAndSize(<const char *>p, SY_REC_LEN(w))
            sy_ring_advance(&self._r, w)
            return Message(memoryview(data))
        finally:
            sy_ring_consumer_publish(&self._r)
            self._leave()

    def recover(self):
        """recover() -> int. See :meth:`symphony.reference.ring.Ring.recover`."""
        self._enter()
        try:
            sy_ring_consumer_sync(&self._r)
            return sy_ring_recover(&self._r)
        finally:
            self._leave()

    # ---- waiting --------------------------------------------------------------------
    def wake(self):
        """wake() -> None. See :meth:`symphony.reference.ring.Ring.wake`."""
        self._enter()
        try:
            self._wakes += 1
            for bell in (self._own_bell, self._space_bell):
                if bell >= 0:
                    with contextlib.suppress(OSError):
                        os.eventfd_write(bell, 1)
        finally:
            self._leave()

    def readable(self):
        """readable() -> bool. See :meth:`symphony.reference.ring.Ring.readable`."""
        self._enter()
        try:
            sy_ring_consumer_sync(&self._r)
            return bool(sy_ring_nonempty(&self._r))
        finally:
            self._leave()

    def wait_readable(self, timeout=None):
        """wait_readable(timeout=None) -> bool. See :meth:`symphony.reference.ring.Ring.wait_readable`."""
        cdef int64_t limit = _timeout_ns(timeout)
        cdef int64_t spin = self._spin_ns
        cdef int rc
        self._enter()
        try:
            sy_ring_consumer_sync(&self._r)
            if sy_ring_nonempty(&self._r):
                return True
            with nogil:
                rc = sy_ring_wait_readable(&self._r, limit, spin)
            if rc == SY_RING_CLOSED or not self._mapped:
                raise RingClosed(f"ring {self._name!r} was closed during wait_readable")
            return bool(rc)
        finally:
            self._leave()

    def pop_wait(self, timeout=None):
        """pop_wait(timeout=None) -> bytes | None. See :meth:`symphony.reference.ring.Ring.pop_wait`."""
        cdef int64_t limit = -1 if timeout is None else _timeout_ns(timeout)
        self._enter()
        try:
            return self._pop_wait(limit)
        finally:
            self._leave()

    cdef object _pop_wait(self, int64_t limit):
        cdef int64_t left
        cdef int64_t spin = self._spin_ns
        cdef int rc
        cdef int64_t deadline = 0
        while True:
            sy_ring_consumer_sync(&self._r)
            try:
                data = self._pop_one()
            finally:
                sy_ring_consumer_publish(&self._r)
            if data is not None:
                return data
            if deadline == 0 and limit >= 0:
                deadline = time.monotonic_ns() + limit
            left = -1 if limit < 0 else deadline - time.monotonic_ns()
            if limit >= 0 and left <= 0:
                return None
            with nogil:
                rc = sy_ring_wait_readable(&self._r, left, spin)
            if rc == SY_RING_CLOSED or not self._mapped:
                raise RingClosed(f"ring {self._name!r} was closed during pop_wait")

    def _doorbell(self):
        if self._own_bell < 0:
            self._own_bell = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
            sy_st32(<uint32_t *>(self._r.base + SY_RING_OFF_BELL_FD), <uint32_t>self._own_bell)
            sy_st32(<uint32_t *>(self._r.base + SY_RING_OFF_BELL_PID), self._r.pid)
        return self._own_bell

    def _set_waiting(self, value):
        sy_st32(<uint32_t *>(self._r.base + SY_RING_OFF_WAITING), <uint32_t>value)
        sy_fence()

    def _nonempty(self):
        sy_ring_consumer_sync(&self._r)
        return bool(sy_ring_nonempty(&self._r))

    async def wait_readable_async(self, timeout=None):
        """wait_readable_async(timeout=None) -> bool. See :meth:`symphony.reference.ring.Ring.wait_readable_async`."""
        import trio

        if timeout is not None:
            _timeout_ns(timeout)
        self._enter()
        try:
            bell = self._doorbell()
            if timeout is None:
                return await self._park_readable(bell)
            with trio.move_on_after(timeout):
                return await self._park_readable(bell)
            return False
        finally:
            self._leave()

    async def _park_readable(self, bell):
        import trio

        cdef uint64_t wakes = self._wakes
        while True:
            if not self._mapped:
                raise RingClosed(f"ring {self._name!r} was closed during wait_readable_async")
            if self._wakes != wakes:
                return False
            if self._nonempty():
                return True
            self._set_waiting(SY_WAIT_DOORBELL)
            try:
                if self._nonempty():
                    return True
                await trio.lowlevel.wait_readable(bell)
            finally:
                self._set_waiting(0)
                with contextlib.suppress(BlockingIOError):
                    os.eventfd_read(bell)

    def _space_doorbell(self):
        if self._space_bell < 0:
            self._space_bell = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        if sy_ring_space_bell_register(&self._r, self._space_bell) == SY_RING_NO_SLOT:
            raise RingError(
                f"ring {self._name!r}: all {self._r.nslots} producer slots are held by live "
                "processes")
        return self._space_bell

    def _fits(self, need):
        return bool(sy_ring_fits_now(&self._r, <uint64_t>need))

    def _arm_space(self, on):
        if on:
            sy_ring_space_bell_arm(&self._r)
        else:
            sy_ring_space_bell_disarm(&self._r)

    async def wait_writable_async(self, nbytes=0, timeout=None):
        """wait_writable_async(nbytes=0, timeout=None) -> bool. See :meth:`symphony.reference.ring.Ring.wait_writable_async`."""
        import trio

        if not isinstance(nbytes, int) or isinstance(nbytes, bool) or nbytes < 0:
            raise ValidationError(f"nbytes must be an int >= 0, got {nbytes!r}")
        if timeout is not None:
            _timeout_ns(timeout)
        self._enter()
        try:
            if nbytes > self._r.inline_limit:
                if self._arena is None:
                    raise MessageTooLarge(
                        f"message of {nbytes} bytes exceeds ring {self._name!r} inline limit "
                        f"{self._r.inline_limit} and the ring has no arena")
                nbytes = _DESC
            need = SY_REC_SIZE(<uint64_t>nbytes)
            if sy_ring_fits_now(&self._r, need):
                return True
            bell = self._space_doorbell()
            if timeout is None:
                return await self._park_writable(bell, need)
            with trio.move_on_after(timeout):
                return await self._park_writable(bell, need)
            return False
        finally:
            self._leave()

    async def _park_writable(self, bell, need):
        import trio

        cdef uint64_t wakes = self._wakes
        while True:
            if not self._mapped:
                raise RingClosed(f"ring {self._name!r} was closed during wait_writable_async")
            if self._wakes != wakes:
                return False
            if self._fits(need):
                return True
            self._arm_space(True)
            try:
                if self._fits(need):
                    return True
                await trio.lowlevel.wait_readable(bell)
            finally:
                self._arm_space(False)
                with contextlib.suppress(BlockingIOError):
                    os.eventfd_read(bell)

    async def pop_async(self):
        """pop_async() -> bytes. See :meth:`symphony.reference.ring.Ring.pop_async`."""
        import trio

        while True:
            data = self.pop()
            if data is not None:
                return data
            await self.wait_readable_async()
            data = self.pop()
            if data is not None:
                return data
            await trio.lowlevel.checkpoint()


cdef int _copy_into(object block, const void *src, Py_ssize_t n) except -1:
    cdef Py_buffer b
    PyObject_GetBuffer(block, &b, PyBUF_WRITABLE)
    try:
        if b.len < n:
            raise RingError(f"arena block of {b.len} bytes is smaller than the message ({n})")
        memcpy(b.buf, src, n)
    finally:
        PyBuffer_Release(&b)
    return 0


cdef int _copy_from(object block, void *dst, Py_ssize_t n) except -1:
    cdef Py_buffer b
    PyObject_GetBuffer(block, &b, PyBUF_SIMPLE)
    try:
        if b.len < n:
            raise RingError(f"arena block of {b.len} bytes is smaller than the message ({n})")
        memcpy(dst, b.buf, n)
    finally:
        PyBuffer_Release(&b)
    return 0
