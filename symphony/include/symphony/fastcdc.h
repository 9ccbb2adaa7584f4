/* symphony/fastcdc.h -- FastCDC 2020 content-defined chunking (header-only C).
 *
 * The algorithm of Xia et al., "The Design of Fast Content-Defined Chunking for Data
 * Deduplication Based Storage Systems" (IEEE TPDS 2020): a gear rolling hash, skipping of the
 * first min_size bytes, normalized chunking (a stricter mask before avg_size, a looser one
 * after) and "rolling two bytes each time" with a left-shifted gear table.  Cut points are
 * identical to the `v2020` module of the Rust `fastcdc` crate (4.x); the gear table and the
 * mask table below are that crate's published data (GEAR[i] = the first 8 bytes, big-endian,
 * of MD5 of 64 copies of the byte i).  The specification, in Python, is
 * symphony/reference/hashing.py; this file is the C twin that symphony._core.hashing wraps
 * and that C programs may include directly (the directory is symphony.get_include()).
 *
 * Usage:
 *     sy_cdc cdc;
 *     if (sy_cdc_init(&cdc, 4096, 16384, 65536, 1, 0) != SY_CDC_OK) ...;
 *     while (n) { uint64_t h; size_t len = sy_cdc_cut(&cdc, p, n, &h); ...; p += len; n -= len; }
 *
 * Everything here is reentrant and allocation-free; an initialised sy_cdc is read-only.
 */
#ifndef SYMPHONY_FASTCDC_H
#define SYMPHONY_FASTCDC_H

#include <stddef.h>
#include <stdint.h>

#define SY_CDC_MINIMUM_MIN 64u
#define SY_CDC_MINIMUM_MAX 1048576u
#define SY_CDC_AVERAGE_MIN 256u
#define SY_CDC_AVERAGE_MAX 4194304u
#define SY_CDC_MAXIMUM_MIN 1024u
#define SY_CDC_MAXIMUM_MAX 16777216u
#define SY_CDC_LEVEL_MAX 3

/* sy_cdc_init results: which parameter was refused. */
#define SY_CDC_OK 0
#define SY_CDC_BAD_MIN (-1)   /* min_size outside [MINIMUM_MIN, MINIMUM_MAX]            */
#define SY_CDC_BAD_AVG (-2)   /* avg_size outside [AVERAGE_MIN, AVERAGE_MAX] or < min   */
#define SY_CDC_BAD_MAX (-3)   /* max_size outside [MAXIMUM_MIN, MAXIMUM_MAX] or < avg   */
#define SY_CDC_BAD_LEVEL (-4) /* level outside [0, 3]                                   */

typedef struct sy_cdc {
    uint64_t gear[256];    /* GEAR ^ seed                                  */
    uint64_t gear_ls[256]; /* (GEAR << 1) ^ (seed << 1)                    */
    uint64_t mask_s, mask_l, mask_s_ls, mask_l_ls;
    size_t min_size, avg_size, max_size;
    int level;
    uint64_t seed;
} sy_cdc;

