"""The small event sink the Pit services emit through (the bus implements it).

Every Pit service (pool, arbitration, stale manager) takes an optional ``sink`` and calls
``sink.emit(topic, payload)`` synchronously, without awaiting: a bus adapter should
``send_nowait`` into a bounded channel and drop (counting) when full, never block the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

__all__ = ["EventSink", "ListSink", "NullSink"]


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
