"""Pretty printer: verbose (optionally coloured) and compact one-line forms."""

from __future__ import annotations

import datetime as dt

from symphony.protocol.envelope import Kind, Message, MessageId, Priority
from symphony.protocol.jsonrpc import ErrorObject, ErrorResponse, Notification, Request, Response
from symphony.protocol.pretty import compact, pretty

MID = MessageId.from_bytes(bytes(range(16)))
MSG = Message.new(
    "editor.insert",
    {
        "view_id": "v1",
        "chars": "line1\nline2",
        "n": [1, 2],
        "raw": b"\x00\x01",
        "when": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "long": "x" * 200,
    },
    kind=Kind.REQUEST,
    source="core",
    target="editor",
    id=MID,
    timestamp=1_700_000_000_000_000_000,
    priority=Priority.HIGH,
    ttl_ms=50,
    metadata={"trace": "t"},
)


def test_pretty_envelope_plain() -> None:
    text = pretty(MSG, color=False)
    lines = text.splitlines()
    assert lines[0] == "Message request editor.insert v1"
    assert "  id: 00010203-0405-0607-0809-0a0b0c0d0e0f" in lines
    assert "  priority: high" in lines and "  ttl_ms: 50" in lines
    assert any("2023-11-14T22:13:20+00:00" in ln for ln in lines)
    assert "    view_id: 'v1'" in lines and "<2 bytes 0001>" in text
    assert "\x1b[" not in text


def test_pretty_colour_only_when_asked() -> None:
    coloured = pretty(MSG, color=True)
    assert "\x1b[36m" in coloured and "\x1b[0m" in coloured
    assert "\x1b[" not in pretty(MSG, color=False)


def test_compact_envelope_is_one_bounded_line() -> None:
    line = compact(MSG)
    assert "\n" not in line
    assert line.startswith(
        "request editor.insert v1 id=00010203-0405-0607-0809-0a0b0c0d0e0f core->editor"
    )
    assert "prio=high" in line and "ttl=50ms" in line and line.endswith("meta={trace: 't'}")
    assert "…" in line  # the 200-char value was shortened
    reply = MSG.reply({"ok": True})
    assert f"re={MID}" in compact(reply)


def test_jsonrpc_forms() -> None:
    req = Request(1, "subtract", [42, 23])
    assert compact(req) == "call subtract id=1 params=[42, 23]"
    assert compact(Notification("update", None)) == "notify update params=None"
    assert compact(Response(1, 19)) == "result id=1 19"
    err = ErrorResponse(None, ErrorObject(-32700, "Parse error"))
    assert compact(err) == "error id=None {code: -32700, message: 'Parse error'}"
    assert pretty(err, color=False).splitlines()[0] == "JSON-RPC error -32700 Parse error"
    assert pretty(req, color=False).splitlines()[0] == "JSON-RPC request subtract"
    raw = b'[{"jsonrpc":"2.0","method":"a","id":1},{"jsonrpc":"2.0","method":"b"}]'
    assert compact(raw) == "batch[2]: call a id=1 params=None | notify b params=None"
    assert pretty(raw, color=False).splitlines()[0] == "JSON-RPC batch of 2"
    assert "unparsable" in compact(b"{nope")
    assert compact(ErrorObject(-32601, "Method not found")) == "error -32601 Method not found"
    assert compact(b"7") == "jsonrpc ? 7"


def test_deep_values_do_not_explode() -> None:
    deep: object = "leaf"
    for _ in range(500):
        deep = [deep]
    msg = Message.new("t", deep)
    assert "…" in pretty(msg, color=False) and "…" in compact(msg)
