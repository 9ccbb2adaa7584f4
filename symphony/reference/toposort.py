"""Topological sort, cycles, levels, reachability and an incremental ready tracker.

This is the pure-Python twin and the specification; :mod:`symphony._core.toposort` is the
Cython twin (over the C core in ``symphony/include/symphony/toposort.h``) and must give the
same results and raise the same errors for every input.

The graph
    ``n`` nodes ``0 .. n-1`` (``0 <= n <= 2**31 - 1``) and edges ``src[e] -> dst[e]``
    meaning "``src[e]`` must come before ``dst[e]``". Edges come as two integer arrays
    (numpy ``int32``/``int64`` arrays, :class:`array.array`, ``memoryview``, or any sequence
    of integers; the Cython twin reads ``int32``/``int64`` buffers in place and converts
    anything else once) or as a CSR (:meth:`Graph.from_csr`).

Validation (:class:`~symphony.commons.errors.InvalidGraph`, naming the edge)
    Edges are checked in index order and the first bad one is reported with its index and
    values; within one edge the checks run in this order: negative source, source ``>= n``,
    negative target, target ``>= n``, self-loop (``s == d``). Arrays of different lengths are
    refused before any edge is looked at. ``str``, ``bytes`` and ``bytearray`` are refused
    with ``TypeError``; so is anything whose items are not integers.

Duplicate edges
    Allowed and harmless: a repeated ``u -> v`` is stored (it is counted by
    :attr:`Graph.num_edges` and listed by :meth:`Graph.successors`) but changes no order,
    level, cycle, reachability or tracker result.

The deterministic order (:meth:`Graph.order`)
    The **level** of a node is the length of the longest path that ends at it (sources are
    level 0). ``order()`` lists the nodes by level, and within a level by ascending index.
    This is a topological order (every edge goes to a strictly higher level), it is
    ``levels()`` flattened, and it does not depend on the order in which edges were given.
    :meth:`Graph.lexicographic_order` is the other classic rule: among the nodes whose
    predecessors are all placed, the smallest index comes next.

The cycle (:meth:`Graph.find_cycle`, :attr:`CycleError.cycle`)
    Let R be the nodes that Kahn's algorithm cannot place (those on a cycle or downstream of
    one); every node of R has a predecessor in R. Start at the smallest node of R and step to
    its smallest predecessor in R until a node repeats: the loop so closed, written in edge
    direction and rotated to start at its smallest node, is *the* cycle, reported as
    ``[c0, c1, ..., ck, c0]`` (``c0 -> c1 -> ... -> c0`` are edges). It does not depend on
    edge order either. Every operation that needs an acyclic graph raises
    :class:`~symphony.commons.errors.CycleError` carrying this cycle.

Cost
    Everything is O(n + m), iterative (a 1,000,000-node chain is fine), except
    :meth:`Graph.lexicographic_order` (O(m + n log n)) and reachability (O(nodes reached and
    their edges), plus sorting the result). A cyclic graph is never slower than an acyclic
    one of the same size: Kahn's algorithm stops early, and the cycle search visits only R.
"""

from __future__ import annotations

import heapq
import operator
from array import array
from collections.abc import Iterable, Sequence
from typing import SupportsIndex, TypeAlias, cast

from typing_extensions import Buffer

from symphony.commons.errors import CycleError, GraphError, InvalidGraph, TrackerError

__all__ = [
    "MAX_NODES",
    "Graph",
    "ReadyTracker",
    "find_cycle",
    "label_columns",
    "levels",
    "toposort",
]

MAX_NODES = 2**31 - 1
"""The largest node count (node ids are 32-bit)."""

IntArray: TypeAlias = Buffer | Sequence[SupportsIndex]
"""Integers as a buffer (int32/int64 read in place by the Cython twin) or a sequence."""

_NATIVE_INT_FORMATS = frozenset({"i", "l", "q"})


# --------------------------------------------------------------------------- input


