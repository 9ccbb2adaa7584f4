/* Symphony shared-memory ring: the algorithm, as static inline C over a mapped segment.
 *
 * This header IS the Cython kernel (symphony/_core/ring.pyx wraps it) and the C embedding
 * API (issue 11): a C program maps the segment (sy_ring_attach_shm below, or its own mmap)
 * and calls sy_ring_push / sy_ring_peek + sy_ring_advance + sy_ring_consumer_publish.
 * The byte layout is docs/ring-format.md; the constants repeat symphony/_layout.py (a test
 * checks that they agree). The pure-Python twin symphony/reference/ring.py is the
 * specification and writes the same bytes.
 *
 * Linux, x86-64 / aarch64, gcc or clang (__atomic builtins). No allocation, no locks: the
 * fast path is loads, stores, one CAS in multi-producer mode, and one seq_cst fence.
 */
#ifndef SYMPHONY_RING_H
#define SYMPHONY_RING_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>

#define SY_RING_MAGIC 0x474E524850594D53ULL /* b"SYMPHRNG" little-endian */
#define SY_RING_VERSION 1u
#define SY_RING_HEADER_SIZE 512u
#define SY_RING_SLOT_SIZE 32u
#define SY_RING_REC_HDR 8u
#define SY_RING_MIN_CAPACITY 64ULL
#define SY_RING_MAX_CAPACITY (1ULL << 40)
#define SY_RING_MAX_SLOTS 1024u
#define SY_RING_PENDING_POLLS 64u
#define SY_RING_MAX_INLINE (1ULL << 31)
/* spinning waits call sched_yield() this often (ns): on an oversubscribed machine the peer
 * may be waiting for our CPU */
#define SY_RING_YIELD_NS 2000
#define SY_RING_MIN_SPIN_NS 250

/* header offsets (bytes from the segment start) */
#define SY_RING_OFF_MAGIC 0
#define SY_RING_OFF_VERSION 8
#define SY_RING_OFF_FLAGS 12
#define SY_RING_OFF_CAPACITY 16
#define SY_RING_OFF_DATA 24
#define SY_RING_OFF_SEGSIZE 32
#define SY_RING_OFF_INLINE 40
#define SY_RING_OFF_CREATOR 48
#define SY_RING_OFF_NSLOTS 52
#define SY_RING_OFF_TAIL 64
#define SY_RING_OFF_HEAD 128
#define SY_RING_OFF_CONSUMER_PID 192
#define SY_RING_OFF_WAITING 196
#define SY_RING_OFF_DATA_SEQ 200
#define SY_RING_OFF_BELL_PID 204
#define SY_RING_OFF_BELL_FD 208
#define SY_RING_OFF_SPACE_WAITERS 256
#define SY_RING_OFF_SPACE_SEQ 260
#define SY_RING_OFF_PRODUCER_PID 264
#define SY_RING_OFF_SPACE_BELLS 268     /* producers parked on an eventfd doorbell (count) */
#define SY_RING_OFF_SPACE_BELL_PID 272  /* single-producer mode: that producer's eventfd ... */
#define SY_RING_OFF_SPACE_BELL_FD 276   /* ... (pid, fd); multi-producer: in the slot */
#define SY_RING_OFF_ARENA_LEN 320
#define SY_RING_OFF_ARENA_NAME 324
#define SY_RING_ARENA_NAME_MAX 124
#define SY_RING_OFF_SLOTS 512
/* producer slot (multi-producer mode): pid u32, bell_fd u32, start u64, end u64,
 * bell_waiting u32, unused u32 */
#define SY_RING_SLOT_PID 0
#define SY_RING_SLOT_BELL_FD 4
#define SY_RING_SLOT_START 8
#define SY_RING_SLOT_END 16
#define SY_RING_SLOT_BELL_WAITING 24

/* ring flags (header word at SY_RING_OFF_FLAGS) */
#define SY_RING_MULTI_PRODUCER 1u
#define SY_RING_HAS_ARENA 2u
/* record flags (bits 32..39 of the 8-byte record header; bits 0..31 are the payload length) */
#define SY_REC_COMMITTED 1u
#define SY_REC_PAD 2u
#define SY_REC_ARENA 4u
/* consumer waiting word */
#define SY_WAIT_FUTEX 1u
#define SY_WAIT_DOORBELL 2u

/* return codes */
#define SY_RING_EMPTY 0
#define SY_RING_READY 1
#define SY_RING_PENDING 2
#define SY_RING_FULL 0
#define SY_RING_PUSHED 1
#define SY_RING_NO_SLOT (-1)
#define SY_RING_CLOSED (-2)   /* a wait interrupted by sy_ring_interrupt (the handle closes) */

/* attach errors */
#define SY_RING_E_SIZE (-1)
#define SY_RING_E_MAGIC (-2)
#define SY_RING_E_VERSION (-3)
#define SY_RING_E_GEOMETRY (-4)

#define SY_REC_SIZE(len) (SY_RING_REC_HDR + ((((uint64_t)(len)) + 7u) & ~(uint64_t)7u))
#define SY_REC_LEN(w) ((uint32_t)((w) & 0xFFFFFFFFu))
#define SY_REC_FLAGS(w) ((uint32_t)(((w) >> 32) & 0xFFu))
#define SY_REC_WORD(len, flags) (((uint64_t)(flags) << 32) | (uint64_t)(uint32_t)(len))

typedef struct sy_ring_stats {
    uint64_t pushed, pushed_bytes, popped, popped_bytes;
    uint64_t full_events, empty_events, skipped, wakeups;
} sy_ring_stats;

