"""The workflow data model (seed M5.1): a workflow is nodes joined by typed edges.

Everything here is an immutable value (frozen, slotted dataclasses). Constructing a
:class:`Workflow` checks only the *types* of its fields; whether the graph makes sense (ids
unique, edges pointing at real ports, no cycles …) is the job of
:func:`symphony.workflow.validation.validate`, which reports *every* problem at once. That
split lets a broken document be loaded, shown and fixed instead of failing on its first flaw.

Nodes (:data:`Node`):

* :class:`InstrumentNode` — an AI model call: a :class:`ModelSpec`, a prompt template with
  ``{port}`` placeholders filled from the inputs, and model parameters.
* :class:`OperatorNode` — a transform: an operator name from the operator registry plus its
  JSON config.
* Control nodes (:class:`ControlNode` subclasses): :class:`BranchNode` (routes its input to
  ``then`` or ``else`` by a predicate), :class:`GateNode` (waits for an approval),
  :class:`MapNode` (runs a nested body workflow once per item of a list) and
  :class:`MergeNode` (joins several producers into one value).

Edges (:data:`Edge`):

* :class:`DataEdge` — a value flows from ``source.source_port`` to ``target.target_port``.
* :class:`ControlEdge` — ordering only: ``target`` starts after ``source`` succeeded.
* :class:`ConditionalEdge` — ordering (and optionally data) taken only when its predicate
  holds on the source's outputs; a target whose every incoming conditional edge is not
  taken is *skipped*.

Every node has typed input and output :class:`Port` s (:mod:`symphony.workflow.types`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar, Literal, TypeAlias

from symphony.commons.errors import ValidationError
from symphony.workflow.predicates import Predicate
from symphony.workflow.types import ANY, PortType, parse_type

if TYPE_CHECKING:
    from symphony.workflow.graph import GraphIndex
    from symphony.workflow.validation import ValidationReport

__all__ = [
    "BranchNode",
    "ConditionalEdge",
    "ControlEdge",
    "ControlNode",
    "DataEdge",
    "Edge",
    "GateNode",
    "InstrumentNode",
    "MapNode",
    "MergeNode",
    "Metadata",
    "ModelSpec",
    "Node",
    "NodeBase",
    "DEFAULT_POLICY",
    "NodePolicy",
    "OperatorNode",
    "Port",
    "RunIn",
    "Version",
    "Workflow",
    "describe_edge",
    "now_iso",
    "port",
]


def now_iso() -> str:
    """The current UTC time as ISO 8601 with seconds (``2026-11-24T06:30:00Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- version
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?\Z"
)


