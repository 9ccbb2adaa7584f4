/* Symphony shared-arena allocator: a size-class slab allocator over one region of shared
 * memory, usable from C, Cython (symphony/_core/alloc.pxd) and, through the pure-Python twin
 * symphony/reference/alloc.py, from Python. Header-only: every function is static inline.
 *
 * The byte layout is docs/arena-format.md; the constants repeat symphony/_layout.py (a test
 * checks that they agree). The algorithms are specified in the twin's docstrings:
 *
 *   handle = generation << 32 | block index        (a live handle has an odd generation)
 *   free lists = Treiber stacks, head = tag << 32 | index, changed only by CAS (tag += 1)
 *
 * Every function is lock-free and safe for any number of threads and processes mapping the
 * same arena at once. Nothing here allocates, blocks or calls the OS. Typical use:
 *
 *     sy_arena a;
 *     if (sy_arena_open(&a, base, mapped_len) != SY_ARENA_OK) ...     // or sy_arena_format
 *     uint64_t h;
 *     if (sy_arena_alloc(&a, 100, &h) == SY_ARENA_OK) {
 *         uint64_t off; uint32_t n;
 *         sy_arena_resolve(&a, h, &off, &n);
 *         memcpy(a.base + off, src, n);
 *         sy_arena_free(&a, h);
 *     }
 *
 * `sy_arena` is process-private: it caches the validated tables, so a process that scribbles
 * over the header later cannot steer this process's accesses outside the arena. Indices read
 * from the shared free lists are bounds-checked too (SY_ARENA_CORRUPT, never a wild write).
 */
#ifndef SYMPHONY_ARENA_H
#define SYMPHONY_ARENA_H

#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "symphony/arena.h: the arena format is little-endian; big-endian hosts are unsupported"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- layout (== symphony/_layout.py, "arena allocator") ------------------------------ */
#define SY_ARENA_MAGIC "SYMARENA"
#define SY_ARENA_VERSION 1u
#define SY_ARENA_HEADER_SIZE 64u
#define SY_ARENA_CLASS_SIZE 32u
#define SY_ARENA_HEAD_SIZE 64u
#define SY_ARENA_BLOCK_HEADER_SIZE 16u
#define SY_ARENA_NIL 0xFFFFFFFFu
#define SY_ARENA_MAX_CLASSES 32u
#define SY_ARENA_BLOCK_ALIGN 64u
#define SY_ARENA_MAX_BLOCK_SIZE 0x80000000u
#define SY_ARENA_HANDLE_INDEX_BITS 32u

/* Header fields (byte offsets). */
#define SY_ARENA_H_MAGIC 0
#define SY_ARENA_H_VERSION 8
#define SY_ARENA_H_HEADER_SIZE 12
#define SY_ARENA_H_TOTAL_SIZE 16
#define SY_ARENA_H_NCLASSES 24
#define SY_ARENA_H_NBLOCKS 28
#define SY_ARENA_H_CLASSES_OFFSET 32
#define SY_ARENA_H_HEADS_OFFSET 40
#define SY_ARENA_H_BLOCKS_OFFSET 48
#define SY_ARENA_H_DATA_OFFSET 56
/* Class table entry fields. */
#define SY_ARENA_C_BLOCK_SIZE 0
#define SY_ARENA_C_BLOCK_COUNT 4
#define SY_ARENA_C_FIRST_INDEX 8
#define SY_ARENA_C_DATA_OFFSET 16
/* Head line fields. */
#define SY_ARENA_L_HEAD 0
#define SY_ARENA_L_ALLOCS 8
#define SY_ARENA_L_FREES 16
#define SY_ARENA_L_FAILURES 24
/* Block header fields. */
#define SY_ARENA_B_GEN 0
#define SY_ARENA_B_NBYTES 4
#define SY_ARENA_B_NEXT 8
#define SY_ARENA_B_CLASS 12

static const uint32_t sy_arena_default_classes[] = {64u,    256u,    1024u,   4096u,
                                                    16384u, 65536u, 262144u, 1048576u};
#define SY_ARENA_NDEFAULT_CLASSES 8u

