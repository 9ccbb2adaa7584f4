"""Cython twin of :mod:`symphony.reference.toposort`; semantics there.

Performance notes: the algorithms are the header-only C core in
``symphony/include/symphony/toposort.h`` (declared ``nogil`` in ``toposort.pxd`` for other
extensions). ``int32``/``int64`` contiguous buffers are read in place through typed
memoryviews; anything else is converted once to ``array('q')``. The CSR is built by one
validating counting-sort pass plus a scatter pass that re-checks every value (so another
thread writing the caller's arrays meanwhile can spoil the result, never memory). Kahn's
queue doubles as the output array, and the deterministic order is a counting sort by level.
The lexicographic order pops from a hierarchical bitmap (a few ``ctz`` per node) instead of
a binary heap. Reachability reuses scratch cached on the Graph (visit stamps, so a query
costs O(nodes reached), not O(n)); large results are collected in order from a bitmap. The
GIL is released around every O(n + m) loop; a ``ReadyTracker`` releases it for batches of
4096 nodes and more and refuses use from two threads at once.
"""

from cpython.array cimport array, clone
from cpython.long cimport PyLong_AsLongLong
from cpython.object cimport PyObject
from libc.stdint cimport INT64_MAX, INT64_MIN, int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcpy, memset

import array as _arraymod
import operator

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

cdef array _I32 = array("i")
cdef array _I64 = array("q")
cdef Py_ssize_t _NOGIL_BATCH = 4096


cdef inline array _new_i32(Py_ssize_t k):
    return clone(_I32, k, False)


cdef void *_xmalloc(size_t size) except NULL:
    cdef void *p = malloc(size if size > 0 else 1)
    if p == NULL:
        raise MemoryError(f"toposort: cannot allocate {size} bytes")
    return p


# --------------------------------------------------------------------------- input

cdef class _Ints:
    """Caller integers as an int32 or int64 contiguous buffer.

    ``values`` keeps the original Python ints when some did not fit in 64 bits (they are
    clamped to INT64_MIN / INT64_MAX in the buffer, which keeps every range verdict).
    """
    cdef int kind  # 4 or 8
    cdef const int32_t[::1] v32
    cdef const int64_t[::1] v64
    cdef object values
    cdef Py_ssize_t length

    cdef object value(self, Py_ssize_t i):
        if self.values is not None:
            return self.values[i]
        return self.v32[i] if self.kind == 4 else self.v64[i]


cdef _Ints _as_ints(object obj, str what):
    cdef _Ints r = _Ints.__new__(_Ints)
    if isinstance(obj, (str, bytes, bytearray)):
        raise TypeError(
            f"{what} must be a sequence or buffer of integers, got {type(obj).__name__}"
        )
    try:
        r.v32 = obj
        r.kind = 4
        r.length = r.v32.shape[0]
        return r
    except (TypeError, ValueError, BufferError):
        pass
    try:
        r.v64 = obj
        r.kind = 8
        r.length = r.v64.shape[0]
        return r
    except (TypeError, ValueError, BufferError):
        pass
    items = obj if hasattr(obj, "__len__") else list(obj)
    try:
        conv = _arraymod.array("q", items)
    except OverflowError:
        r.values = [operator.index(x) for x in items]
        conv = _arraymod.array("q", [_clamp(x) for x in r.values])
    r.v64 = conv
    r.kind = 8
    r.length = r.v64.shape[0]
    return r


cdef object _clamp(object x):
    if x > INT64_MAX:
        return INT64_MAX
    if x < INT64_MIN:
        return INT64_MIN
    return x


cdef _Ints _widen(_Ints r):
    """An int32 _Ints as int64 (to pair it with an int64 one)."""
    cdef _Ints w = _Ints.__new__(_Ints)
    cdef array a = clone(_I64, r.length, False)
    cdef Py_ssize_t i
    for i in range(r.length):
        a.data.as_longlongs[i] = r.v32[i]
    w.v64 = a
    w.kind = 8
    w.length = r.length
    return w


cdef sy_node _check_n(object n) except -1:
    count = operator.index(n)
    if not 0 <= count <= MAX_NODES:
        raise InvalidGraph(
            f"node count n={count} is out of range [0, {MAX_NODES}]", details={"n": count}
        )
    return count


def _edge_error(e, s, d, n):
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


def _cycle_message(cycle):
    path = cycle if len(cycle) <= 12 else [*cycle[:10], "...", cycle[-1]]
    return f"the graph has a cycle of {len(cycle) - 1} nodes: " + " -> ".join(map(str, path))


cdef object _cycle_error(const sy_node *c, sy_node k):
    cdef sy_node i
    cycle = [c[i] for i in range(k)]
    cycle.append(c[0])
    return CycleError(_cycle_message(cycle), cycle)


