"""Shared memory against a real peer process: a parked receiver and a sender blocked on a full
ring both learn at once (the control watcher) that the peer was killed, with no polling."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from symphony.commons.errors import ConnectionClosed
from symphony.transport.shm import ShmConfig, ShmServer, ShmTransport

ROOT = Path(__file__).resolve().parents[2]
HANG_GUARD = 10.0

CHILD = """
import sys, trio
from symphony.transport.shm import connect_shm
async def main():
    t = await connect_shm(sys.argv[1], timeout=5)
    await t.send(b"hello")
    await trio.sleep_forever()   # never reads: the parent's ring to it fills up
trio.run(main)
"""


@pytest.mark.parametrize("blocked", ["receive", "send"])
async def test_killed_peer_wakes_a_parked_task(tmp_path: Path, blocked: str) -> None:
    path = str(tmp_path / "shm.sock")
    got, incoming = trio.open_memory_channel[ShmTransport](1)
    hold = trio.Event()

    async def handler(t: ShmTransport) -> None:
        await got.send(t)
        await hold.wait()

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = ShmServer(path, handler, config=ShmConfig(capacity=4096, arena_size=0,
                                                       arena_size_classes=(512,)))
    async with trio.open_nursery() as nursery:
        await nursery.start(server.run)
        proc = subprocess.Popen([sys.executable, "-c", CHILD, path], env=env)
        try:
            with trio.fail_after(HANG_GUARD):
                t = await incoming.receive()
                assert await t.receive() == b"hello"

            async def kill_soon() -> None:
                await trio.sleep(0.05)  # let the task park first
                proc.kill()

            async def blocked_call() -> None:
                if blocked == "receive":
                    await t.receive()
                while True:  # fills the 4 KiB ring, then parks for room
                    await t.send(b"x" * 100)

            nursery.start_soon(kill_soon)
            with trio.fail_after(HANG_GUARD), pytest.raises(ConnectionClosed):
                await blocked_call()
            assert t.stats.send_waits > 0 if blocked == "send" else t.stats.receive_waits > 0
            assert not t.connected
            await t.aclose()
        finally:
            proc.kill()
            proc.wait()
            hold.set()
            nursery.cancel_scope.cancel()
