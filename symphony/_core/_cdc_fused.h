/* _cdc_fused.h -- FastCDC scanning and per-chunk SHA-256 fused on ONE core.
 *
 * The gear scan is bound by the latency of its hash chain (integer ALU), SHA-256 by the
 * latency of sha256rnds2 (the SHA unit): neither keeps the core busy.  Here a resumable
 * scanner advances by a few byte pairs between every four SHA rounds, so that the out-of-order
 * core overlaps the two chains, and the SHA side hashes two chunks at once (two lanes, each
 * refilled with the next chunk as soon as it finishes).  Cut points and digests are exactly
 * those of the plain sy_cdc_cut loop + sy_sha256.  x86 with SHA-NI only (the caller checks
 * sy_sha256_uses_shani()).  Private to symphony._core.hashing.
 */
#ifndef SYMPHONY_CDC_FUSED_H
#define SYMPHONY_CDC_FUSED_H

#include "symphony/fastcdc.h"
#include "symphony/sha256.h"

#if SY_SHA256_HAVE_SHANI

#define SY_FSCAN_Q 64u /* cut points the scanner may run ahead (power of two) */

typedef struct {
    const sy_cdc *cdc;
    const uint8_t *p;
    size_t n;
    size_t start;             /* first byte of the chunk being scanned */
    size_t need;              /* judge a chunk only if this many bytes remain (0: to the end) */
    size_t i, end1, end2, lim; /* next pair; end of strict pairs; end of loose pairs; chunk max */
    uint64_t h;
    int active;               /* the chunk at start is set up */
    size_t q[SY_FSCAN_Q];     /* chunk ends found, not yet taken */
    size_t qh, qt;
} sy_fscan;

static inline void sy_fscan__push(sy_fscan *s, size_t end)
{
    s->q[s->qt++ % SY_FSCAN_Q] = end;
    s->start = end;
    s->active = 0;
}

/* Set up the chunk at s->start (pushing the tail chunk, which needs no scan); 1 if active. */
static inline int sy_fscan__setup(sy_fscan *s)
{
    while (!s->active) {
        if (s->start >= s->n || s->n - s->start < s->need || s->qt - s->qh >= SY_FSCAN_Q)
            return 0;
        size_t rem = s->n - s->start, center = s->cdc->avg_size;
        if (rem <= s->cdc->min_size) { sy_fscan__push(s, s->n); continue; }
        if (rem > s->cdc->max_size) rem = s->cdc->max_size;
        else if (rem < center) center = rem;
        s->i = s->start + (s->cdc->min_size / 2) * 2;
        s->end1 = s->start + (center / 2) * 2;
        s->end2 = s->start + (rem / 2) * 2;
        s->lim = s->start + rem;
        s->h = 0;
        s->active = 1;
    }
    return 1;
}

/* Advance the scan by about `pairs` byte pairs; cut points found go to the queue. */
__attribute__((always_inline)) static inline void sy_fscan_run(sy_fscan *s, size_t pairs)
{
    if (!s->active && !sy_fscan__setup(s)) return;
    const uint8_t *p = s->p;
    const uint64_t *g = s->cdc->gear, *gl = s->cdc->gear_ls;
    size_t i = s->i;
    uint64_t h = s->h;
    while (pairs) {
        uint64_t m, mls;
        size_t bound;
        if (i < s->end1) { m = s->cdc->mask_s; mls = s->cdc->mask_s_ls; bound = s->end1; }
        else if (i < s->end2) { m = s->cdc->mask_l; mls = s->cdc->mask_l_ls; bound = s->end2; }
        else {                                   /* no cut before the limit */
            sy_fscan__push(s, s->lim);
            if (!sy_fscan__setup(s)) return;
            i = s->i;
            h = 0;
            continue;
        }
        size_t stop = (bound - i) / 2 > pairs ? i + 2 * pairs : bound;
        pairs -= (stop - i) / 2;
        size_t cut;
        for (; i < stop; i += 2) {
            h = (h << 2) + gl[p[i]];
            if (__builtin_expect(!(h & mls), 0)) { cut = i; goto found; }
            h += g[p[i + 1]];
            if (__builtin_expect(!(h & m), 0)) { cut = i + 1; goto found; }
        }
        continue;
    found:
        sy_fscan__push(s, cut);
        if (!sy_fscan__setup(s)) return;
        i = s->i;
        h = 0;
    }
    s->i = i;
    s->h = h;
}

/* Scan synchronously until `want` cut points are queued or the data is exhausted. */
static inline void sy_fscan_fill(sy_fscan *s, size_t want)
{
    while (s->qt - s->qh < want && (s->active || (s->start < s->n && s->n - s->start >= s->need)))
        sy_fscan_run(s, 1u << 16);
}

#ifndef SY_FUSED_EVERY
#define SY_FUSED_EVERY 2 /* scan 8 pairs after every 8 rounds: +10-20 % over the unfused pairs in noisy
                          * runs here; 1, 4 and 8 were no better */
#endif

