"""A synthetic usage trace and its replay against the real :class:`PoolManager`.

Used by the tests and ``symphony bench pit`` to show what prewarming buys. The trace is
deterministic (seeded) and models a small service:

- jobs arrive with exponential inter-arrival times (mean ``mean_gap`` s); each runs one of
  a few *pipelines* — fixed sequences of models (tokenise → embed → rerank style) chosen
  with skewed probabilities — holding each model ``hold`` s;
- a periodic job (a cron-like re-index) uses one model every ``period`` s;
- models take ``load_time`` s to load and the memory budget holds only ``budget_models``
  of them, so switching pipelines forces evictions.

:func:`replay` runs the trace on a trio clock (run it under ``trio.testing.MockClock`` with
``autojump_threshold=0`` to take no real time) with :class:`SimLoader` models, whose load
is a ``trio.sleep`` of the load time (the lifecycle, LRU, budget and predictor are the real
ones). A *cold start* is an allocation that found its model not HOT and had to wait.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import trio

from symphony.pit.pool.loaders import LoadedModel
from symphony.pit.pool.manager import PoolConfig, PoolManager

__all__ = ["Job", "SimLoader", "make_trace", "replay"]


@dataclass(frozen=True, slots=True)
class Job:
    """One job of the trace: when it arrives, which models it uses in order, hold time."""

    at: float
    models: tuple[str, ...]
    hold: float


class _SimModel:
    def __init__(self, nbytes: int) -> None:
        self._n = nbytes
        self._open = True

    @property
    def memory_bytes(self) -> int:
        return self._n

    async def infer(self, texts: Sequence[str]) -> list[list[float]]:
        return [[float(len(t))] for t in texts]

    def alive(self) -> bool:
        return self._open

    async def aclose(self) -> None:
        self._open = False


class SimLoader:
    """A model that takes ``load_time`` seconds (trio clock) to load and ``nbytes`` of memory."""

    def __init__(self, load_time: float, nbytes: int) -> None:
        self.load_time, self.nbytes = load_time, nbytes

    @property
    def memory_estimate(self) -> int:
        """``nbytes``."""
        return self.nbytes

    async def load(self, nursery: trio.Nursery) -> LoadedModel:
        """Sleep ``load_time`` then return the model."""
        await trio.sleep(self.load_time)
        return _SimModel(self.nbytes)


PIPELINES: tuple[tuple[str, ...], ...] = (
    ("tok", "embed", "rerank", "summar"),
    ("ocr", "layout", "embed", "classify"),
    ("asr", "diar", "tok", "summar", "translate"),
    ("tok", "classify", "translate"),
)


def make_trace(
    *,
    jobs: int = 300,
    seed: int = 0,
    mean_gap: float = 12.0,
    hold: float = 3.0,
    period: float = 45.0,
) -> list[Job]:
    """The deterministic synthetic trace described in the module docstring."""
    rng = random.Random(seed)
    out: list[Job] = []
    t = 0.0
    for _ in range(jobs):
        t += rng.expovariate(1.0 / mean_gap)
        pipe = rng.choices(PIPELINES, weights=(4, 2, 2, 1))[0]
        out.append(Job(t, pipe, hold))
    end = t
    k = period
    while k < end:
        out.append(Job(k, ("reindex",), hold))
        k += period
    out.sort(key=lambda j: j.at)
    return out


def model_ids(trace: Sequence[Job]) -> list[str]:
    """Every model the trace uses, sorted."""
    return sorted({m for j in trace for m in j.models})


async def replay(
    trace: Sequence[Job],
    *,
    prewarm: bool,
    load_time: float = 2.0,
    budget_models: int = 6,
    idle_ttl: float = 120.0,
    sessions: bool = True,
) -> dict[str, float]:
    """Replay ``trace`` on a fresh pool; return cold starts, waits and memory figures."""
    unit = 1 << 20
    pool = PoolManager(
        PoolConfig(
            memory_budget=budget_models * unit, idle_ttl=idle_ttl, prewarm=prewarm, tick=0.1
        ),
        clock=trio.current_time,
    )
    for mid in model_ids(trace):
        pool.register(mid, SimLoader(load_time, unit))
    waits: list[float] = []

    async def job(j: Job) -> None:
        for mid in j.models:
            t0 = trio.current_time()
            h = await pool.allocate(mid, session=id(j) if sessions else None)
            waits.append(trio.current_time() - t0)
            await trio.sleep(j.hold)
            pool.release(h)

    start = trio.current_time()
    async with trio.open_nursery() as outer:
        await outer.start(pool.run)
        async with trio.open_nursery() as nursery:
            for j in trace:
                delay = start + j.at - trio.current_time()
                if delay > 0:
                    await trio.sleep(delay)
                nursery.start_soon(job, j)
        outer.cancel_scope.cancel()
    return {
        "allocations": float(len(waits)),
        "cold_starts": float(pool.counters["cold_starts"]),
        "total_wait_s": sum(waits),
        "prewarms": float(pool.counters["prewarms"]),
        "cold_found_warming": float(pool.counters["cold_starts.warming"]),
        "memory_peak": float(pool.memory_peak),
        "memory_budget": float(pool.config.memory_budget),
        "loads": float(sum(e.loads for e in pool._entries.values())),
    }
