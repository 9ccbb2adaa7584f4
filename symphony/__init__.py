"""Symphony: the backend of an AI-first development environment.

API index. Subpackages (see ARCHITECTURE in the README):

- :mod:`symphony.kernels`  — the hot-path kernels (Cython, or the pure-Python twins)
- :mod:`symphony.commons`  — errors, logging, config, fs, pre-validation, ``duck()``
- :mod:`symphony.ports`    — the six ports (typing.Protocol) and their mock adapters

``import symphony`` stays light: it imports no kernel, trio or third-party module.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["__version__", "get_include"]

__version__ = "0.1.0"


def get_include() -> str:
    """Directory of the C headers shipped with Symphony (like ``numpy.get_include()``).

    Add it to ``include_dirs`` to ``cimport`` Symphony's kernels from another Cython
    extension or to include ``symphony/include/*.h`` from C.
    """
    return str(Path(__file__).parent / "include")
