"""``symphony bench artifacts_scale`` completes on a tiny store and reports every checkpoint
(no timing is asserted: performance is shown by the benchmark itself)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from symphony.bench import artifacts_scale as scale


def test_scale_smoke_reports_every_checkpoint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "store"
    out_json = tmp_path / "scale.json"
    argv = [
        "--n", "120",
        "--checkpoints", "30,60",
        "--large-fraction", "0.05",
        "--large-mib", "1,1",
        "--samples", "4",
        "--search-rounds", "1",
        "--index-every", "50",
        "--root", str(root),
        "--json", str(out_json),
        "--settle",
    ]  # fmt: skip
    assert scale.main(argv) == 0
    out = capsys.readouterr().out
    assert re.findall(r"^== checkpoint (\d+) artifacts", out, re.M) == ["30", "60", "120"]
    assert "growth factors" in out and "NOTE: stopped" not in out
    report = json.loads(out_json.read_text())
    assert [c["n"] for c in report["checkpoints"]] == [30, 60, 120]
    last = report["checkpoints"][-1]
    # 120 distinct fill artifacts plus the durable probe puts of each checkpoint
    assert last["artifacts"] >= 120
    assert last["fill_puts"] >= 120 and last["packs"] >= 1 and last["db_bytes"] > 0
    assert not root.exists()  # the store is removed without --keep


def test_scale_refuses_a_non_empty_root(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("occupied")
    with pytest.raises(SystemExit):
        scale.main(["--n", "10", "--root", str(tmp_path)])
    assert (tmp_path / "x").read_text() == "occupied"
