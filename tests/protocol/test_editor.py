"""Editor operations and events: typed, validated, through both codecs and JSON-RPC."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from symphony.commons.errors import MessageValidationError, ProtocolError, UnknownMessageType
from symphony.protocol import editor as E
from symphony.protocol.codecs import CODEC_NAMES, get_codec
from symphony.protocol.envelope import Kind
from symphony.protocol.jsonrpc import JsonRpcConnection, Notification, Request

P = E.Position(3, 7)
SAMPLES: list[E.EditorMessage] = [
    E.NewView(),
    E.NewView("src/a.py"),
    E.Open("src/a.py"),
    E.CloseView("view-1"),
    E.Insert("view-1", "héllo\n"),
    E.Delete("view-1", 2, 5),
    E.Save("view-1"),
    E.Save("view-1", "/tmp/b.py"),
    E.MoveCursor("view-1", P),
    E.SetSelection("view-1", E.Selection(E.Position(0, 0), P)),
    E.FileChanged("src/a.py", "new content"),
    E.BufferSync("view-1", 12),
    E.BufferChanged("view-1", "text", 13),
    E.CursorMoved("view-1", P),
    E.FileModified("src/a.py"),
    E.ViewClosed("view-1"),
]


def test_every_operation_and_event_is_covered() -> None:
    names = {type(s).__name__ for s in SAMPLES}
    assert names == {c.__name__ for c in E.EDITOR_OPERATIONS + E.EDITOR_EVENTS}
    assert len(E.EDITOR_OPERATIONS) == 10 and len(E.EDITOR_EVENTS) == 4
    assert all(c.KIND is Kind.REQUEST for c in E.EDITOR_OPERATIONS)
    assert all(c.KIND is Kind.EVENT for c in E.EDITOR_EVENTS)
    assert len(E.EDITOR_REGISTRY) == 14


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("codec_name", CODEC_NAMES)
def test_round_trip_through_envelope_and_codec(sample: E.EditorMessage, codec_name: str) -> None:
    codec = get_codec(codec_name)
    msg = sample.to_message(source="core", target="editor")
    back = codec.decode(codec.encode(msg))
    E.EDITOR_REGISTRY.validate(back)
    assert E.parse_message(back) == sample
    assert back.kind is sample.KIND


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: type(s).__name__)
def test_round_trip_over_jsonrpc(sample: E.EditorMessage) -> None:
    core, editor = JsonRpcConnection(), JsonRpcConnection()
    if sample.KIND is Kind.REQUEST:
        _, data = core.send_request(sample.TYPE, sample.to_payload())
        editor.receive_data(data)
        ev = editor.next_event()
        assert isinstance(ev, Request)
    else:
        editor_out = editor.send_notification(sample.TYPE, sample.to_payload())
        core.receive_data(editor_out)
        ev = core.next_event()
        assert isinstance(ev, Notification)
    assert E.parse(ev.method, ev.params) == sample


@pytest.mark.parametrize(
    ("type_", "payload", "paths"),
    [
        ("editor.insert", {"view_id": "", "chars": 3}, ["/view_id", "/view_id", "/chars"]),
        ("editor.insert", {"view_id": "view 1", "chars": "x"}, ["/view_id"]),
        ("editor.delete", {"view_id": "v", "start": -1}, ["/start", "/end"]),
        ("editor.delete", {"view_id": "v", "start": 5, "end": 2}, ["/end"]),
        ("editor.move_cursor", {"view_id": "v", "position": {"line": 1}}, ["/position/column"]),
        (
            "editor.set_selection",
            {"view_id": "v", "selection": {"anchor": {"line": 0, "column": 0}}},
            ["/selection/active"],
        ),
        ("editor.open", {"path": "a\x00b"}, ["/path"]),
        ("editor.buffer_changed", {"view_id": "v", "content": "x", "revision": -1}, ["/revision"]),
        ("editor.view_closed", {"view_id": "v", "extra": 1}, ["/extra"]),
        ("editor.new_view", [], [""]),
    ],
)
def test_validation_reports_every_problem(type_: str, payload: Any, paths: list[str]) -> None:
    with pytest.raises(MessageValidationError) as info:
        E.parse(type_, payload)
    assert [p for p, _ in info.value.violations] == paths


def test_unknown_editor_message() -> None:
    with pytest.raises(UnknownMessageType):
        E.parse("editor.fly", {})
    with pytest.raises(UnknownMessageType):
        E.parse("editor.insert", {}, version=9)


@given(
    type_=st.sampled_from(sorted(E.EDITOR_REGISTRY.list_types())),
    payload=st.dictionaries(
        st.sampled_from(
            [
                "view_id",
                "path",
                "chars",
                "start",
                "end",
                "revision",
                "position",
                "selection",
                "content",
                "file_path",
            ]
        ),
        st.one_of(
            st.text(max_size=5),
            st.integers(-3, 3),
            st.none(),
            st.fixed_dictionaries({"line": st.integers(-1, 2)}),
        ),
    ),
)
def test_fuzz_parse(type_: str, payload: dict[str, Any]) -> None:
    try:
        msg = E.parse(type_, payload)
    except ProtocolError:
        return
    assert E.parse(type_, msg.to_payload()) == msg
