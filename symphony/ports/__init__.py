"""Seed M1.1: the six ports, as ``typing.Protocol`` classes with async methods.

The domain talks to the world only through these ports; adapters implement them (the editor
process, the Pit, extension actors, the Conductor, the OFB data service, local
pre-validation). API index:

- the ports: :class:`TextEditingPort`, :class:`PitPort`, :class:`ExtensionPort`,
  :class:`ConductorPort`, :class:`DataAccessPort`, :class:`PreValidationPort`;
- their domain types: :mod:`symphony.ports.types` (every one round-trips through
  ``to_dict``/``from_dict`` and any codec);
- errors: :class:`~symphony.commons.errors.PortError` and its subclasses
  (``PortNotFound``, ``PortInvalidRequest``, ``PortConflict``, ``PortUnavailable``,
  ``PortTimeout``);
- :mod:`symphony.ports.mocks` — deterministic trio mock adapters with fault and latency
  injection (imports trio);
- :mod:`symphony.ports.testing` — the reusable contract suites every adapter must pass
  (imports trio);
- :mod:`symphony.ports.strategies` — Hypothesis strategies for every domain type (imports
  hypothesis; for tests).

Importing this package imports neither trio nor any third-party module.
"""

from __future__ import annotations

from symphony.commons.errors import PortConflict as PortConflict
from symphony.commons.errors import PortError as PortError
from symphony.commons.errors import PortInvalidRequest as PortInvalidRequest
from symphony.commons.errors import PortNotFound as PortNotFound
from symphony.commons.errors import PortTimeout as PortTimeout
from symphony.commons.errors import PortUnavailable as PortUnavailable
from symphony.ports.conductor import ConductorPort as ConductorPort
from symphony.ports.data_access import DataAccessPort as DataAccessPort
from symphony.ports.extension import ExtensionPort as ExtensionPort
from symphony.ports.pit import PitPort as PitPort
from symphony.ports.prevalidation import PreValidationPort as PreValidationPort
from symphony.ports.text_editing import TextEditingPort as TextEditingPort
from symphony.ports.types import DOMAIN_TYPES as DOMAIN_TYPES
from symphony.ports.types import Artifact as Artifact
from symphony.ports.types import ArtifactId as ArtifactId
from symphony.ports.types import ArtifactMetadata as ArtifactMetadata
from symphony.ports.types import BufferEvent as BufferEvent
from symphony.ports.types import BufferEventKind as BufferEventKind
from symphony.ports.types import BufferId as BufferId
from symphony.ports.types import BufferUpdated as BufferUpdated
from symphony.ports.types import Claim as Claim
from symphony.ports.types import ConductorStatus as ConductorStatus
from symphony.ports.types import Conflict as Conflict
from symphony.ports.types import ConflictId as ConflictId
from symphony.ports.types import CursorMoved as CursorMoved
from symphony.ports.types import DagNode as DagNode
from symphony.ports.types import DataQuery as DataQuery
from symphony.ports.types import DataRecord as DataRecord
from symphony.ports.types import Decision as Decision
from symphony.ports.types import DecisionContext as DecisionContext
from symphony.ports.types import DecisionId as DecisionId
from symphony.ports.types import EpisodeId as EpisodeId
from symphony.ports.types import ExecutionId as ExecutionId
from symphony.ports.types import ExtensionEvent as ExtensionEvent
from symphony.ports.types import ExtensionEventKind as ExtensionEventKind
from symphony.ports.types import ExtensionId as ExtensionId
from symphony.ports.types import ExtensionManifest as ExtensionManifest
from symphony.ports.types import ExtensionRequest as ExtensionRequest
from symphony.ports.types import ExtensionResponse as ExtensionResponse
from symphony.ports.types import ExtensionType as ExtensionType
from symphony.ports.types import FileChanged as FileChanged
from symphony.ports.types import FileModified as FileModified
from symphony.ports.types import HealthStatus as HealthStatus
from symphony.ports.types import Identifier as Identifier
from symphony.ports.types import ModelHandle as ModelHandle
from symphony.ports.types import ModelSpec as ModelSpec
from symphony.ports.types import NodeId as NodeId
from symphony.ports.types import NodeKind as NodeKind
from symphony.ports.types import NodeRef as NodeRef
from symphony.ports.types import NodeResult as NodeResult
from symphony.ports.types import NodeStatus as NodeStatus
from symphony.ports.types import OrchestrationId as OrchestrationId
from symphony.ports.types import OrchestrationRequest as OrchestrationRequest
from symphony.ports.types import OrchestrationResult as OrchestrationResult
from symphony.ports.types import OrchestrationStatus as OrchestrationStatus
from symphony.ports.types import Plain as Plain
from symphony.ports.types import Policy as Policy
from symphony.ports.types import PolicyContext as PolicyContext
from symphony.ports.types import ProcessHealthCheck as ProcessHealthCheck
from symphony.ports.types import ProcessId as ProcessId
from symphony.ports.types import ProjectStructureChanged as ProjectStructureChanged
from symphony.ports.types import QueryPage as QueryPage
from symphony.ports.types import Record as Record
from symphony.ports.types import RecordId as RecordId
from symphony.ports.types import Resolution as Resolution
from symphony.ports.types import Revision as Revision
from symphony.ports.types import Reward as Reward
from symphony.ports.types import SyncEvent as SyncEvent
from symphony.ports.types import TextEdit as TextEdit
from symphony.ports.types import TextRange as TextRange
from symphony.ports.types import ValidationFailure as ValidationFailure
from symphony.ports.types import ValidationResult as ValidationResult
from symphony.ports.types import ViewClosed as ViewClosed
from symphony.ports.types import WorkflowId as WorkflowId
from symphony.ports.types import WorkflowSpec as WorkflowSpec
from symphony.ports.types import WorkspaceReload as WorkspaceReload

