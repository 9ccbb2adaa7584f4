"""Predicates: conditions written as data, never evaluated with ``eval``.

A predicate decides whether a :class:`~symphony.workflow.model.ConditionalEdge` is taken or
which way a :class:`~symphony.workflow.model.BranchNode` goes. It is evaluated against a
*scope*: a mapping of names to values (for an edge, the source node's outputs by port name).

Two equivalent spellings:

* **Structured** (the serialized form)::

      {"op": "gt", "path": "count", "value": 10}
      {"all": [{"op": "eq", "path": "lang", "value": "py"},
               {"not": {"op": "exists", "path": "error"}}]}
      true / false

  ``op`` is one of ``eq ne lt le gt ge in contains matches exists truthy``. ``path`` is a
  dotted path into the scope: ``"stats.python.lines"``; integer segments index lists
  (``"files.0"``). ``value`` is any JSON value.

* **Expression** (for people; parsed by :func:`parse_predicate` into the structured form)::

      count > 10 and not (lang == "py" or lang in ["c", "h"])
      {"op": "eq", "path": "in", "value": {"a": 1}}     (structured JSON is accepted too)
      stats.total >= 1000
      name matches "^test_"     files contains "README.md"     exists error     ok

  Grammar: ``or`` < ``and`` < ``not`` < comparison; a bare path means ``truthy``; literals
  are JSON numbers, double- or single-quoted strings, ``true``/``false``/``null`` and
  ``[...]`` lists of literals.

Evaluation never raises for missing data: a path that does not resolve makes comparisons
false (``exists`` tests exactly that). Comparisons between incomparable values (``"a" < 1``)
are false. ``matches`` uses :func:`re.search` with patterns compiled once.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

from symphony.commons.errors import ValidationError

__all__ = [
    "COMPARE_OPS",
    "All",
    "AnyOf",
    "Compare",
    "Const",
    "Not",
    "Predicate",
    "PredicateError",
    "evaluate",
    "predicate_from_data",
    "predicate_to_data",
    "parse_predicate",
    "format_predicate",
    "resolve_path",
]

CompareOp: TypeAlias = Literal[
    "eq", "ne", "lt", "le", "gt", "ge", "in", "contains", "matches", "exists", "truthy"
]
COMPARE_OPS: frozenset[str] = frozenset(
    {"eq", "ne", "lt", "le", "gt", "ge", "in", "contains", "matches", "exists", "truthy"}
)
_UNARY = frozenset({"exists", "truthy"})


class PredicateError(ValidationError):
    """A predicate is malformed (names the text/position or the offending key)."""


@dataclass(frozen=True, slots=True)
class Const:
    """Always ``value``."""

    value: bool


@dataclass(frozen=True, slots=True)
class Compare:
    """``<path> <op> <value>``; ``value`` is ignored for ``exists`` and ``truthy``."""

    op: CompareOp
    path: str
    value: object = None

    def __hash__(self) -> int:
        return hash((self.op, self.path, json.dumps(self.value, sort_keys=True)))


@dataclass(frozen=True, slots=True)
class Not:
    """Logical negation."""

    item: Predicate


@dataclass(frozen=True, slots=True)
class All:
    """True when every item holds (``True`` when empty)."""

    items: tuple[Predicate, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """True when some item holds (``False`` when empty)."""

    items: tuple[Predicate, ...]


Predicate: TypeAlias = Const | Compare | Not | All | AnyOf

_MISSING = object()


def resolve_path(scope: object, path: str) -> object:
    """Follow a dotted path through mappings and sequences; a sentinel if it does not resolve.

    Returns the value, or an object that is ``is``-identical to the module's private
    ``_MISSING`` sentinel (test with :func:`evaluate` and ``exists`` instead of relying on it).
    """
    cur: object = scope
    if not path:
        return cur
    for seg in path.split("."):
        if isinstance(cur, Mapping):
            if seg not in cur:
                return _MISSING
            cur = cur[seg]
        elif isinstance(cur, Sequence) and not isinstance(cur, str | bytes):
            try:
                cur = cur[int(seg)]
            except (ValueError, IndexError):
                return _MISSING
        else:
            return _MISSING
    return cur


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _compare(op: str, left: object, right: object) -> bool:
    try:
        if op == "eq":
            # True == 1 in Python; not here (JSON semantics: booleans are not numbers).
            return isinstance(left, bool) == isinstance(right, bool) and left == right
        if op == "ne":
            return not _compare("eq", left, right)
        if op == "lt":
            return bool(left < right)  # type: ignore[operator]
        if op == "le":
            return bool(left <= right)  # type: ignore[operator]
        if op == "gt":
            return bool(left > right)  # type: ignore[operator]
        if op == "ge":
            return bool(left >= right)  # type: ignore[operator]
        if op == "in":
            return isinstance(right, list | tuple | str | Mapping) and left in right
        if op == "contains":
            return isinstance(left, list | tuple | str | Mapping) and right in left
        if op == "matches":
            return (
                isinstance(left, str)
                and isinstance(right, str)
                and _regex(right).search(left) is not None
            )
    except TypeError:
        return False
    raise PredicateError(f"unknown comparison operator {op!r}")  # pragma: no cover


def evaluate(pred: Predicate, scope: Mapping[str, object]) -> bool:
    """Evaluate ``pred`` against ``scope`` (e.g. a node's outputs by port name).

    Raises:
        PredicateError: ``pred`` is not a predicate object (bad ``matches`` patterns are
            rejected when the predicate is built, not here).
    """
    if isinstance(pred, Const):
        return pred.value
    if isinstance(pred, Compare):
        left = resolve_path(scope, pred.path)
        if pred.op == "exists":
            return left is not _MISSING
        if left is _MISSING:
            return False
        if pred.op == "truthy":
            return bool(left)
        return _compare(pred.op, left, pred.value)
    if isinstance(pred, Not):
        return not evaluate(pred.item, scope)
    if isinstance(pred, All):
        return all(evaluate(p, scope) for p in pred.items)
    if isinstance(pred, AnyOf):
        return any(evaluate(p, scope) for p in pred.items)
    raise PredicateError(f"not a predicate: {pred!r}")


# --------------------------------------------------------------------------- data form
def predicate_to_data(pred: Predicate) -> object:
    """The structured (JSON-able) form of ``pred``."""
    if isinstance(pred, Const):
        return pred.value
    if isinstance(pred, Compare):
        if pred.op in _UNARY:
            return {"op": pred.op, "path": pred.path}
        return {"op": pred.op, "path": pred.path, "value": pred.value}
    if isinstance(pred, Not):
        return {"not": predicate_to_data(pred.item)}
    if isinstance(pred, All):
        return {"all": [predicate_to_data(p) for p in pred.items]}
    if isinstance(pred, AnyOf):
        return {"any": [predicate_to_data(p) for p in pred.items]}
    raise PredicateError(f"not a predicate: {pred!r}")


def predicate_from_data(data: object, where: str = "predicate") -> Predicate:
    """Build a predicate from its structured form (or an expression string).

    Raises:
        PredicateError: naming ``where`` (a document path) and what is wrong.
    """
    if isinstance(data, bool):
        return Const(data)
    if isinstance(data, str):
        try:
            return parse_predicate(data)
        except PredicateError as err:
            raise PredicateError(f"{where}: {err.message}") from None
    if not isinstance(data, Mapping):
        raise PredicateError(
            f"{where}: expected an object, a boolean or an expression string, "
            f"got {type(data).__name__}"
        )
    keys = set(data)
    if keys == {"not"}:
        return Not(predicate_from_data(data["not"], f"{where}.not"))
    for key, cls in (("all", All), ("any", AnyOf)):
        if keys == {key}:
            items = data[key]
            if not isinstance(items, list):
                raise PredicateError(f"{where}.{key}: expected a list")
            return cls(
                tuple(predicate_from_data(p, f"{where}.{key}[{i}]") for i, p in enumerate(items))
            )
    if "op" not in keys or "path" not in keys or not keys <= {"op", "path", "value"}:
        raise PredicateError(
            f"{where}: expected keys op/path[/value], all, any or not; got {sorted(keys)}"
        )
    op, path = data["op"], data["path"]
    if op not in COMPARE_OPS:
        raise PredicateError(f"{where}.op: unknown operator {op!r}")
    if not isinstance(path, str):
        raise PredicateError(f"{where}.path: expected a string, got {type(path).__name__}")
    return make_compare(op, path, data.get("value"), where)


def make_compare(op: str, path: str, value: object, where: str = "predicate") -> Compare:
    """A checked :class:`Compare` (``matches`` patterns are compiled here)."""
    if op not in COMPARE_OPS:
        raise PredicateError(f"{where}: unknown operator {op!r}")
    if op == "matches":
        if not isinstance(value, str):
            raise PredicateError(f"{where}: 'matches' needs a string pattern, got {value!r}")
        try:
            _regex(value)
        except re.error as exc:
            raise PredicateError(f"{where}: bad regular expression {value!r}: {exc}") from None
    if op in _UNARY:
        value = None
    return Compare(op, path, value)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- expressions
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
    | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
    )""",
    re.VERBOSE,
)
_SYMBOL_OPS = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_WORD_OPS = {"in": "in", "contains": "contains", "matches": "matches"}
_KEYWORDS = {"and", "or", "not", "exists", "true", "false", "null", *_WORD_OPS}


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise PredicateError(f"unexpected character {text[pos:].lstrip()[:1]!r} "
                                     f"at offset {pos} in {text!r}")
            kind = m.lastgroup
            assert kind is not None
            self.toks.append((kind, m.group(kind), m.start(kind)))
            pos = m.end()
        self.i = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def fail(self, what: str) -> PredicateError:
        tok = self.peek()
        where = f"offset {tok[2]} ({tok[1]!r})" if tok else "end of input"
        return PredicateError(f"expected {what} at {where} in {self.text!r}")

    def accept(self, value: str) -> bool:
        tok = self.peek()
        if tok is not None and tok[1] == value and tok[0] in ("op", "name"):
            self.i += 1
            return True
        return False

    def parse(self) -> Predicate:
        if not self.toks:
            raise PredicateError("empty predicate expression")
        p = self.or_()
        if self.peek() is not None:
            raise self.fail("end of expression")
        return p

    def or_(self) -> Predicate:
        items = [self.and_()]
        while self.accept("or"):
            items.append(self.and_())
        return items[0] if len(items) == 1 else AnyOf(tuple(items))

    def and_(self) -> Predicate:
        items = [self.not_()]
        while self.accept("and"):
            items.append(self.not_())
        return items[0] if len(items) == 1 else All(tuple(items))

    def not_(self) -> Predicate:
        if self.accept("not"):
            return Not(self.not_())
        return self.atom()

    def atom(self) -> Predicate:
        if self.accept("("):
            p = self.or_()
            if not self.accept(")"):
                raise self.fail("')'")
            return p
        if self.accept("true"):
            return Const(True)
        if self.accept("false"):
            return Const(False)
        if self.accept("exists"):
            return Compare("exists", self.path())
        path = self.path()
        tok = self.peek()
        if tok is not None and tok[0] == "op" and tok[1] in _SYMBOL_OPS:
            self.i += 1
            return make_compare(_SYMBOL_OPS[tok[1]], path, self.literal(), self.text)
        if tok is not None and tok[0] == "name" and tok[1] in _WORD_OPS:
            self.i += 1
            return make_compare(_WORD_OPS[tok[1]], path, self.literal(), self.text)
        return Compare("truthy", path)

    def path(self) -> str:
        tok = self.peek()
        if tok is None or tok[0] != "name" or tok[1] in _KEYWORDS:
            raise self.fail("a path")
        self.i += 1
        return tok[1]

    def literal(self) -> object:
        tok = self.peek()
        if tok is None:
            raise self.fail("a literal")
        kind, text, _ = tok
        if kind == "num":
            self.i += 1
            return json.loads(text)
        if kind == "str":
            self.i += 1
            body = text[1:-1]
            if text[0] == "'":
                body = body.replace('\\"', '"').replace('"', '\\"').replace("\\'", "'")
            try:
                return json.loads(f'"{body}"')
            except ValueError:
                raise self.fail("a valid string literal") from None
        if kind == "name" and text in ("true", "false", "null"):
            self.i += 1
            return {"true": True, "false": False, "null": None}[text]
        if self.accept("["):
            items: list[object] = []
            if not self.accept("]"):
                items.append(self.literal())
                while self.accept(","):
                    items.append(self.literal())
                if not self.accept("]"):
                    raise self.fail("']'")
            return items
        raise self.fail("a literal (number, string, true/false/null or [list])")


