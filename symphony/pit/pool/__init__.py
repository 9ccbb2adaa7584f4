"""The Pool Manager (seed M3.1): pooled models with a checked lifecycle, handle-based
allocation from the allocator kernel, LRU under a memory budget, predictive prewarming,
heartbeats for hosted models. See :mod:`.manager`, :mod:`.lifecycle`, :mod:`.loaders`,
:mod:`.prewarm`."""

from __future__ import annotations

from symphony.pit.pool.lifecycle import TRANSITIONS, ModelState, check_transition
from symphony.pit.pool.loaders import (
    HashingEmbedder,
    HashingEmbedderLoader,
    LoadedModel,
    MiniLMLoader,
    ModelLoader,
    SubprocessModel,
    SubprocessModelLoader,
    write_hashing_weights,
)
from symphony.pit.pool.manager import PoolConfig, PoolManager
from symphony.pit.pool.prewarm import Predictor

__all__ = [
    "TRANSITIONS",
    "HashingEmbedder",
    "HashingEmbedderLoader",
    "LoadedModel",
    "MiniLMLoader",
    "ModelLoader",
    "ModelState",
    "PoolConfig",
    "PoolManager",
    "Predictor",
    "SubprocessModel",
    "SubprocessModelLoader",
    "check_transition",
    "write_hashing_weights",
]
