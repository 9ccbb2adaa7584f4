"""Pub/sub: wildcards (trie vs the spec), filters, unsubscribe, slow-subscriber policies."""

from __future__ import annotations

import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from symphony.bus import Policy, PubSub, topic_matches
from symphony.commons.errors import LocalProtocolError, SubscriberDisconnected

SEGS = ["a", "b", "c"]


def test_wildcards() -> None:
    assert topic_matches("a.*", "a.b") and not topic_matches("a.*", "a")
    assert not topic_matches("a.*", "a.b.c")
    assert topic_matches("a.#", "a") and topic_matches("a.#", "a.b.c")
    assert topic_matches("#", "x.y") and topic_matches("#.c", "a.b.c")
    assert topic_matches("a.#.c", "a.c") and topic_matches("a.#.c", "a.x.y.c")
    assert not topic_matches("a.#.c", "a.x.y")


@given(
    st.lists(
        st.lists(st.sampled_from([*SEGS, "*", "#"]), min_size=1, max_size=4).map(".".join),
        max_size=8,
    ),
    st.lists(st.sampled_from(SEGS), min_size=1, max_size=5).map(".".join),
)
def test_trie_agrees_with_the_spec(patterns: list[str], topic: str) -> None:
    ps = PubSub()
    subs = [ps.subscribe(p, lambda m: None) for p in patterns]
    expect = [s for s in subs if topic_matches(s.pattern, topic)]
    assert list(ps.match(topic)) == expect
    assert list(ps.match(topic)) == expect  # cached answer is the same
    for s in subs[::2]:
        ps.unsubscribe(s)
    assert list(ps.match(topic)) == [s for s in expect if s not in subs[::2]]


def test_bad_patterns() -> None:
    ps = PubSub()
    for bad in ["", "a..b", "a*", "a.#x"]:
        with pytest.raises(LocalProtocolError):
            ps.subscribe(bad, print)


async def test_handlers_filters_and_unsubscribe() -> None:
    ps = PubSub()
    got: dict[str, list[int]] = {"sync": [], "async": [], "even": []}

    async def async_handler(m: int) -> None:
        got["async"].append(m)

    s1 = ps.subscribe("x.*", got["sync"].append, subscriber="p")
    ps.subscribe("x.#", async_handler, subscriber="p")
    ps.subscribe("x.y", got["even"].append, filter=lambda m: m % 2 == 0, subscriber="q")
    for i in range(4):
        await ps.publish("x.y", i)
    assert got == {"sync": [0, 1, 2, 3], "async": [0, 1, 2, 3], "even": [0, 2]}
    assert ps.unsubscribe(s1) and not ps.unsubscribe(s1)
    await ps.publish("x.y", 10)
    assert got["sync"] == [0, 1, 2, 3] and got["async"][-1] == 10
    assert ps.unsubscribe_all("p") == 1
    assert await ps.publish("x.y", 12) == 1 and len(ps) == 1
    assert ps.publish_nowait("x.y", 14) == 1 and got["even"] == [0, 2, 10, 12, 14]


async def test_a_failing_handler_does_not_stop_the_others() -> None:
    ps = PubSub()
    seen: list[str] = []

    def bad(_: str) -> None:
        raise ValueError("subscriber bug")

    s = ps.subscribe("t", bad)
    ps.subscribe("t", seen.append)
    assert await ps.publish("t", "m") == 1
    assert seen == ["m"] and s.errors == 1 and ps.errors == 1


async def test_drop_oldest_policy_bounds_memory() -> None:
    ps = PubSub()
    sub = ps.subscribe("t", maxsize=3, policy=Policy.DROP_OLDEST)
    for i in range(10):
        await ps.publish("t", i)
    assert sub.pending == 3 and sub.dropped == 7
    assert [await sub.receive() for _ in range(3)] == [7, 8, 9]


async def test_disconnect_policy() -> None:
    ps = PubSub()
    sub = ps.subscribe("t", maxsize=2, policy="disconnect", subscriber="slow")
    other = ps.subscribe("t", maxsize=100)
    for i in range(5):
        await ps.publish("t", i)
    assert isinstance(sub.closed, SubscriberDisconnected) and ps.disconnected == 1
    assert [await sub.receive() for _ in range(2)] == [0, 1]  # what was buffered is kept
    with pytest.raises(SubscriberDisconnected, match="fell 2 messages behind"):
        await sub.receive()
    assert other.pending == 5 and len(ps) == 1


async def test_block_policy_makes_the_publisher_wait() -> None:
    ps = PubSub()
    sub = ps.subscribe("t", maxsize=2, policy=Policy.BLOCK)
    published: list[int] = []

    async def publisher() -> None:
        for i in range(6):
            await ps.publish("t", i)
            published.append(i)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(publisher)
        await trio.testing.wait_all_tasks_blocked()
        assert published == [0, 1] and sub.pending == 2  # third publish is waiting
        with pytest.raises(trio.WouldBlock):
            ps.publish_nowait("t", 99)
        got = [await sub.receive() for _ in range(6)]
    assert got == list(range(6)) and published == list(range(6))


async def test_iteration_ends_on_unsubscribe() -> None:
    ps = PubSub()
    sub = ps.subscribe("t")
    for i in range(3):
        await ps.publish("t", i)
    sub.unsubscribe()
    assert [m async for m in sub] == [0, 1, 2]


async def test_fan_out_to_a_thousand_subscribers_calls_each_once() -> None:
    ps = PubSub()
    counts = [0] * 1000

    def make(i: int):  # type: ignore[no-untyped-def]
        def handler(_: object) -> None:
            counts[i] += 1
        return handler

    for i in range(1000):
        ps.subscribe("fan.#" if i % 2 else "fan.out", make(i))
    assert await ps.publish("fan.out", "m") == 1000
    assert counts == [1] * 1000


async def _deliveries(many: bool, msgs: list[int]) -> tuple[list[list[int]], int, list[int]]:
    ps = PubSub()
    got: list[list[int]] = [[] for _ in range(4)]

    def boom(m: int) -> None:
        if m % 3 == 0:
            raise ValueError(m)
        got[0].append(m)

    async def ahandler(m: int) -> None:
        await trio.lowlevel.checkpoint()
        got[1].append(m)

    ps.subscribe("a.*", boom)
    ps.subscribe("a.#", ahandler, filter=lambda m: m % 2 == 0)
    ps.subscribe("#", lambda m: got[2].append(m))
    buf = ps.subscribe("a.b", maxsize=4, policy=Policy.DROP_OLDEST)
    ps.subscribe("other", lambda m: got[3].append(m))
    if many:
        n = await ps.publish_many("a.b", msgs)
    else:
        n = 0
        for m in msgs:
            n += await ps.publish("a.b", m)
    drained = []
    while True:
        try:
            drained.append(buf.receive_nowait())
        except trio.WouldBlock:
            break
    assert ps.published == len(msgs)
    return got, n, drained


async def test_publish_many_equals_publish_per_subscriber() -> None:
    msgs = list(range(20))
    assert await _deliveries(True, msgs) == await _deliveries(False, msgs)
    got, n, drained = await _deliveries(True, msgs)
    assert got[3] == [] and drained == [16, 17, 18, 19]
    assert n == len(got[0]) + len(got[1]) + len(got[2]) + len(msgs)  # + every buffer offer
    assert got[0] == [m for m in msgs if m % 3] and got[1] == [m for m in msgs if m % 2 == 0]
