"""Deterministic mock adapters for the six ports (seed M1.1.4), for trio.

Each mock is a faithful, in-memory implementation of its port's contract — the text-editing
mock is a real buffer with revisions, undo/redo and events — so the contract suites in
:mod:`symphony.ports.testing` pass against them, and domain code can be tested without the
editor process, the Pit, extension actors, the Conductor or the OFB service.

Every mock also:

- **records** each call as a :class:`Call` in ``port.calls`` (numbered from 1 across the
  port; :meth:`MockPort.calls_to` filters by method);
- **injects faults** from its :class:`FaultPlan`: fail the Nth call (overall, or of one
  method), every call of given methods, or each call with a probability drawn from an RNG
  seeded by the plan — so runs are reproducible. An injected failure raises before the call
  touches any state;
- **adds latency** with ``trio.sleep`` (use ``trio.testing.MockClock(autojump_threshold=0)``
  to make it free in tests); with no latency each call is still a trio checkpoint;
- is an async context manager (``async with MockPitPort() as pit``), so the mock classes
  themselves are ``make_port`` factories for the contract suites.

IDs are sequential (``buffer-1``, ``handle-1`` …) and artifact ids are SHA-256 content
addresses, so the same sequence of calls always gives the same results.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import math
import os
import random
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Generic, Self, TypeVar

import trio

from symphony.commons.errors import (
    AuthoritativeValidationError,
    PortConflict,
    PortError,
    PortInvalidRequest,
    PortNotFound,
    PortUnavailable,
    ValidationError,
)
from symphony.commons.health import HealthStatus
from symphony.ports._record import check_plain
from symphony.ports.types import (
    Artifact,
    ArtifactId,
    ArtifactMetadata,
    BufferEvent,
    BufferEventKind,
    BufferId,
    ConductorStatus,
    Conflict,
    DagNode,
    DataQuery,
    DataRecord,
    Decision,
    DecisionContext,
    DecisionId,
    EpisodeId,
    ExecutionId,
    ExtensionEvent,
    ExtensionEventKind,
    ExtensionId,
    ExtensionManifest,
    ExtensionRequest,
    ExtensionResponse,
    ModelHandle,
    ModelSpec,
    NodeResult,
    NodeStatus,
    OrchestrationRequest,
    OrchestrationResult,
    OrchestrationStatus,
    Plain,
    Policy,
    PolicyContext,
    QueryPage,
    RecordId,
    Resolution,
    Revision,
    TextEdit,
    TextRange,
    ValidationFailure,
    ValidationResult,
    WorkflowSpec,
)

__all__ = [
    "DEFAULT_COLLECTIONS",
    "DEFAULT_EVENT_BUFFER",
    "DEFAULT_MODELS",
    "Call",
    "FaultPlan",
    "MockConductorPort",
    "MockDataAccessPort",
    "MockExtensionPort",
    "MockPitPort",
    "MockPort",
    "MockPreValidationPort",
    "MockTextEditingPort",
    "Rule",
    "default_prevalidation_rules",
    "pattern",
    "required",
    "validate_dag",
]

DEFAULT_EVENT_BUFFER = 256
"""Events a subscriber may have pending before it is dropped with :class:`PortConflict`."""

DEFAULT_MODELS: tuple[str, ...] = ("mock-model",)
"""The model ids :class:`MockPitPort` knows unless told otherwise."""

DEFAULT_COLLECTIONS: tuple[str, ...] = ("users", "workflows", "extensions", "projects")
"""The collections :class:`MockDataAccessPort` serves unless told otherwise."""


# --------------------------------------------------------------------------- faults and calls
@dataclass(frozen=True, slots=True)
class Call:
    """One recorded call: its number (from 1, across the port), method and arguments."""

    number: int
    method: str
    args: Mapping[str, object]
    injected_failure: bool = False
    """True when the :class:`FaultPlan` made this call fail."""


@dataclass(frozen=True)
class FaultPlan:
    """Which calls fail and how slow calls are. The default plan injects nothing.

    Args:
        fail_calls: call numbers to fail: an ``int`` N fails the Nth call to the port (counted
            from 1 across all methods), ``("insert", N)`` the Nth call of ``insert``.
        fail_methods: every call of these methods fails.
        probability: each call fails with this probability, drawn from ``random.Random(seed)``
            (one draw per call, so the pattern depends only on the seed and call order).
        seed: seed of that RNG.
        error: builds the exception to raise from a message (a :class:`PortError` subclass;
            :class:`PortUnavailable` by default).
        latency: seconds every call sleeps (``trio.sleep``) before doing its work.
        method_latency: per-method latency, overriding ``latency``.
    """

    fail_calls: Collection[int | tuple[str, int]] = ()
    fail_methods: Collection[str] = ()
    probability: float = 0.0
    seed: int = 0
    error: Callable[[str], PortError] = PortUnavailable
    latency: float = 0.0
    method_latency: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability <= 1.0:
            raise ValidationError(
                f"FaultPlan.probability must be in [0, 1], not {self.probability!r}"
            )
        delays = [self.latency, *self.method_latency.values()]
        if any(not (math.isfinite(d) and d >= 0) for d in delays):
            raise ValidationError(f"FaultPlan latencies must be finite and >= 0: {delays}")


class MockPort:
    """Call recording, fault injection and latency shared by every mock adapter."""

    def __init__(self, *, faults: FaultPlan | None = None) -> None:
        self.calls: list[Call] = []
        self._per_method: Counter[str] = Counter()
        self._faults = FaultPlan()
        self._rng = random.Random(0)
        self.faults = faults or FaultPlan()

    @property
    def faults(self) -> FaultPlan:
        """The active fault plan; assigning a new one also reseeds its RNG."""
        return self._faults

    @faults.setter
    def faults(self, plan: FaultPlan) -> None:
        self._faults = plan
        self._rng = random.Random(plan.seed)

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls of one method, in order."""
        return [c for c in self.calls if c.method == method]

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def _enter(self, method: str, **args: object) -> None:
        """Record the call, sleep its latency, then raise if the plan says it fails."""
        plan = self._faults
        number = len(self.calls) + 1
        self._per_method[method] += 1
        draw = self._rng.random()
        failing = (
            number in plan.fail_calls
            or (method, self._per_method[method]) in plan.fail_calls
            or method in plan.fail_methods
            or draw < plan.probability
        )
        self.calls.append(Call(number, method, dict(args), failing))
        delay = plan.method_latency.get(method, plan.latency)
        if delay > 0:
            await trio.sleep(delay)
        else:
            await trio.lowlevel.checkpoint()
        if failing:
            raise plan.error(f"{type(self).__name__}.{method}: injected failure (call #{number})")


