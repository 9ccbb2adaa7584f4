"""Compare two implementations of a kernel: :func:`assert_twins_agree` and :func:`check_kernel`.

The rule the project's own twins follow, and that a re-implementation is held to: for every
input, both return equal values, or both raise the *same exception class*.
"""

from __future__ import annotations

import importlib
from array import array
from collections.abc import Callable
from functools import partial
from types import ModuleType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

from symphony.testing import strategies as S

__all__ = ["KERNEL_SUITES", "Outcome", "assert_twins_agree", "check_kernel", "outcome"]

Outcome = tuple[str, Any]
"""``("ok", value)`` or ``("raise", exception class)``."""


def _plain(value: Any) -> Any:
    """Comparable form of a result: views become bytes, arrays lists, messages (bytes, flag)."""
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, array):
        return list(value)
    if hasattr(value, "tobytes") and hasattr(value, "in_arena") and hasattr(value, "release"):
        out = (value.tobytes(), value.in_arena)  # a ring Message: copy, then let go of it
        value.release()
        return out
    if isinstance(value, list | tuple) and any(isinstance(v, array | memoryview) for v in value):
        return type(value)(_plain(v) for v in value)
    return value


def outcome(fn: Callable[[], Any]) -> Outcome:
    """Run ``fn()``; its result as a comparable value, or the class of what it raised."""
    try:
        value = fn()
    except Exception as exc:  # the class is what the twins must agree on
        return ("raise", type(exc))
    return ("ok", _plain(value))


_DERANDOMIZE = False  # set by check_kernel for the duration of one suite


def _call(fn: Callable[..., Any], args: Any) -> Any:
    if isinstance(args, dict):
        return fn(**args)
    if isinstance(args, tuple):
        return fn(*args)
    return fn(args)


def assert_twins_agree(
    fn_a: Callable[..., Any],
    fn_b: Callable[..., Any],
    strategy: st.SearchStrategy[Any],
    *,
    max_examples: int = 100,
    compare: Callable[[Outcome, Outcome], bool] | None = None,
    derandomize: bool = False,
) -> None:
    """Draw arguments from ``strategy`` and assert ``fn_a`` and ``fn_b`` agree on each.

    A drawn tuple is passed as positional arguments, a dict as keyword arguments, anything
    else as the single argument. Agreement is ``outcome(a) == outcome(b)`` (same value, or the
    same exception class) unless ``compare`` says otherwise. ``derandomize=True`` draws the
    same examples on every run (for CI gates). Raises :class:`AssertionError` (Hypothesis
    prints the shrunk falsifying example).
    """

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=derandomize or _DERANDOMIZE,
    )
    @given(strategy)
    def agree(args: Any) -> None:
        a = outcome(lambda: _call(fn_a, args))
        b = outcome(lambda: _call(fn_b, args))
        same = compare(a, b) if compare is not None else a == b
        assert same, f"twins disagree on {args!r}: A -> {a!r}, B -> {b!r}"

    agree()


def _fold(fn: Callable[..., Any], data: bytes, splits: list[int]) -> Any:
    value = 0
    for piece in S.pieces(data, splits):
        value = fn(piece, value)
    return value


# ---- the differential suite of each kernel ------------------------------------------------
# Each check takes (candidate, reference, max_examples) and raises AssertionError on a
# disagreement.


def _checksum(cand: Any, ref: Any, n: int) -> None:
    assert_twins_agree(
        cand.crc32c, ref.crc32c, st.tuples(S.byte_data(), S.crc_values()), max_examples=n
    )
    bad_inputs = st.sampled_from(["text", 12, None, [1, 2]])
    assert_twins_agree(cand.crc32c, ref.crc32c, bad_inputs, max_examples=min(n, 10))
    # streaming: feeding the pieces one after another equals the one-shot value
    assert_twins_agree(
        lambda d, s: _fold(cand.crc32c, d, s),
        lambda d, s: ref.crc32c(d),
        S.data_and_splits(),
        max_examples=n,
    )


def _chunk_stream(mod: Any, data: bytes, splits: list[int], params: dict[str, Any]) -> Any:
    c = mod.Chunker(**params)
    records = []
    for piece in S.pieces(data, splits):
        records += c.update(piece)
    records += c.finish()
    return [tuple(r) for r in records], c.manifest_id, c.size


def _chunk_oneshot(mod: Any, data: bytes, params: dict[str, Any]) -> Any:
    m = mod.hash_chunks(data, **params)
    return [tuple(r) for r in m.chunks], m.manifest_id, m.size


