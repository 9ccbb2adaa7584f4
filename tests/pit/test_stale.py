"""Stale Manager: tiers, retention, archival via fsspec, two-phase safe cleanup, service."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from symphony.commons.errors import NotFoundError, StaleSafetyError, ValidationError
from symphony.commons.health import HealthStatus
from symphony.pit._sink import ListSink
from symphony.pit.stale import (
    DictHotStore,
    FsspecTier,
    RetentionPolicy,
    StaleConfig,
    StaleManager,
    StaleService,
    Tier,
)
from symphony.pit.stale.manager import DAY
from symphony.pit.stale.simulate import simulate_year

POLICY = RetentionPolicy(
    warm_after=10 * DAY, cold_after=30 * DAY, delete_after=60 * DAY, min_age=20 * DAY, grace=DAY
)


def _mgr(
    tmp_path: Path, policy: RetentionPolicy = POLICY, sink: ListSink | None = None
) -> StaleManager:
    return StaleManager(
        DictHotStore(),
        FsspecTier(f"file://{tmp_path}/warm"),
        FsspecTier(str(tmp_path / "cold")),
        policy=policy,
        sink=sink,
        clock=lambda: 0.0,
    )


def test_tiers_demote_archive_and_retrieve_from_local_directory(tmp_path: Path) -> None:
    sink = ListSink()
    m = _mgr(tmp_path, sink=sink)
    data = b"tensor " * 500
    m.put("a", data, now=0)
    assert m.sweep(5 * DAY).actions == []
    assert [a.kind for a in m.sweep(11 * DAY).actions] == ["demote"]
    assert m.items["a"].tier is Tier.WARM and m.items["a"].stored_size < len(data)
    assert any((tmp_path / "warm").rglob("*"))
    assert [a.kind for a in m.sweep(31 * DAY).actions] == ["archive"]
    assert m.items["a"].tier is Tier.COLD and any(
        p.is_file() for p in (tmp_path / "cold").rglob("*")
    )
    assert not any(p.is_file() for p in (tmp_path / "warm").rglob("*"))
    # retrievable from cold, and promoted back to hot by the access
    assert m.get("a", now=32 * DAY) == data
    assert m.items["a"].tier is Tier.HOT and m.stats["hits.cold"] == 1
    assert "pit.stale.move" in sink.topics()


def test_two_phase_delete_with_grace_and_dry_run(tmp_path: Path) -> None:
    m = _mgr(tmp_path)
    m.put("junk", b"x" * 100, now=0)
    m.put("keep", b"y" * 100, value=0.9, now=0)
    m.put("train", b"z" * 100, training=True, now=0)
    m.put("pin", b"p" * 100, pinned=True, now=0)
    t = 70 * DAY
    assert m.mark(t) == 1  # only junk is a delete candidate
    plan = m.plan(t)
    assert {(a.kind, a.key) for a in plan} == {
        ("archive", "junk"),
        ("archive", "keep"),
        ("archive", "train"),
    }
    dry = m.sweep(t, dry_run=True)
    assert dry.dry_run and len(dry.actions) == 3 and m.items["junk"].tier is Tier.HOT
    m.sweep(t)
    assert m.items["junk"].tier is Tier.COLD and m.items["pin"].tier is Tier.HOT
    # after the grace period the marked item goes; protected ones stay (archived)
    t2 = t + 2 * DAY
    report = m.sweep(t2)
    assert [(a.kind, a.key) for a in report.actions] == [("delete", "junk")]
    with pytest.raises(NotFoundError):
        m.get("junk")
    for key, payload in (("keep", b"y"), ("train", b"z"), ("pin", b"p")):
        assert m.get(key, now=t2) == payload * 100


def test_access_between_mark_and_sweep_saves_the_item(tmp_path: Path) -> None:
    m = _mgr(tmp_path)
    m.put("maybe", b"m" * 10, now=0)
    t = 70 * DAY
    m.mark(t)
    assert m.items["maybe"].marked_at == t
    m.get("maybe", now=t + 3600)
    assert m.items["maybe"].marked_at is None
    assert all(a.kind != "delete" for a in m.sweep(t + 2 * DAY).actions)
    # a pin between the phases also saves it
    m.mark(t + 200 * DAY)
    m.set_flags("maybe", pinned=True)
    assert m.sweep(t + 202 * DAY).actions == []
    assert m.get("maybe") == b"m" * 10


def test_delete_guard_refuses_protected(tmp_path: Path) -> None:
    m = _mgr(tmp_path)
    item = m.put("p", b"1", training=True, now=0)
    with pytest.raises(StaleSafetyError, match="'p'"):
        m._delete(item, 100 * DAY)
    with pytest.raises(ValidationError):
        m.put("v", b"", value=2.0)
    with pytest.raises(ValidationError):
        RetentionPolicy(warm_after=10, cold_after=5)


_op = st.one_of(
    st.tuples(st.just("put"), st.integers(0, 7), st.floats(0, 1), st.booleans(), st.booleans()),
    st.tuples(st.just("get"), st.integers(0, 7)),
    st.tuples(st.just("mark")),
    st.tuples(st.just("sweep")),
    st.tuples(st.just("advance"), st.integers(1, 100)),
    st.tuples(st.just("pin"), st.integers(0, 7)),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(_op, max_size=60))
def test_property_never_deletes_pinned_or_high_value(ops: list[tuple[object, ...]]) -> None:
    tag = uuid.uuid4().hex[:8]
    m = StaleManager(
        DictHotStore(),
        FsspecTier(f"memory://stale-prop-{tag}/warm"),
        FsspecTier(f"memory://stale-prop-{tag}/cold"),
        policy=POLICY,
    )
    now = 0.0
    protected: dict[str, bytes] = {}
    for op in ops:
        kind = op[0]
        if kind == "put":
            _, k, value, pinned, training = op
            key = f"k{k}"
            data = hashlib.sha256(f"{key}{now}".encode()).digest() * 4
            m.put(
                key, data, value=float(value), pinned=bool(pinned), training=bool(training), now=now
            )  # type: ignore[arg-type]
            if pinned or training or float(value) >= POLICY.high_value:  # type: ignore[arg-type]
                protected[key] = data
            else:
                protected.pop(key, None)
        elif kind == "get":
            try:
                m.get(f"k{op[1]}", now=now)
            except NotFoundError:
                pass
        elif kind == "mark":
            m.mark(now)
        elif kind == "sweep":
            m.sweep(now)
        elif kind == "advance":
            now += float(op[1]) * DAY  # type: ignore[arg-type]
        elif (
            kind == "pin"
            and f"k{op[1]}" in m.items
            and m.items[f"k{op[1]}"].tier is not Tier.DELETED
        ):
            m.set_flags(f"k{op[1]}", pinned=True)
            protected[f"k{op[1]}"] = m.get(f"k{op[1]}", now=now)
        for key in protected:
            assert m.items[key].tier is not Tier.DELETED
    for key, data in protected.items():
        assert m.get(key, now=now) == data


def test_simulated_year_cuts_cost_by_40_percent_losing_nothing_valuable(tmp_path: Path) -> None:
    r = simulate_year(days=365, per_day=4, run_every=7, seed=1, cold_url=str(tmp_path / "cold"))
    assert r["reduction"] >= 0.40, r
    assert r["lost_high_value"] == 0
    assert r["deleted"] > 0 and r["cold_items"] > 0


async def test_service_sweeps_on_schedule_and_foreground_keeps_going(tmp_path: Path) -> None:
    clock = [0.0]
    m = StaleManager(
        DictHotStore(),
        FsspecTier(str(tmp_path / "w")),
        FsspecTier(str(tmp_path / "c")),
        policy=POLICY,
        clock=lambda: clock[0],
    )
    for i in range(40):
        m.put(f"old{i}", bytes(2000), now=0)
    m.put("fresh", b"hello", now=0)
    svc = StaleService(m, StaleConfig(interval=0.01, max_ops_per_s=400))
    assert svc.health() is HealthStatus.DEGRADED
    clock[0] = 11 * DAY
    m.get("fresh", now=clock[0])
    reads_during = 0
    async with trio.open_nursery() as n:
        await n.start(svc.run)
        assert svc.health() is HealthStatus.HEALTHY
        while svc.runs == 0:
            assert await svc.get("fresh") == b"hello"  # foreground is served mid-sweep
            reads_during += 1
        n.cancel_scope.cancel()
    assert svc.last_report is not None and len(svc.last_report.actions) == 40
    assert reads_during > 1
    assert m.tiers()["warm"]["items"] == 40 and m.items["fresh"].tier is Tier.HOT
    dry = await svc.sweep_once(dry_run=True)
    assert dry.actions == []


def test_artifact_store_as_hot_tier_keeps_artifacts_retrievable(tmp_path: Path) -> None:
    from symphony.commons.errors import ArtifactNotFound
    from symphony.pit.artifacts import ArtifactStore
    from symphony.pit.stale import ArtifactStoreHot

    store = ArtifactStore(tmp_path / "store")
    try:
        data = b"lineage " * 1000
        ref = store.put(data)
        m = StaleManager(
            ArtifactStoreHot(store),
            FsspecTier(str(tmp_path / "w")),
            FsspecTier(f"file://{tmp_path}/c"),
            policy=POLICY,
        )
        m.track(ref.id, ref.size, created=0.0)
        m.sweep(40 * DAY)
        assert m.items[ref.id].tier is Tier.COLD
        with pytest.raises(ArtifactNotFound):
            store.get(ref.id)
        assert m.get(ref.id, now=41 * DAY) == data  # from cold, promoted back
        assert store.get(ref.id) == data and m.items[ref.id].tier is Tier.HOT
        m.put("named", b"other bytes", now=41 * DAY)
        assert m.get("named") == b"other bytes"
    finally:
        store.close()


def test_move_aborts_when_item_replaced_during_copy(tmp_path: Path) -> None:
    m = _mgr(tmp_path)
    m.put("k", b"old" * 100, now=0)
    real_put = m.warm.put

    def racing_put(key: str, data: bytes) -> int:
        n = real_put(key, data)
        m.put("k", b"new bytes", now=5 * DAY)  # foreground replaces it mid-move
        return n

    m.warm.put = racing_put  # type: ignore[method-assign]
    report = m.sweep(11 * DAY)
    assert report.actions == [] and report.skipped == 1
    assert m.items["k"].tier is Tier.HOT and m.get("k") == b"new bytes"
    assert not any(p.is_file() for p in (tmp_path / "warm").rglob("*"))  # copy discarded
