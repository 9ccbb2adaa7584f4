"""Windows named pipes (``\\\\.\\pipe\\name``) — UNTESTED: the machines here are Linux.

Implemented on :mod:`multiprocessing.connection` (``AF_PIPE``: message-mode named pipes, one
message per frame), whose blocking calls run in trio worker threads
(``trio.to_thread.run_sync``); a native IOCP implementation would need trio's Windows-only
``lowlevel`` API. Every entry point checks the platform first and raises
:class:`~symphony.commons.errors.TransportError` elsewhere, so importing this module is safe
on every platform. The contract suite (:func:`symphony.transport.testing.check_transport`)
is what a Windows CI job should run against :func:`named_pipe_pair`; no such job exists yet.
"""

from __future__ import annotations

import sys
from typing import Any

import trio

from symphony.commons.errors import ConnectionClosed, TransportError
from symphony.transport.base import DEFAULT_MAX_FRAME, Transport

__all__ = ["NamedPipeListener", "NamedPipeTransport", "connect_named_pipe", "is_supported"]


def is_supported() -> bool:
    """True on Windows, the only platform with named pipes of this kind."""
    return sys.platform == "win32"


def _require_windows() -> None:
    if not is_supported():
        raise TransportError(
            f"named pipes are a Windows transport; this is {sys.platform} "
            "(use the unix socket transport here)"
        )


class NamedPipeTransport(Transport):
    """Frames over one named-pipe connection (a ``multiprocessing`` Connection)."""

    kind = "npipe"

    def __init__(self, conn: Any, *, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        super().__init__(max_frame=max_frame)
        self._conn = conn
        self._send_lock = trio.Lock()

    async def send(self, frame: bytes | bytearray | memoryview) -> None:
        self._check_send(len(frame))
        data = bytes(frame)
        async with self._send_lock:
            try:
                await trio.to_thread.run_sync(self._conn.send_bytes, data)
            except (OSError, EOFError) as exc:
                self._peer_gone = True
                raise ConnectionClosed(f"named pipe: the peer is gone ({exc})") from exc
        self.stats.frames_sent += 1
        self.stats.bytes_sent += len(data)

    async def receive(self) -> bytes:
        self._enter_receive()
        self._receiving = True
        try:
            data: bytes = await trio.to_thread.run_sync(
                self._conn.recv_bytes, self.max_frame, abandon_on_cancel=True
            )
        except (OSError, EOFError) as exc:
            raise ConnectionClosed(f"named pipe: the peer closed its side ({exc})") from exc
        finally:
            self._receiving = False
        self.stats.frames_received += 1
        self.stats.bytes_received += len(data)
        return data

    async def send_eof(self) -> None:
        # message-mode pipes have no half-close: closing our write side closes the pipe
        self._eof_sent = True
        await trio.lowlevel.checkpoint()

    async def aclose(self) -> None:
        self._closed = True
        self._conn.close()
        await trio.lowlevel.checkpoint()


class NamedPipeListener:
    """Accepts connections on ``\\\\.\\pipe\\<name>`` (Windows only)."""

    def __init__(self, name: str) -> None:
        _require_windows()
        from multiprocessing.connection import Listener

        self.address = name if name.startswith("\\\\") else f"\\\\.\\pipe\\{name}"
        self._listener = Listener(self.address, family="AF_PIPE")

    async def accept(self) -> NamedPipeTransport:
        conn = await trio.to_thread.run_sync(self._listener.accept, abandon_on_cancel=True)
        return NamedPipeTransport(conn)

    def close(self) -> None:
        self._listener.close()


async def connect_named_pipe(name: str) -> NamedPipeTransport:
    """Connect to a :class:`NamedPipeListener` (Windows only)."""
    _require_windows()
    from multiprocessing.connection import Client

    address = name if name.startswith("\\\\") else f"\\\\.\\pipe\\{name}"
    try:
        conn = await trio.to_thread.run_sync(lambda: Client(address, family="AF_PIPE"))
    except OSError as exc:
        raise ConnectionClosed(f"named pipe: cannot connect to {address!r}: {exc}") from exc
    return NamedPipeTransport(conn)
