# C-level surface of symphony._core.codec, for `cimport symphony._core.codec`.
# bincode Values are Python objects, so these entry points need the GIL: there is no nogil
# API in this kernel (the readers below are the only pure-C parts, and they are inline).

cdef struct Buf:
    char* data
    Py_ssize_t len
    Py_ssize_t cap

cdef int _venc(Buf* b, object v, int depth) except -1
cdef object _vdec(const unsigned char* p, Py_ssize_t n_buf, Py_ssize_t* at, int depth)
cdef object _dec_envelope(const unsigned char* p, Py_ssize_t n_buf, object type_names, object endpoint_names)
