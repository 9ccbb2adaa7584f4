"""Model, builder, validation pipeline and graph operations."""

from __future__ import annotations

import random

import networkx as nx
import pytest
from _wf_strategies import workflows
from hypothesis import given, settings
from hypothesis import strategies as st

from symphony.commons.errors import NotFoundError, ValidationError, WorkflowValidationError
from symphony.workflow import (
    ConditionalEdge,
    ControlEdge,
    DataEdge,
    GateNode,
    MapNode,
    ModelSpec,
    NodePolicy,
    OperatorNode,
    Version,
    Workflow,
    WorkflowBuilder,
    WorkflowCycleError,
    ancestors,
    bfs,
    descendants,
    dfs,
    execution_levels,
    port,
    subgraph,
    topological_order,
    validate,
)
from symphony.workflow.synthetic import random_workflow


def op(id: str, ins: dict[str, str] | None = None, outs: dict[str, str] | None = None,
       **kw: object) -> OperatorNode:
    return OperatorNode(
        id=id, operator="noop",
        inputs=tuple(port(n, t) for n, t in (ins or {}).items()),
        outputs=tuple(port(n, t) for n, t in (outs or {"out": "any"}).items()), **kw,  # type: ignore[arg-type]
    )


def test_seed_builder_example() -> None:
    # seed 004, M5.1: WorkflowBuilder::new("data-processing").version("1.0.0")
    #   .add_instrument("gpt-4", ...).add_operator("json-parser", ...)
    #   .connect("gpt-4", "json-parser", DataEdge::new()).build()?
    wf = (
        WorkflowBuilder("data-processing")
        .version("1.0.0")
        .add_instrument("gpt-4", model="openai/gpt-4")
        .add_operator("json-parser", operator="json.parse")
        .connect("gpt-4", "json-parser")
        .build()
    )
    assert wf.version == Version(1, 0, 0)
    assert [n.id for n in wf.nodes] == ["gpt-4", "json-parser"]
    assert wf.edges == (DataEdge("gpt-4", "output", "json-parser", "input"),)
    assert wf.node("gpt-4").model == ModelSpec("openai", "gpt-4")  # type: ignore[union-attr]
    assert wf.topological_order() == ["gpt-4", "json-parser"]


def test_builder_every_node_kind_and_metadata() -> None:
    body = (WorkflowBuilder("body").add_operator("read", "fs.read", inputs={"path": "path"},
                                                 outputs={"text": "text"}).build(validate=False))
    wf = (
        WorkflowBuilder("all", name="All kinds").version("2.1.0-rc.1").author("me")
        .description("d").tags("a", "b", "a").meta("team", {"x": 1}).created("2026-01-01T00:00:00Z")
        .add_operator("scan", "fs.scan", outputs={"files": "list[path]", "n": "int"})
        .add_map("each", body, item_input="read.path", result_output="read.text",
                 item_type="path", result_type="text")
        .add_branch("big", "value > 3", value_type="int")
        .add_gate("ok", "Proceed?", timeout=5, on_timeout="approve")
        .add_merge("join", "first", item_type="any")
        .add_instrument("llm", "local/echo@1", prompt="Say {input}", params={"t": 0.1})
        .connect("scan.files", "each.items")
        .connect("scan.n", "big.value")
        .connect("big.then", "ok")
        .connect("ok", "join")
        .connect("each.results", "join")
        .when("scan", "llm", "n > 0")
        .after("join", "llm")
        .build()
    )
    assert wf.metadata.tags == ("a", "b") and wf.metadata.extra == {"team": {"x": 1}}
    assert wf.metadata.created == "2026-01-01T00:00:00Z"
    assert execution_levels(wf) == [["scan"], ["each", "big"], ["ok"], ["join"], ["llm"]]
    assert isinstance(wf.node("each"), MapNode) and isinstance(wf.node("ok"), GateNode)


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda b: b.add_operator("a", "x").add_operator("a", "y"), "duplicate-node"),
        (lambda b: b.add_operator("a", "x").connect("a", "zz"), "dangling-edge"),
        (lambda b: b.add_operator("a", "x").add_operator("b", "y").connect("a.nope", "b"),
         "unknown-port"),
        (lambda b: b.add_operator("a", "x", outputs={"o": "bytes"})
         .add_operator("b", "y", inputs={"i": "str"}).connect("a", "b"), "type-mismatch"),
        (lambda b: b.add_operator("a", "x", outputs={"o": "int", "p": "int"})
         .add_operator("b", "y").connect("a", "b"), "unknown-port"),
        (lambda b: b.version("1.x"), "invalid-version"),
        (lambda b: b.add_operator("a b", "x"), "invalid-id"),
        (lambda b: b.add_operator("a", "x").add_operator("b", "y").when("a.output", "b", "x"),
         "invalid-edge"),
    ],
)
def test_builder_checks_each_call(build: object, code: str) -> None:
    with pytest.raises(WorkflowValidationError) as info:
        build(WorkflowBuilder("w"))  # type: ignore[operator]
    assert info.value.problems[0].code == code  # type: ignore[attr-defined]


