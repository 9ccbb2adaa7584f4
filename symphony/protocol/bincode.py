"""A compact, schema-driven binary layout following the rules of Rust's bincode 1.x.

The layout is what ``bincode::serialize`` (bincode 1.x default options, i.e.
``DefaultOptions::new().with_fixint_encoding().allow_trailing_bytes()`` — the
``bincode::serialize`` free function) writes for the Rust types named in each
:class:`Layout`'s ``rust`` attribute, so a Rust peer with the matching ``#[derive(Deserialize)]``
types reads it byte for byte. The full specification, with the envelope's Rust definition and
worked examples, is ``docs/wire-format.md``. The rules:

* integers: little-endian, fixed width (``u8`` … ``u64``, ``i8`` … ``i64``); floats: IEEE-754
  little-endian (``f32``, ``f64``); ``bool``: one byte, 0 or 1 (anything else is refused);
* ``String``, ``Vec<T>``, maps, ``serde_bytes``: a ``u64`` length prefix, then the items;
  fixed-size arrays (``[u8; 16]``) and tuples: the items, no prefix;
* ``Option<T>``: one byte tag 0 (None) or 1 (Some) then the value;
* enums: a ``u32`` variant index (declaration order) then the variant's data; structs: the
  fields in declaration order, nothing else.

A :class:`Layout` is compiled once into two closures (``enc(value, out)`` appends to a
bytearray; ``dec(buf, pos) -> (value, end)``). :data:`VALUE` is a self-describing layout
(a Rust ``enum Value``) that carries any payload without a schema; a registered schema gives a
payload a fixed struct layout (:func:`layout_from_schema`), which is smaller and faster.

Bad bytes raise :class:`~symphony.commons.errors.CodecError` naming the type and the offset:
lengths are checked against the bytes present *before* anything is allocated, nesting of
:data:`VALUE` is limited to :data:`MAX_DEPTH`, and sequences of zero-sized items are capped.
"""

from __future__ import annotations

import datetime as _dt
import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from msgpack import ExtType

from symphony.commons.errors import CodecError, SymphonyError
from symphony.protocol.envelope import (
    EXT_MESSAGE_ID,
    Message,
    MessageId,
    header_problem,
)
from symphony.protocol.msgpack_codec import bigint_from_bytes, bigint_to_bytes

__all__ = [
    "BOOL",
    "BYTES",
    "F32",
    "F64",
    "I8",
    "I16",
    "I32",
    "I64",
    "MAX_DEPTH",
    "MAX_ZERO_SIZED_ITEMS",
    "MESSAGE_ID",
    "STR",
    "U8",
    "U16",
    "U32",
    "U64",
    "UNIT",
    "VALUE",
    "VALUE_TAGS",
    "BincodeCodec",
    "Layout",
    "enum_of",
    "fixed_bytes",
    "map_of",
    "option",
    "seq",
    "struct_of",
    "tuple_of",
    "unit_enum",
    "decode",
    "encode",
]

MAX_DEPTH: Final = 64
"""Deepest nesting of :data:`VALUE` arrays/maps accepted (encode and decode)."""

MAX_ZERO_SIZED_ITEMS: Final = 1 << 16
"""Cap on the length of a sequence whose items take no bytes (a hostile prefix otherwise
costs a loop of 2⁶⁴ iterations)."""

Enc = Callable[[Any, bytearray], None]
Dec = Callable[[bytes, int], tuple[Any, int]]

_Q = struct.Struct("<Q")
_I = struct.Struct("<I")
_pack_q = _Q.pack
_unpack_q = _Q.unpack_from
_unpack_i = _I.unpack_from
_tuple_new = tuple.__new__


class Layout:
    """One bincode type: its Rust spelling, its two compiled closures and its minimum size.

    Attributes:
        rust: the Rust type this layout matches (``"Option<u64>"``, ``"Envelope"`` …).
        enc: ``enc(value, out)`` appends the bytes of ``value`` to the bytearray ``out``.
        dec: ``dec(buf, pos)`` returns ``(value, end)`` reading from ``buf[pos:]``.
        min_size: fewest bytes any value of this type takes (bounds hostile lengths).
    """

    __slots__ = ("dec", "enc", "min_size", "rust")

    def __init__(self, rust: str, enc: Enc, dec: Dec, min_size: int) -> None:
        self.rust = rust
        self.enc = enc
        self.dec = dec
        self.min_size = min_size

    def __repr__(self) -> str:
        return f"Layout({self.rust})"


def _truncated(what: str, pos: int, need: int, have: int) -> CodecError:
    return CodecError(
        f"bincode {what} at offset {pos} needs {need} bytes, only {max(0, have - pos)} left"
    )


