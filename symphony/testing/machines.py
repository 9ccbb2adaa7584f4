"""Stateful differential machines for the ring and the allocator, over any two implementations.

Each factory returns a :class:`hypothesis.stateful.RuleBasedStateMachine` subclass that applies
every operation to implementation A and implementation B alike and asserts, after every step,
that they returned the same values, raised the same exception classes, and left the same bytes
in their shared memory. Run one with::

    from hypothesis.stateful import run_state_machine_as_test
    run_state_machine_as_test(ring_machine(my_ring_module, symphony.reference.ring))

or expose ``ring_machine(a, b).TestCase`` to pytest/unittest.

An implementation is a module (or any object) with the kernel's public API: ``Ring`` (with
``create``/``attach``) and ``unlink`` for the ring, ``Arena`` (with ``from_buffer``) for the
allocator.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from symphony import _layout as L
from symphony.testing.strategies import handles
from symphony.testing.twins import outcome

__all__ = ["arena_machine", "normalized_ring_bytes", "ring_machine"]

SHM = Path("/dev/shm")


def normalized_ring_bytes(name: str) -> bytes:
    """A ring segment's bytes with the process ids and arena name blanked (they differ per
    run and per ring); everything else must be equal between two twins."""
    data = bytearray((SHM / name).read_bytes())
    (nslots,) = struct.unpack_from("<I", data, L.RING_OFF_NSLOTS)
    offs = [
        L.RING_OFF_CREATOR,
        L.RING_OFF_CONSUMER_PID,
        L.RING_OFF_PRODUCER_PID,
        L.RING_OFF_BELL_PID,
    ]
    offs += [L.RING_OFF_SLOTS + i * L.RING_SLOT_SIZE for i in range(nslots)]
    for off in offs:
        struct.pack_into("<I", data, off, 0)
    end = L.RING_OFF_ARENA_NAME + L.RING_ARENA_NAME_MAX
    data[L.RING_OFF_ARENA_NAME : end] = bytes(L.RING_ARENA_NAME_MAX)
    return bytes(data)


def _call_named(name: str, arg: object, obj: Any) -> Any:
    return getattr(obj, name)(arg)


def ring_machine(
    impl_a: Any,
    impl_b: Any,
    *,
    prefix: str = "sykit-",
    capacities: Sequence[int] = (64, 128, 256),
    arenas: bool = True,
    compare_bytes: bool = True,
) -> type[RuleBasedStateMachine]:
    """A machine that drives a ring of ``impl_a`` and one of ``impl_b`` in lock step.

    Segments are named ``prefix`` + a random tag and unlinked in ``teardown``. With
    ``compare_bytes`` the two segments (and their arenas) must be byte-identical after every
    step, which is what the format document promises; switch it off for an implementation
    that only promises the same observable behaviour.
    """
    impls = {"a": impl_a, "b": impl_b}

    class RingTwins(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.rings: dict[str, Any] = {}
            self.extra: dict[str, Any] = {}
            self.names: dict[str, str] = {}

        @initialize(
            cap=st.sampled_from(list(capacities)),
            multi=st.booleans(),
            arena=st.booleans() if arenas else st.just(False),
        )
        def setup(self, cap: int, multi: bool, arena: bool) -> None:
            tag = uuid.uuid4().hex[:10]
            for key, mod in impls.items():
                name = f"{prefix}{key}{tag}"
                self.names[key] = name
                self.rings[key] = mod.Ring.create(
                    name,
                    cap,
                    multi_producer=multi,
                    producer_slots=2 if multi else None,
                    inline_limit=24 if arena else None,
                    arena_size=1 << 16 if arena else 0,
                )
                self.extra[key] = mod.Ring.attach(name) if multi else None

        def both(self, op: Callable[[Any], Any], extra: bool = False) -> None:
            pool = self.extra if extra else self.rings
            got = {key: outcome(partial(op, pool[key])) for key in impls}
            assert got["a"] == got["b"], f"A {got['a']!r} != B {got['b']!r}"

        @rule(data=st.binary(max_size=140))
        def push(self, data: bytes) -> None:
            self.both(lambda r: r.push(data))

        @precondition(lambda self: self.extra.get("a") is not None)
        @rule(data=st.binary(max_size=60))
        def push_second_producer(self, data: bytes) -> None:
            self.both(lambda r: r.push(data), extra=True)

        @rule(batch=st.lists(st.binary(max_size=40), max_size=6))
        def push_many(self, batch: list[bytes]) -> None:
            self.both(lambda r: r.push_many(batch))

        @rule()
        def pop(self) -> None:
            self.both(lambda r: r.pop())

        @rule(n=st.integers(-1, 5))
        def pop_many(self, n: int) -> None:
            self.both(lambda r: r.pop_many(n))

        @rule(size=st.integers(0, 150))
        def pop_into(self, size: int) -> None:
            def op(r: Any) -> tuple[int, bytes]:
                buf = bytearray(size)
                n = r.pop_into(buf)
                return n, bytes(buf)

            self.both(op)

        @rule()
        def pop_view(self) -> None:
            self.both(lambda r: r.pop_view())

        @rule()
        def recover(self) -> None:
            self.both(lambda r: r.recover())

        @rule()
        def stats(self) -> None:
            self.both(lambda r: r.stats())

        @invariant()
        def same_bytes(self) -> None:
            if not self.names or not compare_bytes:
                return
            a, b = self.names["a"], self.names["b"]
            assert normalized_ring_bytes(a) == normalized_ring_bytes(b), "segments differ"
            if self.rings["a"].arena is not None:
                sfx = L.RING_ARENA_SUFFIX
                assert (SHM / (a + sfx)).read_bytes() == (SHM / (b + sfx)).read_bytes()

        def teardown(self) -> None:
            for key, mod in impls.items():
                for h in (self.extra.get(key), self.rings.get(key)):
                    if h is not None:
                        h.close()
                if key in self.names:
                    mod.unlink(self.names[key])

    return RingTwins


def arena_machine(
    impl_a: Any,
    impl_b: Any,
    *,
    sizes: Sequence[int] = (4096, 8192, 20000),
    class_sets: Sequence[list[int] | None] = (None, [64], [64, 128], [64, 256, 512], [128, 1024]),
) -> type[RuleBasedStateMachine]:
    """A machine that drives an ``Arena`` of ``impl_a`` and one of ``impl_b``, each over its
    own ``bytearray``: same results, same error classes, same bytes after every step."""
    impls = {"a": impl_a, "b": impl_b}

    class ArenaTwins(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.handles: list[int] = []
            self.bufs: dict[str, bytearray] = {}
            self.arenas: dict[str, Any] = {}

        @initialize(size=st.sampled_from(list(sizes)), classes=st.sampled_from(list(class_sets)))
        def make(self, size: int, classes: list[int] | None) -> None:
            for key, mod in impls.items():
                self.bufs[key] = bytearray(size)
                self.arenas[key] = mod.Arena.from_buffer(
                    self.bufs[key], create=True, size_classes=classes
                )

        def both(self, op: Callable[[Any], Any]) -> Any:
            got = {key: outcome(partial(op, self.arenas[key])) for key in impls}
            assert got["a"] == got["b"], f"A {got['a']!r} != B {got['b']!r}"
            kind, value = got["a"]
            return value if kind == "ok" else None

        def some_handle(self, data: st.DataObject) -> int:
            pick: bool = data.draw(st.booleans())
            if self.handles and pick:
                return int(data.draw(st.sampled_from(self.handles)))
            return int(data.draw(handles()))

        @rule(nbytes=st.one_of(st.integers(-3, 1100), st.integers(-(2**70), 2**70)))
        def alloc(self, nbytes: int) -> None:
            h = self.both(lambda a: a.alloc(nbytes))
            if h is not None:
                self.handles.append(h)

        @rule(data=st.data())
        def free(self, data: st.DataObject) -> None:
            h = self.some_handle(data)
            self.both(lambda a: a.free(h))

        @rule(data=st.data(), payload=st.binary(max_size=1100))
        def write(self, data: st.DataObject, payload: bytes) -> None:
            h = self.some_handle(data)

            def op(a: Any) -> int:
                v = a.view(h)
                n = min(len(v), len(payload))
                v[:n] = payload[:n]
                v.release()
                return n

            self.both(op)

        @rule(data=st.data())
        def read(self, data: st.DataObject) -> None:
            h = self.some_handle(data)
            self.both(lambda a: a.view(h))
            self.both(lambda a: a.size(h))
            self.both(lambda a: a.offset(h))

        @rule(bad=st.sampled_from([1.5, "1", None]))
        def wrong_types(self, bad: object) -> None:
            for name in ("alloc", "free", "view", "size"):
                self.both(partial(_call_named, name, bad))

        @rule()
        def stats(self) -> None:
            self.both(lambda a: a.stats())

        @rule()
        def reopen(self) -> None:
            """Close and open the same bytes again (what another process would see)."""
            for a in self.arenas.values():
                a.close()
            self.both(lambda a: a.alloc(1))  # closed: the same error on both
            for key, mod in impls.items():
                self.arenas[key] = mod.Arena.from_buffer(self.bufs[key], create=False)

        @invariant()
        def same_bytes(self) -> None:
            if self.bufs:
                assert self.bufs["a"] == self.bufs["b"], "arena bytes differ"

    return ArenaTwins
