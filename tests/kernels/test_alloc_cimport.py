"""Another extension can ``cimport`` the allocator and call it with no Python objects on
the hot path (issue 11): build a tiny out-of-tree module against alloc.pxd and run it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import symphony

ROOT = Path(symphony.__file__).resolve().parents[1]

USER_PYX = textwrap.dedent(
    """
    # cython: language_level=3
    from libc.stdint cimport uint32_t, uint64_t
    from libc.string cimport memset
    from symphony._core.alloc cimport (
        Arena, SY_ARENA_OK, sy_arena_alloc, sy_arena_free, sy_arena_ptr,
    )

    def fill_many(Arena arena, Py_ssize_t count, Py_ssize_t nbytes, int byte):
        '''Allocate `count` blocks in C without the GIL, fill them; return the handles.'''
        cdef uint64_t h
        cdef uint32_t n
        cdef char *p
        cdef Py_ssize_t i
        cdef list out = []
        cdef uint64_t[64] hs
        assert count <= 64
        with nogil:
            for i in range(count):
                if sy_arena_alloc(&arena._a, <uint64_t>nbytes, &h) != SY_ARENA_OK:
                    break
                p = <char *>sy_arena_ptr(&arena._a, h, &n)
                memset(p, byte, n)
                hs[i] = h
        for j in range(i + 1 if count else 0):
            out.append(hs[j])
        return out

    def free_all(Arena arena, list handles):
        cdef uint64_t h
        cdef int bad = 0
        for x in handles:
            h = x
            with nogil:
                bad += sy_arena_free(&arena._a, h) != SY_ARENA_OK
        return bad
    """
)

SETUP = textwrap.dedent(
    f"""
    from setuptools import Extension, setup
    from Cython.Build import cythonize
    setup(
        ext_modules=cythonize(
            [Extension("arena_user", ["arena_user.pyx"],
                       include_dirs=[{str(ROOT / "symphony" / "include")!r}])],
            include_path=[{str(ROOT)!r}],
            quiet=True,
        ),
        script_args=["build_ext", "--inplace", "-q"],
    )
    """
)

USE = textwrap.dedent(
    """
    from symphony._core.alloc import Arena
    import arena_user
    arena = Arena.from_buffer(bytearray(1 << 16), create=True)
    hs = arena_user.fill_many(arena, 10, 100, 0x5A)
    assert len(hs) == 10, hs
    assert all(bytes(arena.view(h)) == b"\\x5a" * 100 for h in hs)
    assert arena.stats()["in_use"] == 10
    assert arena_user.free_all(arena, hs) == 0
    assert arena_user.free_all(arena, hs) == 10  # every one a double free now
    assert arena.stats()["in_use"] == 0
    print("ok")
    """
)


@pytest.mark.cython
def test_an_extension_cimports_the_allocator(tmp_path: Path) -> None:
    (tmp_path / "arena_user.pyx").write_text(USER_PYX)
    (tmp_path / "setup.py").write_text(SETUP)
    build = subprocess.run(
        [sys.executable, "setup.py"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert build.returncode == 0, build.stderr[-3000:]
    run = subprocess.run(
        [sys.executable, "-c", USE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == "ok"
