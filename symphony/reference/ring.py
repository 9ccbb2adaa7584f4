"""A lock-free ring of variable-length records in named POSIX shared memory (the spec twin).

One process creates the ring (``Ring.create``), others attach by name (``Ring.attach``);
each side maps the same segment and moves records with atomic loads and stores on two
cursors, never a lock and never a system call on the fast path. The byte layout is in
``docs/ring-format.md`` and :mod:`symphony._layout`; the Cython twin
(:mod:`symphony._core.ring`, the C in ``symphony/include/symphony/ring.h``) writes exactly
the same bytes, so either side may be either implementation, or a C program.

Modes
    *Single producer* (default): one producer process, one consumer process. The producer
    writes a record, then publishes it by storing the tail cursor (release); the consumer
    loads the tail (acquire), reads, and stores the head. A producer killed mid-write has
    published nothing, so the consumer can never see a torn record.

    *Multi producer* (``multi_producer=True``): any number of producer processes (at most
    ``producer_slots`` at once) and one consumer. A producer first records its *intent*
    (start, end) in its slot, reserves the bytes with a CAS on the tail, writes, then commits
    the record by storing its header word with the COMMITTED flag (release). The consumer only
    reads committed records and zeroes what it consumed (a reservation must find zeros). If
    the record at the head stays uncommitted for ``RING_PENDING_POLLS`` polls the consumer
    checks the writer: if the slot that claims that position belongs to a dead process (and no
    live one claims it) the reservation is skipped: only that unfinished record is lost, and
    every committed record is delivered exactly once.

Records
    An 8-byte header word ``flags << 32 | length`` followed by the payload, padded to 8 bytes.
    A record never wraps: when it would cross the end of the data area the producer first
    publishes a PAD record covering the rest of the lap (its own step, so that a record of up
    to ``capacity`` bytes always fits once the consumer has caught up). Payloads above
    ``inline_limit`` go to the ring's shared arena (:mod:`symphony.reference.alloc`) and the
    record carries only ``(handle, length)``; :meth:`Ring.pop_view` gives the consumer a
    zero-copy view and frees the block on release.

Waiting
    ``pop_wait``/``push_wait``/``wait_readable`` spin for ``spin_ns`` (default 50 µs), then
    sleep on a futex word in the segment. :meth:`Ring.wait_readable_async` (trio) parks on an
    eventfd *doorbell* owned by the consumer: it declares itself asleep in the ``waiting``
    word, re-checks the ring, then waits; a producer that publishes and sees the flag rings
    the bell (and only then). The consumer publishes ``(pid, fd)`` of its eventfd in the
    header; a producer duplicates it with ``pidfd_getfd(2)`` (same user, ptrace access).
    ``/proc/<pid>/fd`` cannot be used: eventfds are anonymous inodes and refuse ``open``.
    :meth:`Ring.wait_writable_async` is the mirror image for a producer facing a full ring:
    it parks on its own eventfd after declaring itself in ``space_bells`` (and its slot), and
    the consumer rings it after publishing its head.

Closing
    :meth:`Ring.close` takes effect at once (every later call raises ``RingClosed``) but
    never unmaps under a caller: calls inside the ring are counted, sleepers (threads in a
    futex wait, trio tasks on a doorbell) are woken and raise ``RingClosed``, and the last
    one out unmaps. See ``docs/ring-format.md`` ("Closing a handle").

This twin uses ``libatomic`` through :mod:`ctypes` for the atomic operations (Python has no
atomics on shared memory); it is the readable specification, not the fast path.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import mmap
import os
import struct
import threading
import time
from collections.abc import Iterable, Iterator
from types import ModuleType, TracebackType
from typing import Any

from typing_extensions import Buffer

from symphony import _layout as L
from symphony.commons.errors import (
    ArenaExhausted,
    MessageTooLarge,
    RingClosed,
    RingError,
    RingFormatError,
    ValidationError,
)
from symphony.reference._buffer import byte_view
from symphony.reference._ringshm import (
    Message,
    attach_segment,
    check_error,
    cleanup,
    create_segment,
    find_orphans,
    pid_alive,
    unlink_segment,
)

__all__ = ["Message", "Ring", "cleanup", "find_orphans", "unlink"]

# ---- atomics (libatomic) and futex (libc) through ctypes ---------------------------------
_ACQUIRE, _RELEASE, _SEQ_CST = 2, 3, 5
_PUSHED, _FULL, _NO_SLOT, _ARENA_FULL = 1, 0, -1, -2
_EMPTY, _READY, _PENDING = 0, 1, 2

_libatomic = ctypes.CDLL(ctypes.util.find_library("atomic") or "libatomic.so.1")
_load8 = _libatomic.__atomic_load_8
_load8.argtypes, _load8.restype = [ctypes.c_void_p, ctypes.c_int], ctypes.c_uint64
_store8 = _libatomic.__atomic_store_8
_store8.argtypes, _store8.restype = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int], None
_load4 = _libatomic.__atomic_load_4
_load4.argtypes, _load4.restype = [ctypes.c_void_p, ctypes.c_int], ctypes.c_uint32
_store4 = _libatomic.__atomic_store_4
_store4.argtypes, _store4.restype = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int], None
_cas8 = _libatomic.__atomic_compare_exchange_8
_cas8.argtypes = [
    ctypes.c_void_p,
    ctypes.POINTER(ctypes.c_uint64),
    ctypes.c_uint64,
    ctypes.c_int,
    ctypes.c_int,
]
_cas8.restype = ctypes.c_bool
_cas4 = _libatomic.__atomic_compare_exchange_4
_cas4.argtypes = [
    ctypes.c_void_p,
    ctypes.POINTER(ctypes.c_uint32),
    ctypes.c_uint32,
    ctypes.c_int,
    ctypes.c_int,
]
_cas4.restype = ctypes.c_bool
_add4 = _libatomic.__atomic_fetch_add_4
_add4.argtypes, _add4.restype = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int], ctypes.c_uint32
_sub4 = _libatomic.__atomic_fetch_sub_4
_sub4.argtypes, _sub4.restype = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int], ctypes.c_uint32

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long
_SYS_FUTEX, _FUTEX_WAIT, _FUTEX_WAKE = 202, 0, 1
_SYS_PIDFD_GETFD = 438


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def _futex_wait(addr: int, val: int, timeout_ns: int) -> None:
    ts = _Timespec(timeout_ns // 1_000_000_000, timeout_ns % 1_000_000_000)
    _syscall(
        ctypes.c_long(_SYS_FUTEX),
        ctypes.c_void_p(addr),
        ctypes.c_int(_FUTEX_WAIT),
        ctypes.c_uint32(val),
        ctypes.byref(ts) if timeout_ns >= 0 else None,
        None,
        ctypes.c_int(0),
    )


def _futex_wake(addr: int) -> None:
    _syscall(
        ctypes.c_long(_SYS_FUTEX),
        ctypes.c_void_p(addr),
        ctypes.c_int(_FUTEX_WAKE),
        ctypes.c_int(0x7FFFFFFF),
        None,
        None,
        ctypes.c_int(0),
    )


def _dup_remote_fd(pid: int, fd: int) -> int:
    """Duplicate descriptor ``fd`` of process ``pid`` here (pidfd_getfd); -1 if refused."""
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return -1
    try:
        got = _syscall(
            ctypes.c_long(_SYS_PIDFD_GETFD), ctypes.c_int(pidfd), ctypes.c_int(fd), ctypes.c_int(0)
        )
    finally:
        os.close(pidfd)
    return int(got) if got >= 0 else -1


def _rec_size(length: int) -> int:
    """Bytes a record of ``length`` payload bytes occupies: header + payload padded to 8."""
    return L.RING_REC_HDR + ((length + 7) & ~7)


def _word(length: int, flags: int) -> int:
    return (flags << 32) | length


def _check_capacity(capacity: object) -> int:
    if not isinstance(capacity, int) or isinstance(capacity, bool):
        raise TypeError(f"ring capacity must be an int, got {type(capacity).__name__}")
    if not (
        L.RING_MIN_CAPACITY <= capacity <= L.RING_MAX_CAPACITY and capacity & (capacity - 1) == 0
    ):
        raise RingFormatError(
            f"ring capacity must be a power of two in [{L.RING_MIN_CAPACITY}, 2**40], "
            f"got {capacity}"
        )
    return capacity


def _data_offset(nslots: int) -> int:
    return (L.RING_OFF_SLOTS + nslots * L.RING_SLOT_SIZE + 63) & ~63


def _timeout_ns(timeout: float | None) -> int:
    if timeout is None:
        return -1
    if timeout != timeout or timeout < 0:
        raise ValidationError(f"timeout must be None or >= 0 seconds, got {timeout!r}")
    return int(timeout * 1e9)


def _alloc_module() -> ModuleType:
    from symphony.reference import alloc

    return alloc


def unlink(name: str) -> bool:
    """Remove ring ``name`` and its arena from the system; False if the ring did not exist."""
    unlink_segment(name.lstrip("/") + L.RING_ARENA_SUFFIX)
    return unlink_segment(name)


class Ring:
    """A handle on a shared-memory ring. Make one with :meth:`create` or :meth:`attach`.

    A handle belongs to one process (do not use it across ``fork``; attach again). In
    single-producer mode exactly one process pushes and one pops; in multi-producer mode any
    number push and one pops. Both roles may be taken by either implementation.
    """

    def __init__(self) -> None:
        self._mm: mmap.mmap | None = None
        self._anchor: Any = None
        self._base = 0
        self._name = ""
        self._cap = 0
        self._flags = 0
        self._nslots = 0
        self._inline_limit = 0
        self._data = 0
        self._pid = os.getpid()
        self._slot = -1
        self._producer_registered = False
        self._consumer_registered = False
        self._pending_pos = 0
        self._pending_polls = 0
        self._bell_key: tuple[int, int] = (0, -1)
        self._bell_fd = -1
        self._wakes = 0
        self._own_bell = -1
        self._space_bell = -1  # our eventfd while waiting for room (wait_writable_async)
        self._sbell_key: tuple[int, int] = (0, -1)  # consumer: the producer bell we opened
        self._sbell_fd = -1
        self._closing = False  # close() ran: every call raises RingClosed
        self._busy = 0  # calls inside the mapping right now; the last one out unmaps
        self._busy_lock = threading.Lock()
        self._arena: Any = None
        self._spin_ns = L.RING_SPIN_NS
        self._stats = dict.fromkeys(
            (
                "pushed",
                "pushed_bytes",
                "popped",
                "popped_bytes",
                "full_events",
                "empty_events",
                "skipped",
                "wakeups",
            ),
            0,
        )

    # ---- lifecycle --------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        name: str,
        capacity: int,
        *,
        multi_producer: bool = False,
        inline_limit: int | None = None,
        arena_size: int = 0,
        arena_size_classes: list[int] | None = None,
        producer_slots: int | None = None,
        spin_ns: int = L.RING_SPIN_NS,
    ) -> Ring:
        """Create the ring segment ``name`` (it must not exist) and return a handle on it.

        Args:
            name: the POSIX shared-memory name (with or without the leading ``/``).
            capacity: bytes in the data area; a power of two in ``[64, 2**40]``. A record
                takes 8 bytes of header plus its payload rounded up to 8.
            multi_producer: allow several producer processes (CAS reservation).
            inline_limit: payloads longer than this go to the arena; default
                ``capacity - 8`` without an arena, ``capacity // 8`` with one.
            arena_size: if > 0, create a shared arena ``name + ".arena"`` of this many bytes
                for large payloads.
            arena_size_classes: passed to ``Arena.create(size_classes=...)``.
            producer_slots: multi-producer only: how many producer processes may be attached
                at once (default 32, at most 1024).
            spin_ns: how long blocking waits spin before sleeping.

        Raises:
            RingFormatError: bad name, capacity, limits, or the segment already exists.
        """
        cap = _check_capacity(capacity)
        nslots = 0
        if multi_producer:
            nslots = L.RING_DEFAULT_SLOTS if producer_slots is None else producer_slots
            if not 1 <= nslots <= L.RING_MAX_SLOTS:
                raise RingFormatError(
                    f"producer_slots must be in [1, {L.RING_MAX_SLOTS}], got {nslots}"
                )
        elif producer_slots not in (None, 0):
            raise RingFormatError("producer_slots is only meaningful with multi_producer=True")
        max_inline = min(cap - L.RING_REC_HDR, L.RING_MAX_INLINE)
        if inline_limit is None:
            inline_limit = min(cap // 8, max_inline) if arena_size > 0 else max_inline
        if not 0 <= inline_limit <= max_inline:
            raise RingFormatError(
                f"inline_limit must be in [0, min(capacity - 8, 2**31) = {max_inline}], "
                f"got {inline_limit}"
            )
        if arena_size < 0:
            raise RingFormatError(f"arena_size must be >= 0, got {arena_size}")
        bare = name.lstrip("/") if isinstance(name, str) else name
        arena_name = f"{bare}{L.RING_ARENA_SUFFIX}" if arena_size > 0 else ""
        if len(arena_name.encode()) > L.RING_ARENA_NAME_MAX:
            raise RingFormatError(f"ring name {name!r} is too long to name its arena")
        data_off = _data_offset(nslots)
        mm = create_segment(name, data_off + cap)
        self = cls()
        try:
            flags = (L.RING_FLAG_MULTI_PRODUCER if multi_producer else 0) | (
                L.RING_FLAG_HAS_ARENA if arena_size > 0 else 0
            )
            struct.pack_into("<IIQQQQII", mm, L.RING_OFF_VERSION, L.RING_VERSION, flags,
                             cap, data_off, data_off + cap, inline_limit, os.getpid(), nslots)
            aname = arena_name.encode()
            struct.pack_into("<I", mm, L.RING_OFF_ARENA_LEN, len(aname))
            mm[L.RING_OFF_ARENA_NAME : L.RING_OFF_ARENA_NAME + len(aname)] = aname
            self._map(bare, mm)
            if arena_size > 0:
                self._arena = _alloc_module().Arena.create(
                    arena_name, arena_size, size_classes=arena_size_classes
                )
            _store8(self._base + L.RING_OFF_MAGIC, L.RING_MAGIC, _RELEASE)
        except BaseException:
            self.close()
            unlink(bare)
            raise
        self._spin_ns = spin_ns
        return self

    @classmethod
    def attach(cls, name: str, *, spin_ns: int = L.RING_SPIN_NS) -> Ring:
        """Attach to an existing ring.

        Raises:
            RingFormatError: no such segment, or not a ring this version can read.
        """
        mm = attach_segment(name)
        code = _check(mm)
        if code:
            err = check_error(name, code, mm)
            mm.close()
            raise err
        self = cls()
        self._map(name.lstrip("/"), mm)
        self._spin_ns = spin_ns
        if self._flags & L.RING_FLAG_HAS_ARENA:
            (alen,) = struct.unpack_from("<I", mm, L.RING_OFF_ARENA_LEN)
            aname = bytes(mm[L.RING_OFF_ARENA_NAME : L.RING_OFF_ARENA_NAME + alen]).decode()
            try:
                self._arena = _alloc_module().Arena.attach(aname)
            except BaseException:
                self.close()
                raise
        return self

    def _map(self, name: str, mm: mmap.mmap) -> None:
        self._mm = mm
        self._anchor = ctypes.c_char.from_buffer(mm)
        self._base = ctypes.addressof(self._anchor)
        self._name = name
        self._flags, cap, data_off, _seg, inline_limit, _creator, nslots = struct.unpack_from(
            "<IQQQQII", mm, L.RING_OFF_FLAGS
        )
        self._cap, self._data, self._inline_limit, self._nslots = (
            cap,
            data_off,
            inline_limit,
            nslots,
        )

    def close(self) -> None:
        """Unmap the segment (the ring itself stays until :meth:`unlink`); idempotent.

        From then on every method that uses the ring raises :class:`RingClosed` (``stats``
        and ``unlink`` still work). Calls that are inside the ring at that moment are never
        unmapped under: a wait sleeping in another thread (``pop_wait``, ``push_wait``,
        ``wait_readable``) or parked in a trio task (``wait_readable_async``,
        ``wait_writable_async``) is woken and raises :class:`RingClosed`, and the last call
        to leave unmaps the segment. A :class:`Message` from :meth:`pop_view` stays valid:
        an inline one is a private copy, an arena one keeps the arena mapped until it is
        released.
        """
        with self._busy_lock:
            was_open = not self._closing
            self._closing = True
            if self._busy:
                if was_open and self._mm is not None:
                    self._interrupt()
                return
        self._release()

    def _interrupt(self) -> None:
        """Wake this handle's sleepers (other threads, trio tasks); same as sy_ring_interrupt."""
        for off in (L.RING_OFF_DATA_SEQ, L.RING_OFF_SPACE_SEQ):
            _add4(self._base + off, 1, _SEQ_CST)
            _futex_wake(self._base + off)
        for bell in (self._own_bell, self._space_bell):
            if bell >= 0:
                with contextlib.suppress(OSError):
                    os.eventfd_write(bell, 1)

    @contextlib.contextmanager
    def _use(self) -> Iterator[None]:
        """Run a call that uses the mapping: RingClosed once closed; keeps it mapped."""
        with self._busy_lock:
            if self._closing or self._mm is None:
                raise RingClosed(f"ring {self._name!r} is closed")
            self._busy += 1
        try:
            yield
        finally:
            with self._busy_lock:
                self._busy -= 1
                last = self._busy == 0 and self._closing
            if last:
                self._release()

    def _release(self) -> None:
        if self._arena is not None:
            try:
                self._arena.close()
            except BufferError:
                pass  # a Message still views the arena; it keeps the arena mapped until released
            self._arena = None
        if self._bell_fd >= 0:
            os.close(self._bell_fd)
            self._bell_fd = -1
        if self._own_bell >= 0:
            os.close(self._own_bell)
            self._own_bell = -1
        if self._space_bell >= 0:
            os.close(self._space_bell)
            self._space_bell = -1
        if self._sbell_fd >= 0:
            os.close(self._sbell_fd)
            self._sbell_fd = -1
        self._anchor = None
        self._base = 0
        if self._mm is not None:
            self._mm.close()
            self._mm = None

    def unlink(self) -> None:
        """Remove the segment (and its arena) from the system; mappings stay valid."""
        unlink(self._name)

    def __enter__(self) -> Ring:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- properties -------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The ring's name (without the leading ``/``)."""
        return self._name

    @property
    def capacity(self) -> int:
        """Bytes in the data area."""
        return self._cap

    @property
    def multi_producer(self) -> bool:
        """True for a multi-producer ring."""
        return bool(self._flags & L.RING_FLAG_MULTI_PRODUCER)

    @property
    def inline_limit(self) -> int:
        """Largest payload stored in the ring itself; larger ones go to the arena."""
        return self._inline_limit

    @property
    def arena(self) -> Any:
        """The ring's :class:`~symphony.reference.alloc.Arena`, or None."""
        return self._arena

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closing or self._mm is None

    def stats(self) -> dict[str, int]:
        """This handle's counters: pushed, pushed_bytes, popped, popped_bytes, full_events
        (a push found no room), empty_events (a pop found nothing), skipped (records of dead
        writers), wakeups (times this producer woke a sleeping consumer)."""
        return dict(self._stats)

    # ---- raw access -------------------------------------------------------------------
    def _live(self) -> int:
        if self._closing or self._mm is None:
            raise RingClosed(f"ring {self._name!r} is closed")
        return self._base

    def _ld8(self, off: int) -> int:
        return int(_load8(self._base + off, _ACQUIRE))

    def _st8(self, off: int, value: int) -> None:
        _store8(self._base + off, value, _RELEASE)

    def _ld4(self, off: int) -> int:
        return int(_load4(self._base + off, _ACQUIRE))

    def _st4(self, off: int, value: int) -> None:
        _store4(self._base + off, value, _RELEASE)

    def _slot_off(self, i: int) -> int:
        return L.RING_OFF_SLOTS + i * L.RING_SLOT_SIZE

    # ---- producer ---------------------------------------------------------------------
    def _has_space(self, t: int, need: int) -> bool:
        return t + need - self._ld8(L.RING_OFF_HEAD) <= self._cap

    def _check_consumer_waiting(self) -> None:
        # Dekker: our publish (a seq_cst store by the caller) is ordered before this load.
        waiting = int(_load4(self._base + L.RING_OFF_WAITING, _SEQ_CST))
        if waiting:
            self._wake_consumer(waiting)

    def _wake_consumer(self, waiting: int) -> None:
        _add4(self._base + L.RING_OFF_DATA_SEQ, 1, _SEQ_CST)
        self._stats["wakeups"] += 1
        if waiting & L.WAIT_FUTEX:
            _futex_wake(self._base + L.RING_OFF_DATA_SEQ)
        if waiting & L.WAIT_DOORBELL:
            key = (self._ld4(L.RING_OFF_BELL_PID), self._ld4(L.RING_OFF_BELL_FD))
            if key[0] and (key != self._bell_key or self._bell_fd < 0):
                self._open_doorbell(*key)
            if self._bell_fd >= 0:
                with contextlib.suppress(OSError):
                    os.eventfd_write(self._bell_fd, 1)

    def _open_doorbell(self, pid: int, fd: int) -> None:
        if self._bell_fd >= 0:
            os.close(self._bell_fd)
            self._bell_fd = -1
        self._bell_key = (pid, fd)
        self._bell_fd = _dup_remote_fd(pid, fd)

    def _publish_tail(self, t: int) -> None:
        _store8(self._base + L.RING_OFF_TAIL, t, _SEQ_CST)
        self._check_consumer_waiting()

    def _write_spsc(self, payload: memoryview, flags: int) -> int:
        mm = self._mm
        assert mm is not None
        n = len(payload)
        rec = _rec_size(n)
        if not self._producer_registered:
            self._st4(L.RING_OFF_PRODUCER_PID, self._pid)
            self._producer_registered = True
        t = self._ld8(L.RING_OFF_TAIL)
        off = t % self._cap
        if off + rec > self._cap:
            pad = self._cap - off
            if not self._has_space(t, pad):
                return _FULL
            self._st8(self._data + off, _word(pad - L.RING_REC_HDR, L.REC_COMMITTED | L.REC_PAD))
            t += pad
            off = 0
            if not self._has_space(t, rec):
                self._publish_tail(t)  # let the consumer eat the pad
                return _FULL
        elif not self._has_space(t, rec):
            return _FULL
        start = self._data + off + L.RING_REC_HDR
        mm[start : start + n] = payload
        self._st8(self._data + off, _word(n, L.REC_COMMITTED | flags))
        self._publish_tail(t + rec)
        return _PUSHED

    def _claim_slot(self) -> int:
        head = self._ld8(L.RING_OFF_HEAD)
        for pass_ in (0, 1):
            for i in range(self._nslots):
                so = self._slot_off(i)
                cur = self._ld4(so + L.RING_SLOT_PID)
                if pass_ == 0 and cur != 0:
                    continue
                if pass_ == 1:
                    st = self._ld8(so + L.RING_SLOT_START)
                    en = self._ld8(so + L.RING_SLOT_END)
                    if cur == 0 or cur == self._pid or pid_alive(cur):
                        continue
                    if not (st == en or en <= head):
                        continue
                expected = ctypes.c_uint32(cur)
                if _cas4(
                    self._base + so + L.RING_SLOT_PID,
                    ctypes.byref(expected),
                    self._pid,
                    4,  # acq_rel
                    _ACQUIRE,
                ):
                    self._st8(so + L.RING_SLOT_START, 0)
                    self._st8(so + L.RING_SLOT_END, 0)
                    self._slot = i
                    return i
        return _NO_SLOT

    def _write_mpsc(self, payload: memoryview, flags: int) -> int:
        mm = self._mm
        assert mm is not None
        n = len(payload)
        rec = _rec_size(n)
        if self._slot < 0 and self._claim_slot() < 0:
            return _NO_SLOT
        so = self._slot_off(self._slot)
        t = self._ld8(L.RING_OFF_TAIL)
        while True:
            off = t % self._cap
            pad = off + rec > self._cap
            need = self._cap - off if pad else rec
            if not self._has_space(t, need):
                return _FULL
            self._st8(so + L.RING_SLOT_START, t)  # intent, visible before the reservation
            self._st8(so + L.RING_SLOT_END, t + need)
            expected = ctypes.c_uint64(t)
            if not _cas8(
                self._base + L.RING_OFF_TAIL, ctypes.byref(expected), t + need, _SEQ_CST, _ACQUIRE
            ):
                t = expected.value
                continue
            hdr = self._data + off
            if pad:
                _store8(
                    self._base + hdr,
                    _word(need - L.RING_REC_HDR, L.REC_COMMITTED | L.REC_PAD),
                    _SEQ_CST,
                )
                self._st8(so + L.RING_SLOT_START, 0)
                self._st8(so + L.RING_SLOT_END, 0)
                self._check_consumer_waiting()
                t += need
                continue
            start = hdr + L.RING_REC_HDR
            mm[start : start + n] = payload
            _store8(self._base + hdr, _word(n, L.REC_COMMITTED | flags), _SEQ_CST)
            self._st8(so + L.RING_SLOT_START, 0)
            self._st8(so + L.RING_SLOT_END, 0)
            self._check_consumer_waiting()
            return _PUSHED

    def _push_record(self, payload: memoryview, flags: int) -> int:
        if self._flags & L.RING_FLAG_MULTI_PRODUCER:
            rc = self._write_mpsc(payload, flags)
        else:
            rc = self._write_spsc(payload, flags)
        if rc == _PUSHED:
            self._stats["pushed"] += 1
        elif rc == _FULL:
            self._stats["full_events"] += 1
        return rc

    def _push_one(self, data: Buffer) -> int:
        self._live()
        view = byte_view(data, "ring push data")
        n = len(view)
        if n <= self._inline_limit:
            rc = self._push_record(view, 0)
        elif self._arena is None:
            raise MessageTooLarge(
                f"message of {n} bytes exceeds ring {self._name!r} inline limit "
                f"{self._inline_limit} and the ring has no arena"
            )
        else:
            try:
                handle = self._arena.alloc(n)
            except ArenaExhausted:
                self._stats["full_events"] += 1
                return _ARENA_FULL
            block = self._arena.view(handle)
            block[:] = view
            block.release()
            desc = struct.pack(L.RING_ARENA_DESC_FORMAT, handle, n)
            rc = self._push_record(memoryview(desc), L.REC_ARENA)
            if rc != _PUSHED:
                self._arena.free(handle)
        if rc == _NO_SLOT:
            raise RingError(
                f"ring {self._name!r}: all {self._nslots} producer slots are held by live "
                "processes"
            )
        if rc == _PUSHED:
            self._stats["pushed_bytes"] += n
        return rc

    def push(self, data: Buffer) -> bool:
        """Append one message without blocking.

        Args:
            data: any C-contiguous buffer; larger than ``inline_limit`` goes to the arena.

        Returns:
            True if pushed, False if the ring (or its arena) had no room.

        Raises:
            MessageTooLarge: above ``inline_limit`` with no arena, or above the arena's
                largest block.
            RingClosed: the handle is closed.
            TypeError, BufferError: ``data`` is not a contiguous buffer.
        """
        with self._use():
            return self._push_one(data) == _PUSHED

    def push_many(self, buffers: Iterable[Buffer]) -> int:
        """Push messages in order until one does not fit; returns how many were pushed."""
        with self._use():
            count = 0
            for data in buffers:
                if self._push_one(data) != _PUSHED:
                    break
                count += 1
            return count

    def push_wait(self, data: Buffer, timeout: float | None = None) -> bool:
        """Push, waiting up to ``timeout`` seconds (None: forever) for room.

        Spins ``spin_ns`` then sleeps on the ring's space futex. Returns False on timeout.
        """
        limit = _timeout_ns(timeout)
        with self._use():
            deadline = time.monotonic_ns() + limit
            while True:
                rc = self._push_one(data)
                if rc == _PUSHED:
                    return True
                left = -1 if limit < 0 else deadline - time.monotonic_ns()
                if limit >= 0 and left <= 0:
                    return False
                if rc == _ARENA_FULL:
                    time.sleep(0.0001)  # blocks come back when the consumer releases them
                    continue
                n = len(byte_view(data))
                need = _rec_size(16 if n > self._inline_limit else n)
                self._wait_writable(need, left)

    def _fits(self, need: int) -> bool:
        t = self._ld8(L.RING_OFF_TAIL)
        off = t % self._cap
        total = min(need + (self._cap - off if off + need > self._cap else 0), self._cap)
        return t + total - self._ld8(L.RING_OFF_HEAD) <= self._cap

    def _wait_writable(self, need: int, timeout_ns: int) -> bool:
        start = time.monotonic_ns()
        deadline = start + timeout_ns if timeout_ns >= 0 else 1 << 62
        spin_end = start + (self._spin_ns if timeout_ns < 0 else min(self._spin_ns, timeout_ns))
        while time.monotonic_ns() < spin_end:
            if self._closing:
                raise self._closed_during("push_wait")
            if self._fits(need):
                return True
        waiters = self._base + L.RING_OFF_SPACE_WAITERS
        seq = self._base + L.RING_OFF_SPACE_SEQ
        while True:
            s = self._ld4(L.RING_OFF_SPACE_SEQ)
            if self._closing:  # after loading s: close() bumps space_seq, so no lost wake-up
                raise self._closed_during("push_wait")
            _add4(waiters, 1, _SEQ_CST)
            fits = self._fits(need)
            now = time.monotonic_ns()
            if fits or now >= deadline:
                _add4(waiters, 0xFFFFFFFF, _SEQ_CST)
                return fits
            _futex_wait(seq, s, -1 if timeout_ns < 0 else deadline - now)
            _add4(waiters, 0xFFFFFFFF, _SEQ_CST)
            if self._fits(need):
                return True

    # ---- consumer ---------------------------------------------------------------------
    def _head(self) -> int:
        return self._ld8(L.RING_OFF_HEAD)

    def _skip(self, head: int, rec: int) -> int:
        """Step over ``rec`` bytes at ``head`` (zeroing them in multi-producer mode)."""
        if self._flags & L.RING_FLAG_MULTI_PRODUCER:
            assert self._mm is not None
            off = self._data + head % self._cap
            self._mm[off : off + rec] = bytes(rec)
        return head + rec

    def _publish_head(self, head: int) -> None:
        if self._ld8(L.RING_OFF_HEAD) == head:
            return
        _store8(self._base + L.RING_OFF_HEAD, head, _SEQ_CST)
        if _load4(self._base + L.RING_OFF_SPACE_WAITERS, _SEQ_CST):
            _add4(self._base + L.RING_OFF_SPACE_SEQ, 1, _SEQ_CST)
            _futex_wake(self._base + L.RING_OFF_SPACE_SEQ)
            if _load4(self._base + L.RING_OFF_SPACE_BELLS, _SEQ_CST):
                self._ring_space_bells()

    def _ring_space_bells(self) -> None:
        """Ring the doorbells of producers parked in wait_writable_async (sy_ring_ring_space_bells).

        Single-producer mode: the header's (pid, fd), duplicated once and cached.
        Multi-producer mode: each slot with ``bell_waiting`` set, duplicated per ring.
        """
        if self._flags & L.RING_FLAG_MULTI_PRODUCER:
            for i in range(self._nslots):
                so = self._slot_off(i)
                if not self._ld4(so + L.RING_SLOT_BELL_WAITING):
                    continue
                pid = self._ld4(so + L.RING_SLOT_PID)
                if pid == 0:
                    continue
                got = _dup_remote_fd(pid, self._ld4(so + L.RING_SLOT_BELL_FD))
                if got >= 0:
                    with contextlib.suppress(OSError):
                        os.eventfd_write(got, 1)
                    os.close(got)
            return
        key = (self._ld4(L.RING_OFF_SPACE_BELL_PID), self._ld4(L.RING_OFF_SPACE_BELL_FD))
        if key[0] == 0:
            return
        if key != self._sbell_key or self._sbell_fd < 0:
            if self._sbell_fd >= 0:
                os.close(self._sbell_fd)
            self._sbell_fd = _dup_remote_fd(*key)
            self._sbell_key = key
        if self._sbell_fd >= 0:
            with contextlib.suppress(OSError):
                os.eventfd_write(self._sbell_fd, 1)

    def _peek(self) -> tuple[int, int, int]:
        """(state, head, header word) of the record at the head, consuming padding."""
        if not self._consumer_registered:
            self._st4(L.RING_OFF_CONSUMER_PID, self._pid)
            self._consumer_registered = True
        h = self._head()
        while True:
            if h == self._ld8(L.RING_OFF_TAIL):
                self._publish_head(h)
                return _EMPTY, h, 0
            w = self._ld8(self._data + h % self._cap)
            flags = w >> 32
            if not flags & L.REC_COMMITTED:
                self._publish_head(h)
                return _PENDING, h, 0
            if flags & L.REC_PAD:
                h = self._skip(h, L.RING_REC_HDR + (w & 0xFFFFFFFF))
                self._publish_head(h)
                continue
            return _READY, h, w

    def _recover(self) -> int:
        if not self._flags & L.RING_FLAG_MULTI_PRODUCER:
            return 0
        h = self._head()
        if h == self._ld8(L.RING_OFF_TAIL):
            return 0
        if (self._ld8(self._data + h % self._cap) >> 32) & L.REC_COMMITTED:
            return 0
        claim = -1
        end = 0
        for i in range(self._nslots):
            so = self._slot_off(i)
            pid = self._ld4(so + L.RING_SLOT_PID)
            st = self._ld8(so + L.RING_SLOT_START)
            en = self._ld8(so + L.RING_SLOT_END)
            if pid == 0 or st != h or en <= st:
                continue
            if pid_alive(pid):
                return 0
            if claim < 0:
                claim, end = i, en
        if claim < 0:
            return 0
        h = self._skip(h, end - h)
        so = self._slot_off(claim)
        self._st8(so + L.RING_SLOT_START, 0)
        self._st8(so + L.RING_SLOT_END, 0)
        self._stats["skipped"] += 1
        self._pending_polls = 0
        self._publish_head(h)
        return 1

    def recover(self) -> int:
        """Skip the uncommitted record at the head if its writer is dead (multi-producer).

        Pops call this by themselves after ``RING_PENDING_POLLS`` polls of the same
        uncommitted record. Returns the number of records skipped (0 or 1).
        """
        with self._use():
            self._live()
            return self._recover()

    def _note_pending(self, head: int) -> bool:
        if self._pending_pos != head + 1:
            self._pending_pos = head + 1
            self._pending_polls = 0
        self._pending_polls += 1
        if self._pending_polls < L.RING_PENDING_POLLS:
            return False
        self._pending_polls = 0
        return self._recover() > 0

    def _take(self) -> tuple[int, int] | None:
        """(head, header word) of the next ready record, or None (empty / pending)."""
        self._live()
        state, h, w = self._peek()
        if state == _PENDING and self._note_pending(h):
            state, h, w = self._peek()
        if state != _READY:
            if state == _EMPTY:
                self._stats["empty_events"] += 1
            return None
        return h, w

    def _done(self, h: int, w: int) -> None:
        n = w & 0xFFFFFFFF
        self._stats["popped"] += 1
        self._publish_head(self._skip(h, _rec_size(n)))

    def _payload(self, h: int, w: int) -> bytes:
        assert self._mm is not None
        start = self._data + h % self._cap + L.RING_REC_HDR
        return self._mm[start : start + (w & 0xFFFFFFFF)]

    def _arena_desc(self, h: int, w: int) -> tuple[int, int]:
        handle, n = struct.unpack(L.RING_ARENA_DESC_FORMAT, self._payload(h, w))
        if self._arena is None:
            raise RingFormatError(f"ring {self._name!r} carries an arena record but has no arena")
        return handle, n

    def pop(self) -> bytes | None:
        """Remove and return the oldest message, or None if there is none (yet)."""
        with self._use():
            got = self._take()
            if got is None:
                return None
            h, w = got
            if (w >> 32) & L.REC_ARENA:
                handle, n = self._arena_desc(h, w)
                view = self._arena.view(handle)
                data = bytes(view)
                view.release()
                self._done(h, w)
                self._arena.free(handle)
            else:
                data = self._payload(h, w)
                n = len(data)
                self._done(h, w)
            self._stats["popped_bytes"] += n
            return data

    def pop_into(self, buffer: Buffer) -> int:
        """Copy the oldest message into ``buffer``; returns its length, or -1 if none.

        Raises:
            MessageTooLarge: the message is longer than ``buffer`` (it stays in the ring).
        """
        out = byte_view(buffer, "ring pop_into buffer", writable=True)
        with self._use():
            got = self._take()
            if got is None:
                return -1
            h, w = got
            arena = bool((w >> 32) & L.REC_ARENA)
            handle, n = self._arena_desc(h, w) if arena else (0, w & 0xFFFFFFFF)
            if n > len(out):
                raise MessageTooLarge(
                    f"message of {n} bytes does not fit the pop_into buffer of {len(out)} bytes"
                )
            if arena:
                view = self._arena.view(handle)
                out[:n] = view
                view.release()
                self._done(h, w)
                self._arena.free(handle)
            else:
                out[:n] = self._payload(h, w)
                self._done(h, w)
            self._stats["popped_bytes"] += n
            return n

    def pop_many(self, n: int) -> list[bytes]:
        """Pop up to ``n`` messages (fewer if the ring runs empty)."""
        if not isinstance(n, int) or n < 0:
            raise ValidationError(f"pop_many count must be an int >= 0, got {n!r}")
        with self._use():
            out = []
            for _ in range(n):
                data = self.pop()
                if data is None:
                    break
                out.append(data)
            return out

    def pop_view(self) -> Message | None:
        """Pop the oldest message as a :class:`Message`; None if there is none.

        An arena-backed message is not copied: ``message.data`` views the arena block until
        ``message.release()`` frees it. An inline message is copied out of the ring.
        """
        with self._use():
            got = self._take()
            if got is None:
                return None
            h, w = got
            if (w >> 32) & L.REC_ARENA:
                handle, n = self._arena_desc(h, w)
                arena = self._arena
                self._done(h, w)
                self._stats["popped_bytes"] += n
                return Message(arena.view(handle), lambda: arena.free(handle), in_arena=True)
            data = self._payload(h, w)
            self._done(h, w)
            self._stats["popped_bytes"] += len(data)
            return Message(memoryview(data))

    # ---- waiting ----------------------------------------------------------------------
    def _nonempty(self) -> bool:
        return self._ld8(L.RING_OFF_TAIL) != self._head()

    def wake(self) -> None:
        """Make a trio task of this process parked in :meth:`wait_readable_async` or
        :meth:`wait_writable_async` on this handle return False now, as if a timeout had
        elapsed; nothing happens (and nothing is remembered) when none is parked.

        For a caller that must also notice something outside the ring (a peer's half-close
        on a control socket, say) without a cancel scope around every wait: another task
        records the event, then calls ``wake``. Call it from the trio thread of the waiter.

        Raises:
            RingClosed: the handle is closed.
        """
        with self._use():
            self._wakes += 1
            for bell in (self._own_bell, self._space_bell):
                if bell >= 0:
                    with contextlib.suppress(OSError):
                        os.eventfd_write(bell, 1)

    def readable(self) -> bool:
        """True when a message is waiting to be popped.

        Never blocks and never declares a waiter (``wait_readable(0)`` does, for an instant,
        which would hide a doorbell from a task parked in :meth:`wait_readable_async`), so a
        busy-poll loop of the consumer's own process may call it while such a task is parked.

        Raises:
            RingClosed: the handle is closed.
        """
        with self._use():
            return self._nonempty()

    def wait_readable(self, timeout: float | None = None) -> bool:
        """Block until the ring is non-empty; False on timeout.

        Spins ``spin_ns``, then declares itself asleep (``waiting`` word), re-checks, and
        sleeps on the ``data_seq`` futex until a producer bumps it.

        Raises:
            RingClosed: the handle is closed, or another thread closed it during the wait.
        """
        limit = _timeout_ns(timeout)
        with self._use():
            return self._wait_readable(limit, "wait_readable")

    def _closed_during(self, what: str) -> RingClosed:
        return RingClosed(f"ring {self._name!r} was closed during {what}")

    def _wait_readable(self, limit: int, what: str) -> bool:
        if self._nonempty():
            return True
        start = time.monotonic_ns()
        deadline = start + limit if limit >= 0 else 1 << 62
        spin_end = start + (self._spin_ns if limit < 0 else min(self._spin_ns, limit))
        while time.monotonic_ns() < spin_end:
            if self._closing:
                raise self._closed_during(what)
            if self._nonempty():
                return True
        waiting = self._base + L.RING_OFF_WAITING
        while True:
            s = self._ld4(L.RING_OFF_DATA_SEQ)
            if self._closing:  # after loading s: close() bumps data_seq, so no lost wake-up
                raise self._closed_during(what)
            _store4(waiting, L.WAIT_FUTEX, _SEQ_CST)
            if self._nonempty():
                self._st4(L.RING_OFF_WAITING, 0)
                return True
            now = time.monotonic_ns()
            if now >= deadline:
                self._st4(L.RING_OFF_WAITING, 0)
                return False
            _futex_wait(self._base + L.RING_OFF_DATA_SEQ, s, -1 if limit < 0 else deadline - now)
            self._st4(L.RING_OFF_WAITING, 0)
            if self._nonempty():
                return True

    def pop_wait(self, timeout: float | None = None) -> bytes | None:
        """Pop, waiting up to ``timeout`` seconds (None: forever); None on timeout.

        Raises:
            RingClosed: the handle is closed, or another thread closed it during the wait.
        """
        limit = _timeout_ns(timeout)
        with self._use():
            deadline = time.monotonic_ns() + limit
            while True:
                data = self.pop()
                if data is not None:
                    return data
                left = -1 if limit < 0 else deadline - time.monotonic_ns()
                if limit >= 0 and left <= 0:
                    return None
                self._wait_readable(left, "pop_wait")

    def _doorbell(self) -> int:
        if self._own_bell < 0:
            self._own_bell = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
            self._st4(L.RING_OFF_BELL_FD, self._own_bell)
            self._st4(L.RING_OFF_BELL_PID, self._pid)
        return self._own_bell

    async def wait_readable_async(self, timeout: float | None = None) -> bool:
        """Wait (trio) until the ring is non-empty, without blocking the loop or spinning.

        The consumer parks on its eventfd doorbell with ``trio.lowlevel.wait_readable``; a
        producer rings it only when the ``waiting`` word says the consumer is asleep.

        Args:
            timeout: None (the default) waits with no cancel scope of its own, the cheapest
                wake-up; a number of seconds returns False when it elapses. Pass a timeout
                (or cancel the task) to notice a peer that died or a producer that cannot
                ring the bell (``pidfd_getfd`` needs the same user and ptrace access).

        Returns:
            True once the ring is non-empty; False on timeout.

        Raises:
            RingClosed: the handle is closed, or :meth:`close` ran (any task or thread)
                while this waited: the waiter wakes at once.
        """
        import trio

        if timeout is not None:
            _timeout_ns(timeout)
        with self._use():
            bell = self._doorbell()
            if timeout is None:
                return await self._park_readable(bell)
            with trio.move_on_after(timeout):
                return await self._park_readable(bell)
            return False

    async def _park_readable(self, bell: int) -> bool:
        import trio

        wakes = self._wakes
        while True:
            if self._closing:
                raise self._closed_during("wait_readable_async")
            if self._wakes != wakes:
                return False
            if self._nonempty():
                return True
            _store4(self._base + L.RING_OFF_WAITING, L.WAIT_DOORBELL, _SEQ_CST)
            try:
                if self._nonempty():
                    return True
                await trio.lowlevel.wait_readable(bell)
            finally:
                self._st4(L.RING_OFF_WAITING, 0)
                with contextlib.suppress(BlockingIOError):
                    os.eventfd_read(bell)

    def _space_doorbell(self) -> int:
        """Our eventfd for wait_writable_async, advertised where the consumer looks for it."""
        if self._space_bell < 0:
            self._space_bell = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        if self._flags & L.RING_FLAG_MULTI_PRODUCER:
            if self._slot < 0 and self._claim_slot() < 0:
                raise RingError(
                    f"ring {self._name!r}: all {self._nslots} producer slots are held by live "
                    "processes"
                )
            self._st4(self._slot_off(self._slot) + L.RING_SLOT_BELL_FD, self._space_bell)
        else:
            self._st4(L.RING_OFF_SPACE_BELL_FD, self._space_bell)
            self._st4(L.RING_OFF_SPACE_BELL_PID, self._pid)
        return self._space_bell

    def _arm_space(self, on: bool) -> None:
        """Declare (or withdraw) "parked on my doorbell": slot flag, space_bells, space_waiters."""
        mp = self._flags & L.RING_FLAG_MULTI_PRODUCER
        if on:
            if mp:
                self._st4(self._slot_off(self._slot) + L.RING_SLOT_BELL_WAITING, 1)
            _add4(self._base + L.RING_OFF_SPACE_BELLS, 1, _SEQ_CST)
            _add4(self._base + L.RING_OFF_SPACE_WAITERS, 1, _SEQ_CST)
        else:
            _sub4(self._base + L.RING_OFF_SPACE_WAITERS, 1, _SEQ_CST)
            _sub4(self._base + L.RING_OFF_SPACE_BELLS, 1, _SEQ_CST)
            if mp:
                self._st4(self._slot_off(self._slot) + L.RING_SLOT_BELL_WAITING, 0)

    async def wait_writable_async(self, nbytes: int = 0, timeout: float | None = None) -> bool:
        """Wait (trio) until a message of ``nbytes`` bytes would fit, without spinning.

        For a producer whose :meth:`push` returned False. It parks on its own eventfd
        doorbell after declaring itself asleep (``space_bells`` and ``space_waiters`` in the
        header, plus ``bell_waiting`` in its slot in multi-producer mode) and re-checking the
        room; the consumer, after publishing its head, rings the doorbells when it sees
        them (the same Dekker protocol as the consumer's doorbell, so no lost wake-up).
        A message above ``inline_limit`` needs only its 16-byte arena record in the ring;
        room in the arena itself is not waited for.

        Args:
            nbytes: payload size the caller wants to push.
            timeout: None waits with no cancel scope; seconds: returns False when elapsed.

        Returns:
            True when the message fits now; False on timeout.

        Raises:
            RingClosed: closed before or during the wait.
            MessageTooLarge: above ``inline_limit`` and the ring has no arena.
            RingError: multi-producer ring with every producer slot taken.
            ValidationError: bad ``nbytes`` or ``timeout``.
        """
        import trio

        if not isinstance(nbytes, int) or isinstance(nbytes, bool) or nbytes < 0:
            raise ValidationError(f"nbytes must be an int >= 0, got {nbytes!r}")
        if timeout is not None:
            _timeout_ns(timeout)
        with self._use():
            if nbytes > self._inline_limit:
                if self._arena is None:
                    raise MessageTooLarge(
                        f"message of {nbytes} bytes exceeds ring {self._name!r} inline limit "
                        f"{self._inline_limit} and the ring has no arena"
                    )
                nbytes = struct.calcsize(L.RING_ARENA_DESC_FORMAT)
            need = _rec_size(nbytes)
            if self._fits(need):
                return True
            bell = self._space_doorbell()
            if timeout is None:
                return await self._park_writable(bell, need)
            with trio.move_on_after(timeout):
                return await self._park_writable(bell, need)
            return False

    async def _park_writable(self, bell: int, need: int) -> bool:
        import trio

        wakes = self._wakes
        while True:
            if self._closing:
                raise self._closed_during("wait_writable_async")
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

    async def pop_async(self) -> bytes:
        """Pop one message (trio), parking on the doorbell while the ring is empty."""
        import trio

        while True:
            data = self.pop()
            if data is not None:
                return data
            await self.wait_readable_async()
            data = self.pop()
            if data is not None:
                return data
            await trio.lowlevel.checkpoint()  # uncommitted record: let its writer finish


def _check(mm: mmap.mmap) -> int:
    """0, or the code of the first failed check (same order and codes as sy_ring_check)."""
    if len(mm) < L.RING_HEADER_SIZE:
        return -1
    magic, version = struct.unpack_from("<QI", mm, L.RING_OFF_MAGIC)
    if magic != L.RING_MAGIC:
        return -2
    if version != L.RING_VERSION:
        return -3
    cap, off, seg = struct.unpack_from("<QQQ", mm, L.RING_OFF_CAPACITY)
    (inline_limit,) = struct.unpack_from("<Q", mm, L.RING_OFF_INLINE)
    (nslots,) = struct.unpack_from("<I", mm, L.RING_OFF_NSLOTS)
    if (
        not L.RING_MIN_CAPACITY <= cap <= L.RING_MAX_CAPACITY
        or inline_limit > cap - L.RING_REC_HDR
        or inline_limit > L.RING_MAX_INLINE
        or cap & (cap - 1)
        or nslots > L.RING_MAX_SLOTS
        or off != _data_offset(nslots)
        or seg != off + cap
        or seg != len(mm)
    ):
        return -4
    return 0
