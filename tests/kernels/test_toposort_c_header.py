"""symphony/toposort.h is usable from plain C: compile a small program against it (strict C99,
warnings as errors) and check its results against the golden vectors and the twin."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

from symphony.commons.errors import InvalidGraph
from symphony.reference import toposort as ref

ROOT = Path(__file__).resolve().parents[2]
INCLUDE = ROOT / "symphony" / "include"
VECTORS = json.loads((Path(__file__).parent / "vectors" / "toposort.json").read_text())

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include "symphony/toposort.h"

#define NEW(p, k) ((p) = malloc((size_t)(k) * sizeof *(p)))

/* stdin: n m, then m lines "src dst". stdout: one line per result. */
int main(void)
{
    long long n, m, e;
    if (scanf("%lld %lld", &n, &m) != 2) return 2;
    int64_t *src, *dst;
    sy_edge *off, *pos;
    sy_node *tgt, *indeg, *rem, *queue, *gen, *out;
    NEW(src, m + 1);
    NEW(dst, m + 1);
    for (e = 0; e < m; e++)
        if (scanf("%lld %lld", (long long *)&src[e], (long long *)&dst[e]) != 2) return 2;
    NEW(off, n + 2);
    NEW(pos, n + 1);
    NEW(tgt, m + 1);
    NEW(indeg, n + 1);
    NEW(rem, n + 1);
    NEW(queue, 2 * n + 32);
    NEW(gen, n + 1);
    NEW(out, n + 1);
    sy_node ngen = 0, emitted, k, i;
    sy_edge bad = sy_topo_csr_build_i64((sy_node)n, m, src, dst, off, pos, tgt, indeg);
    if (bad != -1) {
        printf("bad %lld %d\n", (long long)bad, sy_topo_edge_problem(n, src[bad], dst[bad]));
        return 0;
    }
    memcpy(rem, indeg, (size_t)n * sizeof *rem);
    emitted = sy_topo_kahn((sy_node)n, off, tgt, rem, queue, gen, &ngen);
    if (emitted == n) {
        sy_topo_order_by_level((sy_node)n, queue, gen, ngen, rem, queue);
        printf("order");
        for (i = 0; i < n; i++) printf(" %d", queue[i]);
        printf("\nlevels");
        for (i = 0; i < ngen; i++) printf(" %d", gen[i]);
        memcpy(rem, indeg, (size_t)n * sizeof *rem);
        emitted = sy_topo_kahn_lex((sy_node)n, off, tgt, rem, queue, out);
        printf("\nlex");
        for (i = 0; i < emitted; i++) printf(" %d", out[i]);
        printf("\n");
    } else {
        k = sy_topo_find_cycle((sy_node)n, off, tgt, rem, gen, out);
        printf("cycle");
        for (i = 0; i < k; i++) printf(" %d", out[i]);
        printf(" %d\n", out[0]);
    }
    return 0;
}
"""


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    cc = cc.split()[0]
    assert shutil.which(cc), f"no C compiler ({cc}); the kernels cannot be built without one"
    work = tmp_path_factory.mktemp("toposort_c")
    (work / "prog.c").write_text(PROGRAM)
    exe = work / "prog"
    proc = subprocess.run(
        [
            cc,
            "-std=c99",
            "-O2",
            "-Wall",
            "-Wextra",
            "-Werror",
            f"-I{INCLUDE}",
            "prog.c",
            "-o",
            str(exe),
        ],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return exe


def run(program: Path, n: int, src: list[int], dst: list[int]) -> dict[str, list[int]]:
    lines = [f"{n} {len(src)}"] + [f"{s} {d}" for s, d in zip(src, dst)]
    proc = subprocess.run(
        [str(program)], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True
    )
    out = {}
    for line in proc.stdout.splitlines():
        key, *values = line.split()
        out[key] = [int(v) for v in values]
    return out


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"])
def test_c_program_matches_golden_vectors(program: Path, case: dict[str, object]) -> None:
    got = run(program, case["n"], case["src"], case["dst"])  # type: ignore[arg-type]
    if case["cycle"] is None:
        assert got["order"] == case["order"]
        assert got["lex"] == case["lexicographic"]
        ends = list(itertools.accumulate(len(x) for x in case["levels"]))  # type: ignore[attr-defined]
        assert got["levels"] == ends
    else:
        assert got["cycle"] == case["cycle"]


def test_c_program_refuses_bad_edges(program: Path) -> None:
    # (index, problem code) agree with the twin's first bad edge; codes from the header enum
    codes = {
        "negative source": 1,
        "source node": 2,
        "negative target": 3,
        "target node": 4,
        "self-loop": 5,
    }
    for src, dst in (([0, 1, -1], [1, 2, 0]), ([0, 1], [1, 7]), ([0, 2, 2], [1, 2, 0])):
        got = run(program, 3, src, dst)
        with pytest.raises(InvalidGraph) as info:
            ref.Graph(3, src, dst)
        err = info.value
        assert got["bad"][0] == err.details["edge"]
        assert got["bad"][1] == next(c for words, c in codes.items() if words in str(err))
