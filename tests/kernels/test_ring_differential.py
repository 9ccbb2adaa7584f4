"""The two ring twins must agree: results, errors, and every byte of shared memory."""

from __future__ import annotations

import json
import os
import struct
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from symphony import _layout as L
from symphony._core import ring as cy_ring
from symphony.reference import ring as py_ring

VECTORS = Path(__file__).parent / "vectors" / "ring_golden.json"
PREFIX = f"sytest-ringdiff-{os.getpid()}-"
SHM = Path("/dev/shm")


def _pid_offsets(data: bytes) -> list[int]:
    (nslots,) = struct.unpack_from("<I", data, L.RING_OFF_NSLOTS)
    offs = [L.RING_OFF_CREATOR, L.RING_OFF_CONSUMER_PID, L.RING_OFF_PRODUCER_PID,
            L.RING_OFF_BELL_PID]
    offs += [L.RING_OFF_SLOTS + i * L.RING_SLOT_SIZE for i in range(nslots)]
    return offs


def normalized(name: str) -> bytes:
    """The segment's bytes with process ids and the arena name blanked (they differ by run)."""
    data = bytearray((SHM / name).read_bytes())
    for off in _pid_offsets(bytes(data)):
        struct.pack_into("<I", data, off, 0)
    data[L.RING_OFF_ARENA_NAME : L.RING_OFF_ARENA_NAME + L.RING_ARENA_NAME_MAX] = bytes(
        L.RING_ARENA_NAME_MAX
    )
    return bytes(data)


def _outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    try:
        value = fn()
    except Exception as exc:  # compared by class between the twins
        return ("raise", type(exc))
    if isinstance(value, py_ring.Message):
        out = (value.tobytes(), value.in_arena)
        value.release()
        return ("message", out)
    return ("ok", value)


class RingTwins(RuleBasedStateMachine):
    """Apply every operation to a Python ring and a Cython ring built alike; compare."""

    def __init__(self) -> None:
        super().__init__()
        self.rings: dict[str, Any] = {}
        self.extra: dict[str, Any] = {}
        self.names: dict[str, str] = {}
        self.cap = 0

    @initialize(
        cap=st.sampled_from([64, 128, 256]),
        multi=st.booleans(),
        arena=st.booleans(),
    )
    def setup(self, cap: int, multi: bool, arena: bool) -> None:
        self.cap = cap
        tag = uuid.uuid4().hex[:10]
        for key, mod in (("py", py_ring), ("cy", cy_ring)):
            name = f"{PREFIX}{key}{tag}"
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
        got = {
            key: _outcome(lambda key=key: op(self.extra[key] if extra else self.rings[key]))
            for key in ("py", "cy")
        }
        assert got["py"] == got["cy"]

    @rule(data=st.binary(max_size=140))
    def push(self, data: bytes) -> None:
        self.both(lambda r: r.push(data))

    @precondition(lambda self: self.extra.get("py") is not None)
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
        if not self.names:
            return
        assert normalized(self.names["py"]) == normalized(self.names["cy"])
        if self.rings["py"].arena is not None:
            a = (SHM / (self.names["py"] + L.RING_ARENA_SUFFIX)).read_bytes()
            b = (SHM / (self.names["cy"] + L.RING_ARENA_SUFFIX)).read_bytes()
            assert a == b

    def teardown(self) -> None:
        for key in ("py", "cy"):
            for h in (self.extra.get(key), self.rings.get(key)):
                if h is not None:
                    h.close()
            if key in self.names:
                py_ring.unlink(self.names[key])


TestRingTwins = RingTwins.TestCase


@pytest.fixture(autouse=True, scope="module")
def _no_leftovers() -> Iterator[None]:
    yield
    left = [p.name for p in SHM.iterdir() if p.name.startswith(PREFIX)]
    assert left == [], f"segments left behind: {left}"


# ---- golden vectors -------------------------------------------------------------------
def golden_sequence(mod: ModuleType, name: str, multi: bool) -> bytes:
    """A fixed sequence of operations on a 128-byte ring; returns the normalized segment."""
    r = mod.Ring.create(name, 128, multi_producer=multi, producer_slots=2 if multi else None)
    try:
        for i in range(7):
            r.push(bytes([0x41 + i]) * (3 * i + 1))
        r.pop_many(3)
        r.push_many([b"wrap-around!" * 2, b"xyz", b"\x00\xff" * 9])
        r.pop()
        r.push(b"")
        r.pop_into(bytearray(64))
        r.push(b"tail")
        return normalized(name)
    finally:
        r.close()
        mod.unlink(name)


@pytest.mark.parametrize("multi", [False, True], ids=["spsc", "mpsc"])
@pytest.mark.parametrize("mod", [py_ring, cy_ring], ids=["python", "cython"])
def test_golden_vectors(mod: ModuleType, multi: bool) -> None:
    expected = json.loads(VECTORS.read_text())["spsc" if multi is False else "mpsc"]
    got = golden_sequence(mod, f"{PREFIX}golden", multi)
    assert got.hex() == expected


if __name__ == "__main__":  # regenerate (only when the format version changes)
    out = {
        key: golden_sequence(py_ring, f"sy-golden-{os.getpid()}", multi).hex()
        for key, multi in (("spsc", False), ("mpsc", True))
    }
    VECTORS.write_text(json.dumps(out, indent=1) + "\n")
