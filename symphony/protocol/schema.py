"""Message schemas and validation that reports *every* violation with its path.

A schema is built from field types::

    INSERT = MessageSchema("editor.insert", 1, [
        Field("view_id", String(min_length=1, pattern=r"^view-[0-9]+$")),
        Field("chars", String(max_length=1 << 20)),
        Field("revision", Integer(minimum=0), required=False, default=0),
        Field("range", Array(Integer(minimum=0), min_items=2, max_items=2), required=False),
    ])
    INSERT.validate(payload)          # MessageValidationError listing every violation
    INSERT.violations(payload)        # [("/view_id", "…"), …]; [] when valid

Each type compiles once into two closures: a *fast* check that only answers valid/invalid
(what valid traffic pays for), and a *full* check that walks everything and records each
violation with a JSON-pointer path (``"/range/1"``); the full check runs only when the fast
one says no. Patterns follow JSON Schema (``re.search``, anchor them yourself).

Types: :class:`String`, :class:`Integer` (``bool`` is not an integer), :class:`Float`
(integers accepted, as JSON numbers), :class:`Boolean`, :class:`Null`, :class:`Array`,
:class:`Object` (nested fields), :class:`AnyValue`; any field may be ``nullable``.
:meth:`MessageSchema.to_json_schema` exports the equivalent JSON Schema (draft 2020-12).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from symphony.commons.errors import LocalProtocolError, MessageValidationError

__all__ = [
    "MISSING",
    "AnyValue",
    "Array",
    "Boolean",
    "Field",
    "FieldType",
    "Float",
    "Integer",
    "MessageSchema",
    "Null",
    "Object",
    "String",
    "Violation",
    "validate",
]

Violation = tuple[str, str]
"""``(path, message)``: a JSON pointer to the offending value, and what is wrong."""

Fast = Callable[[Any], bool]
Full = Callable[[Any, tuple[str | int, ...], list[Violation]], None]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final[Any] = _Missing()
"""Marks a field without a default."""


def _pointer(path: tuple[str | int, ...]) -> str:
    out = ""
    for p in path:
        p = str(p)
        if "~" in p or "/" in p:
            p = p.replace("~", "~0").replace("/", "~1")
        out += "/" + p
    return out


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


_TYPE_NAMES: Final[dict[type, str]] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
    list: "array",
    tuple: "array",
    dict: "object",
}


def _typename(v: Any) -> str:
    t = type(v)
    return _TYPE_NAMES.get(t) or t.__name__


class FieldType:
    """Base of the field types; subclasses compile to (fast, full) closures."""

    json_type: str = ""

    def compile(self) -> tuple[Fast, Full]:
        raise NotImplementedError

    def to_json_schema(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def kind(self) -> str:
        """The type's name for compatibility checks (``"string"``, ``"array<integer>"`` …)."""
        return self.json_type


def _enum_set(enum: Sequence[Any] | None) -> frozenset[Any] | None:
    return None if enum is None else frozenset(enum)


@dataclass(frozen=True, slots=True)
class String(FieldType):
    """A ``str`` with optional length bounds, regex pattern (``re.search``) and enum."""

    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    enum: Sequence[str] | None = None
    json_type = "string"

    def compile(self) -> tuple[Fast, Full]:
        lo, hi, values = self.min_length, self.max_length, _enum_set(self.enum)
        try:
            search = re.compile(self.pattern).search if self.pattern is not None else None
        except re.error as exc:
            raise LocalProtocolError(f"bad pattern {self.pattern!r}: {exc}") from exc
        pattern = self.pattern

        fast: Fast
        if lo is None and hi is None and search is None and values is None:

            def fast(v: Any) -> bool:
                return type(v) is str

        else:

            def fast(v: Any) -> bool:
                return (
                    type(v) is str
                    and (lo is None or len(v) >= lo)
                    and (hi is None or len(v) <= hi)
                    and (search is None or search(v) is not None)
                    and (values is None or v in values)
                )

        def full(v: Any, path: tuple[str | int, ...], errors: list[Violation]) -> None:
            if type(v) is not str:
                errors.append((_pointer(path), f"expected string, got {_typename(v)} {_short(v)}"))
                return
            if lo is not None and len(v) < lo:
                errors.append((_pointer(path), f"string of length {len(v)} < min_length {lo}"))
            if hi is not None and len(v) > hi:
                errors.append((_pointer(path), f"string of length {len(v)} > max_length {hi}"))
            if search is not None and search(v) is None:
                errors.append((_pointer(path), f"{_short(v)} does not match {pattern!r}"))
            if values is not None and v not in values:
                errors.append((_pointer(path), f"{_short(v)} is not one of {sorted(values)}"))

        return fast, full

    def to_json_schema(self) -> dict[str, Any]:
        s: dict[str, Any] = {"type": "string"}
        if self.min_length is not None:
            s["minLength"] = self.min_length
        if self.max_length is not None:
            s["maxLength"] = self.max_length
        if self.pattern is not None:
            s["pattern"] = self.pattern
        if self.enum is not None:
            s["enum"] = list(self.enum)
        return s


