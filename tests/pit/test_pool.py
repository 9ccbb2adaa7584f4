"""Pool Manager: lifecycle table, real models, handles, LRU budget, concurrency, health."""

from __future__ import annotations

import math
import os
import signal
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
import trio
import trio.testing

from symphony.commons.errors import (
    DoubleFree,
    InvalidStateTransition,
    ModelFailed,
    ModelLoadError,
    ModelNotFound,
    ModelNotReady,
    PoolMemoryExhausted,
    StaleHandle,
)
from symphony.commons.health import HealthStatus
from symphony.pit._sink import ListSink
from symphony.pit.pool import (
    TRANSITIONS,
    HashingEmbedder,
    HashingEmbedderLoader,
    LoadedModel,
    MiniLMLoader,
    ModelState,
    PoolConfig,
    PoolManager,
    Predictor,
    SubprocessModel,
    SubprocessModelLoader,
    check_transition,
    write_hashing_weights,
)
from symphony.pit.pool.simulate import SimLoader, make_trace, replay

MiB = 1 << 20


def _cos(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


# --------------------------------------------------------------------------- lifecycle
def test_transition_table_is_exactly_the_documented_cycle() -> None:
    S = ModelState
    cycle = [(S.COLD, S.WARMING), (S.WARMING, S.HOT), (S.HOT, S.COOLING), (S.COOLING, S.COLD)]
    for pair in cycle:
        assert pair in TRANSITIONS
    for old in S:
        for new in S:
            if (old, new) in TRANSITIONS:
                assert check_transition("m", old, new) is new
            else:
                with pytest.raises(InvalidStateTransition, match="m"):
                    check_transition("m", old, new)
    assert (S.COLD, S.HOT) not in TRANSITIONS and (S.HOT, S.COLD) not in TRANSITIONS


# --------------------------------------------------------------------------- real models
async def test_hashing_embedder_is_deterministic_and_meaningful(tmp_path: Path) -> None:
    path = write_hashing_weights(tmp_path / "w.bin", dim=256, seed=7)
    assert (
        path.read_bytes()
        == write_hashing_weights(tmp_path / "w2.bin", dim=256, seed=7).read_bytes()
    )
    model = HashingEmbedder.from_file(path)
    [a, b, c] = await model.infer(
        ["the cat sat on the mat", "a cat sat on a mat", "quarterly revenue grew strongly"]
    )
    assert len(a) == 256 and math.isclose(_cos(a, a), 1.0, rel_tol=1e-9)
    assert _cos(a, b) > _cos(a, c)
    assert await model.infer([""]) == [[0.0] * 256]
    await model.aclose()
    with pytest.raises(ModelFailed):
        await model.infer(["x"])


def test_hashing_weights_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"nope")
    with pytest.raises(ModelLoadError, match=r"bad\.bin"):
        HashingEmbedder.from_file(bad)
    with pytest.raises(ModelLoadError, match="missing"):
        HashingEmbedder.from_file(tmp_path / "missing.bin")


async def test_minilm_without_extra_is_a_clear_error() -> None:
    try:
        import sentence_transformers  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        async with trio.open_nursery() as n:
            with pytest.raises(ModelLoadError, match=r"symphony\[models\]"):
                await MiniLMLoader().load(n)
    else:  # the extra is installed: it must really embed
        async with trio.open_nursery() as n:
            m = await MiniLMLoader().load(n)
            [v] = await m.infer(["hello"])
            assert len(v) == 384
            await m.aclose()


@pytest.fixture
async def pool(tmp_path: Path) -> AsyncIterator[PoolManager]:
    p = PoolManager(PoolConfig(memory_budget=64 * MiB, tick=0.02, idle_ttl=0))
    p.register("emb", HashingEmbedderLoader(tmp_path / "emb.bin", dim=128))
    async with trio.open_nursery() as n:
        await n.start(p.run)
        yield p
        n.cancel_scope.cancel()


async def test_allocate_release_handles(pool: PoolManager) -> None:
    assert pool.state("emb") is ModelState.COLD
    with pytest.raises(ModelNotReady):
        pool.acquire_nowait("emb")
    h1 = await pool.allocate("emb")
    assert pool.state("emb") is ModelState.HOT
    h2 = pool.acquire_nowait("emb")
    assert h1 != h2 and h1 != 0
    assert pool.model_id_of(h1) == "emb"
    [v] = await pool.model(h2).infer(["hello world"])
    assert len(v) == 128
    assert pool.metrics()["models"]["emb"]["refs"] == 2  # type: ignore[index]
    pool.release(h1)
    with pytest.raises(DoubleFree):
        pool.release(h1)
    with pytest.raises(StaleHandle):
        pool.release(0xDEAD_0000_0001)
    with pytest.raises(StaleHandle):
        pool.model(h1)
    pool.release(h2)
    with pytest.raises(ModelNotFound, match="nope"):
        await pool.allocate("nope")
    with pytest.raises(ModelNotFound):
        pool.acquire_nowait("nope")
    # a recycled block gives a new handle; the old one stays stale
    h3 = pool.acquire_nowait("emb")
    assert h3 not in (h1, h2)
    with pytest.raises(StaleHandle):
        pool.release(h1)
    pool.release(h3)
    assert pool.health() is HealthStatus.HEALTHY


