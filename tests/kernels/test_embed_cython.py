"""The Cython embedding path (issue 11): examples/embed_cython, an out-of-tree package that
``cimport``s the ring and the chunker through the shipped ``.pxd`` files, builds against the
installed Symphony (this interpreter, no build isolation) and passes its own tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import symphony

ROOT = Path(symphony.__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "embed_cython"


@pytest.mark.cython
def test_the_example_builds_against_the_installed_symphony_and_passes(tmp_path: Path) -> None:
    dest = tmp_path / "embed_cython"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("build", "*.so", "*.c"))
    build = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--inplace"],
        cwd=dest,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr[-4000:]
    assert list((dest / "symphony_embed_demo").glob("_loops*.so")), "no extension was built"
    env = {**os.environ, "PYTHONPATH": str(dest)}
    env.pop("PYTEST_ADDOPTS", None)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests"],
        cwd=dest,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "failed" not in run.stdout, run.stdout[-2000:]


def test_every_header_a_pxd_needs_is_under_get_include() -> None:
    """A cimporting extension compiles the ``cdef extern from "..."`` headers of every .pxd
    it cimports; with only ``symphony.get_include()`` on its include path they must be there."""
    import re

    include = Path(symphony.get_include())
    pxds = sorted((ROOT / "symphony" / "_core").glob("*.pxd"))
    assert pxds
    for pxd in pxds:
        if pxd.name.startswith("_"):
            continue  # private helpers (e.g. _buffer.pxd), not cimported from outside
        for header in re.findall(r'cdef extern from "([^"]+)"', pxd.read_text()):
            assert (include / header).is_file(), f"{pxd.name} needs {header}, not in {include}"
