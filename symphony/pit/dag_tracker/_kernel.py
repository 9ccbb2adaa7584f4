"""The toposort kernel for the executor, taken from :mod:`symphony.kernels` (the one place
that picks Cython or the pure-Python twins)."""

from __future__ import annotations

from types import ModuleType

from symphony import kernels

__all__ = ["IMPLEMENTATION", "toposort"]

toposort: ModuleType = kernels.toposort
IMPLEMENTATION = kernels.IMPLEMENTATION
