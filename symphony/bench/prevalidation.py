"""``symphony bench prevalidation``: pre-validating one record, against peers, in one run.

The seed's goal is "< 1 ms" per pre-validation. The record is a typical request to the Pit (an
id, a name, a kind, a version, a priority, a timeout, tags, a payload and an owner's e-mail,
9 fields and 17 checks); the same constraints are expressed for every contender:

- ``symphony``: a :class:`symphony.commons.prevalidation.Validator` built once (the rules
  compiled to a generated fast path), reporting *every* failure;
- ``symphony validate()``: :func:`symphony.commons.prevalidation.validate`, the rules
  interpreted on each call;
- ``plain Python``: a hand-written function of ``if`` statements collecting every failure —
  the floor for an interpreted check;
- ``fastjsonschema``: a compiled JSON Schema (stops at the *first* failure);
- ``pydantic``: a v2 ``BaseModel`` with field constraints (reports every failure);
- ``msgspec``: ``msgspec.convert`` into a ``Struct`` with ``Meta`` constraints (first failure);
- ``jsonschema``: ``Draft202012Validator.iter_errors`` (every failure).

Two cases: a valid record, and a record where every field is wrong. Times are medians of
``--rounds`` rounds, in µs per record; ratios are to Symphony in the same run. A missing peer
is shown as "missing".
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, Literal

from symphony.bench._common import Table, median_time, optional
from symphony.commons import prevalidation as pv
from symphony.commons.errors import PreValidationError

SEED_TARGET_US = 1000.0
"""The seed's pre-validation budget: 1 ms."""

KINDS = ("instrument", "operator", "control")
ID_RE = r"wf-[0-9a-f]{8}"
NAME_RE = r"[a-z][a-z0-9-]*"
VERSION_RE = r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
EMAIL_RE = r"[^@\s]+@[^@\s]+\.[^@\s]+"
PAYLOAD_MAX = 64 * 1024


def good_record() -> dict[str, object]:
    """The valid record (append-only: asv history depends on it)."""
    return {
        "id": "wf-2f1c9a7e",
        "name": "summarise-pr",
        "kind": "instrument",
        "version": "1.4.2",
        "priority": 2,
        "timeout_ms": 30_000,
        "tags": ["nlp", "review", "fast"],
        "payload": "x" * 512,
        "owner": {"email": "dev@example.com"},
    }


def bad_record() -> dict[str, object]:
    """Every field wrong (append-only)."""
    return {
        "id": "WF-XYZ",
        "name": "",
        "kind": "widget",
        "version": "1.4",
        "priority": 7,
        "timeout_ms": 0,
        "tags": ["ok", "", "x" * 40],
        "payload": "é" * 40_000,
        "owner": {"email": "nobody"},
    }


def make_rules() -> pv.RulesByField:
    """Symphony's rules for the record."""
    return {
        "id": pv.pattern(ID_RE),
        "name": pv.all_of(pv.non_empty(), pv.length(max=64), pv.pattern(NAME_RE)),
        "kind": pv.one_of(KINDS),
        "version": pv.pattern(VERSION_RE),
        "priority": pv.in_range(0, 3),
        "timeout_ms": pv.in_range(1, 3_600_000),
        "tags": pv.all_of(pv.length(max=16), pv.each(pv.length(1, 32))),
        "payload": pv.max_size(PAYLOAD_MAX),
        "owner.email": pv.pattern(EMAIL_RE),
    }


_id = re.compile(ID_RE).fullmatch
_name = re.compile(NAME_RE).fullmatch
_version = re.compile(VERSION_RE).fullmatch
_email = re.compile(EMAIL_RE).fullmatch
_kinds = frozenset(KINDS)


def plain_check(r: dict[str, Any]) -> list[tuple[str, str]]:
    """The same checks written by hand: the floor for interpreted Python."""
    f: list[tuple[str, str]] = []
    v = r.get("id")
    if not (isinstance(v, str) and _id(v)):
        f.append(("id", "bad id"))
    v = r.get("name")
    if not isinstance(v, str) or not v:
        f.append(("name", "empty"))
    else:
        if len(v) > 64:
            f.append(("name", "too long"))
        if not _name(v):
            f.append(("name", "bad name"))
    if r.get("kind") not in _kinds:
        f.append(("kind", "bad kind"))
    v = r.get("version")
    if not (isinstance(v, str) and _version(v)):
        f.append(("version", "bad version"))
    v = r.get("priority")
    if type(v) is not int or not 0 <= v <= 3:
        f.append(("priority", "out of range"))
    v = r.get("timeout_ms")
    if type(v) is not int or not 1 <= v <= 3_600_000:
        f.append(("timeout_ms", "out of range"))
    v = r.get("tags")
    if not isinstance(v, list) or len(v) > 16:
        f.append(("tags", "bad tags"))
    else:
        for i, t in enumerate(v):
            if not isinstance(t, str) or not 1 <= len(t) <= 32:
                f.append((f"tags[{i}]", "bad tag"))
    v = r.get("payload")
    if not isinstance(v, str) or len(v.encode()) > PAYLOAD_MAX:
        f.append(("payload", "too large"))
    owner = r.get("owner")
    v = owner.get("email") if isinstance(owner, dict) else None
    if not (isinstance(v, str) and _email(v)):
        f.append(("owner.email", "bad email"))
    return f


