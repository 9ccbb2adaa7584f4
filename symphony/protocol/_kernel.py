"""Which codec kernel the protocol layer runs: ``symphony._core.codec`` (Cython) unless
``SYMPHONY_PURE_PYTHON`` is set, then ``symphony.reference.codec``.

A demand, not a preference (the rule of :mod:`symphony.kernels`, repeated here until
``codec`` joins ``kernels.KERNELS``; then this becomes ``from symphony.kernels import codec``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Final

__all__ = ["PURE_PYTHON", "codec"]

PURE_PYTHON: Final = os.environ.get("SYMPHONY_PURE_PYTHON", "") not in ("", "0")

if TYPE_CHECKING or PURE_PYTHON:
    from symphony.reference import codec
else:
    try:
        from symphony._core import codec
    except ImportError as exc:
        raise ImportError(
            "symphony's Cython codec kernel is not built (importing symphony._core.codec "
            f"failed: {exc}); run `pip install .` (or `python setup.py build_ext --inplace`), "
            "or set SYMPHONY_PURE_PYTHON=1 to run on the pure-Python twins"
        ) from exc
