"""Both codec twins agree: same bytes, same values, same error class, on Hypothesis input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from msgpack import ExtType

from symphony._core import codec as cy
from symphony._wire import MessageId
from symphony.reference import codec as py

ids = st.binary(min_size=16, max_size=16).map(MessageId.from_bytes)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(1 << 63), max_value=(1 << 64) - 1),
    st.integers(min_value=-(1 << 200), max_value=1 << 200),
    st.floats(allow_nan=False),
    st.text(),
    st.binary(),
    ids,
    st.datetimes(
        min_value=dt.datetime(1, 1, 2),
        max_value=dt.datetime(9999, 12, 30),
        timezones=st.just(dt.UTC),
    ),
    st.builds(ExtType, st.integers(10, 127), st.binary(max_size=20)),  # 1, 2: ids, big ints,
)
values = st.recursive(
    scalars,
    lambda c: st.one_of(
        st.lists(c, max_size=5),
        st.dictionaries(st.one_of(st.text(), st.integers(-99, 99)), c, max_size=5),
    ),
    max_leaves=20,
)


@st.composite
def messages(draw: st.DrawFn) -> tuple[Any, ...]:
    return (
        1,
        draw(ids),
        draw(st.none() | ids),
        draw(st.integers(0, 4)),
        draw(st.text()),
        draw(st.integers(0, 0xFFFFFFFF)),
        draw(st.text()),
        draw(st.text()),
        draw(st.integers(0, (1 << 64) - 1)),
        draw(st.none() | st.integers(0, 0xFFFFFFFF)),
        draw(st.integers(0, 3)),
        draw(values),
        draw(st.dictionaries(st.text(), values, max_size=4)),
    )


def _outcome(fn: Any, *args: Any) -> tuple[str, Any]:
    try:
        return ("ok", repr(fn(*args)))  # repr: a decoded NaN equals itself
    except Exception as exc:
        return ("error", type(exc))


@given(values)
def test_values_agree(value: Any) -> None:
    a = cy.encode_value(value)
    assert a == py.encode_value(value)
    assert cy.decode_value(a) == py.decode_value(a) == (value, len(a))


@given(messages())
def test_envelopes_agree(msg: Any) -> None:
    a = cy.encode_envelope(msg)
    assert a == py.encode_envelope(msg)
    assert cy.decode_envelope(a) == py.decode_envelope(a) == msg


@given(st.binary(max_size=200), st.integers(0, 8))
def test_garbage_values_agree(data: bytes, offset: int) -> None:
    assert _outcome(cy.decode_value, data, offset) == _outcome(py.decode_value, data, offset)


@given(st.binary(max_size=200))
def test_garbage_envelopes_agree(data: bytes) -> None:
    assert _outcome(cy.decode_envelope, data) == _outcome(py.decode_envelope, data)


@given(messages(), st.integers(min_value=0), st.integers(1, 255))
def test_corrupted_envelopes_agree(msg: Any, where: int, flip: int) -> None:
    data = bytearray(py.encode_envelope(msg))
    data[where % len(data)] ^= flip
    assert _outcome(cy.decode_envelope, bytes(data)) == _outcome(py.decode_envelope, bytes(data))


@given(
    st.lists(st.binary(max_size=40), max_size=12),
    st.integers(1, 40),
    st.booleans(),
    st.lists(st.booleans(), max_size=12),
)
def test_frame_decoders_agree(
    chunks: list[bytes], max_frame: int, eof: bool, use_frames: list[bool]
) -> None:
    decoders = [cy.FrameDecoder(max_frame), py.FrameDecoder(max_frame)]
    results: list[list[Any]] = [[], []]
    for k, dec in enumerate(decoders):
        try:
            for i, c in enumerate(chunks + ([b""] if eof else [])):
                dec.receive_data(c)
                if i < len(use_frames) and use_frames[i]:
                    results[k].append(dec.frames())
                else:
                    results[k].append(dec.next_frame())
                results[k].append((dec.buffered, dec.eof, dec.offset))
        except Exception as exc:
            results[k].append((type(exc), str(exc)))
    assert results[0] == results[1]


# ----------------------------------------------------------------------------- msgpack
def _packb(value: Any) -> bytes:
    from symphony.protocol.msgpack_codec import MsgpackCodec

    return MsgpackCodec().encode_value(value)


@given(values)
def test_msgpack_values_agree(value: Any) -> None:
    data = _packb(value)
    assert _outcome(cy.decode_msgpack_value, data) == _outcome(py.decode_msgpack_value, data)
    assert cy.decode_msgpack_value(data) == value


@given(messages())
def test_msgpack_envelopes_agree(msg: Any) -> None:
    data = _packb(msg)
    assert cy.decode_msgpack_envelope(data) == py.decode_msgpack_envelope(data) == list(msg)


@given(st.binary(max_size=300))
def test_msgpack_garbage_agrees(data: bytes) -> None:
    assert _outcome(cy.decode_msgpack_value, data) == _outcome(py.decode_msgpack_value, data)
    assert _outcome(cy.decode_msgpack_envelope, data) == _outcome(py.decode_msgpack_envelope, data)


@given(messages(), st.integers(min_value=0), st.integers(1, 255))
def test_msgpack_corrupted_envelopes_agree(msg: Any, where: int, flip: int) -> None:
    data = bytearray(_packb(msg))
    data[where % len(data)] ^= flip
    assert _outcome(cy.decode_msgpack_envelope, bytes(data)) == _outcome(
        py.decode_msgpack_envelope, bytes(data)
    )


@pytest.mark.parametrize(
    "data",
    [
        b"\x91" * 1024 + b"\xc0",
        b"\x91" * 1025 + b"\xc0",
        b"\x81\xc0" * 1024 + b"\xc0",
        b"\x81\xc0" * 1025 + b"\xc0",
        b"\xd6\xff\x00\x00\x00\x01",
        b"\xd7\xff" + b"\xff" * 8,
        b"\xc7\x0c\xff" + b"\x00" * 4 + b"\x7f" + b"\xff" * 7,
        b"\xd4\xff\x00",
        b"\xd4\xfe\x00",
        b"\xd4\x05\x00",
        b"\xd8\x01" + b"\x00" * 16,
        b"\xd4\x01\x00",
        b"\xc7\x00\x02",
        b"\xca\x7f\xc0\x00\x00",
        b"\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00",
        b"\x81\x90\xc0",
        b"\xc1",
        b"\xdb\xff\xff\xff\xffabc",
        b"\xdd\xff\xff\xff\xff",
        b"\xa2\xff\xfe",
        b"\x82\xa1a\x01\xa1a\x02",
        b"\x00\x00",
        b"",
    ],
)
def test_msgpack_edge_cases_agree(data: bytes) -> None:
    assert _outcome(cy.decode_msgpack_value, data) == _outcome(py.decode_msgpack_value, data)


# tables agreed on a connection: message type codes and interned endpoint ids
_CODES = {("a", 1): 1, ("editor.insert", 2): 2, ("", 0): 0xFFFFFFFF}
_EIDS = {"core": 1, "editor": 2, "x" * 40: 0xFFFFFFFF}
_NAMES = {c: k for k, c in _CODES.items()}
_ENAMES = {i: n for n, i in _EIDS.items()}
_interned = st.sampled_from(["", "core", "editor", "x" * 40]) | st.text()


@st.composite
def coded_messages(draw: st.DrawFn) -> tuple[Any, ...]:
    msg = list(draw(messages()))
    typ, ver = draw(st.sampled_from([*_CODES, ("b", 3)]) | st.tuples(st.text(), st.just(1)))
    msg[4], msg[5] = typ, ver
    msg[6], msg[7] = draw(_interned), draw(_interned)
    return tuple(msg)


@given(coded_messages())
def test_envelopes_with_tables_agree(msg: Any) -> None:
    a = cy.encode_envelope(msg, _CODES, _EIDS)
    assert a == py.encode_envelope(msg, _CODES, _EIDS)
    assert len(a) <= len(py.encode_envelope(msg))
    assert cy.decode_envelope(a, _NAMES, _ENAMES) == py.decode_envelope(a, _NAMES, _ENAMES) == msg


@given(st.binary(max_size=200))
def test_garbage_envelopes_with_tables_agree(data: bytes) -> None:
    assert _outcome(cy.decode_envelope, data, _NAMES, _ENAMES) == _outcome(
        py.decode_envelope, data, _NAMES, _ENAMES
    )


@given(coded_messages(), st.integers(min_value=0), st.integers(1, 255))
def test_corrupted_envelopes_with_tables_agree(msg: Any, where: int, flip: int) -> None:
    data = bytearray(py.encode_envelope(msg, _CODES, _EIDS))
    data[where % len(data)] ^= flip
    assert _outcome(cy.decode_envelope, bytes(data), _NAMES, _ENAMES) == _outcome(
        py.decode_envelope, bytes(data), _NAMES, _ENAMES
    )


@given(
    messages(),
    st.sampled_from([3, 6, 7, 9, 10]),
    st.sampled_from([-1, 1 << 32, 1.5, "s", None, True]),
)
def test_bad_fields_fail_alike(msg: Any, i: int, bad: Any) -> None:
    broken = list(msg)
    broken[i] = bad
    assert _outcome(cy.encode_envelope, tuple(broken), _CODES, _EIDS) == _outcome(
        py.encode_envelope, tuple(broken), _CODES, _EIDS
    )
