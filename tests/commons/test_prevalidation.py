"""symphony.commons.prevalidation: rules, composition, and validate() reporting everything."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from symphony.commons import prevalidation as pv
from symphony.commons.errors import PreValidationError, ValidationError


def messages(rule: pv.PreValidationRule, value: object) -> list[str]:
    return [f.message for f in rule.check(value)]


# --------------------------------------------------------------------------- rules
def test_non_empty() -> None:
    r = pv.non_empty()
    assert r.name == "non_empty"
    for ok in ["a", " ", b"x", [0], {"k": 1}, (1,)]:
        assert r.check(ok) == ()
    empties: list[object] = ["", b"", [], {}, None, pv.MISSING]
    for bad in empties:
        assert messages(r, bad) == [f"must not be empty, got {pv._show(bad)}"]
    assert messages(r, 5) == ["expected a sized value, got int"]
    assert pv.non_empty(strip=True).check("  \t")
    assert pv.non_empty(strip=True).check(" a ") == ()


def test_pattern() -> None:
    r = pv.pattern(r"[a-z]+")
    assert r.check("abc") == ()
    assert messages(r, "abc1") == ["'abc1' does not match /[a-z]+/"]
    assert pv.pattern(r"[a-z]+", full=False).check("1abc1") == ()
    assert pv.pattern(re.compile(r"\d+")).check("123") == ()
    assert messages(r, 12) == ["expected a string, got int"]
    assert messages(r, pv.MISSING) == ["required value is missing"]
    long = "A" * 500
    assert len(messages(r, long)[0]) < 100  # the value is cut in the message


def test_length() -> None:
    r = pv.length(2, 4)
    assert r.check("ab") == ()
    assert r.check([1, 2, 3, 4]) == ()
    assert messages(r, "a") == ["length 1 is below the minimum 2"]
    assert messages(r, "abcde") == ["length 5 is above the maximum 4"]
    assert messages(r, 3) == ["expected a sized value, got int"]
    assert messages(r, pv.MISSING) == ["required value is missing"]
    assert pv.length(max=0).check("") == ()
    assert pv.length(min=1).check("x" * 10_000) == ()
    with pytest.raises(ValueError, match="min=5 is greater than max=1"):
        pv.length(5, 1)


def test_max_size_counts_utf8_bytes() -> None:
    r = pv.max_size(4)
    assert r.check(b"1234") == ()
    assert r.check(bytearray(b"1")) == ()
    assert r.check(memoryview(b"12345").cast("B")[:4]) == ()
    assert messages(r, b"12345") == ["size 5 bytes is above the limit 4"]
    assert r.check("é") == ()  # 2 bytes
    assert r.check("éé") == ()  # 4 bytes
    assert messages(r, "ééa") == ["size 5 bytes is above the limit 4"]
    assert messages(r, "€€") == ["size 6 bytes is above the limit 4"]  # 2 chars, 6 bytes
    assert messages(r, "abcde")  # more chars than bytes allowed: no encoding needed
    assert pv.max_size(8).check("a\ud800") == ()  # lone surrogate: counted, no crash
    assert messages(r, 5) == ["expected str or bytes, got int"]
    assert messages(r, pv.MISSING) == ["required value is missing"]
    assert messages(pv.max_size(1), memoryview(b"\0" * 8).cast("Q")) == [
        "size 8 bytes is above the limit 1"
    ]
    with pytest.raises(ValueError, match=">= 0"):
        pv.max_size(-1)


@given(st.text(max_size=50), st.integers(0, 120))
def test_max_size_agrees_with_encoding(text: str, limit: int) -> None:
    ok = len(text.encode("utf-8", "surrogatepass")) <= limit
    assert (pv.max_size(limit).check(text) == ()) is ok


def test_in_range() -> None:
    r = pv.in_range(0, 10)
    for ok in [0, 10, 5.5, 0.0]:
        assert r.check(ok) == ()
    assert messages(r, -1) == ["-1 is below the minimum 0"]
    assert messages(r, 10.5) == ["10.5 is above the maximum 10"]
    assert messages(r, True) == ["expected a number, got bool"]
    assert messages(r, "5") == ["expected a number, got str"]
    assert messages(r, float("nan")) == ["expected a number, got NaN"]
    assert messages(r, pv.MISSING) == ["required value is missing"]
    assert pv.in_range().check(-(10**100)) == ()
    assert pv.in_range(min=1).check(10**100) == ()
    with pytest.raises(ValueError, match="greater than"):
        pv.in_range(2, 1)


def test_one_of() -> None:
    r = pv.one_of({"a", "b"})
    assert r.check("a") == ()
    assert messages(r, "c") == ["'c' is not one of 'a', 'b'"]
    assert messages(r, ["unhashable"]) == ["['unhashable'] is not one of 'a', 'b'"]
    assert messages(r, pv.MISSING) == ["required value is missing"]
    lists = pv.one_of([[1], [2]])  # unhashable choices
    assert lists.check([2]) == ()
    assert lists.check([3])
    many = pv.one_of(range(20))
    assert messages(many, 99)[0].endswith(", ...")
    with pytest.raises(ValueError, match="at least one"):
        pv.one_of([])


def test_of_type() -> None:
    r = pv.of_type(int)
    assert r.check(3) == ()
    assert messages(r, True) == ["expected int, got bool"]
    assert messages(r, "3") == ["expected int, got str"]
    assert messages(r, pv.MISSING) == ["expected int, got <missing>"]
    assert pv.of_type(bool).check(True) == ()
    assert pv.of_type(int, bool).check(False) == ()
    assert pv.of_type(object).check(True) == ()
    assert messages(pv.of_type(int, float), None) == ["expected int or float, got NoneType"]
    with pytest.raises(ValueError, match="at least one"):
        pv.of_type()


def test_predicate() -> None:
    r = pv.predicate("even", lambda v: v % 2 == 0, "must be even")  # type: ignore[operator]
    assert r.name == "even"
    assert r.check(4) == ()
    assert messages(r, 3) == ["must be even, got 3"]
    assert messages(r, "x") == [
        "must be even (TypeError: not all arguments converted during string formatting)"
    ]
    assert messages(r, pv.MISSING) == ["required value is missing"]


def test_optional() -> None:
    r = pv.optional(pv.in_range(0, 1))
    assert r.check(pv.MISSING) == ()
    assert r.check(None) == ()
    assert r.check(1) == ()
    assert messages(r, 2) == ["2 is above the maximum 1"]


def test_each() -> None:
    r = pv.each(pv.length(1, 3))
    assert r.check(["a", "abc"]) == ()
    assert r.check(()) == ()
    failures = r.check(["ok", "", "toolong"])
    assert [(f.path, f.message) for f in failures] == [
        ("[1]", "length 0 is below the minimum 1"),
        ("[2]", "length 7 is above the maximum 3"),
    ]
    assert messages(r, "abc") == ["expected a list, got str"]
    assert messages(r, pv.MISSING) == ["required value is missing"]
    nested = pv.each(pv.each(pv.in_range(0, 1)))
    assert [f.path for f in nested.check([[0, 5], [7]])] == ["[0][1]", "[1][0]"]


def test_all_of_reports_every_failure() -> None:
    r = pv.all_of(pv.non_empty(), pv.pattern(r"[a-z]+"), pv.length(3, 5))
    assert r.check("abcd") == ()
    assert [f.rule for f in r.check("")] == ["non_empty", "pattern", "length"]
    assert [f.rule for f in r.check("AB")] == ["pattern", "length"]
    assert pv.all_of().check("anything") == ()


def test_any_of() -> None:
    r = pv.any_of(pv.of_type(int), pv.pattern(r"\d+"))
    assert r.check(5) == ()
    assert r.check("55") == ()
    (failure,) = r.check("x")
    assert failure.rule == "any_of"
    assert "expected int, got str" in failure.message
    assert "does not match" in failure.message
    with pytest.raises(ValueError, match="at least one"):
        pv.any_of()


def test_rules_satisfy_the_protocol() -> None:
    rules = [
        pv.non_empty(),
        pv.pattern("x"),
        pv.length(1),
        pv.max_size(1),
        pv.in_range(0),
        pv.one_of([1]),
        pv.of_type(int),
        pv.predicate("p", bool, "m"),
        pv.all_of(),
        pv.any_of(pv.non_empty()),
        pv.optional(pv.non_empty()),
        pv.each(pv.non_empty()),
    ]
    for r in rules:
        assert isinstance(r, pv.PreValidationRule)
        assert repr(r) == f"<rule {r.name}>"


class _Custom:
    """A third-party rule: just the protocol, not the base class."""

    name = "custom"

    def check(self, value: object) -> list[pv.Failure]:
        return [] if value == "ok" else [pv.Failure("custom", "not ok", ".inner")]


def test_custom_rules_compose() -> None:
    assert isinstance(_Custom(), pv.PreValidationRule)
    r = pv.all_of(_Custom(), pv.non_empty())
    assert r.check("ok") == ()
    assert [(f.rule, f.path) for f in r.check("")] == [("custom", ".inner"), ("non_empty", "")]


def test_missing_sentinel_cannot_be_instantiated() -> None:
    with pytest.raises(TypeError):
        pv.MISSING()


# --------------------------------------------------------------------------- validate
RULES: pv.RulesByField = {
    "name": pv.all_of(pv.non_empty(), pv.length(max=8), pv.pattern(r"[a-z]+")),
    "kind": pv.one_of({"instrument", "operator", "control"}),
    "retries": pv.optional(pv.in_range(0, 10)),
    "tags": [pv.length(max=3), pv.each(pv.non_empty())],
    "owner.email": pv.pattern(r"[^@\s]+@[^@\s]+"),
}

GOOD = {
    "name": "summary",
    "kind": "operator",
    "tags": ["a", "b"],
    "owner": {"email": "x@y.z"},
}


def test_validate_passes() -> None:
    pv.validate(GOOD, RULES)  # no exception
    assert pv.collect_failures(GOOD, RULES) == []
    pv.validate({**GOOD, "retries": 3}, RULES)


def test_validate_reports_every_failure_with_field_paths() -> None:
    bad = {
        "name": "Bad Name!!",
        "kind": "widget",
        "retries": 11,
        "tags": ["a", "", "c", ""],
        "owner": {"email": "nope"},
    }
    with pytest.raises(PreValidationError) as info:
        pv.validate(bad, RULES)
    err = info.value
    assert isinstance(err, ValidationError)
    assert isinstance(err, ValueError)
    assert err.failures == [
        ("name", "length 10 is above the maximum 8"),
        ("name", "'Bad Name!!' does not match /[a-z]+/"),
        ("kind", "'widget' is not one of 'control', 'instrument', 'operator'"),
        ("retries", "11 is above the maximum 10"),
        ("tags", "length 4 is above the maximum 3"),
        ("tags[1]", "must not be empty, got ''"),
        ("tags[3]", "must not be empty, got ''"),
        ("owner.email", "'nope' does not match /[^@\\s]+@[^@\\s]+/"),
    ]
    assert str(err).startswith("8 pre-validation failures: name: length 10")
    assert "owner.email: 'nope'" in str(err)
    assert err.category == "pre-validation"


def test_validate_missing_fields() -> None:
    with pytest.raises(PreValidationError) as info:
        pv.validate({}, RULES)
    fields = [f for f, _ in info.value.failures]
    assert "retries" not in fields  # optional
    assert fields[-1] == "owner.email"
    assert ("owner.email", "required value is missing") in info.value.failures
    with pytest.raises(PreValidationError, match=r"^1 pre-validation failure: owner\.email"):
        pv.validate({**GOOD, "owner": 5}, RULES)


def test_validate_objects_by_attribute() -> None:
    @dataclass
    class Owner:
        email: str

    @dataclass
    class Node:
        name: str
        kind: str
        tags: list[str]
        owner: Owner
        retries: int | None = None

    pv.validate(Node("abc", "control", [], Owner("a@b")), RULES)
    with pytest.raises(PreValidationError) as info:
        pv.validate(Node("abc", "control", [], Owner("ab")), RULES)
    assert [f for f, _ in info.value.failures] == ["owner.email"]


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-100, 100),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.binary(max_size=12),
    st.lists(st.text(max_size=4), max_size=5),
)


@given(st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), _values))
def test_validate_reports_every_failure_property(record: dict[str, object]) -> None:
    """collect_failures == the union of each rule's own failures, field by field, in order."""
    rules_by_field: dict[str, pv.PreValidationRule | list[pv.PreValidationRule]] = {
        "a": pv.all_of(pv.non_empty(), pv.length(max=3), pv.pattern(r"[a-z]*")),
        "b": [pv.in_range(0, 10), pv.of_type(int)],
        "c": pv.optional(pv.each(pv.max_size(2))),
        "d": pv.any_of(pv.one_of([None, True]), pv.of_type(bytes)),
    }
    expected: list[tuple[str, str]] = []
    for field, rules in rules_by_field.items():
        value = record.get(field, pv.MISSING)
        for rule in rules if isinstance(rules, list) else [rules]:
            expected += [(field + f.path, f.message) for f in rule.check(value)]
    assert pv.collect_failures(record, rules_by_field) == expected
    if expected:
        with pytest.raises(PreValidationError) as info:
            pv.validate(record, rules_by_field)
        assert info.value.failures == expected
        assert str(info.value).startswith(f"{len(expected)} pre-validation failure")
    else:
        pv.validate(record, rules_by_field)


