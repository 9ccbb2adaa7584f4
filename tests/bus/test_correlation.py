"""Request correlation: responses, timeouts from one deadline task, orphans, no leaks."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from symphony.bus import RequestCorrelator
from symphony.commons.errors import RequestTimeout
from symphony.protocol import Kind, Message


def _request() -> Message:
    return Message.new("q", kind=Kind.REQUEST)


async def test_response_timeout_orphan_and_no_leak(autojump_clock: trio.testing.MockClock) -> None:
    corr = RequestCorrelator(default_timeout=1.0)
    async with trio.open_nursery() as nursery:
        await nursery.start(corr.run)
        req = _request()
        p = corr.track(req.id, 0.5)
        reply = req.reply({"ok": 1})

        async def respond() -> None:
            assert corr.correlate(reply)

        nursery.start_soon(respond)
        assert await corr.wait(p) == reply

        slow = corr.track(_request().id, 0.25)
        start = trio.current_time()
        with pytest.raises(RequestTimeout, match="within its deadline"):
            await corr.wait(slow)
        assert trio.current_time() - start == pytest.approx(0.25)
        # the late response is an orphan: dropped and counted
        assert not corr.correlate(Message.new("q", kind=Kind.RESPONSE, correlation_id=slow.key))
        assert corr.stats.orphaned == 1 and corr.stats.timed_out == 1
        assert len(corr) == 0
        nursery.cancel_scope.cancel()


async def test_earlier_deadline_wakes_the_deadline_task(
    autojump_clock: trio.testing.MockClock,
) -> None:
    corr = RequestCorrelator()
    async with trio.open_nursery() as nursery:
        await nursery.start(corr.run)
        late = corr.track("late", 10.0)
        early = corr.track("early", 0.1)
        with pytest.raises(RequestTimeout):
            await corr.wait(early)
        assert trio.current_time() == pytest.approx(0.1)
        assert not late.done
        nursery.cancel_scope.cancel()


async def test_thousands_of_requests_leave_nothing_behind(
    autojump_clock: trio.testing.MockClock,
) -> None:
    corr = RequestCorrelator()
    outcomes = {"ok": 0, "timeout": 0, "cancelled": 0}

    async def one(i: int) -> None:
        p = corr.track(("r", i), 1.0 + (i % 7) * 0.1)
        try:
            with trio.move_on_after(0.5 if i % 5 == 0 else 100) as scope:
                await corr.wait(p)
                outcomes["ok"] += 1
            if scope.cancelled_caught:
                outcomes["cancelled"] += 1
        except RequestTimeout:
            outcomes["timeout"] += 1

    async with trio.open_nursery() as nursery:
        await nursery.start(corr.run)
        async with trio.open_nursery() as reqs:
            for i in range(3000):
                reqs.start_soon(one, i)
            await trio.testing.wait_all_tasks_blocked()
            for i in range(0, 3000, 3):
                corr.complete(("r", i), "value")
        nursery.cancel_scope.cancel()
    assert sum(outcomes.values()) == 3000
    assert outcomes["ok"] == 1000 and outcomes["cancelled"] == 400 and outcomes["timeout"] == 1600
    assert len(corr) == 0, "pending entries leaked"
    assert corr.next_deadline() == float("inf") and corr.heap_size == 0
    assert corr.stats.cancelled == 400


async def test_callback_style_and_fail_all(autojump_clock: trio.testing.MockClock) -> None:
    corr = RequestCorrelator()
    seen: list[object] = []
    corr.track("a", 1.0, callback=lambda o: seen.append(o))
    corr.track("b", 1.0, callback=lambda o: seen.append(o))
    assert corr.complete("a", 42)
    assert corr.fail_all(RuntimeError("link down")) == 1
    assert seen[0].unwrap() == 42  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="link down"):
        seen[1].unwrap()  # type: ignore[attr-defined]
    assert len(corr) == 0


async def test_many_completed_requests_compact_the_heap() -> None:
    corr = RequestCorrelator()
    for i in range(10_000):
        corr.track(i, 60.0)
        corr.complete(i, None)
    assert len(corr) == 0 and corr.heap_size <= 130
