"""``symphony bench pit``: the Pool Manager, Arbitration Engine and Stale Manager.

One process run, medians of ``--rounds`` rounds (TARGETS/issue 9 goals):

- **cache-hit allocation** (ns per call, lower is better): ``PoolManager.acquire_nowait``
  on a HOT model (a generation-tagged handle from the alloc kernel, refcount, LRU touch,
  usage record), and acquire+release; peers on the same loop: a plain ``dict`` + lock pool
  (lookup, refcount, ``OrderedDict.move_to_end``, counter id) and a ``functools.lru_cache``
  hit. Goal < 1 µs (seed < 100 µs).
- **arbitration decision** (µs): ``resolve`` of a 4-claim conflict; a queued
  request → release → dispatch cycle with 100 waiting; peer: bare ``sorted`` of the claims.
  Goal < 50 µs (seed < 1 ms).
- **prewarming** on the synthetic trace of :mod:`symphony.pit.pool.simulate` (virtual
  time): cold starts of the pool without prewarm, with prewarm, and the misses of a
  ``functools.lru_cache`` of the same capacity over the same allocation sequence. Goal:
  ≥ 50 % fewer cold starts.
- **fairness**: worst relative deviation of any requester's share from its weight over
  windows (SFQ engine vs a FIFO queue on the same backlog). Goal < 10 %.
- **stale**: storage-cost reduction over a simulated year (vs keeping everything hot), high
  value lost, and foreground ``get`` latency p50/p99 with and without a throttled sweep.
  Goal ≥ 40 %, nothing high-value lost.
"""

from __future__ import annotations

import argparse
import collections
import functools
import gc
import itertools
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence

import trio
import trio.testing

from symphony.bench._common import Table, median_time, percentile
from symphony.pit.arbitration import ArbitrationEngine, Request
from symphony.pit.arbitration.simulate import fairness_run
from symphony.pit.pool import PoolConfig, PoolManager
from symphony.pit.pool.simulate import SimLoader, make_trace, model_ids, replay
from symphony.pit.stale import DictHotStore, FsspecTier, StaleConfig, StaleManager, StaleService
from symphony.pit.stale.simulate import simulate_year
from symphony.ports.types import Claim, Conflict, ConflictId


class DictLockPool:
    """The plain peer: a dict of loaded models, a lock, refcounts, an LRU order, a counter."""

    def __init__(self, models: Sequence[str]) -> None:
        self.lock = threading.Lock()
        self.models = {m: object() for m in models}
        self.refs = dict.fromkeys(models, 0)
        self.lru: collections.OrderedDict[str, None] = collections.OrderedDict.fromkeys(models)
        self.ids = itertools.count(1)
        self.owner: dict[int, str] = {}

    def acquire(self, model_id: str) -> int:
        with self.lock:
            self.models[model_id]
            self.refs[model_id] += 1
            self.lru.move_to_end(model_id)
            h = next(self.ids)
            self.owner[h] = model_id
            return h

    def release(self, h: int) -> None:
        with self.lock:
            self.refs[self.owner.pop(h)] -= 1


def _alloc(table: Table, rounds: int, n: int) -> None:
    async def run() -> None:
        pool = PoolManager(PoolConfig(memory_budget=1 << 30, max_handles=n + 16))
        pool.register("m", SimLoader(0.0, 1024))
        async with trio.open_nursery() as nursery:
            await nursery.start(pool.run)
            pool.release(await pool.allocate("m"))
            _alloc_timings(table, rounds, n, pool)  # sync loops: the fast path, model HOT
            nursery.cancel_scope.cancel()

    trio.run(run)


def _alloc_timings(table: Table, rounds: int, n: int, pool: PoolManager) -> None:
    acq, rel = pool.acquire_nowait, pool.release

    def acquire_only() -> float:
        """Seconds for ``n`` acquires alone (releases happen after the clock stops)."""
        handles: list[int] = []
        ap = handles.append
        gc.disable()
        try:
            t0 = time.perf_counter()
            for _ in range(n):
                ap(acq("m"))
            t = time.perf_counter() - t0
        finally:
            gc.enable()
        for h in handles:
            rel(h)
        return t

    # acquire alone: time n acquires, subtract nothing (releases measured separately below)
    def sym_pair() -> None:
        for _ in range(n):
            rel(acq("m"))

    peer = DictLockPool(["m"])
    pa, pr = peer.acquire, peer.release

    def peer_pair() -> None:
        for _ in range(n):
            pr(pa("m"))

    @functools.lru_cache(maxsize=8)
    def load(model_id: str) -> object:
        return object()

    load("m")

    def lru_hit() -> None:
        for _ in range(n):
            load("m")

    t_pair = median_time(sym_pair, rounds=rounds) / n * 1e9
    table.add("acquire+release", "symphony", t_pair)
    table.add("acquire+release", "dict+lock pool", median_time(peer_pair, rounds=rounds) / n * 1e9)
    t_acq = statistics.median(acquire_only() for _ in range(rounds)) / n * 1e9
    table.add("acquire (hit)", "symphony", t_acq, "handle + refcount + LRU + usage record")
    table.add(
        "acquire (hit)",
        "lru_cache hit",
        median_time(lru_hit, rounds=rounds) / n * 1e9,
        "no handle/refcount/LRU bookkeeping",
    )


