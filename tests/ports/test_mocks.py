"""The mock adapters: fault injection, latency, call recording, and mock-only behaviour."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from symphony.commons.errors import (
    AuthoritativeValidationError,
    PortConflict,
    PortError,
    PortInvalidRequest,
    PortNotFound,
    PortTimeout,
    PortUnavailable,
    ValidationError,
)
from symphony.commons.health import HealthStatus
from symphony.ports import testing
from symphony.ports import types as t
from symphony.ports.mocks import (
    Call,
    FaultPlan,
    MockConductorPort,
    MockDataAccessPort,
    MockExtensionPort,
    MockPitPort,
    MockPreValidationPort,
    MockTextEditingPort,
    pattern,
    required,
    validate_dag,
)


# --------------------------------------------------------------------------- fault injection
async def test_fail_the_nth_call_overall() -> None:
    port = MockTextEditingPort(faults=FaultPlan(fail_calls=[3]))
    b = await port.open_file()  # call 1
    await port.insert(b, 0, "a")  # call 2
    with pytest.raises(PortUnavailable, match=r"insert: injected failure \(call #3\)"):
        await port.insert(b, 1, "b")
    assert await port.get_content(b) == "a"  # the failed call changed nothing
    assert await port.insert(b, 1, "c") == t.Revision(2)
    assert [c.injected_failure for c in port.calls] == [False, False, True, False, False]
    assert port.calls[2] == Call(3, "insert", {"buffer_id": b, "pos": 1, "text": "b"}, True)


async def test_fail_the_nth_call_of_one_method() -> None:
    pit = MockPitPort(faults=FaultPlan(fail_calls=[("allocate_model", 2)]))
    spec = t.ModelSpec("mock-model")
    await pit.allocate_model(spec)
    await pit.store_artifact(b"x")
    with pytest.raises(PortUnavailable):
        await pit.allocate_model(spec)
    await pit.allocate_model(spec)
    assert len(pit.allocations) == 2
    assert [c.method for c in pit.calls_to("allocate_model")] == ["allocate_model"] * 3


async def test_fail_every_call_of_a_method_with_a_chosen_error() -> None:
    port = MockTextEditingPort(faults=FaultPlan(fail_methods={"undo"}, error=PortTimeout))
    b = await port.open_file()
    await port.insert(b, 0, "x")
    for _ in range(3):
        with pytest.raises(PortTimeout):
            await port.undo(b)
    assert await port.get_content(b) == "x"
    with pytest.raises(PortInvalidRequest):  # redo is not in the plan: its own error
        await port.redo(b)


async def test_fail_with_a_seeded_probability_is_reproducible() -> None:
    async def pattern_of(seed: int) -> list[bool]:
        port = MockPreValidationPort(faults=FaultPlan(probability=0.5, seed=seed))
        outcome = []
        for _ in range(200):
            try:
                await port.kinds()
                outcome.append(False)
            except PortUnavailable:
                outcome.append(True)
        assert outcome == [c.injected_failure for c in port.calls]
        return outcome

    first = await pattern_of(7)
    assert first == await pattern_of(7)
    assert first != await pattern_of(8)
    assert 60 < sum(first) < 140


async def test_probability_edges_and_reseeding() -> None:
    port = MockConductorPort(faults=FaultPlan(probability=1.0))
    with pytest.raises(PortUnavailable):
        await port.get_status()
    port.faults = FaultPlan(probability=0.0)
    assert (await port.get_status()).health is HealthStatus.HEALTHY
    port.faults = FaultPlan(probability=0.3, seed=1)
    a = [c.injected_failure for c in await _drive(port, 50)]
    port.faults = FaultPlan(probability=0.3, seed=1)
    b = [c.injected_failure for c in await _drive(port, 50)]
    assert a == b


async def _drive(port: MockConductorPort, n: int) -> list[Call]:
    start = len(port.calls)
    for _ in range(n):
        try:
            await port.get_status()
        except PortUnavailable:
            pass
    return port.calls[start:]


@pytest.mark.parametrize(
    "plan",
    [
        {"probability": 1.5},
        {"probability": -0.1},
        {"latency": -1.0},
        {"latency": float("nan")},
        {"method_latency": {"x": float("inf")}},
    ],
)
def test_bad_fault_plans_are_refused(plan: Mapping[str, object]) -> None:
    with pytest.raises(ValidationError):
        FaultPlan(**plan)  # type: ignore[arg-type]


def test_bad_event_buffer_is_refused() -> None:
    with pytest.raises(ValidationError, match="event_buffer"):
        MockTextEditingPort(event_buffer=0)


# --------------------------------------------------------------------------- latency
async def test_latency_uses_the_trio_clock(autojump_clock: trio.testing.MockClock) -> None:
    port = MockPitPort(faults=FaultPlan(latency=0.5, method_latency={"store_artifact": 2.0}))
    start = trio.current_time()
    await port.allocate_model(t.ModelSpec("mock-model"))
    assert trio.current_time() - start == pytest.approx(0.5)
    await port.store_artifact(b"x")
    assert trio.current_time() - start == pytest.approx(2.5)


async def test_a_call_cancelled_during_its_latency_changes_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    port = MockTextEditingPort(faults=FaultPlan(method_latency={"insert": 10.0}))
    b = await port.open_file()
    with trio.move_on_after(1.0) as scope:
        await port.insert(b, 0, "never")
    assert scope.cancelled_caught
    assert await port.get_content(b) == ""
    assert port.calls_to("insert")[0].args["text"] == "never"


async def test_every_call_is_a_checkpoint() -> None:
    port = MockPreValidationPort()
    with trio.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(trio.Cancelled):
            await port.kinds()


# --------------------------------------------------------------------------- text editing
async def test_a_lagging_subscriber_gets_its_events_then_a_conflict() -> None:
    port = MockTextEditingPort(event_buffer=3)
    b = await port.open_file()
    async with port.subscribe(b) as slow, port.subscribe(b) as fast:
        for i in range(5):
            await port.insert(b, i, "x")
            assert (await anext(fast)).revision == t.Revision(i + 1)
        got = [(await anext(slow)).revision.value for _ in range(3)]
        assert got == [1, 2, 3]
        with pytest.raises(PortConflict, match="fell more than 3 events behind"):
            await anext(slow)
        await port.close(b)
        assert (await anext(fast)).kind is t.BufferEventKind.CLOSED
        with pytest.raises(StopAsyncIteration):
            await anext(fast)


async def test_file_errors(tmp_path: Path) -> None:
    port = MockTextEditingPort()
    with pytest.raises(PortError, match="IsADirectoryError"):
        await port.open_file(str(tmp_path))
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(PortInvalidRequest, match="not UTF-8"):
        await port.open_file(str(latin))
    b = await port.open_file()
    with pytest.raises(PortError, match="FileNotFoundError"):
        await port.save(b, str(tmp_path / "missing-dir" / "f.txt"))
    taken = await port.open_file(str(tmp_path / "taken.txt"))
    with pytest.raises(PortConflict, match="open in another buffer"):
        await port.save(b, str(tmp_path / "taken.txt"))
    assert taken != b
    assert not os.path.exists(tmp_path / "taken.txt")


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_the_contract_suite_passes_for_random_seeds(seed: int) -> None:
    # The contract's own random-operations check, across Hypothesis-chosen seeds.
    trio.run(
        functools.partial(
            testing.check_text_editing_port, MockTextEditingPort, random_ops=150, seed=seed
        )
    )


# --------------------------------------------------------------------------- pit
async def test_pit_options() -> None:
    def handler(node: t.DagNode) -> t.NodeResult:
        return t.NodeResult(node.workflow_id, node.node_id, t.NodeStatus.FAILED, error="boom")

    pit = MockPitPort(models=None, node_handler=handler)
    handle = await pit.allocate_model(t.ModelSpec("anything", "v2"))
    assert (handle.model_id, handle.version) == ("anything", "v2")
    node = t.DagNode(t.WorkflowId("w"), t.NodeId("n"), t.NodeKind.INSTRUMENT)
    result = await pit.execute_dag_node(node)
    assert (result.status, result.error) == (t.NodeStatus.FAILED, "boom")
    art = await pit.store_artifact(b"abc")
    assert art.value == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


async def test_default_node_handler_echoes_inputs() -> None:
    pit = MockPitPort()
    node = t.DagNode(t.WorkflowId("w"), t.NodeId("n"), t.NodeKind.OPERATOR, "op", {"a": [1]})
    result = await pit.execute_dag_node(node)
    assert (result.status, result.outputs) == (t.NodeStatus.SUCCEEDED, {"a": [1]})


def test_validate_dag_names_the_problem() -> None:
    w = t.WorkflowId("w")

    def spec(edges: Mapping[str, Iterable[str]]) -> t.WorkflowSpec:
        return t.WorkflowSpec(
            w,
            "w",
            tuple(
                t.DagNode(w, t.NodeId(n), t.NodeKind.OPERATOR, depends_on=tuple(map(t.NodeId, d)))
                for n, d in edges.items()
            ),
        )

    assert validate_dag(spec({"a": [], "b": ["a"]})) is None
    assert "cycle through 'a', 'b'" in (validate_dag(spec({"a": ["b"], "b": ["a"], "c": []})) or "")
    assert "unknown node 'z'" in (validate_dag(spec({"a": ["z"]})) or "")
    assert "depends on itself" in (validate_dag(spec({"a": ["a"]})) or "")
    chain = {str(i): [str(i - 1)] if i else [] for i in range(20_000)}
    assert validate_dag(spec(chain)) is None  # iterative: no recursion limit


async def test_resolution_ranks_by_priority_then_quality_then_order() -> None:
    pit = MockPitPort()
    claims = (t.Claim("a", 1, 0.9), t.Claim("b", 2), t.Claim("c", 2, 0.5), t.Claim("d", 2, 0.5))
    res = await pit.resolve_conflict(t.Conflict(t.ConflictId("x"), "gpu", claims))
    assert res.ranking == ("c", "d", "b", "a")


# --------------------------------------------------------------------------- extensions
async def test_extension_handlers_and_crash() -> None:
    port = MockExtensionPort(handlers={"double": lambda p: [p, p]})
    xid = await port.load(testing.CONTRACT_EXTENSION)
    assert (await port.invoke(xid, t.ExtensionRequest("double", 3))).result == [3, 3]
    async with port.events(xid) as events:
        port.simulate_crash(xid, "segfault")
        ev = await anext(events)
        assert (ev.kind, ev.payload) == (t.ExtensionEventKind.CRASHED, "segfault")
        with pytest.raises(StopAsyncIteration):
            await anext(events)
    with pytest.raises(PortNotFound):
        await port.invoke(xid, t.ExtensionRequest("echo"))
    with pytest.raises(PortNotFound):
        port.simulate_crash(xid)


# --------------------------------------------------------------------------- conductor
async def test_conductor_learns_from_rewards() -> None:
    c = MockConductorPort(health=HealthStatus.DEGRADED)
    ctx = t.DecisionContext(t.EpisodeId("e1"), "pick", ("a", "b"))
    first = await c.submit_decision(ctx)
    assert (first.choice, first.confidence) == ("a", 0.5)  # no preference yet: the first
    await c.report_reward(t.EpisodeId("e1"), -1.0)
    second = await c.submit_decision(t.DecisionContext(t.EpisodeId("e2"), "pick", ("a", "b")))
    assert second.choice == "b"
    policy = await c.get_policy(t.PolicyContext("p"))
    assert policy.version == 1 and policy.preferences == {"a": -1.0}
    status = await c.get_status()
    assert status == t.ConductorStatus(HealthStatus.DEGRADED, 2, 1, 0, 1)
    assert c.rewards == [(t.EpisodeId("e1"), -1.0)]


# --------------------------------------------------------------------------- data & validation
async def test_data_access_options() -> None:
    def authority(collection: str, data: Mapping[str, object]) -> list[t.ValidationFailure]:
        return [] if data.get("ok") is True else [t.ValidationFailure("ok", "must be true")]

    store = MockDataAccessPort(collections=["things"], authority=authority)
    rec = await store.create("things", {"ok": True})
    assert rec.record_id == t.RecordId("things-1")
    with pytest.raises(AuthoritativeValidationError) as info:
        await store.create("things", {"ok": False})
    assert info.value.details == {
        "failures": [{"field": "ok", "message": "must be true", "rule": ""}]
    }
    with pytest.raises(PortNotFound, match="unknown collection 'users'"):
        await store.get("users", rec.record_id)
    page = await store.query(t.DataQuery("things", limit=0))
    assert (page.records, page.total, page.next_offset) == ((), 1, 0)


async def test_prevalidation_rules() -> None:
    port = MockPreValidationPort(
        rules={"thing": [required("a", "b"), pattern("c", r"[0-9]+", "digits")]}
    )
    assert await port.kinds() == ("thing",)
    result = await port.validate("thing", {"a": "x", "c": "12a"})
    assert [(f.field, f.rule) for f in result.failures] == [("b", "required"), ("c", "pattern")]
    assert (await port.validate("thing", {"a": "x", "b": "y"})).ok
    with pytest.raises(PortNotFound, match="known kinds are thing"):
        await port.validate("user", {})
