"""Arbitration Engine: detection/classification, strategies, queues, fairness, audit."""

from __future__ import annotations

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from symphony.commons.errors import ArbitrationError
from symphony.pit._sink import ListSink
from symphony.pit.arbitration import (
    ArbitrationConfig,
    ArbitrationEngine,
    ConflictKind,
    Grant,
    Policy,
    Queued,
    Request,
    Strategy,
    resource_kind,
)
from symphony.pit.arbitration.simulate import fairness_run
from symphony.ports.types import Claim, Conflict, ConflictId


def test_resource_kinds() -> None:
    assert resource_kind("model:emb") is ConflictKind.MODEL_SLOT
    assert resource_kind("buffer:ring0") is ConflictKind.BUFFER_RANGE
    assert resource_kind("artifact:report") is ConflictKind.ARTIFACT_NAME
    assert resource_kind("gpu-mem") is ConflictKind.OVERSUBSCRIPTION


def test_detects_and_classifies_each_kind() -> None:
    eng = ArbitrationEngine()
    assert isinstance(eng.request(Request("run1", "model:emb")), Grant)
    q = eng.request(Request("run2", "model:emb"))
    assert isinstance(q, Queued) and q.kind is ConflictKind.MODEL_SLOT
    # buffers: disjoint writers coexist, overlapping ones conflict, same writer may overlap
    assert isinstance(eng.request(Request("w1", "buffer:b", start=0, end=100)), Grant)
    assert isinstance(eng.request(Request("w2", "buffer:b", start=100, end=200)), Grant)
    assert isinstance(eng.request(Request("w1", "buffer:b", start=50, end=60)), Grant)
    q = eng.request(Request("w3", "buffer:b", start=150, end=160))
    assert isinstance(q, Queued) and q.kind is ConflictKind.BUFFER_RANGE
    assert isinstance(eng.request(Request("a", "artifact:report")), Grant)
    q = eng.request(Request("b", "artifact:report"))
    assert isinstance(q, Queued) and q.kind is ConflictKind.ARTIFACT_NAME
    eng.declare("gpu-mem", 10)
    assert isinstance(eng.request(Request("x", "gpu-mem", amount=6)), Grant)
    q = eng.request(Request("y", "gpu-mem", amount=5))
    assert isinstance(q, Queued) and q.kind is ConflictKind.OVERSUBSCRIPTION
    assert eng.conflicts == dict.fromkeys(ConflictKind, 1)
    with pytest.raises(ArbitrationError, match="empty"):
        eng.request(Request("z", "buffer:b", start=5, end=5))
    with pytest.raises(ArbitrationError, match="exceeds"):
        eng.request(Request("z", "gpu-mem", amount=11))
    with pytest.raises(ArbitrationError):
        eng.release(987654)


def test_priority_order_respected_and_queue_estimates() -> None:
    t = [0.0]
    eng = ArbitrationEngine(clock=lambda: t[0])
    first = eng.request(Request("holder", "model:m"))
    assert isinstance(first, Grant)
    queued = [
        eng.request(Request(f"r{p}-{i}", "model:m", priority=p))
        for i in range(3)
        for p in (1, 5, 3)
    ]
    assert all(isinstance(q, Queued) for q in queued)
    t[0] = 2.0
    order: list[str] = []
    ticket = first.ticket
    while True:
        granted = eng.release(ticket)
        if not granted:
            break
        order.append(granted[0].request.requester)
        ticket = granted[0].ticket
        t[0] += 2.0
    prios = [int(n[1]) for n in order]
    assert prios == sorted(prios, reverse=True) and len(order) == 9
    # estimates: hold time learned (2 s); the k-th in line waits about (k+1) holds
    eng.request(Request("h", "model:n"))
    est = eng.request(Request("w", "model:m"))
    assert isinstance(est, Grant)  # model:m is free now
    assert eng.queues()["model:m"]["mean_hold_s"] == pytest.approx(2.0)
    g = eng.request(Request("a", "model:m"))
    q1 = eng.request(Request("b", "model:m"))
    q2 = eng.request(Request("c", "model:m"))
    assert isinstance(g, Queued) and isinstance(q1, Queued) and isinstance(q2, Queued)
    assert g.estimated_wait_s < q1.estimated_wait_s < q2.estimated_wait_s
    assert q2.estimated_wait_s == pytest.approx(3 * 2.0)