def _bad(what: str, value: Any, why: str = "") -> CodecError:
    extra = f": {why}" if why else ""
    return CodecError(f"bincode {what} cannot encode {type(value).__name__} {value!r:.60}{extra}")


# ----------------------------------------------------------------------------- primitives
def _fixed(rust: str, fmt: str, *, is_float: bool = False) -> Layout:
    s = struct.Struct("<" + fmt)
    size = s.size
    pack = s.pack
    unpack_from = s.unpack_from

    def enc(v: Any, out: bytearray) -> None:
        try:
            if is_float:
                if not isinstance(v, (int, float)) or isinstance(v, bool):
                    raise _bad(rust, v, "not a number")
            elif not isinstance(v, int) or isinstance(v, bool):
                raise _bad(rust, v, "not an int")
            out += pack(v)
        except (struct.error, OverflowError) as exc:
            raise _bad(rust, v, str(exc)) from None

    def dec(buf: bytes, pos: int) -> tuple[Any, int]:
        end = pos + size
        if end > len(buf):
            raise _truncated(rust, pos, size, len(buf))
        return unpack_from(buf, pos)[0], end

    return Layout(rust, enc, dec, size)


U8: Final = _fixed("u8", "B")
U16: Final = _fixed("u16", "H")
U32: Final = _fixed("u32", "I")
U64: Final = _fixed("u64", "Q")
I8: Final = _fixed("i8", "b")
I16: Final = _fixed("i16", "h")
I32: Final = _fixed("i32", "i")
I64: Final = _fixed("i64", "q")
F32: Final = _fixed("f32", "f", is_float=True)
F64: Final = _fixed("f64", "d", is_float=True)


def _bool_enc(v: Any, out: bytearray) -> None:
    if type(v) is not bool:
        raise _bad("bool", v, "not a bool")
    out.append(1 if v else 0)


def _bool_dec(buf: bytes, pos: int) -> tuple[Any, int]:
    if pos >= len(buf):
        raise _truncated("bool", pos, 1, len(buf))
    b = buf[pos]
    if b > 1:
        raise CodecError(f"bincode bool at offset {pos} is {b}, not 0 or 1")
    return b == 1, pos + 1


BOOL: Final = Layout("bool", _bool_enc, _bool_dec, 1)


def _unit_enc(v: Any, out: bytearray) -> None:
    if v is not None:
        raise _bad("()", v, "the unit type carries only None")


def _unit_dec(buf: bytes, pos: int) -> tuple[Any, int]:
    return None, pos


UNIT: Final = Layout("()", _unit_enc, _unit_dec, 0)


def _str_enc(v: Any, out: bytearray) -> None:
    if type(v) is not str:
        if not isinstance(v, str):
            raise _bad("String", v, "not a str")
        v = str(v)
    try:
        b = v.encode()
    except UnicodeEncodeError as exc:
        raise _bad("String", v, str(exc)) from None
    out += _pack_q(len(b))
    out += b


def _str_dec(buf: bytes, pos: int) -> tuple[Any, int]:
    n_buf = len(buf)
    if pos + 8 > n_buf:
        raise _truncated("String length", pos, 8, n_buf)
    (n,) = _unpack_q(buf, pos)
    pos += 8
    end = pos + n
    if end > n_buf:
        raise _truncated("String", pos, n, n_buf)
    try:
        return buf[pos:end].decode(), end
    except UnicodeDecodeError as exc:
        raise CodecError(f"bincode String at offset {pos} is not UTF-8: {exc}") from None


STR: Final = Layout("String", _str_enc, _str_dec, 8)


def _bytes_enc(v: Any, out: bytearray) -> None:
    if not isinstance(v, (bytes, bytearray, memoryview)):
        raise _bad("serde_bytes::ByteBuf", v, "not bytes")
    out += _pack_q(len(v))
    out += v


def _bytes_dec(buf: bytes, pos: int) -> tuple[Any, int]:
    n_buf = len(buf)
    if pos + 8 > n_buf:
        raise _truncated("bytes length", pos, 8, n_buf)
    (n,) = _unpack_q(buf, pos)
    pos += 8
    end = pos + n
    if end > n_buf:
        raise _truncated("bytes", pos, n, n_buf)
    return buf[pos:end], end


BYTES: Final = Layout("serde_bytes::ByteBuf", _bytes_enc, _bytes_dec, 8)


