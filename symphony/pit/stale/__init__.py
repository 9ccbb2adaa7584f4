"""The Stale Manager (seed M3.5); see :mod:`.manager` and :mod:`.simulate`."""

from __future__ import annotations

from symphony.pit.stale.manager import (
    Action,
    ArtifactStoreHot,
    DictHotStore,
    FsspecTier,
    HotStore,
    Item,
    RetentionPolicy,
    StaleConfig,
    StaleManager,
    StaleService,
    SweepReport,
    Tier,
    TierCosts,
)

__all__ = [
    "Action",
    "ArtifactStoreHot",
    "DictHotStore",
    "FsspecTier",
    "HotStore",
    "Item",
    "RetentionPolicy",
    "StaleConfig",
    "StaleManager",
    "StaleService",
    "SweepReport",
    "Tier",
    "TierCosts",
]
