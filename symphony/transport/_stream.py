"""Byte-stream transports (unix sockets, pipes) driven over the sans-I/O framing decoders.

:class:`StreamTransport` owns a non-blocking file descriptor pair (one socket, or a read pipe
and a write pipe) and a :mod:`symphony.protocol.framing` decoder. It talks to the kernel
directly (``recv``/``send``/``os.read``/``os.write`` on a non-blocking fd) and parks on
``trio.lowlevel.wait_readable``/``wait_writable`` only when the kernel says ``EAGAIN``, so a
send or receive that can complete at once costs no scheduler pass (trio's own
``SocketStream`` takes two per call).

Partial writes: unwritten bytes stay in an output queue (whole frames are always queued, so a
cancelled send never leaves half a frame behind: the rest goes out with the next send or at
close); concurrent senders append to the queue and the one that started flushing drains it.
Partial reads are the decoder's business (``NEED_DATA``).

Write coalescing (``coalesce``, on by default): a small frame sent while nothing is queued is
*corked* and written, with every other frame sent during the same trio scheduler batch, by one
system call when the batch ends (:meth:`BusyPoll.flush_later
<symphony.transport._busypoll.BusyPoll.flush_later>`, run just before the loop polls for
I/O), or at once when 64 KiB are corked. ``send_many`` (a batch already), large frames,
``send_eof`` and ``aclose`` write the cork first, so the order never changes.

Receivers on a busy connection are busy-polled before the process sleeps (``spin``; see
:mod:`symphony.transport._busypoll`).
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Final, Literal

import trio

from symphony.commons.errors import ConnectionClosed, LocalProtocolError
from symphony.protocol.framing import EOF, NEED_DATA, FrameDecoder, LineDecoder
from symphony.transport._busypoll import SPIN_SECONDS, SPIN_WINDOW, busy_poll, fd_probe
from symphony.transport.base import DEFAULT_MAX_FRAME, Transport

__all__ = ["Framing", "PipeIO", "RawIO", "SocketIO", "StreamTransport"]

Framing = Literal["length", "line"]
"""``"length"``: u32-LE length prefix (binary-safe). ``"line"``: newline-delimited (NDJSON)."""

READ_SIZE: Final = 256 * 1024
HIGH_WATER: Final = 1024 * 1024
CORK_LIMIT: Final = 64 * 1024
"""Corked bytes that are written at once instead of at the end of the scheduler batch."""
"""Bytes queued in user space beyond which a concurrent sender waits (back-pressure)."""

_pack_len = struct.Struct("<I").pack
_GONE_ERRNOS: Final = frozenset(
    {errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.ESHUTDOWN, errno.EBADF}
)


def _nothing() -> None:
    return None


class RawIO:
    """A non-blocking read fd and write fd; ``read`` returns ``b""`` at end of stream."""

    rfd: int
    wfd: int

    def read(self) -> bytes:
        raise NotImplementedError

    def write(self, data: bytes | memoryview) -> int:
        raise NotImplementedError

    def shutdown_write(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class SocketIO(RawIO):
    """A connected stream socket (made non-blocking)."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.rfd = self.wfd = sock.fileno()
        self._recv = sock.recv
        self._send = sock.send

    def read(self) -> bytes:
        return self._recv(READ_SIZE)

    def write(self, data: bytes | memoryview) -> int:
        return self._send(data)

    def shutdown_write(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        if self.sock.fileno() >= 0:
            trio.lowlevel.notify_closing(self.sock)
        self.sock.close()


class PipeIO(RawIO):
    """A read pipe fd and a write pipe fd (either may be -1); both made non-blocking."""

    def __init__(self, rfd: int, wfd: int) -> None:
        for fd in (rfd, wfd):
            if fd >= 0:
                os.set_blocking(fd, False)
        self.rfd = rfd
        self.wfd = wfd

    def read(self) -> bytes:
        if self.rfd < 0:
            return b""
        return os.read(self.rfd, READ_SIZE)

    def write(self, data: bytes | memoryview) -> int:
        if self.wfd < 0:
            raise BrokenPipeError(errno.EPIPE, "write end closed")
        return os.write(self.wfd, data)

    def shutdown_write(self) -> None:
        if self.wfd >= 0:
            fd, self.wfd = self.wfd, -1
            trio.lowlevel.notify_closing(fd)
            os.close(fd)

    def close(self) -> None:
        self.shutdown_write()
        if self.rfd >= 0:
            fd, self.rfd = self.rfd, -1
            trio.lowlevel.notify_closing(fd)
            os.close(fd)


class StreamTransport(Transport):
    """Frames over a byte stream (see the module docstring).

    Args:
        io: the non-blocking descriptors (:class:`SocketIO` or :class:`PipeIO`).
        framing: ``"length"`` (binary frames) or ``"line"`` (newline-delimited; frames may
            not contain ``\\n`` and empty frames are skipped by the reader, NDJSON rules).
        max_frame: largest frame accepted in either direction.
        kind: the transport name shown in errors and statistics.
    """

    def __init__(
        self,
        io: RawIO,
        *,
        framing: Framing = "length",
        max_frame: int = DEFAULT_MAX_FRAME,
        kind: str = "stream",
    ) -> None:
        super().__init__(max_frame=max_frame)
        if framing not in ("length", "line"):
            raise LocalProtocolError(f"framing must be 'length' or 'line', got {framing!r}")
        self.kind = kind
        self.framing: Framing = framing
        self._io = io
        self._decoder: FrameDecoder | LineDecoder = (
            FrameDecoder(max_frame) if framing == "length" else LineDecoder(max_frame)
        )
        self._out: deque[bytes | memoryview] = deque()
        self._out_bytes = 0
        self._flushing = False
        self._drained = trio.lowlevel.ParkingLot()
        self._last_rx = 0.0
        self._probe: Callable[[], bool] | None = None
        self._corked: list[bytes] = []
        self._corked_bytes = 0
        self._cork_pending = False
        self.coalesce = True
        """Write the frames sent during one trio scheduler batch with one system call, when
        the batch ends (before the loop polls for I/O) instead of one call per frame. A
        task that sends and then computes for long without a checkpoint delays its frames
        as long (as it delays every other task); set False to write each frame at once."""
        self.spin = SPIN_SECONDS
        """Seconds a parked receiver on a busy connection is busy-polled before the process
        sleeps (0: never; see :mod:`symphony.transport._busypoll`)."""

    # ---- sending -------------------------------------------------------------------
    def _encode(self, frame: bytes | bytearray | memoryview) -> bytes:
        if self.framing == "length":
            return _pack_len(len(frame)) + frame
        if b"\n" in frame:
            raise LocalProtocolError(
                f"a line-framed transport cannot send a frame containing a newline: "
                f"{bytes(frame[:60])!r}"
            )
        return bytes(frame) + b"\n"

    async def send(self, frame: bytes | bytearray | memoryview) -> None:
        await self._fair()
        n = len(frame)
        self._check_send(n)
        if self.coalesce and not self._out and n < CORK_LIMIT:
            self._cork(self._encode(frame), 1, n)
            if self._out:  # the cork filled and the kernel did not take it all
                self.stats.send_waits += 1
                await self._flush(HIGH_WATER)
            return
        await self._send_bytes(self._encode(frame), 1, n)

    def send_nowait(self, frame: bytes | bytearray | memoryview) -> bool:
        n = len(frame)
        self._check_send(n)
        if self._out:
            return False
        data = self._encode(frame)
        if self.coalesce and n < CORK_LIMIT:
            self._cork(data, 1, n)
            return True
        try:
            k = self._io.write(data)
        except BlockingIOError:
            return False
        except OSError as exc:
            raise self._gone(exc) from exc
        self.stats.frames_sent += 1
        self.stats.bytes_sent += n
        if k < len(data):  # the rest goes out with the next send / flush
            self._out.append(memoryview(data)[k:])
            self._out_bytes += len(data) - k
        return True

    # ---- write coalescing (see ``coalesce``) ----------------------------------------
    def _cork(self, data: bytes, frames: int, payload: int) -> None:
        self.stats.frames_sent += frames
        self.stats.bytes_sent += payload
        if not self._cork_pending:
            # the first frame of a batch goes out at once (a lone request or reply waits for
            # nothing); the frames that follow it in the same batch are corked
            self._cork_pending = True
            busy_poll().flush_later(self._uncork)
            self._write(data)
            return
        self._corked.append(data)
        self._corked_bytes += len(data)
        if self._corked_bytes >= CORK_LIMIT:
            self._write(self._take_cork())

    def _take_cork(self) -> bytes:
        corked = self._corked
        data = corked[0] if len(corked) == 1 else b"".join(corked)
        corked.clear()
        self._corked_bytes = 0
        return data

    def _uncork(self) -> None:
        """The batch ended: write what was corked with one system call."""
        self._cork_pending = False
        if self._corked:
            self._write(self._take_cork())

    def _write(self, data: bytes) -> None:
        """Write ``data`` now; what the kernel does not take is queued and written by a
        flusher task (never lost, order kept)."""
        if self._closed or self._peer_gone:
            return
        if self._out:
            # an earlier frame is still partly unwritten: these bytes go behind it, never
            # into the middle of it
            k = 0
        else:
            try:
                k = self._io.write(data)
            except BlockingIOError:
                k = 0
            except OSError as exc:
                self._gone(exc)  # the next send or receive reports it
                return
        if k < len(data):
            self._out.append(memoryview(data)[k:] if k else data)
            self._out_bytes += len(data) - k
            if not self._flushing:
                trio.lowlevel.spawn_system_task(self._flush_in_background,
                                                name=f"{self!r} flush")
                # called at the end of a batch, the loop may already have chosen to sleep
                # until the next I/O event: wake it so the flusher runs now
                trio.lowlevel.current_trio_token().run_sync_soon(_nothing, idempotent=True)

    async def _flush_in_background(self) -> None:
        try:
            await self._flush(0)
        except Exception:  # _gone() recorded it; the next send or receive reports it
            pass

    async def send_many(self, frames: Iterable[bytes | bytearray | memoryview]) -> None:
        await self._fair()
        parts = []
        total = 0
        count = 0
        for frame in frames:
            n = len(frame)
            self._check_send(n)
            parts.append(self._encode(frame))
            total += n
            count += 1
        if count:
            await self._send_bytes(b"".join(parts), count, total)  # a batch already

    async def _send_bytes(self, data: bytes, frames: int, payload: int) -> None:
        stats = self.stats
        if self._corked:
            self._write(self._take_cork())  # keep the order
        if not self._out:
            try:
                k = self._io.write(data)
            except BlockingIOError:
                k = 0
            except OSError as exc:
                raise self._gone(exc) from exc
            stats.frames_sent += frames
            stats.bytes_sent += payload
            if k == len(data):
                return
            self._out.append(memoryview(data)[k:])
            self._out_bytes += len(data) - k
        else:
            self._out.append(data)
            self._out_bytes += len(data)
            stats.frames_sent += frames
            stats.bytes_sent += payload
        stats.send_waits += 1
        await self._flush(0 if not self._flushing else HIGH_WATER)

    async def _flush(self, limit: int) -> None:
        """Wait until at most ``limit`` bytes are queued (becoming the flusher if none)."""
        while self._out_bytes > limit:
            if self._flushing:
                await self._drained.park()
                continue
            self._flushing = True
            try:
                while self._out:
                    await trio.lowlevel.wait_writable(self._io.wfd)
                    self._write_queued()
            except (trio.ClosedResourceError, OSError) as exc:
                raise self._gone(exc) from exc
            finally:
                self._flushing = False
                self._drained.unpark_all()

    def _write_queued(self) -> None:
        out = self._out
        while out:
            chunk = out[0]
            if len(out) > 1 and len(chunk) < 65536:
                # coalesce small queued pieces into one write
                parts = []
                size = 0
                while out and size < 262144:
                    piece = out.popleft()
                    parts.append(piece)
                    size += len(piece)
                chunk = b"".join(parts)
                out.appendleft(chunk)
            try:
                k = self._io.write(chunk)
            except BlockingIOError:
                return
            self._out_bytes -= k
            if k == len(chunk):
                out.popleft()
            else:
                out[0] = memoryview(chunk)[k:]
                return

    def _gone(self, exc: BaseException) -> ConnectionClosed:
        self._peer_gone = True
        self._out.clear()
        self._out_bytes = 0
        what = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        return ConnectionClosed(f"{self.kind} transport: the peer is gone ({what})")

    # ---- receiving -----------------------------------------------------------------
    async def receive(self) -> bytes:
        await self._fair()
        self._enter_receive()
        self._receiving = True
        try:
            dec = self._decoder
            while True:
                frame = dec.next_frame()
                if frame is NEED_DATA:
                    await self._fill()
                    continue
                if frame is EOF:
                    raise ConnectionClosed(f"{self.kind} transport: the peer closed its side")
                assert isinstance(frame, bytes)
                self.stats.frames_received += 1
                self.stats.bytes_received += len(frame)
                return frame
        finally:
            self._receiving = False

    async def receive_many(self) -> list[bytes]:
        first = await self.receive()
        out = [first]
        dec = self._decoder
        if isinstance(dec, FrameDecoder):
            try:
                more = dec.frames()
            except Exception:
                more = []  # the error is raised again by the next receive()
            out.extend(more)
        else:
            while True:
                frame = dec.next_frame()
                if frame is NEED_DATA or frame is EOF:
                    break
                assert isinstance(frame, bytes)
                out.append(frame)
        self.stats.frames_received += len(out) - 1
        self.stats.bytes_received += sum(map(len, out)) - len(first)
        return out

    async def _fill(self) -> None:
        while True:
            try:
                data = self._io.read()
            except BlockingIOError:
                self.stats.receive_waits += 1
                poll = None
                if self.spin:
                    hot_until = self._last_rx + SPIN_WINDOW
                    if hot_until > time.perf_counter():
                        if self._probe is None:
                            self._probe = fd_probe(self._io.rfd)
                        poll = busy_poll()
                        poll.park(id(self), self._probe, hot_until, self.spin)
                try:
                    await trio.lowlevel.wait_readable(self._io.rfd)
                except trio.ClosedResourceError:
                    raise ConnectionClosed(f"{self.kind} transport was closed") from None
                finally:
                    if poll is not None:
                        poll.unpark(id(self))
                continue
            except OSError as exc:
                if exc.errno in _GONE_ERRNOS:
                    self._peer_gone = True
                    self._decoder.receive_data(b"")
                    return
                raise self._gone(exc) from exc
            self._last_rx = time.perf_counter()
            self._decoder.receive_data(data)
            return

    # ---- closing -------------------------------------------------------------------
    async def send_eof(self) -> None:
        await trio.lowlevel.checkpoint()
        if self._closed or self._eof_sent:
            return
        self._uncork()
        if self._out and not self._peer_gone:
            try:
                await self._flush(0)
            except ConnectionClosed:
                pass
        self._eof_sent = True
        self._io.shutdown_write()

    async def aclose(self) -> None:
        if self._closed:
            await trio.lowlevel.checkpoint()
            return
        self._uncork()
        if self._out and not self._peer_gone:
            # best effort: queued frames go out unless the peer stopped reading
            with trio.move_on_after(1.0) as scope:
                scope.shield = True
                try:
                    await self._flush(0)
                except ConnectionClosed:
                    pass
        self._closed = True
        self._io.close()
        await trio.lowlevel.checkpoint()
