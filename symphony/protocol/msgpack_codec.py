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

Encoding is msgpack's C ``Packer``; decoding is the codec kernel
(``symphony._core.codec.decode_msgpack_envelope``: one C reader that checks the header as it
goes; its specification and pure-Python twin, :mod:`symphony.reference.codec`, is
``msgpack.unpackb`` plus the header checks). Hostile bytes raise
:class:`~symphony.commons.errors.CodecError` (naming the problem) and nothing else: nesting
is bounded (1024 open containers, msgpack's own limit), and every length is checked against
the bytes actually present before anything is allocated, so memory stays proportional to
the input.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Final

import msgpack
from msgpack import ExtType

from symphony._wire import bigint_from_bytes, bigint_to_bytes
from symphony.commons.errors import CodecError, SymphonyError
from symphony.protocol._kernel import codec as _codec
from symphony.protocol.envelope import (
    EXT_BIGINT,
    Message,
)

__all__ = ["MsgpackCodec", "bigint_from_bytes", "bigint_to_bytes"]


def _default(obj: Any) -> Any:
    if type(obj) is int or (isinstance(obj, int) and not isinstance(obj, bool)):
        return ExtType(EXT_BIGINT, bigint_to_bytes(int(obj)))
    if isinstance(obj, _dt.datetime):
        raise CodecError(f"cannot encode naive datetime {obj!r}: give it a tzinfo")
    raise CodecError(f"cannot encode a {type(obj).__name__} value: {obj!r:.80}")


_decode_envelope = _codec.decode_msgpack_envelope
_decode_value = _codec.decode_msgpack_value


class MsgpackCodec:
    """Envelope and value codec over MessagePack (array form for the envelope).

    One instance per connection (it keeps a ``msgpack.Packer``, which is not thread-safe).
    """

    name: Final = "msgpack"

    __slots__ = ("_pack",)

    def __init__(self) -> None:
        self._pack = msgpack.Packer(default=_default, datetime=True, use_bin_type=True).pack

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

        Decoded by the codec kernel (:func:`symphony.reference.codec.decode_msgpack_envelope`
        is the specification: the values of ``msgpack.unpackb`` with this module's ext types,
        every header field checked).

        Raises:
            CodecError: the bytes are not msgpack, or not a valid envelope (names which
                field is wrong).
        """
        return Message(_decode_envelope(data))

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
        """Decode one value; exactly one, nothing after it (the codec kernel)."""
        return _decode_value(data)
