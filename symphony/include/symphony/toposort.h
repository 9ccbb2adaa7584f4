/* symphony/toposort.h -- the C core of Symphony's topological sort kernel (header only).
 *
 * symphony/_core/toposort.pyx wraps these functions; C programs and other Cython extensions
 * can use them directly (`cimport symphony._core.toposort` declares them all `nogil`).
 * The semantics (which order, which cycle, which errors) are specified by the pure-Python
 * twin, symphony/reference/toposort.py; this file implements exactly that specification.
 *
 * Conventions
 *   - n nodes, ids 0 <= v < n <= INT32_MAX (sy_node, int32); m edges (sy_edge, int64).
 *   - A graph is a CSR: off[0..n] (off[0] == 0, off[n] == m), tgt[0..m): the successors of
 *     u are tgt[off[u] .. off[u+1]). Rows keep the order in which edges were given.
 *   - Nothing here allocates: callers pass every output and scratch array, with the sizes
 *     written next to each function. No function touches Python; all are thread-safe on
 *     distinct scratch arrays and may run with the GIL released.
 *   - The deterministic order is "by level, then by index": level(v) is the longest-path
 *     depth of v (sources are level 0); nodes of one level come out in ascending index.
 *   - Duplicate edges are allowed; they change no result (they are counted in in-degrees
 *     and released together).
 */
#ifndef SYMPHONY_TOPOSORT_H
#define SYMPHONY_TOPOSORT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SY_TOPO_VERSION 1

typedef int32_t sy_node; /* a node id */
typedef int64_t sy_edge; /* an edge index or CSR offset */

#define SY_NODE_MAX INT32_MAX

/* Why an edge is refused (sy_topo_edge_problem). */
enum {
    SY_EDGE_OK = 0,
    SY_EDGE_SRC_NEGATIVE = 1,
    SY_EDGE_SRC_RANGE = 2, /* source >= n */
    SY_EDGE_DST_NEGATIVE = 3,
    SY_EDGE_DST_RANGE = 4, /* target >= n */
    SY_EDGE_SELF_LOOP = 5,
};

/* The first problem of edge (s -> d) in a graph of n nodes, in the order the enum lists. */
static inline int sy_topo_edge_problem(int64_t n, int64_t s, int64_t d)
{
    if (s < 0) return SY_EDGE_SRC_NEGATIVE;
    if (s >= n) return SY_EDGE_SRC_RANGE;
    if (d < 0) return SY_EDGE_DST_NEGATIVE;
    if (d >= n) return SY_EDGE_DST_RANGE;
    if (s == d) return SY_EDGE_SELF_LOOP;
    return SY_EDGE_OK;
}

/* ------------------------------------------------------------------------ CSR building */

/* sy_topo_csr_build_i32 / _i64: validate the edge list (src[e] -> dst[e], e < m) and build
 * the CSR by one counting sort (stable: each row keeps the edges' order).
 *   off:   n + 1 entries, receives the CSR offsets.
 *   pos:   n entries of scratch.
 *   tgt:   m entries.
 *   indeg: n entries, receives the in-degrees.
 * Returns -1 on success; else the index e >= 0 of the first refused edge (use
 * sy_topo_edge_problem to say why); or -2 if src/dst changed between the two passes (another
 * thread wrote them). Whatever other threads do, nothing is written out of bounds, and when
 * -1 is returned the CSR is consistent: the scatter pass re-checks every value and bounds
 * every write by m, and a final pass checks that every row was filled exactly, which holds
 * only if each of the m slots was written once (in-degrees are counted from the values
 * actually stored). */
