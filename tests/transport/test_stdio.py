"""Stdio transport against real child processes (spawned with sys.executable)."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import orjson
import pytest
import trio

import symphony
from symphony.commons.errors import ConnectionClosed, LocalProtocolError, TransportError
from symphony.transport import spawn_stdio

CHILD = str(Path(__file__).with_name("_stdio_child.py"))
ENV = {**os.environ, "PYTHONPATH": str(Path(symphony.__file__).parents[1])}


async def spawn(mode: str, framing: str = "line", **kw: object):  # type: ignore[no-untyped-def]
    return await spawn_stdio([sys.executable, CHILD, mode, framing], framing=framing,
                             env=ENV, **kw)  # type: ignore[arg-type]


async def test_ndjson_rpc_round_trips_and_clean_shutdown() -> None:
    t = await spawn("jsonrpc")
    for i in range(50):
        await t.send(orjson.dumps({"jsonrpc": "2.0", "id": i, "method": "add", "params": [i, 1]}))
        assert orjson.loads(await t.receive()) == {"jsonrpc": "2.0", "id": i, "result": i + 1}
    await t.aclose()
    assert t.process.returncode == 0, "closing stdin must let the child exit cleanly"
    assert not t.connected


async def test_continuous_event_stream() -> None:
    t = await spawn("jsonrpc")
    await t.send(orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": "stream", "params": [500]}))
    seqs = []
    async for frame in t:
        msg = orjson.loads(frame)
        if msg.get("id") == 1:
            assert msg["result"] == "done"
            break
        seqs.append(msg["params"]["seq"])
    assert seqs == list(range(500))
    await t.aclose()


async def test_binary_framing_echo_large_frames() -> None:
    t = await spawn("echo", "length")
    frames = [bytes([i % 256]) * (i * 997) for i in range(40)] + [b"\n\x00\n", b""]
    async with trio.open_nursery() as nursery:

        async def pump() -> None:
            await t.send_many(frames)

        nursery.start_soon(pump)
        got = [await t.receive() for _ in frames]
    assert got == frames
    await t.aclose()
    assert t.process.returncode == 0


async def test_line_framing_refuses_newlines() -> None:
    t = await spawn("echo")
    with pytest.raises(LocalProtocolError, match="newline"):
        await t.send(b"two\nlines")
    await t.aclose()


async def test_dead_child_is_a_clear_connection_closed() -> None:
    t = await spawn("die-after-one")
    await t.send(b'{"x": 1}')
    with pytest.raises(ConnectionClosed, match=r"exited with code 3|still running"):
        await t.receive()
    await t.wait()
    async def send_until_error() -> None:
        for _ in range(10000):
            await t.send(b'{"after": "death"}')

    with pytest.raises(ConnectionClosed, match=r"child pid \d+ \(exited with code 3\)"):
        await send_until_error()
    assert not t.connected
    await t.aclose()


async def test_killed_child() -> None:
    t = await spawn("echo")
    await t.send(b"hello")
    assert await t.receive() == b"hello"
    t.process.send_signal(signal.SIGKILL)
    await t.wait()
    with pytest.raises(ConnectionClosed, match="killed by signal 9"):
        await t.receive()
    await t.aclose()


async def test_child_ignoring_eof_is_terminated_after_grace() -> None:
    t = await spawn("ignore-eof", grace=0.2)
    await t.aclose()
    assert t.process.returncode == -signal.SIGTERM


async def test_unstartable_program() -> None:
    with pytest.raises(TransportError, match="cannot start"):
        await spawn_stdio(["/nonexistent/program"])
