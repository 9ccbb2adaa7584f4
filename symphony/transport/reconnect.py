"""A transport that reconnects: exponential backoff with jitter, max attempts (M1.4.7).

:class:`ReconnectingTransport` wraps ``connect()`` (any coroutine returning a transport).
When the inner transport breaks (``ConnectionClosed``), the next ``send``/``receive``
reconnects: attempt ``n`` (1-based) that fails is followed by a sleep of
``min(max_delay, initial_delay * multiplier**(n-1))`` scaled by a random factor in
``[1 - jitter, 1 + jitter]`` (so many clients do not retry in lockstep), until
``max_attempts`` failed attempts in a row, which raises ``ConnectionClosed``.

Delivery: a frame handed to a connection that then broke may be lost (at-most-once, like the
transport it wraps); ``send`` retries on the new connection only a frame whose ``send``
raised.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import trio

from symphony.commons.errors import ConnectionClosed, LocalProtocolError, SymphonyError
from symphony.transport.base import Transport

__all__ = ["ReconnectStrategy", "ReconnectingTransport"]


@dataclass(frozen=True, slots=True)
class ReconnectStrategy:
    initial_delay: float = 0.05
    max_delay: float = 5.0
    multiplier: float = 2.0
    jitter: float = 0.2
    """Relative spread of each delay (0: none)."""
    max_attempts: int | None = 10
    """Failed attempts in a row before giving up (None: never)."""

    def __post_init__(self) -> None:
        if self.initial_delay < 0 or self.max_delay < 0 or self.multiplier < 1:
            raise LocalProtocolError(f"bad reconnect strategy {self!r}")
        if not 0 <= self.jitter <= 1:
            raise LocalProtocolError(f"jitter must be in [0, 1], got {self.jitter}")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise LocalProtocolError(f"max_attempts must be >= 1, got {self.max_attempts}")

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Sleep after failed attempt ``attempt`` (1-based)."""
        base = min(self.max_delay, self.initial_delay * self.multiplier ** (attempt - 1))
        if self.jitter:
            base *= 1 + rng.uniform(-self.jitter, self.jitter)
        return max(0.0, base)


class ReconnectingTransport(Transport):
    """See the module docstring.

    Args:
        connect: makes a new connected transport (raises on failure).
        strategy: backoff parameters.
        on_attempt: called with the attempt number before each connect attempt.
        rng: source of jitter (seed it for reproducible delays).
    """

    kind = "reconnecting"

    def __init__(
        self,
        connect: Callable[[], Awaitable[Transport]],
        strategy: ReconnectStrategy | None = None,
        *,
        on_attempt: Callable[[int], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__()
        self._connect = connect
        self.strategy = strategy or ReconnectStrategy()
        self.on_attempt = on_attempt
        self._rng = rng or random.Random()
        self._inner: Transport | None = None
        self._lock = trio.Lock()
        self.connects = 0
        """Successful connections (the first one included)."""
        self.attempts = 0
        """Connect attempts in total."""
        self.last_attempts = 0
        """Attempts the most recent (re)connection took."""
        self.delays: list[float] = []
        """Backoff sleeps taken, in order (metrics; bounded to the last 100)."""

    @property
    def inner(self) -> Transport | None:
        return self._inner

    @property
    def connected(self) -> bool:
        return not self._closed and self._inner is not None and self._inner.connected

    async def ensure_connected(self) -> Transport:
        """The current transport, connecting (with backoff) if there is none or it broke.

        Raises:
            ConnectionClosed: ``max_attempts`` attempts failed, or this transport is closed.
        """
        if self._closed:
            raise ConnectionClosed("reconnecting transport is closed")
        inner = self._inner
        if inner is not None and inner.connected:
            return inner
        async with self._lock:
            inner = self._inner
            if inner is not None and inner.connected:
                return inner
            if inner is not None:
                self._inner = None
                with trio.CancelScope(shield=True):
                    await inner.aclose()
            attempt = 0
            while True:
                attempt += 1
                self.attempts += 1
                if self.on_attempt is not None:
                    self.on_attempt(attempt)
                try:
                    inner = await self._connect()
                except (SymphonyError, OSError) as exc:
                    limit = self.strategy.max_attempts
                    if limit is not None and attempt >= limit:
                        raise ConnectionClosed(
                            f"reconnecting transport gave up after {attempt} attempts: {exc}"
                        ) from exc
                    delay = self.strategy.delay(attempt, self._rng)
                    self.delays = [*self.delays[-99:], delay]
                    await trio.sleep(delay)
                    continue
                self._inner = inner
                self.connects += 1
                self.last_attempts = attempt
                return inner

    async def send(self, frame: bytes | bytearray | memoryview) -> None:
        self._check_send(len(frame))
        for _ in range(2):
            inner = await self.ensure_connected()
            try:
                await inner.send(frame)
            except ConnectionClosed:
                continue
            self.stats.frames_sent += 1
            self.stats.bytes_sent += len(frame)
            return
        raise ConnectionClosed("reconnecting transport: the new connection broke at once")

    async def send_many(self, frames: Iterable[bytes | bytearray | memoryview]) -> None:
        for frame in frames:
            await self.send(frame)

    async def receive(self) -> bytes:
        while True:
            inner = await self.ensure_connected()
            try:
                frame = await inner.receive()
            except ConnectionClosed:
                if self._closed:
                    raise
                continue
            self.stats.frames_received += 1
            self.stats.bytes_received += len(frame)
            return frame

    async def send_eof(self) -> None:
        self._eof_sent = True
        if self._inner is not None:
            await self._inner.send_eof()
        else:
            await trio.lowlevel.checkpoint()

    async def aclose(self) -> None:
        self._closed = True
        inner, self._inner = self._inner, None
        if inner is not None:
            await inner.aclose()
        else:
            await trio.lowlevel.checkpoint()