#define SY__TOPO_DEFINE_BUILD(SUFFIX, T)                                                          \
    static inline sy_edge sy_topo_csr_build_##SUFFIX(sy_node n, sy_edge m, const T *src,          \
                                                     const T *dst, sy_edge *off, sy_edge *pos,    \
                                                     sy_node *tgt, sy_node *indeg)                \
    {                                                                                             \
        sy_edge e;                                                                                \
        sy_node u;                                                                                \
        const uint64_t un = (uint64_t)n;                                                          \
        memset(off, 0, ((size_t)(uint32_t)n + 1) * sizeof *off);                                  \
        for (e = 0; e < m; e++) {                                                                 \
            const int64_t s = (int64_t)src[e], d = (int64_t)dst[e];                               \
            /* negative ids wrap to huge unsigned values: one compare per id */                   \
            if ((((uint64_t)s >= un) | ((uint64_t)d >= un) | (s == d)) != 0) return e;            \
            off[s + 1]++;                                                                         \
        }                                                                                         \
        for (u = 0; u < n; u++) off[u + 1] += off[u];                                             \
        if (n > 0) memcpy(pos, off, (size_t)(uint32_t)n * sizeof *pos);                           \
        memset(indeg, 0, (size_t)(uint32_t)n * sizeof *indeg);                                    \
        for (e = 0; e < m; e++) {                                                                 \
            const int64_t s = (int64_t)src[e], d = (int64_t)dst[e];                               \
            sy_edge p;                                                                            \
            if ((((uint64_t)s >= un) | ((uint64_t)d >= un) | (s == d)) != 0) return -2;           \
            p = pos[s];                                                                           \
            if ((uint64_t)p >= (uint64_t)m) return -2;                                            \
            pos[s] = p + 1;                                                                       \
            tgt[p] = (sy_node)d;                                                                  \
            indeg[d]++;                                                                           \
        }                                                                                         \
        for (u = 0; u < n; u++)                                                                   \
            if (pos[u] != off[u + 1]) return -2;                                                  \
        return -1;                                                                                \
    }

SY__TOPO_DEFINE_BUILD(i32, int32_t)
SY__TOPO_DEFINE_BUILD(i64, int64_t)

/* Check a caller's CSR offsets (off: n + 1 entries; m = the number of targets).
 * Returns 0 when valid, else a code, with *where set:
 *   1: off[0] != 0                       (*where = 0)
 *   2: off[n] != m                       (*where = n)
 *   3: off decreases: off[u] > off[u+1]  (*where = u, the first such u)
 * Checks run in that order. Check a private copy: the targets are read against it. */
static inline int sy_topo_offsets_check(sy_node n, sy_edge m, const sy_edge *off, sy_edge *where)
{
    sy_node u;
    if (off[0] != 0) { *where = 0; return 1; }
    if (off[n] != m) { *where = n; return 2; }
    for (u = 0; u < n; u++)
        if (off[u] > off[u + 1]) { *where = u; return 3; }
    return 0;
}

/* sy_topo_csr_import_i32 / _i64: copy a caller's targets (m = off[n] entries, checked
 * offsets) into tgt, refusing out-of-range ids and self-loops, and count in-degrees
 * (indeg: n entries). Each value is read once. Returns -1, or the first refused edge e (its
 * row u in *row, its value in *value). */
#define SY__TOPO_DEFINE_IMPORT(SUFFIX, T)                                                         \
    static inline sy_edge sy_topo_csr_import_##SUFFIX(sy_node n, const sy_edge *off,              \
                                                      const T *tgt_in, sy_node *tgt,              \
                                                      sy_node *indeg, sy_node *row,               \
                                                      int64_t *value)                             \
    {                                                                                             \
        sy_node u;                                                                                \
        sy_edge e;                                                                                \
        memset(indeg, 0, (size_t)(uint32_t)n * sizeof *indeg);                                    \
        for (u = 0; u < n; u++)                                                                   \
            for (e = off[u]; e < off[u + 1]; e++) {                                               \
                const int64_t v = (int64_t)tgt_in[e];                                             \
                if ((((uint64_t)v >= (uint64_t)n) | (v == u)) != 0) {                             \
                    *row = u;                                                                     \
                    *value = v;                                                                   \
                    return e;                                                                     \
                }                                                                                 \
                tgt[e] = (sy_node)v;                                                              \
                indeg[v]++;                                                                       \
            }                                                                                     \
        return -1;                                                                                \
    }

SY__TOPO_DEFINE_IMPORT(i32, int32_t)
SY__TOPO_DEFINE_IMPORT(i64, int64_t)