# --------------------------------------------------------------------------- event fan-out
_E = TypeVar("_E")
_K = TypeVar("_K")


class _Subscription(Generic[_E]):
    """One subscriber's bounded queue, iterated with ``async for``."""

    def __init__(self, capacity: int, what: str) -> None:
        self._send, self._receive = trio.open_memory_channel[_E](capacity)
        self._what = what
        self.lagged = False

    def push(self, event: _E) -> None:
        if self.lagged:
            return
        try:
            self._send.send_nowait(event)
        except trio.WouldBlock:
            self.lagged = True
            self._send.close()
        except trio.ClosedResourceError:
            pass

    def finish(self) -> None:
        self._send.close()

    def detach(self) -> None:
        self._send.close()
        self._receive.close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> _E:
        try:
            return await self._receive.receive()
        except trio.EndOfChannel:
            if self.lagged:
                raise PortConflict(
                    f"subscriber of {self._what} fell more than "
                    f"{self._send.statistics().max_buffer_size} events behind and was dropped"
                ) from None
            raise StopAsyncIteration from None
        except trio.ClosedResourceError:
            raise StopAsyncIteration from None


class _Hub(Generic[_K, _E]):
    """Fan-out of events per key to bounded subscriber queues."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValidationError(f"event_buffer must hold at least 1 event, not {capacity}")
        self._capacity = capacity
        self._subs: dict[_K, list[_Subscription[_E]]] = {}

    def add(self, key: _K, what: str) -> _Subscription[_E]:
        sub = _Subscription[_E](self._capacity, what)
        self._subs.setdefault(key, []).append(sub)
        return sub

    def remove(self, key: _K, sub: _Subscription[_E]) -> None:
        subs = self._subs.get(key)
        if subs is not None and sub in subs:
            subs.remove(sub)
        sub.detach()

    def publish(self, key: _K, event: _E) -> None:
        for sub in self._subs.get(key, ()):
            sub.push(event)

    def finish(self, key: _K) -> None:
        for sub in self._subs.pop(key, ()):
            sub.finish()


# --------------------------------------------------------------------------- text editing
@dataclass(slots=True)
class _Step:
    forward: tuple[TextEdit, ...]
    inverse: tuple[TextEdit, ...]


@dataclass(slots=True)
class _Buffer:
    buffer_id: BufferId
    path: str | None
    text: str
    revision: Revision = field(default_factory=lambda: Revision(0))
    undo: list[_Step] = field(default_factory=list)
    redo: list[_Step] = field(default_factory=list)


def _apply_edits(
    text: str, edits: Sequence[TextEdit], where: str
) -> tuple[str, tuple[TextEdit, ...]]:
    """Apply ascending, non-overlapping ``edits``; return the new text and the inverse edits."""
    pieces: list[str] = []
    inverse: list[TextEdit] = []
    pos = 0
    shift = 0
    for i, edit in enumerate(edits):
        if not isinstance(edit, TextEdit):
            raise PortInvalidRequest(
                f"{where}: edits[{i}] is a {type(edit).__name__}, not a TextEdit"
            )
        start, end = edit.range.start, edit.range.end
        if end > len(text):
            raise PortInvalidRequest(
                f"{where}: edits[{i}] range [{start}, {end}) is past the end of the "
                f"buffer (length {len(text)})"
            )
        if start < pos:
            raise PortInvalidRequest(
                f"{where}: edits[{i}] range [{start}, {end}) starts before the end ({pos}) of "
                "the previous edit; edits must be ascending and must not overlap"
            )
        pieces.append(text[pos:start])
        pieces.append(edit.text)
        new_start = start + shift
        inverse.append(TextEdit(TextRange(new_start, new_start + len(edit.text)), text[start:end]))
        shift += len(edit.text) - (end - start)
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces), tuple(inverse)


class MockTextEditingPort(MockPort):
    """An in-memory :class:`~symphony.ports.TextEditingPort`: real buffers with revisions,
    undo/redo and events. Files are read and written on disk (UTF-8, newlines untouched)."""

    def __init__(
        self, *, faults: FaultPlan | None = None, event_buffer: int = DEFAULT_EVENT_BUFFER
    ) -> None:
        super().__init__(faults=faults)
        self._buffers: dict[BufferId, _Buffer] = {}
        self._by_path: dict[str, BufferId] = {}
        self._counter = 0
        self._hub: _Hub[BufferId, BufferEvent] = _Hub(event_buffer)

    # -- helpers
    def _buffer(self, buffer_id: BufferId, method: str) -> _Buffer:
        buf = self._buffers.get(buffer_id)
        if buf is None:
            raise PortNotFound(f"{method}: unknown buffer id {buffer_id.value!r}")
        return buf

    def _publish(
        self,
        buf: _Buffer,
        kind: BufferEventKind,
        edits: tuple[TextEdit, ...] = (),
        path: str | None = None,
    ) -> None:
        event = BufferEvent(buf.buffer_id, kind, buf.revision, edits, path)
        self._hub.publish(buf.buffer_id, event)

    def _change(self, buf: _Buffer, edits: Sequence[TextEdit], method: str) -> Revision:
        new_text, inverse = _apply_edits(buf.text, edits, f"{method} on {buf.buffer_id.value!r}")
        if new_text == buf.text:
            return buf.revision
        forward = tuple(edits)
        buf.text = new_text
        buf.revision = buf.revision.next()
        buf.undo.append(_Step(forward, inverse))
        buf.redo.clear()
        self._publish(buf, BufferEventKind.EDITED, edits=forward)
        return buf.revision

    # -- the port
    async def open_file(self, path: str | None = None) -> BufferId:
        await self._enter("open_file", path=path)
        key = None
        text = ""
        if path is not None:
            key = os.path.abspath(path)
            existing = self._by_path.get(key)
            if existing is not None:
                return existing
            try:
                with open(key, encoding="utf-8", newline="") as f:
                    text = f.read()
            except FileNotFoundError:
                text = ""
            except UnicodeDecodeError as exc:
                raise PortInvalidRequest(f"open_file({path!r}): not UTF-8 text: {exc}") from exc
            except OSError as exc:
                raise PortError(f"open_file({path!r}): {type(exc).__name__}: {exc}") from exc
        self._counter += 1
        buffer_id = BufferId(f"buffer-{self._counter}")
        self._buffers[buffer_id] = _Buffer(buffer_id, key, text)
        if key is not None:
            self._by_path[key] = buffer_id
        return buffer_id

    async def close(self, buffer_id: BufferId) -> None:
        await self._enter("close", buffer_id=buffer_id)
        buf = self._buffer(buffer_id, "close")
        del self._buffers[buffer_id]
        if buf.path is not None:
            self._by_path.pop(buf.path, None)
        self._publish(buf, BufferEventKind.CLOSED)
        self._hub.finish(buffer_id)

    async def insert(self, buffer_id: BufferId, pos: int, text: str) -> Revision:
        await self._enter("insert", buffer_id=buffer_id, pos=pos, text=text)
        buf = self._buffer(buffer_id, "insert")
        if not isinstance(pos, int) or not 0 <= pos <= len(buf.text):
            raise PortInvalidRequest(
                f"insert: position {pos!r} is outside buffer {buffer_id.value!r} "
                f"(length {len(buf.text)})"
            )
        return self._change(buf, [TextEdit.insert(pos, text)], "insert")

    async def delete(self, buffer_id: BufferId, text_range: TextRange) -> Revision:
        await self._enter("delete", buffer_id=buffer_id, text_range=text_range)
        buf = self._buffer(buffer_id, "delete")
        return self._change(buf, [TextEdit(text_range, "")], "delete")

    async def edit(
        self,
        buffer_id: BufferId,
        edits: Sequence[TextEdit],
        *,
        base_revision: Revision | None = None,
    ) -> Revision:
        await self._enter("edit", buffer_id=buffer_id, edits=edits, base_revision=base_revision)
        buf = self._buffer(buffer_id, "edit")
        if base_revision is not None and base_revision != buf.revision:
            raise PortConflict(
                f"edit: base revision {base_revision.value} of buffer {buffer_id.value!r} is "
                f"stale; the buffer is at revision {buf.revision.value}"
            )
        return self._change(buf, edits, "edit")

    async def get_content(self, buffer_id: BufferId) -> str:
        await self._enter("get_content", buffer_id=buffer_id)
        return self._buffer(buffer_id, "get_content").text

    async def undo(self, buffer_id: BufferId) -> Revision:
        await self._enter("undo", buffer_id=buffer_id)
        buf = self._buffer(buffer_id, "undo")
        if not buf.undo:
            raise PortInvalidRequest(f"undo: nothing to undo in buffer {buffer_id.value!r}")
        step = buf.undo.pop()
        buf.text, _ = _apply_edits(buf.text, step.inverse, "undo")
        buf.revision = buf.revision.next()
        buf.redo.append(step)
        self._publish(buf, BufferEventKind.UNDONE, edits=step.inverse)
        return buf.revision

    async def redo(self, buffer_id: BufferId) -> Revision:
        await self._enter("redo", buffer_id=buffer_id)
        buf = self._buffer(buffer_id, "redo")
        if not buf.redo:
            raise PortInvalidRequest(f"redo: nothing to redo in buffer {buffer_id.value!r}")
        step = buf.redo.pop()
        buf.text, _ = _apply_edits(buf.text, step.forward, "redo")
        buf.revision = buf.revision.next()
        buf.undo.append(step)
        self._publish(buf, BufferEventKind.REDONE, edits=step.forward)
        return buf.revision

    async def save(self, buffer_id: BufferId, path: str | None = None) -> Revision:
        await self._enter("save", buffer_id=buffer_id, path=path)
        buf = self._buffer(buffer_id, "save")
        target = os.path.abspath(path) if path is not None else buf.path
        if target is None:
            raise PortInvalidRequest(
                f"save: buffer {buffer_id.value!r} has no path; give save() a path"
            )
        owner = self._by_path.get(target)
        if owner is not None and owner != buffer_id:
            raise PortConflict(f"save: {target!r} is open in another buffer ({owner.value!r})")
        try:
            with open(target, "w", encoding="utf-8", newline="") as f:
                f.write(buf.text)
        except OSError as exc:
            raise PortError(f"save({target!r}): {type(exc).__name__}: {exc}") from exc
        if target != buf.path:
            if buf.path is not None:
                self._by_path.pop(buf.path, None)
            buf.path = target
            self._by_path[target] = buffer_id
        self._publish(buf, BufferEventKind.SAVED, path=target)
        return buf.revision

    def subscribe(
        self, buffer_id: BufferId
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[BufferEvent]]:
        return self._subscribe(buffer_id)

    @contextlib.asynccontextmanager
    async def _subscribe(self, buffer_id: BufferId) -> AsyncIterator[AsyncIterator[BufferEvent]]:
        await self._enter("subscribe", buffer_id=buffer_id)
        self._buffer(buffer_id, "subscribe")
        sub = self._hub.add(buffer_id, f"buffer {buffer_id.value!r}")
        try:
            yield sub
        finally:
            self._hub.remove(buffer_id, sub)


# --------------------------------------------------------------------------- pit
def validate_dag(workflow: WorkflowSpec) -> str | None:
    """Why ``workflow`` is not a valid DAG, or ``None`` when it is.

    Checks that node ids are unique, every node belongs to the spec's workflow, every
    dependency names a node of the spec (and not the node itself), and there is no cycle.
    """
    wid = workflow.workflow_id.value
    ids: dict[str, int] = {}
    for i, node in enumerate(workflow.nodes):
        if node.workflow_id != workflow.workflow_id:
            return (
                f"node {node.node_id.value!r} belongs to workflow {node.workflow_id.value!r}, "
                f"not {wid!r}"
            )
        if node.node_id.value in ids:
            return f"node id {node.node_id.value!r} appears twice in workflow {wid!r}"
        ids[node.node_id.value] = i
    indegree = [0] * len(workflow.nodes)
    children: list[list[int]] = [[] for _ in workflow.nodes]
    for i, node in enumerate(workflow.nodes):
        for dep in node.depends_on:
            j = ids.get(dep.value)
            if j is None:
                return f"node {node.node_id.value!r} depends on unknown node {dep.value!r}"
            if j == i:
                return f"node {node.node_id.value!r} depends on itself"
            children[j].append(i)
            indegree[i] += 1
    ready = [i for i, d in enumerate(indegree) if d == 0]
    seen = 0
    while ready:
        i = ready.pop()
        seen += 1
        for c in children[i]:
            indegree[c] -= 1
            if indegree[c] == 0:
                ready.append(c)
    if seen != len(workflow.nodes):
        stuck = sorted(workflow.nodes[i].node_id.value for i, d in enumerate(indegree) if d > 0)
        return f"workflow {wid!r} has a cycle through {', '.join(map(repr, stuck))}"
    return None


def _echo_node(node: DagNode) -> NodeResult:
    return NodeResult(node.workflow_id, node.node_id, NodeStatus.SUCCEEDED, dict(node.inputs))


class MockPitPort(MockPort):
    """An in-memory :class:`~symphony.ports.PitPort`.

    Args:
        models: the model ids the pool knows (``None``: any id).
        node_handler: computes a node's result (default: succeed, outputs = inputs).
    """

    def __init__(
        self,
        *,
        faults: FaultPlan | None = None,
        models: Collection[str] | None = DEFAULT_MODELS,
        node_handler: Callable[[DagNode], NodeResult] | None = None,
    ) -> None:
        super().__init__(faults=faults)
        self.models = None if models is None else frozenset(models)
        self.node_handler = node_handler or _echo_node
        self.allocations: dict[str, ModelHandle] = {}
        self.executions: dict[ExecutionId, WorkflowSpec] = {}
        self._artifacts: dict[ArtifactId, Artifact] = {}
        self._handles = 0

    async def allocate_model(self, spec: ModelSpec) -> ModelHandle:
        await self._enter("allocate_model", spec=spec)
        if self.models is not None and spec.model_id not in self.models:
            raise PortNotFound(
                f"allocate_model: unknown model {spec.model_id!r}; the pool has "
                f"{', '.join(sorted(self.models)) or 'no models'}"
            )
        self._handles += 1
        handle = ModelHandle(f"handle-{self._handles}", spec.model_id, spec.version)
        self.allocations[handle.handle_id] = handle
        return handle

    async def release_model(self, handle: ModelHandle) -> None:
        await self._enter("release_model", handle=handle)
        if self.allocations.get(handle.handle_id) != handle:
            raise PortNotFound(
                f"release_model: handle {handle.handle_id!r} is not allocated "
                "(never allocated, or already released)"
            )
        del self.allocations[handle.handle_id]

    async def execute_workflow(self, workflow: WorkflowSpec) -> ExecutionId:
        await self._enter("execute_workflow", workflow=workflow)
        problem = validate_dag(workflow)
        if problem is not None:
            raise PortInvalidRequest(f"execute_workflow: {problem}")
        execution_id = ExecutionId(f"execution-{len(self.executions) + 1}")
        self.executions[execution_id] = workflow
        return execution_id

    async def execute_dag_node(self, node: DagNode) -> NodeResult:
        await self._enter("execute_dag_node", node=node)
        return self.node_handler(node)

    async def store_artifact(
        self, content: bytes, metadata: ArtifactMetadata | None = None
    ) -> ArtifactId:
        await self._enter("store_artifact", content=content, metadata=metadata)
        data = bytes(content)
        artifact_id = ArtifactId("sha256:" + hashlib.sha256(data).hexdigest())
        self._artifacts[artifact_id] = Artifact(artifact_id, data, metadata or ArtifactMetadata())
        return artifact_id

    async def get_artifact(self, artifact_id: ArtifactId) -> Artifact:
        await self._enter("get_artifact", artifact_id=artifact_id)
        artifact = self._artifacts.get(artifact_id)
        if artifact is None:
            raise PortNotFound(f"get_artifact: unknown artifact {artifact_id.value!r}")
        return artifact

    async def resolve_conflict(self, conflict: Conflict) -> Resolution:
        await self._enter("resolve_conflict", conflict=conflict)
        where = f"resolve_conflict({conflict.conflict_id.value!r})"
        if not conflict.claims:
            raise PortInvalidRequest(f"{where}: a conflict needs at least one claim")
        names = [c.claimant for c in conflict.claims]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise PortInvalidRequest(f"{where}: claimant(s) {twice} claim more than once")
        order = sorted(
            range(len(conflict.claims)),
            key=lambda i: (-conflict.claims[i].priority, -conflict.claims[i].quality, i),
        )
        ranking = tuple(names[i] for i in order)
        return Resolution(conflict.conflict_id, ranking[0], ranking, "priority-quality-fifo")


# --------------------------------------------------------------------------- extensions
class MockExtensionPort(MockPort):
    """An in-memory :class:`~symphony.ports.ExtensionPort`.

    Every loaded extension answers the contract methods (``echo``, ``emit``, ``fail``; see
    :mod:`symphony.ports.extension`) plus ``handlers``: method name → function of the
    request's params returning the result.
    """

    def __init__(
        self,
        *,
        faults: FaultPlan | None = None,
        handlers: Mapping[str, Callable[[Plain], Plain]] | None = None,
        event_buffer: int = DEFAULT_EVENT_BUFFER,
    ) -> None:
        super().__init__(faults=faults)
        self.handlers = dict(handlers or {})
        self.loaded: dict[ExtensionId, ExtensionManifest] = {}
        self._hub: _Hub[ExtensionId, ExtensionEvent] = _Hub(event_buffer)

    def _loaded(self, extension_id: ExtensionId, method: str) -> ExtensionManifest:
        manifest = self.loaded.get(extension_id)
        if manifest is None:
            raise PortNotFound(f"{method}: extension {extension_id.value!r} is not loaded")
        return manifest

    async def load(self, manifest: ExtensionManifest) -> ExtensionId:
        await self._enter("load", manifest=manifest)
        if manifest.id in self.loaded:
            raise PortConflict(f"load: extension {manifest.id.value!r} is already loaded")
        self.loaded[manifest.id] = manifest
        return manifest.id

    async def unload(self, extension_id: ExtensionId) -> None:
        await self._enter("unload", extension_id=extension_id)
        self._loaded(extension_id, "unload")
        self._stop(extension_id, ExtensionEventKind.UNLOADED, None)

    def simulate_crash(self, extension_id: ExtensionId, reason: str = "crashed") -> None:
        """Make a loaded extension crash: subscribers get ``CRASHED``; it is unloaded."""
        self._loaded(extension_id, "simulate_crash")
        self._stop(extension_id, ExtensionEventKind.CRASHED, reason)

    def _stop(self, extension_id: ExtensionId, kind: ExtensionEventKind, payload: Plain) -> None:
        del self.loaded[extension_id]
        self._hub.publish(extension_id, ExtensionEvent(extension_id, kind, payload))
        self._hub.finish(extension_id)

    async def invoke(
        self, extension_id: ExtensionId, request: ExtensionRequest
    ) -> ExtensionResponse:
        await self._enter("invoke", extension_id=extension_id, request=request)
        self._loaded(extension_id, "invoke")
        handler = self.handlers.get(request.method)
        if handler is not None:
            return ExtensionResponse(check_plain(handler(request.params), "handler result"))
        if request.method == "echo":
            return ExtensionResponse(request.params)
        if request.method == "emit":
            event = ExtensionEvent(extension_id, ExtensionEventKind.NOTIFICATION, request.params)
            self._hub.publish(extension_id, event)
            return ExtensionResponse(None)
        if request.method == "fail":
            params = request.params
            reason = params if isinstance(params, str) else repr(params)
            raise PortError(
                f"invoke: extension {extension_id.value!r} failed: {reason}",
                details={"extension_id": extension_id.value, "method": "fail"},
            )
        raise PortNotFound(
            f"invoke: extension {extension_id.value!r} has no method {request.method!r}"
        )

    def events(
        self, extension_id: ExtensionId
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[ExtensionEvent]]:
        return self._events(extension_id)

    @contextlib.asynccontextmanager
    async def _events(
        self, extension_id: ExtensionId
    ) -> AsyncIterator[AsyncIterator[ExtensionEvent]]:
        await self._enter("events", extension_id=extension_id)
        self._loaded(extension_id, "events")
        sub = self._hub.add(extension_id, f"extension {extension_id.value!r}")
        try:
            yield sub
        finally:
            self._hub.remove(extension_id, sub)


# --------------------------------------------------------------------------- conductor
class MockConductorPort(MockPort):
    """An in-memory :class:`~symphony.ports.ConductorPort` with a tiny learning policy.

    Each choice's preference is the mean reward of the episodes that chose it; a decision
    picks the candidate with the highest preference (ties: the first candidate) with
    confidence ``1 / len(candidates)``. Every reward bumps the policy version.
    """

    def __init__(
        self, *, faults: FaultPlan | None = None, health: HealthStatus = HealthStatus.HEALTHY
    ) -> None:
        super().__init__(faults=faults)
        self.health = health
        self.rewards: list[tuple[EpisodeId, float]] = []
        self._episodes: dict[EpisodeId, list[str]] = {}
        self._totals: dict[str, tuple[float, int]] = {}
        self._decisions = 0
        self._orchestrations = 0
        self._version = 0

    def _preference(self, choice: str) -> float:
        total, count = self._totals.get(choice, (0.0, 0))
        return total / count if count else 0.0

    async def submit_decision(self, context: DecisionContext) -> Decision:
        await self._enter("submit_decision", context=context)
        if not context.candidates:
            raise PortInvalidRequest(
                f"submit_decision: episode {context.episode_id.value!r} action "
                f"{context.action!r} has no candidates to choose from"
            )
        best = max(
            range(len(context.candidates)),
            key=lambda i: (self._preference(context.candidates[i]), -i),
        )
        choice = context.candidates[best]
        self._decisions += 1
        self._episodes.setdefault(context.episode_id, []).append(choice)
        return Decision(
            DecisionId(f"decision-{self._decisions}"),
            context.episode_id,
            choice,
            1.0 / len(context.candidates),
            f"highest mean reward among {len(context.candidates)} candidate(s)",
        )

    async def report_reward(self, episode_id: EpisodeId, reward: float) -> None:
        await self._enter("report_reward", episode_id=episode_id, reward=reward)
        if not isinstance(reward, (int, float)) or not math.isfinite(reward):
            raise PortInvalidRequest(f"report_reward: reward {reward!r} is not a finite number")
        choices = self._episodes.get(episode_id)
        if choices is None:
            raise PortNotFound(
                f"report_reward: episode {episode_id.value!r} has no decision to reward"
            )
        for choice in choices:
            total, count = self._totals.get(choice, (0.0, 0))
            self._totals[choice] = (total + float(reward), count + 1)
        self.rewards.append((episode_id, float(reward)))
        self._version += 1

    async def get_policy(self, context: PolicyContext) -> Policy:
        await self._enter("get_policy", context=context)
        prefs = {choice: self._preference(choice) for choice in sorted(self._totals)}
        return Policy(context.name, self._version, prefs)

    async def orchestrate(self, request: OrchestrationRequest) -> OrchestrationResult:
        await self._enter("orchestrate", request=request)
        self._orchestrations += 1
        if request.workflow is not None:
            problem = validate_dag(request.workflow)
            if problem is not None:
                return OrchestrationResult(
                    request.request_id, OrchestrationStatus.REJECTED, message=problem
                )
            return OrchestrationResult(
                request.request_id,
                OrchestrationStatus.ACCEPTED,
                ExecutionId(f"orchestration-{self._orchestrations}"),
            )
        return OrchestrationResult(
            request.request_id, OrchestrationStatus.COMPLETED, outputs={"goal": request.goal}
        )

    async def get_status(self) -> ConductorStatus:
        await self._enter("get_status")
        return ConductorStatus(
            self.health, self._decisions, len(self.rewards), self._orchestrations, self._version
        )


# --------------------------------------------------------------------------- pre-validation
Rule = Callable[[Mapping[str, Plain]], Iterable[ValidationFailure]]
"""A pre-validation rule: every failure it finds in a value (nothing when it passes)."""


def required(*fields: str) -> Rule:
    """Each of ``fields`` must be present and a non-empty ``str``."""

    def rule(data: Mapping[str, Plain]) -> Iterable[ValidationFailure]:
        for name in fields:
            value = data.get(name)
            if not isinstance(value, str) or not value.strip():
                yield ValidationFailure(
                    name, f"must be a non-empty string, not {value!r}", "required"
                )

    return rule


def pattern(field_name: str, regex: str, what: str) -> Rule:
    """``field_name``, when present, must be a ``str`` matching ``regex`` (``what`` says how)."""
    compiled = re.compile(regex)

    def rule(data: Mapping[str, Plain]) -> Iterable[ValidationFailure]:
        if field_name not in data:
            return
        value = data[field_name]
        if not isinstance(value, str) or compiled.fullmatch(value) is None:
            yield ValidationFailure(field_name, f"must be {what}, not {value!r}", "pattern")

    return rule


def _is_list(field_name: str) -> Rule:
    def rule(data: Mapping[str, Plain]) -> Iterable[ValidationFailure]:
        if field_name in data and not isinstance(data[field_name], list):
            yield ValidationFailure(field_name, "must be a list", "type")

    return rule


def default_prevalidation_rules() -> dict[str, tuple[Rule, ...]]:
    """The rules :class:`MockPreValidationPort` uses unless told otherwise, per kind."""
    return {
        "user": (
            required("name", "email"),
            pattern("email", r"[^@\s]+@[^@\s]+\.[^@\s]+", "an email address"),
        ),
        "project": (
            required("name"),
            pattern("name", r"[^/\\\x00]{1,128}", "a name of 1-128 characters without slashes"),
        ),
        "workflow": (required("name"), _is_list("nodes")),
        "extension": (
            required("id", "version"),
            pattern("id", r"[a-z0-9]+(?:[._-][a-z0-9]+)*", "a lowercase dotted id"),
            pattern("version", r"\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?", "a semantic version"),
        ),
    }


class MockPreValidationPort(MockPort):
    """An in-memory :class:`~symphony.ports.PreValidationPort` running plain rule functions.

    Args:
        rules: kind → rules (default :func:`default_prevalidation_rules`). Every rule runs;
            every failure is reported.
    """

    def __init__(
        self,
        *,
        faults: FaultPlan | None = None,
        rules: Mapping[str, Sequence[Rule]] | None = None,
    ) -> None:
        super().__init__(faults=faults)
        source = default_prevalidation_rules() if rules is None else rules
        self.rules: dict[str, tuple[Rule, ...]] = {k: tuple(v) for k, v in source.items()}

    async def kinds(self) -> tuple[str, ...]:
        await self._enter("kinds")
        return tuple(sorted(self.rules))

    async def validate(self, kind: str, data: Mapping[str, Plain]) -> ValidationResult:
        await self._enter("validate", kind=kind, data=data)
        rules = self.rules.get(kind)
        if rules is None:
            raise PortNotFound(
                f"validate: unknown kind {kind!r}; known kinds are {', '.join(sorted(self.rules))}"
            )
        failures = [failure for rule in rules for failure in rule(data)]
        return ValidationResult(kind, tuple(failures))


# --------------------------------------------------------------------------- data access
def _strict_equal(a: object, b: object) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        assert isinstance(b, list)
        return len(a) == len(b) and all(_strict_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return a.keys() == b.keys() and all(_strict_equal(a[k], b[k]) for k in a)
    return a == b


def _needs_name(collection: str, data: Mapping[str, Plain]) -> list[ValidationFailure]:
    name = data.get("name")
    if isinstance(name, str) and name.strip():
        return []
    return [ValidationFailure("name", f"must be a non-empty string, not {name!r}", "required")]


class MockDataAccessPort(MockPort):
    """An in-memory :class:`~symphony.ports.DataAccessPort` standing in for the OFB service.

    Args:
        collections: the collections served (default :data:`DEFAULT_COLLECTIONS`).
        authority: the authoritative check: (collection, data) → failures; any failure
            refuses the write with :class:`AuthoritativeValidationError`. By default every
            record needs a non-empty string ``"name"``.
    """

    def __init__(
        self,
        *,
        faults: FaultPlan | None = None,
        collections: Collection[str] = DEFAULT_COLLECTIONS,
        authority: Callable[[str, Mapping[str, Plain]], Sequence[ValidationFailure]] | None = None,
    ) -> None:
        super().__init__(faults=faults)
        self.authority = authority or _needs_name
        self._store: dict[str, dict[RecordId, DataRecord]] = {c: {} for c in collections}
        self._ids = 0

    def _collection(self, collection: str, method: str) -> dict[RecordId, DataRecord]:
        records = self._store.get(collection)
        if records is None:
            raise PortNotFound(
                f"{method}: unknown collection {collection!r}; the store has "
                f"{', '.join(sorted(self._store))}"
            )
        return records

    def _record(self, collection: str, record_id: RecordId, method: str) -> DataRecord:
        record = self._collection(collection, method).get(record_id)
        if record is None:
            raise PortNotFound(f"{method}: no record {record_id.value!r} in {collection!r}")
        return record

    def _authorise(self, collection: str, data: Mapping[str, Plain], method: str) -> None:
        failures = list(self.authority(collection, data))
        if failures:
            raise AuthoritativeValidationError(
                f"{method}: {collection} record refused: "
                + "; ".join(f"{f.field}: {f.message}" for f in failures),
                details={"failures": [f.to_dict() for f in failures]},
            )

    async def create(self, collection: str, data: Mapping[str, Plain]) -> DataRecord:
        await self._enter("create", collection=collection, data=data)
        records = self._collection(collection, "create")
        self._authorise(collection, data, "create")
        self._ids += 1
        record = DataRecord(collection, RecordId(f"{collection}-{self._ids}"), 1, data)
        records[record.record_id] = record
        return record

    async def get(self, collection: str, record_id: RecordId) -> DataRecord:
        await self._enter("get", collection=collection, record_id=record_id)
        return self._record(collection, record_id, "get")

    async def update(
        self,
        collection: str,
        record_id: RecordId,
        data: Mapping[str, Plain],
        *,
        expected_version: int | None = None,
    ) -> DataRecord:
        await self._enter(
            "update",
            collection=collection,
            record_id=record_id,
            data=data,
            expected_version=expected_version,
        )
        current = self._record(collection, record_id, "update")
        if expected_version is not None and expected_version != current.version:
            raise PortConflict(
                f"update: record {record_id.value!r} is at version {current.version}, "
                f"not the expected {expected_version}"
            )
        self._authorise(collection, data, "update")
        record = dataclasses.replace(current, version=current.version + 1, data=data)
        self._store[collection][record_id] = record
        return record

    async def delete(self, collection: str, record_id: RecordId) -> None:
        await self._enter("delete", collection=collection, record_id=record_id)
        self._record(collection, record_id, "delete")
        del self._store[collection][record_id]

    async def query(self, query: DataQuery) -> QueryPage:
        await self._enter("query", query=query)
        records = self._collection(query.collection, "query")
        matches = [
            r
            for r in records.values()
            if all(k in r.data and _strict_equal(r.data[k], v) for k, v in query.where.items())
        ]
        stop = len(matches) if query.limit is None else query.offset + query.limit
        page = tuple(matches[query.offset : stop])
        end = query.offset + len(page)
        return QueryPage(page, len(matches), end if end < len(matches) else None)