static const uint64_t SY_CDC_GEAR[256] = {
    UINT64_C(0x3b5d3c7d207e37dc), UINT64_C(0x784d68ba91123086), UINT64_C(0xcd52880f882e7298), UINT64_C(0xeacf8e4e19fdcca7),
    UINT64_C(0xc31f385dfbd1632b), UINT64_C(0x1d5f27001e25abe6), UINT64_C(0x83130bde3c9ad991), UINT64_C(0xc4b225676e9b7649),
    UINT64_C(0xaa329b29e08eb499), UINT64_C(0xb67fcbd21e577d58), UINT64_C(0x0027baaada2acf6b), UINT64_C(0xe3ef2d5ac73c2226),
    UINT64_C(0x0890f24d6ed312b7), UINT64_C(0xa809e036851d7c7e), UINT64_C(0xf0a6fe5e0013d81b), UINT64_C(0x1d026304452cec14),
    UINT64_C(0x03864632648e248f), UINT64_C(0xcdaacf3dcd92b9b4), UINT64_C(0xf5e012e63c187856), UINT64_C(0x8862f9d3821c00b6),
    UINT64_C(0xa82f7338750f6f8a), UINT64_C(0x1e583dc6c1cb0b6f), UINT64_C(0x7a3145b69743a7f1), UINT64_C(0xabb20fee404807eb),
    UINT64_C(0xb14b3cfe07b83a5d), UINT64_C(0xb9dc27898adb9a0f), UINT64_C(0x3703f5e91baa62be), UINT64_C(0xcf0bb866815f7d98),
    UINT64_C(0x3d9867c41ea9dcd3), UINT64_C(0x1be1fa65442bf22c), UINT64_C(0x14300da4c55631d9), UINT64_C(0xe698e9cbc6545c99),
    UINT64_C(0x4763107ec64e92a5), UINT64_C(0xc65821fc65696a24), UINT64_C(0x76196c064822f0b7), UINT64_C(0x485be841f3525e01),
    UINT64_C(0xf652bc9c85974ff5), UINT64_C(0xcad8352face9e3e9), UINT64_C(0x2a6ed1dceb35e98e), UINT64_C(0xc6f483badc11680f),
    UINT64_C(0x3cfd8c17e9cf12f1), UINT64_C(0x89b83c5e2ea56471), UINT64_C(0xae665cfd24e392a9), UINT64_C(0xec33c4e504cb8915),
    UINT64_C(0x3fb9b15fc9fe7451), UINT64_C(0xd7fd1fd1945f2195), UINT64_C(0x31ade0853443efd8), UINT64_C(0x255efc9863e1e2d2),
    UINT64_C(0x10eab6008d5642cf), UINT64_C(0x46f04863257ac804), UINT64_C(0xa52dc42a789a27d3), UINT64_C(0xdaaadf9ce77af565),
    UINT64_C(0x6b479cd53d87febb), UINT64_C(0x6309e2d3f93db72f), UINT64_C(0xc5738ffbaa1ff9d6), UINT64_C(0x6bd57f3f25af7968),
    UINT64_C(0x67605486d90d0a4a), UINT64_C(0xe14d0b9663bfbdae), UINT64_C(0xb7bbd8d816eb0414), UINT64_C(0xdef8a4f16b35a116),
    UINT64_C(0xe7932d85aaaffed6), UINT64_C(0x08161cbae90cfd48), UINT64_C(0x855507beb294f08b), UINT64_C(0x91234ea6ffd399b2),
    UINT64_C(0xad70cf4b2435f302), UINT64_C(0xd289a97565bc2d27), UINT64_C(0x8e558437ffca99de), UINT64_C(0x96d2704b7115c040),
    UINT64_C(0x0889bbcdfc660e41), UINT64_C(0x5e0d4e67dc92128d), UINT64_C(0x72a9f8917063ed97), UINT64_C(0x438b69d409e016e3),
    UINT64_C(0xdf4fed8a5d8a4397), UINT64_C(0x00f41dcf41d403f7), UINT64_C(0x4814eb038e52603f), UINT64_C(0x9dafbacc58e2d651),
    UINT64_C(0xfe2f458e4be170af), UINT64_C(0x4457ec414df6a940), UINT64_C(0x06e62f1451123314), UINT64_C(0xbd1014d173ba92cc),
    UINT64_C(0xdef318e25ed57760), UINT64_C(0x9fea0de9dfca8525), UINT64_C(0x459de1e76c20624b), UINT64_C(0xaeec189617e2d666),
    UINT64_C(0x126a2c06ab5a83cb), UINT64_C(0xb1321532360f6132), UINT64_C(0x65421503dbb40123), UINT64_C(0x2d67c287ea089ab3),
    UINT64_C(0x6c93bff5a56bd6b6), UINT64_C(0x4ffb2036cab6d98d), UINT64_C(0xce7b785b1be7ad4f), UINT64_C(0xedb42ef6189fd163),
    UINT64_C(0xdc905288703988f6), UINT64_C(0x365f9c1d2c691884), UINT64_C(0xc640583680d99bfe), UINT64_C(0x3cd4624c07593ec6),
    UINT64_C(0x7f1ea8d85d7c5805), UINT64_C(0x014842d480b57149), UINT64_C(0x0b649bcb5a828688), UINT64_C(0xbcd5708ed79b18f0),
    UINT64_C(0xe987c862fbd2f2f0), UINT64_C(0x982731671f0cd82c), UINT64_C(0xbaf13e8b16d8c063), UINT64_C(0x8ea3109cbd951bba),
    UINT64_C(0xd141045bfb385cad), UINT64_C(0x2acbc1a0af1f7d30), UINT64_C(0xe6444d89df03bfdf), UINT64_C(0xa18cc771b8188ff9),
    UINT64_C(0x9834429db01c39bb), UINT64_C(0x214add07fe086a1f), UINT64_C(0x8f07c19b1f6b3ff9), UINT64_C(0x56a297b1bf4ffe55),
    UINT64_C(0x94d558e493c54fc7), UINT64_C(0x40bfc24c764552cb), UINT64_C(0x931a706f8a8520cb), UINT64_C(0x32229d322935bd52),
    UINT64_C(0x2560d0f5dc4fefaf), UINT64_C(0x9dbcc48355969bb6), UINT64_C(0x0fd81c3985c0b56a), UINT64_C(0xe03817e1560f2bda),
    UINT64_C(0xc1bb4f81d892b2d5), UINT64_C(0xb0c4864f4e28d2d7), UINT64_C(0x3ecc49f9d9d6c263), UINT64_C(0x51307e99b52ba65e),
    UINT64_C(0x8af2b688da84a752), UINT64_C(0xf5d72523b91b20b6), UINT64_C(0x6d95ff1ff4634806), UINT64_C(0x562f21555458339a),
    UINT64_C(0xc0ce47f889336346), UINT64_C(0x487823e5089b40d8), UINT64_C(0xe4727c7ebc6d9592), UINT64_C(0x5a8f7277e94970ba),
    UINT64_C(0xfca2f406b1c8bb50), UINT64_C(0x5b1f8a95f1791070), UINT64_C(0xd304af9fc9028605), UINT64_C(0x5440ab7fc930e748),
    UINT64_C(0x312d25fbca2ab5a1), UINT64_C(0x10f4a4b234a4d575), UINT64_C(0x90301d55047e7473), UINT64_C(0x3b6372886c61591e),
    UINT64_C(0x293402b77c444e06), UINT64_C(0x451f34a4d3e97dd7), UINT64_C(0x3158d814d81bc57b), UINT64_C(0x034942425b9bda69),
    UINT64_C(0xe2032ff9e532d9bb), UINT64_C(0x62ae066b8b2179e5), UINT64_C(0x9545e10c2f8d71d8), UINT64_C(0x7ff7483eb2d23fc0),
    UINT64_C(0x00945fcebdc98d86), UINT64_C(0x8764bbbe99b26ca2), UINT64_C(0x1b1ec62284c0bfc3), UINT64_C(0x58e0fcc4f0aa362b),
    UINT64_C(0x5f4abefa878d458d), UINT64_C(0xfd74ac2f9607c519), UINT64_C(0xa4e3fb37df8cbfa9), UINT64_C(0xbf697e43cac574e5),
    UINT64_C(0x86f14a3f68f4cd53), UINT64_C(0x24a23d076f1ce522), UINT64_C(0xe725cd8048868cc8), UINT64_C(0xbf3c729eb2464362),
    UINT64_C(0xd8f6cd57b3cc1ed8), UINT64_C(0x6329e52425541577), UINT64_C(0x62aa688ad5ae1ac0), UINT64_C(0x0a242566269bf845),
    UINT64_C(0x168b1a4753aca74b), UINT64_C(0xf789afefff2e7e3c), UINT64_C(0x6c3362093b6fccdb), UINT64_C(0x4ce8f50bd28c09b2),
    UINT64_C(0x006a2db95ae8aa93), UINT64_C(0x975b0d623c3d1a8c), UINT64_C(0x18605d3935338c5b), UINT64_C(0x5bb6f6136cad3c71),
    UINT64_C(0x0f53a20701f8d8a6), UINT64_C(0xab8c5ad2e7e93c67), UINT64_C(0x40b5ac5127acaa29), UINT64_C(0x8c7bf63c2075895f),
    UINT64_C(0x78bd9f7e014a805c), UINT64_C(0xb2c9e9f4f9c8c032), UINT64_C(0xefd6049827eb91f3), UINT64_C(0x2be459f482c16fbd),
    UINT64_C(0xd92ce0c5745aaa8c), UINT64_C(0x0aaa8fb298d965b9), UINT64_C(0x2b37f92c6c803b15), UINT64_C(0x8c54a5e94e0f0e78),
    UINT64_C(0x95f9b6e90c0a3032), UINT64_C(0xe7939faa436c7874), UINT64_C(0xd16bfe8f6a8a40c9), UINT64_C(0x44982b86263fd2fa),
    UINT64_C(0xe285fb39f984e583), UINT64_C(0x779a8df72d7619d3), UINT64_C(0xf2d79a8de8d5dd1e), UINT64_C(0xd1037354d66684e2),
    UINT64_C(0x004c82a4e668a8e5), UINT64_C(0x31d40a7668b044e6), UINT64_C(0xd70578538bd02c11), UINT64_C(0xdb45431078c5f482),
    UINT64_C(0x977121bb7f6a51ad), UINT64_C(0x73d5ccbd34eff8dd), UINT64_C(0xe437a07d356e17cd), UINT64_C(0x47b2782043c95627),
    UINT64_C(0x9fb251413e41d49a), UINT64_C(0xccd70b60652513d3), UINT64_C(0x1c95b31e8a1b49b2), UINT64_C(0xcae73dfd1bcb4c1b),
    UINT64_C(0x34d98331b1f5b70f), UINT64_C(0x784e39f22338d92f), UINT64_C(0x18613d4a064df420), UINT64_C(0xf1d8dae25f0bcebe),
    UINT64_C(0x33f77c15ae855efc), UINT64_C(0x3c88b3b912eb109c), UINT64_C(0x956a2ec96bafeea5), UINT64_C(0x1aa005b5e0ad0e87),
    UINT64_C(0x5500d70527c4bb8e), UINT64_C(0xe36c57196421cc44), UINT64_C(0x13c4d286cc36ee39), UINT64_C(0x5654a23d818b2a81),
    UINT64_C(0x77b1dc13d161abdc), UINT64_C(0x734f44de5f8d5eb5), UINT64_C(0x60717e174a6c89a2), UINT64_C(0xd47d9649266a211e),
    UINT64_C(0x5b13a4322bb69e90), UINT64_C(0xf7669609f8b5fc3c), UINT64_C(0x21e6ac55bedcdac9), UINT64_C(0x9b56b62b61166dea),
    UINT64_C(0xf48f66b939797e9c), UINT64_C(0x35f332f9c0e6ae9a), UINT64_C(0xcc733f6a9a878db0), UINT64_C(0x3da161e41cc108c2),
    UINT64_C(0xb7d74ae535914d51), UINT64_C(0x4d493b0b11d36469), UINT64_C(0xce264d1dfba9741a), UINT64_C(0xa9d1f2dc7436dc06),
    UINT64_C(0x70738016604c2a27), UINT64_C(0x231d36e96e93f3d5), UINT64_C(0x7666881197838d19), UINT64_C(0x4a2a83090aaad40c),
    UINT64_C(0xf1e761591668b35d), UINT64_C(0x7363236497f730a7), UINT64_C(0x301080e37379dd4d), UINT64_C(0x502dea2971827042),
    UINT64_C(0xc2c5eb858f32625f), UINT64_C(0x786afb9edfafbdff), UINT64_C(0xdaee0d868490b2a4), UINT64_C(0x617366b3268609f6),
    UINT64_C(0xae0e35a0fe46173e), UINT64_C(0xd1a07de93e824f11), UINT64_C(0x079b8b115ea4cca8), UINT64_C(0x93a99274558faebb),
    UINT64_C(0xfb1e6e22e08a03b3), UINT64_C(0xea635fdba3698dd0), UINT64_C(0xcf53659328503a5c), UINT64_C(0xcde3b31e6fd5d780),
    UINT64_C(0x8e3e4221d3614413), UINT64_C(0xef14d0d86bf1a22c), UINT64_C(0xe1d830d3f16c5ddb), UINT64_C(0xaabd2b2a451504e1),
};

