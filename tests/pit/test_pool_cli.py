"""``symphony pit status`` over a snapshot written by running services."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import trio

from symphony.pit.arbitration import ArbitrationEngine, Request
from symphony.pit.cli import register, snapshot, status_writer
from symphony.pit.pool import HashingEmbedderLoader, PoolConfig, PoolManager
from symphony.pit.pool.simulate import SimLoader
from symphony.pit.stale import DictHotStore, FsspecTier, StaleManager


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    rc: int = args.func(args)
    return rc


async def test_status_shows_models_queues_tiers_storage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = PoolManager(PoolConfig(memory_budget=1 << 24, tick=0.02))
    pool.register("emb", HashingEmbedderLoader(tmp_path / "e.bin", dim=32))
    pool.register("idle", SimLoader(0, 1000))
    arb = ArbitrationEngine()
    arb.request(Request("run1", "model:emb"))
    arb.request(Request("run2", "model:emb"))
    stale = StaleManager(
        DictHotStore(), FsspecTier(str(tmp_path / "w")), FsspecTier(str(tmp_path / "c"))
    )
    stale.put("x", b"abc")
    path = tmp_path / "status.json"
    async with trio.open_nursery() as n:
        await n.start(pool.run)
        h = await pool.allocate("emb")
        await n.start(
            lambda task_status: status_writer(
                path,
                interval=0.01,
                pool=pool,
                arbitration=arb,
                stale=stale,
                task_status=task_status,
            )
        )
        await trio.sleep(0.05)
        rc = _main(["pit", "status", "--status-file", str(path), "--root", str(tmp_path / "store")])
        out = capsys.readouterr().out
        assert rc == 0
        assert "emb" in out and "hot" in out and "idle" in out and "cold" in out
        assert "model:emb" in out and "waiting 1" in out
        assert "hot" in out and "items" in out and "artifact storage" in out
        _main(
            [
                "pit",
                "status",
                "--json",
                "--status-file",
                str(path),
                "--root",
                str(tmp_path / "store"),
            ]
        )
        data = json.loads(capsys.readouterr().out)
        assert data["pool"]["models"]["emb"]["refs"] == 1
        assert data["stale"]["tiers"]["hot"]["items"] == 1
        pool.release(h)
        n.cancel_scope.cancel()
    assert not path.exists()
    _main(["pit", "status", "--status-file", str(path), "--root", str(tmp_path / "store")])
    assert "no running core" in capsys.readouterr().out
    assert set(snapshot()) == {"written_at", "pid"}
