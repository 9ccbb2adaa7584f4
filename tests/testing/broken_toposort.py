"""A deliberately broken toposort wrapper: the reference, except that it forgets to refuse a
self-loop (the edge check skips ``src == dst``) -- ``symphony.testing`` must catch it."""

from __future__ import annotations

from typing import Any

from symphony.reference import toposort as _ref
from symphony.reference.toposort import MAX_NODES, Graph, ReadyTracker, find_cycle, levels

__all__ = ["MAX_NODES", "Graph", "ReadyTracker", "find_cycle", "levels", "toposort"]


def toposort(n: Any, src: Any, dst: Any, *, lexicographic: bool = False) -> Any:
    pairs = [(s, d) for s, d in zip(list(src), list(dst)) if s != d]
    return _ref.toposort(
        n, [s for s, _ in pairs], [d for _, d in pairs], lexicographic=lexicographic
    )
