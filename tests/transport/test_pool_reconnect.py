"""Connection pool and reconnecting transport."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
import trio
import trio.testing

from symphony.commons.errors import ConnectionClosed, PoolExhausted, TransportError
from symphony.transport import (
    StreamTransport,
    Transport,
    UnixServer,
    connect_unix,
    memory_pair,
    npipe,
)
from symphony.transport.pool import ConnectionPool, PoolConfig
from symphony.transport.reconnect import ReconnectingTransport, ReconnectStrategy


class _Factory:
    def __init__(self) -> None:
        self.made: list[Transport] = []
        self.fail = False

    async def __call__(self) -> Transport:
        await trio.lowlevel.checkpoint()
        if self.fail:
            raise ConnectionClosed("server down")
        a, _b = memory_pair()
        self.made.append(a)
        return a


async def test_pool_reuse_limits_and_metrics(autojump_clock: trio.testing.MockClock) -> None:
    factory = _Factory()
    pool = ConnectionPool(factory, PoolConfig(min_size=1, max_size=2, idle_timeout=10,
                                              max_lifetime=100, acquire_timeout=1.0))
    async with trio.open_nursery() as nursery:
        await nursery.start(pool.run)
        assert pool.metrics.created == 1 and pool.metrics.idle == 1  # min_size kept
        async with pool.acquire() as t1:
            assert t1 is factory.made[0]  # reused, no new connection
            async with pool.acquire() as t2:
                assert t2 is not t1 and pool.metrics.in_use == 2
                with pytest.raises(PoolExhausted, match="2 pooled connections"):
                    async with pool.acquire():
                        pass
        assert pool.metrics.created == 2 and pool.metrics.reused == 1
        assert pool.metrics.timeouts == 1 and pool.metrics.idle == 2
        # a waiter gets the connection released by another task
        got: list[Transport] = []

        async def hold(seconds: float) -> None:
            async with pool.acquire() as t:
                got.append(t)
                await trio.sleep(seconds)

        async with trio.open_nursery() as inner:
            inner.start_soon(hold, 0.5)
            inner.start_soon(hold, 0.5)
            await trio.testing.wait_all_tasks_blocked()
            inner.start_soon(hold, 0.1)
        assert len(got) == 3 and pool.metrics.waits >= 2 and pool.metrics.created == 2
        # idle timeout: back to min_size
        await trio.sleep(20)
        assert pool.metrics.expired_idle == 1 and pool.metrics.idle == 1
        # max lifetime: everything is replaced
        await trio.sleep(100)
        assert pool.metrics.expired_lifetime >= 1 and pool.metrics.idle == 1
        # a broken connection is discarded on release
        with pytest.raises(RuntimeError):
            async with pool.acquire():
                raise RuntimeError("caller bug")
        assert pool.metrics.discarded == 1
        nursery.cancel_scope.cancel()
    assert pool.metrics.idle == 0 and pool.metrics.closed == pool.metrics.created


async def test_pool_config_is_checked() -> None:
    with pytest.raises(Exception, match="min_size"):
        PoolConfig(min_size=3, max_size=2)


def test_backoff_grows_with_jitter_and_caps() -> None:
    s = ReconnectStrategy(initial_delay=0.1, max_delay=1.0, multiplier=2, jitter=0.1)
    rng = random.Random(7)
    delays = [s.delay(n, rng) for n in range(1, 8)]
    for n, d in enumerate(delays, 1):
        base = min(1.0, 0.1 * 2 ** (n - 1))
        assert base * 0.9 <= d <= base * 1.1
    assert len(set(delays)) == len(delays)  # jittered
    assert ReconnectStrategy(jitter=0).delay(3, rng) == pytest.approx(0.2)


async def test_gives_up_after_max_attempts(autojump_clock: trio.testing.MockClock) -> None:
    factory = _Factory()
    factory.fail = True
    attempts: list[int] = []
    t = ReconnectingTransport(factory, ReconnectStrategy(max_attempts=4),
                              on_attempt=attempts.append)
    with pytest.raises(ConnectionClosed, match="gave up after 4 attempts"):
        await t.send(b"x")
    assert attempts == [1, 2, 3, 4] and len(t.delays) == 3
    assert t.delays[0] < t.delays[1] < t.delays[2]


async def test_reconnects_after_a_server_restart(tmp_path: Path) -> None:
    path = tmp_path / "restart.sock"

    async def echo(t: StreamTransport) -> None:
        async for frame in t:
            await t.send(frame)

    strategy = ReconnectStrategy(initial_delay=0.01, max_delay=0.2, max_attempts=8)
    attempts: list[int] = []
    server_down = trio.Event()
    retrying = trio.Event()

    def on_attempt(n: int) -> None:
        attempts.append(n)
        if server_down.is_set() and n >= 2:
            retrying.set()  # the client has failed at least once against the dead server

    client = ReconnectingTransport(lambda: connect_unix(path, timeout=1), strategy,
                                   on_attempt=on_attempt, rng=random.Random(1))
    async with trio.open_nursery() as outer:
        server_scope = trio.CancelScope()
        await outer.start(_serve, path, echo, server_scope)
        await client.send(b"one")
        assert await client.receive() == b"one"
        server_scope.cancel()  # server stops; its connections close
        with trio.fail_after(30):
            while path.exists():
                await trio.sleep(0.001)
        server_down.set()
        attempts.clear()
        async with trio.open_nursery() as inner:

            async def use() -> None:
                # a frame written into the dying connection may be lost (at-most-once):
                # ask again until the echo comes back
                while True:
                    await client.send(b"two")
                    with trio.move_on_after(0.5):
                        assert await client.receive() == b"two"
                        return

            inner.start_soon(use)
            with trio.fail_after(30):
                await retrying.wait()
            await outer.start(UnixServer(path, echo).run)  # the server comes back
        assert client.connects == 2
        assert client.last_attempts <= 5, f"reconnected after {client.last_attempts} attempts"
        await client.aclose()
        outer.cancel_scope.cancel()


async def _serve(path: Path, handler, scope: trio.CancelScope,  # type: ignore[no-untyped-def]
                 *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    with scope:
        await UnixServer(path, handler).run(task_status=task_status)


@pytest.mark.skipif(sys.platform == "win32", reason="checks the non-Windows refusal")
async def test_named_pipes_refuse_clearly_off_windows() -> None:
    assert not npipe.is_supported()
    with pytest.raises(TransportError, match="Windows transport"):
        npipe.NamedPipeListener("symphony-test")
    with pytest.raises(TransportError, match="Windows transport"):
        await npipe.connect_named_pipe("symphony-test")
