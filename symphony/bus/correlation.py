"""Request/response correlation with per-request timeouts (seed M1.5.4).

Every request in flight is one entry in ``pending`` (keyed by the request's id) and one
entry in a binary heap of deadlines. ONE task (:meth:`RequestCorrelator.run`) serves the
heap: it sleeps in a cancel scope whose deadline is the earliest pending deadline (moved
earlier by :meth:`track` when needed), expires what is due, and sleeps again. No request
gets its own cancel scope or task.

A waiting requester is parked with ``trio.lowlevel.wait_task_rescheduled`` and woken by
:meth:`correlate` (its response) or by the deadline task (:class:`RequestTimeout`) — one
scheduler pass either way. Entries are removed on every outcome (response, timeout, the
waiter's cancellation, :meth:`fail_all`), and the heap is compacted when stale entries
outnumber live ones, so nothing leaks. A response whose request is unknown (late, after a
timeout, or never sent) is an *orphan*: dropped and counted.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import outcome
import trio

from symphony.commons.errors import RequestTimeout

__all__ = ["CorrelatorStats", "PendingRequest", "RequestCorrelator"]


@dataclass(slots=True)
class CorrelatorStats:
    tracked: int = 0
    completed: int = 0
    timed_out: int = 0
    orphaned: int = 0
    """Responses that matched no pending request (dropped)."""
    cancelled: int = 0
    """Waiters cancelled before an outcome (their entries removed)."""
    failed: int = 0


class PendingRequest:
    """One request in flight; resolved exactly once."""

    __slots__ = ("callback", "deadline", "done", "key", "result", "seq", "task")

    def __init__(self, key: Hashable, deadline: float, seq: int) -> None:
        self.key = key
        self.deadline = deadline
        self.seq = seq
        self.task: trio.lowlevel.Task | None = None
        self.callback: Callable[[outcome.Outcome[Any]], None] | None = None
        self.result: outcome.Outcome[Any] | None = None
        self.done = False


class RequestCorrelator:
    """Pending requests and their deadlines (see the module docstring).

    Args:
        default_timeout: seconds a request waits when ``track`` gets no timeout.
    """

    def __init__(self, default_timeout: float = 5.0) -> None:
        self.default_timeout = default_timeout
        self.pending: dict[Hashable, PendingRequest] = {}
        self._heap: list[tuple[float, int, Hashable]] = []
        self._seq = itertools.count()
        self._scope: trio.CancelScope | None = None
        self.stats = CorrelatorStats()

    def __len__(self) -> int:
        return len(self.pending)

    @property
    def heap_size(self) -> int:
        """Deadline entries held (live + not yet compacted)."""
        return len(self._heap)

    # ---- tracking --------------------------------------------------------------------
    def track(
        self,
        key: Hashable,
        timeout: float | None = None,
        *,
        callback: Callable[[outcome.Outcome[Any]], None] | None = None,
    ) -> PendingRequest:
        """Start tracking request ``key``; wait with :meth:`wait` or pass ``callback``
        (called once with the outcome: ``Value(response)`` or ``Error(RequestTimeout)``).
        Re-tracking a key replaces the old entry (which fails as timed out)."""
        now = trio.current_time()
        deadline = now + (self.default_timeout if timeout is None else timeout)
        old = self.pending.get(key)
        if old is not None:
            self._resolve(old, outcome.Error(RequestTimeout(f"request {key!r} was re-sent")))
        p = PendingRequest(key, deadline, next(self._seq))
        p.callback = callback
        self.pending[key] = p
        heapq.heappush(self._heap, (deadline, p.seq, key))
        self.stats.tracked += 1
        scope = self._scope
        if scope is not None and deadline < scope.deadline:
            scope.deadline = deadline
        if len(self._heap) > 64 and len(self._heap) > 2 * len(self.pending):
            self._compact()
        return p

    async def wait(self, p: PendingRequest) -> Any:
        """The response of ``p`` (parks the task until it arrives or times out).

        Raises:
            RequestTimeout: the deadline passed first.
        """
        if p.result is None:
            task = trio.lowlevel.current_task()
            p.task = task

            def abort(_: Any) -> trio.lowlevel.Abort:
                if not p.done:
                    p.done = True
                    p.task = None
                    if self.pending.get(p.key) is p:
                        del self.pending[p.key]
                    self.stats.cancelled += 1
                return trio.lowlevel.Abort.SUCCEEDED

            return await trio.lowlevel.wait_task_rescheduled(abort)
        await trio.lowlevel.checkpoint_if_cancelled()
        return p.result.unwrap()

    def correlate(self, response: Any) -> bool:
        """Hand ``response`` (a Message; keyed by its ``correlation_id``) to its request.

        Returns False (and counts an orphan) if no request is pending under that id.
        """
        p = self.pending.pop(response[2], None)
        if p is None:
            self.stats.orphaned += 1
            return False
        self.stats.completed += 1
        self._deliver(p, outcome.Value(response))
        return True

    def complete(self, key: Hashable, value: Any) -> bool:
        """Resolve request ``key`` with ``value`` (any object); False if unknown (orphan)."""
        p = self.pending.pop(key, None)
        if p is None:
            self.stats.orphaned += 1
            return False
        self.stats.completed += 1
        self._deliver(p, outcome.Value(value))
        return True

    def fail(self, key: Hashable, error: BaseException) -> bool:
        """Resolve request ``key`` with ``error``; False if unknown."""
        p = self.pending.pop(key, None)
        if p is None:
            return False
        self.stats.failed += 1
        self._deliver(p, outcome.Error(error))
        return True

    def fail_all(self, error: BaseException) -> int:
        """Fail every pending request (e.g. the link went down); how many."""
        items = list(self.pending.values())
        self.pending.clear()
        self._heap.clear()
        for p in items:
            self.stats.failed += 1
            self._deliver(p, outcome.Error(error))
        return len(items)

    def _resolve(self, p: PendingRequest, result: outcome.Outcome[Any]) -> None:
        if self.pending.get(p.key) is p:
            del self.pending[p.key]
        self._deliver(p, result)

    def _deliver(self, p: PendingRequest, result: outcome.Outcome[Any]) -> None:
        if p.done:
            return
        p.done = True
        p.result = result
        if p.task is not None:
            task, p.task = p.task, None
            trio.lowlevel.reschedule(task, result)
        elif p.callback is not None:
            p.callback(result)

    # ---- deadlines -------------------------------------------------------------------
    def check_timeouts(self, now: float | None = None) -> list[Hashable]:
        """Expire every request whose deadline is <= ``now``; their keys."""
        if now is None:
            now = trio.current_time()
        heap = self._heap
        expired = []
        while heap and heap[0][0] <= now:
            _, seq, key = heapq.heappop(heap)
            p = self.pending.get(key)
            if p is None or p.seq != seq:
                continue  # answered, cancelled or replaced: a stale heap entry
            del self.pending[key]
            self.stats.timed_out += 1
            expired.append(key)
            self._deliver(
                p,
                outcome.Error(
                    RequestTimeout(f"request {key!r} got no response within its deadline")
                ),
            )
        return expired

    def _compact(self) -> None:
        self._heap = [e for e in self._heap if (p := self.pending.get(e[2])) and p.seq == e[1]]
        heapq.heapify(self._heap)

    def next_deadline(self) -> float:
        """Earliest live deadline (``inf`` if none)."""
        heap = self._heap
        while heap:
            _, seq, key = heap[0]
            p = self.pending.get(key)
            if p is not None and p.seq == seq:
                return heap[0][0]
            heapq.heappop(heap)
        return math.inf

    async def run(
        self, *, task_status: trio.TaskStatus[RequestCorrelator] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """The deadline task: expire requests when due, until cancelled."""
        try:
            task_status.started(self)
            while True:
                with trio.CancelScope(deadline=self.next_deadline()) as scope:
                    self._scope = scope
                    await trio.sleep_forever()
                self._scope = None
                self.check_timeouts()
        finally:
            self._scope = None
