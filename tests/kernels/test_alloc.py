"""The shared-arena allocator, under both implementations (one behaviour suite)."""

from __future__ import annotations

import gc
import importlib
import inspect
import itertools
import mmap
import os
import re
import struct
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import posix_ipc
import pytest
from _alloc_helpers import free_list, shm_name, shm_segments

import symphony
from symphony import _layout as L
from symphony.commons.errors import (
    AllocError,
    AllocRequestError,
    ArenaClosed,
    ArenaExhausted,
    ArenaFormatError,
    DoubleFree,
    MessageTooLarge,
    StaleHandle,
)

ARENA_H = Path(symphony.__file__).parent / "include" / "symphony" / "arena.h"


@pytest.fixture(scope="session")
def alloc_mod(impl: object) -> ModuleType:
    return impl.load("alloc")  # type: ignore[attr-defined, no-any-return]


@pytest.fixture
def no_leaks() -> Iterator[None]:
    """Fail if the test leaves a /dev/shm segment of ours behind."""
    before = shm_segments()
    yield
    left = shm_segments() - before
    for seg in left:  # clean up, then fail
        posix_ipc.unlink_shared_memory("/" + seg)
    assert not left, f"shared-memory segments left behind: {sorted(left)}"


def small(alloc_mod: ModuleType, size: int = 8192, **kw: object) -> object:
    return alloc_mod.Arena.from_buffer(bytearray(size), create=True, **kw)


# ---------------------------------------------------------------- handles and blocks
def test_handles_encode_generation_and_index(alloc_mod: ModuleType) -> None:
    a = small(alloc_mod)
    h1, h2 = a.alloc(10), a.alloc(64)
    assert h1 != 0 and h2 != 0
    assert h1 & 0xFFFFFFFF == 0 and h2 & 0xFFFFFFFF == 1  # first two blocks of class 64
    assert h1 >> 32 == 1 and h2 >> 32 == 1  # odd generation: allocated
    a.free(h1)
    h3 = a.alloc(3)  # LIFO free list: the same block, one generation on
    assert h3 & 0xFFFFFFFF == 0 and h3 >> 32 == 3
    assert a.size(h3) == 3


def test_view_is_exactly_the_requested_bytes(alloc_mod: ModuleType) -> None:
    a = small(alloc_mod)
    for n in (0, 1, 63, 64, 65, 200, 1024):
        h = a.alloc(n)
        v = a.view(h)
        assert isinstance(v, memoryview) and len(v) == n and not v.readonly
        assert v.format == "B"
        v[:] = bytes([n % 251]) * n
        assert bytes(a.view(h)) == bytes([n % 251]) * n
        assert a.size(h) == n
        v.release()


def test_blocks_do_not_overlap_and_are_aligned(alloc_mod: ModuleType) -> None:
    a = small(alloc_mod, 1 << 16)
    spans = []
    for n in (1, 64, 100, 256, 300, 1000, 1024, 2000):
        h = a.alloc(n)
        off = a.offset(h)
        assert off % 64 == 0
        spans.append((off, off + n))
    spans.sort()
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start
    assert spans[-1][1] <= a.nbytes


def test_smallest_class_that_fits(alloc_mod: ModuleType) -> None:
    a = small(alloc_mod, 1 << 16, size_classes=[64, 128, 512])
    for n, cls in ((0, 0), (64, 0), (65, 1), (128, 1), (129, 2), (512, 2)):
        h = a.alloc(n)
        assert a.stats()["classes"][cls]["allocs"] >= 1
        before = [c["allocs"] for c in a.stats()["classes"]]
        a.free(h)
        h = a.alloc(n)
        after = [c["allocs"] for c in a.stats()["classes"]]
        assert [x - y for x, y in zip(after, before)] == [int(i == cls) for i in range(3)]


def test_writes_are_shared_between_attachments(alloc_mod: ModuleType) -> None:
    buf = bytearray(8192)
    a = alloc_mod.Arena.from_buffer(buf, create=True)
    b = alloc_mod.Arena.from_buffer(buf, create=False)
    h = a.alloc(5)
    b.view(h)[:] = b"hello"
    assert bytes(a.view(h)) == b"hello"
    b.free(h)
    with pytest.raises(DoubleFree):
        a.free(h)


