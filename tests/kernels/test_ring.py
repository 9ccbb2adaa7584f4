"""The shared-memory ring, under both implementations (behaviour suite)."""

from __future__ import annotations

import inspect
import os
import struct
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import posix_ipc
import pytest
import trio
from conftest import Impl

from symphony import _layout as L
from symphony.commons.errors import (
    MessageTooLarge,
    RingClosed,
    RingError,
    RingFormatError,
    ValidationError,
)
from symphony.reference import ring as ref_ring

PREFIX = f"sytest-ring-{os.getpid()}-"


@pytest.fixture(scope="session")
def ring_mod(impl: Impl) -> ModuleType:
    return impl.load("ring")


@pytest.fixture
def name() -> Iterator[str]:
    """A fresh segment name; the ring and its arena are unlinked afterwards."""
    n = PREFIX + uuid.uuid4().hex[:12]
    try:
        yield n
    finally:
        ref_ring.unlink(n)


@pytest.fixture(autouse=True, scope="module")
def _no_leftovers() -> Iterator[None]:
    yield
    left = [p.name for p in Path("/dev/shm").iterdir() if p.name.startswith(PREFIX)]
    assert left == [], f"segments left behind: {left}"


def alloc_available(impl: Impl) -> bool:
    try:
        impl.load("alloc")
    except ImportError:
        return False
    return True


# ---- basics ----------------------------------------------------------------------------
def test_push_pop_order_and_properties(ring_mod: ModuleType, name: str) -> None:
    with ring_mod.Ring.create(name, 1024) as r:
        assert (r.name, r.capacity, r.multi_producer, r.inline_limit) == (name, 1024, False, 1016)
        assert r.arena is None and not r.closed
        assert r.pop() is None
        msgs = [bytes([i]) * i for i in range(20)]
        assert all(r.push(m) for m in msgs)
        assert [r.pop() for _ in msgs] == msgs
        assert r.pop() is None
        st = r.stats()
        assert st["pushed"] == st["popped"] == 20
        assert st["pushed_bytes"] == st["popped_bytes"] == sum(range(20))
        assert st["empty_events"] == 2
    assert r.closed


def test_accepts_any_buffer(ring_mod: ModuleType, name: str) -> None:
    with ring_mod.Ring.create(name, 1024) as r:
        arr = np.arange(6, dtype=np.int32)
        for data in (b"abc", bytearray(b"xyz"), memoryview(b"mv"), arr):
            assert r.push(data)
        assert r.pop_many(10) == [b"abc", b"xyz", b"mv", arr.tobytes()]


def test_full_and_wraparound(ring_mod: ModuleType, name: str) -> None:
    with ring_mod.Ring.create(name, 256) as r, ring_mod.Ring.attach(name) as w:
        sent: list[bytes] = []
        got: list[bytes] = []
        for i in range(500):
            msg = bytes([i % 251]) * (i * 7 % 90)
            while not w.push(msg):
                got.append(r.pop())  # type: ignore[arg-type]
            sent.append(msg)
        got.extend(r.pop_many(1000))
        assert got == sent
        assert w.stats()["full_events"] > 0


def test_full_returns_false_and_keeps_state(ring_mod: ModuleType, name: str) -> None:
    with ring_mod.Ring.create(name, 64) as r:
        assert r.push(b"a" * 40)  # 48-byte record
        assert not r.push(b"b" * 20)  # needs 32, 16 free
        assert r.stats()["full_events"] == 1
        assert r.pop() == b"a" * 40
        assert r.push(b"b" * 20)  # crosses the end: pad, then wraps
        assert r.pop() == b"b" * 20
        assert r.pop() is None


def test_largest_inline_message_after_wrap(ring_mod: ModuleType, name: str) -> None:
    with ring_mod.Ring.create(name, 128) as r:
        assert r.push(b"x" * 10)
        assert r.pop() == b"x" * 10
        big = b"y" * 120  # exactly the capacity with its header
        assert not r.push(big)  # publishes the pad; record waits for the consumer
        assert r.pop() is None  # consumes the pad
        assert r.push(big)
        assert r.pop() == big


def test_push_many_pop_many(ring_mod: ModuleType, name: str) -> None:
    with ring_mod.Ring.create(name, 512) as r:
        msgs = [bytes([i]) * (i % 40) for i in range(100)]
        n = r.push_many(msgs)
        assert 0 < n < 100
        assert r.pop_many(n + 5) == msgs[:n]
        assert r.push_many(iter(msgs[n:n + 3])) == 3
        assert r.pop_many(0) == []
        assert r.pop_many(3) == msgs[n:n + 3]
        with pytest.raises(ValidationError):
            r.pop_many(-1)