def _number(
    name: str, accept: Callable[[Any], bool], lo: float | None, hi: float | None, enum: Any
) -> tuple[Fast, Full]:
    values = _enum_set(enum)
    fast: Fast
    if lo is None and hi is None and values is None:
        fast = accept
    elif values is None and lo is not None and hi is not None:

        def fast(v: Any) -> bool:
            return accept(v) and lo <= v <= hi

    elif values is None and lo is not None:

        def fast(v: Any) -> bool:
            return accept(v) and v >= lo

    else:

        def fast(v: Any) -> bool:
            return (
                accept(v)
                and (lo is None or v >= lo)
                and (hi is None or v <= hi)
                and (values is None or v in values)
            )

    def full(v: Any, path: tuple[str | int, ...], errors: list[Violation]) -> None:
        if not accept(v):
            errors.append((_pointer(path), f"expected {name}, got {_typename(v)} {_short(v)}"))
            return
        if lo is not None and not v >= lo:
            errors.append((_pointer(path), f"{_short(v)} < minimum {lo}"))
        if hi is not None and not v <= hi:
            errors.append((_pointer(path), f"{_short(v)} > maximum {hi}"))
        if values is not None and v not in values:
            errors.append((_pointer(path), f"{_short(v)} is not one of {sorted(values)}"))

    return fast, full


def _is_int(v: Any) -> bool:
    return type(v) is int


def _is_number(v: Any) -> bool:
    t = type(v)
    return t is float or t is int


@dataclass(frozen=True, slots=True)
class Integer(FieldType):
    """An ``int`` (not ``bool``) with optional inclusive bounds and enum."""

    minimum: int | None = None
    maximum: int | None = None
    enum: Sequence[int] | None = None
    json_type = "integer"

    def compile(self) -> tuple[Fast, Full]:
        return _number("integer", _is_int, self.minimum, self.maximum, self.enum)

    def to_json_schema(self) -> dict[str, Any]:
        s: dict[str, Any] = {"type": "integer"}
        if self.minimum is not None:
            s["minimum"] = self.minimum
        if self.maximum is not None:
            s["maximum"] = self.maximum
        if self.enum is not None:
            s["enum"] = list(self.enum)
        return s


@dataclass(frozen=True, slots=True)
class Float(FieldType):
    """A number (``float`` or ``int``) with optional inclusive bounds and enum."""

    minimum: float | None = None
    maximum: float | None = None
    enum: Sequence[float] | None = None
    json_type = "number"

    def compile(self) -> tuple[Fast, Full]:
        return _number("number", _is_number, self.minimum, self.maximum, self.enum)

    def to_json_schema(self) -> dict[str, Any]:
        s: dict[str, Any] = {"type": "number"}
        if self.minimum is not None:
            s["minimum"] = self.minimum
        if self.maximum is not None:
            s["maximum"] = self.maximum
        if self.enum is not None:
            s["enum"] = list(self.enum)
        return s


def _simple(name: str, accept: Fast) -> tuple[Fast, Full]:
    def full(v: Any, path: tuple[str | int, ...], errors: list[Violation]) -> None:
        if not accept(v):
            errors.append((_pointer(path), f"expected {name}, got {_typename(v)} {_short(v)}"))

    return accept, full


@dataclass(frozen=True, slots=True)
class Boolean(FieldType):
    """``True`` or ``False``."""

    json_type = "boolean"

    def compile(self) -> tuple[Fast, Full]:
        return _simple("boolean", lambda v: type(v) is bool)

    def to_json_schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True, slots=True)
