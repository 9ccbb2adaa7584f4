"""Shared-memory transport: one ring per direction, large frames in the ring's arena.

Built on the ring kernel (:mod:`symphony.reference.ring`, compiled twin
``symphony._core.ring``): frames up to the ring's ``inline_limit`` are copied into the ring,
larger ones into its shared arena (the allocator kernel) with only a descriptor in the ring.
A receiver that finds its ring empty parks on the ring's eventfd *doorbell*
(``Ring.wait_readable_async``), so an idle connection costs no CPU; a sender rings the bell
only when the receiver is asleep.

Handshake (over a unix socket, which then stays open as the *control channel*):

1. the server creates the two rings (``<base>.c2s`` and ``<base>.s2c``, each with an arena)
   and sends ``{"c2s": name, "s2c": name, "max_frame": n}`` as one JSON line;
2. the client attaches both and answers ``{"ok": true}``;
3. the server unlinks both segments: from now on they live exactly as long as the two
   mappings, so nothing is left in ``/dev/shm`` even if a process is killed.

Control channel: a half-close is the single byte ``E``; the peer closing or dying closes the
socket. A *control watcher* (one trio system task per connection, parked on the control
socket) notices either at once and wakes any task parked in a ring (``Ring.wake``), so no
ring wait needs a timeout or a cancel scope of its own (each costs several microseconds per
message under trio). A sender whose ring is full parks on the ring's *writable* doorbell,
which the consumer rings as it frees room; sending to a dead peer raises
:class:`~symphony.commons.errors.ConnectionClosed`.

Busy connections: a receiver that got a frame within :data:`SPIN_WINDOW` is busy-polled for
up to :attr:`ShmTransport.spin` seconds when its process is about to sleep
(:mod:`symphony.transport._busypoll`), which saves the sleep and wake-up (tens of µs on
these VMs) when the next frame is that close.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from types import ModuleType
from typing import Any, Final

import trio

from symphony.commons.errors import (
    ConnectionClosed,
    LocalProtocolError,
    RemoteProtocolError,
    RingClosed,
    SymphonyTimeout,
    TransportError,
)
from symphony.transport._busypoll import SPIN_SECONDS, SPIN_WINDOW, busy_poll
from symphony.transport.base import YIELD_EVERY, Transport, TransportStatistics
from symphony.transport.unix import UnixListener

__all__ = [
    "POLL_INTERVAL",
    "SPIN_SECONDS",
    "SPIN_WINDOW",
    "ShmConfig",
    "ShmServer",
    "ShmTransport",
    "connect_shm",
    "ring_module",
    "shm_pair",
]

POLL_INTERVAL: Final = 0.02
"""Kept for callers that poll; the transport itself no longer polls (see the control watcher)."""

_counter = itertools.count()


def ring_module() -> ModuleType:
    """The ring kernel selected by :mod:`symphony.kernels` (``kernels.ring`` once listed there;
    until then the same choice made here: Cython unless ``SYMPHONY_PURE_PYTHON``)."""
    from symphony import kernels

    mod: ModuleType | None = getattr(kernels, "ring", None)
    if mod is not None:
        return mod
    if kernels.PURE_PYTHON:
        from symphony.reference import ring as ref

        return ref
    from symphony._core import ring as core

    return core


class ShmConfig:
    """Geometry of the rings of one shared-memory connection.

    Args:
        capacity: bytes of each ring's data area (power of two). Frames up to
            ``capacity // 8`` travel inline.
        arena_size: bytes of each ring's arena for larger frames.
        arena_size_classes: the arena's block sizes; the largest is the largest frame.
    """

    __slots__ = ("arena_size", "arena_size_classes", "capacity")

    def __init__(
        self,
        capacity: int = 1 << 20,
        arena_size: int = 128 << 20,
        arena_size_classes: tuple[int, ...] = (1 << 18, 1 << 20, 1 << 22, 1 << 24),
    ) -> None:
        self.capacity = capacity
        self.arena_size = arena_size
        self.arena_size_classes = arena_size_classes

    @property
    def max_frame(self) -> int:
        """Largest frame: the largest arena block."""
        return max(self.arena_size_classes)


def _base_name() -> str:
    return f"sy-shm-{os.getpid()}-{next(_counter)}-{secrets.token_hex(4)}"


def _create_rings(base: str, cfg: ShmConfig) -> tuple[Any, Any]:
    ring = ring_module()
    names = (f"{base}.c2s", f"{base}.s2c")
    made = []
    try:
        for name in names:
            made.append(
                ring.Ring.create(
                    name,
                    cfg.capacity,
                    arena_size=cfg.arena_size,
                    arena_size_classes=list(cfg.arena_size_classes),
                )
            )
    except BaseException:
        for r in made:
            r.close()
            r.unlink()
        raise
    return made[0], made[1]


class ShmTransport(Transport):
    """One end of a shared-memory connection (see the module docstring)."""

    kind = "shm"

    def __init__(self, tx: Any, rx: Any, control: socket.socket, *, max_frame: int) -> None:
        super().__init__(max_frame=max_frame)
        self._tx = tx
        self._rx = rx
        self._ctl = control
        control.setblocking(False)
        self._peer_eof = False
        self._ctl_error: BaseException | None = None
        self._watching = False
        self._last_rx = 0.0
        self._send_waiting = 0
        self.spin = SPIN_SECONDS
        """Seconds a parked receiver on a busy connection is busy-polled before the process
        sleeps (0: never; see :data:`SPIN_SECONDS` and :mod:`symphony.transport._busypoll`)."""

    # ---- control channel -------------------------------------------------------------
    def _poll_control(self) -> None:
        """Read pending control bytes without blocking (EOF byte, or the socket closing)."""
        if self._peer_gone:
            return
        try:
            data = self._ctl.recv(64)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._peer_eof = True
            self._peer_gone = True
        elif data.strip(b"E"):
            raise RemoteProtocolError(f"shm control channel: unexpected bytes {data!r}")
        else:
            self._peer_eof = True

    def _watch(self) -> None:
        """Start the control watcher (once): a system task parked on the control socket."""
        if not self._watching and not self._closed:
            self._watching = True
            trio.lowlevel.spawn_system_task(self._watch_control, name=f"{self!r} control")

    async def _watch_control(self) -> None:
        """Wake parked senders and receivers when the peer half-closes, closes or dies (the
        control socket becomes readable), so no wait needs a timeout or cancel scope."""
        try:
            while not self._peer_gone and not self._closed:
                await trio.lowlevel.wait_readable(self._ctl)
                try:
                    self._poll_control()
                except RemoteProtocolError as exc:
                    self._ctl_error = exc
                    self._peer_eof = self._peer_gone = True
                for r in (self._rx, self._tx):
                    with contextlib.suppress(Exception):
                        r.wake()
        except (trio.ClosedResourceError, OSError, ValueError):
            pass  # aclose: the socket is gone

    # ---- sending ---------------------------------------------------------------------
    async def send(self, frame: bytes | bytearray | memoryview) -> None:
        self._ops += 1
        if self._ops >= YIELD_EVERY:  # _fair(), inlined: the 64 B hot path
            self._ops = 0
            await trio.lowlevel.checkpoint()
        else:
            await trio.lowlevel.checkpoint_if_cancelled()
        n = len(frame)
        if self._closed or self._eof_sent or self._peer_gone or n > self.max_frame:
            self._check_send(n)
        if not self._tx.push(frame):
            await self._wait_room(frame)
        stats = self.stats
        stats.frames_sent += 1
        stats.bytes_sent += n

    def send_nowait(self, frame: bytes | bytearray | memoryview) -> bool:
        self._check_send(len(frame))
        if self._send_waiting:
            return False  # a sender is waiting for room: keep the order
        if not self._tx.push(frame):
            return False
        self.stats.frames_sent += 1
        self.stats.bytes_sent += len(frame)
        return True

    async def send_many(self, frames: Iterable[bytes | bytearray | memoryview]) -> None:
        await self._fair()
        batch = frames if isinstance(frames, list) else list(frames)
        if not batch:
            return
        sizes = list(map(len, batch))
        self._check_send(max(sizes))
        done = self._tx.push_many(batch)
        stats = self.stats
        if done == len(batch):  # the common case: one pass, no per-frame Python
            stats.frames_sent += done
            stats.bytes_sent += sum(sizes)
            return
        while True:
            stats.frames_sent += done
            stats.bytes_sent += sum(sizes[:done])
            if done == len(batch):
                return
            batch, sizes = batch[done:], sizes[done:]
            await self._wait_room(batch[0])
            stats.frames_sent += 1
            stats.bytes_sent += sizes[0]
            batch, sizes = batch[1:], sizes[1:]
            done = self._tx.push_many(batch) if batch else 0

    async def _wait_room(self, frame: bytes | bytearray | memoryview) -> None:
        """Back-pressure: the ring (or its arena) is full; wait for the consumer.

        Parks on the ring's writable doorbell (rung by the consumer); the control watcher
        wakes it if the peer goes away. Only a full *arena* (the ring has room for the
        record but no block is free) is waited for by short sleeps: the arena has no bell.
        """
        self.stats.send_waits += 1
        self._send_waiting += 1
        self._watch()
        delay = 2e-5
        try:
            while True:
                if self._peer_gone:
                    raise ConnectionClosed("shm transport: the peer is gone")
                if self._closed:
                    raise ConnectionClosed("shm transport is closed")
                try:
                    if self._tx.push(frame):
                        return
                    if not await self._tx.wait_writable_async(len(frame)):
                        continue  # woken by the watcher: re-check the peer
                    if self._tx.push(frame):
                        return
                except RingClosed:
                    raise ConnectionClosed("shm transport is closed") from None
                await trio.sleep(delay)  # room for the record, none in the arena
                delay = min(delay * 2, 0.002)
        finally:
            self._send_waiting -= 1

    # ---- receiving -------------------------------------------------------------------
    async def receive(self) -> bytes:
        await self._fair()
        self._enter_receive()
        self._receiving = True
        rx = self._rx
        try:
            while True:
                data = rx.pop()
                if data is not None:
                    break
                if self._peer_eof:
                    # everything the peer pushed before its EOF/exit is visible now
                    data = rx.pop()
                    if data is not None:
                        break
                    if self._ctl_error is not None:
                        raise self._ctl_error
                    raise ConnectionClosed("shm transport: the peer closed its side")
                self._watch()
                self.stats.receive_waits += 1
                poll = None
                if self.spin:
                    hot_until = self._last_rx + SPIN_WINDOW
                    if hot_until > time.perf_counter():
                        poll = busy_poll()
                        poll.park(id(self), rx.readable, hot_until, self.spin)
                try:
                    await rx.wait_readable_async()
                finally:
                    if poll is not None:
                        poll.unpark(id(self))
        except RingClosed:
            raise ConnectionClosed("shm transport is closed") from None
        finally:
            self._receiving = False
        self._last_rx = time.perf_counter()
        self.stats.frames_received += 1
        self.stats.bytes_received += len(data)
        return data  # type: ignore[no-any-return]

    async def receive_many(self) -> list[bytes]:
        first = await self.receive()
        more: list[bytes] = self._rx.pop_many(1024)
        if more:
            self.stats.frames_received += len(more)
            self.stats.bytes_received += sum(map(len, more))
            more.insert(0, first)
            return more
        return [first]

    # ---- closing ---------------------------------------------------------------------
    async def send_eof(self) -> None:
        await trio.lowlevel.checkpoint()
        if self._eof_sent or self._closed:
            return
        self._eof_sent = True
        with contextlib.suppress(OSError):
            self._ctl.send(b"E")

    async def aclose(self) -> None:
        if self._closed:
            await trio.lowlevel.checkpoint()
            return
        self._closed = True
        if self._ctl.fileno() >= 0:
            trio.lowlevel.notify_closing(self._ctl)
        self._ctl.close()
        # a task parked in a ring wakes with RingClosed; the ring unmaps when it leaves
        self._keep_stats()
        for r in (self._tx, self._rx):
            r.close()
        await trio.lowlevel.checkpoint()

    def _keep_stats(self) -> None:
        self.stats.extra = {f"tx_{k}": v for k, v in self._tx.stats().items()} | {
            f"rx_{k}": v for k, v in self._rx.stats().items()
        }

    def statistics(self) -> TransportStatistics:
        """The counters, with the rings' own in ``extra`` (``tx_*``, ``rx_*``)."""
        if not self._closed:
            self._keep_stats()
        return self.stats


