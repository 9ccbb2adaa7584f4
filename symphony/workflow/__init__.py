"""Workflows (seed M5): model, builder, validation, graph operations, serialization,
templates and the run/node state machines.

API index (the submodules hold the documentation):

- :mod:`.model` — :class:`Workflow`, nodes (:class:`InstrumentNode`, :class:`OperatorNode`,
  :class:`BranchNode`, :class:`GateNode`, :class:`MapNode`, :class:`MergeNode`), edges
  (:class:`DataEdge`, :class:`ControlEdge`, :class:`ConditionalEdge`), :class:`Port`,
  :class:`Version`, :class:`Metadata`, :class:`NodePolicy`
- :mod:`.types` — the port type system (:func:`parse_type`, :func:`is_compatible`)
- :mod:`.predicates` — conditions as data (:func:`evaluate`, :func:`parse_predicate`)
- :mod:`.builder` — :class:`WorkflowBuilder`
- :mod:`.validation` — :func:`validate` → :class:`ValidationReport` of :class:`Problem`
- :mod:`.graph` — order, levels, BFS/DFS, ancestors, descendants, subgraph
- :mod:`.serialize` — JSON / MessagePack documents, migrations, pretty printer
- :mod:`.templates` — :class:`Template`, :class:`TemplateLibrary`
- :mod:`.state` — :class:`RunState`, :class:`NodeState`, :func:`transition`
- :mod:`.files` — :func:`load_file` (workflow or template, JSON/TOML/binary)
"""

from __future__ import annotations

from symphony.commons.errors import WorkflowValidationError
from symphony.workflow.builder import WorkflowBuilder
from symphony.workflow.files import load_file, parse_params
from symphony.workflow.graph import (
    GraphIndex,
    WorkflowCycleError,
    ancestors,
    bfs,
    descendants,
    dfs,
    edges_by_source,
    edges_by_target,
    execution_levels,
    subgraph,
    topological_order,
)
from symphony.workflow.model import (
    BranchNode,
    ConditionalEdge,
    ControlEdge,
    ControlNode,
    DataEdge,
    Edge,
    GateNode,
    InstrumentNode,
    MapNode,
    MergeNode,
    Metadata,
    ModelSpec,
    Node,
    NodePolicy,
    OperatorNode,
    Port,
    Version,
    Workflow,
    port,
)
from symphony.workflow.predicates import Predicate, evaluate, parse_predicate
from symphony.workflow.serialize import (
    SCHEMA_VERSION,
    WorkflowFormatError,
    dumps_json,
    dumps_msgpack,
    from_dict,
    load,
    loads_json,
    loads_msgpack,
    migrate,
    pretty,
    to_dict,
)
from symphony.workflow.state import (
    NodeEvent,
    NodeState,
    RunEvent,
    RunState,
    StateMachine,
    transition,
)
from symphony.workflow.templates import (
    ParamSpec,
    Template,
    TemplateError,
    TemplateLibrary,
    TemplateParameterError,
    load_template,
)
from symphony.workflow.types import PortType, is_compatible, parse_type
from symphony.workflow.validation import Problem, ValidationReport, validate

__all__ = [
    "SCHEMA_VERSION",
    "BranchNode",
    "ConditionalEdge",
    "ControlEdge",
    "ControlNode",
    "DataEdge",
    "Edge",
    "GateNode",
    "GraphIndex",
    "InstrumentNode",
    "MapNode",
    "MergeNode",
    "Metadata",
    "ModelSpec",
    "Node",
    "NodeEvent",
    "NodePolicy",
    "NodeState",
    "OperatorNode",
    "ParamSpec",
    "Port",
    "PortType",
    "Predicate",
    "Problem",
    "RunEvent",
    "RunState",
    "StateMachine",
    "Template",
    "TemplateError",
    "TemplateLibrary",
    "TemplateParameterError",
    "ValidationReport",
    "Version",
    "Workflow",
    "WorkflowBuilder",
    "WorkflowCycleError",
    "WorkflowFormatError",
    "WorkflowValidationError",
    "ancestors",
    "bfs",
    "descendants",
    "dfs",
    "dumps_json",
    "dumps_msgpack",
    "edges_by_source",
    "edges_by_target",
    "evaluate",
    "execution_levels",
    "from_dict",
    "is_compatible",
    "load",
    "load_file",
    "load_template",
    "loads_json",
    "loads_msgpack",
    "migrate",
    "parse_params",
    "parse_predicate",
    "parse_type",
    "port",
    "pretty",
    "subgraph",
    "to_dict",
    "topological_order",
    "transition",
    "validate",
]
