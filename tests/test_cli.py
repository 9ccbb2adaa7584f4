"""The ``symphony`` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from symphony import cli

SCRIPT = Path(sys.executable).with_name("symphony")


def test_console_script_doctor(tmp_path: Path) -> None:
    env = dict(os.environ, SYMPHONY_CONFIG_DIR=str(tmp_path))
    proc = subprocess.run(
        [str(SCRIPT), "doctor"], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "symphony 0.1.0" in proc.stdout
    expected = "python" if os.environ.get("SYMPHONY_PURE_PYTHON") else "cython"
    assert f"kernels   {expected}" in proc.stdout
    assert "data dirs" in proc.stdout


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert "symphony 0.1.0" in capsys.readouterr().out


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "doctor" in capsys.readouterr().out


def test_bench_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "--list"]) == 0
    assert "kernels" in capsys.readouterr().out


def test_bench_unknown_area(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "nope"]) == 2
    assert "unknown area 'nope'" in capsys.readouterr().err


def test_bench_kernels_runs(capsys: pytest.CaptureFixture[str]) -> None:
    # A smoke run of the bench driver (no timing is asserted: benchmarks show speed).
    assert cli.main(["bench", "kernels", "--calls", "1000", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "noop" in out and "symphony-twin" in out