@given(_values)
def test_rules_never_raise(value: object) -> None:
    for r in [
        pv.non_empty(strip=True),
        pv.pattern("x"),
        pv.length(1, 2),
        pv.max_size(3),
        pv.in_range(0, 1),
        pv.one_of(["x"]),
        pv.of_type(str),
        pv.each(pv.non_empty()),
        pv.any_of(pv.non_empty(), pv.in_range(0)),
    ]:
        for f in r.check(value):
            assert isinstance(f, pv.Failure)
            assert f.message


# --------------------------------------------------------------------------- Validator
_EVERY_RULE: pv.RulesByField = {
    "a": pv.all_of(pv.non_empty(), pv.length(max=3), pv.pattern(r"[a-z]*")),
    "b": [pv.in_range(0, 10), pv.of_type(int)],
    "c": pv.optional(pv.each(pv.max_size(2))),
    "d": pv.any_of(pv.one_of([None, True]), pv.of_type(bytes)),
    "e": (pv.non_empty(strip=True), pv.max_size(8)),
    "f": pv.each(pv.each(pv.in_range(min=0))),
    "g": pv.one_of([[1], [2]]),
    "h": pv.length(min=1),
    "i": pv.in_range(max=1.5),
    "j": pv.optional(pv.any_of(pv.of_type(object), pv.predicate("p", bool, "falsy"))),
    "k": _Custom(),
    "l.m": pv.optional(pv.in_range(0, 1)),
    "l.n.o": pv.optional(pv.pattern("x", full=False)),
    "p": pv.optional(pv.all_of()),
    "q": pv.optional(pv.length()),
    "r": pv.optional(pv.in_range()),
    "s": pv.optional(pv.of_type(int, float)),
}