@dataclass(frozen=True, slots=True, order=False)
class Version:
    """A semantic version ``MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`` (semver 2.0 ordering).

    Build metadata is kept but ignored when ordering (two versions that differ only in build
    compare equal in ``<``/``>`` but not in ``==``).
    """

    major: int
    minor: int
    patch: int
    prerelease: str = ""
    build: str = ""

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse ``"1.2.3"``, ``"1.0.0-rc.1+abc"`` …

        Raises:
            ValidationError: naming the text.
        """
        if isinstance(text, Version):
            return text
        if not isinstance(text, str):
            raise ValidationError(f"version must be a string, got {type(text).__name__}")
        m = _SEMVER.match(text.strip())
        if m is None:
            raise ValidationError(f"invalid semantic version {text!r} (expected e.g. '1.2.3')")
        return cls(int(m[1]), int(m[2]), int(m[3]), m[4] or "", m[5] or "")

    def _key(self) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
        pre: tuple[tuple[int, int | str], ...] = tuple(
            (0, int(p)) if p.isdigit() else (1, p) for p in self.prerelease.split(".") if p
        )
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, pre)

    def __lt__(self, other: Version) -> bool:
        return self._key() < other._key()

    def __le__(self, other: Version) -> bool:
        return self._key() <= other._key()

    def __gt__(self, other: Version) -> bool:
        return self._key() > other._key()

    def __ge__(self, other: Version) -> bool:
        return self._key() >= other._key()

    def __str__(self) -> str:
        s = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            s += f"-{self.prerelease}"
        if self.build:
            s += f"+{self.build}"
        return s


# --------------------------------------------------------------------------- metadata
@dataclass(frozen=True, slots=True, kw_only=True)
class Metadata:
    """Who made a workflow and when, tags, and arbitrary JSON key-values in ``extra``."""

    author: str = ""
    created: str = ""
    """ISO 8601 timestamp (UTC), or ``""`` when unknown."""
    modified: str = ""
    tags: tuple[str, ...] = ()
    extra: Mapping[str, object] = field(default_factory=dict, hash=False)
    """Arbitrary key-values (JSON values)."""


# --------------------------------------------------------------------------- ports
@dataclass(frozen=True, slots=True, kw_only=True)
class Port:
    """A named, typed input or output of a node.

    Attributes:
        name: unique among the node's inputs (or outputs).
        type: the :class:`~symphony.workflow.types.PortType`.
        required: an input that must be fed by an edge (ignored for outputs; an input with
            a ``default`` is never required).
        default: JSON value used when nothing feeds the input (``None`` = no default).
        multi: an input that accepts several incoming data edges (their values arrive as a
            list, in edge order); only such ports may have more than one producer.
    """

    name: str
    type: PortType = ANY
    required: bool = True
    default: object = None
    multi: bool = False
    description: str = ""

    @property
    def needs_edge(self) -> bool:
        """True for a required input without a default."""
        return self.required and self.default is None


def port(
    name: str,
    type: str | PortType = "any",
    *,
    required: bool = True,
    default: object = None,
    multi: bool = False,
    description: str = "",
) -> Port:
    """Shorthand: ``port("path", "path", default=".")`` (type strings are parsed)."""
    t = type if isinstance(type, PortType) else parse_type(type)
    return Port(
        name=name, type=t, required=required, default=default, multi=multi,
        description=description,
    )


RunIn: TypeAlias = Literal["auto", "inline", "async", "process"]


@dataclass(frozen=True, slots=True, kw_only=True)
class NodePolicy:
    """How the executor should run a node.

    Attributes:
        timeout: seconds per attempt, ``None`` = no limit.
        retries: extra attempts after a failure (0 = run once).
        retry_backoff: first retry delay in seconds; doubles each attempt …
        retry_backoff_max: … up to this.
        retry_jitter: fraction (0 to 1) of random jitter applied to each delay.
        run_in: ``"inline"`` (cheap, synchronous), ``"async"`` (I/O-bound, concurrent),
            ``"process"`` (CPU-bound, a worker process) or ``"auto"`` (the operator decides).
    """

    timeout: float | None = None
    retries: int = 0
    retry_backoff: float = 0.5
    retry_backoff_max: float = 30.0
    retry_jitter: float = 0.1
    run_in: RunIn = "auto"


DEFAULT_POLICY = NodePolicy()


# --------------------------------------------------------------------------- nodes
@dataclass(frozen=True, slots=True, kw_only=True)
class NodeBase:
    """Fields every node has. Do not instantiate; use a concrete node class."""

    kind: ClassVar[str] = ""
    """The serialized ``type`` tag (``"instrument"``, ``"operator"``, ``"branch"`` …)."""
    category: ClassVar[Literal["instrument", "operator", "control"]] = "operator"

    id: str
    inputs: tuple[Port, ...] = ()
    outputs: tuple[Port, ...] = ()
    label: str = ""
    description: str = ""
    policy: NodePolicy = DEFAULT_POLICY
    _derived: list[object] = field(
        default_factory=list, init=False, repr=False, compare=False, hash=False
    )
    """Validation's per-node cache (port tables, node-local problems). The node is
    immutable, so what is derived from it alone stays true; empty until first validated."""

    def input(self, name: str) -> Port | None:
        """The input port called ``name``, or ``None``."""
        for p in self.inputs:
            if p.name == name:
                return p
        return None

    def output(self, name: str) -> Port | None:
        """The output port called ``name``, or ``None``."""
        for p in self.outputs:
            if p.name == name:
                return p
        return None


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """Which model an Instrument calls: ``provider/name[@version]`` (``"openai/gpt-4"``)."""

    provider: str
    name: str
    version: str = ""

    @classmethod
    def parse(cls, text: str) -> ModelSpec:
        """Parse ``"provider/name[@version]"``; a bare ``"name"`` gets provider ``"default"``."""
        if not isinstance(text, str) or not text.strip():
            raise ValidationError(f"model spec must be a non-empty string, got {text!r}")
        rest, _, version = text.strip().partition("@")
        provider, sep, name = rest.partition("/")
        if not sep:
            provider, name = "default", rest
        if not provider or not name:
            raise ValidationError(f"invalid model spec {text!r} (expected provider/name[@v])")
        return cls(provider, name, version)

    def __str__(self) -> str:
        s = f"{self.provider}/{self.name}"
        return f"{s}@{self.version}" if self.version else s


@dataclass(frozen=True, slots=True, kw_only=True)
class InstrumentNode(NodeBase):
    """An AI model call. ``prompt`` is a template whose ``{name}`` fields are input ports."""

    kind: ClassVar[str] = "instrument"
    category: ClassVar[Literal["instrument", "operator", "control"]] = "instrument"
    model: ModelSpec
    prompt: str = ""
    params: Mapping[str, object] = field(default_factory=dict, hash=False)
    """Model parameters (temperature, max_tokens …), JSON values."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorNode(NodeBase):
    """A transform: ``operator`` names an entry of the operator registry."""

    kind: ClassVar[str] = "operator"
    category: ClassVar[Literal["instrument", "operator", "control"]] = "operator"
    operator: str
    config: Mapping[str, object] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlNode(NodeBase):
    """Base of the control nodes (branch, gate, map, merge)."""

    category: ClassVar[Literal["instrument", "operator", "control"]] = "control"


