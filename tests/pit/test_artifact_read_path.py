"""The artifact store's read path: chunks in groups, raw pack records read with one preadv
straight into the result, one ``hash_cuts`` per group, groups filled on worker threads for
large artifacts. Every path must return exactly the content and refuse anything altered."""

from __future__ import annotations

import os
import random
import sqlite3
import sys
from pathlib import Path

import pytest

import symphony.pit.artifacts.store as store_mod
from symphony.commons.errors import ArtifactCorrupt
from symphony.pit.artifacts import ArtifactStore
from symphony.pit.artifacts._pack import RECORD_HEADER

KEY = bytes(range(32))


def rand(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def mixed(n: int, seed: int) -> bytes:
    """Random stretches (raw records, some small enough to live inline in SQLite) and text
    stretches (zstd records), about ``n`` bytes."""
    rng = random.Random(seed)
    words = [b"alpha", b"beta", b"gamma", b"delta", b"epsilon", b"zeta"]
    out = bytearray()
    while len(out) < n:
        if rng.random() < 0.5:
            out += rng.randbytes(rng.randrange(1, 400_000))
        else:
            out += b" ".join(rng.choice(words) for _ in range(rng.randrange(1, 60_000)))
    return bytes(out[:n])


# Read-path settings: (group bytes, IOV_MAX, worker threads, parallel from this size, the
# most chunks read one by one).
MODES = {
    "default": None,
    "serial": (store_mod._GROUP_BYTES, store_mod._IOV_MAX, 1, 1 << 60, store_mod._FEW_CHUNKS),
    "parallel small groups": (64 << 10, 16, 2, 0, 0),
    "parallel 3 threads, tiny runs": (200 << 10, 5, 3, 0, 0),
}


@pytest.fixture(params=list(MODES))
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    setting = MODES[request.param]
    if setting is not None:
        group, iov, threads, parallel_min, few = setting
        monkeypatch.setattr(store_mod, "_GROUP_BYTES", group)
        monkeypatch.setattr(store_mod, "_IOV_MAX", iov)
        monkeypatch.setattr(store_mod, "_READ_THREADS", threads)
        monkeypatch.setattr(store_mod, "_PARALLEL_MIN", parallel_min)
        monkeypatch.setattr(store_mod, "_FEW_CHUNKS", few)
    return str(request.param)


@pytest.mark.parametrize("encrypted", [False, True])
def test_large_mixed_roundtrip(tmp_path: Path, mode: str, encrypted: bool) -> None:
    data = mixed(6 << 20, 1)
    kw = {"key": KEY, "encrypt": True} if encrypted else {}
    with ArtifactStore(tmp_path, **kw) as s:  # type: ignore[arg-type]
        ref = s.put(data)
        again = s.put(data[: 5 << 20] + rand(1 << 20, 2))  # shares most chunks
        got = s.get(ref.id)
        assert type(got) is bytes
        assert got == data
        with s.open(ref.id) as fh:
            assert fh.read() == data
        with s.open(ref.id) as fh:
            assert fh.read(1000) == data[:1000]
            assert fh.read(3 << 20) == data[1000 : 1000 + (3 << 20)]
            assert fh.read() == data[1000 + (3 << 20) :]
        assert s.get(again.id) == data[: 5 << 20] + rand(1 << 20, 2)
        flags = {f for (f,) in s._db.execute("SELECT DISTINCT flags FROM chunks")}
        inline = s._db.execute("SELECT count(*) FROM chunks WHERE inline IS NOT NULL").fetchone()
        # the data really exercises every kind of record
        assert len(flags) >= 2
        assert inline[0] > 0


def test_small_artifacts(tmp_path: Path, mode: str) -> None:
    with ArtifactStore(tmp_path) as s:
        for data in (b"", b"x", rand(4096, 1), rand(70_000, 2), mixed(300_000, 3)):
            ref = s.put(data)
            assert s.get(ref.id) == data
            with s.open(ref.id) as fh:
                assert fh.read() == data


def _raw_records(pack: Path) -> list[tuple[int, int]]:
    """``(offset, payload length)`` of the raw (flags 0) records in a pack."""
    raw = pack.read_bytes()
    out, pos = [], 16
    while pos < len(raw):
        _, _, flags, _, _, slen, _ = RECORD_HEADER.unpack_from(raw, pos)
        if flags == 0:
            out.append((pos, slen))
        pos += RECORD_HEADER.size + slen + 4
    return out


def _stream_all(s: ArtifactStore, ref: str) -> int:
    total = 0
    with s.open(ref) as fh:
        while piece := fh.read(100_000):
            total += len(piece)
    return total


def rand_ref(s: ArtifactStore) -> str:
    return s.put(rand(5 << 20, 44)).id


def _flip(path: Path, offset: int) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        b = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([b[0] ^ 0x20]))


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_altered_payload_in_a_run_is_refused(tmp_path: Path, mode: str, where: str) -> None:
    data = rand(6 << 20, 3)
    with ArtifactStore(tmp_path) as s:
        ref = s.put(data)
        other = s.put(b"kept inline in SQLite " * 100)
    pack = sorted((tmp_path / "packs").glob("*.pack"))[0]
    records = _raw_records(pack)
    pos, slen = records[{"first": 0, "middle": len(records) // 2, "last": -1}[where]]
    _flip(pack, pos + RECORD_HEADER.size + slen // 2)
    with ArtifactStore(tmp_path) as s:
        with pytest.raises(ArtifactCorrupt, match="fails its hash check"):
            s.get(ref.id)
        with pytest.raises(ArtifactCorrupt, match="fails its hash check"), s.open(ref.id) as fh:
            fh.read()  # all at once: the get path
        with pytest.raises(ArtifactCorrupt, match="fails its hash check"):
            _stream_all(s, ref.id)  # streamed: group by group
        assert s.get(other.id) == b"kept inline in SQLite " * 100  # the store still works
        assert s.get(rand_ref(s)) == rand(5 << 20, 44)  # and so does its pool


def test_altered_record_header_is_refused(tmp_path: Path, mode: str) -> None:
    data = rand(6 << 20, 5)
    with ArtifactStore(tmp_path) as s:
        ref = s.put(data)
    pack = sorted((tmp_path / "packs").glob("*.pack"))[0]
    pos, _ = _raw_records(pack)[7]
    _flip(pack, pos + RECORD_HEADER.size - 3)  # inside the address stored in the header
    with ArtifactStore(tmp_path) as s:
        with pytest.raises(ArtifactCorrupt, match="record header does not match the index"):
            s.get(ref.id)
        assert not s.verify().ok


def test_pack_cut_short_mid_run_is_refused(tmp_path: Path, mode: str) -> None:
    data = rand(6 << 20, 6)
    with ArtifactStore(tmp_path) as s:
        ref = s.put(data)
    pack = sorted((tmp_path / "packs").glob("*.pack"))[0]
    pos, _ = _raw_records(pack)[len(_raw_records(pack)) // 2]
    os.truncate(pack, pos + 100)
    with ArtifactStore(tmp_path) as s, pytest.raises(ArtifactCorrupt, match="truncated"):
        s.get(ref.id)


def test_index_length_differs_from_manifest(tmp_path: Path, mode: str) -> None:
    data = rand(6 << 20, 7)
    with ArtifactStore(tmp_path) as s:
        ref = s.put(data)
        (manifest,) = s._db.execute(
            "SELECT manifest FROM artifacts WHERE id = ?", (bytes.fromhex(ref.id),)
        ).fetchone()
    victim = manifest[40 * 9 : 40 * 9 + 32]
    db = sqlite3.connect(tmp_path / "store.db")
    db.execute("UPDATE chunks SET raw_len = raw_len + 1 WHERE address = ?", (victim,))
    db.commit()
    db.close()
    with ArtifactStore(tmp_path) as s, pytest.raises(ArtifactCorrupt, match="length differs"):
        s.get(ref.id)


def test_manifest_with_impossible_chunk_length(tmp_path: Path) -> None:
    with ArtifactStore(tmp_path) as s:
        ref = s.put(rand(200_000, 8))
    aid = bytes.fromhex(ref.id)
    db = sqlite3.connect(tmp_path / "store.db")
    (manifest,) = db.execute("SELECT manifest FROM artifacts WHERE id = ?", (aid,)).fetchone()
    bad = manifest[:32] + (1 << 30).to_bytes(4, "little") + manifest[36:]
    db.execute("UPDATE artifacts SET manifest = ? WHERE id = ?", (bad, aid))
    db.commit()
    db.close()
    with ArtifactStore(tmp_path) as s, pytest.raises(ArtifactCorrupt, match="malformed"):
        s.get(ref.id)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_reads_with_its_own_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_mod, "_READ_THREADS", 2)
    data = rand(6 << 20, 9)
    with ArtifactStore(tmp_path) as s:
        ref = s.put(data)
        assert s.get(ref.id) == data  # the parent's pool now exists
        pool = s._pool
        assert pool is not None
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child's result is its exit status
            code = 1
            try:
                code = 0 if s.get(ref.id) == data and s._pool is not pool else 2
            finally:
                sys.stdout.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert s.get(ref.id) == data
        assert s._pool is pool


def test_altered_sealed_record_in_a_span_is_refused(tmp_path: Path, mode: str) -> None:
    data = rand(6 << 20, 10)
    with ArtifactStore(tmp_path, key=KEY, encrypt=True) as s:
        ref = s.put(data)
    pack = sorted((tmp_path / "packs").glob("*.pack"))[0]
    raw = pack.read_bytes()
    offsets, pos = [], 16
    while pos < len(raw):
        slen = RECORD_HEADER.unpack_from(raw, pos)[5]
        offsets.append((pos, slen))
        pos += RECORD_HEADER.size + slen + 4
    at, slen = offsets[len(offsets) // 2]
    _flip(tmp_path / "packs" / pack.name, at + RECORD_HEADER.size + slen // 2)
    with ArtifactStore(tmp_path, key=KEY) as s:
        with pytest.raises(ArtifactCorrupt, match="authentication failed"):
            s.get(ref.id)
        with pytest.raises(ArtifactCorrupt, match="authentication failed"):
            _stream_all(s, ref.id)
