"""The one place the workflow package reaches the toposort kernel.

:func:`sort_levels` hands the graph as dense int arrays (node ``i`` is ``ids[i]``) to
``toposort.Graph`` and returns the deterministic order and the levels, or raises
:class:`~symphony.commons.errors.CycleError` carrying the kernel's cycle as a node path.

The kernel comes from :mod:`symphony.kernels` (Cython, or the twins under
``SYMPHONY_PURE_PYTHON=1``): that module is the one place that picks an implementation.
"""

from __future__ import annotations

from array import array
from itertools import chain
from types import ModuleType

from symphony import kernels

__all__ = ["IMPLEMENTATION", "sort_levels", "toposort"]


toposort: ModuleType = kernels.toposort
IMPLEMENTATION = kernels.IMPLEMENTATION
"""The toposort kernel module in use, and ``"cython"``/``"python"``."""


def sort_levels(
    n: int, src: array[int], dst: array[int]
) -> tuple[list[int], list[list[int]], object]:
    """Deterministic topological order and execution levels of a graph of ``n`` nodes.

    Level 0 holds the nodes without predecessors; a node's level is the length of the
    longest path ending at it. Within a level nodes are ascending by index, and the order is
    the levels concatenated (the kernel's :meth:`Graph.order`). Parallel edges are allowed;
    self-loops must be filtered out by the caller. The third item is the kernel's ``Graph``
    (for ``successors``/``predecessors`` queries without rebuilding adjacency in Python).

    Raises:
        CycleError: with ``cycle`` = ``[a, b, …, a]`` (node indices).
        InvalidGraph: bad indices or a self-loop (a bug in the caller).
    """
    graph = toposort.Graph(n, src, dst)
    out = [lvl.tolist() for lvl in graph.levels()]
    return list(chain.from_iterable(out)), out, graph
