"""Both codecs: round trips (property tests), hostile bytes, golden vectors."""

from __future__ import annotations

import datetime as dt
import json
import math
import struct
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from symphony.commons.errors import CodecError, LocalProtocolError
from symphony.protocol.bincode import BincodeCodec
from symphony.protocol.codecs import CODEC_NAMES, Codec, get_codec
from symphony.protocol.envelope import Kind, Message, MessageId, Priority
from symphony.protocol.msgpack_codec import MsgpackCodec, bigint_from_bytes, bigint_to_bytes

from .strategies import messages, values

VECTORS = Path(__file__).parent / "vectors"


@pytest.fixture(scope="session", params=CODEC_NAMES)
def codec(request: pytest.FixtureRequest) -> Codec:
    return get_codec(request.param)


def test_get_codec_unknown() -> None:
    with pytest.raises(LocalProtocolError, match="unknown codec"):
        get_codec("xml")


@given(msg=messages())
def test_envelope_round_trip(codec: Codec, msg: Message) -> None:
    data = codec.encode(msg)
    back = codec.decode(data)
    assert back == msg
    assert back.kind == msg.kind and back.priority == msg.priority
    assert codec.encode(back) == data  # canonical: re-encoding gives the same bytes


@given(value=values)
def test_value_round_trip(codec: Codec, value: Any) -> None:
    assert codec.decode_value(codec.encode_value(value)) == value


@pytest.mark.parametrize(
    "payload",
    [
        None,
        {},
        [],
        "",
        b"",
        "ünïcødé ☃ 𝄞",
        {"nested": {"deeper": [[[[{"x": [1, 2.5, None, True, b"\x00"]}]]]]}},
        1 << 64,
        -(1 << 63) - 1,
        (1 << 64) - 1,
        -(1 << 63),
        10**40,
        -(10**40),
        float("inf"),
        -0.0,
        dt.datetime(2026, 11, 24, 6, 0, 0, 123456, tzinfo=dt.UTC),
        MessageId.from_bytes(bytes(range(16))),
        msgpack.ExtType(42, b"raw"),
        "x" * (1 << 20),
        b"\xff" * (1 << 20),
        list(range(10_000)),
    ],
    ids=lambda p: type(p).__name__ + str(len(p) if hasattr(p, "__len__") else ""),
)
def test_payload_edge_cases(codec: Codec, payload: Any) -> None:
    msg = Message.new("t", payload, metadata={"m": payload})
    assert codec.decode(codec.encode(msg)) == msg


def test_nan_survives(codec: Codec) -> None:
    back = codec.decode_value(codec.encode_value(float("nan")))
    assert math.isnan(back)


def test_datetime_keeps_instant_across_timezones(codec: Codec) -> None:
    tz = dt.timezone(dt.timedelta(hours=5))
    when = dt.datetime(2020, 1, 1, 12, 0, tzinfo=tz)
    back = codec.decode_value(codec.encode_value(when))
    assert back == when and back.tzinfo is not None


@pytest.mark.parametrize(
    "bad",
    [object(), {1, 2}, dt.datetime(2020, 1, 1), 1 << 600000],
    ids=["object", "set", "naive-datetime", "int-of-600k-bits"],
)
def test_unencodable_values_raise_codec_error(codec: Codec, bad: Any) -> None:
    with pytest.raises(CodecError):
        codec.encode(Message.new("t", {"k": bad}))


