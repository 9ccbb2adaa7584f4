"""Cython twin of :mod:`symphony.reference.checksum`; semantics there.

Performance notes: SSE4.2 ``crc32`` when the CPU has it, slicing-by-8 otherwise (both in
``symphony/include/symphony/crc32c.h``); the GIL is released for inputs of 64 KiB and more.
"""

from cpython.buffer cimport PyBuffer_Release

from symphony._core._buffer cimport acquire_bytes
from libc.stdint cimport uint8_t, uint32_t

sy_crc32c_init()

cdef size_t _NOGIL_THRESHOLD = 64 * 1024


cdef uint32_t crc32c_raw(uint32_t value, const uint8_t *data, size_t length) noexcept nogil:
    """CRC-32C of ``length`` bytes at ``data``, continuing ``value`` (C callers)."""
    return sy_crc32c(value, data, length)


def crc32c(data, value=0):
    """crc32c(data, value=0) -> int. See :func:`symphony.reference.checksum.crc32c`."""
    cdef Py_buffer view
    cdef uint32_t crc
    if not (0 <= value <= 0xFFFFFFFF):
        raise ValueError(f"crc32c value must be in [0, 2**32), got {value!r}")
    crc = <uint32_t>value
    acquire_bytes(data, &view, "crc32c data")
    try:
        if <size_t>view.len >= _NOGIL_THRESHOLD:
            with nogil:
                crc = sy_crc32c(crc, <const uint8_t *>view.buf, <size_t>view.len)
        else:
            crc = sy_crc32c(crc, <const uint8_t *>view.buf, <size_t>view.len)
    finally:
        PyBuffer_Release(&view)
    return crc


def uses_hardware():
    """uses_hardware() -> bool. True when the SSE4.2 instruction path is in use."""
    return bool(sy_crc32c_uses_hardware())


def noop():
    """noop() -> None. Does nothing: measures the cost of calling into a kernel."""
    return None