JSON_SCHEMA: dict[str, object] = {
    "type": "object",
    "required": ["id", "name", "kind", "version", "priority", "timeout_ms", "tags", "payload"],
    "properties": {
        "id": {"type": "string", "pattern": f"^{ID_RE}$"},
        "name": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": f"^{NAME_RE}$"},
        "kind": {"enum": list(KINDS)},
        "version": {"type": "string", "pattern": f"^{VERSION_RE}$"},
        "priority": {"type": "integer", "minimum": 0, "maximum": 3},
        "timeout_ms": {"type": "integer", "minimum": 1, "maximum": 3_600_000},
        "tags": {
            "type": "array",
            "maxItems": 16,
            "items": {"type": "string", "minLength": 1, "maxLength": 32},
        },
        # JSON Schema counts characters, not bytes: the closest equivalent.
        "payload": {"type": "string", "maxLength": PAYLOAD_MAX},
        "owner": {
            "type": "object",
            "required": ["email"],
            "properties": {"email": {"type": "string", "pattern": f"^{EMAIL_RE}$"}},
        },
    },
}


def _symphony_validator() -> Callable[[dict[str, Any]], object]:
    validator = pv.Validator(make_rules())

    def run(r: dict[str, Any]) -> object:
        try:
            validator.validate(r)
        except PreValidationError as exc:
            return exc.failures
        return None

    return run


def _symphony() -> Callable[[dict[str, Any]], object]:
    rules = make_rules()

    def run(r: dict[str, Any]) -> object:
        try:
            pv.validate(r, rules)
        except PreValidationError as exc:
            return exc.failures
        return None

    return run


def _fastjsonschema() -> Callable[[dict[str, Any]], object] | None:
    fjs = optional("fastjsonschema")
    if fjs is None:
        return None
    check = fjs.compile(JSON_SCHEMA)
    error = fjs.JsonSchemaValueException

    def run(r: dict[str, Any]) -> object:
        try:
            return check(r)
        except error as exc:
            return exc

    return run


def _jsonschema() -> Callable[[dict[str, Any]], object] | None:
    js = optional("jsonschema")
    if js is None:
        return None
    validator = js.Draft202012Validator(JSON_SCHEMA)

    def run(r: dict[str, Any]) -> object:
        return list(validator.iter_errors(r))

    return run


def _pydantic() -> Callable[[dict[str, Any]], object] | None:
    pd = optional("pydantic")
    if pd is None:
        return None
    F = pd.Field
    # Built with create_model (real type objects): string annotations cannot see local names.
    owner = pd.create_model("Owner", email=(Annotated[str, F(pattern=f"^{EMAIL_RE}$")], ...))
    tag = Annotated[str, F(min_length=1, max_length=32)]
    request = pd.create_model(
        "Request",
        id=(Annotated[str, F(pattern=f"^{ID_RE}$")], ...),
        name=(Annotated[str, F(min_length=1, max_length=64, pattern=f"^{NAME_RE}$")], ...),
        kind=(Literal["instrument", "operator", "control"], ...),
        version=(Annotated[str, F(pattern=f"^{VERSION_RE}$")], ...),
        priority=(Annotated[int, F(ge=0, le=3, strict=True)], ...),
        timeout_ms=(Annotated[int, F(ge=1, le=3_600_000, strict=True)], ...),
        tags=(Annotated[list[tag], F(max_length=16)], ...),
        payload=(Annotated[str, F(max_length=PAYLOAD_MAX)], ...),
        owner=(owner, ...),
    )
    error = pd.ValidationError

    def run(r: dict[str, Any]) -> object:
        try:
            return request.model_validate(r)
        except error as exc:
            return exc.errors()

    return run


