"""The bincode Value/Envelope codec kernel, under both implementations."""

from __future__ import annotations

import datetime as dt
import inspect
import json
import mmap
import struct
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from msgpack import ExtType

from symphony._wire import MAX_DEPTH, MessageId
from symphony.commons.errors import CodecError, FrameTooLarge, InvalidFrame, LocalProtocolError
from symphony.reference import codec as ref

ENVELOPES = Path(__file__).parent.parent / "protocol" / "vectors" / "envelopes.json"
MID = MessageId.from_bytes(bytes(range(16)))


@pytest.fixture(scope="session")
def codec_mod(impl: Any) -> ModuleType:
    return impl.load("codec")


def test_same_public_api(codec_mod: ModuleType) -> None:
    assert sorted(codec_mod.__all__) == sorted(ref.__all__)

    def params(fn: Any) -> list[tuple[str, Any, Any]]:
        return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]

    for name in ref.__all__:
        if isinstance(getattr(ref, name), type):
            cls, spec_cls = getattr(codec_mod, name), getattr(ref, name)
            public = {m for m in vars(spec_cls) if not m.startswith("_")} | {"__iter__"}
            assert public <= set(dir(cls)), name
            for m in public - {"buffered", "eof", "max_frame", "offset", "__iter__"}:
                assert params(getattr(cls, m)) == params(getattr(spec_cls, m)), f"{name}.{m}"
            continue
        ours = inspect.signature(getattr(codec_mod, name)).parameters.values()
        spec = inspect.signature(getattr(ref, name)).parameters.values()
        assert [(p.name, p.kind, p.default) for p in ours] == [
            (p.name, p.kind, p.default) for p in spec
        ], name


def test_cython_module_is_compiled(impl: Any) -> None:
    mod = impl.load("codec")
    if impl.name == "cython":
        assert mod.__file__.endswith(".so")


# value -> its exact bytes (worked out from the bincode rules; see docs/wire-format.md)
VALUES: list[tuple[Any, bytes]] = [
    (None, b"\x00\x00\x00\x00"),
    (True, b"\x01\x00\x00\x00\x01"),
    (-3, b"\x02\x00\x00\x00" + struct.pack("<q", -3)),
    (1 << 63, b"\x03\x00\x00\x00" + struct.pack("<Q", 1 << 63)),
    (0.5, b"\x04\x00\x00\x00" + struct.pack("<d", 0.5)),
    ("hé", b"\x05\x00\x00\x00" + struct.pack("<Q", 3) + "hé".encode()),
    (b"\x00", b"\x06\x00\x00\x00" + struct.pack("<Q", 1) + b"\x00"),
    ([None], b"\x07\x00\x00\x00" + struct.pack("<Q", 1) + b"\x00" * 4),
    (
        {"k": 1},
        b"\x08\x00\x00\x00"
        + struct.pack("<Q", 1)
        + b"\x05\x00\x00\x00"
        + struct.pack("<Q", 1)
        + b"k"
        + b"\x02\x00\x00\x00"
        + struct.pack("<q", 1),
    ),
    (-(1 << 64), b"\x09\x00\x00\x00" + struct.pack("<Q", 9) + b"\xff" + b"\x00" * 8),
    (
        dt.datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=dt.UTC),
        b"\x0a\x00\x00\x00" + struct.pack("<qI", 1, 5000),
    ),
    (MID, b"\x0b\x00\x00\x00" + bytes(range(16))),
    (ExtType(5, b"ab"), b"\x0c\x00\x00\x00\x05" + struct.pack("<Q", 2) + b"ab"),
]


@pytest.mark.parametrize(("value", "expected"), VALUES, ids=[str(i) for i in range(len(VALUES))])
def test_value_bytes(codec_mod: ModuleType, value: Any, expected: bytes) -> None:
    assert codec_mod.encode_value(value) == expected
    assert codec_mod.decode_value(expected) == (value, len(expected))
    assert codec_mod.decode_value(b"xx" + expected, 2) == (value, len(expected) + 2)