async def test_concurrent_allocation_shares_one_load(tmp_path: Path) -> None:
    loads = []

    class Counting(SimLoader):
        async def load(self, nursery: trio.Nursery) -> LoadedModel:
            loads.append(1)
            return await super().load(nursery)

    p = PoolManager(PoolConfig(memory_budget=8 * MiB, tick=0.01, idle_ttl=0))
    p.register("m", Counting(0.05, MiB))
    handles: list[int] = []

    async def worker() -> None:
        for _ in range(20):
            h = await p.allocate("m")
            handles.append(h)
            await trio.sleep(0)
            p.release(h)

    async with trio.open_nursery() as n:
        await n.start(p.run)
        async with trio.open_nursery() as w:
            for _ in range(50):
                w.start_soon(worker)
        n.cancel_scope.cancel()
    assert len(loads) == 1
    assert len(handles) == 1000
    assert p.metrics()["handles_live"] == 0
    assert p.state("m") is ModelState.COLD  # closed at shutdown


async def test_lru_eviction_keeps_memory_within_budget() -> None:
    sink = ListSink()
    p = PoolManager(
        PoolConfig(memory_budget=3 * MiB, tick=0.01, idle_ttl=0, prewarm=False), sink=sink
    )
    for i in range(6):
        p.register(f"m{i}", SimLoader(0.01, MiB))
    with pytest.raises(PoolMemoryExhausted):
        p.register("huge", SimLoader(0.01, 4 * MiB))
    seen: list[int] = []

    async def user(i: int) -> None:
        for k in range(10):
            h = await p.allocate(f"m{(i + k) % 6}")
            seen.append(p.memory_used)
            await trio.sleep(0.003)
            p.release(h)

    async with trio.open_nursery() as n:
        await n.start(p.run)
        # touch m0..m2, then m0 again: m1 is LRU and must be the one evicted for m3
        for mid in ("m0", "m1", "m2", "m0"):
            p.release(await p.allocate(mid))
        p.release(await p.allocate("m3"))
        assert p.state("m1") is ModelState.COLD
        assert {p.state(m) for m in ("m0", "m2", "m3")} == {ModelState.HOT}
        async with trio.open_nursery() as w:
            for i in range(3):
                w.start_soon(user, i)
        n.cancel_scope.cancel()
    assert max(seen) <= 3 * MiB and p.memory_peak <= 3 * MiB
    assert "pit.pool.evict" in sink.topics()
    assert p.memory_used == 0


async def test_waits_for_room_when_everything_is_held() -> None:
    p = PoolManager(PoolConfig(memory_budget=2 * MiB, tick=0.01, idle_ttl=0, prewarm=False))
    for i in range(3):
        p.register(f"m{i}", SimLoader(0.0, MiB))
    async with trio.open_nursery() as n:
        await n.start(p.run)
        h0, h1 = await p.allocate("m0"), await p.allocate("m1")
        got: list[int] = []

        async def third() -> None:
            got.append(await p.allocate("m2"))

        n.start_soon(third)
        await trio.sleep(0.05)
        assert not got and p.state("m2") is ModelState.WARMING
        p.release(h0)
        await trio.sleep(0.05)
        assert got and p.state("m0") is ModelState.COLD
        assert p.memory_peak <= 2 * MiB
        p.release(h1)
        p.release(got[0])
        n.cancel_scope.cancel()


async def test_idle_models_are_cooled(autojump_clock: trio.testing.MockClock) -> None:
    p = PoolManager(
        PoolConfig(memory_budget=4 * MiB, tick=0.5, idle_ttl=10, prewarm=False),
        clock=trio.current_time,
    )
    p.register("m", SimLoader(1.0, MiB))
    async with trio.open_nursery() as n:
        await n.start(p.run)
        p.release(await p.allocate("m"))
        await trio.sleep(5)
        assert p.state("m") is ModelState.HOT
        await trio.sleep(10)
        assert p.state("m") is ModelState.COLD and p.memory_used == 0
        n.cancel_scope.cancel()


