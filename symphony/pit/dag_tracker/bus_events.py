"""Progress events on the message bus: an :class:`~.events.EventSink` over ``symphony.bus``.

Topics (dot-separated; a run or node id's ``.``, ``*`` and ``#`` become ``_`` in the topic,
the payload carries the exact ids):

* ``runs.<run_id>.nodes.<node_id>.<event>`` — ``started``, ``succeeded``, ``failed``,
  ``skipped``, ``retrying``, ``cancelled``, ``waiting``;
* ``runs.<run_id>.run.<state>`` — ``running``, ``paused``, ``completed``, ``failed`` …;
* ``runs.<run_id>.progress`` — after each batch of a run's events: ``done``, ``total``,
  ``percent`` as of its last event.

Subscribe with ``runs.<run_id>.#`` for everything of one run, ``runs.*.progress`` for
progress of all runs, ``runs.*.nodes.*.failed`` for failures.

Payloads are plain dicts: ``kind`` (the :class:`~.events.ProgressEvent` kind, e.g.
``node.succeeded``), ``run_id``, ``node``, ``done``, ``total``, ``percent``, ``at``,
``detail``.

The executor calls :meth:`BusEventSink.publish` synchronously on its path; it appends the
batch to a bounded queue (never blocks: beyond ``max_buffer`` queued events newer ones are
dropped and counted in :attr:`BusEventSink.dropped`). The :meth:`BusEventSink.run` service
publishes them on the bus one by one, in order — events of one run reach a subscriber in
the order they happened.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any, Protocol

import trio

from symphony.pit.dag_tracker.events import ProgressEvent

__all__ = ["BusEventSink", "event_payload", "event_topic", "progress_topic"]

_TABLE = str.maketrans({".": "_", "*": "_", "#": "_"})


class Publisher(Protocol):
    """What :class:`BusEventSink` needs: :meth:`symphony.bus.Bus.publish`."""

    async def publish(self, topic: str, payload: Any = None, *, source: str = "") -> int:
        """Publish one event."""
        ...


def _seg(text: str) -> str:
    return text.translate(_TABLE) or "_"


def event_topic(ev: ProgressEvent) -> str:
    """The bus topic of one event (see the module docstring)."""
    kind, _, what = ev.kind.partition(".")
    if kind == "node":
        return f"runs.{_seg(ev.run_id)}.nodes.{_seg(ev.node)}.{_seg(what)}"
    return f"runs.{_seg(ev.run_id)}.run.{_seg(what)}"


def progress_topic(run_id: str) -> str:
    """``runs.<run_id>.progress``."""
    return f"runs.{_seg(run_id)}.progress"


def event_payload(ev: ProgressEvent) -> dict[str, object]:
    """The plain-data payload of one event."""
    return {
        "kind": ev.kind,
        "run_id": ev.run_id,
        "node": ev.node,
        "done": ev.done,
        "total": ev.total,
        "percent": ev.percent,
        "at": ev.at,
        "detail": ev.detail,
    }


class BusEventSink:
    """Publishes a DagTracker's progress events on a bus (give it as ``DagTracker(sink=)``
    and run :meth:`run` in a nursery, e.g. ``await nursery.start(sink.run)``).

    Args:
        bus: a :class:`symphony.bus.Bus` (anything with its ``publish``).
        source: the messages' source.
        max_buffer: events queued at most before newer ones are dropped (and counted).
        progress: also publish ``runs.<run_id>.progress`` after each batch.
    """

    def __init__(self, bus: Publisher, *, source: str = "dag-tracker", max_buffer: int = 100_000,
                 progress: bool = True) -> None:
        self.bus = bus
        self.source = source
        self.max_buffer = max_buffer
        self.progress = progress
        self.dropped = 0
        self.published = 0
        self._queue: deque[ProgressEvent] = deque()
        self._lot = trio.lowlevel.ParkingLot()
        self._idle = trio.lowlevel.ParkingLot()
        self._waiting = False
        self._busy = False

    @property
    def active(self) -> bool:
        """Always: events go to the bus whether or not someone listens right now."""
        return True

    def publish(self, events: Sequence[ProgressEvent]) -> None:
        """Queue a batch (non-blocking; the executor calls this)."""
        room = self.max_buffer - len(self._queue)
        if room < len(events):
            keep = max(room, 0)
            self.dropped += len(events) - keep
            events = events[:keep]
        if events:
            self._queue.extend(events)
            if self._waiting:
                self._waiting = False
                self._lot.unpark()

    async def run(
        self, *, task_status: trio.TaskStatus[BusEventSink] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Publish queued events, in order, until cancelled."""
        task_status.started(self)
        queue = self._queue
        publish = self.bus.publish
        source = self.source
        while True:
            if not queue:
                self._idle.unpark_all()
                self._waiting = True
                await self._lot.park()
                continue
            self._busy = True
            try:
                last: dict[str, ProgressEvent] = {}
                while queue:
                    ev = queue.popleft()
                    await publish(event_topic(ev), event_payload(ev), source=source)
                    self.published += 1
                    last[ev.run_id] = ev
                if self.progress:
                    for run_id, ev in last.items():
                        await publish(
                            progress_topic(run_id),
                            {"run_id": run_id, "done": ev.done, "total": ev.total,
                             "percent": ev.percent, "at": ev.at, "last": ev.kind},
                            source=source,
                        )
            finally:
                self._busy = False

    async def drain(self) -> None:
        """Wait until every queued event was published (needs :meth:`run` running)."""
        while self._queue or self._busy:
            await self._idle.park()
