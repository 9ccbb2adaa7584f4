"""PitPort: the core's (and the Conductor's) direct, in-process door to The Pit.

Union of seed 001 M1.1.1 and design 004 M1.1. The contract
(:func:`symphony.ports.testing.check_pit_port`):

- ``allocate_model`` returns a fresh handle for every call (two allocations of one spec are
  two handles); a model id the pool does not know → :class:`PortNotFound`.
  ``release_model`` gives a handle back; an unknown or already released handle →
  :class:`PortNotFound`.
- ``execute_workflow`` validates the DAG — node ids unique, every dependency a node of the
  same spec, every node of the spec's workflow, no cycle — else :class:`PortInvalidRequest`;
  it returns a new :class:`ExecutionId` per call.
- ``execute_dag_node`` runs one node and returns its :class:`NodeResult` (same workflow and
  node ids). A node that ran and failed is a result with status ``FAILED``, not an error.
- ``store_artifact`` is content-addressed: equal bytes give the equal id (stored once),
  different bytes different ids; the metadata of the latest store wins. ``get_artifact``
  returns the exact bytes; an unknown id → :class:`PortNotFound`.
- ``resolve_conflict`` picks a winner among the claims with the highest priority; the
  ranking lists every claimant once, winner first; the same conflict resolves the same way.
  No claims, or one claimant twice → :class:`PortInvalidRequest`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from symphony.ports.types import (
    Artifact,
    ArtifactId,
    ArtifactMetadata,
    Conflict,
    DagNode,
    ExecutionId,
    ModelHandle,
    ModelSpec,
    NodeResult,
    Resolution,
    WorkflowSpec,
)

__all__ = ["PitPort"]


@runtime_checkable
class PitPort(Protocol):
    """Model pool, DAG execution, artifact store and arbitration (see the module docstring)."""

    async def allocate_model(self, spec: ModelSpec) -> ModelHandle:
        """Allocate an instance of the model ``spec`` names."""
        ...

    async def release_model(self, handle: ModelHandle) -> None:
        """Give an allocated model back to the pool."""
        ...

    async def execute_workflow(self, workflow: WorkflowSpec) -> ExecutionId:
        """Validate and start a workflow; return the id of this run."""
        ...

    async def execute_dag_node(self, node: DagNode) -> NodeResult:
        """Run one node and return its result."""
        ...

    async def store_artifact(
        self, content: bytes, metadata: ArtifactMetadata | None = None
    ) -> ArtifactId:
        """Store ``content`` (deduplicated by content) and return its id."""
        ...

    async def get_artifact(self, artifact_id: ArtifactId) -> Artifact:
        """Fetch a stored artifact: exact bytes and latest metadata."""
        ...

    async def resolve_conflict(self, conflict: Conflict) -> Resolution:
        """Decide who gets a contended resource."""
        ...
