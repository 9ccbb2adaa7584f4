"""Message batching: size- and time-based flushing, nothing lost (seed M1.5.9).

:class:`MessageBatcher` is the sans-I/O core (no trio, time passed in): ``add`` returns a
full batch when ``max_size`` is reached, ``should_flush(now)`` says when the oldest pending
item has waited ``max_delay``, ``flush`` returns what is pending. The concatenation of every
batch it returns is exactly the sequence added (the Hypothesis property in
``tests/bus/test_batching.py``).

:class:`BatchSender` drives it on trio: ``add_nowait`` never yields; one task sends full
batches at once and partial ones when their delay expires (``max_delay=0``: as soon as the
sender task runs, i.e. everything queued meanwhile goes in one write: natural batching).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import trio

from symphony.commons.errors import LocalProtocolError

__all__ = ["BatchSender", "MessageBatcher"]

T = TypeVar("T")


class MessageBatcher(Generic[T]):
    """Sans-I/O batcher.

    Args:
        max_size: a batch never holds more; reaching it flushes.
        max_delay: seconds the oldest pending item may wait before ``should_flush``.
    """

    __slots__ = ("_first", "_pending", "max_delay", "max_size")

    def __init__(self, max_size: int, max_delay: float) -> None:
        if max_size < 1:
            raise LocalProtocolError(f"max_size must be >= 1, got {max_size}")
        if not max_delay >= 0:
            raise LocalProtocolError(f"max_delay must be >= 0 seconds, got {max_delay}")
        self.max_size = max_size
        self.max_delay = max_delay
        self._pending: list[T] = []
        self._first = 0.0

    def add(self, item: T, now: float) -> list[T] | None:
        """Add ``item`` (at time ``now``); the full batch if this filled it, else None."""
        pending = self._pending
        if not pending:
            self._first = now
        pending.append(item)
        if len(pending) >= self.max_size:
            self._pending = []
            return pending
        return None

    def flush(self) -> list[T]:
        """Everything pending (possibly empty), oldest first."""
        out, self._pending = self._pending, []
        return out

    def should_flush(self, now: float) -> bool:
        """True if something is pending and the oldest has waited ``max_delay``."""
        return bool(self._pending) and now - self._first >= self.max_delay

    @property
    def deadline(self) -> float:
        """When the pending batch must go out (``inf`` if nothing is pending)."""
        return self._first + self.max_delay if self._pending else math.inf

    @property
    def pending(self) -> int:
        return len(self._pending)


class BatchSender(Generic[T]):
    """Batches items for ``send_batch(list)`` on trio (a service: ``nursery.start(run)``).

    Args:
        send_batch: awaited with each batch, in order (e.g. ``transport.send_many``).
        max_size: largest batch.
        max_delay: longest an item waits for company (0: natural batching).
        max_batches: full batches queued before ``add`` waits (back-pressure; bounded memory).
    """

    def __init__(
        self,
        send_batch: Callable[[list[T]], Awaitable[object]],
        *,
        max_size: int = 256,
        max_delay: float = 0.0,
        max_batches: int = 64,
    ) -> None:
        self._send = send_batch
        self._batcher: MessageBatcher[T] = MessageBatcher(max_size, max_delay)
        self._ready: deque[list[T]] = deque()
        self._max_batches = max_batches
        self._wake = trio.lowlevel.ParkingLot()
        self._room = trio.lowlevel.ParkingLot()
        self._flushed = trio.lowlevel.ParkingLot()
        self._scope: trio.CancelScope | None = None
        self._sending = False
        self.batches_sent = 0
        self.items_sent = 0
        self.error: BaseException | None = None

    @property
    def queued(self) -> int:
        """Items accepted and not yet handed to ``send_batch``."""
        return self._batcher.pending + sum(map(len, self._ready))

    @property
    def idle(self) -> bool:
        """Nothing queued and no batch being sent: a direct write now keeps the order."""
        return not self._sending and not self._ready and self._batcher.pending == 0

    def add_nowait(self, item: T) -> None:
        """Queue ``item`` without yielding.

        Raises:
            trio.WouldBlock: ``max_batches`` full batches are already waiting.
            trio.BrokenResourceError: the sender failed (its error is the cause).
        """
        if self.error is not None:
            raise trio.BrokenResourceError("batch sender failed") from self.error
        if len(self._ready) >= self._max_batches:
            raise trio.WouldBlock
        b = self._batcher
        was_empty = b.pending == 0
        full = b.add(item, trio.current_time() if b.max_delay else 0.0)
        if full is not None:
            self._ready.append(full)
            self._wake.unpark()
        elif was_empty:
            # wake the sender: it flushes now (max_delay 0) or arms the batch's deadline
            self._wake.unpark()

    async def add(self, item: T) -> None:
        """Queue ``item``, waiting while ``max_batches`` full batches are queued."""
        await trio.lowlevel.checkpoint_if_cancelled()
        while True:
            try:
                self.add_nowait(item)
                return
            except trio.WouldBlock:
                await self._room.park()

    async def flush(self) -> None:
        """Wait until everything queued so far was handed to ``send_batch``."""
        while self.queued and self.error is None:
            self._wake.unpark()
            await self._flushed.park()
        if self.error is not None:
            raise trio.BrokenResourceError("batch sender failed") from self.error

    async def run(
        self, *, task_status: trio.TaskStatus[BatchSender[T]] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Send batches until cancelled."""
        task_status.started(self)
        b = self._batcher
        try:
            while True:
                if not self._ready:
                    if b.pending == 0:
                        await self._wake.park()
                        continue
                    if b.max_delay > 0 and not b.should_flush(trio.current_time()):
                        with trio.move_on_at(b.deadline):
                            await self._wake.park()
                        if not self._ready and not b.should_flush(trio.current_time()):
                            continue
                    batch = self._ready.popleft() if self._ready else b.flush()
                else:
                    batch = self._ready.popleft()
                if self._room:
                    self._room.unpark_all()
                if batch:
                    self._sending = True
                    try:
                        await self._send(batch)
                    finally:
                        self._sending = False
                    self.batches_sent += 1
                    self.items_sent += len(batch)
                if not self.queued:
                    self._flushed.unpark_all()
        except BaseException as exc:
            if not isinstance(exc, trio.Cancelled):
                self.error = exc
            self._flushed.unpark_all()
            self._room.unpark_all()
            raise
