"""JSON-RPC 2.0 (https://www.jsonrpc.org/specification), sans-I/O.

:class:`JsonRpcConnection` is one end of a JSON-RPC stream. It parses what the peer sends
into events and turns what we send into bytes; it never does I/O (h11's shape). Either end
may call the other (the editor answers the core's calls *and* sends it event notifications,
as LSP peers do), so one class does both; :class:`JsonRpcClient` and :class:`JsonRpcServer`
are the same class under the names the two roles expect.

Driving it::

    conn = JsonRpcConnection(framing="line")          # NDJSON on stdio
    rid, data = conn.send_request("subtract", [42, 23])
    await stream.send_all(data)
    while True:
        ev = conn.next_event()
        if ev is NEED_DATA:
            conn.receive_data(await stream.receive_some(65536))
        elif ev is EOF:
            break
        elif isinstance(ev, Request):
            await stream.send_all(conn.send_result(ev.id, handle(ev)))
        ...
        if out := conn.data_to_send():                # replies the connection made itself
            await stream.send_all(out)

Events: :class:`Request`, :class:`Notification` (calls from the peer), :class:`Response`,
:class:`ErrorResponse` (answers to our calls, correlated by id: an answer to an id we did not
send raises :class:`~symphony.commons.errors.RemoteProtocolError`).

Conformance rules the connection applies by itself (Rule 1 of this module: every reply the
specification requires without the application's involvement is produced here, in
:meth:`JsonRpcConnection.data_to_send`, never by the caller):

================================================  =========================================
input                                             reply
================================================  =========================================
not JSON                                          -32700 Parse error, id null
JSON but not an object or array                   -32600 Invalid Request, id null
object that is not a valid Request                -32600 Invalid Request, its id if readable
``[]``                                            one -32600 error (not an array)
batch                                             one array: an error object for each
                                                  invalid member, a response for each
                                                  request once answered; nothing at all if
                                                  it held only notifications
================================================  =========================================

Answering requests: :meth:`~JsonRpcConnection.send_result` and
:meth:`~JsonRpcConnection.send_error` return the bytes to write; for a member of a batch
they return ``b""`` until the last request of that batch is answered, then the whole array.

:class:`Dispatcher` is a synchronous method table on top (parse → bind params → call →
reply), with the standard error codes: -32601 Method not found, -32602 Invalid params (the
params do not bind to the handler's signature), -32603 Internal error (the handler raised),
and whatever :class:`~symphony.commons.errors.JsonRpcError` a handler raises.
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from symphony.commons.errors import (
    JsonRpcError,
    LocalProtocolError,
    RemoteProtocolError,
)
from symphony.protocol import _json
from symphony.protocol.framing import (
    DEFAULT_MAX_FRAME,
    EOF,
    NEED_DATA,
    FrameDecoder,
    LineDecoder,
    encode_frame,
)

__all__ = [
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "SERVER_ERROR_MAX",
    "SERVER_ERROR_MIN",
    "STANDARD_MESSAGES",
    "Call",
    "Dispatcher",
    "ErrorObject",
    "ErrorResponse",
    "Event",
    "JsonRpcClient",
    "JsonRpcConnection",
    "JsonRpcServer",
    "Notification",
    "Params",
    "Request",
    "RequestId",
    "Response",
]

PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
INVALID_PARAMS: Final = -32602
INTERNAL_ERROR: Final = -32603
SERVER_ERROR_MIN: Final = -32099
"""Implementation-defined server errors are -32099 .. -32000."""
SERVER_ERROR_MAX: Final = -32000

STANDARD_MESSAGES: Final = {
    PARSE_ERROR: "Parse error",
    INVALID_REQUEST: "Invalid Request",
    METHOD_NOT_FOUND: "Method not found",
    INVALID_PARAMS: "Invalid params",
    INTERNAL_ERROR: "Internal error",
}

RequestId = str | int | float | None
Params = list[Any] | dict[str, Any]


@dataclass(frozen=True, slots=True)
class ErrorObject:
    """The ``error`` member of an error response."""

    code: int
    message: str
    data: Any = None
    """Extra information; omitted from the wire when ``None``."""

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            d["data"] = self.data
        return d

    @classmethod
    def standard(cls, code: int, data: Any = None) -> ErrorObject:
        """One of the five predefined errors, with its standard message."""
        return cls(code, STANDARD_MESSAGES[code], data)


@dataclass(frozen=True, slots=True)
class Request:
    """A call from the peer that expects an answer (send_result / send_error)."""

    id: RequestId
    method: str
    params: Params | None = None


@dataclass(frozen=True, slots=True)
class Notification:
    """A call from the peer that must not be answered."""

    method: str
    params: Params | None = None


@dataclass(frozen=True, slots=True)
class Response:
    """The successful answer to one of our requests."""

    id: RequestId
    result: Any


@dataclass(frozen=True, slots=True)
class ErrorResponse:
    """The error answer to one of our requests (``id`` is None when the peer could not read
    the id of what we sent)."""

    id: RequestId
    error: ErrorObject


Event = Request | Notification | Response | ErrorResponse


@dataclass(frozen=True, slots=True)
class Call:
    """One member of a batch we send (:meth:`JsonRpcConnection.send_batch`)."""

    method: str
    params: Params | None = None
    notification: bool = False


def _id_key(rid: RequestId) -> tuple[bool, RequestId]:
    # str "1" and int 1 are different ids; int 1 and float 1.0 compare equal (JSON numbers)
    return (type(rid) is str, rid)


def _valid_id(rid: Any) -> bool:
    t = type(rid)
    return t is str or t is int or rid is None or t is float


def _error_body(rid: RequestId, error: ErrorObject) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "error": error.to_json(), "id": rid}


class _Batch:
    __slots__ = ("pending", "results")

    def __init__(self) -> None:
        self.results: list[dict[str, Any]] = []
        self.pending = 0


Framing = Literal["line", "length", "none"]


class JsonRpcConnection:
    """One end of a JSON-RPC 2.0 stream (both roles; see the module docstring).

    Args:
        framing: ``"line"`` (newline-delimited JSON), ``"length"`` (u32-LE prefix) or
            ``"none"`` (feed whole messages with :meth:`receive_message`; sends return bare
            JSON texts).
        max_frame: largest message accepted (and sent).
        max_batch: largest batch accepted; a larger one is refused with one -32600 error.
        accept_responses: treat objects with "result"/"error" as answers to our requests
            (default). A pure server that never calls the peer sets it False, and such
            objects are then answered -32600 Invalid Request like any other non-Request.
    """

    def __init__(
        self,
        *,
        framing: Framing = "line",
        max_frame: int = DEFAULT_MAX_FRAME,
        max_batch: int = 10_000,
        accept_responses: bool = True,
    ) -> None:
        self.accept_responses = accept_responses
        if framing == "line":
            self._framer: LineDecoder | FrameDecoder | None = LineDecoder(max_frame)
        elif framing == "length":
            self._framer = FrameDecoder(max_frame)
        elif framing == "none":
            self._framer = None
        else:
            raise LocalProtocolError(f"unknown framing {framing!r} (line, length or none)")
        self.framing: Framing = framing
        self.max_frame = max_frame
        self.max_batch = max_batch
        self._events: deque[Event] = deque()
        self._raw: deque[bytes | bytearray | memoryview | str] = deque()
        self._out: list[bytes] = []
        self._sent: dict[tuple[bool, RequestId], str] = {}
        """Requests we sent and await an answer to: id key -> method."""
        self._received: dict[tuple[bool, RequestId], deque[_Batch | None]] = {}
        """Requests the peer sent that we must answer: id key -> the batch (or None)."""
        self._next_id = 1

    # ------------------------------------------------------------------ framing
    def _frame(self, body: bytes) -> bytes:
        if len(body) > self.max_frame:
            raise LocalProtocolError(
                f"JSON-RPC message of {len(body)} bytes exceeds max_frame={self.max_frame}"
            )
        if self.framing == "line":
            return body + b"\n"  # compact JSON never contains a raw newline
        if self.framing == "length":
            return encode_frame(body, self.max_frame)
        return body

    def _dumps(self, value: Any) -> bytes:
        try:
            return _json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise LocalProtocolError(f"value has no JSON form: {exc}") from exc

    # ------------------------------------------------------------------ receiving
    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Feed bytes from the stream (``b""`` = end of stream).

        Raises:
            LocalProtocolError: with ``framing="none"`` (use :meth:`receive_message`).
        """
        if self._framer is None:
            raise LocalProtocolError("receive_data() needs framing; use receive_message()")
        self._framer.receive_data(data)

    def receive_message(self, body: bytes | bytearray | memoryview | str) -> None:
        """Feed one complete JSON text (already framed by the transport); it is parsed by
        the next :meth:`next_event` call (which raises any error)."""
        self._raw.append(body)

    def next_event(self) -> Event | type[NEED_DATA] | type[EOF]:
        """The next event, :class:`NEED_DATA` or :class:`EOF`.

        Raises:
            RemoteProtocolError: the peer sent an answer to an id we never sent, a malformed
                response, or broke the framing (FrameTooLarge, InvalidFrame).
        """
        events = self._events
        while not events:
            if self._raw:
                self._process(self._raw.popleft())
                continue
            if self._framer is None:
                return NEED_DATA
            frame = self._framer.next_frame()
            if frame is NEED_DATA or frame is EOF:
                return frame
            self._process(frame)  # type: ignore[arg-type]
        return events.popleft()

    def data_to_send(self) -> bytes:
        """Replies the connection generated itself (errors for malformed input, batch arrays
        completed by them); write them to the peer. Drains the buffer."""
        if not self._out:
            return b""
        out = b"".join(self._out)
        self._out.clear()
        return out

    @property
    def pending_requests(self) -> int:
        """Our requests still awaiting an answer."""
        return len(self._sent)

    @property
    def unanswered_requests(self) -> int:
        """The peer's requests we have not answered yet."""
        return sum(len(q) for q in self._received.values())

    def _reply_now(self, rid: RequestId, error: ErrorObject) -> None:
        self._out.append(self._frame(self._dumps(_error_body(rid, error))))

    def _process(self, body: bytes | bytearray | memoryview | str) -> None:
        try:
            obj = _json.loads(body)
        except (ValueError, TypeError, RecursionError):
            self._reply_now(None, ErrorObject.standard(PARSE_ERROR))
            return
        t = type(obj)
        if t is dict:
            self._single(obj)
        elif t is list:
            self._batch(obj)
        else:
            self._reply_now(None, ErrorObject.standard(INVALID_REQUEST))

    def _single(self, obj: dict[str, Any]) -> None:
        if "method" in obj:
            ev = self._as_call(obj)
            if type(ev) is Request:
                key = _id_key(ev.id)
                q = self._received.get(key)
                if q is None:
                    self._received[key] = deque((None,))
                else:
                    q.append(None)
                self._events.append(ev)
            elif type(ev) is Notification:
                self._events.append(ev)
            else:
                rid, err = ev  # type: ignore[misc]
                self._reply_now(rid, err)
        elif self.accept_responses and ("result" in obj or "error" in obj):
            self._events.append(self._as_answer(obj))
        else:
            rid = obj.get("id")
            self._reply_now(rid if _valid_id(rid) else None, ErrorObject.standard(INVALID_REQUEST))

    def _batch(self, items: list[Any]) -> None:
        if not items:
            self._reply_now(None, ErrorObject.standard(INVALID_REQUEST))
            return
        if len(items) > self.max_batch:
            self._reply_now(
                None,
                ErrorObject.standard(
                    INVALID_REQUEST, f"batch of {len(items)} exceeds max_batch={self.max_batch}"
                ),
            )
            return
        batch = _Batch()
        events: list[Event] = []
        answers: list[Event] = []
        bad_answer: RemoteProtocolError | None = None
        for item in items:
            if type(item) is not dict:
                batch.results.append(_error_body(None, ErrorObject.standard(INVALID_REQUEST)))
                continue
            if "method" in item:
                ev = self._as_call(item)
                if type(ev) is Request:
                    batch.pending += 1
                    key = _id_key(ev.id)
                    q = self._received.get(key)
                    if q is None:
                        self._received[key] = deque((batch,))
                    else:
                        q.append(batch)
                    events.append(ev)
                elif type(ev) is Notification:
                    events.append(ev)
                else:
                    rid, err = ev  # type: ignore[misc]
                    batch.results.append(_error_body(rid, err))
            elif self.accept_responses and ("result" in item or "error" in item):
                try:
                    answers.append(self._as_answer(item))
                except RemoteProtocolError as exc:
                    bad_answer = bad_answer or exc
            else:
                rid = item.get("id")
                batch.results.append(
                    _error_body(
                        rid if _valid_id(rid) else None, ErrorObject.standard(INVALID_REQUEST)
                    )
                )
        self._events.extend(answers)
        self._events.extend(events)
        if batch.pending == 0 and batch.results:
            self._out.append(self._frame(self._dumps(batch.results)))
        if bad_answer is not None:
            raise bad_answer  # everything else in the batch is queued first

    def _as_call(self, obj: dict[str, Any]) -> Event | tuple[RequestId, ErrorObject]:
        has_id = "id" in obj
        rid = obj.get("id")
        method = obj["method"]
        params = obj.get("params")
        pt = type(params)
        if (
            obj.get("jsonrpc") == "2.0"
            and type(obj.get("jsonrpc")) is str
            and type(method) is str
            and ((params is None and "params" not in obj) or pt is list or pt is dict)
        ):
            if not has_id:
                return Notification(method, params)
            if _valid_id(rid):
                return Request(rid, method, params)
        return (
            rid if has_id and _valid_id(rid) else None,
            ErrorObject.standard(INVALID_REQUEST),
        )

    def _as_answer(self, obj: dict[str, Any]) -> Response | ErrorResponse:
        if obj.get("jsonrpc") != "2.0" or type(obj.get("jsonrpc")) is not str:
            raise RemoteProtocolError(f'response without "jsonrpc": "2.0": {_short(obj)}')
        if "id" not in obj or not _valid_id(obj["id"]):
            raise RemoteProtocolError(f"response without a valid id: {_short(obj)}")
        rid = obj["id"]
        has_result = "result" in obj
        has_error = "error" in obj
        if has_result == has_error:
            raise RemoteProtocolError(
                f'a response has exactly one of "result" and "error": {_short(obj)}'
            )
        if has_error:
            err = obj["error"]
            if (
                type(err) is not dict
                or type(err.get("code")) is not int
                or type(err.get("message")) is not str
            ):
                raise RemoteProtocolError(f"malformed error object: {_short(err)}")
            error = ErrorObject(err["code"], err["message"], err.get("data"))
            if rid is None:
                return ErrorResponse(None, error)
            self._settle(rid)
            return ErrorResponse(rid, error)
        self._settle(rid)
        return Response(rid, obj["result"])

    def _settle(self, rid: RequestId) -> None:
        if self._sent.pop(_id_key(rid), None) is None:
            raise RemoteProtocolError(
                f"response to id {rid!r}, which we never sent (or answered twice)"
            )

    # ------------------------------------------------------------------ sending calls
    def _new_id(self, rid: RequestId) -> RequestId:
        if rid is None:
            rid = self._next_id
            self._next_id += 1
        elif not _valid_id(rid):
            raise LocalProtocolError(f"request id {rid!r} must be a str or a number")
        key = _id_key(rid)
        if key in self._sent:
            raise LocalProtocolError(f"request id {rid!r} is already awaiting an answer")
        return rid

    @staticmethod
    def _call_body(method: str, params: Any, rid: RequestId, notify: bool) -> dict[str, Any]:
        if type(method) is not str:
            raise LocalProtocolError(f"method must be a str, got {method!r}")
        if method.startswith("rpc."):
            raise LocalProtocolError(f"method names starting with 'rpc.' are reserved: {method!r}")
        body: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            if isinstance(params, tuple):
                params = list(params)
            elif not isinstance(params, (list, dict)):
                raise LocalProtocolError(
                    f"params must be a list (by position) or a dict (by name), got {params!r}"
                )
            body["params"] = params
        if not notify:
            body["id"] = rid
        return body

    def send_request(
        self, method: str, params: Params | tuple[Any, ...] | None = None, *, id: RequestId = None
    ) -> tuple[RequestId, bytes]:
        """A request; returns ``(id, bytes to write)``. The id is allocated unless given.

        Raises:
            LocalProtocolError: bad method, params or id, or the id is already pending.
        """
        rid = self._new_id(id)
        data = self._frame(self._dumps(self._call_body(method, params, rid, False)))
        self._sent[_id_key(rid)] = method
        return rid, data

    def send_notification(
        self, method: str, params: Params | tuple[Any, ...] | None = None
    ) -> bytes:
        """A notification (no answer will come); returns the bytes to write."""
        return self._frame(self._dumps(self._call_body(method, params, None, True)))

    def send_batch(self, calls: Sequence[Call]) -> tuple[list[RequestId], bytes]:
        """Several calls in one array; returns the ids of its requests and the bytes."""
        if not calls:
            raise LocalProtocolError("a batch needs at least one call")
        bodies = []
        ids: list[RequestId] = []
        for c in calls:
            if c.notification:
                bodies.append(self._call_body(c.method, c.params, None, True))
            else:
                rid = self._new_id(None)
                bodies.append(self._call_body(c.method, c.params, rid, False))
                ids.append(rid)
        data = self._frame(self._dumps(bodies))
        for c, rid in zip((c for c in calls if not c.notification), ids):
            self._sent[_id_key(rid)] = c.method
        return ids, data

    def cancel_request(self, rid: RequestId) -> None:
        """Forget a pending request (timed out): a late answer to it will be a protocol
        error."""
        self._sent.pop(_id_key(rid), None)

    # ------------------------------------------------------------------ answering calls
    def _answer(self, rid: RequestId, body: dict[str, Any]) -> bytes:
        key = _id_key(rid)
        q = self._received.get(key)
        if not q:
            raise LocalProtocolError(f"no request with id {rid!r} is awaiting an answer")
        data = self._dumps(body)  # before any bookkeeping: a bad result changes nothing
        batch = q.popleft()
        if not q:
            del self._received[key]
        if batch is None:
            return self._frame(data)
        batch.results.append(body)
        batch.pending -= 1
        if batch.pending:
            return b""
        return self._frame(self._dumps(batch.results))

    def send_result(self, rid: RequestId, result: Any) -> bytes:
        """Answer the peer's request ``rid`` with ``result``; returns the bytes to write
        (``b""`` while the rest of its batch is unanswered).

        Raises:
            LocalProtocolError: no such request awaits an answer, or ``result`` has no JSON
                form (nothing is recorded then: answer again with an error).
        """
        return self._answer(rid, {"jsonrpc": "2.0", "result": result, "id": rid})

    def send_error(
        self, rid: RequestId, code: int, message: str | None = None, data: Any = None
    ) -> bytes:
        """Answer the peer's request ``rid`` with an error (standard message if omitted)."""
        if type(code) is not int:
            raise LocalProtocolError(f"error code must be an int, got {code!r}")
        if message is None:
            message = STANDARD_MESSAGES.get(code, "Server error")
        return self._answer(rid, _error_body(rid, ErrorObject(code, message, data)))


