"""Full-text search: content, metadata, filters, ranking, consistency and rebuilds."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from symphony.commons.errors import ValidationError
from symphony.pit.artifacts import ArtifactStore


@pytest.fixture
def store(tmp_path: Path):
    s = ArtifactStore(tmp_path)
    s.put(
        b"the quick brown fox jumps",
        name="fox",
        content_type="text/plain",
        tags=["animal"],
        producer="writer",
        run_id="run1",
        node_id="n1",
        metadata={"lang": "en", "pages": 3},
    )
    s.put(
        b"def quick_sort(xs): return sorted(xs)",
        name="code/sort.py",
        content_type="text/x-python",
        tags=["code", "sorting"],
        run_id="run2",
        metadata={"lang": "python"},
    )
    s.put(b"\x00\x01binary quick payload", name="blob", content_type="application/octet-stream")
    s.put(
        b'{"quick": "json document"}',
        name="data.json",
        content_type="application/json",
        tags=["animal"],
    )
    yield s
    s.close()


def names(hits: list) -> set[str]:  # type: ignore[type-arg]
    return {n for h in hits for n in h.names}


def test_content_and_metadata(store: ArtifactStore) -> None:
    assert names(store.search("fox")) == {"fox"}
    # binary content is not indexed; quick_sort tokenizes to quick, sort
    assert names(store.search("quick")) == {"fox", "data.json", "code/sort.py"}
    assert names(store.search("sorted")) == {"code/sort.py"}
    assert names(store.search("attrs.lang:python")) == {"code/sort.py"}
    assert names(store.search("python")) == {"code/sort.py"}  # flattened metadata text
    assert names(store.search("blob")) == {"blob"}  # names are searchable


def test_filters(store: ArtifactStore) -> None:
    assert names(store.search("", tags=["animal"])) == {"fox", "data.json"}
    assert names(store.search("quick", content_type="text/plain")) == {"fox"}
    assert names(store.search("", producer="run2")) == {"code/sort.py"}
    assert names(store.search("", producer="writer")) == {"fox"}
    assert names(store.search("", name="blob")) == {"blob"}
    assert names(store.search("", tags=["animal", "code"])) == set()
    now = time.time()
    assert len(store.search("", since=now - 60, limit=100)) == 4
    assert store.search("", until=now - 3600) == []
    hits = store.search("", limit=2)
    assert len(hits) == 2 and hits[0].created_at >= hits[1].created_at


def test_ranking_uses_quality(tmp_path: Path) -> None:
    with ArtifactStore(tmp_path) as s:
        low = s.put(
            b"ranking test document alpha", content_type="text/plain", scores={"review": 0.0}
        )
        high = s.put(
            b"ranking test document beta", content_type="text/plain", scores={"review": 1.0}
        )
        hits = s.search("ranking")
        assert [h.id for h in hits] == [high.id, low.id]
        assert hits[0].score > hits[1].score
        s.set_score(low.id, "review", 1.0)
        s.set_score(high.id, "review", 0.0)
        assert [h.id for h in s.search("ranking")] == [low.id, high.id]
        assert [h.id for h in s.search("ranking", min_quality=0.5)] == [low.id]


def test_index_follows_versions_deletes_and_rebuilds(store: ArtifactStore) -> None:
    ref = store.put(b"a fresh version about badgers", name="fox", content_type="text/plain")
    assert names(store.search("badgers")) == {"fox"}
    store.delete(ref.id)
    assert store.search("badgers") == []
    before = {h.id for h in store.search("quick", limit=50)}
    store.close()
    shutil.rmtree(store.root / "index")
    with ArtifactStore(store.root) as s:
        assert s.search("quick") == []  # nothing queued: the index was lost
        assert s.rebuild_index() == 4
        assert {h.id for h in s.search("quick", limit=50)} == before


def test_other_process_puts_are_indexed_on_search(tmp_path: Path) -> None:
    with ArtifactStore(tmp_path) as a, ArtifactStore(tmp_path) as b:
        a.put(b"walrus text", content_type="text/plain")
        assert len(b.search("walrus")) == 1


@pytest.mark.parametrize("limit", [0, -1, 10_001, 1.5, True])
def test_bad_limits(store: ArtifactStore, limit: object) -> None:
    with pytest.raises(ValidationError):
        store.search("quick", limit=limit)  # type: ignore[arg-type]


def test_malformed_query(store: ArtifactStore) -> None:
    with pytest.raises(ValidationError, match="malformed"):
        store.search("nosuchfield:x")
    with pytest.raises(ValidationError):
        store.search(b"bytes")  # type: ignore[arg-type]


def test_encrypted_store_does_not_index_content_by_default(tmp_path: Path) -> None:
    with ArtifactStore(tmp_path, key=bytes(32), encrypt=True) as s:
        s.put(b"confidential words", name="secret-doc", content_type="text/plain")
        assert s.search("confidential") == []
        assert names(s.search("secret")) == {"secret-doc"}


def test_instances_see_each_others_index_commits(tmp_path: Path) -> None:
    with ArtifactStore(tmp_path) as a, ArtifactStore(tmp_path) as b:
        assert b.search("narwhal") == []  # b's reader opened on the empty index
        a.put(b"narwhal text", content_type="text/plain")
        assert len(a.search("narwhal")) == 1  # a indexes (and commits) it
        assert len(b.search("narwhal")) == 1  # b has nothing queued, but must reload
        a.put(b"narwhal again", content_type="text/plain")
        a.sync_index()
        assert len(b.search("narwhal")) == 2


@pytest.mark.parametrize(
    "meta", [{"x": 2**70}, {"x": -(2**70)}, {"": 1}, {"a.b": {"c": [1, "x", None, {"d": 1.5}]}}]
)
def test_awkward_metadata_never_blocks_the_index(tmp_path: Path, meta: dict[str, object]) -> None:
    with ArtifactStore(tmp_path) as s:
        s.put(b"first doc", content_type="text/plain", metadata=meta)
        s.put(b"second doc", content_type="text/plain")
        assert len(s.search("doc")) == 2
        assert s.sync_index() == 0  # the queue drained
