"""Several processes on one arena: Cython processes at once (lock-free), and Python-twin ↔
Cython processes taking turns (the twin is single-mutator only; see its docstring)."""

from __future__ import annotations

import json
import mmap
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import posix_ipc
import pytest
from _alloc_helpers import free_list, shm_name, shm_segments

import symphony
from symphony._core import alloc as cy
from symphony.commons.errors import ArenaExhausted
from symphony.reference import alloc as py

ROOT = Path(symphony.__file__).resolve().parents[1]
pytestmark = pytest.mark.cython  # every test here runs compiled processes

# A worker hammers the arena: holds up to `hold` blocks, stamps every byte of each with its
# own (worker, sequence) tag, and checks the stamp is intact before freeing. If any block
# were handed to two processes at once, one of them would find the other's stamp.
HAMMER = textwrap.dedent(
    """
    import random, struct, sys
    from symphony._core.alloc import Arena
    from symphony.commons.errors import ArenaExhausted
    name, wid, iters, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    arena = Arena.attach(name)
    rng = random.Random(wid)
    held, bad, exhausted, allocs = [], 0, 0, 0
    print("ready", flush=True)
    sys.stdin.readline()
    for seq in range(iters):
        if held and (len(held) >= hold or rng.random() < 0.5):
            h, stamp = held.pop(rng.randrange(len(held)))
            v = arena.view(h)
            if bytes(v) != (stamp * (len(v) // 8 + 1))[: len(v)]:
                bad += 1
            v.release()
            arena.free(h)
        else:
            try:
                h = arena.alloc(rng.choice((8, 40, 64, 100, 256)))
            except ArenaExhausted:
                exhausted += 1
                continue
            allocs += 1
            stamp = struct.pack("<HxxI", wid, seq)
            v = arena.view(h)
            v[:] = (stamp * (len(v) // 8 + 1))[: len(v)]
            v.release()
            held.append((h, stamp))
    for h, stamp in held:
        v = arena.view(h)
        bad += bytes(v) != (stamp * (len(v) // 8 + 1))[: len(v)]
        v.release()
        arena.free(h)
    arena.close()
    print(bad, exhausted, allocs, flush=True)
    """
)

# A turn-taking peer: reads a command per line, answers one line of JSON.
PEER = textwrap.dedent(
    """
    import hashlib, json, sys, importlib
    mod = importlib.import_module(sys.argv[1])
    arena = mod.Arena.attach(sys.argv[2])
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["op"] == "check_and_free":      # verify the other side's blocks, free them
            ok = all(hashlib.sha256(arena.view(h)).hexdigest() == d for h, d in cmd["blocks"])
            for h, _ in cmd["blocks"]:
                arena.free(h)
            out = {"ok": ok}
        elif cmd["op"] == "alloc_and_fill":    # allocate blocks, fill them, report digests
            blocks = []
            for i, n in enumerate(cmd["sizes"]):
                h = arena.alloc(n)
                v = arena.view(h)
                v[:] = bytes((i * 7 + k) % 256 for k in range(n))
                blocks.append((h, hashlib.sha256(v).hexdigest()))
                v.release()
            out = {"blocks": blocks}
        elif cmd["op"] == "double_free":
            try:
                arena.free(cmd["handle"])
                out = {"error": None}
            except Exception as exc:
                out = {"error": type(exc).__name__}
        else:
            break
        print(json.dumps(out), flush=True)
    arena.close()
    """
)


@pytest.fixture
def arena_name() -> Iterator[str]:
    before = shm_segments()
    name = shm_name()
    yield name
    try:
        posix_ipc.unlink_shared_memory(name)
    except posix_ipc.ExistentialError:
        pass
    assert shm_segments() - before == set(), "a test left a shared-memory segment behind"


