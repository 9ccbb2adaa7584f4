"""A simulated year of artifact usage under the Stale Manager.

Deterministic (seeded). Every day ``per_day`` artifacts are created (sizes 256 B-8 KiB of
compressible text-like bytes) in four classes:

- ``ephemeral`` (70 %): read a few times in the first days, then never;
- ``periodic`` (15 %): read roughly every ``period`` days all year (reports, indexes);
- ``high_value`` (10 %): explicit value 0.9, read rarely;
- ``training`` (5 %): training data, flagged, read rarely.

The manager runs ``mark`` + ``sweep`` every ``run_every`` days. Cost is integrated daily
(stored bytes x tier price) and compared with the baseline that keeps everything hot. At
the end every high-value, training and pinned item is read back and checked against its
SHA-256; reads of items the manager deleted are counted as ``misses`` (only ever
low-value, long-idle items).
"""

from __future__ import annotations

import hashlib
import random
import uuid

from symphony.pit.stale.manager import (
    DAY,
    DictHotStore,
    FsspecTier,
    RetentionPolicy,
    StaleManager,
    Tier,
)

__all__ = ["simulate_year"]

_WORDS = (
    b"model run node artifact tensor batch epoch loss metric shard index vector token "
    b"prompt output layer weight report summary"
).split()


def _blob(rng: random.Random, n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        out += rng.choice(_WORDS) + b" " + str(rng.randrange(1000)).encode() + b" "
    return bytes(out[:n])


def simulate_year(
    *,
    days: int = 365,
    per_day: int = 12,
    run_every: int = 1,
    period: int = 20,
    seed: int = 0,
    warm_url: str | None = None,
    cold_url: str | None = None,
    policy: RetentionPolicy | None = None,
) -> dict[str, float]:
    """Run the simulation; return baseline/managed cost, reduction and safety figures."""
    rng = random.Random(seed)
    tag = uuid.uuid4().hex[:8]
    warm = FsspecTier(warm_url or f"memory://symphony-sim-{tag}/warm")
    cold = FsspecTier(cold_url or f"memory://symphony-sim-{tag}/cold")
    m = StaleManager(DictHotStore(), warm, cold, policy=policy or RetentionPolicy())
    kinds: dict[str, str] = {}
    digests: dict[str, str] = {}
    baseline = managed = 0.0
    baseline_bytes = 0
    misses = reads = 0
    hot_price = m.costs.hot
    for day in range(days):
        now = day * DAY
        for _ in range(per_day):
            key = f"a{len(kinds)}"
            kind = rng.choices(
                ("ephemeral", "periodic", "high_value", "training"), weights=(70, 15, 10, 5)
            )[0]
            data = _blob(rng, rng.randint(256, 8192))
            m.put(
                key,
                data,
                value=0.9 if kind == "high_value" else rng.random() * 0.3,
                training=kind == "training",
                pinned=kind == "high_value" and rng.random() < 0.2,
                now=now,
            )
            kinds[key] = kind
            digests[key] = hashlib.sha256(data).hexdigest()
            baseline_bytes += len(data)
        # reads of the day
        for key, kind in kinds.items():
            item = m.items[key]
            age_days = (now - item.created) / DAY
            if kind == "ephemeral":
                p = 0.5 if age_days < 3 else 0.0005
            elif kind == "periodic":
                p = 1.0 / period
            else:
                p = 0.004
            if rng.random() < p:
                reads += 1
                try:
                    m.get(key, now=now + 3600)
                except LookupError:
                    misses += 1
        if day % run_every == 0:
            m.mark(now + 7200)
            m.sweep(now + 7200)
        baseline += baseline_bytes * hot_price
        managed += m.storage_cost()
    lost_high_value = 0
    for key, kind in kinds.items():
        item = m.items[key]
        if kind in ("high_value", "training") or item.pinned:
            try:
                ok = hashlib.sha256(m.get(key, now=days * DAY)).hexdigest() == digests[key]
            except LookupError:
                ok = False
            lost_high_value += not ok
    tiers = m.tiers()
    return {
        "baseline_cost": baseline,
        "managed_cost": managed,
        "reduction": 1.0 - managed / baseline,
        "items": float(len(kinds)),
        "deleted": float(tiers[Tier.DELETED.value]["items"]),
        "warm_items": float(tiers[Tier.WARM.value]["items"]),
        "cold_items": float(tiers[Tier.COLD.value]["items"]),
        "lost_high_value": float(lost_high_value),
        "reads": float(reads),
        "misses": float(misses),
    }