def test_builder_build_reports_all_remaining_problems() -> None:
    b = (WorkflowBuilder("w")
         .add_operator("a", "x", inputs={"i": "int"}, outputs={"o": "int"})
         .add_operator("b", "x", inputs={"i": "int"}, outputs={"o": "int"})
         .add_operator("c", "x", inputs={"i": "int"})
         .connect("a", "b").connect("b", "a"))
    with pytest.raises(WorkflowValidationError) as info:
        b.build()
    codes = sorted(p.code for p in info.value.problems)  # type: ignore[attr-defined]
    assert codes == ["cycle", "missing-input"]
    assert "a -> b -> a" in str(info.value)
    assert b.build(validate=False).id == "w"


def test_validation_reports_every_problem_at_once() -> None:
    nodes = (
        op("a", outs={"o": "int"}),
        op("b", ins={"i": "float", "j": "str"}, outs={"o": "int"}),
        op("b", outs={"o": "int"}),  # duplicate id
        op("c", ins={"i": "bytes"}, outs={"o": "int"}),
        op("d", ins={"i": "int"}),
        op("lonely"),
        op("x", ins={"i": "int"}, outs={"o": "int"}),
        op("y", ins={"i": "int"}, outs={"o": "int"}),
        op("z", ins={"i": "int"}),
        op("dup-ports", ins={"i": "int"}, outs={"o": "int"}, policy=NodePolicy(retries=-1)),
    )
    object.__setattr__(nodes[-1], "inputs", (port("i", "int"), port("i", "int")))
    edges = (
        DataEdge("a", "o", "b", "i"),          # ok: int -> float
        DataEdge("a", "o", "c", "i"),          # type mismatch int -> bytes
        DataEdge("a", "o", "ghost", "i"),      # dangling
        DataEdge("a", "nope", "d", "i"),       # unknown output port
        DataEdge("a", "o", "d", "i"),          # ok
        DataEdge("c", "o", "d", "i"),          # second producer of d.i
        ControlEdge("a", "c"),
        ControlEdge("a", "c"),                 # duplicate
        DataEdge("x", "o", "y", "i"),
        DataEdge("y", "o", "x", "i"),          # cycle x -> y -> x
        DataEdge("y", "o", "z", "i"),          # z depends on the cycle
        ControlEdge("d", "d"),                 # self-loop
        ConditionalEdge("a", "d", True, "o", None),  # one port only
        DataEdge("a", "o", "dup-ports", "i"),
    )
    r = validate(Workflow(id="w", nodes=nodes, edges=edges))
    codes = r.codes()
    for code in ("duplicate-node", "type-mismatch", "dangling-edge", "unknown-port",
                 "multiple-producers", "duplicate-edge", "cycle", "unreachable",
                 "missing-input", "orphan", "invalid-edge", "duplicate-port", "invalid-node"):
        assert code in codes, code
    by = {(p.code, p.node) for p in r.problems}
    assert ("missing-input", "b") in by  # b.j
    assert ("unreachable", "z") in by
    assert ("orphan", "lonely") in by
    cycles = sorted(p.cycle for p in r.problems if p.code == "cycle")
    assert cycles == [("d", "d"), ("x", "y", "x")]
    assert not r.ok and r.order == [] and r.warnings[0].code == "orphan"
    with pytest.raises(WorkflowValidationError) as info:
        r.raise_for_errors()
    assert len(info.value.problems) == len(r.errors)  # type: ignore[attr-defined]
    assert "ghost" in str(info.value)


