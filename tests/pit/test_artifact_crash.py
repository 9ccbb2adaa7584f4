"""Crash safety and multi-process writers: SIGKILL mid-put, many trials; two processes
writing versions of one name."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from symphony.pit.artifacts import ArtifactStore

from ._artifact_child import content, stalled_content

CHILD = Path(__file__).with_name("_artifact_child.py")
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


def spawn(root: Path, name: str, seed: int, count: int, cmd: str = "put") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), cmd, str(root), name, str(seed), str(count)],
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def test_sigkill_mid_put_loses_nothing_committed(tmp_path: Path) -> None:
    rng = random.Random(1234)
    committed: dict[str, bytes] = {}
    trials = 12
    for trial in range(trials):
        proc = spawn(tmp_path, "crashy", trial, 10_000)
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(rng.randint(1, 4))]
        time.sleep(rng.uniform(0, 0.03))  # land somewhere inside a later put
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        for line in lines + rest.splitlines():
            if line.strip():
                i, aid = line.split()
                committed[aid] = content(trial, int(i))
        with ArtifactStore(tmp_path) as store:
            # every put that returned is there, whole and verified
            for aid, data in committed.items():
                assert store.get(aid) == data
            report = store.verify()
            assert report.ok, report.problems
            # versions are contiguous and each one is complete
            hist = store.history("crashy")
            assert [v.version for v in hist] == list(range(1, len(hist) + 1))
            for v in hist:
                store.get(v.id)
            assert store.stats()["artifacts"] >= len(committed)
    with ArtifactStore(tmp_path) as store:  # the store keeps working after the crashes
        ref = store.put(b"after" * 50_000, name="crashy")
        assert store.get(ref.id) == b"after" * 50_000
        assert store.verify().ok


def test_two_processes_one_name_no_lost_update(tmp_path: Path) -> None:
    procs = [spawn(tmp_path, "shared", seed, 15) for seed in (1, 2)]
    outputs = [p.communicate()[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    ids = [line.split()[1] for out in outputs for line in out.splitlines()]
    assert len(ids) == 30
    with ArtifactStore(tmp_path) as store:
        hist = store.history("shared")
        assert [v.version for v in hist] == list(range(1, 31))
        assert sorted(v.id for v in hist) == sorted(ids)
        assert {v.producer for v in hist} == {"child1", "child2"}
        assert store.verify().ok


def test_sigkill_inside_commit_leaves_nothing_partial(tmp_path: Path) -> None:
    """Deterministic variant: the child is killed while its commit transaction is open and
    its new chunks are already in the pack."""
    from symphony.kernels import hashing

    for seed in (7, 8):
        proc = spawn(tmp_path, "paused", seed, 3, cmd="pause")
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        assert proc.stdout.readline() == "PAUSED\n"
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        lost = hashing.hash_chunks(stalled_content(seed)).manifest_id.hex()
        with ArtifactStore(tmp_path) as store:
            report = store.verify()
            assert report.ok, report.problems
            assert report.uncommitted_tail_bytes > 0  # the dead put's chunks: invisible
            assert not store.exists(lost)
            for line in lines:
                i, aid = line.split()
                assert store.get(aid) == content(seed, int(i))
            assert len(store.history("paused")) == 3 * (seed - 6)
