"""Which codec kernel the protocol layer runs: taken from :mod:`symphony.kernels`, the one
place that picks an implementation (Cython ``_core``, or the twins under
``SYMPHONY_PURE_PYTHON=1``)."""

from __future__ import annotations

from symphony.kernels import PURE_PYTHON, codec

__all__ = ["PURE_PYTHON", "codec"]
