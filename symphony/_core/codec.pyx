"""Cython twin of :mod:`symphony.reference.codec`; semantics there.

Performance notes: encoding appends to one growable C buffer (PyMem) and makes one bytes
object at the end; integers, floats and lengths are written byte by byte in little-endian
order (portable, and the compiler folds it into single stores on x86); strings go through
``PyUnicode_AsUTF8AndSize`` (cached UTF-8, no copy for ASCII) and come back through
``PyUnicode_DecodeUTF8``. Dispatch is on the exact type first (str, int, dict, list, float,
None, bool, bytes, MessageId), subclasses and rare types take the slow path.
"""

from cpython.buffer cimport PyBuffer_Release
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.list cimport PyList_Append
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from cpython.ref cimport Py_INCREF, Py_XDECREF, PyObject
from libc.string cimport memcmp, memcpy

from symphony._core._buffer cimport acquire_bytes

import datetime as _dt

from msgpack import ExtType, Timestamp

from symphony._wire import (
    DEFAULT_MAX_FRAME,
    EXT_BIGINT,
    header_problem,
    EOF,
    EXT_MESSAGE_ID,
    NEED_DATA,
    MAX_DEPTH,
    VALUE_TAGS,
    MessageId,
    bigint_from_bytes,
    bigint_to_bytes,
)
from symphony.commons.errors import (
    CodecError,
    FrameTooLarge,
    InvalidFrame,
    LocalProtocolError,
    SymphonyError,
)

cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object s, Py_ssize_t* size) except NULL
    bint PyUnicode_IS_COMPACT_ASCII(object s)
    void* PyUnicode_DATA(object s)
    Py_ssize_t PyUnicode_GET_LENGTH(object s)
    long long PyLong_AsLongLongAndOverflow(object v, int* overflow) except? -1
    PyObject* PyDict_GetItemWithError(object d, object key) except? NULL

__all__ = [
    "FrameDecoder",
    "decode_envelope",
    "decode_msgpack_envelope",
    "decode_msgpack_value",
    "decode_value",
    "encode_envelope",
    "encode_value",
]

cdef int _MAX_DEPTH = MAX_DEPTH
cdef object _EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
cdef object _timedelta = _dt.timedelta
cdef object _datetime = _dt.datetime
cdef object _U64_MAX = (1 << 64) - 1
cdef object _tuple_new = tuple.__new__
cdef object _MessageId = MessageId
cdef object _ExtType = ExtType


# ----------------------------------------------------------------------------- writing
cdef int _grow(Buf* b, Py_ssize_t need) except -1:
    cdef Py_ssize_t cap = b.cap * 2 if b.cap else 512
    while cap < b.len + need:
        cap *= 2
    cdef char* p = <char*>PyMem_Realloc(b.data, <size_t>cap)
    if p == NULL:
        raise MemoryError()
    b.data = p
    b.cap = cap
    return 0


cdef inline int _put(Buf* b, const void* src, Py_ssize_t n) except -1:
    if b.len + n > b.cap:
        _grow(b, n)
    memcpy(b.data + b.len, src, <size_t>n)
    b.len += n
    return 0


cdef inline int _put_u8(Buf* b, uint8_t v) except -1:
    if b.len + 1 > b.cap:
        _grow(b, 1)
    b.data[b.len] = <char>v
    b.len += 1
    return 0


cdef inline int _put_u32(Buf* b, uint32_t v) except -1:
    cdef unsigned char* t
    if b.len + 4 > b.cap:
        _grow(b, 4)
    t = <unsigned char*>(b.data + b.len)
    t[0] = v & 0xFF
    t[1] = (v >> 8) & 0xFF
    t[2] = (v >> 16) & 0xFF
    t[3] = (v >> 24) & 0xFF
    b.len += 4
    return 0


cdef inline int _put_u64(Buf* b, uint64_t v) except -1:
    cdef unsigned char* t
    if b.len + 8 > b.cap:
        _grow(b, 8)
    t = <unsigned char*>(b.data + b.len)
    t[0] = v & 0xFF
    t[1] = (v >> 8) & 0xFF
    t[2] = (v >> 16) & 0xFF
    t[3] = (v >> 24) & 0xFF
    t[4] = (v >> 32) & 0xFF
    t[5] = (v >> 40) & 0xFF
    t[6] = (v >> 48) & 0xFF
    t[7] = (v >> 56) & 0xFF
    b.len += 8
    return 0


cdef inline int _put_tag_u64(Buf* b, uint32_t tag, uint64_t v) except -1:
    _put_u32(b, tag)
    return _put_u64(b, v)


cdef inline int _put_f64(Buf* b, double d) except -1:
    cdef uint64_t u
    memcpy(&u, &d, 8)
    return _put_u64(b, u)


cdef object _bad(str what, object value, str why=""):
    extra = f": {why}" if why else ""
    return CodecError(f"bincode {what} cannot encode {type(value).__name__} {value!r:.60}{extra}")


cdef object _truncated(str what, Py_ssize_t pos, Py_ssize_t need, Py_ssize_t have):
    return CodecError(
        f"bincode {what} at offset {pos} needs {need} bytes, only {max(0, have - pos)} left"
    )


cdef int _put_utf8(Buf* b, object s, str what) except -1:
    cdef Py_ssize_t n
    cdef const char* p
    if type(s) is str and PyUnicode_IS_COMPACT_ASCII(s):  # the common case: no try block
        n = PyUnicode_GET_LENGTH(s)
        _put_u64(b, <uint64_t>n)
        return _put(b, PyUnicode_DATA(s), n)
    try:
        p = PyUnicode_AsUTF8AndSize(s, &n)
    except UnicodeEncodeError as exc:
        raise _bad(what, s, str(exc)) from None
    _put_u64(b, <uint64_t>n)
    return _put(b, p, n)


cdef int _put_bytes(Buf* b, bytes data) except -1:
    cdef Py_ssize_t n = PyBytes_GET_SIZE(data)
    _put_u64(b, <uint64_t>n)
    return _put(b, PyBytes_AS_STRING(data), n)