def _as_ints(obj: object, what: str) -> list[int]:
    """The integers of ``obj`` as a list (the Cython twin reads int32/int64 buffers in place).

    Anything else is converted once through ``array('q', ...)``, so both twins raise the
    same ``TypeError`` for items that are not integers; values beyond 64 bits are kept (they
    are out of range and the edge check will name them).
    """
    if isinstance(obj, (str, bytes, bytearray)):
        raise TypeError(
            f"{what} must be a sequence or buffer of integers, got {type(obj).__name__}"
        )
    try:
        view = memoryview(cast(Buffer, obj))
    except TypeError:
        pass
    else:
        with view:
            if view.ndim == 1 and view.format in _NATIVE_INT_FORMATS:
                return view.tolist()
    items = cast("Iterable[int]", obj)
    if not hasattr(items, "__len__"):
        items = list(items)  # read once, even if the fallback below reads again
    try:
        return array("q", items).tolist()
    except OverflowError:
        return [operator.index(x) for x in items]


def _check_n(n: SupportsIndex) -> int:
    count = operator.index(n)
    if not 0 <= count <= MAX_NODES:
        raise InvalidGraph(
            f"node count n={count} is out of range [0, {MAX_NODES}]", details={"n": count}
        )
    return count


def _edge_error(e: int, s: int, d: int, n: int) -> InvalidGraph:
    """The error for edge ``e`` (``s -> d``), which is known to be bad."""
    where = f"edge {e} ({s} -> {d})"
    if s < 0:
        why = f"negative source node id {s}"
    elif s >= n:
        why = f"source node {s} out of range [0, {n})"
    elif d < 0:
        why = f"negative target node id {d}"
    elif d >= n:
        why = f"target node {d} out of range [0, {n})"
    else:
        why = f"self-loop on node {s}"
    return InvalidGraph(f"{where}: {why}", details={"edge": e, "src": s, "dst": d})


def _check_edges(n: int, src: list[int], dst: list[int]) -> None:
    """Raise for the first bad edge; a fast whole-array check first, then a scan."""
    if len(src) != len(dst):
        ls, ld = len(src), len(dst)
        missing = "target" if ls > ld else "source"
        raise InvalidGraph(
            f"src and dst differ in length ({ls} != {ld}): edge {min(ls, ld)} has no {missing}",
            details={"edge": min(ls, ld), "len_src": ls, "len_dst": ld},
        )
    if not src:
        return
    if (
        min(src) >= 0
        and max(src) < n
        and min(dst) >= 0
        and max(dst) < n
        and not any(map(operator.eq, src, dst))
    ):
        return
    for e, (s, d) in enumerate(zip(src, dst)):
        if not (0 <= s < n and 0 <= d < n) or s == d:
            raise _edge_error(e, s, d, n)


def _check_nodes(nodes: int | IntArray, n: int, error: type[GraphError]) -> list[int]:
    """A node or a batch of nodes as a list, each checked to be in ``[0, n)``."""
    try:
        single = operator.index(nodes)  # type: ignore[arg-type]
    except TypeError:
        batch = _as_ints(nodes, "nodes")
        for i, v in enumerate(batch):
            if not 0 <= v < n:
                raise error(
                    f"node {v} at position {i} of the batch is out of range [0, {n})",
                    details={"node": v, "position": i},
                ) from None
        return batch
    if not 0 <= single < n:
        raise error(f"node {single} is out of range [0, {n})", details={"node": single})
    return [single]


def _cycle_message(cycle: list[int]) -> str:
    path = cycle if len(cycle) <= 12 else [*cycle[:10], "...", cycle[-1]]
    return f"the graph has a cycle of {len(cycle) - 1} nodes: " + " -> ".join(map(str, path))


# --------------------------------------------------------------------------- graph


