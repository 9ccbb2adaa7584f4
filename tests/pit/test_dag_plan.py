"""Plan.build's fast paths (operator nodes by C-level maps, control edges grouped by one
sort) give exactly the plan of the node-by-node and edge-by-edge loops."""

from __future__ import annotations

import random

import pytest

from symphony.pit.dag_tracker import plan as plan_mod
from symphony.pit.dag_tracker.plan import Plan
from symphony.workflow.model import (
    ConditionalEdge,
    ControlEdge,
    DataEdge,
    Edge,
    Node,
    NodePolicy,
    OperatorNode,
    Workflow,
    port,
)
from symphony.workflow.predicates import parse_predicate

from ._dag_helpers import chain, fan_out, op, random_dag, registry


def _fields(p: Plan) -> tuple[object, ...]:
    return (p.ids, list(p.src), list(p.dst), p.refs, p.mode, p.cfg, p.policy, p.defaults,
            [None if s is None else tuple(map(list, s)) for s in p.inputs])


def _both(wf: Workflow, monkeypatch: pytest.MonkeyPatch,
          inject: dict[str, dict[str, object]] | None = None) -> tuple[Plan, Plan]:
    fast = Plan.build(Workflow(id=wf.id, nodes=wf.nodes, edges=wf.edges), registry(),
                      inject or {})
    with monkeypatch.context() as m:
        m.setattr(plan_mod, "_plain_nodes", lambda *a: None)
        m.setattr(plan_mod, "_GROUP_MIN", 10**9)
        slow = Plan.build(Workflow(id=wf.id, nodes=wf.nodes, edges=wf.edges), registry(),
                          inject or {})
    return fast, slow


def _mixed(seed: int, n: int = 300) -> Workflow:
    """Operator nodes (some with typed inputs and defaults), control, data (single and
    multi) and conditional edges, all from earlier to later nodes."""
    rng = random.Random(seed)
    nodes: list[Node] = []
    for i in range(n):
        nodes.append(OperatorNode(
            id=f"n{i}", operator=rng.choice(["core.noop", "core.noop_async", "t.logged"]),
            config={"k": i} if i % 3 else {},
            inputs=(port("a", "any", default=i if i % 4 else None, required=False),
                    port("m", "any", multi=True, required=i % 5 == 0)),
            outputs=(port("value", "any"),)))
    edges: list[Edge] = []
    for i in range(1, n):
        for _ in range(3):
            j = rng.randrange(max(0, i - 50), i)
            k = rng.random()
            if k < 0.6:
                edges.append(ControlEdge(f"n{j}", f"n{i}"))
            elif k < 0.9:
                edges.append(DataEdge(f"n{j}", "value", f"n{i}", "m"))
            else:
                edges.append(ConditionalEdge(f"n{j}", f"n{i}", parse_predicate("value > 1"),
                                             "value", "a"))
    return Workflow(id=f"mixed-{seed}", nodes=tuple(nodes), edges=tuple(edges))


def _shuffled(wf: Workflow, seed: int = 5) -> Workflow:
    edges = list(wf.edges)
    random.Random(seed).shuffle(edges)  # targets out of order: the grouping must sort
    return Workflow(id=wf.id, nodes=wf.nodes, edges=tuple(edges))


@pytest.mark.parametrize("wf", [random_dag(500), chain(300), fan_out(300),
                                random_dag(200, operator="core.noop_async"),
                                _shuffled(random_dag(400))],
                         ids=["random", "chain", "fan-out", "async", "shuffled"])
def test_control_only_workflows(wf: Workflow, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = _both(wf, monkeypatch)
    assert _fields(fast) == _fields(slow)
    assert any(s is not None for s in fast.inputs)
    # the plan survives its own serialization
    again = Plan.loads(fast.dumps())
    assert again is not None and _fields(again) == _fields(fast)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mixed_edges_and_defaults(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    wf = _shuffled(_mixed(seed), seed)
    fast, slow = _both(wf, monkeypatch)
    assert _fields(fast) == _fields(slow)
    assert any(s is not None and s[1] for s in fast.inputs)  # conditional edges were there
    assert any(d is not None for d in fast.defaults)


def test_policies_injection_and_control_nodes_take_the_loop(
        monkeypatch: pytest.MonkeyPatch) -> None:
    base = random_dag(120)
    nodes = list(base.nodes)
    nodes[7] = op("n7", "core.noop", timeout=5.0)
    nodes[9] = op("n9", "t.logged", retries=2)
    wf = Workflow(id="p", nodes=tuple(nodes), edges=base.edges)
    fast, slow = _both(wf, monkeypatch)
    assert _fields(fast) == _fields(slow)
    assert fast.policy[7] == NodePolicy(timeout=5.0)
    fast, slow = _both(base, monkeypatch, inject={"n3": {"x": 1}})
    assert _fields(fast) == _fields(slow) and fast.defaults[3] == {"x": 1}


def test_unknown_operator_is_named_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    base = random_dag(100)
    nodes = list(base.nodes)
    nodes[40] = op("n40", "no.such.op")
    nodes[70] = op("n70", "other.missing")
    wf = Workflow(id="u", nodes=tuple(nodes), edges=base.edges)
    errors = []
    for fast in (True, False):
        with monkeypatch.context() as m:
            if not fast:
                m.setattr(plan_mod, "_plain_nodes", lambda *a: None)
            with pytest.raises(Exception) as info:
                Plan.build(Workflow(id="u", nodes=wf.nodes, edges=wf.edges), registry(), {})
        errors.append((type(info.value), str(info.value)))
    assert errors[0] == errors[1] and "no.such.op" in errors[0][1]
