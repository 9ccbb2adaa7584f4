"""The bincode-1.x layout combinators: bytes as Rust's bincode writes them, hostile input."""

from __future__ import annotations

import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from symphony.commons.errors import CodecError
from symphony.protocol import bincode as B
from symphony.protocol.envelope import MessageId

POINT = B.struct_of("Point", [("x", B.I32), ("y", B.I32)])
SHAPE = B.enum_of("Shape", [("Empty", None), ("Circle", B.F64), ("Poly", B.seq(POINT))])
OPT_STRS = B.option(B.seq(B.STR))

# value, layout, the bytes bincode 1.x writes (worked out from the rules by hand)
CASES: list[tuple[str, B.Layout, Any, bytes]] = [
    ("u8", B.U8, 255, b"\xff"),
    ("u16", B.U16, 0x1234, b"\x34\x12"),
    ("u32", B.U32, 1, b"\x01\x00\x00\x00"),
    ("u64", B.U64, (1 << 64) - 1, b"\xff" * 8),
    ("i8", B.I8, -1, b"\xff"),
    ("i16", B.I16, -2, b"\xfe\xff"),
    ("i32", B.I32, -(1 << 31), b"\x00\x00\x00\x80"),
    ("i64", B.I64, -1, b"\xff" * 8),
    ("f32", B.F32, 1.5, struct.pack("<f", 1.5)),
    ("f64", B.F64, -0.25, struct.pack("<d", -0.25)),
    ("bool", B.BOOL, True, b"\x01"),
    ("unit", B.UNIT, None, b""),
    ("String", B.STR, "hé", b"\x03" + b"\x00" * 7 + "hé".encode()),
    ("bytes", B.BYTES, b"\x00\xff", b"\x02" + b"\x00" * 7 + b"\x00\xff"),
    ("[u8;4]", B.fixed_bytes(4), b"abcd", b"abcd"),
    ("None", OPT_STRS, None, b"\x00"),
    ("Some(vec)", OPT_STRS, ["a"], b"\x01" + b"\x01" + b"\x00" * 7 + b"\x01" + b"\x00" * 7 + b"a"),
    ("struct", POINT, {"x": 1, "y": -1}, b"\x01\x00\x00\x00\xff\xff\xff\xff"),
    ("tuple", B.tuple_of(B.U8, B.U16), (1, 2), b"\x01\x02\x00"),
    ("map", B.map_of(B.U8, B.BOOL), {7: False}, b"\x01" + b"\x00" * 7 + b"\x07\x00"),
    ("unit variant", SHAPE, ("Empty", None), b"\x00\x00\x00\x00"),
    ("newtype variant", SHAPE, ("Circle", 2.0), b"\x01\x00\x00\x00" + struct.pack("<d", 2.0)),
    (
        "seq variant",
        SHAPE,
        ("Poly", [{"x": 0, "y": 1}]),
        b"\x02\x00\x00\x00" + b"\x01" + b"\x00" * 7 + b"\x00\x00\x00\x00\x01\x00\x00\x00",
    ),
    ("unit enum", B.unit_enum("Kind", ["A", "B", "C"]), 2, b"\x02\x00\x00\x00"),
    ("id", B.MESSAGE_ID, MessageId.from_bytes(bytes(16)), bytes(16)),
    ("Value::Null", B.VALUE, None, b"\x00\x00\x00\x00"),
    ("Value::Bool", B.VALUE, False, b"\x01\x00\x00\x00\x00"),
    ("Value::I64", B.VALUE, -3, b"\x02\x00\x00\x00" + struct.pack("<q", -3)),
    ("Value::U64", B.VALUE, 1 << 63, b"\x03\x00\x00\x00" + struct.pack("<Q", 1 << 63)),
    ("Value::F64", B.VALUE, 0.5, b"\x04\x00\x00\x00" + struct.pack("<d", 0.5)),
    ("Value::Str", B.VALUE, "a", b"\x05\x00\x00\x00\x01" + b"\x00" * 7 + b"a"),
    ("Value::Bytes", B.VALUE, b"a", b"\x06\x00\x00\x00\x01" + b"\x00" * 7 + b"a"),
    ("Value::Array", B.VALUE, [None], b"\x07\x00\x00\x00\x01" + b"\x00" * 7 + b"\x00" * 4),
    (
        "Value::Map",
        B.VALUE,
        {"k": None},
        b"\x08\x00\x00\x00\x01"
        + b"\x00" * 7
        + b"\x05\x00\x00\x00\x01"
        + b"\x00" * 7
        + b"k"
        + b"\x00" * 4,
    ),
    (
        "Value::BigInt",
        B.VALUE,
        1 << 64,
        b"\x09\x00\x00\x00\x09" + b"\x00" * 7 + b"\x01" + b"\x00" * 8,
    ),
    (
        "Value::Id",
        B.VALUE,
        MessageId.from_bytes(bytes(range(16))),
        b"\x0b\x00\x00\x00" + bytes(range(16)),
    ),
]


