"""The Pool Manager (seed M3.1): model lifecycle, allocation, LRU under a memory budget.

Allocation hands out **generation-tagged u64 handles** from the allocator kernel
(:class:`symphony.kernels.alloc.Arena` over a private buffer is the handle table): releasing
a handle twice raises :class:`~symphony.commons.errors.DoubleFree`, a forged or recycled one
:class:`~symphony.commons.errors.StaleHandle`.

- :meth:`PoolManager.acquire_nowait` is the synchronous cache-hit fast path: the model is
  HOT → a handle, a reference count +1, an LRU touch and a usage record (no awaits, no
  locks: trio code runs one task at a time). Otherwise :class:`ModelNotReady`.
- :meth:`PoolManager.allocate` waits: a COLD model is warmed (one load shared by every
  concurrent allocator), making room first by cooling least-recently-used models that
  nobody holds; if every other model is held it waits for a release (or its timeout).
- The memory accounted is each WARMING/HOT/COOLING model's size (the loader's estimate
  while warming, the model's real ``memory_bytes`` once loaded). It never exceeds
  ``memory_budget``: room is made before a load starts; a model that turns out larger than
  its estimate and cannot fit is closed again with :class:`PoolMemoryExhausted`.
- :meth:`PoolManager.run` is the trio service: it hosts model background tasks (subprocess
  heartbeats), feeds usage to the :class:`~.prewarm.Predictor`, prewarms predicted models
  that fit without evicting anything in use, cools models idle longer than ``idle_ttl``,
  restarts failed hosted models (up to ``max_restarts``, then marks them FAILED), and on
  cancellation closes every model (graceful shutdown).
"""

from __future__ import annotations

import collections
import math
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Final

import trio

from symphony.commons.config import config_section
from symphony.commons.errors import (
    ArenaExhausted,
    ModelFailed,
    ModelLoadError,
    ModelNotFound,
    ModelNotReady,
    PoolMemoryExhausted,
    StaleHandle,
    SymphonyTimeout,
    ValidationError,
)
from symphony.commons.health import HealthStatus
from symphony.kernels import alloc
from symphony.pit._sink import EventSink, NullSink
from symphony.pit.pool.lifecycle import ModelState, check_transition
from symphony.pit.pool.loaders import LoadedModel, ModelLoader
from symphony.pit.pool.prewarm import Predictor

__all__ = ["PoolConfig", "PoolManager"]

_HOT: Final = ModelState.HOT
_HANDLE_BLOCK: Final = 64


@config_section("pit_pool")
@dataclass(frozen=True, slots=True)
class PoolConfig:
    """``[pit_pool]``: the model pool."""

    memory_budget: int = 2 * 1024**3
    """Bytes all loaded models may use together."""
    max_handles: int = 65536
    """Handles that may be outstanding at once (size of the handle arena)."""
    idle_ttl: float = 600.0
    """Seconds a HOT model nobody holds stays loaded before it is cooled (0 = never)."""
    prewarm: bool = True
    """Warm models the predictor expects, in the background."""
    tick: float = 0.1
    """Seconds between service passes (usage → predictor, idle cooling, prewarming)."""
    max_restarts: int = 3
    """Restarts of a failed model before it is left FAILED."""
    max_concurrent_prewarms: int = 4
    """Background loads at once."""

    def __post_init__(self) -> None:
        if self.memory_budget <= 0:
            raise ValidationError(f"pit_pool.memory_budget={self.memory_budget} must be > 0")
        if not 1 <= self.max_handles <= 1 << 24:
            raise ValidationError(f"pit_pool.max_handles={self.max_handles} not in [1, 2**24]")
        if self.tick <= 0 or self.idle_ttl < 0:
            raise ValidationError("pit_pool.tick must be > 0 and idle_ttl >= 0")


def _is_hot(e: _Entry) -> bool:
    return e.state is _HOT


class _Entry:
    __slots__ = (
        "allocations",
        "cold_starts",
        "failure",
        "hits",
        "last_used",
        "load_seconds",
        "loader",
        "loads",
        "memory",
        "model",
        "model_id",
        "prewarm_hits",
        "prewarmed",
        "ready",
        "refs",
        "restarts",
        "state",
        "version",
    )

    def __init__(self, model_id: str, loader: ModelLoader, version: str | None) -> None:
        self.model_id, self.loader, self.version = model_id, loader, version
        self.state = ModelState.COLD
        self.model: LoadedModel | None = None
        self.refs = 0
        self.memory = 0
        self.last_used = -math.inf
        self.ready = trio.Event()
        self.failure: str | None = None
        self.restarts = self.loads = self.hits = self.allocations = self.cold_starts = 0
        self.prewarmed = False
        self.prewarm_hits = 0
        self.load_seconds = 0.0


