"""The msgpack decoder's length checks, type by type: every str, bin, ext, array and map form
(fix*, and 1-, 2- or 4-byte big-endian length prefixes) cut short inside its prefix or its
body, or nested too deep, is a CodecError in both twins; the Cython twin's message names the
offset and the bytes it needed (the twin's come from msgpack's own unpacker)."""

from __future__ import annotations

import pytest

from symphony._core import codec as cy
from symphony.commons.errors import CodecError
from symphony.reference import codec as py

# type byte -> (prefix width, bytes per counted item, extra bytes): the item count of an
# array or map counts items of at least one byte each (a map: keys and values); an ext's
# data follows a one-byte type code.
PREFIXED = {
    0xD9: (1, 1, 0), 0xDA: (2, 1, 0), 0xDB: (4, 1, 0),  # str8/16/32
    0xC4: (1, 1, 0), 0xC5: (2, 1, 0), 0xC6: (4, 1, 0),  # bin8/16/32
    0xC7: (1, 1, 1), 0xC8: (2, 1, 1), 0xC9: (4, 1, 1),  # ext8/16/32
    0xDC: (2, 1, 0), 0xDD: (4, 1, 0),  # array16/32
    0xDE: (2, 2, 0), 0xDF: (4, 2, 0),  # map16/32
}  # fmt: skip


def _fails(data: bytes) -> str:
    with pytest.raises(CodecError) as py_err:
        py.decode_msgpack_value(data)
    assert "msgpack" in str(py_err.value)
    with pytest.raises(CodecError) as cy_err:
        cy.decode_msgpack_value(data)
    return str(cy_err.value)


def _short(pos: int, need: int, left: int) -> str:
    return f"msgpack value at offset {pos} needs {need} bytes, only {left} left"


@pytest.mark.parametrize("tag", sorted(PREFIXED), ids=hex)
def test_prefix_cut_short(tag: int) -> None:
    width = PREFIXED[tag][0]
    for have in range(width):
        assert _fails(bytes([tag]) + b"\x00" * have) == _short(1, width, have)


@pytest.mark.parametrize(
    ("tag", "length"),
    [
        (tag, length)
        for tag, (width, _, _) in sorted(PREFIXED.items())
        for length in (1, 7, 255, (1 << 16) - 1, (1 << 32) - 1)
        if length < 1 << (8 * width)  # the largest length each prefix can hold, and smaller
    ],
    ids=str,
)
def test_body_cut_short(tag: int, length: int) -> None:
    width, unit, extra = PREFIXED[tag]
    need = unit * length + extra
    for have in sorted(h for h in {0, 1, need // 2, need - 1} if h < min(need, 300)):
        data = bytes([tag]) + length.to_bytes(width, "big") + b"\x01" * have
        assert _fails(data) == _short(1 + width, need, have)


@pytest.mark.parametrize(
    ("tag", "fixed", "unit", "extra"),
    [(0xA0, 31, 1, 0), (0x90, 15, 1, 0), (0x80, 15, 2, 0)]
    + [(0xD4 + k, 1 << k, 1, 1) for k in range(5)],  # fixstr, fixarray, fixmap, fixext1..16
)
def test_fixed_lengths_cut_short(tag: int, fixed: int, unit: int, extra: int) -> None:
    first = tag + fixed if tag < 0xD4 else tag
    need = unit * fixed + extra
    for have in range(need):
        assert _fails(bytes([first]) + b"\x01" * have) == _short(1, need, have)


@pytest.mark.parametrize("opener", [b"\x91", b"\xdc\x00\x01", b"\xdd\x00\x00\x00\x01", b"\x81\xc0"])
def test_nesting_limit_offset(opener: bytes) -> None:
    at = 1024 * len(opener) + (len(opener) if opener[0] in (0xDC, 0xDD) else 1)
    assert _fails(opener * 1025 + b"\xc0") == (f"msgpack nesting deeper than 1024 at offset {at}")
    assert cy.decode_msgpack_value(opener * 1024 + b"\xc0") is not None
