"""The port type system: what may flow along a data edge.

A port type is written as a string and parsed once into an interned :class:`PortType`:

==============  ==========================================================================
``any``         anything; checked at run time, if at all
``str``         a Python ``str``
``text``        a (possibly long) body of text; a ``str`` at run time
``int``         an integer (``bool`` is *not* an ``int`` here)
``float``       a real number
``bool``        ``True`` / ``False``
``bytes``       raw bytes
``dict``        a mapping with string keys
``json``        any JSON value (None, bool, int, float, str, list, dict)
``path``        a filesystem path (``file`` is an alias that parses to ``path``)
``list[T]``     a list whose items have type ``T`` (``list`` alone means ``list[any]``)
``Name``        a user-named type (any other identifier, e.g. ``Document``, ``Embedding``)
==============  ==========================================================================

Compatibility (:func:`is_compatible`) asks: may a value produced by an output port of type
``S`` be consumed by an input port of type ``T``? The rules, first match wins:

1. ``T`` is ``any`` or ``S`` is ``any`` (dynamic: the run time decides) → yes.
2. ``S == T`` → yes.
3. ``int`` → ``float`` (widening) → yes.
4. ``str`` ↔ ``text`` → yes (both are strings at run time).
5. ``str``/``text`` → ``path``, and ``path`` → ``str``/``text`` → yes (a path is written as text).
6. ``S`` → ``json`` when ``S`` is ``str``, ``text``, ``int``, ``float``, ``bool``, ``dict``,
   ``path`` or ``list[U]`` with ``U`` → ``json`` → yes.
7. ``list[U]`` → ``list[V]`` when ``U`` → ``V`` (lists are immutable in flight: covariant).
8. Otherwise no. In particular ``bool`` → ``int``, ``float`` → ``int``, ``bytes`` → ``str``,
   ``json`` → ``dict`` and two different user-named types are mismatches.

The relation is cached per pair, so checking 50,000 edges costs a dict lookup each.
"""

from __future__ import annotations

import functools
import re

from symphony.commons.errors import ValidationError

__all__ = [
    "ANY",
    "BUILTIN_TYPES",
    "PortType",
    "PortTypeError",
    "is_compatible",
    "parse_type",
]

BUILTIN_TYPES = frozenset(
    {"any", "str", "text", "int", "float", "bool", "bytes", "dict", "json", "path", "list"}
)
"""Names with a built-in meaning (``file`` is accepted as an alias of ``path``)."""

_ALIASES = {"file": "path"}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\Z")
_SPACES = re.compile(r"\s*([\[\]])\s*")
_STRINGY = frozenset({"str", "text"})
_JSONABLE = frozenset({"str", "text", "int", "float", "bool", "dict", "path", "json"})


class PortTypeError(ValidationError):
    """A port type string could not be parsed (names the text and the position)."""


class PortType:
    """A parsed port type. Instances are interned: equal types are the *same* object, so
    ``==`` and ``hash`` are identity (C-speed), and ``PortType("int")`` returns the one
    ``int`` instance. Prefer :func:`parse_type`.

    Attributes:
        name: ``"list"`` for list types, else the scalar or user type name.
        item: the item type of a ``list``, else ``None``.
    """

    __slots__ = ("__weakref__", "item", "name")
    name: str
    item: PortType | None

    def __new__(cls, name: str, item: PortType | None = None) -> PortType:
        key = (name, item)
        self = _INTERNED.get(key)
        if self is None:
            if name == "list" and item is None:
                item = PortType("any")
            self = object.__new__(cls)
            object.__setattr__(self, "name", name)
            object.__setattr__(self, "item", item)
            _INTERNED[key] = self
        return self

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"PortType is immutable (cannot set {name!r})")

    def __reduce__(self) -> tuple[object, ...]:
        return (PortType, (self.name, self.item))

    def __repr__(self) -> str:
        return f"PortType({str(self)!r})"

    @property
    def is_builtin(self) -> bool:
        """True for the built-in names, False for user-named types."""
        return self.name in BUILTIN_TYPES

    def __str__(self) -> str:
        if self.name == "list" and self.item is not None:
            return f"list[{self.item}]"
        return self.name


_INTERNED: dict[tuple[str, PortType | None], PortType] = {}


@functools.lru_cache(maxsize=4096)
def parse_type(text: str) -> PortType:
    """Parse ``"list[str]"``, ``"int"``, ``"Document"`` … into an interned :class:`PortType`.

    Raises:
        PortTypeError: the text is not a type (the message shows where it went wrong).
    """
    if not isinstance(text, str):
        raise PortTypeError(f"port type must be a string, got {type(text).__name__} {text!r}")
    t = _SPACES.sub(r"\1", text.strip())
    if not t:
        raise PortTypeError("port type is empty")
    return _parse(t, text)


def _parse(t: str, original: str) -> PortType:
    if t.startswith("list[") and t.endswith("]"):
        return PortType("list", _parse(t[5:-1], original))
    if t == "list":
        return PortType("list", PortType("any"))
    if not _IDENT.match(t):
        raise PortTypeError(
            f"invalid port type {original!r}: {t!r} is neither a built-in type, "
            "list[T], nor an identifier"
        )
    return PortType(_ALIASES.get(t, t))


ANY = parse_type("any")
"""The ``any`` type."""


@functools.lru_cache(maxsize=16384)
def is_compatible(source: PortType, target: PortType) -> bool:
    """May a value of type ``source`` flow into an input of type ``target``? (rules above)"""
    s, t = source.name, target.name
    if s == "any" or t == "any" or source is target:
        return True
    if s == "int" and t == "float":
        return True
    if s in _STRINGY and (t in _STRINGY or t == "path"):
        return True
    if s == "path" and t in _STRINGY:
        return True
    if t == "json":
        if s == "list":
            assert source.item is not None
            return is_compatible(source.item, target)
        return s in _JSONABLE
    if s == "list" and t == "list":
        assert source.item is not None and target.item is not None
        return is_compatible(source.item, target.item)
    return False