_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet="ab xé€", max_size=6),
    st.binary(max_size=4),
    st.just(pv.MISSING),
)
_value = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(st.sampled_from(["m", "n", "o"]), inner, max_size=3),
    ),
    max_leaves=8,
)
_record = st.dictionaries(st.sampled_from(list("abcdefghijklmnopqrs")), _value, max_size=19)


def _drop_missing(record: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in record.items() if v is not pv.MISSING}


@given(_record)
def test_validator_agrees_with_collect_failures(record: dict[str, object]) -> None:
    record = _drop_missing(record)
    validator = pv.Validator(_EVERY_RULE)
    expected = pv.collect_failures(record, _EVERY_RULE)
    assert validator.failures(record) == expected
    assert validator.passes(record) is (not expected)
    if expected:
        with pytest.raises(PreValidationError) as info:
            validator.validate(record)
        assert info.value.failures == expected
    else:
        validator.validate(record)


@given(_record)
def test_validator_fast_path_accepts_exactly_the_passing_records(
    record: dict[str, object],
) -> None:
    """The generated code alone (no fallback) must never accept a failing record."""
    record = _drop_missing(record)
    validator = pv.Validator(_EVERY_RULE)
    fast = validator._fast(record)
    if fast:
        assert pv.collect_failures(record, _EVERY_RULE) == []