def fixed_bytes(n: int) -> Layout:
    """``[u8; n]``: exactly ``n`` raw bytes, no length prefix."""
    rust = f"[u8; {n}]"

    def enc(v: Any, out: bytearray) -> None:
        if not isinstance(v, (bytes, bytearray)) or len(v) != n:
            raise _bad(rust, v, f"need exactly {n} bytes")
        out += v

    def dec(buf: bytes, pos: int) -> tuple[Any, int]:
        end = pos + n
        if end > len(buf):
            raise _truncated(rust, pos, n, len(buf))
        return buf[pos:end], end

    return Layout(rust, enc, dec, n)


def _mid_enc(v: Any, out: bytearray) -> None:
    if type(v) is not MessageId:
        raise _bad("MessageId", v, "not a MessageId")
    out += v[1]


def _mid_dec(buf: bytes, pos: int) -> tuple[Any, int]:
    end = pos + 16
    if end > len(buf):
        raise _truncated("MessageId", pos, 16, len(buf))
    return _tuple_new(MessageId, (EXT_MESSAGE_ID, buf[pos:end])), end


MESSAGE_ID: Final = Layout("[u8; 16]", _mid_enc, _mid_dec, 16)
"""A :class:`~symphony.protocol.envelope.MessageId` as its 16 raw bytes (``[u8; 16]``)."""


# ----------------------------------------------------------------------------- combinators
def option(inner: Layout) -> Layout:
    """``Option<T>``: tag byte 0 (``None``) or 1 then ``T``."""
    ienc, idec = inner.enc, inner.dec
    rust = f"Option<{inner.rust}>"

    def enc(v: Any, out: bytearray) -> None:
        if v is None:
            out.append(0)
        else:
            out.append(1)
            ienc(v, out)

    def dec(buf: bytes, pos: int) -> tuple[Any, int]:
        if pos >= len(buf):
            raise _truncated(rust, pos, 1, len(buf))
        tag = buf[pos]
        if tag == 0:
            return None, pos + 1
        if tag == 1:
            return idec(buf, pos + 1)
        raise CodecError(f"bincode {rust} tag at offset {pos} is {tag}, not 0 or 1")

    return Layout(rust, enc, dec, 1)


def _check_count(rust: str, n: int, pos: int, item_min: int, buf_len: int) -> None:
    if item_min > 0:
        if n * item_min > buf_len - pos:
            raise CodecError(
                f"bincode {rust} at offset {pos - 8} claims {n} items of >= {item_min} bytes, "
                f"only {buf_len - pos} bytes left"
            )
    elif n > MAX_ZERO_SIZED_ITEMS:
        raise CodecError(
            f"bincode {rust} at offset {pos - 8} claims {n} zero-sized items "
            f"(max {MAX_ZERO_SIZED_ITEMS})"
        )


def seq(item: Layout) -> Layout:
    """``Vec<T>``: u64 count then the items. Python: ``list`` (any sequence encodes)."""
    ienc, idec, imin = item.enc, item.dec, item.min_size
    rust = f"Vec<{item.rust}>"

    def enc(v: Any, out: bytearray) -> None:
        if not isinstance(v, (list, tuple)):
            raise _bad(rust, v, "not a list")
        out += _pack_q(len(v))
        for x in v:
            ienc(x, out)

    def dec(buf: bytes, pos: int) -> tuple[Any, int]:
        n_buf = len(buf)
        if pos + 8 > n_buf:
            raise _truncated(rust + " length", pos, 8, n_buf)
        (n,) = _unpack_q(buf, pos)
        pos += 8
        _check_count(rust, n, pos, imin, n_buf)
        result: list[Any] = []
        append = result.append
        for _ in range(n):
            x, pos = idec(buf, pos)
            append(x)
        return result, pos

    return Layout(rust, enc, dec, 8)


def map_of(key: Layout, value: Layout) -> Layout:
    """``HashMap<K, V>`` (or ``BTreeMap``): u64 count then key, value pairs. Python: dict."""
    kenc, kdec, venc, vdec = key.enc, key.dec, value.enc, value.dec
    pair_min = key.min_size + value.min_size
    rust = f"HashMap<{key.rust}, {value.rust}>"

    def enc(v: Any, out: bytearray) -> None:
        if not isinstance(v, dict):
            raise _bad(rust, v, "not a dict")
        out += _pack_q(len(v))
        for k, x in v.items():
            kenc(k, out)
            venc(x, out)

    def dec(buf: bytes, pos: int) -> tuple[Any, int]:
        n_buf = len(buf)
        if pos + 8 > n_buf:
            raise _truncated(rust + " length", pos, 8, n_buf)
        (n,) = _unpack_q(buf, pos)
        pos += 8
        _check_count(rust, n, pos, pair_min, n_buf)
        result = {}
        for _ in range(n):
            start = pos
            k, pos = kdec(buf, pos)
            x, pos = vdec(buf, pos)
            try:
                result[k] = x
            except TypeError:
                raise CodecError(
                    f"bincode {rust} key at offset {start} is unhashable ({type(k).__name__})"
                ) from None
        return result, pos

    return Layout(rust, enc, dec, 8)


