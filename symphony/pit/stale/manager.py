"""The Stale Manager (seed M3.5): retention, tiers, archival, safe cleanup.

**Tiers.** ``hot`` is the primary store (a :class:`HotStore`: the artifact store through
:class:`ArtifactStoreHot`, or :class:`DictHotStore`); ``warm`` and ``cold`` are
:class:`FsspecTier` locations — any fsspec URL, a local directory by default
(``file://…``). Warm objects are zstd-compressed; cold objects are archived as written
(zstd too) under a different, cheaper location. Every object stays retrievable: :meth:`get`
reads whichever tier holds it and, with ``promote_on_access``, moves it back to hot.

**Retention** (:class:`RetentionPolicy`), evaluated per item at ``now``:

- idle (since last access) ≥ ``warm_after`` → demote hot → warm;
- idle ≥ ``cold_after`` → archive to cold;
- idle ≥ ``delete_after`` and age ≥ ``min_age`` and not *protected* → delete candidate.

*Protected* items are never deleted: ``pinned`` (also never demoted), ``training`` data
(preserved; may be archived), explicit ``value ≥ high_value``, or a value score
≥ ``keep_score``. The **value score** is
``0.6·value + 0.4·min(1, accesses/access_saturation)·exp(-idle/recency_s)``.

**Safety.** Cleanup is two-phase: :meth:`mark` flags delete candidates (recording the
time); :meth:`sweep` deletes only items marked at least ``grace`` seconds earlier that are
*still* candidates (an access or a pin in between un-marks them) — and :meth:`_delete`
re-checks protection as its last step, raising
:class:`~symphony.commons.errors.StaleSafetyError` instead of deleting protected data.
:meth:`plan` is a dry run (the actions a sweep would take; nothing changes).

**Cost** (:meth:`storage_cost`) is bytes x a per-tier price per day (:class:`TierCosts`,
default hot 1.0 : warm 0.4 : cold 0.1, the ratio of common object-store classes).
"""

from __future__ import annotations

import enum
import hashlib
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import fsspec  # type: ignore[import-untyped]
import trio
import zstandard

from symphony.commons.config import config_section
from symphony.commons.errors import NotFoundError, StaleSafetyError, ValidationError
from symphony.commons.health import HealthStatus
from symphony.pit._sink import EventSink, NullSink

__all__ = [
    "Action",
    "ArtifactStoreHot",
    "DictHotStore",
    "FsspecTier",
    "HotStore",
    "Item",
    "RetentionPolicy",
    "StaleConfig",
    "StaleManager",
    "StaleService",
    "SweepReport",
    "Tier",
    "TierCosts",
]

DAY = 86400.0


class Tier(enum.StrEnum):
    """Where an item's bytes live."""

    HOT = "hot"
    WARM = "warm"
    COLD = "cold"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Thresholds of the retention rules (seconds; see the module docstring)."""

    warm_after: float = 14 * DAY
    cold_after: float = 60 * DAY
    delete_after: float = 120 * DAY
    min_age: float = 30 * DAY
    high_value: float = 0.8
    keep_score: float = 0.5
    access_saturation: float = 20.0
    recency_s: float = 30 * DAY
    grace: float = 1 * DAY
    promote_on_access: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.warm_after <= self.cold_after <= self.delete_after:
            raise ValidationError(
                "retention policy needs 0 <= warm_after <= cold_after <= delete_after, got "
                f"{self.warm_after}, {self.cold_after}, {self.delete_after}"
            )


@dataclass(frozen=True, slots=True)
class TierCosts:
    """Price per byte-day of each tier (relative units)."""

    hot: float = 1.0
    warm: float = 0.4
    cold: float = 0.1

    def of(self, tier: Tier) -> float:
        """The price of ``tier`` (0 for deleted)."""
        return {Tier.HOT: self.hot, Tier.WARM: self.warm, Tier.COLD: self.cold}.get(tier, 0.0)


@config_section("pit_stale")
@dataclass(frozen=True, slots=True)
class StaleConfig:
    """``[pit_stale]``: where the tiers live and how sweeps are paced."""

    warm_url: str = ""
    """fsspec URL of the warm tier ("" = ``<cold_url>/../warm`` style default by caller)."""
    cold_url: str = ""
    interval: float = 3600.0
    """Seconds between scheduled mark+sweep runs."""
    max_ops_per_s: float = 200.0
    """Sweep throttle: tier moves/deletes per second."""
    max_bytes_per_s: float = 64 * 1024 * 1024
    """Sweep throttle: bytes moved per second."""


@dataclass(slots=True)
class Item:
    """The catalog entry of one stored object."""

    key: str
    size: int
    created: float
    last_access: float
    digest: str
    accesses: int = 0
    value: float = 0.0
    pinned: bool = False
    training: bool = False
    tier: Tier = Tier.HOT
    stored_size: int = 0
    marked_at: float | None = None


@dataclass(frozen=True, slots=True)
class Action:
    """One step a sweep takes: ``demote`` (→warm), ``archive`` (→cold), ``delete``."""

    kind: str
    key: str
    size: int
    reason: str


@dataclass(slots=True)
class SweepReport:
    """What a sweep did (or, dry run, would do)."""

    dry_run: bool
    actions: list[Action] = field(default_factory=list)
    skipped: int = 0
    bytes_moved: int = 0


class HotStore(Protocol):
    """The primary store: bytes by key."""

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes of ``key`` (KeyError if absent)."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``."""
        ...