# ---- handshake ---------------------------------------------------------------------
async def _recv_line(sock: socket.socket, limit: int = 4096) -> bytes:
    """One ``\\n``-terminated line from a non-blocking socket, consuming nothing after it."""
    while True:
        try:
            peek = sock.recv(limit, socket.MSG_PEEK)
        except BlockingIOError:
            await trio.lowlevel.wait_readable(sock)
            continue
        if not peek:
            raise ConnectionClosed("shm handshake: the peer closed the socket")
        nl = peek.find(b"\n")
        if nl >= 0:
            return sock.recv(nl + 1)[:-1]
        if len(peek) >= limit:
            raise RemoteProtocolError("shm handshake: line too long")
        await trio.lowlevel.wait_readable(sock)


async def _send_line(sock: socket.socket, obj: dict[str, Any]) -> None:
    data = json.dumps(obj).encode() + b"\n"
    while data:
        try:
            k = sock.send(data)
        except BlockingIOError:
            await trio.lowlevel.wait_writable(sock)
            continue
        except OSError as exc:
            raise ConnectionClosed(f"shm handshake: {exc}") from exc
        data = data[k:]


async def _server_handshake(sock: socket.socket, cfg: ShmConfig) -> ShmTransport:
    sock.setblocking(False)
    base = _base_name()
    c2s, s2c = _create_rings(base, cfg)
    try:
        await _send_line(sock, {"c2s": c2s.name, "s2c": s2c.name, "max_frame": cfg.max_frame})
        reply = json.loads(await _recv_line(sock))
        if reply != {"ok": True}:
            raise RemoteProtocolError(f"shm handshake: client answered {reply!r}")
    except BaseException:
        c2s.close()
        s2c.close()
        raise
    finally:
        c2s.unlink()
        s2c.unlink()
    return ShmTransport(s2c, c2s, sock, max_frame=cfg.max_frame)


