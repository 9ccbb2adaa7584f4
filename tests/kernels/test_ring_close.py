"""Closing a ring under its users, and the async waits (both implementations).

Regression tests for: a segfault when ``close()`` ran while ``wait_readable_async`` was parked
(issue 3), waits in other threads holding the mapping (GIL released), the version-mismatch
message, ``wait_readable_async(timeout=None)`` without its own cancel scope and the producer's
``wait_writable_async`` doorbell (issue 6).
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import posix_ipc
import pytest
import trio
from conftest import Impl

from symphony import _layout as L
from symphony.commons.errors import RingClosed, RingFormatError, ValidationError
from symphony.reference import ring as ref_ring

PREFIX = f"sytest-ringclose-{os.getpid()}-"
HANG_GUARD = 20.0  # seconds: only turns a hang into a failure, never measures speed


@pytest.fixture(scope="session")
def ring_mod(impl: Impl) -> ModuleType:
    return impl.load("ring")


@pytest.fixture
def name() -> Iterator[str]:
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


def mapped(name: str) -> bool:
    """Is /dev/shm/<name> mapped in this process?"""
    return any(
        line.rstrip().endswith(f"/dev/shm/{name}")
        for line in Path("/proc/self/maps").read_text().splitlines()
    )


def header_u32(name: str, off: int) -> int:
    with open(f"/dev/shm/{name}", "rb") as f:
        f.seek(off)
        return int(struct.unpack("<I", f.read(4))[0])


def wait_until(cond: Callable[[], bool]) -> None:
    deadline = time.monotonic() + HANG_GUARD
    while not cond():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.001)


# ---- the reported crash -----------------------------------------------------------------
REPRO = """
import sys, trio
from symphony.commons.errors import RingClosed
from {package}.ring import Ring, unlink

async def main():
    r = Ring.create({name!r}, 1024)
    seen = []
    async def waiter():
        try:
            await r.wait_readable_async()
        except RingClosed:
            seen.append("RingClosed")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await trio.sleep(0.05)
        r.close()
        await trio.sleep(0.1)
    r.close()
    unlink({name!r})
    print(*seen)

