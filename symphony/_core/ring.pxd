# C-level surface of symphony._core.ring, for `cimport symphony._core.ring` (issue 11).
# The algorithm is static inline C in symphony/include/symphony/ring.h (symphony.get_include());
# a Ring's raw handle is `ring._r` (a sy_ring): push/pop on raw buffers with no Python objects,
# e.g.  `with nogil: ok = ring_push_raw(&ring._r, p, n)`.
# Raw users bypass the Ring's busy count: hold a reference to the Ring and do not let another
# thread close() it while you use `ring._r` (close() defers the unmap only for calls made
# through the Ring's own methods; see docs/ring-format.md, "Closing a handle").
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t

cdef extern from "symphony/ring.h" nogil:
    ctypedef struct sy_ring_stats:
        uint64_t pushed
        uint64_t pushed_bytes
        uint64_t popped
        uint64_t popped_bytes
        uint64_t full_events
        uint64_t empty_events
        uint64_t skipped
        uint64_t wakeups

    ctypedef struct sy_ring:
        uint8_t *base
        uint8_t *data
        uint64_t cap
        uint64_t mask
        uint64_t inline_limit
        uint64_t data_offset
        uint64_t segment_size
        uint32_t flags
        uint32_t nslots
        uint32_t pid
        int32_t slot
        uint64_t tail_local
        uint64_t head_local
        sy_ring_stats st
        uint32_t closing

    enum:
        SY_RING_VERSION
        SY_RING_HEADER_SIZE
        SY_RING_SLOT_SIZE
        SY_RING_REC_HDR
        SY_RING_MAX_SLOTS
        SY_RING_PENDING_POLLS
        SY_RING_OFF_MAGIC
        SY_RING_OFF_VERSION
        SY_RING_OFF_FLAGS
        SY_RING_OFF_CAPACITY
        SY_RING_OFF_DATA
        SY_RING_OFF_SEGSIZE
        SY_RING_OFF_INLINE
        SY_RING_OFF_CREATOR
        SY_RING_OFF_NSLOTS
        SY_RING_OFF_TAIL
        SY_RING_OFF_HEAD
        SY_RING_OFF_CONSUMER_PID
        SY_RING_OFF_WAITING
        SY_RING_OFF_DATA_SEQ
        SY_RING_OFF_BELL_PID
        SY_RING_OFF_BELL_FD
        SY_RING_OFF_SPACE_WAITERS
        SY_RING_OFF_SPACE_SEQ
        SY_RING_OFF_PRODUCER_PID
        SY_RING_OFF_SPACE_BELLS
        SY_RING_OFF_SPACE_BELL_PID
        SY_RING_OFF_SPACE_BELL_FD
        SY_RING_OFF_ARENA_LEN
        SY_RING_OFF_ARENA_NAME
        SY_RING_ARENA_NAME_MAX
        SY_RING_OFF_SLOTS
        SY_RING_SLOT_PID
        SY_RING_SLOT_START
        SY_RING_SLOT_END
        SY_RING_SLOT_BELL_FD
        SY_RING_SLOT_BELL_WAITING
        SY_RING_MULTI_PRODUCER
        SY_RING_HAS_ARENA
        SY_REC_COMMITTED
        SY_REC_PAD
        SY_REC_ARENA
        SY_WAIT_FUTEX
        SY_WAIT_DOORBELL
        SY_RING_EMPTY
        SY_RING_READY
        SY_RING_PENDING
        SY_RING_FULL
        SY_RING_PUSHED
        SY_RING_NO_SLOT
        SY_RING_CLOSED

    unsigned long long SY_RING_MAGIC
    unsigned long long SY_RING_MIN_CAPACITY
    unsigned long long SY_RING_MAX_CAPACITY
    unsigned long long SY_RING_MAX_INLINE

    uint64_t SY_REC_SIZE(uint64_t length)
    uint32_t SY_REC_LEN(uint64_t word)
    uint32_t SY_REC_FLAGS(uint64_t word)

    uint64_t sy_ld64(const uint64_t *p)
    uint32_t sy_ld32(const uint32_t *p)
    void sy_st64(uint64_t *p, uint64_t v)
    void sy_st32(uint32_t *p, uint32_t v)
    void sy_fence()
    int sy_pid_alive(uint32_t pid)
    uint64_t sy_ring_data_offset(uint32_t nslots)
    void sy_ring_format(uint8_t *base, uint64_t cap, uint32_t flags, uint32_t nslots,
                        uint64_t inline_limit, uint32_t creator_pid, const char *arena_name,
                        uint32_t arena_len)
    int sy_ring_check(const uint8_t *base, uint64_t size)
    void sy_ring_open(sy_ring *r, uint8_t *base, uint32_t pid)
    void sy_ring_release_handle(sy_ring *r)
    int sy_ring_closing(const sy_ring *r)
    void sy_ring_interrupt(sy_ring *r)
    void sy_ring_producer_sync(sy_ring *r)
    void sy_ring_consumer_sync(sy_ring *r)
    int sy_ring_write_spsc(sy_ring *r, const void *p, uint32_t length, uint32_t rflags)
    void sy_ring_publish(sy_ring *r)
    int sy_ring_push(sy_ring *r, const void *p, uint32_t length, uint32_t rflags)
    int sy_ring_peek(sy_ring *r, uint64_t *word, const uint8_t **payload)
    void sy_ring_advance(sy_ring *r, uint64_t word)
    void sy_ring_consumer_publish(sy_ring *r)
    int sy_ring_recover(sy_ring *r)
    int sy_ring_note_pending(sy_ring *r, uint32_t limit)
    int sy_ring_nonempty(sy_ring *r)
    int sy_ring_wait_readable(sy_ring *r, int64_t timeout_ns, int64_t spin_ns)
    int sy_ring_nearly_full(sy_ring *r, uint32_t length)
    int sy_ring_wait_writable(sy_ring *r, uint64_t need, int64_t timeout_ns, int64_t spin_ns)
    int64_t sy_ring_pop_copy(sy_ring *r, void *out, uint64_t outcap)
    int sy_ring_fits_now(sy_ring *r, uint64_t need)
    int sy_ring_space_bell_register(sy_ring *r, int32_t fd)
    void sy_ring_space_bell_arm(sy_ring *r)
    void sy_ring_space_bell_disarm(sy_ring *r)
    void sy_ring_ring_space_bells(sy_ring *r)


