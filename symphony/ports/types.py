"""Domain types the six ports carry (seed M1.1.3), all cross-process safe.

Every type is a frozen, slotted dataclass built on :class:`~symphony.ports._record.Record`:
``to_dict()`` gives plain data (``dict``/``list``/``str``/``int``/``float``/``bool``/
``bytes``/``None``) that any codec carries, and ``from_dict()`` rebuilds the value, naming the
field of the first bad value. Invariants (a range's start ≤ end, a confidence in [0, 1] …)
are checked on construction and raise
:class:`~symphony.commons.errors.ValidationError` naming the value.

Text positions are offsets in Unicode code points (Python ``str`` indices), so that the
editor process and the core agree whatever the file's encoding.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Final

from symphony.commons.errors import PreValidationError, ValidationError
from symphony.commons.health import HealthStatus
from symphony.ports._record import INT64_MAX, Identifier, Plain, Record, Revision, Tagged

__all__ = [
    "DOMAIN_TYPES",
    "Artifact",
    "ArtifactId",
    "ArtifactMetadata",
    "BufferEvent",
    "BufferEventKind",
    "BufferId",
    "BufferUpdated",
    "Claim",
    "ConductorStatus",
    "Conflict",
    "ConflictId",
    "CursorMoved",
    "DagNode",
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
    "Plain",
    "Policy",
    "PolicyContext",
    "ProcessHealthCheck",
    "ProcessId",
    "ProjectStructureChanged",
    "QueryPage",
    "RecordId",
    "Record",
    "Resolution",
    "Revision",
    "Reward",
    "SyncEvent",
    "TextEdit",
    "TextRange",
    "ValidationFailure",
    "ValidationResult",
    "ViewClosed",
    "WorkflowId",
    "WorkflowSpec",
    "WorkspaceReload",
]


def _non_empty(owner: str, name: str, value: str) -> None:
    if not value:
        raise ValidationError(f"{owner}.{name} must be a non-empty str, not {value!r}")


def _non_negative(owner: str, name: str, value: int) -> None:
    if value < 0:
        raise ValidationError(f"{owner}.{name} must be >= 0, not {value!r}")


# --------------------------------------------------------------------------- identifiers
@dataclass(frozen=True, slots=True)
class BufferId(Identifier):
    """A text buffer in the editor process."""


@dataclass(frozen=True, slots=True)
class ProcessId(Identifier):
    """A child process (the editor, an extension actor, the OFB service …)."""


@dataclass(frozen=True, slots=True)
class ExtensionId(Identifier):
    """An extension, as named by its manifest (``"acme.formatter"``)."""


@dataclass(frozen=True, slots=True)
class ArtifactId(Identifier):
    """A stored artifact. Artifact ids are content addresses: equal content, equal id."""


@dataclass(frozen=True, slots=True)
class WorkflowId(Identifier):
    """A workflow (a DAG of nodes)."""


@dataclass(frozen=True, slots=True)
class NodeId(Identifier):
    """A node within one workflow."""


@dataclass(frozen=True, slots=True)
class ExecutionId(Identifier):
    """One run of a workflow."""


@dataclass(frozen=True, slots=True)
class EpisodeId(Identifier):
    """A Conductor episode: the decisions and rewards of one piece of work."""


@dataclass(frozen=True, slots=True)
class DecisionId(Identifier):
    """One decision the Conductor made."""


@dataclass(frozen=True, slots=True)
class OrchestrationId(Identifier):
    """One orchestration request to the Conductor (chosen by the caller)."""


@dataclass(frozen=True, slots=True)
class ConflictId(Identifier):
    """One resource conflict handed to the arbitration engine (chosen by the caller)."""


@dataclass(frozen=True, slots=True)
class RecordId(Identifier):
    """A persisted record in a data collection (assigned by the store)."""


# --------------------------------------------------------------------------- text editing
@dataclass(frozen=True, slots=True)
class TextRange(Record):
    """The half-open range ``[start, end)`` of code-point offsets; ``start == end`` is empty."""

    start: int
    end: int

    def _validate(self) -> None:
        if not 0 <= self.start <= self.end <= INT64_MAX:
            raise ValidationError(
                f"TextRange needs 0 <= start <= end, got start={self.start} end={self.end}"
            )

    def __len__(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class TextEdit(Record):
    """Replace ``range`` with ``text``. An insert has an empty range; a delete, empty text."""

    range: TextRange
    text: str = ""

    @classmethod
    def insert(cls, pos: int, text: str) -> TextEdit:
        """Insert ``text`` at offset ``pos``."""
        return cls(TextRange(pos, pos), text)

    @classmethod
    def delete(cls, start: int, end: int) -> TextEdit:
        """Delete ``[start, end)``."""
        return cls(TextRange(start, end), "")


class BufferEventKind(enum.StrEnum):
    """What happened to a buffer."""

    EDITED = "edited"
    UNDONE = "undone"
    REDONE = "redone"
    SAVED = "saved"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class BufferEvent(Record):
    """One change to a buffer, delivered to its subscribers in revision order.

    For ``EDITED``, ``UNDONE`` and ``REDONE``, ``edits`` turns the content at the previous
    revision into the content at ``revision`` (ranges refer to the previous content, in
    ascending, non-overlapping order), so a subscriber can mirror the buffer exactly.
    ``SAVED`` carries the ``path`` written; ``CLOSED`` is always the last event.
    """

    buffer_id: BufferId
    kind: BufferEventKind
    revision: Revision
    edits: tuple[TextEdit, ...] = ()
    path: str | None = None


# --------------------------------------------------------------------------- models
@dataclass(frozen=True, slots=True)
class ModelSpec(Record):
    """What model to allocate: its id, optional version, and model-specific settings."""

    model_id: str
    version: str | None = None
    config: Mapping[str, Plain] = field(default_factory=dict)

    def _validate(self) -> None:
        _non_empty("ModelSpec", "model_id", self.model_id)


@dataclass(frozen=True, slots=True)
class ModelHandle(Record):
    """An allocated model instance; give it back with ``PitPort.release_model``."""

    handle_id: str
    model_id: str
    version: str | None = None

    def _validate(self) -> None:
        _non_empty("ModelHandle", "handle_id", self.handle_id)
        _non_empty("ModelHandle", "model_id", self.model_id)


# --------------------------------------------------------------------------- extensions
class ExtensionType(enum.StrEnum):
    """The three kinds of extension. ``"motif"`` (the seeds' other name) means ``ADDON``."""

    INSTRUMENT = "instrument"
    OPERATOR = "operator"
    ADDON = "addon"

    @classmethod
    def _missing_(cls, value: object) -> ExtensionType | None:
        if isinstance(value, str) and value.lower() == "motif":
            return cls.ADDON
        return None


@dataclass(frozen=True, slots=True)
class ExtensionManifest(Record):
    """The minimal manifest the ports need; the extensions issue extends it."""

    id: ExtensionId
    name: str
    version: str
    extension_type: ExtensionType

    def _validate(self) -> None:
        _non_empty("ExtensionManifest", "name", self.name)
        _non_empty("ExtensionManifest", "version", self.version)


@dataclass(frozen=True, slots=True)
class ExtensionRequest(Record):
    """A call into an extension: a method name and plain parameters."""

    method: str
    params: Plain = None

    def _validate(self) -> None:
        _non_empty("ExtensionRequest", "method", self.method)


@dataclass(frozen=True, slots=True)
class ExtensionResponse(Record):
    """An extension's answer to an :class:`ExtensionRequest`."""

    result: Plain = None


class ExtensionEventKind(enum.StrEnum):
    """What an extension reported."""

    NOTIFICATION = "notification"
    LOG = "log"
    CRASHED = "crashed"
    UNLOADED = "unloaded"


@dataclass(frozen=True, slots=True)
class ExtensionEvent(Record):
    """An event from a loaded extension. ``UNLOADED`` (or ``CRASHED``) is the last one."""

    extension_id: ExtensionId
    kind: ExtensionEventKind
    payload: Plain = None


# --------------------------------------------------------------------------- sync events
@dataclass(frozen=True, slots=True)
class SyncEvent(Tagged):
    """Synchronisation between the core and the editor process (seed M1.2.5).

    A closed union: :class:`FileChanged`, :class:`ProjectStructureChanged`,
    :class:`WorkspaceReload` (core → editor) and :class:`BufferUpdated`,
    :class:`CursorMoved`, :class:`FileModified`, :class:`ViewClosed`,
    :class:`ProcessHealthCheck` (editor → core). ``SyncEvent.from_dict`` picks the variant
    from the dict's ``"kind"``.
    """


@dataclass(frozen=True, slots=True)
class FileChanged(SyncEvent):
    """A file's content changed on the core side."""

    KIND: ClassVar[str] = "file_changed"
    path: str
    content: str


@dataclass(frozen=True, slots=True)
class ProjectStructureChanged(SyncEvent):
    """Files or directories appeared, moved or disappeared."""

    KIND: ClassVar[str] = "project_structure_changed"
    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WorkspaceReload(SyncEvent):
    """The whole workspace at ``root_path`` must be reloaded."""

    KIND: ClassVar[str] = "workspace_reload"
    root_path: str


@dataclass(frozen=True, slots=True)
class BufferUpdated(SyncEvent):
    """A buffer reached ``revision`` (with its full content when the sender includes it)."""

    KIND: ClassVar[str] = "buffer_updated"
    buffer_id: BufferId
    revision: Revision
    content: str | None = None


@dataclass(frozen=True, slots=True)
class CursorMoved(SyncEvent):
    """The cursor of a buffer's view moved to code-point ``offset``."""

    KIND: ClassVar[str] = "cursor_moved"
    buffer_id: BufferId
    offset: int

    def _validate(self) -> None:
        _non_negative("CursorMoved", "offset", self.offset)


@dataclass(frozen=True, slots=True)
class FileModified(SyncEvent):
    """A file changed on disk at ``timestamp`` (seconds since the epoch)."""

    KIND: ClassVar[str] = "file_modified"
    path: str
    timestamp: float


@dataclass(frozen=True, slots=True)
class ViewClosed(SyncEvent):
    """The editor closed the view of a buffer."""

    KIND: ClassVar[str] = "view_closed"
    buffer_id: BufferId


@dataclass(frozen=True, slots=True)
class ProcessHealthCheck(SyncEvent):
    """A heartbeat: how a process is doing."""

    KIND: ClassVar[str] = "process_health_check"
    process_id: ProcessId
    status: HealthStatus


SyncEvent.VARIANTS = {
    cls.KIND: cls
    for cls in (
        FileChanged,
        ProjectStructureChanged,
        WorkspaceReload,
        BufferUpdated,
        CursorMoved,
        FileModified,
        ViewClosed,
        ProcessHealthCheck,
    )
}


# --------------------------------------------------------------------------- workflows
class NodeKind(enum.StrEnum):
    """The three kinds of workflow node."""

    INSTRUMENT = "instrument"
    OPERATOR = "operator"
    CONTROL = "control"


@dataclass(frozen=True, slots=True)
class NodeRef(Record):
    """Points at one node of one workflow."""

    workflow_id: WorkflowId
    node_id: NodeId


@dataclass(frozen=True, slots=True)
class DagNode(Record):
    """One node of a workflow DAG: what to run, with which inputs, after which nodes."""

    workflow_id: WorkflowId
    node_id: NodeId
    kind: NodeKind
    operation: str = ""
    inputs: Mapping[str, Plain] = field(default_factory=dict)
    depends_on: tuple[NodeId, ...] = ()

    @property
    def ref(self) -> NodeRef:
        """This node as a :class:`NodeRef`."""
        return NodeRef(self.workflow_id, self.node_id)


@dataclass(frozen=True, slots=True)
class WorkflowSpec(Record):
    """A workflow to execute: a DAG of nodes (dependencies name nodes of the same spec)."""

    workflow_id: WorkflowId
    name: str
    nodes: tuple[DagNode, ...] = ()


class NodeStatus(enum.StrEnum):
    """How a node run ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class NodeResult(Record):
    """The outcome of running one node."""

    workflow_id: WorkflowId
    node_id: NodeId
    status: NodeStatus
    outputs: Mapping[str, Plain] = field(default_factory=dict)
    artifacts: tuple[ArtifactId, ...] = ()
    error: str | None = None

    @property
    def ref(self) -> NodeRef:
        """The node this result belongs to."""
        return NodeRef(self.workflow_id, self.node_id)


# --------------------------------------------------------------------------- artifacts
@dataclass(frozen=True, slots=True)
class ArtifactMetadata(Record):
    """Descriptive data stored with an artifact (not part of its content address)."""

    name: str = ""
    media_type: str = "application/octet-stream"
    tags: tuple[str, ...] = ()
    attributes: Mapping[str, Plain] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Artifact(Record):
    """A stored artifact: its id, its exact bytes and its metadata."""

    artifact_id: ArtifactId
    content: bytes
    metadata: ArtifactMetadata = field(default_factory=ArtifactMetadata)


# --------------------------------------------------------------------------- arbitration
@dataclass(frozen=True, slots=True)
class Claim(Record):
    """One claimant's request for a contended resource."""

    claimant: str
    priority: int = 0
    quality: float = 0.0

    def _validate(self) -> None:
        _non_empty("Claim", "claimant", self.claimant)


@dataclass(frozen=True, slots=True)
class Conflict(Record):
    """Several claimants want the same resource."""

    conflict_id: ConflictId
    resource: str
    claims: tuple[Claim, ...]


@dataclass(frozen=True, slots=True)
class Resolution(Record):
    """Who gets the resource: ``winner`` first, then the others in the order they wait."""

    conflict_id: ConflictId
    winner: str
    ranking: tuple[str, ...]
    strategy: str = ""


# --------------------------------------------------------------------------- conductor
@dataclass(frozen=True, slots=True)
class DecisionContext(Record):
    """What the Conductor decides about: an action and the candidates to choose from."""

    episode_id: EpisodeId
    action: str
    candidates: tuple[str, ...]
    state: Mapping[str, Plain] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decision(Record):
    """The Conductor's choice among a context's candidates, with its confidence in [0, 1]."""

    decision_id: DecisionId
    episode_id: EpisodeId
    choice: str
    confidence: float
    rationale: str = ""

    def _validate(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValidationError(f"Decision.confidence must be in [0, 1], not {self.confidence!r}")


@dataclass(frozen=True, slots=True)
class Reward(Record):
    """A reward reported for an episode (``ConductorPort.report_reward`` as a value)."""

    episode_id: EpisodeId
    value: float


@dataclass(frozen=True, slots=True)
class PolicyContext(Record):
    """Which policy to fetch (by name) and the state it is asked about."""

    name: str
    state: Mapping[str, Plain] = field(default_factory=dict)

    def _validate(self) -> None:
        _non_empty("PolicyContext", "name", self.name)


@dataclass(frozen=True, slots=True)
class Policy(Record):
    """A policy snapshot: ``version`` never decreases; ``preferences`` scores choices."""

    name: str
    version: int
    preferences: Mapping[str, float] = field(default_factory=dict)
    parameters: Mapping[str, Plain] = field(default_factory=dict)

    def _validate(self) -> None:
        _non_negative("Policy", "version", self.version)


class OrchestrationStatus(enum.StrEnum):
    """How an orchestration request ended (or that it is under way)."""

    ACCEPTED = "accepted"
    COMPLETED = "completed"
    FAILED = "failed"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class OrchestrationRequest(Record):
    """Ask the Conductor to reach ``goal``, optionally by running ``workflow``."""

    request_id: OrchestrationId
    goal: str
    workflow: WorkflowSpec | None = None
    inputs: Mapping[str, Plain] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OrchestrationResult(Record):
    """The answer to an :class:`OrchestrationRequest` (same ``request_id``)."""

    request_id: OrchestrationId
    status: OrchestrationStatus
    execution_id: ExecutionId | None = None
    decisions: tuple[Decision, ...] = ()
    outputs: Mapping[str, Plain] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True, slots=True)
class ConductorStatus(Record):
    """Counters and health of the Conductor since it started."""

    health: HealthStatus
    decisions_made: int = 0
    rewards_received: int = 0
    orchestrations: int = 0
    policy_version: int = 0

    def _validate(self) -> None:
        for name in ("decisions_made", "rewards_received", "orchestrations", "policy_version"):
            _non_negative("ConductorStatus", name, getattr(self, name))


# --------------------------------------------------------------------------- data access
@dataclass(frozen=True, slots=True)
class DataRecord(Record):
    """A persisted record: ``version`` starts at 1 and grows by one with every update."""

    collection: str
    record_id: RecordId
    version: int
    data: Mapping[str, Plain] = field(default_factory=dict)

    def _validate(self) -> None:
        _non_empty("DataRecord", "collection", self.collection)
        if self.version < 1:
            raise ValidationError(f"DataRecord.version must be >= 1, not {self.version!r}")


@dataclass(frozen=True, slots=True)
class DataQuery(Record):
    """Records of ``collection`` whose top-level fields equal every ``where`` entry
    (same type and value), in creation order, skipping ``offset``, at most ``limit``."""

    collection: str
    where: Mapping[str, Plain] = field(default_factory=dict)
    limit: int | None = None
    offset: int = 0

    def _validate(self) -> None:
        _non_empty("DataQuery", "collection", self.collection)
        _non_negative("DataQuery", "offset", self.offset)
        if self.limit is not None:
            _non_negative("DataQuery", "limit", self.limit)


@dataclass(frozen=True, slots=True)
class QueryPage(Record):
    """One page of a query: the records, how many matched in all, where the next page starts."""

    records: tuple[DataRecord, ...]
    total: int
    next_offset: int | None = None


# --------------------------------------------------------------------------- validation
@dataclass(frozen=True, slots=True)
class ValidationFailure(Record):
    """One failed rule: which field, what is wrong, and the rule's name."""

    field: str
    message: str
    rule: str = ""


@dataclass(frozen=True, slots=True)
class ValidationResult(Record):
    """Every failure found when pre-validating one value of kind ``subject``."""

    subject: str
    failures: tuple[ValidationFailure, ...] = ()

    @property
    def ok(self) -> bool:
        """True when no rule failed."""
        return not self.failures

    def raise_for_failures(self) -> None:
        """Raise :class:`~symphony.commons.errors.PreValidationError` listing every failure."""
        if self.failures:
            raise PreValidationError(
                f"{self.subject}: {len(self.failures)} pre-validation failure(s): "
                + "; ".join(f"{f.field}: {f.message}" for f in self.failures),
                failures=[(f.field, f.message) for f in self.failures],
            )


DOMAIN_TYPES: Final[tuple[type[Record], ...]] = tuple(
    obj
    for obj in list(globals().values())
    if isinstance(obj, type)
    and issubclass(obj, Record)
    and dataclasses.is_dataclass(obj)
    and obj.__module__ in (__name__, "symphony.ports._record")
    and obj is not Identifier
    and not (issubclass(obj, Tagged) and not obj.KIND)
)
"""Every concrete domain type (the round-trip property test covers each one)."""
