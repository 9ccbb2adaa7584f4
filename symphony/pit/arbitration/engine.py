"""The Arbitration Engine (seed M3.4): conflicts, strategies, fair queues, audit log.

**Resources** are named strings with a kind decided by their prefix:

=================  ====================  ==============================================
prefix             kind                  a conflict when …
=================  ====================  ==============================================
``model:``         slots (default 1)     all slots of the model are held
``buffer:``        byte ranges           a *writer* range overlaps another requester's
``artifact:``      exclusive name        another requester is writing that name
anything else      capacity (default 1)  used + amount would exceed the capacity
=================  ====================  ==============================================

(:meth:`ArbitrationEngine.declare` sets slots or capacity.) :meth:`request` grants at once
when there is no conflict; otherwise it **classifies** the conflict
(:class:`ConflictKind`), queues the request and returns a :class:`Queued` ticket with its
position and a **wait-time estimate** (position in the serving order / slots x the
resource's EWMA hold time). When a holder releases, the engine picks the next request
with the resource's **strategy**, chosen per conflict kind by the :class:`Policy`:

- ``priority`` — strict priority classes; within a class, weighted fair queueing;
- ``quality`` — highest declared quality first (priority, then fair order break ties);
- ``resource`` — smallest amount first (best packing), then priority, then fair order.

**Fairness** is start-time fair queueing (SFQ): requester ``r`` with weight ``w_r`` gets
start tag ``S = max(V, F_r)`` and finish tag ``F_r = S + cost / w_r`` at enqueue time; ``V``
is the start tag of the request last dispatched. Backlogged requesters then receive
service in proportion to their weights (deviation bounded by one request's cost per
requester), and strict priority is kept because the priority is the first key.

Every decision — grant, queue, dispatch, explicit :meth:`resolve` — is a
:class:`Decision` appended to the audit log (bounded deque; all are counted and emitted to
the sink as ``pit.arbitration.decision``).

:meth:`resolve` is the PitPort entry point: rank a :class:`~symphony.ports.types.Conflict`'s
claims by the policy's strategy for the resource (default ``priority``; ties by quality,
then claimant id) — deterministic, so the same conflict resolves the same way.
"""

from __future__ import annotations

import collections
import enum
import heapq
import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import trio

from symphony.commons.config import config_section
from symphony.commons.errors import ArbitrationError
from symphony.commons.health import HealthStatus
from symphony.pit._sink import EventSink, NullSink
from symphony.ports.types import Conflict, Resolution

__all__ = [
    "ArbitrationConfig",
    "ArbitrationEngine",
    "ConflictKind",
    "Decision",
    "Grant",
    "Policy",
    "Queued",
    "Request",
    "Strategy",
    "resource_kind",
]


class ConflictKind(enum.StrEnum):
    """What two requests collide on."""

    MODEL_SLOT = "model_slot"
    BUFFER_RANGE = "buffer_range"
    ARTIFACT_NAME = "artifact_name"
    OVERSUBSCRIPTION = "oversubscription"


class Strategy(enum.StrEnum):
    """How the next holder is chosen."""

    PRIORITY = "priority"
    QUALITY = "quality"
    RESOURCE = "resource"


def resource_kind(resource: str) -> ConflictKind:
    """The conflict kind of ``resource`` from its prefix (see the module table)."""
    if resource.startswith("model:"):
        return ConflictKind.MODEL_SLOT
    if resource.startswith("buffer:"):
        return ConflictKind.BUFFER_RANGE
    if resource.startswith("artifact:"):
        return ConflictKind.ARTIFACT_NAME
    return ConflictKind.OVERSUBSCRIPTION


@dataclass(frozen=True, slots=True)
class Policy:
    """Which strategy per conflict kind, and each requester's fair-share weight."""

    strategies: Mapping[ConflictKind, Strategy] = field(
        default_factory=lambda: dict.fromkeys(ConflictKind, Strategy.PRIORITY)
    )
    weights: Mapping[str, float] = field(default_factory=dict)
    default_weight: float = 1.0

    def strategy(self, kind: ConflictKind) -> Strategy:
        """The strategy for ``kind`` (``priority`` if unset)."""
        return self.strategies.get(kind, Strategy.PRIORITY)

    def weight(self, requester: str) -> float:
        """``requester``'s weight."""
        return self.weights.get(requester, self.default_weight)


