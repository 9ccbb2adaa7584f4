"""Wire-level types and limits shared by both codec twins (``symphony._core.codec`` and
``symphony.reference.codec``) and by :mod:`symphony.protocol`.

Lives below both, so the kernels never import the protocol package (dependencies point
down: commons <- _core/reference <- protocol).
"""

from __future__ import annotations

from typing import Final

from msgpack import ExtType

from symphony.commons.errors import CodecError, LocalProtocolError

__all__ = [
    "DEFAULT_MAX_FRAME",
    "EOF",
    "NEED_DATA",
    "EXT_BIGINT",
    "EXT_MESSAGE_ID",
    "MAX_BIGINT_BYTES",
    "MAX_DEPTH",
    "MAX_ZERO_SIZED_ITEMS",
    "VALUE_TAGS",
    "MessageId",
    "bigint_from_bytes",
    "bigint_to_bytes",
]

DEFAULT_MAX_FRAME: Final = 16 * 1024 * 1024
"""Default largest frame (16 MiB); the transports pass their configured limit."""


class _SentinelMeta(type):
    def __repr__(cls) -> str:
        return cls.__name__


class NEED_DATA(metaclass=_SentinelMeta):
    """Returned by ``next_frame``/``next_event``: feed more bytes first."""


class EOF(metaclass=_SentinelMeta):
    """Returned by ``next_frame``/``next_event``: the peer ended the stream cleanly."""


EXT_MESSAGE_ID: Final = 1
"""msgpack ext type code of a :class:`MessageId` (16 bytes of data)."""

EXT_BIGINT: Final = 2
"""msgpack ext type code of an integer outside the 64-bit range (signed big-endian bytes)."""

MAX_BIGINT_BYTES: Final = 1 << 16
"""Largest big integer carried, in bytes (an integer of about half a million bits)."""

MAX_DEPTH: Final = 64
"""Deepest nesting of bincode ``Value`` arrays/maps accepted (encode and decode)."""

MAX_ZERO_SIZED_ITEMS: Final = 1 << 16
"""Cap on the length of a bincode sequence whose items take no bytes."""

VALUE_TAGS: Final = (
    "Null",
    "Bool",
    "I64",
    "U64",
    "F64",
    "Str",
    "Bytes",
    "Array",
    "Map",
    "BigInt",
    "Timestamp",
    "Id",
    "Ext",
)
"""Variant names of the Rust ``enum Value``, in tag order (see docs/wire-format.md)."""


class MessageId(ExtType):  # type: ignore[misc]
    """A 16-byte message identifier (UUID-sized), packed by msgpack as ext type 1.

    It *is* a ``msgpack.ExtType(1, data)``, so the C packer writes it with no Python
    callback. ``str()`` gives the canonical 8-4-4-4-12 hex form. Build one with
    ``symphony.protocol.envelope.new_id``, :meth:`from_bytes` or :meth:`from_hex`.
    """

    __slots__ = ()

    @classmethod
    def from_bytes(cls, data: bytes) -> MessageId:
        """The id whose 16 bytes are ``data``."""
        if type(data) is not bytes or len(data) != 16:
            raise LocalProtocolError(f"a MessageId is 16 bytes, got {data!r}")
        return tuple.__new__(cls, (EXT_MESSAGE_ID, data))

    @classmethod
    def from_hex(cls, text: str) -> MessageId:
        """Parse the hex form (dashes allowed), as printed by ``str()``."""
        try:
            raw = bytes.fromhex(text.replace("-", ""))
        except ValueError as exc:
            raise LocalProtocolError(f"not a MessageId: {text!r}") from exc
        return cls.from_bytes(raw)

    @property
    def bytes(self) -> bytes:
        """The 16 raw bytes."""
        data: bytes = self[1]
        return data

    def __str__(self) -> str:
        h = self[1].hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def __repr__(self) -> str:
        return f"MessageId('{self}')"


def bigint_to_bytes(value: int) -> bytes:
    """Minimal two's-complement big-endian bytes of ``value`` (msgpack ext 2, bincode BigInt).

    Raises:
        CodecError: more than :data:`MAX_BIGINT_BYTES` bytes.
    """
    n = (value + (value < 0)).bit_length() // 8 + 1
    if n > MAX_BIGINT_BYTES:
        raise CodecError(f"integer of {value.bit_length()} bits is too large to encode")
    return value.to_bytes(n, "big", signed=True)


def bigint_from_bytes(data: bytes) -> int:
    """Inverse of :func:`bigint_to_bytes`; refuses empty or over-long data."""
    if not data or len(data) > MAX_BIGINT_BYTES:
        raise CodecError(f"big integer of {len(data)} bytes (allowed 1..{MAX_BIGINT_BYTES})")
    return int.from_bytes(data, "big", signed=True)