/* ---- results ------------------------------------------------------------------------- */
enum {
    SY_ARENA_OK = 0,
    SY_ARENA_EXHAUSTED = 1,   /* the size class has no free block                         */
    SY_ARENA_TOO_LARGE = 2,   /* the request exceeds the largest size class               */
    SY_ARENA_STALE = 3,       /* the handle is not live (freed and reused, or forged)     */
    SY_ARENA_DOUBLE_FREE = 4, /* the handle was freed already                             */
    SY_ARENA_CORRUPT = 5,     /* a shared table or block header holds an impossible value */
    SY_ARENA_E_SMALL = 10,    /* buffer smaller than the header                           */
    SY_ARENA_E_MAGIC = 11,
    SY_ARENA_E_VERSION = 12,
    SY_ARENA_E_HEADER = 13,   /* header_size or nclasses out of range                     */
    SY_ARENA_E_SIZE = 14,     /* header's total size exceeds the mapped length            */
    SY_ARENA_E_OFFSETS = 15,  /* table offsets disagree with the layout rule              */
    SY_ARENA_E_CLASS = 16,    /* a class table entry is inconsistent                      */
    SY_ARENA_E_COUNTS = 17,   /* class block counts do not add up to nblocks              */
    SY_ARENA_E_CLASSES = 20,  /* format: bad size class list                              */
    SY_ARENA_E_NOSPACE = 21,  /* format: some class would get no block                    */
    SY_ARENA_E_TOO_MANY = 22  /* format: 2**32 - 1 blocks or more                         */
};

typedef struct sy_arena {
    uint8_t *base;
    uint64_t size; /* total_size from the header */
    uint32_t nclasses;
    uint32_t nblocks;
    uint8_t *heads;
    uint8_t *blocks;
    uint64_t data_offset;
    uint32_t block_size[SY_ARENA_MAX_CLASSES];
    uint32_t block_count[SY_ARENA_MAX_CLASSES];
    uint32_t first_index[SY_ARENA_MAX_CLASSES];
    uint64_t class_data[SY_ARENA_MAX_CLASSES];
} sy_arena;

