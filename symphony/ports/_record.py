"""Plain-data records: the base of every domain type the ports carry.

A :class:`Record` is a frozen, slotted dataclass whose fields are typed with a small set of
types that every codec can carry. :meth:`Record.to_dict` turns it into *plain data* — ``dict``
(``str`` keys), ``list``, ``str``, ``int``, ``float``, ``bool``, ``bytes`` and ``None`` only —
and :meth:`Record.from_dict` rebuilds it, checking every value and naming the field of the
first bad one. Codecs (MessagePack, the bincode-style layout, JSON-RPC params) only ever see
plain data.

Field types a record may use:

- ``str``, ``int`` (signed 64-bit), ``float`` (finite), ``bool``, ``bytes``, ``None``;
- ``X | None``, ``tuple[X, ...]`` (plain form: a list), ``Mapping[str, X]``;
- a ``StrEnum`` (plain form: its value);
- another record; an :class:`Identifier` or :class:`Revision` is embedded as its bare value
  (``"buf-1"``, ``7``) while a top-level ``to_dict()`` of one is ``{"value": …}``;
- a :class:`Tagged` union base: the variant's dict carries its ``"kind"``;
- :data:`Plain`: any plain value (deep-copied on construction, checked on decoding).

Records are normalised on construction: a list given for a ``tuple[...]`` field becomes a
tuple, mappings and plain values are copied (so a record never aliases its caller's data).
Records with mapping or plain fields compare by value but are not hashable.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import types
import typing
from collections.abc import Callable, Mapping
from typing import ClassVar, Self, TypeAlias, Union

from symphony.commons.errors import SerializationError, ValidationError

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "Identifier",
    "Plain",
    "Record",
    "Revision",
    "Tagged",
    "check_plain",
]

Plain: TypeAlias = bool | int | float | str | bytes | list["Plain"] | dict[str, "Plain"] | None
"""A value every codec can carry (``tuple`` is accepted on input and stored as ``list``)."""

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_MAX_DEPTH = 64


class _PlainMarker:
    """Stands in for :data:`Plain` when field annotations are resolved at run time."""


_Encode = Callable[[object], object]
_Decode = Callable[[object, str], object]
# (encode, decode, normalise-on-construction or None when the value is stored as given)
_Conv = tuple[_Encode, _Decode, Callable[[object, str], object] | None]


# --------------------------------------------------------------------------- plain values
def check_plain(value: object, where: str = "value", *, decoding: bool = False) -> Plain:
    """Return a deep copy of ``value`` as plain data, or raise naming the bad part.

    Tuples become lists. Raises :class:`~symphony.commons.errors.ValidationError` (or
    :class:`~symphony.commons.errors.SerializationError` when ``decoding``) for anything
    else: other types, non-``str`` keys, integers outside signed 64 bits, non-finite floats,
    nesting deeper than 64.
    """
    error: type[ValidationError] | type[SerializationError] = (
        SerializationError if decoding else ValidationError
    )
    return _plain(value, where, 0, error)


def _plain(
    value: object,
    where: str,
    depth: int,
    error: type[ValidationError] | type[SerializationError],
) -> Plain:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise error(f"integer {value} at {where} does not fit in 64 signed bits")
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise error(f"float {value!r} at {where} is not finite")
        return float(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if depth >= _MAX_DEPTH:
        raise error(f"value at {where} nests deeper than {_MAX_DEPTH} levels")
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]", depth + 1, error) for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        out: dict[str, Plain] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise error(f"key {k!r} at {where} is a {type(k).__name__}, not a str")
            out[k] = _plain(v, f"{where}[{k!r}]", depth + 1, error)
        return out
    raise error(f"{type(value).__name__} value {value!r} at {where} is not plain data")


# --------------------------------------------------------------------------- converters
def _fail(where: str, expected: str, raw: object) -> SerializationError:
    shown = repr(raw)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return SerializationError(
        f"{where}: expected {expected}, found {type(raw).__name__} {shown}",
        details={"where": where, "expected": expected},
    )


def _identity(value: object) -> object:
    return value


def _scalar_conv(tp: type) -> _Conv:
    if tp is bool:

        def dec_bool(raw: object, where: str) -> object:
            if type(raw) is not bool:
                raise _fail(where, "a bool", raw)
            return raw

        return _identity, dec_bool, None
    if tp is int:

        def dec_int(raw: object, where: str) -> object:
            if type(raw) is not int:
                raise _fail(where, "an int", raw)
            if not INT64_MIN <= raw <= INT64_MAX:
                raise _fail(where, "an int in signed 64 bits", raw)
            return raw

        return _identity, dec_int, None
    if tp is float:

        def dec_float(raw: object, where: str) -> object:
            if type(raw) is int:  # a codec may carry 2.0 as 2
                raw = float(raw)
            if type(raw) is not float or not math.isfinite(raw):
                raise _fail(where, "a finite float", raw)
            return raw

        return _identity, dec_float, None
    if tp is str:

        def dec_str(raw: object, where: str) -> object:
            if type(raw) is not str:
                raise _fail(where, "a str", raw)
            return raw

        return _identity, dec_str, None
    if tp is bytes:

        def dec_bytes(raw: object, where: str) -> object:
            if isinstance(raw, (bytearray, memoryview)):
                raw = bytes(raw)
            if type(raw) is not bytes:
                raise _fail(where, "bytes", raw)
            return raw

        return _identity, dec_bytes, None
    if tp is type(None):

        def dec_none(raw: object, where: str) -> object:
            if raw is not None:
                raise _fail(where, "None", raw)
            return None

        return _identity, dec_none, None
    raise TypeError(f"unsupported field type {tp!r}")


def _enum_conv(tp: type[enum.Enum]) -> _Conv:
    allowed = ", ".join(repr(m.value) for m in tp)

    def enc(value: object) -> object:
        return typing.cast(enum.Enum, value).value

    def dec(raw: object, where: str) -> object:
        try:
            return tp(raw)
        except ValueError:
            raise _fail(where, f"one of {allowed}", raw) from None

    return enc, dec, None


def _conv(tp: object, owner: type) -> _Conv:
    if tp is _PlainMarker:

        def dec_plain(raw: object, where: str) -> object:
            return check_plain(raw, where, decoding=True)

        def norm_plain(value: object, where: str) -> object:
            return check_plain(value, where)

        return _identity, dec_plain, norm_plain
    if isinstance(tp, type):
        if issubclass(tp, enum.Enum):
            return _enum_conv(tp)
        if issubclass(tp, Record):
            return _record_conv(tp)
        return _scalar_conv(tp)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Union or origin is types.UnionType:
        others = [a for a in args if a is not type(None)]
        if len(others) != 1 or len(args) != 2:
            raise TypeError(f"{owner.__name__}: only `X | None` unions are supported, not {tp}")
        enc_x, dec_x, norm_x = _conv(others[0], owner)

        def enc_opt(value: object) -> object:
            return None if value is None else enc_x(value)

        def dec_opt(raw: object, where: str) -> object:
            return None if raw is None else dec_x(raw, where)

        norm_opt = None
        if norm_x is not None:
            norm_inner = norm_x

            def norm_opt_fn(value: object, where: str) -> object:
                return None if value is None else norm_inner(value, where)

            norm_opt = norm_opt_fn
        return enc_opt, dec_opt, norm_opt
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        enc_i, dec_i, norm_i = _conv(args[0], owner)

        def enc_seq(value: object) -> object:
            return [enc_i(v) for v in typing.cast(tuple[object, ...], value)]

        def dec_seq(raw: object, where: str) -> object:
            if not isinstance(raw, (list, tuple)):
                raise _fail(where, "a list", raw)
            return tuple(dec_i(v, f"{where}[{i}]") for i, v in enumerate(raw))

        def norm_seq(value: object, where: str) -> object:
            if not isinstance(value, (list, tuple)):
                raise ValidationError(
                    f"{where}: expected a tuple, found {type(value).__name__} {value!r}"
                )
            if norm_i is None:
                return tuple(value)
            return tuple(norm_i(v, f"{where}[{i}]") for i, v in enumerate(value))

        return enc_seq, dec_seq, norm_seq
    if origin in (Mapping, dict) and len(args) == 2 and args[0] is str:
        enc_v, dec_v, norm_v = _conv(args[1], owner)

        def enc_map(value: object) -> object:
            return {k: enc_v(v) for k, v in typing.cast(Mapping[str, object], value).items()}

        def dec_map(raw: object, where: str) -> object:
            if not isinstance(raw, Mapping):
                raise _fail(where, "a dict", raw)
            out: dict[str, object] = {}
            for k, v in raw.items():
                if type(k) is not str:
                    raise _fail(f"{where} key", "a str", k)
                out[k] = dec_v(v, f"{where}[{k!r}]")
            return out

        def norm_map(value: object, where: str) -> object:
            if not isinstance(value, Mapping):
                raise ValidationError(
                    f"{where}: expected a mapping, found {type(value).__name__} {value!r}"
                )
            out: dict[str, object] = {}
            for k, v in value.items():
                if not isinstance(k, str):
                    raise ValidationError(f"{where}: key {k!r} is not a str")
                out[k] = v if norm_v is None else norm_v(v, f"{where}[{k!r}]")
            return out

        return enc_map, dec_map, norm_map
    raise TypeError(f"{owner.__name__}: unsupported field type {tp!r}")


def _record_conv(tp: type[Record]) -> _Conv:
    if issubclass(tp, _Scalar):
        value_type = tp._value_type()
        _, dec_value, _ = _scalar_conv(value_type)

        def enc_scalar(value: object) -> object:
            return typing.cast("Identifier | Revision", value).value

        def dec_scalar(raw: object, where: str) -> object:
            value = dec_value(raw, where)
            try:
                return tp(value)  # type: ignore[call-arg]
            except ValidationError as exc:
                raise SerializationError(f"{where}: {exc.message}") from exc

        return enc_scalar, dec_scalar, None

    def enc_record(value: object) -> object:
        return typing.cast(Record, value).to_dict()

    def dec_record(raw: object, where: str) -> object:
        if not isinstance(raw, Mapping):
            raise _fail(where, f"a dict for {tp.__name__}", raw)
        return tp._decode(raw, where)

    return enc_record, dec_record, None


# --------------------------------------------------------------------------- records
@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    name: str
    encode: _Encode
    decode: _Decode
    normalise: Callable[[object, str], object] | None
    required: bool
    default: Callable[[], object]


_FIELDS: dict[type, tuple[_Field, ...]] = {}
_NAMES: dict[type, frozenset[str]] = {}


def _fields_of(cls: type) -> tuple[_Field, ...]:
    cached = _FIELDS.get(cls)
    if cached is not None:
        return cached
    hints = typing.get_type_hints(cls, localns={"Plain": _PlainMarker})
    out = []
    for f in dataclasses.fields(cls):
        enc, dec, norm = _conv(hints[f.name], cls)
        if f.default_factory is not dataclasses.MISSING:
            default: Callable[[], object] = f.default_factory
        else:
            default = _constant(f.default)
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        out.append(_Field(f.name, enc, dec, norm, required, default))
    result = tuple(out)
    _FIELDS[cls] = result
    _NAMES[cls] = frozenset(f.name for f in result)
    return result


def _constant(value: object) -> Callable[[], object]:
    return lambda: value


class Record:
    """Base of every port domain type (a mixin for ``@dataclass(frozen=True, slots=True)``).

    Subclasses validate their own invariants in :meth:`_validate` (raise
    :class:`~symphony.commons.errors.ValidationError` naming the value), never in an
    overridden ``__post_init__``.
    """

    __slots__ = ()

    def __post_init__(self) -> None:
        where = type(self).__name__
        for f in _fields_of(type(self)):
            if f.normalise is not None:
                value = getattr(self, f.name)
                object.__setattr__(self, f.name, f.normalise(value, f"{where}.{f.name}"))
        self._validate()

    def _validate(self) -> None:
        """Check invariants beyond the field types; the default checks nothing."""

    def to_dict(self) -> dict[str, Plain]:
        """This record as plain data (see the module docstring for the mapping)."""
        return {
            f.name: typing.cast(Plain, f.encode(getattr(self, f.name)))
            for f in _fields_of(type(self))
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Self:
        """Rebuild a record from :meth:`to_dict` output (possibly after a codec round trip).

        Raises:
            SerializationError: a key is missing or unknown, or a value has the wrong type;
                the message names the field (``"ModelSpec.config['x']"``).
            ValidationError: the values break the record's invariants.
        """
        if not isinstance(data, Mapping):
            raise _fail(cls.__name__, "a dict", data)
        return cls._decode(data, cls.__name__)

    @classmethod
    def _decode(cls, data: Mapping[str, object], where: str) -> Self:
        return _decode_fields(cls, data, where)


_R = typing.TypeVar("_R", bound=Record)


def _decode_fields(cls: type[_R], data: Mapping[str, object], where: str) -> _R:
    fields = _fields_of(cls)
    known = _NAMES[cls]
    unknown = [k for k in data if k not in known]
    if unknown:
        raise SerializationError(
            f"{where}: unknown field(s) {', '.join(map(repr, unknown))}; "
            f"{cls.__name__} has {', '.join(sorted(known)) or 'no fields'}"
        )
    # Decoded values are already normalised: fill the slots directly, then check invariants.
    obj = object.__new__(cls)
    for f in fields:
        if f.name in data:
            value = f.decode(data[f.name], f"{where}.{f.name}")
        elif f.required:
            raise SerializationError(f"{where}: missing field {f.name!r}")
        else:
            value = f.default()
        object.__setattr__(obj, f.name, value)
    obj._validate()
    return obj


class _Scalar(Record):
    """A record of exactly one field, ``value``; embedded in other records as that value."""

    __slots__ = ()

    @classmethod
    def _value_type(cls) -> type:
        hint = typing.get_type_hints(cls)["value"]
        assert isinstance(hint, type)
        return hint


@dataclasses.dataclass(frozen=True, slots=True, order=True)
class Identifier(_Scalar):
    """An opaque, non-empty string id. Each kind of id is its own subclass, so a
    ``BufferId("a")`` never equals an ``ExtensionId("a")`` and mypy keeps them apart."""

    value: str

    def _validate(self) -> None:
        if not isinstance(self.value, str) or not self.value:
            raise ValidationError(
                f"{type(self).__name__} must be a non-empty str, not {self.value!r}"
            )

    def __str__(self) -> str:
        return self.value


@dataclasses.dataclass(frozen=True, slots=True, order=True)
class Revision(_Scalar):
    """A buffer revision: 0 for a freshly opened buffer, then strictly increasing by one for
    every change (edits, undo and redo alike). Embedded in other records as the bare int."""

    value: int

    def _validate(self) -> None:
        if type(self.value) is not int or not 0 <= self.value <= INT64_MAX:
            raise ValidationError(f"Revision must be an int >= 0, not {self.value!r}")

    def next(self) -> Revision:
        """The revision after this one."""
        return Revision(self.value + 1)

    def __int__(self) -> int:
        return self.value


class Tagged(Record):
    """Base of a closed union of records told apart by a ``"kind"`` key in their dicts.

    Each variant sets ``KIND``; the union base lists its variants in ``VARIANTS`` (filled in
    after the variants are defined). ``Base.from_dict`` dispatches on ``"kind"``; a field
    typed with the base accepts any variant.
    """

    __slots__ = ()
    KIND: ClassVar[str] = ""
    VARIANTS: ClassVar[Mapping[str, type[Tagged]]] = {}

    def to_dict(self) -> dict[str, Plain]:
        out: dict[str, Plain] = {"kind": self.KIND}
        out.update(Record.to_dict(self))
        return out

    @classmethod
    def _decode(cls, data: Mapping[str, object], where: str) -> Self:
        kind = data.get("kind")
        variants = cls.VARIANTS
        variant = variants.get(kind) if isinstance(kind, str) else None
        if variant is None or not issubclass(variant, cls):
            names = [k for k, v in variants.items() if issubclass(v, cls)]
            raise _fail(f"{where}.kind", f"one of {', '.join(map(repr, names))}", kind)
        rest = {k: v for k, v in data.items() if k != "kind"}
        return _decode_fields(variant, rest, where)
