"""Cython twin of :mod:`symphony.reference.hashing`; semantics there.

Performance notes: the scan and SHA-256 are header-only C (``symphony/fastcdc.h``,
``symphony/sha256.h``); SHA-256 uses the x86 SHA extensions when CPUID reports them (portable C
otherwise), so no OpenSSL is linked. Chunks are hashed two at a time with the two SHA streams
interleaved (``sy_sha256_pair``): the round instruction's latency is about twice its issue
interval, so a pair runs ~1.6x faster than one stream. On one thread, with SHA-NI and no
``content_digest``, ``hash_chunks`` also fuses the scan into the SHA loop (``_cdc_fused.h``: a
resumable scanner advances a few byte pairs between SHA rounds, so that the integer hash chain
and the SHA unit overlap); so does :class:`Chunker` on large pieces. With ``content_digest``
each chunk's stream is paired with the whole-content stream instead (``sy_sha256_update2``).
``hash_chunks(threads=2)`` on 1 MiB and more scans cut points on a helper thread while the
calling thread hashes (``_cdc_pipeline.h``: a bounded ring, no GIL). The GIL is released for
inputs of 64 KiB and more; chunk records are collected in a C array under ``nogil`` and turned
into Python objects afterwards. The streaming :class:`Chunker` chunks large pieces in place
and copies at most ``max_size`` bytes of each piece into its ``2 * max_size`` scratch buffer.
"""

from cpython.buffer cimport PyBuffer_Release
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.long cimport PyLong_AsSsize_t
from libc.stdint cimport uint8_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy, memmove

from symphony._core._buffer cimport acquire_bytes

from symphony._cdc import (
    DEFAULT_AVG_SIZE,
    DEFAULT_LEVEL,
    DEFAULT_MAX_SIZE,
    DEFAULT_MIN_SIZE,
    MANIFEST_DOMAIN,
    ChunkRecord,
    Manifest,
    check_ends,
    check_params,
    check_threads,
)
from symphony.commons.errors import ChunkerError

__all__ = [
    "Chunker", "cut", "cut_points", "gear_table", "hash_chunks", "hash_cuts", "sha256",
    "uses_sha_extensions",
]

sy_sha256_uses_shani()   # probe the CPU once, at import, before any helper thread exists

cdef size_t _NOGIL_THRESHOLD = 64 * 1024
cdef size_t _PIPELINE_THRESHOLD = 1024 * 1024
cdef bint _use_fused = True


cdef extern from "_cdc_fused.h" nogil:
    """
    #if !SY_SHA256_HAVE_SHANI
    typedef int (*sy_fused_on_digest)(void *, size_t, size_t, size_t, const uint8_t *);
    static long sy_cdc_hash_fused(const sy_cdc *c, const uint8_t *p, size_t n,
                                  sy_fused_on_digest f, void *a) { return -2; }
    static long sy_cdc_hash_fused_ex(const sy_cdc *c, const uint8_t *p, size_t n, size_t need,
                                     size_t *done, sy_fused_on_digest f, void *a) { return -2; }
    #endif
    """
    ctypedef int (*sy_fused_on_digest)(void *arg, size_t index, size_t offset, size_t length,
                                       const uint8_t *digest) noexcept nogil
    long sy_cdc_hash_fused(const sy_cdc *cdc, const uint8_t *p, size_t n,
                           sy_fused_on_digest on_digest, void *arg)
    long sy_cdc_hash_fused_ex(const sy_cdc *cdc, const uint8_t *p, size_t n, size_t need,
                              size_t *done, sy_fused_on_digest on_digest, void *arg)


cdef extern from "_cdc_pipeline.h" nogil:
    ctypedef int (*sy_cdc_on_chunks)(void *arg, const uint8_t *base, size_t off_a,
                                     size_t len_a, size_t len_b) noexcept nogil
    int sy_cdc_pipeline(const sy_cdc *cdc, const uint8_t *p, size_t n, sy_sha256_ctx *content,
                        sy_cdc_on_chunks on_chunks, void *arg)


cdef bytes _DOMAIN = MANIFEST_DOMAIN
cdef object _ChunkRecord = ChunkRecord


# --------------------------------------------------------------------------- C entry points
cdef size_t cut_raw(const sy_cdc *cdc, const uint8_t *data, size_t n,
                    uint64_t *gear_hash) noexcept nogil:
    return sy_cdc_cut(cdc, data, n, gear_hash)