def test_bigint_bytes() -> None:
    for n in [0, 1, -1, 127, 128, -128, -129, 1 << 64, -(1 << 64), 10**50]:
        b = bigint_to_bytes(n)
        assert bigint_from_bytes(b) == n
        assert len(b) == max(1, ((n + (n < 0)).bit_length() + 8) // 8)
    with pytest.raises(CodecError):
        bigint_from_bytes(b"")


# ----------------------------------------------------------------------- hostile input
@given(data=st.binary(max_size=300))
def test_decode_garbage(codec: Codec, data: bytes) -> None:
    try:
        msg = codec.decode(data)
    except CodecError as exc:
        assert str(exc)  # noqa: PT017 - any input: a value or a named error
    else:
        assert isinstance(msg, Message)
        msg.check()


@given(data=st.binary(max_size=300))
def test_decode_value_garbage(codec: Codec, data: bytes) -> None:
    try:
        codec.decode_value(data)
    except CodecError:
        pass


@given(msg=messages(), cut=st.integers(min_value=0), flip=st.integers(min_value=0, max_value=255))
def test_truncated_and_corrupted(codec: Codec, msg: Message, cut: int, flip: int) -> None:
    data = codec.encode(msg)
    cut %= len(data)
    with pytest.raises(CodecError):
        codec.decode(data[:cut])
    corrupted = bytearray(data)
    corrupted[cut] ^= flip or 1
    try:
        back = codec.decode(bytes(corrupted))
    except CodecError:
        pass
    else:
        back.check()


def test_msgpack_header_problems_are_named() -> None:
    c = MsgpackCodec()
    good = list(
        msgpack.unpackb(
            c.encode(Message.new("t")),
            strict_map_key=False,
            raw=False,
            ext_hook=lambda code, data: msgpack.ExtType(code, data),
        )
    )
    for index, value, needle in [
        (3, 7, "kind"),
        (10, 9, "priority"),
        (0, 2, "protocol_version"),
        (12, {1: 2}, "metadata"),
        (5, -1, "version"),
    ]:
        bad = list(good)
        bad[index] = value
        with pytest.raises(CodecError, match=needle):
            c.decode(msgpack.packb(bad))
    with pytest.raises(CodecError, match="not an array"):
        c.decode(msgpack.packb({"a": 1}))
    with pytest.raises(CodecError, match="expected 13 fields"):
        c.decode(msgpack.packb([1, 2]))
    with pytest.raises(CodecError, match="16"):
        c.decode_value(msgpack.packb(msgpack.ExtType(1, b"short")))


def test_msgpack_huge_length_prefix_is_refused_cheaply() -> None:
    c = MsgpackCodec()
    # str32 header claiming 4 GiB, then 3 bytes
    with pytest.raises(CodecError):
        c.decode_value(b"\xdb\xff\xff\xff\xffabc")
    with pytest.raises(CodecError):
        c.decode_value(b"\xdd\xff\xff\xff\xff")  # array32 of 4G items, no items
    with pytest.raises(CodecError):
        c.decode_value(b"\x91" * 5000)  # nesting beyond the unpacker's stack


def test_msgpack_is_array_form_and_smaller_than_map() -> None:
    msg = Message.new("editor.insert", {"a": 1}, source="core")
    data = MsgpackCodec().encode(msg)
    assert data[0] == 0x9D  # fixarray of 13
    as_map = msgpack.packb(
        {k: (v.bytes if isinstance(v, MessageId) else v) for k, v in msg.as_dict().items()}
    )
    assert len(data) < len(as_map)


# ----------------------------------------------------------------------- golden vectors
def _vector_messages() -> dict[str, Message]:
    mid = MessageId.from_bytes(bytes(range(16)))
    cid = MessageId.from_bytes(bytes(range(16, 32)))
    return {
        "heartbeat": Message(
            (
                1,
                mid,
                None,
                Kind.HEARTBEAT,
                "hb",
                1,
                "core",
                "",
                1_700_000_000_000_000_000,
                None,
                Priority.LOW,
                None,
                {},
            )
        ),
        "request": Message(
            (
                1,
                mid,
                None,
                Kind.REQUEST,
                "editor.insert",
                2,
                "core",
                "editor",
                1_700_000_000_123_456_789,
                5000,
                Priority.HIGH,
                {
                    "view_id": "view-1",
                    "chars": "hé",
                    "n": -2,
                    "big": 1 << 70,
                    "ok": True,
                    "f": 0.5,
                    "raw": b"\x00\x01",
                    "list": [1, None],
                },
                {"trace": "t-1"},
            )
        ),
        "response": Message(
            (
                1,
                cid,
                mid,
                Kind.RESPONSE,
                "editor.insert",
                2,
                "editor",
                "core",
                1_700_000_000_123_456_790,
                None,
                Priority.CRITICAL,
                {
                    "id": mid,
                    "when": dt.datetime(2023, 11, 14, 22, 13, 20, 5, tzinfo=dt.UTC),
                },
                {},
            )
        ),
    }


def _vector_codec(form: str) -> Codec:
    """The codec of a golden vector form: msgpack, bincode with the vectors' connection
    tables (message type codes, interned endpoints), or bincode with no tables."""
    if form == "msgpack":
        return get_codec("msgpack")
    if form == "bincode_names":
        return BincodeCodec()
    tables = json.loads((VECTORS / "envelopes.json").read_text())["tables"]
    return BincodeCodec(
        type_codes={(t, v): c for t, v, c in tables["type_codes"]},
        endpoints={n: i for n, i in tables["endpoints"]},
    )


VECTOR_FORMS = ("msgpack", "bincode", "bincode_names")


@pytest.mark.parametrize("name", ["heartbeat", "request", "response"])
@pytest.mark.parametrize("form", VECTOR_FORMS)
def test_golden_vectors(form: str, name: str) -> None:
    vectors = json.loads((VECTORS / "envelopes.json").read_text())
    expected = bytes.fromhex(vectors[form][name])
    codec = _vector_codec(form)
    msg = _vector_messages()[name]
    assert codec.encode(msg).hex() == expected.hex()
    assert codec.decode(expected) == msg


_HB_HEAD = [
    struct.pack("<B", 1),  # protocol_version: u8
    bytes(range(16)),  # id: [u8; 16]
    b"\x00",  # correlation_id: Option<[u8; 16]> = None
    struct.pack("<B", 4),  # kind: u8, heartbeat
    struct.pack("<B", 0),  # priority: u8, low
]
_HB_TAIL = [
    struct.pack("<I", 0),  # payload: Value::Null
    b"\x00",  # metadata: Option<HashMap<String, Value>> = None (empty)
]


def test_bincode_heartbeat_bytes_by_hand() -> None:
    """The layout of docs/wire-format.md, written out independently of the encoder: with
    the connection's tables (code 1 = ("hb", 1), endpoint 1 = "core")."""
    expected = b"".join(
        [
            *_HB_HEAD,
            struct.pack("<I", 1),  # message_type: u32 code 1 = ("hb", 1)
            struct.pack("<I", 1),  # source: u32 endpoint id 1 = "core"
            struct.pack("<I", 0),  # target: u32 0 = "" (unspecified)
            struct.pack("<Q", 1_700_000_000_000_000_000),  # timestamp: u64 ns
            b"\x00",  # ttl_ms: Option<u32> = None
            b"\x00",  # names: Option<Names> = None
            *_HB_TAIL,
        ]
    )
    assert len(expected) == 47
    codec = _vector_codec("bincode")
    msg = _vector_messages()["heartbeat"]
    assert codec.encode(msg) == expected
    assert codec.decode(expected) == msg


def test_bincode_heartbeat_by_name_bytes_by_hand() -> None:
    """No tables: the type and the source travel in ``Names``, the numbers are 0."""
    expected = b"".join(
        [
            *_HB_HEAD,
            struct.pack("<III", 0, 0, 0),  # message_type, source, target: by name / ""
            struct.pack("<Q", 1_700_000_000_000_000_000),  # timestamp
            b"\x00",  # ttl_ms: None
            b"\x01",  # names: Some(Names {
            b"\x01" + struct.pack("<Q", 2) + b"hb" + struct.pack("<I", 1),  # Some(("hb", 1))
            b"\x01" + struct.pack("<Q", 4) + b"core",  # source: Some("core")
            b"\x00",  # target: None })
            *_HB_TAIL,
        ]
    )
    codec = BincodeCodec()
    msg = _vector_messages()["heartbeat"]
    assert codec.encode(msg) == expected
    assert codec.decode(expected) == msg


def _header_size(codec: Codec, msg: Message) -> int:
    """Bytes of the header alone: the message with payload None and no metadata, less the
    bytes those two take (msgpack nil + empty map = 2, bincode Value::Null + None = 5)."""
    bare = Message((*msg[:11], None, {}))
    return len(codec.encode(bare)) - (2 if codec.name == "msgpack" else 5)


@pytest.mark.parametrize("name", ["heartbeat", "request", "response"])
def test_bincode_header_is_smaller_than_msgpack_with_tables(name: str) -> None:
    msg = _vector_messages()[name]
    mp = _header_size(_vector_codec("msgpack"), msg)
    bc = _header_size(_vector_codec("bincode"), msg)
    assert (mp, bc) == {"heartbeat": (43, 42), "request": (62, 46), "response": (77, 58)}[name]


def test_bincode_tables_must_agree() -> None:
    msg = _vector_messages()["request"]
    data = _vector_codec("bincode").encode(msg)
    with pytest.raises(CodecError, match="unknown code 2"):
        BincodeCodec().decode(data)
    with pytest.raises(CodecError, match="unknown endpoint id"):
        BincodeCodec(type_codes={("editor.insert", 2): 2}).decode(data)
    other = BincodeCodec(type_codes={("other", 1): 2}, endpoints={"a": 1, "b": 2})
    assert other.decode(data).type == "other"  # the tables are the contract: keep them equal


@pytest.mark.parametrize(
    "kwargs",
    [
        {"type_codes": {("a", 1): 0}},
        {"type_codes": {("a", 1): 1 << 32}},
        {"type_codes": {("a", 1): 1, ("b", 1): 1}},
        {"type_codes": {"a": 1}},
        {"endpoints": {"": 1}},
        {"endpoints": {"a": True}},
    ],
)
def test_bincode_bad_tables(kwargs: dict[str, Any]) -> None:
    with pytest.raises(CodecError):
        BincodeCodec(**kwargs)


def test_bincode_ttl_is_u32_msgpack_carries_u64() -> None:
    msg = Message.new("t", ttl_ms=1 << 40)
    with pytest.raises(CodecError, match="ttl_ms"):
        BincodeCodec().encode(msg)
    assert get_codec("msgpack").decode(get_codec("msgpack").encode(msg)) == msg
    ok = Message.new("t", ttl_ms=0xFFFFFFFF)
    assert BincodeCodec().decode(BincodeCodec().encode(ok)) == ok


@given(messages(), st.booleans())
def test_bincode_round_trip_with_tables(msg: Message, intern: bool) -> None:
    codec = BincodeCodec(
        type_codes={(msg.type, msg.version): 7} if intern else {("x", 1): 7},
        endpoints={n: i for i, n in enumerate({msg.source, msg.target} - {""}, 1)}
        if intern
        else {},
    )
    assert codec.decode(codec.encode(msg)) == msg
