"""The Cython toposort agrees exactly with its twin: results, errors, messages, tracker runs."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import numpy as np
from _toposort_helpers import add_back_edges, dag_edges
from hypothesis import given, settings
from hypothesis import strategies as st

from symphony._core import toposort as cy
from symphony.commons.errors import SymphonyError
from symphony.reference import toposort as py


def outcome(fn: Callable[[], Any]) -> Any:
    """A comparable record of what ``fn()`` did: its result, or its error."""
    try:
        result = fn()
    except SymphonyError as err:
        return ("raised", type(err).__name__, str(err), err.details)
    except (TypeError, ValueError, OverflowError) as err:
        return ("raised", type(err).__name__)
    return ("ok", normal(result))


def normal(x: Any) -> Any:
    if x is None or isinstance(x, int | bool | str):
        return x
    if isinstance(x, list | tuple):
        return [normal(v) for v in x]
    if hasattr(x, "typecode"):
        return ("array", x.typecode, list(x))
    return ("object", type(x).__name__)


def both(fn: Callable[[Any], Any]) -> None:
    """Run ``fn`` against each twin module and compare."""
    assert outcome(lambda: fn(cy)) == outcome(lambda: fn(py))


ids = st.integers(-3, 12) | st.integers(-(2**70), 2**70)


@given(st.integers(-1, 10), st.lists(st.tuples(ids, ids), max_size=30), st.booleans())
def test_any_small_edge_list(n: int, edges: list[tuple[int, int]], drop_last: bool) -> None:
    src = [e[0] for e in edges]
    dst = [e[1] for e in edges][: len(edges) - 1 if drop_last and edges else None]
    both(lambda m: m.Graph(n, src, dst).order())
    both(lambda m: m.Graph(n, src, dst).lexicographic_order())
    both(lambda m: m.Graph(n, src, dst).levels())
    both(lambda m: m.Graph(n, src, dst).find_cycle())
    both(lambda m: m.Graph(n, src, dst).csr())


@st.composite
def graphs(draw: st.DrawFn, max_n: int = 25) -> tuple[int, list[int], list[int]]:
    """Valid edge lists (duplicates allowed), acyclic or not."""
    n = draw(st.integers(1, max_n))
    if n == 1:
        return 1, [], []
    # b skips a: never a self-loop, no filtering
    pair = st.tuples(st.integers(0, n - 1), st.integers(0, n - 2)).map(
        lambda p: (p[0], p[1] + (p[1] >= p[0]))
    )
    pairs = draw(st.lists(pair, max_size=4 * n))
    return n, [p[0] for p in pairs], [p[1] for p in pairs]


@given(graphs(), st.lists(st.integers(0, 24), max_size=4), st.booleans())
def test_small_graphs_every_operation(
    g: tuple[int, list[int], list[int]], seeds: list[int], include_self: bool
) -> None:
    n, src, dst = g
    a, b = cy.Graph(n, src, dst), py.Graph(n, src, dst)
    for name in ("order", "lexicographic_order", "levels", "find_cycle", "is_acyclic", "csr"):
        assert outcome(getattr(a, name)) == outcome(getattr(b, name)), name
    for name in ("descendants", "ancestors"):
        assert outcome(lambda name=name: getattr(a, name)(seeds, include_self)) == outcome(
            lambda name=name: getattr(b, name)(seeds, include_self)
        )
    for v in (0, n - 1, n):
        assert outcome(lambda v=v: a.successors(v)) == outcome(lambda v=v: b.successors(v))
        assert outcome(lambda v=v: a.predecessors(v)) == outcome(lambda v=v: b.predecessors(v))
    off, tgt = a.csr()
    assert outcome(lambda: cy.Graph.from_csr(off, tgt).order()) == outcome(b.order)


@settings(max_examples=25)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([(50, 2), (500, 4), (3000, 5)]),
    st.integers(0, 3),
)
def test_larger_graphs(seed: int, size: tuple[int, int], back: int) -> None:
    rnd = random.Random(seed)
    n, deg = size
    src, dst = dag_edges(rnd, n, deg * n)
    src, dst = add_back_edges(rnd, src, dst, back)
    s32, d32 = np.array(src, np.int32), np.array(dst, np.int32)
    a, b = cy.Graph(n, s32, d32), py.Graph(n, src, dst)
    for name in ("order", "lexicographic_order", "levels", "find_cycle"):
        assert outcome(getattr(a, name)) == outcome(getattr(b, name)), name
    seeds = [rnd.randrange(n) for _ in range(3)]
    assert outcome(lambda: a.descendants(seeds)) == outcome(lambda: b.descendants(seeds))
    assert outcome(lambda: a.ancestors(seeds, True)) == outcome(lambda: b.ancestors(seeds, True))


def as_kind(values: list[int], kind: str) -> Any:
    if kind == "list":
        return values
    if kind == "tuple":
        return tuple(values)
    try:
        return np.array(values, dtype={"i4": np.int32, "i8": np.int64, "u2": np.uint16}[kind])
    except OverflowError:
        return values


kinds = st.sampled_from(["list", "tuple", "i4", "i8", "u2"])


@given(graphs(), kinds, kinds)
def test_input_representation_does_not_matter(
    g: tuple[int, list[int], list[int]], ks: str, kd: str
) -> None:
    n, src, dst = g
    want = outcome(lambda: py.Graph(n, src, dst).levels())
    assert outcome(lambda: cy.Graph(n, as_kind(src, ks), as_kind(dst, kd)).levels()) == want


@given(
    st.lists(st.integers(-2, 8) | st.integers(2**63, 2**66), max_size=8),
    st.lists(st.integers(-2, 8), max_size=10),
)
def test_from_csr_any_input(offsets: list[int], targets: list[int]) -> None:
    both(lambda m: m.Graph.from_csr(offsets, targets).levels())


# --------------------------------------------------------------------------- tracker

op = st.one_of(
    st.tuples(st.just("ready")),
    st.tuples(st.just("done"), st.integers(-1, 20)),
    st.tuples(st.just("batch"), st.lists(st.integers(-1, 20), max_size=5)),
    st.tuples(st.just("wave")),
)


@given(graphs(max_n=20), st.lists(op, max_size=40))
def test_tracker_runs_agree(
    g: tuple[int, list[int], list[int]], ops: list[tuple[Any, ...]]
) -> None:
    n, src, dst = g
    made = [outcome(lambda m=m: m.ReadyTracker(m.Graph(n, src, dst))) for m in (cy, py)]
    if made[1][0] == "raised":
        assert made[0] == made[1]  # the same CycleError
        return
    trackers = [cy.ReadyTracker(cy.Graph(n, src, dst)), py.ReadyTracker(py.Graph(n, src, dst))]
    last: list[list[int]] = [[], []]
    for step in ops:
        records = []
        for i, t in enumerate(trackers):
            if step[0] == "ready":
                rec = outcome(t.ready)
                if rec[0] == "ok":
                    last[i] = rec[1][2]
            elif step[0] in ("done", "batch"):
                rec = outcome(lambda t=t, arg=step[1]: t.done(arg))
            else:  # the last handed-out wave, in one batch
                rec = outcome(lambda t=t, i=i: t.done(np.array(last[i], np.int64)))
            records.append((rec, t.is_active(), t.num_done, bool(t)))
        assert records[0] == records[1], step


@settings(max_examples=20)
@given(st.integers(0, 2**32 - 1), st.booleans())
def test_tracker_full_runs_agree(seed: int, batched: bool) -> None:
    rnd = random.Random(seed)
    n = rnd.choice([10, 200, 2000])
    src, dst = dag_edges(rnd, n, 4 * n)
    a, b = cy.ReadyTracker(cy.Graph(n, src, dst)), py.ReadyTracker(py.Graph(n, src, dst))
    while b.is_active():
        wa, wb = a.ready(), b.ready()
        assert list(wa) == list(wb)
        if batched:
            a.done(wa)
            b.done(wb)
        else:
            for v in rnd.sample(list(wb), len(wb)):
                a.done(v)
                b.done(v)
        assert (a.num_done, a.is_active()) == (b.num_done, b.is_active())
    assert not a.is_active()


class _Obj:
    """An object with some of the attributes ``a``, ``b``, ``c`` (any values)."""

    def __init__(self, **attrs: object) -> None:
        self.__dict__.update(attrs)


_labels = (st.sampled_from(["x", "y", "z", "", "x"]) | st.integers(-2, 3) | st.booleans()
           | st.none() | st.just([1]) | st.just(float("nan")) | st.sampled_from([int, str]))
_values = st.integers(-3, 5) | st.booleans() | st.integers(2**62, 2**64) | st.just(1.5)


@given(
    st.lists(st.dictionaries(st.sampled_from(["a", "b", "c"]), _labels, max_size=3),
             max_size=12),
    st.lists(st.sampled_from(["a", "b", "c", "__class__"]), max_size=3),
    st.lists(st.dictionaries(_labels.filter(lambda v: not isinstance(v, list)), _values,
                             max_size=4), max_size=4),
    st.booleans(),
)
def test_label_columns_agree(objs: list[dict[str, object]], attrs: list[str],
                             tables: list[dict[object, object]], grow: bool) -> None:
    def run(m: Any) -> Any:
        ts = [dict(t) for t in tables]  # each twin grows its own copies
        cols = m.label_columns([_Obj(**o) for o in objs], attrs, ts, grow=grow)
        return cols, [sorted(map(repr, t.items())) for t in ts]

    both(run)