/* ---- atomics over shared memory (GCC/Clang builtins; lock-free on x86-64/aarch64) ----- */
static inline uint64_t sy_arena_load64(const uint8_t *p, int order) {
    return __atomic_load_n((const uint64_t *)p, order);
}
static inline uint32_t sy_arena_load32(const uint8_t *p, int order) {
    return __atomic_load_n((const uint32_t *)p, order);
}
static inline void sy_arena_store32(uint8_t *p, uint32_t v, int order) {
    __atomic_store_n((uint32_t *)p, v, order);
}
static inline int sy_arena_cas64(uint8_t *p, uint64_t *expected, uint64_t desired) {
    return __atomic_compare_exchange_n((uint64_t *)p, expected, desired, 0, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}
static inline int sy_arena_cas32(uint8_t *p, uint32_t *expected, uint32_t desired) {
    return __atomic_compare_exchange_n((uint32_t *)p, expected, desired, 0, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}
static inline void sy_arena_add64(uint8_t *p, uint64_t v) {
    __atomic_fetch_add((uint64_t *)p, v, __ATOMIC_RELAXED);
}

/* ---- plain little-endian field access (format/open only) ----------------------------- */
static inline uint32_t sy_arena__get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t sy_arena__get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline void sy_arena__put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void sy_arena__put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static inline uint64_t sy_arena__align(uint64_t n) {
    return (n + SY_ARENA_BLOCK_ALIGN - 1) / SY_ARENA_BLOCK_ALIGN * SY_ARENA_BLOCK_ALIGN;
}
static inline uint64_t sy_arena_heads_offset(uint32_t nclasses) {
    return SY_ARENA_HEADER_SIZE + sy_arena__align((uint64_t)SY_ARENA_CLASS_SIZE * nclasses);
}
static inline uint64_t sy_arena_blocks_offset(uint32_t nclasses) {
    return sy_arena_heads_offset(nclasses) + (uint64_t)SY_ARENA_HEAD_SIZE * nclasses;
}

/* Blocks per class for an arena of `size` bytes: an equal share of the bytes after the head
 * lines (less 64 bytes of alignment slack) per class; a block costs its size + header. */
static inline void sy_arena_counts(uint64_t size, const uint32_t *classes, uint32_t n,
                                   uint64_t *counts) {
    uint64_t blocks = sy_arena_blocks_offset(n);
    uint64_t share = 0;
    if (size > blocks + SY_ARENA_BLOCK_ALIGN) share = (size - blocks - SY_ARENA_BLOCK_ALIGN) / n;
    for (uint32_t c = 0; c < n; c++)
        counts[c] = share / ((uint64_t)classes[c] + SY_ARENA_BLOCK_HEADER_SIZE);
}

static inline int sy_arena_check_classes(const uint32_t *classes, uint32_t n) {
    if (n < 1 || n > SY_ARENA_MAX_CLASSES) return SY_ARENA_E_CLASSES;
    uint32_t prev = 0;
    for (uint32_t c = 0; c < n; c++) {
        uint32_t bs = classes[c];
        if (bs <= prev || bs % SY_ARENA_BLOCK_ALIGN || bs > SY_ARENA_MAX_BLOCK_SIZE)
            return SY_ARENA_E_CLASSES;
        prev = bs;
    }
    return SY_ARENA_OK;
}

/* Validate the arena at `base` (`len` bytes mapped) and fill `a`. */
static inline int sy_arena_open(sy_arena *a, void *base, uint64_t len) {
    uint8_t *b = (uint8_t *)base;
    memset(a, 0, sizeof *a);
    if (len < SY_ARENA_HEADER_SIZE) return SY_ARENA_E_SMALL;
    uint64_t magic = sy_arena_load64(b + SY_ARENA_H_MAGIC, __ATOMIC_ACQUIRE);
    if (memcmp(&magic, SY_ARENA_MAGIC, 8) != 0) return SY_ARENA_E_MAGIC;
    if (sy_arena__get32(b + SY_ARENA_H_VERSION) != SY_ARENA_VERSION) return SY_ARENA_E_VERSION;
    uint32_t n = sy_arena__get32(b + SY_ARENA_H_NCLASSES);
    if (sy_arena__get32(b + SY_ARENA_H_HEADER_SIZE) != SY_ARENA_HEADER_SIZE || n < 1 ||
        n > SY_ARENA_MAX_CLASSES)
        return SY_ARENA_E_HEADER;
    uint64_t total = sy_arena__get64(b + SY_ARENA_H_TOTAL_SIZE);
    if (total > len) return SY_ARENA_E_SIZE;
    uint32_t nblocks = sy_arena__get32(b + SY_ARENA_H_NBLOCKS);
    uint64_t heads = sy_arena__get64(b + SY_ARENA_H_HEADS_OFFSET);
    uint64_t blocks = sy_arena__get64(b + SY_ARENA_H_BLOCKS_OFFSET);
    uint64_t data = sy_arena__get64(b + SY_ARENA_H_DATA_OFFSET);
    if (sy_arena__get64(b + SY_ARENA_H_CLASSES_OFFSET) != SY_ARENA_HEADER_SIZE ||
        heads != sy_arena_heads_offset(n) || blocks != sy_arena_blocks_offset(n) ||
        nblocks >= SY_ARENA_NIL ||
        data != sy_arena__align(blocks + (uint64_t)SY_ARENA_BLOCK_HEADER_SIZE * nblocks) ||
        data > total)
        return SY_ARENA_E_OFFSETS;
    uint32_t prev = 0;
    uint64_t first = 0, cdata = data;
    for (uint32_t c = 0; c < n; c++) {
        const uint8_t *e = b + SY_ARENA_HEADER_SIZE + (uint64_t)c * SY_ARENA_CLASS_SIZE;
        uint32_t bs = sy_arena__get32(e + SY_ARENA_C_BLOCK_SIZE);
        uint32_t count = sy_arena__get32(e + SY_ARENA_C_BLOCK_COUNT);
        if (bs <= prev || bs % SY_ARENA_BLOCK_ALIGN || bs > SY_ARENA_MAX_BLOCK_SIZE ||
            count == 0 || sy_arena__get32(e + SY_ARENA_C_FIRST_INDEX) != first ||
            sy_arena__get64(e + SY_ARENA_C_DATA_OFFSET) != cdata ||
            cdata + (uint64_t)bs * count > total)
            return SY_ARENA_E_CLASS;
        a->block_size[c] = bs;
        a->block_count[c] = count;
        a->first_index[c] = (uint32_t)first;
        a->class_data[c] = cdata;
        prev = bs;
        first += count;
        cdata += (uint64_t)bs * count;
    }
    if (first != nblocks) return SY_ARENA_E_COUNTS;
    a->base = b;
    a->size = total;
    a->nclasses = n;
    a->nblocks = nblocks;
    a->heads = b + heads;
    a->blocks = b + blocks;
    a->data_offset = data;
    return SY_ARENA_OK;
}

/* The classes and block counts of a new arena of `size` bytes. `classes` NULL (or n == 0)
 * selects the default classes, dropping the largest until each gets a block. On
 * SY_ARENA_E_NOSPACE with explicit classes, `counts` shows which class got none. */
static inline int sy_arena_plan(uint64_t size, const uint32_t *classes, uint32_t n,
                                uint32_t *sizes, uint64_t *counts, uint32_t *nout) {
    *nout = 0;
    if (size < SY_ARENA_HEADER_SIZE) return SY_ARENA_E_SMALL;
    if (classes == NULL || n == 0) {
        n = SY_ARENA_NDEFAULT_CLASSES;
        for (;;) {
            int ok = 1;
            sy_arena_counts(size, sy_arena_default_classes, n, counts);
            for (uint32_t c = 0; c < n; c++) ok &= counts[c] > 0;
            if (ok) break;
            if (--n == 0) return SY_ARENA_E_NOSPACE;
        }
        memcpy(sizes, sy_arena_default_classes, n * sizeof(uint32_t));
    } else {
        int rc = sy_arena_check_classes(classes, n);
        if (rc) return rc;
        memcpy(sizes, classes, n * sizeof(uint32_t));
        sy_arena_counts(size, sizes, n, counts);
        *nout = n;
        for (uint32_t c = 0; c < n; c++)
            if (counts[c] == 0) return SY_ARENA_E_NOSPACE;
    }
    *nout = n;
    uint64_t nblocks = 0;
    for (uint32_t c = 0; c < n; c++) nblocks += counts[c];
    if (nblocks >= SY_ARENA_NIL) return SY_ARENA_E_TOO_MANY;
    return SY_ARENA_OK;
}

/* Format a new arena over `size` bytes at `base` (classes as for sy_arena_plan) and open it
 * into `a`. The payload bytes are left as they were; the magic is written last (release). */
static inline int sy_arena_format(sy_arena *a, void *base, uint64_t size,
                                  const uint32_t *classes, uint32_t n) {
    uint8_t *b = (uint8_t *)base;
    uint64_t counts[SY_ARENA_MAX_CLASSES];
    uint32_t sizes[SY_ARENA_MAX_CLASSES];
    memset(a, 0, sizeof *a);
    int rc = sy_arena_plan(size, classes, n, sizes, counts, &n);
    if (rc) return rc;
    uint64_t nblocks = 0;
    for (uint32_t c = 0; c < n; c++) nblocks += counts[c];
    if (nblocks >= SY_ARENA_NIL) return SY_ARENA_E_TOO_MANY;
    uint64_t heads = sy_arena_heads_offset(n), blocks = sy_arena_blocks_offset(n);
    uint64_t blocks_end = blocks + SY_ARENA_BLOCK_HEADER_SIZE * nblocks;
    uint64_t data = sy_arena__align(blocks_end);

    memset(b, 0, blocks);
    uint64_t first = 0, cdata = data;
    for (uint32_t c = 0; c < n; c++) {
        uint8_t *e = b + SY_ARENA_HEADER_SIZE + (uint64_t)c * SY_ARENA_CLASS_SIZE;
        sy_arena__put32(e + SY_ARENA_C_BLOCK_SIZE, sizes[c]);
        sy_arena__put32(e + SY_ARENA_C_BLOCK_COUNT, (uint32_t)counts[c]);
        sy_arena__put32(e + SY_ARENA_C_FIRST_INDEX, (uint32_t)first);
        sy_arena__put64(e + SY_ARENA_C_DATA_OFFSET, cdata);
        sy_arena__put64(b + heads + (uint64_t)c * SY_ARENA_HEAD_SIZE + SY_ARENA_L_HEAD, first);
        for (uint64_t i = first; i < first + counts[c]; i++) {
            uint8_t *blk = b + blocks + i * SY_ARENA_BLOCK_HEADER_SIZE;
            sy_arena__put32(blk + SY_ARENA_B_GEN, 0);
            sy_arena__put32(blk + SY_ARENA_B_NBYTES, 0);
            sy_arena__put32(blk + SY_ARENA_B_NEXT,
                            i + 1 < first + counts[c] ? (uint32_t)(i + 1) : SY_ARENA_NIL);
            sy_arena__put32(blk + SY_ARENA_B_CLASS, c);
        }
        first += counts[c];
        cdata += (uint64_t)sizes[c] * counts[c];
    }
    memset(b + blocks_end, 0, data - blocks_end);
    sy_arena__put32(b + SY_ARENA_H_VERSION, SY_ARENA_VERSION);
    sy_arena__put32(b + SY_ARENA_H_HEADER_SIZE, SY_ARENA_HEADER_SIZE);
    sy_arena__put64(b + SY_ARENA_H_TOTAL_SIZE, size);
    sy_arena__put32(b + SY_ARENA_H_NCLASSES, n);
    sy_arena__put32(b + SY_ARENA_H_NBLOCKS, (uint32_t)nblocks);
    sy_arena__put64(b + SY_ARENA_H_CLASSES_OFFSET, SY_ARENA_HEADER_SIZE);
    sy_arena__put64(b + SY_ARENA_H_HEADS_OFFSET, heads);
    sy_arena__put64(b + SY_ARENA_H_BLOCKS_OFFSET, blocks);
    sy_arena__put64(b + SY_ARENA_H_DATA_OFFSET, data);
    uint64_t magic;
    memcpy(&magic, SY_ARENA_MAGIC, 8);
    __atomic_store_n((uint64_t *)(b + SY_ARENA_H_MAGIC), magic, __ATOMIC_RELEASE);
    return sy_arena_open(a, base, size);
}

/* The smallest class holding `nbytes`, or -1 if none does. */
static inline int sy_arena_class_for(const sy_arena *a, uint64_t nbytes) {
    for (uint32_t c = 0; c < a->nclasses; c++)
        if (nbytes <= a->block_size[c]) return (int)c;
    return -1;
}

/* Allocate a block for `nbytes`; on SY_ARENA_OK `*handle` is live (odd generation). */
static inline int sy_arena_alloc(sy_arena *a, uint64_t nbytes, uint64_t *handle) {
    int c = sy_arena_class_for(a, nbytes);
    if (c < 0) return SY_ARENA_TOO_LARGE;
    uint8_t *line = a->heads + (uint64_t)c * SY_ARENA_HEAD_SIZE;
    uint32_t lo = a->first_index[c], hi = lo + a->block_count[c];
    uint64_t old = sy_arena_load64(line + SY_ARENA_L_HEAD, __ATOMIC_ACQUIRE);
    uint32_t index;
    uint8_t *blk;
    for (;;) {
        index = (uint32_t)old;
        if (index == SY_ARENA_NIL) {
            sy_arena_add64(line + SY_ARENA_L_FAILURES, 1);
            return SY_ARENA_EXHAUSTED;
        }
        if (index < lo || index >= hi) return SY_ARENA_CORRUPT;
        blk = a->blocks + (uint64_t)index * SY_ARENA_BLOCK_HEADER_SIZE;
        /* `next` may be stale if another process popped this block meanwhile: then the
         * head's tag has moved on and the CAS below fails (the ABA guard). */
        uint32_t next = sy_arena_load32(blk + SY_ARENA_B_NEXT, __ATOMIC_RELAXED);
        uint64_t desired = ((uint64_t)((uint32_t)(old >> 32) + 1u) << 32) | next;
        if (sy_arena_cas64(line + SY_ARENA_L_HEAD, &old, desired)) break;
    }
    uint32_t gen = sy_arena_load32(blk + SY_ARENA_B_GEN, __ATOMIC_RELAXED) + 1u;
    sy_arena_store32(blk + SY_ARENA_B_NBYTES, (uint32_t)nbytes, __ATOMIC_RELAXED);
    sy_arena_store32(blk + SY_ARENA_B_GEN, gen, __ATOMIC_RELEASE);
    sy_arena_add64(line + SY_ARENA_L_ALLOCS, 1);
    *handle = ((uint64_t)gen << 32) | index;
    return SY_ARENA_OK;
}

/* The class of a block, checked against the process-private tables (-1: corrupt). */
static inline int sy_arena__block_class(const sy_arena *a, uint32_t index) {
    uint32_t c = sy_arena_load32(a->blocks + (uint64_t)index * SY_ARENA_BLOCK_HEADER_SIZE +
                                     SY_ARENA_B_CLASS, __ATOMIC_RELAXED);
    if (c >= a->nclasses || index < a->first_index[c] ||
        index - a->first_index[c] >= a->block_count[c])
        return -1;
    return (int)c;
}

/* Free a live handle. */
static inline int sy_arena_free(sy_arena *a, uint64_t handle) {
    uint32_t index = (uint32_t)handle, gen = (uint32_t)(handle >> 32);
    if (index >= a->nblocks) return SY_ARENA_STALE;
    uint8_t *blk = a->blocks + (uint64_t)index * SY_ARENA_BLOCK_HEADER_SIZE;
    uint32_t current = sy_arena_load32(blk + SY_ARENA_B_GEN, __ATOMIC_ACQUIRE);
    if (current != gen || !(gen & 1u) || !sy_arena_cas32(blk + SY_ARENA_B_GEN, &current, gen + 1u))
        return ((gen & 1u) && current == gen + 1u) ? SY_ARENA_DOUBLE_FREE : SY_ARENA_STALE;
    int c = sy_arena__block_class(a, index);
    if (c < 0) return SY_ARENA_CORRUPT;
    uint8_t *line = a->heads + (uint64_t)c * SY_ARENA_HEAD_SIZE;
    uint64_t old = sy_arena_load64(line + SY_ARENA_L_HEAD, __ATOMIC_ACQUIRE);
    for (;;) {
        sy_arena_store32(blk + SY_ARENA_B_NEXT, (uint32_t)old, __ATOMIC_RELAXED);
        uint64_t desired = ((uint64_t)((uint32_t)(old >> 32) + 1u) << 32) | index;
        if (sy_arena_cas64(line + SY_ARENA_L_HEAD, &old, desired)) break;
    }
    sy_arena_add64(line + SY_ARENA_L_FREES, 1);
    return SY_ARENA_OK;
}

/* Payload offset (from a->base) and requested size of a live handle. */
static inline int sy_arena_resolve(const sy_arena *a, uint64_t handle, uint64_t *offset,
                                   uint32_t *nbytes) {
    uint32_t index = (uint32_t)handle, gen = (uint32_t)(handle >> 32);
    if (index >= a->nblocks) return SY_ARENA_STALE;
    const uint8_t *blk = a->blocks + (uint64_t)index * SY_ARENA_BLOCK_HEADER_SIZE;
    if (sy_arena_load32(blk + SY_ARENA_B_GEN, __ATOMIC_ACQUIRE) != gen || !(gen & 1u))
        return SY_ARENA_STALE;
    int c = sy_arena__block_class(a, index);
    if (c < 0) return SY_ARENA_CORRUPT;
    uint32_t n = sy_arena_load32(blk + SY_ARENA_B_NBYTES, __ATOMIC_RELAXED);
    if (n > a->block_size[c]) return SY_ARENA_CORRUPT;
    *offset = a->class_data[c] + (uint64_t)(index - a->first_index[c]) * a->block_size[c];
    *nbytes = n;
    return SY_ARENA_OK;
}

/* Pointer to the payload of a live handle, or NULL. */
static inline void *sy_arena_ptr(const sy_arena *a, uint64_t handle, uint32_t *nbytes) {
    uint64_t off;
    if (sy_arena_resolve(a, handle, &off, nbytes) != SY_ARENA_OK) return NULL;
    return a->base + off;
}

/* Current generation of a block (tests, diagnostics). */
static inline uint32_t sy_arena_generation(const sy_arena *a, uint32_t index) {
    return sy_arena_load32(a->blocks + (uint64_t)index * SY_ARENA_BLOCK_HEADER_SIZE + SY_ARENA_B_GEN,
                           __ATOMIC_ACQUIRE);
}

/* Shared counters of class `c`: out[0] allocs, out[1] frees, out[2] failures. */
static inline void sy_arena_class_stats(const sy_arena *a, uint32_t c, uint64_t out[3]) {
    const uint8_t *line = a->heads + (uint64_t)c * SY_ARENA_HEAD_SIZE;
    out[0] = sy_arena_load64(line + SY_ARENA_L_ALLOCS, __ATOMIC_RELAXED);
    out[1] = sy_arena_load64(line + SY_ARENA_L_FREES, __ATOMIC_RELAXED);
    out[2] = sy_arena_load64(line + SY_ARENA_L_FAILURES, __ATOMIC_RELAXED);
}

#ifdef __cplusplus
}
#endif
#endif /* SYMPHONY_ARENA_H */