@config_section("pit_arbitration")
@dataclass(frozen=True, slots=True)
class ArbitrationConfig:
    """``[pit_arbitration]``: strategies per conflict kind, weights, audit size."""

    model_slot: str = "priority"
    buffer_range: str = "priority"
    artifact_name: str = "priority"
    oversubscription: str = "resource"
    weights: Mapping[str, float] = field(default_factory=dict)
    audit_max: int = 100_000
    hold_alpha: float = 0.2

    def policy(self) -> Policy:
        """The :class:`Policy` these settings describe.

        Raises:
            ArbitrationError: an unknown strategy name or a non-positive weight.
        """
        strategies: dict[ConflictKind, Strategy] = {}
        for kind in ConflictKind:
            name = getattr(self, kind.value)
            try:
                strategies[kind] = Strategy(name)
            except ValueError:
                raise ArbitrationError(
                    f"pit_arbitration.{kind.value}={name!r} is not one of "
                    f"{[s.value for s in Strategy]}"
                ) from None
        for who, w in self.weights.items():
            if not w > 0:
                raise ArbitrationError(f"pit_arbitration.weights[{who!r}]={w} must be > 0")
        return Policy(strategies, dict(self.weights))


@dataclass(frozen=True, slots=True)
class Request:
    """One requester wanting a resource.

    ``amount`` counts slots or capacity units; ``start``/``end`` is the byte range of a
    ``buffer:`` write; ``cost`` is the expected service (fair-share units).
    """

    requester: str
    resource: str
    priority: int = 0
    quality: float = 0.0
    amount: int = 1
    start: int = 0
    end: int = 0
    cost: float = 1.0


@dataclass(frozen=True, slots=True)
class Grant:
    """A granted request; give it back with :meth:`ArbitrationEngine.release`."""

    ticket: int
    request: Request


@dataclass(frozen=True, slots=True)
class Queued:
    """A request waiting behind a conflict."""

    ticket: int
    request: Request
    kind: ConflictKind
    position: int
    estimated_wait_s: float


@dataclass(frozen=True, slots=True)
class Decision:
    """One audit-log entry."""

    seq: int
    at: float
    action: str  # grant | queue | dispatch | resolve | cancel
    resource: str
    kind: str
    strategy: str
    winner: str
    ranking: tuple[str, ...]
    reason: str


class _Res:
    __slots__ = ("capacity", "heap", "hold_ewma", "holders", "kind", "used", "vtime")

    def __init__(self, kind: ConflictKind, capacity: int) -> None:
        self.kind, self.capacity = kind, capacity
        self.used = 0
        self.holders: dict[int, tuple[Request, float]] = {}
        self.heap: list[tuple[tuple[float, ...], int, Request, float]] = []
        self.vtime = 0.0
        self.hold_ewma = 0.0


