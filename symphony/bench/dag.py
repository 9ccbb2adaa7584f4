"""``symphony bench dag``: the DAG Tracker against the usual ways of running a DAG.

One process run, medians of several rounds, every ratio against a peer measured in the same
run (../shared/PLATFORM.md). Cases (10,000 no-op nodes unless ``--nodes``):

* **scheduling overhead** (µs per node, whole run including building the graph) on a random
  DAG (~3 edges per node), a chain and a fan-out, for: Symphony with async no-op nodes,
  Symphony with inline (synchronous) no-op nodes, trio + graphlib + a task per node +
  ``CapacityLimiter(64)``, trio + graphlib + 64 worker tasks, ``dask.get`` (synchronous), and
  the floor: graphlib + plain calls in a loop;
* **recording**: the same run with the journal on (process-crash safe, batched writes),
  power-loss safe (fsync per batch) and with progress events to one subscriber, each round
  timing every variant and the baseline one after another (after one warm-up run each); node
  outputs stored in the artifact store (one artifact per node, a fresh store per round,
  ``full`` and ``process`` durability) against the same workflow without the output sink;
* **resume**: reopen a journaled 10,000-node run (journal replay, no snapshot) and rebuild
  its ready set; loading the workflow document is shown separately;
* **CPU-bound**: 16 nodes of pure-Python arithmetic on 1 vs 2 worker processes.

Usage: ``symphony bench dag [--nodes N] [--rounds R] [--quick] [--only CASES]``
(cases: overhead, resume, latency, cpu).
"""

from __future__ import annotations

import argparse
import graphlib
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import trio

from symphony.bench._common import Table, optional

__all__ = ["main"]

WORKERS = 64


def random_edges(n: int, per_node: int = 3, seed: int = 1) -> list[tuple[int, int]]:
    """Edges ``j -> i`` with ``j < i`` drawn from the previous 100 nodes (acyclic)."""
    rng = random.Random(seed)
    seen: set[tuple[int, int]] = set()
    for i in range(1, n):
        for _ in range(min(i, per_node)):
            seen.add((rng.randrange(max(0, i - 100), i), i))
    return sorted(seen)


def shapes(n: int) -> dict[str, list[tuple[int, int]]]:
    return {
        "random DAG": random_edges(n),
        "chain": [(i, i + 1) for i in range(n - 1)],
        "fan-out": [(0, i) for i in range(1, n)],
    }


def _preds(n: int, edges: list[tuple[int, int]]) -> dict[int, list[int]]:
    preds: dict[int, list[int]] = {i: [] for i in range(n)}
    for s, d in edges:
        preds[d].append(s)
    return preds


# --------------------------------------------------------------------------- peers
async def _noop() -> None:
    return None


async def peer_task_per_node(n: int, edges: list[tuple[int, int]]) -> None:
    """trio + graphlib: one task per ready node, each behind a CapacityLimiter."""
    ts = graphlib.TopologicalSorter(_preds(n, edges))
    ts.prepare()
    limiter = trio.CapacityLimiter(WORKERS)
    send, recv = trio.open_memory_channel[int](float("inf"))

    async def one(node: int) -> None:
        async with limiter:
            await _noop()
        send.send_nowait(node)

    async with trio.open_nursery() as nursery:
        pending = 0
        for node in ts.get_ready():
            nursery.start_soon(one, node)
            pending += 1
        while pending:
            node = await recv.receive()
            pending -= 1
            ts.done(node)
            for nxt in ts.get_ready():
                nursery.start_soon(one, nxt)
                pending += 1


async def peer_worker_pool(n: int, edges: list[tuple[int, int]]) -> None:
    """trio + graphlib: a fixed pool of worker tasks fed through a channel."""
    ts = graphlib.TopologicalSorter(_preds(n, edges))
    ts.prepare()
    work_s, work_r = trio.open_memory_channel[int](float("inf"))
    done_s, done_r = trio.open_memory_channel[int](float("inf"))

    async def worker() -> None:
        async for node in work_r:
            await _noop()
            done_s.send_nowait(node)

    async with trio.open_nursery() as nursery:
        for _ in range(WORKERS):
            nursery.start_soon(worker)
        pending = 0
        for node in ts.get_ready():
            work_s.send_nowait(node)
            pending += 1
        while pending:
            node = await done_r.receive()
            pending -= 1
            ts.done(node)
            for nxt in ts.get_ready():
                work_s.send_nowait(nxt)
                pending += 1
        work_s.close()


