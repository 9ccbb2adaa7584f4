"""Port types and predicates."""

from __future__ import annotations

import pickle

import pytest
from _wf_strategies import json_scalars, paths, predicates
from hypothesis import given
from hypothesis import strategies as st

from symphony.workflow.predicates import (
    All,
    AnyOf,
    Compare,
    Const,
    Not,
    PredicateError,
    evaluate,
    format_predicate,
    parse_predicate,
    predicate_from_data,
    predicate_to_data,
)
from symphony.workflow.types import PortType, PortTypeError, is_compatible, parse_type


@pytest.mark.parametrize(
    ("text", "shown"),
    [("int", "int"), (" list[ str ] ", "list[str]"), ("list", "list[any]"), ("file", "path"),
     ("list[list[Document]]", "list[list[Document]]"), ("my.Type", "my.Type")],
)
def test_parse_type(text: str, shown: str) -> None:
    t = parse_type(text)
    assert str(t) == shown
    assert t is parse_type(shown)  # interned
    assert pickle.loads(pickle.dumps(t)) is t


@pytest.mark.parametrize("bad", ["", "list[", "1abc", "list[int", "a b", "x-y"])
def test_parse_type_errors_name_the_text(bad: str) -> None:
    with pytest.raises(PortTypeError) as info:
        parse_type(bad)
    assert "port type" in str(info.value)


def test_parse_type_rejects_non_strings() -> None:
    with pytest.raises(PortTypeError):
        parse_type(3)  # type: ignore[arg-type]


def test_port_type_is_immutable() -> None:
    with pytest.raises(AttributeError):
        parse_type("int").name = "str"  # type: ignore[misc]
    assert PortType("int") is parse_type("int")


COMPAT = [
    ("int", "int", True), ("int", "float", True), ("float", "int", False),
    ("bool", "int", False), ("str", "text", True), ("text", "str", True),
    ("str", "path", True), ("path", "text", True), ("bytes", "str", False),
    ("any", "int", True), ("int", "any", True), ("dict", "json", True),
    ("json", "dict", False), ("list[int]", "json", True), ("list[bytes]", "json", False),
    ("list[int]", "list[float]", True), ("list[float]", "list[int]", False),
    ("Document", "Document", True), ("Document", "Image", False), ("Document", "any", True),
    ("list[Document]", "list[any]", True), ("str", "list[str]", False),
]


@pytest.mark.parametrize(("s", "t", "ok"), COMPAT)
def test_compatibility_table(s: str, t: str, ok: bool) -> None:
    assert is_compatible(parse_type(s), parse_type(t)) is ok


SCOPE = {"count": 12, "lang": "py", "files": ["a.py", "README.md"], "ok": True,
         "stats": {"total": 1500, "by": [3, 4]}, "empty": "", "flag": False}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("count > 10", True), ("count >= 13", False), ("lang == 'py'", True),
        ('lang != "py"', False), ("stats.total >= 1000", True), ("stats.by.1 == 4", True),
        ("stats.by.7 == 4", False), ("files contains \"README.md\"", True),
        ("lang in ['c', 'py']", True), ("lang matches '^p'", True), ("exists missing", False),
        ("exists stats.total", True), ("ok", True), ("empty", False), ("not ok", False),
        ("count > 10 and not (lang == 'py' or lang in ['c'])", False),
        ("count < 5 or ok and flag == false", True), ("true", True), ("false", False),
        ("missing == null", False), ("flag == 0", False), ("count == 12.0", True),
        ("lang < 3", False), ("count > -1e3", True),
    ],
)
def test_expressions(expr: str, expected: bool) -> None:
    pred = parse_predicate(expr)
    assert evaluate(pred, SCOPE) is expected
    assert evaluate(predicate_from_data(predicate_to_data(pred)), SCOPE) is expected


@pytest.mark.parametrize(
    "bad", ["", "count >", "count > > 1", "(count > 1", "count ~ 1", "and", "x matches '('",
            "x == 'unterminated", "x in [1, 2", "count > 1 extra"],
)
def test_bad_expressions_say_where(bad: str) -> None:
    with pytest.raises(PredicateError):
        parse_predicate(bad)


@pytest.mark.parametrize(
    "bad", [3, None, [], {"op": "zz", "path": "a"}, {"op": "eq"}, {"all": 3},
            {"op": "eq", "path": 3}, {"not": {"x": 1}}, {"op": "matches", "path": "a", "value": 1}],
)
def test_bad_structured_predicates_name_the_path(bad: object) -> None:
    with pytest.raises(PredicateError) as info:
        predicate_from_data(bad, "edges[2].predicate")
    assert "edges[2].predicate" in str(info.value)


@given(predicates)
def test_structured_round_trip(pred: object) -> None:
    assert predicate_from_data(predicate_to_data(pred)) == pred  # type: ignore[arg-type]


@given(predicates, st.dictionaries(st.sampled_from(["a", "b", "c"]), json_scalars))
def test_formatted_expression_means_the_same(pred: object, scope: dict[str, object]) -> None:
    # The expression form cannot spell every value (objects), but what it prints re-parses
    # to a predicate with the same truth value on any scope.
    text = format_predicate(pred)  # type: ignore[arg-type]
    again = parse_predicate(text)
    assert evaluate(again, scope) == evaluate(pred, scope)  # type: ignore[arg-type]


@given(paths, json_scalars)
def test_evaluate_never_raises_on_data(path: str, value: object) -> None:
    for op in ("eq", "ne", "lt", "le", "gt", "ge", "in", "contains", "exists", "truthy"):
        evaluate(Compare(op, path, value), {"a": value, "b": [value], "c": {"d": value}})  # type: ignore[arg-type]


def test_logic_nodes() -> None:
    t, f = Const(True), Const(False)
    assert evaluate(All(()), {}) and not evaluate(AnyOf(()), {})
    assert evaluate(Not(f), {}) and not evaluate(All((t, f)), {}) and evaluate(AnyOf((f, t)), {})
    with pytest.raises(PredicateError):
        evaluate("x", {})  # type: ignore[arg-type]