/* Count in-degrees of a CSR (indeg: n entries). */
static inline void sy_topo_indegrees(sy_node n, const sy_edge *off, const sy_node *tgt,
                                     sy_node *indeg)
{
    sy_edge e, m = off[n];
    memset(indeg, 0, (size_t)(uint32_t)n * sizeof *indeg);
    for (e = 0; e < m; e++) indeg[tgt[e]]++;
}

/* The reverse CSR (predecessors): roff n + 2 entries (roff[0..n] on return), rsrc m entries.
 * Each reverse row lists its sources in ascending order. */
static inline void sy_topo_csr_reverse(sy_node n, const sy_edge *off, const sy_node *tgt,
                                       sy_edge *roff, sy_node *rsrc)
{
    sy_node u;
    sy_edge e, m = off[n];
    memset(roff, 0, ((size_t)(uint32_t)n + 2) * sizeof *roff);
    for (e = 0; e < m; e++) roff[tgt[e] + 2]++;
    for (u = 0; u < n; u++) roff[u + 2] += roff[u + 1];
    for (u = 0; u < n; u++)
        for (e = off[u]; e < off[u + 1]; e++) rsrc[roff[tgt[e] + 1]++] = u;
}

/* ------------------------------------------------------------------------ sorting ints */

static inline void sy__insertion_sort(sy_node *a, sy_edge k)
{
    sy_edge i, j;
    for (i = 1; i < k; i++) {
        sy_node x = a[i];
        for (j = i; j > 0 && a[j - 1] > x; j--) a[j] = a[j - 1];
        a[j] = x;
    }
}

static inline void sy__sift_down(sy_node *a, sy_edge i, sy_edge k)
{
    sy_node x = a[i];
    for (;;) {
        sy_edge c = 2 * i + 1;
        if (c >= k) break;
        if (c + 1 < k && a[c + 1] > a[c]) c++;
        if (a[c] <= x) break;
        a[i] = a[c];
        i = c;
    }
    a[i] = x;
}

static inline void sy__heap_sort(sy_node *a, sy_edge k)
{
    sy_edge i;
    for (i = k / 2; i-- > 0;) sy__sift_down(a, i, k);
    for (i = k - 1; i > 0; i--) {
        sy_node t = a[0];
        a[0] = a[i];
        a[i] = t;
        sy__sift_down(a, 0, i);
    }
}

static inline void sy__intro_sort(sy_node *a, sy_edge k, int depth)
{
    while (k > 24) {
        sy_node p, t;
        sy_edge i, j, mid = k / 2;
        if (depth-- == 0) { sy__heap_sort(a, k); return; }
        /* median of three into a[mid] */
        if (a[0] > a[mid]) { t = a[0]; a[0] = a[mid]; a[mid] = t; }
        if (a[mid] > a[k - 1]) { t = a[mid]; a[mid] = a[k - 1]; a[k - 1] = t; }
        if (a[0] > a[mid]) { t = a[0]; a[0] = a[mid]; a[mid] = t; }
        p = a[mid];
        i = 0;
        j = k - 1;
        for (;;) { /* Hoare partition */
            while (a[i] < p) i++;
            while (a[j] > p) j--;
            if (i >= j) break;
            t = a[i]; a[i] = a[j]; a[j] = t;
            i++;
            j--;
        }
        /* [0, j] <= p <= [j+1, k): recurse into the smaller part, loop on the larger */
        if (j + 1 < k - (j + 1)) {
            sy__intro_sort(a, j + 1, depth);
            a += j + 1;
            k -= j + 1;
        } else {
            sy__intro_sort(a + j + 1, k - (j + 1), depth);
            k = j + 1;
        }
    }
    sy__insertion_sort(a, k);
}

/* Sort k node ids ascending, in place (introsort: O(k log k) worst case, no allocation). */
static inline void sy_topo_sort_nodes(sy_node *a, sy_edge k)
{
    int depth = 0;
    sy_edge x;
    for (x = k; x > 1; x >>= 1) depth += 2;
    sy__intro_sort(a, k, depth);
}

/* ------------------------------------------------------------------------ Kahn */

