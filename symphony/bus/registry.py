"""Endpoint registry: who is on the bus, what each can do, and change events (seed M1.5.3)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from symphony.commons.errors import EndpointExists, EndpointNotFound, LocalProtocolError

__all__ = ["EndpointInfo", "EndpointRegistry", "RegistryEvent"]


@dataclass(frozen=True, slots=True)
class EndpointInfo:
    """One endpoint: its id, a human name, its capabilities and where it lives."""

    id: str
    name: str = ""
    capabilities: frozenset[str] = frozenset()
    transport: str = "local"
    """``"local"`` (this process) or the name of the link it is reached through."""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    registered_at: float = 0.0
    """``time.time()`` at registration (filled by the registry)."""


@dataclass(frozen=True, slots=True)
class RegistryEvent:
    """An endpoint was registered or unregistered."""

    kind: Literal["registered", "unregistered"]
    info: EndpointInfo


Listener = Callable[[RegistryEvent], None]


class EndpointRegistry:
    """Endpoints by id, with a capability index (capability -> ids, O(1) lookup).

    Listeners added with :meth:`on_change` are called synchronously on every change, in
    registration order; a listener that raises is counted in :attr:`listener_errors` and
    does not stop the others.
    """

    def __init__(self) -> None:
        self._by_id: dict[str, EndpointInfo] = {}
        self._by_cap: dict[str, dict[str, None]] = {}
        self._listeners: list[Listener] = []
        self.listener_errors = 0

    def register(
        self,
        id: str | EndpointInfo,
        *,
        name: str = "",
        capabilities: Iterable[str] = (),
        transport: str = "local",
        metadata: Mapping[str, Any] | None = None,
    ) -> EndpointInfo:
        """Register an endpoint (an :class:`EndpointInfo`, or its fields).

        Raises:
            EndpointExists: the id is taken.
            LocalProtocolError: the id is not a non-empty str.
        """
        if isinstance(id, EndpointInfo):
            info = id
        else:
            info = EndpointInfo(
                id, name or id, frozenset(capabilities), transport, dict(metadata or {})
            )
        if not isinstance(info.id, str) or not info.id:
            raise LocalProtocolError(f"endpoint id must be a non-empty str, got {info.id!r}")
        if info.id in self._by_id:
            raise EndpointExists(f"endpoint {info.id!r} is already registered")
        if not info.registered_at:
            info = EndpointInfo(
                info.id,
                info.name,
                frozenset(info.capabilities),
                info.transport,
                info.metadata,
                time.time(),
            )
        self._by_id[info.id] = info
        for cap in info.capabilities:
            self._by_cap.setdefault(cap, {})[info.id] = None
        self._emit(RegistryEvent("registered", info))
        return info

    def unregister(self, id: str) -> EndpointInfo | None:
        """Remove an endpoint; its info, or None if it was not registered."""
        info = self._by_id.pop(id, None)
        if info is None:
            return None
        for cap in info.capabilities:
            ids = self._by_cap.get(cap)
            if ids is not None:
                ids.pop(id, None)
                if not ids:
                    del self._by_cap[cap]
        self._emit(RegistryEvent("unregistered", info))
        return info

    def get(self, id: str) -> EndpointInfo | None:
        return self._by_id.get(id)

    def lookup(self, id: str) -> EndpointInfo:
        """The endpoint ``id``.

        Raises:
            EndpointNotFound: not registered.
        """
        info = self._by_id.get(id)
        if info is None:
            raise EndpointNotFound(f"endpoint {id!r} is not registered")
        return info

    def find_by_capability(self, capability: str) -> list[EndpointInfo]:
        """Endpoints offering ``capability``, in registration order."""
        return [self._by_id[i] for i in self._by_cap.get(capability, ())]

    def list(self) -> list[EndpointInfo]:
        return list(self._by_id.values())

    def __contains__(self, id: object) -> bool:
        return id in self._by_id

    def __len__(self) -> int:
        return len(self._by_id)

    def on_change(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` on every change; returns a function that removes it."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def _emit(self, event: RegistryEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                self.listener_errors += 1