def peer_graphlib_plain(n: int, edges: list[tuple[int, int]]) -> None:
    """The floor: graphlib order, plain synchronous calls."""
    def noop() -> None:
        return None

    ts = graphlib.TopologicalSorter(_preds(n, edges))
    for _node in ts.static_order():
        noop()


def peer_dask(n: int, edges: list[tuple[int, int]]) -> Callable[[], object] | None:
    dask = optional("dask")
    if dask is None:
        return None
    preds = _preds(n, edges)

    def noop(*_: object) -> None:
        return None

    def build() -> object:
        dsk = {f"n{i}": (noop, *[f"n{p}" for p in preds[i]]) for i in range(n)}
        return dask.get(dsk, [f"n{i}" for i in range(n)])

    return build


# --------------------------------------------------------------------------- symphony
def _workflow(n: int, edges: list[tuple[int, int]], operator: str) -> object:
    from symphony.workflow.model import ControlEdge, OperatorNode, Workflow

    nodes = tuple(OperatorNode(id=f"n{i}", operator=operator) for i in range(n))
    return Workflow(id="bench", nodes=nodes,
                    edges=tuple(ControlEdge(f"n{s}", f"n{d}") for s, d in edges))


def _engine(store_dir: Path | None = None, **opts: object) -> object:
    from symphony.pit.dag_tracker import DagTracker, RunOptions, RunStore

    store = RunStore(store_dir) if store_dir is not None else None
    return DagTracker(store=store, options=RunOptions(journal=store is not None, **opts))  # type: ignore[arg-type]


async def _symphony_once(engine: object, wf: object, sink: object = None) -> None:
    from symphony.pit.dag_tracker import DagTracker
    from symphony.workflow.model import Workflow

    assert isinstance(engine, DagTracker) and isinstance(wf, Workflow)
    wf._cache.clear()  # time the graph build too, not a cached index
    run = engine.create(wf, validate=False)
    s = await run.execute()
    assert s.state.value == "completed", s


