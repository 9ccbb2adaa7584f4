"""arena.h from plain C (no Python, no Cython) shares an arena with both Python twins."""

from __future__ import annotations

import mmap
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import posix_ipc
import pytest
from _alloc_helpers import free_list, shm_name, shm_segments

import symphony

INCLUDE = Path(symphony.__file__).parent / "include"
SOURCE = Path(__file__).parent / "c" / "arena_peer.c"


@pytest.fixture(scope="session")
def alloc_mod(impl: object) -> ModuleType:
    return impl.load("alloc")  # type: ignore[attr-defined, no-any-return]


@pytest.fixture(scope="session")
def peer_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc, "a C compiler is required (the same one that builds the kernels)"
    out = tmp_path_factory.mktemp("arena_c") / "arena_peer"
    subprocess.run(
        [cc, "-O2", "-std=c11", "-Wall", "-Wextra", "-Werror", "-D_POSIX_C_SOURCE=200809L",
         f"-I{INCLUDE}", str(SOURCE), "-o", str(out), "-lrt"],
        check=True,
    )  # fmt: skip
    return out


@pytest.fixture
def name() -> Iterator[str]:
    before = shm_segments()
    n = shm_name()
    yield n
    try:
        posix_ipc.unlink_shared_memory(n)
    except posix_ipc.ExistentialError:
        pass
    assert shm_segments() - before == set()


class Peer:
    def __init__(self, binary: Path, name: str):
        self.proc = subprocess.Popen(
            [str(binary), name], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.first = self.read()

    def read(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def ask(self, line: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self) -> int:
        if self.proc.returncode is not None:
            return self.proc.returncode
        try:
            self.proc.communicate("quit\n", timeout=60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def pattern(seed: int, n: int) -> bytes:
    return bytes((seed + k) % 256 for k in range(n))


def test_c_and_python_exchange_blocks(alloc_mod: ModuleType, peer_binary: Path, name: str) -> None:
    arena = alloc_mod.Arena.create(name, 1 << 16, size_classes=[64, 256, 4096])
    peer = Peer(peer_binary, name)
    try:
        assert peer.first == f"ready 3 {arena.stats()['nblocks']}"
        for seed, n in enumerate([0, 1, 64, 65, 300, 4096]):
            # C allocates and fills; Python checks and frees
            h = int(peer.ask(f"fill {n} {seed}"))
            assert bytes(arena.view(h)) == pattern(seed, n)
            arena.free(h)
            assert peer.ask(f"free {h}") == "4"  # SY_ARENA_DOUBLE_FREE
            # Python allocates and fills; C checks and frees
            h = arena.alloc(n)
            arena.view(h)[:] = pattern(seed + 1, n)
            assert peer.ask(f"check {h} {seed + 1}") == f"ok {n} 0"
            with pytest.raises(Exception, match="already freed"):
                arena.free(h)
        assert peer.ask("fill 5000 0") == "error 2"  # SY_ARENA_TOO_LARGE
        assert peer.ask(f"free {1 << 40}") == "3"  # SY_ARENA_STALE
        stats = arena.stats()
        assert stats["in_use"] == 0
        assert stats["allocs"] == stats["frees"] == 12
        assert peer.close() == 0
    finally:
        peer.close()
        arena.close()
        arena.unlink()


def test_c_refuses_what_is_not_an_arena(peer_binary: Path, name: str) -> None:
    shm = posix_ipc.SharedMemory(name, posix_ipc.O_CREX, size=4096)
    try:
        with mmap.mmap(shm.fd, 4096) as m:
            m[:8] = b"SYMPHRNG"
        peer = Peer(peer_binary, name)
        assert peer.first == "open-error 11"  # SY_ARENA_E_MAGIC
        assert peer.close() == 3
    finally:
        shm.close_fd()


HAMMER = """
import sys
from symphony._core.alloc import Arena
a = Arena.attach(sys.argv[1])
ok = 0
for _ in range(int(sys.argv[2])):
    h = a.alloc(64)
    v = a.view(h)
    v[:8] = b"cython!!"
    ok += bytes(v[:8]) == b"cython!!"
    v.release()
    a.free(h)
a.close()
print(ok)
"""


@pytest.mark.cython
def test_c_and_cython_processes_at_once(peer_binary: Path, name: str) -> None:
    from symphony._core import alloc

    arena = alloc.Arena.create(name, 4096, size_classes=[64])
    try:
        peers = [Peer(peer_binary, name) for _ in range(2)]
        py = subprocess.Popen(
            [sys.executable, "-c", HAMMER, name, "50000"], stdout=subprocess.PIPE, text=True
        )
        assert peers[0].proc.stdin is not None and peers[1].proc.stdin is not None
        for p in peers:
            p.proc.stdin.write("hammer 2000000\n")  # type: ignore[union-attr]
            p.proc.stdin.flush()  # type: ignore[union-attr]
        assert [p.read() for p in peers] == ["2000000", "2000000"]
        out, _ = py.communicate(timeout=120)
        assert out.strip() == "50000"
        for p in peers:
            assert p.close() == 0
        stats = arena.stats()
        assert stats["in_use"] == 0
        assert stats["allocs"] == stats["frees"] == 4_050_000
        shm = posix_ipc.SharedMemory(name)
        with mmap.mmap(shm.fd, shm.size) as m:
            blocks = free_list(bytes(m), 0)
        shm.close_fd()
        assert sorted(blocks) == list(range(stats["nblocks"]))
    finally:
        arena.close()
        arena.unlink()