def test_subclasses_and_rare_types(codec_mod: ModuleType) -> None:
    import enum

    class E(enum.IntEnum):
        A = 7

    class S(str):
        pass

    assert codec_mod.encode_value(E.A) == codec_mod.encode_value(7)
    assert codec_mod.encode_value(S("x")) == codec_mod.encode_value("x")
    assert codec_mod.encode_value((1, 2)) == codec_mod.encode_value([1, 2])
    assert codec_mod.encode_value(bytearray(b"a")) == codec_mod.encode_value(b"a")
    assert codec_mod.encode_value(memoryview(b"a")) == codec_mod.encode_value(b"a")


@pytest.mark.parametrize(
    "bad",
    [
        object(),
        {1, 2},
        dt.datetime(2020, 1, 1),
        "\ud800",
        1 << 600000,
        tuple.__new__(ExtType, (300, b"")),
        tuple.__new__(MessageId, (1, b"short")),
    ],
    ids=["object", "set", "naive", "surrogate", "huge-int", "ext-code", "short-id"],
)
def test_unencodable(codec_mod: ModuleType, bad: Any) -> None:
    with pytest.raises(CodecError):
        codec_mod.encode_value({"k": [bad]})


def test_depth_limit(codec_mod: ModuleType) -> None:
    ok: Any = None
    for _ in range(MAX_DEPTH):
        ok = [ok]
    assert codec_mod.decode_value(codec_mod.encode_value(ok))[0] == ok
    with pytest.raises(CodecError, match="MAX_DEPTH"):
        codec_mod.encode_value([ok])
    with pytest.raises(CodecError, match="MAX_DEPTH"):
        codec_mod.decode_value(
            (b"\x07\x00\x00\x00" + struct.pack("<Q", 1)) * (MAX_DEPTH + 1) + b"\x00" * 4
        )


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "needs 4"),
        (b"\x0d\x00\x00\x00", "tag 13"),
        (b"\x05\x00\x00\x00" + b"\xff" * 8, "needs"),
        (b"\x07\x00\x00\x00" + b"\xff" * 8, "claims"),
        (b"\x08\x00\x00\x00" + struct.pack("<Q", 1 << 60), "claims"),
        (b"\x01\x00\x00\x00\x02", "not 0 or 1"),
        (b"\x05\x00\x00\x00" + struct.pack("<Q", 1) + b"\xff", "UTF-8"),
        (b"\x0a\x00\x00\x00" + struct.pack("<qI", 0, 10**9), "nanos"),
        (b"\x0a\x00\x00\x00" + struct.pack("<qI", 1 << 62, 0), "range"),
        (b"\x09\x00\x00\x00" + struct.pack("<Q", 0), "big integer"),
        (
            b"\x08\x00\x00\x00"
            + struct.pack("<Q", 1)
            + b"\x07\x00\x00\x00"
            + struct.pack("<Q", 0)
            + b"\x00" * 4,
            "unhashable",
        ),
        (b"\x0c\x00\x00\x00\x01" + b"\xff" * 8, "needs"),
        (b"\x0c\x00\x00\x00\xff" + struct.pack("<Q", 0), "code -1"),
    ],
)
def test_hostile_values(codec_mod: ModuleType, data: bytes, needle: str) -> None:
    with pytest.raises(CodecError, match=needle):
        codec_mod.decode_value(data)


def test_offset_and_buffers(codec_mod: ModuleType) -> None:
    data = codec_mod.encode_value([1, "a"])
    with pytest.raises(CodecError):
        codec_mod.decode_value(data, len(data) + 1)
    with pytest.raises(TypeError):
        codec_mod.decode_value("text")
    with mmap.mmap(-1, len(data)) as m:
        m.write(data)
        assert codec_mod.decode_value(m) == ([1, "a"], len(data))
    assert codec_mod.decode_value(bytearray(data))[0] == [1, "a"]