/* Spread-bit masks by number of bits (index 5 and 25 only reached with level 3). */
static const uint64_t SY_CDC_MASKS[26] = {
    0, 0, 0, 0, 0,
    UINT64_C(0x0000000001804110), UINT64_C(0x0000000001803110), UINT64_C(0x0000000018035100),
    UINT64_C(0x0000001800035300), UINT64_C(0x0000019000353000), UINT64_C(0x0000590003530000),
    UINT64_C(0x0000d90003530000), UINT64_C(0x0000d90103530000), UINT64_C(0x0000d90303530000),
    UINT64_C(0x0000d90313530000), UINT64_C(0x0000d90f03530000), UINT64_C(0x0000d90303537000),
    UINT64_C(0x0000d90703537000), UINT64_C(0x0000d90707537000), UINT64_C(0x0000d91707537000),
    UINT64_C(0x0000d91747537000), UINT64_C(0x0000d91767537000), UINT64_C(0x0000d93767537000),
    UINT64_C(0x0000d93777537000), UINT64_C(0x0000d93777577000), UINT64_C(0x0000db3777577000),
};

/* round(log2(v)) for 1 <= v < 2**31: v rounds up when v >= 2**b * sqrt(2), i.e. v*v >= 2**(2b+1). */
static inline unsigned sy_cdc_log2_rounded(size_t v)
{
    unsigned b = 0;
    while (((size_t)1 << (b + 1)) <= v) b++;
    return ((uint64_t)v * (uint64_t)v >= ((uint64_t)1 << (2 * b + 1))) ? b + 1 : b;
}