/* Kahn's algorithm, FIFO, generation by generation.
 *   rem:     n entries, the in-degrees on entry; consumed (0 for every emitted node, > 0
 *            exactly for the nodes on or downstream of a cycle).
 *   queue:   n entries, receives the emitted nodes, generation after generation.
 *   gen_end: n entries or NULL; gen_end[g] = end (exclusive) in queue of generation g.
 *   *ngen:   number of generations (levels).
 * Returns the number of emitted nodes: n exactly when the graph is acyclic. */
static inline sy_node sy_topo_kahn(sy_node n, const sy_edge *off, const sy_node *tgt,
                                   sy_node *rem, sy_node *queue, sy_node *gen_end,
                                   sy_node *ngen)
{
    sy_node v, tail = 0, head = 0, g = 0;
    for (v = 0; v < n; v++)
        if (rem[v] == 0) queue[tail++] = v;
    while (head < tail) {
        const sy_node end = tail;
        if (gen_end != NULL) gen_end[g] = end;
        g++;
        for (; head < end; head++) {
            const sy_node u = queue[head];
            sy_edge e;
            const sy_edge stop = off[u + 1];
            for (e = off[u]; e < stop; e++) {
                const sy_node w = tgt[e];
                if (--rem[w] == 0) queue[tail++] = w;
            }
        }
    }
    *ngen = g;
    return tail;
}

/* After a complete sy_topo_kahn (returned n): write the deterministic order -- by level,
 * then by index -- into out (n entries, may be the same array as queue).
 *   level:  n entries of scratch (may be the rem array of the Kahn run).
 *   gen_end: as filled by sy_topo_kahn; on return gen_end[g] = end of level g in out
 *            (unchanged values: the same boundaries). */
static inline void sy_topo_order_by_level(sy_node n, const sy_node *queue, sy_node *gen_end,
                                          sy_node ngen, sy_node *level, sy_node *out)
{
    sy_node g, i = 0, v;
    for (g = 0; g < ngen; g++)
        for (; i < gen_end[g]; i++) level[queue[i]] = g;
    /* gen_end[g] becomes the running insertion point of level g (its start), and ends as
     * its end again after every node is placed. */
    for (g = ngen; g-- > 1;) gen_end[g] = gen_end[g - 1];
    if (ngen > 0) gen_end[0] = 0;
    for (v = 0; v < n; v++) out[gen_end[level[v]]++] = v;
}

/* A min-queue of node ids as a hierarchical bitmap: level 0 has a bit per node, level d+1
 * a bit per non-empty word of level d, and the top level is one word. Insert and pop-min
 * cost O(log64 n) word operations (at most 6 levels) with no data-dependent comparisons. */
typedef struct sy__bitq {
    uint64_t *lv[7];
    int depth;
} sy__bitq;

/* Words needed for n ids (always <= n / 63 + 6, which is < 2 * (n + 16) 32-bit entries). */
static inline size_t sy__bitq_words(sy_node n)
{
    size_t words = 0, k = (size_t)(uint32_t)(n > 0 ? n : 1);
    do {
        k = (k + 63) / 64;
        words += k;
    } while (k > 1);
    return words;
}

static inline void sy__bitq_init(sy__bitq *q, sy_node n, uint64_t *mem)
{
    size_t k = (size_t)(uint32_t)(n > 0 ? n : 1);
    q->depth = 0;
    do {
        k = (k + 63) / 64;
        q->lv[q->depth++] = mem;
        memset(mem, 0, k * sizeof *mem);
        mem += k;
    } while (k > 1);
}

static inline void sy__bitq_push(sy__bitq *q, sy_node v)
{
    uint64_t i = (uint64_t)(uint32_t)v;
    int d;
    for (d = 0; d < q->depth; d++) {
        uint64_t *w = &q->lv[d][i >> 6];
        const uint64_t before = *w;
        *w = before | ((uint64_t)1 << (i & 63));
        if (before != 0) break; /* the levels above already know this word */
        i >>= 6;
    }
}

static inline int sy__bitq_empty(const sy__bitq *q) { return q->lv[q->depth - 1][0] == 0; }

