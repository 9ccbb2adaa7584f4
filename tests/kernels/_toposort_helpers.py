"""Graph generators shared by the toposort tests (seeded, deterministic)."""

from __future__ import annotations

import random


def dag_edges(rnd: random.Random, n: int, m: int) -> tuple[list[int], list[int]]:
    """``m`` random edges that respect a random hidden order of ``n`` nodes (duplicates
    allowed, no self-loops): always a DAG. ``n == 1`` gives no edges."""
    if n < 2:
        return [], []
    rank = list(range(n))
    rnd.shuffle(rank)
    src, dst = [], []
    for _ in range(m):
        a, b = rnd.sample(range(n), 2)
        if a > b:
            a, b = b, a
        src.append(rank[a])
        dst.append(rank[b])
    return src, dst


def random_dag(rnd: random.Random, n: int, m: int) -> tuple[list[int], list[int]]:
    """Like :func:`dag_edges`; the name says what the caller relies on."""
    return dag_edges(rnd, n, m)


def add_back_edges(
    rnd: random.Random, src: list[int], dst: list[int], k: int
) -> tuple[list[int], list[int]]:
    """Append ``k`` edges, each closing a random forward path (so a cycle appears when the
    path exists), and return new lists."""
    succ: dict[int, list[int]] = {}
    for a, b in zip(src, dst):
        succ.setdefault(a, []).append(b)
    s, d = list(src), list(dst)
    for _ in range(k):
        if not succ:
            break
        start = rnd.choice(sorted(succ))
        end = start
        for _ in range(rnd.randrange(1, 8)):
            if end not in succ:
                break
            end = rnd.choice(succ[end])
        if end != start:
            s.append(end)
            d.append(start)
    return s, d
