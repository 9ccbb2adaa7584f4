"""Hypothesis strategies: random *valid* workflows (every node kind, nested map bodies)."""

from __future__ import annotations

from hypothesis import strategies as st

from symphony.workflow import (
    BranchNode,
    ConditionalEdge,
    ControlEdge,
    DataEdge,
    Edge,
    GateNode,
    InstrumentNode,
    MapNode,
    MergeNode,
    Metadata,
    ModelSpec,
    Node,
    NodePolicy,
    OperatorNode,
    Port,
    Version,
    Workflow,
    parse_type,
)
from symphony.workflow.predicates import All, AnyOf, Compare, Const, Not, Predicate

idents = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True)
texts = st.text(max_size=12)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
json_objects = st.dictionaries(texts, json_values, max_size=3)
type_names = st.sampled_from(
    ["any", "str", "text", "int", "float", "bool", "bytes", "dict", "json", "path",
     "list[str]", "list[int]", "list[list[float]]", "Document"]
)
versions = st.builds(
    Version, st.integers(0, 20), st.integers(0, 20), st.integers(0, 99),
    st.sampled_from(["", "rc.1", "alpha", "beta.2"]), st.sampled_from(["", "build.5"]),
)
compare_ops = st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge", "in", "contains",
                               "exists", "truthy"])
paths = st.from_regex(r"[a-z]{1,5}(\.[a-z0-9]{1,3}){0,2}", fullmatch=True) | st.sampled_from(
    ["and", "in", "not", "true", "a-b", "x.and", "0"]
)


def _compare(op: str, path: str, value: object) -> Compare:
    return Compare(op, path, None if op in ("exists", "truthy") else value)  # type: ignore[arg-type]


predicates: st.SearchStrategy[Predicate] = st.recursive(
    st.builds(Const, st.booleans())
    | st.builds(_compare, compare_ops, paths, json_values),
    lambda inner: st.builds(Not, inner)
    | st.builds(All, st.lists(inner, max_size=3).map(tuple))
    | st.builds(AnyOf, st.lists(inner, max_size=3).map(tuple)),
    max_leaves=5,
)
policies = st.one_of(
    st.just(NodePolicy()),
    st.builds(
        NodePolicy,
        timeout=st.none() | st.floats(0.01, 100),
        retries=st.integers(0, 5),
        retry_backoff=st.floats(0, 5),
        retry_backoff_max=st.floats(0, 60),
        retry_jitter=st.floats(0, 1),
        run_in=st.sampled_from(["auto", "inline", "async", "process"]),
    ),
)


def _ports(draw: st.DrawFn, prefix: str, n: int, *, optional: bool) -> tuple[Port, ...]:
    out = []
    for i in range(n):
        t = parse_type(draw(type_names))
        default = draw(st.none() | json_scalars) if optional else None
        out.append(Port(name=f"{prefix}{i}", type=t, required=not optional,
                        default=default, description=draw(st.sampled_from(["", "doc"]))))
    return tuple(out)


@st.composite
def nodes(draw: st.DrawFn, node_id: str, depth: int) -> Node:
    kinds = ["operator", "instrument", "branch", "gate", "merge"] + (["map"] if depth < 1 else [])
    kind = draw(st.sampled_from(kinds))
    common = {"id": node_id, "label": draw(st.sampled_from(["", "Label"])),
              "description": draw(st.sampled_from(["", "what it does"])),
              "policy": draw(policies)}
    if kind == "operator":
        return OperatorNode(operator=draw(idents), config=draw(json_objects),
                            inputs=_ports(draw, "in", draw(st.integers(0, 2)), optional=True),
                            outputs=_ports(draw, "out", draw(st.integers(0, 2)), optional=False),
                            **common)
    if kind == "instrument":
        ins = _ports(draw, "in", draw(st.integers(0, 2)), optional=True)
        prompt = "Do: " + " ".join(f"{{{p.name}}}" for p in ins)
        return InstrumentNode(model=ModelSpec(draw(idents), draw(idents),
                                              draw(st.sampled_from(["", "v1"]))),
                              prompt=prompt, params=draw(json_objects), inputs=ins,
                              outputs=_ports(draw, "out", 1, optional=False), **common)
    if kind == "branch":
        return BranchNode(condition=draw(predicates),
                          inputs=(Port(name="value", required=False),),
                          outputs=(Port(name="then"), Port(name="else")), **common)
    if kind == "gate":
        return GateNode(message=draw(texts), approvals=draw(st.integers(1, 3)),
                        timeout=draw(st.none() | st.floats(0.5, 60)),
                        on_timeout=draw(st.sampled_from(["reject", "approve"])),
                        inputs=(Port(name="value", required=False),),
                        outputs=(Port(name="value"),), **common)
    if kind == "merge":
        return MergeNode(strategy=draw(st.sampled_from(["all", "first"])),
                         inputs=(Port(name="items", multi=True, required=False),),
                         outputs=(Port(name="value"),), **common)
    body = draw(workflows(depth=depth + 1, max_nodes=3))
    first = body.nodes[0]
    item_port = Port(name="item", type=parse_type("any"))
    first = OperatorNode(id=first.id, operator="body.first", inputs=(item_port,),
                         outputs=(Port(name="out"),))
    body = body.evolve(nodes=(first, *body.nodes[1:]),
                       edges=tuple(e for e in body.edges if first.id not in (e.source, e.target)))
    return MapNode(body=body, item_input=f"{first.id}.item", result_output=f"{first.id}.out",
                   concurrency=draw(st.integers(0, 8)),
                   inputs=(Port(name="items", type=parse_type("list[any]"), required=False),),
                   outputs=(Port(name="results", type=parse_type("list[any]")),), **common)


@st.composite
def workflows(draw: st.DrawFn, depth: int = 0, max_nodes: int = 7) -> Workflow:
    """A random valid workflow: edges only go forward, data edges join compatible ports
    (the target input is ``any`` or has the source's type), no input is fed twice unless
    it is ``multi``."""
    ids = draw(st.lists(idents, min_size=1, max_size=max_nodes, unique=True))
    ns = [draw(nodes(i, depth)) for i in ids]
    edges: list[Edge] = []
    fed: set[tuple[str, str]] = set()
    for j in range(1, len(ns)):
        for _ in range(draw(st.integers(0, 3))):
            i = draw(st.integers(0, j - 1))
            a, b = ns[i], ns[j]
            kind = draw(st.sampled_from(["data", "control", "conditional"]))
            if kind == "control":
                e: Edge = ControlEdge(a.id, b.id)
            elif kind == "conditional":
                e = ConditionalEdge(a.id, b.id, draw(predicates))
            else:
                ok = [
                    (o, p) for o in a.outputs for p in b.inputs
                    if (p.type.name == "any" or p.type is o.type)
                    and (p.multi or (b.id, p.name) not in fed)
                ]
                if not ok:
                    continue
                o, p = draw(st.sampled_from(ok))
                e = DataEdge(a.id, o.name, b.id, p.name)
                fed.add((b.id, p.name))
            if e not in edges:
                edges.append(e)
    meta = Metadata(author=draw(texts), created=draw(st.sampled_from(["", "2026-11-24T06:00:00Z"])),
                    modified="", tags=tuple(draw(st.lists(idents, max_size=3))),
                    extra=draw(json_objects))
    return Workflow(id=draw(idents), name=draw(texts), version=draw(versions),
                    description=draw(texts), metadata=meta, nodes=tuple(ns), edges=tuple(edges))
