"""``symphony run`` / ``symphony runs`` through the DAG Tracker's CLI module (``register`` is
what the ``symphony`` command wires; :func:`main` is the same parser stand-alone)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from symphony.pit.dag_tracker.cli import main, parse_params

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "workflows" / "repo_report.json"
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.fixture(autouse=True)
def _artifacts_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``symphony run`` stores node outputs in the artifact store: keep it in tmp_path."""
    root = str(tmp_path / "artifact-store")
    monkeypatch.setenv("SYMPHONY_ARTIFACTS__ROOT", root)
    monkeypatch.setitem(ENV, "SYMPHONY_ARTIFACTS__ROOT", root)
    # ... and the pooled models' files (examples/workflows/embed_texts.json) too.
    data = str(tmp_path / "data")
    monkeypatch.setenv("SYMPHONY_PATHS__DATA_DIR", data)
    monkeypatch.setitem(ENV, "SYMPHONY_PATHS__DATA_DIR", data)


def _tree(root: Path) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("import os\n\nprint(os.sep)\n")
    (root / "pkg" / "b.py").write_text("x = 1\n")
    (root / "README.md").write_text("# Title\n\nSome words here.\n")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("ignored\n")


def test_the_main_job_runs_the_example_on_a_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    _tree(tmp_path / "src")
    monkeypatch.chdir(tmp_path)
    rc = main(["run", str(EXAMPLE), "--param", f"root={tmp_path / 'src'}", "--param",
               "output=out/report", "--state-dir", str(tmp_path / "state")])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "completed" in out and "wrote out/report.md" in out
    md = (tmp_path / "out" / "report.md").read_text()
    assert "| Python | 2 | 4 |" in md  # two files, four lines
    assert "| Markdown | 1 | 3 |" in md
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["languages"]["total"]["files"] == 3  # .git is excluded
    assert report["lines_per_file"]["count"] == 3
    # plain progress lines when stderr is not a terminal
    assert "[100.0%] completed run" in err and "succeeded count" in err

    rc = main(["runs", "--state-dir", str(tmp_path / "state")])
    listing = capsys.readouterr().out
    assert rc == 0 and "completed" in listing and "repo-report" in listing and "11/11" in listing
    rc = main(["runs", "--state-dir", str(tmp_path / "state"), "--json"])
    runs = json.loads(capsys.readouterr().out)
    assert rc == 0 and runs[0]["state"] == "completed"
    assert runs[0]["params"]["output"] == "out/report"


