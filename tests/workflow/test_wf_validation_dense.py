"""The dense checks (no bytecode per node or edge: ``_ports_dense``, and ``_data_edges_dense``
inside the loop path) report exactly what the node and edge loops do: differential tests on
large random workflows, valid and broken in every port/edge way."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import cast

import pytest

from symphony.workflow import validation
from symphony.workflow.model import ControlEdge, DataEdge, Edge, NodePolicy, OperatorNode, Workflow
from symphony.workflow.synthetic import random_workflow


def _report(wf: Workflow, dense: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[object, ...]:
    calls: list[bool] = []
    real = validation._ports_dense

    def spy(*args: object) -> object:
        out = real(*args)  # type: ignore[arg-type]
        calls.append(out is not None)
        return out

    with monkeypatch.context() as m:
        m.setattr(validation, "_DENSE_MIN", 64 if dense else 10**9)
        m.setattr(validation, "_ports_dense", spy)
        # a fresh model each time: nothing cached from the other run
        rep = validation.validate(Workflow(id=wf.id, nodes=wf.nodes, edges=wf.edges))
    assert bool(calls) == dense
    return ([(p.code, p.node, p.edge, p.port, p.message) for p in rep.problems], rep.order,
            rep.levels, tuple(calls))


def _mutate(wf: Workflow, kind: str, rng: random.Random) -> Workflow:
    edges: list[Edge] = list(wf.edges)
    data = [k for k, e in enumerate(edges) if isinstance(e, DataEdge)]
    for _ in range(3):
        k = rng.choice(data)
        e = edges[k]
        assert isinstance(e, DataEdge)
        if kind == "unknown-source-port":
            edges[k] = DataEdge(e.source, "nope", e.target, e.target_port)
        elif kind == "unknown-target-port":
            edges[k] = DataEdge(e.source, e.source_port, e.target, "nope")
        elif kind == "type-mismatch":
            # feed a typed input 'a' from a node whose output type is likely incompatible
            edges[k] = DataEdge(rng.choice(wf.nodes[: int(e.target[1:])]).id, "out",
                                e.target, "a") if e.target_port == "a" else e
            edges.append(DataEdge("n0", "out", e.target, "a"))
        elif kind == "duplicate-single":
            edges.append(edges[k])
        elif kind == "duplicate-multi":
            multi = [x for x in data if edges[x].target_port == "rest"]  # type: ignore[union-attr]
            edges.append(edges[rng.choice(multi)])
        elif kind == "two-producers":
            edges.append(DataEdge("n0", "out", e.target, "a"))
        elif kind == "control-duplicate":
            edges.append(ControlEdge(e.source, e.target))
            edges.append(ControlEdge(e.source, e.target))
        elif kind == "missing-input" and e.target_port == "a":
            edges[k] = ControlEdge(e.source, e.target)  # 'a' is required, now unfed
    nodes = list(wf.nodes)
    if kind == "node-rules":
        for q in rng.sample(range(len(nodes)), 3):
            nodes[q] = replace(nodes[q], policy=NodePolicy(retries=-1))
        nodes[5] = replace(cast(OperatorNode, nodes[5]), operator="")
    return Workflow(id=wf.id, nodes=tuple(nodes), edges=tuple(edges))


@pytest.mark.parametrize("seed", [1, 2])
def test_valid_workflows_take_the_dense_path_with_the_same_result(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    wf = random_workflow(600, 3000, seed=seed)
    loop, dense = _report(wf, False, monkeypatch), _report(wf, True, monkeypatch)
    assert dense[3] == (True,)  # the dense check accepted it
    assert dense[:3] == loop[:3]
    assert dense[0] == []


@pytest.mark.parametrize("kind", ["unknown-source-port", "unknown-target-port",
                                  "type-mismatch", "duplicate-single", "duplicate-multi",
                                  "two-producers", "control-duplicate", "missing-input",
                                  "node-rules"])
@pytest.mark.parametrize("seed", [3, 4])
def test_broken_workflows_report_the_same_problems(kind: str, seed: int,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    wf = _mutate(random_workflow(400, 2000, seed=seed), kind, rng)
    loop, dense = _report(wf, False, monkeypatch), _report(wf, True, monkeypatch)
    assert dense[:3] == loop[:3]
    problems = loop[0]
    assert isinstance(problems, list)
    if kind in ("missing-input", "node-rules"):
        assert dense[3] == (True,)  # the dense pass reports these itself
    elif kind != "type-mismatch":
        assert dense[3] == (False,)  # refused: the loop named the problems
    if kind != "type-mismatch":  # a random re-wiring may happen to be compatible
        assert problems, kind


@pytest.mark.parametrize("shape", ["no-edges", "control-chain", "no-ports-data"])
def test_degenerate_graphs_agree(shape: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from symphony.workflow.model import port

    n = 100
    if shape == "no-ports-data":
        nodes = tuple(OperatorNode(id=f"n{i}", operator="core.noop") for i in range(n))
        edges: tuple[Edge, ...] = (DataEdge("n0", "out", "n1", "a"),)
    else:
        nodes = tuple(OperatorNode(id=f"n{i}", operator="core.noop",
                                   inputs=(port("a", "int", default=1),),
                                   outputs=(port("out", "int"),)) for i in range(n))
        edges = () if shape == "no-edges" else tuple(
            ControlEdge(f"n{i}", f"n{i + 1}") for i in range(n - 1))
    wf = Workflow(id="d", nodes=nodes, edges=edges)
    assert _report(wf, True, monkeypatch)[:3] == _report(wf, False, monkeypatch)[:3]