def test_pop_into(ring_mod: ModuleType, name: str) -> None:
    with ring_mod.Ring.create(name, 512) as r:
        buf = bytearray(16)
        assert r.pop_into(buf) == -1
        r.push(b"hello")
        assert r.pop_into(buf) == 5 and buf[:5] == b"hello"
        r.push(b"z" * 17)
        with pytest.raises(MessageTooLarge):
            r.pop_into(buf)
        big = bytearray(32)
        assert r.pop_into(big) == 17 and big[:17] == b"z" * 17
        with pytest.raises(BufferError):
            r.pop_into(b"readonly")


def test_bad_input(ring_mod: ModuleType, name: str) -> None:
    with ring_mod.Ring.create(name, 256) as r:
        with pytest.raises(TypeError, match="str"):
            r.push("text")
        with pytest.raises(TypeError):
            r.push(12)
        with pytest.raises(BufferError):
            r.push(np.arange(10, dtype=np.uint8)[::2])
        with pytest.raises(MessageTooLarge):
            r.push(b"x" * 249)
        with pytest.raises(ValidationError):
            r.pop_wait(-1)
    with pytest.raises(RingClosed):
        r.push(b"x")
    with pytest.raises(RingClosed):
        r.pop()


@pytest.mark.parametrize(
    ("capacity", "kwargs"),
    [
        (100, {}),
        (32, {}),
        (1 << 41, {}),
        (256, {"inline_limit": 300}),
        (256, {"producer_slots": 4}),
        (256, {"multi_producer": True, "producer_slots": 0}),
        (256, {"multi_producer": True, "producer_slots": 5000}),
    ],
)
def test_create_rejects_bad_geometry(
    ring_mod: ModuleType, name: str, capacity: int, kwargs: dict[str, object]
) -> None:
    with pytest.raises(RingFormatError):
        ring_mod.Ring.create(name, capacity, **kwargs)
    assert not Path(f"/dev/shm/{name}").exists()


def test_create_rejects_bad_names_and_types(ring_mod: ModuleType, name: str) -> None:
    with pytest.raises(TypeError):
        ring_mod.Ring.create(name, "64")
    for bad in ("", "a/b", "x" * 300):
        with pytest.raises(RingFormatError):
            ring_mod.Ring.create(bad, 64)
    with ring_mod.Ring.create(name, 64), pytest.raises(RingFormatError, match="exists"):
        ring_mod.Ring.create(name, 64)


def _raw_segment(name: str, data: bytes) -> None:
    shm = posix_ipc.SharedMemory("/" + name, posix_ipc.O_CREX, size=len(data))
    os.pwrite(shm.fd, data, 0)
    shm.close_fd()


def test_attach_errors(ring_mod: ModuleType, name: str) -> None:
    with pytest.raises(RingFormatError, match="no ring"):
        ring_mod.Ring.attach(name)
    _raw_segment(name, b"\x07" * 100)
    with pytest.raises(RingFormatError, match="smaller"):
        ring_mod.Ring.attach(name)
    ref_ring.unlink(name)
    _raw_segment(name, b"\x07" * 4096)
    with pytest.raises(RingFormatError, match="magic"):
        ring_mod.Ring.attach(name)
    ref_ring.unlink(name)
    with ring_mod.Ring.create(name, 256):
        pass
    good = Path(f"/dev/shm/{name}").read_bytes()
    ref_ring.unlink(name)
    bad_version = bytearray(good)
    struct.pack_into("<I", bad_version, L.RING_OFF_VERSION, 99)
    _raw_segment(name, bytes(bad_version))
    with pytest.raises(RingFormatError, match="version"):
        ring_mod.Ring.attach(name)
    ref_ring.unlink(name)
    _raw_segment(name, good + bytes(64))  # size disagrees with the header
    with pytest.raises(RingFormatError, match="geometry"):
        ring_mod.Ring.attach(name)
    ref_ring.unlink(name)
    bad_cap = bytearray(good)
    struct.pack_into("<Q", bad_cap, L.RING_OFF_CAPACITY, 200)
    _raw_segment(name, bytes(bad_cap))
    with pytest.raises(RingFormatError, match="geometry"):
        ring_mod.Ring.attach(name)


# ---- waiting ---------------------------------------------------------------------------
def test_timeouts(ring_mod: ModuleType, name: str) -> None:
    with ring_mod.Ring.create(name, 64, spin_ns=1000) as r:
        assert r.wait_readable(0.01) is False
        assert r.pop_wait(0.01) is None
        assert r.push(b"x" * 50)
        assert r.push_wait(b"y" * 50, 0.01) is False
        assert r.wait_readable(0.0) is True
        assert r.pop_wait(None) == b"x" * 50


