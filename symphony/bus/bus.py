"""The message bus: handlers, routing, endpoints, requests, pub/sub and health in one service.

One :class:`Bus` per process. Local code and remote processes use the same API; a remote
process is attached with :meth:`Bus.connect` over any
:class:`~symphony.transport.base.Transport` (shared memory, unix socket, stdio, memory), and
its endpoints and subscriptions then behave as if they were local::

    bus = Bus("editor")
    async with trio.open_nursery() as nursery:
        await nursery.start(bus.run)
        bus.add_endpoint("fs", handler=serve_fs, capabilities={"files"})
        sub = bus.subscribe("buffer.#", on_change)
        reply = await bus.request("fs", "fs.read", {"path": "a.txt"}, timeout=1.0)
        await bus.publish("buffer.42.changed", {"rev": 7})
        await bus.aclose()            # graceful: in-flight messages finish or are reported

Where each piece lives: :mod:`.router` (type -> endpoint), :mod:`.registry` (endpoints,
capabilities, events), :mod:`.correlation` (pending requests, one deadline task),
:mod:`.pubsub` (trie, cache, slow-subscriber policies), :mod:`.health` (heartbeats),
:mod:`.batching` (link writers).

Processing loop: messages *sent* to an endpoint (``send``) go through a bounded inbox served
by ``workers`` tasks that call the endpoint's handler (or the handlers registered for the
message type); a request's reply goes back to its requester. ``request`` to a *local*
endpoint calls the handler directly in the requesting task (no scheduler pass when the
handler does not block; if it blocks, the rest of it runs under the request's deadline);
to a *remote* endpoint the request is tracked by the correlator (one deadline heap, one
task) and sent over the link. ``publish`` calls subscription handlers inline
(:mod:`.pubsub`) and forwards one copy per link that has a matching subscription.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import time
import types
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, cast

import trio

from symphony.bus.batching import BatchSender
from symphony.bus.correlation import RequestCorrelator
from symphony.bus.health import HealthMonitor
from symphony.bus.pubsub import Policy, PubSub, Subscription
from symphony.bus.registry import EndpointInfo, EndpointRegistry
from symphony.bus.router import Router
from symphony.commons.errors import (
    BusError,
    ConnectionClosed,
    HandlerError,
    LocalProtocolError,
    NoRoute,
    RemoteProtocolError,
    RequestTimeout,
    SymphonyError,
)
from symphony.commons.health import HealthStatus
from symphony.protocol.codecs import Codec, get_codec
from symphony.protocol.envelope import (
    EXT_MESSAGE_ID,
    PROTOCOL_VERSION,
    Message,
    MessageId,
    new_id,
)
from symphony.transport.base import Transport

__all__ = ["Bus", "BusStats", "Handler", "Link"]

Handler = Callable[[Message], Awaitable[Any]]
"""``async def handler(msg) -> reply``: for a request, a non-None reply (a Message, or a
payload that becomes ``msg.reply(payload)``) is the response."""

_REQUEST, _RESPONSE, _EVENT, _ERROR, _HEARTBEAT = 0, 1, 2, 3, 4
_NORMAL = 1
_tuple_new = tuple.__new__
_now_ns = time.time_ns


def _msg(kind: int, type_: str, payload: Any, source: str, target: str, cid: Any = None) -> Message:
    """A Message built without checks (hot path; fields are known-good)."""
    return _tuple_new(
        Message,
        (PROTOCOL_VERSION, new_id(), cid, kind, type_, 1, source, target, _now_ns(), None,
         _NORMAL, payload, {}),
    )


def _is_async(handler: Callable[..., Any]) -> bool:
    """Whether ``handler`` is an ``async def`` (or an object whose ``__call__`` is one)."""
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        getattr(handler, "__call__", None)  # noqa: B004
    )


def _awaitable(x: Any) -> bool:
    return type(x) is _CoroutineType or (
        x is not None and type(x) not in _PLAIN and inspect.isawaitable(x)
    )


_CoroutineType = types.CoroutineType
_PLAIN: frozenset[type] = frozenset({dict, list, tuple, str, bytes, int, float, bool, Message})


def _reply(msg: Message, payload: Any, kind: int = _RESPONSE) -> Message:
    """``msg.reply(payload)`` without the header checks (fields come from a valid message)."""
    return _tuple_new(
        Message,
        (PROTOCOL_VERSION, new_id(), msg[1], kind, msg[4], msg[5], msg[7], msg[6], _now_ns(),
         None, msg[10], payload, {}),
    )


async def _call_with_deadline(coro: Coroutine[Any, Any, Any], timeout: float, what: str) -> Any:
    """Run ``coro`` in this task under a deadline (the handler is cancelled when it passes).

    (Driving the coroutine by hand and entering the scope only if it blocks would save the
    scope, but breaks trio's scope nesting when the handler opens a scope of its own.)
    """
    with trio.CancelScope(deadline=trio.current_time() + timeout) as scope:
        return await coro
    if scope.cancelled_caught:
        raise RequestTimeout(f"{what}: no response within {timeout} s")
    raise AssertionError("unreachable")


@dataclass(slots=True)
class BusStats:
    """Counters of one bus."""

    sent: int = 0
    """Messages accepted by send/send_nowait."""
    handled: int = 0
    """Messages processed by the workers."""
    handler_errors: int = 0
    requests: int = 0
    published: int = 0
    forwarded: int = 0
    """Messages written to links."""
    received: int = 0
    """Messages read from links."""
    no_route: int = 0
    undelivered: int = 0
    """Messages still queued when the bus closed (listed in ``Bus.undelivered``)."""


class Link:
    """A connection from this bus to another bus over a transport (made by ``Bus.connect``)."""

    def __init__(self, bus: Bus, transport: Transport, name: str, codec: Codec) -> None:
        self.bus = bus
        self.transport = transport
        self.name = name
        self.codec = codec
        self.peer = ""
        """The remote bus's name (from its hello)."""
        self.endpoints: set[str] = set()
        """Remote endpoints reached through this link."""
        self.interest = PubSub()
        """Patterns the remote side subscribed to (one forwarding decision per publish)."""
        self._patterns: dict[str, Subscription] = {}
        self.sender: BatchSender[bytes] = BatchSender(transport.send_many, max_size=1024)
        self.closed = False
        self.ready = trio.Event()
        self.error: BaseException | None = None
        """Why the link went down, if it failed rather than closed."""

    def __repr__(self) -> str:
        return f"<Link {self.name} to {self.peer or '?'}>"

    def send_nowait(self, msg: Message) -> None:
        if self.closed:
            raise ConnectionClosed(f"link {self.name} to {self.peer!r} is closed")
        frame = self.codec.encode(msg)
        if (msg[3] != _EVENT or msg[4] == "$batch") and self.sender.idle:
            # requests, replies, heartbeats and ready-made batches: write now (no scheduler
            # pass) when that keeps the order; events go through the batcher (throughput)
            try:
                if self.transport.send_nowait(frame):
                    self.bus.stats.forwarded += 1
                    return
            except ConnectionClosed:
                pass  # the sender task reports it and takes the link down
        try:
            self.sender.add_nowait(frame)
        except trio.BrokenResourceError:
            raise ConnectionClosed(f"link {self.name} to {self.peer!r} is down") from None
        self.bus.stats.forwarded += 1

    async def send(self, msg: Message) -> None:
        if self.closed:
            raise ConnectionClosed(f"link {self.name} to {self.peer!r} is closed")
        try:
            self.send_nowait(msg)
            return
        except trio.WouldBlock:
            pass
        try:
            await self.sender.add(self.codec.encode(msg))
        except trio.BrokenResourceError:
            raise ConnectionClosed(f"link {self.name} to {self.peer!r} is down") from None
        self.bus.stats.forwarded += 1

    def _control(self, type_: str, payload: Any) -> None:
        self.send_nowait(_msg(_EVENT, type_, payload, self.bus.name, ""))

    async def run(self, *, task_status: trio.TaskStatus[Link] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve the link until the transport closes or fails (its error in :attr:`error`);
        a broken link never takes the bus down."""
        bus = self.bus
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(self._send_loop, nursery.cancel_scope)
                self._control("$hello", bus._hello())
                task_status.started(self)
                try:
                    await self._read()
                except (SymphonyError, trio.BrokenResourceError) as exc:
                    self.error = exc
                nursery.cancel_scope.cancel()
        finally:
            self.closed = True
            self.ready.set()  # Bus.connect stops waiting and reports the failure
            bus._link_down(self)
            with trio.CancelScope(shield=True):
                await self.transport.aclose()

    async def _send_loop(
        self,
        scope: trio.CancelScope,
        *,
        task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        try:
            await self.sender.run(task_status=task_status)
        except SymphonyError as exc:  # the peer went away while we were writing
            self.error = exc
            scope.cancel()

    async def _read(self) -> None:
        bus = self.bus
        decode = self.codec.decode
        while True:
            try:
                frames = await self.transport.receive_many()
            except ConnectionClosed:
                return
            bus.stats.received += len(frames)
            if not self.ready.is_set():
                try:
                    decode(frames[0])
                except SymphonyError as exc:
                    raise RemoteProtocolError(
                        f"link {self.name}: the peer's hello does not decode with the "
                        f"{self.codec.name!r} codec (do both buses use the same [bus] codec?): "
                        f"{exc}") from exc
            for frame in frames:
                await bus._from_link(decode(frame), self)

    def _on_control(self, msg: Message) -> None:
        t, p = msg[4], msg[11]
        bus = self.bus
        if t == "$hello":
            self.peer = p["bus"]
            for ep in p["endpoints"]:
                self._add_endpoint(ep)
            for pattern in p["subs"]:
                self._add_interest(pattern)
            self.ready.set()
        elif t == "$endpoint+":
            self._add_endpoint(p)
        elif t == "$endpoint-":
            self.endpoints.discard(p)
            if bus._remote.get(p) is self:
                del bus._remote[p]
                bus.registry.unregister(p)
                bus.health.unwatch(p)
        elif t == "$sub":
            self._add_interest(p)
        elif t == "$unsub":
            sub = self._patterns.pop(p, None)
            if sub is not None:
                sub.unsubscribe()
        else:
            raise RemoteProtocolError(f"link {self.name}: unknown control message {t!r}")

    def _add_endpoint(self, ep: list[Any]) -> None:
        eid, name, caps = ep
        bus = self.bus
        if eid in bus.registry:
            return  # a local endpoint (or one via another link) wins
        bus.registry.register(eid, name=name, capabilities=caps, transport=self.name)
        bus._remote[eid] = self
        self.endpoints.add(eid)
        if bus.watch_remote:
            bus.health.watch(eid)

    def _add_interest(self, pattern: str) -> None:
        if pattern not in self._patterns:
            self._patterns[pattern] = self.interest.subscribe(pattern, _noop)


def _noop(_: Any) -> None:
    return None


class Bus:
    """The message bus (see the module docstring).

    Args:
        name: this bus's name (the ``source`` of the messages it makes).
        workers: tasks serving the inbox (handlers of *sent* messages run there).
        inbox_size: messages queued before ``send`` waits (``send_nowait`` raises
            ``trio.WouldBlock``); bounded on purpose.
        default_timeout: request timeout when none is given.
        heartbeat_interval, heartbeat_timeout: health monitoring (see :mod:`.health`).
        watch_remote: monitor remote endpoints' health automatically.
        codec: wire codec for links (``"msgpack"`` or ``"bincode"``).
    """

    def __init__(
        self,
        name: str = "bus",
        *,
        workers: int = 1,
        inbox_size: int = 4096,
        default_timeout: float = 5.0,
        heartbeat_interval: float = 0.02,
        heartbeat_timeout: float = 0.08,
        watch_remote: bool = True,
        codec: str = "msgpack",
    ) -> None:
        if workers < 1:
            raise LocalProtocolError(f"workers must be >= 1, got {workers}")
        self.name = name
        self.router = Router()
        self.registry = EndpointRegistry()
        self.pubsub = PubSub()
        self.correlator = RequestCorrelator(default_timeout)
        self.health = HealthMonitor(
            self._send_ping, interval=heartbeat_interval, timeout=heartbeat_timeout
        )
        self.watch_remote = watch_remote
        self.stats = BusStats()
        self.undelivered: list[Message] = []
        """Messages that were still queued when the bus closed (the shutdown report)."""
        self.codec_name = codec
        self._workers = workers
        self._inbox_size = inbox_size
        self._inbox: deque[tuple[Message, Link | None]] = deque()
        self._work = trio.lowlevel.ParkingLot()
        self._room = trio.lowlevel.ParkingLot()
        self._idle = trio.lowlevel.ParkingLot()
        self._busy = 0
        self._handlers: dict[str, list[Handler]] = {}
        self._endpoints: dict[str, Handler | None] = {}
        self._sync_endpoints: dict[str, Callable[[Message], Any]] = {}
        """Endpoints whose handler is a plain function: called inline (no task hop, no
        deadline scope), see :meth:`add_endpoint`."""
        self._endpoint_health: dict[str, Callable[[], HealthStatus]] = {}
        self._remote: dict[str, Link] = {}
        self._links: dict[str, Link] = {}
        self._link_ids = itertools.count(1)
        self._nursery: trio.Nursery | None = None
        self._closing = False

    # ---- endpoints and handlers ------------------------------------------------------
    def add_endpoint(
        self,
        id: str,
        handler: Handler | None = None,
        *,
        name: str = "",
        capabilities: Iterable[str] = (),
        health: Callable[[], HealthStatus] | None = None,
        watch: bool = False,
    ) -> EndpointInfo:
        """Register a local endpoint; ``handler`` serves messages targeted at it.

        ``handler`` is an ``async def`` (run by the bus's workers; a local request runs it
        under the request's deadline) or a plain function, the fast path for handlers that
        answer without waiting: a request to it is answered inline by the task that
        received it (the requester itself, or the link's reader), with no task switch and
        no deadline scope (a plain call cannot be interrupted anyway).

        Args:
            health: called on each heartbeat; the endpoint's self-reported status.
            watch: monitor this endpoint's heartbeats (a hung worker marks it unreachable).
        """
        info = self.registry.register(id, name=name, capabilities=capabilities)
        self._endpoints[id] = handler
        self._sync_endpoints.pop(id, None)
        if handler is not None and not _is_async(handler):
            self._sync_endpoints[id] = handler
        if health is not None:
            self._endpoint_health[id] = health
        if watch:
            self.health.watch(id)
        for link in self._links.values():
            link._control("$endpoint+", [id, info.name, sorted(info.capabilities)])
        return info

    def remove_endpoint(self, id: str) -> EndpointInfo | None:
        """Unregister a local endpoint with its routes and subscriptions."""
        if id not in self._endpoints:
            return None
        del self._endpoints[id]
        self._sync_endpoints.pop(id, None)
        self._endpoint_health.pop(id, None)
        self.health.unwatch(id)
        self.router.remove_endpoint(id)
        for sub in list(self.pubsub._by_subscriber.get(id, {}).values()):
            self.unsubscribe(sub)
        for link in self._links.values():
            link._control("$endpoint-", id)
        return self.registry.unregister(id)

    def on(self, type: str, handler: Handler) -> Callable[[], None]:
        """Register ``handler`` for messages of ``type`` (several per type, called in order);
        returns a function that removes it."""
        self._handlers.setdefault(type, []).append(handler)

        def remove() -> None:
            hs = self._handlers.get(type, [])
            if handler in hs:
                hs.remove(handler)

        return remove

    register_handler = on

    # ---- sending ---------------------------------------------------------------------
    def _target_of(self, msg: Message) -> str:
        target: str = msg[7]
        if target:
            return target
        routed = self.router.route(msg[4])
        if routed is not None:
            return routed
        if msg[4] in self._handlers:
            return ""
        self.stats.no_route += 1
        raise NoRoute(f"no endpoint, route or handler for message type {msg[4]!r}")

    def send_nowait(self, msg: Message) -> None:
        """Deliver ``msg`` to its target (``msg.target``, else the router's choice, else the
        type's handlers) without yielding.

        Raises:
            NoRoute: nowhere to deliver it.
            trio.WouldBlock: the inbox (or the link's queue) is full.
            BusError: the bus is closing.
        """
        if self._closing:
            raise BusError(f"bus {self.name!r} is shutting down; message {msg[4]!r} refused")
        target = self._target_of(msg)
        link = self._remote.get(target) if target else None
        if link is not None:
            link.send_nowait(msg)
        else:
            if target and target not in self._endpoints:
                self.stats.no_route += 1
                raise NoRoute(f"endpoint {target!r} is not registered on bus {self.name!r}")
            self._enqueue_nowait(msg, None)
        self.stats.sent += 1

    async def send(self, msg: Message) -> None:
        """Like :meth:`send_nowait`, waiting for room instead of raising ``WouldBlock``."""
        await trio.lowlevel.checkpoint_if_cancelled()
        while True:
            try:
                self.send_nowait(msg)
                return
            except trio.WouldBlock:
                target = self._target_of(msg)
                link = self._remote.get(target) if target else None
                if link is not None:
                    await link.send(msg)
                    self.stats.sent += 1
                    return
                await self._room.park()

    def _enqueue_nowait(self, msg: Message, link: Link | None) -> None:
        if len(self._inbox) >= self._inbox_size:
            raise trio.WouldBlock
        self._inbox.append((msg, link))
        if self._work:
            self._work.unpark()

    async def _enqueue(self, msg: Message, link: Link | None) -> None:
        while len(self._inbox) >= self._inbox_size:
            await self._room.park()
        self._inbox.append((msg, link))
        if self._work:
            self._work.unpark()

    # ---- requests --------------------------------------------------------------------
    async def request(
        self,
        target: str,
        type: str,
        payload: Any = None,
        *,
        timeout: float | None = None,
    ) -> Message:
        """Send a request to endpoint ``target`` (``""``: route by ``type``) and wait for its
        response.

        Raises:
            RequestTimeout: no response within ``timeout`` (default: the bus default).
            HandlerError: the handler raised (the remote error's type and message).
            NoRoute: nobody serves it.
        """
        return await self.request_message(_msg(_REQUEST, type, payload, self.name, target),
                                          timeout=timeout)

    async def request_message(self, msg: Message, *, timeout: float | None = None) -> Message:
        """:meth:`request` with a prepared request Message."""
        self.stats.requests += 1
        if timeout is None:
            timeout = self.correlator.default_timeout
        target = self._target_of(msg)
        link = self._remote.get(target) if target else None
        if link is not None:
            p = self.correlator.track(msg[1], timeout)
            try:
                link.send_nowait(msg)
            except trio.WouldBlock:
                await link.send(msg)
            reply: Message = await self.correlator.wait(p)
        elif target in self._sync_endpoints:
            await trio.lowlevel.checkpoint_if_cancelled()
            answer = self._answer_sync(msg, target)
            if isinstance(answer, Message):
                reply = answer
            else:  # a plain function that returned an awaitable after all
                reply = await _call_with_deadline(
                    self._finish(msg, answer), timeout, f"request {msg[4]!r} to {target!r}")
        else:
            result = await _call_with_deadline(
                self._handle_request(msg, target), timeout, f"request {msg[4]!r} to {target!r}"
            )
            reply = result
        if reply[3] == _ERROR:
            err = reply[11] or {}
            raise HandlerError(
                f"{msg[4]!r} handler failed: {err.get('type', '?')}: {err.get('message', '')}",
                details=err,
            )
        return reply

    def _answer_sync(self, msg: Message, target: str) -> Message | Awaitable[Any]:
        """The reply of a plain-function endpoint, computed inline; or, if the function
        returned an awaitable after all, that awaitable (see :meth:`_finish`)."""
        h = self._sync_endpoints[target]
        try:
            result = h(msg)
        except Exception as exc:
            self.stats.handler_errors += 1
            return _reply(msg, {"type": type(exc).__name__, "message": str(exc)}, _ERROR)
        if _awaitable(result):
            return cast(Awaitable[Any], result)
        if result is None:
            return _reply(msg, None)
        return result if type(result) is Message else _reply(msg, result)

    async def _finish(self, msg: Message, pending: Awaitable[Any]) -> Message:
        """The reply once the awaitable a plain-function handler returned is done."""
        try:
            result = await pending
        except (trio.Cancelled, RequestTimeout):
            raise
        except Exception as exc:
            self.stats.handler_errors += 1
            return _reply(msg, {"type": type(exc).__name__, "message": str(exc)}, _ERROR)
        if result is None:
            return _reply(msg, None)
        return result if type(result) is Message else _reply(msg, result)

    async def _finish_remote(self, msg: Message, pending: Awaitable[Any], link: Link) -> None:
        reply = await self._finish(msg, pending)
        with contextlib.suppress(ConnectionClosed):
            await link.send(reply)

    async def _handle_request(self, msg: Message, target: str) -> Message:
        if target:
            if target not in self._endpoints:
                self.stats.no_route += 1
                raise NoRoute(f"endpoint {target!r} is not registered on bus {self.name!r}")
            handler = self._endpoints[target]
            handlers = [handler] if handler is not None else self._handlers.get(msg[4], [])
        else:
            handlers = self._handlers.get(msg[4], [])
        try:
            for h in handlers:
                result: Any = h(msg)
                if _awaitable(result):
                    result = await result
                if result is not None:
                    return result if type(result) is Message else _reply(msg, result)
        except (trio.Cancelled, RequestTimeout):
            raise
        except Exception as exc:
            self.stats.handler_errors += 1
            return _reply(msg, {"type": type(exc).__name__, "message": str(exc)}, _ERROR)
        return _reply(msg, None)

    # ---- pub/sub ---------------------------------------------------------------------
    def subscribe(
        self,
        pattern: str,
        handler: Callable[[Message], Any] | None = None,
        *,
        filter: Callable[[Message], bool] | None = None,
        subscriber: str = "",
        maxsize: int = 1024,
        policy: Policy | str = Policy.BLOCK,
    ) -> Subscription:
        """Subscribe to topics matching ``pattern`` (see :mod:`.pubsub`); remote buses
        connected by links are told, so their publishes reach this subscription too."""
        sub = self.pubsub.subscribe(
            pattern, handler, filter=filter, subscriber=subscriber, maxsize=maxsize,
            policy=policy,
        )
        for link in self._links.values():
            link._control("$sub", pattern)
        return sub

    def unsubscribe(self, sub: Subscription | int) -> bool:
        s = self.pubsub._by_id.get(sub if isinstance(sub, int) else sub.id)
        if s is None:
            return False
        s.unsubscribe()
        self._maybe_unsub_remote(s.pattern)
        return True

    def unsubscribe_all(self, subscriber: str) -> int:
        subs = list(self.pubsub._by_subscriber.get(subscriber, {}).values())
        for s in subs:
            self.unsubscribe(s)
        return len(subs)

    def _maybe_unsub_remote(self, pattern: str) -> None:
        if any(s.pattern == pattern for s in self.pubsub._by_id.values()):
            return
        for link in self._links.values():
            link._control("$unsub", pattern)

    async def publish(self, topic: str, payload: Any = None, *, source: str = "") -> int:
        """Publish an event on ``topic``; the number of local subscriptions that took it
        (links with a matching remote subscription get one copy each)."""
        return await self.publish_message(_msg(_EVENT, topic, payload, source or self.name, ""))

    async def publish_message(self, msg: Message) -> int:
        """Publish a prepared Message (its ``type`` is the topic)."""
        self.stats.published += 1
        topic = msg[4]
        if self._links:
            for link in self._links.values():
                if link.interest.match(topic):
                    try:
                        link.send_nowait(msg)
                    except trio.WouldBlock:
                        await link.send(msg)
        return await self.pubsub.publish(topic, msg)

    async def publish_many(
        self, topic: str, payloads: Iterable[Any], *, source: str = ""
    ) -> int:
        """Publish several events on one ``topic`` at once; the number of local deliveries.

        Every payload becomes its own event Message (own id; one timestamp for the batch),
        delivered in order to every matching subscription, local or remote, as
        :meth:`publish` would (see :meth:`PubSub.publish_many` for the delivery order). The
        difference is the cost: a link with a matching remote subscription carries the whole
        batch as one frame (a ``$batch`` control event holding the ids, the timestamp and
        the payloads), which the other bus unpacks into the same Messages.
        """
        src = source or self.name
        items = payloads if isinstance(payloads, list) else list(payloads)
        if not items:
            await trio.lowlevel.checkpoint()
            return 0
        self.stats.published += len(items)
        ts = _now_ns()
        ids = [new_id() for _ in items]
        if self._links:
            batch: Message | None = None
            for link in self._links.values():
                if link.interest.match(topic):
                    if batch is None:
                        batch = _msg(_EVENT, "$batch", [topic, src, [i[1] for i in ids], ts,
                                                       items], self.name, "")
                    try:
                        link.send_nowait(batch)
                    except trio.WouldBlock:
                        await link.send(batch)
        return await self._deliver_many(topic, src, ids, ts, items)

    async def _deliver_many(
        self, topic: str, src: str, ids: list[Any], ts: int, items: list[Any]
    ) -> int:
        pubsub = self.pubsub
        if not pubsub.match(topic):
            pubsub.published += len(items)
            await trio.lowlevel.checkpoint_if_cancelled()
            return 0
        return await pubsub.publish_many(topic, [
            _tuple_new(Message, (PROTOCOL_VERSION, mid, None, _EVENT, topic, 1, src, "", ts,
                                 None, _NORMAL, payload, {}))
            for mid, payload in zip(ids, items)
        ])

    async def _deliver_batch(self, batch: Message, link: Link) -> None:
        """A remote :meth:`publish_many`: local delivery of each event, in order."""
        try:
            topic, src, raw_ids, ts, items = batch[11]
            if len(raw_ids) != len(items):
                raise ValueError("ids and payloads differ in length")
            if type(ts) is not int or not all(type(i) is bytes for i in raw_ids):
                raise TypeError("ids must be bytes and the timestamp an int")
        except (TypeError, ValueError) as exc:
            raise RemoteProtocolError(f"link {link.name}: malformed $batch event: {exc}") from None
        ids = [_tuple_new(MessageId, (EXT_MESSAGE_ID, i)) for i in raw_ids]
        await self._deliver_many(topic, src, ids, ts, items)

    # ---- health ----------------------------------------------------------------------
    def _send_ping(self, endpoint: str) -> None:
        ping = _msg(_HEARTBEAT, "$heartbeat", None, self.name, endpoint)
        link = self._remote.get(endpoint)
        if link is not None:
            link.send_nowait(ping)
        elif endpoint in self._endpoints:
            self._enqueue_nowait(ping, None)

    def _answer_heartbeat(self, msg: Message, link: Link | None) -> None:
        ep = msg[7]
        probe = self._endpoint_health.get(ep)
        try:
            status = HealthStatus.HEALTHY if probe is None else HealthStatus(probe())
        except Exception:
            status = HealthStatus.UNHEALTHY
        if link is None:
            self.health.record_alive(ep, status)
        else:
            link.send_nowait(_msg(_HEARTBEAT, "$heartbeat", status.value, ep, msg[6], msg[1]))

    # ---- links -----------------------------------------------------------------------
    def _hello(self) -> dict[str, Any]:
        eps = [[i.id, i.name, sorted(i.capabilities)] for i in self.registry.list()
               if i.transport == "local"]
        return {"bus": self.name, "endpoints": eps,
                "subs": sorted({s.pattern for s in self.pubsub._by_id.values()})}

    async def connect(self, transport: Transport, *, name: str | None = None) -> Link:
        """Attach another bus over ``transport``; returns once both sides exchanged their
        endpoints and subscriptions. The link runs until the transport closes.

        Raises:
            BusError: the bus is not running.
        """
        if self._nursery is None:
            raise BusError(f"bus {self.name!r} is not running; start it with nursery.start")
        link = Link(self, transport, name or f"link-{next(self._link_ids)}",
                    get_codec(self.codec_name))
        self._links[link.name] = link
        await self._nursery.start(link.run)
        await link.ready.wait()
        if link.closed:
            raise ConnectionClosed(
                f"link {link.name}: closed before the peer's hello"
                + (f" ({link.error})" if link.error is not None else "")
            ) from link.error
        return link

    @property
    def links(self) -> list[Link]:
        return list(self._links.values())

    async def _from_link(self, msg: Message, link: Link) -> None:
        kind = msg[3]
        if kind in (_RESPONSE, _ERROR):
            self.correlator.correlate(msg)
        elif kind == _HEARTBEAT:
            if msg[2] is None:
                await self._enqueue(msg, link)
            else:
                self.health.record_alive(msg[6], HealthStatus(msg[11]))
        elif kind == _EVENT and msg[4][:1] == "$":
            if msg[4] == "$batch":
                await self._deliver_batch(msg, link)
            else:
                link._on_control(msg)
        elif kind == _EVENT and not msg[7]:
            await self.pubsub.publish(msg[4], msg)  # a remote publish: local delivery only
        elif (kind == _REQUEST and msg[7] in self._sync_endpoints and not self._inbox
              and not self._busy):
            # a plain-function endpoint with nothing queued before it: answer here
            reply = self._answer_sync(msg, msg[7])
            self.stats.handled += 1
            if not isinstance(reply, Message):  # an awaitable after all: never in the reader
                assert self._nursery is not None
                self._nursery.start_soon(self._finish_remote, msg, reply, link)
                return
            try:
                link.send_nowait(reply)
            except trio.WouldBlock:
                await link.send(reply)
            except ConnectionClosed:
                pass
        else:
            await self._enqueue(msg, link)

    def _link_down(self, link: Link) -> None:
        self._links.pop(link.name, None)
        for eid in list(link.endpoints):
            if self._remote.get(eid) is link:
                del self._remote[eid]
                self.registry.unregister(eid)
                h = self.health.endpoints.get(eid)
                if h is not None:
                    self.health._set(eid, h, HealthStatus.UNREACHABLE, trio.current_time(),
                                     f"link {link.name} closed")
                    self.health.unwatch(eid)

    # ---- the processing loop ---------------------------------------------------------
    async def _worker(self) -> None:
        inbox = self._inbox
        while True:
            if not inbox:
                if not self._busy:
                    self._idle.unpark_all()
                await self._work.park()
                continue
            msg, link = inbox.popleft()
            if self._room:
                self._room.unpark()
            self._busy += 1
            try:
                await self._process(msg, link)
            finally:
                self._busy -= 1
            self.stats.handled += 1

    async def _process(self, msg: Message, link: Link | None) -> None:
        kind = msg[3]
        if kind == _HEARTBEAT:
            self._answer_heartbeat(msg, link)
            return
        target = msg[7]
        if kind == _REQUEST:
            reply = await self._handle_request(msg, target)
            if link is not None:
                try:
                    await link.send(reply)
                except ConnectionClosed:
                    pass
            else:
                self.correlator.correlate(reply)
            return
        handler = self._endpoints.get(target) if target else None
        handlers = [handler] if handler is not None else self._handlers.get(msg[4], ())
        for h in handlers:
            try:
                await h(msg)
            except Exception:
                self.stats.handler_errors += 1

    async def run(self, *, task_status: trio.TaskStatus[Bus] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled (or :meth:`aclose`). Messages still queued when it stops are
        listed in :attr:`undelivered`; pending requests fail with ``BusError``."""
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                await nursery.start(self.correlator.run)
                await nursery.start(self.health.run)
                for _ in range(self._workers):
                    nursery.start_soon(self._worker)
                task_status.started(self)
                await trio.sleep_forever()
        finally:
            self._nursery = None
            self._closing = True
            self._report_undelivered()
            self.correlator.fail_all(BusError(f"bus {self.name!r} stopped"))

    def _report_undelivered(self) -> None:
        while self._inbox:
            msg, _ = self._inbox.popleft()
            if msg[3] != _HEARTBEAT:
                self.undelivered.append(msg)
                self.stats.undelivered += 1

    async def drain(self) -> None:
        """Wait until the inbox is empty and no handler is running."""
        while self._inbox or self._busy:
            await self._idle.park()

    async def aclose(self, grace: float = 1.0) -> None:
        """Graceful shutdown: refuse new messages, let queued ones finish for up to
        ``grace`` seconds, flush links, then stop; what did not finish is reported in
        :attr:`undelivered`."""
        self._closing = True
        with trio.move_on_after(grace):
            await self.drain()
            for link in list(self._links.values()):
                try:
                    await link.sender.flush()
                except (trio.BrokenResourceError, SymphonyError):
                    pass
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()
        await trio.lowlevel.checkpoint()