class ArbitrationEngine:
    """Detects and resolves resource conflicts (see the module docstring)."""

    def __init__(
        self,
        config: ArbitrationConfig | None = None,
        *,
        policy: Policy | None = None,
        sink: EventSink | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config or ArbitrationConfig()
        self.policy = policy or self.config.policy()
        self._sink = sink or NullSink()
        self._clock = clock
        self._res: dict[str, _Res] = {}
        self._tickets = itertools.count(1)
        self._finish: dict[str, float] = collections.defaultdict(float)
        self._events: dict[int, trio.Event] = {}
        self._granted: dict[int, str] = {}
        self._queued: dict[int, str] = {}
        self.audit: collections.deque[Decision] = collections.deque(maxlen=self.config.audit_max)
        self.decisions = 0
        self.service: dict[str, float] = collections.defaultdict(float)
        self.conflicts: dict[ConflictKind, int] = dict.fromkeys(ConflictKind, 0)

    # ----------------------------------------------------------------- resources
    def declare(self, resource: str, capacity: int) -> None:
        """Set the slots (``model:``) or capacity (other) of ``resource``."""
        if capacity < 1:
            raise ArbitrationError(f"resource {resource!r}: capacity={capacity} must be >= 1")
        r = self._get(resource)
        r.capacity = capacity

    def _get(self, resource: str) -> _Res:
        r = self._res.get(resource)
        if r is None:
            if not resource:
                raise ArbitrationError("resource name must be non-empty")
            r = self._res[resource] = _Res(resource_kind(resource), 1)
        return r

    def _log(
        self,
        action: str,
        resource: str,
        kind: ConflictKind | str,
        strategy: str,
        winner: str,
        ranking: tuple[str, ...],
        reason: str,
    ) -> Decision:
        self.decisions += 1
        d = Decision(
            self.decisions,
            self._clock(),
            action,
            resource,
            str(kind),
            strategy,
            winner,
            ranking,
            reason,
        )
        self.audit.append(d)
        self._sink.emit(
            "pit.arbitration.decision",
            {
                "seq": d.seq,
                "action": action,
                "resource": resource,
                "kind": d.kind,
                "strategy": strategy,
                "winner": winner,
                "reason": reason,
            },
        )
        return d

    def _conflict(self, r: _Res, req: Request) -> str | None:
        """Why ``req`` cannot be granted now, or None."""
        kind = r.kind
        if kind is ConflictKind.BUFFER_RANGE:
            for other, _ in r.holders.values():
                if (
                    other.requester != req.requester
                    and other.start < req.end
                    and req.start < other.end
                ):
                    return (
                        f"[{req.start}, {req.end}) overlaps {other.requester}'s write "
                        f"[{other.start}, {other.end})"
                    )
            return None
        if kind is ConflictKind.ARTIFACT_NAME:
            for other, _ in r.holders.values():
                if other.requester != req.requester:
                    return f"{other.requester} is writing this name"
            return None
        if r.used + req.amount > r.capacity:
            if kind is ConflictKind.MODEL_SLOT:
                return f"all {r.capacity} slot(s) held"
            return f"used {r.used} + {req.amount} > capacity {r.capacity}"
        return None

    def _key(self, strategy: Strategy, req: Request, finish: float) -> tuple[float, ...]:
        if strategy is Strategy.QUALITY:
            return (-req.quality, -req.priority, finish)
        if strategy is Strategy.RESOURCE:
            return (float(req.amount), -req.priority, finish)
        return (-req.priority, finish)

    # ----------------------------------------------------------------- requests
    def request(self, req: Request) -> Grant | Queued:
        """Grant ``req`` now, or queue it behind the conflict (see the module docstring)."""
        if not req.requester:
            raise ArbitrationError("request requester must be non-empty")
        if req.amount < 1 or not req.cost > 0:
            raise ArbitrationError(
                f"request of {req.requester!r} for {req.resource!r}: amount={req.amount} must "
                f"be >= 1 and cost={req.cost} > 0"
            )
        r = self._get(req.resource)
        if req.amount > r.capacity and r.kind in (
            ConflictKind.MODEL_SLOT,
            ConflictKind.OVERSUBSCRIPTION,
        ):
            raise ArbitrationError(
                f"request of {req.requester!r} for {req.resource!r}: amount {req.amount} exceeds "
                f"capacity {r.capacity}"
            )
        if r.kind is ConflictKind.BUFFER_RANGE and req.end <= req.start:
            raise ArbitrationError(
                f"buffer request {req.resource!r} range [{req.start}, {req.end}) is empty"
            )
        ticket = next(self._tickets)
        why = self._conflict(r, req) if not r.heap else "requests are already waiting"
        if why is None:
            self._hold(r, ticket, req)
            self._log("grant", req.resource, r.kind, "-", req.requester, (req.requester,), "free")
            return Grant(ticket, req)
        self.conflicts[r.kind] += 1
        strategy = self.policy.strategy(r.kind)
        w = self.policy.weight(req.requester)
        start = max(r.vtime, self._finish[req.requester])
        finish = start + req.cost / w
        self._finish[req.requester] = finish
        key = self._key(strategy, req, finish)
        heapq.heappush(r.heap, (key, ticket, req, start))
        self._queued[ticket] = req.resource
        position = sum(1 for k, t, _r, _s in r.heap if (k, t) < (key, ticket))
        wait = (position // max(1, r.capacity) + 1) * r.hold_ewma
        holders = tuple(h.requester for h, _ in r.holders.values())
        self._log(
            "queue",
            req.resource,
            r.kind,
            strategy.value,
            holders[0] if holders else "",
            (*holders, req.requester),
            why,
        )
        return Queued(ticket, req, r.kind, position, wait)

    def _hold(self, r: _Res, ticket: int, req: Request) -> None:
        r.holders[ticket] = (req, self._clock())
        r.used += req.amount
        self._granted[ticket] = req.resource
        self.service[req.requester] += req.cost

    def release(self, ticket: int) -> list[Grant]:
        """Give back a granted ticket; returns the requests dispatched in its place."""
        resource = self._granted.pop(ticket, None)
        if resource is None:
            raise ArbitrationError(f"arbitration ticket {ticket} is not granted")
        r = self._res[resource]
        req, since = r.holders.pop(ticket)
        r.used -= req.amount
        held = self._clock() - since
        a = self.config.hold_alpha
        r.hold_ewma = held if r.hold_ewma == 0.0 else (1 - a) * r.hold_ewma + a * held
        return self._dispatch(r)

    def _dispatch(self, r: _Res) -> list[Grant]:
        out: list[Grant] = []
        strategy = self.policy.strategy(r.kind).value
        while r.heap:
            _key, ticket, req, start = r.heap[0]
            if self._conflict(r, req) is not None:
                break
            heapq.heappop(r.heap)
            del self._queued[ticket]
            r.vtime = start
            self._hold(r, ticket, req)
            waiting = tuple(q.requester for _, _, q, _ in heapq.nsmallest(8, r.heap))
            self._log(
                "dispatch",
                req.resource,
                r.kind,
                strategy,
                req.requester,
                (req.requester, *waiting),
                "released",
            )
            out.append(Grant(ticket, req))
            ev = self._events.pop(ticket, None)
            if ev is not None:
                ev.set()
        return out

    def cancel(self, ticket: int) -> None:
        """Withdraw a queued ticket."""
        resource = self._queued.pop(ticket, None)
        if resource is None:
            raise ArbitrationError(f"arbitration ticket {ticket} is not queued")
        r = self._res[resource]
        r.heap = [e for e in r.heap if e[1] != ticket]
        heapq.heapify(r.heap)
        self._log("cancel", resource, r.kind, "-", "", (), f"ticket {ticket} withdrawn")
        self._events.pop(ticket, None)
        self._dispatch(r)

    async def acquire(self, req: Request) -> Grant:
        """Wait until ``req`` is granted (cancellation withdraws it)."""
        res = self.request(req)
        if isinstance(res, Grant):
            return res
        ev = self._events[res.ticket] = trio.Event()
        try:
            await ev.wait()
        except BaseException:
            if res.ticket in self._queued:
                self.cancel(res.ticket)
            elif res.ticket in self._granted:
                self.release(res.ticket)
            raise
        return Grant(res.ticket, req)

    # ----------------------------------------------------------------- port
    def resolve(self, conflict: Conflict) -> Resolution:
        """Rank the claims of ``conflict`` (the PitPort ``resolve_conflict``).

        Raises:
            ArbitrationError: no claims, or a claimant twice.
        """
        claims = conflict.claims
        if not claims:
            raise ArbitrationError(f"conflict {conflict.conflict_id!s} has no claims")
        names = [c.claimant for c in claims]
        if len(set(names)) != len(names):
            raise ArbitrationError(f"conflict {conflict.conflict_id!s}: a claimant claims twice")
        kind = resource_kind(conflict.resource)
        strategy = self.policy.strategy(kind)
        if strategy is Strategy.QUALITY:
            keys: list[tuple[tuple[float, float], str]] = [
                ((-c.quality, -c.priority), c.claimant) for c in claims
            ]
        else:  # priority (resource-based needs amounts a Claim does not carry)
            keys = [((-c.priority, -c.quality), c.claimant) for c in claims]
        keys.sort()
        ranking = tuple(name for _, name in keys)
        self.conflicts[kind] += 1
        self._log(
            "resolve",
            conflict.resource,
            kind,
            strategy.value,
            ranking[0],
            ranking,
            f"conflict {conflict.conflict_id!s}",
        )
        return Resolution(conflict.conflict_id, ranking[0], ranking, strategy.value)

    # ----------------------------------------------------------------- observation
    def queues(self) -> dict[str, dict[str, object]]:
        """Per resource: kind, capacity, used, holders, waiting, mean hold seconds."""
        return {
            name: {
                "kind": r.kind.value,
                "capacity": r.capacity,
                "used": r.used,
                "holders": [q.requester for q, _ in r.holders.values()],
                "waiting": len(r.heap),
                "mean_hold_s": r.hold_ewma,
            }
            for name, r in self._res.items()
        }

    def shares(self) -> dict[str, float]:
        """Each requester's fraction of all service granted so far."""
        total = sum(self.service.values()) or 1.0
        return {k: v / total for k, v in self.service.items()}

    def health(self) -> HealthStatus:
        """HEALTHY; DEGRADED when more than 1000 requests wait."""
        waiting = sum(len(r.heap) for r in self._res.values())
        return HealthStatus.DEGRADED if waiting > 1000 else HealthStatus.HEALTHY

    async def run(
        self, *, task_status: trio.TaskStatus[ArbitrationEngine] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """The engine is passive (decisions happen in callers); this serves until cancelled
        and, on cancellation, wakes no one: queued :meth:`acquire` callers are cancelled by
        their own scopes."""
        task_status.started(self)
        await trio.sleep_forever()
