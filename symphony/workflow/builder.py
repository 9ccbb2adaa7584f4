"""A fluent, checked builder for workflows.

The seed's example (Rust)::

    WorkflowBuilder::new("data-processing").version("1.0.0")
        .add_instrument("gpt-4", GptConfig::default())
        .add_operator("json-parser", JsonParserConfig::new())
        .connect("gpt-4", "json-parser", DataEdge::new()).build()?;

reads here::

    wf = (WorkflowBuilder("data-processing").version("1.0.0")
          .add_instrument("gpt-4", model="openai/gpt-4")
          .add_operator("json-parser", operator="json.parse")
          .connect("gpt-4", "json-parser")
          .build())

Every call checks what it can at once and raises
:class:`~symphony.commons.errors.WorkflowValidationError` naming the call's node or port: an
id used twice, an edge to a node not yet added, a port that does not exist, incompatible
port types. ``connect`` picks the ports when a node has exactly one (``"node.port"`` names
one explicitly). :meth:`WorkflowBuilder.build` then runs the full validation pipeline
(cycles, missing inputs …) and reports every remaining problem at once.

Default ports: an Instrument has an optional input ``input: text`` and output ``output: text`` (its
default prompt is ``"{input}"``); an Operator has optional ``input: any`` → ``output: any``; a
branch ``value`` → ``then``/``else``; a gate ``value`` → ``value``; a map
``items: list[any]`` → ``results: list[any]``; a merge ``items: any`` (multi) → ``value``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Literal

from symphony.commons.errors import WorkflowValidationError
from symphony.workflow.model import (
    DEFAULT_POLICY,
    BranchNode,
    ConditionalEdge,
    ControlEdge,
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
    now_iso,
    port,
)
from symphony.workflow.predicates import Predicate, predicate_from_data
from symphony.workflow.types import is_compatible
from symphony.workflow.validation import Problem

__all__ = ["PortsSpec", "WorkflowBuilder", "make_ports"]

PortsSpec = Iterable[Port] | Mapping[str, str] | None
"""Ports as ``Port`` objects, or ``{"name": "type"}``; ``None`` keeps the node's defaults."""


def make_ports(spec: PortsSpec, default: tuple[Port, ...]) -> tuple[Port, ...]:
    """Normalise a :data:`PortsSpec` (``None`` → ``default``)."""
    if spec is None:
        return default
    if isinstance(spec, Mapping):
        return tuple(port(name, t) for name, t in spec.items())
    return tuple(spec)


def _fail(code: str, message: str, node: str | None = None, port_: str | None = None) -> None:
    p = Problem(code, message, node=node, port=port_)
    raise WorkflowValidationError(f"[{code}] {message}", problems=[p])


