"""The small event sink the Pit services emit through (the bus implements it).

Every Pit service (pool, arbitration, stale manager) takes an optional ``sink`` and calls
``sink.emit(topic, payload)`` synchronously, without awaiting: a bus adapter should
``send_nowait`` into a bounded channel and drop (counting) when full, never block the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import trio

__all__ = ["BusSink", "EventSink", "ListSink", "NullSink", "Publisher"]


@runtime_checkable
class EventSink(Protocol):
    """Receives service events: ``topic`` such as ``"pit.pool.state"``, plain-data payload."""

    def emit(self, topic: str, payload: Mapping[str, object]) -> None:
        """Accept one event; must not block or raise."""
        ...


class NullSink:
    """Drops every event (the default)."""

    def emit(self, topic: str, payload: Mapping[str, object]) -> None:
        """Drop the event."""


class ListSink:
    """Keeps every event in :attr:`events` (tests, debugging)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, object]]] = []

    def emit(self, topic: str, payload: Mapping[str, object]) -> None:
        """Append ``(topic, payload)``."""
        self.events.append((topic, dict(payload)))

    def topics(self) -> list[str]:
        """The topics seen, in order."""
        return [t for t, _ in self.events]


class Publisher(Protocol):
    """What :class:`BusSink` needs: ``symphony.bus.Bus.publish``."""

    async def publish(self, topic: str, payload: Any = None, *, source: str = "") -> int:
        """Publish one event."""
        ...


class BusSink:
    """Forwards events to a bus: ``emit`` queues without blocking (bounded; drops and counts
    when full), the :meth:`run` service publishes them in order."""

    def __init__(self, bus: Publisher, *, source: str = "pit", max_buffer: int = 1024) -> None:
        self.bus, self.source = bus, source
        self._send, self._recv = trio.open_memory_channel[tuple[str, dict[str, object]]](max_buffer)
        self.dropped = 0

    def emit(self, topic: str, payload: Mapping[str, object]) -> None:
        """Queue the event (dropped and counted when the buffer is full)."""
        try:
            self._send.send_nowait((topic, dict(payload)))
        except trio.WouldBlock:
            self.dropped += 1

    async def run(
        self, *, task_status: trio.TaskStatus[BusSink] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Publish queued events until cancelled."""
        task_status.started(self)
        async for topic, payload in self._recv:
            await self.bus.publish(topic, payload, source=self.source)
