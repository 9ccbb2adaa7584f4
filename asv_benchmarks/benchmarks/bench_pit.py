"""The Pit services: pool cache-hit allocation, arbitration decisions, fairness, stale cost."""

from __future__ import annotations

from typing import ClassVar

import trio


class PoolCacheHit:
    """``PoolManager.acquire_nowait`` + ``release`` on a HOT model (sync fast path)."""

    def setup(self) -> None:
        from symphony.pit.pool import PoolConfig, PoolManager
        from symphony.pit.pool.simulate import SimLoader

        self.pool = PoolManager(PoolConfig(memory_budget=1 << 30))
        self.pool.register("m", SimLoader(0.0, 1024))
        pool = self.pool

        async def warm() -> None:  # load once, keep it HOT after the service stops
            async with trio.open_nursery() as n:
                pool._nursery = n
                pool.release(await pool.allocate("m"))
                pool._nursery = None

        trio.run(warm)

    def time_acquire_release(self) -> None:
        self.pool.release(self.pool.acquire_nowait("m"))


class ArbitrationDecision:
    """A 4-claim ``resolve`` and a queue->dispatch cycle with 100 waiting."""

    def setup(self) -> None:
        from symphony.pit.arbitration import ArbitrationEngine, Request
        from symphony.ports.types import Claim, Conflict, ConflictId

        self.eng = ArbitrationEngine()
        self.conflict = Conflict(
            ConflictId("c"),
            "gpu",
            (Claim("a", 1), Claim("b", 5), Claim("c", 3), Claim("d", 5, 0.1)),
        )
        self.q = ArbitrationEngine()
        self.Request = Request
        g = self.q.request(Request("holder", "model:m"))
        for i in range(100):
            self.q.request(Request(f"r{i % 7}", "model:m", priority=i % 3))
        self.ticket = g.ticket

    def time_resolve(self) -> None:
        self.eng.resolve(self.conflict)

    def time_dispatch_and_requeue(self) -> None:
        [g] = self.q.release(self.ticket)
        self.ticket = g.ticket
        self.q.request(self.Request(g.request.requester, "model:m", priority=g.request.priority))


class Outcomes:
    """Goal figures as tracked values (prewarm reduction, fairness deviation, stale cost)."""

    timeout = 120
    params: ClassVar[list[int]] = [0]
    param_names: ClassVar[list[str]] = ["seed"]

    def track_prewarm_cold_start_reduction(self, seed: int) -> float:
        import functools

        import trio.testing

        from symphony.pit.pool.simulate import make_trace, replay

        trace = make_trace(jobs=150, seed=seed)
        runs = [
            trio.run(
                functools.partial(replay, trace, prewarm=p),
                clock=trio.testing.MockClock(autojump_threshold=0),
            )
            for p in (False, True)
        ]
        return 1 - runs[1]["cold_starts"] / runs[0]["cold_starts"]

    def track_fairness_worst_deviation(self, seed: int) -> float:
        from symphony.pit.arbitration.simulate import fairness_run

        r = fairness_run({"a": 1, "b": 2, "c": 3, "d": 4}, steps=6000, window=600, seed=seed)
        return float(r["worst_deviation"])  # type: ignore[arg-type]

    def track_stale_cost_reduction(self, seed: int) -> float:
        from symphony.pit.stale.simulate import simulate_year

        return simulate_year(per_day=4, run_every=7, seed=seed)["reduction"]
