/* symphony/sha256.h -- SHA-256 (FIPS 180-4), header-only C, no dependencies.
 *
 * On x86-64 CPUs with the SHA extensions (Intel Goldmont+/Ice Lake+, AMD Zen) the block
 * function uses the sha256rnds2/sha256msg1/sha256msg2 instructions (selected at run time by
 * CPUID); elsewhere a portable C implementation runs.  Both are checked against hashlib by
 * symphony's tests.  An incremental context (init/update/final) and a one-shot sy_sha256().
 * Reentrant, allocation-free; no global state except the cached CPU probe.  Define
 * SY_SHA256_NO_SHANI to build the portable code only.
 */
#ifndef SYMPHONY_SHA256_H
#define SYMPHONY_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SY_SHA256_DIGEST_SIZE 32
#define SY_SHA256_BLOCK_SIZE 64

typedef struct sy_sha256_ctx {
    uint32_t state[8];
    uint64_t nbytes;      /* total bytes fed */
    uint8_t buf[64];      /* partial block */
    size_t buflen;
} sy_sha256_ctx;

static const uint32_t SY_SHA256_K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* ------------------------------------------------------------------------ portable C */
#define SY_SHA256__ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static inline void sy_sha256_blocks_generic(uint32_t st[8], const uint8_t *p, size_t nblocks)
{
    while (nblocks--) {
        uint32_t w[64];
        for (int t = 0; t < 16; t++)
            w[t] = ((uint32_t)p[4 * t] << 24) | ((uint32_t)p[4 * t + 1] << 16) |
                   ((uint32_t)p[4 * t + 2] << 8) | (uint32_t)p[4 * t + 3];
        for (int t = 16; t < 64; t++) {
            uint32_t s0 = SY_SHA256__ROR(w[t - 15], 7) ^ SY_SHA256__ROR(w[t - 15], 18) ^ (w[t - 15] >> 3);
            uint32_t s1 = SY_SHA256__ROR(w[t - 2], 17) ^ SY_SHA256__ROR(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
        uint32_t e = st[4], f = st[5], g = st[6], h = st[7];
        for (int t = 0; t < 64; t++) {
            uint32_t S1 = SY_SHA256__ROR(e, 6) ^ SY_SHA256__ROR(e, 11) ^ SY_SHA256__ROR(e, 25);
            uint32_t ch = (e & f) ^ (~e & g);
            uint32_t t1 = h + S1 + ch + SY_SHA256_K[t] + w[t];
            uint32_t S0 = SY_SHA256__ROR(a, 2) ^ SY_SHA256__ROR(a, 13) ^ SY_SHA256__ROR(a, 22);
            uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
            uint32_t t2 = S0 + maj;
            h = g; g = f; f = e; e = d + t1;
            d = c; c = b; b = a; a = t1 + t2;
        }
        st[0] += a; st[1] += b; st[2] += c; st[3] += d;
        st[4] += e; st[5] += f; st[6] += g; st[7] += h;
        p += 64;
    }
}

/* ------------------------------------------------------------------------ x86 SHA-NI */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__) && !defined(SY_SHA256_NO_SHANI)
#define SY_SHA256_HAVE_SHANI 1
#include <cpuid.h>
#include <immintrin.h>

/* One group of four rounds: W (message quad, big-endian words) + K, two rnds2 steps. */
#define SY_SHA256__QROUND(MSG, J)                                                      \
    do {                                                                               \
        __m128i t_ = _mm_add_epi32((MSG), _mm_loadu_si128((const __m128i *)&SY_SHA256_K[4 * (J)])); \
        s1 = _mm_sha256rnds2_epu32(s1, s0, t_);                                        \
        t_ = _mm_shuffle_epi32(t_, 0x0E);                                              \
        s0 = _mm_sha256rnds2_epu32(s0, s1, t_);                                        \
    } while (0)

/* Next message quad from the previous four: W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16]. */
#define SY_SHA256__SCHED(M0, M1, M2, M3)                                               \
    _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32((M0), (M1)),               \
                                       _mm_alignr_epi8((M3), (M2), 4)), (M3))