def test_invalid_workflow_names_node_and_reason(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    doc = {
        "schema": "symphony.workflow", "schema_version": 2, "id": "broken", "version": "1.0.0",
        "nodes": [
            {"id": "a", "type": "operator", "operator": "core.noop", "inputs": [],
             "outputs": []},
            {"id": "b", "type": "operator", "operator": "core.noop",
             "inputs": [{"name": "x", "type": "int"}], "outputs": []},
        ],
        "edges": [{"kind": "control", "source": "a", "target": "ghost"}],
    }
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(doc))
    rc = main(["run", str(path), "--state-dir", str(tmp_path / "state")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "the workflow is invalid" in err
    assert "node 'b'" in err and "x" in err  # missing required input, named
    assert "ghost" in err


def test_bad_params_and_missing_files_are_clear(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["run", str(EXAMPLE), "--param", "top=0", "--state-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "top" in err
    rc = main(["run", str(tmp_path / "nope.json"), "--state-dir", str(tmp_path)])
    assert rc == 2 and "cannot read" in capsys.readouterr().err
    rc = main(["run", "--state-dir", str(tmp_path)])
    assert rc == 2
    with pytest.raises(Exception, match="KEY=VALUE"):
        parse_params(["novalue"])
    assert parse_params(["a=1", "b=x", "c=[1,2]"]) == {"a": 1, "b": "x", "c": [1, 2]}


def test_resume_retries_a_failed_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "marker"
    doc = {
        "schema": "symphony.workflow", "schema_version": 2, "id": "flaky", "version": "1.0.0",
        "nodes": [
            {"id": "first", "type": "operator", "operator": "core.noop", "inputs": [],
             "outputs": []},
            {"id": "flaky", "type": "operator", "operator": "core.fail",
             "config": {"marker": str(marker)}, "inputs": [], "outputs": []},
        ],
        "edges": [{"kind": "control", "source": "first", "target": "flaky"}],
    }
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(doc))
    state = str(tmp_path / "state")
    assert main(["run", str(path), "--state-dir", state]) == 1
    out = capsys.readouterr().out
    assert "failed  flaky" in out
    run_id = out.split()[1].rstrip(":")
    assert main(["run", "--resume", run_id, "--state-dir", state]) == 0
    out = capsys.readouterr().out
    assert "completed" in out and "1 node(s) were already done" in out
    assert main(["run", "--resume", run_id, "--state-dir", state]) == 0
    assert "already completed" in capsys.readouterr().err


def test_run_as_a_subprocess_from_the_repository(tmp_path: Path) -> None:
    """The README's main job: the example against this repository itself."""
    proc = subprocess.run(
        [sys.executable, "-m", "symphony.pit.dag_tracker.cli", "run", str(EXAMPLE),
         "--param", f"root={REPO}", "--param", f"output={tmp_path / 'repo'}",
         "--state-dir", str(tmp_path / "state")],
        capture_output=True, text=True, env=ENV, timeout=300, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    md = (tmp_path / "repo.md").read_text()
    assert "| Python |" in md and "## largest_files" in md


def test_live_progress_bar_on_a_terminal() -> None:
    import io

    from symphony.pit.dag_tracker.cli import _Progress
    from symphony.pit.dag_tracker.events import ProgressEvent

    out = io.StringIO()
    bar = _Progress(out, tty=True, quiet=False)
    bar([ProgressEvent("node.succeeded", "r", "a", 1, 4, 0.0)])
    bar([ProgressEvent("node.failed", "r", "b", 2, 4, 0.0, "boom")])
    bar([ProgressEvent("node.succeeded", "r", "c", 4, 4, 0.0)])
    bar.end()
    text = out.getvalue()
    assert "\r[" in text and " 25.0% 1/4 a" in text
    assert "failed    b: boom" in text
    assert "100.0% 4/4 c" in text and text.endswith("\n")
    quiet = io.StringIO()
    _Progress(quiet, tty=True, quiet=True)([ProgressEvent("node.succeeded", "r", "a", 1, 1, 0.0)])
    assert quiet.getvalue() == ""


@pytest.mark.parametrize(
    "example", sorted(p.name for p in (REPO / "examples" / "workflows").iterdir()
                      if p.suffix in (".json", ".toml")))
def test_every_shipped_example_runs(example: str, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    _tree(tmp_path / "work")
    (tmp_path / "work" / "pkg" / "c.py").write_text("# TODO: one\n# FIXME: two\n")
    monkeypatch.chdir(tmp_path / "work")
    rc = main(["run", str(REPO / "examples" / "workflows" / example), "-q",
               "--state-dir", str(tmp_path / "state")])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "completed" in out and "wrote " in out


def _wait_for(fn: object, what: str, limit: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + limit
    while not fn():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.01)


def test_pause_resume_cancel_from_another_process(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from symphony.pit.dag_tracker.store import RunStore

    doc = {
        "schema": "symphony.workflow", "schema_version": 2, "id": "slow", "version": "1.0.0",
        "nodes": [{"id": f"s{i}", "type": "operator", "operator": "core.sleep",
                   "config": {"seconds": 0.02}, "inputs": [], "outputs": []}
                  for i in range(500)],
        "edges": [],
    }
    path = tmp_path / "slow.json"
    path.write_text(json.dumps(doc))
    state = tmp_path / "state"
    proc = subprocess.Popen(
        [sys.executable, "-m", "symphony.pit.dag_tracker.cli", "run", str(path), "-q",
         "--concurrency", "2", "--state-dir", str(state)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    store = RunStore(state)
    try:
        _wait_for(lambda: store.list_runs() and store.list_runs()[0].get("pid"), "the run")
        run_id = str(store.list_runs()[0]["id"])
        assert main(["runs", "--state-dir", str(state), "--pause", run_id]) == 0
        _wait_for(lambda: store.meta(run_id)["state"] == "paused", "paused")
        assert main(["runs", "--state-dir", str(state), "--resume", run_id]) == 0
        _wait_for(lambda: store.meta(run_id)["state"] == "running", "running again")
        assert main(["runs", "--state-dir", str(state), "--cancel", run_id]) == 0
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, err
    assert "cancelled" in out
    assert store.meta(run_id)["state"] == "cancelled"
    commands = [e["command"] for e in store.audit_log(run_id)]
    assert commands == ["start", "pause", "resume", "cancel"]
    capsys.readouterr()
    assert main(["runs", "--state-dir", str(state), "--pause", run_id]) == 2
    assert "nothing executes it" in capsys.readouterr().err