class PoolManager:
    """Pooled models (see the module docstring).

    Args:
        config: :class:`PoolConfig` (defaults if None).
        sink: where lifecycle events go (``pit.pool.state``, ``pit.pool.evict`` …).
        clock: seconds, monotonic; pass ``trio.current_time`` to run on a trio (mock) clock.
        predictor: the prewarm predictor (a default :class:`Predictor` if None).
    """

    def __init__(
        self,
        config: PoolConfig | None = None,
        *,
        sink: EventSink | None = None,
        clock: Callable[[], float] = time.monotonic,
        predictor: Predictor | None = None,
    ) -> None:
        self.config = config or PoolConfig()
        self._sink = sink or NullSink()
        self._clock = clock
        self.predictor = predictor or Predictor()
        self._buf = bytearray(self.config.max_handles * (_HANDLE_BLOCK + 64) + 65536)
        self._arena = alloc.Arena.from_buffer(self._buf, create=True, size_classes=[_HANDLE_BLOCK])
        self._entries: dict[str, _Entry] = {}
        self._lru: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._owner: dict[int, _Entry] = {}
        self._usage: collections.deque[tuple[str, float, Hashable]] = collections.deque(
            maxlen=65536
        )
        self._memory = 0
        self._memory_peak = 0
        self._nursery: trio.Nursery | None = None
        self._room = trio.Event()
        self._room_waiters = 0
        self._prewarming = 0
        self._closing = False
        self._started = False
        self.counters: dict[str, int] = collections.Counter()

    # ----------------------------------------------------------------- registry
    def register(self, model_id: str, loader: ModelLoader, *, version: str | None = None) -> None:
        """Make ``model_id`` allocatable (COLD until first use or prewarm)."""
        if not model_id:
            raise ValidationError("pool model_id must be a non-empty string")
        if model_id in self._entries:
            raise ValidationError(f"pool model {model_id!r} is already registered")
        if loader.memory_estimate > self.config.memory_budget:
            raise PoolMemoryExhausted(
                f"pool model {model_id!r} needs ~{loader.memory_estimate} bytes, more than "
                f"pit_pool.memory_budget={self.config.memory_budget}"
            )
        self._entries[model_id] = _Entry(model_id, loader, version)

    def models(self) -> list[str]:
        """Registered model ids."""
        return list(self._entries)

    def state(self, model_id: str) -> ModelState:
        """The lifecycle state of ``model_id``."""
        return self._entry(model_id).state

    def _entry(self, model_id: str) -> _Entry:
        e = self._entries.get(model_id)
        if e is None:
            raise ModelNotFound(f"pool has no model {model_id!r}", details={"model_id": model_id})
        return e

    def _set_state(self, e: _Entry, new: ModelState) -> None:
        old = e.state
        e.state = check_transition(e.model_id, old, new)
        self.counters[f"transition.{old.value}->{new.value}"] += 1
        self._sink.emit(
            "pit.pool.state", {"model_id": e.model_id, "from": old.value, "to": new.value}
        )

    # ----------------------------------------------------------------- fast path
    def acquire_nowait(self, model_id: str, session: Hashable = None) -> int:
        """A handle on a HOT model, synchronously; :class:`ModelNotReady` otherwise.

        ``session`` groups allocations that follow each other (a workflow run) for the
        prewarm predictor; ``None`` is one shared session.

        Raises:
            ModelNotFound: unknown model. ModelNotReady: not HOT.
            ArenaExhausted: ``max_handles`` handles are outstanding.
        """
        e = self._entries.get(model_id)
        if e is None or e.state is not _HOT:
            if e is None:
                raise ModelNotFound(f"pool has no model {model_id!r}")
            raise ModelNotReady(f"pool model {model_id!r} is {e.state.value}, not hot")
        h: int = self._arena.alloc(1)
        self._owner[h] = e
        e.refs += 1
        e.hits += 1
        self._lru.move_to_end(model_id)
        t = self._clock()
        e.last_used = t
        self._usage.append((model_id, t, session))
        return h

    def release(self, handle: int) -> None:
        """Give ``handle`` back.

        Raises:
            DoubleFree: released already. StaleHandle: never handed out by this pool.
        """
        e = self._owner.pop(handle, None)
        if e is None:
            self._arena.free(handle)  # raises DoubleFree / StaleHandle with the reason
            raise StaleHandle(f"pool handle {handle:#x} was not handed out by this pool")
        self._arena.free(handle)
        e.refs -= 1
        if e.refs == 0 and self._room_waiters:
            self._room.set()

    def model(self, handle: int) -> LoadedModel:
        """The loaded model behind a live ``handle``.

        Raises:
            StaleHandle: not a live handle. ModelFailed: the model is not HOT right now.
        """
        e = self._owner.get(handle)
        if e is None:
            raise StaleHandle(f"pool handle {handle:#x} is not live")
        if e.model is None or e.state is not _HOT:
            raise ModelFailed(f"pool model {e.model_id!r} is {e.state.value}: {e.failure or ''}")
        return e.model

    def model_id_of(self, handle: int) -> str:
        """Which model a live ``handle`` holds."""
        e = self._owner.get(handle)
        if e is None:
            raise StaleHandle(f"pool handle {handle:#x} is not live")
        return e.model_id

    # ----------------------------------------------------------------- slow path
    async def allocate(
        self, model_id: str, *, session: Hashable = None, timeout: float | None = None
    ) -> int:
        """A handle on ``model_id``, warming it first if needed.

        Raises:
            ModelNotFound, ModelLoadError, ModelFailed (gave up after restarts),
            PoolMemoryExhausted (larger than the budget), SymphonyTimeout (no room in time).
        """
        e = self._entry(model_id)
        if e.state is _HOT:
            return self.acquire_nowait(model_id, session)
        e.cold_starts += 1
        self.counters["cold_starts"] += 1
        self.counters[f"cold_starts.{e.state.value}"] += 1
        with trio.move_on_after(math.inf if timeout is None else timeout) as scope:
            while not _is_hot(e):
                if self._closing:
                    raise ModelNotReady(f"pool is shutting down; {model_id!r} not allocated")
                if e.state is ModelState.COLD:
                    await self._warm(e, prewarm=False)
                elif e.state is ModelState.FAILED:
                    if e.restarts >= self.config.max_restarts and e.loads > 0:
                        raise ModelFailed(
                            f"pool model {model_id!r} failed {e.restarts + 1} times: {e.failure}"
                        )
                    await self._warm(e, prewarm=False)
                else:  # WARMING or COOLING: wait for the transition in progress
                    await e.ready.wait()
        if scope.cancelled_caught:
            raise SymphonyTimeout(f"allocating pool model {model_id!r}: no room in {timeout} s")
        return self.acquire_nowait(model_id, session)

    def _nursery_or_raise(self) -> trio.Nursery:
        if self._nursery is None:
            raise ModelNotReady("the pool service is not running (start PoolManager.run)")
        return self._nursery

    def _victims(self, exclude: _Entry, protect: frozenset[str] = frozenset()) -> list[_Entry]:
        return [
            v
            for mid in self._lru
            if (v := self._entries[mid]) is not exclude
            and v.state is _HOT
            and v.refs == 0
            and mid not in protect
        ]

    async def _make_room(
        self, e: _Entry, nbytes: int, *, wait: bool, protect: frozenset[str] = frozenset()
    ) -> bool:
        budget = self.config.memory_budget
        while self._memory + nbytes > budget:
            victims = self._victims(e, protect)
            if victims:
                await self._cool(victims[0], reason="lru")
                continue
            if not wait:
                return False
            if self._room.is_set():
                self._room = trio.Event()
            self._room_waiters += 1
            try:
                await self._room.wait()
            finally:
                self._room_waiters -= 1
        return True

    async def _warm(
        self, e: _Entry, *, prewarm: bool, protect: frozenset[str] = frozenset()
    ) -> None:
        nursery = self._nursery_or_raise()
        est = e.loader.memory_estimate
        # Reserve before loading, so a concurrent load cannot overshoot the budget.
        self._set_state(e, ModelState.WARMING)
        e.ready = trio.Event()
        try:
            if not await self._make_room(e, est, wait=not prewarm, protect=protect):
                self._set_state(e, ModelState.COLD)
                self.counters["prewarm_no_room"] += 1
                e.ready.set()
                return
        except BaseException:
            self._set_state(e, ModelState.FAILED)
            e.failure = "cancelled while making room"
            e.ready.set()
            raise
        self._charge(est)
        e.memory = est
        t0 = self._clock()
        try:
            model = await e.loader.load(nursery)
        except BaseException as exc:
            self._charge(-est)
            e.memory = 0
            e.failure = f"{type(exc).__name__}: {exc}"
            self._set_state(e, ModelState.FAILED)
            e.ready.set()
            if isinstance(exc, Exception) and not isinstance(exc, ModelLoadError):
                raise ModelLoadError(f"loading pool model {e.model_id!r}: {exc}") from exc
            raise
        e.loads += 1
        e.load_seconds += self._clock() - t0
        actual = model.memory_bytes
        if actual > est and not await self._make_room(e, actual - est, wait=False):
            self._charge(-est)
            e.memory = 0
            e.failure = f"loaded size {actual} does not fit the budget"
            self._set_state(e, ModelState.FAILED)
            e.ready.set()
            await model.aclose()
            raise PoolMemoryExhausted(f"pool model {e.model_id!r}: {e.failure}")
        self._charge(actual - est)
        e.memory = actual
        e.model = model
        e.failure = None
        e.prewarmed = prewarm
        self._lru[e.model_id] = None
        self._lru.move_to_end(e.model_id)
        e.last_used = self._clock()
        if hasattr(model, "on_failure"):
            model.on_failure = lambda why, e=e: self._on_failure(e, why)
        self._set_state(e, _HOT)
        e.ready.set()
        if not model.alive():
            self._on_failure(e, "died while loading")

    def _charge(self, delta: int) -> None:
        self._memory += delta
        if self._memory > self._memory_peak:
            self._memory_peak = self._memory

    async def _cool(self, e: _Entry, *, reason: str) -> None:
        self._set_state(e, ModelState.COOLING)
        e.ready = trio.Event()
        self._lru.pop(e.model_id, None)
        model, e.model = e.model, None
        self.counters[f"cooled.{reason}"] += 1
        self._sink.emit("pit.pool.evict", {"model_id": e.model_id, "reason": reason})
        try:
            if model is not None:
                with trio.CancelScope(shield=True):
                    await model.aclose()
        finally:
            self._charge(-e.memory)
            e.memory = 0
            self._set_state(e, ModelState.COLD)
            e.ready.set()
            if self._room_waiters:
                self._room.set()

    def _on_failure(self, e: _Entry, why: str) -> None:
        if e.state is not _HOT:
            return
        e.failure = why
        self.counters["failures"] += 1
        self._set_state(e, ModelState.FAILED)
        e.ready = trio.Event()
        self._lru.pop(e.model_id, None)
        model, e.model = e.model, None
        self._charge(-e.memory)
        e.memory = 0
        nursery = self._nursery
        if nursery is None:
            return
        if model is not None:
            nursery.start_soon(model.aclose)
        if e.restarts < self.config.max_restarts and not self._closing:
            e.restarts += 1
            self.counters["restarts"] += 1
            nursery.start_soon(self._restart, e)
        else:
            e.ready.set()
            self._sink.emit("pit.pool.failed", {"model_id": e.model_id, "why": why})

    async def _restart(self, e: _Entry) -> None:
        if e.state is ModelState.FAILED:
            try:
                await self._warm(e, prewarm=False)
            except Exception:
                e.ready.set()

    async def cool(self, model_id: str) -> None:
        """Cool ``model_id`` now (HOT and unheld only)."""
        e = self._entry(model_id)
        if e.state is not _HOT or e.refs:
            raise ModelNotReady(f"pool model {model_id!r} is {e.state.value} with {e.refs} refs")
        await self._cool(e, reason="manual")

    # ----------------------------------------------------------------- service
    async def run(
        self, *, task_status: trio.TaskStatus[PoolManager] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve until cancelled; then close every model (graceful shutdown)."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            self._closing = False
            self._started = True
            try:
                task_status.started(self)
                while True:
                    await trio.sleep(self.config.tick)
                    self._pass(nursery)
            finally:
                self._closing = True
                with trio.CancelScope(shield=True):
                    await self._close_all()
                self._nursery = None
                nursery.cancel_scope.cancel()

    def _pass(self, nursery: trio.Nursery) -> None:
        usage, observe = self._usage, self.predictor.observe
        while usage:
            observe(*usage.popleft())
        now = self._clock()
        ttl = self.config.idle_ttl
        if ttl > 0:
            for mid in list(self._lru):
                e = self._entries[mid]
                if e.state is _HOT and e.refs == 0 and now - e.last_used > ttl:
                    nursery.start_soon(self._cool_if_idle, e)
        if self.config.prewarm:
            self._prewarm(nursery, now)

    async def _cool_if_idle(self, e: _Entry) -> None:
        if e.state is _HOT and e.refs == 0:
            await self._cool(e, reason="idle")

    def _prewarm(self, nursery: trio.Nursery, now: float) -> None:
        predicted = self.predictor.predict(now)
        if not predicted:
            return
        protect = frozenset(m for m, _ in predicted)
        budget = self.config.memory_budget
        for mid, _score in predicted:
            if self._prewarming >= self.config.max_concurrent_prewarms:
                return
            e = self._entries.get(mid)
            if e is None or e.state is not ModelState.COLD:
                continue
            need = self._memory + e.loader.memory_estimate - budget
            victims = self._victims(e, protect)
            if need > sum(v.memory for v in victims):
                continue
            self._prewarming += 1
            self.counters["prewarms"] += 1
            nursery.start_soon(self._prewarm_one, e, protect)

    async def _prewarm_one(self, e: _Entry, protect: frozenset[str]) -> None:
        try:
            if e.state is ModelState.COLD:
                await self._warm(e, prewarm=True, protect=protect)
        except Exception:
            self.counters["prewarm_failures"] += 1
        finally:
            self._prewarming -= 1

    async def _close_all(self) -> None:
        for e in self._entries.values():
            if e.state is _HOT:
                await self._cool(e, reason="shutdown")
            elif e.state is ModelState.FAILED:
                self._set_state(e, ModelState.COLD)

    async def shutdown(self, grace: float = 5.0) -> None:
        """Stop prewarming, wait up to ``grace`` s for handles to come back, close models."""
        self._closing = True
        with trio.move_on_after(grace):
            while self._owner:
                await trio.sleep(0.01)
        await self._close_all()

    # ----------------------------------------------------------------- observation
    def health(self) -> HealthStatus:
        """HEALTHY; DEGRADED if a model is FAILED; UNREACHABLE if the service is not running."""
        if self._nursery is None:
            return HealthStatus.UNREACHABLE if self._started else HealthStatus.DEGRADED
        if any(e.state is ModelState.FAILED for e in self._entries.values()):
            return HealthStatus.DEGRADED
        return HealthStatus.HEALTHY

    @property
    def memory_used(self) -> int:
        """Bytes charged to loaded (and loading) models now."""
        return self._memory

    @property
    def memory_peak(self) -> int:
        """The highest :attr:`memory_used` seen."""
        return self._memory_peak

    def metrics(self) -> dict[str, object]:
        """Counters, memory, and per-model state/refs/hits/cold starts/load time."""
        models: dict[str, Mapping[str, object]] = {
            e.model_id: {
                "state": e.state.value,
                "refs": e.refs,
                "memory_bytes": e.memory,
                "allocations": e.hits,
                "cold_starts": e.cold_starts,
                "loads": e.loads,
                "mean_load_s": e.load_seconds / e.loads if e.loads else 0.0,
                "restarts": e.restarts,
                "failure": e.failure,
            }
            for e in self._entries.values()
        }
        return {
            "memory_used": self._memory,
            "memory_peak": self._memory_peak,
            "memory_budget": self.config.memory_budget,
            "handles_live": len(self._owner),
            "allocations": sum(e.hits for e in self._entries.values()),
            "cold_starts": self.counters["cold_starts"],
            "counters": dict(self.counters),
            "models": models,
        }

    def analytics(self) -> dict[str, object]:
        """Usage patterns (predictor summary) and optimisation recommendations."""
        recs: list[str] = []
        total = max(1, sum(e.hits for e in self._entries.values()))
        for e in self._entries.values():
            if e.cold_starts >= 3 and e.cold_starts > 0.2 * max(1, e.hits):
                recs.append(
                    f"{e.model_id}: {e.cold_starts} cold starts in {e.hits} allocations — raise "
                    "memory_budget or idle_ttl"
                )
            if e.hits == 0 and e.loads > 0:
                recs.append(f"{e.model_id}: loaded {e.loads}x but never allocated — mispredicted")
        return {
            "share": {e.model_id: e.hits / total for e in self._entries.values()},
            "patterns": self.predictor.summary(),
            "recommendations": recs,
        }


_ = ArenaExhausted  # re-exported failure of acquire_nowait (documented)
