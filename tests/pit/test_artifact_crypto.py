"""Encryption at rest: keys, transparency, dedup with keyed addresses, tamper refusal."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import sqlite3
from pathlib import Path

import pytest

from symphony.commons.errors import ArtifactCorrupt, ArtifactKeyError
from symphony.kernels import hashing
from symphony.pit.artifacts import ArtifactsConfig, ArtifactStore
from symphony.pit.artifacts._crypto import parse_key
from symphony.pit.artifacts._pack import RECORD_HEADER

KEY = bytes(range(32))
OTHER = bytes(range(1, 33))


def rand(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def test_roundtrip_and_nothing_plain_on_disk(tmp_path: Path) -> None:
    secret = b"TOP-SECRET-MARKER " * 20_000  # compressible, large: goes to packs
    small = b"tiny secret SMALL-MARKER"
    with ArtifactStore(tmp_path, key=KEY, encrypt=True) as s:
        assert s.encrypted
        ref = s.put(secret, name="doc", content_type="application/octet-stream")
        ref2 = s.put(small)
        assert s.get("doc") == secret and s.get(ref2.id) == small
        assert s.verify().ok
    for path in tmp_path.rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            assert b"TOP-SECRET-MARKER" not in blob, path
            assert b"SMALL-MARKER" not in blob, path
    # chunk addresses are keyed: the plain SHA-256 of a chunk is not stored
    plain_digests = {c.digest for c in hashing.hash_chunks(secret).chunks}
    db = sqlite3.connect(tmp_path / "store.db")
    addresses = {r[0] for r in db.execute("SELECT address FROM chunks")}
    db.close()
    assert addresses and not (addresses & plain_digests)
    assert ref.id == hashing.hash_chunks(secret).manifest_id.hex()


def test_dedup_still_works_encrypted(tmp_path: Path) -> None:
    data = rand(1 << 20, 1)
    with ArtifactStore(tmp_path, key=KEY, encrypt=True) as s:
        first = s.put(data)
        assert s.put(data).new_bytes == 0
        edited = data[:500_000] + b"EDIT" + data[500_000:]
        second = s.put(edited)
        assert second.new_bytes < 150_000
        assert s.get(second.id) == edited and s.get(first.id) == data


def test_wrong_or_missing_key_refused(tmp_path: Path) -> None:
    with ArtifactStore(tmp_path, key=KEY, encrypt=True) as s:
        s.put(b"x")
    with pytest.raises(ArtifactKeyError, match="wrong key"):
        ArtifactStore(tmp_path, key=OTHER)
    with pytest.raises(ArtifactKeyError, match="encrypted"):
        ArtifactStore(tmp_path, config=ArtifactsConfig(key_env="SYMPHONY_TEST_NO_SUCH_KEY"))
    with pytest.raises(ArtifactKeyError, match="needs a key"):
        ArtifactStore(
            tmp_path / "new",
            encrypt=True,
            config=ArtifactsConfig(key_env="SYMPHONY_TEST_NO_SUCH_KEY"),
        )


def test_keys_from_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY.hex() + "\n")
    cfg = ArtifactsConfig(encrypt=True, key_file=key_file)
    with ArtifactStore(tmp_path / "s", config=cfg) as s:
        ref = s.put(b"payload")
    monkeypatch.setenv("MY_ARTIFACT_KEY", base64.b64encode(KEY).decode())
    with ArtifactStore(tmp_path / "s", config=ArtifactsConfig(key_env="MY_ARTIFACT_KEY")) as s:
        assert s.get(ref.id) == b"payload"
    key_file.write_bytes(KEY)  # raw 32 bytes
    with ArtifactStore(tmp_path / "s", config=cfg) as s:
        assert s.get(ref.id) == b"payload"
    with pytest.raises(ArtifactKeyError, match="cannot read key file"):
        ArtifactStore(tmp_path / "s", config=ArtifactsConfig(key_file=tmp_path / "missing"))


@pytest.mark.parametrize("bad", [b"", b"short", b"z" * 64, b"00" * 31, base64.b64encode(b"x" * 31)])
def test_malformed_keys(bad: bytes) -> None:
    with pytest.raises(ArtifactKeyError):
        parse_key(bad, "test")


def test_tampered_ciphertext_refused(tmp_path: Path) -> None:
    with ArtifactStore(tmp_path, key=KEY, encrypt=True) as s:
        ref = s.put(rand(300_000, 2))
        inline_ref = s.put(b"inline secret")
    pack = next((tmp_path / "packs").glob("*.pack"))
    raw = bytearray(pack.read_bytes())
    raw[16 + RECORD_HEADER.size + 30] ^= 0x01  # ciphertext byte of the first record
    pack.write_bytes(raw)
    db = sqlite3.connect(tmp_path / "store.db")
    (manifest,) = db.execute(
        "SELECT manifest FROM artifacts WHERE id = ?", (bytes.fromhex(inline_ref.id),)
    ).fetchone()
    (blob,) = db.execute("SELECT inline FROM chunks WHERE address = ?", (manifest[:32],)).fetchone()
    db.execute(
        "UPDATE chunks SET inline = ? WHERE address = ?",
        (blob[:-1] + bytes([blob[-1] ^ 1]), manifest[:32]),
    )
    db.commit()
    db.close()
    with ArtifactStore(tmp_path, key=KEY) as s:
        with pytest.raises(ArtifactCorrupt):
            s.get(ref.id)
        with pytest.raises(ArtifactCorrupt, match="authentication failed"):
            s.get(inline_ref.id)
        assert len(s.verify().problems) >= 2


def test_swapped_records_refused(tmp_path: Path) -> None:
    """A valid sealed record moved to another chunk's address fails authentication (the
    address is associated data)."""
    with ArtifactStore(tmp_path, key=KEY, encrypt=True) as s:
        a = s.put(b"A" * 10 + os.urandom(50))
        b = s.put(b"B" * 10 + os.urandom(50))
    db = sqlite3.connect(tmp_path / "store.db")
    rows = {}
    for ref in (a, b):
        (manifest,) = db.execute(
            "SELECT manifest FROM artifacts WHERE id = ?", (bytes.fromhex(ref.id),)
        ).fetchone()
        rows[ref.id] = (
            manifest[:32],
            db.execute("SELECT inline FROM chunks WHERE address = ?", (manifest[:32],)).fetchone()[
                0
            ],
        )
    (addr_a, _blob_a), (_addr_b, blob_b) = rows[a.id], rows[b.id]
    db.execute("UPDATE chunks SET inline = ? WHERE address = ?", (blob_b, addr_a))
    db.commit()
    db.close()
    with ArtifactStore(tmp_path, key=KEY) as s, pytest.raises(ArtifactCorrupt):
        s.get(a.id)


def test_unencrypted_store_addresses_are_plain_sha256(tmp_path: Path) -> None:
    data = b"plain data" * 10
    with ArtifactStore(tmp_path) as s:
        s.put(data)
    db = sqlite3.connect(tmp_path / "store.db")
    (address,) = db.execute("SELECT address FROM chunks").fetchone()
    db.close()
    assert address == hashlib.sha256(data).digest()
