"""The toposort kernel: build + sort, orders, levels, cycles, reachability, ready tracking.

Graphs are seeded random DAGs (``_dag`` below: append-only, like common.py -- changing it
changes every historical result). Peers are compared in ``symphony bench toposort``; asv
tracks Symphony's two implementations over time.
"""

from __future__ import annotations

import random
from array import array

from .common import IMPLS, load_kernel

SIZES = [10_000, 100_000]


def _dag(n: int, m: int, seed: int = 42) -> tuple[array[int], array[int]]:
    """A random DAG of ``m`` edges as int32 arrays (src, dst) over a random labelling."""
    rnd = random.Random(seed)
    label = list(range(n))
    rnd.shuffle(label)
    src, dst = array("i"), array("i")
    for _ in range(m):
        a = rnd.randrange(n)
        b = rnd.randrange(n - 1)
        b += b >= a
        if a > b:
            a, b = b, a
        src.append(label[a])
        dst.append(label[b])
    return src, dst


def _cyclic(src: array[int], dst: array[int]) -> tuple[array[int], array[int]]:
    """The edges plus one that closes the path src[0] -> dst[0]: a 2-cycle, at least."""
    s, d = array("i", src), array("i", dst)
    s.append(dst[0])
    d.append(src[0])
    return s, d


class _Base:
    params = (IMPLS, SIZES)
    param_names = ("impl", "n")

    def setup(self, impl: str, n: int) -> None:
        if impl == "python" and n > 10_000:
            raise NotImplementedError("the twin is benchmarked at 10k only")
        self.k = load_kernel(impl, "toposort")
        self.n = n
        self.src, self.dst = _dag(n, 5 * n)
        self.g = self.k.Graph(n, self.src, self.dst)


class BuildSort(_Base):
    def time_build(self, impl: str, n: int) -> None:
        self.k.Graph(self.n, self.src, self.dst)

    def time_build_and_sort(self, impl: str, n: int) -> None:
        self.k.toposort(self.n, self.src, self.dst)

    def time_order(self, impl: str, n: int) -> None:
        self.g.order()

    def time_lexicographic_order(self, impl: str, n: int) -> None:
        self.g.lexicographic_order()

    def time_levels(self, impl: str, n: int) -> None:
        self.g.levels()

    def peakmem_build_and_sort(self, impl: str, n: int) -> None:
        self.k.toposort(self.n, self.src, self.dst)


class Cycles(_Base):
    def setup(self, impl: str, n: int) -> None:
        super().setup(impl, n)
        self.cyclic = self.k.Graph(n, *_cyclic(self.src, self.dst))

    def time_find_cycle_dag(self, impl: str, n: int) -> None:
        self.g.find_cycle()

    def time_find_cycle_cyclic(self, impl: str, n: int) -> None:
        self.cyclic.find_cycle()


class Reachability(_Base):
    def setup(self, impl: str, n: int) -> None:
        super().setup(impl, n)
        order = self.g.order()
        self.top, self.bottom = order[0], order[len(order) - 1]
        self.g.ancestors(self.bottom)  # the cached reverse adjacency

    def time_descendants(self, impl: str, n: int) -> None:
        self.g.descendants(self.top)

    def time_ancestors(self, impl: str, n: int) -> None:
        self.g.ancestors(self.bottom)


class Tracker(_Base):
    def time_construction(self, impl: str, n: int) -> None:
        self.k.ReadyTracker(self.g)

    def time_run_done_one_at_a_time(self, impl: str, n: int) -> None:
        t = self.k.ReadyTracker(self.g)
        while t.is_active():
            for v in t.ready():
                t.done(v)

    def time_run_done_per_wave(self, impl: str, n: int) -> None:
        t = self.k.ReadyTracker(self.g)
        while t.is_active():
            t.done(t.ready())


class _Edge:
    __slots__ = ("source", "target")

    def __init__(self, source: str, target: str) -> None:
        self.source, self.target = source, target


class LabelColumns:
    """``label_columns``: labelled edge objects (slotted, string ids) to int64 columns."""

    params = (IMPLS, [10_000])
    param_names = ("impl", "n")

    def setup(self, impl: str, n: int) -> None:
        self.k = load_kernel(impl, "toposort")
        src, dst = _dag(n, 5 * n)
        ids = [f"n{i}" for i in range(n)]
        self.index = {x: i for i, x in enumerate(ids)}
        self.edges = [_Edge(ids[s], ids[d]) for s, d in zip(src, dst)]

    def time_ends(self, impl: str, n: int) -> None:
        self.k.label_columns(self.edges, ["source", "target"], [self.index, self.index])

    def time_grow(self, impl: str, n: int) -> None:
        self.k.label_columns(self.edges, ["source"], [{}], grow=True)
