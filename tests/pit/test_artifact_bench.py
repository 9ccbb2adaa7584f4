"""``symphony bench artifacts`` runs end to end on tiny inputs (no timing is asserted)."""

from __future__ import annotations

import itertools

import pytest

from symphony.bench import artifacts as bench


def test_bench_smoke(capsys: pytest.CaptureFixture[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    argv = [
        "--rounds",
        "3",
        "--mib",
        "2",
        "--throughput-rounds",
        "1",
        "--versions",
        "3",
        "--tree-mib",
        "1",
        "--no-git",
        "--search-n",
        "40",
        "--queries",
        "3",
        "--dir",
        str(tmp_path),
    ]
    assert bench.main(argv) == 0
    out = capsys.readouterr().out
    for title in ("durable put latency", "get latency", "throughput", "dedup", "search latency"):
        assert title in out
    assert "sqlite" in out and "file" in out and "tantivy direct" in out
    assert list(tmp_path.iterdir()) == []  # temporary stores removed


def test_edit_versions_are_small_successive_edits() -> None:
    tree = {"a.py": b"line1\nline2\nline3\n" * 50, "b.md": b"# title\ntext\n" * 20}
    versions = bench.edit_versions(tree, 5, seed=1)
    assert len(versions) == 5 and versions[0] == tree
    for old, new in itertools.pairwise(versions):
        assert old != new
        assert abs(len(bench.archive(new)) - len(bench.archive(old))) < 2000
    assert bench.edit_versions(tree, 5, seed=1) == versions  # seeded
