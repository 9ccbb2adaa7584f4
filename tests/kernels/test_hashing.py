"""The hashing kernel (FastCDC 2020 + SHA-256), under both implementations.

Golden vectors: tests/kernels/vectors/hashing_fastcdc2020.json. Its "published" part is the
Rust ``fastcdc`` crate's ``v2020`` test vectors over SekienAkashita.jpg, which is not in this
repository: it lives at ``<repo>/../shared/fixtures/cdc/`` (override with
``SYMPHONY_CDC_FIXTURES``). Its "ours" part pins our own cut points and digests on data made
by :func:`make_data` below.
"""

from __future__ import annotations

import array
import hashlib
import inspect
import json
import mmap
import os
import random
from pathlib import Path
from types import ModuleType
from typing import Any

import blake3
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from symphony import _cdc
from symphony.commons.errors import ChunkerError

VECTORS = json.loads((Path(__file__).parent / "vectors" / "hashing_fastcdc2020.json").read_text())
REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(os.environ.get("SYMPHONY_CDC_FIXTURES", REPO.parent / "shared/fixtures/cdc"))

# Small parameters so that the pure-Python twin sees many chunks on little data.
SMALL = {"min_size": 64, "avg_size": 256, "max_size": 1024}


@pytest.fixture(scope="session")
def hashing_mod(impl: Any) -> ModuleType:
    return impl.load("hashing")  # type: ignore[no-any-return]


def make_data(kind: str, seed: int, size: int) -> bytes:
    """Reproducible test content: random bytes, or word soup that looks like source text."""
    rng = random.Random(seed)
    if kind == "random":
        return rng.randbytes(size)
    words = ["symphony", "chunk", "gear", "hash", "def", "return", "self", "import", "the",
             "a", "of", "to", "0x%04x", "\n", "    ", "(", ")", ":"]  # fmt: skip
    out: list[str] = []
    total = 0
    while total < size:
        w = rng.choice(words)
        if "%" in w:
            w = w % rng.randrange(65536)
        out.append(w + " ")
        total += len(w) + 1
    return "".join(out).encode()[:size]


def fixture_bytes(name: str) -> bytes:
    path = FIXTURES / name
    assert path.is_file(), f"golden fixture {path} is missing (see this module's docstring)"
    return path.read_bytes()


def params(v: dict[str, Any]) -> dict[str, int]:
    return {
        "min_size": v["min"],
        "avg_size": v["avg"],
        "max_size": v["max"],
        "level": v["level"],
        "seed": v["seed"],
    }


def published_data(v: dict[str, Any]) -> bytes:
    return bytes(v["zeros"]) if "zeros" in v else fixture_bytes(v["file"])


# --------------------------------------------------------------------------- golden vectors
@pytest.mark.parametrize("v", VECTORS["published"], ids=lambda v: v["name"])
def test_published_fastcdc_rs_vectors(hashing_mod: ModuleType, v: dict[str, Any]) -> None:
    data = published_data(v)
    p = params(v)
    pos = 0
    got: list[list[int]] = []
    while pos < len(data) and len(got) < len(v["chunks"]):
        length, gear_hash = hashing_mod.cut(memoryview(data)[pos:], **p)
        got.append([gear_hash, length])
        pos += length
    assert got == v["chunks"]
    assert pos == len(data)
    ends = hashing_mod.cut_points(data, **p)
    lengths = [b - a for a, b in zip([0, *ends], ends)]
    assert lengths == [length for _, length in v["chunks"]]
    if "blake3" in v:
        bounds = zip([0, *ends], ends)
        assert [blake3.blake3(data[a:b]).hexdigest() for a, b in bounds] == v["blake3"]


@pytest.mark.parametrize("v", VECTORS["ours"], ids=lambda v: v["name"])
def test_our_vectors(hashing_mod: ModuleType, v: dict[str, Any]) -> None:
    data = make_data(**v["data"])
    m = hashing_mod.hash_chunks(data, **params(v), content_digest=True)
    assert [c.offset + c.length for c in m.chunks] == v["ends"]
    assert [c.digest.hex() for c in m.chunks] == v["sha256"]
    assert m.manifest_id.hex() == v["manifest_id"]
    assert m.content_sha256.hex() == v["content_sha256"] == hashlib.sha256(data).hexdigest()
    assert m.size == len(data)
    assert hashing_mod.cut_points(data, **params(v)) == v["ends"]


