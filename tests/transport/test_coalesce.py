"""Write coalescing in stream transports: the first frame of a scheduler batch leaves at once,
the rest of the batch in one system call when it ends, in order, and nothing corked is lost."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from symphony.commons.errors import ConnectionClosed
from symphony.transport import unix_socket_pair
from symphony.transport._stream import CORK_LIMIT, StreamTransport


def _count_writes(t: StreamTransport) -> list[int]:
    sizes: list[int] = []
    real = t._io.write

    def write(data: Any) -> int:
        sizes.append(len(data))
        return real(data)

    t._io.write = write  # type: ignore[method-assign]
    return sizes


async def _receive_n(t: StreamTransport, n: int) -> list[bytes]:
    got: list[bytes] = []
    with trio.fail_after(10):
        while len(got) < n:
            got.extend(await t.receive_many())
    return got


@pytest.mark.parametrize("coalesce", [True, False])
async def test_one_write_per_batch(coalesce: bool) -> None:
    a, b = unix_socket_pair()
    a.coalesce = coalesce
    writes = _count_writes(a)
    frames = [f"frame {i}".encode() for i in range(100)]
    for f in frames:
        assert a.send_nowait(f)
    # coalescing: the first frame of the batch goes out at once (latency), the other 99
    # are corked until the batch ends
    assert len(writes) == (1 if coalesce else 100)
    assert writes[0] == len(frames[0]) + 4
    await trio.lowlevel.checkpoint()  # the batch ends: the loop flushes before polling
    assert len(writes) == (2 if coalesce else 100)
    assert await _receive_n(b, 100) == frames
    assert a.statistics().frames_sent == 100
    await a.aclose()
    await b.aclose()


async def test_order_kept_around_a_large_frame_and_send_many() -> None:
    a, b = unix_socket_pair()
    big = bytes(range(256)) * (CORK_LIMIT // 256 + 1)
    async with trio.open_nursery() as nursery:
        got: list[bytes] = []

        async def reader() -> None:
            got.extend(await _receive_n(b, 5))

        nursery.start_soon(reader)
        assert a.send_nowait(b"first")
        await a.send(big)  # not corked: the corked frame goes out before it
        await a.send_many([b"m1", b"m2"])
        await a.send(b"last")
    assert got == [b"first", big, b"m1", b"m2", b"last"]
    await a.aclose()
    await b.aclose()


async def test_close_and_eof_flush_what_is_corked() -> None:
    a, b = unix_socket_pair()
    assert a.send_nowait(b"x")
    await a.send(b"y")
    await a.send_eof()  # no checkpoint in between: send_eof writes the cork first
    assert await _receive_n(b, 2) == [b"x", b"y"]
    with pytest.raises(ConnectionClosed):
        await b.receive()
    c, d = unix_socket_pair()
    assert c.send_nowait(b"z")
    await c.aclose()
    assert await _receive_n(d, 1) == [b"z"]
    for t in (a, b, d):
        await t.aclose()


async def test_a_dead_peer_is_reported_by_the_next_send() -> None:
    a, b = unix_socket_pair()
    await b.aclose()
    assert a.send_nowait(b"into the void")  # accepted (corked): nobody can know yet
    await trio.lowlevel.checkpoint()  # the flush finds the peer gone

    async def keep_sending() -> None:
        for _ in range(3):
            await a.send(b"more")
            await trio.lowlevel.checkpoint()

    with pytest.raises(ConnectionClosed):
        await keep_sending()
    assert not a.connected
    await a.aclose()


async def test_back_pressure_still_holds() -> None:
    a, b = unix_socket_pair()
    chunk = b"q" * 4096
    sent = 0
    with trio.move_on_after(0.3):
        while True:  # nobody reads b: the kernel buffer fills, then send waits
            await a.send(chunk)
            sent += 1
    assert a.statistics().send_waits >= 1
    assert sent * len(chunk) < 64 * 1024 * 1024  # it stopped, it did not buffer forever
    await a.aclose()
    await b.aclose()


async def test_a_partial_write_at_the_end_of_a_batch_is_finished_without_other_io() -> None:
    """The kernel takes only part of the cork when the batch ends; the rest must go out even
    if nothing else in this process wakes the loop (the reader is in another thread here;
    in real use, another process). Regression: the flusher task was made runnable after the
    loop had chosen to sleep until the next I/O event, so both sides waited for each other."""
    import os
    import socket as socket_mod

    a, b = unix_socket_pair()
    sock = socket_mod.socket(fileno=os.dup(a._io.wfd))
    sock.setsockopt(socket_mod.SOL_SOCKET, socket_mod.SO_SNDBUF, 4096)
    sock.close()
    payload = os.urandom(CORK_LIMIT - 1024)
    rfd = os.dup(b._io.rfd)
    os.set_blocking(rfd, True)

    def read_frame() -> bytes:
        data = b""
        while len(data) < 4 + 5 + 4 + len(payload):
            chunk = os.read(rfd, 1 << 16)
            if not chunk:
                break
            data += chunk
        return data

    try:
        got: list[bytes] = []
        arrived = trio.Event()

        async def reader() -> None:  # blocks in a thread on the raw socket from the start
            got.append(await trio.to_thread.run_sync(read_frame, abandon_on_cancel=True))
            arrived.set()

        with trio.move_on_after(10):  # a hang guard, not a timing check
            async with trio.open_nursery() as nursery:
                nursery.start_soon(reader)
                await trio.sleep(0.05)  # the thread is blocked in read() now
                assert a.send_nowait(b"first")  # the batch's first frame: written at once
                assert a.send_nowait(payload)  # corked: written when this batch ends...
                await arrived.wait()  # ...which parks at once: the loop would sleep
        assert got and got[0][13:] == payload, "the rest of the frame never went out"
    finally:
        os.close(rfd)
        await a.aclose()
        await b.aclose()