@dataclass(frozen=True, slots=True, kw_only=True)
class BranchNode(ControlNode):
    """Evaluates ``condition`` on its inputs (scope = input values by port name).

    The input ``value`` is emitted on the ``then`` output when the condition holds, else on
    ``else``; nodes fed only by the port that was not taken are skipped.
    """

    kind: ClassVar[str] = "branch"
    condition: Predicate


@dataclass(frozen=True, slots=True, kw_only=True)
class GateNode(ControlNode):
    """Holds the flow until approved (``approvals`` distinct approvals); passes ``value`` on.

    ``timeout`` (seconds, ``None`` = wait forever) ends the wait with ``on_timeout``.
    """

    kind: ClassVar[str] = "gate"
    message: str = ""
    approvals: int = 1
    timeout: float | None = None
    on_timeout: Literal["reject", "approve"] = "reject"


@dataclass(frozen=True, slots=True, kw_only=True)
class MapNode(ControlNode):
    """Runs ``body`` once per item of the ``items`` input; ``results`` lists the outputs.

    Attributes:
        body: the nested workflow run per item.
        item_input: ``"node.port"`` inside ``body`` that receives the item.
        result_output: ``"node.port"`` inside ``body`` whose value is collected.
        concurrency: how many items run at once (``0`` = executor default).
    """

    kind: ClassVar[str] = "map"
    body: Workflow
    item_input: str
    result_output: str
    concurrency: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeNode(ControlNode):
    """Joins its multi-input ``items``.

    ``strategy``: ``"all"`` — a list of the values of every producer that ran (skipped ones
    left out), in edge order; ``"first"`` — the first such value in edge order.
    """

    kind: ClassVar[str] = "merge"
    strategy: Literal["all", "first"] = "all"


Node: TypeAlias = InstrumentNode | OperatorNode | BranchNode | GateNode | MapNode | MergeNode

NODE_CLASSES: dict[str, type[NodeBase]] = {
    cls.kind: cls
    for cls in (InstrumentNode, OperatorNode, BranchNode, GateNode, MapNode, MergeNode)
}
"""Node class by serialized ``type`` tag."""


# --------------------------------------------------------------------------- edges
@dataclass(frozen=True, slots=True)
class DataEdge:
    """``source.source_port`` → ``target.target_port``; implies ordering."""

    kind: ClassVar[str] = "data"
    source: str
    source_port: str
    target: str
    target_port: str


@dataclass(frozen=True, slots=True)
class ControlEdge:
    """``target`` runs after ``source`` succeeded; no data flows."""

    kind: ClassVar[str] = "control"
    source: str
    target: str


@dataclass(frozen=True, slots=True)
class ConditionalEdge:
    """Taken only when ``predicate`` holds on the source's outputs (scope: port → value).

    With both ports set it also carries ``source.source_port`` into ``target.target_port``.
    """

    kind: ClassVar[str] = "conditional"
    source: str
    target: str
    predicate: Predicate
    source_port: str | None = None
    target_port: str | None = None