cdef int _put_int(Buf* b, object v) except -1:
    cdef int overflow = 0
    cdef long long x = PyLong_AsLongLongAndOverflow(v, &overflow)
    if overflow == 0:
        _put_u32(b, 2)
        return _put_u64(b, <uint64_t><int64_t>x)
    if overflow > 0 and v <= _U64_MAX:
        _put_u32(b, 3)
        return _put_u64(b, <uint64_t>v)
    data = bigint_to_bytes(v)
    _put_u32(b, 9)
    return _put_bytes(b, data)


cdef int _put_id(Buf* b, object v) except -1:
    data = v[1]
    if type(data) is not bytes or PyBytes_GET_SIZE(data) != 16:
        raise _bad("Value::Id", v, "needs 16 bytes")
    _put_u32(b, 11)
    return _put(b, PyBytes_AS_STRING(data), 16)


cdef int _venc(Buf* b, object v, int depth) except -1:
    cdef type t = type(v)
    if t is str:
        _put_u32(b, 5)
        return _put_utf8(b, v, "Value::Str")
    if t is int:
        return _put_int(b, v)
    if t is dict:
        if depth >= _MAX_DEPTH:
            raise CodecError(f"bincode Value nested deeper than MAX_DEPTH={MAX_DEPTH}")
        _put_tag_u64(b, 8, <uint64_t>len(<dict>v))
        for k, x in (<dict>v).items():
            _venc(b, k, depth + 1)
            _venc(b, x, depth + 1)
        return 0
    if t is list:
        if depth >= _MAX_DEPTH:
            raise CodecError(f"bincode Value nested deeper than MAX_DEPTH={MAX_DEPTH}")
        _put_tag_u64(b, 7, <uint64_t>len(<list>v))
        for x in <list>v:
            _venc(b, x, depth + 1)
        return 0
    if t is tuple:
        if depth >= _MAX_DEPTH:
            raise CodecError(f"bincode Value nested deeper than MAX_DEPTH={MAX_DEPTH}")
        _put_tag_u64(b, 7, <uint64_t>len(<tuple>v))
        for x in <tuple>v:
            _venc(b, x, depth + 1)
        return 0
    if t is float:
        _put_u32(b, 4)
        return _put_f64(b, PyFloat_AS_DOUBLE(v))
    if v is None:
        return _put_u32(b, 0)
    if t is bool:
        _put_u32(b, 1)
        return _put_u8(b, 1 if v is True else 0)
    if t is bytes:
        _put_u32(b, 6)
        return _put_bytes(b, <bytes>v)
    if t is bytearray:
        _put_u32(b, 6)
        return _put_bytes(b, bytes(v))
    if t is _MessageId:
        return _put_id(b, v)
    return _venc_slow(b, v, depth)


cdef int _venc_slow(Buf* b, object v, int depth) except -1:
    # subclasses (IntEnum, str enums, OrderedDict …) and the rarer types, as the twin
    if isinstance(v, bool):
        _put_u32(b, 1)
        return _put_u8(b, 1 if v else 0)
    if isinstance(v, int):
        return _venc(b, int(v), depth)
    if isinstance(v, float):
        _put_u32(b, 4)
        return _put_f64(b, float(v))
    if isinstance(v, str):
        return _venc(b, str(v), depth)
    if isinstance(v, _datetime):
        if v.tzinfo is None:
            raise _bad("Value::Timestamp", v, "naive datetime: give it a tzinfo")
        delta = v - _EPOCH
        secs = delta.days * 86400 + delta.seconds
        _put_u32(b, 10)
        _put_u64(b, <uint64_t><int64_t>secs)
        return _put_u32(b, <uint32_t>(delta.microseconds * 1000))
    if isinstance(v, _MessageId):
        return _put_id(b, v)
    if isinstance(v, _ExtType):
        if not -128 <= v.code <= 127 or not isinstance(v.data, bytes):
            raise _bad("Value::Ext", v, "code must be i8 and data bytes")
        _put_u32(b, 12)
        _put_u8(b, <uint8_t>(<int>v.code & 0xFF))
        return _put_bytes(b, v.data)
    if isinstance(v, dict):
        return _venc(b, dict(v), depth)
    if isinstance(v, (list, tuple)):
        return _venc(b, list(v), depth)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return _venc(b, bytes(v), depth)
    raise _bad("Value", v, "no Value variant for this type")


cdef object _finish(Buf* b):
    return PyBytes_FromStringAndSize(b.data, b.len)


def encode_value(value):
    """encode_value(value) -> bytes. See :func:`symphony.reference.codec.encode_value`."""
    cdef Buf b
    b.data = NULL
    b.len = 0
    b.cap = 0
    try:
        _venc(&b, value, 0)
        return _finish(&b)
    except SymphonyError:
        raise
    except (RecursionError, TypeError, ValueError, OverflowError) as exc:
        raise CodecError(f"bincode Value: {type(exc).__name__}: {exc}") from exc
    finally:
        PyMem_Free(b.data)


# ----------------------------------------------------------------------------- reading
cdef inline uint32_t _rd_u32(const unsigned char* q) noexcept nogil:
    return (<uint32_t>q[0]) | (<uint32_t>q[1] << 8) | (<uint32_t>q[2] << 16) | (<uint32_t>q[3] << 24)


cdef inline uint64_t _rd_u64(const unsigned char* q) noexcept nogil:
    # written out so that gcc folds it into one load on little-endian machines
    return ((<uint64_t>q[0]) | (<uint64_t>q[1] << 8) | (<uint64_t>q[2] << 16)
            | (<uint64_t>q[3] << 24) | (<uint64_t>q[4] << 32) | (<uint64_t>q[5] << 40)
            | (<uint64_t>q[6] << 48) | (<uint64_t>q[7] << 56))


cdef inline double _rd_f64(const unsigned char* q) noexcept nogil:
    cdef uint64_t u = _rd_u64(q)
    cdef double d
    memcpy(&d, &u, 8)
    return d


