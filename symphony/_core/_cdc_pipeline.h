/* _cdc_pipeline.h -- overlap FastCDC scanning and per-chunk work on two threads.
 *
 * A helper thread finds cut points (and, optionally, feeds the whole content to a SHA-256
 * context, while the bytes are in its cache); the calling thread receives the chunks in order,
 * two at a time when it can (so that it can hash them as a pair), through on_chunks.  Cut points travel through a bounded ring of
 * SY_CDC_PIPE_RING entries: the scanner waits when the caller is that far behind, so memory
 * is constant whatever the input size.  The chunks delivered are exactly those of a serial
 * sy_cdc_cut loop.  Private to symphony._core.hashing (needs pthreads).
 */
#ifndef SYMPHONY_CDC_PIPELINE_H
#define SYMPHONY_CDC_PIPELINE_H

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "symphony/fastcdc.h"
#include "symphony/sha256.h"

#define SY_CDC_PIPE_RING 4096u /* power of two */

/* Called with chunk a = base[off_a : off_a + len_a] and chunk b right after it, or len_b == 0
 * when there is only one.  Returns 0, or -1 to stop. */
typedef int (*sy_cdc_on_chunks)(void *arg, const uint8_t *base, size_t off_a, size_t len_a,
                                size_t len_b);

typedef struct {
    const sy_cdc *cdc;
    const uint8_t *p;
    size_t n;
    sy_sha256_ctx *content;      /* NULL: no whole-content hash */
    size_t ends[SY_CDC_PIPE_RING];
    size_t published;            /* atomic: cut points written so far */
    size_t consumed;             /* atomic: cut points the caller has taken */
    int done;                    /* atomic: scanner finished */
    int stop;                    /* atomic: caller gave up (on_chunk failed) */
} sy_cdc_pipe;

static inline void sy_cdc__relax(unsigned *spins)
{
    if (++*spins < 256) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    } else {
        sched_yield();   /* the other thread may share this core: let it run */
    }
}

static void *sy_cdc__scanner(void *arg)
{
    sy_cdc_pipe *q = (sy_cdc_pipe *)arg;
    size_t pos = 0, k = 0;
    uint64_t h;
    while (pos < q->n) {
        size_t len = sy_cdc_cut(q->cdc, q->p + pos, q->n - pos, &h);
        if (q->content) sy_sha256_update(q->content, q->p + pos, len);
        pos += len;
        unsigned spins = 0;
        while (k - __atomic_load_n(&q->consumed, __ATOMIC_ACQUIRE) >= SY_CDC_PIPE_RING) {
            if (__atomic_load_n(&q->stop, __ATOMIC_ACQUIRE)) goto out;
            sy_cdc__relax(&spins);
        }
        q->ends[k % SY_CDC_PIPE_RING] = pos;
        __atomic_store_n(&q->published, ++k, __ATOMIC_RELEASE);
    }
out:
    __atomic_store_n(&q->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Chunk p[0:n] with the scan on a helper thread; on_chunks for every chunk (pair) in order, on
 * this thread.  content (may be NULL) is fed every byte, by the helper.
 * Returns 0; -1 when on_chunk failed; -2 when no thread could be started (nothing was done:
 * the caller runs its serial loop instead). */
static inline int sy_cdc_pipeline(const sy_cdc *cdc, const uint8_t *p, size_t n,
                                  sy_sha256_ctx *content, sy_cdc_on_chunks on_chunks, void *arg)
{
    sy_cdc_pipe *q = (sy_cdc_pipe *)malloc(sizeof *q);
    pthread_t tid;
    int rc = 0;
    if (q == NULL) return -2;
    q->cdc = cdc;
    q->p = p;
    q->n = n;
    q->content = content;
    q->published = q->consumed = 0;
    q->done = q->stop = 0;
    if (pthread_create(&tid, NULL, sy_cdc__scanner, q) != 0) {
        free(q);
        return -2;
    }
    size_t k = 0, start = 0;
    unsigned spins = 0;
    for (;;) {
        size_t avail = __atomic_load_n(&q->published, __ATOMIC_ACQUIRE);
        int done = __atomic_load_n(&q->done, __ATOMIC_ACQUIRE);
        if (done) avail = __atomic_load_n(&q->published, __ATOMIC_ACQUIRE);
        /* Pairs while two are ready; a lone chunk only once the scanner has finished. */
        if (avail - k >= 2 || (done && avail > k)) {
            spins = 0;
            while (avail - k >= 2 || (done && avail > k)) {
                size_t end_a = q->ends[k % SY_CDC_PIPE_RING], len_b = 0;
                if (avail - k >= 2) len_b = q->ends[(k + 1) % SY_CDC_PIPE_RING] - end_a;
                k += len_b ? 2 : 1;
                if (on_chunks(arg, p, start, end_a - start, len_b) < 0) {
                    rc = -1;
                    __atomic_store_n(&q->stop, 1, __ATOMIC_RELEASE);
                    goto join;
                }
                start = end_a + len_b;
            }
            __atomic_store_n(&q->consumed, k, __ATOMIC_RELEASE);
            continue;
        }
        if (done) break;
        sy_cdc__relax(&spins);
    }
join:
    pthread_join(tid, NULL);
    free(q);
    return rc;
}

#endif /* SYMPHONY_CDC_PIPELINE_H */
