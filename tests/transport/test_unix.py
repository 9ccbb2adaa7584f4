"""Unix socket transport: many connections, timeouts, partial reads and writes."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import trio
import trio.testing

from symphony.commons.errors import (
    ConnectionClosed,
    FrameTooLarge,
    SymphonyTimeout,
    TransportError,
)
from symphony.transport import (
    StreamTransport,
    UnixListener,
    UnixServer,
    connect_unix,
    raise_fd_limit,
)

CLIENTS = str(Path(__file__).with_name("_unix_clients.py"))


async def test_ten_thousand_connected_clients(tmp_path: Path) -> None:
    """10,000 clients connected at once (two client processes of 5,000: the fd limit is
    20,000 per process here), each echoed, all held open together."""
    limit = raise_fd_limit()
    per_proc, procs = 5000, 2
    assert limit > per_proc * procs + 100, f"RLIMIT_NOFILE {limit} too low for this test"
    path = tmp_path / "many.sock"
    connected = 0
    peak = 0
    all_in = trio.Event()

    async def handler(t: StreamTransport) -> None:
        nonlocal connected, peak
        frame = await t.receive()
        await t.send(frame)
        connected += 1
        peak = max(peak, connected)
        if connected == per_proc * procs:
            all_in.set()
        try:
            await t.receive()  # until the client hangs up
        finally:
            connected -= 1

    async with trio.open_nursery() as nursery:
        server = UnixServer(path, handler)
        await nursery.start(server.run)
        children = [
            subprocess.Popen([sys.executable, CLIENTS, str(path), str(per_proc)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            for _ in range(procs)
        ]
        try:
            with trio.fail_after(120):  # hang guard only
                await all_in.wait()
                for child in children:
                    assert child.stdout is not None
                    line = await trio.to_thread.run_sync(child.stdout.readline)
                    assert line.strip() == f"connected {per_proc}".encode()
            assert peak == per_proc * procs == server.active
        finally:
            for child in children:
                assert child.stdin is not None
                child.stdin.close()
                await trio.to_thread.run_sync(child.wait)
                assert child.stdout is not None
                child.stdout.close()
        with trio.fail_after(60):
            while connected:
                await trio.sleep(0.01)
        assert server.handler_errors == 0
        nursery.cancel_scope.cancel()
    assert not path.exists()


async def test_partial_reads_byte_by_byte(tmp_path: Path) -> None:
    path = tmp_path / "partial.sock"
    listener = UnixListener(path)
    try:
        raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        raw.connect(str(path))
        server = await listener.accept()
        frames = [b"", b"a", b"hello world" * 50, bytes(range(256))]
        wire = b"".join(struct.pack("<I", len(f)) + f for f in frames)
        got = []
        async with trio.open_nursery() as nursery:

            async def dribble() -> None:
                for i in range(len(wire)):
                    raw.send(wire[i : i + 1])
                    await trio.sleep(0)

            nursery.start_soon(dribble)
            for _ in frames:
                got.append(await server.receive())
        assert got == frames
        raw.close()
        with pytest.raises(ConnectionClosed):
            await server.receive()
        await server.aclose()
    finally:
        listener.close()


async def test_partial_writes_reassembled(tmp_path: Path) -> None:
    """A frame far larger than the socket buffer goes out in many partial writes."""
    path = tmp_path / "pw.sock"
    async with trio.open_nursery() as nursery:
        box: list[StreamTransport] = []
        got_it = trio.Event()

        async def handler(t: StreamTransport) -> None:
            box.append(t)
            got_it.set()
            await trio.sleep_forever()

        await nursery.start(UnixServer(path, handler).run)
        client = await connect_unix(path)
        await got_it.wait()
        big = os.urandom(8 * 1024 * 1024)
        async with trio.open_nursery() as inner:
            inner.start_soon(client.send, big)
            assert await box[0].receive() == big
        assert client.statistics().send_waits >= 1, "8 MiB cannot fit the socket buffer"
        await client.aclose()
        nursery.cancel_scope.cancel()


async def test_oversize_prefix_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.sock"
    listener = UnixListener(path, max_frame=1024)
    try:
        raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        raw.connect(str(path))
        server = await listener.accept()
        raw.send(struct.pack("<I", 4096) + b"x" * 10)
        with pytest.raises(FrameTooLarge, match="exceeds max_frame=1024"):
            await server.receive()
        raw.close()
        await server.aclose()
    finally:
        listener.close()


async def test_connect_to_nothing(tmp_path: Path) -> None:
    with pytest.raises(ConnectionClosed, match="cannot connect"):
        await connect_unix(tmp_path / "nobody.sock")


async def test_connect_timeout_when_backlog_full(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    path = tmp_path / "full.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.listen(0)  # never accepts: the backlog fills
    held = []
    try:
        for _ in range(64):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.setblocking(False)
            try:
                c.connect(str(path))
            except BlockingIOError:
                c.close()
                break
            held.append(c)
        with pytest.raises(SymphonyTimeout, match=r"took more than 0\.5 s"):
            await connect_unix(path, timeout=0.5)
    finally:
        for c in held:
            c.close()
        sock.close()


async def test_listener_refuses_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("not a socket")
    with pytest.raises(TransportError, match="cannot listen"):
        UnixListener(path)
    assert path.read_text() == "not a socket"


async def test_handler_errors_do_not_stop_the_server(tmp_path: Path) -> None:
    path = tmp_path / "err.sock"

    async def handler(t: StreamTransport) -> None:
        frame = await t.receive()
        if frame == b"boom":
            raise RuntimeError("handler bug")
        await t.send(frame)

    async with trio.open_nursery() as nursery:
        server = UnixServer(path, handler)
        await nursery.start(server.run)
        bad = await connect_unix(path)
        await bad.send(b"boom")
        with pytest.raises(ConnectionClosed):
            await bad.receive()
        good = await connect_unix(path)
        await good.send(b"ok")
        assert await good.receive() == b"ok"
        assert server.handler_errors == 1
        await bad.aclose()
        await good.aclose()
        nursery.cancel_scope.cancel()
