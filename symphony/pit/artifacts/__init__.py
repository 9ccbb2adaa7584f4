"""The artifact store (seed M3.3): where everything Symphony produces is kept.

Content-addressed (FastCDC chunks, SHA-256 manifest ids), deduplicated, zstd-compressed
in pack files, optionally AES-256-GCM encrypted, versioned by name, with lineage, quality
scores and tantivy full-text search. See :mod:`symphony.pit.artifacts.store` and
``docs/artifact-store.md``.
"""

from __future__ import annotations

from ._config import ArtifactsConfig
from .aio import AsyncArtifactStore
from .store import (
    ArtifactInfo,
    ArtifactRef,
    ArtifactStore,
    GcReport,
    SearchHit,
    VerifyReport,
    VersionInfo,
    default_root,
)

__all__ = [
    "ArtifactInfo",
    "ArtifactRef",
    "ArtifactStore",
    "ArtifactsConfig",
    "AsyncArtifactStore",
    "GcReport",
    "SearchHit",
    "VerifyReport",
    "VersionInfo",
    "default_root",
]
