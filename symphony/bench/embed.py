"""``symphony bench embed``: a 64-byte push/pop loop written in Cython against the shipped
``.pxd`` files, next to the same loop in plain C over ``symphony/ring.h``, in one run.

The Cython side is ``examples/embed_cython`` (an out-of-tree extension that ``cimport``s
``symphony._core.ring``), compiled here at bench time into a temporary directory against this
installation; the C side is a small program compiled with the system ``cc -O2``. Both loop
over a ring created by Symphony under the same name (same shared memory), push one message
and pop it back, and time themselves (median of rounds, ns per push+pop). Contenders:

- ``plain C (ring.h)`` — the floor, and the baseline of the ratios;
- ``cython .pxd cdef API`` — ``ring_push_raw``/``ring_pop_raw`` (a call through the module's
  exported C API, i.e. a function pointer, per operation); this is the issue's goal line;
- ``cython .pxd inline ring.h`` — ``sy_ring_push``/``sy_ring_pop_copy`` compiled inline;
- ``cython .pxd + fill/check`` — the demo's checked loop (writes and verifies every byte);
- ``python Ring.push/pop`` — the compiled ring through its Python API, for scale.

Goal (TARGETS/issue 11): the Cython ``.pxd`` loop reaches at least 1/3 of plain C speed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from symphony.bench._common import Table, median_time

if TYPE_CHECKING:
    from symphony._core.ring import Ring

GOAL = 1 / 3
SIZE = 64

_C_LOOP = r"""
#include <stdio.h>
#include <stdlib.h>
#include "symphony/ring.h"
static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y);
}
int main(int argc, char **argv) {
    sy_ring r;
    int rc = sy_ring_attach_shm(&r, argv[1]);
    if (rc) { fprintf(stderr, "attach %s: %d\n", argv[1], rc); return 2; }
    long n = atol(argv[2]), rounds = atol(argv[3]), size = atol(argv[4]);
    static unsigned char msg[4096], out[4096];
    double *t = malloc(sizeof(double) * (size_t)rounds);
    for (long k = 0; k < rounds; k++) {
        int64_t t0 = sy_now_ns();
        for (long i = 0; i < n; i++) {
            msg[0] = (unsigned char)i;
            if (sy_ring_push(&r, msg, (uint32_t)size, 0) != SY_RING_PUSHED) return 3;
            if (sy_ring_pop_copy(&r, out, sizeof out) != size) return 4;
        }
        t[k] = (double)(sy_now_ns() - t0) / (double)n;
    }
    qsort(t, (size_t)rounds, sizeof(double), cmp);
    printf("%.3f\n", t[rounds / 2]);
    sy_ring_detach_shm(&r);
    return 0;
}
"""


def _root() -> Path:
    import symphony

    return Path(symphony.__file__).resolve().parents[1]


def build_demo(workdir: Path) -> Any:
    """Copy ``examples/embed_cython`` into ``workdir``, build it in place with this
    interpreter (no build isolation: against the installed Symphony) and import it."""
    src = _root() / "examples" / "embed_cython"
    if not src.is_dir():
        raise FileNotFoundError(f"{src} is missing (run from a Symphony checkout)")
    dest = workdir / "embed_cython"
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("build", "*.so", "*.c"))
    run = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--inplace"],
        cwd=dest,
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        raise RuntimeError(f"building examples/embed_cython failed:\n{run.stderr[-3000:]}")
    sys.path.insert(0, str(dest))
    import importlib

    return importlib.import_module("symphony_embed_demo._loops")


def build_c(workdir: Path) -> Path | None:
    """The plain C loop, compiled with ``cc -O2``; None without a C compiler."""
    import symphony

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    (workdir / "loop.c").write_text(_C_LOOP)
    exe = workdir / "c_loop"
    subprocess.run(
        [cc, "-O2", f"-I{symphony.get_include()}", str(workdir / "loop.c"), "-o", str(exe)],
        check=True,
        capture_output=True,
    )
    return exe


def _checked(fn: Callable[[Ring, int, int], int], ring: Ring, n: int) -> None:
    done = fn(ring, n, SIZE)
    if done != n:
        raise RuntimeError(f"{fn.__name__}: {done} of {n} messages round-tripped")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="symphony bench embed", description=__doc__)
    parser.add_argument("--messages", type=int, default=500_000, help="push+pop per round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    n, rounds = args.messages, args.rounds

    from symphony._core.ring import Ring

    # Each side owns its ring (a producer caches its cursors in its own handle: two handles
    # must not both push to one single-producer ring), created alike by Symphony.
    name = f"sybench-embed-{os.getpid()}"
    ring = Ring.create(name, 1 << 16)
    c_ring = Ring.create(name + "-c", 1 << 16)
    table = Table(
        f"{SIZE}-byte push+pop loop, one process (each side its own ring)",
        "ns per push+pop",
        higher_is_better=False,
        baseline="plain C (ring.h)",
    )
    try:
        with tempfile.TemporaryDirectory(prefix="sybench-embed-") as tmp:
            t0 = time.perf_counter()
            loops = build_demo(Path(tmp))
            exe = build_c(Path(tmp))
            print(f"(built the Cython example and the C loop in {time.perf_counter() - t0:.1f} s)")
            results: dict[str, float | None] = {}
            # interleave the contenders round by round: same-run ratios under load drift
            samples: dict[str, list[float]] = {k: [] for k in ("c", "raw", "inline", "check", "py")}
            for _ in range(rounds):
                if exe is not None:
                    out = subprocess.run(
                        [str(exe), name, str(n), "3", str(SIZE)],
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    samples["c"].append(float(out.stdout))
                for key, fn in (
                    ("raw", loops.push_pop_raw),
                    ("inline", loops.push_pop_inline),
                    ("check", loops.push_pop),
                ):
                    t = median_time(partial(_checked, fn, ring, n), rounds=3)
                    samples[key].append(t / n * 1e9)
                msg = bytes(SIZE)
                m = max(n // 20, 1)

                def py_loop(m: int = m, msg: bytes = msg) -> None:
                    push, pop = ring.push, ring.pop
                    for _ in range(m):
                        push(msg)
                        if pop() is None:
                            raise RuntimeError("python loop: the ring lost a message")

                samples["py"].append(median_time(py_loop, rounds=3) / m * 1e9)
            for key, vals in samples.items():
                results[key] = statistics.median(vals) if vals else None
    finally:
        for r in (ring, c_ring):
            r.close()
            r.unlink()

    table.add("64 B push+pop", "plain C (ring.h)", results["c"], "cc -O2, floor")
    table.add("64 B push+pop", "cython .pxd cdef API", results["raw"], "ring_push_raw/_pop_raw")
    table.add("64 B push+pop", "cython .pxd inline ring.h", results["inline"], "sy_ring_push")
    table.add("64 B push+pop", "cython .pxd + fill/check", results["check"], "every byte")
    table.add("64 B push+pop", "python Ring.push/pop", results["py"], "compiled kernel")
    table.print()
    c, raw = results["c"], results["raw"]
    if c and raw:
        share = c / raw
        verdict = "met" if share >= GOAL else "NOT met"
        print(
            f"goal: Cython through the .pxd reaches >= 1/3 of plain C speed: "
            f"{share:.2f} of plain C ({raw:.1f} vs {c:.1f} ns per push+pop) -> {verdict}"
        )
    else:
        print("goal: not measured (no C compiler)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
