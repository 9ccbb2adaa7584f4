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
(a Rust ``enum Value``) that carries any payload without a schema, encoded by the codec
kernel (``symphony._core.codec``; spec: :mod:`symphony.reference.codec`); a payload layout
registered for a ``(type, version)`` (``BincodeCodec(payload_layouts=...)``, built from
:func:`struct_of` and friends) drops the per-value tags.

Bad bytes raise :class:`~symphony.commons.errors.CodecError` naming the type and the offset:
lengths are checked against the bytes present *before* anything is allocated, nesting of
:data:`VALUE` is limited to :data:`MAX_DEPTH`, and sequences of zero-sized items are capped.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from symphony._wire import (
    EXT_MESSAGE_ID,
    MAX_DEPTH,
    MAX_ZERO_SIZED_ITEMS,
    VALUE_TAGS,
    MessageId,
)
from symphony.commons.errors import CodecError, SymphonyError
from symphony.protocol._kernel import codec as _codec
from symphony.protocol.envelope import Message, header_problem

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
_encode_value = _codec.encode_value
_decode_value = _codec.decode_value


def _value_enc(v: Any, out: bytearray) -> None:
    out += _encode_value(v)


VALUE: Final = Layout("Value", _value_enc, _decode_value, 4)
"""Self-describing value (Rust ``enum Value``, tags in :data:`VALUE_TAGS`): any payload.
Encoded and decoded by the codec kernel (:mod:`symphony.reference.codec` is its spec)."""


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
def _metadata_enc(v: Any, out: bytearray) -> None:
    if v:
        out.append(1)
        _METADATA_MAP.enc(v, out)
    elif type(v) is dict:
        out.append(0)
    else:
        raise _bad("Envelope.metadata", v, "not a dict")


def _metadata_dec(buf: bytes, pos: int) -> tuple[Any, int]:
    meta, pos = _METADATA_OPT.dec(buf, pos)
    return ({} if meta is None else meta), pos


_METADATA_MAP = map_of(STR, VALUE)
_METADATA_OPT = option(_METADATA_MAP)
_METADATA = Layout("Option<HashMap<String, Value>>", _metadata_enc, _metadata_dec, 1)

_NAMES = struct_of(
    "Names",
    [
        ("message_type", option(tuple_of(STR, U32))),
        ("source", option(STR)),
        ("target", option(STR)),
    ],
)
_HEADER = struct_of(
    "Envelope (header fields)",
    [
        ("protocol_version", U8),
        ("id", MESSAGE_ID),
        ("correlation_id", option(MESSAGE_ID)),
        ("kind", U8),
        ("priority", U8),
        ("message_type", U32),
        ("source", U32),
        ("target", U32),
        ("timestamp", U64),
        ("ttl_ms", option(U32)),
        ("names", option(_NAMES)),
    ],
)
"""The envelope's header fields as a layout (used to find where a schema-bound payload
starts; the codec kernel checks and resolves them)."""
_EMPTY_TAIL = b"\x00\x00\x00\x00\x00"  # payload Value::Null + metadata None
_encode_envelope = _codec.encode_envelope
_decode_envelope = _codec.decode_envelope
_U32_MAX: Final = 0xFFFFFFFF


def _check_table(what: str, table: Mapping[Any, int], key_ok: Callable[[Any], bool]) -> None:
    seen: dict[int, Any] = {}
    for key, code in table.items():
        if not key_ok(key):
            raise CodecError(f"bincode {what}: bad key {key!r}")
        if type(code) is not int or not 0 < code <= _U32_MAX:
            raise CodecError(f"bincode {what}: code {code!r} of {key!r} is not 1..2**32-1")
        if code in seen:
            raise CodecError(
                f"bincode {what}: code {code} given to both {seen[code]!r} and {key!r}"
            )
        seen[code] = key


def _is_type_key(key: Any) -> bool:
    return (
        type(key) is tuple
        and len(key) == 2
        and type(key[0]) is str
        and type(key[1]) is int
        and 0 <= key[1] <= _U32_MAX
    )


def _is_endpoint(key: Any) -> bool:
    return type(key) is str and key != ""