static inline sy_node sy__bitq_pop(sy__bitq *q)
{
    uint64_t i = 0, j;
    int d;
    for (d = q->depth - 1; d >= 0; d--) i = (i << 6) | (uint64_t)__builtin_ctzll(q->lv[d][i]);
    for (d = 0, j = i; d < q->depth; d++) {
        uint64_t *w = &q->lv[d][j >> 6];
        *w &= ~((uint64_t)1 << (j & 63));
        if (*w != 0) break;
        j >>= 6;
    }
    return (sy_node)i;
}

/* Kahn with a min-queue: among ready nodes, the smallest index first.
 *   rem:   in-degrees, consumed as in sy_topo_kahn.
 *   queue: 2 * (n + 16) entries of scratch (8-byte aligned: it holds a bitmap).
 *   out:   n entries.
 * Returns the number of emitted nodes (n iff acyclic). */
static inline sy_node sy_topo_kahn_lex(sy_node n, const sy_edge *off, const sy_node *tgt,
                                       sy_node *rem, sy_node *queue, sy_node *out)
{
    sy__bitq q;
    sy_node v, count = 0;
    sy__bitq_init(&q, n, (uint64_t *)(void *)queue);
    for (v = 0; v < n; v++)
        if (rem[v] == 0) sy__bitq_push(&q, v);
    while (!sy__bitq_empty(&q)) {
        const sy_node u = sy__bitq_pop(&q);
        sy_edge e;
        const sy_edge stop = off[u + 1];
        out[count++] = u;
        for (e = off[u]; e < stop; e++) {
            const sy_node w = tgt[e];
            if (--rem[w] == 0) sy__bitq_push(&q, w);
        }
    }
    return count;
}

/* ------------------------------------------------------------------------ cycles */

/* The canonical cycle, after a Kahn run that emitted fewer than n nodes.
 * rem > 0 marks the nodes left over (R); each of them has a predecessor in R. The walk
 * starts at the smallest node of R and steps to the smallest predecessor in R until it
 * repeats a node; the loop it closed, turned to follow the edges and rotated to begin at
 * its smallest node, is the cycle.
 *   minpred, cycle: n entries each (scratch / output).
 * Writes the cycle c0 -> c1 -> ... -> c(k-1) (-> c0) into cycle[0..k) and returns k >= 2;
 * returns 0 if rem has no node > 0 (no cycle). */
static inline sy_node sy_topo_find_cycle(sy_node n, const sy_edge *off, const sy_node *tgt,
                                         const sy_node *rem, sy_node *minpred, sy_node *cycle)
{
    sy_node u, start = 0, len = 0, x, p, k, j, i, best;
    while (start < n && rem[start] <= 0) start++;
    if (start == n) return 0;
    memset(minpred, 0xff, (size_t)(uint32_t)n * sizeof *minpred); /* all -1 */
    for (u = start; u < n; u++) {
        sy_edge e;
        if (rem[u] == 0) continue;
        for (e = off[u]; e < off[u + 1]; e++) {
            const sy_node w = tgt[e];
            if (rem[w] > 0 && minpred[w] < 0) minpred[w] = u; /* u ascending: the minimum */
        }
    }
    /* walk predecessors; a visited node x stores -2 - (its position in the walk) */
    x = start;
    while (minpred[x] >= 0) {
        const sy_node next = minpred[x];
        minpred[x] = -2 - len;
        cycle[len++] = x;
        x = next;
    }
    p = -2 - minpred[x];
    k = len - p;
    /* cycle[p..len) follows edges backwards: reverse it into minpred[0..k) */
    for (i = 0; i < k; i++) minpred[i] = cycle[len - 1 - i];
    best = 0;
    for (i = 1; i < k; i++)
        if (minpred[i] < minpred[best]) best = i;
    for (i = 0, j = best; i < k; i++) {
        cycle[i] = minpred[j];
        if (++j == k) j = 0;
    }
    return k;
}

/* ------------------------------------------------------------------------ reachability */