def _decision(table: Table, rounds: int) -> None:
    eng = ArbitrationEngine()
    claims = (Claim("low", 1), Claim("high", 5), Claim("mid", 3), Claim("high-too", 5, 0.1))
    c = Conflict(ConflictId("c1"), "gpu-0", claims)
    n = 2000
    table.add(
        "resolve 4 claims",
        "symphony",
        median_time(lambda: [eng.resolve(c) for _ in range(n)], rounds=rounds) / n * 1e6,
    )
    key = lambda x: (-x.priority, -x.quality, x.claimant)  # noqa: E731
    table.add(
        "resolve 4 claims",
        "sorted() floor",
        median_time(lambda: [sorted(claims, key=key) for _ in range(n)], rounds=rounds) / n * 1e6,
    )
    eng2 = ArbitrationEngine()
    g = eng2.request(Request("holder", "model:m"))
    for i in range(100):
        eng2.request(Request(f"r{i % 7}", "model:m", priority=i % 3))
    state = {"t": g.ticket}

    def cycle() -> None:
        for _ in range(n):
            [nxt] = eng2.release(state["t"])
            state["t"] = nxt.ticket
            eng2.request(Request(nxt.request.requester, "model:m", priority=nxt.request.priority))

    table.add(
        "queue+dispatch (100 waiting)",
        "symphony",
        median_time(cycle, rounds=rounds) / n / 2 * 1e6,
        "per decision (queue or dispatch)",
    )


def _prewarm(table: Table, jobs: int) -> dict[str, float]:
    trace = make_trace(jobs=jobs, seed=0)
    clock = trio.testing.MockClock(autojump_threshold=0)
    base = trio.run(functools.partial(replay, trace, prewarm=False), clock=clock)
    warm = trio.run(
        functools.partial(replay, trace, prewarm=True),
        clock=trio.testing.MockClock(autojump_threshold=0),
    )
    cap = 6  # replay()'s default budget in models

    @functools.lru_cache(maxsize=cap)
    def load(m: str) -> str:
        return m

    for j in sorted(trace, key=lambda j: j.at):
        for m in j.models:
            load(m)
    misses = load.cache_info().misses
    table.add("cold starts", "symphony", warm["cold_starts"], "prewarm on")
    table.add("cold starts", "pool, no prewarm", base["cold_starts"])
    table.add("cold starts", "lru_cache", float(misses), f"maxsize={cap}, same sequence")
    table.add("wait for models (s)", "symphony", warm["total_wait_s"])
    table.add("wait for models (s)", "pool, no prewarm", base["total_wait_s"])
    _ = model_ids
    return {
        "reduction": 1 - warm["cold_starts"] / base["cold_starts"],
        "peak_over_budget": max(base["memory_peak"], warm["memory_peak"]) / base["memory_budget"],
    }


def _fifo_deviation(weights: dict[str, float], steps: int, window: int) -> float:
    q = collections.deque(n for n in sorted(weights) for _ in range(4))
    total = sum(weights.values())
    counts: collections.Counter[str] = collections.Counter()
    worst = 0.0
    for i in range(1, steps + 1):
        who = q.popleft()
        counts[who] += 1
        q.append(who)
        if i % window == 0:
            for w, wt in weights.items():
                want = wt / total
                worst = max(worst, abs(counts[w] / window - want) / want)
            counts.clear()
    return worst


async def _set_after(event: trio.Event, delay: float) -> None:
    await trio.sleep(delay)
    event.set()