def _hashing(cand: Any, ref: Any, n: int) -> None:
    data_params = st.tuples(S.byte_data(8192), S.chunker_params())
    assert_twins_agree(
        lambda d, p: cand.cut_points(d, **p),
        lambda d, p: ref.cut_points(d, **p),
        data_params,
        max_examples=n,
    )
    assert_twins_agree(
        lambda d, p: cand.cut(d, **p), lambda d, p: ref.cut(d, **p), data_params, max_examples=n
    )
    assert_twins_agree(cand.sha256, ref.sha256, S.byte_data(), max_examples=n)
    assert_twins_agree(
        lambda d, p: _chunk_oneshot(cand, d, p),
        lambda d, p: _chunk_oneshot(ref, d, p),
        data_params,
        max_examples=n,
    )
    stream = st.tuples(S.data_and_splits(8192), S.chunker_params(valid=True))
    assert_twins_agree(
        lambda ds, p: _chunk_stream(cand, ds[0], ds[1], p),
        lambda ds, p: _chunk_oneshot(ref, ds[0], p),
        stream,
        max_examples=n,
    )


def _graph_views(mod: Any, n: int, src: list[int], dst: list[int]) -> Any:
    g = mod.Graph(n, src, dst)
    out: list[Any] = [
        g.n,
        g.num_edges,
        outcome(g.csr),
        outcome(g.is_acyclic),
        outcome(g.find_cycle),
        outcome(g.order),
        outcome(g.lexicographic_order),
        outcome(g.levels),
    ]
    for v in range(min(n, 3)):
        out.append(outcome(partial(g.successors, v)))
        out.append(outcome(partial(g.predecessors, v)))
        out.append(outcome(partial(g.descendants, v)))
        out.append(outcome(partial(g.ancestors, v, include_self=True)))
    return out


def _drain(mod: Any, n: int, src: list[int], dst: list[int]) -> Any:
    t = mod.ReadyTracker(mod.Graph(n, src, dst))
    steps: list[Any] = []
    while t.is_active():
        ready = list(t.ready())
        steps.append(ready)
        if not ready:
            break
        t.done(ready[::2])
        t.done(ready[1::2])
    steps.append(outcome(lambda: t.done(0)))  # done twice / out of range: same error
    return steps, t.num_done


def _toposort(cand: Any, ref: Any, n: int) -> None:
    any_graph = st.one_of(S.graphs(), S.graphs(bad_nodes=True))
    for name in ("toposort", "levels", "find_cycle"):
        assert_twins_agree(getattr(cand, name), getattr(ref, name), any_graph, max_examples=n)
    assert_twins_agree(
        lambda *g: cand.toposort(*g, lexicographic=True),
        lambda *g: ref.toposort(*g, lexicographic=True),
        any_graph,
        max_examples=n,
    )
    assert_twins_agree(
        lambda *g: _graph_views(cand, *g),
        lambda *g: _graph_views(ref, *g),
        S.graphs(),
        max_examples=n,
    )
    assert_twins_agree(
        lambda *g: _drain(cand, *g), lambda *g: _drain(ref, *g), S.dags(), max_examples=n
    )


def _machine_settings(n: int) -> settings:
    return settings(
        max_examples=n,
        stateful_step_count=40,
        deadline=None,
        database=None,
        derandomize=_DERANDOMIZE,
    )


def _alloc(cand: Any, ref: Any, n: int) -> None:
    from symphony.testing.machines import arena_machine

    run_state_machine_as_test(arena_machine(cand, ref), settings=_machine_settings(n))


def _ring(cand: Any, ref: Any, n: int) -> None:
    from symphony.testing.machines import ring_machine

    run_state_machine_as_test(ring_machine(cand, ref), settings=_machine_settings(n))


KERNEL_SUITES: dict[str, Callable[[Any, Any, int], None]] = {
    "alloc": _alloc,
    "checksum": _checksum,
    "hashing": _hashing,
    "ring": _ring,
    "toposort": _toposort,
}
"""The differential suite of each kernel: ``suite(candidate, reference, max_examples)``."""


def check_kernel(
    kernel: str,
    candidate: ModuleType | Any,
    reference: ModuleType | Any | None = None,
    *,
    max_examples: int = 50,
    derandomize: bool = False,
) -> None:
    """Run the differential suite of ``kernel`` with ``candidate`` against ``reference``
    (default: the specification, :mod:`symphony.reference`.<kernel>). ``derandomize=True``
    makes every run draw the same examples (a reproducible CI gate; the default explores new
    ones each run).

    Raises:
        KeyError: no suite for ``kernel`` (see :data:`KERNEL_SUITES`).
        AssertionError: the two disagree; the message shows the shrunk input.
    """
    if kernel not in KERNEL_SUITES:
        raise KeyError(f"no differential suite for kernel {kernel!r}; have {sorted(KERNEL_SUITES)}")
    if reference is None:
        reference = importlib.import_module(f"symphony.reference.{kernel}")
    global _DERANDOMIZE
    before, _DERANDOMIZE = _DERANDOMIZE, derandomize
    try:
        KERNEL_SUITES[kernel](candidate, reference, max_examples)
    finally:
        _DERANDOMIZE = before