class WorkflowBuilder:
    """Build a :class:`~symphony.workflow.model.Workflow` step by step (module docstring)."""

    def __init__(self, id: str, name: str | None = None):
        if not isinstance(id, str) or not id.strip():
            _fail("invalid-id", f"workflow id must be a non-empty string, got {id!r}")
        self._id = id
        self._name = name if name is not None else id
        self._version = Version(0, 1, 0)
        self._description = ""
        self._author = ""
        self._created = ""
        self._tags: list[str] = []
        self._extra: dict[str, object] = {}
        self._nodes: dict[str, Node] = {}
        self._edges: list[Edge] = []

    # ---- workflow properties
    def name(self, name: str) -> WorkflowBuilder:
        """Set the display name."""
        self._name = name
        return self

    def version(self, version: str | Version) -> WorkflowBuilder:
        """Set the semantic version (``"1.0.0"``); a bad string raises at once."""
        try:
            self._version = Version.parse(version)  # type: ignore[arg-type]
        except ValueError as exc:
            _fail("invalid-version", str(exc))
        return self

    def description(self, text: str) -> WorkflowBuilder:
        """Set the description."""
        self._description = text
        return self

    def author(self, author: str) -> WorkflowBuilder:
        """Set the metadata author."""
        self._author = author
        return self

    def created(self, iso: str) -> WorkflowBuilder:
        """Set the creation timestamp (default: when :meth:`build` runs)."""
        self._created = iso
        return self

    def tags(self, *tags: str) -> WorkflowBuilder:
        """Add tags (kept in order, without repeats)."""
        for t in tags:
            if t not in self._tags:
                self._tags.append(t)
        return self

    def meta(self, key: str, value: object) -> WorkflowBuilder:
        """Set an arbitrary metadata key-value (a JSON value)."""
        self._extra[key] = value
        return self

    # ---- nodes
    def add_node(self, node: Node) -> WorkflowBuilder:
        """Add a ready-made node (any kind)."""
        if node.id in self._nodes:
            _fail("duplicate-node", f"node id {node.id!r} is already used", node=node.id)
        if not isinstance(node.id, str) or not node.id or node.id.split() != [node.id]:
            _fail("invalid-id", f"invalid node id {node.id!r}", node=str(node.id))
        self._nodes[sys.intern(node.id)] = node
        return self

    def add_instrument(
        self,
        id: str,
        model: str | ModelSpec,
        *,
        prompt: str = "{input}",
        params: Mapping[str, object] | None = None,
        inputs: PortsSpec = None,
        outputs: PortsSpec = None,
        label: str = "",
        policy: NodePolicy = DEFAULT_POLICY,
    ) -> WorkflowBuilder:
        """Add an Instrument (AI model call) node."""
        spec = model if isinstance(model, ModelSpec) else ModelSpec.parse(model)
        return self.add_node(InstrumentNode(
            id=id, model=spec, prompt=prompt, params=dict(params or {}),
            inputs=make_ports(inputs, (port("input", "text", required=False),)),
            outputs=make_ports(outputs, (port("output", "text"),)),
            label=label, policy=policy,
        ))

    def add_operator(
        self,
        id: str,
        operator: str,
        config: Mapping[str, object] | None = None,
        *,
        inputs: PortsSpec = None,
        outputs: PortsSpec = None,
        label: str = "",
        policy: NodePolicy = DEFAULT_POLICY,
    ) -> WorkflowBuilder:
        """Add an Operator (transform) node."""
        return self.add_node(OperatorNode(
            id=id, operator=operator, config=dict(config or {}),
            inputs=make_ports(inputs, (port("input", "any", required=False),)),
            outputs=make_ports(outputs, (port("output", "any"),)),
            label=label, policy=policy,
        ))

    def add_branch(
        self, id: str, condition: Predicate | str | Mapping[str, object] | bool,
        *, value_type: str = "any", label: str = "",
    ) -> WorkflowBuilder:
        """Add a branch: ``value`` goes to ``then`` if ``condition`` holds, else ``else``.

        The condition is evaluated with the inputs as scope (``value.count > 3``).
        """
        pred = condition if not isinstance(condition, str | Mapping | bool) else (
            predicate_from_data(condition, f"branch {id!r} condition")
        )
        return self.add_node(BranchNode(
            id=id, condition=pred, inputs=(port("value", value_type),),
            outputs=(port("then", value_type), port("else", value_type)), label=label,
        ))

    def add_gate(
        self, id: str, message: str = "", *, approvals: int = 1,
        timeout: float | None = None, on_timeout: Literal["reject", "approve"] = "reject",
        value_type: str = "any", label: str = "",
    ) -> WorkflowBuilder:
        """Add an approval gate passing ``value`` through once approved."""
        return self.add_node(GateNode(
            id=id, message=message, approvals=approvals, timeout=timeout,
            on_timeout=on_timeout, inputs=(port("value", value_type),),
            outputs=(port("value", value_type),), label=label,
        ))

    def add_map(
        self, id: str, body: Workflow, *, item_input: str, result_output: str,
        concurrency: int = 0, item_type: str = "any", result_type: str = "any",
        label: str = "",
    ) -> WorkflowBuilder:
        """Add a map: run ``body`` per item of ``items``; ``results`` collects outputs."""
        return self.add_node(MapNode(
            id=id, body=body, item_input=item_input, result_output=result_output,
            concurrency=concurrency, inputs=(port("items", f"list[{item_type}]"),),
            outputs=(port("results", f"list[{result_type}]"),), label=label,
        ))

    def add_merge(
        self, id: str, strategy: Literal["all", "first"] = "all", *,
        item_type: str = "any", label: str = "",
    ) -> WorkflowBuilder:
        """Add a merge joining every producer wired into its multi input ``items``."""
        out_t = f"list[{item_type}]" if strategy == "all" else item_type
        return self.add_node(MergeNode(
            id=id, strategy=strategy, inputs=(port("items", item_type, multi=True),),
            outputs=(port("value", out_t),), label=label,
        ))

    # ---- edges
    def _endpoint(self, ref: str, role: Literal["source", "target"]) -> tuple[str, str | None]:
        node_id, _, port_name = ref.partition(".")
        if node_id not in self._nodes:
            # an id may contain dots: try the whole reference first
            if ref in self._nodes:
                return ref, None
            _fail("dangling-edge", f"{role} node {node_id!r} has not been added", node=node_id)
        return node_id, port_name or None

    def _pick(self, node: Node, name: str | None, role: Literal["source", "target"]) -> Port:
        ports = node.outputs if role == "source" else node.inputs
        kind = "output" if role == "source" else "input"
        if name is None:
            if len(ports) != 1:
                names = ", ".join(p.name for p in ports) or "none"
                _fail("unknown-port", f"node {node.id!r} has {len(ports)} {kind} ports "
                      f"({names}); name one as '{node.id}.<port>'", node=node.id)
            return ports[0]
        for p in ports:
            if p.name == name:
                return p
        names = ", ".join(p.name for p in ports) or "none"
        _fail("unknown-port", f"node {node.id!r} has no {kind} {name!r} ({kind}s: {names})",
              node=node.id, port_=name)
        raise AssertionError  # pragma: no cover

    def connect(
        self, source: str, target: str, *, source_port: str | None = None,
        target_port: str | None = None,
    ) -> WorkflowBuilder:
        """Add a data edge ``source[.port] -> target[.port]`` (types checked now)."""
        s_id, sp = self._endpoint(source, "source")
        t_id, tp = self._endpoint(target, "target")
        sp = source_port or sp
        tp = target_port or tp
        out = self._pick(self._nodes[s_id], sp, "source")
        inp = self._pick(self._nodes[t_id], tp, "target")
        if not is_compatible(out.type, inp.type):
            _fail("type-mismatch", f"{s_id}.{out.name} ({out.type}) cannot feed "
                  f"{t_id}.{inp.name} ({inp.type})", node=t_id, port_=inp.name)
        self._edges.append(DataEdge(s_id, out.name, t_id, inp.name))
        return self

    def after(self, source: str, target: str) -> WorkflowBuilder:
        """Add a control edge: ``target`` runs after ``source`` (no data)."""
        s_id, _ = self._endpoint(source, "source")
        t_id, _ = self._endpoint(target, "target")
        self._edges.append(ControlEdge(s_id, t_id))
        return self

    def when(
        self, source: str, target: str, predicate: Predicate | str | Mapping[str, object] | bool,
        *, source_port: str | None = None, target_port: str | None = None,
    ) -> WorkflowBuilder:
        """Add a conditional edge taken when ``predicate`` holds on ``source``'s outputs.

        With ports (``"a.out"``/``"b.in"`` or the keywords) the edge also carries data.
        """
        s_id, sp = self._endpoint(source, "source")
        t_id, tp = self._endpoint(target, "target")
        sp = source_port or sp
        tp = target_port or tp
        pred = predicate if not isinstance(predicate, str | Mapping | bool) else (
            predicate_from_data(predicate, f"edge {s_id} -> {t_id} predicate")
        )
        if (sp is None) != (tp is None):
            _fail("invalid-edge", f"conditional edge {s_id} -> {t_id}: name both ports or "
                  "neither", node=t_id)
        if sp is not None and tp is not None:
            out = self._pick(self._nodes[s_id], sp, "source")
            inp = self._pick(self._nodes[t_id], tp, "target")
            if not is_compatible(out.type, inp.type):
                _fail("type-mismatch", f"{s_id}.{out.name} ({out.type}) cannot feed "
                      f"{t_id}.{inp.name} ({inp.type})", node=t_id, port_=inp.name)
        self._edges.append(ConditionalEdge(s_id, t_id, pred, sp, tp))
        return self

    # ---- result
    def build(self, *, validate: bool = True) -> Workflow:
        """The workflow; with ``validate`` (default) every remaining problem is raised at once.

        Raises:
            WorkflowValidationError: listing every problem (cycles, missing inputs …).
        """
        now = now_iso()
        wf = Workflow(
            id=self._id,
            name=self._name,
            version=self._version,
            description=self._description,
            metadata=Metadata(
                author=self._author, created=self._created or now,
                modified=self._created or now, tags=tuple(self._tags), extra=dict(self._extra),
            ),
            nodes=tuple(self._nodes.values()),
            edges=tuple(self._edges),
        )
        if validate:
            wf.check()
        return wf
