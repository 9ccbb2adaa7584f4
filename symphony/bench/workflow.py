"""``symphony bench workflow``: validation, ordering, documents and templates, side by side.

Rows (medians of several rounds, one process run; ratios are to Symphony in the same run):

* **validate 10k/50k** — the whole pipeline (ids, dangling edges, ports, types, producers,
  required inputs, orphans, cycles, order and levels) from a ``Workflow`` object:
  *cold* = a model freshly built (nothing cached, the dense index built inside the timing);
  *after an edit* = a new ``Workflow`` sharing unchanged node objects (as an editor produces);
  *re-validate* = the same ``Workflow`` again (its dense id->int index and the kernel's order
  are kept on the model; every other check runs again).
  The peers only build a graph and sort it (no port or type checks): networkx
  ``DiGraph`` + ``is_directed_acyclic_graph`` + ``topological_sort``, ``graphlib``
  ``TopologicalSorter.static_order``, rustworkx ``PyDiGraph`` + ``topological_sort``.
* **order only** — the dense index + the toposort kernel vs the same peers.
* **document size** — compact JSON, indented JSON, MessagePack of the same dict, and
  Symphony's positional MessagePack (the target: <= 0.5 x compact JSON).
* **templates** — loading 1,000 template files (2,000 versions), ``get``, ``search``.

Usage: ``symphony bench workflow [--nodes N] [--edges M] [--rounds R] [--quick]
[--kernel auto|cython|python]``.
"""

from __future__ import annotations

import argparse
import graphlib
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

import msgpack

from symphony.bench._common import Table, median_time, optional
from symphony.workflow import _kernel
from symphony.workflow.model import Workflow
from symphony.workflow.serialize import (
    dumps_json,
    dumps_msgpack,
    loads_json,
    loads_msgpack,
    to_dict,
)
from symphony.workflow.synthetic import random_workflow
from symphony.workflow.templates import TemplateLibrary
from symphony.workflow.validation import validate

__all__ = ["main", "write_template_library"]


def _fresh(n: int, m: int) -> Workflow:
    return random_workflow(n, m, seed=1)


def _time_fresh(n: int, m: int, rounds: int, fn: object) -> float:
    """Median of ``fn(fresh_workflow)`` where each round gets a newly generated model."""
    import gc
    import statistics
    import time

    samples = []
    for _ in range(rounds):
        wf = _fresh(n, m)
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            fn(wf)  # type: ignore[operator]
            samples.append(time.perf_counter() - t0)
        finally:
            gc.enable()
    return statistics.median(samples)


def _peer_rows(table: Table, case: str, wf: Workflow, rounds: int) -> None:
    ids = [x.id for x in wf.nodes]
    pairs = [(e.source, e.target) for e in wf.edges]
    nx = optional("networkx")
    if nx is None:
        table.add(case, "networkx", None)
    else:
        def run_nx() -> None:
            g = nx.DiGraph()
            g.add_nodes_from(ids)
            g.add_edges_from(pairs)
            assert nx.is_directed_acyclic_graph(g)
            list(nx.topological_sort(g))

        table.add(case, "networkx", median_time(run_nx, rounds=rounds) * 1e3, "graph only")

    def run_graphlib() -> None:
        preds: dict[str, set[str]] = {x: set() for x in ids}
        for s, t in pairs:
            preds[t].add(s)
        list(graphlib.TopologicalSorter(preds).static_order())

    table.add(case, "graphlib", median_time(run_graphlib, rounds=rounds) * 1e3, "graph only")
    rx = optional("rustworkx")
    if rx is None:
        table.add(case, "rustworkx", None)
    else:
        def run_rx() -> None:
            g = rx.PyDiGraph(multigraph=True)
            idx = dict(zip(ids, g.add_nodes_from(ids)))
            g.add_edges_from_no_data([(idx[s], idx[t]) for s, t in pairs])
            rx.topological_sort(g)

        table.add(case, "rustworkx", median_time(run_rx, rounds=rounds) * 1e3, "graph only")


