"""The wire codec kernel: the bincode-1.x ``Value`` and ``Envelope`` codec and the
length-prefixed :class:`FrameDecoder`. Pure-Python twin of :mod:`symphony._core.codec`, and
its specification.

Bytes are exactly what Rust's ``bincode::serialize`` (1.x, fixint, little-endian) writes for
the ``Value`` enum and ``Envelope`` struct of docs/wire-format.md:

* ``Value`` is a ``u32`` tag (see :data:`symphony._wire.VALUE_TAGS`) then its data:
  Null —; Bool ``u8`` 0/1; I64 ``i64``; U64 ``u64`` (only for integers above ``i64::MAX``);
  F64 ``f64``; Str/Bytes/BigInt ``u64`` length + bytes (BigInt: minimal two's complement,
  big-endian); Array ``u64`` count + values; Map ``u64`` count + key, value pairs; Timestamp
  ``i64`` seconds + ``u32`` nanoseconds; Id ``[u8; 16]``; Ext ``i8`` code (0..127, the
  application range of msgpack) + ``u64`` length + bytes.
* ``Envelope`` is the compact header (protocol_version ``u8``, id ``[u8; 16]``,
  correlation_id ``Option<[u8; 16]>``, kind ``u8``, priority ``u8``, message_type ``u32``
  code, source ``u32`` and target ``u32`` endpoint ids, timestamp ``u64`` ns, ttl_ms
  ``Option<u32>``, names ``Option<Names>``), the payload as a ``Value`` and the metadata as
  ``Option<HashMap<String, Value>>`` (``None`` when empty). ``Names`` is
  ``{message_type: Option<(String, u32)>, source: Option<String>, target: Option<String>}``:
  a message type with no agreed code travels as ``(type, version)`` with code 0, an
  endpoint with no agreed id as its name with id 0; id 0 and no name is ``""``. Codes and
  ids come from tables both ends of a connection agreed (``type_codes``/``type_names``,
  ``endpoint_ids``/``endpoint_names``); ``Names`` is ``None`` when nothing needs a name.

Python values: ``None``, ``bool``, ``int`` (any size; beyond 64 bits as BigInt), ``float``,
``str``, ``bytes``/``bytearray`` (decoded as ``bytes``), ``list``/``tuple`` (decoded as
``list``), ``dict``, timezone-aware ``datetime`` (decoded in UTC, microsecond precision),
:class:`~symphony._wire.MessageId`, ``msgpack.ExtType``; subclasses of these (IntEnum …)
encode as their base type.

Limits (hostile input): every length is compared with the bytes left before anything is
allocated; nesting deeper than :data:`~symphony._wire.MAX_DEPTH` is refused on encode and
decode; every error is a :class:`~symphony.commons.errors.CodecError` naming the type and the
offset. Input buffers: anything C-contiguous (bytes, bytearray, memoryview, mmap); ``str``
raises ``TypeError``.
"""

from __future__ import annotations

import datetime as _dt
import struct
from collections.abc import Iterator
from typing import Any, Final

import msgpack
from msgpack import ExtType
from typing_extensions import Buffer

from symphony._wire import (
    DEFAULT_MAX_FRAME,
    EOF,
    EXT_BIGINT,
    EXT_MESSAGE_ID,
    MAX_DEPTH,
    NEED_DATA,
    VALUE_TAGS,
    MessageId,
    bigint_from_bytes,
    bigint_to_bytes,
    header_problem,
)
from symphony.commons.errors import (
    CodecError,
    FrameTooLarge,
    InvalidFrame,
    LocalProtocolError,
    RemoteProtocolError,
    SymphonyError,
)
from symphony.reference._buffer import byte_view

__all__ = [
    "FrameDecoder",
    "decode_envelope",
    "decode_msgpack_envelope",
    "decode_msgpack_value",
    "decode_value",
    "encode_envelope",
    "encode_value",
]

_Q = struct.Struct("<Q")
_I = struct.Struct("<I")
_pack_q = _Q.pack
_unpack_q = _Q.unpack_from
_unpack_i = _I.unpack_from
_tuple_new = tuple.__new__


