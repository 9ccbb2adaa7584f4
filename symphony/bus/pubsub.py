"""Topic publish/subscribe with ``*`` and ``#`` wildcards (seed M1.5.5).

Topics are dot-separated segments (``editor.buffer.changed``). A subscription pattern may use
``*`` for exactly one segment and ``#`` for any number of segments, zero included
(``editor.#`` matches ``editor`` and ``editor.a.b``), as in AMQP.

Matching: patterns live in a trie of segments; a topic is matched by walking it (cost grows
with the topic's length and the wildcards on the way, not with the number of
subscriptions), and the answer is cached per topic until the next (un)subscribe.

Delivery is *handler style* (TARGETS.md: 1,000 subscribers as plain calls cost ~80 µs, as
1,000 trio tasks 6.35 ms): the publisher's task calls each matching subscription in turn:

* ``handler`` is a plain function -> called inline;
* ``handler`` is an ``async def`` -> awaited inline (no task spawned);
* no handler -> the subscription has a bounded *buffer* read with ``await sub.receive()``
  or ``async for``; when the buffer is full the subscription's :class:`Policy` decides:
  ``BLOCK`` (the publisher waits for room), ``DROP_OLDEST`` (the oldest buffered message is
  discarded and counted) or ``DISCONNECT`` (the subscription is closed; its reader gets
  :class:`~symphony.commons.errors.SubscriberDisconnected`). Memory is never unbounded.

A per-subscription ``filter(message) -> bool`` skips messages before delivery. A handler that
raises is counted (``errors``) and does not stop delivery to the others.
"""

from __future__ import annotations

import enum
import inspect
import itertools
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from symphony.commons.errors import LocalProtocolError, SubscriberDisconnected

__all__ = ["Policy", "PubSub", "Subscription", "topic_matches"]


class Policy(enum.Enum):
    """What a buffered subscription does when its buffer is full."""

    BLOCK = "block"
    DROP_OLDEST = "drop_oldest"
    DISCONNECT = "disconnect"


_SYNC, _ASYNC, _BUFFER = 0, 1, 2


def _check_pattern(pattern: str) -> list[str]:
    if not isinstance(pattern, str) or not pattern:
        raise LocalProtocolError(f"topic pattern must be a non-empty str, got {pattern!r}")
    segs = pattern.split(".")
    for s in segs:
        if not s or (("*" in s or "#" in s) and s not in ("*", "#")):
            raise LocalProtocolError(
                f"bad topic pattern {pattern!r}: segment {s!r} (wildcards are whole segments)"
            )
    return segs


def topic_matches(pattern: str, topic: str) -> bool:
    """Whether ``pattern`` matches ``topic`` (the specification the trie must agree with)."""

    def go(p: list[str], t: list[str]) -> bool:
        if not p:
            return not t
        head = p[0]
        if head == "#":
            return any(go(p[1:], t[i:]) for i in range(len(t) + 1))
        if not t:
            return False
        return (head == "*" or head == t[0]) and go(p[1:], t[1:])

    return go(pattern.split("."), topic.split("."))