typedef struct sy_ring {
    uint8_t *base;          /* segment start */
    uint8_t *data;          /* base + data_offset */
    uint64_t cap, mask, inline_limit, data_offset, segment_size;
    uint32_t flags, nslots, pid;
    int32_t slot;           /* claimed producer slot (multi-producer), -1 none */
    uint64_t tail_local;    /* producer (SPSC): next write position, published at publish */
    uint64_t head_cache;    /* producer: last head seen */
    uint64_t head_local;    /* consumer: next read position, published at consumer_publish */
    uint64_t tail_cache;    /* consumer: last tail seen */
    uint64_t pending_pos;   /* consumer: position of an uncommitted record seen at head */
    uint32_t pending_polls;
    uint32_t producer_registered;
    uint32_t consumer_registered;
    uint32_t bell_pid;      /* producer: doorbell we opened (pid, fd) -> bell_fd_local */
    int32_t bell_fd;
    int32_t bell_fd_local;
    int64_t spin_budget;    /* consumer: adaptive spin (ns), -1 until the first wait */
    sy_ring_stats st;
    uint32_t closing;       /* set (atomically) by sy_ring_interrupt: waits return SY_RING_CLOSED */
    uint32_t sbell_pid;     /* consumer: the single producer's doorbell we opened (pid, fd) */
    int32_t sbell_fd;
    int32_t sbell_fd_local;
} sy_ring;

