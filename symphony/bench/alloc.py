"""``symphony bench alloc`` (also a section of ``symphony bench ring``): the arena allocator.

TARGETS.md: an alloc+free pair called from Python costs ≤ 200 ns, and the Cython twin is at
least 20x faster than the pure-Python one. Measured in the same run: both twins, the same
pair in C with no Python in between (``arena.h``, the floor), a no-op kernel call (what any
call from Python costs) and ``bytearray(n)`` (a private-heap allocation from Python). All on
a process-private arena: the uncontended cost.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from symphony.bench._common import Table, median_time

SIZES = (64, 4096)


def _pair_loop(arena: object, nbytes: int, reps: int) -> Callable[[], None]:
    alloc = arena.alloc  # type: ignore[attr-defined]
    free = arena.free  # type: ignore[attr-defined]

    def loop() -> None:
        for _ in range(reps):
            free(alloc(nbytes))

    return loop


def _view_loop(arena: object, nbytes: int, reps: int) -> Callable[[], None]:
    alloc = arena.alloc  # type: ignore[attr-defined]
    free = arena.free  # type: ignore[attr-defined]
    view = arena.view  # type: ignore[attr-defined]

    def loop() -> None:
        for _ in range(reps):
            h = alloc(nbytes)
            view(h).release()
            free(h)

    return loop


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="symphony bench alloc")
    parser.add_argument("--pairs", type=int, default=200_000, help="pairs per round (Cython)")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)

    from symphony._core import alloc as cy
    from symphony._core import checksum as cy_checksum
    from symphony.reference import alloc as py

    n = args.pairs
    n_twin = max(n // 50, 1)
    arenas = {
        "symphony": cy.Arena.from_buffer(bytearray(1 << 22), create=True),
        "symphony-twin": py.Arena.from_buffer(bytearray(1 << 22), create=True),
    }
    table = Table("arena allocator, one process", "ns per pair", higher_is_better=False)
    results: dict[tuple[str, str], float] = {}
    for nbytes in SIZES:
        case = f"alloc+free {nbytes} B"
        for who, arena in arenas.items():
            reps = n if who == "symphony" else n_twin
            t = median_time(_pair_loop(arena, nbytes, reps), rounds=args.rounds) / reps * 1e9
            results[(case, who)] = t
            table.add(case, who, t)
        floor = arenas["symphony"]
        assert isinstance(floor, cy.Arena)

        def c_loop(floor: cy.Arena = floor, nbytes: int = nbytes) -> None:
            cy._c_pairs(floor, n, nbytes)

        table.add(case, "C loop (arena.h)", median_time(c_loop, rounds=args.rounds) / n * 1e9)

        def heap(nbytes: int = nbytes) -> None:
            for _ in range(n):
                bytearray(nbytes)

        table.add(case, "bytearray(n)", median_time(heap, rounds=args.rounds) / n * 1e9)
    case = "alloc+view+free 64 B"
    for who, arena in arenas.items():
        reps = n if who == "symphony" else n_twin
        t = median_time(_view_loop(arena, 64, reps), rounds=args.rounds) / reps * 1e9
        table.add(case, who, t)
    noop = cy_checksum.noop

    def calls() -> None:
        for _ in range(2 * n):
            noop()

    table.add(
        "alloc+free 64 B", "2 no-op kernel calls", median_time(calls, rounds=args.rounds) / n * 1e9
    )
    table.print()
    for arena in arenas.values():
        arena.close()  # type: ignore[attr-defined]

    pair = results[("alloc+free 64 B", "symphony")]
    ratio = results[("alloc+free 64 B", "symphony-twin")] / pair
    print(
        f"goal (TARGETS.md): alloc+free from Python <= 200 ns: {pair:.0f} ns "
        f"({'met' if pair <= 200 else 'NOT met'}); Cython >= 20x the twin: {ratio:.1f}x "
        f"({'met' if ratio >= 20 else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    import sys

    raise SystemExit(main(sys.argv[1:]))
