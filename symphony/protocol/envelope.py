"""The message envelope: every message between Symphony processes travels in a :class:`Message`.

A message has a header (protocol version, id, correlation id, kind, type, version, source,
target, timestamp, ttl, priority), a payload and a metadata map. The header separates
``kind`` (what the message *is* on the wire: request, response, event, error, heartbeat) from
``type`` (the registry's name of the payload schema, e.g. ``"editor.insert"``) and ``version``
(that schema's version); the message registry keys on ``(type, version)``.

Cheap construction is the point of the design (the envelope is on every hot path):
:class:`Message` is a ``tuple`` subclass with no Python-level ``__new__``, so
``Message(fields)`` with a 13-tuple is a single C call, and the msgpack codec packs it as an
array with no Python code at all. :meth:`Message.new` and :class:`MessageBuilder` are the
friendly constructors (keywords, defaults, checks).

Wire order of the fields (the positional form every codec uses)::

    0 protocol_version  int    (PROTOCOL_VERSION, 1)
    1 id                MessageId (16 bytes)
    2 correlation_id    MessageId | None  (the request a response/error answers)
    3 kind              Kind   (request 0, response 1, event 2, error 3, heartbeat 4)
    4 type              str    (registry name)
    5 version           int    (schema version, >= 0)
    6 source            str    (endpoint id)
    7 target            str    (endpoint id; "" = broadcast/unspecified)
    8 timestamp         int    (nanoseconds since the Unix epoch, UTC)
    9 ttl_ms            int | None  (time to live in milliseconds; None = forever)
   10 priority          Priority (low 0, normal 1, high 2, critical 3)
   11 payload           any codec value
   12 metadata          dict[str, any codec value]
"""

from __future__ import annotations

import enum
import itertools
import os
import time
from collections.abc import Mapping
from operator import itemgetter
from typing import Any, ClassVar, Final

from symphony._wire import (
    EXT_BIGINT,
    EXT_MESSAGE_ID,
    FIELDS,
    N_FIELDS,
    PROTOCOL_VERSION,
    MessageId,
    header_problem,
)
from symphony.commons.errors import LocalProtocolError

__all__ = [
    "EXT_BIGINT",
    "EXT_MESSAGE_ID",
    "FIELDS",
    "N_FIELDS",
    "PROTOCOL_VERSION",
    "Kind",
    "Message",
    "MessageBuilder",
    "MessageId",
    "Priority",
    "header_problem",
    "new_id",
]


class Kind(enum.IntEnum):
    """What a message is on the wire (independent of its registry ``type``)."""

    REQUEST = 0
    RESPONSE = 1
    EVENT = 2
    ERROR = 3
    HEARTBEAT = 4


class Priority(enum.IntEnum):
    """Routing priority; the wire value is the integer."""

    LOW = 0
    NORMAL = 1
    HIGH = 2
    CRITICAL = 3


_KINDS: Final = tuple(Kind)
_PRIORITIES: Final = tuple(Priority)


# Ids: a random per-process 8-byte prefix + an 8-byte counter. Unique across processes (the
# prefix is re-drawn in every forked child) and ~10x cheaper than uuid4 (no syscall per id).
_tuple_new = tuple.__new__
_id_state: list[Any] = []


def _reseed_ids() -> None:
    _id_state[:] = [os.urandom(8), itertools.count(1).__next__]


_reseed_ids()
os.register_at_fork(after_in_child=_reseed_ids)


def new_id() -> MessageId:
    """A fresh, process-unique and (with overwhelming probability) globally unique id."""
    prefix, nxt = _id_state
    return _tuple_new(MessageId, (EXT_MESSAGE_ID, prefix + nxt().to_bytes(8, "big")))


_get = [itemgetter(i) for i in range(N_FIELDS)]


