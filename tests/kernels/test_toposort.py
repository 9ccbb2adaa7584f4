"""The toposort kernel, under both implementations (one behaviour suite)."""

from __future__ import annotations

import array
import collections
import graphlib
import inspect
import itertools
import json
import random
from pathlib import Path
from types import ModuleType

import networkx as nx
import numpy as np
import pytest
import rustworkx as rx
from _toposort_helpers import dag_edges, random_dag
from hypothesis import given
from hypothesis import strategies as st

from symphony.commons.errors import CycleError, GraphError, InvalidGraph, TrackerError
from symphony.reference import toposort as ref

VECTORS = json.loads((Path(__file__).parent / "vectors" / "toposort.json").read_text())


@pytest.fixture(scope="session")
def topo(impl: object) -> ModuleType:
    return impl.load("toposort")  # type: ignore[attr-defined, no-any-return]


def lst(a: object) -> list[int]:
    return list(a)  # type: ignore[call-overload]


def is_topological(n: int, src: list[int], dst: list[int], order: list[int]) -> bool:
    pos = {v: i for i, v in enumerate(order)}
    return sorted(order) == list(range(n)) and all(pos[s] < pos[d] for s, d in zip(src, dst))


def is_cycle_of(src: list[int], dst: list[int], cycle: list[int]) -> bool:
    edges = set(zip(src, dst))
    return (
        len(cycle) >= 3
        and cycle[0] == cycle[-1] == min(cycle)
        and len(set(cycle[:-1])) == len(cycle) - 1
        and all((a, b) in edges for a, b in itertools.pairwise(cycle))
    )


# --------------------------------------------------------------------------- basics


def test_compiled_module_is_in_use(impl: object, topo: ModuleType) -> None:
    if str(impl) == "cython":
        assert topo.__file__.endswith(".so")
    else:
        assert topo.__file__.endswith(".py")


def test_same_api_as_the_twin(topo: ModuleType) -> None:
    assert set(ref.__all__) <= set(dir(topo))
    for name in ("toposort", "levels", "find_cycle"):
        assert str(inspect.signature(getattr(topo, name))) == str(
            inspect.signature(getattr(ref, name))
        ).replace("'", "").replace("SupportsIndex", "").replace("IntArray", "") or [
            (p.name, p.kind) for p in inspect.signature(getattr(topo, name)).parameters.values()
        ] == [(p.name, p.kind) for p in inspect.signature(getattr(ref, name)).parameters.values()]
    for cls in ("Graph", "ReadyTracker"):
        for meth, obj in vars(getattr(ref, cls)).items():
            if meth.startswith("_") and meth not in ("__init__", "__bool__"):
                continue
            mine = getattr(getattr(topo, cls), meth)
            if meth == "__init__" and topo is not ref:
                # an extension type's __init__ is a slot wrapper; embedsignature writes the
                # real signature as the first line of the class docstring
                names = [p.name for p in inspect.signature(obj).parameters.values()][1:]
                assert getattr(topo, cls).__doc__.splitlines()[0] == f"{cls}({', '.join(names)})"
                continue
            if isinstance(obj, property):
                assert isinstance(getattr(topo, cls).__dict__[meth], property | type(mine)), meth
                continue
            if isinstance(obj, classmethod):
                obj = obj.__func__
            want = [
                (p.name, p.kind, p.default) for p in inspect.signature(obj).parameters.values()
            ][1:]  # without self / cls (slot wrappers make self positional-only)
            got = [(p.name, p.kind, p.default) for p in inspect.signature(mine).parameters.values()]
            if not isinstance(getattr(ref, cls).__dict__[meth], classmethod):
                got = got[1:]
            assert got == want, (cls, meth)


def test_diamond(topo: ModuleType) -> None:
    g = topo.Graph(4, [0, 0, 1, 2], [1, 2, 3, 3])
    assert (g.n, g.num_edges, repr(g)) == (4, 4, "Graph(n=4, num_edges=4)")
    assert lst(g.order()) == [0, 1, 2, 3]
    assert lst(g.lexicographic_order()) == [0, 1, 2, 3]
    assert [lst(x) for x in g.levels()] == [[0], [1, 2], [3]]
    assert g.find_cycle() is None
    assert g.is_acyclic()