class Graph:
    """An immutable directed graph on nodes ``0 .. n-1``, stored as adjacency lists.

    Args:
        n: the number of nodes, ``0 <= n <= 2**31 - 1``.
        src, dst: edge arrays of equal length; edge ``e`` is ``src[e] -> dst[e]``.

    Raises:
        InvalidGraph: ``n`` out of range, lengths differ, or the first edge with an id out
            of ``[0, n)`` or a self-loop (its index and values are in the message and in
            ``details``).
        TypeError: ``n`` is not an integer, or an array is not integers.
    """

    __slots__ = ("_acyclic", "_indeg", "_m", "_n", "_pred", "_succ")

    def __init__(self, n: SupportsIndex, src: IntArray, dst: IntArray) -> None:
        count = _check_n(n)
        s = _as_ints(src, "src")
        d = _as_ints(dst, "dst")
        _check_edges(count, s, d)
        succ: list[list[int]] = [[] for _ in range(count)]
        indeg = [0] * count
        for u, v in zip(s, d):
            succ[u].append(v)
            indeg[v] += 1
        self._set(count, len(s), succ, indeg)

    def _set(self, n: int, m: int, succ: list[list[int]], indeg: list[int]) -> None:
        self._n = n
        self._m = m
        self._succ = succ
        self._indeg = indeg
        self._pred: list[list[int]] | None = None
        self._acyclic: bool | None = None  # cached by every full Kahn pass (immutable graph)

    @classmethod
    def from_csr(cls, offsets: IntArray, targets: IntArray) -> Graph:
        """A graph from a CSR: the successors of ``u`` are ``targets[offsets[u]:offsets[u+1]]``.

        ``n = len(offsets) - 1``. The arrays are copied (the graph never changes under you).

        Raises:
            InvalidGraph: ``offsets`` is empty, ``offsets[0] != 0``,
                ``offsets[n] != len(targets)``, ``offsets`` decreases, or a target is out
                of range or equals its source (checks in that order; the edge is named).
        """
        off = _as_ints(offsets, "offsets")
        tgt = _as_ints(targets, "targets")
        if not off:
            raise InvalidGraph("offsets must have n + 1 >= 1 entries, got an empty array")
        n = _check_n(len(off) - 1)
        m = len(tgt)
        if off[0] != 0:
            raise InvalidGraph(f"offsets[0] must be 0, got {off[0]}", details={"index": 0})
        if off[n] != m:
            raise InvalidGraph(
                f"offsets[{n}] = {off[n]} must equal len(targets) = {m}", details={"index": n}
            )
        for u in range(n):
            if off[u] > off[u + 1]:
                raise InvalidGraph(
                    f"offsets decrease at node {u}: offsets[{u}] = {off[u]} > "
                    f"offsets[{u + 1}] = {off[u + 1]}",
                    details={"index": u},
                )
        succ: list[list[int]] = []
        indeg = [0] * n
        for u in range(n):
            row = tgt[off[u] : off[u + 1]]
            for k, v in enumerate(row):
                if not 0 <= v < n or v == u:
                    raise _edge_error(off[u] + k, u, v, n)
                indeg[v] += 1
            succ.append(row)
        graph = cls.__new__(cls)
        graph._set(n, m, succ, indeg)
        return graph

    @property
    def n(self) -> int:
        """The number of nodes."""
        return self._n

    @property
    def num_edges(self) -> int:
        """The number of edges, duplicates included."""
        return self._m

    def __repr__(self) -> str:
        return f"Graph(n={self._n}, num_edges={self._m})"

    def csr(self) -> tuple[array[int], array[int]]:
        """``(offsets, targets)``: a copy of the CSR (``array('q')``, ``array('i')``).

        Rows keep the order in which the edges were given.
        """
        offsets = array("q", [0])
        total = 0
        for row in self._succ:
            total += len(row)
            offsets.append(total)
        targets = array("i")
        for row in self._succ:
            targets.extend(row)
        return offsets, targets

    def _node(self, node: SupportsIndex) -> int:
        v = operator.index(node)
        if not 0 <= v < self._n:
            raise GraphError(f"node {v} is out of range [0, {self._n})", details={"node": v})
        return v

    def _predecessors(self) -> list[list[int]]:
        if self._pred is None:
            pred: list[list[int]] = [[] for _ in range(self._n)]
            for u, row in enumerate(self._succ):  # u ascending: rows come out sorted
                for v in row:
                    pred[v].append(u)
            self._pred = pred
        return self._pred

    def successors(self, node: SupportsIndex) -> array[int]:
        """The targets of ``node``'s edges, ascending (a duplicated edge appears twice)."""
        return array("i", sorted(self._succ[self._node(node)]))

    def predecessors(self, node: SupportsIndex) -> array[int]:
        """The sources of the edges into ``node``, ascending (duplicates appear twice)."""
        return array("i", self._predecessors()[self._node(node)])

    def _generations(self) -> tuple[list[list[int]], list[int]]:
        """Kahn's algorithm by generations: (the levels, each sorted; leftover in-degrees)."""
        rem = list(self._indeg)
        succ = self._succ
        gens: list[list[int]] = []
        gen = [v for v in range(self._n) if rem[v] == 0]
        while gen:
            gen.sort()
            gens.append(gen)
            nxt = []
            for u in gen:
                for v in succ[u]:
                    rem[v] -= 1
                    if rem[v] == 0:
                        nxt.append(v)
            gen = nxt
        self._acyclic = sum(map(len, gens)) == self._n
        return gens, rem

    def _cycle(self, rem: list[int]) -> list[int]:
        """The canonical cycle (module docstring) given Kahn's leftover in-degrees."""
        n = self._n
        minpred = [-1] * n
        for u in range(n):
            if rem[u]:
                for v in self._succ[u]:
                    if rem[v] and minpred[v] < 0:
                        minpred[v] = u  # u ascending: the smallest predecessor in R
        start = next(u for u in range(n) if rem[u])
        seen: dict[int, int] = {}
        walk: list[int] = []
        x = start
        while x not in seen:
            seen[x] = len(walk)
            walk.append(x)
            x = minpred[x]
        loop = walk[seen[x] :][::-1]  # the walk follows edges backwards
        first = loop.index(min(loop))
        loop = loop[first:] + loop[:first]
        return [*loop, loop[0]]

    def _acyclic_generations(self) -> list[list[int]]:
        gens, rem = self._generations()
        if sum(map(len, gens)) != self._n:
            cycle = self._cycle(rem)
            raise CycleError(_cycle_message(cycle), cycle)
        return gens

    def order(self) -> array[int]:
        """The deterministic topological order: by level, then by index.

        Raises:
            CycleError: the graph has a cycle (``err.cycle`` is the canonical one).
        """
        out = array("i")
        for gen in self._acyclic_generations():
            out.extend(gen)
        return out

    def lexicographic_order(self) -> array[int]:
        """The topological order that always takes the smallest ready index next.

        Raises:
            CycleError: the graph has a cycle (the same canonical cycle as ``order``).
        """
        rem = list(self._indeg)
        succ = self._succ
        heap = [v for v in range(self._n) if rem[v] == 0]  # ascending: already a heap
        out = array("i")
        while heap:
            u = heapq.heappop(heap)
            out.append(u)
            for v in succ[u]:
                rem[v] -= 1
                if rem[v] == 0:
                    heapq.heappush(heap, v)
        if len(out) != self._n:
            cycle = self._cycle(rem)
            raise CycleError(_cycle_message(cycle), cycle)
        return out

    def levels(self) -> list[array[int]]:
        """The nodes grouped by level (longest-path depth), each group ascending.

        Nodes of one level have no edges between them: a level can run in parallel once
        the levels before it are done.

        Raises:
            CycleError: the graph has a cycle.
        """
        return [array("i", gen) for gen in self._acyclic_generations()]

    def find_cycle(self) -> list[int] | None:
        """The canonical cycle ``[c0, ..., c0]``, or ``None`` if the graph is acyclic."""
        gens, rem = self._generations()
        if sum(map(len, gens)) == self._n:
            return None
        return self._cycle(rem)

    def is_acyclic(self) -> bool:
        """True when the graph has no cycle."""
        gens, _ = self._generations()
        return sum(map(len, gens)) == self._n

    def _reach(
        self, adjacency: list[list[int]], nodes: int | IntArray, include_self: bool
    ) -> array[int]:
        seeds = _check_nodes(nodes, self._n, GraphError)
        seen: set[int] = set(seeds) if include_self else set()
        stack = list(seen) if include_self else list(seeds)
        if not include_self:
            # seeds count only when reached through an edge
            frontier = stack
            stack = []
            for u in frontier:
                for v in adjacency[u]:
                    if v not in seen:
                        seen.add(v)
                        stack.append(v)
        while stack:
            u = stack.pop()
            for v in adjacency[u]:
                if v not in seen:
                    seen.add(v)
                    stack.append(v)
        return array("i", sorted(seen))

    def descendants(self, nodes: int | IntArray, include_self: bool = False) -> array[int]:
        """Every node reachable from ``nodes`` (a node id or a batch), ascending.

        With ``include_self=False`` a seed is included only if another path reaches it
        (it is a descendant of a seed); with ``True`` every seed is included.

        Cost: O(nodes reached and their edges), plus sorting the result.

        Raises:
            GraphError: a node id is out of range (naming it and its position).
        """
        return self._reach(self._succ, nodes, include_self)

    def ancestors(self, nodes: int | IntArray, include_self: bool = False) -> array[int]:
        """Every node from which ``nodes`` can be reached, ascending (see :meth:`descendants`).

        Uses the reverse adjacency, built on first use and cached.
        """
        return self._reach(self._predecessors(), nodes, include_self)