def tuple_of(*items: Layout) -> Layout:
    """``(A, B, …)``: the items one after another, no prefix. Python: tuple."""
    encs = [i.enc for i in items]
    decs = [i.dec for i in items]
    rust = "(" + ", ".join(i.rust for i in items) + ("," if len(items) == 1 else "") + ")"
    count = len(items)

    def enc(v: Any, out: bytearray) -> None:
        if not isinstance(v, (list, tuple)) or len(v) != count:
            raise _bad(rust, v, f"need a {count}-tuple")
        for e, x in zip(encs, v):
            e(x, out)

    def dec(buf: bytes, pos: int) -> tuple[Any, int]:
        vals = []
        for d in decs:
            x, pos = d(buf, pos)
            vals.append(x)
        return tuple(vals), pos

    return Layout(rust, enc, dec, sum(i.min_size for i in items))


def struct_of(name: str, fields: Sequence[tuple[str, Layout]]) -> Layout:
    """A Rust struct: fields in order, nothing else. Python: a dict keyed by field name.

    Encoding a dict: a missing key is ``None`` (so it must be an :func:`option` field); a key
    the struct does not have is refused (it would be silently lost).
    """
    names = tuple(f for f, _ in fields)
    plan = tuple((f, lay.enc, lay.dec) for f, lay in fields)
    known = frozenset(names)

    def enc(v: Any, out: bytearray) -> None:
        if not isinstance(v, dict):
            raise _bad(name, v, "not a dict")
        get = v.get
        for f, e, _ in plan:
            try:
                e(get(f), out)
            except CodecError as exc:
                raise CodecError(f"{exc.message} (in field {name}.{f})") from None
        if len(v) > len(plan) or not known.issuperset(v):
            extra = sorted(map(str, set(v) - known))
            if extra:
                raise CodecError(f"bincode {name} has no field(s) {extra}")

    def dec(buf: bytes, pos: int) -> tuple[Any, int]:
        result = {}
        for f, _, d in plan:
            result[f], pos = d(buf, pos)
        return result, pos

    return Layout(name, enc, dec, sum(lay.min_size for _, lay in fields))


def unit_enum(name: str, variants: Sequence[str]) -> Layout:
    """A fieldless Rust enum: ``u32`` variant index. Python: the ``int`` index.

    (bincode writes the *declaration index*, not an explicit discriminant.)
    """
    count = len(variants)

    def enc(v: Any, out: bytearray) -> None:
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < count:
            raise _bad(name, v, f"not a variant index 0..{count - 1}")
        out += _I.pack(v)

    def dec(buf: bytes, pos: int) -> tuple[Any, int]:
        if pos + 4 > len(buf):
            raise _truncated(name, pos, 4, len(buf))
        (tag,) = _unpack_i(buf, pos)
        if tag >= count:
            raise CodecError(f"bincode {name} variant {tag} at offset {pos} (has {count})")
        return tag, pos + 4

    return Layout(name, enc, dec, 4)


def enum_of(name: str, variants: Sequence[tuple[str, Layout | None]]) -> Layout:
    """A Rust enum with data: ``u32`` variant index, then that variant's data.

    Python value: ``(variant_name, data)``, with ``data`` ``None`` for a unit variant. A
    struct variant is a :func:`struct_of` layout; a newtype variant any layout.
    """
    index = {vname: (i, lay) for i, (vname, lay) in enumerate(variants)}
    decs = [(vname, lay.dec if lay else None) for vname, lay in variants]
    count = len(variants)

    def enc(v: Any, out: bytearray) -> None:
        if not isinstance(v, tuple) or len(v) != 2 or v[0] not in index:
            raise _bad(name, v, f"need (variant, data) with variant in {sorted(index)}")
        i, lay = index[v[0]]
        out += _I.pack(i)
        if lay is not None:
            lay.enc(v[1], out)
        elif v[1] is not None:
            raise _bad(f"{name}::{v[0]}", v[1], "unit variant carries None")

    def dec(buf: bytes, pos: int) -> tuple[Any, int]:
        if pos + 4 > len(buf):
            raise _truncated(name, pos, 4, len(buf))
        (tag,) = _unpack_i(buf, pos)
        if tag >= count:
            raise CodecError(f"bincode {name} variant {tag} at offset {pos} (has {count})")
        vname, d = decs[tag]
        if d is None:
            return (vname, None), pos + 4
        data, end = d(buf, pos + 4)
        return (vname, data), end

    return Layout(name, enc, dec, 4)


