# C-level surface of symphony._core.toposort, for `cimport symphony._core.toposort`.
#
# The algorithms live in the header-only C core symphony/include/symphony/toposort.h (C
# programs include it directly); everything below is declared nogil and works on plain
# integer arrays. Semantics: symphony/reference/toposort.py.
from cpython.array cimport array
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t

cdef extern from "symphony/toposort.h" nogil:
    ctypedef int32_t sy_node
    ctypedef int64_t sy_edge
    int SY_TOPO_VERSION
    int SY_NODE_MAX

    enum:
        SY_EDGE_OK
        SY_EDGE_SRC_NEGATIVE
        SY_EDGE_SRC_RANGE
        SY_EDGE_DST_NEGATIVE
        SY_EDGE_DST_RANGE
        SY_EDGE_SELF_LOOP

    int sy_topo_edge_problem(int64_t n, int64_t s, int64_t d)
    sy_edge sy_topo_csr_build_i32(sy_node n, sy_edge m, const int32_t *src, const int32_t *dst,
                                  sy_edge *off, sy_edge *pos, sy_node *tgt, sy_node *indeg)
    sy_edge sy_topo_csr_build_i64(sy_node n, sy_edge m, const int64_t *src, const int64_t *dst,
                                  sy_edge *off, sy_edge *pos, sy_node *tgt, sy_node *indeg)
    int sy_topo_offsets_check(sy_node n, sy_edge m, const sy_edge *off, sy_edge *where)
    sy_edge sy_topo_csr_import_i32(sy_node n, const sy_edge *off, const int32_t *tgt_in,
                                   sy_node *tgt, sy_node *indeg, sy_node *row, int64_t *value)
    sy_edge sy_topo_csr_import_i64(sy_node n, const sy_edge *off, const int64_t *tgt_in,
                                   sy_node *tgt, sy_node *indeg, sy_node *row, int64_t *value)
    void sy_topo_indegrees(sy_node n, const sy_edge *off, const sy_node *tgt, sy_node *indeg)
    void sy_topo_csr_reverse(sy_node n, const sy_edge *off, const sy_node *tgt,
                             sy_edge *roff, sy_node *rsrc)
    void sy_topo_sort_nodes(sy_node *a, sy_edge k)
    sy_node sy_topo_kahn(sy_node n, const sy_edge *off, const sy_node *tgt, sy_node *rem,
                         sy_node *queue, sy_node *gen_end, sy_node *ngen)
    void sy_topo_order_by_level(sy_node n, const sy_node *queue, sy_node *gen_end,
                                sy_node ngen, sy_node *level, sy_node *out)
    sy_node sy_topo_kahn_lex(sy_node n, const sy_edge *off, const sy_node *tgt, sy_node *rem,
                             sy_node *queue, sy_node *out)
    sy_node sy_topo_find_cycle(sy_node n, const sy_edge *off, const sy_node *tgt,
                               const sy_node *rem, sy_node *minpred, sy_node *cycle)
    sy_node sy_topo_reach(sy_node n, const sy_edge *off, const sy_node *tgt,
                          const sy_node *seeds, sy_edge nseeds, int include_self,
                          uint32_t *mark, uint32_t stamp, uint64_t *bits, sy_node *out)

    enum:
        SY_WAITING
        SY_READY
        SY_HANDED
        SY_DONE
    enum:
        SY_TRACK_OK
        SY_TRACK_RANGE
        SY_TRACK_WAITING
        SY_TRACK_NOT_HANDED
        SY_TRACK_DONE
        SY_TRACK_REPEATED

    ctypedef struct sy_tracker:
        sy_node n
        const sy_edge *off
        const sy_node *tgt
        sy_node *rem
        uint8_t *state
        sy_node *queue
        sy_node handed
        sy_node tail
        sy_node ndone

    void sy_tracker_init(sy_tracker *t, sy_node n, const sy_edge *off, const sy_node *tgt,
                         const sy_node *indeg, sy_node *rem, uint8_t *state, sy_node *queue)
    sy_node sy_tracker_ready(sy_tracker *t, const sy_node **nodes)
    int sy_tracker_check(const sy_tracker *t, int64_t v)
    void sy_tracker_done1(sy_tracker *t, sy_node v)
    sy_edge sy_tracker_done_i32(sy_tracker *t, const int32_t *vs, sy_edge k, int *why)
    sy_edge sy_tracker_done_i64(sy_tracker *t, const int64_t *vs, sy_edge k, int *why)
    int sy_tracker_is_active(const sy_tracker *t)


cdef class Graph:
    """Immutable CSR (read-only for cimporting code: never write through these pointers)."""
    cdef sy_node _n
    cdef sy_edge _m
    cdef sy_edge *_off        # n + 1
    cdef sy_node *_tgt        # m
    cdef sy_node *_indeg      # n
    cdef sy_edge *_roff       # n + 2, reverse CSR: built on first use (ancestors, predecessors)
    cdef sy_node *_rsrc       # m
    cdef uint32_t *_mark      # n, visit stamps for reachability; NULL until first use
    cdef sy_node *_reach_out  # n, reachability output scratch (with _mark)
    cdef uint64_t *_bits      # (n + 63) / 64 words, reachability bitmap scratch (with _mark)
    cdef uint32_t _stamp
    cdef bint _mark_busy
    cdef bint _frozen         # __init__ / from_csr done: never re-initialised
    cdef int _acyclic         # 0 unknown, 1 acyclic, 2 cyclic: cached by every Kahn pass

    cdef int _alloc(self, sy_node n, sy_edge m) except -1
    cdef int _ensure_reverse(self) except -1
    cdef sy_node _node(self, object node) except -1
    cdef object _kahn_cycle(self, bint want_cycle)
    cdef array _reach(self, object nodes, bint include_self, bint reverse)


cdef class ReadyTracker:
    cdef Graph _graph
    cdef sy_tracker _t
    cdef sy_node *_rem
    cdef uint8_t *_state
    cdef sy_node *_queue
    cdef bint _busy
    cdef bint _frozen

    cdef int _enter(self) except -1
    cdef int _init(self, Graph g) except -1
    cdef int _refuse(self, int why, object v, str where, Py_ssize_t i) except -1
    cdef object _done_batch(self, object nodes)
