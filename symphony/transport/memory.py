"""In-memory transport pair on trio memory channels (tests, and the in-process bus link)."""

from __future__ import annotations

from collections.abc import Iterable

import trio

from symphony.commons.errors import ConnectionClosed
from symphony.transport.base import DEFAULT_MAX_FRAME, Transport

__all__ = ["MemoryTransport", "memory_pair"]


class MemoryTransport(Transport):
    """One end of :func:`memory_pair`. Frames are passed as ``bytes`` objects (no copy of
    ``bytes`` input); back-pressure is the channel's ``max_buffer_size``."""

    kind = "memory"

    def __init__(
        self,
        send_channel: trio.MemorySendChannel[bytes],
        receive_channel: trio.MemoryReceiveChannel[bytes],
        *,
        max_frame: int = DEFAULT_MAX_FRAME,
    ) -> None:
        super().__init__(max_frame=max_frame)
        self._tx = send_channel
        self._rx = receive_channel

    async def send(self, frame: bytes | bytearray | memoryview) -> None:
        await self._fair()
        n = len(frame)
        self._check_send(n)
        data = frame if type(frame) is bytes else bytes(frame)
        try:
            try:
                self._tx.send_nowait(data)
            except trio.WouldBlock:
                self.stats.send_waits += 1
                await self._tx.send(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self._peer_gone = True
            raise ConnectionClosed("memory transport: the peer is gone") from None
        self.stats.frames_sent += 1
        self.stats.bytes_sent += n

    def send_nowait(self, frame: bytes | bytearray | memoryview) -> bool:
        n = len(frame)
        self._check_send(n)
        try:
            self._tx.send_nowait(frame if type(frame) is bytes else bytes(frame))
        except trio.WouldBlock:
            return False
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self._peer_gone = True
            raise ConnectionClosed("memory transport: the peer is gone") from None
        self.stats.frames_sent += 1
        self.stats.bytes_sent += n
        return True

    async def send_many(self, frames: Iterable[bytes | bytearray | memoryview]) -> None:
        for frame in frames:
            await self.send(frame)

    async def receive(self) -> bytes:
        await self._fair()
        self._enter_receive()
        self._receiving = True
        try:
            try:
                frame = self._rx.receive_nowait()
            except trio.WouldBlock:
                self.stats.receive_waits += 1
                frame = await self._rx.receive()
        except (trio.EndOfChannel, trio.BrokenResourceError):
            raise ConnectionClosed("memory transport: the peer closed its side") from None
        except trio.ClosedResourceError:
            raise ConnectionClosed("memory transport is closed") from None
        finally:
            self._receiving = False
        self.stats.frames_received += 1
        self.stats.bytes_received += len(frame)
        return frame

    async def receive_many(self) -> list[bytes]:
        out = [await self.receive()]
        rx = self._rx
        while True:
            try:
                frame = rx.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                break
            out.append(frame)
            self.stats.frames_received += 1
            self.stats.bytes_received += len(frame)
        return out

    async def send_eof(self) -> None:
        await trio.lowlevel.checkpoint()
        if not self._eof_sent and not self._closed:
            self._eof_sent = True
            await self._tx.aclose()

    async def aclose(self) -> None:
        self._closed = True
        await self._tx.aclose()
        await self._rx.aclose()


def memory_pair(
    max_buffer_size: int = 256, *, max_frame: int = DEFAULT_MAX_FRAME
) -> tuple[MemoryTransport, MemoryTransport]:
    """Two connected in-memory transports.

    Args:
        max_buffer_size: frames buffered per direction before ``send`` waits (chosen on
            purpose: bounded memory; 256 frames keeps a fast producer a few µs ahead).
        max_frame: largest frame accepted.
    """
    a_tx, b_rx = trio.open_memory_channel[bytes](max_buffer_size)
    b_tx, a_rx = trio.open_memory_channel[bytes](max_buffer_size)
    return (
        MemoryTransport(a_tx, a_rx, max_frame=max_frame),
        MemoryTransport(b_tx, b_rx, max_frame=max_frame),
    )