# ---------------------------------------------------------------- errors
def test_double_free_and_stale_handles(alloc_mod: ModuleType) -> None:
    a = small(alloc_mod)
    h = a.alloc(8)
    a.free(h)
    with pytest.raises(DoubleFree, match="already freed"):
        a.free(h)
    for op in (a.view, a.size, a.offset):
        with pytest.raises(StaleHandle) as info:
            op(h)
        assert not isinstance(info.value, DoubleFree)
    h2 = a.alloc(8)  # reuses the block
    assert h2 & 0xFFFFFFFF == h & 0xFFFFFFFF
    with pytest.raises(StaleHandle) as info:
        a.free(h)  # old generation: stale, not "double"
    assert type(info.value) is StaleHandle
    a.free(h2)


@pytest.mark.parametrize(
    "forged",
    [0, 2 << 32, (4 << 32) | 3, (1 << 32) | 10_000, (1 << 32) | 0xFFFFFFFF, -1, 1 << 64, 1 << 70],
)
def test_forged_handles_are_stale(alloc_mod: ModuleType, forged: int) -> None:
    a = small(alloc_mod)
    a.alloc(1)
    for op in (a.free, a.view, a.size, a.offset):
        with pytest.raises(StaleHandle):
            op(forged)
    assert a.stats()["frees"] == 0


def test_never_allocated_block_is_stale(alloc_mod: ModuleType) -> None:
    a = small(alloc_mod)
    with pytest.raises(StaleHandle):
        a.view((1 << 32) | 5)  # generation 1 would be the first handle of block 5
    with pytest.raises(StaleHandle):
        a.free((1 << 32) | 5)


@pytest.mark.parametrize("bad", [1.5, "3", None, b"1"])
def test_non_integer_arguments(alloc_mod: ModuleType, bad: object) -> None:
    a = small(alloc_mod)
    with pytest.raises(TypeError):
        a.alloc(bad)
    for op in (a.free, a.view, a.size, a.offset):
        with pytest.raises(TypeError):
            op(bad)


def test_integer_like_arguments(alloc_mod: ModuleType) -> None:
    a = small(alloc_mod)
    h = a.alloc(np.int64(10))
    assert a.size(np.uint64(h)) == 10
    a.free(np.uint64(h))


def test_request_sizes(alloc_mod: ModuleType) -> None:
    a = small(alloc_mod)
    assert a.max_alloc == a.size_classes[-1]
    with pytest.raises(MessageTooLarge, match=str(a.max_alloc + 1)):
        a.alloc(a.max_alloc + 1)
    with pytest.raises(MessageTooLarge):
        a.alloc(1 << 80)
    with pytest.raises(AllocRequestError):
        a.alloc(-1)
    with pytest.raises(AllocRequestError):
        a.alloc(-(1 << 80))
    assert isinstance(AllocRequestError("x"), ValueError)
    assert a.stats()["failures"] == 0


def test_exhaustion_is_clean(alloc_mod: ModuleType) -> None:
    buf = bytearray(8192)
    a = alloc_mod.Arena.from_buffer(buf, create=True, size_classes=[64, 1024])
    total = a.stats()["classes"][0]["total"]
    handles = [a.alloc(64) for _ in range(total)]
    assert len({h & 0xFFFFFFFF for h in handles}) == total
    snapshot = bytes(buf)
    with pytest.raises(ArenaExhausted, match="exhausted"):
        a.alloc(1)
    # Only the failures counter (head line of class 0, bytes 24..32) changed.
    changed = [i for i in range(len(buf)) if buf[i] != snapshot[i]]
    heads_offset = struct.unpack_from("<Q", buf, 40)[0]
    assert changed and all(heads_offset + 24 <= i < heads_offset + 32 for i in changed)
    st = a.stats()["classes"][0]
    assert (st["free"], st["failures"], st["allocs"]) == (0, 1, total)
    h = a.alloc(1000)  # the other class is unaffected
    a.free(handles[7])
    assert a.alloc(1) & 0xFFFFFFFF == handles[7] & 0xFFFFFFFF
    a.free(h)