class Null(FieldType):
    """Only ``None``."""

    json_type = "null"

    def compile(self) -> tuple[Fast, Full]:
        return _simple("null", lambda v: v is None)

    def to_json_schema(self) -> dict[str, Any]:
        return {"type": "null"}


@dataclass(frozen=True, slots=True)
class AnyValue(FieldType):
    """Anything (no check)."""

    json_type = "any"

    def compile(self) -> tuple[Fast, Full]:
        def full(v: Any, path: tuple[str | int, ...], errors: list[Violation]) -> None:
            return None

        return (lambda v: True), full

    def to_json_schema(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, slots=True)
class Array(FieldType):
    """A ``list`` (or tuple) of ``items``, with optional length bounds."""

    items: FieldType = field(default_factory=AnyValue)
    min_items: int | None = None
    max_items: int | None = None
    json_type = "array"

    @property
    def kind(self) -> str:
        return f"array<{self.items.kind}>"

    def compile(self) -> tuple[Fast, Full]:
        ifast, ifull = self.items.compile()
        lo, hi = self.min_items, self.max_items
        any_items = isinstance(self.items, AnyValue)

        def fast(v: Any) -> bool:
            t = type(v)
            if t is not list and t is not tuple:
                return False
            n = len(v)
            if (lo is not None and n < lo) or (hi is not None and n > hi):
                return False
            if any_items:
                return True
            for x in v:  # noqa: SIM110 - a plain loop is faster than all(genexpr)
                if not ifast(x):
                    return False
            return True

        def full(v: Any, path: tuple[str | int, ...], errors: list[Violation]) -> None:
            if type(v) is not list and type(v) is not tuple:
                errors.append((_pointer(path), f"expected array, got {_typename(v)} {_short(v)}"))
                return
            n = len(v)
            if lo is not None and n < lo:
                errors.append((_pointer(path), f"array of {n} items < min_items {lo}"))
            if hi is not None and n > hi:
                errors.append((_pointer(path), f"array of {n} items > max_items {hi}"))
            if not any_items:
                for i, x in enumerate(v):
                    if not ifast(x):
                        ifull(x, (*path, i), errors)

        return fast, full

    def to_json_schema(self) -> dict[str, Any]:
        s: dict[str, Any] = {"type": "array", "items": self.items.to_json_schema()}
        if self.min_items is not None:
            s["minItems"] = self.min_items
        if self.max_items is not None:
            s["maxItems"] = self.max_items
        return s


@dataclass(frozen=True, slots=True)
class Field:
    """One named field of an object.

    Attributes:
        name: the key.
        type: its :class:`FieldType`.
        required: must be present (unless it has a default).
        default: value filled in by :meth:`Object.apply_defaults` when absent.
        nullable: ``None`` is also accepted.
        description: documentation.
    """

    name: str
    type: FieldType
    required: bool = True
    default: Any = MISSING
    nullable: bool = False
    description: str = ""

    @property
    def must_be_present(self) -> bool:
        return self.required and self.default is MISSING