trio.run(main)
"""


def test_close_under_parked_async_waiter_does_not_crash(impl: Impl, name: str) -> None:
    """The exact report, in a child process so that a segfault is a failure, not a crash."""
    code = REPRO.format(package=impl.package, name=name)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["RingClosed"]


async def test_close_wakes_async_readable_waiter(ring_mod: ModuleType, name: str) -> None:
    r = ring_mod.Ring.create(name, 1024)
    outcome: list[str] = []

    async def waiter() -> None:
        try:
            await r.wait_readable_async()  # timeout=None: nothing but close() can wake it
        except RingClosed:
            outcome.append("closed")

    with trio.fail_after(HANG_GUARD):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(waiter)
            await trio.sleep(0.02)
            assert header_u32(name, L.RING_OFF_WAITING) == L.WAIT_DOORBELL
            r.close()
            assert r.closed
            r.close()  # idempotent, also while the waiter is still leaving
    assert outcome == ["closed"]
    assert not mapped(name)
    r.close()


async def test_close_wakes_async_writable_waiter(ring_mod: ModuleType, name: str) -> None:
    w = ring_mod.Ring.create(name, 64)
    assert w.push(b"x" * 50)
    outcome: list[str] = []

    async def waiter() -> None:
        try:
            await w.wait_writable_async(50)
        except RingClosed:
            outcome.append("closed")

    with trio.fail_after(HANG_GUARD):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(waiter)
            await trio.sleep(0.02)
            assert header_u32(name, L.RING_OFF_SPACE_BELLS) == 1
            w.close()
    assert outcome == ["closed"]
    assert not mapped(name)


# ---- blocking waits in other threads ----------------------------------------------------
@pytest.mark.parametrize("call", ["pop_wait", "wait_readable", "push_wait"])
def test_close_wakes_a_thread_blocked_in_a_wait(ring_mod: ModuleType, name: str, call: str) -> None:
    r = ring_mod.Ring.create(name, 64, spin_ns=0)
    run: Callable[[], object]
    if call == "push_wait":
        assert r.push(b"x" * 50)
        seq_off, run = L.RING_OFF_SPACE_WAITERS, lambda: r.push_wait(b"y" * 50)
    else:
        seq_off, run = L.RING_OFF_WAITING, getattr(r, call)
    outcome: list[object] = []

    def target() -> None:
        try:
            outcome.append(run())
        except RingClosed as exc:
            outcome.append(exc)

    t = threading.Thread(target=target)
    t.start()
    wait_until(lambda: header_u32(name, seq_off) != 0)  # asleep on the futex, GIL released
    r.close()
    t.join(HANG_GUARD)
    assert not t.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], RingClosed), outcome
    assert call in str(outcome[0])
    assert not mapped(name)  # the sleeper was the last user: it unmapped on its way out


def test_unmap_waits_for_the_last_user(ring_mod: ModuleType, name: str) -> None:
    """close() while a thread sleeps in the ring: closed at once, unmapped only when it leaves."""
    r = ring_mod.Ring.create(name, 1024, spin_ns=0)
    entered = threading.Event()
    release = threading.Event()
    left = threading.Event()

    class SlowBuffers:
        """push_many's iterable: holds the call inside the ring until released."""

        def __iter__(self) -> Iterator[bytes]:
            yield b"one"
            entered.set()
            release.wait(HANG_GUARD)
            yield b"two"

    outcome: list[object] = []

    def target() -> None:
        try:
            outcome.append(r.push_many(SlowBuffers()))
        except RingClosed as exc:
            outcome.append(exc)
        left.set()

    t = threading.Thread(target=target)
    t.start()
    assert entered.wait(HANG_GUARD)
    r.close()
    assert r.closed
    with pytest.raises(RingClosed):
        r.pop()
    assert mapped(name)  # the push_many thread is still inside: not unmapped under it
    release.set()
    t.join(HANG_GUARD)
    assert left.is_set() and not mapped(name)
    assert len(outcome) == 1 and isinstance(outcome[0], RingClosed), outcome  # not pushed


# ---- closed means closed ------------------------------------------------------------------
async def test_every_method_of_a_closed_ring_raises_ring_closed(
    ring_mod: ModuleType, name: str
) -> None:
    r = ring_mod.Ring.create(name, 1024)
    r.close()
    r.close()
    assert r.closed
    calls: list[Callable[[], object]] = [
        lambda: r.push(b"x"),
        lambda: r.push(bytearray(b"x")),
        lambda: r.push_many([b"x"]),
        lambda: r.push_wait(b"x"),
        lambda: r.push_wait(bytearray(b"x"), 0.01),
        r.pop,
        lambda: r.pop_many(3),
        lambda: r.pop_into(bytearray(8)),
        r.pop_view,
        lambda: r.pop_wait(),
        lambda: r.pop_wait(0.01),
        lambda: r.wait_readable(),
        r.recover,
    ]
    for call in calls:
        with pytest.raises(RingClosed):
            call()
    for coro in (r.wait_readable_async, r.wait_writable_async, r.pop_async):
        with pytest.raises(RingClosed):
            await coro()
    assert isinstance(r.stats(), dict)  # local counters stay readable after close
    assert not mapped(name)


def test_pop_view_message_survives_close(ring_mod: ModuleType, name: str) -> None:
    r = ring_mod.Ring.create(name, 1024)
    r.push(b"inline")
    m = r.pop_view()
    assert m is not None and not m.in_arena
    r.close()
    assert m.tobytes() == b"inline"  # a private copy: valid after close
    m.release()


