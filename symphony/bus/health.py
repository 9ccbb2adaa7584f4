"""Health monitoring of endpoints by heartbeats (seed M1.5.6).

The monitor (a trio service, one task) wakes every ``interval`` seconds, sends a heartbeat
to every watched endpoint through ``send_ping(endpoint_id)`` (a non-blocking callable the
bus provides), and marks :attr:`~symphony.commons.health.HealthStatus.UNREACHABLE` every
endpoint whose last answer is older than ``timeout``. An answer is reported with
:meth:`HealthMonitor.record_alive` (the endpoint may say how it is: ``DEGRADED`` …).

Bound: an endpoint that stops answering right after an answer at ``t`` is marked at the
first tick after ``t + timeout``, so by ``t + timeout + interval`` — 100 ms with the defaults
(``interval=0.02``, ``timeout=0.08``).

Changes are :class:`HealthEvent` s given to every listener (plain callables, called inline).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import trio

from symphony.commons.health import HealthStatus

__all__ = ["EndpointHealth", "HealthEvent", "HealthMonitor"]


@dataclass(frozen=True, slots=True)
class HealthEvent:
    """An endpoint's status changed."""

    endpoint: str
    old: HealthStatus
    new: HealthStatus
    at: float
    """``trio.current_time()`` of the change."""
    reason: str = ""


@dataclass(slots=True)
class EndpointHealth:
    """What the monitor knows about one endpoint (its metrics)."""

    status: HealthStatus = HealthStatus.HEALTHY
    last_seen: float = 0.0
    last_ping: float = 0.0
    pings: int = 0
    answers: int = 0
    misses: int = 0
    """Ticks at which the endpoint was overdue."""
    last_rtt: float | None = None
    transitions: int = 0
    reported: HealthStatus = field(default=HealthStatus.HEALTHY)


class HealthMonitor:
    """Heartbeats and status of endpoints (see the module docstring)."""

    def __init__(
        self,
        send_ping: Callable[[str], None],
        *,
        interval: float = 0.02,
        timeout: float = 0.08,
    ) -> None:
        self.send_ping = send_ping
        self.interval = interval
        self.timeout = timeout
        self.endpoints: dict[str, EndpointHealth] = {}
        self._listeners: list[Callable[[HealthEvent], None]] = []
        self.ticks = 0
        self.ping_errors = 0

    def watch(self, endpoint: str) -> None:
        """Start monitoring ``endpoint`` (it counts as just seen)."""
        if endpoint not in self.endpoints:
            now = trio.current_time()
            self.endpoints[endpoint] = EndpointHealth(last_seen=now, last_ping=now)

    def unwatch(self, endpoint: str) -> None:
        self.endpoints.pop(endpoint, None)

    def on_event(self, listener: Callable[[HealthEvent], None]) -> None:
        self._listeners.append(listener)

    def get(self, endpoint: str) -> HealthStatus | None:
        h = self.endpoints.get(endpoint)
        return None if h is None else h.status

    def unhealthy_endpoints(self) -> list[str]:
        """Endpoints that are not serving (``UNHEALTHY`` or ``UNREACHABLE``)."""
        return [e for e, h in self.endpoints.items() if not h.status.is_serving]

    def record_alive(self, endpoint: str, status: HealthStatus = HealthStatus.HEALTHY) -> None:
        """An answer from ``endpoint`` (any message counts), with its self-reported status."""
        h = self.endpoints.get(endpoint)
        if h is None:
            return
        now = trio.current_time()
        h.last_seen = now
        h.answers += 1
        h.last_rtt = now - h.last_ping
        h.reported = status
        self._set(endpoint, h, status, now, "answered")

    def _set(self, ep: str, h: EndpointHealth, new: HealthStatus, now: float, why: str) -> None:
        if h.status is new:
            return
        old, h.status = h.status, new
        h.transitions += 1
        event = HealthEvent(ep, old, new, now, why)
        for listener in list(self._listeners):
            listener(event)

    def tick(self, now: float | None = None) -> None:
        """One round: mark overdue endpoints, then ping every endpoint."""
        if now is None:
            now = trio.current_time()
        self.ticks += 1
        for ep, h in list(self.endpoints.items()):
            if now - h.last_seen > self.timeout:
                h.misses += 1
                self._set(
                    ep,
                    h,
                    HealthStatus.UNREACHABLE,
                    now,
                    f"no answer for {now - h.last_seen:.3f} s (timeout {self.timeout} s)",
                )
            h.pings += 1
            h.last_ping = now
            try:
                self.send_ping(ep)
            except Exception:
                self.ping_errors += 1

    async def run(
        self, *, task_status: trio.TaskStatus[HealthMonitor] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Tick every ``interval`` until cancelled."""
        task_status.started(self)
        next_tick = trio.current_time()
        while True:
            self.tick()
            next_tick += self.interval
            now = trio.current_time()
            if next_tick < now:
                next_tick = now + self.interval
            await trio.sleep_until(next_tick)
