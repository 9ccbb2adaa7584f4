"""Property tests: on random DAGs with random failing nodes, every run keeps the invariants
(order, at most one execution, failure isolation, counts)."""

from __future__ import annotations

from collections.abc import Mapping

import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symphony.pit.dag_tracker import DagTracker, RunOptions
from symphony.workflow.model import ControlEdge, OperatorNode, Workflow
from symphony.workflow.state import NodeState, RunState

from ._dag_helpers import registry

LOG: list[str] = []


def record(inputs: Mapping[str, object], config: Mapping[str, object]) -> dict[str, object]:
    LOG.append(str(config["name"]))
    if config.get("fail"):
        raise RuntimeError("planned failure")
    return {}


REG = registry()
REG.register("p.record", record, mode="inline")


@st.composite
def dags(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]], set[int]]:
    n = draw(st.integers(1, 40))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                          max_size=3 * n))
    edges = sorted({(min(a, b), max(a, b)) for a, b in edges if a != b})
    failing = draw(st.sets(st.integers(0, n - 1), max_size=3))
    return n, edges, failing


def descendants(n: int, edges: list[tuple[int, int]], seeds: set[int]) -> set[int]:
    succ: dict[int, list[int]] = {i: [] for i in range(n)}
    for a, b in edges:
        succ[a].append(b)
    seen: set[int] = set()
    stack = list(seeds)
    while stack:
        for v in succ[stack.pop()]:
            if v not in seen:
                seen.add(v)
                stack.append(v)
    return seen


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dags(), st.integers(1, 8))
def test_random_dags_keep_the_invariants(
    dag: tuple[int, list[tuple[int, int]], set[int]], concurrency: int
) -> None:
    n, edges, failing = dag
    wf = Workflow(id="p", nodes=tuple(
        OperatorNode(id=f"n{i}", operator="p.record",
                     config={"name": f"n{i}", "fail": i in failing}) for i in range(n)),
        edges=tuple(ControlEdge(f"n{a}", f"n{b}") for a, b in edges))
    LOG.clear()
    eng = DagTracker(operators=REG, options=RunOptions(journal=False, concurrency=concurrency))
    run = eng.create(wf)
    summary = trio.run(run.execute)
    blocked = descendants(n, edges, failing)
    states = run.node_states()
    assert len(LOG) == len(set(LOG))  # nothing ran twice
    pos = {nid: k for k, nid in enumerate(LOG)}
    for a, b in edges:
        if f"n{b}" in pos:
            assert pos[f"n{a}"] < pos[f"n{b}"]
    for i in range(n):
        nid = f"n{i}"
        if i in blocked:
            assert states[nid] is NodeState.PENDING and nid not in pos
        elif i in failing:
            assert states[nid] is NodeState.FAILED
        else:
            assert states[nid] is NodeState.SUCCEEDED
    assert summary.state is (RunState.FAILED if failing else RunState.COMPLETED)
    assert sorted(summary.blocked) == sorted(f"n{i}" for i in blocked)