def test_order_is_by_level_then_index(topo: ModuleType) -> None:
    # 5 -> 0 -> 4; 3 -> 1; 2 alone. Levels: {2, 3, 5}, {0, 1}, {4}.
    src, dst = [5, 0, 3], [0, 4, 1]
    assert lst(topo.toposort(6, src, dst)) == [2, 3, 5, 0, 1, 4]
    # lexicographic: smallest ready first: 2, 3, 1, 5, 0, 4
    assert lst(topo.toposort(6, src, dst, lexicographic=True)) == [2, 3, 1, 5, 0, 4]
    assert [lst(x) for x in topo.levels(6, src, dst)] == [[2, 3, 5], [0, 1], [4]]


def test_empty_and_edgeless(topo: ModuleType) -> None:
    assert lst(topo.toposort(0, [], [])) == []
    assert topo.levels(0, [], []) == []
    assert topo.find_cycle(0, [], []) is None
    assert lst(topo.toposort(3, [], [])) == [0, 1, 2]
    assert [lst(x) for x in topo.levels(3, [], [])] == [[0, 1, 2]]
    g = topo.Graph(0, [], [])
    assert lst(g.descendants([])) == []
    t = topo.ReadyTracker(g)
    assert not t.is_active()
    assert lst(t.ready()) == []


def test_duplicate_edges_are_harmless(topo: ModuleType) -> None:
    src, dst = [0, 0, 0, 1, 1], [1, 1, 2, 2, 2]
    g = topo.Graph(3, src, dst)
    assert g.num_edges == 5
    assert lst(g.successors(0)) == [1, 1, 2]
    assert lst(g.predecessors(2)) == [0, 1, 1]
    single = topo.Graph(3, [0, 0, 1], [1, 2, 2])
    assert lst(g.order()) == lst(single.order()) == [0, 1, 2]
    assert [lst(x) for x in g.levels()] == [[0], [1], [2]]
    assert lst(g.descendants(0)) == [1, 2]
    t = topo.ReadyTracker(g)
    assert lst(t.ready()) == [0]
    t.done(0)
    assert lst(t.ready()) == [1]
    t.done(1)
    assert lst(t.ready()) == [2]


@given(st.randoms(use_true_random=False), st.integers(1, 40))
def test_independent_of_edge_order(topo: ModuleType, rnd: random.Random, n: int) -> None:
    src, dst = dag_edges(rnd, n, rnd.randrange(0, 3 * n))
    pairs = list(zip(src, dst))
    rnd.shuffle(pairs)
    s2, d2 = [p[0] for p in pairs], [p[1] for p in pairs]
    a, b = topo.Graph(n, src, dst), topo.Graph(n, s2, d2)
    assert lst(a.order()) == lst(b.order())
    assert lst(a.lexicographic_order()) == lst(b.lexicographic_order())
    assert [lst(x) for x in a.levels()] == [lst(x) for x in b.levels()]
    if pairs:
        s2.append(d2[0])
        d2.append(s2[0])
        cyc = topo.Graph(n, s2, d2).find_cycle()
        s3, d3 = s2[::-1], d2[::-1]
        assert cyc == topo.Graph(n, s3, d3).find_cycle()


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"])
def test_golden_vectors(topo: ModuleType, case: dict[str, object]) -> None:
    g = topo.Graph(case["n"], case["src"], case["dst"])
    if case["cycle"] is None:
        assert lst(g.order()) == case["order"]
        assert lst(g.lexicographic_order()) == case["lexicographic"]
        assert [lst(x) for x in g.levels()] == case["levels"]
        assert g.find_cycle() is None
    else:
        assert g.find_cycle() == case["cycle"]
        for method in (g.order, g.lexicographic_order, g.levels):
            with pytest.raises(CycleError) as info:
                method()
            assert info.value.cycle == case["cycle"]


# --------------------------------------------------------------------------- inputs