def test_stats(alloc_mod: ModuleType) -> None:
    a = small(alloc_mod, 1 << 16, size_classes=[64, 256])
    s = a.stats()
    assert s["size"] == 1 << 16 and s["in_use"] == 0
    assert [c["block_size"] for c in s["classes"]] == [64, 256]
    assert s["nblocks"] == sum(c["total"] for c in s["classes"])
    hs = [a.alloc(10) for _ in range(3)] + [a.alloc(100)]
    a.free(hs[0])
    s = a.stats()
    assert s["in_use"] == 3 and s["allocs"] == 4 and s["frees"] == 1
    c0, c1 = s["classes"]
    assert (c0["allocs"], c0["frees"], c0["free"]) == (3, 1, c0["total"] - 2)
    assert (c1["allocs"], c1["frees"], c1["free"]) == (1, 0, c1["total"] - 1)
    assert set(c0) == {"block_size", "total", "free", "allocs", "frees", "failures"}


# ---------------------------------------------------------------- layout and formats
def test_default_classes_fit_the_arena(alloc_mod: ModuleType) -> None:
    assert small(alloc_mod, 8192).size_classes == (64, 256, 1024)
    big = small(alloc_mod, 1 << 24)
    assert big.size_classes == L.ARENA_DEFAULT_SIZE_CLASSES
    with pytest.raises(ArenaFormatError, match="too small"):
        small(alloc_mod, 300)
    with pytest.raises(ArenaFormatError, match="header"):
        small(alloc_mod, 63)


@pytest.mark.parametrize(
    "classes",
    [[], [0], [32], [100], [128, 64], [64, 64], [1 << 32], list(range(64, 64 * 34, 64))],
)
def test_bad_size_classes(alloc_mod: ModuleType, classes: list[int]) -> None:
    with pytest.raises(ArenaFormatError):
        small(alloc_mod, 1 << 16, size_classes=classes)


def test_class_without_a_block_is_refused(alloc_mod: ModuleType) -> None:
    with pytest.raises(ArenaFormatError, match="class 65536 gets no block"):
        small(alloc_mod, 1 << 16, size_classes=[64, 65536])


@pytest.mark.parametrize("classes", ["64", 64, [64.0], [None]])
def test_size_classes_type(alloc_mod: ModuleType, classes: object) -> None:
    with pytest.raises(TypeError):
        small(alloc_mod, 1 << 16, size_classes=classes)


