"""Pre-validation: fast, local, *technical* checks before anything goes over the wire.

Pre-validation catches what can be caught without the authoritative service (OFB): empty
names, malformed ids, oversize payloads, out-of-range numbers. It is not business logic and
its verdict is not final (that is :class:`~symphony.commons.errors.AuthoritativeValidationError`).
Each check is a few hundred nanoseconds; a whole record is far under the seed's 1 ms
(``symphony bench prevalidation`` and ``asv_benchmarks/benchmarks/bench_prevalidation.py``).

A rule is anything with a ``name`` and a ``check(value)`` returning the failures (empty when the
value passes) — the :class:`PreValidationRule` protocol. Rules compose; every failure is
reported, never only the first::

    rules = {
        "name": all_of(non_empty(), length(max=64), pattern(r"[a-z][a-z0-9_-]*")),
        "kind": one_of({"instrument", "operator", "control"}),
        "retries": optional(in_range(0, 10)),
        "tags": optional(each(length(min=1, max=32))),
        "owner.email": pattern(r"[^@\\s]+@[^@\\s]+"),
    }
    validate(record, rules)       # PreValidationError listing every (field, message)

Field paths are dotted (``"owner.email"``) and walk mappings (by key) or objects (by
attribute); list items show as ``tags[2]``. A missing field fails every rule except
:func:`optional`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence, Sized
from dataclasses import dataclass
from typing import Final, Protocol, final, runtime_checkable

from .errors import PreValidationError

__all__ = [
    "MISSING",
    "Failure",
    "PreValidationRule",
    "Rule",
    "all_of",
    "any_of",
    "collect_failures",
    "each",
    "in_range",
    "length",
    "max_size",
    "non_empty",
    "of_type",
    "one_of",
    "optional",
    "pattern",
    "predicate",
    "validate",
]


@final
class MISSING:
    """Sentinel passed to a rule for a field that is absent from the record."""

    def __init__(self) -> None:  # pragma: no cover - never instantiated
        raise TypeError("MISSING is a sentinel class; do not instantiate it")


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed check.

    Attributes:
        rule: the name of the rule that failed (``"length"``, ``"pattern"``, …).
        message: what is wrong, naming the value found.
        path: where inside the checked value, relative to it: ``""`` for the value itself,
            ``"[2]"`` for a list item, ``".x"`` for a nested field.
    """

    rule: str
    message: str
    path: str = ""


_PASS: Final[tuple[Failure, ...]] = ()


@runtime_checkable
class PreValidationRule(Protocol):
    """What :func:`validate` needs from a rule.

    ``check`` must not raise for any input: a value of the wrong type is a failure too. It
    returns an empty sequence when the value passes (reuse an empty tuple: no allocation).
    """

    @property
    def name(self) -> str:
        """Short identifier shown in failures (``"length"``, ``"all_of"``)."""
        ...

    def check(self, value: object) -> Sequence[Failure]:
        """The failures of ``value`` (``MISSING`` for an absent field); empty if it passes."""
        ...


def _show(value: object, limit: int = 60) -> str:
    """A short repr for messages (long values are cut)."""
    if value is MISSING:
        return "<missing>"
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def _missing(rule: str) -> tuple[Failure, ...]:
    return (Failure(rule, "required value is missing"),)