@functools.lru_cache(maxsize=1024)
def parse_predicate(text: str) -> Predicate:
    """Parse the expression language (module docstring) into a predicate.

    Raises:
        PredicateError: with the offset and the token where parsing stopped.
    """
    if not isinstance(text, str):
        raise PredicateError(f"predicate expression must be a string, got {type(text).__name__}")
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise PredicateError(f"predicate JSON is malformed: {exc}") from None
        return predicate_from_data(data)
    return _Parser(text).parse()


_INV_SYMBOL = {v: k for k, v in _SYMBOL_OPS.items()}


_PATH_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*\Z")


def _literal_ok(v: object) -> bool:
    if isinstance(v, list):
        return all(_literal_ok(x) for x in v)
    return v is None or isinstance(v, bool | int | float | str)


def _expressible(pred: Predicate) -> bool:
    if isinstance(pred, Compare):
        return (
            bool(_PATH_RE.match(pred.path))
            and pred.path not in _KEYWORDS
            and _literal_ok(pred.value)
        )
    if isinstance(pred, Not):
        return _expressible(pred.item)
    if isinstance(pred, All | AnyOf):
        return all(_expressible(p) for p in pred.items)
    return True


def format_predicate(pred: Predicate) -> str:
    """Render ``pred`` in the expression language (``parse_predicate`` inverts it).

    A predicate the expression language cannot spell (a path that is a keyword or not an
    identifier path, an object value) is rendered as its structured JSON form, which
    :func:`parse_predicate` also accepts.
    """
    if not _expressible(pred):
        return json.dumps(predicate_to_data(pred), ensure_ascii=False, sort_keys=True)
    return _format(pred)


def _format(pred: Predicate) -> str:
    if isinstance(pred, Const):
        return "true" if pred.value else "false"
    if isinstance(pred, Compare):
        if pred.op == "exists":
            return f"exists {pred.path}"
        if pred.op == "truthy":
            return pred.path
        op = _INV_SYMBOL.get(pred.op, pred.op)
        return f"{pred.path} {op} {json.dumps(pred.value, ensure_ascii=False)}"
    if isinstance(pred, Not):
        return f"not ({_format(pred.item)})"
    if isinstance(pred, All | AnyOf):
        if not pred.items:
            return "true" if isinstance(pred, All) else "false"
        joiner = " and " if isinstance(pred, All) else " or "
        return joiner.join(f"({_format(p)})" for p in pred.items)
    raise PredicateError(f"not a predicate: {pred!r}")