JsonRpcClient = JsonRpcConnection
"""The calling side (Symphony's core to the editor); same class, both roles."""
JsonRpcServer = JsonRpcConnection
"""The answering side (the editor process); same class, both roles."""


_ABSENT: Final[Any] = object()


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 80 else r[:77] + "..."


# ---------------------------------------------------------------------- dispatcher
class _Binding:
    __slots__ = ("fn", "max_pos", "min_pos", "names", "required", "var_kw", "var_pos")

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            self.min_pos, self.max_pos, self.var_pos, self.var_kw = 0, 1 << 30, True, True
            self.names: frozenset[str] = frozenset()
            self.required: frozenset[str] = frozenset()
            return
        P = inspect.Parameter
        pos = [
            p
            for p in sig.parameters.values()
            if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)
        ]
        self.min_pos = sum(1 for p in pos if p.default is P.empty)
        self.max_pos = len(pos)
        self.var_pos = any(p.kind is P.VAR_POSITIONAL for p in sig.parameters.values())
        self.var_kw = any(p.kind is P.VAR_KEYWORD for p in sig.parameters.values())
        named = [
            p
            for p in sig.parameters.values()
            if p.kind in (P.POSITIONAL_OR_KEYWORD, P.KEYWORD_ONLY)
        ]
        self.names = frozenset(p.name for p in named)
        self.required = frozenset(p.name for p in named if p.default is P.empty) | frozenset(
            p.name
            for p in sig.parameters.values()
            if p.kind is P.POSITIONAL_ONLY and p.default is P.empty
        )

    def problem(self, params: Params | None) -> str | None:
        if params is None:
            if self.min_pos or self.required:
                return "params are required"
            return None
        if type(params) is list:
            n = len(params)
            if n < self.min_pos:
                return f"expected at least {self.min_pos} positional params, got {n}"
            if n > self.max_pos and not self.var_pos:
                return f"expected at most {self.max_pos} positional params, got {n}"
            return None
        keys = params.keys()  # type: ignore[union-attr]
        missing = self.required - keys
        if missing:
            return f"missing named params {sorted(missing)}"
        if not self.var_kw:
            unknown = keys - self.names
            if unknown:
                return f"unknown named params {sorted(unknown)}"
        return None