/* Nodes reachable from seeds (nseeds entries, each in [0, n)) over the CSR (off, tgt): the
 * forward CSR gives descendants, the reverse CSR ancestors. With include_self == 0 a seed is
 * reported only if it is reachable from a seed by at least one edge.
 *   mark:  n entries; a node is marked when mark[v] == stamp (stamp != any stale value).
 *   bits:  (n + 63) / 64 words of scratch, or NULL.
 *   out:   n entries; receives the reached nodes in ascending order.
 * Returns how many (r). Cost: O(r + their edges) for the walk; the result is then sorted in
 * O(r log r) when r <= n / 512, else collected from a bitmap in O(n / 64 + r) word
 * operations (O(n) from mark when bits is NULL) -- O(r) either way up to the log factor. */
static inline sy_node sy_topo_reach(sy_node n, const sy_edge *off, const sy_node *tgt,
                                    const sy_node *seeds, sy_edge nseeds, int include_self,
                                    uint32_t *mark, uint32_t stamp, uint64_t *bits,
                                    sy_node *out)
{
    sy_node r = 0, head = 0, v;
    sy_edge i, e;
    if (include_self) {
        for (i = 0; i < nseeds; i++) {
            v = seeds[i];
            if (mark[v] != stamp) { mark[v] = stamp; out[r++] = v; }
        }
    } else {
        for (i = 0; i < nseeds; i++) {
            const sy_node s = seeds[i];
            for (e = off[s]; e < off[s + 1]; e++) {
                v = tgt[e];
                if (mark[v] != stamp) { mark[v] = stamp; out[r++] = v; }
            }
        }
    }
    while (head < r) {
        const sy_node u = out[head++];
        for (e = off[u]; e < off[u + 1]; e++) {
            v = tgt[e];
            if (mark[v] != stamp) { mark[v] = stamp; out[r++] = v; }
        }
    }
    if (r <= n / 512) {
        sy_topo_sort_nodes(out, r);
    } else if (bits != NULL) {
        const size_t words = ((size_t)(uint32_t)n + 63) / 64;
        size_t w;
        sy_node k = 0;
        memset(bits, 0, words * sizeof *bits);
        for (v = 0; v < r; v++) bits[(uint32_t)out[v] >> 6] |= (uint64_t)1 << (out[v] & 63);
        for (w = 0; w < words; w++) {
            uint64_t x = bits[w];
            while (x) {
                out[k++] = (sy_node)(w * 64 + (size_t)__builtin_ctzll(x));
                x &= x - 1;
            }
        }
    } else {
        sy_node k = 0;
        for (v = 0; v < n; v++) { /* branch-free: the test is unpredictable */
            out[k] = v;
            k += (mark[v] == stamp);
        }
    }
    return r;
}

/* ------------------------------------------------------------------------ ready tracker */

/* Node states of a tracker. */
enum { SY_WAITING = 0, SY_READY = 1, SY_HANDED = 2, SY_DONE = 3 };

/* Why done() refuses a node. */
enum {
    SY_TRACK_OK = 0,
    SY_TRACK_RANGE = 1,     /* id outside [0, n) */
    SY_TRACK_WAITING = 2,   /* predecessors not all done */
    SY_TRACK_NOT_HANDED = 3,/* ready, but not yet returned by ready() */
    SY_TRACK_DONE = 4,      /* already done before this call */
    SY_TRACK_REPEATED = 5,  /* listed twice in one batch */
};

/* An incremental ready tracker (graphlib.TopologicalSorter's protocol) over a CSR.
 * queue[0..handed) were returned by ready(); queue[handed..tail) are ready and pending. */
typedef struct sy_tracker {
    sy_node n;
    const sy_edge *off;
    const sy_node *tgt;
    sy_node *rem;    /* n: unfinished in-edges per node */
    uint8_t *state;  /* n: SY_WAITING / READY / HANDED / DONE */
    sy_node *queue;  /* n: every node enters once, when it becomes ready */
    sy_node handed;
    sy_node tail;
    sy_node ndone;
} sy_tracker;

/* Set up t over (n, off, tgt) with in-degrees indeg; rem, state, queue: n entries each,
 * owned by the caller. The graph must be acyclic (else some nodes never become ready). */
