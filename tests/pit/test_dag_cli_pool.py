"""``symphony run`` hosts the Pit services: Instrument nodes on ``pool/<model>`` allocate their
model through the Pool Manager, behind the Arbitration Engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from symphony.pit.dag_tracker.cli import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "workflows" / "embed_texts.json"


def test_instruments_run_on_the_pooled_embedder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SYMPHONY_PATHS__DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SYMPHONY_PIT_STATUS", str(tmp_path / "pit-status.json"))
    monkeypatch.setenv("SYMPHONY_ARTIFACTS__ROOT", str(tmp_path / "artifacts"))
    monkeypatch.chdir(tmp_path)
    rc = main(["run", str(EXAMPLE), "--state-dir", str(tmp_path / "state"), "--json"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    # The model's weights were created under the configured data dir, not the user's.
    assert (tmp_path / "data" / "models" / "hashing-embedder.bin").exists()
    # The status writer ran for the life of the run and removed its file at the end.
    assert not (tmp_path / "pit-status.json").exists()

    from symphony.pit.artifacts.store import ArtifactStore

    store = ArtifactStore(tmp_path / "artifacts")
    try:
        summary = json.loads(out)
        run_id = summary["run_id"] if "run_id" in summary else summary["id"]
        vectors = [
            json.loads(store.get(f"runs/{run_id}/{node}/output").decode())
            for node in ("embed-a", "embed-b")
        ]
    finally:
        store.close()
    assert all(isinstance(v, list) and len(v) == 512 for v in vectors)
    assert vectors[0] != vectors[1]  # different texts, different embeddings
    written = json.loads((tmp_path / "embeddings.json").read_text())
    assert sorted(written) == ["a", "b"]
    assert all(isinstance(x, float) for x in vectors[0])
