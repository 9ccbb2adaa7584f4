"""The toposort kernel for the executor: :mod:`symphony.kernels` once it lists ``toposort``,
else the compiled :mod:`symphony._core.toposort` (the reference twin under
``SYMPHONY_PURE_PYTHON=1``)."""

from __future__ import annotations

from types import ModuleType

from symphony import kernels

__all__ = ["IMPLEMENTATION", "toposort"]


def _load() -> tuple[ModuleType, str]:
    if "toposort" in kernels.KERNELS:
        mod: ModuleType = getattr(kernels, "toposort")  # noqa: B009 - not yet in kernels' stub
        return mod, kernels.IMPLEMENTATION
    if not kernels.PURE_PYTHON:
        from symphony._core import toposort as core  # a demand, like symphony.kernels

        return core, "cython"
    from symphony.reference import toposort as ref

    return ref, "python"


toposort, IMPLEMENTATION = _load()
