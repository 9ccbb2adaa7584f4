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
socket. A receiver whose ring is empty polls the control socket (without a system call on
the fast path: only when the ring is empty) and, at the latest, every :data:`POLL_INTERVAL`
while parked, so a dead peer is noticed within that interval. A sender whose ring is full
waits with a short exponential sleep (the ring has no asynchronous *writable* doorbell yet)
and checks the control socket each time, so sending to a dead peer raises
:class:`~symphony.commons.errors.ConnectionClosed` once the ring has filled.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Iterable
from types import ModuleType
from typing import Any, Final

import trio

from symphony.commons.errors import (
    ConnectionClosed,
    LocalProtocolError,
    RemoteProtocolError,
    SymphonyTimeout,
    TransportError,
)
from symphony.transport.base import Transport, TransportStatistics
from symphony.transport.unix import UnixListener

__all__ = [
    "POLL_INTERVAL",
    "ShmConfig",
    "ShmServer",
    "ShmTransport",
    "connect_shm",
    "ring_module",
    "shm_pair",
]

POLL_INTERVAL: Final = 0.02
SPIN_SECONDS: Final = 25e-6
"""A good value for :attr:`ShmTransport.spin` on a dedicated pair of cores (the default is 0:
no spin). A spinning receiver polls its ring (``Ring.wait_readable``, blocking the trio loop)
before parking on the doorbell, only when a frame arrived within :data:`SPIN_WINDOW` and no
other task is runnable. In ``symphony bench bus`` runs it cut the transport ping-pong p50
(65 -> 51 µs, 76 -> 43 µs) but made the bus's request/response slower (the spinner takes
the core the peer needs on these shared 2-core machines) and its effect on throughput was
within run-to-run noise, hence off by default."""

SPIN_WINDOW: Final = 0.002
"""Longest a parked receiver goes without checking the control channel (peer death, EOF)."""

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
        self._busy = 0  # tasks inside a ring wait: the rings are unmapped only when 0
        self._wait_scope: trio.CancelScope | None = None
        self._rings_open = True
        self._last_rx = 0.0
        self._send_waiting = 0
        self.spin = 0.0
        """Seconds a busy receiver spins before parking (0: never; see SPIN_SECONDS)."""

    # ---- control channel -------------------------------------------------------------
    def _poll_control(self) -> None:
        """Read pending control bytes without blocking (EOF byte, or the socket closing)."""
        if self._peer_eof and self._peer_gone:
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

    # ---- sending ---------------------------------------------------------------------
    async def send(self, frame: bytes | bytearray | memoryview) -> None:
        await self._fair()
        self._check_send(len(frame))
        if not self._tx.push(frame):
            await self._wait_room(frame)
        self.stats.frames_sent += 1
        self.stats.bytes_sent += len(frame)

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
        for f in batch:
            self._check_send(len(f))
        done = self._tx.push_many(batch)
        stats = self.stats
        while True:
            stats.frames_sent += done
            stats.bytes_sent += sum(len(f) for f in batch[:done])
            if done == len(batch):
                return
            batch = batch[done:]
            await self._wait_room(batch[0])
            stats.frames_sent += 1
            stats.bytes_sent += len(batch[0])
            batch = batch[1:]
            done = self._tx.push_many(batch) if batch else 0

    async def _wait_room(self, frame: bytes | bytearray | memoryview) -> None:
        """Back-pressure: the ring (or its arena) is full; wait for the consumer."""
        self.stats.send_waits += 1
        delay = 2e-5
        self._busy += 1
        self._send_waiting += 1
        try:
            while True:
                self._poll_control()
                if self._peer_gone:
                    raise ConnectionClosed("shm transport: the peer is gone")
                await trio.sleep(delay)
                if self._closed:
                    raise ConnectionClosed("shm transport is closed")
                if self._tx.push(frame):
                    return
                delay = min(delay * 2, 0.002)
        finally:
            self._busy -= 1
            self._send_waiting -= 1
            self._maybe_unmap()

    # ---- receiving -------------------------------------------------------------------
    async def receive(self) -> bytes:
        await self._fair()
        self._enter_receive()
        self._receiving = True
        try:
            rx = self._rx
            while True:
                data = rx.pop()
                if data is not None:
                    break
                self._poll_control()
                if self._peer_eof:
                    # everything the peer pushed before its EOF/exit is visible now
                    data = rx.pop()
                    if data is not None:
                        break
                    raise ConnectionClosed("shm transport: the peer closed its side")
                if self.spin and trio.current_time() - self._last_rx < SPIN_WINDOW:
                    # a busy connection: spin briefly in the ring's wait (blocks the loop at
                    # most SPIN_SECONDS, and only when no other task is runnable) before
                    # paying for a doorbell wakeup
                    await trio.lowlevel.checkpoint()
                    idle = trio.lowlevel.current_statistics().tasks_runnable == 0
                    if idle and rx.wait_readable(self.spin):
                        data = rx.pop()
                        if data is not None:
                            break
                self.stats.receive_waits += 1
                self._busy += 1
                try:
                    with trio.move_on_after(POLL_INTERVAL) as scope:
                        self._wait_scope = scope
                        await rx.wait_readable_async()
                finally:
                    self._wait_scope = None
                    self._busy -= 1
                if self._closed:
                    raise ConnectionClosed("shm transport is closed")
        finally:
            self._receiving = False
            self._maybe_unmap()
        self._last_rx = trio.current_time()
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
        # never unmap a ring under a task parked in it: wake it; the last one out unmaps
        if self._wait_scope is not None:
            self._wait_scope.cancel()
        self._maybe_unmap()
        await trio.lowlevel.checkpoint()

    def _maybe_unmap(self) -> None:
        if self._closed and self._rings_open and not self._busy:
            self._rings_open = False
            for r in (self._tx, self._rx):
                r.close()

    def statistics(self) -> TransportStatistics:
        """The counters, with the rings' own in ``extra`` (``tx_*``, ``rx_*``)."""
        if self._rings_open:
            self.stats.extra = {f"tx_{k}": v for k, v in self._tx.stats().items()} | {
                f"rx_{k}": v for k, v in self._rx.stats().items()
            }
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
