# C-level surface of symphony._core.alloc, for `cimport symphony._core.alloc`.
#
# Another extension can take an Arena from Python and then work with no Python objects at
# all, e.g.
#
#     from symphony._core.alloc cimport Arena, sy_arena_alloc, sy_arena_ptr, sy_arena_free
#     cdef Arena arena = obj
#     with nogil:
#         rc = sy_arena_alloc(&arena._a, n, &handle)
#         p = sy_arena_ptr(&arena._a, handle, &nbytes)
#
# (keep the Arena object alive and open meanwhile). Include path: symphony/include.
from cpython.buffer cimport Py_buffer
from libc.stdint cimport uint8_t, uint32_t, uint64_t

cdef extern from "symphony/arena.h" nogil:
    enum:
        SY_ARENA_OK
        SY_ARENA_EXHAUSTED
        SY_ARENA_TOO_LARGE
        SY_ARENA_STALE
        SY_ARENA_DOUBLE_FREE
        SY_ARENA_CORRUPT
        SY_ARENA_E_SMALL
        SY_ARENA_E_MAGIC
        SY_ARENA_E_VERSION
        SY_ARENA_E_HEADER
        SY_ARENA_E_SIZE
        SY_ARENA_E_OFFSETS
        SY_ARENA_E_CLASS
        SY_ARENA_E_COUNTS
        SY_ARENA_E_CLASSES
        SY_ARENA_E_NOSPACE
        SY_ARENA_E_TOO_MANY
        SY_ARENA_MAX_CLASSES

    ctypedef struct sy_arena:
        uint8_t *base
        uint64_t size
        uint32_t nclasses
        uint32_t nblocks
        uint8_t *heads
        uint8_t *blocks
        uint64_t data_offset
        uint32_t block_size[32]
        uint32_t block_count[32]
        uint32_t first_index[32]
        uint64_t class_data[32]

    int sy_arena_open(sy_arena *a, void *base, uint64_t length)
    int sy_arena_plan(uint64_t size, const uint32_t *classes, uint32_t n, uint32_t *sizes,
                      uint64_t *counts, uint32_t *nout)
    int sy_arena_format(sy_arena *a, void *base, uint64_t size, const uint32_t *classes, uint32_t n)
    int sy_arena_class_for(const sy_arena *a, uint64_t nbytes)
    int sy_arena_alloc(sy_arena *a, uint64_t nbytes, uint64_t *handle)
    int sy_arena_free(sy_arena *a, uint64_t handle)
    int sy_arena_resolve(const sy_arena *a, uint64_t handle, uint64_t *offset, uint32_t *nbytes)
    void *sy_arena_ptr(const sy_arena *a, uint64_t handle, uint32_t *nbytes)
    uint32_t sy_arena_generation(const sy_arena *a, uint32_t index)
    void sy_arena_class_stats(const sy_arena *a, uint32_t c, uint64_t out[3])


cdef class Arena:
    cdef sy_arena _a  # the validated, process-private tables (valid while _open)
    cdef Py_buffer _buf
    cdef bint _open
    cdef object _mv
    cdef object _mmap
    cdef object _name

    cdef int _format(self, object classes) except -1
    cdef int _acquire(self, object buf) except -1
    cdef void _release(self) noexcept
    cdef int _raise(self, int rc, object what) except -1
    cdef uint64_t _handle(self, object handle) except? 0
    cdef int _resolve(self, object handle, uint64_t *off, uint32_t *nbytes) except -1
