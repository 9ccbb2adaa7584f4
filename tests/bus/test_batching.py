"""Batching: size and time flushes, nothing lost or reordered (Hypothesis)."""

from __future__ import annotations

import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from symphony.bus import BatchSender, MessageBatcher
from symphony.commons.errors import LocalProtocolError

ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 10**6)),
        st.tuples(st.just("tick"), st.floats(0, 0.05)),
        st.tuples(st.just("flush"), st.just(0)),
    ),
    max_size=300,
)


@given(ops, st.integers(1, 17), st.floats(0, 0.03))
def test_no_message_lost_or_reordered(
    script: list[tuple[str, float]], max_size: int, max_delay: float
) -> None:
    b: MessageBatcher[int] = MessageBatcher(max_size, max_delay)
    now = 0.0
    added: list[int] = []
    batches: list[list[int]] = []
    for op, arg in script:
        if op == "add":
            added.append(int(arg))
            full = b.add(int(arg), now)
            if full is not None:
                batches.append(full)
        elif op == "tick":
            now += arg
        else:
            batches.append(b.flush())
        if b.should_flush(now):
            assert b.pending and now >= b.deadline - 1e-9
            batches.append(b.flush())
        elif b.pending:
            assert now <= b.deadline + 1e-9  # nothing waits longer than max_delay
    batches.append(b.flush())
    assert [x for batch in batches for x in batch] == added
    assert all(len(batch) <= max_size for batch in batches)


def test_bad_parameters() -> None:
    with pytest.raises(LocalProtocolError):
        MessageBatcher(0, 0.1)
    with pytest.raises(LocalProtocolError):
        MessageBatcher(1, -1)


async def test_sender_flushes_by_size_and_by_time(autojump_clock: trio.testing.MockClock) -> None:
    sent: list[tuple[float, list[int]]] = []

    async def send_batch(batch: list[int]) -> None:
        sent.append((trio.current_time(), batch))

    sender: BatchSender[int] = BatchSender(send_batch, max_size=4, max_delay=0.01)
    async with trio.open_nursery() as nursery:
        await nursery.start(sender.run)
        for i in range(9):
            sender.add_nowait(i)
        await trio.testing.wait_all_tasks_blocked()
        assert [b for _, b in sent] == [[0, 1, 2, 3], [4, 5, 6, 7]]  # size-based
        await trio.sleep(0.02)
        assert [b for _, b in sent][-1] == [8]  # time-based, after max_delay
        assert sent[-1][0] == pytest.approx(0.01)
        await sender.flush()
        nursery.cancel_scope.cancel()
    assert sender.items_sent == 9 and sender.queued == 0


async def test_sender_back_pressure() -> None:
    release = trio.Event()
    got: list[int] = []

    async def slow(batch: list[int]) -> None:
        await release.wait()
        got.extend(batch)

    sender: BatchSender[int] = BatchSender(slow, max_size=2, max_batches=2)
    async with trio.open_nursery() as nursery:
        await nursery.start(sender.run)
        added = 0

        async def producer() -> None:
            nonlocal added
            for i in range(100):
                await sender.add(i)
                added += 1

        nursery.start_soon(producer)
        await trio.testing.wait_all_tasks_blocked()
        assert added < 100  # bounded: the producer waits
        release.set()
        await trio.testing.wait_all_tasks_blocked()
        await sender.flush()
        nursery.cancel_scope.cancel()
    assert got == list(range(100))
