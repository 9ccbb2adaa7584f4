"""Symphony's wire language (seed M1.3): pure state machines and codecs, no I/O, no trio.

=============================  ===========================================================
module                         what
=============================  ===========================================================
:mod:`.envelope`               :class:`Message` (header + payload + metadata), builder, ids
:mod:`.codecs`                 one codec API, ``get_codec("msgpack" | "bincode")``
:mod:`.msgpack_codec`          MessagePack, array form
:mod:`.bincode`                bincode-1.x layout, schema-driven (docs/wire-format.md)
:mod:`.framing`                u32-LE length-prefixed and newline-delimited decoders
:mod:`.schema`                 message schemas; validation reporting every violation
:mod:`.registry`               schemas by (type, version); compatibility checks
:mod:`.jsonrpc`                JSON-RPC 2.0 connection (sans-I/O) and a dispatcher
:mod:`.editor`                 editor operations and events as typed, validated messages
:mod:`.pretty`                 verbose and one-line renderings for logs
=============================  ===========================================================
"""

from __future__ import annotations

from symphony.protocol.bincode import BincodeCodec as BincodeCodec
from symphony.protocol.codecs import Codec as Codec
from symphony.protocol.codecs import get_codec as get_codec
from symphony.protocol.envelope import PROTOCOL_VERSION as PROTOCOL_VERSION
from symphony.protocol.envelope import Kind as Kind
from symphony.protocol.envelope import Message as Message
from symphony.protocol.envelope import MessageBuilder as MessageBuilder
from symphony.protocol.envelope import MessageId as MessageId
from symphony.protocol.envelope import Priority as Priority
from symphony.protocol.envelope import new_id as new_id
from symphony.protocol.framing import EOF as EOF
from symphony.protocol.framing import NEED_DATA as NEED_DATA
from symphony.protocol.framing import FrameDecoder as FrameDecoder
from symphony.protocol.framing import LineDecoder as LineDecoder
from symphony.protocol.framing import encode_frame as encode_frame
from symphony.protocol.framing import encode_line as encode_line
from symphony.protocol.jsonrpc import Dispatcher as Dispatcher
from symphony.protocol.jsonrpc import JsonRpcClient as JsonRpcClient
from symphony.protocol.jsonrpc import JsonRpcConnection as JsonRpcConnection
from symphony.protocol.jsonrpc import JsonRpcServer as JsonRpcServer
from symphony.protocol.msgpack_codec import MsgpackCodec as MsgpackCodec
from symphony.protocol.pretty import compact as compact
from symphony.protocol.pretty import pretty as pretty
from symphony.protocol.registry import MessageRegistry as MessageRegistry
from symphony.protocol.schema import MessageSchema as MessageSchema
from symphony.protocol.schema import validate as validate

__all__ = [
    "EOF",
    "NEED_DATA",
    "PROTOCOL_VERSION",
    "BincodeCodec",
    "Codec",
    "Dispatcher",
    "FrameDecoder",
    "JsonRpcClient",
    "JsonRpcConnection",
    "JsonRpcServer",
    "Kind",
    "LineDecoder",
    "Message",
    "MessageBuilder",
    "MessageId",
    "MessageRegistry",
    "MessageSchema",
    "MsgpackCodec",
    "Priority",
    "compact",
    "encode_frame",
    "encode_line",
    "get_codec",
    "new_id",
    "pretty",
    "validate",
]