def _truncated(what: str, pos: int, need: int, have: int) -> CodecError:
    return CodecError(
        f"bincode {what} at offset {pos} needs {need} bytes, only {max(0, have - pos)} left"
    )


def _bad(what: str, value: Any, why: str = "") -> CodecError:
    extra = f": {why}" if why else ""
    return CodecError(f"bincode {what} cannot encode {type(value).__name__} {value!r:.60}{extra}")


def _check_count(rust: str, n: int, pos: int, item_min: int, buf_len: int) -> None:
    if n * item_min > buf_len - pos:
        raise CodecError(
            f"bincode {rust} at offset {pos - 8} claims {n} items of >= {item_min} bytes, "
            f"only {buf_len - pos} bytes left"
        )


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
        if type(v[1]) is not bytes or len(v[1]) != 16:
            raise _bad("Value::Id", v, "needs 16 bytes")
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
        if type(v[1]) is not bytes or len(v[1]) != 16:
            raise _bad("Value::Id", v, "needs 16 bytes")
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
        if code < 0:
            raise CodecError(f"bincode Value::Ext at offset {p} has code {code} (0..127)")
        (n,) = _unpack_q(buf, p + 1)
        p += 9
        end = p + n
        if end > n_buf:
            raise _truncated("Value::Ext data", p, n, n_buf)
        return ExtType(code, buf[p:end]), end
    raise CodecError(f"bincode Value tag {tag} at offset {pos} is unknown (0..12)")


def _data(data: Buffer) -> bytes:
    if type(data) is bytes:
        return data
    return bytes(byte_view(data, "bincode data"))


def encode_value(value: object) -> bytes:
    """The bincode bytes of ``value`` as a ``Value``.

    Raises:
        CodecError: a value with no ``Value`` variant, a lone surrogate, nesting deeper than
            MAX_DEPTH, a too large integer.
    """
    out = bytearray()
    try:
        _venc(value, out, 0)
    except SymphonyError:
        raise
    except (RecursionError, TypeError, ValueError, OverflowError) as exc:
        raise CodecError(f"bincode Value: {type(exc).__name__}: {exc}") from exc
    return bytes(out)


def decode_value(data: Buffer, offset: int = 0) -> tuple[object, int]:
    """Decode one ``Value`` starting at ``offset``; returns ``(value, end offset)``.

    Trailing bytes are the caller's business (the envelope and the layouts check them).

    Raises:
        CodecError: truncated or malformed bytes, naming the variant and the offset.
        TypeError, BufferError: ``data`` is not a C-contiguous buffer.
    """
    buf = _data(data)
    if not 0 <= offset <= len(buf):
        raise CodecError(f"bincode Value offset {offset} outside 0..{len(buf)}")
    try:
        return _vdec(buf, offset, 0)
    except SymphonyError:
        raise
    except (RecursionError, TypeError, ValueError, OverflowError, IndexError) as exc:
        raise CodecError(f"bincode Value: {type(exc).__name__}: {exc}") from exc


_HEAD_NOCID = struct.Struct("<B16sB")  # protocol_version, id, correlation_id None
_HEAD_CID = struct.Struct("<B16sB16s")  # protocol_version, id, Some, correlation_id
_MIDDLE = struct.Struct("<BBIIIQ")  # kind, priority, message_type, source, target, timestamp
_TTL = struct.Struct("<BI")  # Some, ttl_ms
_U32_MAX: Final = 0xFFFFFFFF


def _type_code(typ: Any, ver: Any, type_codes: Any) -> int:
    if type_codes:
        code = type_codes.get((typ, ver))
        if code is not None:
            if type(code) is not int or not 0 < code <= _U32_MAX:
                raise CodecError(f"bincode message type code {code!r} is not 1..2**32-1")
            return code
    return 0


def _endpoint_id(name: Any, endpoint_ids: Any) -> int:
    if name == "" and type(name) is str:
        return 0
    if endpoint_ids:
        eid = endpoint_ids.get(name)
        if eid is not None:
            if type(eid) is not int or not 0 < eid <= _U32_MAX:
                raise CodecError(f"bincode endpoint id {eid!r} is not 1..2**32-1")
            return eid
    return 0