def test_nodes_after_a_self_loop_are_unreachable() -> None:
    wf = Workflow(id="w", nodes=(op("a"), op("b"), op("c")),
                  edges=(ControlEdge("a", "b"), ControlEdge("b", "b"), ControlEdge("b", "c")))
    r = validate(wf)
    assert [(p.code, p.node) for p in r.problems] == [("cycle", "b"), ("unreachable", "c")]
    with pytest.raises(WorkflowCycleError) as info:
        topological_order(wf)
    assert info.value.cycle_ids == ["b", "b"]
    both = wf.evolve(nodes=(*wf.nodes, op("x"), op("y")),
                     edges=(*wf.edges, ControlEdge("x", "y"), ControlEdge("y", "x")))
    assert sorted(p.cycle for p in validate(both).problems if p.code == "cycle") == [
        ("b", "b"), ("x", "y", "x")]
    assert list(bfs(wf, "a")) == ["a", "b", "c"] and descendants(wf, "b") == {"c"}


def test_map_body_problems_are_reported_and_item_input_is_fed() -> None:
    body = Workflow(id="b", nodes=(op("read", ins={"path": "path"}, outs={"text": "text"}),
                                   op("use", ins={"t": "text", "u": "int"})),
                    edges=(DataEdge("read", "text", "use", "t"),))
    m = MapNode(id="m", body=body, item_input="read.path", result_output="read.nope",
                inputs=(port("items", "list[path]", required=False),),
                outputs=(port("results", "list[text]"),))
    r = validate(Workflow(id="w", nodes=(m,)))
    msgs = [p.message for p in r.problems]
    assert any("result_output 'read.nope'" in x for x in msgs)
    assert any("use.u" in x for x in msgs)  # the body's own missing input
    assert not any("read.path" in x and "missing" in x for x in msgs)


def test_node_rules() -> None:
    from symphony.workflow import BranchNode, InstrumentNode, MergeNode
    from symphony.workflow.predicates import Const

    nodes = (
        InstrumentNode(id="i", model=ModelSpec("p", "m"), prompt="{nope} {", inputs=()),
        InstrumentNode(id="j", model=ModelSpec("p", "m"), prompt="{nope}", inputs=()),
        BranchNode(id="br", condition=Const(True), outputs=(port("then"),)),
        GateNode(id="g", approvals=0),
        MergeNode(id="mg", inputs=(port("x"),)),
        op("bad-policy", policy=NodePolicy(timeout=0)),
    )
    r = validate(Workflow(id="w", nodes=nodes))
    assert {p.node for p in r.problems if p.code == "invalid-node"} == {
        "i", "j", "br", "g", "mg", "bad-policy"}


@settings(max_examples=60, deadline=None)
@given(workflows())
def test_generated_workflows_are_valid(wf: Workflow) -> None:
    r = validate(wf)
    assert r.ok, r.problems
    assert len(r.order) == len(wf.nodes)


def _random_graph(rng: random.Random, n: int, m: int, cyclic: bool) -> Workflow:
    nodes = tuple(op(f"v{i}") for i in range(n))
    edges = []
    for _ in range(m):
        a, b = rng.randrange(n), rng.randrange(n)
        if a == b:
            continue
        if not cyclic and a > b:
            a, b = b, a
        e = ControlEdge(f"v{a}", f"v{b}")
        if e not in edges:
            edges.append(e)
    return Workflow(id="g", nodes=nodes, edges=tuple(edges))


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 25), st.integers(0, 60), st.booleans())
def test_graph_operations_against_networkx(seed: int, n: int, m: int, cyclic: bool) -> None:
    wf = _random_graph(random.Random(seed), n, m, cyclic)
    g = nx.DiGraph()
    g.add_nodes_from(n.id for n in wf.nodes)
    g.add_edges_from((e.source, e.target) for e in wf.edges)
    r = validate(wf)
    if nx.is_directed_acyclic_graph(g):
        assert r.ok
        order = topological_order(wf)
        pos = {v: i for i, v in enumerate(order)}
        assert all(pos[a] < pos[b] for a, b in g.edges)
        levels = execution_levels(wf)
        assert [v for lvl in levels for v in lvl] == order
        longest = {v: 0 for v in g}
        for v in nx.topological_sort(g):
            for w in g.successors(v):
                longest[w] = max(longest[w], longest[v] + 1)
        assert all(longest[v] == i for i, lvl in enumerate(levels) for v in lvl)
    else:
        assert not r.ok
        cyc = [p for p in r.problems if p.code == "cycle"]
        sccs = [c for c in nx.strongly_connected_components(g) if len(c) > 1]
        assert len(cyc) == len(sccs)
        for p in cyc:
            assert p.cycle[0] == p.cycle[-1]
            assert all(g.has_edge(a, b) for a, b in zip(p.cycle, p.cycle[1:]))
        on_cycle = set().union(*sccs)
        stuck = set().union(*(nx.descendants(g, v) for v in on_cycle)) - on_cycle
        assert {p.node for p in r.problems if p.code == "unreachable"} == stuck
        with pytest.raises(WorkflowCycleError) as info:
            topological_order(wf)
        assert info.value.cycle_ids[0] == info.value.cycle_ids[-1]
    for v in list(g)[:3]:
        assert ancestors(wf, v) == nx.ancestors(g, v)
        assert descendants(wf, v) == nx.descendants(g, v)
        assert set(bfs(wf, v)) == nx.descendants(g, v) | {v}
        assert next(iter(dfs(wf, v))) == v and set(dfs(wf, v, "up")) == nx.ancestors(g, v) | {v}
        assert set(bfs(wf, v, "both")) == nx.node_connected_component(g.to_undirected(), v)


