"""Buffer handling shared by the pure-Python twins."""

from __future__ import annotations

from typing_extensions import Buffer


def byte_view(data: Buffer, what: str = "data", *, writable: bool = False) -> memoryview:
    """A flat, read-only ``memoryview`` of unsigned bytes over any C-contiguous buffer.

    Mirrors what the Cython twins get from ``PyObject_GetBuffer(..., PyBUF_SIMPLE)``:
    ``str`` and non-buffers raise ``TypeError``, non-contiguous buffers ``BufferError``.
    """
    if isinstance(data, str):
        raise TypeError(f"{what} needs a bytes-like object, got str")
    mv = memoryview(data)
    if not mv.c_contiguous or (writable and mv.readonly):
        raise BufferError(
            f"{what} must be a C-contiguous{' writable' if writable else ''} buffer"
        )
    if mv.format != "B" or mv.ndim != 1:
        mv = mv.cast("B")
    return mv if writable else mv.toreadonly()