cdef object _utf8(const unsigned char* p, Py_ssize_t pos, Py_ssize_t end, str what):
    try:
        return _mp_str(p + pos, end - pos)
    except UnicodeDecodeError as exc:
        raise CodecError(f"bincode {what} at offset {pos} is not UTF-8: {exc}") from None


cdef inline int _check_count(str rust, uint64_t n, Py_ssize_t pos, Py_ssize_t item_min, Py_ssize_t n_buf) except -1:
    # n * item_min > left, computed without overflow
    if n > <uint64_t>((n_buf - pos) // item_min):
        raise CodecError(
            f"bincode {rust} at offset {pos - 8} claims {n} items of >= {item_min} bytes, "
            f"only {n_buf - pos} bytes left"
        )
    return 0


cdef object _vdec(const unsigned char* p, Py_ssize_t n_buf, Py_ssize_t* at, int depth):
    cdef Py_ssize_t pos = at[0]
    cdef Py_ssize_t q, end, start
    cdef uint32_t tag
    cdef uint64_t n, i
    cdef uint8_t bb
    cdef int64_t secs
    cdef uint32_t nanos
    if pos + 4 > n_buf:
        raise _truncated("Value tag", pos, 4, n_buf)
    tag = _rd_u32(p + pos)
    q = pos + 4
    if tag == 5 or tag == 6 or tag == 9:
        if q + 8 > n_buf:
            raise _truncated("Value length", q, 8, n_buf)
        n = _rd_u64(p + q)
        q += 8
        if n > <uint64_t>(n_buf - q):
            raise _truncated(f"Value::{VALUE_TAGS[tag]}", q, <Py_ssize_t>min(n, <uint64_t>0x7FFFFFFFFFFFFFFF), n_buf)
        end = q + <Py_ssize_t>n
        at[0] = end
        if tag == 5:
            return _utf8(p, q, end, "Value::Str")
        raw = PyBytes_FromStringAndSize(<const char*>(p + q), end - q)
        if tag == 6:
            return raw
        return bigint_from_bytes(raw)
    if tag == 2:
        if q + 8 > n_buf:
            raise _truncated("Value::I64", q, 8, n_buf)
        at[0] = q + 8
        return <int64_t>_rd_u64(p + q)
    if tag == 7 or tag == 8:
        if depth >= _MAX_DEPTH:
            raise CodecError(f"bincode Value at offset {pos} nested deeper than MAX_DEPTH={MAX_DEPTH}")
        if q + 8 > n_buf:
            raise _truncated("Value length", q, 8, n_buf)
        n = _rd_u64(p + q)
        q += 8
        at[0] = q
        if tag == 7:
            _check_count("Value::Array", n, q, 4, n_buf)
            arr = [None] * <Py_ssize_t>n
            for i in range(n):
                arr[i] = _vdec(p, n_buf, at, depth + 1)
            return arr
        _check_count("Value::Map", n, q, 8, n_buf)
        result = {}
        for i in range(n):
            start = at[0]
            k = _vdec(p, n_buf, at, depth + 1)
            x = _vdec(p, n_buf, at, depth + 1)
            if type(k) is str:  # the common case cannot fail
                result[k] = x
                continue
            try:
                result[k] = x
            except TypeError:
                raise CodecError(
                    f"bincode Value::Map key at offset {start} is unhashable ({type(k).__name__})"
                ) from None
        return result
    if tag == 0:
        at[0] = q
        return None
    if tag == 1:
        if q >= n_buf:
            raise _truncated("Value::Bool", q, 1, n_buf)
        bb = p[q]
        if bb > 1:
            raise CodecError(f"bincode Value::Bool at offset {q} is {bb}, not 0 or 1")
        at[0] = q + 1
        return bb == 1
    if tag == 3:
        if q + 8 > n_buf:
            raise _truncated("Value::U64", q, 8, n_buf)
        at[0] = q + 8
        return _rd_u64(p + q)
    if tag == 4:
        if q + 8 > n_buf:
            raise _truncated("Value::F64", q, 8, n_buf)
        at[0] = q + 8
        return _rd_f64(p + q)
    if tag == 10:
        if q + 12 > n_buf:
            raise _truncated("Value::Timestamp", q, 12, n_buf)
        secs = <int64_t>_rd_u64(p + q)
        nanos = _rd_u32(p + q + 8)
        if nanos >= 1000000000:
            raise CodecError(f"bincode Value::Timestamp at offset {q}: nanos {nanos} >= 1e9")
        try:
            when = _EPOCH + _timedelta(seconds=secs, microseconds=nanos // 1000)
        except OverflowError:
            raise CodecError(
                f"bincode Value::Timestamp at offset {q}: {secs} s is outside datetime's range"
            ) from None
        at[0] = q + 12
        return when
    if tag == 11:
        if q + 16 > n_buf:
            raise _truncated("Value::Id", q, 16, n_buf)
        at[0] = q + 16
        return _tuple_new(_MessageId, (EXT_MESSAGE_ID, PyBytes_FromStringAndSize(<const char*>(p + q), 16)))
    if tag == 12:
        if q + 9 > n_buf:
            raise _truncated("Value::Ext", q, 9, n_buf)
        code = <int>(<signed char>p[q])
        if code < 0:
            raise CodecError(f"bincode Value::Ext at offset {q} has code {code} (0..127)")
        n = _rd_u64(p + q + 1)
        q += 9
        if n > <uint64_t>(n_buf - q):
            raise _truncated("Value::Ext data", q, <Py_ssize_t>min(n, <uint64_t>0x7FFFFFFFFFFFFFFF), n_buf)
        end = q + <Py_ssize_t>n
        at[0] = end
        return _ExtType(code, PyBytes_FromStringAndSize(<const char*>(p + q), end - q))
    raise CodecError(f"bincode Value tag {tag} at offset {pos} is unknown (0..12)")


def decode_value(data, offset=0):
    """decode_value(data, offset=0) -> (value, end). See
    :func:`symphony.reference.codec.decode_value`."""
    cdef Py_buffer view
    cdef Py_ssize_t at
    acquire_bytes(data, &view, "bincode data")
    try:
        if not 0 <= offset <= view.len:
            raise CodecError(f"bincode Value offset {offset} outside 0..{view.len}")
        at = offset
        try:
            value = _vdec(<const unsigned char*>view.buf, view.len, &at, 0)
        except SymphonyError:
            raise
        except (RecursionError, TypeError, ValueError, OverflowError, IndexError) as exc:
            raise CodecError(f"bincode Value: {type(exc).__name__}: {exc}") from exc
        return value, at
    finally:
        PyBuffer_Release(&view)


# ----------------------------------------------------------------------------- envelope
cdef int _put_key(Buf* b, object k) except -1:
    if type(k) is not str:
        if not isinstance(k, str):
            raise _bad("String", k, "not a str")
        k = str(k)
    return _put_utf8(b, k, "String")


cdef inline object _int(object x):
    # struct.pack (the twin) accepts ints and int subclasses only, never floats
    if type(x) is int or isinstance(x, int):
        return x
    raise TypeError(f"an integer is required, got {type(x).__name__}")


cdef bytes _id_bytes(object mid):
    # a MessageId is a tuple subclass: read its data slot directly (no sq_item call)
    if isinstance(mid, tuple) and len(<tuple>mid) == 2:
        data = (<tuple>mid)[1]
    else:
        data = mid[1]
    if type(data) is not bytes or PyBytes_GET_SIZE(data) != 16:
        raise CodecError("bincode Envelope ids must be 16 bytes")
    return <bytes>data


cdef uint8_t _u8(object x) except? 255:
    cdef int overflow = 0
    cdef long long v = PyLong_AsLongLongAndOverflow(x, &overflow)  # ints and int subclasses
    if overflow or not 0 <= v <= 255:
        raise OverflowError(f"u8 out of range: {x}")  # struct.error in the twin: CodecError
    return <uint8_t>v


cdef inline object _lookup(object table, object key):
    # dict.get without the attribute lookup and call (borrowed reference from C)
    cdef PyObject* found
    if type(table) is dict:
        found = PyDict_GetItemWithError(table, key)
        if found == NULL:
            return None
        return <object>found
    return table.get(key)


cdef uint32_t _code_u32(object code, str what) except? 0xFFFFFFFF:
    cdef int overflow = 0
    cdef long long v
    if type(code) is int:
        v = PyLong_AsLongLongAndOverflow(code, &overflow)
        if not overflow and 0 < v <= 0xFFFFFFFF:
            return <uint32_t>v
    raise CodecError(f"bincode {what} {code!r} is not 1..2**32-1")


cdef uint32_t _type_code(object typ, object ver, object type_codes) except? 0xFFFFFFFF:
    if type_codes:
        code = _lookup(type_codes, (typ, ver))
        if code is not None:
            return _code_u32(code, "message type code")
    return 0


cdef uint32_t _endpoint_id(str name, object endpoint_ids) except? 0xFFFFFFFF:
    cdef PyObject* found
    if PyUnicode_GET_LENGTH(name) == 0 or endpoint_ids is None:
        return 0
    if type(endpoint_ids) is dict:  # the common case: no truth test, a borrowed lookup
        found = PyDict_GetItemWithError(endpoint_ids, name)
        if found == NULL or <object>found is None:  # as dict.get in the twin
            return 0
        return _code_u32(<object>found, "endpoint id")
    if endpoint_ids:
        eid = endpoint_ids.get(name)
        if eid is not None:
            return _code_u32(eid, "endpoint id")
    return 0


def encode_envelope(fields, type_codes=None, endpoint_ids=None):
    """encode_envelope(fields, type_codes=None, endpoint_ids=None) -> bytes. See
    :func:`symphony.reference.codec.encode_envelope`."""
    cdef Buf b
    cdef uint32_t code, sid, tid
    b.data = NULL
    b.len = 0
    b.cap = 0
    try:
        if isinstance(fields, tuple) and len(<tuple>fields) == 13:
            tf = <tuple>fields  # a Message: index the tuple directly (no iterator protocol)
            pv = tf[0]; mid = tf[1]; cid = tf[2]; kind = tf[3]; typ = tf[4]; ver = tf[5]
            src = tf[6]; tgt = tf[7]; ts = tf[8]; ttl = tf[9]; prio = tf[10]
            payload = tf[11]; meta = tf[12]
        else:
            (pv, mid, cid, kind, typ, ver, src, tgt, ts, ttl, prio, payload, meta) = fields
        mid_b = _id_bytes(mid)
        cid_b = None if cid is None else _id_bytes(cid)
        if type(typ) is not str:
            raise _bad("Envelope.message_type", typ, "not a str")
        if type(src) is not str:
            raise _bad("Envelope.source", src, "not a str")
        if type(tgt) is not str:
            raise _bad("Envelope.target", tgt, "not a str")
        code = _type_code(typ, ver, type_codes)
        sid = _endpoint_id(<str>src, endpoint_ids)
        tid = _endpoint_id(<str>tgt, endpoint_ids)
        _put_u8(&b, _u8(pv))
        _put(&b, PyBytes_AS_STRING(mid_b), 16)
        if cid is None:
            _put_u8(&b, 0)
        else:
            _put_u8(&b, 1)
            _put(&b, PyBytes_AS_STRING(cid_b), 16)
        _put_u8(&b, _u8(kind))
        _put_u8(&b, _u8(prio))
        _put_u32(&b, code)
        _put_u32(&b, sid)
        _put_u32(&b, tid)
        _put_u64(&b, <uint64_t>_int(ts))
        if ttl is None:
            _put_u8(&b, 0)
        else:
            if not isinstance(ttl, int) or not 0 <= ttl <= 0xFFFFFFFF:
                raise _bad("Envelope.ttl_ms", ttl, "not a u32 of milliseconds")
            _put_u8(&b, 1)
            _put_u32(&b, <uint32_t>ttl)
        if code == 0 or (sid == 0 and PyUnicode_GET_LENGTH(src)) or (
            tid == 0 and PyUnicode_GET_LENGTH(tgt)
        ):
            _put_u8(&b, 1)  # names: Some(Names)
            if code == 0:
                _put_u8(&b, 1)
                _put_utf8(&b, typ, "String")
                _put_u32(&b, <uint32_t>_int(ver))
            else:
                _put_u8(&b, 0)
            if sid == 0 and PyUnicode_GET_LENGTH(src):
                _put_u8(&b, 1)
                _put_utf8(&b, src, "String")
            else:
                _put_u8(&b, 0)
            if tid == 0 and PyUnicode_GET_LENGTH(tgt):
                _put_u8(&b, 1)
                _put_utf8(&b, tgt, "String")
            else:
                _put_u8(&b, 0)
        else:
            _put_u8(&b, 0)  # names: None
        _venc(&b, payload, 0)
        if meta:
            items = meta.items()
            _put_u8(&b, 1)
            _put_u64(&b, <uint64_t>len(meta))
            for k, v in items:
                _put_key(&b, k)
                _venc(&b, v, 0)
        elif type(meta) is dict:
            _put_u8(&b, 0)
        else:
            raise _bad("Envelope.metadata", meta, "not a dict")
        return _finish(&b)
    except SymphonyError:
        raise
    except Exception as exc:
        raise CodecError(f"bincode cannot encode envelope: {type(exc).__name__}: {exc}") from exc
    finally:
        PyMem_Free(b.data)


cdef inline int _opt_tag(const unsigned char* p, Py_ssize_t n_buf, Py_ssize_t pos, str what) except -1:
    if pos >= n_buf:
        raise _truncated(what, pos, 1, n_buf)
    if p[pos] > 1:
        raise CodecError(f"bincode {what} tag at offset {pos} is {p[pos]}, not 0 or 1")
    return p[pos]


cdef object _str_at(const unsigned char* p, Py_ssize_t n_buf, Py_ssize_t* at):
    cdef Py_ssize_t pos = at[0]
    cdef Py_ssize_t end
    cdef uint64_t n
    if pos + 8 > n_buf:
        raise _truncated("String length", pos, 8, n_buf)
    n = _rd_u64(p + pos)
    pos += 8
    if n > <uint64_t>(n_buf - pos):
        raise _truncated("String", pos, <Py_ssize_t>min(n, <uint64_t>0x7FFFFFFFFFFFFFFF), n_buf)
    end = pos + <Py_ssize_t>n
    s = _utf8(p, pos, end, "String")
    at[0] = end
    return s


cdef inline object _endpoint(uint32_t eid, object name, object names, str what, Py_ssize_t at):
    cdef PyObject* hit
    if name is not None:
        if eid != 0:
            raise CodecError(f"bincode {what} at offset {at} is id {eid} and also a name")
        return name
    if eid == 0:
        return ""
    if type(names) is dict:  # the common case: a borrowed lookup, no truth test
        hit = PyDict_GetItemWithError(names, eid)
        found = None if hit == NULL else <object>hit
    else:
        found = _lookup(names, eid) if names else None
    if found is None:
        raise CodecError(f"bincode {what} at offset {at}: unknown endpoint id {eid}")
    return found


cdef object _dec_envelope(const unsigned char* p, Py_ssize_t n_buf, object type_names, object endpoint_names):
    cdef Py_ssize_t pos, names_at
    cdef uint8_t tag, pv, kind, prio
    cdef uint32_t code, sid, tid
    cdef uint64_t count, i
    if n_buf < 18:
        raise _truncated("Envelope", 0, 18, n_buf)
    pv = p[0]
    tag = p[17]
    if tag == 0:
        cid = None
        pos = 18
    elif tag == 1:
        if n_buf < 34:
            raise _truncated("Envelope.correlation_id", 18, 16, n_buf)
        cid = _tuple_new(_MessageId, (EXT_MESSAGE_ID, PyBytes_FromStringAndSize(<const char*>(p + 18), 16)))
        pos = 34
    else:
        raise CodecError(f"bincode Envelope.correlation_id tag at offset 17 is {tag}")
    if pv != 1:
        raise CodecError(f"bincode Envelope.protocol_version at offset 0 is {pv}, not 1")
    if pos + 22 > n_buf:
        raise _truncated("Envelope.kind", pos, 22, n_buf)
    kind = p[pos]
    prio = p[pos + 1]
    code = _rd_u32(p + pos + 2)
    sid = _rd_u32(p + pos + 6)
    tid = _rd_u32(p + pos + 10)
    ts = _rd_u64(p + pos + 14)
    if kind > 4:
        raise CodecError(f"bincode Envelope.kind at offset {pos} is {kind} (0..4)")
    if prio > 3:
        raise CodecError(f"bincode Envelope.priority at offset {pos + 1} is {prio} (0..3)")
    pos += 22
    if _opt_tag(p, n_buf, pos, "Envelope.ttl_ms"):
        if pos + 5 > n_buf:
            raise _truncated("Envelope.ttl_ms", pos + 1, 4, n_buf)
        ttl = _rd_u32(p + pos + 1)
        pos += 5
    else:
        ttl = None
        pos += 1
    names_at = pos
    tname = sname = gname = None
    ver = 0
    if _opt_tag(p, n_buf, pos, "Envelope.names"):
        pos += 1
        if _opt_tag(p, n_buf, pos, "Names.message_type"):
            pos += 1
            tname = _str_at(p, n_buf, &pos)
            if pos + 4 > n_buf:
                raise _truncated("Names.message_type version", pos, 4, n_buf)
            ver = _rd_u32(p + pos)
            pos += 4
        else:
            pos += 1
        if _opt_tag(p, n_buf, pos, "Names.source"):
            pos += 1
            sname = _str_at(p, n_buf, &pos)
        else:
            pos += 1
        if _opt_tag(p, n_buf, pos, "Names.target"):
            pos += 1
            gname = _str_at(p, n_buf, &pos)
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
        found = _lookup(type_names, code) if type_names and code else None
        if found is None:
            raise CodecError(
                f"bincode Envelope.message_type at offset {names_at}: unknown code {code}"
            )
        typ, ver = found
    src = _endpoint(sid, sname, endpoint_names, "Envelope.source", names_at)
    tgt = _endpoint(tid, gname, endpoint_names, "Envelope.target", names_at)
    payload = _vdec(p, n_buf, &pos, 0)
    meta = {}
    if _opt_tag(p, n_buf, pos, "Envelope.metadata"):
        if pos + 9 > n_buf:
            raise _truncated("Envelope.metadata length", pos + 1, 8, n_buf)
        count = _rd_u64(p + pos + 1)
        pos += 9
        _check_count("Envelope.metadata", count, pos, 12, n_buf)
        for i in range(count):
            k = _str_at(p, n_buf, &pos)
            meta[k] = _vdec(p, n_buf, &pos, 0)
    else:
        pos += 1
    if pos != n_buf:
        raise CodecError(f"bincode Envelope: {n_buf - pos} trailing bytes at offset {pos}")
    mid = _tuple_new(_MessageId, (EXT_MESSAGE_ID, PyBytes_FromStringAndSize(<const char*>(p + 1), 16)))
    return (pv, mid, cid, kind, typ, ver, src, tgt, ts, ttl, prio, payload, meta)


def decode_envelope(data, type_names=None, endpoint_names=None):
    """decode_envelope(data, type_names=None, endpoint_names=None) -> tuple. See
    :func:`symphony.reference.codec.decode_envelope`."""
    cdef Py_buffer view
    acquire_bytes(data, &view, "bincode data")
    try:
        try:
            return _dec_envelope(<const unsigned char*>view.buf, view.len, type_names, endpoint_names)
        except SymphonyError:
            raise
        except (RecursionError, TypeError, ValueError, OverflowError, IndexError) as exc:
            raise CodecError(f"bincode Envelope: {type(exc).__name__}: {exc}") from exc
    finally:
        PyBuffer_Release(&view)


# ----------------------------------------------------------------------------- framing
cdef class FrameDecoder:
    """FrameDecoder(max_frame=16777216). See :class:`symphony.reference.codec.FrameDecoder`.

    Performance: frames are cut in one C loop over the buffered bytes (one bytes object per
    frame, nothing else allocated); the buffer is compacted once per :meth:`receive_data`.
    """

    cdef bytes _buf
    cdef Py_ssize_t _pos
    cdef bint _eof
    cdef object _broken
    cdef public object max_frame
    cdef public object offset
    cdef uint64_t _limit

    def __init__(self, max_frame=DEFAULT_MAX_FRAME):
        if not 0 < max_frame <= 0xFFFFFFFF:
            raise LocalProtocolError(f"max_frame={max_frame} must be in 1..2**32-1")
        self.max_frame = max_frame
        self.offset = 0
        self._limit = <uint64_t>max_frame
        self._buf = b""
        self._pos = 0
        self._eof = False
        self._broken = None

    def receive_data(self, data):
        """receive_data(data) -> None. See the twin."""
        cdef Py_buffer view
        acquire_bytes(data, &view, "frame data")
        try:
            if self._eof:
                if view.len:
                    raise LocalProtocolError("receive_data() after end of stream")
                return
            if not view.len:
                self._eof = True
                return
            chunk = PyBytes_FromStringAndSize(<const char*>view.buf, view.len)
        finally:
            PyBuffer_Release(&view)
        if self._pos:
            self._buf = self._buf[self._pos:] + chunk
            self.offset += self._pos
            self._pos = 0
        elif PyBytes_GET_SIZE(self._buf):
            self._buf = self._buf + chunk
        else:
            self._buf = chunk

    @property
    def buffered(self):
        """Bytes received but not yet returned as frames."""
        return PyBytes_GET_SIZE(self._buf) - self._pos

    @property
    def eof(self):
        """True once ``receive_data(b"")`` was called."""
        return bool(self._eof)

    def __iter__(self):
        """Every complete frame now buffered (stops at NEED_DATA or EOF)."""
        while True:
            frame = self.next_frame()
            if frame is NEED_DATA or frame is EOF:
                return
            yield frame

    cdef object _fail(self, err):
        self._broken = err
        self._buf = b""
        self._pos = 0
        return err

    def next_frame(self):
        """next_frame() -> bytes | NEED_DATA | EOF. See the twin."""
        cdef const unsigned char* p
        cdef Py_ssize_t size, pos, avail
        cdef uint32_t n
        if self._broken is not None:
            raise self._broken
        p = <const unsigned char*>PyBytes_AS_STRING(self._buf)
        size = PyBytes_GET_SIZE(self._buf)
        pos = self._pos
        avail = size - pos
        if avail >= 4:
            n = _rd_u32(p + pos)
            if n <= self._limit and <uint64_t>n + 4 <= <uint64_t>avail:
                self._pos = pos + 4 + n
                return PyBytes_FromStringAndSize(<const char*>(p + pos + 4), n)
            if n > self._limit:
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

    def frames(self):
        """frames() -> list[bytes]. See the twin."""
        cdef const unsigned char* p
        cdef Py_ssize_t size, pos
        cdef uint32_t n
        cdef list out = []
        if self._broken is not None:
            raise self._broken
        p = <const unsigned char*>PyBytes_AS_STRING(self._buf)
        size = PyBytes_GET_SIZE(self._buf)
        pos = self._pos
        while size - pos >= 4:
            n = _rd_u32(p + pos)
            if n > self._limit or <uint64_t>n + 4 > <uint64_t>(size - pos):
                break
            PyList_Append(out, PyBytes_FromStringAndSize(<const char*>(p + pos + 4), n))
            pos += 4 + n
        self._pos = pos
        if not out:
            self.next_frame()  # raises on an oversize prefix or a truncated end
        return out


# ----------------------------------------------------------------------------- msgpack
# Semantics: msgpack.unpackb(raw=False, strict_map_key=False, timestamp=3) with the twin's
# ext hook. Performance: one recursive C reader, no Python-level hook per id, the envelope
# header checked in C; only the values themselves are Python objects.

cdef enum:
    _MP_MAX_NESTING = 1024  # msgpack's own unpacker stack (1024 open containers)
cdef object _Timestamp_from_bytes = Timestamp.from_bytes


cdef inline uint16_t _be16(const unsigned char* q) noexcept nogil:
    return (<uint16_t>q[0] << 8) | q[1]


cdef inline uint32_t _be32(const unsigned char* q) noexcept nogil:
    return (<uint32_t>q[0] << 24) | (<uint32_t>q[1] << 16) | (<uint32_t>q[2] << 8) | q[3]


cdef inline uint64_t _be64(const unsigned char* q) noexcept nogil:
    return (<uint64_t>_be32(q) << 32) | _be32(q + 4)


# A small cache of short ASCII strings (map keys, endpoint and type names repeat from message
# to message): a hit returns the cached object, whose hash is already computed, instead of
# decoding a new string and hashing it again for the dict. Direct-mapped, 1024 slots,
# strings of 1..32 bytes; guarded by the GIL (nothing here releases it).
DEF _KC_SLOTS = 1024
cdef PyObject* _kc[_KC_SLOTS]


cdef inline object _mp_str(const unsigned char* s, Py_ssize_t n):
    cdef uint32_t h
    cdef Py_ssize_t i
    cdef PyObject* cached
    if n == 0 or n > 32:
        return PyUnicode_DecodeUTF8(<const char*>s, n, NULL)
    h = 2166136261u
    for i in range(n):
        h = (h ^ s[i]) * 16777619u
    h &= _KC_SLOTS - 1
    cached = _kc[h]
    if cached != NULL:
        c = <object>cached
        if PyUnicode_GET_LENGTH(c) == n and memcmp(PyUnicode_DATA(c), s, <size_t>n) == 0:
            return c
    k = PyUnicode_DecodeUTF8(<const char*>s, n, NULL)
    if PyUnicode_IS_COMPACT_ASCII(k):
        Py_INCREF(k)
        Py_XDECREF(_kc[h])
        _kc[h] = <PyObject*>k
    return k


cdef object _mp_short(Py_ssize_t pos, Py_ssize_t need, Py_ssize_t n):
    return CodecError(f"msgpack value at offset {pos} needs {need} bytes, only {max(0, n - pos)} left")


cdef inline Py_ssize_t _mp_len(const unsigned char* p, Py_ssize_t n, Py_ssize_t pos, int width,
                               Py_ssize_t fixed, Py_ssize_t unit, Py_ssize_t extra,
                               int depth) noexcept nogil:
    # The length of the str, bin, ext, array or map whose type byte precedes p[pos]: `fixed`
    # (width 0: a fix* type), else the big-endian prefix of `width` (1, 2 or 4) bytes at p[pos]
    # (the caller then skips it). Checked in this order, each failure a negative result for
    # _mp_len_error: the prefix is all there (-1); a container (depth >= 0) is not nested too
    # deep (-2); `unit` bytes per counted item (an array item or a map key takes at least one)
    # plus `extra` (the ext code) remain after the prefix (-3 - the bytes needed). Everything
    # by value (a pointer to the caller's offset would keep it out of a register) and no
    # error handling here, so that inlining it into _mp_dec costs next to nothing.
    cdef Py_ssize_t ln = fixed
    if width:
        if pos + width > n:
            return -1
        if width == 2:
            ln = _be16(p + pos)
        elif width == 4:
            ln = _be32(p + pos)
        else:
            ln = p[pos]
        pos += width
    if depth >= _MP_MAX_NESTING:
        return -2
    if unit * ln + extra > n - pos:
        return -3 - (unit * ln + extra)
    return ln


cdef object _mp_len_error(Py_ssize_t status, Py_ssize_t pos, int width, Py_ssize_t n):
    # The CodecError for status = a negative _mp_len(p, n, pos, width, ...).
    if status == -1:
        return _mp_short(pos, width, n)
    if status == -2:
        return CodecError(f"msgpack nesting deeper than {_MP_MAX_NESTING} at offset {pos + width}")
    return _mp_short(pos + width, -3 - status, n)


cdef object _mp_ext(int code, bytes data):
    if code == 1:
        if PyBytes_GET_SIZE(data) != 16:
            raise CodecError(f"ext 1 (MessageId) with {PyBytes_GET_SIZE(data)} bytes, not 16")
        return _tuple_new(_MessageId, (EXT_MESSAGE_ID, data))
    if code == 2:
        return bigint_from_bytes(data)
    if code == -1:
        return _Timestamp_from_bytes(data).to_datetime()
    return _ExtType(code, data)


cdef object _mp_dec(const unsigned char* p, Py_ssize_t n, Py_ssize_t* at, int depth):
    cdef Py_ssize_t pos = at[0]
    cdef Py_ssize_t size, i, ln
    cdef int w
    cdef unsigned char b
    cdef float f32
    cdef uint32_t u32
    cdef int code
    if pos >= n:
        raise _mp_short(pos, 1, n)
    b = p[pos]
    pos += 1
    if b <= 0x7F:
        at[0] = pos
        return <long>b
    if b >= 0xE0:
        at[0] = pos
        return <long>(<signed char>b)
    if 0xA0 <= b <= 0xBF or 0xD9 <= b <= 0xDB:  # fixstr, str8/16/32
        w = 0 if b <= 0xBF else 1 << (b - 0xD9)
        ln = _mp_len(p, n, pos, w, b & 0x1F, 1, 0, -1)
        if ln < 0:
            raise _mp_len_error(ln, pos, w, n)
        pos += w
        at[0] = pos + ln
        return _mp_str(p + pos, ln)
    if 0x90 <= b <= 0x9F or b == 0xDC or b == 0xDD:  # fixarray, array16/32
        w = 0 if b <= 0x9F else 2 << (b - 0xDC)
        ln = _mp_len(p, n, pos, w, b & 0x0F, 1, 0, depth)
        if ln < 0:
            raise _mp_len_error(ln, pos, w, n)
        at[0] = pos + w
        arr = [None] * ln
        for i in range(ln):
            arr[i] = _mp_dec(p, n, at, depth + 1)
        return arr
    if 0x80 <= b <= 0x8F or b == 0xDE or b == 0xDF:  # fixmap, map16/32
        w = 0 if b <= 0x8F else 2 << (b - 0xDE)
        ln = _mp_len(p, n, pos, w, b & 0x0F, 2, 0, depth)
        if ln < 0:
            raise _mp_len_error(ln, pos, w, n)
        at[0] = pos + w
        d = {}
        for i in range(ln):
            k = _mp_dec(p, n, at, depth + 1)
            v = _mp_dec(p, n, at, depth + 1)
            d[k] = v
        return d
    if b == 0xC0:
        at[0] = pos
        return None
    if b == 0xC2:
        at[0] = pos
        return False
    if b == 0xC3:
        at[0] = pos
        return True
    if b == 0xCC or b == 0xD0:
        if pos + 1 > n:
            raise _mp_short(pos, 1, n)
        at[0] = pos + 1
        return <long>p[pos] if b == 0xCC else <long>(<signed char>p[pos])
    if b == 0xCD or b == 0xD1:
        if pos + 2 > n:
            raise _mp_short(pos, 2, n)
        at[0] = pos + 2
        return <long>_be16(p + pos) if b == 0xCD else <long>(<int16_t>_be16(p + pos))
    if b == 0xCE or b == 0xD2:
        if pos + 4 > n:
            raise _mp_short(pos, 4, n)
        at[0] = pos + 4
        return <long long>_be32(p + pos) if b == 0xCE else <long long>(<int32_t>_be32(p + pos))
    if b == 0xCF or b == 0xD3:
        if pos + 8 > n:
            raise _mp_short(pos, 8, n)
        at[0] = pos + 8
        if b == 0xCF:
            return _be64(p + pos)
        return <int64_t>_be64(p + pos)
    if b == 0xCA:
        if pos + 4 > n:
            raise _mp_short(pos, 4, n)
        u32 = _be32(p + pos)
        memcpy(&f32, &u32, 4)
        at[0] = pos + 4
        return <double>f32
    if b == 0xCB:
        if pos + 8 > n:
            raise _mp_short(pos, 8, n)
        at[0] = pos + 8
        return _be_f64(p + pos)
    if 0xC4 <= b <= 0xC6:  # bin8/16/32
        w = 1 << (b - 0xC4)
        ln = _mp_len(p, n, pos, w, 0, 1, 0, -1)
        if ln < 0:
            raise _mp_len_error(ln, pos, w, n)
        pos += w
        at[0] = pos + ln
        return PyBytes_FromStringAndSize(<const char*>(p + pos), ln)
    if 0xD4 <= b <= 0xD8 or 0xC7 <= b <= 0xC9:  # fixext1..16, ext8/16/32: the code, then data
        w = 0 if b >= 0xD4 else 1 << (b - 0xC7)
        ln = _mp_len(p, n, pos, w, 1 << (b - 0xD4) if b >= 0xD4 else 0, 1, 1, -1)
        if ln < 0:
            raise _mp_len_error(ln, pos, w, n)
        pos += w
        code = <signed char>p[pos]
        at[0] = pos + 1 + ln
        return _mp_ext(code, PyBytes_FromStringAndSize(<const char*>(p + pos + 1), ln))
    raise CodecError(f"msgpack byte 0x{b:02x} at offset {pos - 1} is not a valid type")


cdef inline double _be_f64(const unsigned char* q) noexcept nogil:
    cdef uint64_t u = _be64(q)
    cdef double d
    memcpy(&d, &u, 8)
    return d


cdef object _mp_decode_all(object data):
    cdef Py_buffer view
    cdef Py_ssize_t at = 0
    acquire_bytes(data, &view, "msgpack data")
    try:
        try:
            value = _mp_dec(<const unsigned char*>view.buf, view.len, &at, 0)
        except SymphonyError:
            raise
        except Exception as exc:
            raise CodecError(f"bad msgpack value: {type(exc).__name__}: {exc}") from exc
        if at != view.len:
            raise CodecError(f"bad msgpack value: {view.len - at} trailing bytes at offset {at}")
        return value
    finally:
        PyBuffer_Release(&view)


def decode_msgpack_value(data):
    """decode_msgpack_value(data) -> object. See
    :func:`symphony.reference.codec.decode_msgpack_value`."""
    return _mp_decode_all(data)


def decode_msgpack_envelope(data):
    """decode_msgpack_envelope(data) -> list. See
    :func:`symphony.reference.codec.decode_msgpack_envelope`."""
    t = _mp_decode_all(data)
    if type(t) is not list:
        raise CodecError(f"msgpack envelope is a {type(t).__name__}, not an array")
    cdef list lst = <list>t
    if len(lst) == 13:
        pv = lst[0]; mid = lst[1]; cid = lst[2]; kind = lst[3]; typ = lst[4]; ver = lst[5]
        src = lst[6]; tgt = lst[7]; ts = lst[8]; ttl = lst[9]; prio = lst[10]; meta = lst[12]
        if (
            type(pv) is int and pv == 1
            and type(mid) is _MessageId
            and (cid is None or type(cid) is _MessageId)
            and type(kind) is int and 0 <= kind <= 4
            and type(typ) is str
            and type(ver) is int and 0 <= ver <= 0xFFFFFFFF
            and type(src) is str
            and type(tgt) is str
            and type(ts) is int and 0 <= ts <= _U64_MAX
            and (ttl is None or (type(ttl) is int and 0 <= ttl <= _U64_MAX))
            and type(prio) is int and 0 <= prio <= 3
            and type(meta) is dict
        ):
            for k in <dict>meta:
                if type(k) is not str:
                    break
            else:
                return lst
    problem = header_problem(tuple(lst))
    if problem is not None:
        raise CodecError(f"bad msgpack envelope: {problem}")
    return lst