def encode_envelope(
    fields: tuple[Any, ...], type_codes: Any = None, endpoint_ids: Any = None
) -> bytes:
    """The bincode ``Envelope`` bytes of the 13 envelope fields (payload as a ``Value``).

    Args:
        fields: the 13 envelope fields in wire order (a ``Message`` is such a tuple).
        type_codes: ``{(type, version): code}`` agreed with the peer (codes 1..2**32-1); a
            message whose ``(type, version)`` is listed travels as its code, any other one by
            name (``Names.message_type``).
        endpoint_ids: ``{endpoint name: id}`` agreed with the peer (ids 1..2**32-1); a
            listed source/target travels as its id, ``""`` as 0, any other name by name.

    Raises:
        CodecError: a field does not fit its Rust type (or ``fields`` is not 13 long), e.g.
            ``ttl_ms`` above ``u32::MAX``, or a table maps to a code outside 1..2**32-1.
    """
    try:
        (pv, mid, cid, kind, typ, ver, src, tgt, ts, ttl, prio, payload, meta) = fields
        if (type(mid[1]) is not bytes or len(mid[1]) != 16) or (
            cid is not None and (type(cid[1]) is not bytes or len(cid[1]) != 16)
        ):
            raise CodecError("bincode Envelope ids must be 16 bytes")
        if type(typ) is not str:
            raise _bad("Envelope.message_type", typ, "not a str")
        if type(src) is not str:
            raise _bad("Envelope.source", src, "not a str")
        if type(tgt) is not str:
            raise _bad("Envelope.target", tgt, "not a str")
        code = _type_code(typ, ver, type_codes)
        sid = _endpoint_id(src, endpoint_ids)
        tid = _endpoint_id(tgt, endpoint_ids)
        if cid is None:
            out = bytearray(_HEAD_NOCID.pack(pv, mid[1], 0))
        else:
            out = bytearray(_HEAD_CID.pack(pv, mid[1], 1, cid[1]))
        out += _MIDDLE.pack(kind, prio, code, sid, tid, ts)
        if ttl is None:
            out.append(0)
        else:
            if not isinstance(ttl, int) or not 0 <= ttl <= _U32_MAX:
                raise _bad("Envelope.ttl_ms", ttl, "not a u32 of milliseconds")
            out += _TTL.pack(1, ttl)
        if code == 0 or (sid == 0 and src) or (tid == 0 and tgt):
            out.append(1)  # names: Some(Names)
            if code == 0:
                out.append(1)
                _str_enc(typ, out)
                out += _I.pack(ver)
            else:
                out.append(0)
            for eid, name in ((sid, src), (tid, tgt)):
                if eid == 0 and name:
                    out.append(1)
                    _str_enc(name, out)
                else:
                    out.append(0)
        else:
            out.append(0)  # names: None
        _venc(payload, out, 0)
        if meta:
            out.append(1)
            out += _pack_q(len(meta))
            for k, v in meta.items():
                _str_enc(k, out)
                _venc(v, out, 0)
        elif type(meta) is dict:
            out.append(0)
        else:
            raise _bad("Envelope.metadata", meta, "not a dict")
    except SymphonyError:
        raise
    except Exception as exc:
        raise CodecError(f"bincode cannot encode envelope: {type(exc).__name__}: {exc}") from exc
    return bytes(out)


def _opt_tag(buf: bytes, pos: int, what: str) -> int:
    if pos >= len(buf):
        raise _truncated(what, pos, 1, len(buf))
    tag = buf[pos]
    if tag > 1:
        raise CodecError(f"bincode {what} tag at offset {pos} is {tag}, not 0 or 1")
    return tag


def _endpoint(eid: int, name: str | None, names: Any, what: str, at: int) -> str:
    if name is not None:
        if eid != 0:
            raise CodecError(f"bincode {what} at offset {at} is id {eid} and also a name")
        return name
    if eid == 0:
        return ""
    found = names.get(eid) if names else None
    if found is None:
        raise CodecError(f"bincode {what} at offset {at}: unknown endpoint id {eid}")
    return found  # type: ignore[no-any-return]