Edge: TypeAlias = DataEdge | ControlEdge | ConditionalEdge


def describe_edge(edge: Edge) -> str:
    """``"a.out -> b.in"`` (data), ``"a -> b"`` (control), ``"a -?-> b"`` (conditional)."""
    if isinstance(edge, DataEdge):
        return f"{edge.source}.{edge.source_port} -> {edge.target}.{edge.target_port}"
    if isinstance(edge, ConditionalEdge):
        src = f"{edge.source}.{edge.source_port}" if edge.source_port else edge.source
        dst = f"{edge.target}.{edge.target_port}" if edge.target_port else edge.target
        return f"{src} -?-> {dst}"
    return f"{edge.source} -> {edge.target}"


# --------------------------------------------------------------------------- workflow
@dataclass(frozen=True, slots=True, kw_only=True)
class Workflow:
    """A workflow: identity, version, metadata, nodes (in order) and edges (in order).

    Node order is kept (it is the tie-break of the deterministic topological order), and
    duplicates are representable so that :func:`validate` can report them.
    """

    id: str
    name: str = ""
    version: Version = Version(0, 1, 0)
    description: str = ""
    metadata: Metadata = Metadata()
    nodes: tuple[Node, ...] = ()
    edges: tuple[Edge, ...] = ()
    _cache: dict[str, object] = field(
        default_factory=dict, init=False, compare=False, repr=False, hash=False
    )

    def __getstate__(self) -> list[object]:
        # The cache holds kernel objects (not picklable) and is cheap to rebuild.
        return [getattr(self, name) for name in _WF_STATE]

    def __setstate__(self, state: list[object]) -> None:
        for name, value in zip(_WF_STATE, state):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_cache", {})

    def __post_init__(self) -> None:
        if not isinstance(self.nodes, tuple):
            object.__setattr__(self, "nodes", tuple(self.nodes))
        if not isinstance(self.edges, tuple):
            object.__setattr__(self, "edges", tuple(self.edges))
        if isinstance(self.version, str):
            object.__setattr__(self, "version", Version.parse(self.version))

    # ---- lookups
    @property
    def node_map(self) -> Mapping[str, Node]:
        """Nodes by id (the first one wins if ids repeat; :func:`validate` reports that)."""
        m = self._cache.get("node_map")
        if m is None:
            d: dict[str, Node] = {}
            for n in self.nodes:
                d.setdefault(n.id, n)
            self._cache["node_map"] = m = d
        return m  # type: ignore[return-value]

    def node(self, node_id: str) -> Node:
        """The node with id ``node_id``.

        Raises:
            NotFoundError: naming the id and the workflow.
        """
        try:
            return self.node_map[node_id]
        except KeyError:
            from symphony.commons.errors import NotFoundError

            raise NotFoundError(
                f"workflow {self.id!r} has no node {node_id!r}", details={"node": node_id}
            ) from None

    def index(self) -> GraphIndex:
        """The dense-int view of the graph (built once per workflow, then cached)."""
        from symphony.workflow.graph import GraphIndex

        idx = self._cache.get("index")
        if idx is None:
            self._cache["index"] = idx = GraphIndex.build(self)
        return idx  # type: ignore[return-value]

    # ---- operations (thin wrappers; the real code lives in graph.py / validate.py)
    def validate(self) -> ValidationReport:
        """Every problem of this workflow at once (see :func:`~.validation.validate`)."""
        from symphony.workflow.validation import validate

        return validate(self)

    def check(self) -> Workflow:
        """Return ``self`` if valid; else raise ``WorkflowValidationError`` listing all."""
        self.validate().raise_for_errors()
        return self

    def topological_order(self) -> list[str]:
        """Node ids in the deterministic execution order (raises on a cycle)."""
        from symphony.workflow.graph import topological_order

        return topological_order(self)

    def execution_levels(self) -> list[list[str]]:
        """Node ids grouped into levels that can run concurrently (raises on a cycle)."""
        from symphony.workflow.graph import execution_levels

        return execution_levels(self)

    def evolve(self, **changes: object) -> Workflow:
        """A copy with ``changes`` applied (``dataclasses.replace``; caches not carried)."""
        return replace(self, **changes)  # type: ignore[arg-type]


_WF_STATE = tuple(f.name for f in fields(Workflow) if f.name != "_cache")
