"""``[artifacts]`` configuration section of the artifact store."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from symphony.commons.config import config_section, rules
from symphony.commons.prevalidation import in_range, length

__all__ = ["DEFAULT_KEY_ENV", "ArtifactsConfig"]

DEFAULT_KEY_ENV = "SYMPHONY_ARTIFACTS_KEY"
"""Environment variable read for the encryption key when no key file is configured."""


@config_section("artifacts")
@dataclass(frozen=True, slots=True)
class ArtifactsConfig:
    """``[artifacts]``: where and how artifacts are stored."""

    root: Path | None = None
    """Store directory (empty: ``<data dir>/artifacts``)."""
    encrypt: bool = False
    """Create new stores encrypted (AES-256-GCM). An existing store keeps the mode it was
    created with; an encrypted store always needs its key."""
    key_file: Path | None = None
    """File holding the 32-byte master key (raw, hex or base64). Empty: ``key_env``."""
    key_env: str = field(default=DEFAULT_KEY_ENV, metadata=rules(length(1, 128)))
    """Environment variable holding the master key (hex or base64) when no key file is set."""
    zstd_level: int = field(default=3, metadata=rules(in_range(1, 19)))
    """zstd level for chunks (a chunk that does not shrink is stored raw)."""
    durability: Literal["full", "process"] = "full"
    """``full``: fsync the pack before the SQLite commit and commit with
    ``synchronous=FULL`` (survives power loss). ``process``: no fsync (survives a killed
    process, not a power loss)."""
    inline_max: int = field(default=16384, metadata=rules(in_range(0, 1 << 20)))
    """Chunks whose stored form is at most this many bytes live in SQLite, not in a pack
    (one fsync per small put instead of two)."""
    inline_artifact_max: int = field(default=131072, metadata=rules(in_range(0, 1 << 24)))
    """An artifact given as bytes and at most this large keeps all its new chunks in SQLite
    (a small put then costs one fsync, the SQLite commit, instead of two)."""
    pack_max_bytes: int = field(default=1 << 30, metadata=rules(in_range(1 << 20, 1 << 40)))
    """A pack file is closed for appends once it grows past this size."""
    max_artifact_bytes: int = field(default=1 << 36, metadata=rules(in_range(0)))
    """Largest artifact accepted (64 GiB); a larger input is refused, nothing visible."""
    gc_grace_seconds: float = field(default=3600.0, metadata=rules(in_range(0.0)))
    """A chunk must have been unreferenced for this long before :meth:`gc` deletes it."""
    index_content: bool = True
    """Index the text of text artifacts for full-text search."""
    index_content_when_encrypted: bool = False
    """Also index text content of an encrypted store (the index is NOT encrypted)."""
    index_max_text_bytes: int = field(default=1 << 20, metadata=rules(in_range(0)))
    """Only the first this-many bytes of a text artifact are indexed."""