# ----------------------------------------------------------------------------- Value
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

_T_NULL = b"\x00\x00\x00\x00"
_T_FALSE = b"\x01\x00\x00\x00\x00"
_T_TRUE = b"\x01\x00\x00\x00\x01"
_TAG_I64 = struct.Struct("<Iq").pack
_TAG_U64 = struct.Struct("<IQ").pack
_TAG_F64 = struct.Struct("<Id").pack
_TAG_LEN = struct.Struct("<IQ").pack
_TAG_TS = struct.Struct("<IqI").pack
_TS = struct.Struct("<qI")
_T_ID = b"\x0b\x00\x00\x00"
_T_EXT = struct.Struct("<IbQ").pack
_I64_MIN: Final = -(1 << 63)
_I64_MAX: Final = (1 << 63) - 1
_U64_MAX: Final = (1 << 64) - 1
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_unpack_q_signed = struct.Struct("<q").unpack_from
_unpack_d = struct.Struct("<d").unpack_from
_unpack_ts = _TS.unpack_from
_unpack_b = struct.Struct("<b").unpack_from


def _venc(v: Any, out: bytearray, depth: int) -> None:
    t = type(v)
    if t is str:
        try:
            b = v.encode()
        except UnicodeEncodeError as exc:
            raise _bad("Value::Str", v, str(exc)) from None
        out += _TAG_LEN(5, len(b))
        out += b
    elif t is int:
        if _I64_MIN <= v <= _I64_MAX:
            out += _TAG_I64(2, v)
        elif 0 <= v <= _U64_MAX:
            out += _TAG_U64(3, v)
        else:
            b = bigint_to_bytes(v)
            out += _TAG_LEN(9, len(b))
            out += b
    elif t is dict:
        if depth >= MAX_DEPTH:
            raise CodecError(f"bincode Value nested deeper than MAX_DEPTH={MAX_DEPTH}")
        out += _TAG_LEN(8, len(v))
        d = depth + 1
        for k, x in v.items():
            _venc(k, out, d)
            _venc(x, out, d)
    elif t is list or t is tuple:
        if depth >= MAX_DEPTH:
            raise CodecError(f"bincode Value nested deeper than MAX_DEPTH={MAX_DEPTH}")
        out += _TAG_LEN(7, len(v))
        d = depth + 1
        for x in v:
            _venc(x, out, d)
    elif t is float:
        out += _TAG_F64(4, v)
    elif v is None:
        out += _T_NULL
    elif t is bool:
        out += _T_TRUE if v else _T_FALSE
    elif t is bytes or t is bytearray:
        out += _TAG_LEN(6, len(v))
        out += v
    elif t is MessageId:
        out += _T_ID
        out += v[1]
    else:
        _venc_slow(v, out, depth)


def _venc_slow(v: Any, out: bytearray, depth: int) -> None:
    # subclasses (IntEnum, str enums, OrderedDict …) and the rarer types
    if isinstance(v, bool):
        out += _T_TRUE if v else _T_FALSE
    elif isinstance(v, int):
        _venc(int(v), out, depth)
    elif isinstance(v, float):
        out += _TAG_F64(4, float(v))
    elif isinstance(v, str):
        _venc(str(v), out, depth)
    elif isinstance(v, _dt.datetime):
        if v.tzinfo is None:
            raise _bad("Value::Timestamp", v, "naive datetime: give it a tzinfo")
        delta = v - _EPOCH
        secs = delta.days * 86400 + delta.seconds
        out += _TAG_TS(10, secs, delta.microseconds * 1000)
    elif isinstance(v, MessageId):
        out += _T_ID
        out += v[1]
    elif isinstance(v, ExtType):
        if not -128 <= v.code <= 127 or not isinstance(v.data, bytes):
            raise _bad("Value::Ext", v, "code must be i8 and data bytes")
        out += _T_EXT(12, v.code, len(v.data))
        out += v.data
    elif isinstance(v, dict):
        _venc(dict(v), out, depth)
    elif isinstance(v, (list, tuple)):
        _venc(list(v), out, depth)
    elif isinstance(v, (bytes, bytearray, memoryview)):
        _venc(bytes(v), out, depth)
    else:
        raise _bad("Value", v, "no Value variant for this type")