def test_accepts_arrays_and_sequences(topo: ModuleType) -> None:
    src, dst = [3, 0, 1, 0], [1, 1, 2, 2]
    want = lst(topo.toposort(4, src, dst))
    assert want == [0, 3, 1, 2]
    variants = [
        (np.array(src, np.int32), np.array(dst, np.int32)),
        (np.array(src, np.int64), np.array(dst, np.int64)),
        (np.array(src, np.int32), np.array(dst, np.int64)),  # mixed widths
        (np.array(src, np.uint16), np.array(dst, np.int8)),  # converted once
        (np.array(src, ">i4"), np.array(dst, ">i8")),  # big-endian: converted, not misread
        (np.array(src * 2, np.int32)[::2], np.array(dst * 2, np.int64)[::2]),  # strided
        (array.array("i", src), array.array("q", dst)),
        (array.array("l", src), array.array("h", dst)),
        (memoryview(array.array("i", src)), tuple(dst)),
        (iter(src), (x for x in dst)),
        (range(0), range(0)),
    ]
    for s, d in variants[:-1]:
        assert lst(topo.toposort(4, s, d)) == want, (s, d)
    assert lst(topo.toposort(2, *variants[-1])) == [0, 1]
    assert lst(topo.toposort(np.int64(4), src, dst)) == want


def test_refuses_non_integers(topo: ModuleType) -> None:
    for bad in ("01", b"\x00\x01", bytearray(2), [0.0, 1.0], np.array([0.0, 1.0]), [None, 1], 7):
        with pytest.raises(TypeError):
            topo.Graph(3, bad, [1, 2])
    with pytest.raises(TypeError):
        topo.Graph(3.0, [0], [1])
    with pytest.raises(TypeError):
        topo.Graph(np.array([[0, 1]], np.int32), [0], [1])
    with pytest.raises(TypeError):
        topo.Graph(3, np.array([[0, 1]], np.int32), [1, 2])


@pytest.mark.parametrize(
    ("src", "dst", "edge", "words"),
    [
        ([0, 1, -1], [1, 2, 0], 2, "edge 2 (-1 -> 0): negative source node id -1"),
        ([0, 5, 1], [1, 2, 0], 1, "edge 1 (5 -> 2): source node 5 out of range [0, 3)"),
        ([0, 1], [1, -7], 1, "edge 1 (1 -> -7): negative target node id -7"),
        ([0, 1], [3, 2], 0, "edge 0 (0 -> 3): target node 3 out of range [0, 3)"),
        ([0, 2, 1], [1, 2, 2], 1, "edge 1 (2 -> 2): self-loop on node 2"),
        ([0, 2**70], [1, 2], 1, f"edge 1 ({2**70} -> 2): source node {2**70} out of range"),
        ([0, 1], [1, -(2**65)], 1, f"negative target node id {-(2**65)}"),
        ([2**64, 0], [2**64, 1], 0, "source node 18446744073709551616 out of range"),
    ],
)
def test_bad_edges_are_named(
    topo: ModuleType, src: list[int], dst: list[int], edge: int, words: str
) -> None:
    with pytest.raises(InvalidGraph, match=r".*") as info:
        topo.Graph(3, src, dst)
    assert words in str(info.value)
    assert info.value.details["edge"] == edge
    assert info.value.details["src"] == src[edge]
    assert info.value.details["dst"] == dst[edge]
    assert isinstance(info.value, GraphError | ValueError)


def test_bad_edges_in_numpy_arrays(topo: ModuleType) -> None:
    src = np.arange(1000, dtype=np.int64)
    dst = src + 1
    dst[700] = 700
    with pytest.raises(InvalidGraph, match=r"edge 700 \(700 -> 700\): self-loop"):
        topo.Graph(1001, src, dst)
    dst[700] = 5000
    with pytest.raises(InvalidGraph, match="target node 5000 out of range"):
        topo.Graph(1001, src.astype(np.int32), dst.astype(np.int32))


def test_bad_lengths_and_counts(topo: ModuleType) -> None:
    with pytest.raises(InvalidGraph, match=r"\(3 != 2\): edge 2 has no target"):
        topo.Graph(5, [0, 1, 2], [1, 2])
    with pytest.raises(InvalidGraph, match=r"\(1 != 2\): edge 1 has no source"):
        topo.Graph(5, [0], np.array([1, 2]))
    with pytest.raises(InvalidGraph, match="n=-1"):
        topo.Graph(-1, [], [])
    with pytest.raises(InvalidGraph, match="n=2147483648"):
        topo.Graph(2**31, [], [])