async def test_failed_load_then_retry(tmp_path: Path) -> None:
    p = PoolManager(PoolConfig(memory_budget=4 * MiB, tick=0.01, prewarm=False))
    p.register("w", HashingEmbedderLoader(tmp_path / "absent.bin", create=False))
    async with trio.open_nursery() as n:
        await n.start(p.run)
        with pytest.raises(ModelLoadError, match=r"absent\.bin"):
            await p.allocate("w")
        assert p.state("w") is ModelState.FAILED
        assert p.health() is HealthStatus.DEGRADED
        write_hashing_weights(tmp_path / "absent.bin", dim=64)
        p.release(await p.allocate("w"))  # FAILED -> WARMING -> HOT
        assert (
            p.state("w") is ModelState.HOT
            and p.memory_used == p.metrics()["models"]["w"]["memory_bytes"]
        )  # type: ignore[index]
        n.cancel_scope.cancel()


# --------------------------------------------------------------------------- hosted model
async def test_subprocess_model_killed_is_detected_within_1s_and_restarted(tmp_path: Path) -> None:
    sink = ListSink()
    p = PoolManager(PoolConfig(memory_budget=256 * MiB, tick=0.02, max_restarts=1), sink=sink)
    p.register("hosted", SubprocessModelLoader(weights=tmp_path / "h.bin", dim=64))
    async with trio.open_nursery() as n:
        await n.start(p.run)
        h = await p.allocate("hosted")
        model = p.model(h)
        assert isinstance(model, SubprocessModel)
        [v] = await model.infer(["hello there"])
        local = HashingEmbedder.from_file(tmp_path / "h.bin")
        assert v == pytest.approx(local.embed_one("hello there"))
        first_pid = model.pid
        os.kill(first_pid, signal.SIGKILL)
        t0 = trio.current_time()
        while p.state("hosted") is ModelState.HOT and p.model(h) is model:
            await trio.sleep(0.005)
        assert trio.current_time() - t0 < 1.0 or pytest.fail("failure not detected within 1 s")
        assert not model.alive()
        with trio.fail_after(10):
            while p.state("hosted") is not ModelState.HOT:
                await trio.sleep(0.01)
        assert p.model(h).pid != first_pid  # the handle survives, the model was restarted
        [v2] = await p.model(h).infer(["hello there"])
        assert v2 == pytest.approx(v)
        # second failure exceeds max_restarts=1: marked FAILED, health degraded
        p.model(h).kill()  # type: ignore[attr-defined]
        with trio.fail_after(1):
            while p.state("hosted") is not ModelState.FAILED:
                await trio.sleep(0.005)
        await trio.sleep(0.1)
        assert p.state("hosted") is ModelState.FAILED
        assert p.health() is HealthStatus.DEGRADED
        with pytest.raises(ModelFailed):
            p.model(h)
        p.release(h)
        with pytest.raises(ModelFailed, match="failed"):
            await p.allocate("hosted")
        assert "pit.pool.failed" in sink.topics()
        n.cancel_scope.cancel()
    assert p.state("hosted") is ModelState.COLD


async def test_hung_subprocess_misses_heartbeats(tmp_path: Path) -> None:
    loader = SubprocessModelLoader(
        weights=tmp_path / "h.bin", dim=32, heartbeat_interval=0.1, heartbeat_timeout=0.3
    )
    async with trio.open_nursery() as n:
        model = await loader.load(n)
        assert isinstance(model, SubprocessModel)
        why: list[str] = []
        model.on_failure = why.append
        stdin = model._proc.stdin
        assert stdin is not None
        await stdin.send_all(b'{"id": 0, "op": "hang"}\n')
        t0 = trio.current_time()
        with trio.fail_after(2):
            while model.alive():
                await trio.sleep(0.01)
        assert trio.current_time() - t0 < 1.0
        assert why and "heartbeat" in why[0]
        await model.aclose()


async def test_graceful_shutdown_closes_hosted_children(tmp_path: Path) -> None:
    p = PoolManager(PoolConfig(memory_budget=256 * MiB, tick=0.02))
    p.register("hosted", SubprocessModelLoader(weights=tmp_path / "h.bin", dim=32))
    async with trio.open_nursery() as n:
        await n.start(p.run)
        h = await p.allocate("hosted")
        model = p.model(h)
        assert isinstance(model, SubprocessModel)
        p.release(h)
        n.cancel_scope.cancel()
    assert not model.alive() and model._proc.returncode is not None
    assert p.state("hosted") is ModelState.COLD and p.memory_used == 0