_GOOD_FOR_EVERY_RULE: dict[str, object] = {
    "a": "ab",
    "b": 3,
    "d": b"x",
    "e": " x ",
    "f": [[0, 1], []],
    "g": [1],
    "h": "x",
    "i": 1.0,
    "k": "ok",
    "l": {"m": 1, "n": {"o": "axb"}},
}

# Mostly-good records: each field keeps its good value or takes an arbitrary one, so the
# generated code is exercised on records that pass everything but one or two fields.
_mostly_good = st.fixed_dictionaries(
    {k: st.one_of(st.just(v), _value) for k, v in _GOOD_FOR_EVERY_RULE.items()},
    optional={k: _value for k in "cjpqrs"},
)


@given(_mostly_good)
def test_validator_fast_path_on_mostly_good_records(record: dict[str, object]) -> None:
    record = _drop_missing(record)
    validator = pv.Validator(_EVERY_RULE)
    expected = pv.collect_failures(record, _EVERY_RULE)
    assert validator._fast(record) is (not expected)  # exact on these value types
    assert validator.failures(record) == expected


def test_validator_fast_path_is_taken_for_a_good_record() -> None:
    good = {
        "a": "ab",
        "b": 3,
        "d": b"x",
        "e": " x ",
        "f": [[0, 1], []],
        "g": [1],
        "h": "x",
        "i": 1.0,
        "k": "ok",
        "l": {"m": 1, "n": {"o": "axb"}},
    }
    validator = pv.Validator(_EVERY_RULE)
    assert validator._fast(good) is True
    assert validator.failures(good) == []
    assert pv.collect_failures(good, _EVERY_RULE) == []


def test_validator_on_the_example_rules_and_objects() -> None:
    validator = pv.Validator(RULES)
    validator.validate(GOOD)
    assert validator._fast(GOOD) is True
    with pytest.raises(PreValidationError) as info:
        validator.validate({**GOOD, "kind": "x", "tags": ["", "a"]})
    assert info.value.failures == [
        ("kind", "'x' is not one of 'control', 'instrument', 'operator'"),
        ("tags[0]", "must not be empty, got ''"),
    ]

    @dataclass
    class Obj:
        name: str = "abc"
        kind: str = "control"
        tags: tuple[str, ...] = ()
        owner: object = None

    assert validator.failures(Obj()) == [("owner.email", "required value is missing")]


def test_validator_copies_its_rules() -> None:
    rules: dict[str, pv.PreValidationRule | list[pv.PreValidationRule]] = {"x": [pv.non_empty()]}
    validator = pv.Validator(rules)
    rules["y"] = pv.non_empty()
    assert isinstance(rules["x"], list)
    rules["x"].append(pv.length(max=0))
    assert validator.failures({"x": "a"}) == []
