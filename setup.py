"""Build Symphony's Cython kernels.

Every ``symphony/_core/*.pyx`` becomes an extension module. Cython and a C compiler are
required: a missing one is a build error, never a quiet pure-Python install (the kernels are
a demand, not a preference). ``SYMPHONY_PURE_PYTHON=1`` at build time skips the extensions on
purpose and says so.

Developer knobs (environment):
  SYMPHONY_PURE_PYTHON=1     build no extensions (the pure-Python twins will be used)
  SYMPHONY_KERNELS=a,b       build only these kernels (a fast inner loop while editing one)
  SYMPHONY_CYTHON_DEBUG=1    line tracing, -O0 -g
  SYMPHONY_CYTHON_ANNOTATE=1 write the Cython HTML annotation next to each .pyx
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).parent
CORE = Path("symphony") / "_core"


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


def _extensions() -> list[Extension]:
    if _flag("SYMPHONY_PURE_PYTHON"):
        print("*" * 72, "\n* SYMPHONY_PURE_PYTHON is set: building NO Cython kernels.\n"
              "* The pure-Python twins in symphony/reference/ will be used.\n" + "*" * 72,
              file=sys.stderr)
        return []
    try:
        from Cython.Build import cythonize
    except ImportError as exc:  # pragma: no cover - exercised only on broken machines
        raise SystemExit(
            "Symphony's kernels need Cython >= 3.1 to build. `pip install .` installs it "
            "automatically (see [build-system] in pyproject.toml); for a build without "
            "isolation run `pip install 'Cython>=3.1,<4'` first, or set "
            "SYMPHONY_PURE_PYTHON=1 to build without the kernels on purpose."
        ) from exc

    debug = _flag("SYMPHONY_CYTHON_DEBUG")
    only = {k for k in os.environ.get("SYMPHONY_KERNELS", "").split(",") if k}
    cflags = ["-O0", "-g"] if debug else ["-O3"]
    cflags += ["-Wno-unused-function", "-Wno-unreachable-code"]
    macros = [("CYTHON_TRACE", "1"), ("CYTHON_TRACE_NOGIL", "1")] if debug else []
    macros.append(("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"))

    exts = []
    for pyx in sorted((HERE / CORE).glob("*.pyx")):
        name = pyx.stem
        if only and name not in only:
            continue
        exts.append(
            Extension(
                f"symphony._core.{name}",
                [str(CORE / pyx.name)],
                include_dirs=[str(CORE), str(Path("symphony") / "include")],
                extra_compile_args=cflags,
                define_macros=macros,
            )
        )
    if not exts:
        raise SystemExit(f"no kernels selected to build (SYMPHONY_KERNELS={sorted(only)})")
    directives = {
        "language_level": "3",
        "embedsignature": True,
        "binding": True,
        "warn.unreachable": True,
    }
    if debug:
        directives["linetrace"] = True
    return cythonize(
        exts,
        compiler_directives=directives,
        annotate=_flag("SYMPHONY_CYTHON_ANNOTATE"),
        nthreads=int(os.environ.get("SYMPHONY_CYTHON_JOBS", "2")),
    )


setup(ext_modules=_extensions())
