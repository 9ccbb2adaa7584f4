"""symphony.commons.debug: duck() output, return value, and no duck() left in the package."""

from __future__ import annotations

import ast
import inspect
import os
import sys
from pathlib import Path

import pytest

import symphony
from symphony.commons import duck as reexported
from symphony.commons.debug import DUCK_PREFIX, duck


def test_duck_prints_prefix_location_and_values(capsys: pytest.CaptureFixture[str]) -> None:
    line = inspect.currentframe().f_lineno + 1  # type: ignore[union-attr]
    result = duck(41 + 1, "text", flag=True, items=[1, 2])
    assert result == 42
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"[DUCK DEBUGGING] {os.path.relpath(__file__)}:{line} in "
        "test_duck_prints_prefix_location_and_values: 42, 'text' | flag=True, items=[1, 2]\n"
    )
    assert captured.err.startswith(DUCK_PREFIX)


def test_duck_wraps_expressions(capsys: pytest.CaptureFixture[str]) -> None:
    obj = object()
    assert duck(obj) is obj
    total = sum(duck(x) for x in [1, 2, 3])
    assert total == 6
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 4
    assert all(line.startswith("[DUCK DEBUGGING] ") for line in lines)
    assert [line.rsplit(": ", 1)[1] for line in lines[1:]] == ["1", "2", "3"]


def test_duck_without_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert duck() is None
    assert capsys.readouterr().err.endswith(": reached\n")
    assert duck(n=1) is None
    assert capsys.readouterr().err.endswith(" in test_duck_without_values: n=1\n")


def test_duck_without_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", None)
    assert duck(5) == 5  # nowhere to write: no crash


def test_duck_shows_absolute_path_outside_cwd(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    duck("x")
    err = capsys.readouterr().err
    assert err.startswith(f"{DUCK_PREFIX} {__file__}:")


def test_duck_is_reexported() -> None:
    assert reexported is duck


def test_no_duck_calls_left_in_the_package() -> None:
    """duck() is temporary: committed code under symphony/ must not call it."""
    package = Path(symphony.__file__).parent
    offenders = []
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                fn = node.func
                name = fn.id if isinstance(fn, ast.Name) else getattr(fn, "attr", None)
                if name == "duck":
                    offenders.append(f"{path.relative_to(package.parent)}:{node.lineno}")
    assert offenders == [], f"remove these duck() calls before committing: {offenders}"
