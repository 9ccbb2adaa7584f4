"""The Cython hashing kernel agrees with its twin on arbitrary data, parameters and splits."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symphony._core import hashing as cy
from symphony.commons.errors import ChunkerError
from symphony.reference import hashing as py

pytestmark = pytest.mark.cython  # needs the compiled kernel (deselected by --no-cython)


@st.composite
def chunk_params(draw: st.DrawFn) -> dict[str, int]:
    """Small sizes (many chunks on little data), every level, any seed, odd sizes too."""
    mn = draw(st.integers(64, 600))
    avg = draw(st.integers(max(mn, 256), 2500))
    mx = draw(st.integers(max(avg, 1024), 9000))
    return {
        "min_size": mn,
        "avg_size": avg,
        "max_size": mx,
        "level": draw(st.integers(0, 3)),
        "seed": draw(st.one_of(st.just(0), st.integers(0, 2**64 - 1))),
    }


def data_strategy(max_size: int) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=max_size),
        st.builds(
            lambda seed, n: random.Random(seed).randbytes(n),
            st.integers(0, 2**32),
            st.integers(0, max_size),
        ),
        # Low-entropy data: long runs reach max_size without a cut.
        st.builds(lambda b, n: bytes([b]) * n, st.integers(0, 255), st.integers(0, max_size)),
    )


@given(data_strategy(20_000), chunk_params())
def test_twins_agree(data: bytes, p: dict[str, int]) -> None:
    assert cy.cut_points(data, **p) == py.cut_points(data, **p)
    assert cy.cut(data, **p) == py.cut(data, **p)
    assert cy.hash_chunks(data, **p, content_digest=True) == py.hash_chunks(
        data, **p, content_digest=True
    )


@given(data_strategy(20_000), chunk_params(), st.data())
def test_streaming_twins_agree(data: bytes, p: dict[str, int], draw: st.DataObject) -> None:
    cuts = sorted(draw.draw(st.lists(st.integers(0, len(data)), max_size=20)))
    whole = draw.draw(st.booleans())  # False: the Cython Chunker takes its fused path
    one_shot = py.hash_chunks(data, **p, content_digest=whole)
    streams: list[Any] = [
        cy.Chunker(**p, content_digest=whole),
        py.Chunker(**p, content_digest=whole),
    ]
    got: list[list[object]] = [[], []]
    for a, b in zip([0, *cuts], [*cuts, len(data)]):
        for out, chunker in zip(got, streams):
            out += chunker.update(data[a:b])
            assert chunker.pending < p["max_size"]
        assert streams[0].pending == streams[1].pending
    for out, chunker in zip(got, streams):
        out += chunker.finish()
        assert tuple(out) == one_shot.chunks
        assert chunker.manifest_id == one_shot.manifest_id
        assert chunker.content_sha256 == one_shot.content_sha256


@settings(max_examples=25)
@given(st.integers(0, 2**32), st.lists(st.integers(0, 300_000), min_size=1, max_size=12))
def test_cython_streaming_large_pieces(seed: int, sizes: list[int]) -> None:
    """Pieces larger and smaller than max_size, at the default sizes (Cython only: fast)."""
    data = random.Random(seed).randbytes(sum(sizes))
    whole = seed % 2 == 0  # False: the fused path
    expected = cy.hash_chunks(data, content_digest=whole)
    chunker = cy.Chunker(content_digest=whole)
    got = []
    pos = 0
    for n in sizes:
        got += chunker.update(memoryview(data)[pos : pos + n])
        pos += n
        assert chunker.pending < 65536
    got += chunker.finish()
    assert tuple(got) == expected.chunks
    assert (chunker.manifest_id, chunker.content_sha256) == (
        expected.manifest_id, expected.content_sha256)  # fmt: skip


def test_twins_agree_on_two_megabytes() -> None:
    """Above the Cython twin's GIL-release and two-thread thresholds, at the default sizes."""
    data = random.Random(2026).randbytes(2 << 20)
    expected = py.hash_chunks(data, content_digest=True)
    assert cy.hash_chunks(data, content_digest=True, threads=2) == expected  # the pipeline
    assert cy.hash_chunks(data, content_digest=True) == expected
    assert cy.sha256(data) == py.sha256(data)