def _vdec(buf: bytes, pos: int, depth: int) -> tuple[Any, int]:
    n_buf = len(buf)
    if pos + 4 > n_buf:
        raise _truncated("Value tag", pos, 4, n_buf)
    (tag,) = _unpack_i(buf, pos)
    p = pos + 4
    if tag == 5 or tag == 6 or tag == 9:  # Str, Bytes, BigInt: u64 length + bytes
        if p + 8 > n_buf:
            raise _truncated("Value length", p, 8, n_buf)
        (n,) = _unpack_q(buf, p)
        p += 8
        end = p + n
        if end > n_buf:
            raise _truncated(f"Value::{VALUE_TAGS[tag]}", p, n, n_buf)
        raw = buf[p:end]
        if tag == 5:
            try:
                return raw.decode(), end
            except UnicodeDecodeError as exc:
                raise CodecError(f"bincode Value::Str at offset {p} is not UTF-8: {exc}") from None
        if tag == 6:
            return raw, end
        return bigint_from_bytes(raw), end
    if tag == 2:
        if p + 8 > n_buf:
            raise _truncated("Value::I64", p, 8, n_buf)
        return _unpack_q_signed(buf, p)[0], p + 8
    if tag == 7 or tag == 8:  # Array, Map
        if depth >= MAX_DEPTH:
            raise CodecError(
                f"bincode Value at offset {pos} nested deeper than MAX_DEPTH={MAX_DEPTH}"
            )
        if p + 8 > n_buf:
            raise _truncated("Value length", p, 8, n_buf)
        (n,) = _unpack_q(buf, p)
        p += 8
        d = depth + 1
        if tag == 7:
            _check_count("Value::Array", n, p, 4, n_buf)
            arr: list[Any] = []
            append = arr.append
            for _ in range(n):
                x, p = _vdec(buf, p, d)
                append(x)
            return arr, p
        _check_count("Value::Map", n, p, 8, n_buf)
        result = {}
        for _ in range(n):
            start = p
            k, p = _vdec(buf, p, d)
            x, p = _vdec(buf, p, d)
            try:
                result[k] = x
            except TypeError:
                raise CodecError(
                    f"bincode Value::Map key at offset {start} is unhashable ({type(k).__name__})"
                ) from None
        return result, p
    if tag == 0:
        return None, p
    if tag == 1:
        if p >= n_buf:
            raise _truncated("Value::Bool", p, 1, n_buf)
        b = buf[p]
        if b > 1:
            raise CodecError(f"bincode Value::Bool at offset {p} is {b}, not 0 or 1")
        return b == 1, p + 1
    if tag == 3:
        if p + 8 > n_buf:
            raise _truncated("Value::U64", p, 8, n_buf)
        return _unpack_q(buf, p)[0], p + 8
    if tag == 4:
        if p + 8 > n_buf:
            raise _truncated("Value::F64", p, 8, n_buf)
        return _unpack_d(buf, p)[0], p + 8
    if tag == 10:
        if p + 12 > n_buf:
            raise _truncated("Value::Timestamp", p, 12, n_buf)
        secs, nanos = _unpack_ts(buf, p)
        if nanos >= 1_000_000_000:
            raise CodecError(f"bincode Value::Timestamp at offset {p}: nanos {nanos} >= 1e9")
        try:
            when = _EPOCH + _dt.timedelta(seconds=secs, microseconds=nanos // 1000)
        except OverflowError:
            raise CodecError(
                f"bincode Value::Timestamp at offset {p}: {secs} s is outside datetime's range"
            ) from None
        return when, p + 12
    if tag == 11:
        end = p + 16
        if end > n_buf:
            raise _truncated("Value::Id", p, 16, n_buf)
        return _tuple_new(MessageId, (EXT_MESSAGE_ID, buf[p:end])), end
    if tag == 12:
        if p + 9 > n_buf:
            raise _truncated("Value::Ext", p, 9, n_buf)
        (code,) = _unpack_b(buf, p)
        (n,) = _unpack_q(buf, p + 1)
        p += 9
        end = p + n
        if end > n_buf:
            raise _truncated("Value::Ext data", p, n, n_buf)
        return ExtType(code, buf[p:end]), end
    raise CodecError(f"bincode Value tag {tag} at offset {pos} is unknown (0..12)")


def _value_enc(v: Any, out: bytearray) -> None:
    _venc(v, out, 0)


def _value_dec(buf: bytes, pos: int) -> tuple[Any, int]:
    return _vdec(buf, pos, 0)


VALUE: Final = Layout("Value", _value_enc, _value_dec, 4)
"""Self-describing value (Rust ``enum Value``, tags in :data:`VALUE_TAGS`): any payload."""

_METADATA = map_of(STR, VALUE)


# ----------------------------------------------------------------------------- entry points
def _as_bytes(data: bytes | bytearray | memoryview) -> bytes:
    if type(data) is bytes:
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise CodecError(f"bincode input must be bytes-like, got {type(data).__name__}")


def encode(layout: Layout, value: Any) -> bytes:
    """The bincode bytes of ``value`` under ``layout``.

    Raises:
        CodecError: ``value`` does not fit the layout (names the type and field).
    """
    out = bytearray()
    try:
        layout.enc(value, out)
    except SymphonyError:
        raise
    except (RecursionError, TypeError, ValueError, OverflowError) as exc:
        raise CodecError(f"bincode {layout.rust}: {type(exc).__name__}: {exc}") from exc
    return bytes(out)


def decode(layout: Layout, data: bytes | bytearray | memoryview) -> Any:
    """Decode exactly one value of ``layout`` from ``data`` (trailing bytes are an error).

    Raises:
        CodecError: truncated or malformed bytes (names the type and the offset).
    """
    buf = _as_bytes(data)
    try:
        value, end = layout.dec(buf, 0)
    except SymphonyError:
        raise
    except (RecursionError, TypeError, ValueError, OverflowError, IndexError) as exc:
        raise CodecError(f"bincode {layout.rust}: {type(exc).__name__}: {exc}") from exc
    if end != len(buf):
        raise CodecError(f"bincode {layout.rust}: {len(buf) - end} trailing bytes at offset {end}")
    return value


# ----------------------------------------------------------------------------- envelope
_HEAD_NOCID = struct.Struct("<B16sBIQ")  # protocol_version, id, None, kind, len(type)
_HEAD_CID = struct.Struct("<B16sB16sIQ")  # protocol_version, id, Some, cid, kind, len(type)
_MID = struct.Struct("<IQ")  # version, len(source)
_TAIL_NOTTL = struct.Struct("<QBI")  # timestamp, None, priority
_TAIL_TTL = struct.Struct("<QBQI")  # timestamp, Some, ttl_ms, priority
_pack_head_nocid = _HEAD_NOCID.pack
_pack_head_cid = _HEAD_CID.pack
_pack_mid = _MID.pack
_pack_tail_nottl = _TAIL_NOTTL.pack
_pack_tail_ttl = _TAIL_TTL.pack


class BincodeCodec:
    """Envelope and value codec over the bincode layout (Rust ``Envelope``, see
    docs/wire-format.md).

    Args:
        payload_layouts: a fixed layout for the payload of given ``(type, version)``
            messages (e.g. from :func:`layout_from_schema`); any other payload is written
            as a :data:`VALUE`.
    """

    name: Final = "bincode"

    __slots__ = ("_payload_layouts",)

    def __init__(self, payload_layouts: Mapping[tuple[str, int], Layout] | None = None) -> None:
        self._payload_layouts: dict[tuple[str, int], Layout] = dict(payload_layouts or {})

    def add_payload_layout(self, type_: str, version: int, layout: Layout) -> None:
        """Write payloads of ``(type_, version)`` with ``layout`` from now on (both ends must
        agree)."""
        self._payload_layouts[(type_, version)] = layout

    def encode(self, msg: Message) -> bytes:
        """The bincode bytes of ``msg``.

        Raises:
            CodecError: a header field or the payload does not fit the layout.
        """
        try:
            (pv, mid, cid, kind, typ, ver, src, tgt, ts, ttl, prio, payload, meta) = msg
            tb = typ.encode()
            sb = src.encode()
            gb = tgt.encode()
            if cid is None:
                out = bytearray(_pack_head_nocid(pv, mid[1], 0, kind, len(tb)))
            else:
                out = bytearray(_pack_head_cid(pv, mid[1], 1, cid[1], kind, len(tb)))
            out += tb
            out += _pack_mid(ver, len(sb))
            out += sb
            out += _pack_q(len(gb))
            out += gb
            if ttl is None:
                out += _pack_tail_nottl(ts, 0, prio)
            else:
                out += _pack_tail_ttl(ts, 1, ttl, prio)
            if self._payload_layouts:
                layout = self._payload_layouts.get((typ, ver))
                if layout is not None:
                    layout.enc(payload, out)
                else:
                    _venc(payload, out, 0)
            else:
                _venc(payload, out, 0)
            out += _pack_q(len(meta))
            for k, v in meta.items():
                _str_enc(k, out)
                _venc(v, out, 0)
        except SymphonyError:
            raise
        except Exception as exc:
            problem = header_problem(tuple(msg)) if isinstance(msg, tuple) else None
            why = problem or f"{type(exc).__name__}: {exc}"
            raise CodecError(f"bincode cannot encode message: {why}") from exc
        return bytes(out)

    def decode(self, data: bytes | bytearray | memoryview) -> Message:
        """The :class:`Message` in ``data`` (exactly one, nothing after it).

        Raises:
            CodecError: truncated or malformed bytes, or a bad header value.
        """
        buf = _as_bytes(data)
        n_buf = len(buf)
        try:
            if n_buf < 18:
                raise _truncated("Envelope", 0, 18, n_buf)
            tag = buf[17]
            if tag == 0:
                if n_buf < _HEAD_NOCID.size:
                    raise _truncated("Envelope header", 0, _HEAD_NOCID.size, n_buf)
                pv, mid, _, kind, n = _HEAD_NOCID.unpack_from(buf, 0)
                cid = None
                pos = _HEAD_NOCID.size
            elif tag == 1:
                if n_buf < _HEAD_CID.size:
                    raise _truncated("Envelope header", 0, _HEAD_CID.size, n_buf)
                pv, mid, _, cidb, kind, n = _HEAD_CID.unpack_from(buf, 0)
                cid = _tuple_new(MessageId, (EXT_MESSAGE_ID, cidb))
                pos = _HEAD_CID.size
            else:
                raise CodecError(f"bincode Envelope.correlation_id tag at offset 17 is {tag}")
            if pv != 1:
                raise CodecError(f"bincode Envelope.protocol_version at offset 0 is {pv}, not 1")
            if kind > 4:
                raise CodecError(f"bincode Envelope.kind at offset {pos - 12} is {kind} (0..4)")
            end = pos + n
            if end > n_buf:
                raise _truncated("Envelope.type", pos, n, n_buf)
            typ = buf[pos:end].decode()
            pos = end
            if pos + 12 > n_buf:
                raise _truncated("Envelope.version", pos, 12, n_buf)
            ver, n = _MID.unpack_from(buf, pos)
            pos += 12
            end = pos + n
            if end > n_buf:
                raise _truncated("Envelope.source", pos, n, n_buf)
            src = buf[pos:end].decode()
            tgt, pos = _str_dec(buf, end)
            if pos + 13 > n_buf:
                raise _truncated("Envelope.timestamp", pos, 13, n_buf)
            ttl_tag = buf[pos + 8]
            if ttl_tag == 0:
                ts, _, prio = _TAIL_NOTTL.unpack_from(buf, pos)
                ttl = None
                pos += _TAIL_NOTTL.size
            elif ttl_tag == 1:
                if pos + _TAIL_TTL.size > n_buf:
                    raise _truncated("Envelope.ttl_ms", pos, _TAIL_TTL.size, n_buf)
                ts, _, ttl, prio = _TAIL_TTL.unpack_from(buf, pos)
                pos += _TAIL_TTL.size
            else:
                raise CodecError(f"bincode Envelope.ttl_ms tag at offset {pos + 8} is {ttl_tag}")
            if prio > 3:
                raise CodecError(f"bincode Envelope.priority is {prio} (0..3)")
            layout = self._payload_layouts.get((typ, ver)) if self._payload_layouts else None
            if layout is None:
                payload, pos = _vdec(buf, pos, 0)
            else:
                payload, pos = layout.dec(buf, pos)
            meta, pos = _METADATA.dec(buf, pos)
        except SymphonyError:
            raise
        except UnicodeDecodeError as exc:
            raise CodecError(f"bincode Envelope: a header string is not UTF-8: {exc}") from exc
        except (RecursionError, TypeError, ValueError, OverflowError, IndexError) as exc:
            raise CodecError(f"bincode Envelope: {type(exc).__name__}: {exc}") from exc
        if pos != n_buf:
            raise CodecError(f"bincode Envelope: {n_buf - pos} trailing bytes at offset {pos}")
        return Message(
            (
                pv,
                _tuple_new(MessageId, (EXT_MESSAGE_ID, mid)),
                cid,
                kind,
                typ,
                ver,
                src,
                tgt,
                ts,
                ttl,
                prio,
                payload,
                meta,
            )
        )

    def encode_value(self, value: Any) -> bytes:
        """Encode one value as a :data:`VALUE`."""
        return encode(VALUE, value)

    def decode_value(self, data: bytes | bytearray | memoryview) -> Any:
        """Decode one :data:`VALUE` (exactly, no trailing bytes)."""
        return decode(VALUE, data)
