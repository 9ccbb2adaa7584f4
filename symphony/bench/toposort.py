"""``symphony bench toposort``: topological sort, levels, cycles, reachability, ready tracking.

One process run, medians of ``--rounds`` rounds, ratios to peers measured in the same run
(TARGETS.md "Topological sort and ready tracking"). Graphs: seeded random DAGs of 10k nodes /
50k edges and 100k / 500k (``--large`` adds 1M / 5M), edges given as numpy ``int32`` arrays in
random order over a random node labelling (duplicates possible); the cyclic variant adds one
edge that closes a long path. Contenders:

- ``symphony``: :mod:`symphony._core.toposort`;
- ``symphony-twin``: :mod:`symphony.reference.toposort` (not at 1M);
- ``C floor``: plain C in the same extension, called once per measurement with no Python
  objects on its path -- counting-sort CSR + FIFO Kahn without validation or determinism
  (build + sort), the bitmap-queue Kahn (lexicographic), a BFS with a fresh visited array and no
  sorting (reachability), the ``sy_tracker`` loop (ready tracking);
- ``graphlib`` (stdlib), ``networkx``, ``rustworkx``, ``python-igraph``: built from the same
  arrays the way their documentation shows (``tolist()`` and tuples where they need them).

"build" is graph construction including Symphony's validation, "sort" the order alone,
"build+sort" both in one timed call. Tracker figures are ns per node over a whole run:
``one`` calls ``done(v)`` per node, ``wave`` calls ``done(batch)`` once per ``ready()``.
A missing peer is shown as "missing"; super-linear peers are skipped above 10k (noted).
"""

from __future__ import annotations

import argparse
import gc
import graphlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from types import ModuleType
from typing import Any

from symphony.bench._common import Table, median_time, optional

SIZES = {"10k": (10_000, 50_000), "100k": (100_000, 500_000), "1M": (1_000_000, 5_000_000)}
MIN_ROUND_S = 0.05
"""Each round repeats a call until it lasts about this long (fast calls are averaged)."""


# --------------------------------------------------------------------------- inputs


@dataclass
class Inputs:
    """One seeded graph in every peer's preferred form (built outside the timings)."""

    label: str
    n: int
    src: Any  # numpy int32
    dst: Any
    cyc_src: Any = None  # the same edges plus one that closes a long path
    cyc_dst: Any = None
    pairs: list[tuple[int, int]] = field(default_factory=list)


def make_inputs(label: str, n: int, m: int, seed: int = 42) -> Inputs:
    import numpy as np

    rng = np.random.default_rng(seed)
    a = rng.integers(0, n, m, dtype=np.int64)
    b = rng.integers(0, n - 1, m, dtype=np.int64)
    b += b >= a  # never a self-loop
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    perm = rng.permutation(n)
    src = perm[lo].astype(np.int32)
    dst = perm[hi].astype(np.int32)
    # one back edge that closes a long path: follow the first edge of each node from the
    # smallest rank for a while
    first = np.full(n, -1, dtype=np.int64)
    order = np.argsort(lo, kind="stable")
    first[lo[order[::-1]]] = hi[order[::-1]]
    start = end = int(lo.min())
    for _ in range(1000):
        if first[end] < 0:
            break
        end = int(first[end])
    cyc_src = np.append(src, np.int32(perm[end]))
    cyc_dst = np.append(dst, np.int32(perm[start]))
    # tuples for graphlib only where graphlib runs (5M tuples would cost ~0.6 GB)
    pairs = list(zip(src.tolist(), dst.tolist())) if n <= 100_000 else []
    return Inputs(label, n, src, dst, cyc_src, cyc_dst, pairs)


# --------------------------------------------------------------------------- timing


def measure(fn: Callable[[], object], rounds: int) -> float:
    """Median seconds per call: calibrated repeat count, one warm-up call first."""
    t0 = time.perf_counter()
    fn()
    once = time.perf_counter() - t0
    number = max(1, int(MIN_ROUND_S / max(once, 1e-9)))
    return median_time(fn, rounds=rounds if once < 1.0 else min(rounds, 3), number=number)