async def connect_shm(
    path: str | os.PathLike[str], *, timeout: float | None = None
) -> ShmTransport:
    """Connect to a :class:`ShmServer` listening at ``path`` and attach its rings.

    Raises:
        ConnectionClosed: nothing listens at ``path``, or it hung up during the handshake.
        SymphonyTimeout: the handshake did not finish within ``timeout``.
        RemoteProtocolError: the server's handshake was malformed.
    """
    path = os.fspath(path)
    ring = ring_module()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with trio.fail_after(float("inf") if timeout is None else timeout):
            try:
                sock.setblocking(False)
                sock.connect(path)
            except (FileNotFoundError, ConnectionRefusedError) as exc:
                raise ConnectionClosed(
                    f"shm transport: cannot connect to {path!r}: {exc.strerror}"
                ) from exc
            hello = json.loads(await _recv_line(sock))
            try:
                c2s = ring.Ring.attach(hello["c2s"])
            except Exception as exc:
                raise TransportError(f"shm handshake: cannot attach {hello!r}: {exc}") from exc
            try:
                s2c = ring.Ring.attach(hello["s2c"])
            except Exception as exc:
                c2s.close()
                raise TransportError(f"shm handshake: cannot attach {hello!r}: {exc}") from exc
            await _send_line(sock, {"ok": True})
            return ShmTransport(c2s, s2c, sock, max_frame=int(hello["max_frame"]))
    except trio.TooSlowError:
        sock.close()
        raise SymphonyTimeout(f"shm transport: handshake with {path!r} timed out") from None
    except BaseException:
        sock.close()
        raise