def _stale(table: Table, quick: bool) -> dict[str, float]:
    r = simulate_year(per_day=6 if quick else 12, run_every=1)
    table.add(
        "cost vs all-hot",
        "symphony",
        1 - r["reduction"],
        f"lost high-value: {r['lost_high_value']:.0f}",
    )
    table.add("cost vs all-hot", "keep everything hot", 1.0)

    async def latency(ops_per_s: float | None) -> tuple[float, float]:
        """Foreground get p50/p99 (us) of reads 0.5 ms apart while a sweep of 300 x 16 KiB
        demotions runs at ``ops_per_s`` (None: no sweep, 0.6 s of reads)."""
        with tempfile.TemporaryDirectory() as d:
            clock = [0.0]
            m = StaleManager(
                DictHotStore(), FsspecTier(f"{d}/w"), FsspecTier(f"{d}/c"), clock=lambda: clock[0]
            )
            for i in range(300):
                m.put(f"o{i}", bytes(16384), now=0)
            m.put("fg", b"foreground", now=0)
            clock[0] = 100 * 86400.0
            m.get("fg")
            svc = StaleService(m, StaleConfig(max_ops_per_s=ops_per_s or 1.0))
            samples: list[float] = []
            done = trio.Event()

            async def sweep() -> None:
                await svc.sweep_once()
                done.set()

            async with trio.open_nursery() as n:
                if ops_per_s is not None:
                    n.start_soon(sweep)
                else:
                    n.start_soon(lambda: _set_after(done, 0.6))
                while not done.is_set():  # sample only while the sweep runs
                    t0 = trio.current_time()
                    await svc.get("fg")
                    samples.append(trio.current_time() - t0)
                    await trio.sleep(0.0005)
            return percentile(samples, 50) * 1e6, percentile(samples, 99) * 1e6

    idle = trio.run(latency, None)
    throttled = trio.run(latency, StaleConfig().max_ops_per_s)
    flat_out = trio.run(latency, 1e9)
    for q, k in (("p50", 0), ("p99", 1)):
        table.add(f"fg get {q} (us)", "symphony", throttled[k], "throttled sweep running")
        table.add(f"fg get {q} (us)", "no sweep", idle[k])
        table.add(f"fg get {q} (us)", "unthrottled sweep", flat_out[k])
    return r


def main(argv: list[str]) -> int:
    """Run the Pit benchmarks; print tables and the goal check."""
    ap = argparse.ArgumentParser(prog="symphony bench pit", description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="smaller traces and loops")
    args = ap.parse_args(argv)
    n = 20_000 if args.quick else 200_000
    t1 = Table("pool: allocation on a cache hit", "ns/call", higher_is_better=False)
    _alloc(t1, args.rounds, n)
    t1.print()
    t2 = Table("arbitration: decision", "us", higher_is_better=False)
    _decision(t2, args.rounds)
    t2.print()
    t3 = Table("pool: prewarming on the synthetic trace", "count / s", higher_is_better=False)
    pw = _prewarm(t3, 150 if args.quick else 300)
    t3.print()
    weights = {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0}
    fr = fairness_run(
        weights, steps=6000 if args.quick else 20000, window=600 if args.quick else 1000
    )
    t4 = Table("arbitration: worst fair-share deviation", "fraction", higher_is_better=False)
    t4.add("weights 1:2:3:4", "symphony", float(fr["worst_deviation"]))  # type: ignore[arg-type]
    t4.add("weights 1:2:3:4", "FIFO queue", _fifo_deviation(weights, 6000, 600))
    t4.print()
    t5 = Table("stale: cost and foreground latency", "fraction / us", higher_is_better=False)
    st = _stale(t5, args.quick)
    t5.print()
    hit = next(v for c, w, v, _ in t1.rows if c == "acquire (hit)" and w == "symphony")
    dec = next(v for c, w, v, _ in t2.rows if c == "resolve 4 claims" and w == "symphony")
    dev = float(fr["worst_deviation"])  # type: ignore[arg-type]
    goals = [
        ("cache-hit allocation < 1 us", f"{hit:.0f} ns", bool(hit and hit < 1000)),
        ("decision < 50 us", f"{dec:.1f} us", bool(dec and dec < 50)),
        ("prewarm cold starts -50%", f"{pw['reduction']:.0%}", pw["reduction"] >= 0.5),
        ("fairness deviation < 10%", f"{dev:.1%}", dev < 0.1),
        (
            "stale cost -40%, none lost",
            f"{st['reduction']:.0%}, lost {st['lost_high_value']:.0f}",
            st["reduction"] >= 0.4 and st["lost_high_value"] == 0,
        ),
    ]
    print("== goals")
    for what, value, ok in goals:
        print(f"  {what:<30} {value:<14} {'met' if ok else 'NOT met'}")
    print(f"  memory peak / budget:          {pw['peak_over_budget']:.2f}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    import sys

    raise SystemExit(main(sys.argv[1:]))