def decode_envelope(
    data: Buffer, type_names: Any = None, endpoint_names: Any = None
) -> tuple[Any, ...]:
    """The 13 envelope fields in ``data`` (exactly one ``Envelope``, nothing after it).

    Args:
        data: the bytes.
        type_names: ``{code: (type, version)}``, the inverse of the encoder's ``type_codes``.
        endpoint_names: ``{id: endpoint name}``, the inverse of the encoder's
            ``endpoint_ids``.

    Raises:
        CodecError: truncated or malformed bytes, a header value out of range, a code or an
            endpoint id missing from the tables, a field given both as a code and a name.
        TypeError, BufferError: ``data`` is not a C-contiguous buffer.
    """
    buf = _data(data)
    n_buf = len(buf)
    try:
        if n_buf < 18:
            raise _truncated("Envelope", 0, 18, n_buf)
        tag = buf[17]
        if tag == 0:
            pv, mid, _ = _HEAD_NOCID.unpack_from(buf, 0)
            cid = None
            pos = 18
        elif tag == 1:
            if n_buf < 34:
                raise _truncated("Envelope.correlation_id", 18, 16, n_buf)
            pv, mid, _, cidb = _HEAD_CID.unpack_from(buf, 0)
            cid = _tuple_new(MessageId, (EXT_MESSAGE_ID, cidb))
            pos = 34
        else:
            raise CodecError(f"bincode Envelope.correlation_id tag at offset 17 is {tag}")
        if pv != 1:
            raise CodecError(f"bincode Envelope.protocol_version at offset 0 is {pv}, not 1")
        if pos + _MIDDLE.size > n_buf:
            raise _truncated("Envelope.kind", pos, _MIDDLE.size, n_buf)
        kind, prio, code, sid, tid, ts = _MIDDLE.unpack_from(buf, pos)
        if kind > 4:
            raise CodecError(f"bincode Envelope.kind at offset {pos} is {kind} (0..4)")
        if prio > 3:
            raise CodecError(f"bincode Envelope.priority at offset {pos + 1} is {prio} (0..3)")
        pos += _MIDDLE.size
        if _opt_tag(buf, pos, "Envelope.ttl_ms"):
            if pos + 5 > n_buf:
                raise _truncated("Envelope.ttl_ms", pos + 1, 4, n_buf)
            (ttl,) = _unpack_i(buf, pos + 1)
            pos += 5
        else:
            ttl = None
            pos += 1
        names_at = pos
        tname = sname = gname = None
        ver = 0
        if _opt_tag(buf, pos, "Envelope.names"):
            pos += 1
            if _opt_tag(buf, pos, "Names.message_type"):
                tname, pos = _str_dec(buf, pos + 1)
                if pos + 4 > n_buf:
                    raise _truncated("Names.message_type version", pos, 4, n_buf)
                (ver,) = _unpack_i(buf, pos)
                pos += 4
            else:
                pos += 1
            if _opt_tag(buf, pos, "Names.source"):
                sname, pos = _str_dec(buf, pos + 1)
            else:
                pos += 1
            if _opt_tag(buf, pos, "Names.target"):
                gname, pos = _str_dec(buf, pos + 1)
            else:
                pos += 1
        else:
            pos += 1
        if tname is not None:
            if code != 0:
                raise CodecError(
                    f"bincode Envelope.message_type at offset {names_at} is code {code} "
                    "and also a name"
                )
            typ = tname
        else:
            found = type_names.get(code) if type_names and code else None
            if found is None:
                raise CodecError(
                    f"bincode Envelope.message_type at offset {names_at}: unknown code {code}"
                )
            typ, ver = found
        src = _endpoint(sid, sname, endpoint_names, "Envelope.source", names_at)
        tgt = _endpoint(tid, gname, endpoint_names, "Envelope.target", names_at)
        payload, pos = _vdec(buf, pos, 0)
        meta = {}
        if _opt_tag(buf, pos, "Envelope.metadata"):
            if pos + 9 > n_buf:
                raise _truncated("Envelope.metadata length", pos + 1, 8, n_buf)
            (count,) = _unpack_q(buf, pos + 1)
            pos += 9
            _check_count("Envelope.metadata", count, pos, 12, n_buf)
            for _ in range(count):
                k, pos = _str_dec(buf, pos)
                meta[k], pos = _vdec(buf, pos, 0)
        else:
            pos += 1
    except SymphonyError:
        raise
    except (RecursionError, TypeError, ValueError, OverflowError, IndexError) as exc:
        raise CodecError(f"bincode Envelope: {type(exc).__name__}: {exc}") from exc
    if pos != n_buf:
        raise CodecError(f"bincode Envelope: {n_buf - pos} trailing bytes at offset {pos}")
    return (
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


def _utf8(buf: bytes, pos: int, end: int, what: str) -> str:
    try:
        return buf[pos:end].decode()
    except UnicodeDecodeError as exc:
        raise CodecError(f"bincode {what} at offset {pos} is not UTF-8: {exc}") from None


# ----------------------------------------------------------------------------- framing
_unpack_len = _I.unpack_from


class FrameDecoder:
    """Sans-I/O decoder of u32-LE length-prefixed frames.

    Feed it with :meth:`receive_data` (``b""`` means end of stream) and drain it with
    :meth:`next_frame` (a frame, :class:`~symphony._wire.NEED_DATA` or
    :class:`~symphony._wire.EOF`) or :meth:`frames` (every complete frame now buffered).

    Args:
        max_frame: largest payload accepted (1 .. 2**32-1); a larger length prefix raises
            :class:`~symphony.commons.errors.FrameTooLarge` as soon as its 4 bytes are in,
            before anything is buffered for it. The decoder then stays broken (every later
            call raises the same error): the stream cannot be resynchronised.

    A stream that ends inside a frame raises :class:`~symphony.commons.errors.InvalidFrame`;
    data after the end of the stream is a :class:`~symphony.commons.errors.LocalProtocolError`;
    ``str`` or a non-buffer raises ``TypeError``.
    """

    __slots__ = ("_broken", "_buf", "_eof", "_pos", "max_frame", "offset")

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        if not 0 < max_frame <= 0xFFFFFFFF:
            raise LocalProtocolError(f"max_frame={max_frame} must be in 1..2**32-1")
        self.max_frame = max_frame
        """Largest frame accepted, in bytes."""
        self.offset = 0
        """Stream offset of the first byte not yet consumed (for error messages)."""
        self._buf = b""
        self._pos = 0
        self._eof = False
        self._broken: RemoteProtocolError | None = None

    def receive_data(self, data: Buffer) -> None:
        """Feed bytes from the stream; ``b""`` means the stream ended.

        Raises:
            LocalProtocolError: data after end of stream.
            TypeError, BufferError: ``data`` is not a C-contiguous buffer.
        """
        mv = byte_view(data, "frame data")
        if self._eof:
            if len(mv):
                raise LocalProtocolError("receive_data() after end of stream")
            return
        if not len(mv):
            self._eof = True
            return
        if self._pos:
            self._buf = self._buf[self._pos :] + mv
            self.offset += self._pos
            self._pos = 0
        elif self._buf:
            self._buf += mv
        else:
            self._buf = bytes(mv)

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as frames."""
        return len(self._buf) - self._pos

    @property
    def eof(self) -> bool:
        """True once ``receive_data(b"")`` was called."""
        return self._eof

    def __iter__(self) -> Iterator[bytes]:
        """Every complete frame now buffered (stops at NEED_DATA or EOF)."""
        while True:
            frame = self.next_frame()
            if frame is NEED_DATA or frame is EOF:
                return
            yield frame  # type: ignore[misc]

    def _fail(self, err: RemoteProtocolError) -> RemoteProtocolError:
        self._broken = err
        self._buf = b""
        self._pos = 0
        return err

    def next_frame(self) -> bytes | type[NEED_DATA] | type[EOF]:
        """The next complete frame's payload, :class:`NEED_DATA` or :class:`EOF`.

        Raises:
            FrameTooLarge: a length prefix exceeds ``max_frame``.
            InvalidFrame: the stream ended inside a frame.
        """
        if self._broken is not None:
            raise self._broken
        buf = self._buf
        pos = self._pos
        avail = len(buf) - pos
        if avail >= 4:
            (n,) = _unpack_len(buf, pos)
            end = pos + 4 + n
            if end <= len(buf) and n <= self.max_frame:
                self._pos = end
                return buf[pos + 4 : end]
            if n > self.max_frame:
                raise self._fail(
                    FrameTooLarge(
                        f"frame length {n} exceeds max_frame={self.max_frame} "
                        f"at offset {self.offset + pos}"
                    )
                )
        if self._eof:
            if avail:
                raise self._fail(
                    InvalidFrame(
                        f"stream ended inside a frame: {avail} bytes buffered "
                        f"at offset {self.offset + pos}"
                    )
                )
            return EOF
        return NEED_DATA

    def frames(self) -> list[bytes]:
        """All complete frames now buffered, in order (faster than looping
        :meth:`next_frame` for many small frames). Errors as :meth:`next_frame`; when good
        frames precede a bad prefix, they are returned and the error is raised next call."""
        if self._broken is not None:
            raise self._broken
        buf = self._buf
        pos = self._pos
        size = len(buf)
        limit = self.max_frame
        out: list[bytes] = []
        append = out.append
        while size - pos >= 4:
            (n,) = _unpack_len(buf, pos)
            end = pos + 4 + n
            if end > size or n > limit:
                break
            append(buf[pos + 4 : end])
            pos = end
        self._pos = pos
        if not out:
            self.next_frame()  # raises on an oversize prefix or a truncated end
        return out


# ----------------------------------------------------------------------------- msgpack
# Decoding msgpack envelopes (encoding stays with msgpack's C Packer, which already writes a
# Message -- a tuple -- as an array with no Python code). The values are those of
# msgpack.unpackb(raw=False, strict_map_key=False, timestamp=3) with the ext hook below:
# ext 1 -> MessageId (exactly 16 bytes), ext 2 -> big int, ext -1 -> UTC datetime, other
# codes 0..127 -> msgpack.ExtType; nesting deeper than 1024 containers, trailing bytes,
# truncation, bad UTF-8, unhashable keys -> CodecError.


def _msgpack_ext_hook(code: int, data: bytes) -> Any:
    if code == EXT_MESSAGE_ID:
        if len(data) != 16:
            raise CodecError(f"ext {EXT_MESSAGE_ID} (MessageId) with {len(data)} bytes, not 16")
        return _tuple_new(MessageId, (EXT_MESSAGE_ID, data))
    if code == EXT_BIGINT:
        return bigint_from_bytes(data)
    return ExtType(code, data)


def decode_msgpack_value(data: Buffer) -> object:
    """Decode exactly one msgpack value (see the comment above for the mapping).

    Raises:
        CodecError: anything that is not exactly one valid msgpack value.
        TypeError, BufferError: ``data`` is not a C-contiguous buffer.
    """
    buf = _data(data)
    try:
        return msgpack.unpackb(buf, ext_hook=_msgpack_ext_hook, timestamp=3, strict_map_key=False)
    except SymphonyError:
        raise
    except Exception as exc:
        raise CodecError(f"bad msgpack value: {type(exc).__name__}: {exc}") from exc


def decode_msgpack_envelope(data: Buffer) -> list[Any]:
    """The 13 envelope fields (a list, in wire order) of the msgpack array in ``data``.

    Raises:
        CodecError: not msgpack, or not a valid envelope (names the bad field).
        TypeError, BufferError: ``data`` is not a C-contiguous buffer.
    """
    t = decode_msgpack_value(data)
    if type(t) is not list:
        raise CodecError(f"msgpack envelope is a {type(t).__name__}, not an array")
    problem = header_problem(tuple(t))
    if problem is not None:
        raise CodecError(f"bad msgpack envelope: {problem}")
    return t
