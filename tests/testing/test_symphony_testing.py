"""``symphony.testing`` is a usable differential suite: it passes the real kernels, it catches
deliberately broken toy implementations, and ``import symphony`` does not pull it in."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import strategies as st

from symphony.testing import KERNEL_SUITES, assert_twins_agree, check_kernel, outcome

HERE = Path(__file__).parent
KERNELS = sorted(KERNEL_SUITES)


def _toy(name: str) -> object:
    sys.path.insert(0, str(HERE))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(HERE))


@pytest.mark.cython
@pytest.mark.parametrize("kernel", KERNELS)
def test_the_compiled_kernels_pass_the_suite(kernel: str) -> None:
    check_kernel(kernel, importlib.import_module(f"symphony._core.{kernel}"), max_examples=20)


@pytest.mark.parametrize(
    ("kernel", "toy", "needle"),
    [
        ("checksum", "broken_checksum", "twins disagree"),
        ("toposort", "broken_toposort", "InvalidGraph"),
    ],
)
def test_the_suite_catches_a_broken_implementation(kernel: str, toy: str, needle: str) -> None:
    with pytest.raises(AssertionError, match=needle):
        check_kernel(kernel, _toy(toy), max_examples=100, derandomize=True)


def test_command_line_reports_a_broken_implementation() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "symphony.testing", "checksum", "broken_checksum", "--derandomize"],
        capture_output=True,
        text=True,
        check=False,
        cwd=HERE,
        env={"PYTHONPATH": str(HERE), "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAIL: broken_checksum disagrees with symphony.reference.checksum" in run.stdout


def test_assert_twins_agree_compares_values_and_error_classes() -> None:
    assert_twins_agree(lambda x: x + 1, lambda x: 1 + x, st.integers(), max_examples=20)
    with pytest.raises(AssertionError):
        assert_twins_agree(lambda x: x, lambda x: abs(x), st.integers(), max_examples=50)
    with pytest.raises(AssertionError):  # same message, different class
        assert_twins_agree(lambda _: int("x"), lambda _: {}["x"], st.integers(), max_examples=5)
    assert outcome(lambda: memoryview(b"ab")) == ("ok", b"ab")
    assert outcome(lambda: 1 // 0) == ("raise", ZeroDivisionError)


def test_unknown_kernel_is_named() -> None:
    with pytest.raises(KeyError, match="nope"):
        check_kernel("nope", object())


def test_import_symphony_does_not_import_the_testing_kit() -> None:
    code = (
        "import sys, symphony, symphony.kernels; "
        "print('symphony.testing' in sys.modules, 'hypothesis' in sys.modules)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["False", "False"]
