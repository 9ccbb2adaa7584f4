"""The one transport interface: frames in, frames out, on trio.

A :class:`Transport` moves *frames* (``bytes``, possibly empty) between two endpoints, in
order, with back-pressure. Every transport — in-memory, unix socket, pipes/stdio, shared
memory — implements the same small surface, and every one passes the same contract suite
(:func:`symphony.transport.testing.check_transport`):

``await send(frame)`` / ``await send_many(frames)``
    Queue frames for the peer. Returns once the frames are accepted by the transport's
    bounded buffer (kernel socket buffer, ring, channel); waits (back-pressure) while it is
    full. Never reorders. A send that is cancelled either queued the whole frame or nothing.
``await receive()`` / ``await receive_many()``
    The next frame / every frame available now (at least one). Raises
    :class:`~symphony.commons.errors.ConnectionClosed` once the peer finished sending (half
    close, close, or death) and everything it sent was received.
``await send_eof()``
    Half-close: the peer's receive ends with ``ConnectionClosed`` after the last frame; we can
    still receive.
``await aclose()``
    Close both directions and release the resources; idempotent.
``connected`` / ``statistics()``
    Whether the transport can still send, and the counters (:class:`TransportStatistics`).

Performance rule (TARGETS.md: a trio scheduler pass costs ~4.7 µs): the fast paths of
``send`` and ``receive`` do not yield to the scheduler when they can complete immediately
(they still raise ``Cancelled`` if the task is cancelled); they park only when they must
wait. To stay fair, a loop that never waits yields once every :data:`YIELD_EVERY` calls.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

import trio

from symphony.commons.errors import ConnectionClosed, LocalProtocolError

__all__ = [
    "DEFAULT_MAX_FRAME",
    "YIELD_EVERY",
    "Transport",
    "TransportStatistics",
]

DEFAULT_MAX_FRAME: Final = 16 * 1024 * 1024
"""Largest frame a transport accepts by default (16 MiB)."""

YIELD_EVERY: Final = 64
"""A send/receive loop that never has to wait yields to the scheduler once per this many calls."""


@dataclass(slots=True)
class TransportStatistics:
    """Counters of one transport endpoint (this side only)."""

    frames_sent: int = 0
    """Frames accepted by :meth:`Transport.send` / :meth:`Transport.send_many`."""
    bytes_sent: int = 0
    """Payload bytes of those frames (framing overhead excluded)."""
    frames_received: int = 0
    """Frames returned by :meth:`Transport.receive` / :meth:`Transport.receive_many`."""
    bytes_received: int = 0
    """Payload bytes of those frames."""
    send_waits: int = 0
    """Times a send had to wait for room (back-pressure)."""
    receive_waits: int = 0
    """Times a receive had to wait for data."""
    extra: dict[str, int] = field(default_factory=dict)
    """Transport-specific counters (e.g. ring ``wakeups``)."""


class Transport(abc.ABC):
    """A bidirectional, ordered, back-pressured channel of frames (see the module docstring).

    One task may send while another receives; concurrent receives raise
    ``trio.BusyResourceError``. Concurrent sends are allowed and keep each frame whole.
    """

    kind: str = "abstract"
    """Short transport name (``"memory"``, ``"unix"``, ``"pipe"``, ``"shm"``, ...)."""

    def __init__(self, *, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        if not 0 < max_frame <= 0xFFFFFFFF:
            raise LocalProtocolError(f"max_frame={max_frame} must be in 1..2**32-1")
        self.max_frame = max_frame
        """Largest frame accepted (sent or received), in bytes."""
        self.stats = TransportStatistics()
        self._closed = False
        self._eof_sent = False
        self._peer_gone = False
        self._receiving = False
        self._ops = 0

    # ---- the interface -------------------------------------------------------------
    @abc.abstractmethod
    async def send(self, frame: bytes | bytearray | memoryview) -> None:
        """Queue one frame for the peer (see the module docstring).

        Raises:
            ConnectionClosed: the peer is gone, or we closed / half-closed this side.
            LocalProtocolError: the frame is larger than ``max_frame``.
        """

    def send_nowait(self, frame: bytes | bytearray | memoryview) -> bool:
        """Send ``frame`` now if that needs no waiting; False (nothing sent) otherwise.

        The zero-scheduler-pass path for latency-sensitive frames. Never reorders: it
        refuses while earlier frames are still queued. Raises like :meth:`send`.
        """
        self._check_send(len(frame))
        return False

    async def send_many(self, frames: Iterable[bytes | bytearray | memoryview]) -> None:
        """Queue several frames in order (transports coalesce them into fewer writes)."""
        for frame in frames:
            await self.send(frame)

    @abc.abstractmethod
    async def receive(self) -> bytes:
        """The next frame.

        Raises:
            ConnectionClosed: the peer finished sending (or died) and every frame was read.
            RemoteProtocolError: the byte stream is corrupt (bad length prefix, oversize).
        """

    async def receive_many(self) -> list[bytes]:
        """Every frame available now, at least one (waits for the first)."""
        return [await self.receive()]

    @abc.abstractmethod
    async def send_eof(self) -> None:
        """Half-close: no more frames from us; the peer's receive ends after the last one."""

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Close both directions and free resources; idempotent, never raises on a dead peer."""

    @property
    def connected(self) -> bool:
        """True while this side can send (not closed, not half-closed, peer not known gone)."""
        return not (self._closed or self._eof_sent or self._peer_gone)

    def statistics(self) -> TransportStatistics:
        """The counters of this side (a live object; copy it to keep a snapshot)."""
        return self.stats

    # ---- conveniences --------------------------------------------------------------
    async def __aenter__(self) -> Transport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __aiter__(self) -> Transport:
        """``async for frame in transport``: frames until the peer closes (event streaming)."""
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.receive()
        except ConnectionClosed:
            raise StopAsyncIteration from None

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("connected" if self.connected else "half-open")
        return f"<{type(self).__name__} {state}>"

    # ---- helpers for implementations ------------------------------------------------
    def _check_send(self, n: int) -> None:
        if self._closed:
            raise ConnectionClosed(f"{self.kind} transport is closed")
        if self._eof_sent:
            raise ConnectionClosed(f"{self.kind} transport: send after send_eof()")
        if self._peer_gone:
            raise ConnectionClosed(f"{self.kind} transport: the peer is gone")
        if n > self.max_frame:
            raise LocalProtocolError(f"frame of {n} bytes exceeds max_frame={self.max_frame}")

    def _enter_receive(self) -> None:
        if self._receiving:
            raise trio.BusyResourceError(
                f"another task is already receiving on this {self.kind} transport"
            )
        if self._closed:
            raise ConnectionClosed(f"{self.kind} transport is closed")

    async def _fair(self) -> None:
        """Raise Cancelled if cancelled; yield to the scheduler every YIELD_EVERY calls."""
        self._ops += 1
        if self._ops >= YIELD_EVERY:
            self._ops = 0
            await trio.lowlevel.checkpoint()
        else:
            await trio.lowlevel.checkpoint_if_cancelled()