@pytest.mark.parametrize(("name", "layout", "value", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bytes_match_bincode_rules(
    name: str, layout: B.Layout, value: Any, expected: bytes
) -> None:
    assert B.encode(layout, value) == expected
    assert B.decode(layout, expected) == value


def test_value_tags_are_documented_order() -> None:
    assert B.VALUE_TAGS[0] == "Null" and B.VALUE_TAGS[12] == "Ext" and len(B.VALUE_TAGS) == 13


@pytest.mark.parametrize(
    ("layout", "value"),
    [
        (B.U8, 256),
        (B.U8, -1),
        (B.I8, 128),
        (B.U32, 1.5),
        (B.U64, True),
        (B.F64, "x"),
        (B.BOOL, 1),
        (B.STR, b"x"),
        (B.STR, "\ud800"),
        (B.BYTES, "x"),
        (B.fixed_bytes(2), b"abc"),
        (POINT, {"x": 1}),
        (POINT, {"x": 1, "y": 2, "z": 3}),
        (POINT, [1, 2]),
        (SHAPE, ("Square", 1)),
        (SHAPE, ("Empty", 1)),
        (B.seq(B.U8), "ab"),
        (B.map_of(B.STR, B.U8), []),
        (B.tuple_of(B.U8), (1, 2)),
        (B.unit_enum("K", ["A"]), 1),
        (B.UNIT, 0),
        (B.MESSAGE_ID, b"x" * 16),
        (B.VALUE, object()),
        (B.VALUE, {1, 2}),
    ],
)
def test_values_outside_the_layout_are_refused(layout: B.Layout, value: Any) -> None:
    with pytest.raises(CodecError):
        B.encode(layout, value)


def test_struct_error_names_the_field() -> None:
    with pytest.raises(CodecError, match=r"Point\.y"):
        B.encode(POINT, {"x": 1, "y": "no"})


@pytest.mark.parametrize(
    ("layout", "data", "needle"),
    [
        (B.BOOL, b"\x02", "not 0 or 1"),
        (B.option(B.U8), b"\x05", "tag"),
        (B.STR, b"\x02" + b"\x00" * 7 + b"\xff\xfe", "UTF-8"),
        (B.STR, b"\xff" * 8, "needs"),  # 2^64-1 bytes claimed: refused, nothing allocated
        (B.seq(B.U64), b"\xff" * 8 + b"\x00" * 8, "claims"),
        (B.seq(B.UNIT), b"\xff" * 8, "zero-sized"),
        (B.map_of(B.STR, B.U8), b"\x00\x00\x00\x00\x00\x00\x00\x10", "claims"),
        (SHAPE, b"\x09\x00\x00\x00", "variant 9"),
        (B.unit_enum("K", ["A"]), b"\x01\x00\x00\x00", "variant 1"),
        (B.U32, b"\x01\x00", "needs 4"),
        (B.U8, b"\x01\x02", "trailing"),
        (B.VALUE, b"\x0d\x00\x00\x00", "tag 13"),
        (B.VALUE, b"\x07\x00\x00\x00" + b"\xff" * 8, "claims"),
        (B.VALUE, b"\x0a\x00\x00\x00" + b"\x00" * 8 + b"\xff\xff\xff\xff", "nanos"),
        (B.VALUE, b"\x0a\x00\x00\x00" + struct.pack("<qI", 1 << 62, 0), "range"),
        (B.VALUE, b"\x09\x00\x00\x00" + b"\x00" * 8, "big integer"),
        (
            B.VALUE,
            b"\x08\x00\x00\x00\x01" + b"\x00" * 7 + b"\x07\x00\x00\x00" + b"\x00" * 8 + b"\x00" * 4,
            "unhashable",
        ),
    ],
)
def test_hostile_bytes_raise_codec_error(layout: B.Layout, data: bytes, needle: str) -> None:
    with pytest.raises(CodecError, match=needle):
        B.decode(layout, data)


def test_depth_limit() -> None:
    deep: Any = None
    for _ in range(B.MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(CodecError, match="MAX_DEPTH"):
        B.encode(B.VALUE, deep)
    data = b"\x07\x00\x00\x00\x01" + b"\x00" * 7
    with pytest.raises(CodecError, match="MAX_DEPTH"):
        B.decode(B.VALUE, data * (B.MAX_DEPTH + 1) + b"\x00" * 4)
    ok: Any = None
    for _ in range(B.MAX_DEPTH):
        ok = [ok]
    assert B.decode(B.VALUE, B.encode(B.VALUE, ok)) == ok


@given(st.binary(max_size=200))
def test_value_fuzz(data: bytes) -> None:
    try:
        B.decode(B.VALUE, data)
    except CodecError:
        pass


@given(st.binary(max_size=100))
def test_struct_fuzz(data: bytes) -> None:
    layout = B.struct_of("S", [("a", OPT_STRS), ("b", SHAPE), ("c", B.map_of(B.STR, B.VALUE))])
    try:
        B.decode(layout, data)
    except CodecError:
        pass


def test_payload_layout_makes_bincode_smaller() -> None:
    from symphony.protocol.envelope import Message

    layout = B.struct_of("Insert", [("view_id", B.STR), ("chars", B.STR), ("revision", B.U64)])
    plain = B.BincodeCodec()
    typed = B.BincodeCodec({("editor.insert", 1): layout})
    msg = Message.new("editor.insert", {"view_id": "v1", "chars": "abc", "revision": 3})
    assert len(typed.encode(msg)) < len(plain.encode(msg))
    assert typed.decode(typed.encode(msg)) == msg
    other = Message.new("other", {"x": 1})
    assert typed.decode(typed.encode(other)) == other
    typed.add_payload_layout("other", 1, B.struct_of("O", [("x", B.I64)]))
    assert typed.decode(typed.encode(other)) == other


def test_payload_layout_with_connection_tables() -> None:
    from symphony.protocol.envelope import Message

    layout = B.struct_of("Insert", [("view_id", B.STR), ("chars", B.STR), ("revision", B.U64)])
    codes = {("editor.insert", 1): 5}
    eids = {"core": 1, "editor": 2}
    typed = B.BincodeCodec({("editor.insert", 1): layout}, type_codes=codes, endpoints=eids)
    plain = B.BincodeCodec(type_codes=codes, endpoints=eids)
    msg = Message.new(
        "editor.insert",
        {"view_id": "v1", "chars": "abc", "revision": 3},
        source="core",
        target="editor",
        ttl_ms=100,
        metadata={"trace": "t"},
    )
    data = typed.encode(msg)
    assert len(data) < len(plain.encode(msg))
    # header (1+16+1+1+1+4+4+4+8+5+1 = 46 bytes) then the struct, then Some(metadata)
    assert data[20:24] == (5).to_bytes(4, "little") and data[45] == 0
    assert data[46:54] == (2).to_bytes(8, "little") and data[54:56] == b"v1"
    assert typed.decode(data) == msg
    unknown = Message.new("other", {"x": 1}, source="somewhere")
    assert typed.decode(typed.encode(unknown)) == unknown
    with pytest.raises(CodecError, match="unknown code 5"):
        B.BincodeCodec({("editor.insert", 1): layout}).decode(data)  # no code table
