"""Demo of embedding Symphony's kernels from another Cython extension (no GIL on the hot path).

- :func:`push_pop` — push and pop ``n`` messages through a Symphony ``Ring`` from C, through
  the ``cdef`` entry points ``ring_push_raw``/``ring_pop_raw`` declared in ``ring.pxd``.
- :func:`push_pop_inline` — the same loop through the inline C of ``symphony/ring.h``
  (``sy_ring_push``/``sy_ring_pop_copy``), also declared in ``ring.pxd``.
- :func:`cut_points` — FastCDC cut points of a buffer via ``cut_points_raw`` (``hashing.pxd``).
- :func:`sha256` — SHA-256 via ``sha256_raw`` (``hashing.pxd``).
- :func:`crc32c` — CRC-32C via ``crc32c_raw`` (``checksum.pxd``).
"""

from __future__ import annotations

from symphony_embed_demo._loops import crc32c, cut_points, push_pop, push_pop_inline, sha256

__all__ = ["crc32c", "cut_points", "push_pop", "push_pop_inline", "sha256"]
