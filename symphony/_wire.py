"""Wire-level types and limits shared by both codec twins (``symphony._core.codec`` and
``symphony.reference.codec``) and by :mod:`symphony.protocol`.

Lives below both, so the kernels never import the protocol package (dependencies point
down: commons <- _core/reference <- protocol).
"""

from __future__ import annotations

from typing import Any, Final

from msgpack import ExtType

from symphony.commons.errors import CodecError, LocalProtocolError

__all__ = [
    "DEFAULT_MAX_FRAME",
    "FIELDS",
    "N_FIELDS",
    "PROTOCOL_VERSION",
    "header_problem",
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


# ----------------------------------------------------------------------------- envelope
PROTOCOL_VERSION: Final = 1
"""The envelope layout version written in field 0 of every message."""


FIELDS: Final = (
    "protocol_version",
    "id",
    "correlation_id",
    "kind",
    "type",
    "version",
    "source",
    "target",
    "timestamp",
    "ttl_ms",
    "priority",
    "payload",
    "metadata",
)
"""Field names in wire order."""

N_FIELDS: Final = len(FIELDS)


def _is_id(v: object) -> bool:
    return (
        type(v) is MessageId
        and len(v) == 2
        and v[0] == EXT_MESSAGE_ID
        and (type(v[1]) is bytes and len(v[1]) == 16)
    )


def _is_int(v: object, lo: int, hi: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


_U64_MAX: Final = (1 << 64) - 1
_U32_MAX: Final = (1 << 32) - 1


def header_problem(fields: tuple[Any, ...]) -> str | None:
    """Why ``fields`` is not a valid envelope, or ``None`` if it is (used by every decoder)."""
    if len(fields) != N_FIELDS:
        return f"expected {N_FIELDS} fields, got {len(fields)}"
    pv, mid, cid, kind, typ, ver, src, tgt, ts, ttl, prio, _payload, meta = fields
    if pv != PROTOCOL_VERSION or type(pv) is not int:
        return f"protocol_version {pv!r} is not {PROTOCOL_VERSION}"
    if not _is_id(mid):
        return f"id {mid!r} is not a MessageId"
    if cid is not None and not _is_id(cid):
        return f"correlation_id {cid!r} is not a MessageId or None"
    if not _is_int(kind, 0, 4):
        return f"kind {kind!r} is not 0..4"
    if type(typ) is not str:
        return f"type {typ!r} is not a str"
    if not _is_int(ver, 0, _U32_MAX):
        return f"version {ver!r} is not a u32"
    if type(src) is not str:
        return f"source {src!r} is not a str"
    if type(tgt) is not str:
        return f"target {tgt!r} is not a str"
    if not _is_int(ts, 0, _U64_MAX):
        return f"timestamp {ts!r} is not a u64 of nanoseconds"
    if ttl is not None and not _is_int(ttl, 0, _U64_MAX):
        return f"ttl_ms {ttl!r} is not a u64 or None"
    if not _is_int(prio, 0, 3):
        return f"priority {prio!r} is not 0..3"
    if type(meta) is not dict or not all(type(k) is str for k in meta):
        return f"metadata {meta!r} is not a dict with str keys"
    return None
