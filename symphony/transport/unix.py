"""Unix domain socket transport: a listener/server and a client, length- or line-framed.

Each accepted connection is a :class:`~symphony.transport._stream.StreamTransport` over the
socket; partial reads and writes are handled by the framing layer. The server is a trio
service (``await nursery.start(server.run)``) that runs one handler task per connection and
stops by cancellation; it removes its socket file when it stops.

Many connections: a connection costs one fd and one parked task; the 10,000-client test in
``tests/transport/test_unix.py`` raises ``RLIMIT_NOFILE`` with :func:`raise_fd_limit`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import socket
import stat
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from symphony.commons.errors import ConnectionClosed, SymphonyTimeout, TransportError
from symphony.transport._stream import Framing, SocketIO, StreamTransport
from symphony.transport.base import DEFAULT_MAX_FRAME

__all__ = [
    "UnixListener",
    "UnixServer",
    "connect_unix",
    "raise_fd_limit",
    "unix_socket_pair",
]


def raise_fd_limit(wanted: int | None = None) -> int:
    """Raise the soft ``RLIMIT_NOFILE`` towards ``wanted`` (default: the hard limit).

    Returns the new soft limit (never above the hard limit; no privileges needed).
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if wanted is None else min(wanted, hard)
    if hard == resource.RLIM_INFINITY and wanted is None:
        target = max(soft, 1 << 20)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def _transport(
    sock: socket.socket, framing: Framing, max_frame: int
) -> StreamTransport:
    return StreamTransport(SocketIO(sock), framing=framing, max_frame=max_frame, kind="unix")


async def connect_unix(
    path: str | os.PathLike[str],
    *,
    timeout: float | None = None,
    framing: Framing = "length",
    max_frame: int = DEFAULT_MAX_FRAME,
) -> StreamTransport:
    """Connect to the unix socket at ``path``.

    Args:
        timeout: seconds to wait (the listener's backlog may be full); None waits forever.

    Raises:
        ConnectionClosed: nothing listens at ``path`` (missing file or refused).
        SymphonyTimeout: not connected within ``timeout``.
    """
    path = os.fspath(path)
    try:
        with trio.fail_after(float("inf") if timeout is None else timeout):
            delay = 0.0005
            while True:
                await trio.lowlevel.checkpoint_if_cancelled()
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.setblocking(False)
                try:
                    sock.connect(path)
                except (BlockingIOError, InterruptedError):
                    sock.close()  # AF_UNIX: EAGAIN means the backlog is full
                    await trio.sleep(delay)
                    delay = min(delay * 2, 0.05)
                    continue
                except (FileNotFoundError, ConnectionRefusedError) as exc:
                    sock.close()
                    raise ConnectionClosed(
                        f"unix transport: cannot connect to {path!r}: {exc.strerror}"
                    ) from exc
                except OSError as exc:
                    sock.close()
                    raise TransportError(
                        f"unix transport: cannot connect to {path!r}: {exc}"
                    ) from exc
                return _transport(sock, framing, max_frame)
    except trio.TooSlowError:
        raise SymphonyTimeout(
            f"unix transport: connecting to {path!r} took more than {timeout} s"
        ) from None


class UnixListener:
    """A listening unix socket; :meth:`accept` returns transports.

    Args:
        path: the socket file; an existing *socket* file there is replaced (a stale one from
            a dead server), any other file is an error.
        backlog: the kernel's pending-connection queue length.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        backlog: int = 4096,
        framing: Framing = "length",
        max_frame: int = DEFAULT_MAX_FRAME,
    ) -> None:
        self.path = os.fspath(path)
        self.framing: Framing = framing
        self.max_frame = max_frame
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(os.lstat(self.path).st_mode):
                os.unlink(self.path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(self.path)
            sock.listen(backlog)
        except OSError as exc:
            sock.close()
            raise TransportError(f"unix transport: cannot listen on {self.path!r}: {exc}") from exc
        sock.setblocking(False)
        self._sock = sock
        self.accepted = 0
        """Connections accepted so far."""

    async def accept(self) -> StreamTransport:
        """The next connection (waits for one).

        Raises:
            ConnectionClosed: the listener was closed.
        """
        conn = await self.accept_socket()
        return _transport(conn, self.framing, self.max_frame)

    async def accept_socket(self) -> socket.socket:
        """The next connection as a plain non-blocking socket (for handshakes, e.g. shm)."""
        await trio.lowlevel.checkpoint_if_cancelled()
        while True:
            try:
                conn, _ = self._sock.accept()
            except BlockingIOError:
                try:
                    await trio.lowlevel.wait_readable(self._sock)
                except trio.ClosedResourceError:
                    raise ConnectionClosed("unix listener is closed") from None
                continue
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE):
                    # out of descriptors: back off instead of spinning
                    await trio.sleep(0.01)
                    continue
                raise ConnectionClosed(f"unix listener {self.path!r}: {exc}") from exc
            self.accepted += 1
            conn.setblocking(False)
            return conn

    def close(self) -> None:
        """Stop listening and remove the socket file; idempotent."""
        if self._sock.fileno() >= 0:
            trio.lowlevel.notify_closing(self._sock)
            self._sock.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)

    async def aclose(self) -> None:
        self.close()
        await trio.lowlevel.checkpoint()


Handler = Callable[[StreamTransport], Awaitable[Any]]


class UnixServer:
    """A unix-socket server: one ``handler(transport)`` task per connection.

    The transport is closed when its handler returns. A handler's exception closes that
    connection only (it is counted in :attr:`handler_errors`), so one bad client cannot stop
    the server.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        handler: Handler,
        *,
        backlog: int = 4096,
        framing: Framing = "length",
        max_frame: int = DEFAULT_MAX_FRAME,
    ) -> None:
        self.path = os.fspath(path)
        self.handler = handler
        self._opts: dict[str, Any] = {
            "backlog": backlog,
            "framing": framing,
            "max_frame": max_frame,
        }
        self.active = 0
        """Connections being served now."""
        self.handler_errors = 0
        """Handlers that raised."""
        self.listener: UnixListener | None = None

    async def run(
        self, *, task_status: trio.TaskStatus[UnixListener] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Listen, serve until cancelled, then close every connection and the socket file."""
        listener = UnixListener(self.path, **self._opts)
        self.listener = listener
        try:
            async with trio.open_nursery() as nursery:
                task_status.started(listener)
                while True:
                    transport = await listener.accept()
                    nursery.start_soon(self._serve_one, transport)
        finally:
            listener.close()

    async def _serve_one(self, transport: StreamTransport) -> None:
        self.active += 1
        try:
            await self.handler(transport)
        except (ConnectionClosed, trio.BrokenResourceError):
            pass
        except Exception:
            self.handler_errors += 1
        finally:
            self.active -= 1
            with trio.CancelScope(shield=True):
                await transport.aclose()


def unix_socket_pair(
    *, framing: Framing = "length", max_frame: int = DEFAULT_MAX_FRAME
) -> tuple[StreamTransport, StreamTransport]:
    """Two connected unix-socket transports (``socketpair``), for tests and in-process use."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    return _transport(a, framing, max_frame), _transport(b, framing, max_frame)