class Subscription:
    """One subscription (made by :meth:`PubSub.subscribe`)."""

    __slots__ = (
        "_buf",
        "_data",
        "_kind",
        "_owner",
        "_space",
        "closed",
        "delivered",
        "dropped",
        "errors",
        "filter",
        "handler",
        "id",
        "maxsize",
        "pattern",
        "policy",
        "subscriber",
    )

    def __init__(
        self,
        owner: PubSub,
        id: int,
        pattern: str,
        handler: Callable[[Any], Any] | None,
        filter: Callable[[Any], bool] | None,
        subscriber: str,
        maxsize: int,
        policy: Policy,
    ) -> None:
        self._owner: PubSub | None = owner
        self.id = id
        self.pattern = pattern
        self.handler = handler
        self.filter = filter
        self.subscriber = subscriber
        self.maxsize = maxsize
        self.policy = policy
        self.delivered = 0
        """Messages handed to the handler or buffered."""
        self.dropped = 0
        """Messages discarded by ``DROP_OLDEST``."""
        self.errors = 0
        """Handler calls that raised."""
        self.closed: BaseException | None = None
        if handler is None:
            self._kind = _BUFFER
        elif inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
            getattr(handler, "__call__", None)  # noqa: B004
        ):
            self._kind = _ASYNC
        else:
            self._kind = _SYNC
        self._buf: deque[Any] = deque()
        self._data = trio.lowlevel.ParkingLot()
        self._space = trio.lowlevel.ParkingLot()

    def __repr__(self) -> str:
        return f"<Subscription {self.id} {self.pattern!r} by {self.subscriber!r}>"

    # ---- buffered delivery ----------------------------------------------------------
    def _offer(self, msg: Any) -> bool:
        """Buffer ``msg`` now if the policy allows; False means BLOCK and full."""
        buf = self._buf
        if len(buf) >= self.maxsize:
            if self.policy is Policy.DROP_OLDEST:
                buf.popleft()
                self.dropped += 1
            elif self.policy is Policy.DISCONNECT:
                self._close(
                    SubscriberDisconnected(
                        f"subscription {self.id} ({self.pattern!r} by {self.subscriber!r}) "
                        f"fell {self.maxsize} messages behind and was disconnected"
                    )
                )
                return True
            else:
                return False
        buf.append(msg)
        self.delivered += 1
        if self._data:
            self._data.unpark()
        return True

    async def _put(self, msg: Any) -> None:
        while not self._offer(msg):
            if self.closed is not None:
                return
            await self._space.park()

    @property
    def pending(self) -> int:
        """Messages buffered and not yet received."""
        return len(self._buf)

    def receive_nowait(self) -> Any:
        """The oldest buffered message.

        Raises:
            trio.WouldBlock: nothing buffered.
            SubscriberDisconnected / trio.ClosedResourceError: the subscription is closed and
                drained.
        """
        if self._buf:
            msg = self._buf.popleft()
            if self._space:
                self._space.unpark()
            return msg
        if self.closed is not None:
            raise self.closed
        raise trio.WouldBlock

    async def receive(self) -> Any:
        """The next message, waiting for one (buffered subscriptions only)."""
        if self._kind != _BUFFER:
            raise LocalProtocolError(f"subscription {self.id} has a handler; nothing to receive")
        await trio.lowlevel.checkpoint_if_cancelled()
        while True:
            try:
                return self.receive_nowait()
            except trio.WouldBlock:
                await self._data.park()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self.receive()
        except (trio.ClosedResourceError, SubscriberDisconnected):
            raise StopAsyncIteration from None

    def _close(self, why: BaseException) -> None:
        if self.closed is None:
            self.closed = why
            if self._owner is not None:
                self._owner._remove(self)
            self._data.unpark_all()
            self._space.unpark_all()

    def unsubscribe(self) -> None:
        """Stop delivery; a reader drains what is buffered, then iteration ends."""
        self._close(trio.ClosedResourceError(f"subscription {self.id} was unsubscribed"))


class _Node:
    __slots__ = ("children", "subs")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.subs: list[Subscription] = []