def test_gear_table_is_md5_derived(hashing_mod: ModuleType) -> None:
    table = hashing_mod.gear_table()
    assert len(table) == 256
    # Published GEAR[0], GEAR[1], GEAR[255] of the fastcdc crate.
    assert (table[0], table[1], table[255]) == (
        0x3B5D3C7D207E37DC, 0x784D68BA91123086, 0xAABD2B2A451504E1)  # fmt: skip
    assert table == [
        int.from_bytes(hashlib.md5(bytes([b]) * 64).digest()[:8], "big") for b in range(256)
    ]
    assert hashing_mod.gear_table(666) == [g ^ 666 for g in table]


# --------------------------------------------------------------------------- edge cases
def test_empty(hashing_mod: ModuleType) -> None:
    assert hashing_mod.cut_points(b"") == []
    assert hashing_mod.cut(b"") == (0, 0)
    m = hashing_mod.hash_chunks(b"", content_digest=True)
    assert m.chunks == ()
    assert m.size == 0
    assert m.manifest_id == hashlib.sha256(_cdc.MANIFEST_DOMAIN).digest()
    assert m.content_sha256 == hashlib.sha256(b"").digest()
    assert hashing_mod.hash_chunks(b"").content_sha256 is None


@pytest.mark.parametrize("n", [1, 63, 64, 65, 1023, 1024, 1025, 3000])
def test_short_and_boundary_sizes(hashing_mod: ModuleType, n: int) -> None:
    data = make_data("random", n, n)
    ends = hashing_mod.cut_points(data, **SMALL)
    assert ends[-1] == n
    if n <= SMALL["min_size"]:
        assert ends == [n]
        assert hashing_mod.cut(data, **SMALL) == (n, 0)
    assert all(b - a <= SMALL["max_size"] for a, b in zip([0, *ends], ends))


def test_all_zeros_cut_at_max(hashing_mod: ModuleType) -> None:
    assert hashing_mod.cut_points(bytes(5000), **SMALL) == [1024, 2048, 3072, 4096, 5000]


def test_level_and_seed_change_cut_points(hashing_mod: ModuleType) -> None:
    data = make_data("random", 9, 20_000)
    base = hashing_mod.cut_points(data, **SMALL)
    assert hashing_mod.cut_points(data, **SMALL, seed=1) != base
    assert hashing_mod.cut_points(data, **SMALL, level=3) != base
    sizes = [b - a for a, b in zip([0, *base], base)]
    assert 100 < sum(sizes) / len(sizes) < 1000  # near avg_size=256 ... max_size


def test_accepts_any_buffer(hashing_mod: ModuleType) -> None:
    data = make_data("text", 3, 5000)
    expected = hashing_mod.hash_chunks(data, **SMALL, content_digest=True)
    with mmap.mmap(-1, len(data)) as m:
        m.write(data)
        assert hashing_mod.hash_chunks(m, **SMALL, content_digest=True) == expected
        assert hashing_mod.cut_points(m, **SMALL) == hashing_mod.cut_points(data, **SMALL)
    for buf in (bytearray(data), memoryview(data), np.frombuffer(data, dtype=np.uint8)):
        assert hashing_mod.hash_chunks(buf, **SMALL, content_digest=True) == expected
        assert hashing_mod.sha256(buf) == hashlib.sha256(data).digest()
    ints = array.array("I", range(1000))
    assert hashing_mod.cut_points(ints, **SMALL) == hashing_mod.cut_points(ints.tobytes(), **SMALL)
    chunker = hashing_mod.Chunker(**SMALL)
    chunks = chunker.update(bytearray(data[:3000])) + chunker.update(memoryview(data)[3000:])
    chunks += chunker.finish()
    assert tuple(chunks) == expected.chunks


@pytest.mark.parametrize(
    "call",
    [
        lambda k, d: k.cut_points(d),
        lambda k, d: k.cut(d),
        lambda k, d: k.hash_chunks(d),
        lambda k, d: k.sha256(d),
        lambda k, d: k.Chunker().update(d),
        lambda k, d: k.hash_cuts(d, [1]),
    ],
)
def test_bad_buffers(hashing_mod: ModuleType, call: Any) -> None:
    with pytest.raises(TypeError, match="str"):
        call(hashing_mod, "text")
    with pytest.raises(TypeError):
        call(hashing_mod, 12)
    with pytest.raises(BufferError):
        call(hashing_mod, np.arange(10, dtype=np.uint8)[::2])


