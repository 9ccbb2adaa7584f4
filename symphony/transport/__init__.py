"""Transports: ordered, back-pressured frames between two endpoints, on trio (seed M1.4).

=================================  ===========================================================
name                               what
=================================  ===========================================================
:class:`Transport`                 the one interface (send/receive/send_eof/aclose/statistics)
:func:`memory_pair`                in-memory pair on trio memory channels
:func:`connect_unix`               unix-socket client; :class:`UnixServer` / :class:`UnixListener`
:func:`spawn_stdio`                a child process's stdin/stdout (NDJSON or length framing)
:func:`connect_shm`                shared-memory rings, handshake over a unix socket;
                                   :class:`ShmServer`
:class:`ConnectionPool`            min/max, idle timeout, max lifetime, metrics
:class:`ReconnectingTransport`     exponential backoff with jitter, max attempts
:mod:`.npipe`                      Windows named pipes (untested here: Linux machines)
:mod:`.testing`                    :func:`~symphony.transport.testing.check_transport`
=================================  ===========================================================
"""

from __future__ import annotations

from symphony.transport._stream import StreamTransport as StreamTransport
from symphony.transport.base import Transport as Transport
from symphony.transport.base import TransportStatistics as TransportStatistics
from symphony.transport.memory import MemoryTransport as MemoryTransport
from symphony.transport.memory import memory_pair as memory_pair
from symphony.transport.pool import ConnectionPool as ConnectionPool
from symphony.transport.pool import PoolConfig as PoolConfig
from symphony.transport.reconnect import ReconnectingTransport as ReconnectingTransport
from symphony.transport.reconnect import ReconnectStrategy as ReconnectStrategy
from symphony.transport.shm import ShmConfig as ShmConfig
from symphony.transport.shm import ShmServer as ShmServer
from symphony.transport.shm import ShmTransport as ShmTransport
from symphony.transport.shm import connect_shm as connect_shm
from symphony.transport.shm import shm_pair as shm_pair
from symphony.transport.stdio import ChildTransport as ChildTransport
from symphony.transport.stdio import pipe_pair as pipe_pair
from symphony.transport.stdio import spawn_stdio as spawn_stdio
from symphony.transport.stdio import stdio_transport as stdio_transport
from symphony.transport.unix import UnixListener as UnixListener
from symphony.transport.unix import UnixServer as UnixServer
from symphony.transport.unix import connect_unix as connect_unix
from symphony.transport.unix import raise_fd_limit as raise_fd_limit
from symphony.transport.unix import unix_socket_pair as unix_socket_pair

__all__ = [
    "ChildTransport",
    "ConnectionPool",
    "MemoryTransport",
    "PoolConfig",
    "ReconnectStrategy",
    "ReconnectingTransport",
    "ShmConfig",
    "ShmServer",
    "ShmTransport",
    "StreamTransport",
    "Transport",
    "TransportStatistics",
    "UnixListener",
    "UnixServer",
    "connect_shm",
    "connect_unix",
    "memory_pair",
    "pipe_pair",
    "raise_fd_limit",
    "shm_pair",
    "spawn_stdio",
    "stdio_transport",
    "unix_socket_pair",
]