def test_blocking_wait_is_woken_by_producer_thread(ring_mod: ModuleType, name: str) -> None:
    with ring_mod.Ring.create(name, 1024, spin_ns=0) as r, ring_mod.Ring.attach(name) as w:

        def later() -> None:
            time.sleep(0.05)
            w.push(b"wake")

        t = threading.Thread(target=later)
        t.start()
        assert r.pop_wait(10.0) == b"wake"
        t.join()
        assert w.stats()["wakeups"] == 1  # the consumer was asleep on the futex


def test_push_wait_is_woken_by_consumer(ring_mod: ModuleType, name: str) -> None:
    with ring_mod.Ring.create(name, 64, spin_ns=0) as r, ring_mod.Ring.attach(name) as w:
        assert w.push(b"a" * 50)

        def later() -> None:
            time.sleep(0.05)
            r.pop()

        t = threading.Thread(target=later)
        t.start()
        assert w.push_wait(b"b" * 50, 10.0)
        t.join()
        assert r.pop() == b"b" * 50


async def test_async_doorbell(ring_mod: ModuleType, name: str) -> None:
    r = ring_mod.Ring.create(name, 1024)
    w = ring_mod.Ring.attach(name)
    try:

        async def producer() -> None:
            await trio.sleep(0.05)
            w.push(b"ding")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(producer)
            assert await r.pop_async() == b"ding"
        # the consumer was parked on its eventfd and the producer rang it
        assert w.stats()["wakeups"] == 1
        header = Path(f"/dev/shm/{name}").read_bytes()
        assert struct.unpack_from("<I", header, L.RING_OFF_BELL_PID)[0] == os.getpid()
        assert struct.unpack_from("<I", header, L.RING_OFF_WAITING)[0] == 0
    finally:
        w.close()
        r.close()


# ---- multi producer --------------------------------------------------------------------
def test_multi_producer_in_process(ring_mod: ModuleType, name: str) -> None:
    with ring_mod.Ring.create(name, 512, multi_producer=True, producer_slots=2) as r:
        a = ring_mod.Ring.attach(name)
        b = ring_mod.Ring.attach(name)
        c = ring_mod.Ring.attach(name)
        try:
            sent = []
            for i in range(300):
                p = a if i % 2 else b
                msg = bytes([i % 256]) * (i % 61)
                while not p.push(msg):
                    got = r.pop()
                    assert got is not None
                    sent.append(got)
            sent.extend(r.pop_many(1000))
            assert sent == [bytes([i % 256]) * (i % 61) for i in range(300)]
            with pytest.raises(RingError, match="slots"):
                c.push(b"no slot left")  # both slots held by this (live) process
        finally:
            for h in (a, b, c):
                h.close()


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_dead_writer_is_skipped(ring_mod: ModuleType, name: str) -> None:
    """An uncommitted reservation whose writer is dead is skipped after RING_PENDING_POLLS."""
    with ring_mod.Ring.create(name, 256, multi_producer=True, producer_slots=4) as r:
        assert r.push(b"first")
        # Forge what a producer killed between its CAS and its commit leaves behind.
        shm = posix_ipc.SharedMemory("/" + name)
        tail = struct.unpack("<Q", os.pread(shm.fd, 8, L.RING_OFF_TAIL))[0]
        slot = L.RING_OFF_SLOTS + 3 * L.RING_SLOT_SIZE
        os.pwrite(shm.fd, struct.pack("<IIQQ", _dead_pid(), 0, tail, tail + 40), slot)
        os.pwrite(shm.fd, struct.pack("<Q", tail + 40), L.RING_OFF_TAIL)
        shm.close_fd()
        assert r.push(b"after")
        assert r.pop() == b"first"
        for _ in range(L.RING_PENDING_POLLS - 1):
            assert r.pop() is None
        assert r.pop() == b"after"
        assert r.stats()["skipped"] == 1
        assert r.pop() is None
        data = Path(f"/dev/shm/{name}").read_bytes()
        assert struct.unpack_from("<QQ", data, slot + 8) == (0, 0)