def test_csr_round_trip_and_errors(topo: ModuleType) -> None:
    g = topo.Graph(4, [2, 0, 0, 1], [3, 2, 1, 3])
    off, tgt = g.csr()
    assert (off.typecode, tgt.typecode) == ("q", "i")
    assert (lst(off), lst(tgt)) == ([0, 2, 3, 4, 4], [2, 1, 3, 3])  # rows keep edge order
    h = topo.Graph.from_csr(off, tgt)
    assert type(h) is topo.Graph
    assert lst(h.order()) == lst(g.order())
    assert lst(topo.Graph.from_csr(np.array(off, np.int32), list(tgt)).order()) == [0, 1, 2, 3]
    assert topo.Graph.from_csr([0], []).n == 0
    cases = [
        ([], [], "offsets must have n"),
        ([1, 1], [0], r"offsets\[0\] must be 0, got 1"),
        ([0, 1, 3], [1, 0], r"offsets\[2\] = 3 must equal len\(targets\) = 2"),
        ([0, 2, 1, 2], [1, 2], r"offsets decrease at node 1: offsets\[1\] = 2 > offsets\[2\] = 1"),
        ([0, 2**70, 2], [1, 0], r"offsets decrease at node 1"),
        ([0, 1, 2], [1, 5], r"edge 1 \(1 -> 5\): target node 5 out of range \[0, 2\)"),
        ([0, 1, 2], [1, 1], r"edge 1 \(1 -> 1\): self-loop"),
        ([0, 0, 1], [-3], r"edge 0 \(1 -> -3\): negative target"),
    ]
    for o, t, words in cases:
        with pytest.raises(InvalidGraph, match=words):
            topo.Graph.from_csr(o, t)


# --------------------------------------------------------------------------- cycles


def test_cycle_is_canonical(topo: ModuleType) -> None:
    # 4 -> 2 -> 3 -> 4 closes a cycle; 0 -> 1 -> 2 feeds it; 5 hangs below it.
    src, dst = [0, 1, 2, 3, 4, 3], [1, 2, 3, 4, 2, 5]
    assert topo.find_cycle(6, src, dst) == [2, 3, 4, 2]
    with pytest.raises(CycleError, match=r"cycle of 3 nodes: 2 -> 3 -> 4 -> 2") as info:
        topo.toposort(6, src, dst)
    assert info.value.cycle == [2, 3, 4, 2]
    assert info.value.details["cycle"] == [2, 3, 4, 2]
    assert not topo.Graph(6, src, dst).is_acyclic()
    assert topo.find_cycle(2, [0, 1], [1, 0]) == [0, 1, 0]
    # the smallest leftover node (0) lies below the cycle: the walk climbs into it
    assert topo.find_cycle(8, [5, 6, 7, 7, 1], [6, 7, 5, 0, 2]) == [5, 6, 7, 5]
    # two cycles: the walk from the smallest leftover node decides which one
    assert topo.find_cycle(6, [4, 5, 1, 2, 2], [5, 4, 2, 1, 3]) == [1, 2, 1]


def test_long_cycle_message_is_short(topo: ModuleType) -> None:
    n = 50
    src = list(range(n))
    dst = [(v + 1) % n for v in src]
    with pytest.raises(CycleError) as info:
        topo.Graph(n, src, dst).levels()
    assert info.value.cycle == [*range(n), 0]
    assert "cycle of 50 nodes: 0 -> 1" in str(info.value)
    assert "-> ... -> 0" in str(info.value)
    assert len(str(info.value)) < 120


def test_long_chains_do_not_recurse(impl: object, topo: ModuleType) -> None:
    n = 1_000_000 if str(impl) == "cython" else 100_000
    src = np.arange(n - 1, dtype=np.int32)
    dst = src + 1
    g = topo.Graph(n, src[::-1].copy(), dst[::-1].copy())
    assert lst(g.order()[:3]) == [0, 1, 2]
    assert len(g.levels()) == n
    assert lst(g.descendants(n - 3)) == [n - 2, n - 1]
    assert len(g.ancestors(n - 1)) == n - 1
    back_src, back_dst = np.append(src, n - 1), np.append(dst, 0)
    cycle = topo.find_cycle(n, back_src, back_dst)
    assert cycle[:3] == [0, 1, 2]
    assert len(cycle) == n + 1


