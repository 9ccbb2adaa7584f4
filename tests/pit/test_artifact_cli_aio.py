"""``symphony artifacts ...`` commands and the trio wrappers."""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path

import pytest
import trio

from symphony.commons.errors import ArtifactNotFound
from symphony.pit.artifacts import ArtifactStore, AsyncArtifactStore
from symphony.pit.artifacts.cli import main, register


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYMPHONY_CONFIG_DIR", str(tmp_path / "no-config"))


def run(root: Path, *args: str) -> int:
    return main(["--root", str(root), *args])


def test_cli_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "store"
    src = tmp_path / "in.txt"
    src.write_bytes(b"hello from the cli, searchable words\n")
    assert (
        run(
            root,
            "put",
            str(src),
            "--name",
            "greeting",
            "--content-type",
            "text/plain",
            "--tag",
            "t1",
            "--meta",
            "lang=en",
            "--score",
            "tests=0.5",
        )
        == 0
    )
    first = capsys.readouterr().out.split()[0]
    src.write_bytes(b"second version\n")
    assert run(root, "put", str(src), "--name", "greeting", "--parent", first, "--json") == 0
    second = json.loads(capsys.readouterr().out)
    assert second["version"] == 2
    out = tmp_path / "out.txt"
    assert run(root, "get", "greeting@1", "-o", str(out)) == 0
    assert out.read_bytes() == b"hello from the cli, searchable words\n"
    assert run(root, "get", "greeting") == 0
    assert capsys.readouterr().out == "second version\n"
    assert run(root, "show", second["id"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["parents"] == [[first, "derived-from"]]
    assert run(root, "history", "greeting", "--json") == 0
    assert [v["version"] for v in json.loads(capsys.readouterr().out)] == [1, 2]
    assert run(root, "search", "searchable", "--json") == 0
    assert [h["id"] for h in json.loads(capsys.readouterr().out)] == [first]
    assert run(root, "search", "", "--tag", "t1") == 0
    assert first in capsys.readouterr().out
    assert run(root, "rollback", "greeting", "1") == 0
    assert capsys.readouterr().out.split()[1] == "greeting@3"
    assert run(root, "verify") == 0
    assert "PROBLEM" not in capsys.readouterr().out
    assert run(root, "gc", "--grace", "0") == 0
    assert json.loads(capsys.readouterr().out)["chunks_deleted"] == 0


def test_cli_errors_and_verify_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "store"
    assert run(root, "get", "nosuch") == 1
    assert "no artifact 'nosuch'" in capsys.readouterr().err
    assert run(root, "put", str(tmp_path / "missing")) == 1
    assert run(root, "put", str(tmp_path / "missing"), "--meta", "novalue") == 1
    src = tmp_path / "f"
    src.write_bytes(b"data" * 10)
    assert run(root, "put", str(src)) == 0
    db = sqlite3.connect(root / "store.db")
    db.execute("UPDATE chunks SET inline = x'00'")
    db.commit()
    db.close()
    capsys.readouterr()
    assert run(root, "verify") == 3
    assert "PROBLEM" in capsys.readouterr().out


def test_register_adds_artifacts_command() -> None:
    parser = argparse.ArgumentParser(prog="symphony")
    sub = parser.add_subparsers(dest="command")
    register(sub)
    args = parser.parse_args(["artifacts", "--root", "/x", "search", "q", "--limit", "3"])
    assert args.artifacts_command == "search" and args.limit == 3 and callable(args.func)


async def test_async_wrappers(tmp_path: Path) -> None:
    async with await AsyncArtifactStore.open(tmp_path) as astore:
        refs = []

        async def put(i: int) -> None:
            refs.append(
                await astore.put(f"async {i} text".encode(), name="a", content_type="text/plain")
            )

        async with trio.open_nursery() as nursery:
            for i in range(5):
                nursery.start_soon(put, i)
        assert sorted(r.version for r in refs if r.version) == [1, 2, 3, 4, 5]
        assert len(await astore.history("a")) == 5
        assert (await astore.get(refs[0].id)).startswith(b"async")
        assert len(await astore.search("async", limit=10)) == 5
        assert (await astore.show("a@1")).versions[0].version == 1
        assert (await astore.verify()).ok
        assert (await astore.gc(0)).chunks_deleted == 0
        rb = await astore.rollback("a", 1)
        assert rb.version == 6
        assert await astore.lineage("a") == []
        with pytest.raises(ArtifactNotFound):
            await astore.get("nope")
    assert isinstance(astore.store, ArtifactStore)


def test_from_config_reads_the_artifacts_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg_dir = tmp_path / "cfg"
    cfg_dir.mkdir()
    (cfg_dir / "default.toml").write_text(
        f'[artifacts]\nroot = "{tmp_path / "configured"}"\ninline_max = 0\n'
    )
    monkeypatch.setenv("SYMPHONY_CONFIG_DIR", str(cfg_dir))
    with ArtifactStore.from_config() as store:
        assert store.root == tmp_path / "configured"
        assert store.config.inline_max == 0
        store.put(b"x" * 200_000)
    monkeypatch.setenv("SYMPHONY_ARTIFACTS__ZSTD_LEVEL", "99")
    from symphony.commons.errors import ConfigError

    with pytest.raises(ConfigError, match="zstd_level"):
        ArtifactStore.from_config()