cdef Py_ssize_t cut_points_raw(const uint8_t *data, size_t n, size_t min_size,
                               size_t avg_size, size_t max_size, int level, uint64_t seed,
                               size_t *ends, size_t cap) noexcept nogil:
    cdef sy_cdc cdc
    cdef int rc = sy_cdc_init(&cdc, min_size, avg_size, max_size, level, seed)
    if rc != SY_CDC_OK:
        return rc
    return <Py_ssize_t>sy_cdc_cut_points(&cdc, data, n, ends, cap)


cdef void sha256_raw(const uint8_t *data, size_t n, uint8_t *out) noexcept nogil:
    sy_sha256(data, n, out)


cdef void sha256_cuts_raw(const uint8_t *data, const size_t *ends, size_t count,
                          uint8_t *digests) noexcept nogil:
    cdef size_t i = 0, start = 0, mid
    while i + 1 < count:
        # Two chunks at a time, their SHA-256 streams interleaved (sy_sha256_pair).
        mid = ends[i]
        sy_sha256_pair(data + start, mid - start, digests + 32 * i,
                       data + mid, ends[i + 1] - mid, digests + 32 * (i + 1))
        start = ends[i + 1]
        i += 2
    if i < count:
        sy_sha256(data + start, ends[i] - start, digests + 32 * i)


# --------------------------------------------------------------------------- helpers
cdef int _init(sy_cdc *cdc, object min_size, object avg_size, object max_size, object level,
               object seed) except -1:
    cdef size_t mn, avg, mx
    cdef int lvl
    cdef uint64_t sd
    mn, avg, mx, lvl, sd = check_params(min_size, avg_size, max_size, level, seed)
    if sy_cdc_init(cdc, mn, avg, mx, lvl, sd) != SY_CDC_OK:  # pragma: no cover - checked above
        raise ChunkerError("chunker parameters refused by sy_cdc_init")
    return 0


cdef inline int _grow(ChunkRec **recs, size_t *cap, size_t need) noexcept nogil:
    """Make room for ``need`` records; -1 when out of memory."""
    cdef size_t newcap
    cdef ChunkRec *p
    if need <= cap[0]:
        return 0
    newcap = cap[0] * 2 if cap[0] else 64
    while newcap < need:
        newcap *= 2
    p = <ChunkRec *>realloc(recs[0], newcap * sizeof(ChunkRec))
    if p == NULL:
        return -1
    recs[0] = p
    cap[0] = newcap
    return 0


cdef extern from *:
    """
    /* A 3-item instance of a tuple subclass (the ChunkRecord named tuple), built the way
       tuple.__new__ builds one (tp_alloc, then the items), without an argument tuple. */
    static PyObject *sy_tuple3(PyObject *cls, PyObject *a, PyObject *b, PyObject *c)
    {
        PyTypeObject *type = (PyTypeObject *)cls;
        PyObject *t = type->tp_alloc(type, 3);
        if (t == NULL) return NULL;
        Py_INCREF(a); PyTuple_SET_ITEM(t, 0, a);
        Py_INCREF(b); PyTuple_SET_ITEM(t, 1, b);
        Py_INCREF(c); PyTuple_SET_ITEM(t, 2, c);
        return t;
    }
    """
    object sy_tuple3(object cls, object a, object b, object c)


cdef list _records_to_list(const ChunkRec *recs, size_t n):
    cdef list out = []
    cdef size_t i
    for i in range(n):
        out.append(sy_tuple3(_ChunkRecord, recs[i].offset, recs[i].length,
                             PyBytes_FromStringAndSize(<const char *>recs[i].digest, 32)))
    return out


cdef inline void _manifest_add(sy_sha256_ctx *m, uint64_t length, const uint8_t *digest) noexcept nogil:
    cdef uint8_t entry[40]
    cdef int k
    for k in range(8):
        entry[k] = <uint8_t>(length >> (8 * k))
    memcpy(&entry[8], digest, 32)
    sy_sha256_update(m, entry, 40)


# --------------------------------------------------------------------------- one-shot API
def gear_table(seed=0):
    """gear_table(seed=0) -> list[int]. See :func:`symphony.reference.hashing.gear_table`."""
    cdef sy_cdc cdc
    _init(&cdc, DEFAULT_MIN_SIZE, DEFAULT_AVG_SIZE, DEFAULT_MAX_SIZE, DEFAULT_LEVEL, seed)
    return [cdc.gear[i] for i in range(256)]