def _spawn(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _read_segment(name: str) -> bytes:
    shm = posix_ipc.SharedMemory(name)
    try:
        with mmap.mmap(shm.fd, shm.size) as m:
            return bytes(m)
    finally:
        shm.close_fd()


def _check_all_free(buf: bytes, nclasses: int, counts: list[int]) -> None:
    seen: list[int] = []
    for c in range(nclasses):
        fl = free_list(buf, c)
        assert len(fl) == counts[c], f"class {c}: {len(fl)} free of {counts[c]}"
        seen += fl
    assert len(seen) == len(set(seen)) == sum(counts)


@pytest.mark.parametrize("workers", [3])
def test_concurrent_cython_processes_never_share_a_block(arena_name: str, workers: int) -> None:
    arena = cy.Arena.create(arena_name, 4096, size_classes=[64, 256])  # 23 + 6 blocks
    try:
        procs = [_spawn(HAMMER, arena_name, str(w), "30000", "12") for w in range(workers)]
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready", p.stderr
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
            results.append([int(x) for x in out.split()])
        assert all(bad == 0 for bad, _, _ in results), results
        stats = arena.stats()
        assert stats["in_use"] == 0 and stats["allocs"] == stats["frees"]
        assert stats["allocs"] == sum(a for _, _, a in results)
        assert stats["failures"] == sum(e for _, e, _ in results)
        assert stats["failures"] > 0  # the classes really ran dry: contention was real
        counts = [c["total"] for c in stats["classes"]]  # type: ignore[attr-defined]
        _check_all_free(_read_segment(arena_name), 2, counts)
    finally:
        arena.close()
        arena.unlink()


@pytest.mark.parametrize(
    ("here", "there"),
    [(py, "symphony._core.alloc"), (cy, "symphony.reference.alloc")],
    ids=["python-parent/cython-child", "cython-parent/python-child"],
)
def test_python_and_cython_processes_take_turns(arena_name: str, here: object, there: str) -> None:
    import hashlib

    arena = here.Arena.create(arena_name, 1 << 16, size_classes=[64, 256, 1024])  # type: ignore[attr-defined]
    peer = _spawn(PEER, there, arena_name)
    assert peer.stdin is not None and peer.stdout is not None

    def ask(cmd: dict[str, object]) -> dict[str, object]:
        peer.stdin.write(json.dumps(cmd) + "\n")  # type: ignore[union-attr]
        peer.stdin.flush()  # type: ignore[union-attr]
        line = peer.stdout.readline()  # type: ignore[union-attr]
        assert line, peer.stderr.read()  # type: ignore[union-attr]
        return json.loads(line)  # type: ignore[no-any-return]

    try:
        for round_ in range(5):
            # here → there
            mine = []
            for i, n in enumerate([1, 64, 65, 300, 1024, 0, 17][: 3 + round_]):
                h = arena.alloc(n)  # type: ignore[attr-defined]
                v = arena.view(h)  # type: ignore[attr-defined]
                v[:] = bytes((round_ * 31 + i + k) % 256 for k in range(n))
                mine.append((h, hashlib.sha256(v).hexdigest()))
                v.release()
            assert ask({"op": "check_and_free", "blocks": mine}) == {"ok": True}
            for h, _ in mine:
                with pytest.raises(Exception, match="already freed"):
                    arena.free(h)  # type: ignore[attr-defined]
            # there → here
            theirs = ask({"op": "alloc_and_fill", "sizes": [5, 64, 200, 1000][: 1 + round_ % 4]})
            for h, digest in theirs["blocks"]:  # type: ignore[union-attr]
                assert hashlib.sha256(arena.view(h)).hexdigest() == digest  # type: ignore[attr-defined]
                arena.free(h)  # type: ignore[attr-defined]
                assert ask({"op": "double_free", "handle": h}) == {"error": "DoubleFree"}
        stats = arena.stats()  # type: ignore[attr-defined]
        assert stats["in_use"] == 0 and stats["allocs"] == stats["frees"] > 0
        _, err = peer.communicate(json.dumps({"op": "quit"}) + "\n", timeout=30)
        assert peer.returncode == 0, err
    finally:
        if peer.poll() is None:
            peer.kill()
            peer.wait()
        for f in (peer.stdin, peer.stdout, peer.stderr):
            if f is not None and not f.closed:
                f.close()
        arena.close()  # type: ignore[attr-defined]
        arena.unlink()  # type: ignore[attr-defined]


FOREVER = textwrap.dedent(
    """
    import sys
    from symphony._core.alloc import Arena
    from symphony.commons.errors import ArenaExhausted
    arena = Arena.attach(sys.argv[1])
    held = []
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        if len(held) < 3 and i % 3:
            try:
                held.append(arena.alloc(64))
            except ArenaExhausted:
                pass
        elif held:
            arena.free(held.pop(0))
        arena.free(arena.alloc(64)) if i % 7 == 0 else None
    """
)


def test_sigkill_mid_operation_never_corrupts(arena_name: str) -> None:
    """Kill allocating processes at random moments: the lists stay intact; each killed
    process leaks at most the blocks it held plus one in flight."""
    import random
    import signal
    import struct
    import time

    arena = cy.Arena.create(arena_name, 1 << 14, size_classes=[64])
    rng = random.Random(7)
    kills = 12
    try:
        for _ in range(kills):
            victim = _spawn(FOREVER, arena_name)
            assert victim.stdout is not None
            assert victim.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.002, 0.03))
            victim.send_signal(signal.SIGKILL)
            victim.communicate(timeout=30)
            assert victim.returncode == -signal.SIGKILL
        assert arena.stats()["allocs"] > 100 * kills  # the victims were busy when killed
        raw = _read_segment(arena_name)
        nblocks = struct.unpack_from("<I", raw, 28)[0]
        blocks_offset = struct.unpack_from("<Q", raw, 48)[0]
        gens = [struct.unpack_from("<I", raw, blocks_offset + 16 * i)[0] for i in range(nblocks)]
        on_list = free_list(raw, 0)
        assert len(on_list) == len(set(on_list))
        assert all(gens[i] % 2 == 0 for i in on_list)  # every listed block is free
        in_flight = [i for i in range(nblocks) if gens[i] % 2 == 0 and i not in set(on_list)]
        held = [i for i in range(nblocks) if gens[i] % 2 == 1]
        assert len(in_flight) <= kills
        assert len(held) <= 3 * kills + len(in_flight)
        # What is on the list is usable, and handed out once each.
        got = [arena.alloc(64) for _ in on_list]
        assert sorted(h & 0xFFFFFFFF for h in got) == sorted(on_list)
        with pytest.raises(ArenaExhausted):
            arena.alloc(64)
        for h in got:
            arena.free(h)
        assert sorted(free_list(_read_segment(arena_name), 0)) == sorted(on_list)
    finally:
        arena.close()
        arena.unlink()


def test_threads_without_the_gil_share_one_arena() -> None:
    """Four threads run alloc/free pairs in C with the GIL released, on a class of few
    blocks: every pair completes and the free list ends intact."""
    import threading

    buf = bytearray(4096)
    arena = cy.Arena.from_buffer(buf, create=True, size_classes=[64])
    total = arena.stats()["nblocks"]
    done: list[int] = []

    def work() -> None:
        done.append(cy._c_pairs(arena, 300_000, 64))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert done == [300_000] * 4  # 4 threads never hold more than 4 of the blocks
    stats = arena.stats()
    assert stats["allocs"] == stats["frees"] == 1_200_000
    assert sorted(free_list(buf, 0)) == list(range(total))
    arena.close()
