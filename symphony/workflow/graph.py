"""Graph operations on a workflow (seed M5.2), over a dense integer index.

:class:`GraphIndex` maps node ids to dense ints *once* per workflow (cached on it) and keeps
the edges as two ``array('q')`` columns, which is what the toposort kernel consumes. Every
operation here works on those ints and only turns results back into ids at the end.

Edges of every kind (data, control, conditional) order execution, so all of them count
here. All traversals are iterative (a 1,000,000-node chain must not hit the recursion limit).
Orders are deterministic: ties are broken by node position in ``Workflow.nodes``.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Literal

from symphony.commons.errors import CycleError, InvalidGraph, NotFoundError
from symphony.workflow import _kernel
from symphony.workflow.model import Edge, Workflow

__all__ = [
    "GraphIndex",
    "WorkflowCycleError",
    "ancestors",
    "bfs",
    "descendants",
    "dfs",
    "edges_by_source",
    "edges_by_target",
    "execution_levels",
    "subgraph",
    "topological_order",
]

_ID = attrgetter("id")
_ENDS = ("source", "target")
_SOURCE = attrgetter("source")
_TARGET = attrgetter("target")


class WorkflowCycleError(CycleError):
    """A workflow has a cycle; ``cycle`` is the node-index path, ``cycle_ids`` the id path."""

    def __init__(self, message: str, cycle: list[int], cycle_ids: list[str]):
        super().__init__(message, cycle)
        self.cycle_ids: list[str] = list(cycle_ids)
        self.details["cycle_ids"] = list(cycle_ids)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message, self.cycle, self.cycle_ids))


@dataclass(slots=True, eq=False)
class GraphIndex:
    """Dense-int view of a workflow's graph.

    Attributes:
        ids: node id of each index (first occurrence of each id, in node order).
        index: id → index.
        src, dst: endpoints of every edge whose two ends exist and differ.
        edge_pos: for each entry of ``src``/``dst``, its position in ``Workflow.edges``.
        dangling: positions of edges naming a node that does not exist.
        self_loops: positions of edges from a node to itself (a property: found by the
            kernel's own edge check when the graph is sorted, or by a scan when asked first).
        duplicate_nodes: positions in ``Workflow.nodes`` of repeated ids.
    """

    ids: list[str]
    index: dict[str, int]
    src: array[int]
    dst: array[int]
    edge_pos: Sequence[int]
    dangling: list[int]
    _loops: list[int] | None
    duplicate_nodes: list[int]
    _edge_src: list[int | None] | None
    _edge_dst: list[int | None] | None
    _succ: list[list[int]] | None = field(default=None, repr=False)
    _pred: list[list[int]] | None = field(default=None, repr=False)
    _sorted: tuple[list[int], list[list[int]]] | None = field(default=None, repr=False)
    kernel_graph: object = field(default=None, repr=False)
    """The toposort kernel's ``Graph`` once :meth:`sort` succeeded, else ``None``."""

    @classmethod
    def build(cls, wf: Workflow) -> GraphIndex:
        """Index ``wf`` (O(nodes + edges), C-level loops where possible)."""
        ids = list(map(_ID, wf.nodes))
        index = dict(zip(ids, range(len(ids))))
        edges = wf.edges
        if len(index) == len(ids):
            # common case: distinct ids, every edge end exists -- both int64 columns in one
            # C-level pass over the edges (the kernel's label_columns; -1: no such node)
            import numpy as np

            cols: list[array[int]] = _kernel.toposort.label_columns(
                edges, _ENDS, [index, index])
            if not edges or min(np.frombuffer(cols[0], dtype=np.int64).min(),
                                np.frombuffer(cols[1], dtype=np.int64).min()) >= 0:
                return cls(ids, index, cols[0], cols[1], range(len(edges)), [], None, [],
                           None, None)
            # a dangling edge: the general path below
        dup: list[int] = []
        if len(index) != len(ids):
            # Keep the first occurrence; renumber densely.
            first: dict[str, int] = {}
            for pos, nid in enumerate(ids):
                if nid in first:
                    dup.append(pos)
                else:
                    first[nid] = len(first)
            ids = list(first)
            index = first
        get = index.get
        s_ix = list(map(get, map(_SOURCE, edges)))
        d_ix = list(map(get, map(_TARGET, edges)))
        dangling: list[int] = []
        found: list[int] = []
        loops: list[int] | None = found
        if None in s_ix or None in d_ix:
            keep_s: list[int] = []
            keep_d: list[int] = []
            pos_l: list[int] = []
            for pos, (s, d) in enumerate(zip(s_ix, d_ix)):
                if s is None or d is None:
                    dangling.append(pos)
                elif s == d:
                    found.append(pos)
                else:
                    keep_s.append(s)
                    keep_d.append(d)
                    pos_l.append(pos)
            src, dst = array("q", keep_s), array("q", keep_d)
            epos: Sequence[int] = array("q", pos_l)
        else:
            src = array("q", s_ix)  # type: ignore[arg-type]
            dst = array("q", d_ix)  # type: ignore[arg-type]
            epos = range(len(edges))  # every edge kept: positions are the identity
            loops = None  # not looked for yet: the kernel checks edges anyway
        return cls(ids, index, src, dst, epos, dangling, loops, dup, s_ix, d_ix)

    @property
    def edge_src(self) -> list[int | None]:
        """Source index of every edge, aligned with ``Workflow.edges`` (``None``: no such
        node)."""
        if self._edge_src is None:
            self._edge_src = self._all_kept().tolist()  # type: ignore[assignment]
        assert self._edge_src is not None
        return self._edge_src

    @property
    def edge_dst(self) -> list[int | None]:
        """Target index of every edge, aligned with ``Workflow.edges``."""
        if self._edge_dst is None:
            self._edge_dst = self._all_kept(dst=True).tolist()  # type: ignore[assignment]
        assert self._edge_dst is not None
        return self._edge_dst

    def _all_kept(self, dst: bool = False) -> array[int]:
        # only built lazily when build() kept every edge (src/dst still aligned with the
        # edges: _drop_loops reads these lists before it takes any self-loop out)
        assert isinstance(self.edge_pos, range)
        return self.dst if dst else self.src

    @property
    def self_loops(self) -> list[int]:
        """Positions (in ``Workflow.edges``) of edges from a node to itself."""
        if self._loops is None:
            self._drop_loops()
        assert self._loops is not None
        return self._loops

    def _drop_loops(self) -> None:
        """Find self-loops and take them out of ``src``/``dst`` (fast path graphs only)."""
        loops = [pos for pos, (s, d) in enumerate(zip(self.edge_src, self.edge_dst)) if s == d]
        self._loops = loops
        if loops:
            bad = set(loops)
            keep = [pos for pos in range(len(self.edge_src)) if pos not in bad]
            self.src = array("q", [self.edge_src[p] for p in keep])  # type: ignore[misc]
            self.dst = array("q", [self.edge_dst[p] for p in keep])  # type: ignore[misc]
            self.edge_pos = array("q", keep)
            self._succ = self._pred = None

    # ---- adjacency
    @property
    def n(self) -> int:
        """Number of distinct nodes."""
        return len(self.ids)

    def successors(self) -> list[list[int]]:
        """Successor lists (parallel edges appear once per edge), built lazily."""
        if self._loops is None:
            self._drop_loops()
        if self._succ is None:
            succ: list[list[int]] = [[] for _ in range(self.n)]
            for s, d in zip(self.src, self.dst):
                succ[s].append(d)
            self._succ = succ
        return self._succ

    def predecessors(self) -> list[list[int]]:
        """Predecessor lists, built lazily."""
        if self._loops is None:
            self._drop_loops()
        if self._pred is None:
            pred: list[list[int]] = [[] for _ in range(self.n)]
            for s, d in zip(self.src, self.dst):
                pred[d].append(s)
            self._pred = pred
        return self._pred

    def sort(self) -> tuple[list[int], list[list[int]]]:
        """``(order, levels)`` from the toposort kernel (cached).

        Raises:
            WorkflowCycleError: the cycle as indices and ids.
        """
        if self._sorted is None:
            try:
                try:
                    order, levels, graph = _kernel.sort_levels(self.n, self.src, self.dst)
                except InvalidGraph:
                    if self._loops is not None:
                        raise  # ids are in range and loops were removed: a real bug
                    self._drop_loops()  # the kernel met a self-loop: drop them, sort again
                    order, levels, graph = _kernel.sort_levels(self.n, self.src, self.dst)
                if self._loops is None:
                    self._loops = []  # the kernel checked every edge: no self-loop
                if self._loops:
                    u = self.edge_src[self._loops[0]]
                    assert u is not None
                    raise CycleError(f"self-loop on node {u}", [u, u])
                self.kernel_graph = graph
                self._sorted = (order, levels)
            except CycleError as err:
                ids = [self.ids[i] for i in err.cycle]
                raise WorkflowCycleError(
                    f"workflow has a cycle: {' -> '.join(ids)}", err.cycle, ids
                ) from None
        return self._sorted

    def lookup(self, node_id: str) -> int:
        """Index of ``node_id``.

        Raises:
            NotFoundError: naming the id.
        """
        try:
            return self.index[node_id]
        except (KeyError, TypeError):
            raise NotFoundError(f"no node {node_id!r} in the workflow") from None


Direction = Literal["down", "up", "both"]


def _neighbours(gi: GraphIndex, direction: Direction) -> list[list[int]]:
    if direction == "down":
        return gi.successors()
    if direction == "up":
        return gi.predecessors()
    if direction == "both":
        return [a + b for a, b in zip(gi.successors(), gi.predecessors())]
    raise ValueError(f"direction must be 'down', 'up' or 'both', got {direction!r}")


def _starts(gi: GraphIndex, start: str | Iterable[str]) -> list[int]:
    names = [start] if isinstance(start, str) else list(start)
    return [gi.lookup(s) for s in names]


def bfs(wf: Workflow, start: str | Iterable[str], direction: Direction = "down") -> Iterator[str]:
    """Breadth-first ids from ``start`` (included), following edges ``down``/``up``/``both``.

    Neighbours are visited in edge order. Raises ``NotFoundError`` for an unknown start.
    """
    gi = wf.index()
    nb = _neighbours(gi, direction)
    starts = _starts(gi, start)
    seen = set(starts)
    q = deque(starts)
    while q:
        u = q.popleft()
        yield gi.ids[u]
        for v in nb[u]:
            if v not in seen:
                seen.add(v)
                q.append(v)


def dfs(wf: Workflow, start: str | Iterable[str], direction: Direction = "down") -> Iterator[str]:
    """Depth-first pre-order ids from ``start`` (iterative; neighbours in edge order)."""
    gi = wf.index()
    nb = _neighbours(gi, direction)
    seen: set[int] = set()
    stack = list(reversed(_starts(gi, start)))
    while stack:
        u = stack.pop()
        if u in seen:
            continue
        seen.add(u)
        yield gi.ids[u]
        stack.extend(v for v in reversed(nb[u]) if v not in seen)


def _closure(gi: GraphIndex, node: str, nb: list[list[int]]) -> set[str]:
    u = gi.lookup(node)
    seen = {u}
    stack = [u]
    while stack:
        for v in nb[stack.pop()]:
            if v not in seen:
                seen.add(v)
                stack.append(v)
    seen.discard(u)
    return {gi.ids[i] for i in seen}


def ancestors(wf: Workflow, node: str) -> set[str]:
    """Ids of every node with a path *to* ``node`` (not including it)."""
    gi = wf.index()
    return _closure(gi, node, gi.predecessors())


def descendants(wf: Workflow, node: str) -> set[str]:
    """Ids of every node reachable *from* ``node`` (not including it)."""
    gi = wf.index()
    return _closure(gi, node, gi.successors())


def topological_order(wf: Workflow) -> list[str]:
    """Node ids in the deterministic execution order (levels concatenated, ties by position).

    Raises:
        WorkflowCycleError: carrying the cycle path.
    """
    gi = wf.index()
    ids = gi.ids
    return [ids[i] for i in gi.sort()[0]]


def execution_levels(wf: Workflow) -> list[list[str]]:
    """Node ids in levels: every node's predecessors are in earlier levels."""
    gi = wf.index()
    ids = gi.ids
    return [[ids[i] for i in level] for level in gi.sort()[1]]


def subgraph(wf: Workflow, node_ids: Iterable[str], *, id: str | None = None) -> Workflow:
    """The induced sub-workflow on ``node_ids``: those nodes, in workflow order, and every
    edge between two of them. Metadata and version are kept; ``id`` defaults to
    ``"<id>.sub"``.

    Raises:
        NotFoundError: a requested id is not a node.
    """
    gi = wf.index()
    keep = {gi.lookup(x) for x in node_ids}
    keep_ids = {gi.ids[i] for i in keep}
    nodes = tuple(n for n in wf.nodes if n.id in keep_ids)
    # drop duplicate-id nodes after the first
    seen: set[str] = set()
    uniq = []
    for n in nodes:
        if n.id not in seen:
            seen.add(n.id)
            uniq.append(n)
    edges: tuple[Edge, ...] = tuple(
        e for e in wf.edges if e.source in keep_ids and e.target in keep_ids
    )
    return Workflow(
        id=id if id is not None else f"{wf.id}.sub",
        name=wf.name,
        version=wf.version,
        description=wf.description,
        metadata=wf.metadata,
        nodes=tuple(uniq),
        edges=edges,
    )


def edges_by_target(wf: Workflow) -> dict[str, tuple[Edge, ...]]:
    """Every node id → its incoming edges, in ``Workflow.edges`` order (cached on ``wf``).

    Nodes without incoming edges map to ``()``; edges naming unknown nodes are left out.
    """
    return _edges_by(wf, "target")


def edges_by_source(wf: Workflow) -> dict[str, tuple[Edge, ...]]:
    """Every node id → its outgoing edges, in ``Workflow.edges`` order (cached on ``wf``)."""
    return _edges_by(wf, "source")


def _edges_by(wf: Workflow, end: Literal["source", "target"]) -> dict[str, tuple[Edge, ...]]:
    key = f"edges_by_{end}"
    cached = wf._cache.get(key)
    if cached is None:
        groups: dict[str, list[Edge]] = {n.id: [] for n in wf.nodes}
        get = _SOURCE if end == "source" else _TARGET
        for e in wf.edges:
            lst = groups.get(get(e))
            if lst is not None:
                lst.append(e)
        wf._cache[key] = cached = {k: tuple(v) for k, v in groups.items()}
    return cached  # type: ignore[return-value]
