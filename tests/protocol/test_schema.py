"""Schemas: every constraint, every violation with its path, agreement with JSON Schema."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from symphony.commons.errors import LocalProtocolError, MessageValidationError, ProtocolError
from symphony.protocol.schema import (
    AnyValue,
    Array,
    Boolean,
    Field,
    Float,
    Integer,
    MessageSchema,
    Null,
    Object,
    String,
    validate,
)

from .strategies import values

POS = Object((Field("line", Integer(minimum=0)), Field("column", Integer(minimum=0))))
SCHEMA = MessageSchema(
    "editor.insert",
    1,
    [
        Field("view_id", String(min_length=1, max_length=16, pattern=r"^view-[0-9]+$")),
        Field("chars", String(max_length=10)),
        Field("mode", String(enum=["insert", "overwrite"]), required=False),
        Field("revision", Integer(minimum=0, maximum=1000), required=False, default=0),
        Field("weight", Float(minimum=0.0, maximum=1.0), required=False),
        Field("flags", Array(Boolean(), max_items=3), required=False),
        Field("range", Array(Integer(minimum=0), min_items=2, max_items=2), required=False),
        Field("cursor", POS, required=False),
        Field("note", String(), required=False, nullable=True),
        Field("extra", AnyValue(), required=False),
        Field("nothing", Null(), required=False),
        Field("level", Integer(enum=[1, 2, 3]), required=False),
    ],
)
VALID = {"view_id": "view-1", "chars": "abc"}


def test_valid_payloads() -> None:
    assert SCHEMA.violations(VALID) == []
    full = dict(
        VALID,
        mode="insert",
        revision=5,
        weight=0.5,
        flags=[True],
        range=[1, 2],
        cursor={"line": 0, "column": 3},
        note=None,
        extra=[{"x": object()}],
        nothing=None,
        level=2,
    )
    assert SCHEMA.is_valid(full)
    SCHEMA.validate(full)
    validate(SCHEMA, full)


def test_every_violation_with_its_path() -> None:
    bad = {
        "view_id": "",
        "chars": 5,
        "mode": "replace",
        "revision": 1001,
        "weight": -0.5,
        "flags": [True, 1, False, True],
        "range": [1, -1, 3],
        "cursor": {"line": "x"},
        "note": 3,
        "level": 4,
        "bogus": 1,
    }
    got = SCHEMA.violations(bad)
    paths = [p for p, _ in got]
    assert paths == [
        "/view_id",
        "/view_id",
        "/chars",
        "/mode",
        "/revision",
        "/weight",
        "/flags",
        "/flags/1",
        "/range",
        "/range/1",
        "/cursor/line",
        "/cursor/column",
        "/note",
        "/level",
        "/bogus",
    ]
    msgs = dict(got)
    assert "min_length 1" in got[0][1] and "does not match" in got[1][1]
    assert msgs["/chars"] == "expected string, got integer 5"
    assert "not one of" in msgs["/mode"] and "> maximum 1000" in msgs["/revision"]
    assert msgs["/cursor/column"] == "required field is missing"
    assert msgs["/bogus"] == "unknown field"
    with pytest.raises(MessageValidationError) as info:
        SCHEMA.validate(bad)
    assert info.value.violations == got
    assert "15 violation(s)" in str(info.value) and "(+10 more)" in str(info.value)
    assert isinstance(info.value, ProtocolError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([], [("", "expected object, got array []")]),
        ({"chars": "a"}, [("/view_id", "required field is missing")]),
        (
            {"view_id": "view-1", "chars": "a", "revision": True},
            [("/revision", "expected integer, got boolean True")],
        ),
        ({"view_id": "view-1", "chars": "a", "weight": 1}, []),  # an int is a JSON number
        ({"view_id": "view-1", "chars": "a", "weight": float("nan")}, None),
        (
            {"view_id": "view-1", "chars": "a", "flags": "no"},
            [("/flags", "expected array, got string 'no'")],
        ),
        ({"view_id": "view-1", "chars": "a", "flags": (True,)}, []),
    ],
)
def test_single_cases(value: Any, expected: list[tuple[str, str]] | None) -> None:
    got = SCHEMA.violations(value)
    if expected is None:
        assert [p for p, _ in got] == ["/weight", "/weight"]
    else:
        assert got == expected


def test_pointer_escaping() -> None:
    s = MessageSchema("t", 1, [Field("a/b", Object((Field("c~d", Integer()),)))])
    assert s.violations({"a/b": {"c~d": "x"}}) == [
        ("/a~1b/c~0d", "expected integer, got string 'x'")
    ]


def test_defaults_and_nested_defaults() -> None:
    inner = Object((Field("x", Integer(), required=False, default=7),))
    s = MessageSchema("t", 1, [Field("n", Integer(), default=1), Field("o", inner)])
    assert s.violations({"o": {}}) == []  # a field with a default need not be present
    assert s.apply_defaults({"o": {}}) == {"n": 1, "o": {"x": 7}}


def test_schema_definition_errors() -> None:
    with pytest.raises(LocalProtocolError, match="pattern"):
        MessageSchema("t", 1, [Field("a", String(pattern="("))])
    with pytest.raises(LocalProtocolError, match="duplicate"):
        MessageSchema("t", 1, [Field("a", String()), Field("a", Integer())])
    with pytest.raises(LocalProtocolError):
        MessageSchema("", 1, [])
    with pytest.raises(LocalProtocolError):
        MessageSchema("t", -1, [])
    assert repr(SCHEMA) == "MessageSchema('editor.insert', 1, 12 fields)"


def test_additional_allowed() -> None:
    s = MessageSchema("t", 1, [Field("a", Integer())], additional=True)
    assert s.is_valid({"a": 1, "b": 2})


# --------------------------------------------------------------------------- properties
@given(values)
def test_any_value_gives_a_list_never_an_exception(value: Any) -> None:
    got = SCHEMA.violations(value)
    assert isinstance(got, list)
    assert (got == []) == SCHEMA.is_valid(value)
    for path, msg in got:
        assert isinstance(path, str) and msg


@given(st.text())
def test_text_input(text: str) -> None:
    got = SCHEMA.violations(text)
    assert len(got) == 1 and got[0][0] == ""
    assert got[0][1].startswith("expected object, got string")


JSONISH = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-5, 1005),
        st.sampled_from([0.5, -0.5, 1.5]),
        st.sampled_from(
            ["", "view-1", "view-x", "insert", "abc", "a" * 12, "view-123456789012345"]
        ),
    ),
    lambda c: st.one_of(
        st.lists(c, max_size=4),
        st.dictionaries(st.sampled_from(["line", "column", "x"]), c, max_size=3),
    ),
    max_leaves=8,
)

payloads = st.fixed_dictionaries(
    {"view_id": JSONISH, "chars": JSONISH},
    optional={
        "mode": JSONISH,
        "revision": JSONISH,
        "weight": JSONISH,
        "flags": JSONISH,
        "range": JSONISH,
        "cursor": JSONISH,
        "note": JSONISH,
        "level": JSONISH,
        "bogus": JSONISH,
    },
)
_JS = jsonschema.Draft202012Validator(SCHEMA.to_json_schema())


@given(payloads)
def test_agrees_with_jsonschema(payload: dict[str, Any]) -> None:
    ours = SCHEMA.violations(payload)
    theirs = list(_JS.iter_errors(payload))
    assert (ours == []) == (theirs == []), (ours, [e.message for e in theirs])

    # every path jsonschema reports, we report too
    def ptr(e: jsonschema.ValidationError) -> str:
        return "".join(f"/{p}" for p in e.absolute_path)

    ours_paths = {p for p, _ in ours}
    for e in theirs:
        if e.validator == "additionalProperties":
            continue  # jsonschema reports it at the object; we name each unknown key
        assert (
            ptr(e) in ours_paths
            or any(p.startswith(ptr(e) + "/") for p in ours_paths)
            or ptr(e) == ""
        )