/* Validate the parameters and fill *cdc.  Returns SY_CDC_OK or the SY_CDC_BAD_* of the first
 * parameter refused (checked in the order min, avg, max, level). */
static inline int sy_cdc_init(sy_cdc *cdc, size_t min_size, size_t avg_size, size_t max_size,
                              int level, uint64_t seed)
{
    if (min_size < SY_CDC_MINIMUM_MIN || min_size > SY_CDC_MINIMUM_MAX) return SY_CDC_BAD_MIN;
    if (avg_size < SY_CDC_AVERAGE_MIN || avg_size > SY_CDC_AVERAGE_MAX || avg_size < min_size)
        return SY_CDC_BAD_AVG;
    if (max_size < SY_CDC_MAXIMUM_MIN || max_size > SY_CDC_MAXIMUM_MAX || max_size < avg_size)
        return SY_CDC_BAD_MAX;
    if (level < 0 || level > SY_CDC_LEVEL_MAX) return SY_CDC_BAD_LEVEL;
    unsigned bits = sy_cdc_log2_rounded(avg_size);
    for (int i = 0; i < 256; i++) {
        cdc->gear[i] = SY_CDC_GEAR[i] ^ seed;
        cdc->gear_ls[i] = (SY_CDC_GEAR[i] << 1) ^ (seed << 1);
    }
    cdc->mask_s = SY_CDC_MASKS[bits + (unsigned)level];
    cdc->mask_l = SY_CDC_MASKS[bits - (unsigned)level];
    cdc->mask_s_ls = cdc->mask_s << 1;
    cdc->mask_l_ls = cdc->mask_l << 1;
    cdc->min_size = min_size;
    cdc->avg_size = avg_size;
    cdc->max_size = max_size;
    cdc->level = level;
    cdc->seed = seed;
    return SY_CDC_OK;
}

