"""Build the demo extension against the installed Symphony.

Two things come from Symphony:
- ``symphony.get_include()``: the C headers (``symphony/ring.h``, ``symphony/fastcdc.h``, ...)
  that the ``.pxd`` files ``cdef extern`` from, for the C compiler;
- the directory that holds the installed ``symphony`` package: Cython's include path, so that
  ``cimport symphony._core.ring`` finds ``symphony/_core/ring.pxd`` there.
"""

from __future__ import annotations

import os

from Cython.Build import cythonize
from setuptools import Extension, setup

import symphony

SITE = os.path.dirname(os.path.dirname(os.path.abspath(symphony.__file__)))

setup(
    ext_modules=cythonize(
        [
            Extension(
                "symphony_embed_demo._loops",
                ["symphony_embed_demo/_loops.pyx"],
                include_dirs=[symphony.get_include()],
                extra_compile_args=["-O2"],
            )
        ],
        include_path=[SITE],
        compiler_directives={"language_level": "3", "embedsignature": True},
        quiet=True,
    )
)
