"""The Arbitration Engine (seed M3.4); see :mod:`.engine` and :mod:`.simulate`."""

from __future__ import annotations

from symphony.pit.arbitration.engine import (
    ArbitrationConfig,
    ArbitrationEngine,
    ConflictKind,
    Decision,
    Grant,
    Policy,
    Queued,
    Request,
    Strategy,
    resource_kind,
)

__all__ = [
    "ArbitrationConfig",
    "ArbitrationEngine",
    "ConflictKind",
    "Decision",
    "Grant",
    "Policy",
    "Queued",
    "Request",
    "Strategy",
    "resource_kind",
]
