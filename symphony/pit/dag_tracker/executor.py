"""The DAG Tracker (seed M3.2): runs a validated workflow with real parallelism.

How a run works
    The workflow's graph goes to the toposort kernel's incremental
    :class:`~symphony.reference.toposort.ReadyTracker`. Nodes it hands out are *admitted*:
    their inputs are gathered from the producers' outputs (or the node is skipped — a branch
    not taken, no conditional edge taken — or blocked by an upstream failure) and queued.
    A fixed pool of ``concurrency`` worker tasks takes nodes off the queue (never a task per
    node, never a limiter per node). A worker runs the node by its mode:

    * ``inline`` — a cheap synchronous call made right there, no task switch at all;
    * ``async`` — awaited on the worker (I/O-bound work overlaps across workers);
    * ``process`` — handed to a :class:`NodeExecutor` (by default a process pool with one
      process per core), the worker awaiting the result.

    When a node finishes the worker marks it done in the tracker, admits whatever became
    ready and carries on with the queue; it yields to trio only when a node really waits, or
    every ``yield_interval`` seconds so that control commands and the event flusher run.

Failures
    A node that raises is retried ``policy.retries`` times with exponential backoff and jitter,
    each attempt limited to ``policy.timeout`` seconds. A node that still fails is FAILED;
    nodes depending on it are *blocked* (left PENDING, never run) while every independent
    branch keeps going — unless ``fail_fast`` cancels the whole run at the first failure.
    :meth:`Run.retry_failed` resets the failed and cancelled nodes for another
    :meth:`Run.execute`.

State and durability
    Every node and run state change goes through the checked transition tables of
    :mod:`symphony.workflow.state` and is appended to the run's journal
    (:mod:`.journal`): records are batched in memory and written by one flusher pass per
    scheduler pass (or when ``journal_batch`` records are pending). Progress events are
    published after the records they announce were written. :meth:`DagTracker.open`
    rebuilds a run from its snapshot and journal after a crash: completed nodes are not run
    again; nodes that were in flight are reset and run again.
"""

from __future__ import annotations

import math
import os
import random
import time
import uuid
from array import array
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeAlias, cast

import trio

from symphony.commons.errors import (
    InvalidStateTransition,
    NotFoundError,
    SymphonyError,
    SymphonyTimeout,
    ValidationError,
)
from symphony.pit.dag_tracker import _kernel
from symphony.pit.dag_tracker.events import EventSink, ProgressEvent
from symphony.pit.dag_tracker.journal import Journal, read_state
from symphony.pit.dag_tracker.outputs import OutputSink, RunOutputs
from symphony.pit.dag_tracker.plan import ASYNC, INLINE, PROCESS, Plan
from symphony.pit.dag_tracker.store import RunStore
from symphony.workflow.model import (
    BranchNode,
    GateNode,
    InstrumentNode,
    MapNode,
    MergeNode,
    NodePolicy,
    Workflow,
)
from symphony.workflow.ops import OperatorRegistry, Outputs, default_registry
from symphony.workflow.ops.instruments import ModelRegistry, run_instrument
from symphony.workflow.predicates import Predicate, evaluate
from symphony.workflow.state import (
    NODE_TABLE,
    NodeEvent,
    NodeState,
    RunEvent,
    RunState,
    StateMachine,
    transition,
)

__all__ = [
    "DagTracker",
    "NodeExecutor",
    "NodeFailed",
    "NodeTimeout",
    "ProcessPoolNodeExecutor",
    "Run",
    "RunOptions",
    "RunSummary",
]

# Node states as small ints (index in NodeState), and the transition table as a flat list.
_STATES = list(NodeState)
_EVENTS = list(NodeEvent)
PENDING, READY, RUNNING, RETRYING, WAITING, SUCCEEDED, FAILED, SKIPPED, CANCELLED = range(9)
assert [s.value for s in _STATES] == [
    "pending",
    "ready",
    "running",
    "retrying",
    "waiting",
    "succeeded",
    "failed",
    "skipped",
    "cancelled",
]
(E_READY, E_START, E_SUCCEED, E_FAIL, E_RETRY, E_WAIT, E_RESUME, E_SKIP, E_CANCEL, E_RESET) = range(
    10
)
_NT = [-1] * (16 * 16)
for (_s, _e), _t in NODE_TABLE.items():
    _NT[_STATES.index(_s) * 16 + _EVENTS.index(_e)] = _STATES.index(_t)

_INLINE, _ASYNC, _PROCESS = INLINE, ASYNC, PROCESS
_KIND = {
    SUCCEEDED: "node.succeeded",
    FAILED: "node.failed",
    SKIPPED: "node.skipped",
    RUNNING: "node.started",
    RETRYING: "node.retrying",
    CANCELLED: "node.cancelled",
    WAITING: "node.waiting",
}

_new_event = tuple.__new__
_now = time.time
_STARTED, _SUCCEEDED = _KIND[RUNNING], _KIND[SUCCEEDED]

NodeFn: TypeAlias = Callable[[Mapping[str, object], object], object]


class NodeFailed(SymphonyError):
    """A node raised (``details``: node, attempt)."""


class NodeTimeout(NodeFailed, SymphonyTimeout):
    """An attempt of a node ran longer than its ``policy.timeout``."""


class NodeExecutor(Protocol):
    """Runs ``fn(inputs, config)`` somewhere else — the seam for process pools and, later,
    a distributed executor. ``fn`` is importable (pickles by reference)."""

    async def submit(
        self,
        fn: Callable[[Mapping[str, object], Mapping[str, object]], object],
        inputs: Mapping[str, object],
        config: Mapping[str, object],
    ) -> object:
        """Run it and return its result (re-raising its exception)."""
        ...

    async def aclose(self) -> None:
        """Release the workers."""
        ...