def test_traversal_orders_and_subgraph() -> None:
    wf = Workflow(id="t", nodes=tuple(op(x) for x in "abcde"), edges=(
        ControlEdge("a", "b"), ControlEdge("a", "c"), ControlEdge("b", "d"),
        ControlEdge("c", "d"), ControlEdge("d", "e")))
    assert list(bfs(wf, "a")) == ["a", "b", "c", "d", "e"]
    assert list(dfs(wf, "a")) == ["a", "b", "d", "e", "c"]
    sub = subgraph(wf, ["a", "b", "d"])
    assert [n.id for n in sub.nodes] == ["a", "b", "d"] and len(sub.edges) == 2
    assert sub.id == "t.sub"
    with pytest.raises(NotFoundError):
        subgraph(wf, ["zz"])
    with pytest.raises(NotFoundError):
        list(bfs(wf, "zz"))
    with pytest.raises(NotFoundError):
        wf.node("zz")
    with pytest.raises(ValueError, match="direction"):
        list(bfs(wf, "a", "sideways"))  # type: ignore[arg-type]


def test_long_chain_is_iterative() -> None:
    n = 50_000
    wf = Workflow(id="chain", nodes=tuple(op(f"n{i}") for i in range(n)),
                  edges=tuple(ControlEdge(f"n{i}", f"n{i + 1}") for i in range(n - 1)))
    assert validate(wf).ok
    assert len(descendants(wf, "n0")) == n - 1
    assert sum(1 for _ in dfs(wf, "n0")) == n
    cyc = wf.evolve(edges=(*wf.edges, ControlEdge(f"n{n - 1}", "n0")))
    assert [p.code for p in validate(cyc).problems] == ["cycle"]


def test_synthetic_benchmark_workflow_is_valid_and_deterministic() -> None:
    a = random_workflow(2000, 10_000, seed=3)
    b = random_workflow(2000, 10_000, seed=3)
    assert a == b
    r = validate(a)
    assert r.ok and r.problems == []
    assert r.order == validate(b).order


def test_version_ordering_and_errors() -> None:
    vs = [Version.parse(s) for s in ("1.0.0", "1.0.0-rc.1", "1.0.0-alpha", "0.9.9",
                                      "1.0.0-alpha.2", "1.0.0-alpha.10", "2.0.0+b")]
    assert [str(v) for v in sorted(vs)] == ["0.9.9", "1.0.0-alpha", "1.0.0-alpha.2",
                                            "1.0.0-alpha.10", "1.0.0-rc.1", "1.0.0", "2.0.0+b"]
    for bad in ("1", "1.0", "01.0.0", "a.b.c", ""):
        with pytest.raises(ValidationError, match="version"):
            Version.parse(bad)
    assert ModelSpec.parse("gpt-4") == ModelSpec("default", "gpt-4")
    assert str(ModelSpec.parse("openai/gpt-4@2024")) == "openai/gpt-4@2024"
    with pytest.raises(ValidationError):
        ModelSpec.parse("/x")


@pytest.mark.cython
@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 30), st.integers(0, 80), st.booleans())
def test_both_toposort_twins_give_the_same_report(seed: int, n: int, m: int,
                                                  cyclic: bool) -> None:
    import importlib

    from symphony.workflow import _kernel

    reports = []
    saved = _kernel.toposort
    try:
        for pkg in ("symphony._core", "symphony.reference"):
            _kernel.toposort = importlib.import_module(f"{pkg}.toposort")
            wf = _random_graph(random.Random(seed), n, m, cyclic)
            r = validate(wf)
            reports.append((r.problems, r.order, r.levels))
    finally:
        _kernel.toposort = saved
    assert reports[0] == reports[1]
