"""ArtifactStore.batch(): several writes in one transaction, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from symphony.commons.errors import ArtifactConflict, ArtifactNotFound, StorageError
from symphony.pit.artifacts.store import ArtifactStore


def test_batch_commits_every_write_once(tmp_path: Path) -> None:
    with ArtifactStore(tmp_path / "s") as s:
        with s.batch():
            a = s.put(b"first", name="a", run_id="r1", node_id="n1")
            b = s.put(b"second" * 10_000, name="b", parents=[a.id])
            s.add_edge(b.id, a.id, "produced-by")
        assert s.get("a") == b"first" and s.get("b") == b"second" * 10_000
        assert {(c, p, k) for c, p, k in s.lineage("b")} == {
            (b.id, a.id, "derived-from"), (b.id, a.id, "produced-by")}
        assert s.produced_by(run_id="r1") == [a.id]
        assert s.verify().ok
    with ArtifactStore(tmp_path / "s") as again:  # durable: visible after reopening
        assert again.get("b") == b"second" * 10_000


def test_an_exception_leaving_the_block_stores_nothing(tmp_path: Path) -> None:
    with ArtifactStore(tmp_path / "s") as s:
        s.put(b"before", name="kept")

        def aborted() -> None:
            with s.batch():
                s.put(b"lost one", name="x")
                s.put(b"lost two" * 50_000, name="y")  # chunks in a pack, never committed
                raise RuntimeError("abort")

        with pytest.raises(RuntimeError):
            aborted()
        assert not s.exists("x") and not s.exists("y")
        with pytest.raises(ArtifactNotFound):
            s.get("x")
        assert s.names() == ["kept"]
        s.put(b"lost two" * 50_000, name="y")  # the same content again: stored for real
        assert s.get("y") == b"lost two" * 50_000
        assert s.verify().ok


def test_a_failed_write_inside_is_undone_alone(tmp_path: Path) -> None:
    with ArtifactStore(tmp_path / "s") as s:
        with s.batch():
            s.put(b"v1", name="n")
            with pytest.raises(ArtifactConflict):
                s.put(b"v2", name="n", expected_version=0)
            with pytest.raises(ArtifactNotFound):
                s.put(b"orphan", name="o", parents=["no-such-artifact"])
            s.put(b"v2", name="n", expected_version=1)
        assert [v.version for v in s.history("n")] == [1, 2]
        assert not s.exists("o")


def test_batch_on_a_closed_store_is_refused(tmp_path: Path) -> None:
    s = ArtifactStore(tmp_path / "s")
    s.close()
    with pytest.raises(StorageError, match="closed"), s.batch():
        pass