__attribute__((target("sha,sse4.1,ssse3")))
static void sy_sha256_blocks_shani(uint32_t st[8], const uint8_t *p, size_t nblocks)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    /* The instructions want the state as ABEF / CDGH. */
    __m128i abcd = _mm_loadu_si128((const __m128i *)&st[0]);
    __m128i efgh = _mm_loadu_si128((const __m128i *)&st[4]);
    __m128i cdab = _mm_shuffle_epi32(abcd, 0xB1);
    __m128i hgfe = _mm_shuffle_epi32(efgh, 0x1B);
    __m128i s0 = _mm_alignr_epi8(cdab, hgfe, 8);    /* ABEF */
    __m128i s1 = _mm_blend_epi16(hgfe, cdab, 0xF0); /* CDGH */
    while (nblocks--) {
        __m128i save0 = s0, save1 = s1;
        __m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), bswap);
        __m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
        __m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
        __m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);
        SY_SHA256__QROUND(m0, 0);
        SY_SHA256__QROUND(m1, 1);
        SY_SHA256__QROUND(m2, 2);
        SY_SHA256__QROUND(m3, 3);
        m0 = SY_SHA256__SCHED(m0, m1, m2, m3); SY_SHA256__QROUND(m0, 4);
        m1 = SY_SHA256__SCHED(m1, m2, m3, m0); SY_SHA256__QROUND(m1, 5);
        m2 = SY_SHA256__SCHED(m2, m3, m0, m1); SY_SHA256__QROUND(m2, 6);
        m3 = SY_SHA256__SCHED(m3, m0, m1, m2); SY_SHA256__QROUND(m3, 7);
        m0 = SY_SHA256__SCHED(m0, m1, m2, m3); SY_SHA256__QROUND(m0, 8);
        m1 = SY_SHA256__SCHED(m1, m2, m3, m0); SY_SHA256__QROUND(m1, 9);
        m2 = SY_SHA256__SCHED(m2, m3, m0, m1); SY_SHA256__QROUND(m2, 10);
        m3 = SY_SHA256__SCHED(m3, m0, m1, m2); SY_SHA256__QROUND(m3, 11);
        m0 = SY_SHA256__SCHED(m0, m1, m2, m3); SY_SHA256__QROUND(m0, 12);
        m1 = SY_SHA256__SCHED(m1, m2, m3, m0); SY_SHA256__QROUND(m1, 13);
        m2 = SY_SHA256__SCHED(m2, m3, m0, m1); SY_SHA256__QROUND(m2, 14);
        m3 = SY_SHA256__SCHED(m3, m0, m1, m2); SY_SHA256__QROUND(m3, 15);
        s0 = _mm_add_epi32(s0, save0);
        s1 = _mm_add_epi32(s1, save1);
        p += 64;
    }
    /* Back from ABEF / CDGH to ABCD / EFGH. */
    __m128i feba = _mm_shuffle_epi32(s0, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(s1, 0xB1);
    _mm_storeu_si128((__m128i *)&st[0], _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)&st[4], _mm_alignr_epi8(dchg, feba, 8));
}

/* Two independent messages at once, block by block: SHA-NI's round instruction has a latency
 * about twice its issue interval, so a second stream fills the gaps (nearly 2x throughput).
 *
 * SY_SHA256_SHANI_X2_BODY(HOOK) is that whole compression as one statement, for the body of a
 * function compiled with __attribute__((target("sha,sse4.1,ssse3"))) whose parameters are
 * named like sy_sha256_blocks_shani_x2's (sta, pa, stb, pb, nblocks; pa, pb and nblocks are
 * advanced).  HOOK(J), a function-like macro, runs after each group of four rounds J (0..15
 * of a block): a place for other work that the out-of-order core overlaps with the SHA chains
 * (symphony's one-core chunk+hash loop, _cdc_fused.h, advances its CDC scanner there).  A
 * macro rather than a function pointer, so that the hook is inlined from the start and the
 * loop compiles exactly as if written out by hand.  SY_SHA256_X2_NO_HOOK: nothing. */
