"""Which kernel implementation runs: Cython ``_core``, or the ``reference`` twins.

This is the one place that picks. ``SYMPHONY_PURE_PYTHON=1`` selects the pure-Python twins
in :mod:`symphony.reference`; otherwise the compiled modules in :mod:`symphony._core` are a
*demand*, not a preference: if they are missing, importing this module raises an
``ImportError`` that says what to do, rather than silently running something slower (a
silent fallback turns every benchmark and test into a measurement of something else).

Public surface: the kernel modules below, and :data:`IMPLEMENTATION`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Final, Literal

__all__ = [
    "IMPLEMENTATION",
    "KERNELS",
    "PURE_PYTHON",
    "alloc",
    "checksum",
    "codec",
    "hashing",
    "ring",
    "toposort",
]

PURE_PYTHON: Final = os.environ.get("SYMPHONY_PURE_PYTHON", "") not in ("", "0")
"""True when ``SYMPHONY_PURE_PYTHON`` is set to anything but ``""`` or ``"0"``."""

KERNELS: Final = ("alloc", "checksum", "codec", "hashing", "ring", "toposort")
"""The kernel modules, by name (each exists in both ``_core`` and ``reference``)."""

if TYPE_CHECKING or PURE_PYTHON:
    from symphony.reference import alloc, checksum, codec, hashing, ring, toposort
else:
    try:
        from symphony._core import alloc, checksum, codec, hashing, ring, toposort
    except ImportError as exc:
        raise ImportError(
            "symphony's Cython kernels are not built (importing symphony._core failed: "
            f"{exc}); run `pip install .` (or `python setup.py build_ext --inplace` in a "
            "checkout), or set SYMPHONY_PURE_PYTHON=1 to run on the pure-Python twins"
        ) from exc

IMPLEMENTATION: Final[Literal["cython", "python"]] = "python" if PURE_PYTHON else "cython"
"""``"cython"`` or ``"python"``: which implementation this process uses."""