BAD_PARAMS = [
    ({"min_size": 63}, "min_size"),
    ({"min_size": 1_048_577, "avg_size": 4_000_000, "max_size": 8_000_000}, "min_size"),
    ({"min_size": 64, "avg_size": 255}, "avg_size"),
    ({"avg_size": 4_194_305, "max_size": 16_000_000}, "avg_size"),
    ({"avg_size": 2048, "max_size": 1023}, "max_size"),
    ({"max_size": 16_777_217}, "max_size"),
    ({"min_size": 8192, "avg_size": 4096}, "avg_size=4096 must be >= min_size=8192"),
    ({"avg_size": 65536, "max_size": 32768}, "max_size=32768 must be >= avg_size=65536"),
    ({"level": 4}, "level"),
    ({"level": -1}, "level"),
    ({"seed": -1}, "seed"),
    ({"seed": 2**64}, "seed"),
    ({"min_size": "64"}, "min_size must be an integer"),
    ({"avg_size": 1.5}, "avg_size must be an integer"),
    ({"seed": None}, "seed must be an integer"),
]


@pytest.mark.parametrize(("kwargs", "match"), BAD_PARAMS, ids=lambda x: str(x))
def test_bad_params_name_the_parameter(
    hashing_mod: ModuleType, kwargs: dict[str, Any], match: str
) -> None:
    for call in (hashing_mod.cut_points, hashing_mod.cut, hashing_mod.hash_chunks):
        with pytest.raises(ChunkerError, match=match):
            call(b"x" * 100, **kwargs)
    with pytest.raises(ChunkerError, match=match):
        hashing_mod.Chunker(**kwargs)


@pytest.mark.parametrize("threads", [0, 3, -1, "2", None])
def test_bad_threads(hashing_mod: ModuleType, threads: Any) -> None:
    with pytest.raises(ChunkerError, match="threads"):
        hashing_mod.hash_chunks(b"x" * 100, threads=threads)


def test_threads_do_not_change_the_result(hashing_mod: ModuleType) -> None:
    data = make_data("random", 14, 40_000)
    one = hashing_mod.hash_chunks(data, **SMALL, content_digest=True, threads=1)
    assert hashing_mod.hash_chunks(data, **SMALL, content_digest=True, threads=2) == one


def test_extreme_valid_params(hashing_mod: ModuleType) -> None:
    data = make_data("random", 11, 5000)
    assert hashing_mod.cut_points(data, 64, 256, 1024, 3, 2**64 - 1)[-1] == 5000
    big = dict(min_size=1_048_576, avg_size=4_194_304, max_size=16_777_216, level=3)
    assert hashing_mod.cut_points(data, **big) == [5000]


def test_chunker_misuse(hashing_mod: ModuleType) -> None:
    chunker = hashing_mod.Chunker(**SMALL)
    with pytest.raises(ChunkerError, match="manifest_id"):
        _ = chunker.manifest_id
    with pytest.raises(ChunkerError, match="content_sha256"):
        _ = chunker.content_sha256
    assert not chunker.finished
    chunker.update(b"abc")
    assert (chunker.size, chunker.pending) == (3, 3)
    assert [tuple(c) for c in chunker.finish()] == [(0, 3, hashlib.sha256(b"abc").digest())]
    assert chunker.finished
    assert chunker.content_sha256 is None
    with pytest.raises(ChunkerError, match="after finish"):
        chunker.update(b"more")
    with pytest.raises(ChunkerError, match="twice"):
        chunker.finish()


# --------------------------------------------------------------------------- properties
@st.composite
def pieces(draw: st.DrawFn, max_size: int = 6000) -> tuple[bytes, list[int]]:
    data = draw(
        st.one_of(
            st.binary(max_size=max_size),
            st.builds(
                make_data,
                st.sampled_from(["random", "text"]),
                st.integers(0, 99),
                st.integers(0, max_size),
            ),
        )
    )
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=12)))
    return data, cuts