def test_header_bytes(alloc_mod: ModuleType) -> None:
    buf = bytearray(1 << 16)
    alloc_mod.Arena.from_buffer(buf, create=True, size_classes=[64, 256])
    magic, version, hsize, total, n, nblocks, c_off, h_off, b_off, d_off = struct.unpack_from(
        L.ARENA_HEADER_FORMAT, buf
    )
    assert (magic, version, hsize, total, n) == (L.ARENA_MAGIC, 1, 64, 1 << 16, 2)
    assert (c_off, h_off, b_off) == (64, 128, 256)
    assert d_off == -(-(b_off + 16 * nblocks) // 64) * 64
    share = ((1 << 16) - b_off - 64) // 2
    assert nblocks == share // (64 + 16) + share // (256 + 16)
    assert sorted(free_list(buf, 0)) == list(range(share // 80))


def test_buffer_arguments(alloc_mod: ModuleType) -> None:
    Arena = alloc_mod.Arena
    with pytest.raises(TypeError):
        Arena.from_buffer("text" * 100, create=True)
    with pytest.raises(TypeError):
        Arena.from_buffer(12, create=True)
    with pytest.raises(BufferError):
        Arena.from_buffer(bytes(8192), create=True)  # read-only
    with pytest.raises(BufferError):
        Arena.from_buffer(np.zeros(16384, dtype=np.uint8)[::2], create=True)
    with pytest.raises(TypeError):
        Arena.from_buffer(bytearray(8192), create=False, size_classes=[64])
    arr = np.zeros(2048, dtype=np.uint32)  # 8 KiB of 4-byte items: viewed as bytes
    a = Arena.from_buffer(arr, create=True)
    assert a.nbytes == 8192
    with mmap.mmap(-1, 8192) as m:
        b = Arena.from_buffer(m, create=True)
        b.free(b.alloc(1))
        b.close()
    with pytest.raises(TypeError, match="Arena"):
        Arena()


def _corrupt(buf: bytearray, offset: int, fmt: str, value: object) -> bytearray:
    bad = bytearray(buf)
    struct.pack_into(fmt, bad, offset, value)
    return bad


def test_open_refuses_bad_bytes(alloc_mod: ModuleType) -> None:
    Arena = alloc_mod.Arena
    buf = bytearray(8192)
    Arena.from_buffer(buf, create=True)
    Arena.from_buffer(bytearray(buf), create=False)  # a copy is a valid arena
    cases = {
        "magic": _corrupt(buf, 0, "<8s", b"SYMPHRNG"),
        "version": _corrupt(buf, 8, "<I", 2),
        "header": _corrupt(buf, 12, "<I", 128),
        "nclasses": _corrupt(buf, 24, "<I", 0),
        "many": _corrupt(buf, 24, "<I", 33),
        "size": _corrupt(buf, 16, "<Q", 8193),
        "nblocks": _corrupt(buf, 28, "<I", 5),
        "data": _corrupt(buf, 56, "<Q", 1 << 40),
        "class size": _corrupt(buf, 64, "<I", 96),
        "class count": _corrupt(buf, 64 + 4, "<I", 10_000),
        "class first": _corrupt(buf, 64 + 32 + 8, "<I", 0),
    }
    for what, bad in cases.items():
        try:
            Arena.from_buffer(bad, create=False)
        except ArenaFormatError:
            continue
        pytest.fail(f"a corrupt {what} was accepted")
    with pytest.raises(ArenaFormatError, match="magic"):
        Arena.from_buffer(bytearray(8192), create=False)
    with pytest.raises(ArenaFormatError, match="header"):
        Arena.from_buffer(bytearray(10), create=False)
    with pytest.raises(ArenaFormatError):
        Arena.from_buffer(buf[:4096], create=False)  # truncated


def test_corrupt_free_list_is_an_error_not_a_crash(alloc_mod: ModuleType) -> None:
    buf = bytearray(8192)
    a = alloc_mod.Arena.from_buffer(buf, create=True)
    heads = struct.unpack_from("<Q", buf, 40)[0]
    blocks = struct.unpack_from("<Q", buf, 48)[0]
    struct.pack_into("<Q", buf, heads, 50_000)  # head names a block outside class 0
    with pytest.raises(ArenaFormatError):
        a.alloc(1)
    struct.pack_into("<Q", buf, heads, 0)
    struct.pack_into("<I", buf, blocks + 12, 7)  # block 0 claims class 7
    h = a.alloc(1)
    with pytest.raises(ArenaFormatError):
        a.view(h)
    struct.pack_into("<I", buf, blocks + 12, 0)
    struct.pack_into("<I", buf, blocks + 4, 5000)  # size larger than the block
    with pytest.raises(ArenaFormatError):
        a.view(h)
    assert issubclass(ArenaFormatError, AllocError) and issubclass(ArenaFormatError, ValueError)


# ---------------------------------------------------------------- lifecycle
def test_close(alloc_mod: ModuleType) -> None:
    a = small(alloc_mod)
    h = a.alloc(4)
    assert not a.closed
    a.close()
    a.close()  # idempotent
    assert a.closed and "closed" in repr(a)
    for call in (
        lambda: a.alloc(1),
        lambda: a.free(h),
        lambda: a.view(h),
        lambda: a.size(h),
        lambda: a.offset(h),
        a.stats,
        lambda: a.nbytes,
        lambda: a.size_classes,
        lambda: a.max_alloc,
    ):
        with pytest.raises(ArenaClosed):
            call()
    with small(alloc_mod) as b:
        assert not b.closed
    assert b.closed


def test_shared_segment_lifecycle(alloc_mod: ModuleType, no_leaks: None) -> None:
    Arena = alloc_mod.Arena
    name = shm_name()
    a = Arena.create(name.lstrip("/"), 1 << 16)
    try:
        assert a.name == name
        with pytest.raises(ArenaFormatError, match="already exists"):
            Arena.create(name, 1 << 16)
        b = Arena.attach(name)
        h = a.alloc(100)
        b.view(h)[:4] = b"ping"
        assert bytes(a.view(h))[:4] == b"ping"
        assert b.stats() == a.stats()
        v = a.view(h)
        with pytest.raises(BufferError, match="release"):
            a.close()
        assert not a.closed
        assert bytes(a.view(h))[:4] == b"ping"  # still usable
        v.release()
        a.close()
        b.free(h)
        b.close()
    finally:
        a.unlink()
    a.unlink()  # idempotent
    with pytest.raises(ArenaFormatError, match="no shared-memory segment"):
        Arena.attach(name)


def test_create_checks_before_making_a_segment(alloc_mod: ModuleType, no_leaks: None) -> None:
    name = shm_name()
    with pytest.raises(ArenaFormatError):
        alloc_mod.Arena.create(name, 200)
    with pytest.raises(ArenaFormatError):
        alloc_mod.Arena.create(name, 1 << 16, size_classes=[64, 96])
    with pytest.raises(TypeError):
        alloc_mod.Arena.create(b"/x", 1 << 16)
    assert name.lstrip("/") not in shm_segments()


def test_attach_refuses_bad_segments(alloc_mod: ModuleType, no_leaks: None) -> None:
    name = shm_name()
    shm = posix_ipc.SharedMemory(name, posix_ipc.O_CREX, size=8192)
    try:
        with mmap.mmap(shm.fd, 8192) as m:
            m[:8] = b"NOTARENA"
        with pytest.raises(ArenaFormatError, match="magic"):
            alloc_mod.Arena.attach(name)
        shm.truncate(32) if hasattr(shm, "truncate") else os.ftruncate(shm.fd, 32)
        with pytest.raises(ArenaFormatError, match="header"):
            alloc_mod.Arena.attach(name)
    finally:
        shm.close_fd()
        shm.unlink()


def test_from_buffer_close_leaves_buffer_alone(alloc_mod: ModuleType) -> None:
    buf = bytearray(8192)
    a = alloc_mod.Arena.from_buffer(buf, create=True)
    h = a.alloc(3)
    v = a.view(h)
    a.close()  # views of a caller-owned buffer stay valid
    v[:] = b"abc"
    assert b"abc" in buf
    a.unlink()  # no name: nothing to do
    assert a.name is None


# ---------------------------------------------------------------- the twins agree on the API
def _public(obj: type) -> dict[str, object]:
    return {n: getattr(obj, n) for n in dir(obj) if not n.startswith("_")}


@pytest.mark.cython
def test_same_api_in_both_twins_and_the_stub() -> None:
    cy = importlib.import_module("symphony._core.alloc")
    py = importlib.import_module("symphony.reference.alloc")
    assert cy.__all__ == py.__all__ == ["Arena"]
    cy_api, py_api = _public(cy.Arena), _public(py.Arena)
    assert set(cy_api) == set(py_api)
    stub = (Path(cy.__file__).parent / "alloc.pyi").read_text()
    for name, obj in py_api.items():
        kind = "property" if isinstance(obj, property) else "def"
        if kind == "def":
            sig_py = inspect.signature(obj)  # type: ignore[arg-type]
            sig_cy = inspect.signature(cy_api[name])  # type: ignore[arg-type]
            assert [(p.name, p.kind, p.default) for p in sig_py.parameters.values()] == [
                (p.name, p.kind, p.default) for p in sig_cy.parameters.values()
            ], name
            assert re.search(rf"def {name}\(", stub), name
        else:
            assert re.search(rf"@property\n    def {name}\(", stub), name


@pytest.mark.cython
def test_compiled_module_is_in_use() -> None:
    from symphony._core import alloc

    assert alloc.__file__ is not None and alloc.__file__.endswith(".so")


def test_c_header_agrees_with_layout() -> None:
    text = ARENA_H.read_text()
    defines = dict(re.findall(r"#define (SY_ARENA_\w+) (\S+)", text))

    def num(name: str) -> int:
        return int(defines[name].rstrip("u"), 0)

    assert defines["SY_ARENA_MAGIC"] == '"' + L.ARENA_MAGIC.decode() + '"'
    for name in (
        "VERSION", "HEADER_SIZE", "CLASS_SIZE", "HEAD_SIZE", "BLOCK_HEADER_SIZE", "NIL",
        "MAX_CLASSES", "BLOCK_ALIGN", "MAX_BLOCK_SIZE", "HANDLE_INDEX_BITS",
    ):  # fmt: skip
        assert num(f"SY_ARENA_{name}") == getattr(L, f"ARENA_{name}"), name
    m = re.search(r"sy_arena_default_classes\[\] = \{([^}]*)\}", text)
    assert m is not None
    assert tuple(int(x.strip().rstrip("u")) for x in m.group(1).split(",")) == (
        L.ARENA_DEFAULT_SIZE_CLASSES
    )
    assert num("SY_ARENA_NDEFAULT_CLASSES") == len(L.ARENA_DEFAULT_SIZE_CLASSES)
    # Field offsets agree with the struct formats.
    assert struct.calcsize(L.ARENA_HEADER_FORMAT) == L.ARENA_HEADER_SIZE
    assert struct.calcsize(L.ARENA_CLASS_FORMAT) == L.ARENA_CLASS_SIZE
    assert struct.calcsize(L.ARENA_HEAD_FORMAT) <= L.ARENA_HEAD_SIZE == L.CACHE_LINE
    assert struct.calcsize(L.ARENA_BLOCK_HEADER_FORMAT) == L.ARENA_BLOCK_HEADER_SIZE
    assert [num(f"SY_ARENA_H_{f}") for f in ("VERSION", "TOTAL_SIZE", "DATA_OFFSET")] == [
        8,
        16,
        56,
    ]


def test_collecting_a_cycle_releases_the_buffer(alloc_mod: ModuleType) -> None:
    """An arena caught in a reference cycle gives its buffer export back when collected
    (Cython's default tp_clear would drop the Py_buffer's reference without releasing it)."""

    class Holder:
        pass

    buf = bytearray(8192)
    holder = Holder()
    holder.me = holder  # type: ignore[attr-defined]
    holder.arena = alloc_mod.Arena.from_buffer(buf, create=True)  # type: ignore[attr-defined]
    holder.view = holder.arena.view(holder.arena.alloc(3))  # type: ignore[attr-defined]
    del holder
    gc.collect()
    buf.append(0)  # raises BufferError if an export leaked
    assert len(buf) == 8193


def test_embedded_in_part_of_a_mapping(alloc_mod: ModuleType) -> None:
    """The ring embeds an arena in a slice of its own mapping: closing the arena returns
    every export, so the owner can close the mapping afterwards."""
    with mmap.mmap(-1, 1 << 15) as m:
        region = memoryview(m)[4096:]
        arena = alloc_mod.Arena.from_buffer(region, create=True)
        h = arena.alloc(10)
        arena.view(h)[:] = b"0123456789"
        assert m[4096 + arena.offset(h) : 4096 + arena.offset(h) + 10] == b"0123456789"
        again = alloc_mod.Arena.from_buffer(region, create=False)
        assert bytes(again.view(h)) == b"0123456789"
        again.close()
        arena.close()
        region.release()
    assert m.closed


@pytest.mark.parametrize("size", [1 << 40, 1 << 64, 1 << 70])
def test_absurd_sizes_are_refused_before_making_a_segment(
    alloc_mod: ModuleType, size: int, no_leaks: None
) -> None:
    with pytest.raises(ArenaFormatError, match="blocks"):
        alloc_mod.Arena.create(shm_name(), size, size_classes=[64])
