"""The bus: handlers, requests, send/processing loop, pub/sub, shutdown; same API across
buses linked by any transport, and across processes."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

import symphony
from symphony.bus import Bus, Policy
from symphony.commons.errors import (
    BusError,
    ConnectionClosed,
    HandlerError,
    NoRoute,
    RemoteProtocolError,
    RequestTimeout,
    SubscriberDisconnected,
)
from symphony.protocol import Kind, Message
from symphony.transport import Transport, UnixServer, memory_pair, unix_socket_pair
from symphony.transport.shm import ShmServer, shm_pair

CHILD = str(Path(__file__).with_name("_child_bus.py"))
ENV = {**os.environ, "PYTHONPATH": str(Path(symphony.__file__).parents[1])}


@asynccontextmanager
async def running(*buses: Bus) -> AsyncIterator[trio.Nursery]:
    async with trio.open_nursery() as nursery:
        for bus in buses:
            await nursery.start(bus.run)
        yield nursery
        nursery.cancel_scope.cancel()


async def test_requests_handlers_and_routing() -> None:
    bus = Bus("b")
    async with running(bus):
        async def math(msg: Message) -> Any:
            if msg.type == "div":
                a, b = msg.payload
                return a / b
            return sum(msg.payload)

        bus.add_endpoint("math", math, capabilities={"math"})
        bus.router.add_route("calc.*", "math")
        assert (await bus.request("math", "add", [1, 2, 3])).payload == 6
        reply = await bus.request("", "calc.sum", [4, 5])
        assert reply.payload == 9 and reply.kind is Kind.RESPONSE
        with pytest.raises(HandlerError, match="ZeroDivisionError"):
            await bus.request("math", "div", [1, 0])
        with pytest.raises(NoRoute, match=r"'nobody'"):
            await bus.request("nobody", "x")
        with pytest.raises(NoRoute, match=r"'unknown\.type'"):
            await bus.request("", "unknown.type")
        assert [i.id for i in bus.registry.find_by_capability("math")] == ["math"]


@pytest.mark.parametrize("style", ["async", "plain", "plain returning a coroutine"])
async def test_endpoint_handler_styles_answer_alike(style: str) -> None:
    a_bus, b_bus = Bus("a"), Bus("b")
    tasks: list[str] = []

    def compute(msg: Message) -> Any:
        tasks.append(trio.lowlevel.current_task().name)
        if msg.type == "div":
            x, y = msg.payload
            return x / y
        if msg.type == "none":
            return None
        return sum(msg.payload)

    async def async_h(msg: Message) -> Any:
        return compute(msg)

    async def later(msg: Message) -> Any:
        await trio.sleep(0)
        return compute(msg)

    handler: Any = {"async": async_h, "plain": compute,
                    "plain returning a coroutine": lambda m: later(m)}[style]
    async with running(a_bus, b_bus) as nursery:
        b_bus.add_endpoint("math", handler)
        ta, tb = memory_pair()
        nursery.start_soon(b_bus.connect, tb)
        await a_bus.connect(ta)
        for bus in (b_bus, a_bus):  # a local request, then one through the link
            tasks.clear()
            assert (await bus.request("math", "add", [1, 2, 3], timeout=5)).payload == 6
            assert (await bus.request("math", "none", timeout=5)).payload is None
            with pytest.raises(HandlerError, match="ZeroDivisionError"):
                await bus.request("math", "div", [1, 0], timeout=5)
            if style == "plain":  # answered inline: the requester's task, or the link reader
                here = trio.lowlevel.current_task().name
                assert set(tasks) == ({here} if bus is b_bus else {"symphony.bus.bus.Link.run"})
            elif bus is a_bus:  # through the link: a worker (or a task of its own), not the reader
                assert "symphony.bus.bus.Link.run" not in tasks
                assert set(tasks) <= {"symphony.bus.bus.Bus._worker",
                                      "symphony.bus.bus.Bus._finish_remote"}, tasks
        assert b_bus.stats.handler_errors == 2
        assert len(a_bus.correlator) == 0


async def test_blocking_local_handler_times_out(autojump_clock: trio.testing.MockClock) -> None:
    bus = Bus("b")
    async with running(bus):
        async def slow(msg: Message) -> str:
            await trio.sleep(msg.payload)
            return "late"

        bus.add_endpoint("slow", slow)
        assert (await bus.request("slow", "q", 0.1, timeout=1.0)).payload == "late"
        with pytest.raises(RequestTimeout, match=r"within 0\.5 s"):
            await bus.request("slow", "q", 5, timeout=0.5)


async def test_several_handlers_per_type_and_the_processing_loop() -> None:
    bus = Bus("b", workers=2)
    async with running(bus):
        seen: list[tuple[str, int]] = []

        async def h1(msg: Message) -> None:
            seen.append(("h1", msg.payload))

        async def h2(msg: Message) -> None:
            seen.append(("h2", msg.payload))

        bus.on("tick", h1)
        remove = bus.on("tick", h2)
        for i in range(3):
            await bus.send(Message.new("tick", i))
        await bus.drain()
        assert sorted(seen) == sorted([(h, i) for i in range(3) for h in ("h1", "h2")])
        remove()
        bus.send_nowait(Message.new("tick", 9))
        await bus.drain()
        assert seen[-1] == ("h1", 9) and bus.stats.handled == 4
        with pytest.raises(NoRoute):
            bus.send_nowait(Message.new("nobody.listens"))


async def test_graceful_shutdown_finishes_or_reports_in_flight() -> None:
    bus = Bus("b", inbox_size=100)
    done: list[int] = []
    gate = trio.Event()
    async with trio.open_nursery() as nursery:
        await nursery.start(bus.run)

        async def work(msg: Message) -> None:
            if msg.payload >= 5:
                await gate.wait()  # these never finish within the grace period
            done.append(msg.payload)

        bus.add_endpoint("w", work)
        for i in range(10):
            bus.send_nowait(Message.new("job", i, target="w"))
        await bus.aclose(grace=0.2)
        with pytest.raises(BusError, match="shutting down"):
            bus.send_nowait(Message.new("job", 99, target="w"))
    assert done == [0, 1, 2, 3, 4]
    assert [m.payload for m in bus.undelivered] == [6, 7, 8, 9]  # 5 was in flight (cancelled)
    assert bus.stats.undelivered == 4


async def test_local_pubsub_with_policies() -> None:
    bus = Bus("b")
    async with running(bus):
        got: list[Any] = []
        bus.subscribe("doc.*.saved", lambda m: got.append(m.payload), subscriber="ui")
        slow = bus.subscribe("doc.#", maxsize=2, policy=Policy.DISCONNECT, subscriber="slow")
        assert await bus.publish("doc.1.saved", {"rev": 1}) == 2
        await bus.publish("doc.2.saved", {"rev": 2})
        await bus.publish("doc.3.saved", {"rev": 3})
        assert got == [{"rev": 1}, {"rev": 2}, {"rev": 3}]
        assert isinstance(slow.closed, SubscriberDisconnected)
        assert bus.unsubscribe_all("ui") == 1
        assert await bus.publish("doc.4.saved") == 0


PAIRS: dict[str, Callable[[], tuple[Transport, Transport]]] = {
    "memory": memory_pair,
    "unix": unix_socket_pair,
    "shm": shm_pair,
}


@pytest.mark.parametrize("kind", list(PAIRS))
async def test_same_api_across_linked_buses(kind: str) -> None:
    a_bus, b_bus = Bus("a"), Bus("b")
    async with running(a_bus, b_bus) as nursery:
        async def echo(msg: Message) -> Any:
            return {"echo": msg.payload, "by": "b"}

        b_bus.add_endpoint("echo", echo, capabilities={"echo"})
        heard: list[Any] = []
        b_bus.subscribe("news.#", lambda m: heard.append(m.payload))
        ta, tb = PAIRS[kind]()
        nursery.start_soon(b_bus.connect, tb)
        link = await a_bus.connect(ta)
        assert link.peer == "b"
        assert a_bus.registry.lookup("echo").transport == link.name
        assert [i.id for i in a_bus.registry.find_by_capability("echo")] == ["echo"]
        for i in range(50):
            reply = await a_bus.request("echo", "ping", i, timeout=5)
            assert reply.payload == {"echo": i, "by": "b"}
        for i in range(100):
            await a_bus.publish("news.x", i)
        assert await a_bus.publish("other.topic", "not forwarded") == 0
        with trio.fail_after(10):
            while len(heard) < 100:
                await trio.sleep(0.001)
        assert heard == list(range(100))
        # a subscription made after the link is up is propagated
        back: list[Any] = []
        a_bus.subscribe("reply.*", lambda m: back.append(m.payload))
        with trio.fail_after(10):
            while not b_bus.links[0].interest.match("reply.x"):
                await trio.sleep(0.001)
        await b_bus.publish("reply.x", "hi")
        with trio.fail_after(10):
            while not back:
                await trio.sleep(0.001)
        assert back == ["hi"]
        assert a_bus.correlator.stats.completed == 50 and len(a_bus.correlator) == 0
        # the link goes down: remote endpoints disappear, requests fail fast
        await tb.aclose()
        with trio.fail_after(10):
            while "echo" in a_bus.registry:
                await trio.sleep(0.001)
        with pytest.raises(NoRoute):
            await a_bus.request("echo", "ping", 0)


@pytest.mark.parametrize("kind", list(PAIRS))
async def test_publish_many_is_publish_in_one_frame(kind: str) -> None:
    a_bus, b_bus = Bus("a"), Bus("b")
    async with running(a_bus, b_bus) as nursery:
        remote: list[Message] = []
        local: list[Message] = []
        b_bus.subscribe("news.#", remote.append)
        b_bus.subscribe("news.sports", remote.append, filter=lambda m: m.payload % 2 == 0)
        a_bus.subscribe("news.*", local.append)
        ta, tb = PAIRS[kind]()
        nursery.start_soon(b_bus.connect, tb)
        link = await a_bus.connect(ta)
        with trio.fail_after(10):
            while not link.interest.match("news.sports"):
                await trio.sleep(0.001)
        sent_before = ta.statistics().frames_sent
        assert await a_bus.publish_many("news.sports", range(10), source="feed") == 10
        assert await a_bus.publish_many("news.sports", []) == 0
        assert ta.statistics().frames_sent - sent_before <= 2  # one $batch (plus a flush)
        with trio.fail_after(10):
            while len(remote) < 15:
                await trio.sleep(0.001)
        await trio.sleep(0.01)
        assert len(remote) == 15  # 10 to news.#, the 5 even ones to the filtered one
        assert [m.payload for m in remote if m.payload % 2] == [1, 3, 5, 7, 9]
        by_id = {m.id: m for m in local}
        assert [m.payload for m in local] == list(range(10))
        assert len(by_id) == 10  # every event has its own id...
        for m in remote:  # ...and the remote side sees the same events
            twin = by_id[m.id]
            assert (m.type, m.source, m.timestamp, m.payload) == (
                twin.type, twin.source, twin.timestamp, twin.payload)
            assert m.type == "news.sports" and m.source == "feed" and m.kind == twin.kind


async def test_a_malformed_batch_takes_only_its_link_down() -> None:
    from symphony.bus.bus import _EVENT, _msg

    a_bus, b_bus = Bus("a"), Bus("b")
    async with running(a_bus, b_bus) as nursery:
        ta, tb = memory_pair()
        nursery.start_soon(b_bus.connect, tb)
        link = await a_bus.connect(ta)
        with trio.fail_after(10):
            while not b_bus.links:
                await trio.sleep(0.001)
        b_link = b_bus.links[0]
        link.send_nowait(_msg(_EVENT, "$batch", ["t", "src", [b"1", b"2"], 3, ["x"]], "a", ""))
        with trio.fail_after(10):
            while b_bus.links:
                await trio.sleep(0.001)
        assert isinstance(b_link.error, RemoteProtocolError)
        assert "malformed $batch" in str(b_link.error)
        assert await b_bus.publish("still.works", 1) == 0


@pytest.mark.parametrize("kind", ["unix", "shm"])
async def test_across_processes(kind: str, tmp_path: Path) -> None:
    path = tmp_path / f"{kind}.sock"
    bus = Bus("parent")
    async with running(bus) as nursery:
        connected = trio.Event()

        async def accept(t: Transport) -> None:
            link = await bus.connect(t)
            connected.set()
            while not link.closed:
                await trio.sleep(0.05)

        server = ShmServer(path, accept) if kind == "shm" else UnixServer(path, accept)
        await nursery.start(server.run)
        proc = await trio.lowlevel.open_process([sys.executable, CHILD, kind, str(path)], env=ENV)
        try:
            with trio.fail_after(30):
                await connected.wait()
                while "echo" not in bus.registry:
                    await trio.sleep(0.01)
            assert (await bus.request("echo", "add", [1, 2, 39], timeout=10)).payload == 42
            acks: list[Any] = []
            bus.subscribe("ack.#", lambda m: acks.append((m.type, m.payload)))
            with trio.fail_after(30):
                while not bus.links or not bus.links[0].interest.match("news.a"):
                    await trio.sleep(0.01)
                for i in range(200):
                    await bus.publish("news.a", i)
                while len(acks) < 200:
                    await trio.sleep(0.01)
            assert acks == [("ack.news.a", i) for i in range(200)]
        finally:
            proc.kill()
            await proc.wait()
        with trio.fail_after(30):
            while "echo" in bus.registry:
                await trio.sleep(0.01)


async def test_codec_mismatch_is_a_clear_error_not_a_hang() -> None:
    a_bus, b_bus = Bus("a"), Bus("b", codec="bincode")
    async with running(a_bus, b_bus) as nursery:
        ta, tb = memory_pair()
        failures: list[BaseException] = []

        async def other_side() -> None:
            try:
                await b_bus.connect(tb)
            except ConnectionClosed as exc:
                failures.append(exc)

        nursery.start_soon(other_side)
        with trio.fail_after(10), pytest.raises(ConnectionClosed) as err:
            await a_bus.connect(ta)
        with trio.fail_after(10):
            while not failures:
                await trio.sleep(0.001)
        # whichever side read first names the codecs; the other saw the link close before
        # the hello (never a hang, never a silent success)
        messages = [str(err.value), str(failures[0])]
        assert all("before the peer's hello" in m for m in messages)
        assert any("does not decode with the 'msgpack' codec" in m for m in messages) or any(
            "does not decode with the 'bincode' codec" in m for m in messages)
        assert any("same [bus] codec" in m for m in messages)
        assert not a_bus.links and not b_bus.links


@pytest.mark.parametrize("kind", list(PAIRS))
async def test_bincode_buses_across_a_link(kind: str) -> None:
    """Two buses on the bincode codec: message types and topics nobody registered still
    travel (requests, replies, events, batches) with their payloads intact."""
    a_bus, b_bus = Bus("a", codec="bincode"), Bus("b", codec="bincode")
    async with running(a_bus, b_bus) as nursery:
        got: list[tuple[str, Any]] = []
        b_bus.subscribe("news.#", lambda m: got.append((m.type, m.payload)))
        b_bus.add_endpoint("echo", lambda m: {"echo": m.payload, "type": m.type})
        ta, tb = PAIRS[kind]()
        nursery.start_soon(b_bus.connect, tb)
        link = await a_bus.connect(ta)
        with trio.fail_after(10):
            while not link.interest.match("news.x"):
                await trio.sleep(0.001)
        payload = [1, "x", {"k": b"v"}, None, 2.5, True]
        reply = await a_bus.request("echo", "some.new.type", payload, timeout=5)
        assert reply.payload == {"echo": payload, "type": "some.new.type"}
        await a_bus.publish("news.never.registered", {"n": 1})
        await a_bus.publish_many("news.batch", [1, 2])
        with trio.fail_after(10):
            while len(got) < 3:
                await trio.sleep(0.001)
        assert got == [("news.never.registered", {"n": 1}), ("news.batch", 1),
                       ("news.batch", 2)]