# ---- version mismatch --------------------------------------------------------------------
def test_version_mismatch_names_both_versions_and_the_segment(
    ring_mod: ModuleType, name: str
) -> None:
    with ring_mod.Ring.create(name, 256):
        pass
    data = bytearray(Path(f"/dev/shm/{name}").read_bytes())
    ref_ring.unlink(name)
    struct.pack_into("<I", data, L.RING_OFF_VERSION, 7)
    shm = posix_ipc.SharedMemory("/" + name, posix_ipc.O_CREX, size=len(data))
    os.pwrite(shm.fd, bytes(data), 0)
    shm.close_fd()
    with pytest.raises(RingFormatError) as err:
        ring_mod.Ring.attach(name)
    msg = str(err.value)
    assert name in msg
    assert f"format version 7, this program was built for version {L.RING_VERSION}" in msg


# ---- async waits: no scope of their own, and the producer's doorbell ------------------------
async def test_wait_readable_async_timeout(ring_mod: ModuleType, name: str) -> None:
    with ring_mod.Ring.create(name, 1024) as r:
        assert await r.wait_readable_async(0.01) is False
        assert header_u32(name, L.RING_OFF_WAITING) == 0
        r.push(b"x")
        assert await r.wait_readable_async() is True
        assert await r.wait_readable_async(0) is True
        with pytest.raises(ValidationError):
            await r.wait_readable_async(-1)


@pytest.mark.parametrize("producer_impl", ["same", "other"])
async def test_wait_readable_async_rung_without_a_timeout(
    ring_mod: ModuleType, name: str, producer_impl: str
) -> None:
    other = ref_ring if ring_mod is not ref_ring else _cython_or_ref()
    r = ring_mod.Ring.create(name, 1024)
    w = (ring_mod if producer_impl == "same" else other).Ring.attach(name)
    try:

        async def producer() -> None:
            await trio.sleep(0.02)
            w.push(b"ding")

        with trio.fail_after(HANG_GUARD):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(producer)
                assert await r.wait_readable_async() is True
        assert r.pop() == b"ding"
        assert w.stats()["wakeups"] == 1  # rung through the doorbell, not a periodic poll
    finally:
        w.close()
        r.close()


def _cython_or_ref() -> ModuleType:
    from symphony._core import ring as cy

    return cy


@pytest.mark.parametrize("multi", [False, True], ids=["spsc", "mpsc"])
@pytest.mark.parametrize("consumer_impl", ["same", "other"])
async def test_wait_writable_async_is_rung_by_the_consumer(
    ring_mod: ModuleType, name: str, multi: bool, consumer_impl: str
) -> None:
    other = ref_ring if ring_mod is not ref_ring else _cython_or_ref()
    w = ring_mod.Ring.create(name, 64, multi_producer=multi, producer_slots=4 if multi else None)
    r = (ring_mod if consumer_impl == "same" else other).Ring.attach(name)
    try:
        assert w.push(b"a" * 40)
        assert not w.push(b"b" * 40)  # full
        assert await w.wait_writable_async(40, 0.01) is False  # nobody pops: times out
        assert header_u32(name, L.RING_OFF_SPACE_BELLS) == 0

        async def consumer() -> None:
            await trio.sleep(0.02)
            assert header_u32(name, L.RING_OFF_SPACE_BELLS) == 1  # the producer is parked
            assert r.pop() == b"a" * 40

        with trio.fail_after(HANG_GUARD):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(consumer)
                assert await w.wait_writable_async(40) is True
        assert w.push(b"b" * 40)
        assert r.pop() == b"b" * 40
        assert header_u32(name, L.RING_OFF_SPACE_BELLS) == 0
        assert header_u32(name, L.RING_OFF_SPACE_WAITERS) == 0
        if multi:
            slot = L.RING_OFF_SLOTS + L.RING_SLOT_BELL_WAITING
            assert header_u32(name, slot) == 0
        else:
            assert header_u32(name, L.RING_OFF_SPACE_BELL_PID) == os.getpid()
        assert await w.wait_writable_async(0) is True
        with pytest.raises(ValidationError):
            await w.wait_writable_async(-1)
    finally:
        r.close()
        w.close()