/* One step of the scan: the pair p[0], p[1].  (Measured: a form with a one-`lea` loop-carried
 * chain, h' = 4h + (gl[a] + g[b]), ran no faster here and cost more instructions per byte.) */
#define SY_CDC__STEP(MASK_LS, MASK)                                                   \
    do {                                                                               \
        h = (h << 2) + gl[p[0]];                                                       \
        if (__builtin_expect(!(h & (MASK_LS)), 0)) { *hash_out = h; return (size_t)(p - src); } \
        h += g[p[1]];                                                                  \
        if (__builtin_expect(!(h & (MASK)), 0)) { *hash_out = h; return (size_t)(p - src) + 1; } \
        p += 2;                                                                        \
    } while (0)

/* Length of the first chunk of src[0:n] (n > 0 gives a result in [1, n]; n == 0 gives 0),
 * and its gear hash in *hash_out (0 when n <= min_size: no byte is hashed then).
 *
 * The judgement: the first min_size bytes are skipped; byte pairs are hashed from there; up to
 * avg_size (or n if smaller) the strict mask mask_s applies, after it the loose mask_l, up to
 * max_size (or n if smaller).  A cut found on the first byte of a pair excludes that byte
 * (length = its index); on the second byte it includes it.  No cut: length = min(n, max). */
