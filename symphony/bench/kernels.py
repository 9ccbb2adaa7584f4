"""``symphony bench kernels``: the cost of calling into a kernel at all.

TARGETS.md: a no-op call into a ``_core`` kernel from Python costs ≤ 0.1 µs (seed: < 10 µs).
Compared in the same run with a plain Python function call and a C builtin call, which
bound what any extension call can cost.
"""

from __future__ import annotations

import argparse

from symphony.bench._common import Table, median_time


def _py_noop() -> None:
    return None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="symphony bench kernels")
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)

    from symphony._core import checksum as cy
    from symphony.reference import checksum as py

    n = args.calls
    table = Table("call overhead: one no-op call from Python", "ns/call", higher_is_better=False)
    contenders = {
        "symphony": cy.noop,
        "symphony-twin": py.noop,
        "python def": _py_noop,
        "builtin id()": lambda: id,  # a lambda call + a global load: the Python floor
    }
    for who, fn in contenders.items():
        def loop(fn=fn) -> None:  # type: ignore[no-untyped-def]
            for _ in range(n):
                fn()

        table.add("noop", who, median_time(loop, rounds=args.rounds) / n * 1e9)
    data = bytes(64)
    for who, mod in (("symphony", cy), ("symphony-twin", py)):
        reps = n if who == "symphony" else n // 100
        def crc_loop(mod=mod, reps=reps) -> None:  # type: ignore[no-untyped-def]
            f = mod.crc32c
            for _ in range(reps):
                f(data)

        table.add("crc32c 64 B", who, median_time(crc_loop, rounds=args.rounds) / reps * 1e9)
    table.print()
    print("goal (TARGETS.md): symphony noop <= 100 ns/call")
    return 0
