"""Deterministic fairness simulation for the arbitration engine.

Requesters with weights keep a backlog on one resource with ``slots`` slots; each step
one holder (the oldest) finishes; request costs are drawn uniformly from ``costs`` and
service is counted in cost units; and the engine dispatches the next request. Every
requester always has ``backlog`` requests queued, so each is continuously backlogged —
the case where weighted fair sharing must hold. Shares are measured over consecutive
windows of ``window`` dispatches; the result is the worst relative deviation
``|share - w/Σw| / (w/Σw)`` over all windows and requesters.
"""

from __future__ import annotations

import random
from collections import deque

from symphony.pit.arbitration.engine import ArbitrationEngine, Grant, Policy, Request

__all__ = ["fairness_run"]


def fairness_run(
    weights: dict[str, float],
    *,
    steps: int = 20_000,
    window: int = 1_000,
    slots: int = 2,
    backlog: int = 4,
    seed: int = 0,
    costs: tuple[float, float] = (0.5, 2.0),
) -> dict[str, object]:
    """Run the simulation; return the worst window deviation and overall shares."""
    rng = random.Random(seed)
    eng = ArbitrationEngine(policy=Policy(weights=weights))
    eng.declare("model:sim", slots)
    holding: deque[int] = deque()
    names = sorted(weights)

    def submit(who: str) -> None:
        res = eng.request(Request(who, "model:sim", cost=rng.uniform(*costs)))
        if isinstance(res, Grant):
            holding.append(res.ticket)

    order = [n for n in names for _ in range(backlog)]
    rng.shuffle(order)
    for who in order:
        submit(who)
    total_w = sum(weights.values())
    counts: dict[str, float] = dict.fromkeys(names, 0.0)
    overall: dict[str, float] = dict.fromkeys(names, 0.0)
    worst = 0.0
    for i in range(1, steps + 1):
        for g in eng.release(holding.popleft()):
            holding.append(g.ticket)
            counts[g.request.requester] += g.request.cost
            overall[g.request.requester] += g.request.cost
            submit(g.request.requester)  # stay backlogged
        if i % window == 0:
            n = sum(counts.values())
            for who in names:
                want = weights[who] / total_w
                worst = max(worst, abs(counts[who] / n - want) / want)
            counts = dict.fromkeys(names, 0.0)
    n = sum(overall.values())
    return {
        "worst_deviation": worst,
        "shares": {w: overall[w] / n for w in names},
        "targets": {w: weights[w] / total_w for w in names},
        "decisions": eng.decisions,
    }
