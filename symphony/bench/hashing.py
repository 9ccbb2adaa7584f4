"""``symphony bench hashing``: FastCDC 2020 chunking and SHA-256 throughput against peers.

One process run, medians of ``--rounds`` rounds, ratios to peers measured in the same run
(TARGETS.md "Content hashing"). Data: ``--mib`` MiB of seeded random bytes, and of text (the
standard library's ``.py`` sources, concatenated). Contenders:

- ``symphony``: :mod:`symphony._core.hashing` (``cut_points``; ``hash_chunks``);
- ``symphony-twin``: :mod:`symphony.reference.hashing`, on the first ``--twin-mib`` MiB only;
- ``plain C``: a textbook FastCDC 2020 loop in C (written for this benchmark, not Symphony's
  header), compiled with ``cc -O3`` at run time and called through ctypes: the floor;
- ``fastcdc (PyPI)``: the ``fastcdc`` package's Cython scanner -- a *different* FastCDC
  variant (ronomon), a speed peer only;
- ``hashlib.sha256`` (OpenSSL, SHA-NI), ``blake3`` and Symphony's own ``sha256``: hashing alone.

A missing peer is shown as "missing". ``--instructions`` additionally counts instructions per
byte of Symphony's scan and of the plain C loop under ``valgrind --tool=callgrind``.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import ModuleType

from symphony.bench._common import Table, median_time, optional

MIB = 1 << 20
Contender = tuple[str, "Callable[[], object] | None", str, int]
"""(who, call or None when missing, note, bytes per call)."""
AVERAGES = (4096, 16384, 65536)

# A textbook FastCDC 2020 scan (the paper's Algorithm 2 with two-bytes rolling), for the floor.
_PLAIN_C = r"""
#include <stddef.h>
#include <stdint.h>
static uint64_t G[256], GL[256];
void plain_init(const uint64_t *gear) {
    for (int i = 0; i < 256; i++) { G[i] = gear[i]; GL[i] = gear[i] << 1; }
}
static size_t plain_cut(const uint8_t *src, size_t n, size_t mn, size_t avg, size_t mx,
                        uint64_t ms, uint64_t ml) {
    if (n <= mn) return n;
    size_t center = avg;
    if (n > mx) n = mx; else if (n < center) center = n;
    size_t idx = mn / 2;
    uint64_t h = 0;
    for (; idx < center / 2; idx++) {
        size_t a = 2 * idx;
        h = (h << 2) + GL[src[a]];
        if (!(h & (ms << 1))) return a;
        h += G[src[a + 1]];
        if (!(h & ms)) return a + 1;
    }
    for (; idx < n / 2; idx++) {
        size_t a = 2 * idx;
        h = (h << 2) + GL[src[a]];
        if (!(h & (ml << 1))) return a;
        h += G[src[a + 1]];
        if (!(h & ml)) return a + 1;
    }
    return n;
}
size_t plain_count(const uint8_t *p, size_t n, size_t mn, size_t avg, size_t mx,
                   uint64_t ms, uint64_t ml) {
    size_t pos = 0, count = 0;
    while (pos < n) { pos += plain_cut(p + pos, n - pos, mn, avg, mx, ms, ml); count++; }
    return count;
}
#ifdef PLAIN_MAIN
#include <stdio.h>
#include <stdlib.h>
__attribute__((noinline)) size_t bench_scan(const uint8_t *p, size_t n, size_t avg,
                                           uint64_t ms, uint64_t ml) {
#ifdef USE_SYMPHONY
    static sy_cdc cdc;
    sy_cdc_init(&cdc, avg / 4, avg, avg * 4, 1, 0);
    return sy_cdc_cut_points(&cdc, p, n, 0, 0);
#else
    return plain_count(p, n, avg / 4, avg, avg * 4, ms, ml);
#endif
}
int main(int argc, char **argv) {   /* ipb NBYTES AVG MASK_S MASK_L (callgrind) */
    size_t n = strtoull(argv[1], 0, 10), avg = strtoull(argv[2], 0, 10);
    uint64_t ms = strtoull(argv[3], 0, 10), ml = strtoull(argv[4], 0, 10);
    uint8_t *p = malloc(n + 1);
    uint64_t x = 88172645463325252ULL, gear[256];
    for (size_t i = 0; i < n; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; p[i] = (uint8_t)x; }
    for (int i = 0; i < 256; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; gear[i] = x; }
    plain_init(gear);
    printf("%zu\n", bench_scan(p, n, avg, ms, ml));
    (void)argc;
    return 0;
}
#endif
"""


def _run_fastcdc(mod: ModuleType, data: bytes, mn: int, avg: int, mx: int, hf: object) -> int:
    """Chunk with the PyPI ``fastcdc`` package (its Cython scanner when built); chunk count."""
    return sum(1 for _ in mod.fastcdc(data, mn, avg, mx, hf=hf))


def _stream(mod: ModuleType, data: bytes, piece: int) -> int:
    """Feed ``data`` to a streaming Chunker in ``piece``-byte pieces; the chunk count."""
    view = memoryview(data)
    chunker = mod.Chunker()
    count = 0
    for pos in range(0, len(data), piece):
        count += len(chunker.update(view[pos : pos + piece]))
    return count + len(chunker.finish())


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _masks(avg: int, level: int = 1) -> tuple[int, int]:
    from symphony.reference.hashing import MASKS

    bits = round(__import__("math").log2(avg))
    return MASKS[bits + level], MASKS[bits - level]


def _compiler() -> str | None:
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc) or shutil.which("cc") or shutil.which("gcc")


def plain_c(tmp: Path) -> Callable[[bytes, int], int] | None:
    """Compile the plain C loop; a function (data, avg) -> chunk count, or None."""
    cc = _compiler()
    if cc is None:
        return None
    src, lib = tmp / "plain.c", tmp / "plain.so"
    src.write_text(_PLAIN_C)
    try:
        subprocess.run([cc, "-O3", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    so = ctypes.CDLL(str(lib))
    from symphony.reference.hashing import GEAR

    so.plain_init((ctypes.c_uint64 * 256)(*GEAR))
    so.plain_count.restype = ctypes.c_size_t
    so.plain_count.argtypes = [ctypes.c_char_p] + [ctypes.c_size_t] * 4 + [ctypes.c_uint64] * 2

    def count(data: bytes, avg: int) -> int:
        ms, ml = _masks(avg)
        return int(so.plain_count(data, len(data), avg // 4, avg, avg * 4, ms, ml))

    return count


def text_data(nbytes: int) -> bytes:
    """The standard library's ``.py`` sources, in a fixed order, repeated up to ``nbytes``."""
    root = Path(sysconfig.get_paths()["stdlib"])
    parts, total = [], 0
    for path in sorted(root.rglob("*.py")):
        try:
            blob = path.read_bytes()
        except OSError:
            continue
        parts.append(blob)
        total += len(blob)
        if total >= nbytes:
            break
    text = b"".join(parts)
    return (text * (nbytes // max(len(text), 1) + 1))[:nbytes]


def instructions_per_byte(tmp: Path, nbytes: int, avg: int) -> dict[str, float | None]:
    """Instructions per byte under callgrind: Symphony's header vs the plain C loop."""
    out: dict[str, float | None] = {"symphony": None, "plain C": None}
    cc, valgrind = _compiler(), shutil.which("valgrind")
    if cc is None or valgrind is None:
        return out
    include = Path(__file__).resolve().parents[1] / "include"
    masks = _masks(avg)
    for who, extra in (("symphony", ["-DUSE_SYMPHONY"]), ("plain C", [])):
        exe = tmp / f"ipb_{'sy' if extra else 'plain'}"
        src = tmp / f"{exe.name}.c"
        head = '#include "symphony/fastcdc.h"\n' if extra else ""
        src.write_text(head + _PLAIN_C)
        subprocess.run(
            [cc, "-O3", "-DPLAIN_MAIN", *extra, f"-I{include}", "-o", str(exe), str(src)],
            check=True,
        )
        log = tmp / f"cg.{exe.name}"
        subprocess.run(
            [valgrind, "--tool=callgrind", f"--callgrind-out-file={log}",
             "--toggle-collect=bench_scan", str(exe), str(nbytes), str(avg), *map(str, masks)],
            check=True, capture_output=True,
        )  # fmt: skip
        summary = [ln for ln in log.read_text().splitlines() if ln.startswith("summary:")]
        out[who] = int(summary[0].split()[1]) / nbytes
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="symphony bench hashing")
    parser.add_argument("--mib", type=int, default=64, help="MiB of data per kind (64)")
    parser.add_argument("--twin-mib", type=float, default=2, help="MiB for the Python twin")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--instructions", action="store_true", help="callgrind counts too")
    args = parser.parse_args(argv)

    from symphony._core import hashing as cy
    from symphony.reference import hashing as py

    fastcdc = optional("fastcdc")
    blake3 = optional("blake3")
    nbytes = args.mib * MIB
    datasets = {"random": random.Random(1).randbytes(nbytes), "text": text_data(nbytes)}
    twin_bytes = int(args.twin_mib * MIB)
    rounds = args.rounds

    chunking = Table(f"FastCDC 2020 chunking, {args.mib} MiB, min=avg/4 max=4*avg", "MB/s", True)
    hashing = Table(f"chunk + SHA-256 of every chunk, {args.mib} MiB, avg 16 KiB", "MB/s", True)
    results: dict[tuple[str, str], float | None] = {}
    twin_rounds = max(1, min(rounds, 3))

    def measure(table: Table, case: str, contenders: list[Contender]) -> None:
        """Time the contenders interleaved (one call each per round), so that drift from the
        other engineers' load on these 2-core machines hits all of them alike."""
        times: dict[str, list[float]] = {who: [] for who, fn, _, _ in contenders if fn}
        for r in range(rounds):
            for who, fn, _, size in contenders:
                if fn is not None and (size == nbytes or r < twin_rounds):
                    times[who].append(median_time(fn, rounds=1))
        for who, fn, note, size in contenders:
            value = size / statistics.median(times[who]) / 1e6 if fn is not None else None
            results[(case, who)] = value
            table.add(case, who, value, note)

    with tempfile.TemporaryDirectory(prefix="symphony-bench-hashing-") as tmpdir:
        tmp = Path(tmpdir)
        plain = plain_c(tmp)
        for kind, data in datasets.items():
            twin_slice = data[:twin_bytes]
            twin_note = f"on the first {args.twin_mib:g} MiB"
            for avg in AVERAGES:
                mn, mx = avg // 4, avg * 4
                if plain is not None:  # the floor must chunk exactly as we do
                    assert plain(data, avg) == len(cy.cut_points(data, mn, avg, mx))
                measure(chunking, f"{kind} avg {avg // 1024} KiB", [
                    ("symphony", partial(cy.cut_points, data, mn, avg, mx), "", nbytes),
                    ("plain C", partial(plain, data, avg) if plain else None,
                     "textbook loop, cc -O3, ctypes" if plain else "no C compiler", nbytes),
                    ("fastcdc (PyPI)",
                     partial(_run_fastcdc, fastcdc, data, mn, avg, mx, None) if fastcdc else None,
                     "ronomon variant: speed peer only" if fastcdc else "pip install fastcdc",
                     nbytes),
                    ("symphony-twin", partial(py.cut_points, twin_slice, mn, avg, mx), twin_note,
                     twin_bytes),
                ])  # fmt: skip
            measure(hashing, kind, [
                ("symphony", partial(cy.hash_chunks, data), "hash_chunks, threads=1", nbytes),
                ("symphony 2 threads", partial(cy.hash_chunks, data, threads=2),
                 "threads=2: scan || hash", nbytes),
                ("symphony Chunker", partial(_stream, cy, data, MIB),
                 "streaming, 1 MiB pieces", nbytes),
                ("symphony +content", partial(cy.hash_chunks, data, content_digest=True),
                 "threads=1, + whole-content SHA-256", nbytes),
                ("symphony +content 2 thr",
                 partial(cy.hash_chunks, data, content_digest=True, threads=2),
                 "threads=2, + whole-content SHA-256", nbytes),
                ("hashlib", partial(_sha256, data), "hashlib.sha256 alone, no chunking", nbytes),
                ("symphony sha256", partial(cy.sha256, data), "alone", nbytes),
                ("blake3", partial(blake3.blake3, data) if blake3 else None,
                 "alone, one thread" if blake3 else "pip install blake3", nbytes),
                ("fastcdc (PyPI) +sha256",
                 partial(_run_fastcdc, fastcdc, data, 4096, 16384, 65536, hashlib.sha256)
                 if fastcdc else None,
                 "hf=hashlib.sha256" if fastcdc else "pip install fastcdc", nbytes),
                ("symphony-twin", partial(py.hash_chunks, twin_slice), twin_note, twin_bytes),
            ])  # fmt: skip
        ipb = instructions_per_byte(tmp, 4 * MIB, 16384) if args.instructions else None

    chunking.print()
    hashing.print()
    print(f"SHA-256 in symphony: {'SHA-NI' if cy.uses_sha_extensions() else 'portable C'}")
    print("== goals (TARGETS.md / issue 4), this run")
    _goals(results, ipb)
    return 0


def _goals(
    results: dict[tuple[str, str], float | None], ipb: dict[str, float | None] | None
) -> None:
    def get(case: str, who: str) -> float:
        return results.get((case, who)) or float("nan")

    cases = [c for c, w in results if w == "symphony" and "avg" in c]
    sy = [get(c, "symphony") for c in cases]
    floor = [get(c, "symphony") / get(c, "plain C") for c in cases]
    twin = [get(c, "symphony") / get(c, "symphony-twin") for c in cases]

    def line(goal: str, value: str, ok: bool) -> None:
        print(f"  {goal:<52} {value:<28} {'met' if ok else 'NOT met'}")

    line("chunking >= 1 GB/s (issue), every case", f"min {min(sy):.0f} MB/s", min(sy) >= 1000)
    line("chunking >= 2.5 GB/s (TARGETS orientation)", f"min {min(sy):.0f} MB/s", min(sy) >= 2500)
    line("chunking >= 0.8x plain C loop", f"min {min(floor):.3f}x", min(floor) >= 0.8)
    line("Cython >= 100x the Python twin (chunking)", f"min {min(twin):.0f}x", min(twin) >= 100)
    for kind in ("random", "text"):
        r = get(kind, "symphony 2 threads") / get(kind, "hashlib")
        r1 = get(kind, "symphony") / get(kind, "hashlib")
        line(f"chunk+SHA >= 0.8x hashlib alone, 2 threads ({kind})", f"{r:.3f}x", r >= 0.8)
        line(f"chunk+SHA >= 0.55x hashlib alone, 1 thread ({kind})", f"{r1:.3f}x", r1 >= 0.55)
        line(f"chunk+SHA >= 0.8x hashlib alone, 1 thread ({kind})", f"{r1:.3f}x", r1 >= 0.8)
    if ipb is not None:
        s, p = ipb["symphony"], ipb["plain C"]
        if s is None:
            print("  instructions/byte: valgrind or a C compiler is missing")
        else:
            line(
                "scan <= 6 instructions/byte (callgrind, random)",
                f"{s:.2f} (plain C {p:.2f})",
                s <= 6,
            )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