def _offsets_error(off, n, m):
    """The twin's offsets checks, on Python ints (some beyond 64 bits): always raises."""
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
    raise AssertionError("unreachable: a value beyond 64 bits passed every offsets check")


cdef array _node_batch(object nodes, sy_node n, object error, bint *single):
    """A node or a batch as a private array('i'), each id checked to be in [0, n)."""
    cdef _Ints r
    cdef array out
    cdef Py_ssize_t i
    cdef int64_t v
    try:
        one = operator.index(nodes)
    except TypeError:
        pass
    else:
        single[0] = True
        if not 0 <= one < n:
            raise error(f"node {one} is out of range [0, {n})", details={"node": one})
        out = _new_i32(1)
        out.data.as_ints[0] = one
        return out
    single[0] = False
    r = _as_ints(nodes, "nodes")
    out = _new_i32(r.length)
    for i in range(r.length):
        v = r.v32[i] if r.kind == 4 else r.v64[i]
        if v < 0 or v >= n:
            bad = r.value(i)
            raise error(
                f"node {bad} at position {i} of the batch is out of range [0, {n})",
                details={"node": bad, "position": i},
            )
        out.data.as_ints[i] = <int32_t>v
    return out


# --------------------------------------------------------------------------- graph

cdef class Graph:
    """Cython twin of :class:`symphony.reference.toposort.Graph`."""

    def __cinit__(self):
        # An uninitialised Graph is the empty graph, never a NULL dereference.
        self._off = <sy_edge *>calloc(1, sizeof(sy_edge))
        if self._off == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self._off)
        free(self._tgt)
        free(self._indeg)
        free(self._roff)
        free(self._rsrc)
        free(self._mark)
        free(self._reach_out)
        free(self._bits)

    cdef int _alloc(self, sy_node n, sy_edge m) except -1:
        if self._frozen:
            raise TypeError("a Graph is immutable: __init__ cannot run twice")
        self._frozen = True  # at once: a second __init__ (another thread) is refused
        cdef sy_edge *off = <sy_edge *>malloc((<size_t>n + 1) * sizeof(sy_edge))
        cdef sy_node *tgt = <sy_node *>malloc(<size_t>m * sizeof(sy_node) if m else 1)
        cdef sy_node *indeg = <sy_node *>malloc(<size_t>n * sizeof(sy_node) if n else 1)
        if off == NULL or tgt == NULL or indeg == NULL:
            free(off)
            free(tgt)
            free(indeg)
            raise MemoryError(f"toposort: cannot allocate a graph of {n} nodes, {m} edges")
        free(self._off)
        free(self._tgt)
        free(self._indeg)
        self._off = off
        self._tgt = tgt
        self._indeg = indeg
        self._off[0] = 0
        # _n and _m stay 0 (an empty graph) until the caller's build succeeds
        return 0

    def __init__(self, n, src, dst):
        cdef sy_node count = _check_n(n)
        cdef _Ints s = _as_ints(src, "src")
        cdef _Ints d = _as_ints(dst, "dst")
        cdef sy_edge m, bad
        cdef sy_edge *pos
        cdef const void *sp = NULL
        cdef const void *dp = NULL
        if s.length != d.length:
            ls, ld = s.length, d.length
            missing = "target" if ls > ld else "source"
            raise InvalidGraph(
                f"src and dst differ in length ({ls} != {ld}): edge {min(ls, ld)} has no {missing}",
                details={"edge": min(ls, ld), "len_src": ls, "len_dst": ld},
            )
        if s.kind != d.kind:
            if s.kind == 4:
                s = _widen(s)
            else:
                d = _widen(d)
        m = s.length
        if m:
            sp = &s.v32[0] if s.kind == 4 else <const void *>&s.v64[0]
            dp = &d.v32[0] if d.kind == 4 else <const void *>&d.v64[0]
        self._alloc(count, m)
        pos = <sy_edge *>_xmalloc(<size_t>count * sizeof(sy_edge))
        try:
            with nogil:
                if s.kind == 4:
                    bad = sy_topo_csr_build_i32(count, m, <const int32_t *>sp,
                                                <const int32_t *>dp,
                                                self._off, pos, self._tgt, self._indeg)
                else:
                    bad = sy_topo_csr_build_i64(count, m, <const int64_t *>sp,
                                                <const int64_t *>dp,
                                                self._off, pos, self._tgt, self._indeg)
        finally:
            free(pos)
        if bad != -1:
            # an empty graph stays behind, not a half-built one
            self._off[0] = 0
            if bad == -2:
                raise InvalidGraph("src or dst changed while the graph was built (another thread)")
            raise _edge_error(bad, s.value(bad), d.value(bad), count)
        self._n = count
        self._m = m

    @classmethod
    def from_csr(cls, offsets, targets):
        """from_csr(offsets, targets) -> Graph. See :meth:`symphony.reference.toposort.Graph.from_csr`."""
        cdef _Ints o = _as_ints(offsets, "offsets")
        cdef _Ints t = _as_ints(targets, "targets")
        cdef Graph g
        cdef sy_node n, u, row = 0
        cdef sy_edge m = t.length, where = 0, bad
        cdef int64_t value = 0
        cdef Py_ssize_t i
        cdef int code
        cdef const void *tp = NULL
        if o.length == 0:
            raise InvalidGraph("offsets must have n + 1 >= 1 entries, got an empty array")
        n = _check_n(o.length - 1)
        if o.values is not None:  # beyond 64 bits: the twin's checks on the real values
            _offsets_error(o.values, n, m)
        if m:
            tp = &t.v32[0] if t.kind == 4 else <const void *>&t.v64[0]
        g = Graph.__new__(Graph)
        g._alloc(n, m)
        # a private copy of the offsets: the targets are read against it
        if o.kind == 8:
            memcpy(g._off, &o.v64[0], <size_t>o.length * sizeof(sy_edge))
        else:
            for i in range(o.length):
                g._off[i] = o.v32[i]
        code = sy_topo_offsets_check(n, m, g._off, &where)
        if code != 0:
            if code == 1:
                raise InvalidGraph(f"offsets[0] must be 0, got {o.value(0)}", details={"index": 0})
            if code == 2:
                raise InvalidGraph(
                    f"offsets[{n}] = {o.value(n)} must equal len(targets) = {m}",
                    details={"index": n},
                )
            u = <sy_node>where
            raise InvalidGraph(
                f"offsets decrease at node {u}: offsets[{u}] = {o.value(u)} > "
                f"offsets[{u + 1}] = {o.value(u + 1)}",
                details={"index": u},
            )
        with nogil:
            if t.kind == 4:
                bad = sy_topo_csr_import_i32(n, g._off, <const int32_t *>tp, g._tgt,
                                             g._indeg, &row, &value)
            else:
                bad = sy_topo_csr_import_i64(n, g._off, <const int64_t *>tp, g._tgt,
                                             g._indeg, &row, &value)
        if bad != -1:
            raise _edge_error(bad, row, t.value(bad), n)
        g._n = n
        g._m = m
        return g

    @property
    def n(self):
        """The number of nodes."""
        return self._n

    @property
    def num_edges(self):
        """The number of edges, duplicates included."""
        return self._m

    def __repr__(self):
        return f"Graph(n={self._n}, num_edges={self._m})"

    def csr(self):
        """csr() -> (offsets, targets). See :meth:`symphony.reference.toposort.Graph.csr`."""
        cdef array off = clone(_I64, self._n + 1, False)
        cdef array tgt = _new_i32(self._m)
        memcpy(off.data.as_longlongs, self._off, (<size_t>self._n + 1) * sizeof(sy_edge))
        if self._m:
            memcpy(tgt.data.as_ints, self._tgt, <size_t>self._m * sizeof(sy_node))
        return off, tgt

    cdef int _ensure_reverse(self) except -1:
        cdef sy_edge *roff
        cdef sy_node *rsrc
        if self._roff != NULL:
            return 0
        roff = <sy_edge *>_xmalloc((<size_t>self._n + 2) * sizeof(sy_edge))
        rsrc = <sy_node *>malloc(<size_t>self._m * sizeof(sy_node) if self._m else 1)
        if rsrc == NULL:
            free(roff)
            raise MemoryError()
        with nogil:
            sy_topo_csr_reverse(self._n, self._off, self._tgt, roff, rsrc)
        if self._roff != NULL:  # another thread built it meanwhile
            free(roff)
            free(rsrc)
        else:
            self._roff = roff
            self._rsrc = rsrc
        return 0

    cdef sy_node _node(self, object node) except -1:
        v = operator.index(node)
        if not 0 <= v < self._n:
            raise GraphError(f"node {v} is out of range [0, {self._n})", details={"node": v})
        return v

    def successors(self, node):
        """successors(node) -> array. See :meth:`symphony.reference.toposort.Graph.successors`."""
        cdef sy_node v = self._node(node)
        cdef sy_edge k = self._off[v + 1] - self._off[v]
        cdef array out = _new_i32(k)
        if k:
            memcpy(out.data.as_ints, self._tgt + self._off[v], <size_t>k * sizeof(sy_node))
            sy_topo_sort_nodes(<sy_node *>out.data.as_ints, k)
        return out

    def predecessors(self, node):
        """predecessors(node) -> array. See :meth:`symphony.reference.toposort.Graph.predecessors`."""
        cdef sy_node v = self._node(node)
        self._ensure_reverse()
        cdef sy_edge k = self._roff[v + 1] - self._roff[v]
        cdef array out = _new_i32(k)
        if k:
            memcpy(out.data.as_ints, self._rsrc + self._roff[v], <size_t>k * sizeof(sy_node))
        return out

    def order(self):
        """order() -> array. See :meth:`symphony.reference.toposort.Graph.order`."""
        cdef sy_node n = self._n
        cdef sy_node ngen = 0, emitted = 0, k = 0
        cdef array out = _new_i32(n)
        cdef sy_node *o = <sy_node *>out.data.as_ints
        cdef sy_node *rem = <sy_node *>_xmalloc(<size_t>n * sizeof(sy_node))
        cdef sy_node *gen = <sy_node *>malloc(<size_t>n * sizeof(sy_node) if n else 1)
        try:
            if gen == NULL:
                raise MemoryError()
            with nogil:
                memcpy(rem, self._indeg, <size_t>n * sizeof(sy_node))
                emitted = sy_topo_kahn(n, self._off, self._tgt, rem, o, gen, &ngen)
                if emitted == n:
                    sy_topo_order_by_level(n, o, gen, ngen, rem, o)
                else:
                    k = sy_topo_find_cycle(n, self._off, self._tgt, rem, gen, o)
            self._acyclic = 1 if emitted == n else 2
            if emitted != n:
                raise _cycle_error(o, k)
            return out
        finally:
            free(rem)
            free(gen)

    def lexicographic_order(self):
        """lexicographic_order() -> array. See :meth:`symphony.reference.toposort.Graph.lexicographic_order`."""
        cdef sy_node n = self._n
        cdef sy_node emitted = 0, k = 0
        cdef array out = _new_i32(n)
        cdef sy_node *o = <sy_node *>out.data.as_ints
        cdef sy_node *rem = <sy_node *>_xmalloc(<size_t>n * sizeof(sy_node))
        cdef sy_node *heap = <sy_node *>malloc(2 * (<size_t>n + 16) * sizeof(sy_node))
        try:
            if heap == NULL:
                raise MemoryError()
            with nogil:
                memcpy(rem, self._indeg, <size_t>n * sizeof(sy_node))
                emitted = sy_topo_kahn_lex(n, self._off, self._tgt, rem, heap, o)
                if emitted != n:
                    k = sy_topo_find_cycle(n, self._off, self._tgt, rem, heap, o)
            self._acyclic = 1 if emitted == n else 2
            if emitted != n:
                raise _cycle_error(o, k)
            return out
        finally:
            free(rem)
            free(heap)

    def levels(self):
        """levels() -> list[array]. See :meth:`symphony.reference.toposort.Graph.levels`."""
        cdef sy_node n = self._n
        cdef sy_node ngen = 0, emitted = 0, k = 0, g, start, size
        cdef array level
        cdef sy_node *rem = <sy_node *>_xmalloc(<size_t>n * sizeof(sy_node))
        cdef sy_node *gen = <sy_node *>malloc(<size_t>n * sizeof(sy_node) if n else 1)
        cdef sy_node *o = <sy_node *>malloc(<size_t>n * sizeof(sy_node) if n else 1)
        try:
            if gen == NULL or o == NULL:
                raise MemoryError()
            with nogil:
                memcpy(rem, self._indeg, <size_t>n * sizeof(sy_node))
                emitted = sy_topo_kahn(n, self._off, self._tgt, rem, o, gen, &ngen)
                if emitted == n:
                    sy_topo_order_by_level(n, o, gen, ngen, rem, o)
                else:
                    k = sy_topo_find_cycle(n, self._off, self._tgt, rem, gen, o)
            self._acyclic = 1 if emitted == n else 2
            if emitted != n:
                raise _cycle_error(o, k)
            result = []
            start = 0
            for g in range(ngen):
                size = gen[g] - start
                level = _new_i32(size)
                memcpy(level.data.as_ints, o + start, <size_t>size * sizeof(sy_node))
                result.append(level)
                start = gen[g]
            return result
        finally:
            free(rem)
            free(gen)
            free(o)

    cdef object _kahn_cycle(self, bint want_cycle):
        """None when acyclic; else the cycle (want_cycle) or True."""
        cdef sy_node n = self._n
        cdef sy_node ngen = 0, emitted = 0, k = 0
        cdef sy_node *rem = <sy_node *>_xmalloc(<size_t>n * sizeof(sy_node))
        cdef sy_node *queue = <sy_node *>malloc(<size_t>n * sizeof(sy_node) if n else 1)
        cdef sy_node *minpred = NULL
        try:
            if queue == NULL:
                raise MemoryError()
            with nogil:
                memcpy(rem, self._indeg, <size_t>n * sizeof(sy_node))
                emitted = sy_topo_kahn(n, self._off, self._tgt, rem, queue, NULL, &ngen)
            self._acyclic = 1 if emitted == n else 2
            if emitted == n:
                return None
            if not want_cycle:
                return True
            minpred = <sy_node *>_xmalloc(<size_t>n * sizeof(sy_node))
            with nogil:
                k = sy_topo_find_cycle(n, self._off, self._tgt, rem, minpred, queue)
            return _cycle_error(queue, k).cycle
        finally:
            free(rem)
            free(queue)
            free(minpred)

    def find_cycle(self):
        """find_cycle() -> list[int] | None. See :meth:`symphony.reference.toposort.Graph.find_cycle`."""
        return self._kahn_cycle(True)

    def is_acyclic(self):
        """is_acyclic() -> bool. See :meth:`symphony.reference.toposort.Graph.is_acyclic`."""
        return self._kahn_cycle(False) is None

    cdef array _reach(self, object nodes, bint include_self, bint reverse):
        cdef bint single = False
        cdef sy_node one
        cdef array seeds = None
        cdef const sy_node *seed_ptr = &one
        cdef sy_node n = self._n, r = 0
        cdef sy_edge nseeds = 1
        if type(nodes) is int and 0 <= nodes < n:
            one = nodes
        else:
            seeds = _node_batch(nodes, self._n, GraphError, &single)
            seed_ptr = <sy_node *>seeds.data.as_ints
            nseeds = len(seeds)
        cdef const sy_edge *off = self._off
        cdef const sy_node *tgt = self._tgt
        cdef uint32_t *mark
        cdef uint32_t stamp
        cdef bint shared = False
        cdef sy_node *o
        cdef uint64_t *bits
        cdef array out
        if reverse:
            self._ensure_reverse()
            off = self._roff
            tgt = self._rsrc
        if not self._mark_busy:
            if self._mark == NULL:
                self._mark = <uint32_t *>calloc(<size_t>n if n else 1, sizeof(uint32_t))
                self._reach_out = <sy_node *>malloc(<size_t>n * sizeof(sy_node) if n else 1)
                self._bits = <uint64_t *>malloc((<size_t>n + 63) // 64 * sizeof(uint64_t) + 8)
                if self._mark == NULL or self._reach_out == NULL or self._bits == NULL:
                    free(self._mark)
                    free(self._reach_out)
                    free(self._bits)
                    self._mark = NULL
                    self._reach_out = NULL
                    self._bits = NULL
                    raise MemoryError()
            self._stamp += 1
            if self._stamp == 0:  # wrapped: forget every old stamp
                memset(self._mark, 0, <size_t>n * sizeof(uint32_t))
                self._stamp = 1
            mark = self._mark
            stamp = self._stamp
            o = self._reach_out
            bits = self._bits
            self._mark_busy = True
            shared = True
        else:  # another thread is using the cached scratch: private scratch
            mark = <uint32_t *>calloc(<size_t>n if n else 1, sizeof(uint32_t))
            o = <sy_node *>malloc(<size_t>n * sizeof(sy_node) if n else 1)
            bits = <uint64_t *>malloc((<size_t>n + 63) // 64 * sizeof(uint64_t) + 8)
            stamp = 1
        try:
            if mark == NULL or o == NULL or bits == NULL:
                raise MemoryError()
            with nogil:
                r = sy_topo_reach(n, off, tgt, seed_ptr, nseeds,
                                  include_self, mark, stamp, bits, o)
            out = _new_i32(r)
            if r:
                memcpy(out.data.as_ints, o, <size_t>r * sizeof(sy_node))
            return out
        finally:
            if shared:
                self._mark_busy = False
            else:
                free(mark)
                free(o)
                free(bits)

    def descendants(self, nodes, include_self=False):
        """descendants(nodes, include_self=False) -> array. See :meth:`symphony.reference.toposort.Graph.descendants`."""
        return self._reach(nodes, include_self, False)

    def ancestors(self, nodes, include_self=False):
        """ancestors(nodes, include_self=False) -> array. See :meth:`symphony.reference.toposort.Graph.ancestors`."""
        return self._reach(nodes, include_self, True)


# --------------------------------------------------------------------------- module helpers

def toposort(n, src, dst, *, lexicographic=False):
    """toposort(n, src, dst, *, lexicographic=False) -> array. See :func:`symphony.reference.toposort.toposort`."""
    graph = Graph(n, src, dst)
    return graph.lexicographic_order() if lexicographic else graph.order()


def levels(n, src, dst):
    """levels(n, src, dst) -> list[array]. See :func:`symphony.reference.toposort.levels`."""
    return Graph(n, src, dst).levels()


def find_cycle(n, src, dst):
    """find_cycle(n, src, dst) -> list[int] | None. See :func:`symphony.reference.toposort.find_cycle`."""
    return Graph(n, src, dst).find_cycle()


cdef extern from "Python.h":
    # no ``except`` clause: a NULL result is checked (and a TypeError cleared) here
    PyObject *_dict_lookup "PyDict_GetItemWithError"(object d, object key)
    PyObject *PyErr_Occurred()
    int PyErr_ExceptionMatches(object exc)
    void PyErr_Clear()

cdef object _ABSENT = object()


def label_columns(objs, attrs, tables, grow=False):
    """Performance notes: one pass over ``objs`` with C-level attribute reads
    (``getattr`` with a default never builds an ``AttributeError`` for slotted classes) and
    ``PyDict_GetItemWithError`` lookups, written straight into the ``array('q')`` columns."""
    cdef list attr_l = list(attrs)
    cdef list table_l = list(tables)
    cdef Py_ssize_t k = len(attr_l), m, i, j
    cdef int64_t **out
    cdef PyObject *p
    cdef object obj, v, table, x, a
    cdef bint g = grow
    if k != len(table_l):
        raise ValueError(f"attrs and tables differ in length ({k} != {len(table_l)})")
    for j in range(k):
        a = attr_l[j]
        if not isinstance(a, str):
            raise TypeError(f"attrs[{j}] must be a str, got {type(a).__name__}")
    for j in range(k):
        if type(table_l[j]) is not dict:
            raise TypeError(f"tables[{j}] must be a dict, got {type(table_l[j]).__name__}")
    cdef list seq = list(objs)
    m = len(seq)
    cdef list cols = [clone(_I64, m, False) for j in range(k)]
    out = <int64_t **>_xmalloc(<size_t>(k if k else 1) * sizeof(int64_t *))
    try:
        for j in range(k):
            out[j] = <int64_t *>(<array>cols[j]).data.as_voidptr
        for i in range(m):
            obj = seq[i]
            for j in range(k):
                v = getattr(obj, <str>attr_l[j], _ABSENT)
                if v is _ABSENT:
                    out[j][i] = -2
                    continue
                table = table_l[j]
                p = _dict_lookup(table, v)
                if p == NULL:
                    if PyErr_Occurred() != NULL:
                        if not PyErr_ExceptionMatches(TypeError):
                            _reraise()
                        PyErr_Clear()  # unhashable
                        out[j][i] = -1
                        continue
                    if not g:
                        out[j][i] = -1
                        continue
                    x = len(<dict>table)
                    (<dict>table)[v] = x
                    out[j][i] = PyLong_AsLongLong(x)
                    continue
                out[j][i] = PyLong_AsLongLong(<object>p)  # __index__; TypeError, OverflowError
    finally:
        free(out)
    return cols


cdef int _reraise() except -1:
    # an exception is set (by PyDict_GetItemWithError): returning -1 propagates it
    return -1


# --------------------------------------------------------------------------- ready tracker

cdef str _tracker_problem(int why, sy_node n):
    if why == SY_TRACK_RANGE:
        problem = f"is out of range [0, {n})"
    elif why == SY_TRACK_WAITING:
        problem = "is not ready yet (a predecessor is not done)"
    elif why == SY_TRACK_NOT_HANDED:
        problem = "is ready but was not handed out by ready() yet"
    elif why == SY_TRACK_REPEATED:
        problem = "is listed twice in the batch"
    else:
        problem = "is already done"
    return problem


cdef class ReadyTracker:
    """Cython twin of :class:`symphony.reference.toposort.ReadyTracker`."""

    def __dealloc__(self):
        free(self._rem)
        free(self._state)
        free(self._queue)

    def __init__(self, graph):
        if not isinstance(graph, Graph):
            raise TypeError(f"ReadyTracker needs a Graph, got {type(graph).__name__}")
        if self._frozen:
            raise TypeError("a ReadyTracker cannot be initialised twice")
        self._enter()
        try:
            self._init(<Graph>graph)
        finally:
            self._busy = False
        self._frozen = True

    cdef int _init(self, Graph g) except -1:
        cdef sy_node n, ngen = 0, emitted, k
        cdef sy_node *minpred = NULL
        n = g._n
        free(self._rem)
        free(self._queue)
        free(self._state)
        self._rem = NULL
        self._queue = NULL
        self._state = NULL
        self._rem = <sy_node *>_xmalloc(<size_t>n * sizeof(sy_node))
        self._queue = <sy_node *>_xmalloc(<size_t>n * sizeof(sy_node))
        self._state = <uint8_t *>_xmalloc(<size_t>n)
        emitted = n
        if g._acyclic != 1:  # the verdict is cached on the (immutable) Graph
            with nogil:
                memcpy(self._rem, g._indeg, <size_t>n * sizeof(sy_node))
                emitted = sy_topo_kahn(n, g._off, g._tgt, self._rem, self._queue, NULL, &ngen)
            g._acyclic = 1 if emitted == n else 2
        if emitted != n:
            minpred = <sy_node *>_xmalloc(<size_t>n * sizeof(sy_node))
            try:
                with nogil:
                    k = sy_topo_find_cycle(n, g._off, g._tgt, self._rem, minpred, self._queue)
                raise _cycle_error(self._queue, k)
            finally:
                free(minpred)
        self._graph = g
        with nogil:
            sy_tracker_init(&self._t, n, g._off, g._tgt, g._indeg, self._rem, self._state,
                            self._queue)
        return 0

    @property
    def num_nodes(self):
        """The number of nodes of the graph."""
        return self._t.n

    @property
    def num_done(self):
        """How many nodes have been marked done."""
        return self._t.ndone

    cdef int _enter(self) except -1:
        if self._busy:
            raise TrackerError("a ReadyTracker was used from two threads at once")
        self._busy = True
        return 0

    def ready(self):
        """ready() -> array. See :meth:`symphony.reference.toposort.ReadyTracker.ready`."""
        cdef const sy_node *nodes
        cdef sy_node k = self._t.tail - self._t.handed
        cdef array out
        self._enter()
        try:
            if k >= _NOGIL_BATCH:
                with nogil:
                    k = sy_tracker_ready(&self._t, &nodes)
            else:
                k = sy_tracker_ready(&self._t, &nodes)
            out = _new_i32(k)
            if k:
                memcpy(out.data.as_ints, nodes, <size_t>k * sizeof(sy_node))
            return out
        finally:
            self._busy = False

    def done(self, nodes):
        """done(nodes) -> None. See :meth:`symphony.reference.toposort.ReadyTracker.done`."""
        cdef int64_t v
        cdef int why
        if type(nodes) is int:
            one = nodes
        else:
            try:
                one = operator.index(nodes)
            except TypeError:
                return self._done_batch(nodes)
        try:
            v = one
        except OverflowError:
            v = -1  # out of range either way; the message shows the real value
        self._enter()
        why = sy_tracker_check(&self._t, v)
        if why != SY_TRACK_OK:
            self._busy = False
            self._refuse(why, one, "", 0)
        sy_tracker_done1(&self._t, <sy_node>v)
        self._busy = False
        return None

    cdef int _refuse(self, int why, object v, str where, Py_ssize_t i) except -1:
        problem = _tracker_problem(why, self._t.n)
        raise TrackerError(f"node {v}{where} {problem}", details={"node": v, "position": i})

    cdef object _done_batch(self, object nodes):
        cdef _Ints r = _as_ints(nodes, "nodes")
        cdef sy_edge k = r.length, bad = -1
        cdef int why = SY_TRACK_OK
        cdef void *copy
        # a private copy: the batch is read twice (check, then apply)
        copy = _xmalloc(<size_t>k * r.kind)
        try:
            if k:
                memcpy(copy, &r.v32[0] if r.kind == 4 else <const void *>&r.v64[0],
                       <size_t>k * r.kind)
            self._enter()
            try:
                if k >= _NOGIL_BATCH:
                    with nogil:
                        if r.kind == 4:
                            bad = sy_tracker_done_i32(&self._t, <int32_t *>copy, k, &why)
                        else:
                            bad = sy_tracker_done_i64(&self._t, <int64_t *>copy, k, &why)
                elif r.kind == 4:
                    bad = sy_tracker_done_i32(&self._t, <int32_t *>copy, k, &why)
                else:
                    bad = sy_tracker_done_i64(&self._t, <int64_t *>copy, k, &why)
            finally:
                self._busy = False
        finally:
            free(copy)
        if bad >= 0:
            self._refuse(why, r.value(bad), f" at position {bad} of the batch", bad)
        return None

    def is_active(self):
        """is_active() -> bool. See :meth:`symphony.reference.toposort.ReadyTracker.is_active`."""
        return self._t.ndone < self._t.tail

    def __bool__(self):
        return self._t.ndone < self._t.tail


# --------------------------------------------------------------------------- bench-only floors

cdef sy_node _floor_c(sy_node n, sy_edge m, const int32_t *src, const int32_t *dst) noexcept nogil:
    """Counting-sort CSR + FIFO Kahn, nothing else (no validation, no determinism)."""
    cdef sy_edge *off = <sy_edge *>calloc(<size_t>n + 2, sizeof(sy_edge))
    cdef sy_node *tgt = <sy_node *>malloc(<size_t>m * sizeof(sy_node) + 4)
    cdef sy_node *indeg = <sy_node *>calloc(<size_t>n + 1, sizeof(sy_node))
    cdef sy_node *queue = <sy_node *>malloc(<size_t>n * sizeof(sy_node) + 4)
    cdef sy_edge e
    cdef sy_node u, ngen, emitted
    for e in range(m):
        off[src[e] + 2] += 1
        indeg[dst[e]] += 1
    for u in range(n):
        off[u + 2] += off[u + 1]
    for e in range(m):
        tgt[off[src[e] + 1]] = dst[e]
        off[src[e] + 1] += 1
    emitted = sy_topo_kahn(n, off, tgt, indeg, queue, NULL, &ngen)
    free(off)
    free(tgt)
    free(indeg)
    free(queue)
    return emitted


def _floor_build_sort(n, src, dst):
    """Bench only: the C floor of build + sort on int32 arrays (trusted input)."""
    cdef const int32_t[::1] s = src
    cdef const int32_t[::1] d = dst
    cdef sy_node nn = n
    cdef sy_edge m = s.shape[0]
    cdef sy_node emitted
    if m == 0:
        return nn
    with nogil:
        emitted = _floor_c(nn, m, &s[0], &d[0])
    return emitted


cdef extern from "<time.h>" nogil:
    ctypedef long time_t
    struct timespec:
        time_t tv_sec
        long tv_nsec
    int clock_gettime(int clk, timespec *tp)
    int CLOCK_MONOTONIC


def _floor_tracker(Graph graph, bint batch=False):
    """Bench only: the C floor of the ready/done protocol over ``graph``: seconds spent in
    the ready/done loop (set-up excluded, as the Python figures exclude construction)."""
    cdef sy_tracker t
    cdef sy_node n = graph._n
    cdef sy_node *rem = <sy_node *>_xmalloc(<size_t>n * sizeof(sy_node))
    cdef sy_node *queue = <sy_node *>_xmalloc(<size_t>n * sizeof(sy_node))
    cdef uint8_t *state = <uint8_t *>_xmalloc(<size_t>n)
    cdef const sy_node *nodes
    cdef sy_node k, i
    cdef int why
    cdef timespec t0, t1
    with nogil:
        sy_tracker_init(&t, n, graph._off, graph._tgt, graph._indeg, rem, state, queue)
        clock_gettime(CLOCK_MONOTONIC, &t0)
        while sy_tracker_is_active(&t):
            k = sy_tracker_ready(&t, &nodes)
            if batch:
                sy_tracker_done_i32(&t, nodes, k, &why)
            else:
                for i in range(k):
                    if sy_tracker_check(&t, nodes[i]) == SY_TRACK_OK:
                        sy_tracker_done1(&t, nodes[i])
        clock_gettime(CLOCK_MONOTONIC, &t1)
    free(rem)
    free(queue)
    free(state)
    if t.ndone != n:
        raise CycleError("the graph has a cycle", [])
    return (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9


def _floor_lex(Graph graph):
    """Bench only: the C floor of the smallest-index-first order (heap Kahn, no output)."""
    cdef sy_node n = graph._n, emitted
    cdef sy_node *rem = <sy_node *>_xmalloc(<size_t>n * sizeof(sy_node))
    cdef sy_node *heap = <sy_node *>_xmalloc(2 * (<size_t>n + 16) * sizeof(sy_node))
    cdef sy_node *out = <sy_node *>_xmalloc(<size_t>n * sizeof(sy_node))
    with nogil:
        memcpy(rem, graph._indeg, <size_t>n * sizeof(sy_node))
        emitted = sy_topo_kahn_lex(n, graph._off, graph._tgt, rem, heap, out)
    free(rem)
    free(heap)
    free(out)
    return emitted


def _floor_reach(Graph graph, sy_node node, bint reverse=False):
    """Bench only: the C floor of descendants / ancestors of one node: a plain walk over the
    cached CSR with a fresh visited array, no sorting, no Python output."""
    cdef sy_node n = graph._n, r = 0, head = 0, u, v
    cdef sy_edge e
    cdef const sy_edge *off = graph._off
    cdef const sy_node *tgt = graph._tgt
    if not 0 <= node < n:
        raise GraphError(f"node {node} is out of range [0, {n})")
    if reverse:
        graph._ensure_reverse()
        off = graph._roff
        tgt = graph._rsrc
    cdef uint8_t *seen = <uint8_t *>calloc(<size_t>n + 1, 1)
    cdef sy_node *stack = <sy_node *>_xmalloc(<size_t>n * sizeof(sy_node))
    with nogil:
        stack[r] = node
        r += 1
        seen[node] = 1
        while head < r:
            u = stack[head]
            head += 1
            for e in range(off[u], off[u + 1]):
                v = tgt[e]
                if not seen[v]:
                    seen[v] = 1
                    stack[r] = v
                    r += 1
    free(seen)
    free(stack)
    return r - 1
