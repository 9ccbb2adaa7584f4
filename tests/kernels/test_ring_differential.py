"""The two ring twins must agree: results, errors, and every byte of shared memory."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from symphony._core import ring as cy_ring
from symphony.reference import ring as py_ring
from symphony.testing.machines import SHM, normalized_ring_bytes, ring_machine

VECTORS = Path(__file__).parent / "vectors" / "ring_golden.json"
PREFIX = f"sytest-ringdiff-{os.getpid()}-"


TestRingTwins = ring_machine(py_ring, cy_ring, prefix=PREFIX).TestCase
"""The public kit's ring machine (:mod:`symphony.testing.machines`) over the two twins: same
results, same error classes, same stats, same bytes of ring and arena after every step."""


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
        return normalized_ring_bytes(name)
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
