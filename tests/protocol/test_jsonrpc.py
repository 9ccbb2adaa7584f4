"""JSON-RPC 2.0: the specification's own examples, correlation, batches, hostile input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from symphony.commons.errors import (
    JsonRpcError,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
)
from symphony.protocol.framing import EOF, NEED_DATA
from symphony.protocol.jsonrpc import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    Call,
    Dispatcher,
    ErrorObject,
    ErrorResponse,
    JsonRpcClient,
    JsonRpcConnection,
    JsonRpcServer,
    Notification,
    Request,
    Response,
)

from .strategies import json_values


def spec_dispatcher() -> Dispatcher:
    rpc = Dispatcher()

    @rpc.method
    def subtract(minuend: int, subtrahend: int) -> int:
        return minuend - subtrahend

    rpc.add("sum", lambda *xs: sum(xs))
    rpc.add("update", lambda *xs: None)
    rpc.add("notify_hello", lambda *xs: None)
    rpc.add("notify_sum", lambda *xs: sum(xs))
    rpc.add("get_data", lambda: ["hello", 5])
    return rpc


# The examples section of https://www.jsonrpc.org/specification, verbatim ("-->" / "<--").
SPEC_EXAMPLES: list[tuple[str, str, Any]] = [
    (
        "positional 1",
        '{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}',
        {"jsonrpc": "2.0", "result": 19, "id": 1},
    ),
    (
        "positional 2",
        '{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}',
        {"jsonrpc": "2.0", "result": -19, "id": 2},
    ),
    (
        "named 1",
        '{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}',  # noqa: E501 - verbatim from the spec
        {"jsonrpc": "2.0", "result": 19, "id": 3},
    ),
    (
        "named 2",
        '{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}',  # noqa: E501 - verbatim from the spec
        {"jsonrpc": "2.0", "result": 19, "id": 4},
    ),
    ("notification 1", '{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}', None),
    ("notification 2", '{"jsonrpc": "2.0", "method": "foobar"}', None),
    (
        "non-existent method",
        '{"jsonrpc": "2.0", "method": "foobar", "id": "1"}',
        {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"},
    ),
    (
        "invalid JSON",
        '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]',
        {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None},
    ),
    (
        "invalid Request object",
        '{"jsonrpc": "2.0", "method": 1, "params": "bar"}',
        {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None},
    ),
    (
        "batch, invalid JSON",
        '[\n  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},\n  {"jsonrpc": "2.0", "method"\n]',  # noqa: E501 - verbatim from the spec
        {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None},
    ),
    (
        "empty array",
        "[]",
        {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None},
    ),
    (
        "invalid batch (but not empty)",
        "[1]",
        [{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None}],
    ),
    (
        "invalid batch",
        "[1,2,3]",
        [{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None}]
        * 3,
    ),
    (
        "batch",
        """[
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
    ]""",
        [
            {"jsonrpc": "2.0", "result": 7, "id": "1"},
            {"jsonrpc": "2.0", "result": 19, "id": "2"},
            {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None},
            {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "5"},
            {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"},
        ],
    ),
    (
        "batch, all notifications",
        '[\n  {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},\n'
        '  {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}\n]',
        None,
    ),
]


def _canon(x: Any) -> Any:
    if isinstance(x, list):  # "The Response objects being returned from a batch call MAY be
        return sorted(json.dumps(i, sort_keys=True) for i in x)  # returned in any order"
    return x


def test_there_are_fifteen_examples() -> None:
    assert len(SPEC_EXAMPLES) == 15


@pytest.mark.parametrize(
    ("name", "request_text", "expected"), SPEC_EXAMPLES, ids=[e[0] for e in SPEC_EXAMPLES]
)
def test_spec_example(name: str, request_text: str, expected: Any) -> None:
    reply = spec_dispatcher().handle(request_text)
    if expected is None:
        assert reply is None
        return
    assert reply is not None
    got = json.loads(reply)
    assert type(got) is type(expected)
    assert _canon(got) == _canon(expected)


@pytest.mark.parametrize(
    ("name", "request_text", "expected"), SPEC_EXAMPLES, ids=[e[0] for e in SPEC_EXAMPLES]
)
def test_spec_example_over_a_line_stream(name: str, request_text: str, expected: Any) -> None:
    """The same through the sans-I/O server with newline framing (one line per message)."""
    server = JsonRpcServer(framing="line", accept_responses=False)
    rpc = spec_dispatcher()
    server.receive_data(request_text.replace("\n", " ").encode() + b"\n")
    out = b""
    while (ev := server.next_event()) is not NEED_DATA:
        if isinstance(ev, Request):
            ok, value = rpc._call(ev.method, ev.params)
            out += (
                server.send_result(ev.id, value)
                if ok
                else server.send_error(ev.id, value.code, value.message)
            )
    out += server.data_to_send()
    if expected is None:
        assert out == b""
    else:
        assert out.endswith(b"\n") and out.count(b"\n") == 1
        assert _canon(json.loads(out)) == _canon(expected)


# --------------------------------------------------------------------------- dispatcher
def test_invalid_params_and_internal_errors() -> None:
    rpc = spec_dispatcher()

    @rpc.method
    def boom() -> None:
        raise RuntimeError("kaput")

    @rpc.method
    def refuse(x: int) -> None:
        raise JsonRpcError("nope", error_code=-32001, data={"x": x})

    @rpc.method
    def weird() -> object:
        return object()

    def call(text: str) -> Any:
        out = rpc.handle(text)
        assert out is not None
        return json.loads(out)

    r = call('{"jsonrpc":"2.0","method":"subtract","params":[1],"id":1}')
    assert r["error"]["code"] == INVALID_PARAMS and "at least 2" in r["error"]["data"]
    r = call('{"jsonrpc":"2.0","method":"subtract","params":{"minuend":1,"x":2},"id":1}')
    assert r["error"]["code"] == INVALID_PARAMS
    r = call('{"jsonrpc":"2.0","method":"subtract","params":[1,2,3],"id":1}')
    assert r["error"]["code"] == INVALID_PARAMS and "at most 2" in r["error"]["data"]
    r = call('{"jsonrpc":"2.0","method":"subtract","id":1}')
    assert r["error"]["code"] == INVALID_PARAMS
    r = call('{"jsonrpc":"2.0","method":"boom","id":1}')
    assert r["error"] == {
        "code": INTERNAL_ERROR,
        "message": "Internal error",
        "data": "RuntimeError: kaput",
    }
    r = call('{"jsonrpc":"2.0","method":"refuse","params":[3],"id":"a"}')
    assert r == {
        "jsonrpc": "2.0",
        "error": {"code": -32001, "message": "nope", "data": {"x": 3}},
        "id": "a",
    }
    r = call('{"jsonrpc":"2.0","method":"weird","id":2}')
    assert r["error"]["code"] == INTERNAL_ERROR
    assert rpc.handle('{"jsonrpc":"2.0","method":"boom"}') is None  # notifications: never answered
    with pytest.raises(LocalProtocolError):
        rpc.add("rpc.discover", lambda: None)


@pytest.mark.parametrize(
    "text",
    [
        '{"jsonrpc":"1.0","method":"sum","id":1}',
        '{"method":"sum","id":1}',
        '{"jsonrpc":"2.0","method":"sum","params":3,"id":1}',
        '{"jsonrpc":"2.0","method":"sum","params":null,"id":1}',
        '{"jsonrpc":"2.0","method":"sum","id":[1]}',
        '{"jsonrpc":"2.0","method":"sum","id":true}',
        '{"jsonrpc":"2.0","result":1,"id":1}',
        '"just a string"',
        "42",
    ],
)
def test_invalid_requests(text: str) -> None:
    reply = spec_dispatcher().handle(text)
    assert reply is not None
    r = json.loads(reply)
    assert r["error"] == {"code": -32600, "message": "Invalid Request"}
    if '"id":1' in text and "result" not in text:
        assert r["id"] == 1  # the id is echoed when it could be read
    elif "result" not in text:
        assert r["id"] is None


# --------------------------------------------------------------------------- connections
def pair(framing: str = "line") -> tuple[JsonRpcConnection, JsonRpcConnection]:
    return JsonRpcClient(framing=framing), JsonRpcServer(framing=framing)  # type: ignore[arg-type]


def pump(src_bytes: bytes, dst: JsonRpcConnection) -> list[Any]:
    dst.receive_data(src_bytes)
    out = []
    while True:
        ev = dst.next_event()
        if ev is NEED_DATA or ev is EOF:
            return out
        out.append(ev)


@pytest.mark.parametrize("framing", ["line", "length"])
def test_request_response_correlation(framing: str) -> None:
    client, server = pair(framing)
    id1, d1 = client.send_request("subtract", [42, 23])
    id2, d2 = client.send_request("subtract", {"minuend": 1, "subtrahend": 2}, id="x")
    assert (id1, id2) == (1, "x") and client.pending_requests == 2
    evs = pump(d1 + d2, server)
    assert evs == [
        Request(1, "subtract", [42, 23]),
        Request("x", "subtract", {"minuend": 1, "subtrahend": 2}),
    ]
    assert server.unanswered_requests == 2
    back = server.send_error("x", -32000, "busy") + server.send_result(1, 19)
    got = pump(back, client)
    assert got == [ErrorResponse("x", ErrorObject(-32000, "busy")), Response(1, 19)]
    assert client.pending_requests == 0 and server.unanswered_requests == 0
    with pytest.raises(LocalProtocolError):
        server.send_result(1, 19)  # already answered
    with pytest.raises(RemoteProtocolError, match="never sent"):
        pump(back, client)  # answers again: the client refuses


def test_notifications_both_ways() -> None:
    client, server = pair()
    evs = pump(client.send_notification("update", (1, 2)), server)
    assert evs == [Notification("update", [1, 2])]
    evs = pump(server.send_notification("editor.buffer_changed", {"rev": 3}), client)
    assert evs == [Notification("editor.buffer_changed", {"rev": 3})]
    assert server.data_to_send() == b"" and client.data_to_send() == b""


def test_batch_from_client_answered_as_one_array() -> None:
    client, server = pair()
    ids, data = client.send_batch(
        [Call("a", [1]), Call("log", ["x"], notification=True), Call("b")]
    )
    assert ids == [1, 2]
    evs = pump(data, server)
    assert [type(e) for e in evs] == [Request, Notification, Request]
    assert server.send_result(2, "B") == b""  # held until the batch is complete
    whole = server.send_result(1, "A")
    assert whole.endswith(b"\n") and isinstance(json.loads(whole), list)
    assert sorted(pump(whole, client), key=lambda r: r.id) == [Response(1, "A"), Response(2, "B")]


def test_batch_with_invalid_members_and_pending_requests() -> None:
    server = JsonRpcServer(framing="none")
    server.receive_message('[{"jsonrpc":"2.0","method":"a","id":1}, 5]')
    assert server.next_event() == Request(1, "a", None)
    assert server.data_to_send() == b""  # the error waits for the batch
    out = json.loads(server.send_result(1, True))
    assert {
        "jsonrpc": "2.0",
        "error": {"code": -32600, "message": "Invalid Request"},
        "id": None,
    } in out
    assert {"jsonrpc": "2.0", "result": True, "id": 1} in out


def test_duplicate_ids_in_flight() -> None:
    server = JsonRpcServer(framing="none")
    server.receive_message('{"jsonrpc":"2.0","method":"a","id":7}')
    server.receive_message('[{"jsonrpc":"2.0","method":"b","id":7}]')
    assert server.next_event() == Request(7, "a", None)
    assert server.next_event() == Request(7, "b", None)
    assert json.loads(server.send_result(7, "first")) == {
        "jsonrpc": "2.0",
        "result": "first",
        "id": 7,
    }
    assert json.loads(server.send_result(7, "second")) == [
        {"jsonrpc": "2.0", "result": "second", "id": 7}
    ]


def test_client_side_errors() -> None:
    client = JsonRpcClient(framing="none")
    with pytest.raises(LocalProtocolError):
        client.send_request("m", "not params")  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        client.send_request(3, [])  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        client.send_request("rpc.x")
    with pytest.raises(LocalProtocolError):
        client.send_request("m", id=[1])  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        client.send_batch([])
    client.send_request("m", id=5)
    with pytest.raises(LocalProtocolError, match="already awaiting"):
        client.send_request("m", id=5)
    with pytest.raises(LocalProtocolError):
        client.send_request("m", [object()])
    with pytest.raises(LocalProtocolError, match="framing"):
        client.receive_data(b"x")
    client.cancel_request(5)
    client.receive_message('{"jsonrpc":"2.0","result":1,"id":5}')
    with pytest.raises(RemoteProtocolError):
        client.next_event()


@pytest.mark.parametrize(
    "text",
    [
        '{"jsonrpc":"2.0","result":1,"error":{"code":1,"message":"x"},"id":1}',
        '{"jsonrpc":"2.0","error":{"code":"x","message":"x"},"id":1}',
        '{"jsonrpc":"2.0","error":5,"id":1}',
        '{"result":1,"id":1}',
        '{"jsonrpc":"2.0","result":1}',
        '[{"jsonrpc":"2.0","result":1}]',
    ],
)
def test_malformed_responses(text: str) -> None:
    client = JsonRpcClient(framing="none")
    client.send_request("m")
    client.receive_message(text)
    with pytest.raises(RemoteProtocolError):
        client.next_event()


def test_error_response_with_null_id() -> None:
    client = JsonRpcClient(framing="none")
    client.receive_message(
        '{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}'
    )
    assert client.next_event() == ErrorResponse(None, ErrorObject(-32700, "Parse error"))


def test_bad_framing_name_and_max_frame() -> None:
    with pytest.raises(LocalProtocolError):
        JsonRpcConnection(framing="xml")  # type: ignore[arg-type]
    c = JsonRpcConnection(framing="line", max_frame=50)
    with pytest.raises(LocalProtocolError):
        c.send_request("m", ["x" * 100])
    c2 = JsonRpcConnection(framing="none", max_batch=2)
    c2.receive_message("[1,2,3]")
    assert c2.next_event() is NEED_DATA
    assert json.loads(c2.data_to_send())["error"]["code"] == -32600


def test_eof() -> None:
    server = JsonRpcServer()
    server.receive_data(b"")
    assert server.next_event() is EOF


@given(params=json_values, result=json_values)
def test_values_survive_the_round_trip(params: Any, result: Any) -> None:
    client, server = pair()
    p = params if isinstance(params, (list, dict)) else [params]
    rid, data = client.send_request("echo", p)
    (ev,) = pump(data, server)
    assert ev == Request(rid, "echo", p)
    (resp,) = pump(server.send_result(rid, result), client)
    assert resp == Response(rid, result)


# --------------------------------------------------------------------------- hostile input
@given(st.lists(st.binary(max_size=80), max_size=6))
def test_fuzz_server_bytes(chunks: list[bytes]) -> None:
    server = JsonRpcServer(framing="line", max_frame=200)
    try:
        for c in chunks:
            server.receive_data(c)
            while server.next_event() not in (NEED_DATA, EOF):
                pass
    except ProtocolError:
        pass
    for line in server.data_to_send().splitlines():
        assert json.loads(line)  # every automatic reply is valid JSON


@given(st.text(max_size=200))
def test_fuzz_text_messages(text: str) -> None:
    rpc = spec_dispatcher()
    try:
        out = rpc.handle(text)
    except ProtocolError:
        return
    if out is not None:
        json.loads(out)


@given(
    st.recursive(
        json_values,
        lambda c: (
            st.fixed_dictionaries(
                {},
                optional={
                    "jsonrpc": st.sampled_from(["2.0", "1.0", 2]),
                    "method": st.sampled_from(["sum", 1, "x"]),
                    "params": c,
                    "id": c,
                    "result": c,
                    "error": c,
                },
            )
            | st.lists(c, max_size=3)
        ),
        max_leaves=6,
    )
)
def test_fuzz_structured(obj: Any) -> None:
    conn = JsonRpcConnection(framing="none")
    try:
        conn.receive_message(json.dumps(obj))
        while conn.next_event() is not NEED_DATA:
            pass
    except ProtocolError:
        pass
