"""One codec API, two wire formats, chosen per connection.

Both codecs implement :class:`Codec`: ``encode(Message) -> bytes``, ``decode(bytes) ->
Message``, and ``encode_value`` / ``decode_value`` for bare payload values. Pick one by
name with :func:`get_codec` (``"msgpack"`` or ``"bincode"``); both ends of a connection must
use the same one (the transport negotiates it in its handshake).

When to use which (numbers: ``symphony bench protocol``; docs/wire-format.md):

* **msgpack** — the default. Self-describing, readable by every language, the most compact
  for free-form payloads, handles any payload value.
* **bincode** — readable by a Rust peer with plain ``#[derive(Deserialize)]`` types, and the
  fastest from Python (its ``Value``/``Envelope`` codec is the Cython kernel
  ``symphony._core.codec``); larger on the wire unless the payload schema is registered as a
  layout (``BincodeCodec(payload_layouts=...)``).
"""

from __future__ import annotations

from typing import Any, Final, Literal, Protocol

from symphony.commons.errors import LocalProtocolError
from symphony.protocol.bincode import BincodeCodec
from symphony.protocol.envelope import Message
from symphony.protocol.msgpack_codec import MsgpackCodec

__all__ = ["CODEC_NAMES", "Codec", "CodecName", "get_codec"]

CodecName = Literal["msgpack", "bincode"]
CODEC_NAMES: Final[tuple[CodecName, ...]] = ("msgpack", "bincode")


class Codec(Protocol):
    """What every wire codec offers."""

    @property
    def name(self) -> str: ...

    def encode(self, msg: Message) -> bytes: ...

    def decode(self, data: bytes | bytearray | memoryview) -> Message: ...

    def encode_value(self, value: Any) -> bytes: ...

    def decode_value(self, data: bytes | bytearray | memoryview) -> Any: ...


def get_codec(name: str) -> Codec:
    """A fresh codec instance for one connection.

    Raises:
        LocalProtocolError: ``name`` is not one of :data:`CODEC_NAMES`.
    """
    if name == "msgpack":
        return MsgpackCodec()
    if name == "bincode":
        return BincodeCodec()
    raise LocalProtocolError(f"unknown codec {name!r}; choose one of {CODEC_NAMES}")