def write_template_library(root: Path, count: int) -> None:
    """``count`` template names x 2 versions as JSON files under ``root`` (for benchmarks)."""
    for i in range(count):
        for minor in range(2):
            data = {
                "template": {
                    "name": f"tpl-{i:05d}", "version": f"1.{minor}.0",
                    "tags": ["all", f"group{i % 20}", "even" if i % 2 == 0 else "odd"],
                    "description": f"Generated template number {i}",
                    "parameters": {"root": {"type": "path", "default": "."},
                                   "depth": {"type": "int", "default": 2, "min": 0}},
                },
                "workflow": {
                    "schema_version": 2, "id": f"wf-{i}", "version": f"1.{minor}.0",
                    "nodes": [
                        {"id": "scan", "type": "operator", "operator": "fs.scan",
                         "config": {"root": "${root}", "depth": "${depth}"},
                         "outputs": [{"name": "files", "type": "list[path]"}]},
                        {"id": "count", "type": "operator", "operator": "stats.count",
                         "inputs": [{"name": "items", "type": "list[any]"}],
                         "outputs": [{"name": "n", "type": "int"}]},
                    ],
                    "edges": [{"kind": "data", "source": "scan", "source_port": "files",
                               "target": "count", "target_port": "items"}],
                },
            }
            (root / f"t{i}-{minor}.json").write_text(json.dumps(data))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the workflow benchmarks and print the tables. Returns 0."""
    ap = argparse.ArgumentParser(prog="symphony bench workflow", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=10_000)
    ap.add_argument("--edges", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--templates", type=int, default=1000)
    ap.add_argument("--quick", action="store_true", help="1,000 nodes, 3 rounds")
    ap.add_argument("--kernel", choices=("auto", "cython", "python"), default="auto",
                    help="toposort kernel: auto = what symphony.kernels selects")
    args = ap.parse_args(list(argv) if argv is not None else None)
    n, m, rounds = args.nodes, args.edges, args.rounds
    if args.quick:
        n, m, rounds = 1000, 5000, 3
    if args.kernel != "auto":
        import importlib

        pkg = {"cython": "symphony._core", "python": "symphony.reference"}[args.kernel]
        _kernel.toposort = importlib.import_module(f"{pkg}.toposort")
    print(f"toposort kernel: {_kernel.toposort.__name__}", flush=True)

    # ---- validation
    t = Table(f"validate {n:,} nodes / {m:,} edges", "ms", higher_is_better=False)
    case = "validate (cold)"
    cold = _time_fresh(n, m, rounds, validate)
    t.add(case, "symphony", cold * 1e3, "full pipeline, fresh model")
    wf = _fresh(n, m)
    validate(wf)

    def after_edit() -> None:
        validate(Workflow(id=wf.id, nodes=wf.nodes, edges=wf.edges))

    t.add(case, "symphony (after edit)", median_time(after_edit, rounds=rounds) * 1e3,
          "new Workflow, same nodes")
    t.add(case, "symphony (re-validate)", median_time(lambda: validate(wf), rounds=rounds) * 1e3,
          "same Workflow: index + order kept")
    _peer_rows(t, case, wf, rounds)

    case = "order only"

    def order_only() -> None:
        Workflow(id=wf.id, nodes=wf.nodes, edges=wf.edges).topological_order()

    t.add(case, "symphony", median_time(order_only, rounds=rounds) * 1e3,
          "dense index + kernel")
    _peer_rows(t, case, wf, rounds)
    t.print()

    # ---- documents
    s = Table(f"document size, {n:,} nodes / {m:,} edges", "bytes", higher_is_better=False,
              baseline="symphony msgpack")
    compact = dumps_json(wf, indent=None).encode()
    binary = dumps_msgpack(wf)
    s.add("size", "symphony msgpack", len(binary),
          f"{len(binary) / len(compact):.3f} x compact JSON")
    s.add("size", "compact JSON", len(compact))
    s.add("size", "indented JSON", len(dumps_json(wf).encode()))
    s.add("size", "msgpack of the dict", len(msgpack.packb(to_dict(wf))))
    s.print()
    sp = Table(f"document speed, {n:,} nodes / {m:,} edges", "ms", higher_is_better=False,
               baseline="msgpack")
    text = compact.decode()
    sp.add("dump", "msgpack", median_time(lambda: dumps_msgpack(wf), rounds=rounds) * 1e3)
    sp.add("dump", "json", median_time(lambda: dumps_json(wf, indent=None), rounds=rounds) * 1e3)
    sp.add("load", "msgpack", median_time(lambda: loads_msgpack(binary), rounds=rounds) * 1e3)
    sp.add("load", "json", median_time(lambda: loads_json(text), rounds=rounds) * 1e3)
    sp.print()

    # ---- templates
    tt = Table(f"template library, {args.templates:,} names x 2 versions", "ms",
               higher_is_better=False)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_template_library(root, args.templates)
        tt.add("load_dir", "symphony",
               median_time(lambda: TemplateLibrary().load_dir(root), rounds=3) * 1e3)
        lib = TemplateLibrary()
        lib.load_dir(root)
        name = f"tpl-{args.templates // 2:05d}"
        tt.add("get latest", "symphony", median_time(lambda: lib.get(name), number=1000) * 1e3)
        tt.add("search tag pair", "symphony",
               median_time(lambda: lib.search(tags=["even", "group4"]), number=100) * 1e3)
        tt.add("search text", "symphony",
               median_time(lambda: lib.search("number 12"), number=100) * 1e3)
        tt.add("instantiate", "symphony",
               median_time(lambda: lib.get(name).instantiate({"depth": 3}), number=100) * 1e3)
    tt.print()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