class BincodeCodec:
    """Envelope and value codec over the bincode layout (Rust ``Envelope``, see
    docs/wire-format.md).

    Args:
        payload_layouts: a fixed layout for the payload of given ``(type, version)``
            messages (e.g. a :func:`struct_of`); any other payload is written as a
            :data:`VALUE` by the codec kernel.
        type_codes: ``{(type, version): code}``, the message type codes both ends of the
            connection agreed (1..2**32-1, each code once). A listed message carries its
            4-byte code; any other one its type name and version (``Names``), so a peer
            that lacks a code still understands the message.
        endpoints: ``{endpoint name: id}`` interned on this connection (ids 1..2**32-1,
            ``""`` is always 0). A listed source/target carries its 4-byte id, any other
            name travels as a string.

    Both ends must use the same tables; a code or an id the decoder does not know is a
    :class:`~symphony.commons.errors.CodecError`.

    Raises:
        CodecError: a table with a bad key, a code outside 1..2**32-1 or a code used twice.
    """

    name: Final = "bincode"

    __slots__ = (
        "_endpoint_ids",
        "_endpoint_names",
        "_payload_layouts",
        "_type_codes",
        "_type_names",
    )

    def __init__(
        self,
        payload_layouts: Mapping[tuple[str, int], Layout] | None = None,
        *,
        type_codes: Mapping[tuple[str, int], int] | None = None,
        endpoints: Mapping[str, int] | None = None,
    ) -> None:
        self._payload_layouts: dict[tuple[str, int], Layout] = dict(payload_layouts or {})
        codes = dict(type_codes or {})
        eids = dict(endpoints or {})
        _check_table("type_codes", codes, _is_type_key)
        _check_table("endpoints", eids, _is_endpoint)
        self._type_codes: dict[tuple[str, int], int] | None = codes or None
        self._type_names: dict[int, tuple[str, int]] | None = {
            c: k for k, c in codes.items()
        } or None
        self._endpoint_ids: dict[str, int] | None = eids or None
        self._endpoint_names: dict[int, str] | None = {i: n for n, i in eids.items()} or None

    @property
    def type_codes(self) -> dict[tuple[str, int], int]:
        """The agreed message type codes (a copy)."""
        return dict(self._type_codes or {})

    @property
    def endpoints(self) -> dict[str, int]:
        """The interned endpoint ids (a copy)."""
        return dict(self._endpoint_ids or {})

    def add_payload_layout(self, type_: str, version: int, layout: Layout) -> None:
        """Write payloads of ``(type_, version)`` with ``layout`` from now on (both ends must
        agree)."""
        self._payload_layouts[(type_, version)] = layout

    def encode(self, msg: Message) -> bytes:
        """The bincode bytes of ``msg``.

        Raises:
            CodecError: a header field or the payload does not fit the layout.
        """
        layout = None
        if self._payload_layouts:
            try:
                layout = self._payload_layouts.get((msg[4], msg[5]))
            except (TypeError, IndexError):
                layout = None
        try:
            if layout is None:
                return _encode_envelope(msg, self._type_codes, self._endpoint_ids)
            head = _encode_envelope((*msg[:11], None, {}), self._type_codes, self._endpoint_ids)
            out = bytearray(head[: -len(_EMPTY_TAIL)])
            layout.enc(msg[11], out)
            _METADATA.enc(msg[12], out)
            return bytes(out)
        except CodecError as exc:
            problem = header_problem(tuple(msg)) if isinstance(msg, tuple) else None
            if problem:
                raise CodecError(f"bincode cannot encode message: {problem}") from exc
            raise
        except (TypeError, ValueError, OverflowError) as exc:
            raise CodecError(f"bincode cannot encode message: {type(exc).__name__}: {exc}") from exc

    def decode(self, data: bytes | bytearray | memoryview) -> Message:
        """The :class:`Message` in ``data`` (exactly one, nothing after it).

        Raises:
            CodecError: truncated or malformed bytes, a bad header value, or a message type
                code / endpoint id missing from this codec's tables.
        """
        if not self._payload_layouts:
            return Message(_decode_envelope(data, self._type_names, self._endpoint_names))
        buf = _as_bytes(data)
        try:
            _, pos = _HEADER.dec(buf, 0)
            head = _decode_envelope(buf[:pos] + _EMPTY_TAIL, self._type_names, self._endpoint_names)
            layout = self._payload_layouts.get((head[4], head[5]))
            if layout is None:
                return Message(_decode_envelope(buf, self._type_names, self._endpoint_names))
            payload, pos = layout.dec(buf, pos)
            meta, pos = _METADATA.dec(buf, pos)
        except SymphonyError:
            raise
        except (RecursionError, TypeError, ValueError, OverflowError, IndexError) as exc:
            raise CodecError(f"bincode Envelope: {type(exc).__name__}: {exc}") from exc
        if pos != len(buf):
            raise CodecError(f"bincode Envelope: {len(buf) - pos} trailing bytes at offset {pos}")
        return Message((*head[:11], payload, meta))

    def encode_value(self, value: Any) -> bytes:
        """Encode one value as a :data:`VALUE`."""
        return encode(VALUE, value)

    def decode_value(self, data: bytes | bytearray | memoryview) -> Any:
        """Decode one :data:`VALUE` (exactly, no trailing bytes)."""
        return decode(VALUE, data)