# --------------------------------------------------------------------------- module helpers


def toposort(
    n: SupportsIndex, src: IntArray, dst: IntArray, *, lexicographic: bool = False
) -> array[int]:
    """Validate the edges and return the deterministic order (``Graph(...).order()``).

    With ``lexicographic=True``, :meth:`Graph.lexicographic_order` instead.
    """
    graph = Graph(n, src, dst)
    return graph.lexicographic_order() if lexicographic else graph.order()


def levels(n: SupportsIndex, src: IntArray, dst: IntArray) -> list[array[int]]:
    """Validate the edges and return ``Graph(...).levels()``."""
    return Graph(n, src, dst).levels()


def find_cycle(n: SupportsIndex, src: IntArray, dst: IntArray) -> list[int] | None:
    """Validate the edges and return ``Graph(...).find_cycle()``."""
    return Graph(n, src, dst).find_cycle()


_ABSENT = object()


def label_columns(
    objs: Iterable[object],
    attrs: Sequence[str],
    tables: Sequence[dict[object, int]],
    grow: bool = False,
) -> list[array[int]]:
    """Integer columns from labelled objects, in one pass: for each ``attrs[j]``, the column
    ``tables[j][getattr(obj, attrs[j])]`` over ``objs``, as ``array('q')``.

    This is how a graph held as objects with labelled ends (node ids, port names …) becomes
    the integer arrays :class:`Graph` takes: ``label_columns(edges, ["source", "target"],
    [index, index])`` gives ``src`` and ``dst``.

    An entry is ``-2`` when the object has no such attribute (``AttributeError``), and
    ``-1`` when the value is not a key of the table or is unhashable (``TypeError`` from the
    lookup). With ``grow=True`` a hashable value that is not a key yet is added to its table
    with the value ``len(table)`` and that is the entry (the tables then number the labels
    in order of first appearance: pass empty dicts, or dicts numbering their keys
    ``0 .. len - 1``). Any other exception from an attribute or a lookup propagates.

    Raises:
        ValueError: ``attrs`` and ``tables`` differ in length.
        TypeError: an item of ``attrs`` is not a ``str``, an item of ``tables`` is not
            exactly a ``dict``, or a table value found is not an integer.
        OverflowError: a table value found does not fit in 64 bits.
    """
    attrs, tables = list(attrs), list(tables)
    if len(attrs) != len(tables):
        raise ValueError(f"attrs and tables differ in length ({len(attrs)} != {len(tables)})")
    for j, a in enumerate(attrs):
        if not isinstance(a, str):
            raise TypeError(f"attrs[{j}] must be a str, got {type(a).__name__}")
    for j, t in enumerate(tables):
        if type(t) is not dict:
            raise TypeError(f"tables[{j}] must be a dict, got {type(t).__name__}")
    cols: list[array[int]] = [array("q") for _ in attrs]
    jobs = list(zip(attrs, tables, cols))
    for obj in objs:
        for a, table, col in jobs:
            v = getattr(obj, a, _ABSENT)
            if v is _ABSENT:
                col.append(-2)
                continue
            try:
                x = table.get(v, _ABSENT)
            except TypeError:  # unhashable
                col.append(-1)
                continue
            if x is _ABSENT:
                if not grow:
                    col.append(-1)
                    continue
                x = table[v] = len(table)
            col.append(x)  # type: ignore[arg-type]
    return cols


