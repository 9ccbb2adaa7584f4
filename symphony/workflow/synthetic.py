"""Reproducible synthetic workflows for benchmarks and tests (append-only: changing a
generator silently changes every benchmark that used it)."""

from __future__ import annotations

import random
import sys

from symphony.workflow.model import (
    ControlEdge,
    DataEdge,
    Edge,
    Metadata,
    Node,
    OperatorNode,
    Version,
    Workflow,
    port,
)

__all__ = ["random_workflow"]

_TYPES = ("int", "float", "str", "text", "list[str]", "json", "path", "Document")
_ACCEPTS = {  # output type -> an input type that accepts it
    "int": "float", "float": "float", "str": "text", "text": "str", "list[str]": "json",
    "json": "any", "path": "str", "Document": "Document",
}


def random_workflow(n_nodes: int, n_edges: int, *, seed: int = 1, span: int = 64) -> Workflow:
    """A valid random DAG workflow of ``n_nodes`` operator nodes and ``n_edges`` edges.

    Every node but the first has a required typed input ``a`` fed by one data edge from an
    earlier node (within ``span`` positions); the remaining edges are, alternately, data
    edges into the multi input ``rest`` and control edges, all from earlier to later nodes,
    so the graph is acyclic and every node is reachable. Port types vary over built-in,
    generic and user-named types, each edge joining compatible ones.
    """
    rng = random.Random(seed)
    ids = [sys.intern(f"n{j}") for j in range(n_nodes)]  # as the loaders do
    out_types = [rng.choice(_TYPES) for _ in range(n_nodes)]
    srcs: list[int] = [0] * n_nodes
    for j in range(1, n_nodes):
        srcs[j] = j - 1 - rng.randrange(min(j, span))
    nodes: list[Node] = []
    for j in range(n_nodes):
        a_type = _ACCEPTS[out_types[srcs[j]]] if j else "any"
        nodes.append(
            OperatorNode(
                id=ids[j],
                operator=rng.choice(("text.split", "stats.count", "fs.read", "json.parse")),
                config={"k": j % 7} if j % 3 == 0 else {},
                inputs=(
                    port("a", a_type, default=0 if j == 0 else None),
                    port("rest", "any", required=False, multi=True),
                ),
                outputs=(port("out", out_types[j]),),
            )
        )
    edges: list[Edge] = [DataEdge(ids[srcs[j]], "out", ids[j], "a") for j in range(1, n_nodes)]
    seen: set[tuple[int, int, bool]] = set()
    kind = False
    while len(edges) < n_edges and n_nodes > 1:
        j = 1 + rng.randrange(n_nodes - 1)
        i = j - 1 - rng.randrange(min(j, span))
        if (i, j, kind) in seen:
            continue
        seen.add((i, j, kind))
        edges.append(
            DataEdge(ids[i], "out", ids[j], "rest") if kind else ControlEdge(ids[i], ids[j])
        )
        kind = not kind
    return Workflow(
        id=f"synthetic-{n_nodes}-{n_edges}-{seed}",
        name="synthetic",
        version=Version(1, 0, 0),
        metadata=Metadata(author="bench", tags=("synthetic",)),
        nodes=tuple(nodes),
        edges=tuple(edges),
    )