class ProcessPoolNodeExecutor:
    """``process`` nodes on a :class:`concurrent.futures.ProcessPoolExecutor` (forkserver).

    The pool starts on first use. A trio task awaits a result without a thread: the future's
    done-callback wakes it through the trio token. An attempt that times out or is cancelled
    stops being waited for; the worker process finishes it in the background.
    """

    def __init__(self, processes: int | None = None) -> None:
        self.processes = processes or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None

    def _get(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            self._pool = ProcessPoolExecutor(
                self.processes, mp_context=multiprocessing.get_context("forkserver")
            )
        return self._pool

    async def submit(
        self,
        fn: Callable[[Mapping[str, object], Mapping[str, object]], object],
        inputs: Mapping[str, object],
        config: Mapping[str, object],
    ) -> object:
        fut: Future[object] = self._get().submit(fn, dict(inputs), dict(config))
        token = trio.lowlevel.current_trio_token()
        done = trio.Event()

        def wake(_: Future[object]) -> None:
            try:
                token.run_sync_soon(done.set)
            except trio.RunFinishedError:
                pass

        fut.add_done_callback(wake)
        try:
            await done.wait()
        except trio.Cancelled:
            fut.cancel()
            raise
        return fut.result()

    async def warm_up(self) -> None:
        """Start every worker process now (so a benchmark does not time process start-up)."""
        pool = self._get()
        futs = [pool.submit(os.getpid) for _ in range(self.processes * 2)]
        await trio.to_thread.run_sync(lambda: [f.result() for f in futs])

    async def aclose(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await trio.to_thread.run_sync(partial(pool.shutdown, wait=True, cancel_futures=True))


@dataclass(slots=True)
class RunOptions:
    """Knobs of a run.

    Attributes:
        concurrency: worker tasks (how many async/process nodes may be in flight).
        fail_fast: cancel the run at the first failed node (else only its dependents stop).
        journal: record state changes durably (needs a store).
        fsync: fsync every journal batch (power-loss safe) — else process-crash safe.
        journal_batch: flush the journal when this many records are pending.
        compact_every: write a snapshot and start a new journal after this many records.
        compact_at_end: write a snapshot when an execution ends (else only every
            ``compact_every`` records; reopening replays the journal since the last one).
        yield_interval: seconds a worker may run nodes back to back before yielding to trio.
        seed: seed of the retry jitter (``None`` = random).
    """

    concurrency: int = 64
    fail_fast: bool = False
    journal: bool = True
    fsync: bool = False
    journal_batch: int = 4096
    compact_every: int = 500_000
    compact_at_end: bool = False
    yield_interval: float = 0.0005
    seed: int | None = None


@dataclass(slots=True)
class NodeMetrics:
    """Execution metrics of one node (seconds; ``None`` when not applicable)."""

    node: str
    state: str
    attempts: int
    queue_wait: float | None
    duration: float | None
    error: str = ""


@dataclass(slots=True)
class RunSummary:
    """The outcome of :meth:`Run.execute`."""

    run_id: str
    state: RunState
    total: int
    counts: dict[str, int]
    blocked: list[str]
    """Nodes not run because a node they depend on failed (or the run stopped)."""
    failed: dict[str, str]
    """Failed node → error message."""
    wall_time: float
    throughput: float
    """Nodes finished per second of wall time."""
    retries: int
    resumed_done: int = 0
    """Nodes already complete when this execution started (a resumed run)."""
    metrics: list[NodeMetrics] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "state": self.state.value,
            "total": self.total,
            "counts": self.counts,
            "blocked": self.blocked,
            "failed": self.failed,
            "wall_time": self.wall_time,
            "throughput": self.throughput,
            "retries": self.retries,
            "resumed_done": self.resumed_done,
        }


# --------------------------------------------------------------------------- engine
class DagTracker:
    """Creates and resumes runs; holds what runs share (operators, models, executors, the
    run store, the event sink).

    Args:
        operators: the operator registry (default: the built-ins).
        models: model callables for Instrument nodes (default: ``local/echo`` only).
        executors: executors by mode; ``"process"`` defaults to a
            :class:`ProcessPoolNodeExecutor` with ``processes`` workers.
        store: where runs are journaled (``None``: runs are in memory only).
        sink: where progress events go (e.g. an :class:`~.events.EventHub`).
        options: default :class:`RunOptions`.
        output_sink: where succeeded nodes' outputs are stored (e.g. an
            :class:`~.outputs.ArtifactOutputSink`; ``None``: nowhere). An execution returns
            only once its outputs are stored.
    """

    def __init__(
        self,
        *,
        operators: OperatorRegistry | None = None,
        models: ModelRegistry | None = None,
        executors: Mapping[str, NodeExecutor] | None = None,
        processes: int | None = None,
        store: RunStore | None = None,
        sink: EventSink | None = None,
        options: RunOptions | None = None,
        output_sink: OutputSink | None = None,
    ) -> None:
        self.operators = operators or default_registry()
        self.models = models or ModelRegistry()
        self.executors: dict[str, NodeExecutor] = dict(executors or {})
        self.executors.setdefault("process", ProcessPoolNodeExecutor(processes))
        self.store = store
        self.sink = sink
        self.output_sink = output_sink
        self.options = options or RunOptions()

    def create(
        self,
        wf: Workflow,
        *,
        params: Mapping[str, object] | None = None,
        run_id: str | None = None,
        source: str = "",
        options: RunOptions | None = None,
        validate: bool = True,
    ) -> Run:
        """A new PENDING run of ``wf`` (validated unless ``validate=False``).

        Raises:
            WorkflowValidationError: every problem of the workflow at once.
        """
        if validate:
            wf.check()
        run_id = run_id or new_run_id()
        opts = options or self.options
        journal = None
        plan = Plan.build(wf, self.operators, {})
        if self.store is not None and opts.journal:
            self.store.create(run_id, wf, params=dict(params or {}), source=source,
                              plan=plan.dumps(), fsync=opts.fsync)
            journal = Journal(self.store.path(run_id), fsync=opts.fsync, batch=opts.journal_batch)
        return Run(self, plan, run_id, opts, journal, load_workflow=lambda: wf)

    def open(self, run_id: str, *, options: RunOptions | None = None) -> Run:
        """Rebuild a journaled run (after a crash, a cancel or a failure) to execute again.

        Completed nodes keep their outputs; nodes in flight at the crash are reset.

        Raises:
            NotFoundError: no such run in the store.
        """
        if self.store is None:
            raise NotFoundError("this DagTracker has no run store; cannot open runs")
        store = self.store
        raw = store.plan(run_id)
        plan = Plan.loads(raw) if raw is not None else None
        if plan is None:  # no (usable) plan: rebuild it from the workflow document
            plan = Plan.build(store.workflow(run_id), self.operators, {})
        opts = options or self.options
        journal = Journal(store.path(run_id), fsync=opts.fsync, batch=opts.journal_batch)
        run = Run(self, plan, run_id, opts, journal,
                  load_workflow=lambda: store.workflow(run_id))
        run._recover(*read_state(self.store.path(run_id)))
        return run

    async def run(self, wf: Workflow, **kwargs: object) -> RunSummary:
        """Create a run of ``wf`` and execute it (keyword arguments go to :meth:`create`)."""
        run = self.create(wf, **kwargs)  # type: ignore[arg-type]
        return await run.execute()

    async def aclose(self) -> None:
        """Shut down the executors (process pools)."""
        for ex in self.executors.values():
            await ex.aclose()


def new_run_id() -> str:
    """A sortable, unique run id: ``YYYYmmdd-HHMMSS-xxxxxx``."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]


# --------------------------------------------------------------------------- run
class Run:
    """One execution of a workflow: state, control commands, metrics. Use
    :meth:`DagTracker.create` / :meth:`DagTracker.open`."""

    def __init__(
        self,
        engine: DagTracker,
        wf: Workflow | Plan,
        run_id: str,
        options: RunOptions,
        journal: Journal | None,
        inject: Mapping[str, Mapping[str, object]] | None = None,
        load_workflow: Callable[[], Workflow] | None = None,
    ) -> None:
        self.engine = engine
        if isinstance(wf, Workflow):
            self._wf: Workflow | None = wf
            plan = Plan.build(wf, engine.operators, inject or {})
        else:
            self._wf = None
            plan = wf
        self.plan = plan
        self._load_workflow = load_workflow
        self._ids_index: dict[str, int] | None = None
        self.id = run_id
        self.options = options
        self._journal = journal
        self._sink = engine.sink
        self._osink = engine.output_sink
        self._out: RunOutputs | None = None
        self._machine: StateMachine[RunState, RunEvent] = StateMachine(RunState.PENDING)
        self._rng = random.Random(options.seed)
        self.ids: list[str] = plan.ids
        n = self._n = len(plan.ids)
        self._graph = _kernel.toposort.Graph(n, plan.src, plan.dst)
        self._state = [PENDING] * n
        self._outputs: list[Outputs | None] = [None] * n
        self._attempts = [0] * n
        self._errors: dict[int, str] = {}
        self._reason: dict[int, str] = {}
        self._t_ready = [0.0] * n
        self._t_start = [0.0] * n
        self._t_end = [0.0] * n
        self._retries = 0
        self._mode = plan.mode
        self._cfg = plan.cfg
        self._policy = plan.policy
        self._defaults = plan.defaults
        self._in = plan.inputs
        self._fn = self._resolve(plan)
        self._queue: deque[tuple[int, Mapping[str, object]]] = deque()
        self._lot = trio.lowlevel.ParkingLot()
        self._flush_lot = trio.lowlevel.ParkingLot()
        self._wall0 = time.time() - time.perf_counter()
        """Wall clock minus the perf clock: event times from the perf readings the hot
        paths take anyway (set again when an execution starts)."""
        self._parked = 0
        self._wake_pending = False
        self._inflight = 0
        self._finished = False
        self._paused = False
        self._ndone = 0  # succeeded + skipped + failed
        self._resumed_done = 0
        self._records_since_compact = 0
        self._evbuf: list[ProgressEvent] = []
        self._unacked: list[ProgressEvent] = []  # written, fsync in flight (group commit)
        self._group = journal is not None and journal.fsync_mode
        self._syncing = False
        self._jbuf: list[object] | None = journal.buffer if journal is not None else None
        self._flush_wanted = False
        self._last_yield = 0.0
        self._scope: trio.CancelScope | None = None
        self._approvals: dict[int, set[str]] = {}
        self._gate_events: dict[int, trio.Event] = {}
        self._rejected: set[int] = set()
        self._stop_reason = ""
        self._retrying = False

    # ------------------------------------------------------------------ construction
    def _resolve(self, plan: Plan) -> list[NodeFn]:
        """The callable of every node from the plan's references (operators by name)."""
        ops = self.engine.operators
        cache: dict[tuple[str, str, bool], NodeFn] = {}
        for ref in dict.fromkeys(plan.refs):  # each distinct reference once, in plan order
            kind, name, threaded = ref
            fn = cast(NodeFn, ops.get(name).fn) if kind == "operator" else self._control(kind)
            if threaded:
                fn = _threaded(fn)
            cache[ref] = fn
        return list(map(cache.__getitem__, plan.refs))

    def _control(self, kind: str) -> NodeFn:
        if kind == "branch":
            return _branch
        if kind == "merge":
            return _merge
        if kind == "gate":
            return cast(NodeFn, self._gate)
        if kind == "map":
            return cast(NodeFn, self._map)
        if kind == "instrument":
            models = self.engine.models

            async def instrument(inputs: Mapping[str, object], node: object) -> Outputs:
                return await run_instrument(cast(InstrumentNode, node), inputs, models)

            return cast(NodeFn, instrument)
        raise ValidationError(f"unsupported node type {kind!r}")

    @property
    def workflow(self) -> Workflow:
        """The workflow being run (loaded from the run store on first use after a reopen)."""
        if self._wf is None:
            if self._load_workflow is None:
                raise NotFoundError(f"run {self.id}: the workflow document is not available")
            self._wf = self._load_workflow()
        return self._wf

    # ------------------------------------------------------------------ public state
    @property
    def state(self) -> RunState:
        """The run's state."""
        return self._machine.state

    def node_state(self, node_id: str) -> NodeState:
        """The state of node ``node_id``."""
        return _STATES[self._state[self._ix(node_id)]]

    def node_states(self) -> dict[str, NodeState]:
        """Every node's state."""
        return {nid: _STATES[s] for nid, s in zip(self.ids, self._state)}

    def outputs(self, node_id: str) -> Outputs | None:
        """The outputs of a succeeded node, else ``None``."""
        return self._outputs[self._ix(node_id)]

    @property
    def progress(self) -> tuple[int, int]:
        """(finished nodes, total nodes)."""
        return self._ndone, self._n

    def _ix(self, node_id: str) -> int:
        try:
            return self.ids.index(node_id) if len(self.ids) < 64 else self._index()[node_id]
        except (ValueError, KeyError):
            raise NotFoundError(
                f"run {self.id}: no node {node_id!r}", details={"node": node_id}
            ) from None

    def _index(self) -> Mapping[str, int]:
        if self._ids_index is None:
            self._ids_index = {nid: i for i, nid in enumerate(self.ids)}
        return self._ids_index

    # ------------------------------------------------------------------ control commands
    def pause(self) -> None:
        """Start no new node until :meth:`resume` (nodes in flight finish).

        Raises:
            InvalidStateTransition: the run is not RUNNING.
        """
        self._fire(RunEvent.PAUSE)
        self._paused = True

    def resume(self) -> None:
        """Continue a paused run.

        Raises:
            InvalidStateTransition: the run is not PAUSED.
        """
        self._fire(RunEvent.RESUME)
        self._paused = False
        self._lot.unpark_all()

    def cancel(self) -> None:
        """Stop the run: nodes in flight are cancelled, nothing new starts.

        Raises:
            InvalidStateTransition: the run already ended (COMPLETED/FAILED/CANCELLED).
        """
        self._fire(RunEvent.CANCEL)
        self._stop_reason = "cancelled"
        if self._scope is not None:
            self._scope.cancel()

    def retry_failed(self) -> list[str]:
        """Reset every FAILED and CANCELLED node (and, implicitly, what they blocked) so
        that the next :meth:`execute` runs them again. Returns the reset node ids.

        Raises:
            InvalidStateTransition: the run is not FAILED or CANCELLED.
        """
        self._fire(RunEvent.RETRY)
        self._retrying = True
        reset = []
        for i, s in enumerate(self._state):
            if s in (FAILED, CANCELLED):
                self._move(i, E_RESET)
                self._errors.pop(i, None)
                self._attempts[i] = 0
                self._record(i, PENDING, "reset")
                reset.append(self.ids[i])
        for i, s in enumerate(self._state):
            if s == PENDING:
                self._reason.pop(i, None)
        self._ndone = sum(1 for s in self._state if s in (SUCCEEDED, SKIPPED, FAILED))
        self._flush()
        self._audit("retry-failed", nodes=reset)
        return reset

    def approve(self, node_id: str, approver: str = "user") -> None:
        """Approve a gate node (distinct approvers count toward ``approvals``)."""
        i = self._ix(node_id)
        node = self.workflow.node(node_id)
        if not isinstance(node, GateNode):
            raise ValidationError(f"node {node_id!r} is not a gate", details={"node": node_id})
        got = self._approvals.setdefault(i, set())
        got.add(approver)
        self._audit("approve", node=node_id, approver=approver)
        if len(got) >= node.approvals and i in self._gate_events:
            self._gate_events[i].set()

    def reject(self, node_id: str, approver: str = "user") -> None:
        """Reject a gate node: it fails."""
        i = self._ix(node_id)
        self._rejected.add(i)
        self._audit("reject", node=node_id, approver=approver)
        if i in self._gate_events:
            self._gate_events[i].set()

    def _fire(self, ev: RunEvent) -> None:
        before = self._machine.state
        after = self._machine.fire(ev)
        self._record(-1, after.value, ev.value)
        self._audit(ev.value, before=before.value, after=after.value)
        if self._sink is not None and self._sink.active:
            self._evbuf.append(
                ProgressEvent(
                    f"run.{after.value}", self.id, "", self._ndone, self._n, time.time(), ev.value
                )
            )
        if self._journal is not None and self.engine.store is not None:
            self._flush()
            self.engine.store.update(self.id, state=after.value, done=self._ndone, total=self._n)
        elif self._evbuf:
            self._flush()

    def _audit(self, command: str, **info: object) -> None:
        if self._journal is not None and self.engine.store is not None:
            self.engine.store.audit(self.id, command, **info)

    # ------------------------------------------------------------------ recording
    def _move(self, i: int, ev: int) -> int:
        cur = self._state[i]
        new = _NT[cur * 16 + ev]
        if new < 0:
            transition(_STATES[cur], _EVENTS[ev])  # raises InvalidStateTransition
            raise AssertionError("unreachable")  # pragma: no cover
        self._state[i] = new
        return new

    def _record(self, i: int, code: object, payload: object) -> None:
        jb = self._jbuf
        if jb is not None:
            if not jb and not self._flush_wanted:
                self._flush_wanted = True
                self._flush_lot.unpark()
            jb.append([i, code, payload])
            if len(jb) >= self.options.journal_batch:
                self._write()

    def _wake_flusher(self) -> None:
        """Events without a journal: have the flusher publish them soon."""
        if not self._flush_wanted:
            self._flush_wanted = True
            self._flush_lot.unpark()

    def _event(self, i: int, code: int, detail: str = "") -> None:
        self._evbuf.append(_new_event(  # tuple.__new__ directly: one Python frame less
            ProgressEvent,
            (_KIND[code], self.id, self.ids[i], self._ndone, self._n, _now(), detail),
        ))
        if self._jbuf is None and not self._flush_wanted:
            self._flush_wanted = True
            self._flush_lot.unpark()

    def _write(self) -> None:
        """Write pending records without fsync and without publishing (a full batch)."""
        j = self._journal
        if j is not None:
            self._records_since_compact += j.flush(fsync=False)
            if self._records_since_compact >= self.options.compact_every and not self._syncing:
                self._compact()

    def _flush(self) -> None:
        """Write pending journal records (fsync in power-loss mode), then publish the events
        they back — including those a group commit in flight has not published yet."""
        self._flush_wanted = False
        j = self._journal
        if j is not None:
            self._records_since_compact += j.flush()
            if self._records_since_compact >= self.options.compact_every and not self._syncing:
                self._compact()
        evs = self._evbuf
        if self._unacked:
            evs = self._unacked + evs
            self._unacked = []
        if evs:
            self._evbuf = []
            if self._sink is not None:
                self._sink.publish(evs)

    async def _group_commit(self) -> None:
        """Power-loss mode: write now, fsync in a worker thread while nodes keep running,
        then publish the events the fsync made durable (one fsync per batch)."""
        j = self._journal
        assert j is not None
        self._flush_wanted = False
        self._records_since_compact += j.flush(fsync=False)
        self._unacked.extend(self._evbuf)
        self._evbuf = []
        self._syncing = True  # no compaction may close the file under the fsync
        try:
            await trio.to_thread.run_sync(j.sync)
        finally:
            self._syncing = False
        evs, self._unacked = self._unacked, []
        if evs and self._sink is not None:
            self._sink.publish(evs)
        if self._records_since_compact >= self.options.compact_every:
            self._compact()

    def _compact(self) -> None:
        if self._journal is not None:
            self._journal.flush()
            self._journal.compact(self._snapshot())
            self._records_since_compact = 0

    def _snapshot(self) -> dict[str, object]:
        return {
            "run": self._machine.state.value,
            "states": list(self._state),
            "outputs": {i: o for i, o in enumerate(self._outputs) if o is not None},
            "attempts": list(self._attempts),
            "errors": self._errors,
            "reasons": self._reason,
        }

    async def _flusher(self) -> None:
        lot = self._flush_lot
        group = self._journal is not None and self._journal.fsync_mode
        while True:
            if self._flush_wanted:
                if group:
                    await self._group_commit()
                    continue
                self._flush()
            await lot.park()

    # ------------------------------------------------------------------ recovery
    def _recover(self, snap: dict[str, object] | None, records: Sequence[Sequence[object]]) -> None:
        st = self._state
        outs = self._outputs
        run_state = RunState.PENDING.value
        if snap is not None:
            states = cast(list[int], snap["states"])
            if len(states) != self._n:
                raise SymphonyError(
                    f"run {self.id}: snapshot has {len(states)} nodes, the workflow {self._n}"
                )
            st[:] = states
            for k, v in cast(dict[int, Outputs], snap["outputs"]).items():
                outs[int(k)] = v
            self._attempts[:] = cast(list[int], snap["attempts"])
            self._errors.update(
                {int(k): str(v) for k, v in cast(dict[int, str], snap.get("errors", {})).items()}
            )
            run_state = str(snap["run"])
        attempts = self._attempts
        recs = cast("Sequence[tuple[int, int, Any]]", records)  # [node, code, payload]
        for i, code, payload in recs:
            if i < 0:
                run_state = str(code)
                continue
            st[i] = code
            if code == SUCCEEDED:
                outs[i] = payload
            elif code == RUNNING:
                attempts[i] = payload
            elif code == FAILED:
                self._errors[i] = str(payload)
            elif code == SKIPPED:
                self._reason[i] = str(payload)
        # in flight when the process died: run again
        for i, s in enumerate(st):
            if s in (RUNNING, RETRYING, WAITING):
                st[i] = _NT[s * 16 + E_RESET]
            elif s == READY:
                st[i] = PENDING
        self._ndone = sum(1 for s in st if s in (SUCCEEDED, SKIPPED, FAILED))
        self._machine = StateMachine(RunState(run_state))

    # ------------------------------------------------------------------ execution
    async def execute(self) -> RunSummary:
        """Run (or continue) the workflow until every node that can run has run.

        Returns the summary; the run ends COMPLETED, FAILED (some node failed) or CANCELLED.
        Control commands may be called from other tasks meanwhile.
        """
        t0 = time.perf_counter()
        st = self._machine.state
        if st is RunState.PENDING:
            self._fire(RunEvent.START)
        elif st is RunState.RUNNING or st is RunState.PAUSED:
            if not self._retrying:
                self._audit("recover", state=st.value)  # resumed after a crash
            if st is RunState.PAUSED:
                self._fire(RunEvent.RESUME)
        elif st in (RunState.FAILED, RunState.CANCELLED):
            raise InvalidStateTransition(
                f"run {self.id} is {st.value}: call retry_failed() before execute()"
            )
        else:
            raise InvalidStateTransition(f"run {self.id} is already {st.value}")
        self._finished = False
        self._retrying = False
        self._stop_reason = ""
        self._resumed_done = self._state.count(SUCCEEDED) + self._state.count(SKIPPED)
        out = self._out = self._open_outputs()
        try:
            async with trio.open_nursery() as drain:
                if out is not None:
                    drain.start_soon(out.run)  # stores outputs in batches, off the hot path
                try:
                    await self._execute()
                finally:
                    if out is not None:
                        out.close()  # the drain nursery waits until every output is stored
        finally:
            self._out = None
        return self._finish(t0)

    async def _execute(self) -> None:
        try:
            async with trio.open_nursery() as nursery:
                with trio.CancelScope() as scope:
                    self._scope = scope
                    nursery.start_soon(self._flusher)
                    self._wall0 = time.time() - time.perf_counter()
                    self._last_yield = time.perf_counter()
                    self.rebuild_ready()
                    if self._inflight == 0 and not self._queue:
                        self._finished = True
                    else:
                        async with trio.open_nursery() as workers:
                            for _ in range(max(1, self.options.concurrency)):
                                workers.start_soon(self._worker)
                nursery.cancel_scope.cancel()
        finally:
            self._scope = None
            self._flush()

    def _open_outputs(self) -> RunOutputs | None:
        if self._osink is None:
            return None
        wf = self.workflow
        spec = self._in

        def parents_of(i: int) -> list[tuple[int, str]]:
            s = spec[i]
            if s is None:
                return []
            return [(src, sp) for src, _, sp, tp in s[1] if sp is not None and tp is not None] + [
                (src, sp) for src, sp, _, _ in s[2]
            ]

        return self._osink.open_run(self.id, wf.id, str(wf.version), self.ids, parents_of)

    def rebuild_ready(self) -> int:
        """Build the ready tracker from the node states and queue what can run now.

        Nodes complete before (a resumed run) are marked done without running; the
        result is the number of nodes queued. :meth:`execute` calls it once per execution
        (it is public so that recovery can be measured on its own).
        """
        self._queue.clear()
        st = self._state
        graph = self._graph
        if SUCCEEDED in st or SKIPPED in st:
            # A resumed run: edges out of complete nodes no longer order anything, so the
            # tracker gets the rest of the graph only, and the complete nodes come out as
            # sources, marked done in one batch (no walk through the finished part).
            src, dst = self.plan.src, self.plan.dst
            keep = [k for k, u in enumerate(src) if st[u] not in (SUCCEEDED, SKIPPED)]
            graph = _kernel.toposort.Graph(
                self._n, array("q", [src[k] for k in keep]), array("q", [dst[k] for k in keep])
            )
        tracker = _kernel.toposort.ReadyTracker(graph)
        self._tracker = tracker
        self._release(tracker)
        return len(self._queue)

    def _finish(self, t0: float) -> RunSummary:
        wall = time.perf_counter() - t0
        state = self._machine.state
        tally = Counter(self._state)
        failed = {
            self.ids[i]: self._errors.get(i, "") for i, s in enumerate(self._state) if s == FAILED
        } if tally[FAILED] else {}
        if state is RunState.RUNNING or state is RunState.PAUSED:
            if state is RunState.PAUSED:
                self._fire(RunEvent.RESUME)
            self._fire(RunEvent.FAIL if failed else RunEvent.COMPLETE)
        if self._journal is not None:
            if self.options.compact_at_end:
                self._compact()
            else:
                self._journal.flush()
        counts = {_STATES[k].value: c for k, c in sorted(tally.items())}
        blocked = ([self.ids[i] for i, s in enumerate(self._state) if s == PENDING]
                   if tally[PENDING] else [])
        ran = tally[SUCCEEDED] + tally[FAILED] + tally[SKIPPED] - self._resumed_done
        return RunSummary(
            run_id=self.id,
            state=self._machine.state,
            total=self._n,
            counts=counts,
            blocked=blocked,
            failed=failed,
            wall_time=wall,
            throughput=ran / wall if wall > 0 else math.inf,
            retries=self._retries,
            resumed_done=self._resumed_done,
        )

    def metrics(self) -> list[NodeMetrics]:
        """Per-node metrics: state, attempts, queue wait and duration (last attempt)."""
        out = []
        for i, nid in enumerate(self.ids):
            ts, te, tr = self._t_start[i], self._t_end[i], self._t_ready[i]
            out.append(
                NodeMetrics(
                    nid,
                    _STATES[self._state[i]].value,
                    self._attempts[i],
                    ts - tr if ts and tr else None,
                    te - ts if te and ts else None,
                    self._errors.get(i, ""),
                )
            )
        return out

    def _release(self, tracker: object, run_inline: bool = False) -> None:
        """Admit every node the tracker hands out; skipped ones are done at once.

        With ``run_inline`` (a worker calling), cheap synchronous nodes without a policy are
        run right here while the worker's time slice lasts — no queue, no coroutine — and
        what they release is admitted in the same loop. Otherwise nodes are queued.
        """
        tr = cast(_Tracker, tracker)
        st = self._state
        queue = self._queue
        mode = self._mode
        policy = self._policy
        perf = time.perf_counter
        now = perf()
        budget = self._last_yield + self.options.yield_interval
        while True:
            ready = tr.ready()
            if not ready:
                break
            done: list[int] = []
            for i in ready:
                s = st[i]
                if s == PENDING:
                    spec = self._in[i]
                    if spec is None:
                        d = self._defaults[i]
                        inputs: dict[str, object] = dict(d) if d else {}
                    else:
                        got = self._gather(i, spec)
                        if got is None:
                            if st[i] == SKIPPED:
                                done.append(i)
                            continue  # else blocked by an upstream failure: never done
                        inputs = got
                    st[i] = READY
                    self._t_ready[i] = now
                    if (run_inline and mode[i] == _INLINE and policy[i] is None
                            and not self._paused and not self._stop_reason and now < budget):
                        if self._run_inline(i, inputs, now):
                            done.append(i)
                            now = self._t_end[i]
                        else:
                            now = perf()
                    else:
                        queue.append((i, inputs))
                elif s in (SUCCEEDED, SKIPPED):
                    done.append(i)  # complete before a resume
            if not done:
                break
            tr.done(done[0] if len(done) == 1 else done)  # an int is the kernel's fast path
        if queue and self._parked and not self._wake_pending:
            self._wake_pending = True
            self._lot.unpark()

    def _run_inline(self, i: int, inputs: Mapping[str, object], now: float) -> bool:
        """Run a READY inline node without a policy synchronously; True if it succeeded.

        ``now`` is its start time (the caller's clock reading: it starts at once); the end
        time is left in ``_t_end[i]``."""
        st = self._state
        new = _NT[st[i] * 16 + E_START]
        if new < 0:
            self._move(i, E_START)  # raises InvalidStateTransition
        st[i] = new
        self._attempts[i] = 1
        self._t_start[i] = now
        journal = self._jbuf is not None
        if journal:
            self._record(i, RUNNING, 1)
        events = self._sink is not None and self._sink.active
        if events:  # self._event inlined (hot path); wall time from the perf clock
            self._evbuf.append(_new_event(ProgressEvent, (
                _STARTED, self.id, self.ids[i], self._ndone, self._n, self._wall0 + now, "1")))
            if not journal and not self._flush_wanted:
                self._wake_flusher()
        try:
            out = self._fn[i](inputs, self._cfg[i])
            if type(out) is not dict:
                out = _check_outputs(self.ids[i], out)
        except Exception as exc:  # a node's failure is data
            self._node_failed(i, exc)
            return False
        new = _NT[st[i] * 16 + E_SUCCEED]
        if new < 0:
            self._move(i, E_SUCCEED)  # raises InvalidStateTransition
        st[i] = new
        t = self._t_end[i] = time.perf_counter()
        self._outputs[i] = out
        if self._out is not None:
            self._out.add(i, out)
        if journal:
            self._record(i, SUCCEEDED, out)
        self._ndone += 1
        if events:
            self._evbuf.append(_new_event(ProgressEvent, (
                _SUCCEEDED, self.id, self.ids[i], self._ndone, self._n, self._wall0 + t, "")))
            if not journal and not self._flush_wanted:
                self._wake_flusher()
        return True

    def _gather(
        self,
        i: int,
        spec: tuple[
            list[int],
            list[tuple[int, Predicate, str | None, str | None]],
            list[tuple[int, str, str, bool]],
            list[str],
        ],
    ) -> dict[str, object] | None:
        """Inputs of node ``i`` from its producers, or ``None`` if it does not run (skipped,
        or blocked by a failed producer — then ``_reason[i]`` says so)."""
        st = self._state
        outs = self._outputs
        ctrl, cond, data, multi_req = spec
        for s in ctrl:
            if st[s] != SUCCEEDED:
                return self._not_run(i, s)
        d = self._defaults[i]
        inputs: dict[str, object] = dict(d) if d else {}
        if cond:
            taken = False
            for s, pred, sp, tp in cond:
                o = outs[s]
                if o is None:
                    if st[s] != SKIPPED:
                        return self._not_run(i, s)
                    continue
                if evaluate(pred, o):
                    taken = True
                    if sp is not None and tp is not None and sp in o:
                        inputs[tp] = o[sp]
            if not taken:
                return self._skip(i, "no conditional edge taken")
        for s, sp, tp, multi in data:
            o = outs[s]
            if o is None or sp not in o:
                if st[s] == FAILED or st[s] == CANCELLED:
                    return self._not_run(i, s)
                if multi:
                    continue
                return self._skip(i, f"input {tp!r} not produced ({self.ids[s]}.{sp})")
            if multi:
                lst = inputs.get(tp)
                if not isinstance(lst, list) or (d is not None and lst is d.get(tp)):
                    inputs[tp] = lst = []
                lst.append(o[sp])
            else:
                inputs[tp] = o[sp]
        for p in multi_req:
            if p not in inputs:
                return self._skip(i, f"no producer of {p!r} ran")
        return inputs

    def _not_run(self, i: int, s: int) -> dict[str, object] | None:
        if self._state[s] != SKIPPED:  # failed, cancelled, or itself blocked
            self._reason[i] = f"upstream {self.ids[s]!r} did not complete"
            return None
        return self._skip(i, f"upstream {self.ids[s]!r} was skipped")

    def _skip(self, i: int, reason: str) -> dict[str, object] | None:
        self._move(i, E_SKIP)
        self._reason[i] = reason
        self._record(i, SKIPPED, reason)
        self._ndone += 1
        if self._sink is not None and self._sink.active:
            self._event(i, SKIPPED, reason)
        return None

    async def _worker(self) -> None:
        queue = self._queue
        lot = self._lot
        interval = self.options.yield_interval
        perf = time.perf_counter
        mode = self._mode
        policy = self._policy
        while True:
            if self._finished:
                return
            if not queue or self._paused:
                self._parked += 1
                try:
                    await lot.park()
                finally:
                    self._parked -= 1
                self._wake_pending = False
                if queue and self._parked and not self._paused:  # chain: wake one more
                    self._wake_pending = True
                    lot.unpark()
                continue
            i, inputs = queue.popleft()
            if mode[i] == _INLINE and policy[i] is None:
                # cheap synchronous nodes queued when a time slice ran out: run them back to
                # back (no coroutine) for one slice, then mark them done at once
                ok: list[int] = []
                now = perf()
                end = now + interval
                while True:
                    if self._run_inline(i, inputs, now):
                        ok.append(i)
                        now = self._t_end[i]
                    else:
                        now = perf()
                    if not queue or now > end or self._paused or self._stop_reason:
                        break
                    i = queue[0][0]
                    if mode[i] != _INLINE or policy[i] is not None:
                        break
                    i, inputs = queue.popleft()
                if ok:
                    self._tracker.done(ok[0] if len(ok) == 1 else ok)
            else:
                self._inflight += 1
                try:
                    await self._run_node(i, inputs)
                finally:
                    self._inflight -= 1
                if self._state[i] == SUCCEEDED:
                    self._tracker.done(i)
            self._release(self._tracker, run_inline=True)
            if self._inflight == 0 and not queue:
                self._finished = True
                lot.unpark_all()
                return
            now = perf()
            if now - self._last_yield > interval:
                self._last_yield = now
                if self._flush_wanted and not self._group:
                    self._flush()  # the flusher may wait behind many runnable workers
                await trio.lowlevel.checkpoint()

    async def _run_node(self, i: int, inputs: Mapping[str, object]) -> None:
        st = self._state
        if st[i] != READY:  # pragma: no cover - the queue only holds READY nodes
            raise InvalidStateTransition(
                f"node {self.ids[i]!r} queued while {_STATES[st[i]].value}"
            )
        mode = self._mode[i]
        fn = self._fn[i]
        cfg = self._cfg[i]
        pol = self._policy[i]
        events = self._sink is not None and self._sink.active
        jb = self._jbuf
        journal = jb is not None
        attempt = 0
        try:
            while True:
                attempt += 1
                new = _NT[st[i] * 16 + E_START]  # the checked move, inlined (hot path)
                if new < 0:
                    self._move(i, E_START)  # raises InvalidStateTransition
                st[i] = new
                self._attempts[i] = attempt
                t = self._t_start[i] = time.perf_counter()
                if jb is not None:  # self._record inlined (hot path)
                    if not jb and not self._flush_wanted:
                        self._wake_flusher()
                    jb.append([i, RUNNING, attempt])
                    if len(jb) >= self.options.journal_batch:
                        self._write()
                if events:  # self._event inlined (hot path); wall time from the perf clock
                    self._evbuf.append(_new_event(ProgressEvent, (
                        _STARTED, self.id, self.ids[i], self._ndone, self._n,
                        self._wall0 + t, "1" if attempt == 1 else str(attempt))))
                    if not journal and not self._flush_wanted:
                        self._wake_flusher()
                try:
                    if pol is None:
                        if mode == _INLINE:
                            out = fn(inputs, cfg)
                        elif mode == _ASYNC:
                            out = await fn(inputs, cfg)  # type: ignore[misc]
                        else:
                            out = await self._submit(fn, inputs, cfg)
                    else:
                        out = await self._attempt(i, mode, fn, cfg, inputs, pol.timeout, attempt)
                    if type(out) is not dict:
                        out = _check_outputs(self.ids[i], out)
                except Exception as exc:  # a node's failure is data
                    if (
                        pol is not None
                        and attempt <= pol.retries
                        and self._machine.state is not RunState.CANCELLED
                    ):
                        delay = _backoff(pol, attempt, self._rng)
                        self._move(i, E_RETRY)
                        self._retries += 1
                        msg = _describe(exc)
                        self._record(i, RETRYING, msg)
                        if events:
                            self._event(
                                i,
                                RETRYING,
                                f"attempt {attempt} failed: {msg}; retrying in {delay:.3f}s",
                            )
                        await trio.sleep(delay)
                        continue
                    self._node_failed(i, exc)
                    return
                new = _NT[st[i] * 16 + E_SUCCEED]
                if new < 0:
                    self._move(i, E_SUCCEED)  # raises InvalidStateTransition
                st[i] = new
                t = self._t_end[i] = time.perf_counter()
                self._outputs[i] = out
                if self._out is not None:
                    self._out.add(i, out)
                if jb is not None:
                    if not jb and not self._flush_wanted:
                        self._wake_flusher()
                    jb.append([i, SUCCEEDED, out])
                    if len(jb) >= self.options.journal_batch:
                        self._write()
                self._ndone += 1
                if events:
                    self._evbuf.append(_new_event(ProgressEvent, (
                        _SUCCEEDED, self.id, self.ids[i], self._ndone, self._n,
                        self._wall0 + t, "")))
                    if not journal and not self._flush_wanted:
                        self._wake_flusher()
                return
        except trio.Cancelled:
            if _NT[st[i] * 16 + E_CANCEL] >= 0:
                self._move(i, E_CANCEL)
                self._record(i, CANCELLED, "cancelled")
                if events:
                    self._event(i, CANCELLED)
            raise

    def _node_failed(self, i: int, exc: BaseException) -> None:
        self._move(i, E_FAIL)
        self._t_end[i] = time.perf_counter()
        msg = _describe(exc)
        self._errors[i] = msg
        self._record(i, FAILED, msg)
        self._ndone += 1
        if self._sink is not None and self._sink.active:
            self._event(i, FAILED, msg)
        if self.options.fail_fast and self._scope is not None:
            self._stop_reason = f"fail-fast: {self.ids[i]} failed"
            self._audit("fail-fast", node=self.ids[i], error=msg)
            self._scope.cancel()

    async def _attempt(
        self,
        i: int,
        mode: int,
        fn: NodeFn,
        cfg: object,
        inputs: Mapping[str, object],
        timeout: float | None,
        attempt: int,
    ) -> object:
        if timeout is None:
            if mode == _INLINE:
                return fn(inputs, cfg)
            if mode == _ASYNC:
                return await cast(Awaitable[object], fn(inputs, cfg))
            return await self._submit(fn, inputs, cfg)
        out: object = None
        with trio.move_on_after(timeout) as cs:
            if mode == _INLINE:
                out = await trio.to_thread.run_sync(fn, inputs, cfg, abandon_on_cancel=True)
            elif mode == _ASYNC:
                out = await cast(Awaitable[object], fn(inputs, cfg))
            else:
                out = await self._submit(fn, inputs, cfg)
        if cs.cancelled_caught:
            raise NodeTimeout(
                f"node {self.ids[i]!r} timed out after {timeout}s (attempt {attempt})",
                details={"node": self.ids[i], "attempt": attempt, "timeout": timeout},
            )
        return out

    async def _submit(self, fn: NodeFn, inputs: Mapping[str, object], cfg: object) -> object:
        return await self.engine.executors["process"].submit(
            cast(Callable[[Mapping[str, object], Mapping[str, object]], object], fn),
            inputs,
            cast(Mapping[str, object], cfg),
        )

    # ------------------------------------------------------------------ control nodes
    async def _gate(self, inputs: Mapping[str, object], node: object) -> Outputs:
        assert isinstance(node, GateNode)
        i = self._ix(node.id)
        self._move(i, E_WAIT)
        self._record(i, WAITING, node.message)
        if self._sink is not None and self._sink.active:
            self._event(i, WAITING, node.message or "waiting for approval")
        ev = self._gate_events.setdefault(i, trio.Event())
        if len(self._approvals.get(i, ())) >= node.approvals:
            ev.set()
        approved = True
        if node.timeout is None:
            await ev.wait()
        else:
            with trio.move_on_after(node.timeout):
                await ev.wait()
            if not ev.is_set():
                approved = node.on_timeout == "approve"
        self._move(i, E_RESUME)
        self._record(i, RUNNING, self._attempts[i])
        if i in self._rejected or not approved:
            raise NodeFailed(
                f"gate {node.id!r} was rejected"
                + ("" if i in self._rejected else " (approval timed out)"),
                details={"node": node.id},
            )
        out = node.outputs[0].name if node.outputs else "value"
        return {out: inputs.get("value")}

    async def _map(self, inputs: Mapping[str, object], node: object) -> Outputs:
        assert isinstance(node, MapNode)
        items = inputs.get("items")
        if not isinstance(items, list | tuple):
            raise ValidationError(
                f"map {node.id!r}: input 'items' must be a list, got {type(items).__name__}",
                details={"node": node.id},
            )
        in_node, _, in_port = node.item_input.partition(".")
        out_node, _, out_port = node.result_output.partition(".")
        problems = [p for p in node.body.validate().errors
                    if not (p.code == "missing-input" and p.node == in_node)]
        if problems:
            raise NodeFailed(f"map {node.id!r}: its body is invalid: "
                             + "; ".join(str(p) for p in problems), details={"node": node.id})
        results: list[object] = [None] * len(items)
        errors: list[str] = []
        limit = trio.CapacityLimiter(node.concurrency or self.options.concurrency)
        opts = RunOptions(
            concurrency=max(1, min(self.options.concurrency, 8)),
            journal=False,
            yield_interval=self.options.yield_interval,
        )

        async def one(k: int, item: object) -> None:
            async with limit:
                child = Run(
                    self.engine,
                    node.body,
                    f"{self.id}/{node.id}[{k}]",
                    opts,
                    None,
                    inject={in_node: {in_port: item}},
                )
                child._sink = None
                child._osink = None
                summary = await child.execute()
                if summary.state is not RunState.COMPLETED:
                    errors.append(
                        f"item {k}: " + "; ".join(f"{n}: {e}" for n, e in summary.failed.items())
                    )
                    return
                o = child.outputs(out_node)
                results[k] = None if o is None else o.get(out_port)

        async with trio.open_nursery() as nursery:
            for k, item in enumerate(items):
                nursery.start_soon(one, k, item)
        if errors:
            raise NodeFailed(
                f"map {node.id!r}: {len(errors)} of {len(items)} items failed: "
                + " | ".join(errors[:3]),
                details={"node": node.id},
            )
        out = node.outputs[0].name if node.outputs else "results"
        return {out: results}


class _Tracker(Protocol):
    def ready(self) -> Sequence[int]: ...
    def done(self, nodes: int | Sequence[int]) -> None: ...


def _threaded(fn: NodeFn) -> NodeFn:
    async def threaded(inputs: Mapping[str, object], cfg: object) -> object:
        return await trio.to_thread.run_sync(fn, inputs, cfg)

    return cast(NodeFn, threaded)


def _noop_fn(inputs: Mapping[str, object], cfg: object) -> Outputs:
    return {}


def _branch(inputs: Mapping[str, object], node: object) -> Outputs:
    assert isinstance(node, BranchNode)
    port = "then" if evaluate(node.condition, inputs) else "else"
    return {port: inputs.get("value")}


def _merge(inputs: Mapping[str, object], node: object) -> Outputs:
    assert isinstance(node, MergeNode)
    items = inputs.get("items", [])
    if not isinstance(items, list):
        items = [items]
    out = node.outputs[0].name if node.outputs else "value"
    if node.strategy == "first":
        return {out: items[0] if items else None}
    return {out: items}


def _check_outputs(node: str, out: object) -> Outputs:
    if isinstance(out, Mapping):
        return dict(out)
    if out is None:
        return {}
    raise NodeFailed(
        f"node {node!r} returned {type(out).__name__}, not a mapping of output port to value",
        details={"node": node},
    )


def _describe(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, SymphonyError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _backoff(pol: NodePolicy, attempt: int, rng: random.Random) -> float:
    """Delay before retry ``attempt`` (1-based): exponential, capped, with jitter."""
    base = min(pol.retry_backoff * (2 ** (attempt - 1)), pol.retry_backoff_max)
    jitter = pol.retry_jitter
    if jitter > 0:
        base *= 1 + jitter * (2 * rng.random() - 1)
    return max(0.0, float(base))


def summary_path(store: RunStore, run_id: str) -> Path:
    """Where a run's summary JSON lives."""
    return store.path(run_id) / "summary.json"
