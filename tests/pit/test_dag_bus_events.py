"""Issue 7: the DAG Tracker's progress events on the message bus (BusEventSink)."""

from __future__ import annotations

from collections.abc import Sequence

import trio

from symphony.bus import Bus
from symphony.pit.dag_tracker import DagTracker, ProgressEvent, RunOptions
from symphony.pit.dag_tracker.bus_events import BusEventSink, event_topic, progress_topic
from symphony.workflow.model import ControlEdge, OperatorNode, Workflow
from symphony.workflow.state import RunState

from ._dag_helpers import random_dag, registry


class _Tee:
    """Records what the executor publishes and forwards it to the bus sink."""

    def __init__(self, inner: BusEventSink) -> None:
        self.inner = inner
        self.seen: list[ProgressEvent] = []

    @property
    def active(self) -> bool:
        return True

    def publish(self, events: Sequence[ProgressEvent]) -> None:
        self.seen.extend(events)
        self.inner.publish(events)


def _drain(sub: object) -> list[object]:
    out = []
    while True:
        try:
            out.append(sub.receive_nowait())  # type: ignore[attr-defined]
        except trio.WouldBlock:
            return out


def test_a_subscriber_receives_every_event_of_a_run_in_order() -> None:
    wf = random_dag(300, seed=3, operator="core.noop_async")

    async def main() -> tuple[list[ProgressEvent], list[object], list[object], list[object],
                              str, BusEventSink]:
        bus = Bus("test")
        async with trio.open_nursery() as nursery:
            await nursery.start(bus.run)
            sink = BusEventSink(bus, max_buffer=1_000_000)
            tee = _Tee(sink)
            await nursery.start(sink.run)
            engine = DagTracker(sink=tee, options=RunOptions(journal=False, concurrency=8))
            run = engine.create(wf)
            everything = bus.subscribe(f"runs.{run.id}.#", maxsize=1_000_000)
            progress = bus.subscribe(f"runs.{run.id}.progress", maxsize=1_000_000)
            n0 = bus.subscribe("runs.*.nodes.n0.*", maxsize=1_000)
            summary = await run.execute()
            assert summary.state is RunState.COMPLETED
            await sink.drain()
            got, prog, first = _drain(everything), _drain(progress), _drain(n0)
            nursery.cancel_scope.cancel()
        return tee.seen, got, prog, first, run.id, sink

    seen, got, prog, first, run_id, sink = trio.run(main)
    assert sink.dropped == 0
    events = [m for m in got if m.type != progress_topic(run_id)]  # type: ignore[attr-defined]
    # every event the executor emitted, in order, on its topic, with its data
    assert [m.type for m in events] == [event_topic(e) for e in seen]  # type: ignore[attr-defined]
    assert [m.payload["kind"] for m in events] == [e.kind for e in seen]  # type: ignore[attr-defined]
    assert [(m.payload["node"], m.payload["done"]) for m in events] == [  # type: ignore[attr-defined]
        (e.node, e.done) for e in seen]
    kinds = [e.kind for e in seen]
    assert kinds[0] == "run.running" and kinds[-1] == "run.completed"
    assert kinds.count("node.started") == kinds.count("node.succeeded") == 300
    assert events[-1].type == f"runs.{run_id}.run.completed"  # type: ignore[attr-defined]
    # progress: non-decreasing, ends at 100 %
    pct = [m.payload["percent"] for m in prog]  # type: ignore[attr-defined]
    assert pct == sorted(pct) and pct[-1] == 100.0 and prog[-1].payload["done"] == 300  # type: ignore[attr-defined]
    # a wildcard subscription for one node's events
    assert [m.type.rsplit(".", 1)[1] for m in first] == ["started", "succeeded"]  # type: ignore[attr-defined]


def test_failures_and_skips_get_their_topics_and_ids_are_made_topic_safe() -> None:
    reg = registry()
    nodes = (OperatorNode(id="bad.node", operator="core.fail", config={"message": "boom"}),
             OperatorNode(id="after", operator="core.noop"),
             OperatorNode(id="ok", operator="core.noop"))
    wf = Workflow(id="f", nodes=nodes, edges=(ControlEdge("bad.node", "after"),))

    async def main() -> list[object]:
        bus = Bus("test")
        async with trio.open_nursery() as nursery:
            await nursery.start(bus.run)
            sink = BusEventSink(bus, progress=False)
            await nursery.start(sink.run)
            failed = bus.subscribe("runs.*.nodes.*.failed", maxsize=100)
            engine = DagTracker(operators=reg, sink=sink, options=RunOptions(journal=False))
            summary = await engine.run(wf)
            assert summary.state is RunState.FAILED
            await sink.drain()
            nursery.cancel_scope.cancel()
        return _drain(failed)

    msgs = trio.run(main)
    assert len(msgs) == 1
    assert msgs[0].type.endswith(".nodes.bad_node.failed")  # type: ignore[attr-defined]
    assert msgs[0].payload["node"] == "bad.node"  # type: ignore[attr-defined]


def test_a_full_buffer_drops_and_counts_instead_of_blocking() -> None:
    class Never:
        async def publish(self, topic: str, payload: object = None, *, source: str = "") -> int:
            raise AssertionError("not running")

    sink = BusEventSink(Never(), max_buffer=3)
    ev = ProgressEvent("node.started", "r", "n", 0, 1, 0.0)
    sink.publish([ev, ev])
    sink.publish([ev, ev])
    assert sink.dropped == 1 and len(sink._queue) == 3
    assert event_topic(ProgressEvent("run.paused", "a.b", "", 0, 1, 0.0)) == "runs.a_b.run.paused"
