"""The PitPort over the real Pit services, and the DAG Tracker's door to the pool.

:class:`PitServices` implements :class:`~symphony.ports.pit.PitPort`:

- models → :class:`~symphony.pit.pool.PoolManager` (``handle_id`` is the pool's
  generation-tagged u64 handle in hex);
- artifacts → :class:`~symphony.pit.artifacts.AsyncArtifactStore` (content-addressed by
  the store). The store keeps the metadata of the *first* put of equal bytes; the port
  contract says the latest wins, so the adapter remembers the latest
  :class:`~symphony.ports.types.ArtifactMetadata` per id in memory (for this adapter's life);
- conflicts → :class:`~symphony.pit.arbitration.ArbitrationEngine.resolve`;
- workflows → validated here (unique ids, dependencies inside the spec, one workflow, no
  cycle) and handed to a :class:`WorkflowBackend`; without one, a validated workflow is
  accepted and recorded (the DAG Tracker is the backend in production — it owns turning a
  port ``WorkflowSpec`` into its ``Workflow``). ``execute_dag_node`` runs INSTRUMENT nodes
  on pooled models itself (``operation`` = model id, text from ``inputs["text"]``),
  ``noop``/``identity`` operators and control nodes locally, and any other operator through
  the backend (FAILED result when there is none).

:func:`pool_model_fn` is what the DAG Tracker registers to run Instrument nodes on pooled
models, going through arbitration when the model's slots are contended::

    tracker.models.register("pool/*", pool_model_fn(pool, arbitration))
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Protocol

import orjson
import trio

from symphony.commons.errors import (
    ArbitrationError,
    NotFoundError,
    PitError,
    PortInvalidRequest,
    PortNotFound,
    StaleHandle,
)
from symphony.commons.health import HealthStatus
from symphony.pit.arbitration import ArbitrationEngine, Request
from symphony.pit.artifacts import AsyncArtifactStore
from symphony.pit.pool import PoolManager
from symphony.ports.types import (
    Artifact,
    ArtifactId,
    ArtifactMetadata,
    Conflict,
    DagNode,
    ExecutionId,
    ModelHandle,
    ModelSpec,
    NodeKind,
    NodeResult,
    NodeStatus,
    Plain,
    Resolution,
    WorkflowSpec,
)

__all__ = ["PitServices", "WorkflowBackend", "open_pit", "pool_model_fn", "validate_workflow"]


class WorkflowBackend(Protocol):
    """Executes validated workflows and operator nodes (the DAG Tracker)."""

    async def execute_workflow(self, workflow: WorkflowSpec) -> ExecutionId:
        """Start a (validated) workflow."""
        ...

    async def execute_dag_node(self, node: DagNode) -> NodeResult:
        """Run one operator node."""
        ...


def validate_workflow(workflow: WorkflowSpec) -> None:
    """Raise :class:`PortInvalidRequest` naming the first problem of ``workflow``."""
    ids: set[str] = set()
    for n in workflow.nodes:
        if n.workflow_id != workflow.workflow_id:
            raise PortInvalidRequest(
                f"workflow {workflow.workflow_id!s}: node {n.node_id!s} belongs to "
                f"{n.workflow_id!s}"
            )
        if str(n.node_id) in ids:
            raise PortInvalidRequest(
                f"workflow {workflow.workflow_id!s}: duplicate node {n.node_id!s}"
            )
        ids.add(str(n.node_id))
    indeg = {str(n.node_id): 0 for n in workflow.nodes}
    children: dict[str, list[str]] = {k: [] for k in indeg}
    for n in workflow.nodes:
        for d in n.depends_on:
            if str(d) not in indeg:
                raise PortInvalidRequest(
                    f"workflow {workflow.workflow_id!s}: node {n.node_id!s} depends on "
                    f"unknown {d!s}"
                )
            indeg[str(n.node_id)] += 1
            children[str(d)].append(str(n.node_id))
    ready = [k for k, v in indeg.items() if v == 0]
    seen = 0
    while ready:
        k = ready.pop()
        seen += 1
        for c in children[k]:
            indeg[c] -= 1
            if indeg[c] == 0:
                ready.append(c)
    if seen != len(indeg):
        raise PortInvalidRequest(f"workflow {workflow.workflow_id!s} has a cycle")


def _text(inputs: Mapping[str, object]) -> str:
    t = inputs.get("text")
    return t if isinstance(t, str) else orjson.dumps(dict(inputs), default=str).decode()


async def _use_model(
    pool: PoolManager,
    arbitration: ArbitrationEngine | None,
    model_id: str,
    text: str,
    *,
    requester: str,
    priority: int = 0,
) -> list[float]:
    grant = None
    if arbitration is not None:
        grant = await arbitration.acquire(
            Request(requester, f"model:{model_id}", priority=priority)
        )
    try:
        try:
            h = pool.acquire_nowait(model_id, requester)
        except PitError:
            h = await pool.allocate(model_id, session=requester)
        try:
            [vec] = await pool.model(h).infer([text])
        finally:
            pool.release(h)
    finally:
        if grant is not None:
            arbitration.release(grant.ticket)  # type: ignore[union-attr]
    return vec


def pool_model_fn(
    pool: PoolManager, arbitration: ArbitrationEngine | None = None
) -> Callable[[object, str, Mapping[str, object]], Awaitable[str]]:
    """A DAG Tracker ``ModelFn`` running Instrument nodes on pooled models.

    The pool model id is the spec's ``name`` (``pool/<model id>``); the requester for
    arbitration and the prewarm session is ``params["run_id"]`` (default ``"dag"``), the
    priority ``params["priority"]``. Returns the embedding as a JSON array.
    """

    async def fn(spec: object, prompt: str, params: Mapping[str, object]) -> str:
        model_id = str(getattr(spec, "name", spec))
        prio = params.get("priority", 0)
        vec = await _use_model(
            pool,
            arbitration,
            model_id,
            prompt,
            requester=str(params.get("run_id", "dag")),
            priority=prio if isinstance(prio, int) else 0,
        )
        return orjson.dumps(vec).decode()

    return fn


class PitServices:
    """The real Pit behind the :class:`~symphony.ports.pit.PitPort` (module docstring)."""

    def __init__(
        self,
        pool: PoolManager,
        arbitration: ArbitrationEngine,
        artifacts: AsyncArtifactStore,
        workflows: WorkflowBackend | None = None,
    ) -> None:
        self.pool, self.arbitration, self.artifacts = pool, arbitration, artifacts
        self.workflows = workflows
        self._handles: dict[str, int] = {}
        self._meta: dict[str, ArtifactMetadata] = {}
        self.executions: dict[ExecutionId, WorkflowSpec] = {}

    async def allocate_model(self, spec: ModelSpec) -> ModelHandle:
        """Allocate from the pool (warming the model if needed)."""
        try:
            h = await self.pool.allocate(spec.model_id)
        except NotFoundError as exc:
            raise PortNotFound(str(exc)) from exc
        hid = f"{h:016x}"
        self._handles[hid] = h
        return ModelHandle(hid, spec.model_id, spec.version)

    async def release_model(self, handle: ModelHandle) -> None:
        """Give the handle back to the pool."""
        h = self._handles.pop(handle.handle_id, None)
        if h is None:
            raise PortNotFound(f"model handle {handle.handle_id!r} is not allocated")
        try:
            self.pool.release(h)
        except StaleHandle as exc:
            raise PortNotFound(str(exc)) from exc

    async def execute_workflow(self, workflow: WorkflowSpec) -> ExecutionId:
        """Validate, then hand to the backend (or record)."""
        validate_workflow(workflow)
        if self.workflows is not None:
            eid = await self.workflows.execute_workflow(workflow)
        else:
            eid = ExecutionId(f"pit-{uuid.uuid4().hex}")
        self.executions[eid] = workflow
        return eid

    async def execute_dag_node(self, node: DagNode) -> NodeResult:
        """Run one node (module docstring); a failure is a FAILED result."""
        wid, nid = node.workflow_id, node.node_id
        try:
            if node.kind is NodeKind.INSTRUMENT:
                vec = await _use_model(
                    self.pool,
                    self.arbitration,
                    node.operation,
                    _text(node.inputs),
                    requester=str(wid),
                )
                embedding: list[Plain] = list(vec)
                return NodeResult(wid, nid, NodeStatus.SUCCEEDED, {"embedding": embedding})
            if node.kind is NodeKind.CONTROL or node.operation in ("noop", "identity"):
                return NodeResult(wid, nid, NodeStatus.SUCCEEDED, dict(node.inputs))
            if self.workflows is not None:
                return await self.workflows.execute_dag_node(node)
            return NodeResult(
                wid,
                nid,
                NodeStatus.FAILED,
                error=f"no workflow backend for operation {node.operation!r}",
            )
        except Exception as exc:
            return NodeResult(wid, nid, NodeStatus.FAILED, error=f"{type(exc).__name__}: {exc}")

    async def store_artifact(
        self, content: bytes, metadata: ArtifactMetadata | None = None
    ) -> ArtifactId:
        """Put into the artifact store (deduplicated by content)."""
        meta = metadata or ArtifactMetadata()
        ref = await self.artifacts.put(
            bytes(content),
            content_type=meta.media_type,
            tags=meta.tags,
            metadata={"name": meta.name, **dict(meta.attributes)},
        )
        self._meta[ref.id] = meta
        return ArtifactId(ref.id)

    async def get_artifact(self, artifact_id: ArtifactId) -> Artifact:
        """Exact bytes and the latest metadata."""
        aid = str(artifact_id)
        try:
            data = await self.artifacts.get(aid)
        except (NotFoundError, ValueError, KeyError) as exc:
            raise PortNotFound(f"artifact {aid!r}: {exc}") from exc
        meta = self._meta.get(aid)
        if meta is None:
            info = await self.artifacts.show(aid)
            meta = ArtifactMetadata(
                name=str(info.metadata.get("name", "")),
                media_type=info.content_type or "application/octet-stream",
                tags=tuple(info.tags),
            )
        return Artifact(artifact_id, data, meta)

    async def resolve_conflict(self, conflict: Conflict) -> Resolution:
        """Arbitrate."""
        try:
            return self.arbitration.resolve(conflict)
        except ArbitrationError as exc:
            raise PortInvalidRequest(str(exc)) from exc

    def health(self) -> HealthStatus:
        """The worst of the services' health."""
        return HealthStatus.worst([self.pool.health(), self.arbitration.health()])


@asynccontextmanager
async def open_pit(
    pool: PoolManager,
    artifacts: AsyncArtifactStore,
    *,
    arbitration: ArbitrationEngine | None = None,
    workflows: WorkflowBackend | None = None,
) -> AsyncIterator[PitServices]:
    """Start the pool and arbitration services and yield the PitPort over them."""
    arb = arbitration or ArbitrationEngine()
    async with trio.open_nursery() as nursery:
        await nursery.start(pool.run)
        await nursery.start(arb.run)
        try:
            yield PitServices(pool, arb, artifacts, workflows)
        finally:
            nursery.cancel_scope.cancel()