# --------------------------------------------------------------------------- prewarming
def test_predictor_learns_sequences_and_periods() -> None:
    pr = Predictor(threshold=0.3, session_gap=10)
    t = 0.0
    for _ in range(10):
        for m in ("a", "b", "c"):
            pr.observe(m, t, session="s")
            t += 1
        t += 20
    pr.observe("a", t, session="s")
    pred = dict(pr.predict(t))
    assert pred["b"] > 0.9 and pred["c"] > 0.8  # two steps ahead
    assert pr.successor_probability("a", "b") > 0.9
    per = Predictor(horizon=4)
    for k in range(6):
        per.observe("cron", 60.0 * k)
    assert "cron" not in dict(per.predict(300.0 + 10))
    assert dict(per.predict(300.0 + 58))["cron"] > 0.5
    with pytest.raises(ValueError):
        Predictor(alpha=0)


async def test_prewarming_cuts_cold_starts_by_half(autojump_clock: trio.testing.MockClock) -> None:
    trace = make_trace(jobs=150, seed=3)
    base = await replay(trace, prewarm=False)
    warm = await replay(trace, prewarm=True)
    assert base["allocations"] == warm["allocations"] == sum(len(j.models) for j in trace)
    assert warm["cold_starts"] <= 0.5 * base["cold_starts"], (base, warm)
    assert warm["total_wait_s"] < base["total_wait_s"]
    assert warm["memory_peak"] <= warm["memory_budget"]
    assert base["memory_peak"] <= base["memory_budget"]


async def test_metrics_and_analytics(pool: PoolManager) -> None:
    for _ in range(5):
        pool.release(await pool.allocate("emb"))
    await trio.sleep(0.05)  # a service pass feeds the predictor
    m = pool.metrics()
    assert m["allocations"] == 5 and m["cold_starts"] == 1
    a = pool.analytics()
    assert a["share"] == {"emb": 1.0}
    assert "emb" in a["patterns"]  # type: ignore[operator]


async def test_bus_sink_forwards_pool_events_in_order() -> None:
    from symphony.pit._sink import BusSink

    got: list[tuple[str, object, str]] = []

    class FakeBus:
        async def publish(self, topic: str, payload: object = None, *, source: str = "") -> int:
            got.append((topic, payload, source))
            return 1

    sink = BusSink(FakeBus(), max_buffer=2)
    for i in range(3):
        sink.emit("t", {"i": i})
    assert sink.dropped == 1
    async with trio.open_nursery() as n:
        await n.start(sink.run)
        await trio.sleep(0.01)
        n.cancel_scope.cancel()
    assert got == [("t", {"i": 0}, "pit"), ("t", {"i": 1}, "pit")]


async def test_pool_events_reach_the_real_bus() -> None:
    from symphony.bus.bus import Bus
    from symphony.pit._sink import BusSink

    bus = Bus("core")
    seen: list[object] = []
    bus.subscribe("pit.pool.*", lambda msg: seen.append(msg.payload))
    async with trio.open_nursery() as n:
        await n.start(bus.run)
        sink = BusSink(bus)
        await n.start(sink.run)
        p = PoolManager(PoolConfig(memory_budget=4 * MiB, tick=0.01), sink=sink)
        p.register("m", SimLoader(0.0, MiB))
        await n.start(p.run)
        p.release(await p.allocate("m"))
        with trio.fail_after(2):
            while len(seen) < 2:
                await trio.sleep(0.01)
        n.cancel_scope.cancel()
    assert seen[:2] == [
        {"model_id": "m", "from": "cold", "to": "warming"},
        {"model_id": "m", "from": "warming", "to": "hot"},
    ]


async def test_shutdown_waits_for_handles_then_closes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    p = PoolManager(
        PoolConfig(memory_budget=4 * MiB, tick=0.5, prewarm=False), clock=trio.current_time
    )
    p.register("a", SimLoader(0.1, MiB))
    p.register("b", SimLoader(0.1, MiB))
    async with trio.open_nursery() as n:
        await n.start(p.run)
        ha = await p.allocate("a")
        p.release(await p.allocate("b"))
        await p.cool("b")
        assert p.state("b") is ModelState.COLD
        with pytest.raises(ModelNotReady):
            await p.cool("a")  # held

        async def late_release() -> None:
            await trio.sleep(2)
            p.release(ha)

        n.start_soon(late_release)
        t0 = trio.current_time()
        await p.shutdown(grace=10)
        assert 2 <= trio.current_time() - t0 < 10  # waited for the handle, not the whole grace
        assert p.state("a") is ModelState.COLD and p.memory_used == 0
        with pytest.raises(ModelNotReady, match="shutting down"):
            await p.allocate("a")
        n.cancel_scope.cancel()