class Dispatcher:
    """A synchronous method table over a :class:`JsonRpcConnection` (``framing="none"``).

    ``handle(text)`` takes one complete JSON-RPC message (single or batch) and returns the
    reply to send, or ``None`` when none is due (notifications)::

        rpc = Dispatcher({"subtract": lambda minuend, subtrahend: minuend - subtrahend})
        rpc.handle(b'{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1}')
        # b'{"jsonrpc":"2.0","result":19,"id":1}'

    Params by position call ``fn(*params)``, by name ``fn(**params)``; params that do not
    bind to the signature are answered -32602 before the handler runs. A handler raising
    :class:`~symphony.commons.errors.JsonRpcError` is answered with that error; any other
    exception with -32603 Internal error (its type and message as ``data``).
    """

    def __init__(self, methods: Mapping[str, Callable[..., Any]] | None = None) -> None:
        self._methods: dict[str, _Binding] = {}
        self._conn = JsonRpcConnection(framing="none", accept_responses=False)
        for name, fn in (methods or {}).items():
            self.add(name, fn)

    def add(self, name: str, fn: Callable[..., Any]) -> None:
        """Register ``fn`` under ``name`` (not starting with ``rpc.``, which is reserved)."""
        if name.startswith("rpc."):
            raise LocalProtocolError(f"method names starting with 'rpc.' are reserved: {name!r}")
        self._methods[name] = _Binding(fn)

    def method(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator: register ``fn`` under its ``__name__``."""
        self.add(fn.__name__, fn)
        return fn

    def _call(self, method: str, params: Params | None) -> tuple[bool, Any]:
        binding = self._methods.get(method)
        if binding is None:
            return False, ErrorObject.standard(METHOD_NOT_FOUND)
        problem = binding.problem(params)
        if problem is not None:
            return False, ErrorObject.standard(INVALID_PARAMS, problem)
        try:
            if params is None:
                return True, binding.fn()
            if type(params) is list:
                return True, binding.fn(*params)
            return True, binding.fn(**params)  # type: ignore[arg-type]
        except JsonRpcError as exc:
            return False, ErrorObject(exc.error_code, exc.message, exc.data)
        except Exception as exc:
            return False, ErrorObject.standard(INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")

    def handle(self, message: bytes | bytearray | memoryview | str) -> bytes | None:
        """The reply to one JSON-RPC message, or ``None`` if no reply is due."""
        # Fast path: one well-formed request or notification, answered on the spot (the
        # connection's bookkeeping exists for answers that come later; here none does).
        try:
            obj = _json.loads(message)
        except (ValueError, TypeError, RecursionError):
            obj = None
        if type(obj) is dict and obj.get("jsonrpc") == "2.0":
            method = obj.get("method")
            params = obj.get("params", _ABSENT)
            if type(method) is str and (
                params is _ABSENT or type(params) is list or type(params) is dict
            ):
                if params is _ABSENT:
                    params = None
                rid = obj.get("id", _ABSENT)
                if rid is _ABSENT:
                    self._call(method, params)
                    return None
                if _valid_id(rid):
                    ok, value = self._call(method, params)
                    if ok:
                        try:
                            return _json.dumps({"jsonrpc": "2.0", "result": value, "id": rid})
                        except (TypeError, ValueError) as exc:
                            value = ErrorObject.standard(
                                INTERNAL_ERROR, f"result has no JSON form: {exc}"
                            )
                    return _json.dumps(_error_body(rid, value))
        return self._handle_general(message)

    def _handle_general(self, message: bytes | bytearray | memoryview | str) -> bytes | None:
        conn = self._conn
        conn.receive_message(message)
        out: list[bytes] = []
        while True:
            ev = conn.next_event()
            if ev is NEED_DATA:
                break
            if type(ev) is Request:
                ok, value = self._call(ev.method, ev.params)
                if ok:
                    try:
                        data = conn.send_result(ev.id, value)
                    except LocalProtocolError as exc:
                        data = conn.send_error(
                            ev.id, INTERNAL_ERROR, None, f"result has no JSON form: {exc}"
                        )
                else:
                    data = conn.send_error(ev.id, value.code, value.message, value.data)
                if data:
                    out.append(data)
            elif type(ev) is Notification:
                self._call(ev.method, ev.params)  # never answered, errors included
            # Response / ErrorResponse cannot occur: this dispatcher sends no requests
        extra = conn.data_to_send()
        if extra:
            out.append(extra)
        return b"".join(out) if out else None