def cut(data, min_size=DEFAULT_MIN_SIZE, avg_size=DEFAULT_AVG_SIZE, max_size=DEFAULT_MAX_SIZE,
        level=DEFAULT_LEVEL, seed=0):
    """cut(data, ...) -> (length, gear_hash). See :func:`symphony.reference.hashing.cut`."""
    cdef sy_cdc cdc
    cdef Py_buffer view
    cdef uint64_t h = 0
    cdef size_t length
    _init(&cdc, min_size, avg_size, max_size, level, seed)
    acquire_bytes(data, &view, "cut data")
    try:
        with nogil:
            length = sy_cdc_cut(&cdc, <const uint8_t *>view.buf, <size_t>view.len, &h)
    finally:
        PyBuffer_Release(&view)
    return length, h


def cut_points(data, min_size=DEFAULT_MIN_SIZE, avg_size=DEFAULT_AVG_SIZE,
               max_size=DEFAULT_MAX_SIZE, level=DEFAULT_LEVEL, seed=0):
    """cut_points(data, ...) -> list[int]. See :func:`symphony.reference.hashing.cut_points`."""
    cdef sy_cdc cdc
    cdef Py_buffer view
    cdef size_t *ends = NULL
    cdef size_t cap, count = 0, n, i
    _init(&cdc, min_size, avg_size, max_size, level, seed)
    acquire_bytes(data, &view, "cut_points data")
    try:
        n = <size_t>view.len
        # A first guess of twice the expected count; exact retry in the rare overflow.
        cap = 2 * (n // cdc.avg_size) + 16
        ends = <size_t *>malloc(cap * sizeof(size_t))
        if ends == NULL:
            raise MemoryError()
        if n >= _NOGIL_THRESHOLD:
            with nogil:
                count = sy_cdc_cut_points(&cdc, <const uint8_t *>view.buf, n, ends, cap)
        else:
            count = sy_cdc_cut_points(&cdc, <const uint8_t *>view.buf, n, ends, cap)
        if count > cap:
            free(ends)
            cap = count
            ends = <size_t *>malloc(cap * sizeof(size_t))
            if ends == NULL:
                raise MemoryError()
            with nogil:
                count = sy_cdc_cut_points(&cdc, <const uint8_t *>view.buf, n, ends, cap)
        return [ends[i] for i in range(count)]
    finally:
        free(ends)
        PyBuffer_Release(&view)


ctypedef struct _HashJob:
    ChunkRec *recs
    size_t cap
    size_t count
    sy_sha256_ctx *manifest
    sy_sha256_ctx *content      # NULL: no whole-content digest


cdef inline void _digest_with_content(sy_sha256_ctx *content, const uint8_t *p, size_t n,
                                      uint8_t *out) noexcept nogil:
    """SHA-256 of p[0:n] into out while feeding the same bytes to content: the two streams
    run interleaved (sy_sha256_update2)."""
    cdef sy_sha256_ctx c
    sy_sha256_init(&c)
    sy_sha256_update2(content, p, n, &c, p, n)
    sy_sha256_final(&c, out)


cdef inline void _digest_two(sy_sha256_ctx *content, const uint8_t *a, size_t na, uint8_t *outa,
                             size_t nb, uint8_t *outb) noexcept nogil:
    """Digests of a[0:na] and, when nb, of the nb bytes after it; content (may be NULL) gets
    them all, in order."""
    if content != NULL:
        _digest_with_content(content, a, na, outa)
        if nb:
            _digest_with_content(content, a + na, nb, outb)
    elif nb:
        sy_sha256_pair(a, na, outa, a + na, nb, outb)
    else:
        sy_sha256(a, na, outa)


cdef int _on_chunks(void *arg, const uint8_t *base, size_t off_a, size_t len_a,
                    size_t len_b) noexcept nogil:
    """Record chunk a (and b right after it, when len_b): SHA-256 them (as a pair, two SHA
    streams interleaved), add them to the manifest. -1 when out of memory."""
    cdef _HashJob *job = <_HashJob *>arg
    cdef ChunkRec *r
    cdef size_t off_b = off_a + len_a
    if _grow(&job.recs, &job.cap, job.count + 2) < 0:
        return -1
    r = &job.recs[job.count]
    r[0].offset = off_a
    r[0].length = len_a
    _digest_two(job.content, base + off_a, len_a, r[0].digest, len_b, r[1].digest)
    _manifest_add(job.manifest, len_a, r[0].digest)
    job.count += 1
    if len_b:
        r[1].offset = off_b
        r[1].length = len_b
        _manifest_add(job.manifest, len_b, r[1].digest)
        job.count += 1
    return 0


cdef int _on_digest(void *arg, size_t index, size_t offset, size_t length,
                    const uint8_t *digest) noexcept nogil:
    """Record chunk number ``index`` (they arrive out of order); -1 when out of memory."""
    cdef _HashJob *job = <_HashJob *>arg
    cdef ChunkRec *r
    if _grow(&job.recs, &job.cap, index + 1) < 0:
        return -1
    r = &job.recs[index]
    r.offset = offset
    r.length = length
    memcpy(r.digest, digest, 32)
    return 0


cdef int _hash_all(const sy_cdc *cdc, const uint8_t *p, size_t n, _HashJob *job,
                   bint two_threads) noexcept nogil:
    """Chunk p[0:n] into job; -1 when out of memory."""
    cdef size_t pos = 0, len_a, len_b, k
    cdef uint64_t h
    cdef int rc
    cdef long count
    if not two_threads and job.content == NULL and sy_sha256_uses_shani() and _use_fused:
        # One core: scan and SHA-256 fused (_cdc_fused.h); digests arrive out of order, so
        # the manifest is built afterwards.
        count = sy_cdc_hash_fused(cdc, p, n, _on_digest, job)
        if count == -1:
            return -1
        if count >= 0:
            job.count = <size_t>count
            for k in range(job.count):
                _manifest_add(job.manifest, job.recs[k].length, job.recs[k].digest)
            return 0
    if two_threads and n >= _PIPELINE_THRESHOLD:
        rc = sy_cdc_pipeline(cdc, p, n, NULL, _on_chunks, job)
        if rc != -2:            # -2: no helper thread; fall through to one thread
            return rc
    while pos < n:
        # Two chunks at a time, so that their SHA-256 streams can run interleaved.
        len_a = sy_cdc_cut(cdc, p + pos, n - pos, &h)
        len_b = 0
        if pos + len_a < n:
            len_b = sy_cdc_cut(cdc, p + pos + len_a, n - pos - len_a, &h)
        if _on_chunks(job, p, pos, len_a, len_b) < 0:
            return -1
        pos += len_a + len_b
    return 0


def hash_chunks(data, min_size=DEFAULT_MIN_SIZE, avg_size=DEFAULT_AVG_SIZE,
                max_size=DEFAULT_MAX_SIZE, level=DEFAULT_LEVEL, seed=0, content_digest=False,
                threads=1):
    """hash_chunks(data, ...) -> Manifest. See :func:`symphony.reference.hashing.hash_chunks`."""
    cdef sy_cdc cdc
    cdef Py_buffer view
    cdef _HashJob job
    cdef size_t n
    cdef const uint8_t *p
    cdef sy_sha256_ctx manifest, content
    cdef bint whole = bool(content_digest)
    cdef bint two = False
    cdef int rc
    cdef uint8_t mid[32]
    cdef uint8_t cid[32]
    _init(&cdc, min_size, avg_size, max_size, level, seed)
    two = check_threads(threads) == 2
    job.recs = NULL
    job.cap = 0
    job.count = 0
    job.manifest = &manifest
    job.content = &content if whole else NULL
    acquire_bytes(data, &view, "hash_chunks data")
    try:
        n = <size_t>view.len
        p = <const uint8_t *>view.buf
        if _grow(&job.recs, &job.cap, 2 * (n // cdc.avg_size) + 16) < 0:
            raise MemoryError()
        sy_sha256_init(&manifest)
        sy_sha256_update(&manifest, <const uint8_t *><const char *>_DOMAIN, len(_DOMAIN))
        sy_sha256_init(&content)
        if n >= _NOGIL_THRESHOLD:
            with nogil:
                rc = _hash_all(&cdc, p, n, &job, two)
        else:
            rc = _hash_all(&cdc, p, n, &job, two)
        if rc < 0:
            raise MemoryError()
        sy_sha256_final(&manifest, mid)
        sy_sha256_final(&content, cid)
        return Manifest(
            tuple(_records_to_list(job.recs, job.count)),
            n,
            PyBytes_FromStringAndSize(<const char *>mid, 32),
            PyBytes_FromStringAndSize(<const char *>cid, 32) if whole else None,
        )
    finally:
        free(job.recs)
        PyBuffer_Release(&view)


cdef int _fill_cuts(object seq, size_t count, size_t n, size_t *cuts) except -1:
    """Copy a list/tuple of chunk ends into cuts; 1 if they are valid for n bytes, else 0
    (then check_ends names the problem)."""
    cdef size_t i, prev = 0
    cdef Py_ssize_t v
    for i in range(count):
        e = seq[i]
        if type(e) is not int:
            return 0
        try:
            v = PyLong_AsSsize_t(e)
        except OverflowError:
            return 0
        if v <= 0 or <size_t>v <= prev or <size_t>v > n:
            return 0
        cuts[i] = <size_t>v
        prev = <size_t>v
    return 1 if prev == n else 0


def hash_cuts(data, ends):
    """hash_cuts(data, ends) -> Manifest. See :func:`symphony.reference.hashing.hash_cuts`.

    Chunks are hashed two at a time (``sy_sha256_pair``), without the GIL from 64 KiB.
    """
    cdef Py_buffer view
    cdef size_t n, count, i, start
    cdef size_t *cuts = NULL
    cdef uint8_t *digests = NULL
    cdef sy_sha256_ctx manifest
    cdef uint8_t mid[32]
    cdef list records = []
    acquire_bytes(data, &view, "hash_cuts data")
    try:
        n = <size_t>view.len
        seq = ends if type(ends) is list or type(ends) is tuple else check_ends(ends, n)
        count = <size_t>len(seq)
        cuts = <size_t *>malloc((count + 1) * sizeof(size_t))
        digests = <uint8_t *>malloc((count + 1) * 32)
        if cuts == NULL or digests == NULL:
            raise MemoryError()
        if not _fill_cuts(seq, count, n, cuts):
            # Not plain ints in order: the twin's check raises its ChunkerError, or returns
            # them as ints (e.g. True, numpy integers) that then pass.
            seq = check_ends(seq, n)
            if not _fill_cuts(seq, count, n, cuts):  # pragma: no cover - cannot fail now
                raise ChunkerError("hash_cuts: ends refused")
        if n >= _NOGIL_THRESHOLD:
            with nogil:
                sha256_cuts_raw(<const uint8_t *>view.buf, cuts, count, digests)
        else:
            sha256_cuts_raw(<const uint8_t *>view.buf, cuts, count, digests)
        sy_sha256_init(&manifest)
        sy_sha256_update(&manifest, <const uint8_t *><const char *>_DOMAIN, len(_DOMAIN))
        start = 0
        for i in range(count):
            _manifest_add(&manifest, cuts[i] - start, digests + 32 * i)
            records.append(sy_tuple3(_ChunkRecord, start, cuts[i] - start,
                                     PyBytes_FromStringAndSize(<const char *>digests + 32 * i,
                                                               32)))
            start = cuts[i]
        sy_sha256_final(&manifest, mid)
        return Manifest(tuple(records), n, PyBytes_FromStringAndSize(<const char *>mid, 32),
                        None)
    finally:
        free(cuts)
        free(digests)
        PyBuffer_Release(&view)


def sha256(data):
    """sha256(data) -> bytes. See :func:`symphony.reference.hashing.sha256`."""
    cdef Py_buffer view
    cdef uint8_t out[32]
    acquire_bytes(data, &view, "sha256 data")
    try:
        if <size_t>view.len >= _NOGIL_THRESHOLD:
            with nogil:
                sy_sha256(<const uint8_t *>view.buf, <size_t>view.len, out)
        else:
            sy_sha256(<const uint8_t *>view.buf, <size_t>view.len, out)
    finally:
        PyBuffer_Release(&view)
    return PyBytes_FromStringAndSize(<const char *>out, 32)


cdef extern from "symphony/sha256.h":
    int sy_sha256__shani


def _use_fused_path(flag):
    """Testing/benchmark hook: enable (True) or disable the one-core fused scan+hash path."""
    global _use_fused
    _use_fused = bool(flag)


def _force_portable_sha256(portable):
    """Testing hook: run SHA-256 in portable C (True) or re-probe the CPU (False)."""
    global sy_sha256__shani
    sy_sha256__shani = 0 if portable else -1


def uses_sha_extensions():
    """uses_sha_extensions() -> bool. True when SHA-256 runs on the x86 SHA instructions."""
    return bool(sy_sha256_uses_shani())


# --------------------------------------------------------------------------- streaming
cdef class Chunker:
    """Cython twin of :class:`symphony.reference.hashing.Chunker`; semantics there."""

    def __cinit__(self):
        self.buf = NULL
        self.recs = NULL

    def __init__(self, min_size=DEFAULT_MIN_SIZE, avg_size=DEFAULT_AVG_SIZE,
                 max_size=DEFAULT_MAX_SIZE, level=DEFAULT_LEVEL, seed=0, content_digest=False):
        _init(&self.cdc, min_size, avg_size, max_size, level, seed)
        free(self.buf)
        self.buf = <uint8_t *>malloc(2 * self.cdc.max_size)
        if self.buf == NULL:
            raise MemoryError()
        self.blen = 0
        self.offset = 0
        self.want_content = bool(content_digest)
        self.done = False
        self.busy = False
        self.manifest_digest = None
        self.content_digest_value = None
        self.nrecs = 0
        sy_sha256_init(&self.manifest)
        sy_sha256_update(&self.manifest, <const uint8_t *><const char *>_DOMAIN, len(_DOMAIN))
        sy_sha256_init(&self.content)

    def __dealloc__(self):
        free(self.buf)
        free(self.recs)

    @property
    def pending(self):
        """Bytes buffered, not yet part of a returned chunk (always ``< max_size``)."""
        return self.blen

    @property
    def size(self):
        """Bytes fed so far."""
        return self.offset + self.blen

    @property
    def finished(self):
        """True once :meth:`finish` was called."""
        return self.done

    @property
    def manifest_id(self):
        """SHA-256 of the manifest; see the twin."""
        self._require_finished("manifest_id")
        return self.manifest_digest

    @property
    def content_sha256(self):
        """SHA-256 of all bytes fed, or ``None``; see the twin."""
        self._require_finished("content_sha256")
        return self.content_digest_value

    def _enter(self):
        # update() drops the GIL: a second thread must not touch the buffer meanwhile.
        if self.busy:
            raise ChunkerError("Chunker used from two threads at once (one Chunker per thread)")
        self.busy = True

    def _require_finished(self, what):
        if not self.done:
            raise ChunkerError(f"Chunker.{what} is only known after finish()")

    cdef int _emit(self, const uint8_t *p, size_t len_a, size_t len_b,
                   uint64_t offset) noexcept nogil:
        """Record chunk p[0:len_a] at stream offset ``offset`` and, when len_b, the chunk right
        after it (hashed as a pair). -1 when out of memory."""
        cdef ChunkRec *r
        if _grow(&self.recs, &self.caprecs, self.nrecs + 2) < 0:
            return -1
        r = &self.recs[self.nrecs]
        r[0].offset = offset
        r[0].length = len_a
        _digest_two(&self.content if self.want_content else NULL, p, len_a, r[0].digest,
                    len_b, r[1].digest)
        _manifest_add(&self.manifest, len_a, r[0].digest)
        self.nrecs += 1
        if len_b:
            r[1].offset = offset + len_a
            r[1].length = len_b
            _manifest_add(&self.manifest, len_b, r[1].digest)
            self.nrecs += 1
        return 0

    cdef int _feed(self, const uint8_t *p, size_t n) noexcept nogil:
        """Chunk pending + p[0:n] as far as max_size-long windows allow; -1 on OOM."""
        cdef size_t mx = self.cdc.max_size
        cdef size_t take, fill, start = 0, pos = 0, length, len_b
        cdef uint64_t h
        cdef uint64_t base = self.offset + self.blen   # stream offset of p[0]
        if self.blen:
            # Chunks that start in the pending bytes: judge them in buf, topped up with at most
            # max_size bytes of the piece (buf holds 2 * max_size).
            take = n if n < mx else mx
            memcpy(self.buf + self.blen, p, take)
            fill = self.blen + take
            while start < self.blen and fill - start >= mx:
                length = sy_cdc_cut(&self.cdc, self.buf + start, fill - start, &h)
                if self._emit(self.buf + start, length, 0, self.offset + start) < 0:
                    return -1
                start += length
            if start < self.blen:
                # The piece is used up (take == n) and no full window remains: keep the rest.
                memmove(self.buf, self.buf + start, fill - start)
                self.offset += start
                self.blen = fill - start
                return 0
            pos = start - self.blen
            self.blen = 0
        # Chunks that start in the piece: judge them in place (fused scan + SHA when possible).
        if n - pos >= mx and not self.want_content and _use_fused and sy_sha256_uses_shani():
            if self._fused(p + pos, n - pos, base + pos, &length) < 0:
                return -1
            pos += length
        while n - pos >= mx:
            length = sy_cdc_cut(&self.cdc, p + pos, n - pos, &h)
            len_b = 0
            if n - pos - length >= mx:      # the next chunk is decidable too: hash a pair
                len_b = sy_cdc_cut(&self.cdc, p + pos + length, n - pos - length, &h)
            if self._emit(p + pos, length, len_b, base + pos) < 0:
                return -1
            pos += length + len_b
        memcpy(self.buf, p + pos, n - pos)
        self.blen = n - pos
        self.offset = base + pos
        return 0

    cdef int _fused(self, const uint8_t *p, size_t n, uint64_t offset,
                    size_t *done) noexcept nogil:
        """Chunk and hash p[0:n] (at stream ``offset``) with the fused path, as far as
        max_size-long windows allow; *done = bytes consumed. -1 when out of memory."""
        cdef _HashJob job               # its own record array: digests arrive out of order
        cdef size_t first = self.nrecs, k
        cdef long count
        job.recs = NULL
        job.cap = 0
        job.count = 0
        job.manifest = NULL
        job.content = NULL
        count = sy_cdc_hash_fused_ex(&self.cdc, p, n, self.cdc.max_size, done, _on_digest, &job)
        if count < 0 or _grow(&self.recs, &self.caprecs, first + <size_t>count) < 0:
            free(job.recs)
            return -1
        for k in range(<size_t>count):
            self.recs[first + k] = job.recs[k]
            self.recs[first + k].offset += offset
            _manifest_add(&self.manifest, job.recs[k].length, job.recs[k].digest)
        self.nrecs = first + <size_t>count
        free(job.recs)
        return 0

    cdef int _final(self) noexcept nogil:
        cdef size_t start = 0, length, len_b
        cdef uint64_t h
        while start < self.blen:
            length = sy_cdc_cut(&self.cdc, self.buf + start, self.blen - start, &h)
            len_b = 0
            if start + length < self.blen:
                len_b = sy_cdc_cut(&self.cdc, self.buf + start + length,
                                   self.blen - start - length, &h)
            if self._emit(self.buf + start, length, len_b, self.offset + start) < 0:
                return -1
            start += length + len_b
        self.offset += self.blen
        self.blen = 0
        return 0

    cdef list _take_records(self):
        cdef list out = _records_to_list(self.recs, self.nrecs)
        self.nrecs = 0
        return out

    def update(self, data):
        """update(data) -> list[ChunkRecord]. See the twin."""
        cdef Py_buffer view
        cdef int rc
        acquire_bytes(data, &view, "Chunker.update data")
        try:
            if self.done:
                raise ChunkerError("Chunker.update() called after finish()")
            self._enter()
            try:
                if <size_t>view.len >= _NOGIL_THRESHOLD:
                    with nogil:
                        rc = self._feed(<const uint8_t *>view.buf, <size_t>view.len)
                else:
                    rc = self._feed(<const uint8_t *>view.buf, <size_t>view.len)
            finally:
                self.busy = False
        finally:
            PyBuffer_Release(&view)
        if rc < 0:
            self.nrecs = 0
            raise MemoryError()
        return self._take_records()

    def finish(self):
        """finish() -> list[ChunkRecord]. See the twin."""
        cdef uint8_t out[32]
        if self.done:
            raise ChunkerError("Chunker.finish() called twice")
        self._enter()
        self.busy = False   # _final runs with the GIL held: nothing can interleave
        if self._final() < 0:
            self.nrecs = 0
            raise MemoryError()
        sy_sha256_final(&self.manifest, out)
        self.manifest_digest = PyBytes_FromStringAndSize(<const char *>out, 32)
        if self.want_content:
            sy_sha256_final(&self.content, out)
            self.content_digest_value = PyBytes_FromStringAndSize(<const char *>out, 32)
        self.done = True
        return self._take_records()