@given(pieces())
def test_streaming_equals_one_shot(hashing_mod: ModuleType, case: tuple[bytes, list[int]]) -> None:
    data, cuts = case
    expected = hashing_mod.hash_chunks(data, **SMALL, content_digest=True)
    chunker = hashing_mod.Chunker(**SMALL, content_digest=True)
    got = []
    for a, b in zip([0, *cuts], [*cuts, len(data)]):
        got += chunker.update(data[a:b])
        assert chunker.pending < SMALL["max_size"]
        assert chunker.size == b
    got += chunker.finish()
    assert tuple(got) == expected.chunks
    assert chunker.manifest_id == expected.manifest_id
    assert chunker.content_sha256 == expected.content_sha256
    assert chunker.size == len(data)


@given(pieces())
def test_chunk_invariants(hashing_mod: ModuleType, case: tuple[bytes, list[int]]) -> None:
    data, _ = case
    m = hashing_mod.hash_chunks(data, **SMALL)
    pos = 0
    entries = [_cdc.MANIFEST_DOMAIN]
    for i, c in enumerate(m.chunks):
        assert c.offset == pos
        assert 1 <= c.length <= SMALL["max_size"]
        if i < len(m.chunks) - 1:
            assert c.length >= SMALL["min_size"] - 1  # a cut on a pair's first byte
        assert c.digest == hashlib.sha256(data[pos : pos + c.length]).digest()
        entries.append(_cdc.manifest_entry(c.length, c.digest))
        pos += c.length
    assert pos == len(data) == m.size
    assert m.manifest_id == hashlib.sha256(b"".join(entries)).digest()
    assert [c.offset + c.length for c in m.chunks] == hashing_mod.cut_points(data, **SMALL)


@given(st.integers(0, 300), st.integers(0, 2**32))
def test_sha256_matches_hashlib(hashing_mod: ModuleType, n: int, seed: int) -> None:
    data = random.Random(seed).randbytes(n)
    assert hashing_mod.sha256(data) == hashlib.sha256(data).digest()


def test_sha256_large_and_unaligned(hashing_mod: ModuleType) -> None:
    data = make_data("random", 12, 200_003)
    for start in (0, 1, 7):
        view = memoryview(data)[start:]
        assert hashing_mod.sha256(view) == hashlib.sha256(view).digest()


def test_content_shift_keeps_most_chunks(hashing_mod: ModuleType) -> None:
    """The point of CDC: an insertion near the front leaves later chunks intact."""
    data = make_data("random", 13, 30_000)
    a = hashing_mod.hash_chunks(data, **SMALL)
    b = hashing_mod.hash_chunks(b"inserted!" + data, **SMALL)
    shared = {c.digest for c in a.chunks} & {c.digest for c in b.chunks}
    assert len(shared) >= len(a.chunks) - 3


# --------------------------------------------------------------------------- hash_cuts
@pytest.mark.parametrize("kind", ["random", "text"])
def test_hash_cuts_at_cut_points_is_hash_chunks(hashing_mod: ModuleType, kind: str) -> None:
    data = make_data(kind, 21, 50_000)
    ends = hashing_mod.cut_points(data, **SMALL)
    expected = hashing_mod.hash_chunks(data, **SMALL)
    assert hashing_mod.hash_cuts(data, ends) == expected
    assert hashing_mod.hash_cuts(bytearray(data), tuple(ends)) == expected
    assert hashing_mod.hash_cuts(memoryview(data), iter(ends)) == expected
    assert hashing_mod.hash_cuts(np.frombuffer(data, dtype=np.uint8), ends) == expected
    # anything operator.index takes is an integer (numpy integers, bool)
    assert hashing_mod.hash_cuts(data, np.array(ends, dtype=np.int64)) == expected
    assert hashing_mod.hash_cuts(b"ab", [True, 2]) == hashing_mod.hash_cuts(b"ab", [1, 2])


def _oracle(data: bytes, ends: list[int]) -> tuple[list[tuple[int, int, bytes]], bytes]:
    """Chunk records and manifest id of ``data`` cut at ``ends``, from hashlib alone."""
    records, entries, start = [], [_cdc.MANIFEST_DOMAIN], 0
    for end in ends:
        digest = hashlib.sha256(data[start:end]).digest()
        records.append((start, end - start, digest))
        entries.append((end - start).to_bytes(8, "little") + digest)
        start = end
    return records, hashlib.sha256(b"".join(entries)).digest()


