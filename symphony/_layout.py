"""Shared-memory byte layouts: magic numbers, versions and struct formats.

Imported by BOTH twins (``symphony._core`` and ``symphony.reference``) so that they write the
same bytes; the C headers under ``symphony/include/`` repeat these values, and a test checks
that they agree. Nothing here may change without bumping the matching version.
"""

from __future__ import annotations

from typing import Final

CACHE_LINE: Final = 64
"""Bytes per cache line; cursors written by different processes live on different lines."""

# ---- ring (owned by symphony/{_core,reference}/ring) -------------------------------------

# ---- arena allocator (owned by symphony/{_core,reference}/alloc) -------------------------