cdef class Ring:
    cdef sy_ring _r
    cdef Py_buffer _view
    cdef bint _mapped      # open for calls (False from close() on)
    cdef bint _held        # the mapping is held (until the last busy call leaves)
    cdef int _busy         # calls inside the mapping right now (see close())
    cdef int _space_bell   # eventfd of wait_writable_async, -1 none
    cdef object _mm
    cdef object _arena
    cdef str _name
    cdef int _own_bell
    cdef int64_t _spin_ns
    cdef int64_t _bytes_adjust_push
    cdef int64_t _bytes_adjust_pop
    cdef uint64_t _wakes   # wake() calls (appended last: earlier field offsets unchanged)

    cdef int _map(self, str name, object mm) except -1
    cdef int _live(self) except -1
    cdef int _enter(self) except -1
    cdef int _leave(self) except -1
    cdef int _release(self) except -1
    cdef object _push_many(self, object buffers)
    cdef object _push_wait(self, object data, object timeout)
    cdef object _pop_wait(self, int64_t limit)
    cdef int _push_one(self, object data) except -3
    cdef object _pop_one(self)


cdef int ring_push_raw(sy_ring *r, const void *data, uint32_t length) noexcept nogil
cdef int64_t ring_pop_raw(sy_ring *r, void *out, uint64_t outcap) noexcept nogil
