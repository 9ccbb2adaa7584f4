"""The demo extension agrees with Symphony's own Python API."""

from __future__ import annotations

import hashlib
import os
import random

import pytest
from symphony_embed_demo import _loops, crc32c, cut_points, push_pop, push_pop_inline, sha256

from symphony._core import checksum, hashing
from symphony._core.ring import Ring


@pytest.fixture
def ring():
    r = Ring.create(f"syembedcy-{os.getpid()}-{random.getrandbits(32):08x}", 1 << 12)
    try:
        yield r
    finally:
        r.close()
        r.unlink()


@pytest.mark.parametrize("size", [0, 1, 64, 1000])
def test_push_pop_round_trips_every_byte(ring, size):
    assert push_pop(ring, 5000, size) == 5000
    assert ring.pop() is None
    st = ring.stats()
    assert st["pushed"] == st["popped"] == 5000  # C pushed through the Ring's own handle


def test_inline_and_cdef_loops(ring):
    assert push_pop_inline(ring, 3000, 64) == 3000
    assert _loops.push_pop_raw(ring, 3000, 64) == 3000
    # one ring, two languages: C pops the message Python pushed, Python pops C's
    ring.push(b"x" * 64)
    assert _loops.push_pop_raw(ring, 1, 64) == 1
    assert ring.pop() == bytes(64)  # message 0 of the C loop: all zero bytes
    assert ring.pop() is None


def test_push_pop_refuses_oversized(ring):
    with pytest.raises(ValueError, match="size"):
        push_pop(ring, 1, 5000)


@pytest.mark.parametrize("n", [0, 1, 5000, 200_000])
def test_cut_points_match_symphony(n):
    data = random.Random(n).randbytes(n)
    for params in ((4096, 16384, 65536, 1, 0), (256, 1024, 4096, 2, 7)):
        assert cut_points(data, *params) == hashing.cut_points(data, *params)


def test_bad_chunker_params_are_refused():
    with pytest.raises(ValueError, match="bad chunker parameters"):
        cut_points(b"abc", 10, 5, 1)


def test_sha256():
    for n in (0, 3, 64, 100_000):
        data = random.Random(n).randbytes(n)
        assert sha256(data) == hashlib.sha256(data).digest()


def test_crc32c():
    for n in (0, 1, 63, 100_000):
        data = random.Random(n).randbytes(n)
        assert crc32c(data) == checksum.crc32c(data)
        assert crc32c(data, 12345) == checksum.crc32c(data, 12345)
    assert crc32c(b"123456789") == 0xE3069283