def test_live_writer_is_not_skipped(ring_mod: ModuleType, name: str) -> None:
    with ring_mod.Ring.create(name, 256, multi_producer=True) as r:
        shm = posix_ipc.SharedMemory("/" + name)
        slot = L.RING_OFF_SLOTS
        os.pwrite(shm.fd, struct.pack("<IIQQ", os.getpid(), 0, 0, 40), slot)
        os.pwrite(shm.fd, struct.pack("<Q", 40), L.RING_OFF_TAIL)
        shm.close_fd()
        for _ in range(3 * L.RING_PENDING_POLLS):
            assert r.pop() is None
        assert r.recover() == 0
        assert r.stats()["skipped"] == 0


# ---- arena -----------------------------------------------------------------------------
def test_large_payloads_through_the_arena(impl: Impl, ring_mod: ModuleType, name: str) -> None:
    if not alloc_available(impl):
        pytest.fail("the alloc kernel is not available")
    with ring_mod.Ring.create(name, 1024, inline_limit=100, arena_size=1 << 20) as r, \
            ring_mod.Ring.attach(name) as w:
        assert r.arena is not None and w.arena is not None
        big = os.urandom(5000)
        assert w.push(big) and w.push(b"small") and w.push(big[:2000])
        assert r.pop() == big
        assert r.pop() == b"small"
        with r.pop_view() as m:
            assert m.in_arena and m.nbytes == 2000
            assert m.data == big[:2000]
        assert w.push(big)
        buf = bytearray(6000)
        assert r.pop_into(buf) == 5000 and buf[:5000] == big
        assert r.stats()["popped_bytes"] == 5000 + 5 + 2000 + 5000
        assert w.stats()["pushed_bytes"] == 5000 + 5 + 2000 + 5000
        with pytest.raises(MessageTooLarge):
            w.push(bytes(2 << 20))


def test_message_object(ring_mod: ModuleType, name: str) -> None:
    with ring_mod.Ring.create(name, 256) as r:
        r.push(b"inline")
        m = r.pop_view()
        assert m is not None and not m.in_arena and m.tobytes() == b"inline" and len(m) == 6
        m.release()
        m.release()
        with pytest.raises(RingClosed):
            _ = m.data
        assert r.pop_view() is None


# ---- orphans ---------------------------------------------------------------------------
def test_find_orphans_and_cleanup(ring_mod: ModuleType, name: str) -> None:
    code = (
        f"from symphony.{ring_mod.__name__.split('.')[1]}.ring import Ring\n"
        f"r = Ring.create({name!r}, 256); r.push(b'x'); r.close()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    with ring_mod.Ring.create(name + "-alive", 256) as alive:
        orphans = ring_mod.find_orphans(PREFIX)
        assert name in orphans and alive.name not in orphans
        assert ring_mod.cleanup([name]) == [name]
        assert not Path(f"/dev/shm/{name}").exists()
        alive.unlink()


# ---- the two twins agree on their surface -----------------------------------------------
def test_same_signatures() -> None:
    from symphony._core import ring as cy

    def params(fn: object) -> list[tuple[str, object, object]]:
        sig = inspect.signature(fn)  # type: ignore[arg-type]
        return [(p.name, p.kind, p.default) for p in sig.parameters.values()]

    assert sorted(cy.__all__) == sorted(ref_ring.__all__)
    for fn in ("unlink", "find_orphans", "cleanup"):
        assert params(getattr(cy, fn)) == params(getattr(ref_ring, fn)), fn
    public = sorted(m for m in vars(ref_ring.Ring) if not m.startswith("_"))
    assert public == sorted(m for m in dir(cy.Ring) if not m.startswith("_"))
    for meth in public:
        a = inspect.getattr_static(ref_ring.Ring, meth)
        b = inspect.getattr_static(cy.Ring, meth)
        if isinstance(a, property):
            assert not callable(b), meth
        else:
            assert params(getattr(ref_ring.Ring, meth)) == params(getattr(cy.Ring, meth)), meth


def test_compiled_module_in_use() -> None:
    from symphony._core import ring as cy

    assert cy.__file__ is not None and cy.__file__.endswith(".so")


def test_c_header_agrees_with_layout() -> None:
    from symphony._core import ring as cy

    consts = cy._layout_constants()
    assert consts
    for key, value in consts.items():
        assert getattr(L, key) == value, key


def test_close_with_a_live_arena_message(impl: Impl, ring_mod: ModuleType, name: str) -> None:
    if not alloc_available(impl):
        pytest.fail("the alloc kernel is not available")
    r = ring_mod.Ring.create(name, 1024, inline_limit=16, arena_size=1 << 16)
    r.push(b"a" * 100)
    m = r.pop_view()
    assert m is not None and m.in_arena
    r.close()  # must not fail while the message still views the arena
    assert m.tobytes() == b"a" * 100
    m.release()