def interleaved(fns: list[Callable[[], object]], rounds: int) -> list[float]:
    """Median seconds per call of each function, measured in alternating rounds so that the
    machine's drift hits all alike (used where a ratio between them is a goal)."""
    counts = []
    for fn in fns:
        t0 = time.perf_counter()
        fn()
        counts.append(max(1, int(MIN_ROUND_S / max(time.perf_counter() - t0, 1e-9))))
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(max(rounds, 9)):
        for fn, number, out in zip(fns, counts, samples):
            out.append(median_time(fn, rounds=1, number=number))
    return [sorted(x)[len(x) // 2] for x in samples]


def paired(fa: Callable[[], object], fb: Callable[[], object], rounds: int) -> tuple[float, float]:
    """:func:`interleaved` for two functions."""
    a, b = interleaved([fa, fb], rounds)
    return a, b


def measure_split(
    build: Callable[[], Any], use: Callable[[Any], object], rounds: int
) -> tuple[float, float, float]:
    """Medians of (build, use, build + use) over rounds; each round builds afresh (for
    single-use peers such as graphlib's sorter)."""
    samples: list[tuple[float, float]] = []
    gc.disable()
    try:
        for _ in range(rounds + 1):
            t0 = time.perf_counter()
            obj = build()
            t1 = time.perf_counter()
            use(obj)
            t2 = time.perf_counter()
            samples.append((t1 - t0, t2 - t1))
            del obj
    finally:
        gc.enable()
    samples = samples[1:]  # the first round warms up
    med = sorted(samples, key=lambda s: s[0] + s[1])[len(samples) // 2]
    builds = sorted(s[0] for s in samples)
    uses = sorted(s[1] for s in samples)
    return builds[len(builds) // 2], uses[len(uses) // 2], med[0] + med[1]


# --------------------------------------------------------------------------- peers


def _graphlib_build(inp: Inputs) -> graphlib.TopologicalSorter[int]:
    ts: graphlib.TopologicalSorter[int] = graphlib.TopologicalSorter()
    for v in range(inp.n):
        ts.add(v)
    for s, d in inp.pairs:
        ts.add(d, s)
    return ts


def _graphlib_build_cyclic(inp: Inputs) -> graphlib.TopologicalSorter[int]:
    ts = _graphlib_build(inp)
    ts.add(int(inp.cyc_dst[-1]), int(inp.cyc_src[-1]))
    return ts


def _graphlib_prepare(ts: graphlib.TopologicalSorter[int]) -> None:
    try:
        ts.prepare()
    except graphlib.CycleError:
        pass


def _nx_build(nx: ModuleType, inp: Inputs) -> Any:
    g = nx.DiGraph()
    g.add_nodes_from(range(inp.n))
    g.add_edges_from(zip(inp.src.tolist(), inp.dst.tolist()))
    return g


def _rx_build(rx: ModuleType, inp: Inputs, cyclic: bool = False) -> Any:
    g = rx.PyDiGraph()
    g.add_nodes_from(range(inp.n))
    s, d = (inp.cyc_src, inp.cyc_dst) if cyclic else (inp.src, inp.dst)
    g.add_edges_from_no_data(list(zip(s.tolist(), d.tolist())))
    return g


def _ig_build(ig: ModuleType, inp: Inputs) -> Any:
    import numpy as np

    return ig.Graph(n=inp.n, edges=np.column_stack((inp.src, inp.dst)), directed=True)


# --------------------------------------------------------------------------- runs


@dataclass
class Results:
    """The raw figures, for the goals summary."""

    values: dict[tuple[str, str], float] = field(default_factory=dict)

    def put(self, table: Table, case: str, who: str, value: float | None, note: str = "") -> None:
        table.add(case, who, value, note)
        if value is not None:
            self.values[(case, who)] = value

    def ratio(self, case: str, peer: str, ours: str = "symphony") -> float | None:
        a, b = self.values.get((case, ours)), self.values.get((case, peer))
        return None if not a or not b else b / a


def bench_sort(inp: Inputs, rounds: int, res: Results, peers: dict[str, Any]) -> Table:
    from symphony._core import toposort as cy
    from symphony.reference import toposort as py

    big = inp.n > 100_000
    t = Table(f"build + sort, {inp.label}", "ms", higher_is_better=False)
    n, s, d = inp.n, inp.src, inp.dst
    ms = 1e3
    b = measure(lambda: cy.Graph(n, s, d), rounds)
    g = cy.Graph(n, s, d)
    o = measure(g.order, rounds)
    fns: list[Callable[[], object]] = [
        lambda: cy.toposort(n, s, d),
        lambda: cy._floor_build_sort(n, s, d),
    ]
    if not big:
        fns.append(lambda: py.toposort(n, s, d))
    tot, floor, *twin_total = interleaved(fns, rounds)
    L = inp.label
    res.put(t, f"build {L}", "symphony", b * ms)
    res.put(t, f"sort {L}", "symphony", o * ms)
    res.put(t, f"build+sort {L}", "symphony", tot * ms)
    res.put(t, f"build+sort {L}", "C floor", floor * ms, "no validation, FIFO order")
    if not big:
        pb, po, _ = measure_split(lambda: py.Graph(n, s, d), lambda gr: gr.order(), rounds)
        res.put(t, f"build {L}", "symphony-twin", pb * ms)
        res.put(t, f"sort {L}", "symphony-twin", po * ms)
        res.put(t, f"build+sort {L}", "symphony-twin", twin_total[0] * ms, "interleaved with ours")
    else:
        res.put(t, f"build+sort {L}", "symphony-twin", None, "skipped at 1M")
    if not big:
        gb, go, gt = measure_split(
            lambda: _graphlib_build(inp), lambda ts: list(ts.static_order()), rounds
        )
        res.put(t, f"build {L}", "graphlib", gb * ms)
        res.put(t, f"sort {L}", "graphlib", go * ms)
        res.put(t, f"build+sort {L}", "graphlib", gt * ms)
    else:
        res.put(t, f"build+sort {L}", "graphlib", None, "skipped at 1M (slow)")
    nx, rx, ig = peers["networkx"], peers["rustworkx"], peers["igraph"]
    if nx is None or big:
        res.put(t, f"build+sort {L}", "networkx", None, "skipped at 1M (slow)" if nx else "")
    else:
        nb, no, nt = measure_split(
            lambda: _nx_build(nx, inp), lambda gr: list(nx.topological_sort(gr)), rounds
        )
        res.put(t, f"build {L}", "networkx", nb * ms)
        res.put(t, f"sort {L}", "networkx", no * ms)
        res.put(t, f"build+sort {L}", "networkx", nt * ms)
    if rx is None:
        res.put(t, f"build+sort {L}", "rustworkx", None)
    else:
        rb, ro, rt = measure_split(lambda: _rx_build(rx, inp), rx.topological_sort, rounds)
        res.put(t, f"build {L}", "rustworkx", rb * ms)
        res.put(t, f"sort {L}", "rustworkx", ro * ms)
        res.put(t, f"build+sort {L}", "rustworkx", rt * ms)
    if ig is None:
        res.put(t, f"build+sort {L}", "python-igraph", None)
    else:
        ib, io, it = measure_split(
            lambda: _ig_build(ig, inp), lambda gr: gr.topological_sorting(), rounds
        )
        res.put(t, f"build {L}", "python-igraph", ib * ms)
        res.put(t, f"sort {L}", "python-igraph", io * ms)
        res.put(t, f"build+sort {L}", "python-igraph", it * ms)
    return t


def bench_graph_ops(inp: Inputs, rounds: int, res: Results, peers: dict[str, Any]) -> Table:
    from symphony._core import toposort as cy
    from symphony.reference import toposort as py

    big = inp.n > 100_000
    L = inp.label
    ms = 1e3
    t = Table(
        f"order, levels, cycles, reachability on a built graph, {L}", "ms", higher_is_better=False
    )
    nx, rx = peers["networkx"], peers["rustworkx"]
    g = cy.Graph(inp.n, inp.src, inp.dst)
    gc_ = cy.Graph(inp.n, inp.cyc_src, inp.cyc_dst)
    tw = py.Graph(inp.n, inp.src, inp.dst) if not big else None
    rg = _rx_build(rx, inp) if rx else None
    rgc = _rx_build(rx, inp, cyclic=True) if rx else None
    ng = _nx_build(nx, inp) if nx and inp.n <= 10_000 else None

    # smallest-index-first order
    case = f"lexicographic {L}"
    lex, lex_floor = paired(g.lexicographic_order, lambda: cy._floor_lex(g), rounds)
    res.put(t, case, "symphony", lex * ms)
    res.put(t, case, "C floor", lex_floor * ms, "bitmap-queue Kahn, no output")
    if tw is not None:
        res.put(t, case, "symphony-twin", measure(tw.lexicographic_order, rounds) * ms)
    if rg is not None:
        res.put(
            t,
            case,
            "rustworkx",
            measure(lambda: rx.lexicographical_topological_sort(rg, key=str), rounds) * ms,
            "key=str (a key is required)",
        )
    if ng is not None:
        res.put(
            t,
            case,
            "networkx",
            measure(lambda: list(nx.lexicographical_topological_sort(ng)), rounds) * ms,
        )

    # levels
    case = f"levels {L}"
    res.put(t, case, "symphony", measure(g.levels, rounds) * ms)
    if tw is not None:
        res.put(t, case, "symphony-twin", measure(tw.levels, rounds) * ms)
    if rg is not None:
        res.put(t, case, "rustworkx", measure(lambda: rx.topological_generations(rg), rounds) * ms)
    if ng is not None:
        res.put(
            t, case, "networkx", measure(lambda: list(nx.topological_generations(ng)), rounds) * ms
        )
    if not big:

        def waves(ts: graphlib.TopologicalSorter[int]) -> None:
            ts.prepare()
            while ts.is_active():
                ready = ts.get_ready()
                ts.done(*ready)

        _, wave_t, _ = measure_split(lambda: _graphlib_build(inp), waves, rounds)
        res.put(t, case, "graphlib", wave_t * ms, "prepare + get_ready/done(*wave) loop")

    # cycle check (ours on the DAG and on the cyclic graph in alternating rounds)
    ours_cycle = dict(zip(("DAG", "cyclic"), paired(g.find_cycle, gc_.find_cycle, rounds)))
    for kind, rxg, build in (
        ("DAG", rg, _graphlib_build),
        ("cyclic", rgc, _graphlib_build_cyclic),
    ):
        case = f"cycle check {kind} {L}"
        res.put(t, case, "symphony", ours_cycle[kind] * ms, "find_cycle()")
        if rxg is not None:
            res.put(
                t,
                case,
                "rustworkx",
                measure(partial(rx.digraph_find_cycle, rxg), rounds) * ms,
            )
        if not big:
            _, prep, _ = measure_split(partial(build, inp), _graphlib_prepare, rounds)
            res.put(t, case, "graphlib", prep * ms, "prepare()")
        if nx is not None and kind == "DAG":
            res.put(t, case, "networkx", None, "skipped: find_cycle is super-linear on a DAG")

    # reachability from the node with the most descendants we can find cheaply: a source
    order = g.order()
    top, bottom = int(order[0]), int(order[len(order) - 1])
    for what, node, reverse in (("descendants", top, False), ("ancestors", bottom, True)):
        case = f"{what} {L}"
        getattr(g, what)(node)  # builds the cached reverse CSR for ancestors
        ours, floor = paired(
            partial(getattr(g, what), node), partial(cy._floor_reach, g, node, reverse), rounds
        )
        reached = len(getattr(g, what)(node))
        res.put(t, case, "symphony", ours * ms, f"{reached} nodes, sorted array")
        res.put(t, case, "C floor", floor * ms, "plain BFS, unsorted, no output")
        if rg is not None:
            fn = rx.descendants if what == "descendants" else rx.ancestors
            res.put(
                t,
                case,
                "rustworkx",
                measure(partial(fn, rg, node), rounds) * ms,
                "a set",
            )
        if ng is not None:
            fn = nx.descendants if what == "descendants" else nx.ancestors
            res.put(t, case, "networkx", measure(partial(fn, ng, node), rounds) * ms)
    return t


def bench_tracker(inp: Inputs, rounds: int, res: Results, peers: dict[str, Any]) -> Table:
    from symphony._core import toposort as cy
    from symphony.reference import toposort as py

    big = inp.n > 100_000
    L = inp.label
    n = inp.n
    ns = 1e9 / n
    t = Table(f"ready tracker, {L}", "ns/node", higher_is_better=False)
    rx = peers["rustworkx"]
    g = cy.Graph(n, inp.src, inp.dst)
    tw = py.Graph(n, inp.src, inp.dst) if not big else None
    rg = _rx_build(rx, inp) if rx else None

    def one(tracker: Any) -> None:
        while tracker.is_active():
            for v in tracker.ready():
                tracker.done(v)

    def wave(tracker: Any) -> None:
        while tracker.is_active():
            tracker.done(tracker.ready())

    def gl_one(ts: graphlib.TopologicalSorter[int]) -> None:
        ts.prepare()
        while ts.is_active():
            for v in ts.get_ready():
                ts.done(v)

    def gl_wave(ts: graphlib.TopologicalSorter[int]) -> None:
        ts.prepare()
        while ts.is_active():
            ts.done(*ts.get_ready())

    def rx_one(ts: Any) -> None:
        while ts.is_active():
            for v in ts.get_ready():
                ts.done(v)

    def rx_wave(ts: Any) -> None:
        while ts.is_active():
            ts.done(ts.get_ready())

    for mode, ours, glf, rxf in (("one", one, gl_one, rx_one), ("wave", wave, gl_wave, rx_wave)):
        case = f"done({'v' if mode == 'one' else 'batch'}) {L}"
        _, u, _ = measure_split(lambda: cy.ReadyTracker(g), ours, rounds)
        res.put(t, case, "symphony", u * ns)
        floor = sorted(cy._floor_tracker(g, mode == "wave") for _ in range(max(rounds, 5)))
        res.put(t, case, "C floor", floor[len(floor) // 2] * ns, "sy_tracker loop in C")
        if tw is not None:
            _, u2, _ = measure_split(lambda: py.ReadyTracker(tw), ours, rounds)
            res.put(t, case, "symphony-twin", u2 * ns)
        if rg is not None:
            _, u3, _ = measure_split(lambda: rx.TopologicalSorter(rg), rxf, rounds)
            res.put(t, case, "rustworkx", u3 * ns)
        if not big:
            _, u4, _ = measure_split(lambda: _graphlib_build(inp), glf, rounds)
            res.put(t, case, "graphlib", u4 * ns, "prepare() included")
    case = f"construction from edges {L}"
    res.put(
        t,
        case,
        "symphony",
        measure(lambda: cy.ReadyTracker(cy.Graph(n, inp.src, inp.dst)), rounds) * ns,
        "Graph(n, src, dst) + ReadyTracker",
    )
    if rx is not None:
        res.put(
            t,
            case,
            "rustworkx",
            measure(lambda: rx.TopologicalSorter(_rx_build(rx, inp)), rounds) * ns,
            "PyDiGraph from tuples + TopologicalSorter",
        )
    if not big:
        _, _, both = measure_split(lambda: _graphlib_build(inp), _graphlib_prepare, rounds)
        res.put(t, case, "graphlib", both * ns, "add() per node and edge + prepare()")
    # ReadyTracker(graph) on a Graph that never ran Kahn: the cycle check is included
    case = f"construction {L}"
    _, fresh, _ = measure_split(lambda: cy.Graph(n, inp.src, inp.dst), cy.ReadyTracker, rounds)
    res.put(t, case, "symphony", fresh * ns, "includes the cycle check (fresh Graph)")
    if not big:
        _, fresh_tw, _ = measure_split(
            lambda: py.Graph(n, inp.src, inp.dst), py.ReadyTracker, rounds
        )
        res.put(t, case, "symphony-twin", fresh_tw * ns)
    if rg is not None:
        res.put(
            t,
            case,
            "rustworkx",
            measure(lambda: rx.TopologicalSorter(rg), rounds) * ns,
            "check_cycle=True",
        )
    if not big:
        _, prep, _ = measure_split(lambda: _graphlib_build(inp), _graphlib_prepare, rounds)
        res.put(t, case, "graphlib", prep * ns, "prepare() on a built sorter")
    # again on the same Graph: its acyclicity verdict is cached, the check is skipped
    case = f"construction, no check {L}"
    res.put(
        t,
        case,
        "symphony",
        measure(lambda: cy.ReadyTracker(g), rounds) * ns,
        "verdict cached on the Graph",
    )
    if rg is not None:
        res.put(
            t,
            case,
            "rustworkx",
            measure(lambda: rx.TopologicalSorter(rg, check_cycle=False), rounds) * ns,
            "check_cycle=False",
        )
    return t


# --------------------------------------------------------------------------- goals


def goals(res: Results, labels: list[str]) -> list[str]:
    """TARGETS.md goals as same-run ratios: one line each, MET / not met / n/a."""
    lines = ["== goals (TARGETS.md, same-run ratios)"]

    def line(what: str, got: float | None, goal: float, higher: bool = True) -> None:
        if got is None:
            lines.append(f"  {what:<58} {'n/a':>8}")
            return
        ok = got >= goal if higher else got <= goal
        sign = ">=" if higher else "<="
        lines.append(f"  {what:<58} {got:8.2f}  goal {sign} {goal:<5} {'MET' if ok else 'not met'}")

    floor_goal = {"10k": 2.0, "100k": 1.6, "1M": 1.5}
    for L in labels:
        case = f"build+sort {L}"
        ours = res.values.get((case, "symphony"))
        floor = res.values.get((case, "C floor"))
        line(
            f"build+sort {L}: symphony / C floor",
            ours / floor if ours and floor else None,
            floor_goal[L],
            higher=False,
        )
        if L == "10k":
            line(f"build+sort {L}: x rustworkx", res.ratio(case, "rustworkx"), 12)
            line(f"build+sort {L}: x graphlib", res.ratio(case, "graphlib"), 40)
            line(f"build+sort {L}: x graphlib (issue: >= 20)", res.ratio(case, "graphlib"), 20)
            line(f"build+sort {L}: ms (issue: < 5)", ours, 5, higher=False)
            line(f"build+sort {L}: Cython x twin", res.ratio(case, "symphony-twin"), 25)
            tw, gl = res.values.get((case, "symphony-twin")), res.values.get((case, "graphlib"))
            line(f"build+sort {L}: twin x graphlib", gl / tw if tw and gl else None, 2)
        line(f"lexicographic {L}: x rustworkx", res.ratio(f"lexicographic {L}", "rustworkx"), 8)
        lex, lexf = (
            res.values.get((f"lexicographic {L}", "symphony")),
            res.values.get((f"lexicographic {L}", "C floor")),
        )
        line(
            f"lexicographic {L}: symphony / C heap",
            lex / lexf if lex and lexf else None,
            1.5,
            False,
        )
        line(f"levels {L}: x rustworkx", res.ratio(f"levels {L}", "rustworkx"), 3)
        line(f"levels {L}: x graphlib wave loop", res.ratio(f"levels {L}", "graphlib"), 50)
        for kind in ("DAG", "cyclic"):
            line(
                f"cycle check {kind} {L}: x rustworkx",
                res.ratio(f"cycle check {kind} {L}", "rustworkx"),
                4,
            )
            line(
                f"cycle check {kind} {L}: x graphlib",
                res.ratio(f"cycle check {kind} {L}", "graphlib"),
                40,
            )
        dag = res.values.get((f"cycle check DAG {L}", "symphony"))
        cyc = res.values.get((f"cycle check cyclic {L}", "symphony"))
        line(f"cycle check {L}: cyclic / DAG time", cyc / dag if cyc and dag else None, 1.0, False)
        for what in ("descendants", "ancestors"):
            a, f = (
                res.values.get((f"{what} {L}", "symphony")),
                res.values.get((f"{what} {L}", "C floor")),
            )
            line(f"{what} {L}: symphony / C walk", a / f if a and f else None, 2.0, False)
        one = res.values.get((f"done(v) {L}", "symphony"))
        line(f"tracker done(v) {L}: ns/node", one, 500 if L == "1M" else 200, higher=False)
        line(
            f"tracker done(v) {L}: x rustworkx",
            res.ratio(f"done(v) {L}", "rustworkx"),
            1.5 if L == "10k" else 4,
        )
        line(f"tracker done(v) {L}: x graphlib", res.ratio(f"done(v) {L}", "graphlib"), 5)
        line(
            f"tracker done(batch) {L}: ns/node",
            res.values.get((f"done(batch) {L}", "symphony")),
            100,
            False,
        )
        line(f"tracker done(batch) {L}: x rustworkx", res.ratio(f"done(batch) {L}", "rustworkx"), 3)
        if L == "100k":
            for what in ("construction", "construction, no check", "construction from edges"):
                line(f"tracker {what} {L}: x rustworkx", res.ratio(f"{what} {L}", "rustworkx"), 10)
                if what != "construction, no check":
                    line(
                        f"tracker {what} {L}: x graphlib", res.ratio(f"{what} {L}", "graphlib"), 100
                    )
    growth = [L for L in ("10k", "100k", "1M") if L in labels]
    for small, large in itertools.pairwise(growth):
        o1 = res.values.get((f"build+sort {small}", "symphony"))
        o2 = res.values.get((f"build+sort {large}", "symphony"))
        f1 = res.values.get((f"build+sort {small}", "C floor"))
        f2 = res.values.get((f"build+sort {large}", "C floor"))
        if o1 and o2 and f1 and f2:
            g_ours, g_floor = o2 / o1, f2 / f1
            line(
                f"growth {small}->{large}: ours {g_ours:.1f}x / floor's {g_floor:.1f}x",
                g_ours / g_floor,
                1.3,
                False,
            )
    return lines


def main(argv: list[str]) -> int:
    """Run the toposort benchmarks; print one table per area and the goals summary."""
    parser = argparse.ArgumentParser(
        prog="symphony bench toposort", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--sizes", default="10k,100k", help="comma list of 10k, 100k, 1M")
    parser.add_argument("--large", action="store_true", help="also 1M nodes / 5M edges")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per figure (median)")
    parser.add_argument("--only", default="sort,ops,tracker", help="comma list: sort, ops, tracker")
    args = parser.parse_args(argv)
    labels = [x for x in args.sizes.split(",") if x]
    if args.large and "1M" not in labels:
        labels.append("1M")
    bad = [x for x in labels if x not in SIZES]
    if bad:
        parser.error(f"unknown size(s) {bad}; choose from {sorted(SIZES)}")
    if optional("numpy") is None:
        print("symphony bench toposort needs numpy (pip install 'symphony[bench]')")
        return 2
    peers = {name: optional(name) for name in ("networkx", "rustworkx", "igraph")}
    only = set(args.only.split(","))
    res = Results()
    print(
        f"symphony bench toposort: sizes {labels}, {args.rounds} rounds; peers: "
        + ", ".join(
            f"{k} {getattr(v, '__version__', '?') if v else 'missing'}" for k, v in peers.items()
        ),
        flush=True,
    )
    for L in labels:
        n, m = SIZES[L]
        inp = make_inputs(L, n, m)
        if "sort" in only:
            bench_sort(inp, args.rounds, res, peers).print()
        if "ops" in only:
            bench_graph_ops(inp, args.rounds, res, peers).print()
        if "tracker" in only:
            bench_tracker(inp, args.rounds, res, peers).print()
    print("\n".join(goals(res, labels)), flush=True)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
