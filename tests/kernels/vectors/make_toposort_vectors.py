"""Write (or --check) toposort.json: golden vectors computed WITHOUT Symphony's code.

Every expected result comes from networkx primitives, following the rules written in
symphony/reference/toposort.py, so the two twins cannot drift together:

- order: ``nx.topological_generations``, each generation sorted, concatenated;
- lexicographic: ``nx.lexicographical_topological_sort`` (smallest ready node first);
- levels: the sorted generations;
- cycle: R = nodes on a cycle or downstream of one (non-trivial strongly connected
  components and their descendants); walk from min(R) to the smallest predecessor in R
  until a node repeats; the closed loop, in edge direction, rotated to its smallest node.

Graphs are fixed seeded random graphs; the file stores their edges explicitly, so the
generator may change without changing the vectors.

    .venv/bin/python tests/kernels/vectors/make_toposort_vectors.py          # rewrite
    .venv/bin/python tests/kernels/vectors/make_toposort_vectors.py --check  # compare
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

import networkx as nx

HERE = Path(__file__).parent
OUT = HERE / "toposort.json"


def random_graph(seed: int, n: int, m: int, cycles: int) -> tuple[list[int], list[int]]:
    """m random forward edges over a random relabelling (duplicates allowed), then
    ``cycles`` back edges, each closing a random forward path; edges shuffled."""
    rng = random.Random(seed)
    label = list(range(n))
    rng.shuffle(label)
    edges = []
    for _ in range(m):
        a, b = rng.sample(range(n), 2)
        lo, hi = min(a, b), max(a, b)
        edges.append((label[lo], label[hi]))
    succ: dict[int, list[int]] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    for _ in range(cycles):
        start = rng.choice(sorted(succ))
        end = start
        for _ in range(rng.randrange(1, 6)):
            if end not in succ:
                break
            end = rng.choice(succ[end])
        edges.append((end, start))
    rng.shuffle(edges)
    return [e[0] for e in edges], [e[1] for e in edges]


def expected(n: int, src: list[int], dst: list[int]) -> dict[str, Any]:
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(src, dst))
    if nx.is_directed_acyclic_graph(g):
        gens = [sorted(x) for x in nx.topological_generations(g)]
        return {
            "order": [v for gen in gens for v in gen],
            "lexicographic": list(nx.lexicographical_topological_sort(g)),
            "levels": gens,
            "cycle": None,
        }
    cyclic: set[int] = set()
    for comp in nx.strongly_connected_components(g):
        if len(comp) > 1:
            cyclic |= comp
    rest = set(cyclic)
    for v in cyclic:
        rest |= nx.descendants(g, v)
    seen: dict[int, int] = {}
    walk: list[int] = []
    x = min(rest)
    while x not in seen:
        seen[x] = len(walk)
        walk.append(x)
        x = min(p for p in g.predecessors(x) if p in rest)
    loop = walk[seen[x] :][::-1]
    i = loop.index(min(loop))
    loop = loop[i:] + loop[:i]
    return {"order": None, "lexicographic": None, "levels": None, "cycle": [*loop, loop[0]]}


CASES = [
    # name, seed, n, m, back edges
    ("dag-20", 1, 20, 40, 0),
    ("dag-60-dense", 2, 60, 400, 0),
    ("dag-300", 3, 300, 1500, 0),
    ("dag-1000-sparse", 4, 1000, 1200, 0),
    ("cyclic-20", 5, 20, 40, 1),
    ("cyclic-100", 6, 100, 300, 2),
    ("cyclic-500", 7, 500, 2000, 3),
]


def build() -> dict[str, Any]:
    cases = []
    for name, seed, n, m, back in CASES:
        src, dst = random_graph(seed, n, m, back)
        cases.append({"name": name, "n": n, "src": src, "dst": dst, **expected(n, src, dst)})
    return {"what": __doc__.splitlines()[0] if __doc__ else "", "cases": cases}


def main(argv: list[str]) -> int:
    data = build()
    if "--check" in argv:
        same = json.loads(OUT.read_text()) == data
        print("toposort vectors", "match" if same else "DIFFER")
        return 0 if same else 1
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
