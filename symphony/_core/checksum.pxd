# C-level surface of symphony._core.checksum, for `cimport symphony._core.checksum`.
from libc.stdint cimport uint8_t, uint32_t

cdef extern from "symphony/crc32c.h" nogil:  # in symphony.get_include()
    uint32_t sy_crc32c(uint32_t crc, const uint8_t *p, size_t n)
    int sy_crc32c_uses_hardware()
    void sy_crc32c_init()

cdef uint32_t crc32c_raw(uint32_t value, const uint8_t *data, size_t length) noexcept nogil
