"""The one health vocabulary: every service, child process and port adapter reports with it.

The bus, the supervisor of child processes, every Pit service and the ports all say how they
are with a :class:`HealthStatus`. It is a string enum, so it crosses process boundaries as its
value (``"healthy"`` …) through any codec.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

__all__ = ["HealthStatus"]


class HealthStatus(enum.StrEnum):
    """How a service is doing, from best to worst.

    ``HEALTHY``: serving normally. ``DEGRADED``: serving, but slower or with part of its
    function missing. ``UNHEALTHY``: answering, but unable to serve. ``UNREACHABLE``: not
    answering at all (crashed, hung, or the link is down).
    """

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"
    UNREACHABLE = "unreachable"

    @property
    def severity(self) -> int:
        """0 for ``HEALTHY`` up to 3 for ``UNREACHABLE``; larger is worse."""
        return _SEVERITY[self]

    @property
    def is_serving(self) -> bool:
        """True for ``HEALTHY`` and ``DEGRADED``: requests may still be sent."""
        return self.severity <= 1

    @classmethod
    def worst(cls, statuses: Iterable[HealthStatus]) -> HealthStatus:
        """The worst of ``statuses`` (the health of a whole made of parts).

        An empty collection is ``HEALTHY``: nothing is failing.
        """
        result = cls.HEALTHY
        for status in statuses:
            status = cls(status)
            if status.severity > result.severity:
                result = status
        return result


_SEVERITY: dict[HealthStatus, int] = {
    HealthStatus.HEALTHY: 0,
    HealthStatus.DEGRADED: 1,
    HealthStatus.UNHEALTHY: 2,
    HealthStatus.UNREACHABLE: 3,
}
