"""``[transport]`` and ``[bus]`` configuration sections (see :mod:`symphony.commons.config`).

Environment overrides follow the usual rule, e.g. ``SYMPHONY_BUS__HEARTBEAT_TIMEOUT=0.05`` or
``SYMPHONY_TRANSPORT__SHM_RING_CAPACITY=4194304``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from symphony.commons.config import config_section, rules
from symphony.commons.prevalidation import in_range

__all__ = ["BusConfig", "TransportConfig", "bus_from_config"]


@config_section("transport")
@dataclass(frozen=True, slots=True)
class TransportConfig:
    """``[transport]``: limits and geometry shared by every transport."""

    max_frame: int = field(default=16 * 1024 * 1024, metadata=rules(in_range(1, 2**32 - 1)))
    """Largest frame, in bytes, sent or accepted."""
    connect_timeout: float = field(default=5.0, metadata=rules(in_range(0, 3600)))
    """Seconds a client waits to connect (unix, shm handshake)."""
    shm_ring_capacity: int = field(default=1 << 20, metadata=rules(in_range(64, 1 << 40)))
    """Bytes of each shared-memory ring (a power of two)."""
    shm_arena_size: int = field(default=128 << 20, metadata=rules(in_range(0, 1 << 40)))
    """Bytes of each ring's arena for large frames."""
    stdio_grace: float = field(default=2.0, metadata=rules(in_range(0, 600)))
    """Seconds a stdio child gets to exit after its stdin closes, before terminate/kill."""


@config_section("bus")
@dataclass(frozen=True, slots=True)
class BusConfig:
    """``[bus]``: the message bus service."""

    workers: int = field(default=1, metadata=rules(in_range(1, 1024)))
    inbox_size: int = field(default=4096, metadata=rules(in_range(1, 1 << 24)))
    default_timeout: float = field(default=5.0, metadata=rules(in_range(0, 86400)))
    heartbeat_interval: float = field(default=0.02, metadata=rules(in_range(0.001, 3600)))
    heartbeat_timeout: float = field(default=0.08, metadata=rules(in_range(0.001, 3600)))
    codec: Literal["msgpack", "bincode"] = "msgpack"


def bus_from_config(name: str, cfg: BusConfig) -> object:
    """A :class:`~symphony.bus.Bus` configured by ``[bus]``."""
    from symphony.bus.bus import Bus

    return Bus(
        name,
        workers=cfg.workers,
        inbox_size=cfg.inbox_size,
        default_timeout=cfg.default_timeout,
        heartbeat_interval=cfg.heartbeat_interval,
        heartbeat_timeout=cfg.heartbeat_timeout,
        codec=cfg.codec,
    )