# --------------------------------------------------------------------------- ready tracker

_WAITING, _READY, _HANDED, _DONE = 0, 1, 2, 3


class ReadyTracker:
    """Hands out nodes as their predecessors finish (``graphlib.TopologicalSorter``'s protocol).

    A node is *ready* once every predecessor is done. :meth:`ready` returns the nodes that
    became ready since its previous call (the sources, the first time), in ascending order;
    the caller runs them and reports each with :meth:`done`, which may release successors.
    :meth:`is_active` says whether anything is still pending::

        tracker = ReadyTracker(graph)
        while tracker.is_active():
            for node in tracker.ready():
                run(node)
                tracker.done(node)

    Args:
        graph: the :class:`Graph`; it must be acyclic.

    Raises:
        CycleError: the graph has a cycle (the canonical one is reported).
        TypeError: ``graph`` is not a :class:`Graph`.
    """

    __slots__ = ("_graph", "_ndone", "_pending", "_rem", "_state", "_tail")

    def __init__(self, graph: Graph) -> None:
        if not isinstance(graph, Graph):
            raise TypeError(f"ReadyTracker needs a Graph, got {type(graph).__name__}")
        if graph._acyclic is not True:  # checked once per Graph
            cycle = graph.find_cycle()
            if cycle is not None:
                raise CycleError(_cycle_message(cycle), cycle)
        self._graph = graph
        self._rem = list(graph._indeg)
        self._state = [_WAITING if d else _READY for d in self._rem]
        self._pending = [v for v in range(graph.n) if self._rem[v] == 0]
        self._tail = len(self._pending)  # how many nodes ever became ready
        self._ndone = 0

    @property
    def num_nodes(self) -> int:
        """The number of nodes of the graph."""
        return self._graph.n

    @property
    def num_done(self) -> int:
        """How many nodes have been marked done."""
        return self._ndone

    def ready(self) -> array[int]:
        """The nodes that became ready since the previous call, ascending (maybe empty)."""
        pending = self._pending
        pending.sort()
        state = self._state
        for v in pending:
            state[v] = _HANDED
        self._pending = []
        return array("i", pending)

    def done(self, nodes: int | IntArray) -> None:
        """Mark one node, or a batch of nodes, done; their successors may become ready.

        A batch is all or nothing: if any node is refused, none is marked.

        Raises:
            TrackerError: a node is out of range, not ready yet, ready but not yet handed
                out by :meth:`ready`, already done, or listed twice in the batch (the first
                refused node is named, with its position in a batch).
        """
        try:
            single = operator.index(nodes)  # type: ignore[arg-type]
        except TypeError:
            batch = _as_ints(nodes, "nodes")
            where = " at position {i} of the batch"
        else:
            batch = [single]
            where = ""
        state = self._state
        n = self._graph.n
        for i, v in enumerate(batch):
            problem = None
            if not 0 <= v < n:
                problem = f"is out of range [0, {n})"
            elif state[v] == _WAITING:
                problem = "is not ready yet (a predecessor is not done)"
            elif state[v] == _READY:
                problem = "is ready but was not handed out by ready() yet"
            elif state[v] == _DONE:
                problem = "is listed twice in the batch" if v in batch[:i] else "is already done"
            if problem is not None:
                for u in batch[:i]:  # undo the tentative marks
                    state[u] = _HANDED
                raise TrackerError(
                    f"node {v}{where.format(i=i)} {problem}", details={"node": v, "position": i}
                )
            state[v] = _DONE
        rem = self._rem
        succ = self._graph._succ
        pending = self._pending
        for u in batch:
            for v in succ[u]:
                rem[v] -= 1
                if rem[v] == 0:
                    state[v] = _READY
                    pending.append(v)
                    self._tail += 1
        self._ndone += len(batch)

    def is_active(self) -> bool:
        """True while a node is ready but not handed out, or handed out but not done."""
        return self._ndone < self._tail

    def __bool__(self) -> bool:
        return self.is_active()