static inline void sy_tracker_init(sy_tracker *t, sy_node n, const sy_edge *off,
                                   const sy_node *tgt, const sy_node *indeg, sy_node *rem,
                                   uint8_t *state, sy_node *queue)
{
    sy_node v;
    t->n = n;
    t->off = off;
    t->tgt = tgt;
    t->rem = rem;
    t->state = state;
    t->queue = queue;
    t->handed = 0;
    t->tail = 0;
    t->ndone = 0;
    memcpy(rem, indeg, (size_t)(uint32_t)n * sizeof *rem);
    for (v = 0; v < n; v++) {
        if (indeg[v] == 0) {
            state[v] = SY_READY;
            queue[t->tail++] = v;
        } else {
            state[v] = SY_WAITING;
        }
    }
}

/* Hand out the pending ready nodes: sorts them ascending in place, marks them handed, and
 * returns their count; they are (*nodes)[0..count). */
static inline sy_node sy_tracker_ready(sy_tracker *t, const sy_node **nodes)
{
    sy_node i, k = t->tail - t->handed;
    sy_node *a = t->queue + t->handed;
    sy_topo_sort_nodes(a, k);
    for (i = 0; i < k; i++) t->state[a[i]] = SY_HANDED;
    t->handed = t->tail;
    *nodes = a;
    return k;
}

/* Why v cannot be marked done now (SY_TRACK_OK if it can). */
static inline int sy_tracker_check(const sy_tracker *t, int64_t v)
{
    if (v < 0 || v >= t->n) return SY_TRACK_RANGE;
    switch (t->state[v]) {
    case SY_HANDED: return SY_TRACK_OK;
    case SY_WAITING: return SY_TRACK_WAITING;
    case SY_READY: return SY_TRACK_NOT_HANDED;
    default: return SY_TRACK_DONE;
    }
}

/* Mark one handed-out node done (unchecked: call sy_tracker_check first). */
static inline void sy_tracker_done1(sy_tracker *t, sy_node v)
{
    sy_edge e;
    const sy_edge stop = t->off[v + 1];
    sy_node *rem = t->rem;
    t->state[v] = SY_DONE;
    t->ndone++;
    for (e = t->off[v]; e < stop; e++) {
        const sy_node w = t->tgt[e];
        if (--rem[w] == 0) {
            t->state[w] = SY_READY;
            t->queue[t->tail++] = w;
        }
    }
}

/* Mark a batch done, all or nothing: if any node is refused, nothing changes, the function
 * returns its position in the batch and *why says why (the first refused position wins).
 * Returns -1 when the whole batch was applied. */
#define SY__TRACKER_DEFINE_BATCH(SUFFIX, T)                                                       \
    static inline sy_edge sy_tracker_done_##SUFFIX(sy_tracker *t, const T *vs, sy_edge k,         \
                                                   int *why)                                      \
    {                                                                                             \
        sy_edge i, j;                                                                             \
        for (i = 0; i < k; i++) {                                                                 \
            const int64_t v = (int64_t)vs[i];                                                     \
            int c = sy_tracker_check(t, v);                                                       \
            if (c != SY_TRACK_OK) {                                                               \
                /* undo the tentative marks; a node marked in this batch is a repeat */           \
                if (c == SY_TRACK_DONE) {                                                         \
                    for (j = 0; j < i; j++)                                                       \
                        if ((int64_t)vs[j] == v) { c = SY_TRACK_REPEATED; break; }                \
                }                                                                                 \
                for (j = 0; j < i; j++) t->state[vs[j]] = SY_HANDED;                              \
                *why = c;                                                                         \
                return i;                                                                         \
            }                                                                                     \
            t->state[v] = SY_DONE;                                                                \
        }                                                                                         \
        for (i = 0; i < k; i++) sy_tracker_done1(t, (sy_node)vs[i]);                              \
        *why = SY_TRACK_OK;                                                                       \
        return -1;                                                                                \
    }

SY__TRACKER_DEFINE_BATCH(i32, int32_t)
SY__TRACKER_DEFINE_BATCH(i64, int64_t)

/* True while some node is ready-but-not-handed or handed-but-not-done. */
static inline int sy_tracker_is_active(const sy_tracker *t) { return t->ndone < t->tail; }

#endif /* SYMPHONY_TOPOSORT_H */
