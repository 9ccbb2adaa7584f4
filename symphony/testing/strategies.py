"""Hypothesis strategies for every kernel's inputs (what Symphony's own twin tests draw).

Each strategy draws *both* good and bad inputs unless it says otherwise: a re-implementation
must agree with the reference on the errors too (the same exception classes).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from hypothesis import strategies as st

from symphony._cdc import AVERAGE_MIN, MAXIMUM_MIN, MINIMUM_MIN

__all__ = [
    "alloc_ops",
    "byte_data",
    "chunker_params",
    "crc_values",
    "dags",
    "data_and_splits",
    "graphs",
    "handles",
    "pieces",
    "ring_ops",
    "size_class_sets",
]

Graph = tuple[int, list[int], list[int]]
"""``(n, src, dst)``: ``n`` nodes ``0..n-1`` and edges ``src[i] -> dst[i]``."""


def byte_data(max_size: int = 4096) -> st.SearchStrategy[bytes]:
    """Bytes: mostly random, sometimes runs of one value (chunkers behave differently there)."""
    runs = st.builds(lambda b, n: bytes([b]) * n, st.integers(0, 255), st.integers(0, max_size))
    return st.one_of(st.binary(max_size=max_size), runs)


@st.composite
def data_and_splits(draw: st.DrawFn, max_size: int = 4096) -> tuple[bytes, list[int]]:
    """Bytes and sorted split points in ``[0, len]``: feed the pieces to a streaming API and
    the result must equal the one-shot result."""
    data = draw(byte_data(max_size))
    cuts = draw(st.lists(st.integers(0, len(data)), max_size=6))
    return data, sorted(cuts)


def pieces(data: bytes, splits: list[int]) -> list[bytes]:
    """``data`` cut at ``splits`` (empty pieces included)."""
    bounds = [0, *splits, len(data)]
    return [data[a:b] for a, b in pairwise(bounds)]


def crc_values() -> st.SearchStrategy[int]:
    """CRC seeds: valid ``[0, 2**32)`` and a few out-of-range ones."""
    return st.one_of(st.integers(0, 2**32 - 1), st.sampled_from([-1, 2**32, 2**64]))


@st.composite
def chunker_params(draw: st.DrawFn, valid: bool | None = None) -> dict[str, Any]:
    """Keyword arguments for the chunker (``min_size``, ``avg_size``, ``max_size``, ``level``,
    ``seed``), small enough that a few KiB of data make several chunks. ``valid=True`` draws
    only accepted ones, ``False`` only refused ones, ``None`` both."""
    good = {
        "min_size": draw(st.sampled_from([MINIMUM_MIN, 128, 256])),
        "avg_size": draw(st.sampled_from([AVERAGE_MIN, 512, 1024])),
        "max_size": draw(st.sampled_from([MAXIMUM_MIN, 2048, 4096])),
        "level": draw(st.integers(0, 3)),
        "seed": draw(st.one_of(st.just(0), st.integers(0, 2**64 - 1))),
    }
    good["avg_size"] = max(good["avg_size"], good["min_size"])
    if valid is True or (valid is None and draw(st.integers(0, 3)) != 0):
        return good
    key = draw(st.sampled_from(sorted(good)))
    bad = draw(
        st.sampled_from(
            {
                "min_size": [0, MINIMUM_MIN - 1, 10**9],
                "avg_size": [0, 10**9],
                "max_size": [0, MAXIMUM_MIN - 1, 2**40],
                "level": [-1, 4],
                "seed": [-1, 2**64],
            }[key]
        )
    )
    return {**good, key: bad}


@st.composite
def graphs(
    draw: st.DrawFn,
    max_nodes: int = 24,
    max_edges: int = 60,
    self_loops: bool = True,
    bad_nodes: bool = False,
) -> Graph:
    """Any directed multigraph ``(n, src, dst)``: cycles, duplicate edges, isolated nodes;
    self-loops unless ``self_loops=False``; out-of-range/negative endpoints with
    ``bad_nodes=True``."""
    n = draw(st.integers(0, max_nodes))
    if n == 0 and not bad_nodes:
        return 0, [], []
    node = st.integers(0, max(n - 1, 0))
    if bad_nodes:
        node = st.one_of(node, st.sampled_from([-1, n, n + 5, 2**31]))
    edges = draw(st.lists(st.tuples(node, node), max_size=max_edges))
    if not self_loops:
        edges = [(s, d) for s, d in edges if s != d]
    return n, [s for s, _ in edges], [d for _, d in edges]


@st.composite
def dags(draw: st.DrawFn, max_nodes: int = 24, max_edges: int = 60) -> Graph:
    """Acyclic graphs: edges go from a lower to a higher rank of a random permutation."""
    n = draw(st.integers(0, max_nodes))
    if n < 2:
        return n, [], []
    perm = draw(st.permutations(range(n)))
    pairs = draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=max_edges)
    )
    src, dst = [], []
    for a, b in pairs:
        if a != b:
            lo, hi = min(a, b), max(a, b)
            src.append(perm[lo])
            dst.append(perm[hi])
    return n, src, dst


def size_class_sets() -> st.SearchStrategy[list[int] | None]:
    """Allocator size classes: ``None`` (the default set) or a few multiples of 64."""
    return st.one_of(
        st.none(),
        st.lists(st.integers(1, 48).map(lambda k: 64 * k), min_size=1, max_size=4, unique=True).map(
            sorted
        ),
    )


def handles() -> st.SearchStrategy[int]:
    """Arbitrary allocator handles (most are stale or out of range)."""
    return st.one_of(
        st.integers(0, 2**64 - 1),
        st.builds(lambda g, i: g << 32 | i, st.integers(0, 9), st.integers(0, 300)),
        st.integers(-(2**65), 2**65),
    )


def alloc_ops(max_ops: int = 40) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    """Allocator operation sequences: ``("alloc", nbytes)``, ``("free", k)``,
    ``("write", k, payload)``, ``("read", k)``, where ``k`` picks an earlier handle (modulo
    how many there are) or, when negative, a junk handle ``~k``."""
    which = st.integers(-3, 20)
    op = st.one_of(
        st.tuples(st.just("alloc"), st.one_of(st.integers(-3, 1100), st.integers(-(2**70), 2**70))),
        st.tuples(st.just("free"), which),
        st.tuples(st.just("write"), which, st.binary(max_size=300)),
        st.tuples(st.just("read"), which),
    )
    return st.lists(op, max_size=max_ops)


def ring_ops(max_ops: int = 40, max_payload: int = 140) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    """Ring operation sequences: ``("push", data)``, ``("push_many", [data…])``,
    ``("pop",)``, ``("pop_many", n)``, ``("pop_into", size)``, ``("recover",)``."""
    payload = st.binary(max_size=max_payload)
    op = st.one_of(
        st.tuples(st.just("push"), payload),
        st.tuples(st.just("push_many"), st.lists(st.binary(max_size=40), max_size=6)),
        st.tuples(st.just("pop")),
        st.tuples(st.just("pop_many"), st.integers(-1, 5)),
        st.tuples(st.just("pop_into"), st.integers(0, max_payload + 10)),
        st.tuples(st.just("recover")),
    )
    return st.lists(op, max_size=max_ops)