static inline size_t sy_cdc_cut(const sy_cdc *cdc, const uint8_t *src, size_t n,
                                uint64_t *hash_out)
{
    if (n <= cdc->min_size) { *hash_out = 0; return n; }
    size_t center = cdc->avg_size;
    if (n > cdc->max_size) n = cdc->max_size;
    else if (n < center) center = n;
    const uint64_t *g = cdc->gear, *gl = cdc->gear_ls;
    const uint64_t ms = cdc->mask_s, msl = cdc->mask_s_ls, ml = cdc->mask_l, mll = cdc->mask_l_ls;
    uint64_t h = 0;
    /* Pairs start at even offsets: from min_size rounded down, while a whole pair fits below
     * center (then below n), each bound rounded down to even. */
    const uint8_t *p = src + (cdc->min_size / 2) * 2;
    const uint8_t *end1 = src + (center / 2) * 2, *end2 = src + (n / 2) * 2;
    /* Unrolled by two pairs while at least two pairs remain before the bound. */
    while (end1 - p >= 4) { SY_CDC__STEP(msl, ms); SY_CDC__STEP(msl, ms); }
    if (p < end1) SY_CDC__STEP(msl, ms);
    while (end2 - p >= 4) { SY_CDC__STEP(mll, ml); SY_CDC__STEP(mll, ml); }
    if (p < end2) SY_CDC__STEP(mll, ml);
    *hash_out = h;
    return n;
}

/* Cut points (chunk end offsets) of all of src[0:n], written to ends[0:cap].  Returns the
 * number of chunks, which may exceed cap: then only the first cap ends were written and the
 * caller retries with a larger array (at most n / min_size + 1 chunks exist). */
static inline size_t sy_cdc_cut_points(const sy_cdc *cdc, const uint8_t *src, size_t n,
                                       size_t *ends, size_t cap)
{
    size_t pos = 0, count = 0;
    uint64_t h;
    while (pos < n) {
        pos += sy_cdc_cut(cdc, src + pos, n - pos, &h);
        if (count < cap) ends[count] = pos;
        count++;
    }
    return count;
}

#endif /* SYMPHONY_FASTCDC_H */
