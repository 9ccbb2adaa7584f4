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

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Final, NamedTuple, Protocol, cast, final, runtime_checkable

from .errors import PreValidationError

__all__ = [
    "MISSING",
    "Failure",
    "PreValidationRule",
    "Rule",
    "RulesByField",
    "Validator",
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


class Failure(NamedTuple):
    """One failed check (a named tuple: cheap to create, immutable).

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

    def _compile(self, v: str, c: _Compiler) -> str:
        """A Python expression, true exactly when ``check(<v>)`` would return no failure.

        Used by :class:`Validator` to generate its fast path. The default calls ``check``;
        rules override it with inline code for the common value types.
        """
        return f"not {c.bind(self)}.check({v})"


class _NonEmpty(Rule):
    __slots__ = ("strip",)

    def __init__(self, strip: bool) -> None:
        super().__init__("non_empty")
        self.strip = strip

    def check(self, value: object) -> Sequence[Failure]:
        if value is MISSING or value is None:
            return (Failure(self.name, f"must not be empty, got {_show(value)}"),)
        if self.strip and isinstance(value, str):
            value = value.strip()
        try:
            n = len(value)  # type: ignore[arg-type]
        except TypeError:
            return (Failure(self.name, f"expected a sized value, got {type(value).__name__}"),)
        if n:
            return _PASS
        return (Failure(self.name, f"must not be empty, got {_show(value)}"),)

    def _compile(self, v: str, c: _Compiler) -> str:
        me = c.bind(self)
        if self.strip:
            return f"(len({v}.strip()) > 0 if type({v}) is str else not {me}.check({v}))"
        return f"(len({v}) > 0 if {v}.__class__ in _SIZED else not {me}.check({v}))"


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

    def _compile(self, v: str, c: _Compiler) -> str:
        me, match = c.bind(self), c.bind(self._match)
        return f"({match}({v}) is not None if type({v}) is str else not {me}.check({v}))"


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
        try:
            n = len(value)  # type: ignore[arg-type]
        except TypeError:
            if value is MISSING:
                return _missing(self.name)
            return (Failure(self.name, f"expected a sized value, got {type(value).__name__}"),)
        if self.min is not None and n < self.min:
            return (Failure(self.name, f"length {n} is below the minimum {self.min}"),)
        if self.max is not None and n > self.max:
            return (Failure(self.name, f"length {n} is above the maximum {self.max}"),)
        return _PASS

    def _compile(self, v: str, c: _Compiler) -> str:
        me = c.bind(self)
        n = f"len({v})"
        lo = f"{c.bind(self.min)} <= " if self.min is not None else ""
        hi = f" <= {c.bind(self.max)}" if self.max is not None else ""
        test = f"{lo}{n}{hi}" if (lo or hi) else "True"
        return f"({test} if {v}.__class__ in _SIZED else not {me}.check({v}))"


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

    def _compile(self, v: str, c: _Compiler) -> str:
        me, lim = c.bind(self), c.bind(self.limit)
        text = (
            f"(len({v}) * 4 <= {lim} or (len({v}) <= {lim} and "
            f"len({v}.encode('utf-8', 'surrogatepass')) <= {lim}))"
        )
        return (
            f"({text} if type({v}) is str else len({v}) <= {lim} if type({v}) is bytes "
            f"else not {me}.check({v}))"
        )


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
        t = type(value)
        if t is not int and t is not float and (t is bool or not isinstance(value, int | float)):
            if value is MISSING:
                return _missing(self.name)
            return (Failure(self.name, f"expected a number, got {t.__name__}"),)
        num = cast(float, value)
        if num != num:  # NaN
            return (Failure(self.name, "expected a number, got NaN"),)
        if self.min is not None and num < self.min:
            return (Failure(self.name, f"{num!r} is below the minimum {self.min!r}"),)
        if self.max is not None and num > self.max:
            return (Failure(self.name, f"{num!r} is above the maximum {self.max!r}"),)
        return _PASS

    def _compile(self, v: str, c: _Compiler) -> str:
        me = c.bind(self)
        lo = f"{c.bind(self.min)} <= " if self.min is not None else ""
        hi = f" <= {c.bind(self.max)}" if self.max is not None else ""
        test = f"{lo}{v}{hi}" if (lo or hi) else "True"
        return (
            f"({test} if (type({v}) is int or (type({v}) is float and {v} == {v})) "
            f"else not {me}.check({v}))"
        )


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

    def _compile(self, v: str, c: _Compiler) -> str:
        me = c.bind(self)
        if not isinstance(self.choices, frozenset):
            return f"not {me}.check({v})"
        choices = c.bind(self.choices)
        return f"({v} in {choices} if {v}.__class__ in _HASHABLE else not {me}.check({v}))"


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

    def _compile(self, v: str, c: _Compiler) -> str:
        test = f"isinstance({v}, {c.bind(self.types)})"
        return test if self.allow_bool else f"({test} and type({v}) is not bool)"


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

    def _compile(self, v: str, c: _Compiler) -> str:
        if not self.rules:
            return "True"
        return "(" + " and ".join(c.expr(r, v) for r in self.rules) + ")"


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

    def _compile(self, v: str, c: _Compiler) -> str:
        return "(" + " or ".join(c.expr(r, v) for r in self.rules) + ")"


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

    def _compile(self, v: str, c: _Compiler) -> str:
        return f"({v} is _MISSING or {v} is None or {c.expr(self.rule, v)})"


def optional(rule: PreValidationRule) -> Rule:
    """An absent field or ``None`` passes; any other value must pass ``rule``."""
    return _Optional(rule)


class _Each(Rule):
    __slots__ = ("rule",)

    def __init__(self, rule: PreValidationRule) -> None:
        super().__init__("each")
        self.rule = rule

    def check(self, value: object) -> Sequence[Failure]:
        t = type(value)
        if (
            t is not list
            and t is not tuple
            and (isinstance(value, str | bytes | bytearray) or not isinstance(value, Sequence))
        ):
            if value is MISSING:
                return _missing(self.name)
            return (Failure(self.name, f"expected a list, got {type(value).__name__}"),)
        out: list[Failure] | None = None
        check = self.rule.check
        for i, item in enumerate(cast(Sequence[object], value)):
            failed = check(item)
            if failed:
                if out is None:
                    out = []
                out.extend(Failure(f.rule, f.message, f"[{i}]{f.path}") for f in failed)
        return _PASS if out is None else out

    def _compile(self, v: str, c: _Compiler) -> str:
        me, item = c.bind(self), c.var()
        return (
            f"(all({c.expr(self.rule, item)} for {item} in {v}) "
            f"if (type({v}) is list or type({v}) is tuple) else not {me}.check({v}))"
        )


def each(rule: PreValidationRule) -> Rule:
    """The value is a list/tuple and every item passes ``rule`` (failures name ``[i]``)."""
    return _Each(rule)


RulesByField = Mapping[
    str, PreValidationRule | list[PreValidationRule] | tuple[PreValidationRule, ...]
]
"""Dotted field path → a rule, or a list/tuple of rules that must all pass."""


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

    ``rules_by_field`` maps a dotted field path to a rule or a list/tuple of rules (all must
    pass). Nothing is raised; see :func:`validate`.
    """
    failures: list[tuple[str, str]] = []
    get = record.get if type(record) is dict or isinstance(record, Mapping) else None
    for field, rules in rules_by_field.items():
        if "." in field:
            value = _lookup(record, tuple(field.split(".")))
        elif get is not None:
            value = get(field, MISSING)
        else:
            value = getattr(record, field, MISSING)
        if type(rules) is list or type(rules) is tuple:
            for rule in rules:
                for f in rule.check(value):
                    failures.append((field + f.path, f.message))
        else:
            for f in cast(PreValidationRule, rules).check(value):
                failures.append((field + f.path, f.message))
    return failures


_SIZED: Final = frozenset({str, bytes, bytearray, list, tuple, dict, set, frozenset})
_HASHABLE: Final = frozenset({str, int, float, bool, bytes, type(None)})


class _Compiler:
    """Collects the names a generated fast path needs (rules, bound methods, constants)."""

    def __init__(self) -> None:
        self.ns: dict[str, object] = {
            "_MISSING": MISSING,
            "_SIZED": _SIZED,
            "_HASHABLE": _HASHABLE,
            "_lookup": _lookup,
        }
        self._ids: dict[int, str] = {}
        self._vars = 0

    def bind(self, obj: object) -> str:
        """A name under which ``obj`` is visible to the generated code."""
        name = self._ids.get(id(obj))
        if name is None:
            name = self._ids[id(obj)] = f"_k{len(self._ids)}"
            self.ns[name] = obj
        return name

    def var(self) -> str:
        self._vars += 1
        return f"_v{self._vars}"

    def expr(self, rule: PreValidationRule, v: str) -> str:
        compile_ = getattr(rule, "_compile", None)
        if isinstance(rule, Rule) and compile_ is not None:
            return cast(str, compile_(v, self))
        return f"not {self.bind(rule)}.check({v})"


def _compile_fast_path(rules_by_field: RulesByField) -> Callable[[object], bool]:
    c = _Compiler()
    lines = ["def _fast(record):", "    if type(record) is not dict:", "        return False"]
    for field, rules in rules_by_field.items():
        v = c.var()
        parts = field.split(".")
        if len(parts) == 1:
            lines.append(f"    {v} = record.get({field!r}, _MISSING)")
        elif len(parts) == 2:
            lines.append(f"    {v} = record.get({parts[0]!r}, _MISSING)")
            lines.append(
                f"    {v} = {v}.get({parts[1]!r}, _MISSING) if type({v}) is dict "
                f"else _lookup(record, {tuple(parts)!r})"
            )
        else:
            lines.append(f"    {v} = _lookup(record, {tuple(parts)!r})")
        seq = rules if type(rules) is list or type(rules) is tuple else (rules,)
        for rule in cast(Sequence[PreValidationRule], seq):
            lines.append(f"    if not {c.expr(rule, v)}:")
            lines.append("        return False")
    lines.append("    return True")
    code = compile("\n".join(lines) + "\n", "<symphony.prevalidation fast path>", "exec")
    exec(code, c.ns)
    return cast(Callable[[object], bool], c.ns["_fast"])


class Validator:
    """Rules compiled once, for records checked many times.

    Same results as :func:`collect_failures` / :func:`validate` with the same rules, faster:
    a passing ``dict`` record is checked by generated code (the rules inlined as plain Python
    expressions, as a hand-written check would be); a record that fails — or is not a
    ``dict`` — goes through the rules one by one, so every failure is still reported with
    its exact message.

    ``rules_by_field`` is copied: changing the mapping later does not change the validator.
    """

    __slots__ = ("_fast", "_rules")

    def __init__(self, rules_by_field: RulesByField) -> None:
        self._rules: dict[
            str, PreValidationRule | list[PreValidationRule] | tuple[PreValidationRule, ...]
        ] = {k: (list(v) if type(v) is list else v) for k, v in rules_by_field.items()}
        self._fast = _compile_fast_path(self._rules)

    def passes(self, record: object) -> bool:
        """``True`` if ``record`` passes every rule."""
        return self._fast(record) or not collect_failures(record, self._rules)

    def failures(self, record: object) -> list[tuple[str, str]]:
        """Like :func:`collect_failures`."""
        if self._fast(record):
            return []
        return collect_failures(record, self._rules)

    def validate(self, record: object) -> None:
        """Like :func:`validate`: raises :class:`PreValidationError` listing every failure."""
        if not self._fast(record):
            _raise_if_failed(collect_failures(record, self._rules))


def validate(record: object, rules_by_field: RulesByField) -> None:
    """Check ``record`` against ``rules_by_field``; raise if anything fails.

    For many records checked against the same rules, build a :class:`Validator` once
    instead: same results, several times faster on records that pass.

    Raises:
        PreValidationError: with ``failures`` listing *every* ``(field_path, message)`` and a
            message that joins them (``"2 pre-validation failures: name: …; kind: …"``).
    """
    _raise_if_failed(collect_failures(record, rules_by_field))


def _raise_if_failed(failures: list[tuple[str, str]]) -> None:
    if failures:
        n = len(failures)
        joined = "; ".join(f"{field}: {message}" for field, message in failures)
        raise PreValidationError(
            f"{n} pre-validation failure{'s' if n != 1 else ''}: {joined}", failures=failures
        )
