"""Constants, parameter checks and result types shared by both hashing twins.

:mod:`symphony.reference.hashing` (the specification) and :mod:`symphony._core.hashing` (its
Cython twin) import everything here, so that both accept exactly the same parameters, refuse
bad ones with the same :class:`~symphony.commons.errors.ChunkerError` message, and return the
same types. The bounds are those of the Rust ``fastcdc`` crate's ``v2020`` module (and of
``symphony/include/symphony/fastcdc.h``).
"""

from __future__ import annotations

import operator
import struct
from dataclasses import dataclass
from typing import NamedTuple

from symphony.commons.errors import ChunkerError

__all__ = [
    "AVERAGE_MAX",
    "AVERAGE_MIN",
    "DEFAULT_AVG_SIZE",
    "DEFAULT_LEVEL",
    "DEFAULT_MAX_SIZE",
    "DEFAULT_MIN_SIZE",
    "MANIFEST_DOMAIN",
    "MAXIMUM_MAX",
    "MAXIMUM_MIN",
    "MINIMUM_MAX",
    "MINIMUM_MIN",
    "ChunkRecord",
    "Manifest",
    "check_ends",
    "check_params",
    "check_threads",
    "manifest_entry",
]

MINIMUM_MIN = 64
"""Smallest accepted ``min_size``."""
MINIMUM_MAX = 1_048_576
"""Largest accepted ``min_size`` (1 MiB)."""
AVERAGE_MIN = 256
"""Smallest accepted ``avg_size``."""
AVERAGE_MAX = 4_194_304
"""Largest accepted ``avg_size`` (4 MiB)."""
MAXIMUM_MIN = 1024
"""Smallest accepted ``max_size``."""
MAXIMUM_MAX = 16_777_216
"""Largest accepted ``max_size`` (16 MiB)."""

DEFAULT_MIN_SIZE = 4096
DEFAULT_AVG_SIZE = 16384
DEFAULT_MAX_SIZE = 65536
DEFAULT_LEVEL = 1
"""Normalization level 1, the ``fastcdc`` crate's default."""

MANIFEST_DOMAIN = b"symphony.cdc.manifest.v1\n"
"""Prefix of the bytes hashed into a manifest id (domain separation: a manifest id can never
equal the plain SHA-256 of some content)."""

_ENTRY = struct.Struct("<Q")


class ChunkRecord(NamedTuple):
    """One chunk: where it is in the content and the SHA-256 of its bytes."""

    offset: int
    """Byte offset of the chunk's first byte in the whole content."""
    length: int
    """Number of bytes (``>= 1``)."""
    digest: bytes
    """SHA-256 of the chunk's bytes (32 bytes)."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """Every chunk of a content, with its two candidate ids.

    ``manifest_id`` is SHA-256 over ``MANIFEST_DOMAIN`` followed, for every chunk in order,
    by its length as 8 bytes little-endian and its 32-byte digest (see :func:`manifest_entry`).
    It is computed from the chunk digests only -- no second pass over the content -- and names
    the content *as chunked with these parameters*. ``content_sha256`` is the plain SHA-256 of
    the whole content (computed only when asked for, ``content_digest=True``: it costs a second
    SHA-256 over every byte), the id other tools (sha256sum, OCI, git-lfs) agree on.
    """

    chunks: tuple[ChunkRecord, ...]
    size: int
    """Total bytes of the content."""
    manifest_id: bytes
    content_sha256: bytes | None


def manifest_entry(length: int, digest: bytes) -> bytes:
    """The 40 bytes one chunk contributes to the manifest id: ``<Q`` length + digest."""
    return _ENTRY.pack(length) + digest


def _int_param(name: str, value: object) -> int:
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ChunkerError(
            f"{name} must be an integer, got {type(value).__name__} {value!r}"
        ) from None


def check_params(
    min_size: object, avg_size: object, max_size: object, level: object, seed: object
) -> tuple[int, int, int, int, int]:
    """Validate chunker parameters, naming the first bad one; returns them as ints.

    Raises:
        ChunkerError: a size outside its bounds, ``min_size <= avg_size <= max_size`` broken,
            ``level`` not in 0..3, ``seed`` not in ``[0, 2**64)``, or a non-integer.
    """
    mn = _int_param("min_size", min_size)
    avg = _int_param("avg_size", avg_size)
    mx = _int_param("max_size", max_size)
    lvl = _int_param("level", level)
    sd = _int_param("seed", seed)
    for name, value, lo, hi in (
        ("min_size", mn, MINIMUM_MIN, MINIMUM_MAX),
        ("avg_size", avg, AVERAGE_MIN, AVERAGE_MAX),
        ("max_size", mx, MAXIMUM_MIN, MAXIMUM_MAX),
    ):
        if not lo <= value <= hi:
            raise ChunkerError(f"{name} must be in [{lo}, {hi}], got {value}")
    if avg < mn:
        raise ChunkerError(f"avg_size={avg} must be >= min_size={mn}")
    if mx < avg:
        raise ChunkerError(f"max_size={mx} must be >= avg_size={avg}")
    if not 0 <= lvl <= 3:
        raise ChunkerError(f"level must be 0, 1, 2 or 3, got {lvl}")
    if not 0 <= sd < 2**64:
        raise ChunkerError(f"seed must be in [0, 2**64), got {sd}")
    return mn, avg, mx, lvl, sd


def check_threads(threads: object) -> int:
    """Validate the ``threads`` hint of ``hash_chunks``: 1 or 2.

    Raises:
        ChunkerError: anything else (named in the message).
    """
    value = _int_param("threads", threads)
    if value not in (1, 2):
        raise ChunkerError(f"threads must be 1 or 2, got {value}")
    return value


def check_ends(ends: object, size: int) -> list[int]:
    """Validate the chunk ends given to ``hash_cuts`` for content of ``size`` bytes.

    ``ends`` must be an iterable of integers, strictly increasing from at least 1, the last
    one equal to ``size`` (no ends at all for empty content): exactly what ``cut_points``
    returns. Returns them as a list of ints.

    Raises:
        ChunkerError: the first thing wrong, named (which end, its value, the size).
    """
    if isinstance(ends, str | bytes | bytearray | memoryview):
        raise ChunkerError(f"ends must be an iterable of integers, got {type(ends).__name__}")
    try:
        items = iter(ends)  # type: ignore[call-overload]
    except TypeError:
        raise ChunkerError(
            f"ends must be an iterable of integers, got {type(ends).__name__}"
        ) from None
    out: list[int] = []
    prev = 0
    for i, item in enumerate(items):
        end = _int_param(f"ends[{i}]", item)
        if end <= prev:
            raise ChunkerError(
                f"ends must be strictly increasing from 1: ends[{i}]={end} after {prev}"
            )
        if end > size:
            raise ChunkerError(f"ends[{i}]={end} is past the end of the data ({size} bytes)")
        out.append(end)
        prev = end
    if prev != size:
        raise ChunkerError(
            f"the last end must be the data's length {size}, got "
            + (f"{prev} (ends[{len(out) - 1}])" if out else "no ends")
        )
    return out