@given(st.randoms(use_true_random=False), st.integers(2, 30), st.integers(1, 3))
def test_cycles_agree_with_graphlib(
    topo: ModuleType, rnd: random.Random, n: int, extra: int
) -> None:
    src, dst = dag_edges(rnd, n, rnd.randrange(0, 3 * n))
    for _ in range(extra):
        a, b = rnd.sample(range(n), 2)
        src.append(a)
        dst.append(b)
    ts: graphlib.TopologicalSorter[int] = graphlib.TopologicalSorter()
    for v in range(n):
        ts.add(v)
    for s, d in zip(src, dst):
        ts.add(d, s)
    try:
        theirs = list(ts.static_order())
    except graphlib.CycleError:
        theirs = None
    mine = topo.find_cycle(n, src, dst)
    assert (mine is None) == (theirs is not None)
    if mine is None:
        assert is_topological(n, src, dst, lst(topo.toposort(n, src, dst)))
    else:
        assert is_cycle_of(src, dst, mine)
        with pytest.raises(CycleError):
            topo.ReadyTracker(topo.Graph(n, src, dst))


# --------------------------------------------------------------------------- peers as oracles


@given(st.randoms(use_true_random=False), st.integers(1, 60))
def test_matches_networkx_and_rustworkx(topo: ModuleType, rnd: random.Random, n: int) -> None:
    src, dst = dag_edges(rnd, n, rnd.randrange(0, 4 * n))
    g = topo.Graph(n, src, dst)
    nxg = nx.DiGraph()
    nxg.add_nodes_from(range(n))
    nxg.add_edges_from(zip(src, dst))
    gens = [sorted(x) for x in nx.topological_generations(nxg)]
    assert [lst(x) for x in g.levels()] == gens
    assert lst(g.order()) == [v for gen in gens for v in gen]
    assert lst(g.lexicographic_order()) == list(nx.lexicographical_topological_sort(nxg))
    rxg = rx.PyDiGraph()
    rxg.add_nodes_from(range(n))
    rxg.add_edges_from_no_data(list(zip(src, dst)))
    assert lst(g.lexicographic_order()) == rx.lexicographical_topological_sort(
        rxg, key=lambda payload: f"{payload:08d}"
    )
    assert [lst(x) for x in g.levels()] == [sorted(x) for x in rx.topological_generations(rxg)]
    seeds = rnd.sample(range(n), min(n, 3))
    want_desc = set().union(*(nx.descendants(nxg, s) for s in seeds))
    want_anc = set().union(*(nx.ancestors(nxg, s) for s in seeds))
    assert lst(g.descendants(seeds)) == sorted(want_desc)
    assert lst(g.ancestors(seeds)) == sorted(want_anc)
    assert lst(g.descendants(seeds, include_self=True)) == sorted(want_desc | set(seeds))
    assert lst(g.ancestors(np.array(seeds), include_self=True)) == sorted(want_anc | set(seeds))
    v = seeds[0]
    assert lst(g.successors(v)) == sorted(d for s, d in zip(src, dst) if s == v)
    assert lst(g.predecessors(v)) == sorted(s for s, d in zip(src, dst) if d == v)
    assert sorted(set(lst(g.successors(v)))) == sorted(nxg.successors(v))


# --------------------------------------------------------------------------- reachability


def test_reachability_semantics(topo: ModuleType) -> None:
    g = topo.Graph(6, [0, 1, 2, 4], [1, 2, 3, 5])
    assert lst(g.descendants(0)) == [1, 2, 3]
    assert lst(g.descendants([0, 1])) == [1, 2, 3]  # 1 is reached from 0
    assert lst(g.descendants([1, 4])) == [2, 3, 5]
    assert lst(g.descendants([1, 4], include_self=True)) == [1, 2, 3, 4, 5]
    assert lst(g.ancestors(3)) == [0, 1, 2]
    assert lst(g.ancestors([3, 5], True)) == [0, 1, 2, 3, 4, 5]
    assert lst(g.ancestors(np.int64(0))) == []
    for _ in range(3):  # the cached marks are reused correctly
        assert lst(g.descendants(2)) == [3]
        assert lst(g.ancestors(2)) == [0, 1]
    with pytest.raises(GraphError, match=r"node 6 is out of range \[0, 6\)"):
        g.descendants(6)
    with pytest.raises(GraphError, match=r"node -1 at position 1 of the batch is out of range"):
        g.ancestors([0, -1])
    with pytest.raises(GraphError, match=r"node 9 is out of range"):
        g.successors(9)
    with pytest.raises(GraphError, match=r"node -2 is out of range"):
        g.predecessors(-2)
    with pytest.raises(TypeError):
        g.descendants("1")


