"""The transport contract suite (trio's ``check_two_way_stream`` for frames).

Every transport runs :func:`check_transport` in its tests; a new transport is done when it
passes. The suite needs no clock: it waits with ``trio.testing.wait_all_tasks_blocked``, and
the few ``fail_after`` guards only turn a hang into a failure.

Usage::

    @asynccontextmanager
    async def make_pair():
        a, b = unix_socket_pair()
        try:
            yield a, b
        finally:
            await a.aclose(); await b.aclose()

    async def test_contract():
        await check_transport(make_pair)
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import trio
import trio.testing

from symphony.commons.errors import ConnectionClosed
from symphony.transport.base import Transport

__all__ = ["PairMaker", "check_transport", "frames_for"]

PairMaker = Callable[[], AbstractAsyncContextManager[tuple[Transport, Transport]]]
"""Makes a connected pair and cleans it up on exit (sockets, segments, children)."""

_HANG_GUARD = 60.0  # turns a hang into a failure; no assertion depends on time
_IDX = struct.Struct("<Q")


def frames_for(seed: int, count: int, max_size: int, *, line_framed: bool) -> list[bytes]:
    """``count`` deterministic frames of 0..max_size bytes (1.. and newline-free for lines),
    each starting with its 8-byte index when long enough."""
    rng = random.Random(seed)
    alphabet = bytes(range(32, 127)) if line_framed else bytes(range(256))
    out = []
    for i in range(count):
        n = rng.randrange(1 if line_framed else 0, max_size + 1)
        body = bytes(rng.choice(alphabet) for _ in range(min(n, 64)))
        body = (body * (n // max(1, len(body)) + 1))[:n]
        out.append(body)
        if line_framed:
            out[-1] = (f"{i:08d}".encode() + body)[: max(n, 8)]
    return out


def _indexed(i: int, size: int, line_framed: bool) -> bytes:
    if line_framed:
        head = f"{i:016d}".encode()
        return head + bytes((48 + (i + k) % 10) for k in range(size - 16))
    head = _IDX.pack(i)
    return head + bytes(((i + k) & 0xFF) for k in range(size - 8))


def _index_of(frame: bytes, line_framed: bool) -> int:
    if line_framed:
        return int(frame[:16])
    return int(_IDX.unpack_from(frame)[0])


async def check_transport(
    make_pair: PairMaker, *, line_framed: bool = False, large: int = 4 * 1024 * 1024
) -> None:
    """Run every contract check on fresh pairs from ``make_pair``.

    Args:
        line_framed: the transport is newline-framed (frames must not contain ``\\n`` and
            empty frames are skipped), so the suite sends printable, non-empty frames.
        large: size of the large-frame check.
    """
    with trio.fail_after(_HANG_GUARD):
        await _check_ordering(make_pair, line_framed)
        await _check_large(make_pair, line_framed, large)
        await _check_half_close(make_pair)
        await _check_peer_death(make_pair)
        await _check_cancel_receive(make_pair)
        await _check_back_pressure_and_cancelled_send(make_pair, line_framed)
        await _check_busy_receive(make_pair)


async def _send_all(t: Transport, frames: list[bytes]) -> None:
    half = len(frames) // 2
    for f in frames[:half]:
        await t.send(f)
    await t.send_many(frames[half:])


async def _receive_n(t: Transport, n: int, out: list[bytes]) -> None:
    while len(out) < n:
        out.extend(await t.receive_many())


async def _check_ordering(make_pair: PairMaker, line_framed: bool) -> None:
    a_frames = frames_for(1, 1500, 3000, line_framed=line_framed)
    b_frames = frames_for(2, 1500, 300, line_framed=line_framed)
    async with make_pair() as (a, b):
        assert a.connected and b.connected, "a fresh pair must be connected"
        got_b: list[bytes] = []
        got_a: list[bytes] = []
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_send_all, a, a_frames)
            nursery.start_soon(_send_all, b, b_frames)
            nursery.start_soon(_receive_n, b, len(a_frames), got_b)
            nursery.start_soon(_receive_n, a, len(b_frames), got_a)
        assert got_b == a_frames, "frames a -> b arrived changed, lost or reordered"
        assert got_a == b_frames, "frames b -> a arrived changed, lost or reordered"
        sa, sb = a.statistics(), b.statistics()
        assert sa.frames_sent == len(a_frames) == sb.frames_received
        assert sa.bytes_sent == sum(map(len, a_frames)) == sb.bytes_received
        assert sb.frames_sent == len(b_frames) == sa.frames_received


async def _check_large(make_pair: PairMaker, line_framed: bool, large: int) -> None:
    big_a = _indexed(7, large, line_framed)
    big_b = _indexed(9, large // 2 + 3, line_framed)
    small = _indexed(1, 40, line_framed)
    async with make_pair() as (a, b):
        got: dict[str, list[bytes]] = {"a": [], "b": []}

        async def pump(t: Transport, frames: list[bytes]) -> None:
            for f in frames:
                await t.send(f)

        async with trio.open_nursery() as nursery:
            # both directions at once: a transport must not deadlock on two big writes
            nursery.start_soon(pump, a, [small, big_a, small])
            nursery.start_soon(pump, b, [big_b, small])
            nursery.start_soon(_receive_n, b, 3, got["b"])
            nursery.start_soon(_receive_n, a, 2, got["a"])
        assert got["b"] == [small, big_a, small], "large frame a -> b corrupted"
        assert got["a"] == [big_b, small], "large frame b -> a corrupted"


async def _check_half_close(make_pair: PairMaker) -> None:
    async with make_pair() as (a, b):
        for i in range(3):
            await a.send(b"a%d" % i)
        await a.send_eof()
        assert not a.connected, "send_eof() must leave the sender not connected"
        try:
            await a.send(b"late")
        except ConnectionClosed:
            pass
        else:
            raise AssertionError("send after send_eof() must raise ConnectionClosed")
        assert [await b.receive() for _ in range(3)] == [b"a0", b"a1", b"a2"]
        try:
            extra = await b.receive()
        except ConnectionClosed:
            pass
        else:
            raise AssertionError(f"receive after the peer's EOF returned {extra!r}")
        # the other direction still works
        await b.send(b"reply-1")
        await b.send(b"reply-2")
        assert await a.receive() == b"reply-1"
        assert await a.receive() == b"reply-2"
        await b.send_eof()
        try:
            await a.receive()
        except ConnectionClosed:
            pass
        else:
            raise AssertionError("receive after both EOFs must raise ConnectionClosed")


async def _check_peer_death(make_pair: PairMaker) -> None:
    async with make_pair() as (a, b):
        await a.send(b"last-1")
        await a.send(b"last-2")
        await a.aclose()
        await a.aclose()  # idempotent
        assert not a.connected
        try:
            await a.send(b"x")
        except ConnectionClosed:
            pass
        else:
            raise AssertionError("send on a closed transport must raise ConnectionClosed")
        assert await b.receive() == b"last-1", "frames sent before close must arrive"
        assert await b.receive() == b"last-2", "frames sent before close must arrive"
        try:
            await b.receive()
        except ConnectionClosed:
            pass
        else:
            raise AssertionError("receive from a closed peer must raise ConnectionClosed")
        chunk = b"z" * 4096
        for _ in range(64 * 1024 * 1024 // len(chunk)):
            try:
                await b.send(chunk)
            except ConnectionClosed:
                break
        else:
            raise AssertionError("sending to a closed peer never raised ConnectionClosed")
        assert not b.connected, "a transport whose peer is gone must not claim to be connected"


async def _check_cancel_receive(make_pair: PairMaker) -> None:
    async with make_pair() as (a, b):
        outcome: list[str] = []
        async with trio.open_nursery() as nursery:

            async def receiver(scope: trio.CancelScope) -> None:
                with scope:
                    await b.receive()
                    outcome.append("received")
                outcome.append("cancelled" if scope.cancelled_caught else "done")

            scope = trio.CancelScope()
            nursery.start_soon(receiver, scope)
            await trio.testing.wait_all_tasks_blocked()
            scope.cancel()
        assert outcome == ["cancelled"], f"a cancelled receive must raise Cancelled: {outcome}"
        await a.send(b"after-cancel")
        assert await b.receive() == b"after-cancel", "transport unusable after a cancelled receive"


async def _check_back_pressure_and_cancelled_send(make_pair: PairMaker, line_framed: bool) -> None:
    size = 16 * 1024
    cap = 256 * 1024 * 1024 // size  # far more than any bounded buffer should hold
    async with make_pair() as (a, b):
        sent = 0
        scope = trio.CancelScope()

        async def sender() -> None:
            nonlocal sent
            with scope:
                for i in range(cap):
                    await a.send(_indexed(i, size, line_framed))
                    sent += 1

        async with trio.open_nursery() as nursery:
            nursery.start_soon(sender)
            await trio.testing.wait_all_tasks_blocked()
            assert sent < cap, "send never waited: the transport has no back-pressure"
            scope.cancel()
        assert scope.cancelled_caught, "the blocked send did not see the cancellation"
        end = b"END" if not line_framed else b"9" * 16 + b"END"
        got = 0
        async with trio.open_nursery() as nursery:
            nursery.start_soon(a.send, end)  # still usable after a cancelled send
            while True:
                frame = await b.receive()
                if frame == end:
                    break
                assert _index_of(frame, line_framed) == got, "frame lost or reordered"
                assert frame == _indexed(got, size, line_framed), f"frame {got} corrupted"
                got += 1
        assert got in (sent, sent + 1), f"sent {sent} (+1 cancelled) but received {got}"


async def _check_busy_receive(make_pair: PairMaker) -> None:
    async with make_pair() as (a, b):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(b.receive)
            await trio.testing.wait_all_tasks_blocked()
            try:
                await b.receive()
            except trio.BusyResourceError:
                pass
            else:
                raise AssertionError("two concurrent receives must raise BusyResourceError")
            await a.send(b"wake")
