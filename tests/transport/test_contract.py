"""The one contract suite, run for every transport."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import trio

from symphony.transport import (
    Transport,
    UnixServer,
    connect_unix,
    memory_pair,
    pipe_pair,
    unix_socket_pair,
)
from symphony.transport.testing import check_transport


def _pair_maker(
    factory: Callable[[], tuple[Transport, Transport]],
) -> Callable[[], AsyncIterator[tuple[Transport, Transport]]]:
    @asynccontextmanager
    async def make() -> AsyncIterator[tuple[Transport, Transport]]:
        a, b = factory()
        try:
            yield a, b
        finally:
            await a.aclose()
            await b.aclose()

    return make  # type: ignore[return-value]


async def test_memory_pair() -> None:
    await check_transport(_pair_maker(lambda: memory_pair(16)))  # type: ignore[arg-type]


async def test_unix_socketpair() -> None:
    await check_transport(_pair_maker(unix_socket_pair))  # type: ignore[arg-type]


async def test_unix_socketpair_line_framed() -> None:
    await check_transport(
        _pair_maker(lambda: unix_socket_pair(framing="line")),  # type: ignore[arg-type]
        line_framed=True,
    )


async def test_pipes_length_framed() -> None:
    await check_transport(_pair_maker(pipe_pair))  # type: ignore[arg-type]


async def test_pipes_line_framed() -> None:
    await check_transport(
        _pair_maker(lambda: pipe_pair(framing="line")), line_framed=True  # type: ignore[arg-type]
    )


async def test_unix_listener_and_client(tmp_path: Path) -> None:
    path = tmp_path / "contract.sock"

    @asynccontextmanager
    async def make() -> AsyncIterator[tuple[Transport, Transport]]:
        accepted: trio.MemorySendChannel[Transport]
        accepted, incoming = trio.open_memory_channel[Transport](1)
        done = trio.Event()

        async def handler(t: Transport) -> None:
            await accepted.send(t)
            await done.wait()

        async with trio.open_nursery() as nursery:
            await nursery.start(UnixServer(path, handler).run)
            client = await connect_unix(path, timeout=5)
            server_side = await incoming.receive()
            try:
                yield client, server_side
            finally:
                await client.aclose()
                done.set()
                nursery.cancel_scope.cancel()
        assert not path.exists(), "the server must remove its socket file"

    await check_transport(make)


async def test_shm_pair() -> None:
    from symphony.transport.shm import shm_pair

    await check_transport(_pair_maker(shm_pair))  # type: ignore[arg-type]


async def test_shm_server_and_client(tmp_path: Path) -> None:
    from symphony.transport.shm import ShmServer, ShmTransport, connect_shm

    path = tmp_path / "shm.sock"

    @asynccontextmanager
    async def make() -> AsyncIterator[tuple[Transport, Transport]]:
        accepted, incoming = trio.open_memory_channel[ShmTransport](1)
        done = trio.Event()

        async def handler(t: ShmTransport) -> None:
            await accepted.send(t)
            await done.wait()

        async with trio.open_nursery() as nursery:
            await nursery.start(ShmServer(path, handler).run)
            client = await connect_shm(path, timeout=5)
            server_side = await incoming.receive()
            try:
                yield client, server_side
            finally:
                await client.aclose()
                done.set()
                nursery.cancel_scope.cancel()

    await check_transport(make)


def test_no_shared_memory_segment_left_behind() -> None:
    """Every shm test above unlinked its rings (the handshake unlinks them once attached)."""
    import os

    mine = [n for n in os.listdir("/dev/shm") if n.startswith(f"sy-shm-{os.getpid()}-")]
    assert mine == []