class Rule:
    """Base class for the built-in rules (any object satisfying the protocol works too)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def check(self, value: object) -> Sequence[Failure]:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<rule {self.name}>"


class _NonEmpty(Rule):
    __slots__ = ("strip",)

    def __init__(self, strip: bool) -> None:
        super().__init__("non_empty")
        self.strip = strip

    def check(self, value: object) -> Sequence[Failure]:
        if value is MISSING or value is None:
            return (Failure(self.name, f"must not be empty, got {_show(value)}"),)
        if isinstance(value, str):
            if value.strip() if self.strip else value:
                return _PASS
            return (Failure(self.name, f"must not be empty, got {_show(value)}"),)
        if isinstance(value, Sized):
            if len(value):
                return _PASS
            return (Failure(self.name, f"must not be empty, got {_show(value)}"),)
        return (Failure(self.name, f"expected a sized value, got {type(value).__name__}"),)


def non_empty(*, strip: bool = False) -> Rule:
    """The value is a non-empty ``str``/bytes/collection (``strip=True``: not just spaces)."""
    return _NonEmpty(strip)


class _Pattern(Rule):
    __slots__ = ("_match", "regex")

    def __init__(self, regex: str | re.Pattern[str], full: bool) -> None:
        super().__init__("pattern")
        self.regex = re.compile(regex) if isinstance(regex, str) else regex
        self._match = self.regex.fullmatch if full else self.regex.search

    def check(self, value: object) -> Sequence[Failure]:
        if type(value) is str or isinstance(value, str):
            if self._match(value) is not None:
                return _PASS
            return (Failure(self.name, f"{_show(value)} does not match /{self.regex.pattern}/"),)
        if value is MISSING:
            return _missing(self.name)
        return (Failure(self.name, f"expected a string, got {type(value).__name__}"),)


def pattern(regex: str | re.Pattern[str], *, full: bool = True) -> Rule:
    """The value is a ``str`` matching ``regex`` (whole string unless ``full=False``)."""
    return _Pattern(regex, full)


class _Length(Rule):
    __slots__ = ("max", "min")

    def __init__(self, min: int | None, max: int | None) -> None:
        super().__init__("length")
        if min is not None and max is not None and min > max:
            raise ValueError(f"length: min={min} is greater than max={max}")
        self.min = min
        self.max = max

    def check(self, value: object) -> Sequence[Failure]:
        if not isinstance(value, Sized):
            if value is MISSING:
                return _missing(self.name)
            return (Failure(self.name, f"expected a sized value, got {type(value).__name__}"),)
        n = len(value)
        if self.min is not None and n < self.min:
            return (Failure(self.name, f"length {n} is below the minimum {self.min}"),)
        if self.max is not None and n > self.max:
            return (Failure(self.name, f"length {n} is above the maximum {self.max}"),)
        return _PASS


def length(min: int | None = None, max: int | None = None) -> Rule:
    """``len(value)`` lies within ``[min, max]`` (either bound optional)."""
    return _Length(min, max)


class _MaxSize(Rule):
    __slots__ = ("limit",)

    def __init__(self, limit: int) -> None:
        super().__init__("max_size")
        if limit < 0:
            raise ValueError(f"max_size: limit must be >= 0, got {limit}")
        self.limit = limit

    def check(self, value: object) -> Sequence[Failure]:
        if isinstance(value, str):
            n = len(value)
            # UTF-8 needs 1..4 bytes per code point: encode only in the ambiguous band.
            if n * 4 <= self.limit:
                return _PASS
            if n <= self.limit:
                n = len(value.encode("utf-8", "surrogatepass"))
        elif isinstance(value, bytes | bytearray):
            n = len(value)
        elif isinstance(value, memoryview):
            n = value.nbytes
        elif value is MISSING:
            return _missing(self.name)
        else:
            return (Failure(self.name, f"expected str or bytes, got {type(value).__name__}"),)
        if n > self.limit:
            return (Failure(self.name, f"size {n} bytes is above the limit {self.limit}"),)
        return _PASS


def max_size(limit: int) -> Rule:
    """The value is at most ``limit`` bytes (``str``: its UTF-8 size; bytes-like: ``nbytes``)."""
    return _MaxSize(limit)


class _InRange(Rule):
    __slots__ = ("max", "min")

    def __init__(self, min: float | None, max: float | None) -> None:
        super().__init__("in_range")
        if min is not None and max is not None and min > max:
            raise ValueError(f"in_range: min={min} is greater than max={max}")
        self.min = min
        self.max = max

    def check(self, value: object) -> Sequence[Failure]:
        if type(value) is bool or not isinstance(value, int | float):
            if value is MISSING:
                return _missing(self.name)
            return (Failure(self.name, f"expected a number, got {type(value).__name__}"),)
        if isinstance(value, float) and math.isnan(value):
            return (Failure(self.name, "expected a number, got NaN"),)
        if self.min is not None and value < self.min:
            return (Failure(self.name, f"{value!r} is below the minimum {self.min!r}"),)
        if self.max is not None and value > self.max:
            return (Failure(self.name, f"{value!r} is above the maximum {self.max!r}"),)
        return _PASS


def in_range(min: float | None = None, max: float | None = None) -> Rule:
    """The value is an ``int``/``float`` (not ``bool``, not NaN) within ``[min, max]``."""
    return _InRange(min, max)


class _OneOf(Rule):
    __slots__ = ("_shown", "choices")

    def __init__(self, choices: Iterable[object]) -> None:
        super().__init__("one_of")
        self.choices: Collection[object]
        items = list(choices)
        if not items:
            raise ValueError("one_of: needs at least one choice")
        try:
            self.choices = frozenset(items)
        except TypeError:  # unhashable choices: fall back to a linear scan
            self.choices = tuple(items)
        shown = sorted(map(repr, items))
        self._shown = ", ".join(shown[:10]) + (", ..." if len(shown) > 10 else "")

    def check(self, value: object) -> Sequence[Failure]:
        try:
            if value in self.choices:
                return _PASS
        except TypeError:  # unhashable value against a frozenset
            pass
        if value is MISSING:
            return _missing(self.name)
        return (Failure(self.name, f"{_show(value)} is not one of {self._shown}"),)


def one_of(choices: Iterable[object]) -> Rule:
    """The value equals one of ``choices``."""
    return _OneOf(choices)


class _OfType(Rule):
    __slots__ = ("_names", "allow_bool", "types")

    def __init__(self, types: tuple[type, ...]) -> None:
        super().__init__("of_type")
        if not types:
            raise ValueError("of_type: needs at least one type")
        self.types = types
        self.allow_bool = any(issubclass(bool, t) and t is not int for t in types)
        self._names = " or ".join(t.__name__ for t in types)

    def check(self, value: object) -> Sequence[Failure]:
        if isinstance(value, self.types) and (self.allow_bool or type(value) is not bool):
            return _PASS
        found = "<missing>" if value is MISSING else type(value).__name__
        return (Failure(self.name, f"expected {self._names}, got {found}"),)


def of_type(*types: type) -> Rule:
    """``isinstance(value, types)``; ``bool`` does not count as ``int`` unless listed."""
    return _OfType(types)


class _Predicate(Rule):
    __slots__ = ("fn", "message")

    def __init__(self, name: str, fn: Callable[[object], bool], message: str) -> None:
        super().__init__(name)
        self.fn = fn
        self.message = message

    def check(self, value: object) -> Sequence[Failure]:
        if value is MISSING:
            return _missing(self.name)
        try:
            ok = self.fn(value)
        except Exception as exc:  # a rule never raises: the error becomes the failure
            return (Failure(self.name, f"{self.message} ({type(exc).__name__}: {exc})"),)
        if ok:
            return _PASS
        return (Failure(self.name, f"{self.message}, got {_show(value)}"),)


def predicate(name: str, fn: Callable[[object], bool], message: str) -> Rule:
    """A custom rule: passes when ``fn(value)`` is true; else fails with ``message``.

    An exception inside ``fn`` counts as a failure (rules never raise).
    """
    return _Predicate(name, fn, message)


class _AllOf(Rule):
    __slots__ = ("rules",)

    def __init__(self, rules: tuple[PreValidationRule, ...]) -> None:
        super().__init__("all_of")
        self.rules = rules

    def check(self, value: object) -> Sequence[Failure]:
        out: list[Failure] | None = None
        for rule in self.rules:
            failed = rule.check(value)
            if failed:
                if out is None:
                    out = list(failed)
                else:
                    out.extend(failed)
        return _PASS if out is None else out


def all_of(*rules: PreValidationRule) -> Rule:
    """Every rule must pass; the failures of *all* failing rules are reported."""
    return _AllOf(rules)


class _AnyOf(Rule):
    __slots__ = ("rules",)

    def __init__(self, rules: tuple[PreValidationRule, ...]) -> None:
        super().__init__("any_of")
        if not rules:
            raise ValueError("any_of: needs at least one rule")
        self.rules = rules

    def check(self, value: object) -> Sequence[Failure]:
        collected: list[Failure] = []
        for rule in self.rules:
            failed = rule.check(value)
            if not failed:
                return _PASS
            collected.extend(failed)
        detail = "; ".join(f"{f.rule}: {f.message}" for f in collected)
        return (Failure(self.name, f"no alternative passed ({detail})"),)


def any_of(*rules: PreValidationRule) -> Rule:
    """At least one rule must pass; otherwise one failure lists what every alternative said."""
    return _AnyOf(rules)


class _Optional(Rule):
    __slots__ = ("rule",)

    def __init__(self, rule: PreValidationRule) -> None:
        super().__init__("optional")
        self.rule = rule

    def check(self, value: object) -> Sequence[Failure]:
        if value is MISSING or value is None:
            return _PASS
        return self.rule.check(value)


def optional(rule: PreValidationRule) -> Rule:
    """An absent field or ``None`` passes; any other value must pass ``rule``."""
    return _Optional(rule)


class _Each(Rule):
    __slots__ = ("rule",)

    def __init__(self, rule: PreValidationRule) -> None:
        super().__init__("each")
        self.rule = rule

    def check(self, value: object) -> Sequence[Failure]:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            if value is MISSING:
                return _missing(self.name)
            return (Failure(self.name, f"expected a list, got {type(value).__name__}"),)
        out: list[Failure] | None = None
        check = self.rule.check
        for i, item in enumerate(value):
            failed = check(item)
            if failed:
                if out is None:
                    out = []
                out.extend(Failure(f.rule, f.message, f"[{i}]{f.path}") for f in failed)
        return _PASS if out is None else out


def each(rule: PreValidationRule) -> Rule:
    """The value is a list/tuple and every item passes ``rule`` (failures name ``[i]``)."""
    return _Each(rule)


RulesByField = Mapping[str, PreValidationRule | Sequence[PreValidationRule]]


def _lookup(record: object, path: tuple[str, ...]) -> object:
    value = record
    for part in path:
        if isinstance(value, Mapping):
            value = value.get(part, MISSING)
        else:
            value = getattr(value, part, MISSING)
        if value is MISSING:
            return MISSING
    return value


def collect_failures(record: object, rules_by_field: RulesByField) -> list[tuple[str, str]]:
    """Every failure of ``record`` as ``(field_path, message)`` pairs; empty if it passes.

    ``rules_by_field`` maps a dotted field path to a rule or a sequence of rules (all must
    pass). Nothing is raised; see :func:`validate`.
    """
    failures: list[tuple[str, str]] = []
    for field, rules in rules_by_field.items():
        if "." in field:
            value = _lookup(record, tuple(field.split(".")))
        elif isinstance(record, Mapping):
            value = record.get(field, MISSING)
        else:
            value = getattr(record, field, MISSING)
        if isinstance(rules, Sequence):
            for rule in rules:
                for f in rule.check(value):
                    failures.append((field + f.path, f.message))
        else:
            for f in rules.check(value):
                failures.append((field + f.path, f.message))
    return failures


def validate(record: object, rules_by_field: RulesByField) -> None:
    """Check ``record`` against ``rules_by_field``; raise if anything fails.

    Raises:
        PreValidationError: with ``failures`` listing *every* ``(field_path, message)`` and a
            message that joins them (``"2 pre-validation failures: name: …; kind: …"``).
    """
    failures = collect_failures(record, rules_by_field)
    if failures:
        n = len(failures)
        joined = "; ".join(f"{field}: {message}" for field, message in failures)
        raise PreValidationError(
            f"{n} pre-validation failure{'s' if n != 1 else ''}: {joined}", failures=failures
        )
