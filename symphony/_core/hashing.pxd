# C-level surface of symphony._core.hashing, for `cimport symphony._core.hashing`.
#
# The chunker and SHA-256 themselves are header-only C in symphony/include/symphony/
# (fastcdc.h, sha256.h; the directory is symphony.get_include()): a cimporting extension
# compiles them inline and calls them with no Python object on the hot path, e.g.
#
#     from symphony._core.hashing cimport sy_cdc, sy_cdc_init, sy_cdc_cut
#     cdef sy_cdc cdc
#     sy_cdc_init(&cdc, 4096, 16384, 65536, 1, 0)      # SY_CDC_OK or SY_CDC_BAD_*
#     with nogil:
#         n = sy_cdc_cut(&cdc, p, length, &gear_hash)   # length of the first chunk
#
# The cdef functions below are the same entry points exported by this module itself.
from libc.stdint cimport uint8_t, uint64_t

cdef extern from "symphony/fastcdc.h" nogil:
    const int SY_CDC_OK
    const int SY_CDC_BAD_MIN
    const int SY_CDC_BAD_AVG
    const int SY_CDC_BAD_MAX
    const int SY_CDC_BAD_LEVEL
    ctypedef struct sy_cdc:
        uint64_t gear[256]
        uint64_t gear_ls[256]
        uint64_t mask_s
        uint64_t mask_l
        uint64_t mask_s_ls
        uint64_t mask_l_ls
        size_t min_size
        size_t avg_size
        size_t max_size
        int level
        uint64_t seed
    int sy_cdc_init(sy_cdc *cdc, size_t min_size, size_t avg_size, size_t max_size,
                    int level, uint64_t seed)
    size_t sy_cdc_cut(const sy_cdc *cdc, const uint8_t *src, size_t n, uint64_t *hash_out)
    size_t sy_cdc_cut_points(const sy_cdc *cdc, const uint8_t *src, size_t n,
                             size_t *ends, size_t cap)

cdef extern from "symphony/sha256.h" nogil:
    ctypedef struct sy_sha256_ctx:
        pass
    void sy_sha256_init(sy_sha256_ctx *ctx)
    void sy_sha256_update(sy_sha256_ctx *ctx, const uint8_t *p, size_t n)
    void sy_sha256_final(sy_sha256_ctx *ctx, uint8_t *out)
    void sy_sha256(const uint8_t *p, size_t n, uint8_t *out)
    void sy_sha256_update2(sy_sha256_ctx *ca, const uint8_t *a, size_t na,
                           sy_sha256_ctx *cb, const uint8_t *b, size_t nb)
    void sy_sha256_pair(const uint8_t *a, size_t na, uint8_t *outa,
                        const uint8_t *b, size_t nb, uint8_t *outb)
    int sy_sha256_uses_shani()


ctypedef struct ChunkRec:
    uint64_t offset
    uint64_t length
    uint8_t digest[32]


# Length of the first chunk of data[0:n] (its gear hash in *gear_hash) for an initialised cdc.
cdef size_t cut_raw(const sy_cdc *cdc, const uint8_t *data, size_t n,
                    uint64_t *gear_hash) noexcept nogil

# Cut points of data[0:n] into ends[0:cap]; returns the number of chunks (> cap: only cap
# written) or a negative SY_CDC_BAD_* code for bad parameters.
cdef Py_ssize_t cut_points_raw(const uint8_t *data, size_t n, size_t min_size,
                               size_t avg_size, size_t max_size, int level, uint64_t seed,
                               size_t *ends, size_t cap) noexcept nogil

# SHA-256 of data[0:n] into out[0:32] (SHA-NI when the CPU has it).
cdef void sha256_raw(const uint8_t *data, size_t n, uint8_t *out) noexcept nogil

# SHA-256 of each chunk of data cut at ends[0:count] (strictly increasing, unchecked; chunk i
# is data[ends[i-1]:ends[i]], the first starts at 0) into digests[32*i : 32*i+32]; chunks
# are hashed in pairs with interleaved SHA streams.
cdef void sha256_cuts_raw(const uint8_t *data, const size_t *ends, size_t count,
                          uint8_t *digests) noexcept nogil


cdef class Chunker:
    cdef sy_cdc cdc
    cdef uint8_t *buf             # 2 * max_size scratch; buf[0:blen] is pending
    cdef size_t blen
    cdef uint64_t offset          # stream offset of buf[0]
    cdef sy_sha256_ctx manifest
    cdef sy_sha256_ctx content
    cdef bint want_content
    cdef bint done
    cdef bint busy                # an update() is running with the GIL released
    cdef bytes manifest_digest
    cdef bytes content_digest_value
    cdef ChunkRec *recs
    cdef size_t nrecs
    cdef size_t caprecs
    cdef int _emit(self, const uint8_t *p, size_t len_a, size_t len_b,
                   uint64_t offset) noexcept nogil
    cdef int _feed(self, const uint8_t *p, size_t n) noexcept nogil
    cdef int _fused(self, const uint8_t *p, size_t n, uint64_t offset,
                    size_t *done) noexcept nogil
    cdef int _final(self) noexcept nogil
    cdef list _take_records(self)
