"""Differential testing as a library: run Symphony's twin tests against YOUR implementation.

Symphony's kernels each exist twice, a Cython kernel (:mod:`symphony._core`) and a pure-Python
twin (:mod:`symphony.reference`, the specification). The tests that keep the two in step are
shipped here so that anyone who rebuilds or re-implements a kernel can run them against their
build::

    pip install "symphony[test]"          # hypothesis is a test extra
    python -m symphony.testing checksum my_package.my_crc32c

or from Python / pytest::

    from symphony.testing import check_kernel
    check_kernel("checksum", my_module)    # raises AssertionError with a falsifying example

What is here:

- :mod:`symphony.testing.strategies` — Hypothesis strategies for every kernel's inputs
  (graphs, byte data with split points, chunker parameters, allocator and ring op sequences).
- :mod:`symphony.testing.machines` — the stateful machines for the ring and the allocator,
  as factories taking the two implementations as arguments.
- :mod:`symphony.testing.twins` — :func:`assert_twins_agree` (two callables, one strategy:
  same results and the same error classes), :func:`outcome`, and :func:`check_kernel`, the
  whole differential suite of one kernel against a candidate module.

``import symphony`` never imports this package, and this package imports Hypothesis only
when it is itself imported (an :class:`ImportError` says to install the ``test`` extra).
"""

from __future__ import annotations

try:
    import hypothesis as _hypothesis  # noqa: F401  (fail early with a clear message)
except ImportError as exc:  # pragma: no cover - exercised only without the test extra
    raise ImportError(
        "symphony.testing needs Hypothesis: install the test extra, "
        '`pip install "symphony[test]"` (or `pip install hypothesis`)'
    ) from exc

from symphony.testing.twins import (
    KERNEL_SUITES,
    Outcome,
    assert_twins_agree,
    check_kernel,
    outcome,
)

__all__ = ["KERNEL_SUITES", "Outcome", "assert_twins_agree", "check_kernel", "outcome"]