#define SY_SHA256_X2_NO_HOOK(J) ((void)0)

#define SY_SHA256__QROUND2(MA, MB, J, HOOK)                                             \
    do {                                                                               \
        __m128i k_ = _mm_loadu_si128((const __m128i *)&SY_SHA256_K[4 * (J)]);         \
        __m128i ta_ = _mm_add_epi32((MA), k_), tb_ = _mm_add_epi32((MB), k_);          \
        a1 = _mm_sha256rnds2_epu32(a1, a0, ta_);                                       \
        b1 = _mm_sha256rnds2_epu32(b1, b0, tb_);                                       \
        ta_ = _mm_shuffle_epi32(ta_, 0x0E);                                            \
        tb_ = _mm_shuffle_epi32(tb_, 0x0E);                                            \
        a0 = _mm_sha256rnds2_epu32(a0, a1, ta_);                                       \
        b0 = _mm_sha256rnds2_epu32(b0, b1, tb_);                                       \
        HOOK(J);                                                                       \
    } while (0)

#define SY_SHA256_SHANI_X2_BODY(HOOK)                                                              \
    do {                                                                                       \
        const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);      \
        __m128i t0, t1;                                                                        \
        t0 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&sta[0]), 0xB1);               \
        t1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&sta[4]), 0x1B);               \
        __m128i a0 = _mm_alignr_epi8(t0, t1, 8), a1 = _mm_blend_epi16(t1, t0, 0xF0);           \
        t0 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&stb[0]), 0xB1);               \
        t1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&stb[4]), 0x1B);               \
        __m128i b0 = _mm_alignr_epi8(t0, t1, 8), b1 = _mm_blend_epi16(t1, t0, 0xF0);           \
        while (nblocks--) {                                                                    \
            __m128i sa0 = a0, sa1 = a1, sb0 = b0, sb1 = b1;                                    \
            __m128i ma0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pa + 0)), bswap); \
            __m128i ma1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pa + 16)), bswap);\
            __m128i ma2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pa + 32)), bswap);\
            __m128i ma3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pa + 48)), bswap);\
            __m128i mb0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pb + 0)), bswap); \
            __m128i mb1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pb + 16)), bswap);\
            __m128i mb2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pb + 32)), bswap);\
            __m128i mb3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pb + 48)), bswap);\
            SY_SHA256__QROUND2(ma0, mb0, 0, HOOK);                                             \
            SY_SHA256__QROUND2(ma1, mb1, 1, HOOK);                                             \
            SY_SHA256__QROUND2(ma2, mb2, 2, HOOK);                                             \
            SY_SHA256__QROUND2(ma3, mb3, 3, HOOK);                                             \
            for (int j = 4; j < 16; j += 4) {                                                  \
                ma0 = SY_SHA256__SCHED(ma0, ma1, ma2, ma3); mb0 = SY_SHA256__SCHED(mb0, mb1, mb2, mb3);\
                SY_SHA256__QROUND2(ma0, mb0, j, HOOK);                                         \
                ma1 = SY_SHA256__SCHED(ma1, ma2, ma3, ma0); mb1 = SY_SHA256__SCHED(mb1, mb2, mb3, mb0);\
                SY_SHA256__QROUND2(ma1, mb1, j + 1, HOOK);                                     \
                ma2 = SY_SHA256__SCHED(ma2, ma3, ma0, ma1); mb2 = SY_SHA256__SCHED(mb2, mb3, mb0, mb1);\
                SY_SHA256__QROUND2(ma2, mb2, j + 2, HOOK);                                     \
                ma3 = SY_SHA256__SCHED(ma3, ma0, ma1, ma2); mb3 = SY_SHA256__SCHED(mb3, mb0, mb1, mb2);\
                SY_SHA256__QROUND2(ma3, mb3, j + 3, HOOK);                                     \
            }                                                                                  \
            a0 = _mm_add_epi32(a0, sa0); a1 = _mm_add_epi32(a1, sa1);                          \
            b0 = _mm_add_epi32(b0, sb0); b1 = _mm_add_epi32(b1, sb1);                          \
            pa += 64;                                                                          \
            pb += 64;                                                                          \
        }                                                                                      \
        t0 = _mm_shuffle_epi32(a0, 0x1B);                                                      \
        t1 = _mm_shuffle_epi32(a1, 0xB1);                                                      \
        _mm_storeu_si128((__m128i *)&sta[0], _mm_blend_epi16(t0, t1, 0xF0));                   \
        _mm_storeu_si128((__m128i *)&sta[4], _mm_alignr_epi8(t1, t0, 8));                      \
        t0 = _mm_shuffle_epi32(b0, 0x1B);                                                      \
        t1 = _mm_shuffle_epi32(b1, 0xB1);                                                      \
        _mm_storeu_si128((__m128i *)&stb[0], _mm_blend_epi16(t0, t1, 0xF0));                   \
        _mm_storeu_si128((__m128i *)&stb[4], _mm_alignr_epi8(t1, t0, 8));                      \
    } while (0)