__all__ = [
    "Artifact",
    "ArtifactId",
    "ArtifactMetadata",
    "BufferEvent",
    "BufferEventKind",
    "BufferId",
    "BufferUpdated",
    "Claim",
    "ConductorPort",
    "ConductorStatus",
    "Conflict",
    "ConflictId",
    "CursorMoved",
    "DOMAIN_TYPES",
    "DagNode",
    "DataAccessPort",
    "DataQuery",
    "DataRecord",
    "Decision",
    "DecisionContext",
    "DecisionId",
    "EpisodeId",
    "ExecutionId",
    "ExtensionEvent",
    "ExtensionEventKind",
    "ExtensionId",
    "ExtensionManifest",
    "ExtensionPort",
    "ExtensionRequest",
    "ExtensionResponse",
    "ExtensionType",
    "FileChanged",
    "FileModified",
    "HealthStatus",
    "Identifier",
    "ModelHandle",
    "ModelSpec",
    "NodeId",
    "NodeKind",
    "NodeRef",
    "NodeResult",
    "NodeStatus",
    "OrchestrationId",
    "OrchestrationRequest",
    "OrchestrationResult",
    "OrchestrationStatus",
    "PitPort",
    "Plain",
    "Policy",
    "PolicyContext",
    "PortConflict",
    "PortError",
    "PortInvalidRequest",
    "PortNotFound",
    "PortTimeout",
    "PortUnavailable",
    "PreValidationPort",
    "ProcessHealthCheck",
    "ProcessId",
    "ProjectStructureChanged",
    "QueryPage",
    "Record",
    "RecordId",
    "Resolution",
    "Revision",
    "Reward",
    "SyncEvent",
    "TextEdit",
    "TextEditingPort",
    "TextRange",
    "ValidationFailure",
    "ValidationResult",
    "ViewClosed",
    "WorkflowId",
    "WorkflowSpec",
    "WorkspaceReload",
]