CONSUMER = """
import sys, time
from {package}.ring import Ring
r = Ring.attach({name!r})
print("ready", flush=True)
sys.stdin.readline()
time.sleep(0.05)
print(r.pop().decode(), flush=True)
r.close()
"""


async def test_wait_writable_async_across_processes(impl: Impl, name: str) -> None:
    """A consumer in another process (the other twin) rings this producer's doorbell."""
    other = "symphony.reference" if impl.package == "symphony._core" else "symphony._core"
    mod = impl.load("ring")
    w = mod.Ring.create(name, 64)
    try:
        assert w.push(b"first-message-" * 3)
        with subprocess.Popen(
            [sys.executable, "-c", CONSUMER.format(package=other, name=name)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        ) as proc:
            assert proc.stdin is not None and proc.stdout is not None
            try:
                assert proc.stdout.readline().strip() == "ready"
                proc.stdin.write("go\n")
                proc.stdin.flush()
                with trio.fail_after(HANG_GUARD):
                    assert await w.wait_writable_async(40) is True
                assert proc.stdout.readline().strip() == "first-message-" * 3
            finally:
                proc.wait(HANG_GUARD)
        assert proc.returncode == 0
    finally:
        w.close()


# ---- readable(): a side-effect-free check a busy-poll loop may use ----------------------------
async def test_readable_never_hides_the_doorbell(ring_mod: ModuleType, name: str) -> None:
    other = ref_ring if ring_mod is not ref_ring else _cython_or_ref()
    r = ring_mod.Ring.create(name, 1024)
    w = other.Ring.attach(name)
    try:
        assert r.readable() is False
        w.push(b"a")
        assert r.readable() is True
        assert r.readable() is True  # no side effect: still there
        assert r.pop() == b"a"
        assert r.readable() is False

        polls = [0]

        async def poll_then_push() -> None:
            # a parked waiter has declared itself asleep; polling must not undo that
            await trio.sleep(0.01)
            assert header_u32(name, L.RING_OFF_WAITING) != 0
            for _ in range(1000):
                polls[0] += not r.readable()
            assert header_u32(name, L.RING_OFF_WAITING) != 0
            w.push(b"ding")

        with trio.fail_after(HANG_GUARD):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(poll_then_push)
                assert await r.wait_readable_async() is True
        assert polls[0] == 1000
        assert r.pop() == b"ding"
        assert w.stats()["wakeups"] == 1  # the producer still rang the bell
    finally:
        w.close()
        r.close()
    with pytest.raises(RingClosed):
        r.readable()


async def test_wake_returns_a_parked_waiter_false(ring_mod: ModuleType, name: str) -> None:
    with ring_mod.Ring.create(name, 64) as r:
        r.wake()  # nobody parked: nothing remembered
        woke: list[bool] = []

        async def waiter() -> None:
            woke.append(await r.wait_readable_async())

        with trio.fail_after(HANG_GUARD):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(waiter)
                await trio.sleep(0.01)
                assert not woke  # the earlier wake() did not leak into this wait
                r.wake()
        assert woke == [False]
        assert header_u32(name, L.RING_OFF_WAITING) == 0
        # a producer parked for room is woken the same way
        assert r.push(b"a" * 40)
        assert not r.push(b"b" * 40)

        async def producer() -> None:
            woke.append(await r.wait_writable_async(40))

        with trio.fail_after(HANG_GUARD):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(producer)
                await trio.sleep(0.01)
                r.wake()
        assert woke == [False, False]
        # and the next waits behave normally again
        assert await r.wait_readable_async() is True
    with pytest.raises(RingClosed):
        r.wake()