__attribute__((target("sha,sse4.1,ssse3")))
static void sy_sha256_blocks_shani_x2(uint32_t sta[8], const uint8_t *pa, uint32_t stb[8],
                                      const uint8_t *pb, size_t nblocks)
{
    SY_SHA256_SHANI_X2_BODY(SY_SHA256_X2_NO_HOOK);
}

/* 1 when the CPU has SHA-NI (and SSSE3/SSE4.1), 0 otherwise; -1 means "not probed yet". */
static int sy_sha256__shani = -1;

static inline int sy_sha256_uses_shani(void)
{
    if (sy_sha256__shani < 0) {
        unsigned a, b, c, d, ok = 0;
        if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 9)) && (c & (1u << 19))) {
            if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29))) ok = 1;
        }
        sy_sha256__shani = (int)ok;
    }
    return sy_sha256__shani;
}
#else
#define SY_SHA256_HAVE_SHANI 0
static int sy_sha256__shani = 0; /* never set: no SHA extensions on this architecture */
static inline int sy_sha256_uses_shani(void) { return 0; }
#endif

/* Process whole 64-byte blocks with the fastest available implementation. */
static inline void sy_sha256_blocks(uint32_t st[8], const uint8_t *p, size_t nblocks)
{
#if SY_SHA256_HAVE_SHANI
    if (sy_sha256_uses_shani()) { sy_sha256_blocks_shani(st, p, nblocks); return; }
#endif
    sy_sha256_blocks_generic(st, p, nblocks);
}

static inline void sy_sha256_init(sy_sha256_ctx *ctx)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(ctx->state, iv, sizeof iv);
    ctx->nbytes = 0;
    ctx->buflen = 0;
}

static inline void sy_sha256_update(sy_sha256_ctx *ctx, const uint8_t *p, size_t n)
{
    ctx->nbytes += n;
    if (ctx->buflen) {
        size_t take = 64 - ctx->buflen;
        if (take > n) take = n;
        memcpy(ctx->buf + ctx->buflen, p, take);
        ctx->buflen += take;
        p += take;
        n -= take;
        if (ctx->buflen < 64) return;
        sy_sha256_blocks(ctx->state, ctx->buf, 1);
        ctx->buflen = 0;
    }
    if (n >= 64) {
        sy_sha256_blocks(ctx->state, p, n / 64);
        p += n & ~(size_t)63;
        n &= 63;
    }
    if (n) {
        memcpy(ctx->buf, p, n);
        ctx->buflen = n;
    }
}