# --------------------------------------------------------------------------- ready tracker


def test_tracker_protocol_like_graphlib(topo: ModuleType) -> None:
    src, dst = random_dag(random.Random(5), 200, 600)
    t = topo.ReadyTracker(topo.Graph(200, src, dst))
    assert (t.num_nodes, t.num_done) == (200, 0)
    seen: list[int] = []
    waves = 0
    while t.is_active():
        wave = lst(t.ready())
        assert wave == sorted(wave)
        assert wave, "active but nothing ready"
        waves += 1
        for v in wave:
            seen.append(v)
            t.done(v)
    assert not t and not t.is_active()
    assert t.num_done == 200
    assert is_topological(200, src, dst, seen)
    assert lst(t.ready()) == []


def test_tracker_batches(topo: ModuleType) -> None:
    src, dst = random_dag(random.Random(6), 500, 2000)
    g = topo.Graph(500, src, dst)
    t = topo.ReadyTracker(g)
    out: list[list[int]] = []
    while t.is_active():
        wave = t.ready()
        out.append(lst(wave))
        t.done(np.asarray(wave, dtype=np.int64) if len(out) % 2 else wave)
    assert out == [lst(x) for x in g.levels()]


def test_tracker_errors(topo: ModuleType) -> None:
    g = topo.Graph(4, [0, 0, 1, 2], [1, 2, 3, 3])
    t = topo.ReadyTracker(g)
    with pytest.raises(TrackerError, match="node 0 is ready but was not handed out by ready"):
        t.done(0)
    assert lst(t.ready()) == [0]
    with pytest.raises(TrackerError, match="node 3 is not ready yet"):
        t.done(3)
    with pytest.raises(TrackerError, match=r"node 4 is out of range \[0, 4\)"):
        t.done(4)
    with pytest.raises(TrackerError, match=r"node -1 is out of range"):
        t.done(-1)
    with pytest.raises(TrackerError, match=f"node {2**80} is out of range"):
        t.done(2**80)
    t.done(np.int32(0))
    with pytest.raises(TrackerError, match="node 0 is already done"):
        t.done(0)
    assert lst(t.ready()) == [1, 2]
    # batches are all or nothing, and name the position
    with pytest.raises(TrackerError, match="node 2 at position 2 of the batch is listed twice"):
        t.done([1, 2, 2])
    with pytest.raises(TrackerError, match="node 0 at position 1 of the batch is already done"):
        t.done([2, 0])
    with pytest.raises(TrackerError, match="node 3 at position 1 of the batch is not ready"):
        t.done(np.array([1, 3]))
    with pytest.raises(TrackerError, match=f"node {2**70} at position 0 of the batch is out of"):
        t.done([2**70, 1])
    assert t.num_done == 1
    t.done([2, 1])
    assert lst(t.ready()) == [3]
    t.done(array.array("i", [3]))
    t.done([])
    assert not t.is_active()
    with pytest.raises(TypeError):
        t.done("3")
    with pytest.raises(TypeError, match="needs a Graph"):
        topo.ReadyTracker([0, 1])


def test_tracker_refuses_cycles(topo: ModuleType) -> None:
    g = topo.Graph(4, [0, 1, 2, 3], [1, 2, 1, 0])
    with pytest.raises(CycleError) as info:
        topo.ReadyTracker(g)
    assert info.value.cycle == g.find_cycle() == [1, 2, 1]
    assert not g.is_acyclic()
    with pytest.raises(CycleError):  # a cached verdict changes nothing
        topo.ReadyTracker(g)
    dag = topo.Graph(3, [0, 1], [1, 2])
    assert dag.is_acyclic()
    for _ in range(2):  # the second tracker reuses the cached verdict
        t = topo.ReadyTracker(dag)
        while t.is_active():
            t.done(t.ready())
        assert t.num_done == 3