/* ---- atomics -------------------------------------------------------------------------- */
#define SY_U64(r, off) ((uint64_t *)((r)->base + (off)))
#define SY_U32(r, off) ((uint32_t *)((r)->base + (off)))
static inline uint64_t sy_ld64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline uint32_t sy_ld32(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void sy_st64(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline void sy_st32(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline void sy_fence(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
/* Deliberately NOT the x86 PAUSE instruction: on these VMs pause-loop exiting hands the vCPU
 * back to the hypervisor after a few thousand PAUSEs, and a 50 us spin then costs ~100 us of
 * round trip (measured: symphony bench ring). A compiler barrier keeps the loads honest. */
static inline void sy_cpu_relax(void) { __asm__ __volatile__("" ::: "memory"); }
static inline int64_t sy_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
/* Shared (not PRIVATE) futex: the word lives in a mapping shared between processes. */
static inline int sy_futex_wait(uint32_t *addr, uint32_t val, int64_t timeout_ns) {
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000LL);
        ts.tv_nsec = (long)(timeout_ns % 1000000000LL);
        tsp = &ts;
    }
    return (int)syscall(SYS_futex, addr, FUTEX_WAIT, val, tsp, NULL, 0);
}
static inline int sy_futex_wake(uint32_t *addr) {
    return (int)syscall(SYS_futex, addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* A pid is alive if kill(pid, 0) finds it and /proc does not report a zombie. */
static inline int sy_pid_alive(uint32_t pid) {
    char path[64], buf[256];
    if (pid == 0) return 0;
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) return 0;
    snprintf(path, sizeof path, "/proc/%u/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 1; /* no /proc: trust kill() */
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    char *rp = strrchr(buf, ')');
    if (rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X')) return 0;
    return 1;
}

/* ---- create / attach ------------------------------------------------------------------ */
static inline uint64_t sy_ring_data_offset(uint32_t nslots) {
    uint64_t end = SY_RING_OFF_SLOTS + (uint64_t)nslots * SY_RING_SLOT_SIZE;
    return (end + 63u) & ~(uint64_t)63u;
}
static inline uint64_t sy_ring_segment_size(uint64_t cap, uint32_t nslots) {
    return sy_ring_data_offset(nslots) + cap;
}

/* Initialise a zero-filled segment of sy_ring_segment_size(cap, nslots) bytes. */
static inline void sy_ring_format(uint8_t *base, uint64_t cap, uint32_t flags, uint32_t nslots,
                                  uint64_t inline_limit, uint32_t creator_pid,
                                  const char *arena_name, uint32_t arena_len) {
    memcpy(base + SY_RING_OFF_VERSION, &(uint32_t){SY_RING_VERSION}, 4);
    memcpy(base + SY_RING_OFF_FLAGS, &flags, 4);
    memcpy(base + SY_RING_OFF_CAPACITY, &cap, 8);
    uint64_t off = sy_ring_data_offset(nslots), seg = off + cap;
    memcpy(base + SY_RING_OFF_DATA, &off, 8);
    memcpy(base + SY_RING_OFF_SEGSIZE, &seg, 8);
    memcpy(base + SY_RING_OFF_INLINE, &inline_limit, 8);
    memcpy(base + SY_RING_OFF_CREATOR, &creator_pid, 4);
    memcpy(base + SY_RING_OFF_NSLOTS, &nslots, 4);
    if (arena_len > SY_RING_ARENA_NAME_MAX) arena_len = SY_RING_ARENA_NAME_MAX;
    memcpy(base + SY_RING_OFF_ARENA_LEN, &arena_len, 4);
    if (arena_len) memcpy(base + SY_RING_OFF_ARENA_NAME, arena_name, arena_len);
    /* the magic goes last, released: an attacher that sees it sees the rest */
    __atomic_store_n((uint64_t *)(base + SY_RING_OFF_MAGIC), SY_RING_MAGIC, __ATOMIC_RELEASE);
}

/* Validate a mapped segment of `size` bytes; 0 or a SY_RING_E_* code. */
static inline int sy_ring_check(const uint8_t *base, uint64_t size) {
    uint64_t magic, cap, off, seg, inl;
    uint32_t version, nslots;
    if (size < SY_RING_HEADER_SIZE) return SY_RING_E_SIZE;
    magic = __atomic_load_n((const uint64_t *)(base + SY_RING_OFF_MAGIC), __ATOMIC_ACQUIRE);
    if (magic != SY_RING_MAGIC) return SY_RING_E_MAGIC;
    memcpy(&version, base + SY_RING_OFF_VERSION, 4);
    if (version != SY_RING_VERSION) return SY_RING_E_VERSION;
    memcpy(&cap, base + SY_RING_OFF_CAPACITY, 8);
    memcpy(&off, base + SY_RING_OFF_DATA, 8);
    memcpy(&seg, base + SY_RING_OFF_SEGSIZE, 8);
    memcpy(&nslots, base + SY_RING_OFF_NSLOTS, 4);
    memcpy(&inl, base + SY_RING_OFF_INLINE, 8);
    if (cap < SY_RING_MIN_CAPACITY || inl > cap - SY_RING_REC_HDR || inl > SY_RING_MAX_INLINE || cap > SY_RING_MAX_CAPACITY || (cap & (cap - 1)) != 0 ||
        nslots > SY_RING_MAX_SLOTS || off != sy_ring_data_offset(nslots) || seg != off + cap ||
        seg != size)
        return SY_RING_E_GEOMETRY;
    return 0;
}

/* Fill a handle over a checked segment (call sy_ring_check first). */
static inline void sy_ring_open(sy_ring *r, uint8_t *base, uint32_t pid) {
    memset(r, 0, sizeof *r);
    r->base = base;
    memcpy(&r->cap, base + SY_RING_OFF_CAPACITY, 8);
    memcpy(&r->data_offset, base + SY_RING_OFF_DATA, 8);
    memcpy(&r->segment_size, base + SY_RING_OFF_SEGSIZE, 8);
    memcpy(&r->inline_limit, base + SY_RING_OFF_INLINE, 8);
    memcpy(&r->flags, base + SY_RING_OFF_FLAGS, 4);
    memcpy(&r->nslots, base + SY_RING_OFF_NSLOTS, 4);
    r->data = base + r->data_offset;
    r->mask = r->cap - 1;
    r->pid = pid;
    r->slot = -1;
    r->bell_fd = -1;
    r->bell_fd_local = -1;
    r->spin_budget = -1;
    r->sbell_fd = -1;
    r->sbell_fd_local = -1;
    r->tail_local = sy_ld64(SY_U64(r, SY_RING_OFF_TAIL));
    r->head_cache = sy_ld64(SY_U64(r, SY_RING_OFF_HEAD));
    r->head_local = r->head_cache;
    r->tail_cache = r->tail_local;
}

/* Close the handle's private fds and forget the mapping. Only once no thread is inside a
 * call on this handle (sy_ring_interrupt first wakes the ones sleeping in a wait). */
static inline void sy_ring_release_handle(sy_ring *r) {
    if (r->bell_fd_local >= 0) close(r->bell_fd_local);
    r->bell_fd_local = -1;
    if (r->sbell_fd_local >= 0) close(r->sbell_fd_local);
    r->sbell_fd_local = -1;
    r->base = NULL;
}

static inline int sy_ring_closing(const sy_ring *r) {
    return (int)__atomic_load_n(&r->closing, __ATOMIC_ACQUIRE);
}

/* The handle is closing: make every sy_ring_wait_readable / sy_ring_wait_writable on it
 * (other threads, GIL released) return SY_RING_CLOSED promptly. Bumps both futex words and
 * wakes them (a sleeper of another process wakes spuriously and sleeps again). The caller
 * must keep the segment mapped until those threads have left (symphony.ring: a busy count;
 * the last one out unmaps). */
static inline void sy_ring_interrupt(sy_ring *r) {
    __atomic_store_n(&r->closing, 1u, __ATOMIC_SEQ_CST);
    if (r->base == NULL) return;
    __atomic_fetch_add(SY_U32(r, SY_RING_OFF_DATA_SEQ), 1u, __ATOMIC_SEQ_CST);
    sy_futex_wake(SY_U32(r, SY_RING_OFF_DATA_SEQ));
    __atomic_fetch_add(SY_U32(r, SY_RING_OFF_SPACE_SEQ), 1u, __ATOMIC_SEQ_CST);
    sy_futex_wake(SY_U32(r, SY_RING_OFF_SPACE_SEQ));
}

/* ---- waking the consumer ---------------------------------------------------------------- */
static inline int sy_ring_open_doorbell(sy_ring *r, uint32_t pid, int32_t fd) {
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_getfd)
    int pfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (pfd < 0) return -1;
    int got = (int)syscall(SYS_pidfd_getfd, pfd, fd, 0);
    close(pfd);
    if (r->bell_fd_local >= 0) close(r->bell_fd_local);
    r->bell_fd_local = got;
    r->bell_pid = pid;
    r->bell_fd = fd;
    return got;
#else
    (void)r; (void)pid; (void)fd;
    return -1;
#endif
}

static inline void sy_ring_wake_consumer(sy_ring *r, uint32_t waiting) {
    uint32_t *seq = SY_U32(r, SY_RING_OFF_DATA_SEQ);
    __atomic_fetch_add(seq, 1u, __ATOMIC_SEQ_CST);
    r->st.wakeups++;
    if (waiting & SY_WAIT_FUTEX) sy_futex_wake(seq);
    if (waiting & SY_WAIT_DOORBELL) {
        uint32_t pid = sy_ld32(SY_U32(r, SY_RING_OFF_BELL_PID));
        int32_t fd = (int32_t)sy_ld32(SY_U32(r, SY_RING_OFF_BELL_FD));
        if (pid != 0 && (pid != r->bell_pid || fd != r->bell_fd || r->bell_fd_local < 0))
            sy_ring_open_doorbell(r, pid, fd);
        if (r->bell_fd_local >= 0) {
            uint64_t one = 1;
            if (write(r->bell_fd_local, &one, 8) < 0) { /* counter saturated: already rung */ }
        }
    }
}

/* After a seq_cst publish (an exchange, which is also a full barrier on x86): Dekker with the
 * consumer, which stores `waiting` (seq_cst) and then re-reads the tail. */
static inline void sy_ring_check_waiting_after_publish(sy_ring *r) {
    uint32_t w = __atomic_load_n(SY_U32(r, SY_RING_OFF_WAITING), __ATOMIC_SEQ_CST);
    if (w) sy_ring_wake_consumer(r, w);
}
static inline void sy_ring_check_consumer_waiting(sy_ring *r) {
    sy_fence(); /* order our publish before reading the waiting word (Dekker) */
    sy_ring_check_waiting_after_publish(r);
}

/* ---- producer --------------------------------------------------------------------------- */
static inline uint8_t *sy_slot(sy_ring *r, uint32_t i) {
    return r->base + SY_RING_OFF_SLOTS + (uint64_t)i * SY_RING_SLOT_SIZE;
}

/* Multi-producer: claim a free slot, or one of a dead pid whose intent is cleared or consumed. */
static inline int sy_ring_claim_slot(sy_ring *r) {
    uint64_t head = sy_ld64(SY_U64(r, SY_RING_OFF_HEAD));
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < r->nslots; i++) {
            uint8_t *s = sy_slot(r, i);
            uint32_t *pidp = (uint32_t *)(s + SY_RING_SLOT_PID);
            uint32_t cur = sy_ld32(pidp);
            if (pass == 0 && cur != 0) continue;
            if (pass == 1) {
                uint64_t st = sy_ld64((uint64_t *)(s + SY_RING_SLOT_START));
                uint64_t en = sy_ld64((uint64_t *)(s + SY_RING_SLOT_END));
                if (cur == 0 || cur == r->pid || sy_pid_alive(cur)) continue;
                if (!(st == en || en <= head)) continue;
            }
            if (__atomic_compare_exchange_n(pidp, &cur, r->pid, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                sy_st64((uint64_t *)(s + SY_RING_SLOT_START), 0);
                sy_st64((uint64_t *)(s + SY_RING_SLOT_END), 0);
                r->slot = (int32_t)i;
                return (int)i;
            }
        }
    }
    return SY_RING_NO_SLOT;
}

static inline int sy__has_space(sy_ring *r, uint64_t t, uint64_t need) {
    if (t + need - r->head_cache <= r->cap) return 1;
    r->head_cache = sy_ld64(SY_U64(r, SY_RING_OFF_HEAD));
    return t + need - r->head_cache <= r->cap;
}

/* Re-read the cursors this handle owns (another handle of the same role may have moved
 * them); cheap: the line is ours. Call at the start of each push / pop operation. */
static inline void sy_ring_producer_sync(sy_ring *r) {
    r->tail_local = __atomic_load_n(SY_U64(r, SY_RING_OFF_TAIL), __ATOMIC_RELAXED);
}
static inline void sy_ring_consumer_sync(sy_ring *r) {
    r->head_local = __atomic_load_n(SY_U64(r, SY_RING_OFF_HEAD), __ATOMIC_RELAXED);
}

/* SPSC: make tail_local visible and wake a sleeping consumer. */
static inline void sy_ring_publish(sy_ring *r) {
    uint64_t *tail = SY_U64(r, SY_RING_OFF_TAIL);
    if (__atomic_load_n(tail, __ATOMIC_RELAXED) == r->tail_local) return;
    __atomic_exchange_n(tail, r->tail_local, __ATOMIC_SEQ_CST);
    sy_ring_check_waiting_after_publish(r);
}

static inline void sy__register_producer(sy_ring *r) {
    sy_st32(SY_U32(r, SY_RING_OFF_PRODUCER_PID), r->pid);
    r->producer_registered = 1;
}

/* SPSC: write one record (pad first if it would cross the end); does not publish.
 * The caller guarantees SY_REC_SIZE(len) <= cap. */
static inline int sy_ring_write_spsc(sy_ring *r, const void *p, uint32_t len, uint32_t rflags) {
    uint64_t rec = SY_REC_SIZE(len), t = r->tail_local, off = t & r->mask;
    if (!r->producer_registered) sy__register_producer(r);
    if (off + rec > r->cap) {
        uint64_t pad = r->cap - off;
        if (!sy__has_space(r, t, pad)) return SY_RING_FULL;
        sy_st64((uint64_t *)(r->data + off), SY_REC_WORD(pad - SY_RING_REC_HDR, SY_REC_COMMITTED | SY_REC_PAD));
        t += pad;
        r->tail_local = t;
        off = 0;
    }
    if (!sy__has_space(r, t, rec)) return SY_RING_FULL;
    if (len) memcpy(r->data + off + SY_RING_REC_HDR, p, len);
    sy_st64((uint64_t *)(r->data + off), SY_REC_WORD(len, SY_REC_COMMITTED | rflags));
    r->tail_local = t + rec;
    return SY_RING_PUSHED;
}

/* Multi-producer: reserve by CAS on the tail, write, commit. Publishes and wakes. */
static inline int sy_ring_write_mpsc(sy_ring *r, const void *p, uint32_t len, uint32_t rflags) {
    uint64_t rec = SY_REC_SIZE(len);
    uint64_t *tail = SY_U64(r, SY_RING_OFF_TAIL);
    if (r->slot < 0 && sy_ring_claim_slot(r) < 0) return SY_RING_NO_SLOT;
    uint8_t *s = sy_slot(r, (uint32_t)r->slot);
    uint64_t *istart = (uint64_t *)(s + SY_RING_SLOT_START), *iend = (uint64_t *)(s + SY_RING_SLOT_END);
    uint64_t t = sy_ld64(tail);
    for (;;) {
        uint64_t off = t & r->mask, need = rec;
        int pad = off + rec > r->cap;
        if (pad) need = r->cap - off;
        if (!sy__has_space(r, t, need)) return SY_RING_FULL;
        sy_st64(istart, t); /* intent: visible before the reservation (CAS is a full barrier) */
        sy_st64(iend, t + need);
        if (!__atomic_compare_exchange_n(tail, &t, t + need, 0, __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE))
            continue; /* t now holds the current tail */
        uint64_t *hdr = (uint64_t *)(r->data + off);
        if (pad) {
            sy_st64(hdr, SY_REC_WORD(need - SY_RING_REC_HDR, SY_REC_COMMITTED | SY_REC_PAD));
            sy_st64(istart, 0);
            sy_st64(iend, 0);
            sy_ring_check_consumer_waiting(r);
            t += need;
            continue;
        }
        if (len) memcpy(r->data + off + SY_RING_REC_HDR, p, len);
        __atomic_exchange_n(hdr, SY_REC_WORD(len, SY_REC_COMMITTED | rflags), __ATOMIC_SEQ_CST);
        sy_st64(istart, 0);
        sy_st64(iend, 0);
        sy_ring_check_waiting_after_publish(r);
        return SY_RING_PUSHED;
    }
}

/* Push one record and make it visible. SY_RING_PUSHED, SY_RING_FULL or SY_RING_NO_SLOT. */
static inline int sy_ring_push(sy_ring *r, const void *p, uint32_t len, uint32_t rflags) {
    int rc;
    if (r->flags & SY_RING_MULTI_PRODUCER) {
        rc = sy_ring_write_mpsc(r, p, len, rflags);
    } else {
        sy_ring_producer_sync(r);
        rc = sy_ring_write_spsc(r, p, len, rflags);
        sy_ring_publish(r);
    }
    if (rc == SY_RING_PUSHED) {
        r->st.pushed++;
        r->st.pushed_bytes += len;
    } else if (rc == SY_RING_FULL) {
        r->st.full_events++;
    }
    return rc;
}

/* ---- consumer --------------------------------------------------------------------------- */
/* Duplicate eventfd `fd` of process `pid` into this process (pidfd_getfd); -1 if refused. */
static inline int sy_dup_remote_fd(uint32_t pid, int32_t fd) {
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_getfd)
    int pfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (pfd < 0) return -1;
    int got = (int)syscall(SYS_pidfd_getfd, pfd, fd, 0);
    close(pfd);
    return got;
#else
    (void)pid; (void)fd;
    return -1;
#endif
}

static inline void sy_write_bell(int fd) {
    uint64_t one = 1;
    if (write(fd, &one, 8) < 0) { /* counter saturated: already rung */ }
}

/* Consumer: ring the doorbells of producers parked in an async writable wait
 * (space_bells > 0). Single-producer mode: the (pid, fd) in the header, duplicated once and
 * cached. Multi-producer mode: every slot with bell_waiting set (duplicated per ring: this
 * is the blocked-producer path, not the fast path). */
static inline void sy_ring_ring_space_bells(sy_ring *r) {
    if (r->flags & SY_RING_MULTI_PRODUCER) {
        for (uint32_t i = 0; i < r->nslots; i++) {
            uint8_t *s = r->base + SY_RING_OFF_SLOTS + (uint64_t)i * SY_RING_SLOT_SIZE;
            if (!sy_ld32((uint32_t *)(s + SY_RING_SLOT_BELL_WAITING))) continue;
            uint32_t pid = sy_ld32((uint32_t *)(s + SY_RING_SLOT_PID));
            int32_t fd = (int32_t)sy_ld32((uint32_t *)(s + SY_RING_SLOT_BELL_FD));
            if (pid == 0) continue;
            int got = sy_dup_remote_fd(pid, fd);
            if (got >= 0) { sy_write_bell(got); close(got); }
        }
        return;
    }
    uint32_t pid = sy_ld32(SY_U32(r, SY_RING_OFF_SPACE_BELL_PID));
    int32_t fd = (int32_t)sy_ld32(SY_U32(r, SY_RING_OFF_SPACE_BELL_FD));
    if (pid == 0) return;
    if (pid != r->sbell_pid || fd != r->sbell_fd || r->sbell_fd_local < 0) {
        if (r->sbell_fd_local >= 0) close(r->sbell_fd_local);
        r->sbell_fd_local = sy_dup_remote_fd(pid, fd);
        r->sbell_pid = pid;
        r->sbell_fd = fd;
    }
    if (r->sbell_fd_local >= 0) sy_write_bell(r->sbell_fd_local);
}

static inline void sy_ring_consumer_publish(sy_ring *r) {
    uint64_t *head = SY_U64(r, SY_RING_OFF_HEAD);
    if (__atomic_load_n(head, __ATOMIC_RELAXED) == r->head_local) return;
    __atomic_exchange_n(head, r->head_local, __ATOMIC_SEQ_CST); /* full barrier (Dekker) */
    if (__atomic_load_n(SY_U32(r, SY_RING_OFF_SPACE_WAITERS), __ATOMIC_SEQ_CST)) {
        uint32_t *seq = SY_U32(r, SY_RING_OFF_SPACE_SEQ);
        __atomic_fetch_add(seq, 1u, __ATOMIC_SEQ_CST);
        sy_futex_wake(seq);
        if (__atomic_load_n(SY_U32(r, SY_RING_OFF_SPACE_BELLS), __ATOMIC_SEQ_CST))
            sy_ring_ring_space_bells(r);
    }
}

/* Step over `rec` bytes at head_local (zeroing them in multi-producer mode, where a
 * reservation must find zeros); not yet published. */
static inline void sy_ring_skip(sy_ring *r, uint64_t rec) {
    if (r->flags & SY_RING_MULTI_PRODUCER) memset(r->data + (r->head_local & r->mask), 0, rec);
    r->head_local += rec;
}

/* Look at the record at head_local, consuming padding on the way.
 * SY_RING_READY (*word and *payload set), SY_RING_EMPTY, or SY_RING_PENDING (reserved but
 * not yet committed). Nothing is released until sy_ring_advance + sy_ring_consumer_publish. */
static inline int sy_ring_peek(sy_ring *r, uint64_t *word, const uint8_t **payload) {
    if (!r->consumer_registered) {
        sy_st32(SY_U32(r, SY_RING_OFF_CONSUMER_PID), r->pid);
        r->consumer_registered = 1;
    }
    for (;;) {
        uint64_t h = r->head_local;
        if ((int64_t)(r->tail_cache - h) <= 0) {
            r->tail_cache = sy_ld64(SY_U64(r, SY_RING_OFF_TAIL));
            if ((int64_t)(r->tail_cache - h) <= 0) return SY_RING_EMPTY;
        }
        uint64_t off = h & r->mask;
        uint64_t w = sy_ld64((uint64_t *)(r->data + off));
        uint32_t f = SY_REC_FLAGS(w);
        if (!(f & SY_REC_COMMITTED)) return SY_RING_PENDING;
        if (f & SY_REC_PAD) {
            sy_ring_skip(r, SY_RING_REC_HDR + SY_REC_LEN(w));
            continue;
        }
        *word = w;
        *payload = r->data + off + SY_RING_REC_HDR;
        return SY_RING_READY;
    }
}

static inline void sy_ring_advance(sy_ring *r, uint64_t word) {
    r->st.popped++;
    r->st.popped_bytes += SY_REC_LEN(word);
    sy_ring_skip(r, SY_REC_SIZE(SY_REC_LEN(word)));
}

/* Multi-producer: if the uncommitted record at head belongs to a dead producer (and no live
 * producer claims that position), skip it. Returns the number of records skipped (0/1). */
static inline int sy_ring_recover(sy_ring *r) {
    if (!(r->flags & SY_RING_MULTI_PRODUCER)) return 0;
    uint64_t h = r->head_local, end = 0;
    int dead_claim = -1;
    if (h == sy_ld64(SY_U64(r, SY_RING_OFF_TAIL))) return 0;
    uint64_t w = sy_ld64((uint64_t *)(r->data + (h & r->mask)));
    if (SY_REC_FLAGS(w) & SY_REC_COMMITTED) return 0;
    for (uint32_t i = 0; i < r->nslots; i++) {
        uint8_t *s = sy_slot(r, i);
        uint32_t pid = sy_ld32((uint32_t *)(s + SY_RING_SLOT_PID));
        uint64_t st = sy_ld64((uint64_t *)(s + SY_RING_SLOT_START));
        uint64_t en = sy_ld64((uint64_t *)(s + SY_RING_SLOT_END));
        if (pid == 0 || st != h || en <= st) continue;
        if (sy_pid_alive(pid)) return 0; /* a live producer owns it: it will commit */
        if (dead_claim < 0) { dead_claim = (int)i; end = en; }
    }
    if (dead_claim < 0) return 0;
    uint8_t *s = sy_slot(r, (uint32_t)dead_claim);
    sy_ring_skip(r, end - h);
    sy_st64((uint64_t *)(s + SY_RING_SLOT_START), 0);
    sy_st64((uint64_t *)(s + SY_RING_SLOT_END), 0);
    r->st.skipped++;
    r->pending_polls = 0;
    sy_ring_consumer_publish(r);
    return 1;
}

/* Called by pop paths on SY_RING_PENDING: after `limit` polls of the same position, check
 * for a dead writer. Returns 1 if a record was skipped. */
static inline int sy_ring_note_pending(sy_ring *r, uint32_t limit) {
    if (r->pending_pos != r->head_local + 1) {
        r->pending_pos = r->head_local + 1;
        r->pending_polls = 0;
    }
    if (++r->pending_polls < limit) return 0;
    r->pending_polls = 0;
    return sy_ring_recover(r);
}

/* ---- waiting ---------------------------------------------------------------------------- */
static inline int sy_ring_nonempty(sy_ring *r) {
    return sy_ld64(SY_U64(r, SY_RING_OFF_TAIL)) != r->head_local;
}

/* Consumer: wait until the ring is non-empty. Spin, then sleep on the futex.
 * timeout_ns < 0 waits forever. 1 when non-empty, 0 on timeout, SY_RING_CLOSED when
 * sy_ring_interrupt ran (another thread closes the handle). No GIL needed.
 * The spin adapts (like glibc's adaptive mutexes): up to spin_ns, doubled after a wait that
 * the spin satisfied, halved (down to SY_RING_MIN_SPIN_NS) after one that had to sleep. On an
 * oversubscribed machine the peer often needs our CPU, so spinning only delays it. */
static inline int sy_ring_wait_readable(sy_ring *r, int64_t timeout_ns, int64_t spin_ns) {
    if (sy_ring_nonempty(r)) return 1;
    if (r->spin_budget < 0 || r->spin_budget > spin_ns) r->spin_budget = spin_ns;
    int64_t budget = r->spin_budget;
    int64_t start = sy_now_ns(), now = start;
    int64_t deadline = timeout_ns < 0 ? INT64_MAX : start + timeout_ns;
    int64_t spin_end = start + (budget < timeout_ns || timeout_ns < 0 ? budget : timeout_ns);
    int64_t next_yield = start + SY_RING_YIELD_NS;
    int yielded = 0;
    while (now < spin_end) {
        if (sy_ring_closing(r)) return SY_RING_CLOSED;
        for (int i = 0; i < 32; i++) {
            if (sy_ring_nonempty(r)) {
                if (yielded) { /* the peer needed our CPU: spinning did not help */
                    r->spin_budget = budget / 2 > SY_RING_MIN_SPIN_NS ? budget / 2 : SY_RING_MIN_SPIN_NS;
                } else {
                    int64_t grown = budget * 2 > SY_RING_MIN_SPIN_NS ? budget * 2 : SY_RING_MIN_SPIN_NS;
                    r->spin_budget = grown < spin_ns ? grown : spin_ns;
                }
                return 1;
            }
            sy_cpu_relax();
        }
        now = sy_now_ns();
        if (now >= next_yield) { /* a busy machine: let a peer on this CPU run */
            sched_yield();
            yielded = 1;
            next_yield = now + SY_RING_YIELD_NS;
        }
    }
    if (spin_ns > 0) r->spin_budget = budget / 2 > SY_RING_MIN_SPIN_NS ? budget / 2 : SY_RING_MIN_SPIN_NS;
    if (r->spin_budget > spin_ns) r->spin_budget = spin_ns;
    uint32_t *waiting = SY_U32(r, SY_RING_OFF_WAITING), *seq = SY_U32(r, SY_RING_OFF_DATA_SEQ);
    for (;;) {
        uint32_t s = sy_ld32(seq);
        if (sy_ring_closing(r)) return SY_RING_CLOSED; /* after the load: see sy_ring_interrupt */
        __atomic_store_n(waiting, SY_WAIT_FUTEX, __ATOMIC_SEQ_CST);
        if (sy_ring_nonempty(r)) { sy_st32(waiting, 0); return 1; }
        now = sy_now_ns();
        if (now >= deadline) { sy_st32(waiting, 0); return 0; }
        sy_futex_wait(seq, s, timeout_ns < 0 ? -1 : deadline - now);
        sy_st32(waiting, 0);
        if (sy_ring_nonempty(r)) return 1;
    }
}

/* Producer side: could a record of `need` bytes (plus padding to the lap end) fit now? */
static inline int sy_ring_fits(sy_ring *r, uint64_t need) {
    uint64_t t = (r->flags & SY_RING_MULTI_PRODUCER) ? sy_ld64(SY_U64(r, SY_RING_OFF_TAIL))
                                                     : r->tail_local;
    uint64_t off = t & r->mask, total = need;
    if (off + need > r->cap) total += r->cap - off;
    if (total > r->cap) total = r->cap;
    return t + total - sy_ld64(SY_U64(r, SY_RING_OFF_HEAD)) <= r->cap;
}

/* Producer (single-producer mode): would a push of `len` bytes have to re-read the head, and
 * then find less than an eighth of the ring free? push_wait then waits (hysteresis) instead of
 * pushing into the last few bytes: re-reading the head on every push while the consumer is
 * behind bounces the head's cache line on every pop and slows the consumer down. */
static inline int sy_ring_nearly_full(sy_ring *r, uint32_t len) {
    if (r->flags & SY_RING_MULTI_PRODUCER) return 0;
    sy_ring_producer_sync(r);
    uint64_t rec = SY_REC_SIZE(len), t = r->tail_local, off = t & r->mask;
    uint64_t need = rec + (off + rec > r->cap ? r->cap - off : 0);
    if (t + need - r->head_cache <= r->cap) return 0;
    r->head_cache = sy_ld64(SY_U64(r, SY_RING_OFF_HEAD));
    uint64_t want = need + r->cap / 8 <= r->cap ? need + r->cap / 8 : need;
    return t + want - r->head_cache > r->cap;
}

/* Producer: wait until `need` bytes (a record size) could fit; spin, then futex.
 * 1 fits, 0 timeout, SY_RING_CLOSED after sy_ring_interrupt.
 * Hysteresis: once the ring was full, wait for an eighth of it to drain (or `need`, if
 * larger), polling the head about once a microsecond. Polling it in a tight loop would bounce
 * the head's cache line on every pop and slow the consumer that we are waiting for. */
static inline int sy_ring_wait_writable(sy_ring *r, uint64_t need, int64_t timeout_ns, int64_t spin_ns) {
    uint64_t want = need + r->cap / 8 <= r->cap ? need + r->cap / 8 : need;
    if (sy_ring_fits(r, want)) return 1;
    int64_t start = sy_now_ns(), now = start;
    int64_t deadline = timeout_ns < 0 ? INT64_MAX : start + timeout_ns;
    int64_t spin_end = start + (spin_ns < timeout_ns || timeout_ns < 0 ? spin_ns : timeout_ns);
    while (now < spin_end) {
        if (sy_ring_closing(r)) return SY_RING_CLOSED;
        if (sy_ring_fits(r, want)) return 1;
        int64_t next = now + 1000;
        while ((now = sy_now_ns()) < next) sy_cpu_relax();
    }
    if (sy_ring_fits(r, need)) return 1;
    uint32_t *waiters = SY_U32(r, SY_RING_OFF_SPACE_WAITERS), *seq = SY_U32(r, SY_RING_OFF_SPACE_SEQ);
    for (;;) {
        uint32_t s = sy_ld32(seq);
        if (sy_ring_closing(r)) return SY_RING_CLOSED; /* after the load: see sy_ring_interrupt */
        __atomic_fetch_add(waiters, 1u, __ATOMIC_SEQ_CST);
        int fits = sy_ring_fits(r, need);
        now = sy_now_ns();
        if (fits || now >= deadline) {
            __atomic_fetch_sub(waiters, 1u, __ATOMIC_SEQ_CST);
            return fits;
        }
        sy_futex_wait(seq, s, timeout_ns < 0 ? -1 : deadline - now);
        __atomic_fetch_sub(waiters, 1u, __ATOMIC_SEQ_CST);
        if (sy_ring_fits(r, need)) return 1;
    }
}

/* ---- async producer doorbell (trio: symphony.ring.Ring.wait_writable_async) ------------ */
/* Advertise this producer's eventfd `fd` for the consumer to ring. Single-producer mode: the
 * header's (space_bell_pid, space_bell_fd); multi-producer: the producer's slot (claimed here
 * if needed). 0, or SY_RING_NO_SLOT. */
static inline int sy_ring_space_bell_register(sy_ring *r, int32_t fd) {
    if (r->flags & SY_RING_MULTI_PRODUCER) {
        if (r->slot < 0 && sy_ring_claim_slot(r) < 0) return SY_RING_NO_SLOT;
        sy_st32((uint32_t *)(sy_slot(r, (uint32_t)r->slot) + SY_RING_SLOT_BELL_FD), (uint32_t)fd);
        return 0;
    }
    sy_st32(SY_U32(r, SY_RING_OFF_SPACE_BELL_FD), (uint32_t)fd);
    sy_st32(SY_U32(r, SY_RING_OFF_SPACE_BELL_PID), r->pid);
    return 0;
}
/* Declare "asleep on my doorbell" (then re-check sy_ring_fits before parking: Dekker with
 * sy_ring_consumer_publish, which stores head and then loads space_waiters / space_bells). */
static inline void sy_ring_space_bell_arm(sy_ring *r) {
    if (r->flags & SY_RING_MULTI_PRODUCER)
        sy_st32((uint32_t *)(sy_slot(r, (uint32_t)r->slot) + SY_RING_SLOT_BELL_WAITING), 1u);
    __atomic_fetch_add(SY_U32(r, SY_RING_OFF_SPACE_BELLS), 1u, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(SY_U32(r, SY_RING_OFF_SPACE_WAITERS), 1u, __ATOMIC_SEQ_CST);
}
static inline void sy_ring_space_bell_disarm(sy_ring *r) {
    __atomic_fetch_sub(SY_U32(r, SY_RING_OFF_SPACE_WAITERS), 1u, __ATOMIC_SEQ_CST);
    __atomic_fetch_sub(SY_U32(r, SY_RING_OFF_SPACE_BELLS), 1u, __ATOMIC_SEQ_CST);
    if (r->flags & SY_RING_MULTI_PRODUCER)
        sy_st32((uint32_t *)(sy_slot(r, (uint32_t)r->slot) + SY_RING_SLOT_BELL_WAITING), 0u);
}
/* Could a record of `need` bytes fit now (re-reading this handle's cursor first)? */
static inline int sy_ring_fits_now(sy_ring *r, uint64_t need) {
    if (!(r->flags & SY_RING_MULTI_PRODUCER)) sy_ring_producer_sync(r);
    return sy_ring_fits(r, need);
}

/* ---- attaching from C (issue 11) -------------------------------------------------------- */
/* Map the POSIX shm segment `name` ("/x" or "x"); fills r. 0, SY_RING_E_* or -errno. */
static inline int sy_ring_attach_shm(sy_ring *r, const char *name) {
    char path[256];
    snprintf(path, sizeof path, "%s%s", name[0] == '/' ? "" : "/", name);
    int fd = shm_open(path, O_RDWR, 0);
    if (fd < 0) return -errno;
    struct stat stt;
    if (fstat(fd, &stt) != 0) { int e = -errno; close(fd); return e; }
    if ((uint64_t)stt.st_size < SY_RING_HEADER_SIZE) { close(fd); return SY_RING_E_SIZE; }
    void *m = mmap(NULL, (size_t)stt.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return -errno;
    int rc = sy_ring_check((uint8_t *)m, (uint64_t)stt.st_size);
    if (rc != 0) { munmap(m, (size_t)stt.st_size); return rc; }
    sy_ring_open(r, (uint8_t *)m, (uint32_t)getpid());
    return 0;
}
static inline void sy_ring_detach_shm(sy_ring *r) {
    uint8_t *b = r->base;
    uint64_t n = r->segment_size;
    sy_ring_release_handle(r);
    if (b) munmap(b, (size_t)n);
}
/* Pop one record into out (capacity outcap): length, -1 empty/pending, -2 too small,
 * -3 arena record (needs the allocator: use the Python/Cython API). */
static inline int64_t sy_ring_pop_copy(sy_ring *r, void *out, uint64_t outcap) {
    uint64_t w;
    const uint8_t *p;
    sy_ring_consumer_sync(r);
    int rc = sy_ring_peek(r, &w, &p);
    if (rc == SY_RING_PENDING) {
        sy_ring_consumer_publish(r);
        if (sy_ring_note_pending(r, SY_RING_PENDING_POLLS)) rc = sy_ring_peek(r, &w, &p);
    }
    if (rc != SY_RING_READY) {
        if (rc == SY_RING_EMPTY) r->st.empty_events++;
        sy_ring_consumer_publish(r);
        return -1;
    }
    if (SY_REC_FLAGS(w) & SY_REC_ARENA) { sy_ring_consumer_publish(r); return -3; }
    uint32_t n = SY_REC_LEN(w);
    if (n > outcap) { sy_ring_consumer_publish(r); return -2; }
    memcpy(out, p, n);
    sy_ring_advance(r, w);
    sy_ring_consumer_publish(r);
    return n;
}

#endif /* SYMPHONY_RING_H */