static inline void sy_sha256_final(sy_sha256_ctx *ctx, uint8_t out[32])
{
    uint64_t bits = ctx->nbytes * 8;
    uint8_t pad[72];
    size_t padlen = (ctx->buflen < 56) ? 56 - ctx->buflen : 120 - ctx->buflen;
    memset(pad, 0, sizeof pad);
    pad[0] = 0x80;
    for (int i = 0; i < 8; i++) pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
    uint64_t keep = ctx->nbytes;
    sy_sha256_update(ctx, pad, padlen + 8);
    ctx->nbytes = keep;
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(ctx->state[i] >> 24);
        out[4 * i + 1] = (uint8_t)(ctx->state[i] >> 16);
        out[4 * i + 2] = (uint8_t)(ctx->state[i] >> 8);
        out[4 * i + 3] = (uint8_t)ctx->state[i];
    }
}

/* One-shot digest of p[0:n]. */
static inline void sy_sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
    sy_sha256_ctx ctx;
    sy_sha256_init(&ctx);
    sy_sha256_update(&ctx, p, n);
    sy_sha256_final(&ctx, out);
}

/* Whole blocks of two messages; the SHA-NI path interleaves them. */
static inline void sy_sha256_blocks_x2(uint32_t sta[8], const uint8_t *pa, uint32_t stb[8],
                                       const uint8_t *pb, size_t nblocks)
{
#if SY_SHA256_HAVE_SHANI
    if (sy_sha256_uses_shani()) { sy_sha256_blocks_shani_x2(sta, pa, stb, pb, nblocks); return; }
#endif
    sy_sha256_blocks_generic(sta, pa, nblocks);
    sy_sha256_blocks_generic(stb, pb, nblocks);
}

/* One-shot digests of two messages, a[0:na] and b[0:nb], computed together (the common
 * number of whole blocks runs two-at-a-time).  Same results as two sy_sha256 calls. */
static inline void sy_sha256_pair(const uint8_t *a, size_t na, uint8_t outa[32],
                                  const uint8_t *b, size_t nb, uint8_t outb[32])
{
    sy_sha256_ctx ca, cb;
    sy_sha256_init(&ca);
    sy_sha256_init(&cb);
    size_t common = (na < nb ? na : nb) / 64;
    if (common) {
        sy_sha256_blocks_x2(ca.state, a, cb.state, b, common);
        ca.nbytes = cb.nbytes = common * 64;
    }
    sy_sha256_update(&ca, a + common * 64, na - common * 64);
    sy_sha256_update(&cb, b + common * 64, nb - common * 64);
    sy_sha256_final(&ca, outa);
    sy_sha256_final(&cb, outb);
}

/* Feed a[0:na] to ctx_a and b[0:nb] to ctx_b together: after topping up each context's
 * partial block, their common whole blocks run two-at-a-time.  Same results as two
 * sy_sha256_update calls (used to hash a chunk and the whole content in one go). */
static inline void sy_sha256_update2(sy_sha256_ctx *ca, const uint8_t *a, size_t na,
                                     sy_sha256_ctx *cb, const uint8_t *b, size_t nb)
{
    size_t take;
    if (ca->buflen) {
        take = 64 - ca->buflen < na ? 64 - ca->buflen : na;
        sy_sha256_update(ca, a, take);
        a += take;
        na -= take;
    }
    if (cb->buflen) {
        take = 64 - cb->buflen < nb ? 64 - cb->buflen : nb;
        sy_sha256_update(cb, b, take);
        b += take;
        nb -= take;
    }
    if (ca->buflen == 0 && cb->buflen == 0) {
        size_t common = (na < nb ? na : nb) / 64;
        if (common) {
            sy_sha256_blocks_x2(ca->state, a, cb->state, b, common);
            ca->nbytes += common * 64;
            cb->nbytes += common * 64;
            a += common * 64;
            na -= common * 64;
            b += common * 64;
            nb -= common * 64;
        }
    }
    sy_sha256_update(ca, a, na);
    sy_sha256_update(cb, b, nb);
}

#endif /* SYMPHONY_SHA256_H */
