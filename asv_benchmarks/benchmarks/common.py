"""Shared helpers for the asv suite. Data generators here are append-only (numpy's rule):
changing one silently changes every historical result that used it."""

from __future__ import annotations

import importlib
import random
from types import ModuleType

IMPLS = ["cython", "python"]


def load_kernel(impl: str, kernel: str) -> ModuleType:
    """The kernel module of one implementation; skips (NotImplementedError) if absent."""
    pkg = {"cython": "symphony._core", "python": "symphony.reference"}[impl]
    try:
        return importlib.import_module(f"{pkg}.{kernel}")
    except ImportError as exc:
        raise NotImplementedError(f"no {impl} {kernel} at this commit") from exc


def seeded_bytes(nbytes: int, seed: int = 1) -> bytes:
    """``nbytes`` of reproducible pseudo-random data."""
    return random.Random(seed).randbytes(nbytes)