class DictHotStore:
    """An in-memory :class:`HotStore`."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> None:
        """Store."""
        self.data[key] = bytes(data)

    def get(self, key: str) -> bytes:
        """Fetch."""
        return self.data[key]

    def delete(self, key: str) -> None:
        """Remove."""
        self.data.pop(key, None)


class ArtifactStoreHot:
    """The artifact store as the hot tier; keys are artifact ids (or any ref it resolves).

    Demoting deletes the artifact from the store (its bytes move to warm/cold; run the
    store's ``gc`` to reclaim chunks); promoting puts the bytes back, which recreates the
    same content-addressed id. The store's versions, lineage and metadata of a demoted
    artifact are not carried along (the catalog keeps the stale manager's own fields).
    """

    def __init__(self, store: object) -> None:
        self.store = store
        self._alias: dict[str, str] = {}

    def put(self, key: str, data: bytes) -> None:
        """Store ``data``; remember the id if ``key`` is not it."""
        ref = self.store.put(data)  # type: ignore[attr-defined]
        if ref.id != key:
            self._alias[key] = ref.id

    def get(self, key: str) -> bytes:
        """The verified bytes."""
        data: bytes = self.store.get(self._alias.get(key, key))  # type: ignore[attr-defined]
        return data

    def delete(self, key: str) -> None:
        """Remove the artifact (absent is fine)."""
        try:
            self.store.delete(self._alias.pop(key, key))  # type: ignore[attr-defined]
        except LookupError:
            pass


class FsspecTier:
    """A tier at an fsspec URL; objects are zstd-compressed files named by key hash."""

    def __init__(self, url: str, *, level: int = 3) -> None:
        self.url = url.rstrip("/")
        self.fs, self.root = fsspec.core.url_to_fs(self.url)
        self.fs.makedirs(self.root, exist_ok=True)
        self._level = level

    def _path(self, key: str) -> str:
        h = hashlib.sha256(key.encode()).hexdigest()
        return f"{self.root}/{h[:2]}/{h}"

    def put(self, key: str, data: bytes) -> int:
        """Write compressed; return the stored size."""
        blob = zstandard.ZstdCompressor(level=self._level).compress(data)
        path = self._path(key)
        self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        with self.fs.open(path, "wb") as f:
            f.write(blob)
        return len(blob)

    def get(self, key: str) -> bytes:
        """Read and decompress."""
        with self.fs.open(self._path(key), "rb") as f:
            blob = f.read()
        return zstandard.ZstdDecompressor().decompress(blob)

    def delete(self, key: str) -> None:
        """Remove (absent is fine)."""
        path = self._path(key)
        if self.fs.exists(path):
            self.fs.rm(path)


class StaleManager:
    """The synchronous core: catalog, tiers, retention and two-phase cleanup.

    Thread-safe (one lock around catalog changes and each tier move), so
    :class:`StaleService` can run moves in worker threads while foreground reads go on.
    """

    def __init__(
        self,
        hot: HotStore,
        warm: FsspecTier,
        cold: FsspecTier,
        *,
        policy: RetentionPolicy | None = None,
        costs: TierCosts | None = None,
        sink: EventSink | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.hot, self.warm, self.cold = hot, warm, cold
        self.policy = policy or RetentionPolicy()
        self.costs = costs or TierCosts()
        self._sink = sink or NullSink()
        self._clock = clock
        self.items: dict[str, Item] = {}
        self.lock = threading.RLock()
        self.stats: dict[str, int] = {
            "puts": 0,
            "gets": 0,
            "hits.hot": 0,
            "hits.warm": 0,
            "hits.cold": 0,
            "misses": 0,
            "demoted": 0,
            "archived": 0,
            "deleted": 0,
            "promoted": 0,
            "unmarked": 0,
        }

    # ----------------------------------------------------------------- foreground
    def put(
        self,
        key: str,
        data: bytes,
        *,
        value: float = 0.0,
        pinned: bool = False,
        training: bool = False,
        now: float | None = None,
    ) -> Item:
        """Store ``data`` hot and catalog it (replacing an older item of that key)."""
        if not key:
            raise ValidationError("stale manager key must be non-empty")
        if not 0.0 <= value <= 1.0:
            raise ValidationError(f"item {key!r}: value={value} must be in [0, 1]")
        t = self._clock() if now is None else now
        with self.lock:
            old = self.items.get(key)
            if old is not None and old.tier is not Tier.DELETED:
                self._drop_bytes(old)
            self.hot.put(key, data)
            item = Item(
                key,
                len(data),
                t,
                t,
                hashlib.sha256(data).hexdigest(),
                value=value,
                pinned=pinned,
                training=training,
                stored_size=len(data),
            )
            self.items[key] = item
            self.stats["puts"] += 1
            return item

    def track(
        self,
        key: str,
        size: int,
        *,
        created: float,
        last_access: float | None = None,
        accesses: int = 0,
        value: float = 0.0,
        pinned: bool = False,
        training: bool = False,
    ) -> Item:
        """Catalog an object already in the hot store (e.g. an existing artifact)."""
        with self.lock:
            item = Item(
                key,
                size,
                created,
                created if last_access is None else last_access,
                "",
                accesses=accesses,
                value=value,
                pinned=pinned,
                training=training,
                stored_size=size,
            )
            self.items[key] = item
            return item

    def get(self, key: str, *, now: float | None = None) -> bytes:
        """The bytes of ``key`` from whichever tier holds them (promoting per policy).

        Raises:
            NotFoundError: unknown or deleted key.
        """
        t = self._clock() if now is None else now
        with self.lock:
            item = self.items.get(key)
            if item is None or item.tier is Tier.DELETED:
                self.stats["misses"] += 1
                raise NotFoundError(f"stale manager has no live item {key!r}")
            tier = item.tier
            if tier is Tier.HOT:
                data = self.hot.get(key)
            elif tier is Tier.WARM:
                data = self.warm.get(key)
            else:
                data = self.cold.get(key)
            self.stats["gets"] += 1
            self.stats[f"hits.{tier.value}"] += 1
            item.accesses += 1
            item.last_access = t
            if item.marked_at is not None:
                item.marked_at = None
                self.stats["unmarked"] += 1
            if tier is not Tier.HOT and self.policy.promote_on_access:
                self.hot.put(key, data)
                (self.warm if tier is Tier.WARM else self.cold).delete(key)
                item.tier, item.stored_size = Tier.HOT, item.size
                self.stats["promoted"] += 1
            return data

    def set_flags(
        self,
        key: str,
        *,
        pinned: bool | None = None,
        training: bool | None = None,
        value: float | None = None,
    ) -> None:
        """Change an item's protection (a pin also clears a pending deletion mark)."""
        with self.lock:
            item = self.items[key]
            if pinned is not None:
                item.pinned = pinned
            if training is not None:
                item.training = training
            if value is not None:
                item.value = value
            if self.protected(item, self._clock()):
                item.marked_at = None

    # ----------------------------------------------------------------- rules
    def score(self, item: Item, now: float) -> float:
        """The value score (module docstring)."""
        p = self.policy
        idle = max(0.0, now - item.last_access)
        use = min(1.0, item.accesses / p.access_saturation) * math.exp(-idle / p.recency_s)
        return 0.6 * item.value + 0.4 * use

    def protected(self, item: Item, now: float) -> bool:
        """Never deleted: pinned, training, high explicit value, or a high score."""
        return (
            item.pinned
            or item.training
            or item.value >= self.policy.high_value
            or self.score(item, now) >= self.policy.keep_score
        )

    def _wanted(self, item: Item, now: float) -> tuple[str, str] | None:
        p = self.policy
        if item.tier is Tier.DELETED or item.pinned:
            return None
        idle = now - item.last_access
        if (
            idle >= p.delete_after
            and now - item.created >= p.min_age
            and not self.protected(item, now)
        ):
            return ("delete", f"idle {idle / DAY:.0f} d, score {self.score(item, now):.2f}")
        if idle >= p.cold_after and item.tier is not Tier.COLD:
            return ("archive", f"idle {idle / DAY:.0f} d")
        if idle >= p.warm_after and item.tier is Tier.HOT:
            return ("demote", f"idle {idle / DAY:.0f} d")
        return None

    # ----------------------------------------------------------------- cleanup
    def mark(self, now: float | None = None) -> int:
        """Phase 1: flag delete candidates; un-flag items no longer candidates. Returns flagged."""
        t = self._clock() if now is None else now
        n = 0
        with self.lock:
            for item in self.items.values():
                want = self._wanted(item, t)
                if want is not None and want[0] == "delete":
                    if item.marked_at is None:
                        item.marked_at = t
                    n += 1
                elif item.marked_at is not None:
                    item.marked_at = None
                    self.stats["unmarked"] += 1
        return n

    def plan(self, now: float | None = None) -> list[Action]:
        """Dry run: the actions :meth:`sweep` would take at ``now`` (nothing changes)."""
        t = self._clock() if now is None else now
        out: list[Action] = []
        with self.lock:
            for item in self.items.values():
                want = self._wanted(item, t)
                if want is None:
                    continue
                kind, why = want
                if kind == "delete" and (
                    item.marked_at is None or t - item.marked_at < self.policy.grace
                ):
                    # not marked long enough: at most archive it now
                    if item.tier is Tier.COLD:
                        continue
                    kind, why = "archive", why + " (delete pending mark/grace)"
                out.append(Action(kind, item.key, item.size, why))
        return out

    def apply(self, action: Action, now: float | None = None) -> bool:
        """Phase 2 for one action: re-check it still applies, then do it. True if done.

        A move copies the bytes *outside* the lock (foreground reads go on meanwhile), then
        switches the catalog under the lock only if the item was not replaced, moved or
        deleted in between (else the copy is discarded), and drops the old bytes after.
        """
        t = self._clock() if now is None else now
        with self.lock:
            item = self.items.get(action.key)
            if item is None:
                return False
            want = self._wanted(item, t)
            if want is None:
                return False
            if action.kind == "delete":
                if (
                    want[0] != "delete"
                    or item.marked_at is None
                    or (t - item.marked_at < self.policy.grace)
                ):
                    return False
                self._delete(item, t)
                return True
            src = item.tier
            if (
                action.kind == "archive"
                and want[0] in ("archive", "delete")
                and src is not Tier.COLD
            ):
                to = Tier.COLD
            elif action.kind == "demote" and src is Tier.HOT and want[0] == "demote":
                to = Tier.WARM
            else:
                return False
        target = self.warm if to is Tier.WARM else self.cold
        try:
            data = self._read_tier(src, item.key)
            stored = target.put(item.key, data)
        except (OSError, LookupError):
            return False  # changed under us (e.g. replaced and dropped): next sweep decides
        with self.lock:
            if self.items.get(item.key) is not item or item.tier is not src:
                target.delete(item.key)
                return False
            item.tier, item.stored_size = to, stored
            self.stats["archived" if to is Tier.COLD else "demoted"] += 1
        self._drop_tier(src, item.key)
        self._sink.emit("pit.stale.move", {"key": item.key, "to": to.value})
        return True

    def sweep(self, now: float | None = None, *, dry_run: bool = False) -> SweepReport:
        """Run :meth:`plan` and apply each action (or, ``dry_run``, only report them)."""
        t = self._clock() if now is None else now
        report = SweepReport(dry_run)
        for action in self.plan(t):
            if dry_run:
                report.actions.append(action)
            elif self.apply(action, t):
                report.actions.append(action)
                report.bytes_moved += action.size
            else:
                report.skipped += 1
        return report

    def _read_tier(self, tier: Tier, key: str) -> bytes:
        if tier is Tier.HOT:
            return self.hot.get(key)
        return (self.warm if tier is Tier.WARM else self.cold).get(key)

    def _drop_tier(self, tier: Tier, key: str) -> None:
        if tier is Tier.HOT:
            self.hot.delete(key)
        elif tier is Tier.WARM:
            self.warm.delete(key)
        elif tier is Tier.COLD:
            self.cold.delete(key)

    def _drop_bytes(self, item: Item) -> None:
        if item.tier is Tier.HOT:
            self.hot.delete(item.key)
        elif item.tier is Tier.WARM:
            self.warm.delete(item.key)
        elif item.tier is Tier.COLD:
            self.cold.delete(item.key)

    def _delete(self, item: Item, now: float) -> None:
        if self.protected(item, now):  # the last line of defence
            raise StaleSafetyError(f"refusing to delete protected item {item.key!r}")
        self._drop_bytes(item)
        item.tier, item.stored_size, item.marked_at = Tier.DELETED, 0, None
        self.stats["deleted"] += 1
        self._sink.emit("pit.stale.delete", {"key": item.key})

    # ----------------------------------------------------------------- analytics
    def live(self) -> Iterator[Item]:
        """Items not deleted."""
        return (i for i in self.items.values() if i.tier is not Tier.DELETED)

    def storage_cost(self) -> float:
        """Cost per day of what is stored now (stored bytes x tier price)."""
        c = self.costs
        return sum(i.stored_size * c.of(i.tier) for i in self.items.values())

    def tiers(self) -> dict[str, dict[str, int]]:
        """Per tier: items and stored bytes."""
        out = {t.value: {"items": 0, "bytes": 0} for t in Tier}
        for i in self.items.values():
            out[i.tier.value]["items"] += 1
            out[i.tier.value]["bytes"] += i.stored_size
        return out

    def analytics(self, now: float | None = None) -> dict[str, object]:
        """Tier sizes, cost per day, hit rates per tier, protected counts, counters."""
        t = self._clock() if now is None else now
        with self.lock:
            live = list(self.live())
            return {
                "tiers": self.tiers(),
                "cost_per_day": self.storage_cost(),
                "protected": sum(1 for i in live if self.protected(i, t)),
                "pinned": sum(1 for i in live if i.pinned),
                "training": sum(1 for i in live if i.training),
                "marked": sum(1 for i in live if i.marked_at is not None),
                "counters": dict(self.stats),
            }


class StaleService:
    """The trio service: scheduled mark+sweep, throttled, moves in worker threads.

    Each action runs in a worker thread holding the manager's lock only for that one action,
    then the sweep sleeps as the throttle (``max_ops_per_s``, ``max_bytes_per_s``) requires,
    so foreground :meth:`get` calls — also run in threads — wait at most one action.
    """

    def __init__(self, manager: StaleManager, config: StaleConfig | None = None) -> None:
        self.manager = manager
        self.config = config or StaleConfig()
        self.runs = 0
        self.last_report: SweepReport | None = None
        self._running = False

    async def get(self, key: str) -> bytes:
        """Foreground read (worker thread)."""
        return await trio.to_thread.run_sync(self.manager.get, key)

    async def put(self, key: str, data: bytes, **flags: object) -> Item:
        """Foreground write (worker thread)."""
        return await trio.to_thread.run_sync(lambda: self.manager.put(key, data, **flags))  # type: ignore[arg-type]

    async def sweep_once(self, *, dry_run: bool = False) -> SweepReport:
        """Mark, then apply the plan action by action under the throttle."""
        m, cfg = self.manager, self.config
        await trio.to_thread.run_sync(m.mark)
        actions = await trio.to_thread.run_sync(m.plan)
        report = SweepReport(dry_run)
        for action in actions:
            if dry_run:
                report.actions.append(action)
                continue
            t0 = trio.current_time()
            done = await trio.to_thread.run_sync(m.apply, action)
            if done:
                report.actions.append(action)
                report.bytes_moved += action.size
            else:
                report.skipped += 1
            pause = max(1.0 / cfg.max_ops_per_s, action.size / cfg.max_bytes_per_s)
            await trio.sleep(max(0.0, pause - (trio.current_time() - t0)))
        self.runs += 1
        self.last_report = report
        return report

    async def run(
        self, *, task_status: trio.TaskStatus[StaleService] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Sweep every ``interval`` seconds until cancelled."""
        self._running = True
        try:
            task_status.started(self)
            while True:
                await trio.sleep(self.config.interval)
                await self.sweep_once()
        finally:
            self._running = False

    def health(self) -> HealthStatus:
        """HEALTHY while scheduled; DEGRADED when not running."""
        return HealthStatus.HEALTHY if self._running else HealthStatus.DEGRADED