def _tables() -> tuple[dict[Any, int], dict[str, int], dict[int, Any], dict[int, str]]:
    t = json.loads(ENVELOPES.read_text())["tables"]
    codes = {(name, v): c for name, v, c in t["type_codes"]}
    eids = {n: i for n, i in t["endpoints"]}
    return codes, eids, {c: k for k, c in codes.items()}, {i: n for n, i in eids.items()}


@pytest.mark.parametrize("name", ["heartbeat", "request", "response"])
def test_envelope_golden_vectors(codec_mod: ModuleType, name: str) -> None:
    vectors = json.loads(ENVELOPES.read_text())
    codes, eids, names, enames = _tables()
    data = bytes.fromhex(vectors["bincode"][name])
    fields = codec_mod.decode_envelope(data, names, enames)
    assert len(fields) == 13
    assert codec_mod.encode_envelope(fields, codes, eids) == data
    assert fields == ref.decode_envelope(data, names, enames)
    by_name = bytes.fromhex(vectors["bincode_names"][name])
    assert codec_mod.encode_envelope(fields) == by_name
    assert codec_mod.decode_envelope(by_name) == fields
    assert codec_mod.decode_envelope(by_name, names, enames) == fields  # names need no table


def test_envelope_errors(codec_mod: ModuleType) -> None:
    codes, eids, names, enames = _tables()
    for form, tables in [("bincode", (names, enames)), ("bincode_names", (None, None))]:
        data = bytes.fromhex(json.loads(ENVELOPES.read_text())[form]["request"])
        for cut in range(len(data)):
            with pytest.raises(CodecError):
                codec_mod.decode_envelope(data[:cut], *tables)
        with pytest.raises(CodecError, match="trailing"):
            codec_mod.decode_envelope(data + b"\x00", *tables)
    data = bytes.fromhex(json.loads(ENVELOPES.read_text())["bincode"]["request"])
    fields = list(codec_mod.decode_envelope(data, names, enames))
    for i, bad in [
        (0, 256),
        (3, -1),
        (3, 256),
        (4, 5),
        (6, b"core"),
        (7, None),
        (8, -1),
        (9, 1.5),
        (9, 1 << 32),
        (10, 1 << 40),
        (12, [1]),
        (1, tuple.__new__(MessageId, (1, b"x"))),
    ]:
        broken = list(fields)
        broken[i] = bad
        with pytest.raises(CodecError):
            codec_mod.encode_envelope(tuple(broken), codes, eids)
    with pytest.raises(CodecError):
        codec_mod.encode_envelope((1, 2))
    for table in [
        {("editor.insert", 2): 0},
        {("editor.insert", 2): 1 << 32},
        {("editor.insert", 2): "2"},
    ]:
        with pytest.raises(CodecError, match="code"):
            codec_mod.encode_envelope(tuple(fields), table, eids)
    with pytest.raises(CodecError, match="endpoint id"):
        codec_mod.encode_envelope(tuple(fields), codes, {"core": -1})
    # offsets in the request vector: 0 protocol_version, 17 correlation_id tag, 18 kind,
    # 19 priority, 20 message_type, 24 source, 28 target, 32 timestamp, 40 ttl_ms (Some:
    # 5 bytes), 45 names
    for offset, value, needle in [
        (0, 2, "protocol_version"),
        (17, 9, "correlation_id"),
        (18, 5, "kind"),
        (19, 4, "priority"),
        (20, 9, "unknown code 9"),
        (20, 0, "unknown code 0"),
        (24, 9, "source.*unknown endpoint id 9"),
        (28, 9, "target.*unknown endpoint id 9"),
        (40, 2, "ttl_ms tag"),
        (45, 2, "names tag"),
    ]:
        bad = bytearray(data)
        bad[offset] = value
        with pytest.raises(CodecError, match=needle):
            codec_mod.decode_envelope(bytes(bad), names, enames)
    # a field given both as a number and as a name
    named = bytearray(bytes.fromhex(json.loads(ENVELOPES.read_text())["bincode_names"]["request"]))
    for offset, needle in [(20, "message_type.*also a name"), (24, "source.*also a name")]:
        bad = bytearray(named)
        bad[offset] = 1
        with pytest.raises(CodecError, match=needle):
            codec_mod.decode_envelope(bytes(bad), names, enames)