/* The x2 hook: advance the scanner after every SY_FUSED_EVERY groups of four rounds. */
#define SY_FUSED__HOOK(J)                                                              \
    do {                                                                               \
        if (((J) % SY_FUSED_EVERY) == SY_FUSED_EVERY - 1)                             \
            sy_fscan_run(scan, 4 * SY_FUSED_EVERY);                                    \
    } while (0)

/* Two lanes of SHA-256 over nblocks blocks each (sha256.h's x2 compression), with the scanner
 * advanced between rounds. */
__attribute__((target("sha,sse4.1,ssse3")))
static void sy_fused_x2(uint32_t sta[8], const uint8_t *pa, uint32_t stb[8], const uint8_t *pb,
                        size_t nblocks, sy_fscan *scan)
{
    SY_SHA256_SHANI_X2_BODY(SY_FUSED__HOOK);
}

typedef struct {
    sy_sha256_ctx ctx;   /* state after the whole blocks hashed so far */
    const uint8_t *p;    /* next whole block */
    size_t blocks;       /* whole blocks left */
    const uint8_t *tail; /* the bytes after the whole blocks */
    size_t tail_len;
    size_t index;        /* chunk number */
    size_t offset, length;
    int busy;
} sy_fused_lane;

/* Called with every chunk's number, offset, length and digest, in completion order (two lanes
 * finish out of order: index them).  Returns 0, or -1 to stop. */
typedef int (*sy_fused_on_digest)(void *arg, size_t index, size_t offset, size_t length,
                                  const uint8_t digest[32]);

static inline void sy_fused__load(sy_fused_lane *lane, const uint8_t *base, size_t offset,
                                  size_t len, size_t index)
{
    const uint8_t *p = base + offset;
    sy_sha256_init(&lane->ctx);
    lane->offset = offset;
    lane->length = len;
    lane->p = p;
    lane->blocks = len / 64;
    lane->tail = p + (len & ~(size_t)63);
    lane->tail_len = len & 63;
    lane->index = index;
    lane->busy = 1;
}

/* Chunk and hash p[0:n]; the number of chunks (>= 0) or -1 when on_digest stopped it.
 * With need > 0 (streaming, more data to come) a chunk is judged only when at least `need`
 * (= max_size) bytes remain from its start; *done gets the end of the last chunk. */
static inline long sy_cdc_hash_fused_ex(const sy_cdc *cdc, const uint8_t *p, size_t n,
                                        size_t need, size_t *done,
                                        sy_fused_on_digest on_digest, void *arg)
{
    sy_fscan scan;
    sy_fused_lane lanes[2];
    size_t next_start = 0, count = 0;
    uint8_t digest[32];
    scan.cdc = cdc;
    scan.p = p;
    scan.n = n;
    scan.start = 0;
    scan.need = need;
    scan.active = 0;
    scan.qh = scan.qt = 0;
    lanes[0].busy = lanes[1].busy = 0;
    for (;;) {
        for (int l = 0; l < 2; l++) {          /* refill idle lanes with the next chunks */
            if (lanes[l].busy) continue;
            sy_fscan_fill(&scan, 1);
            if (scan.qt == scan.qh) break;
            size_t end = scan.q[scan.qh++ % SY_FSCAN_Q];
            sy_fused__load(&lanes[l], p, next_start, end - next_start, count++);
            next_start = end;
        }
        if (!lanes[0].busy && !lanes[1].busy) break;
        if (lanes[0].busy && lanes[1].busy) {
            size_t k = lanes[0].blocks < lanes[1].blocks ? lanes[0].blocks : lanes[1].blocks;
            if (k) {
                sy_fused_x2(lanes[0].ctx.state, lanes[0].p, lanes[1].ctx.state, lanes[1].p, k,
                            &scan);
                for (int l = 0; l < 2; l++) {
                    lanes[l].p += 64 * k;
                    lanes[l].blocks -= k;
                    lanes[l].ctx.nbytes += 64 * k;
                }
            }
        } else {
            for (int l = 0; l < 2; l++) {
                if (lanes[l].busy && lanes[l].blocks) {
                    sy_sha256_blocks(lanes[l].ctx.state, lanes[l].p, lanes[l].blocks);
                    lanes[l].ctx.nbytes += 64 * lanes[l].blocks;
                    lanes[l].p += 64 * lanes[l].blocks;
                    lanes[l].blocks = 0;
                }
            }
        }
        for (int l = 0; l < 2; l++) {          /* finish lanes out of whole blocks */
            sy_fused_lane *lane = &lanes[l];
            if (!lane->busy || lane->blocks) continue;
            sy_sha256_update(&lane->ctx, lane->tail, lane->tail_len);
            sy_sha256_final(&lane->ctx, digest);
            lane->busy = 0;
            if (on_digest(arg, lane->index, lane->offset, lane->length, digest) < 0) return -1;
        }
    }
    *done = next_start;
    return (long)count;
}

static inline long sy_cdc_hash_fused(const sy_cdc *cdc, const uint8_t *p, size_t n,
                                     sy_fused_on_digest on_digest, void *arg)
{
    size_t done;
    return sy_cdc_hash_fused_ex(cdc, p, n, 0, &done, on_digest, arg);
}

#endif /* SY_SHA256_HAVE_SHANI */
#endif /* SYMPHONY_CDC_FUSED_H */