def test_quality_and_resource_strategies() -> None:
    pol = Policy(
        strategies={
            ConflictKind.MODEL_SLOT: Strategy.QUALITY,
            ConflictKind.OVERSUBSCRIPTION: Strategy.RESOURCE,
        }
    )
    eng = ArbitrationEngine(policy=pol)
    g = eng.request(Request("h", "model:m"))
    assert isinstance(g, Grant)
    for name, qual in (("lo", 0.1), ("hi", 0.9), ("mid", 0.5)):
        eng.request(Request(name, "model:m", priority=9 if name == "lo" else 0, quality=qual))
    assert eng.release(g.ticket)[0].request.requester == "hi"
    eng.declare("mem", 8)
    big = eng.request(Request("h", "mem", amount=8))
    assert isinstance(big, Grant)
    eng.request(Request("six", "mem", amount=6))
    eng.request(Request("two", "mem", amount=2))
    eng.request(Request("one", "mem", amount=1))
    got = [g.request.requester for g in eng.release(big.ticket)]
    assert got == ["one", "two"]  # smallest first; "six" no longer fits (3 used of 8)
    cfg = ArbitrationConfig(model_slot="quality")
    assert cfg.policy().strategy(ConflictKind.MODEL_SLOT) is Strategy.QUALITY
    with pytest.raises(ArbitrationError, match="bogus"):
        ArbitrationConfig(model_slot="bogus").policy()
    with pytest.raises(ArbitrationError, match="weights"):
        ArbitrationConfig(weights={"a": 0}).policy()


def test_resolve_contract_and_audit() -> None:
    sink = ListSink()
    eng = ArbitrationEngine(sink=sink)
    claims = (Claim("low", 1), Claim("high", 5), Claim("mid", 3), Claim("high-too", 5, 0.1))
    c = Conflict(ConflictId("c1"), "gpu-0", claims)
    r = eng.resolve(c)
    assert r.winner == "high-too" and r.ranking == ("high-too", "high", "mid", "low")
    assert eng.resolve(c) == r
    with pytest.raises(ArbitrationError):
        eng.resolve(Conflict(ConflictId("c3"), "r", ()))
    with pytest.raises(ArbitrationError):
        eng.resolve(Conflict(ConflictId("c4"), "r", (Claim("a", 1), Claim("a", 2))))
    g = eng.request(Request("x", "model:m"))
    eng.request(Request("y", "model:m"))
    assert isinstance(g, Grant)
    eng.release(g.ticket)
    actions = [d.action for d in eng.audit]
    assert actions == ["resolve", "resolve", "grant", "queue", "dispatch"]
    assert eng.decisions == len(eng.audit) == len(sink.events)
    assert [d.seq for d in eng.audit] == [1, 2, 3, 4, 5]
    assert eng.audit[3].reason == "all 1 slot(s) held"


@pytest.mark.parametrize(
    "weights", [{"a": 1, "b": 2, "c": 3, "d": 4}, {"x": 1, "y": 1, "z": 5}, {"solo": 2, "duo": 2}]
)
def test_weighted_fair_share_within_10_percent(weights: dict[str, float]) -> None:
    r = fairness_run(weights, steps=6000, window=600)
    assert r["worst_deviation"] < 0.10, r  # type: ignore[operator]


def test_priority_beats_weight() -> None:
    eng = ArbitrationEngine(policy=Policy(weights={"heavy": 100.0, "light": 1.0}))
    g = eng.request(Request("h", "model:m"))
    assert isinstance(g, Grant)
    for _ in range(5):
        eng.request(Request("heavy", "model:m", priority=0))
        eng.request(Request("light", "model:m", priority=1))
    got: list[str] = []
    t = g.ticket
    while gs := eng.release(t):
        got.append(gs[0].request.requester)
        t = gs[0].ticket
    assert got == ["light"] * 5 + ["heavy"] * 5


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 3)), min_size=1, max_size=40))
def test_every_queued_request_is_eventually_granted_once(reqs: list[tuple[str, int]]) -> None:
    eng = ArbitrationEngine()
    eng.declare("model:m", 2)
    held: list[int] = []
    for who, prio in reqs:
        res = eng.request(Request(who, "model:m", priority=prio))
        if isinstance(res, Grant):
            held.append(res.ticket)
    granted = len(held)
    while held:
        for g in eng.release(held.pop(0)):
            held.append(g.ticket)
            granted += 1
    assert granted == len(reqs)
    assert eng.queues()["model:m"]["waiting"] == 0 and eng.queues()["model:m"]["used"] == 0


async def test_acquire_waits_and_cancel_withdraws() -> None:
    eng = ArbitrationEngine()
    g = await eng.acquire(Request("a", "model:m"))
    got: list[Grant] = []

    async def waiter() -> None:
        got.append(await eng.acquire(Request("b", "model:m")))

    async with trio.open_nursery() as n:
        n.start_soon(waiter)
        with trio.move_on_after(0.01):
            await eng.acquire(Request("c", "model:m"))  # cancelled while queued
        await trio.sleep(0.01)
        assert not got
        eng.release(g.ticket)
    assert got and got[0].request.requester == "b"
    assert eng.queues()["model:m"]["waiting"] == 0
    assert "cancel" in [d.action for d in eng.audit]
