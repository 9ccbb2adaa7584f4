"""The Cython allocator and its twin agree: same results, same errors, same bytes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from symphony._core import alloc as cy
from symphony.reference import alloc as py

pytestmark = pytest.mark.cython  # compares the compiled twin with the reference

CLASS_SETS = st.one_of(
    st.none(),
    st.lists(st.integers(1, 48).map(lambda k: 64 * k), min_size=1, max_size=4, unique=True).map(
        sorted
    ),
)


def _outcome(fn: Callable[[], object]) -> tuple[str, object]:
    try:
        return ("ok", fn())
    except Exception as exc:  # the class is what both twins must agree on
        return ("error", type(exc))


@settings(max_examples=200)
@given(st.integers(0, 1 << 17), CLASS_SETS, st.integers(0, 255))
def test_formatting_agrees(size: int, classes: list[int] | None, fill: int) -> None:
    buf_c, buf_p = bytearray([fill]) * size, bytearray([fill]) * size
    res_c = _outcome(lambda: cy.Arena.from_buffer(buf_c, create=True, size_classes=classes))
    res_p = _outcome(lambda: py.Arena.from_buffer(buf_p, create=True, size_classes=classes))
    assert res_c[0] == res_p[0]
    if res_c[0] == "error":
        assert res_c[1] is res_p[1]
    else:
        assert buf_c == buf_p
        assert res_c[1].stats() == res_p[1].stats()  # type: ignore[attr-defined]
        # and each twin opens what the other formatted
        assert (
            py.Arena.from_buffer(buf_c, create=False).stats()
            == cy.Arena.from_buffer(buf_p, create=False).stats()
        )


@given(st.binary(min_size=0, max_size=600), st.integers(0, 600))
def test_opening_garbage_agrees(junk: bytes, at: int) -> None:
    """Arbitrary bytes spliced into a valid arena: both twins accept or refuse alike."""
    base = bytearray(4096)
    cy.Arena.from_buffer(base, create=True)
    at = min(at, len(base))
    bad = (base[:at] + junk + base[at + len(junk) :])[: len(base)]
    res_c = _outcome(lambda: cy.Arena.from_buffer(bytearray(bad), create=False).stats())
    res_p = _outcome(lambda: py.Arena.from_buffer(bytearray(bad), create=False).stats())
    assert res_c == res_p


class TwinArenas(RuleBasedStateMachine):
    """Every operation on both twins, each over its own buffer; results, error classes and
    the bytes of the two regions must match after every step."""

    def __init__(self) -> None:
        super().__init__()
        self.handles: list[int] = []

    @initialize(
        size=st.sampled_from([4096, 8192, 20000]),
        classes=st.sampled_from([None, [64], [64, 128], [64, 256, 512], [128, 1024]]),
    )
    def make(self, size: int, classes: list[int] | None) -> None:
        self.buf_c, self.buf_p = bytearray(size), bytearray(size)
        self.c = cy.Arena.from_buffer(self.buf_c, create=True, size_classes=classes)
        self.p = py.Arena.from_buffer(self.buf_p, create=True, size_classes=classes)
        self.closed = False

    def both(self, op: Callable[[object], object]) -> object:
        res_c, res_p = _outcome(lambda: op(self.c)), _outcome(lambda: op(self.p))
        if res_c[0] == "ok" and isinstance(res_c[1], memoryview):
            res_c = ("ok", bytes(res_c[1]))
            assert isinstance(res_p[1], memoryview)
            res_p = ("ok", bytes(res_p[1]))
        assert res_c == res_p
        return res_c[1] if res_c[0] == "ok" else None

    def some_handle(self, data: st.DataObject) -> int:
        if self.handles and data.draw(st.booleans()):
            return data.draw(st.sampled_from(self.handles))
        return data.draw(
            st.one_of(
                st.integers(0, (1 << 64) - 1),
                st.builds(lambda g, i: g << 32 | i, st.integers(0, 9), st.integers(0, 300)),
                st.integers(-(1 << 65), 1 << 65),
            )
        )

    @rule(nbytes=st.one_of(st.integers(-3, 1100), st.integers(-(1 << 70), 1 << 70)))
    def alloc(self, nbytes: int) -> None:
        h = self.both(lambda a: a.alloc(nbytes))  # type: ignore[attr-defined]
        if h is not None:
            self.handles.append(h)  # type: ignore[arg-type]

    @rule(data=st.data())
    def free(self, data: st.DataObject) -> None:
        h = self.some_handle(data)
        self.both(lambda a: a.free(h))  # type: ignore[attr-defined]

    @rule(data=st.data(), payload=st.binary(max_size=1100))
    def write(self, data: st.DataObject, payload: bytes) -> None:
        h = self.some_handle(data)

        def op(a: object) -> int:
            v = a.view(h)  # type: ignore[attr-defined]
            n = min(len(v), len(payload))
            v[:n] = payload[:n]
            v.release()
            return n

        self.both(op)

    @rule(data=st.data())
    def read(self, data: st.DataObject) -> None:
        h = self.some_handle(data)
        self.both(lambda a: a.view(h))  # type: ignore[attr-defined]
        self.both(lambda a: a.size(h))  # type: ignore[attr-defined]
        self.both(lambda a: a.offset(h))  # type: ignore[attr-defined]

    @rule(bad=st.sampled_from([1.5, "1", None]))
    def wrong_types(self, bad: object) -> None:
        for name in ("alloc", "free", "view", "size"):
            self.both(lambda a, name=name: getattr(a, name)(bad))  # type: ignore[misc]

    @precondition(lambda self: not self.closed)
    @rule()
    def stats(self) -> None:
        self.both(lambda a: a.stats())  # type: ignore[attr-defined]

    @rule()
    def reopen(self) -> None:
        """Close and open the same bytes again (what another process would see)."""
        self.c.close()
        self.p.close()
        self.both(lambda a: a.alloc(1))  # type: ignore[attr-defined]  # ArenaClosed
        self.c = cy.Arena.from_buffer(self.buf_c, create=False)
        self.p = py.Arena.from_buffer(self.buf_p, create=False)

    @invariant()
    def same_bytes(self) -> None:
        if hasattr(self, "buf_c"):
            assert self.buf_c == self.buf_p


TestTwinArenas = TwinArenas.TestCase
TestTwinArenas.settings = settings(max_examples=60, stateful_step_count=60, deadline=None)
