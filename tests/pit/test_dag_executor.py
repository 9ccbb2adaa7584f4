"""DAG Tracker execution: parallelism, limits, failures, retries, timeouts, conditionals,
control nodes, control commands, events, metrics, and large runs."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import pytest
import trio

from symphony.commons.errors import InvalidStateTransition, WorkflowValidationError
from symphony.pit.dag_tracker import (
    DagTracker,
    EventHub,
    ProgressEvent,
    RunOptions,
    RunStore,
)
from symphony.pit.dag_tracker.executor import _backoff
from symphony.workflow.model import (
    BranchNode,
    ConditionalEdge,
    ControlEdge,
    DataEdge,
    GateNode,
    MapNode,
    MergeNode,
    NodePolicy,
    OperatorNode,
    Workflow,
    port,
)
from symphony.workflow.predicates import parse_predicate
from symphony.workflow.state import NodeState, RunState

from ._dag_helpers import chain, fan_out, op, random_dag, registry

NS = NodeState


def engine(**opts: object) -> DagTracker:
    return DagTracker(operators=registry(), options=RunOptions(journal=False, **opts))  # type: ignore[arg-type]


def wf_of(nodes: Sequence[object], edges: Sequence[object] = ()) -> Workflow:
    return Workflow(id="t", nodes=tuple(nodes), edges=tuple(edges))  # type: ignore[arg-type]


async def test_data_flows_along_edges_in_order() -> None:
    wf = wf_of(
        [op("a", "core.identity", inputs=("value",), outputs=("value",)),
         op("b", "core.identity", inputs=("value",), outputs=("value",))],
        [DataEdge("a", "value", "b", "value")],
    )
    wf = wf.evolve(nodes=(
        OperatorNode(id="a", operator="core.identity",
                     inputs=(port("value", "int", default=41),), outputs=(port("value", "int"),)),
        wf.nodes[1],
    ))
    run = engine().create(wf)
    s = await run.execute()
    assert s.state is RunState.COMPLETED
    assert run.outputs("b") == {"value": 41}
    assert run.node_states() == {"a": NS.SUCCEEDED, "b": NS.SUCCEEDED}


async def test_async_nodes_run_concurrently_up_to_the_limit() -> None:
    box: dict[str, object] = {}
    nodes = [op(f"n{i}", "t.tracked", {"box": box, "sleep": 0.02, "name": i}) for i in range(12)]
    s = await engine(concurrency=4).run(wf_of(nodes))
    assert s.state is RunState.COMPLETED
    assert box["max"] == 4  # concurrent, and never above the limit

    box2: dict[str, object] = {}
    nodes = [op(f"n{i}", "t.tracked", {"box": box2, "sleep": 0.02, "name": i}) for i in range(5)]
    await engine(concurrency=64).run(wf_of(nodes))
    assert box2["max"] == 5


async def test_dependencies_are_respected_on_a_random_dag() -> None:
    box: dict[str, object] = {}
    wf = random_dag(300, seed=7, operator="t.tracked", config={"box": box, "sleep": 0})
    # give each node its own name so the order can be checked
    wf = wf.evolve(nodes=tuple(
        OperatorNode(id=n.id, operator="t.tracked", config={"box": box, "sleep": 0, "name": n.id})
        for n in wf.nodes))
    s = await engine(concurrency=8).run(wf)
    assert s.state is RunState.COMPLETED and s.counts == {"succeeded": 300}
    order = box["order"]
    assert isinstance(order, list)
    pos = {nid: k for k, nid in enumerate(order)}
    for e in wf.edges:
        assert pos[e.source] < pos[e.target]


@pytest.mark.parametrize("shape", ["random", "chain", "fan"])
async def test_ten_thousand_nodes_complete(shape: str) -> None:
    wf = {"random": random_dag, "chain": chain, "fan": fan_out}[shape](10_000)  # type: ignore[operator]
    s = await engine().run(wf)
    assert s.state is RunState.COMPLETED
    assert s.counts == {"succeeded": 10_000}


async def test_failure_blocks_only_its_dependents() -> None:
    wf = wf_of(
        [op("bad", "core.fail"), op("after-bad", "core.noop"), op("after-after", "core.noop"),
         op("free", "core.noop"), op("after-free", "core.noop")],
        [ControlEdge("bad", "after-bad"), ControlEdge("after-bad", "after-after"),
         ControlEdge("free", "after-free")],
    )
    s = await engine().run(wf)
    assert s.state is RunState.FAILED
    assert set(s.failed) == {"bad"} and "core.fail was asked to fail" in s.failed["bad"]
    assert sorted(s.blocked) == ["after-after", "after-bad"]
    assert s.counts == {"failed": 1, "pending": 2, "succeeded": 2}


async def test_fail_fast_cancels_the_rest() -> None:
    wf = wf_of([op("bad", "core.fail"), op("slow", "t.hang"), op("later", "core.noop")],
               [ControlEdge("slow", "later")])
    run = engine(fail_fast=True).create(wf)
    s = await run.execute()
    assert s.state is RunState.FAILED
    assert run.node_state("slow") is NS.CANCELLED
    assert run.node_state("later") is NS.PENDING


async def test_retries_with_backoff_then_success() -> None:
    box: dict[str, object] = {}
    wf = wf_of([op("f", "t.flaky", {"box": box, "fails": 2}, retries=3, retry_backoff=0.001)])
    hub = EventHub()
    seen: list[ProgressEvent] = []
    hub.add_callback(seen.extend)
    eng = DagTracker(operators=registry(), sink=hub, options=RunOptions(journal=False))
    run = eng.create(wf)
    s = await run.execute()
    assert s.state is RunState.COMPLETED and s.retries == 2
    assert run.outputs("f") == {"value": 3}
    assert [e.kind for e in seen if e.node] == [
        "node.started", "node.retrying", "node.started", "node.retrying", "node.started",
        "node.succeeded"]
    m = {x.node: x for x in run.metrics()}["f"]
    assert m.attempts == 3 and m.duration is not None and m.queue_wait is not None


async def test_retries_exhausted_fail_the_node() -> None:
    box: dict[str, object] = {}
    wf = wf_of([op("f", "t.flaky", {"box": box, "fails": 5}, retries=1, retry_backoff=0.001)])
    s = await engine().run(wf)
    assert s.state is RunState.FAILED and box["calls"] == 2
    assert "flaky failure 2" in s.failed["f"]


def test_backoff_is_exponential_capped_and_jittered() -> None:
    pol = NodePolicy(retry_backoff=0.1, retry_backoff_max=0.5, retry_jitter=0.2)
    rng = random.Random(3)
    for attempt, base in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.5), (9, 0.5)]:
        delays = [_backoff(pol, attempt, rng) for _ in range(200)]
        assert all(base * 0.8 - 1e-12 <= d <= base * 1.2 + 1e-12 for d in delays)
        assert max(delays) - min(delays) > base * 0.2  # the jitter is really there
    exact = NodePolicy(retry_backoff=0.1, retry_jitter=0.0)
    assert _backoff(exact, 3, rng) == pytest.approx(0.4)


async def test_timeout_fails_an_attempt_and_retries_count() -> None:
    wf = wf_of([op("h", "t.hang", timeout=0.02, retries=1, retry_backoff=0.001)])
    s = await engine().run(wf)
    assert s.state is RunState.FAILED and s.retries == 1
    assert "timed out after 0.02s (attempt 2)" in s.failed["h"]


async def test_timeout_applies_to_inline_nodes_too(tmp_path: Path) -> None:
    wf = wf_of([op("slow", "t.logged", {"log": str(tmp_path / "log"), "name": "x",
                                        "sleep": 0.5}, timeout=0.02)])
    s = await engine().run(wf)
    assert s.state is RunState.FAILED and "timed out" in s.failed["slow"]


async def test_conditional_edges_and_branch_merge() -> None:
    count = OperatorNode(id="count", operator="core.identity",
                         inputs=(port("n", "int", default=7),), outputs=(port("n", "int"),))
    big = op("big", "core.noop")
    small = op("small", "core.noop")
    branch = BranchNode(id="br", condition=parse_predicate("value > 5"),
                        inputs=(port("value", "int"),),
                        outputs=(port("then", "int"), port("else", "int")))
    hi = OperatorNode(id="hi", operator="core.identity", inputs=(port("x", "int"),),
                      outputs=(port("x", "int"),))
    lo = OperatorNode(id="lo", operator="core.identity", inputs=(port("x", "int"),),
                      outputs=(port("x", "int"),))
    merge = MergeNode(id="m", strategy="first", inputs=(port("items", "int", multi=True),),
                      outputs=(port("value", "int"),))
    wf = wf_of(
        [count, big, small, branch, hi, lo, merge],
        [ConditionalEdge("count", "big", parse_predicate("n > 5")),
         ConditionalEdge("count", "small", parse_predicate("n <= 5")),
         DataEdge("count", "n", "br", "value"),
         DataEdge("br", "then", "hi", "x"), DataEdge("br", "else", "lo", "x"),
         DataEdge("hi", "x", "m", "items"), DataEdge("lo", "x", "m", "items")],
    )
    run = engine().create(wf)
    s = await run.execute()
    assert s.state is RunState.COMPLETED
    st = run.node_states()
    assert st["big"] is NS.SUCCEEDED and st["small"] is NS.SKIPPED
    assert st["hi"] is NS.SUCCEEDED and st["lo"] is NS.SKIPPED
    assert run.outputs("m") == {"value": 7}


async def test_skips_propagate_but_merge_all_keeps_what_ran() -> None:
    src = OperatorNode(id="src", operator="core.identity", inputs=(port("v", "int", default=1),),
                       outputs=(port("v", "int"),))
    a = OperatorNode(id="a", operator="core.identity", inputs=(port("v", "int"),),
                     outputs=(port("v", "int"),))
    b = OperatorNode(id="b", operator="core.identity", inputs=(port("v", "int"),),
                     outputs=(port("v", "int"),))
    after_b = op("after-b", "core.noop")
    m = MergeNode(id="m", inputs=(port("items", "int", multi=True),),
                  outputs=(port("value", "list[int]"),))
    wf = wf_of([src, a, b, after_b, m], [
        DataEdge("src", "v", "a", "v"),
        ConditionalEdge("src", "b", parse_predicate("v > 100"), "v", "v"),
        ControlEdge("b", "after-b"),
        DataEdge("a", "v", "m", "items"), DataEdge("b", "v", "m", "items"),
    ])
    run = engine().create(wf)
    s = await run.execute()
    assert s.state is RunState.COMPLETED
    assert run.node_state("b") is NS.SKIPPED and run.node_state("after-b") is NS.SKIPPED
    assert run.outputs("m") == {"value": [1]}


async def test_map_runs_the_body_per_item() -> None:
    body = Workflow(id="body", nodes=(
        OperatorNode(id="inc", operator="core.identity", inputs=(port("x", "any"),),
                     outputs=(port("x", "any"),)),
    ))
    src = OperatorNode(id="src", operator="core.identity",
                       inputs=(port("items", "list[int]", default=[1, 2, 3, 4]),),
                       outputs=(port("items", "list[int]"),))
    mp = MapNode(id="each", body=body, item_input="inc.x", result_output="inc.x",
                 concurrency=2, inputs=(port("items", "list[int]"),),
                 outputs=(port("results", "list[int]"),))
    wf = wf_of([src, mp], [DataEdge("src", "items", "each", "items")])
    run = engine().create(wf)
    s = await run.execute()
    assert s.state is RunState.COMPLETED
    assert run.outputs("each") == {"results": [1, 2, 3, 4]}


async def test_instrument_uses_the_model_callable() -> None:
    from symphony.workflow.model import InstrumentNode, ModelSpec

    calls: list[str] = []

    async def model(spec: ModelSpec, prompt: str, params: object) -> str:
        calls.append(prompt)
        return prompt.upper()

    inst = InstrumentNode(id="llm", model=ModelSpec("test", "upper"), prompt="say {x}",
                          inputs=(port("x", "text", default="hi"),), outputs=(port("out", "text"),))
    eng = engine()
    eng.models.register("test/*", model)
    run = eng.create(wf_of([inst]))
    assert (await run.execute()).state is RunState.COMPLETED
    assert run.outputs("llm") == {"out": "SAY HI"} and calls == ["say hi"]


async def test_gate_waits_for_approval_and_can_be_rejected() -> None:
    gate = GateNode(id="g", approvals=2, inputs=(port("value", "any", default=5),),
                    outputs=(port("value", "any"),))
    wf = wf_of([gate, op("after", "core.noop")], [ControlEdge("g", "after")])
    run = engine().create(wf)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run.execute)
        while run.node_state("g") is not NS.WAITING:
            await trio.sleep(0.001)
        run.approve("g", "alice")
        await trio.sleep(0.01)
        assert run.node_state("g") is NS.WAITING  # needs two distinct approvers
        run.approve("g", "bob")
    assert run.state is RunState.COMPLETED and run.outputs("g") == {"value": 5}

    run = engine().create(wf)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run.execute)
        while run.node_state("g") is not NS.WAITING:
            await trio.sleep(0.001)
        run.reject("g")
    assert run.state is RunState.FAILED and run.node_state("after") is NS.PENDING


async def test_pause_resume_and_illegal_commands() -> None:
    box: dict[str, object] = {}
    wf = chain(20, operator="t.tracked", config={"box": box, "sleep": 0.002})
    run = engine().create(wf)
    with pytest.raises(InvalidStateTransition):
        run.pause()  # still PENDING
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run.execute)
        while len(box.get("order", [])) < 3:  # type: ignore[arg-type]
            await trio.sleep(0.001)
        run.pause()
        assert run.state is RunState.PAUSED
        with pytest.raises(InvalidStateTransition):
            run.pause()
        await trio.sleep(0.02)  # the node in flight finishes ...
        started = len(box["order"])  # type: ignore[arg-type]
        await trio.sleep(0.05)
        assert len(box["order"]) == started  # type: ignore[arg-type]  # ... nothing new starts
        run.resume()
    assert run.state is RunState.COMPLETED
    with pytest.raises(InvalidStateTransition):
        run.resume()


async def test_cancel_stops_in_flight_nodes() -> None:
    wf = wf_of([op("h1", "t.hang"), op("h2", "t.hang"), op("later", "core.noop")],
               [ControlEdge("h1", "later")])
    run = engine().create(wf)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run.execute)
        while run.node_state("h2") is not NS.RUNNING:
            await trio.sleep(0.001)
        run.cancel()
    assert run.state is RunState.CANCELLED
    assert run.node_states() == {"h1": NS.CANCELLED, "h2": NS.CANCELLED, "later": NS.PENDING}
    with pytest.raises(InvalidStateTransition):
        run.cancel()


async def test_retry_failed_runs_only_what_did_not_complete(tmp_path: Path) -> None:
    log = tmp_path / "log"
    marker = tmp_path / "marker"
    wf = wf_of(
        [op("ok", "t.logged", {"log": str(log), "name": "ok"}),
         op("bad", "core.fail", {"marker": str(marker)}),
         op("after", "t.logged", {"log": str(log), "name": "after"})],
        [ControlEdge("ok", "bad"), ControlEdge("bad", "after")],
    )
    eng = DagTracker(operators=registry(), store=RunStore(tmp_path / "runs"))
    run = eng.create(wf)
    s = await run.execute()
    assert s.state is RunState.FAILED and s.blocked == ["after"]
    with pytest.raises(InvalidStateTransition):
        await run.execute()
    assert run.retry_failed() == ["bad"]
    s = await run.execute()
    assert s.state is RunState.COMPLETED
    assert log.read_text().split() == ["ok", "after"]  # "ok" ran once
    audit = [e["command"] for e in eng.store.audit_log(run.id)]  # type: ignore[union-attr]
    assert audit == ["start", "fail", "retry", "retry-failed", "complete"]


async def test_events_reach_every_subscriber_in_order_after_the_journal() -> None:
    hub = EventHub()
    subs = [hub.subscribe(), hub.subscribe()]
    wf = random_dag(200, seed=3)
    eng = DagTracker(operators=registry(), sink=hub, options=RunOptions(journal=False))
    s = await eng.run(wf)
    assert s.state is RunState.COMPLETED
    for sub in subs:
        got = []
        while True:
            try:
                got.append(sub.receive_nowait())
            except trio.WouldBlock:
                break
        kinds = [e.kind for e in got]
        assert kinds[0] == "run.running" and kinds[-1] == "run.completed"
        assert kinds.count("node.succeeded") == 200 and kinds.count("node.started") == 200
        done = [e.done for e in got if e.kind == "node.succeeded"]
        assert done == sorted(done) and done[-1] == 200 and got[-1].percent == 100.0
        pos = {e.node: k for k, e in enumerate(got) if e.kind == "node.succeeded"}
        for e in wf.edges:
            assert pos[e.source] < pos[e.target]


async def test_events_are_published_only_after_their_records_are_written(tmp_path: Path) -> None:
    from symphony.pit.dag_tracker.journal import read_state

    store = RunStore(tmp_path)
    hub = EventHub()
    checked: list[str] = []
    run_ids: list[str] = []

    def check(batch: Sequence[ProgressEvent]) -> None:
        _, records = read_state(store.path(run_ids[0]))
        done = {r[0] for r in records if r[1] == 5}  # SUCCEEDED
        for ev in batch:
            if ev.kind == "node.succeeded":
                assert int(ev.node[1:]) in done
                checked.append(ev.node)

    hub.add_callback(check)
    eng = DagTracker(operators=registry(), store=store, sink=hub)
    run = eng.create(chain(50))
    run_ids.append(run.id)
    await run.execute()
    assert len(checked) == 50


async def test_invalid_workflows_are_refused_with_every_problem() -> None:
    wf = wf_of([op("a", "core.noop"), op("b", "core.noop")],
               [ControlEdge("a", "b"), ControlEdge("b", "a"), ControlEdge("a", "ghost")])
    with pytest.raises(WorkflowValidationError) as ei:
        engine().create(wf)
    text = str(ei.value)
    assert "ghost" in text and "cycle" in text


async def test_process_nodes_run_in_worker_processes() -> None:
    import os

    nodes = [op(f"p{i}", "t.pid", {"n": 200_000}, outputs=("pid", "value")) for i in range(6)]
    eng = DagTracker(operators=registry(), processes=2, options=RunOptions(journal=False))
    try:
        run = eng.create(wf_of(nodes))
        s = await run.execute()
    finally:
        await eng.aclose()
    assert s.state is RunState.COMPLETED
    pids = {run.outputs(f"p{i}")["pid"] for i in range(6)}  # type: ignore[index]
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert run.outputs("p0")["value"] == sum(range(200_000))  # type: ignore[index]


async def test_metrics_cover_every_node() -> None:
    run = engine().create(chain(10))
    s = await run.execute()
    ms = run.metrics()
    assert [m.node for m in ms] == [f"n{i}" for i in range(10)]
    assert all(m.state == "succeeded" and m.attempts == 1 and m.duration is not None
               and m.duration >= 0 and m.queue_wait is not None for m in ms)
    assert s.throughput > 0 and s.wall_time > 0
