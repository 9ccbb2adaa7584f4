"""Connection pool: reuse transports, within min/max, idle timeout and max lifetime (M1.4.6).

``pool.acquire()`` (an async context manager) lends a connected transport: an idle one if
there is one (most recently used first, so the rest can time out), else a new one while
fewer than ``max_size`` exist, else it waits (up to ``acquire_timeout``, then
:class:`~symphony.commons.errors.PoolExhausted`). Leaving the block returns it; a transport
that is no longer ``connected``, that raised, or that outlived ``max_lifetime`` is closed
instead. One maintenance task (:meth:`ConnectionPool.run`) closes idle connections past
``idle_timeout`` or ``max_lifetime`` and keeps ``min_size`` connections open.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import trio

from symphony.commons.errors import LocalProtocolError, PoolExhausted, SymphonyError
from symphony.transport.base import Transport

__all__ = ["ConnectionPool", "PoolConfig", "PoolMetrics", "PooledConnection"]


@dataclass(frozen=True, slots=True)
class PoolConfig:
    min_size: int = 0
    max_size: int = 10
    idle_timeout: float = 60.0
    """Seconds an unused connection stays open."""
    max_lifetime: float = 3600.0
    """Seconds after which a connection is retired (when next idle)."""
    acquire_timeout: float | None = None
    """Seconds ``acquire`` waits for a free slot (None: forever)."""

    def __post_init__(self) -> None:
        if not 0 <= self.min_size <= self.max_size or self.max_size < 1:
            raise LocalProtocolError(
                f"pool sizes must satisfy 0 <= min_size <= max_size >= 1, got "
                f"min_size={self.min_size} max_size={self.max_size}"
            )


@dataclass(slots=True)
class PoolMetrics:
    created: int = 0
    closed: int = 0
    acquired: int = 0
    released: int = 0
    reused: int = 0
    """Acquisitions served by an idle connection (no connect)."""
    waits: int = 0
    timeouts: int = 0
    connect_errors: int = 0
    expired_idle: int = 0
    expired_lifetime: int = 0
    discarded: int = 0
    """Connections closed on release because they were broken."""
    in_use: int = 0
    idle: int = 0


class PooledConnection:
    __slots__ = ("created_at", "last_used", "transport", "uses")

    def __init__(self, transport: Transport, now: float) -> None:
        self.transport = transport
        self.created_at = now
        self.last_used = now
        self.uses = 0


class ConnectionPool:
    """A pool of transports made by ``factory`` (see the module docstring)."""

    def __init__(
        self, factory: Callable[[], Awaitable[Transport]], config: PoolConfig | None = None
    ) -> None:
        self.factory = factory
        self.config = config or PoolConfig()
        self.metrics = PoolMetrics()
        self._idle: list[PooledConnection] = []
        self._total = 0  # open + being opened
        self._waiters = trio.lowlevel.ParkingLot()
        self._closed = False

    def _sync_gauges(self) -> None:
        self.metrics.idle = len(self._idle)
        self.metrics.in_use = self._total - len(self._idle)

    async def _open(self) -> PooledConnection:
        self._total += 1
        try:
            transport = await self.factory()
        except BaseException:
            self._total -= 1
            self.metrics.connect_errors += 1
            self._waiters.unpark()
            raise
        self.metrics.created += 1
        return PooledConnection(transport, trio.current_time())

    async def _close(self, conn: PooledConnection) -> None:
        self._total -= 1
        self.metrics.closed += 1
        self._waiters.unpark()
        with trio.CancelScope(shield=True):
            try:
                await conn.transport.aclose()
            except SymphonyError:
                pass

    async def get(self) -> PooledConnection:
        """Take a connection (prefer :meth:`acquire`, which gives it back)."""
        if self._closed:
            raise PoolExhausted("the pool is closed")
        cfg = self.config
        deadline = (
            float("inf") if cfg.acquire_timeout is None
            else trio.current_time() + cfg.acquire_timeout
        )
        while True:
            now = trio.current_time()
            while self._idle:
                conn = self._idle.pop()
                if now - conn.created_at >= cfg.max_lifetime or not conn.transport.connected:
                    self.metrics.expired_lifetime += 1
                    await self._close(conn)
                    continue
                self.metrics.reused += 1
                return self._lend(conn)
            if self._total < cfg.max_size:
                return self._lend(await self._open())
            self.metrics.waits += 1
            with trio.move_on_at(deadline):
                await self._waiters.park()
                continue
            self.metrics.timeouts += 1
            raise PoolExhausted(
                f"all {cfg.max_size} pooled connections stayed busy for "
                f"{cfg.acquire_timeout} s"
            )

    def _lend(self, conn: PooledConnection) -> PooledConnection:
        conn.uses += 1
        self.metrics.acquired += 1
        self._sync_gauges()
        return conn

    async def release(self, conn: PooledConnection, *, broken: bool = False) -> None:
        """Give a connection back (closing it if ``broken``, disconnected or too old)."""
        self.metrics.released += 1
        now = trio.current_time()
        conn.last_used = now
        if broken or self._closed or not conn.transport.connected:
            self.metrics.discarded += 1
            await self._close(conn)
        elif now - conn.created_at >= self.config.max_lifetime:
            self.metrics.expired_lifetime += 1
            await self._close(conn)
        else:
            self._idle.append(conn)
            self._waiters.unpark()
        self._sync_gauges()

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Transport]:
        """``async with pool.acquire() as transport:`` — an exception inside the block
        closes that connection instead of returning it."""
        conn = await self.get()
        try:
            yield conn.transport
        except BaseException:
            await self.release(conn, broken=True)
            raise
        await self.release(conn)

    async def reap(self) -> None:
        """Close idle connections past ``idle_timeout``/``max_lifetime``; refill to
        ``min_size``."""
        cfg = self.config
        now = trio.current_time()
        keep = []
        for conn in self._idle:
            if now - conn.created_at >= cfg.max_lifetime:
                self.metrics.expired_lifetime += 1
                await self._close(conn)
            elif now - conn.last_used >= cfg.idle_timeout and self._total > cfg.min_size:
                self.metrics.expired_idle += 1
                await self._close(conn)
            else:
                keep.append(conn)
        self._idle = keep
        while self._total < cfg.min_size and not self._closed:
            try:
                conn = await self._open()
            except Exception:
                break
            self._idle.append(conn)
            self._waiters.unpark()
        self._sync_gauges()

    async def run(
        self, *, task_status: trio.TaskStatus[ConnectionPool] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """The maintenance task: reap and refill periodically, until cancelled; closes every
        idle connection when it stops."""
        period = max(0.01, min(1.0, self.config.idle_timeout / 4, self.config.max_lifetime / 4))
        try:
            await self.reap()
            task_status.started(self)
            while True:
                await trio.sleep(period)
                await self.reap()
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Close idle connections; connections in use are closed when released."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            await self._close(conn)
        self._waiters.unpark_all()
        self._sync_gauges()
