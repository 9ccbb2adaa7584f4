"""Message registry: O(1) lookup by (type, version), evolution rules, clear errors."""

from __future__ import annotations

import pytest

from symphony.commons.errors import (
    IncompatibleSchema,
    LocalProtocolError,
    MessageValidationError,
    NotFoundError,
    UnknownMessageType,
)
from symphony.protocol.envelope import Message
from symphony.protocol.registry import MessageRegistry, compatibility_problems
from symphony.protocol.schema import Array, Field, Integer, MessageSchema, String

V1 = MessageSchema(
    "doc.save", 1, [Field("path", String(min_length=1)), Field("force", Integer(), required=False)]
)
V2 = MessageSchema(
    "doc.save",
    2,
    [
        Field("path", String(min_length=1)),
        Field("force", Integer(), required=False),
        Field("encoding", String(), required=False, default="utf-8"),
        Field("tags", Array(String()), required=False),
    ],
)


def registry() -> MessageRegistry:
    return MessageRegistry([V1, V2])


def test_lookup() -> None:
    r = registry()
    assert r.get("doc.save", 1) is V1 and r.get("doc.save", 2) is V2
    assert r.latest("doc.save") is V2
    assert r.versions("doc.save") == [1, 2] and r.list_types() == ["doc.save"]
    assert ("doc.save", 2) in r and ("doc.save", 3) not in r and [1] not in r
    assert len(r) == 2 and r.find("doc.save", 9) is None and r.find([], 1) is None  # type: ignore[arg-type]


def test_unknown_type_or_version_is_clear() -> None:
    r = registry()
    with pytest.raises(
        UnknownMessageType, match=r"'doc.save' v3 \(registered versions: \[1, 2\]\)"
    ):
        r.get("doc.save", 3)
    with pytest.raises(UnknownMessageType, match="no such type") as info:
        r.get("nope", 1)
    assert isinstance(info.value, NotFoundError)
    with pytest.raises(UnknownMessageType):
        r.latest("nope")
    with pytest.raises(UnknownMessageType):
        r.validate(Message.new("nope", {}))


def test_validate_messages() -> None:
    r = registry()
    r.validate(Message.new("doc.save", {"path": "a"}, version=1))
    with pytest.raises(MessageValidationError) as info:
        r.validate(Message.new("doc.save", {"path": "", "tags": [1]}, version=2))
    assert [p for p, _ in info.value.violations] == ["/payload/path", "/payload/tags/0"]
    assert r.violations(Message.new("doc.save", {"path": "x"}, version=2)) == []


def test_old_payloads_valid_under_new_version_and_upgrade() -> None:
    r = registry()
    old = {"path": "a.txt", "force": 1}
    assert V1.is_valid(old) and V2.is_valid(old)
    assert r.upgrade("doc.save", old, 1) == {"path": "a.txt", "force": 1, "encoding": "utf-8"}
    assert r.upgrade("doc.save", old, 1, 1) == old
    with pytest.raises(LocalProtocolError):
        r.upgrade("doc.save", old, 2, 1)


def test_duplicate_registration() -> None:
    r = registry()
    with pytest.raises(LocalProtocolError, match="already registered"):
        r.register(V1)


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ([Field("force", Integer(), required=False)], "removed"),
        ([Field("path", Integer()), Field("force", Integer(), required=False)], "changed type"),
        ([Field("path", String()), Field("force", Integer())], "became required"),
        (
            [
                Field("path", String()),
                Field("force", Integer(), required=False),
                Field("new", String()),
            ],
            "no default",
        ),
    ],
)
def test_incompatible_evolution_refused(fields: list[Field], needle: str) -> None:
    r = MessageRegistry([V1])
    bad = MessageSchema("doc.save", 2, fields)
    with pytest.raises(IncompatibleSchema, match=needle):
        r.register(bad)
    r.register(bad, check_compatible=False)
    assert r.latest("doc.save") is bad


def test_compatibility_rules_more() -> None:
    a = MessageSchema("t", 1, [Field("x", String(), nullable=True)], additional=True)
    b = MessageSchema("t", 2, [Field("x", String())])
    problems = compatibility_problems(a, b)
    assert any("nullable" in p for p in problems) and any("unknown fields" in p for p in problems)
    c = MessageSchema("t", 2, [Field("x", Array(Integer()), nullable=True)], additional=True)
    assert compatibility_problems(a, c) == ["field 'x' changed type string -> array<integer>"]
