"""Progress events and the in-process fan-out.

The executor hands every batch of :class:`ProgressEvent` to an :class:`EventSink` (one
synchronous, non-blocking ``publish`` call per batch, made right after the batch's journal
records were written, so an event never announces a change that a crash could lose).
:class:`EventHub` is the in-process sink: it fans each batch out to every subscriber. The
message bus (``symphony.bus``) can implement :class:`EventSink` to carry events further.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol

import trio

__all__ = ["EventHub", "EventSink", "ProgressEvent", "Subscription"]


class ProgressEvent(NamedTuple):
    """Something happened in a run (a named tuple: cheap to make on the scheduler's path).

    Attributes:
        kind: ``"node.started"``, ``"node.succeeded"``, ``"node.failed"``,
            ``"node.skipped"``, ``"node.retrying"``, ``"node.cancelled"``, ``"node.waiting"``
            or ``"run.<state>"`` (``run.running``, ``run.paused``, ``run.completed`` …).
        run_id: the run.
        node: the node id (``""`` for run events).
        done: nodes finished (succeeded, failed or skipped) so far.
        total: nodes in the workflow.
        at: ``time.time()`` when the change happened.
        detail: error text, skip reason, attempt number …
    """

    kind: str
    run_id: str
    node: str
    done: int
    total: int
    at: float
    detail: str = ""

    @property
    def percent(self) -> float:
        """Progress in percent (100.0 for an empty workflow)."""
        return 100.0 * self.done / self.total if self.total else 100.0


class EventSink(Protocol):
    """Where a run publishes its events. ``publish`` must not block (it runs on the
    scheduler's path); drop or buffer instead."""

    @property
    def active(self) -> bool:
        """False when nobody listens (the executor then does not even build events)."""
        ...

    def publish(self, events: Sequence[ProgressEvent]) -> None:
        """Deliver a batch, in order."""
        ...


class Subscription:
    """One subscriber's bounded queue of events; iterate it with ``async for``.

    Batches travel whole (one channel operation per published batch, not per event). When
    the subscriber falls more than ``max_buffer`` batches behind, newer batches are not
    delivered and :attr:`dropped` counts their events (a slow reader never blocks a run).
    """

    def __init__(self, hub: EventHub, max_buffer: int) -> None:
        self._hub = hub
        self._send, self._recv = trio.open_memory_channel[Sequence[ProgressEvent]](
            max_buffer if max_buffer > 0 else math.inf
        )
        self._pending: deque[ProgressEvent] = deque()
        self.dropped = 0

    def _deliver(self, events: Sequence[ProgressEvent]) -> None:
        try:
            self._send.send_nowait(events)
        except trio.WouldBlock:
            self.dropped += len(events)
        except trio.ClosedResourceError:
            return

    def receive_nowait(self) -> ProgressEvent:
        """The next event; raises ``trio.WouldBlock`` if none is waiting."""
        while not self._pending:
            self._pending.extend(self._recv.receive_nowait())
        return self._pending.popleft()

    async def receive(self) -> ProgressEvent:
        """The next event (waits; raises ``trio.EndOfChannel`` once the hub closed)."""
        while not self._pending:
            self._pending.extend(await self._recv.receive())
        return self._pending.popleft()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> ProgressEvent:
        try:
            return await self.receive()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None

    def close(self) -> None:
        """Unsubscribe."""
        self._hub._remove(self)
        self._send.close()


class EventHub:
    """In-process fan-out: every published batch reaches every subscriber and callback."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._callbacks: list[Callable[[Sequence[ProgressEvent]], None]] = []

    @property
    def active(self) -> bool:
        return bool(self._subs or self._callbacks)

    def subscribe(self, max_buffer: int = 10_000) -> Subscription:
        """A new subscription (``max_buffer <= 0``: unbounded)."""
        sub = Subscription(self, max_buffer)
        self._subs.append(sub)
        return sub

    def add_callback(self, fn: Callable[[Sequence[ProgressEvent]], None]) -> None:
        """Call ``fn(batch)`` synchronously for every batch (keep it fast)."""
        self._callbacks.append(fn)

    def remove_callback(self, fn: Callable[[Sequence[ProgressEvent]], None]) -> None:
        self._callbacks.remove(fn)

    def _remove(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    def publish(self, events: Sequence[ProgressEvent]) -> None:
        for sub in self._subs:
            sub._deliver(events)
        for fn in self._callbacks:
            fn(events)

    def close(self) -> None:
        """End every subscription (their iterators stop)."""
        for sub in list(self._subs):
            sub._send.close()
        self._subs.clear()