def _msgspec() -> Callable[[dict[str, Any]], object] | None:
    ms = optional("msgspec")
    if ms is None:
        return None
    M = ms.Meta
    owner = ms.defstruct("Owner", [("email", Annotated[str, M(pattern=f"^{EMAIL_RE}$")])])
    tag = Annotated[str, M(min_length=1, max_length=32)]
    request = ms.defstruct(
        "Request",
        [
            ("id", Annotated[str, M(pattern=f"^{ID_RE}$")]),
            ("name", Annotated[str, M(min_length=1, max_length=64, pattern=f"^{NAME_RE}$")]),
            ("kind", Literal["instrument", "operator", "control"]),
            ("version", Annotated[str, M(pattern=f"^{VERSION_RE}$")]),
            ("priority", Annotated[int, M(ge=0, le=3)]),
            ("timeout_ms", Annotated[int, M(ge=1, le=3_600_000)]),
            ("tags", Annotated[list[tag], M(max_length=16)]),
            ("payload", Annotated[str, M(max_length=PAYLOAD_MAX)]),
            ("owner", owner),
        ],
    )
    error = ms.ValidationError

    def run(r: dict[str, Any]) -> object:
        try:
            return ms.convert(r, request)
        except error as exc:
            return exc

    return run


CONTENDERS: tuple[tuple[str, str], ...] = (
    ("symphony", "Validator (compiled once); every failure"),
    ("symphony validate()", "rules interpreted per call; every failure"),
    ("plain Python", "every failure"),
    ("fastjsonschema", "first failure only"),
    ("pydantic", "every failure"),
    ("msgspec", "first failure only"),
    ("jsonschema", "every failure"),
)


def _make(who: str) -> Callable[[dict[str, Any]], object] | None:
    if who == "symphony":
        return _symphony_validator()
    if who == "symphony validate()":
        return _symphony()
    if who == "plain Python":
        return plain_check
    return {
        "fastjsonschema": _fastjsonschema,
        "pydantic": _pydantic,
        "msgspec": _msgspec,
        "jsonschema": _jsonschema,
    }[who]()


def _single_rules() -> list[tuple[str, pv.PreValidationRule, object]]:
    return [
        ("non_empty", pv.non_empty(), "summarise-pr"),
        ("pattern", pv.pattern(VERSION_RE), "1.4.2"),
        ("length", pv.length(1, 64), "summarise-pr"),
        ("max_size (512 chars)", pv.max_size(PAYLOAD_MAX), "x" * 512),
        ("max_size (40k chars)", pv.max_size(PAYLOAD_MAX), "é" * 40_000),
        ("in_range", pv.in_range(0, 3), 2),
        ("one_of", pv.one_of(KINDS), "control"),
        ("of_type", pv.of_type(int), 5),
        ("all_of(3)", pv.all_of(pv.non_empty(), pv.length(max=64), pv.pattern(NAME_RE)), "a-b"),
        ("each(3) of length", pv.each(pv.length(1, 32)), ["nlp", "review", "fast"]),
        ("pattern, failing", pv.pattern(VERSION_RE), "1.4"),
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the tables; returns 0 (1 if the 1 ms budget is missed)."""
    parser = argparse.ArgumentParser(prog="symphony bench prevalidation", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7, help="rounds per figure (median)")
    parser.add_argument("--number", type=int, default=2000, help="calls per round")
    args = parser.parse_args(argv)

    table = Table("pre-validation of one record", "µs per record", higher_is_better=False)
    worst = 0.0
    for case, make in (("valid record", good_record), ("every field wrong", bad_record)):
        record = make()
        for who, note in CONTENDERS:
            fn = _make(who)
            if fn is None:
                table.add(case, who, None, "not installed")
                continue
            number = max(1, args.number // 20) if who == "jsonschema" else args.number
            seconds = median_time(partial(fn, record), rounds=args.rounds, number=number)
            us = seconds * 1e6
            if who.startswith("symphony"):
                worst = max(worst, us)
            table.add(case, who, us, note)
    table.print()

    rules = Table("one rule check", "ns per check", higher_is_better=False)
    for name, rule, value in _single_rules():
        seconds = median_time(
            partial(rule.check, value), rounds=args.rounds, number=args.number * 5
        )
        rules.add(name, "symphony", seconds * 1e9)
    rules.print()

    met = worst < SEED_TARGET_US
    print(
        f"seed budget: pre-validation < {SEED_TARGET_US:.0f} µs per record -> "
        f"worst case {worst:.2f} µs: {'met' if met else 'NOT met'} "
        f"({SEED_TARGET_US / worst:.0f}x under budget)"
        if worst
        else "seed budget: not measured",
        flush=True,
    )
    return 0 if met else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
