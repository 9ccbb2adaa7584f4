"""CRC-32C (Castagnoli) and a no-op — the smallest kernel, proving the twin machinery.

CRC-32C uses the reflected polynomial ``0x82F63B78``, initial value and final XOR
``0xFFFFFFFF`` (the iSCSI / ext4 / RFC 3720 checksum). ``crc32c(b"123456789") ==
0xE3069283``. Like :func:`zlib.crc32`, ``value`` continues a running checksum:
``crc32c(b, crc32c(a)) == crc32c(a + b)``.

Used for integrity words in ring records and pack files.
"""

from __future__ import annotations

from typing_extensions import Buffer

from symphony.reference._buffer import byte_view

__all__ = ["crc32c", "noop", "uses_hardware"]

_POLY = 0x82F63B78


def _make_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _make_table()


def crc32c(data: Buffer, value: int = 0) -> int:
    """CRC-32C of ``data``, continuing ``value`` (a previous result, or 0 to start).

    Args:
        data: any C-contiguous buffer (bytes, bytearray, memoryview, mmap, array …).
        value: a previous ``crc32c`` result to continue from, in ``[0, 2**32)``.

    Returns:
        The checksum as an ``int`` in ``[0, 2**32)``.

    Raises:
        TypeError: ``data`` is a ``str`` or not a buffer.
        BufferError: ``data`` is not contiguous.
        ValueError: ``value`` is out of range.
    """
    if not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"crc32c value must be in [0, 2**32), got {value!r}")
    crc = value ^ 0xFFFFFFFF
    table = _TABLE
    for byte in byte_view(data, "crc32c data"):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def uses_hardware() -> bool:
    """True when a hardware instruction computes the checksum; never for this twin."""
    return False


def noop() -> None:
    """Do nothing: measures the cost of calling into a kernel."""
    return None
