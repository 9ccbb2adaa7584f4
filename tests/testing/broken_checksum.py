"""A deliberately broken CRC-32C, to show that ``symphony.testing`` catches a bad kernel.

It is the reference twin except that its "short input" path (fewer than 8 bytes) forgets the
running seed ``value`` -- the kind of edge-case slip a re-implementation makes (streaming
through short tails then gives the wrong checksum).
"""

from __future__ import annotations

from typing_extensions import Buffer

from symphony.reference.checksum import crc32c as _crc32c
from symphony.reference.checksum import noop, uses_hardware

__all__ = ["crc32c", "noop", "uses_hardware"]


def crc32c(data: Buffer, value: int = 0) -> int:
    if isinstance(data, bytes | bytearray) and len(data) < 8:
        return _crc32c(data)
    return _crc32c(data, value)
