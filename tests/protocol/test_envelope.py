"""The envelope: construction, builder, equality, repr, header checks."""

from __future__ import annotations

import pickle
import subprocess
import sys
import time

import pytest

from symphony.commons.errors import LocalProtocolError
from symphony.protocol.envelope import (
    FIELDS,
    PROTOCOL_VERSION,
    Kind,
    Message,
    MessageBuilder,
    MessageId,
    Priority,
    header_problem,
    new_id,
)


def test_new_fills_header() -> None:
    before = time.time_ns()
    m = Message.new("editor.insert", {"a": 1}, kind=Kind.REQUEST, source="core", target="ed")
    assert m.protocol_version == PROTOCOL_VERSION
    assert isinstance(m.id, MessageId) and len(m.id.bytes) == 16
    assert m.correlation_id is None
    assert m.kind is Kind.REQUEST and m.type == "editor.insert" and m.version == 1
    assert (m.source, m.target) == ("core", "ed")
    assert before <= m.timestamp <= time.time_ns()
    assert m.ttl_ms is None and m.priority is Priority.NORMAL
    assert m.payload == {"a": 1} and m.metadata == {}
    assert len(m) == len(FIELDS) == 13


def test_kind_and_priority_are_enums_even_from_ints() -> None:
    m = Message.new("t", kind=3, priority=2)
    assert m.kind is Kind.ERROR and m.priority is Priority.HIGH
    assert [p.value for p in Priority] == [0, 1, 2, 3]
    assert [k.name for k in Kind] == ["REQUEST", "RESPONSE", "EVENT", "ERROR", "HEARTBEAT"]


def test_ids_are_unique_and_printable() -> None:
    ids = {new_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    mid = new_id()
    assert MessageId.from_hex(str(mid)) == mid
    assert repr(mid) == f"MessageId('{mid}')"
    with pytest.raises(LocalProtocolError):
        MessageId.from_bytes(b"short")
    with pytest.raises(LocalProtocolError):
        MessageId.from_hex("zz")


def test_ids_differ_in_forked_child() -> None:
    code = (
        "import os, sys\n"
        "from symphony.protocol.envelope import new_id\n"
        "a = new_id()\n"
        "r, w = os.pipe()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os.write(w, new_id().bytes); os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "child = os.read(r, 16)\n"
        "mine = new_id().bytes\n"
        "print(child[:8] != mine[:8])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_equality_and_hash() -> None:
    a = Message.new("t", [1, 2], id=new_id(), timestamp=5)
    b = Message(tuple(a))
    assert a == b
    assert (a != b) is False
    assert a != a.replace(payload=[1, 3])
    assert a != tuple(a)  # a Message only equals a Message
    with pytest.raises(TypeError):
        hash(a)


def test_repr_names_fields() -> None:
    m = Message.new(
        "editor.save", {"view_id": "v1"}, id=MessageId.from_bytes(bytes(16)), timestamp=1
    )
    r = repr(m)
    assert r.startswith(
        "Message(protocol_version=1, id=MessageId('00000000-0000-0000-0000-000000000000')"
    )
    assert "type='editor.save'" in r and "payload={'view_id': 'v1'}" in r


def test_builder() -> None:
    req = (
        MessageBuilder("editor.insert")
        .request()
        .source("core")
        .target("editor")
        .payload({"chars": "x"})
        .priority(Priority.CRITICAL)
        .ttl_ms(100)
        .version(2)
        .meta("trace", "t1")
        .build()
    )
    assert req.kind is Kind.REQUEST and req.priority is Priority.CRITICAL
    assert req.ttl_ms == 100 and req.version == 2 and req.metadata == {"trace": "t1"}
    resp = MessageBuilder("editor.insert").response_to(req).build()
    assert resp.kind is Kind.RESPONSE and resp.correlation_id == req.id
    err = MessageBuilder("x").error_to(req.id).build()
    assert err.kind is Kind.ERROR and err.correlation_id == req.id
    hb = MessageBuilder("hb").heartbeat().timestamp(7).id(req.id).build()
    assert hb.kind is Kind.HEARTBEAT and hb.timestamp == 7 and hb.id == req.id
    assert MessageBuilder("e").event().metadata({"a": 1}).build().metadata == {"a": 1}


def test_reply_swaps_endpoints_and_correlates() -> None:
    req = Message.new("q", 1, kind=Kind.REQUEST, source="a", target="b", version=3)
    resp = req.reply({"ok": True})
    assert (resp.source, resp.target) == ("b", "a")
    assert resp.correlation_id == req.id and resp.kind is Kind.RESPONSE and resp.version == 3


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("kind", 9, "kind"),
        ("kind", True, "kind"),
        ("priority", 4, "priority"),
        ("version", -1, "version"),
        ("timestamp", -5, "timestamp"),
        ("ttl_ms", 1.5, "ttl_ms"),
        ("type", 3, "type"),
        ("source", None, "source"),
        ("target", b"x", "target"),
        ("metadata", {1: 2}, "metadata"),
        ("id", b"x" * 16, "id"),
        ("correlation_id", "abc", "correlation_id"),
        ("protocol_version", 2, "protocol_version"),
    ],
)
def test_bad_header_fields_are_named(field: str, value: object, needle: str) -> None:
    m = Message.new("t")
    with pytest.raises(LocalProtocolError, match=needle):
        m.replace(**{field: value})


def test_header_problem_wrong_length() -> None:
    assert header_problem((1, 2)) == "expected 13 fields, got 2"
    with pytest.raises(LocalProtocolError, match="no field"):
        Message.new("t").replace(nope=1)


def test_expired() -> None:
    m = Message.new("t", ttl_ms=10, timestamp=1_000_000_000)
    assert not m.expired(1_000_000_000 + 10_000_000)
    assert m.expired(1_000_000_000 + 10_000_001)
    assert not Message.new("t").expired()


def test_header_and_as_dict_and_pickle() -> None:
    m = Message.new("t", [1], metadata={"k": "v"})
    assert set(m.header) == set(FIELDS[:11])
    d = m.as_dict()
    assert d["payload"] == [1] and d["metadata"] == {"k": "v"} and d["kind"] is Kind.EVENT
    assert pickle.loads(pickle.dumps(m)) == m