# ----------------------------------------------------------------------------- framing
def _frame(payload: bytes) -> bytes:
    return struct.pack("<I", len(payload)) + payload


def test_frame_decoder_basics(codec_mod: ModuleType) -> None:
    from symphony._wire import EOF, NEED_DATA

    dec = codec_mod.FrameDecoder(max_frame=10)
    assert dec.next_frame() is NEED_DATA and dec.frames() == []
    stream = _frame(b"abc") + _frame(b"") + _frame(b"x" * 10)
    for i in range(len(stream)):
        dec.receive_data(stream[i : i + 1])
    assert dec.buffered == len(stream)
    assert dec.next_frame() == b"abc"
    assert dec.frames() == [b"", b"x" * 10]
    dec.receive_data(memoryview(_frame(b"m")))
    dec.receive_data(bytearray(_frame(b"n")))
    assert list(dec) == [b"m", b"n"]
    assert dec.offset + dec.buffered > 0
    dec.receive_data(b"")
    assert dec.eof and dec.next_frame() is EOF
    with pytest.raises(LocalProtocolError):
        dec.receive_data(b"x")
    with pytest.raises(TypeError):
        codec_mod.FrameDecoder().receive_data("text")
    with pytest.raises(LocalProtocolError):
        codec_mod.FrameDecoder(max_frame=0)


def test_frame_decoder_refuses_oversize_before_buffering(codec_mod: ModuleType) -> None:
    dec = codec_mod.FrameDecoder(max_frame=1024)
    dec.receive_data(_frame(b"ok") + struct.pack("<I", 0xFFFFFFFF))
    assert dec.frames() == [b"ok"]
    with pytest.raises(
        FrameTooLarge, match="frame length 4294967295 exceeds max_frame=1024 at offset 6"
    ):
        dec.frames()
    assert dec.buffered == 0
    with pytest.raises(FrameTooLarge):
        dec.next_frame()


def test_frame_decoder_truncated_end(codec_mod: ModuleType) -> None:
    dec = codec_mod.FrameDecoder()
    dec.receive_data(_frame(b"hello")[:-1])
    dec.receive_data(b"")
    with pytest.raises(InvalidFrame, match="ended inside a frame"):
        dec.next_frame()


def test_envelope_tables_read_like_dict_get(codec_mod: ModuleType) -> None:
    """A table entry of None is no entry (``dict.get``); non-dict mappings work too."""
    from types import MappingProxyType

    fields = (1, MID, None, 0, "a", 1, "core", "x", 5, None, 0, None, {})
    by_name = codec_mod.encode_envelope(fields)
    assert codec_mod.encode_envelope(fields, {("a", 1): None}, {"core": None}) == by_name
    coded = codec_mod.encode_envelope(
        fields, MappingProxyType({("a", 1): 3}), MappingProxyType({"core": 1, "x": 2})
    )
    assert coded == ref.encode_envelope(fields, {("a", 1): 3}, {"core": 1, "x": 2})
    names = MappingProxyType({3: ("a", 1)})
    assert codec_mod.decode_envelope(coded, names, MappingProxyType({1: "core", 2: "x"})) == fields
    with pytest.raises(CodecError, match="unknown endpoint id 1"):
        codec_mod.decode_envelope(coded, names, {1: None, 2: "x"})
    with pytest.raises(CodecError, match="unknown code 3"):
        codec_mod.decode_envelope(coded, {3: None}, {1: "core", 2: "x"})