class PubSub:
    """Subscriptions in a segment trie with a per-topic match cache (module docstring).

    Args:
        cache_size: most topics whose match list is cached (cleared when full).
    """

    def __init__(self, cache_size: int = 65536) -> None:
        self._root = _Node()
        self._by_id: dict[int, Subscription] = {}
        self._by_subscriber: dict[str, dict[int, Subscription]] = {}
        self._cache: dict[str, tuple[Subscription, ...]] = {}
        self._cache_size = cache_size
        self._ids = itertools.count(1)
        self.published = 0
        self.errors = 0
        self.disconnected = 0

    def __len__(self) -> int:
        return len(self._by_id)

    def subscribe(
        self,
        pattern: str,
        handler: Callable[[Any], Any] | None = None,
        *,
        filter: Callable[[Any], bool] | None = None,
        subscriber: str = "",
        maxsize: int = 1024,
        policy: Policy | str = Policy.BLOCK,
    ) -> Subscription:
        """Subscribe to ``pattern``.

        Args:
            handler: called with each message (plain or ``async def``); None gives a
                buffered subscription to read with ``receive``.
            filter: only messages for which ``filter(msg)`` is true are delivered.
            subscriber: the subscribing endpoint (for :meth:`unsubscribe_all`).
            maxsize: buffer bound (buffered subscriptions).
            policy: what happens when the buffer is full.
        """
        segs = _check_pattern(pattern)
        if maxsize < 1:
            raise LocalProtocolError(f"maxsize must be >= 1, got {maxsize}")
        sub = Subscription(
            self, next(self._ids), pattern, handler, filter, subscriber, maxsize, Policy(policy)
        )
        node = self._root
        for s in segs:
            nxt = node.children.get(s)
            if nxt is None:
                nxt = node.children[s] = _Node()
            node = nxt
        node.subs.append(sub)
        self._by_id[sub.id] = sub
        self._by_subscriber.setdefault(subscriber, {})[sub.id] = sub
        self._cache.clear()
        return sub

    def unsubscribe(self, sub: Subscription | int) -> bool:
        """Remove a subscription (or its id); False if it was not subscribed."""
        s = self._by_id.get(sub if isinstance(sub, int) else sub.id)
        if s is None:
            return False
        s.unsubscribe()
        return True

    def unsubscribe_all(self, subscriber: str) -> int:
        """Remove every subscription of ``subscriber``; how many."""
        subs = list(self._by_subscriber.get(subscriber, {}).values())
        for s in subs:
            s.unsubscribe()
        return len(subs)

    def _remove(self, sub: Subscription) -> None:
        if self._by_id.pop(sub.id, None) is None:
            return
        owned = self._by_subscriber.get(sub.subscriber)
        if owned is not None:
            owned.pop(sub.id, None)
            if not owned:
                del self._by_subscriber[sub.subscriber]
        path = [self._root]
        segs = sub.pattern.split(".")
        for s in segs:
            path.append(path[-1].children[s])
        path[-1].subs.remove(sub)
        for i in range(len(segs), 0, -1):  # prune empty branches
            node = path[i]
            if node.subs or node.children:
                break
            del path[i - 1].children[segs[i - 1]]
        sub._owner = None
        if isinstance(sub.closed, SubscriberDisconnected):
            self.disconnected += 1
        self._cache.clear()

    # ---- matching --------------------------------------------------------------------
    def match(self, topic: str) -> tuple[Subscription, ...]:
        """Subscriptions whose pattern matches ``topic``, oldest first (each once)."""
        hit = self._cache.get(topic)
        if hit is not None:
            return hit
        found: dict[int, Subscription] = {}
        segs = topic.split(".")
        n = len(segs)

        def walk(node: _Node, i: int) -> None:
            hash_node = node.children.get("#")
            if hash_node is not None:
                for j in range(i, n + 1):
                    walk(hash_node, j)
            if i == n:
                for s in node.subs:
                    found[s.id] = s
                return
            child = node.children.get(segs[i])
            if child is not None:
                walk(child, i + 1)
            star = node.children.get("*")
            if star is not None:
                walk(star, i + 1)

        walk(self._root, 0)
        result = tuple(found[k] for k in sorted(found))
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[topic] = result
        return result

    def subscribers(self, topic: str) -> list[Subscription]:
        return list(self.match(topic))

    # ---- delivery --------------------------------------------------------------------
    async def publish(self, topic: str, msg: Any) -> int:
        """Deliver ``msg`` to every subscription matching ``topic``; how many took it.

        Does not yield to the scheduler unless an async handler yields or a ``BLOCK``
        buffer is full.
        """
        subs = self._cache.get(topic)
        if subs is None:
            subs = self.match(topic)
        self.published += 1
        n = 0
        for s in subs:
            if s.filter is not None and not s.filter(msg):
                continue
            kind = s._kind
            try:
                if kind == _SYNC:
                    s.handler(msg)  # type: ignore[misc]
                    s.delivered += 1
                elif kind == _ASYNC:
                    await s.handler(msg)  # type: ignore[misc]
                    s.delivered += 1
                elif not s._offer(msg):
                    await s._put(msg)
            except Exception:
                s.errors += 1
                self.errors += 1
                continue
            n += 1
        return n

    async def publish_many(self, topic: str, msgs: list[Any]) -> int:
        """:meth:`publish` of each of ``msgs`` (all on ``topic``), matching once.

        Each subscription gets the messages in order, one subscription after the other
        (with :meth:`publish` in a loop it would be one message after the other); filters,
        policies and error counting are the same. Returns the number of deliveries.
        """
        subs = self._cache.get(topic)
        if subs is None:
            subs = self.match(topic)
        self.published += len(msgs)
        n = 0
        for s in subs:
            flt = s.filter
            kind = s._kind
            if kind == _SYNC and flt is None:  # the common case: a plain call per message
                handler = s.handler
                for msg in msgs:
                    try:
                        handler(msg)  # type: ignore[misc]
                    except Exception:
                        s.errors += 1
                        self.errors += 1
                        continue
                    s.delivered += 1
                    n += 1
                continue
            # the general case: publish()'s per-subscription body, repeated on purpose (a
            # shared coroutine would add an await to every publish, about doubling its cost in
            # a microbenchmark with one plain subscriber)
            for msg in msgs:
                if flt is not None and not flt(msg):
                    continue
                try:
                    if kind == _SYNC:
                        s.handler(msg)  # type: ignore[misc]
                        s.delivered += 1
                    elif kind == _ASYNC:
                        await s.handler(msg)  # type: ignore[misc]
                        s.delivered += 1
                    elif not s._offer(msg):
                        await s._put(msg)
                except Exception:
                    s.errors += 1
                    self.errors += 1
                    continue
                n += 1
        return n

    def publish_nowait(self, topic: str, msg: Any) -> int:
        """Like :meth:`publish` for plain handlers and buffers that have room; an async
        handler or a full ``BLOCK`` buffer raises ``trio.WouldBlock`` before anything is
        delivered (so the call can be retried with ``await publish``)."""
        subs = self._cache.get(topic)
        if subs is None:
            subs = self.match(topic)
        for s in subs:
            if s._kind == _ASYNC or (
                s._kind == _BUFFER and s.policy is Policy.BLOCK and len(s._buf) >= s.maxsize
            ):
                raise trio.WouldBlock
        self.published += 1
        n = 0
        for s in subs:
            if s.filter is not None and not s.filter(msg):
                continue
            try:
                if s._kind == _SYNC:
                    s.handler(msg)  # type: ignore[misc]
                    s.delivered += 1
                else:
                    s._offer(msg)
            except Exception:
                s.errors += 1
                self.errors += 1
                continue
            n += 1
        return n


Handler = Callable[[Any], Awaitable[Any] | Any]