async def _median(fn: Callable[[], Awaitable[object]], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def _median_sync(fn: Callable[[], object], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


async def bench_overhead(n: int, rounds: int, table: Table, rec: Table, tmp: Path) -> None:
    for shape, edges in shapes(n).items():
        await _shape(n, shape, edges, rounds, table, rec, tmp)


async def _shape(n: int, shape: str, edges: list[tuple[int, int]], rounds: int, table: Table,
                 rec: Table, tmp: Path) -> None:
    from symphony.pit.dag_tracker import DagTracker, EventHub, RunOptions
    from symphony.workflow.serialize import dumps_msgpack

    wf_async = _workflow(n, edges, "core.noop_async")
    wf_inline = _workflow(n, edges, "core.noop")
    eng = _engine()
    us = 1e6 / n
    t_async = await _median(lambda: _symphony_once(eng, wf_async), rounds)
    table.add(shape, "symphony", t_async * us, "async no-op nodes")
    t_inline = await _median(lambda: _symphony_once(eng, wf_inline), rounds)
    table.add(shape, "symphony inline", t_inline * us, "synchronous no-op nodes")
    t = await _median(lambda: peer_task_per_node(n, edges), rounds)
    table.add(shape, "trio+graphlib task/node", t * us, f"CapacityLimiter({WORKERS})")
    t = await _median(lambda: peer_worker_pool(n, edges), rounds)
    table.add(shape, "trio+graphlib workers", t * us, f"{WORKERS} worker tasks")
    dask_fn = peer_dask(n, edges)
    table.add(shape, "dask.get", _median_sync(dask_fn, rounds) * us if dask_fn else None,
              "synchronous scheduler")
    t = _median_sync(lambda: peer_graphlib_plain(n, edges), rounds)
    table.add(shape, "graphlib+plain calls", t * us, "floor: no scheduler")
    if shape != "random DAG":
        return
    # Recording: every variant against a baseline measured in the same rounds (interleaved,
    # each warmed up once first), so the machine's load drifts alike for all of them.
    from symphony.pit.dag_tracker import RunStore

    hub = EventHub()
    sub = hub.subscribe(max_buffer=0)

    def drain() -> None:
        while True:
            try:
                sub.receive_nowait()
            except trio.WouldBlock:
                break

    variants = {
        "no recording": _engine(),
        "journal (crash-safe)": _engine(Path(tempfile.mkdtemp(dir=tmp))),
        "journal + fsync/batch": _engine(Path(tempfile.mkdtemp(dir=tmp)), fsync=True),
        "events, 1 subscriber": DagTracker(sink=hub, options=RunOptions(journal=False)),
        "journal + events": DagTracker(sink=hub, store=RunStore(Path(tempfile.mkdtemp(dir=tmp)))),
    }
    samples: dict[str, list[float]] = {k: [] for k in variants}
    docs: list[float] = []
    for r in range(rounds + 1):
        for label, engine in variants.items():
            t0 = time.perf_counter()
            await _symphony_once(engine, wf_async)
            drain()
            if r:  # round 0 warms every variant up
                samples[label].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        dumps_msgpack(wf_async)  # type: ignore[arg-type]
        if r:
            docs.append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in samples.items()}
    base, t_doc = med["no recording"], statistics.median(docs)
    rec.add("no recording", "symphony", base * us, "baseline, same rounds as the rows below")
    for label in ("journal (crash-safe)", "journal + fsync/batch"):
        t = med[label]
        rec.add(label, "symphony", t * us,
                f"+{(t - base) * us:.2f} µs/node, of which saving the workflow "
                f"document {t_doc * us:.2f} µs/node: recording +{(t - base - t_doc) * us:.2f}")
    t = med["events, 1 subscriber"]
    rec.add("events, 1 subscriber", "symphony", t * us, f"+{(t - base) * us:.2f} µs/node")
    t = med["journal + events"]
    rec.add("journal + events", "symphony", t * us,
            f"+{(t - base) * us:.2f} µs/node, +{(t - base - t_doc) * us:.2f} beyond saving "
            "the document (TARGETS <= 2)")
    await bench_outputs(n, edges, rounds, rec, tmp)


def _value_workflow(n: int, edges: list[tuple[int, int]]) -> object:
    """``core.identity`` nodes, each outputting a distinct small JSON value."""
    from symphony.workflow.model import ControlEdge, OperatorNode, Workflow, port

    nodes = tuple(
        OperatorNode(id=f"n{i}", operator="core.identity",
                     inputs=(port("value", "any", default={"node": i, "payload": "x" * 64}),),
                     outputs=(port("value", "any"),))
        for i in range(n)
    )
    return Workflow(id="bench-outputs", nodes=nodes,
                    edges=tuple(ControlEdge(f"n{s}", f"n{d}") for s, d in edges))


async def bench_outputs(n: int, edges: list[tuple[int, int]], rounds: int, rec: Table,
                        tmp: Path) -> None:
    """Per-node cost of storing every node's output in the artifact store."""
    from symphony.pit.artifacts import ArtifactsConfig
    from symphony.pit.artifacts.store import ArtifactStore
    from symphony.pit.dag_tracker import DagTracker, RunOptions
    from symphony.pit.dag_tracker.outputs import ArtifactOutputSink

    wf = _value_workflow(n, edges)
    us = 1e6 / n
    base = await _median(lambda: _symphony_once(_engine(), wf), rounds)
    rec.add("outputs off (identity nodes)", "symphony", base * us, "baseline for the rows below")
    for durability in ("full", "process"):
        samples = []
        batches = 0
        for r in range(rounds):
            store = ArtifactStore(tmp / f"artifacts-{durability}-{r}",
                                  config=ArtifactsConfig(durability=durability))
            sink = ArtifactOutputSink(store)
            eng = DagTracker(output_sink=sink, options=RunOptions(journal=False))
            try:
                t0 = time.perf_counter()
                await _symphony_once(eng, wf)
                samples.append(time.perf_counter() - t0)
                assert sink.last is not None and sink.last.count == n
                batches = sink.last.batches
            finally:
                store.close()
        t = statistics.median(samples)
        rec.add(f"outputs -> artifact store ({durability})", "symphony", t * us,
                f"+{(t - base) * us:.1f} µs/node; {n:,} artifacts in {batches} batches, "
                "committed before execute() returns")


async def bench_resume(n: int, rounds: int, table: Table, tmp: Path) -> None:
    from symphony.pit.dag_tracker import DagTracker, RunOptions, RunStore

    for shape, edges in shapes(n).items():
        if shape == "fan-out":
            continue
        d = Path(tempfile.mkdtemp(dir=tmp))
        store = RunStore(d)
        eng = DagTracker(store=store, options=RunOptions(compact_at_end=False))
        wf = _workflow(n, edges, "core.noop_async")
        run = eng.create(wf, validate=False)  # type: ignore[arg-type]
        await run.execute()
        run_id = run.id

        def reopen(eng: DagTracker = eng, run_id: str = run_id) -> object:
            return eng.open(run_id)

        def reopen_rebuild(eng: DagTracker = eng, run_id: str = run_id) -> object:
            r = eng.open(run_id)
            return r.rebuild_ready()

        def load_wf(store: RunStore = store, run_id: str = run_id) -> object:
            return store.workflow(run_id)

        t_wf = _median_sync(load_wf, rounds)
        t_open = _median_sync(reopen, rounds)
        t_all = _median_sync(reopen_rebuild, rounds)
        table.add(f"{shape}: open+rebuild", "symphony", t_all * 1e3,
                  f"plan + journal replay {t_open * 1e3:.1f} ms, ready set "
                  f"{(t_all - t_open) * 1e3:.1f} ms; TARGETS <= 50 ms, seed < 1 s")
        table.add(f"{shape}: parse the document", "symphony", t_wf * 1e3,
                  "not needed to resume (the plan is stored); shown for scale")


async def bench_cpu(rounds: int, nodes: int, work: int, table: Table) -> None:
    """Rounds alternate between the four set-ups, so a change in the machine's load (other
    processes on the 2 cores) hits them alike."""
    import concurrent.futures
    import multiprocessing

    from symphony.pit.dag_tracker import DagTracker, ProcessPoolNodeExecutor, RunOptions
    from symphony.workflow.model import OperatorNode, Workflow
    from symphony.workflow.ops.builtin import core_cpu

    wf = Workflow(id="cpu", nodes=tuple(
        OperatorNode(id=f"c{i}", operator="core.cpu", config={"n": work}) for i in range(nodes)))
    ours = {p: ProcessPoolNodeExecutor(p) for p in (1, 2)}
    engines = {p: DagTracker(executors={"process": ex}, options=RunOptions(journal=False))
               for p, ex in ours.items()}
    ctx = multiprocessing.get_context("forkserver")
    bare = {p: concurrent.futures.ProcessPoolExecutor(p, mp_context=ctx) for p in (1, 2)}
    samples: dict[str, list[float]] = {k: [] for k in ("s1", "s2", "b1", "b2")}
    try:
        for p in (1, 2):
            await ours[p].warm_up()
            list(bare[p].map(core_cpu, [{}] * 4, [{"n": 10}] * 4))
        for _ in range(rounds):
            for p in (1, 2):
                t0 = time.perf_counter()
                await _symphony_once(engines[p], wf)
                samples[f"s{p}"].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                list(bare[p].map(core_cpu, [{}] * nodes, [{"n": work}] * nodes))
                samples[f"b{p}"].append(time.perf_counter() - t0)
    finally:
        for ex in ours.values():
            await ex.aclose()
        for pool in bare.values():
            pool.shutdown()
    med = {k: statistics.median(v) for k, v in samples.items()}
    case = f"{nodes} CPU-bound nodes"
    table.add(case, "1 worker process", med["s1"] * 1e3)
    table.add(case, "2 worker processes", med["s2"] * 1e3,
              f"speed-up {med['s1'] / med['s2']:.2f}x (goal >= 1.9x)")
    table.add(case, "ProcessPoolExecutor x1", med["b1"] * 1e3, "peer, same rounds")
    table.add(case, "ProcessPoolExecutor x2", med["b2"] * 1e3,
              f"peer speed-up {med['b1'] / med['b2']:.2f}x")


async def bench_latency(rounds: int, table: Table) -> None:
    """Event latency (node end -> subscriber callback) and control-command latency."""
    from symphony.pit.dag_tracker import DagTracker, EventHub, ProgressEvent, RunOptions
    from symphony.workflow.model import OperatorNode, Workflow

    lat: list[float] = []

    def on_batch(batch: object) -> None:
        now = time.time()
        for ev in batch:  # type: ignore[attr-defined]
            assert isinstance(ev, ProgressEvent)
            if ev.kind == "node.succeeded":
                lat.append(now - ev.at)

    hub = EventHub()
    hub.add_callback(on_batch)
    eng = DagTracker(sink=hub, options=RunOptions(journal=False, concurrency=16))
    sleepy = Workflow(id="sleepy", nodes=tuple(
        OperatorNode(id=f"s{i}", operator="core.sleep", config={"seconds": 0.001})
        for i in range(400)))
    for _ in range(rounds):
        await _symphony_once(eng, sleepy)
    lat.sort()
    table.add("event latency, I/O nodes", "symphony", statistics.median(lat) * 1e3,
              f"p99 {lat[int(0.99 * (len(lat) - 1))] * 1e3:.3f} ms, max {lat[-1] * 1e3:.3f} ms "
              "(TARGETS <= 1 ms, seed 10 ms)")
    lat.clear()
    flood = _workflow(10_000, random_edges(10_000), "core.noop_async")
    await _symphony_once(eng, flood)
    lat.sort()
    table.add("event latency, no-op flood", "symphony", statistics.median(lat) * 1e3,
              f"p99 {lat[int(0.99 * (len(lat) - 1))] * 1e3:.3f} ms, max {lat[-1] * 1e3:.3f} ms")

    # control commands on a run with 64 nodes in flight and 10,000 waiting
    quiet = DagTracker(options=RunOptions(journal=False, concurrency=64))
    slow = Workflow(id="slow", nodes=tuple(
        OperatorNode(id=f"s{i}", operator="core.sleep", config={"seconds": 0.002})
        for i in range(10_000)))
    cancel_ms: list[float] = []
    pause_ms: list[float] = []
    for _ in range(rounds):
        run = quiet.create(slow, validate=False)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run.execute)
            await trio.sleep(0.05)
            t0 = time.perf_counter()
            run.pause()
            await trio.sleep(0.03)
            late = [t for t in run._t_start if t > t0]  # nodes started after pause()
            pause_ms.append(max(late) - t0 if late else 0.0)
            run.resume()
            await trio.sleep(0.02)
            t0 = time.perf_counter()
            run.cancel()
        cancel_ms.append(time.perf_counter() - t0)
    table.add("pause: last node start after", "symphony", max(pause_ms) * 1e3,
              "worst of the rounds (0 = nothing started after the call)")
    table.add("cancel: run stopped after", "symphony", statistics.median(cancel_ms) * 1e3,
              f"max {max(cancel_ms) * 1e3:.2f} ms, 64 nodes in flight (TARGETS <= 10 ms)")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="symphony bench dag", description=__doc__.split("\n")[0])
    p.add_argument("--nodes", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="1,000 nodes, 3 rounds")
    p.add_argument("--only", default="overhead,resume,latency,cpu",
                   help="comma-separated cases: overhead (includes recording), resume, "
                   "latency, cpu")
    args = p.parse_args(argv)
    only = set(args.only.split(","))
    n, rounds = (1000, 3) if args.quick else (args.nodes, args.rounds)
    from symphony.pit.dag_tracker import _kernel

    print(f"DAG Tracker benchmark: {n:,} no-op nodes, median of {rounds} rounds, toposort "
          f"kernel: {_kernel.IMPLEMENTATION}")
    over = Table(f"scheduling overhead, {n:,} no-op nodes", "µs/node", False,
                 baseline="symphony")
    rec = Table("recording (random DAG, async no-op nodes)", "µs/node", False)
    res = Table(f"resume a journaled {n:,}-node run", "ms", False)
    cpu = Table("CPU-bound nodes in worker processes", "ms", False,
                baseline="1 worker process")
    lat = Table("latency", "ms", False)
    tmp = Path(tempfile.mkdtemp(prefix="symphony-bench-dag-"))

    async def all_cases() -> None:
        if "overhead" in only:
            await bench_overhead(n, rounds, over, rec, tmp)
        if "resume" in only:
            await bench_resume(n, rounds, res, tmp)
        if "latency" in only:
            await bench_latency(rounds, lat)
        if "cpu" in only:
            await bench_cpu(rounds, 16, 500_000 if args.quick else 1_500_000, cpu)

    try:
        trio.run(all_cases)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for name, table in (("overhead", over), ("overhead", rec), ("resume", res),
                        ("latency", lat), ("cpu", cpu)):
        if name in only:
            table.print()
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
