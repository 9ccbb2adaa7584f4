"""MessagePack codec (the ``msgpack`` package), positional form.

The envelope is written as a msgpack *array* of its 13 fields in wire order (see
:mod:`symphony.protocol.envelope`): about a quarter smaller and faster than a map, and
because :class:`~symphony.protocol.envelope.Message` is a tuple, the C packer writes it with
no Python code at all.

Payload and metadata values:

=====================  ==============================================================
Python                 msgpack
=====================  ==============================================================
None, bool, float      nil, bool, float 64
int in [-2⁶³, 2⁶⁴)     int (smallest form)
any other int          ext 2: two's-complement big-endian bytes (minimal length)
str / bytes            str (UTF-8) / bin
list / tuple           array (decoded as ``list``)
dict                   map (keys: str, bytes, int, float, bool or None)
MessageId              ext 1: 16 bytes
aware datetime         timestamp (ext -1), decoded as a UTC ``datetime``
msgpack.ExtType        ext (other codes passed through)
=====================  ==============================================================

Decoding hostile bytes raises :class:`~symphony.commons.errors.CodecError` (naming the
problem) and nothing else. The C unpacker bounds nesting depth (its fixed stack of 1024
levels), and every length is checked against the bytes actually present before anything is
allocated, so memory stays proportional to the input.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Final

import msgpack
from msgpack import ExtType

from symphony._wire import bigint_from_bytes, bigint_to_bytes
from symphony.commons.errors import CodecError, SymphonyError
from symphony.protocol.envelope import (
    EXT_BIGINT,
    EXT_MESSAGE_ID,
    N_FIELDS,
    Message,
    MessageId,
    header_problem,
)

__all__ = ["MsgpackCodec", "bigint_from_bytes", "bigint_to_bytes"]

_tuple_new = tuple.__new__


def _default(obj: Any) -> Any:
    if type(obj) is int or (isinstance(obj, int) and not isinstance(obj, bool)):
        return ExtType(EXT_BIGINT, bigint_to_bytes(int(obj)))
    if isinstance(obj, _dt.datetime):
        raise CodecError(f"cannot encode naive datetime {obj!r}: give it a tzinfo")
    raise CodecError(f"cannot encode a {type(obj).__name__} value: {obj!r:.80}")


def _ext_hook(code: int, data: bytes) -> Any:
    if code == EXT_MESSAGE_ID:
        if len(data) != 16:
            raise CodecError(f"ext {EXT_MESSAGE_ID} (MessageId) with {len(data)} bytes, not 16")
        return _tuple_new(MessageId, (EXT_MESSAGE_ID, data))
    if code == EXT_BIGINT:
        return bigint_from_bytes(data)
    return ExtType(code, data)


class MsgpackCodec:
    """Envelope and value codec over MessagePack (array form for the envelope).

    One instance per connection (it keeps a ``msgpack.Packer``, which is not thread-safe).
    """

    name: Final = "msgpack"

    __slots__ = ("_pack", "_unpackb")

    def __init__(self) -> None:
        self._pack = msgpack.Packer(default=_default, datetime=True, use_bin_type=True).pack
        self._unpackb = msgpack.unpackb

    # ---------------------------------------------------------------- envelopes
    def encode(self, msg: Message) -> bytes:
        """The bytes of ``msg`` (array form).

        Raises:
            CodecError: a value in the payload or metadata has no msgpack form.
        """
        try:
            data: bytes = self._pack(msg)
        except SymphonyError:
            raise
        except Exception as exc:
            raise CodecError(f"msgpack cannot encode message: {type(exc).__name__}: {exc}") from exc
        return data

    def decode(self, data: bytes | bytearray | memoryview) -> Message:
        """The :class:`Message` in ``data`` (exactly one, nothing after it).

        Raises:
            CodecError: the bytes are not msgpack, or not a valid envelope (names which
                field is wrong).
        """
        try:
            t = self._unpackb(data, ext_hook=_ext_hook, timestamp=3, strict_map_key=False)
        except SymphonyError:
            raise
        except Exception as exc:
            raise CodecError(f"bad msgpack envelope: {type(exc).__name__}: {exc}") from exc
        # The fast path checks every header field in one expression on locals; the slow
        # path below names the bad one.
        if type(t) is list and len(t) == N_FIELDS:
            pv, mid, cid, kind, typ, ver, src, tgt, ts, ttl, prio, _, meta = t
            if (
                pv == 1
                and type(mid) is MessageId
                and (cid is None or type(cid) is MessageId)
                and type(kind) is int
                and 0 <= kind <= 4
                and type(typ) is str
                and type(ver) is int
                and 0 <= ver <= 0xFFFFFFFF
                and type(src) is str
                and type(tgt) is str
                and type(ts) is int
                and ts >= 0
                and (ttl is None or (type(ttl) is int and ttl >= 0))
                and type(prio) is int
                and 0 <= prio <= 3
                and type(meta) is dict
                and type(pv) is int
            ):
                for k in meta:
                    if type(k) is not str:
                        break
                else:
                    return Message(t)
        if type(t) is not list:
            raise CodecError(f"msgpack envelope is a {type(t).__name__}, not an array")
        raise CodecError(f"bad msgpack envelope: {header_problem(tuple(t))}")

    # ---------------------------------------------------------------- bare values
    def encode_value(self, value: Any) -> bytes:
        """Encode any payload value (see the module docstring's table)."""
        try:
            data: bytes = self._pack(value)
        except SymphonyError:
            raise
        except Exception as exc:
            raise CodecError(f"msgpack cannot encode value: {type(exc).__name__}: {exc}") from exc
        return data

    def decode_value(self, data: bytes | bytearray | memoryview) -> Any:
        """Decode one value; exactly one, nothing after it."""
        try:
            return self._unpackb(data, ext_hook=_ext_hook, timestamp=3, strict_map_key=False)
        except SymphonyError:
            raise
        except Exception as exc:
            raise CodecError(f"bad msgpack value: {type(exc).__name__}: {exc}") from exc
