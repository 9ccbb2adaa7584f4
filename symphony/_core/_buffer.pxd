# Buffer acquisition shared by the Cython kernels; the twin is symphony/reference/_buffer.py.
from cpython.buffer cimport PyBUF_SIMPLE, PyBUF_WRITABLE, PyObject_GetBuffer


cdef inline int acquire_bytes(object data, Py_buffer *view, str what, bint writable=False) except -1:
    """Fill ``view`` with a flat byte buffer over ``data``; release with PyBuffer_Release.

    str / non-buffers raise TypeError; a buffer that cannot be exported as contiguous bytes
    raises BufferError (exporters disagree on their own error: numpy says ValueError).
    """
    if isinstance(data, str):
        raise TypeError(f"{what} needs a bytes-like object, got str")
    try:
        PyObject_GetBuffer(data, view, PyBUF_WRITABLE if writable else PyBUF_SIMPLE)
    except TypeError:
        raise
    except Exception as exc:
        raise BufferError(f"{what} must be a C-contiguous{' writable' if writable else ''} buffer: {exc}") from exc
    return 0