def test_gil_released_threads_agree(topo: ModuleType) -> None:
    import threading

    src, dst = random_dag(random.Random(9), 20_000, 100_000)
    g = topo.Graph(20_000, np.array(src), np.array(dst))
    want = lst(g.order())
    results: list[list[int]] = []

    def work() -> None:
        for _ in range(3):
            results.append(lst(g.order()))
            results.append(lst(g.levels()[0]))
            g.descendants([0, 1, 2])

    threads = [threading.Thread(target=work) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert [r for r in results if len(r) == len(want)] == [want] * 9


# --------------------------------------------------------------------------- label_columns


class _Edge:
    __slots__ = ("source", "target")

    def __init__(self, source: object, target: object) -> None:
        self.source, self.target = source, target


class _Bare:
    __slots__ = ("source",)

    def __init__(self, source: object) -> None:
        self.source = source


class _Raises:
    @property
    def source(self) -> object:
        raise ValueError("no source today")


class _BadHash:
    def __hash__(self) -> int:
        raise RuntimeError("hash refused")


def test_label_columns_maps_labelled_objects_to_int_columns(topo: ModuleType) -> None:
    index = {"a": 0, "b": 1, "c": 2}
    edges = [_Edge("a", "b"), _Edge("b", "c"), _Edge("a", "zz"), _Bare("c"),
             _Edge(["unhashable"], "a")]
    src, dst = topo.label_columns(edges, ["source", "target"], [index, index])
    assert src.typecode == dst.typecode == "q"
    assert lst(src) == [0, 1, 0, 2, -1]
    assert lst(dst) == [1, 2, -1, -2, 0]  # unknown key: -1, no such attribute: -2
    assert index == {"a": 0, "b": 1, "c": 2}  # never grown without grow=True
    # the columns feed a Graph directly
    assert lst(topo.Graph(3, src[:2], dst[:2]).order()) == [0, 1, 2]
    # any iterable of objects, any attribute (the class too), bools and big ints as values
    (kinds,) = topo.label_columns((x for x in [1, "s", 2.5]), ["__class__"],
                                  [{int: True, str: 2**62}])
    assert lst(kinds) == [1, 2**62, -1]
    assert topo.label_columns([], ["source"], [{}]) == [array.array("q")]
    assert topo.label_columns(edges, [], []) == []


def test_label_columns_grow_numbers_new_labels_in_order(topo: ModuleType) -> None:
    names = {"x": 0}
    types: dict[object, int] = {}
    objs = [_Edge("y", int), _Edge("x", str), _Bare("z"), _Edge("y", int), _Edge([1], str)]
    a, b = topo.label_columns(objs, ["source", "target"], [names, types], grow=True)
    assert lst(a) == [1, 0, 2, 1, -1]  # unhashable: -1, not added
    assert lst(b) == [0, 1, -2, 0, 1]  # no such attribute: -2, nothing added
    assert names == {"x": 0, "y": 1, "z": 2}
    assert types == {int: 0, str: 1}


@pytest.mark.parametrize(("args", "error", "match"), [
    (([], ["a"], []), ValueError, r"attrs and tables differ in length \(1 != 0\)"),
    (([], [1], [{}]), TypeError, r"attrs\[0\] must be a str, got int"),
    (([], ["a", "b"], [{}, collections.OrderedDict()]), TypeError,
     r"tables\[1\] must be a dict, got OrderedDict"),
    (([], ["a"], [None]), TypeError, r"tables\[0\] must be a dict, got NoneType"),
])
def test_label_columns_refuses_bad_arguments(topo: ModuleType, args: tuple[object, ...],
                                             error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        topo.label_columns(*args)


def test_label_columns_values_and_exceptions(topo: ModuleType) -> None:
    with pytest.raises(TypeError):
        topo.label_columns([_Bare("a")], ["source"], [{"a": 1.5}])
    with pytest.raises(TypeError):
        topo.label_columns([_Bare("a")], ["source"], [{"a": "1"}])
    with pytest.raises(OverflowError):
        topo.label_columns([_Bare("a")], ["source"], [{"a": 2**63}])
    with pytest.raises(ValueError, match="no source today"):
        topo.label_columns([_Raises()], ["source"], [{}])  # only AttributeError means -1
    with pytest.raises(RuntimeError, match="hash refused"):
        topo.label_columns([_Bare(_BadHash())], ["source"], [{"a": 0}])
    with pytest.raises(TypeError):
        topo.label_columns(5, ["source"], [{}])  # not iterable
