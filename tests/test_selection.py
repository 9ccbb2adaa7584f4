"""The selection layer: symphony.kernels picks Cython by default, twins on demand."""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys

import pytest

import symphony.kernels as kernels


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "SYMPHONY_PURE_PYTHON"}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full_env, check=False
    )


@pytest.mark.skipif(kernels.PURE_PYTHON, reason="this pass runs on the twins on purpose")
def test_kernels_default_to_cython() -> None:
    code = (
        "import symphony.kernels as k\n"
        "print(k.IMPLEMENTATION)\n"
        "for name in k.KERNELS:\n"
        "    mod = getattr(k, name)\n"
        "    assert mod.__name__ == 'symphony._core.' + name, mod.__name__\n"
        "    assert mod.__file__.endswith('.so'), mod.__file__\n"
    )
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "cython"


def test_pure_python_variable_selects_twins() -> None:
    code = (
        "import symphony.kernels as k\n"
        "print(k.IMPLEMENTATION)\n"
        "for name in k.KERNELS:\n"
        "    assert getattr(k, name).__name__ == 'symphony.reference.' + name\n"
    )
    proc = _run(code, SYMPHONY_PURE_PYTHON="1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "python"


def test_zero_means_not_set() -> None:
    proc = _run("import symphony.kernels as k; print(k.IMPLEMENTATION)", SYMPHONY_PURE_PYTHON="0")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "cython"


def test_missing_build_is_a_clear_error() -> None:
    # Hide symphony._core's compiled modules with a meta-path finder that refuses them.
    code = (
        "import sys\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.startswith('symphony._core.'):\n"
        "            raise ImportError('hidden for the test: ' + name)\n"
        "sys.meta_path.insert(0, Refuse())\n"
        "import symphony.kernels\n"
    )
    proc = _run(code)
    assert proc.returncode != 0
    assert "Cython kernels are not built" in proc.stderr
    assert "SYMPHONY_PURE_PYTHON=1" in proc.stderr


def test_import_symphony_is_light() -> None:
    code = (
        "import sys, symphony\n"
        "heavy = [m for m in ('trio', 'numpy', 'hypothesis', 'msgpack') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.parametrize("name", kernels.KERNELS)
def test_twins_expose_the_same_api(name: str) -> None:
    """Same public names and signatures in _core, reference and the .pyi stub (trio's
    test_exports, in the twin setting)."""
    cy = importlib.import_module(f"symphony._core.{name}")
    py = importlib.import_module(f"symphony.reference.{name}")
    py_names = set(py.__all__)
    cy_names = {n for n in dir(cy) if not n.startswith("_")} - {"test"}
    missing = py_names - cy_names
    assert not missing, f"_core.{name} lacks {sorted(missing)}"
    for public in sorted(py_names):
        py_obj = getattr(py, public)
        cy_obj = getattr(cy, public)
        if inspect.isfunction(py_obj):
            assert str(inspect.signature(cy_obj)) == str(inspect.signature(py_obj)).replace(
                "'", ""
            ) or _params(cy_obj) == _params(py_obj), public


def _params(fn: object) -> list[tuple[str, object]]:
    sig = inspect.signature(fn)  # type: ignore[arg-type]
    return [(p.name, p.kind) for p in sig.parameters.values()]
