"""The PitPort adapter over the real services passes the contract suite; DAG integration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import orjson
import pytest
import trio

from symphony.commons.errors import PortInvalidRequest
from symphony.pit.arbitration import ArbitrationEngine
from symphony.pit.artifacts import AsyncArtifactStore
from symphony.pit.pool import HashingEmbedderLoader, PoolConfig, PoolManager
from symphony.pit.port import PitServices, open_pit, pool_model_fn
from symphony.ports.pit import PitPort
from symphony.ports.testing import check_pit_port
from symphony.ports.types import (
    Conflict,
    ConflictId,
    DagNode,
    ModelSpec,
    NodeId,
    NodeKind,
    NodeStatus,
    WorkflowId,
)


def _pool(tmp: Path) -> PoolManager:
    p = PoolManager(PoolConfig(memory_budget=1 << 24, tick=0.02))
    p.register("emb", HashingEmbedderLoader(tmp / "emb.bin", dim=64))
    return p


async def test_pit_services_pass_the_port_contract(tmp_path: Path) -> None:
    n = 0

    @asynccontextmanager
    async def make() -> AsyncIterator[PitPort]:
        nonlocal n
        n += 1
        store = await AsyncArtifactStore.open(tmp_path / f"store{n}")
        try:
            async with open_pit(_pool(tmp_path), store) as pit:
                yield pit
        finally:
            await store.aclose()

    await check_pit_port(make, model=ModelSpec("emb"))


async def test_instrument_node_runs_on_pooled_model(tmp_path: Path) -> None:
    store = await AsyncArtifactStore.open(tmp_path / "s")
    async with open_pit(_pool(tmp_path), store) as pit:
        assert isinstance(pit, PitServices)
        wid = WorkflowId("w")
        ok = await pit.execute_dag_node(
            DagNode(wid, NodeId("i"), NodeKind.INSTRUMENT, "emb", {"text": "hello world"})
        )
        assert ok.status is NodeStatus.SUCCEEDED and len(ok.outputs["embedding"]) == 64  # type: ignore[arg-type]
        bad = await pit.execute_dag_node(DagNode(wid, NodeId("j"), NodeKind.INSTRUMENT, "nope"))
        assert bad.status is NodeStatus.FAILED and "nope" in (bad.error or "")
        other = await pit.execute_dag_node(DagNode(wid, NodeId("k"), NodeKind.OPERATOR, "train"))
        assert other.status is NodeStatus.FAILED
        with pytest.raises(PortInvalidRequest):
            await pit.resolve_conflict(Conflict(ConflictId("c"), "r", ()))
        assert any(d.action == "grant" for d in pit.arbitration.audit)
    await store.aclose()


async def test_pool_model_fn_arbitrates_contended_slots(tmp_path: Path) -> None:
    pool = _pool(tmp_path)
    arb = ArbitrationEngine()
    fn = pool_model_fn(pool, arb)

    class Spec:
        name = "emb"

    out: list[str] = []
    async with trio.open_nursery() as n:
        await n.start(pool.run)

        async def call(i: int) -> None:
            out.append(await fn(Spec(), f"text {i}", {"run_id": f"run{i % 3}", "priority": i % 2}))

        async with trio.open_nursery() as w:
            for i in range(12):
                w.start_soon(call, i)
        n.cancel_scope.cancel()
    assert len(out) == 12 and all(len(orjson.loads(s)) == 64 for s in out)
    actions = [d.action for d in arb.audit]
    assert actions.count("queue") >= 1 and actions.count("dispatch") == actions.count("queue")
    assert pool.metrics()["handles_live"] == 0


async def test_dag_tracker_runs_instruments_on_the_pool_through_arbitration(tmp_path: Path) -> None:
    from symphony.pit.dag_tracker import DagTracker, RunOptions
    from symphony.workflow.model import InstrumentNode, Workflow
    from symphony.workflow.model import ModelSpec as WfModelSpec
    from symphony.workflow.state import RunState

    from ._dag_helpers import port

    pool = _pool(tmp_path)
    arb = ArbitrationEngine()
    tracker = DagTracker(options=RunOptions(journal=False))
    tracker.models.register("pool/*", pool_model_fn(pool, arb))
    nodes = tuple(
        InstrumentNode(
            id=f"embed{i}",
            model=WfModelSpec("pool", "emb"),
            prompt="embed {x}",
            inputs=(port("x", "text", default=f"text {i}"),),
            outputs=(port("vec", "text"),),
        )
        for i in range(4)
    )
    async with trio.open_nursery() as n:
        await n.start(pool.run)
        run = tracker.create(Workflow(id="w", nodes=nodes))
        summary = await run.execute()
        n.cancel_scope.cancel()
    await tracker.aclose()
    assert summary.state is RunState.COMPLETED
    outs = [run.outputs(f"embed{i}") for i in range(4)]
    assert all(o is not None and len(orjson.loads(o["vec"])) == 64 for o in outs)  # type: ignore[arg-type]
    assert pool.metrics()["allocations"] == 4 and pool.metrics()["handles_live"] == 0
    assert "dispatch" in [d.action for d in arb.audit]  # concurrent nodes contended the slot
