"""The one HealthStatus vocabulary."""

from __future__ import annotations

import pytest

from symphony.commons.health import HealthStatus


def test_values_cross_processes_as_strings() -> None:
    assert [s.value for s in HealthStatus] == ["healthy", "degraded", "unhealthy", "unreachable"]
    assert HealthStatus("degraded") is HealthStatus.DEGRADED
    assert HealthStatus.UNHEALTHY == "unhealthy"  # type: ignore[comparison-overlap]


def test_severity_orders_best_to_worst() -> None:
    assert [s.severity for s in HealthStatus] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("status", "serving"),
    [
        (HealthStatus.HEALTHY, True),
        (HealthStatus.DEGRADED, True),
        (HealthStatus.UNHEALTHY, False),
        (HealthStatus.UNREACHABLE, False),
    ],
)
def test_is_serving(status: HealthStatus, serving: bool) -> None:
    assert status.is_serving is serving


def test_worst_of_parts() -> None:
    assert HealthStatus.worst([]) is HealthStatus.HEALTHY
    assert (
        HealthStatus.worst([HealthStatus.DEGRADED, HealthStatus.HEALTHY]) is HealthStatus.DEGRADED
    )
    assert HealthStatus.worst(["healthy", "unreachable", "unhealthy"]) is HealthStatus.UNREACHABLE  # type: ignore[list-item]


def test_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError, match="sick"):
        HealthStatus("sick")