class ShmServer:
    """A shared-memory server: accepts on a unix socket, hands each client its own pair of
    rings, and runs ``handler(transport)`` per connection (a trio service)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        handler: Callable[[ShmTransport], Awaitable[Any]],
        *,
        config: ShmConfig | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.handler = handler
        self.config = config or ShmConfig()
        self.handshake_errors = 0
        self.handler_errors = 0

    async def run(
        self, *, task_status: trio.TaskStatus[UnixListener] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Listen and serve until cancelled; removes the socket file when it stops."""
        listener = UnixListener(self.path)
        try:
            async with trio.open_nursery() as nursery:
                task_status.started(listener)
                while True:
                    sock = await listener.accept_socket()
                    nursery.start_soon(self._serve_one, sock)
        finally:
            listener.close()

    async def _serve_one(self, sock: socket.socket) -> None:
        try:
            transport = await _server_handshake(sock, self.config)
        except Exception:
            self.handshake_errors += 1
            sock.close()
            return
        try:
            await self.handler(transport)
        except ConnectionClosed:
            pass
        except Exception:
            self.handler_errors += 1
        finally:
            with trio.CancelScope(shield=True):
                await transport.aclose()


def shm_pair(config: ShmConfig | None = None) -> tuple[ShmTransport, ShmTransport]:
    """Two connected shared-memory transports in this process (segments already unlinked)."""
    cfg = config or ShmConfig()
    ring = ring_module()
    c2s, s2c = _create_rings(_base_name(), cfg)
    try:
        c2s_b = ring.Ring.attach(c2s.name)
        s2c_b = ring.Ring.attach(s2c.name)
    finally:
        c2s.unlink()
        s2c.unlink()
    sa, sb = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    client = ShmTransport(c2s, s2c_b, sa, max_frame=cfg.max_frame)
    server = ShmTransport(s2c, c2s_b, sb, max_frame=cfg.max_frame)
    if cfg.max_frame > 0xFFFFFFFF:
        raise LocalProtocolError("arena block larger than 4 GiB")
    return client, server
