"""Health monitoring: heartbeats, UNREACHABLE within 100 ms, events, metrics."""

from __future__ import annotations

import trio
import trio.testing

from symphony.bus import Bus, HealthEvent, HealthMonitor
from symphony.commons.health import HealthStatus
from symphony.transport import memory_pair


async def test_silent_endpoint_is_marked_within_100ms(
    autojump_clock: trio.testing.MockClock,
) -> None:
    answering = {"a": True, "b": True}
    events: list[HealthEvent] = []
    mon: HealthMonitor

    def ping(ep: str) -> None:
        if answering[ep]:
            mon.record_alive(ep, HealthStatus.DEGRADED if ep == "b" else HealthStatus.HEALTHY)

    mon = HealthMonitor(ping)
    mon.on_event(events.append)
    mon.watch("a")
    mon.watch("b")
    async with trio.open_nursery() as nursery:
        await nursery.start(mon.run)
        await trio.sleep(0.5)
        assert mon.get("a") is HealthStatus.HEALTHY and mon.get("b") is HealthStatus.DEGRADED
        stopped = trio.current_time()
        answering["a"] = False
        await trio.sleep(0.5)
        nursery.cancel_scope.cancel()
    down = [e for e in events if e.endpoint == "a"]
    assert [e.new for e in down] == [HealthStatus.UNREACHABLE]
    assert down[0].at - stopped <= 0.1, f"marked after {down[0].at - stopped:.3f} s"
    assert mon.unhealthy_endpoints() == ["a"]
    h = mon.endpoints["a"]
    assert h.pings > h.answers > 0 and h.misses > 0 and h.transitions == 1


async def test_bus_endpoint_behind_a_link_is_marked_when_its_bus_hangs(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Two buses over an in-memory transport; the remote bus's worker hangs in a handler
    (so it stops answering heartbeats): the local bus marks its endpoint within 100 ms."""
    hang = trio.Event()
    local, remote = Bus("local"), Bus("remote")

    async def handler(msg: object) -> None:
        await hang.wait()

    async with trio.open_nursery() as nursery:
        await nursery.start(local.run)
        await nursery.start(remote.run)
        remote.add_endpoint("worker", handler)
        a, b = memory_pair()
        nursery.start_soon(remote.connect, b)
        await local.connect(a)
        events: list[HealthEvent] = []
        local.health.on_event(events.append)
        await trio.sleep(0.3)
        assert local.health.get("worker") is HealthStatus.HEALTHY
        local.send_nowait(local_msg := _event("job", "worker"))
        assert local_msg is not None
        await trio.testing.wait_all_tasks_blocked()
        stopped = trio.current_time()
        await trio.sleep(0.3)
        assert local.health.get("worker") is HealthStatus.UNREACHABLE
        marked = next(e for e in events if e.new is HealthStatus.UNREACHABLE)
        assert marked.at - stopped <= 0.1
        hang.set()
        await trio.sleep(0.3)
        assert local.health.get("worker") is HealthStatus.HEALTHY  # recovers
        nursery.cancel_scope.cancel()


def _event(type_: str, target: str):  # type: ignore[no-untyped-def]
    from symphony.protocol import Message

    return Message.new(type_, target=target)