@pytest.mark.parametrize(
    ("size", "ends"),
    [
        (1, [1]),
        (10_000, [10_000]),
        (10_000, [1, 2, 3, 100, 101, 5000, 9999, 10_000]),  # even count
        (10_000, [1, 2, 100, 101, 5000, 9999, 10_000]),  # odd count: the last one alone
        (300_001, [*range(7, 300_001, 4099), 300_001]),  # large: hashed without the GIL
        (200_000, [100_000, 200_000]),
    ],
)
def test_hash_cuts_matches_hashlib(hashing_mod: ModuleType, size: int, ends: list[int]) -> None:
    data = make_data("random", size, size)
    m = hashing_mod.hash_cuts(data, ends)
    records, manifest_id = _oracle(data, ends)
    assert [tuple(c) for c in m.chunks] == records
    assert all(type(c) is _cdc.ChunkRecord for c in m.chunks)
    assert m.size == size
    assert m.manifest_id == manifest_id
    assert m.content_sha256 is None


def test_hash_cuts_empty(hashing_mod: ModuleType) -> None:
    assert hashing_mod.hash_cuts(b"", []) == hashing_mod.hash_chunks(b"")
    assert hashing_mod.hash_cuts(bytearray(), ()) == hashing_mod.hash_chunks(b"")


@pytest.mark.parametrize(
    ("ends", "match"),
    [
        ([], "must be the data's length 10, got no ends"),
        ([0, 10], r"strictly increasing from 1: ends\[0\]=0 after 0"),
        ([-3, 10], r"ends\[0\]=-3 after 0"),
        ([5, 5, 10], r"ends\[1\]=5 after 5"),
        ([6, 4, 10], r"ends\[1\]=4 after 6"),
        ([5, 11], r"ends\[1\]=11 is past the end of the data \(10 bytes\)"),
        ([2**70], r"ends\[0\]=1180591620717411303424 is past"),
        ([5, 9], r"got 9 \(ends\[1\]\)"),
        ([5, "x", 10], r"ends\[1\] must be an integer, got str"),
        ([5.0, 10], r"ends\[0\] must be an integer, got float"),
        (10, "ends must be an iterable of integers, got int"),
        (None, "iterable of integers, got NoneType"),
        (b"\x05\x0a", "iterable of integers, got bytes"),
        ("ab", "iterable of integers, got str"),
    ],
)
def test_hash_cuts_bad_ends(hashing_mod: ModuleType, ends: Any, match: str) -> None:
    with pytest.raises(ChunkerError, match=match):
        hashing_mod.hash_cuts(bytes(10), ends)


# --------------------------------------------------------------------------- twin surface
def _shape(fn: Any) -> list[tuple[str, Any, Any]]:
    """Parameter names, defaults and kinds (annotations live in the .pyi for Cython)."""
    return [(p.name, p.default, p.kind) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.cython
def test_same_public_surface() -> None:
    from symphony._core import hashing as cy
    from symphony.reference import hashing as py

    assert cy.__all__ == py.__all__
    for name in py.__all__:
        if name != "Chunker":
            assert _shape(getattr(cy, name)) == _shape(getattr(py, name)), name
    # A cdef class has no introspectable __init__; embedsignature writes it into the docstring.
    first = (cy.Chunker.__doc__ or "").splitlines()[0]
    assert first.startswith("Chunker(")
    assert first.endswith(")")
    embedded = [part.split("=") for part in first[len("Chunker(") : -1].split(", ")]
    names = {k: getattr(_cdc, k) for k in _cdc.__all__}
    cy_init = [(name, eval(default, names), inspect.Parameter.POSITIONAL_OR_KEYWORD)
               for name, default in embedded]  # fmt: skip
    assert cy_init == _shape(py.Chunker)
    for name in ("update", "finish"):
        assert _shape(getattr(cy.Chunker, name)) == _shape(getattr(py.Chunker, name)), name
    public = {n for n in dir(py.Chunker) if not n.startswith("_")}
    assert public == {n for n in dir(cy.Chunker) if not n.startswith("_")}


@pytest.mark.cython
def test_cython_module_is_compiled() -> None:
    from symphony._core import hashing as cy

    assert cy.__file__ is not None
    assert cy.__file__.endswith(".so")