@dataclass(frozen=True, slots=True)
class Object(FieldType):
    """A ``dict`` with named fields; unknown keys are violations unless ``additional``."""

    fields: Sequence[Field] = ()
    additional: bool = False
    json_type = "object"

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise LocalProtocolError(f"duplicate field name(s) {sorted(dup)}")

    def compile(self) -> tuple[Fast, Full]:
        plan: list[tuple[str, Fast, Full, bool, bool]] = []
        for f in self.fields:
            ffast, ffull = f.type.compile()
            if f.nullable:
                ffast, ffull = _nullable(ffast, ffull)
            plan.append((f.name, ffast, ffull, f.must_be_present, f.nullable))
        fast_plan = tuple((n, fa, req) for n, fa, _, req, _ in plan)
        known = frozenset(f.name for f in self.fields)
        additional = self.additional
        miss = MISSING

        def fast(v: Any) -> bool:
            if type(v) is not dict:
                return False
            present = 0
            get = v.get
            for name, ffast, req in fast_plan:
                x = get(name, miss)
                if x is miss:
                    if req:
                        return False
                else:
                    present += 1
                    if not ffast(x):
                        return False
            return additional or present == len(v)

        def full(v: Any, path: tuple[str | int, ...], errors: list[Violation]) -> None:
            if type(v) is not dict:
                errors.append((_pointer(path), f"expected object, got {_typename(v)} {_short(v)}"))
                return
            for name, ffast, ffull, req, _ in plan:
                x = v.get(name, miss)
                if x is miss:
                    if req:
                        errors.append((_pointer((*path, name)), "required field is missing"))
                elif not ffast(x):
                    ffull(x, (*path, name), errors)
            if not additional:
                for key in v:
                    if key not in known:
                        errors.append((_pointer((*path, str(key))), "unknown field"))

        return fast, full

    def apply_defaults(self, value: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``value`` with every absent defaulted field filled (nested too)."""
        out = dict(value)
        for f in self.fields:
            if f.name not in out:
                if f.default is not MISSING:
                    out[f.name] = f.default
            elif isinstance(f.type, Object) and isinstance(out[f.name], Mapping):
                out[f.name] = f.type.apply_defaults(out[f.name])
        return out

    def to_json_schema(self) -> dict[str, Any]:
        props: dict[str, Any] = {}
        for f in self.fields:
            s = f.type.to_json_schema()
            if f.nullable:
                s = {"anyOf": [s, {"type": "null"}]}
            if f.default is not MISSING:
                s = dict(s, default=f.default)
            props[f.name] = s
        out: dict[str, Any] = {"type": "object", "properties": props}
        req = [f.name for f in self.fields if f.must_be_present]
        if req:
            out["required"] = req
        if not self.additional:
            out["additionalProperties"] = False
        return out


def _nullable(ffast: Fast, ffull: Full) -> tuple[Fast, Full]:
    def fast(v: Any) -> bool:
        return v is None or ffast(v)

    def full(v: Any, path: tuple[str | int, ...], errors: list[Violation]) -> None:
        if v is not None:
            ffull(v, path, errors)

    return fast, full


class _Gen:
    """Generates the *fast* check of an :class:`Object` as one Python function with every
    field's checks inlined (no call per field): what valid traffic pays for. The *full*
    check (every violation, with paths) stays the closures above."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.ns: dict[str, Any] = {"MISSING": MISSING}
        self.n = 0

    def var(self, stem: str) -> str:
        self.n += 1
        return f"{stem}{self.n}"

    def const(self, value: Any) -> str:
        name = self.var("c")
        self.ns[name] = value
        return name

    def emit(self, ft: FieldType, v: str, ind: str) -> None:
        out = self.lines.append
        if isinstance(ft, String):
            conds = [f"type({v}) is not str"]
            if ft.min_length is not None:
                conds.append(f"len({v}) < {ft.min_length!r}")
            if ft.max_length is not None:
                conds.append(f"len({v}) > {ft.max_length!r}")
            if ft.pattern is not None:
                conds.append(f"{self.const(re.compile(ft.pattern).search)}({v}) is None")
            if ft.enum is not None:
                conds.append(f"{v} not in {self.const(frozenset(ft.enum))}")
            out(f"{ind}if {' or '.join(conds)}: return False")
        elif isinstance(ft, (Integer, Float)):
            if isinstance(ft, Integer):
                conds = [f"type({v}) is not int"]
            else:
                conds = [f"(type({v}) is not float and type({v}) is not int)"]
            if ft.minimum is not None:
                conds.append(f"not {v} >= {self.const(ft.minimum)}")
            if ft.maximum is not None:
                conds.append(f"not {v} <= {self.const(ft.maximum)}")
            if ft.enum is not None:
                conds.append(f"{v} not in {self.const(frozenset(ft.enum))}")
            out(f"{ind}if {' or '.join(conds)}: return False")
        elif isinstance(ft, Boolean):
            out(f"{ind}if type({v}) is not bool: return False")
        elif isinstance(ft, Null):
            out(f"{ind}if {v} is not None: return False")
        elif isinstance(ft, AnyValue):
            pass
        elif isinstance(ft, Array):
            out(f"{ind}if type({v}) is not list and type({v}) is not tuple: return False")
            if ft.min_items is not None:
                out(f"{ind}if len({v}) < {ft.min_items!r}: return False")
            if ft.max_items is not None:
                out(f"{ind}if len({v}) > {ft.max_items!r}: return False")
            if not isinstance(ft.items, AnyValue):
                x = self.var("x")
                out(f"{ind}for {x} in {v}:")
                self.emit(ft.items, x, ind + "    ")
        elif isinstance(ft, Object):
            out(f"{ind}if type({v}) is not dict: return False")
            count = self.var("n")
            if not ft.additional:
                out(f"{ind}{count} = 0")
            for f in ft.fields:
                x = self.var("v")
                out(f"{ind}{x} = {v}.get({f.name!r}, MISSING)")
                out(f"{ind}if {x} is MISSING:")
                out(f"{ind}    {'return False' if f.must_be_present else 'pass'}")
                out(f"{ind}else:")
                if not ft.additional:
                    out(f"{ind}    {count} += 1")
                if f.nullable:
                    out(f"{ind}    if {x} is not None:")
                    self.emit(f.type, x, ind + "        ")
                else:
                    self.emit(f.type, x, ind + "    ")
            if not ft.additional:
                out(f"{ind}if {count} != len({v}): return False")
        else:  # a FieldType subclass from elsewhere: call its own fast check
            fast, _ = ft.compile()
            out(f"{ind}if not {self.const(fast)}({v}): return False")

    def build(self, obj: Object) -> Fast:
        self.lines.append("def fast(v0):")
        self.emit(obj, "v0", "    ")
        self.lines.append("    return True")
        exec("\n".join(self.lines), self.ns)
        fast: Fast = self.ns["fast"]
        return fast


class MessageSchema:
    """The schema of one message ``(type, version)``: an :class:`Object` of payload fields.

    Args:
        type: the registry name (``"editor.insert"``).
        version: schema version (``>= 0``).
        fields: the payload's fields.
        additional: accept unknown payload keys.
        description: documentation.
    """

    __slots__ = ("_fast", "_full", "description", "object", "type", "version")

    def __init__(
        self,
        type: str,
        version: int,
        fields: Sequence[Field],
        *,
        additional: bool = False,
        description: str = "",
    ) -> None:
        if not isinstance(type, str) or not type:
            raise LocalProtocolError(f"schema type must be a non-empty str, got {type!r}")
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise LocalProtocolError(f"schema version must be an int >= 0, got {version!r}")
        self.type = type
        self.version = version
        self.description = description
        self.object = Object(tuple(fields), additional=additional)
        _, self._full = self.object.compile()  # also checks patterns and names
        self._fast = _Gen().build(self.object)

    @property
    def fields(self) -> Sequence[Field]:
        return self.object.fields

    def is_valid(self, payload: Any) -> bool:
        """True if ``payload`` satisfies the schema (the fast check only)."""
        return self._fast(payload)

    def violations(self, payload: Any) -> list[Violation]:
        """Every violation as ``(path, message)``; ``[]`` when valid."""
        if self._fast(payload):
            return []
        errors: list[Violation] = []
        self._full(payload, (), errors)
        if not errors:  # the two checks disagree: a bug, never silently accept
            errors.append(("", "invalid (no detail available)"))
        return errors

    def validate(self, payload: Any) -> None:
        """Raise if ``payload`` is invalid.

        Raises:
            MessageValidationError: with ``violations`` listing every problem.
        """
        if self._fast(payload):
            return
        errors = self.violations(payload)
        summary = "; ".join(f"{p or '/'}: {m}" for p, m in errors[:5])
        more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
        raise MessageValidationError(
            f"{self.type} v{self.version}: {len(errors)} violation(s): {summary}{more}",
            violations=errors,
        )

    def apply_defaults(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """``payload`` with defaults filled in for absent fields."""
        return self.object.apply_defaults(payload)

    def to_json_schema(self) -> dict[str, Any]:
        """The equivalent JSON Schema (draft 2020-12)."""
        s = self.object.to_json_schema()
        s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        s["title"] = f"{self.type} v{self.version}"
        return s

    def __repr__(self) -> str:
        return f"MessageSchema({self.type!r}, {self.version}, {len(self.fields)} fields)"


def validate(schema: MessageSchema, payload: Any) -> None:
    """``schema.validate(payload)``: raise :class:`MessageValidationError` listing every
    violation, or return ``None``."""
    schema.validate(payload)