class Message(tuple):  # type: ignore[type-arg]
    """The envelope. A tuple of the 13 fields in wire order (see the module docstring).

    ``Message(fields)`` takes the 13-tuple as is, without checks: it is the hot-path
    constructor the codecs use. Use :meth:`new` or :class:`MessageBuilder` to build one from
    keywords with defaults and checks.

    Equality compares every field (and requires both sides to be ``Message``); messages are
    not hashable (the payload is usually a dict). ``repr`` shows the named fields.
    """

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]

    protocol_version: int = property(_get[0])  # type: ignore[assignment]
    """Envelope layout version (:data:`PROTOCOL_VERSION`)."""
    id: MessageId = property(_get[1])  # type: ignore[assignment]
    """This message's id."""
    correlation_id: MessageId | None = property(_get[2])  # type: ignore[assignment]
    """For a response or error: the id of the request it answers."""
    type: str = property(_get[4])  # type: ignore[assignment]
    """Registry name of the payload schema, e.g. ``"editor.insert"``."""
    version: int = property(_get[5])  # type: ignore[assignment]
    """Schema version of the payload."""
    source: str = property(_get[6])  # type: ignore[assignment]
    """Sending endpoint."""
    target: str = property(_get[7])  # type: ignore[assignment]
    """Receiving endpoint (``""``: unspecified / broadcast)."""
    timestamp: int = property(_get[8])  # type: ignore[assignment]
    """Creation time, nanoseconds since the Unix epoch."""
    ttl_ms: int | None = property(_get[9])  # type: ignore[assignment]
    """Time to live in milliseconds, or ``None``."""
    payload: Any = property(_get[11])
    """The payload: any value both codecs can carry."""
    metadata: dict[str, Any] = property(_get[12])  # type: ignore[assignment]
    """Free-form extension map (tracing ids, auth context …)."""

    @property
    def kind(self) -> Kind:
        """Request, response, event, error or heartbeat."""
        return _KINDS[self[3]]  # type: ignore[no-any-return]

    @property
    def priority(self) -> Priority:
        """Routing priority."""
        return _PRIORITIES[self[10]]  # type: ignore[no-any-return]

    @property
    def header(self) -> dict[str, Any]:
        """The header fields as a dict (everything but payload and metadata)."""
        return dict(zip(FIELDS[:11], self[:11]))

    def expired(self, now_ns: int | None = None) -> bool:
        """True if the ttl has elapsed at ``now_ns`` (default: now)."""
        ttl = self[9]
        if ttl is None:
            return False
        now = time.time_ns() if now_ns is None else now_ns
        return bool(now - self[8] > ttl * 1_000_000)

    @classmethod
    def new(
        cls,
        type: str,
        payload: Any = None,
        *,
        kind: Kind | int = Kind.EVENT,
        version: int = 1,
        source: str = "",
        target: str = "",
        id: MessageId | None = None,
        correlation_id: MessageId | None = None,
        timestamp: int | None = None,
        ttl_ms: int | None = None,
        priority: Priority | int = Priority.NORMAL,
        metadata: Mapping[str, Any] | None = None,
    ) -> Message:
        """Build a message from keywords, filling id and timestamp, checking the header.

        Raises:
            LocalProtocolError: a header field has the wrong type or is out of range.
        """
        msg = cls(
            (
                PROTOCOL_VERSION,
                new_id() if id is None else id,
                correlation_id,
                kind,
                type,
                version,
                source,
                target,
                time.time_ns() if timestamp is None else timestamp,
                ttl_ms,
                priority,
                payload,
                {} if metadata is None else dict(metadata),
            )
        )
        msg.check()
        return msg

    def check(self) -> None:
        """Check every header field's type and range.

        Raises:
            LocalProtocolError: naming the first bad field and its value.
        """
        if len(self) == N_FIELDS:  # fast path: one expression, the slow one names the field
            pv, mid, cid, kind, typ, ver, src, tgt, ts, ttl, prio, _, meta = self
            if (
                pv == 1
                and type(pv) is int
                and type(mid) is MessageId
                and type(mid[1]) is bytes
                and len(mid[1]) == 16
                and (
                    cid is None
                    or (type(cid) is MessageId and type(cid[1]) is bytes and len(cid[1]) == 16)
                )
                and (type(kind) is Kind or (type(kind) is int and 0 <= kind <= 4))
                and type(typ) is str
                and type(ver) is int
                and 0 <= ver <= _U32_MAX
                and type(src) is str
                and type(tgt) is str
                and type(ts) is int
                and 0 <= ts <= _U64_MAX
                and (ttl is None or (type(ttl) is int and 0 <= ttl <= _U64_MAX))
                and (type(prio) is Priority or (type(prio) is int and 0 <= prio <= 3))
                and type(meta) is dict
            ):
                for k in meta:
                    if type(k) is not str:
                        break
                else:
                    return
        problem = header_problem(self)
        if problem is not None:
            raise LocalProtocolError(f"bad envelope: {problem}")

    def replace(self, **changes: Any) -> Message:
        """A copy with some fields replaced (by name)."""
        values = list(self)
        for name, value in changes.items():
            try:
                values[_INDEX[name]] = value
            except KeyError:
                raise LocalProtocolError(f"Message has no field {name!r}") from None
        msg = Message(tuple(values))
        msg.check()
        return msg

    def reply(
        self,
        payload: Any = None,
        *,
        kind: Kind | int = Kind.RESPONSE,
        type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Message:
        """A response (or error) to this message: correlated, source and target swapped."""
        return Message.new(
            self[4] if type is None else type,
            payload,
            kind=kind,
            version=self[5],
            source=self[7],
            target=self[6],
            correlation_id=self[1],
            priority=self[10],
            metadata=metadata,
        )

    def as_dict(self) -> dict[str, Any]:
        """All fields by name (enums as enums, ids as :class:`MessageId`)."""
        d = dict(zip(FIELDS, self))
        d["kind"] = self.kind
        d["priority"] = self.priority
        return d

    def __eq__(self, other: object) -> bool:
        # not NotImplemented: tuple's reflected __eq__ would then call a plain tuple equal
        return isinstance(other, Message) and tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __repr__(self) -> str:
        if len(self) != N_FIELDS:
            return f"Message({tuple(self)!r})"
        parts = [f"{name}={value!r}" for name, value in zip(FIELDS, self)]
        return f"Message({', '.join(parts)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Message, (tuple(self),))


_INDEX: Final = {name: i for i, name in enumerate(FIELDS)}
_U64_MAX: Final = (1 << 64) - 1
_U32_MAX: Final = (1 << 32) - 1


class MessageBuilder:
    """Fluent construction of a :class:`Message` (the seed's builder pattern)::

        msg = (MessageBuilder("editor.insert").request().source("core").target("editor")
               .payload({"view_id": "v1", "chars": "x"}).priority(Priority.HIGH).build())

    Every setter returns the builder; :meth:`build` fills the id and timestamp if unset and
    checks the header (LocalProtocolError on a bad field).
    """

    __slots__ = ("_fields",)

    _DEFAULTS: ClassVar[dict[str, Any]] = {
        "kind": Kind.EVENT,
        "version": 1,
        "source": "",
        "target": "",
        "id": None,
        "correlation_id": None,
        "timestamp": None,
        "ttl_ms": None,
        "priority": Priority.NORMAL,
        "payload": None,
        "metadata": None,
    }

    def __init__(self, type: str) -> None:
        self._fields: dict[str, Any] = dict(self._DEFAULTS, type=type)

    def _set(self, name: str, value: Any) -> MessageBuilder:
        self._fields[name] = value
        return self

    def kind(self, kind: Kind | int) -> MessageBuilder:
        return self._set("kind", kind)

    def request(self) -> MessageBuilder:
        return self._set("kind", Kind.REQUEST)

    def response_to(self, request: Message | MessageId) -> MessageBuilder:
        """A response correlated with ``request`` (a message or its id)."""
        cid = request.id if isinstance(request, Message) else request
        return self._set("kind", Kind.RESPONSE)._set("correlation_id", cid)

    def error_to(self, request: Message | MessageId) -> MessageBuilder:
        cid = request.id if isinstance(request, Message) else request
        return self._set("kind", Kind.ERROR)._set("correlation_id", cid)

    def event(self) -> MessageBuilder:
        return self._set("kind", Kind.EVENT)

    def heartbeat(self) -> MessageBuilder:
        return self._set("kind", Kind.HEARTBEAT)

    def version(self, version: int) -> MessageBuilder:
        return self._set("version", version)

    def source(self, source: str) -> MessageBuilder:
        return self._set("source", source)

    def target(self, target: str) -> MessageBuilder:
        return self._set("target", target)

    def id(self, mid: MessageId) -> MessageBuilder:
        return self._set("id", mid)

    def correlation_id(self, cid: MessageId | None) -> MessageBuilder:
        return self._set("correlation_id", cid)

    def timestamp(self, ns: int) -> MessageBuilder:
        return self._set("timestamp", ns)

    def ttl_ms(self, ttl: int | None) -> MessageBuilder:
        return self._set("ttl_ms", ttl)

    def priority(self, priority: Priority | int) -> MessageBuilder:
        return self._set("priority", priority)

    def payload(self, payload: Any) -> MessageBuilder:
        return self._set("payload", payload)

    def metadata(self, metadata: Mapping[str, Any]) -> MessageBuilder:
        return self._set("metadata", dict(metadata))

    def meta(self, key: str, value: Any) -> MessageBuilder:
        """Add one metadata entry."""
        md = self._fields["metadata"]
        if md is None:
            md = self._fields["metadata"] = {}
        md[key] = value
        return self

    def build(self) -> Message:
        f = self._fields
        return Message.new(
            f["type"],
            f["payload"],
            kind=f["kind"],
            version=f["version"],
            source=f["source"],
            target=f["target"],
            id=f["id"],
            correlation_id=f["correlation_id"],
            timestamp=f["timestamp"],
            ttl_ms=f["ttl_ms"],
            priority=f["priority"],
            metadata=f["metadata"],
        )