@settings(max_examples=20)
@given(
    st.integers(0, 2**32),
    st.integers(1 << 20, 3 << 20),
    st.sampled_from([(64, 256, 1024), (1024, 4096, 16384), (65536, 262144, 1048576)]),
    st.booleans(),
)
def test_pipeline_equals_serial(
    seed: int, n: int, sizes: tuple[int, int, int], whole: bool
) -> None:
    """The two-thread pipeline (ring of cut points, backpressure) gives the serial result,
    including with tiny chunks that fill its ring many times over."""
    data = random.Random(seed).randbytes(n)
    one = cy.hash_chunks(data, *sizes, content_digest=whole, threads=1)
    assert cy.hash_chunks(data, *sizes, content_digest=whole, threads=2) == one
    assert [c.offset + c.length for c in one.chunks] == cy.cut_points(data, *sizes)


def test_chunker_usable_from_successive_threads() -> None:
    """The Cython Chunker's busy guard (against concurrent use) is released after each call."""
    import threading

    data = random.Random(7).randbytes(300_000)
    chunker = cy.Chunker()
    got: list[object] = []
    for piece in (data[:100_000], data[100_000:]):
        thread = threading.Thread(target=lambda p=piece: got.extend(chunker.update(p)))
        thread.start()
        thread.join()
    got += chunker.finish()
    assert tuple(got) == cy.hash_chunks(data).chunks


@settings(max_examples=30)
@given(data_strategy(40_000), st.sampled_from([(64, 256, 1024), (1024, 4096, 16384)]))
def test_portable_sha256_path(data: bytes, sizes: tuple[int, int, int]) -> None:
    """The portable C SHA-256 (CPUs without SHA extensions) gives the same digests."""
    fast = cy.hash_chunks(data, *sizes, content_digest=True)
    cy._force_portable_sha256(True)
    try:
        assert not cy.uses_sha_extensions()
        assert cy.hash_chunks(data, *sizes, content_digest=True) == fast
        assert cy.sha256(data) == py.sha256(data)
    finally:
        cy._force_portable_sha256(False)


@settings(max_examples=40)
@given(data_strategy(60_000), chunk_params())
def test_fused_path_equals_plain_loop(data: bytes, p: dict[str, int]) -> None:
    """The one-core fused scan+SHA path (default for threads=1 without content_digest, with
    SHA extensions) gives what the plain chunk-then-hash loop gives."""
    fused = cy.hash_chunks(data, **p, content_digest=False)
    cy._use_fused_path(False)
    try:
        assert cy.hash_chunks(data, **p, content_digest=False) == fused
    finally:
        cy._use_fused_path(True)
    assert [c.offset + c.length for c in fused.chunks] == cy.cut_points(data, **p)


@given(data_strategy(20_000), st.data())
def test_hash_cuts_twins_agree(data: bytes, draw: st.DataObject) -> None:
    n = len(data)
    ends = sorted(draw.draw(st.sets(st.integers(1, n), max_size=40))) if n else []
    if n and (not ends or ends[-1] != n):
        ends.append(n)
    got = cy.hash_cuts(data, ends)
    assert got == py.hash_cuts(data, ends)
    assert [c.length for c in got.chunks] == [b - a for a, b in zip([0, *ends], ends)]


@given(
    st.integers(0, 300),
    st.one_of(
        st.lists(
            st.one_of(
                st.integers(-5, 400),
                st.just(2**70),
                st.booleans(),
                st.floats(0, 10),
                st.text(max_size=2),
            ),
            max_size=6,
        ),
        st.none(),
        st.integers(),
        st.binary(max_size=3),
    ),
)
def test_hash_cuts_twins_refuse_alike(n: int, ends: Any) -> None:
    def outcome(mod: Any) -> object:
        try:
            return mod.hash_cuts(bytes(n), ends)
        except ChunkerError as exc:
            return ("ChunkerError", str(exc))

    assert outcome(cy) == outcome(py)
