# cython: language_level=3
"""Loops over Symphony kernels written in Cython against the shipped .pxd files."""

from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memset

from symphony._core.ring cimport (
    Ring, SY_RING_PUSHED, ring_pop_raw, ring_push_raw, sy_ring_pop_copy, sy_ring_push,
)
from symphony._core.checksum cimport crc32c_raw
from symphony._core.hashing cimport cut_points_raw, sha256_raw


def push_pop(Ring ring, Py_ssize_t n, Py_ssize_t size):
    """Push one ``size``-byte message and pop it back, ``n`` times, with the GIL released.

    Message ``i`` carries ``(i + j) & 0xFF`` at byte ``j``; every popped byte is checked.
    Returns the number of messages that came back intact (``n`` unless something is wrong).
    The ring must be empty and not in use by another thread of this process meanwhile.
    """
    if size < 0 or size > 4096 or size > ring.inline_limit:
        raise ValueError(f"size must be in [0, min(4096, inline_limit)], got {size}")
    cdef uint8_t msg[4096]
    cdef uint8_t out[4096]
    cdef Py_ssize_t i, j, ok = 0
    cdef int64_t got
    cdef uint32_t length = <uint32_t>size
    with nogil:
        for i in range(n):
            for j in range(size):
                msg[j] = <uint8_t>(i + j)
            if ring_push_raw(&ring._r, msg, length) != SY_RING_PUSHED:
                break
            got = ring_pop_raw(&ring._r, out, 4096)
            if got != size:
                break
            for j in range(size):
                if out[j] != <uint8_t>(i + j):
                    break
            else:
                ok += 1
    return ok


def push_pop_inline(Ring ring, Py_ssize_t n, Py_ssize_t size):
    """:func:`push_pop` without the per-message fill and check: the bare loop through the
    inline C of ``ring.h`` (what a plain C program compiles). Returns messages round-tripped."""
    if size < 0 or size > 4096 or size > ring.inline_limit:
        raise ValueError(f"size must be in [0, min(4096, inline_limit)], got {size}")
    cdef uint8_t msg[4096]
    cdef uint8_t out[4096]
    cdef Py_ssize_t i, ok = 0
    cdef uint32_t length = <uint32_t>size
    memset(msg, 0, sizeof(msg))
    with nogil:
        for i in range(n):
            msg[0] = <uint8_t>i
            if sy_ring_push(&ring._r, msg, length, 0) != SY_RING_PUSHED:
                break
            if sy_ring_pop_copy(&ring._r, out, 4096) != size:
                break
            ok += 1
    return ok


def push_pop_raw(Ring ring, Py_ssize_t n, Py_ssize_t size):
    """The bare loop (no fill, no check) through the ``cdef`` API ``ring_push_raw`` /
    ``ring_pop_raw`` of ``ring.pxd``: what the benchmark compares with plain C."""
    if size < 0 or size > 4096 or size > ring.inline_limit:
        raise ValueError(f"size must be in [0, min(4096, inline_limit)], got {size}")
    cdef uint8_t msg[4096]
    cdef uint8_t out[4096]
    cdef Py_ssize_t i, ok = 0
    cdef uint32_t length = <uint32_t>size
    memset(msg, 0, sizeof(msg))
    with nogil:
        for i in range(n):
            msg[0] = <uint8_t>i
            if ring_push_raw(&ring._r, msg, length) != SY_RING_PUSHED:
                break
            if ring_pop_raw(&ring._r, out, 4096) != size:
                break
            ok += 1
    return ok


def cut_points(const uint8_t[::1] data, size_t min_size=4096, size_t avg_size=16384,
               size_t max_size=65536, int level=1, uint64_t seed=0):
    """FastCDC cut points (chunk end offsets) of ``data``, computed with the GIL released."""
    cdef size_t n = data.shape[0]
    cdef size_t cap = n // min_size + 2
    cdef size_t *ends = <size_t *>malloc(cap * sizeof(size_t))
    cdef Py_ssize_t count
    if ends == NULL:
        raise MemoryError()
    try:
        with nogil:
            count = cut_points_raw(&data[0] if n else NULL, n, min_size, avg_size, max_size,
                                   level, seed, ends, cap)
        if count < 0:
            raise ValueError(f"bad chunker parameters (code {count})")
        if <size_t>count > cap:
            raise RuntimeError(f"{count} chunks > capacity {cap}")
        return [ends[k] for k in range(count)]
    finally:
        free(ends)


def sha256(const uint8_t[::1] data):
    """SHA-256 of ``data`` (GIL released)."""
    cdef uint8_t out[32]
    with nogil:
        sha256_raw(&data[0] if data.shape[0] else NULL, data.shape[0], out)
    return bytes(out[:32])


def crc32c(const uint8_t[::1] data, uint32_t value=0):
    """CRC-32C of ``data`` continuing ``value`` (GIL released), via ``checksum.pxd``."""
    cdef uint32_t out
    with nogil:
        out = crc32c_raw(value, &data[0] if data.shape[0] else NULL, data.shape[0])
    return out
