"""The execution plan: what the executor needs of a workflow, as flat per-node lists.

A :class:`Plan` is built once from a validated :class:`~symphony.workflow.model.Workflow`
(node ids, the edges as two int arrays for the toposort kernel, and per node: how to call
it, where to run it, its policy, its input defaults and its incoming edges). A journaled run
stores it next to the workflow document as ``plan.pickle`` so that reopening a run after a
crash rebuilds the executor in milliseconds instead of re-parsing and re-deriving the whole
document (the document stays the canonical, portable record; a missing or unreadable plan is
rebuilt from it). The plan lives in the run's own state directory, written by Symphony —
the same trust as the journal next to it.

Callables are stored as references — ``("operator", name, threaded)`` or
``("branch" | "merge" | "gate" | "map" | "instrument", "", threaded)`` — and resolved against
the operator registry when a run is built.
"""

from __future__ import annotations

import pickle
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from inspect import iscoroutinefunction
from itertools import compress, repeat
from operator import attrgetter, is_
from typing import Any, TypeAlias

from symphony.commons.errors import ValidationError
from symphony.workflow.graph import GraphIndex
from symphony.workflow.model import (
    DEFAULT_POLICY,
    BranchNode,
    ConditionalEdge,
    ControlEdge,
    DataEdge,
    GateNode,
    InstrumentNode,
    MapNode,
    MergeNode,
    Node,
    NodePolicy,
    OperatorNode,
    Workflow,
)
from symphony.workflow.ops import OperatorRegistry
from symphony.workflow.predicates import Predicate

__all__ = ["Inputs", "Plan"]

INLINE, ASYNC, PROCESS = 0, 1, 2
MODES = {"inline": INLINE, "async": ASYNC, "process": PROCESS}
_VERSION = 1

Inputs: TypeAlias = tuple[
    list[int],  # control-edge sources
    list[tuple[int, Predicate, str | None, str | None]],  # conditional edges
    list[tuple[int, str, str, bool]],  # data edges: source, source port, target port, multi
    list[str],  # required multi ports
]
"""A node's incoming edges, by kind."""


def _control_kind(node: Node) -> tuple[str, int]:
    if isinstance(node, BranchNode):
        return "branch", INLINE
    if isinstance(node, MergeNode):
        return "merge", INLINE
    if isinstance(node, GateNode):
        return "gate", ASYNC
    if isinstance(node, MapNode):
        return "map", ASYNC
    if isinstance(node, InstrumentNode):
        return "instrument", ASYNC
    raise ValidationError(f"node {node.id!r}: unsupported node type {type(node).__name__}")


@dataclass(slots=True)
class Plan:
    """Per-node lists, indexed like :attr:`ids` (see the module docstring)."""

    ids: list[str]
    src: array[int]
    dst: array[int]
    refs: list[tuple[str, str, bool]]
    mode: list[int]
    cfg: list[object]
    policy: list[NodePolicy | None]
    """``None`` for a node without timeout and retries (the fast path)."""
    defaults: list[dict[str, object] | None]
    inputs: list[Inputs | None]

    @classmethod
    def build(cls, wf: Workflow, ops: OperatorRegistry,
              inject: Mapping[str, Mapping[str, object]]) -> Plan:
        """The plan of ``wf`` (which must be valid).

        Raises:
            NotFoundError: a node names an unknown operator.
            ValidationError: an async operator asked to run inline or in a process.
        """
        gi = wf.index()
        ids = gi.ids
        per_node = _plain_nodes(wf, ops, inject, len(ids))
        if per_node is None:
            per_node = _nodes_loop(wf, ids, ops, inject)
        refs, mode, cfg, policy, defaults = per_node
        return cls(ids, array("q", gi.src), array("q", gi.dst), refs, mode, cfg, policy,
                   defaults, _incoming(wf, gi))

    def dumps(self) -> bytes:
        """The plan as bytes (pickle protocol 5, versioned)."""
        return pickle.dumps((_VERSION, self.ids, self.src.tobytes(), self.dst.tobytes(),
                             self.refs, self.mode, self.cfg, self.policy, self.defaults,
                             self.inputs), protocol=5)

    @classmethod
    def loads(cls, data: bytes) -> Plan | None:
        """The plan in ``data``, or ``None`` if it is unreadable or from another version."""
        try:
            t = pickle.loads(data)
        except Exception:
            return None
        if not isinstance(t, tuple) or len(t) != 10 or t[0] != _VERSION:
            return None
        src = array("q")
        src.frombytes(t[2])
        dst = array("q")
        dst.frombytes(t[3])
        return cls(t[1], src, dst, t[4], t[5], t[6], t[7], t[8], t[9])


_PerNode: TypeAlias = tuple[list[tuple[str, str, bool]], list[int], list[object],
                            list[NodePolicy | None], list[dict[str, object] | None]]
_OPERATOR = attrgetter("operator")
_POLICY = attrgetter("policy")
_CONFIG = attrgetter("config")
_INPUTS = attrgetter("inputs")
_GROUP_MIN = 64
"""Control edges from which :func:`_incoming` groups them with a sort (below: one by one)."""
_NONE: list[Any] = []
"""The shared empty list of an :data:`Inputs` entry without edges of that kind (the
executor only reads these lists)."""


def _plain_nodes(wf: Workflow, ops: OperatorRegistry,
                 inject: Mapping[str, Mapping[str, object]], n: int) -> _PerNode | None:
    """The per-node lists of a workflow of operator nodes with the default policy and no
    injected inputs (the common case), from C-level maps and one registry lookup per
    distinct operator; ``None`` for anything else (:func:`_nodes_loop` then)."""
    nodes = wf.nodes
    if (inject or len(nodes) != n or list(map(type, nodes)).count(OperatorNode) != n
            or list(map(_POLICY, nodes)).count(DEFAULT_POLICY) != n):
        return None
    names = list(map(_OPERATOR, nodes))
    mode_of: dict[str, int] = {}
    ref_of: dict[str, tuple[str, str, bool]] = {}
    for name in dict.fromkeys(names):  # first appearance: the loop's first unknown name
        mode_of[name] = MODES[ops.get(name).mode]
        ref_of[name] = ("operator", name, False)
    defaults: list[dict[str, object] | None] = [None] * n
    for i in compress(range(n), map(_INPUTS, nodes)):
        d = {p.name: p.default for p in nodes[i].inputs if p.default is not None}
        defaults[i] = d or None
    return (list(map(ref_of.__getitem__, names)), list(map(mode_of.__getitem__, names)),
            list(map(_CONFIG, nodes)), [None] * n, defaults)


def _nodes_loop(wf: Workflow, ids: list[str], ops: OperatorRegistry,
                inject: Mapping[str, Mapping[str, object]]) -> _PerNode:
    """The per-node lists, node by node (every node kind, policy and injected input)."""
    n = len(ids)
    nodes = wf.node_map
    refs: list[tuple[str, str, bool]] = []
    mode = [INLINE] * n
    cfg: list[object] = [None] * n
    policy: list[NodePolicy | None] = [None] * n
    defaults: list[dict[str, object] | None] = [None] * n
    op_cache: dict[str, tuple[int, bool]] = {}
    for i, nid in enumerate(ids):
        node = nodes[nid]
        pol = node.policy
        if pol is not DEFAULT_POLICY and (pol.timeout is not None or pol.retries):
            policy[i] = pol
        d = {p.name: p.default for p in node.inputs if p.default is not None}
        if nid in inject:
            d.update(inject[nid])
        defaults[i] = d or None
        if isinstance(node, OperatorNode):
            hit = op_cache.get(node.operator)
            if hit is None:
                spec = ops.get(node.operator)
                hit = op_cache[node.operator] = (MODES[spec.mode],
                                                 iscoroutinefunction(spec.fn))
            m, is_async = hit
            kind, name = "operator", node.operator
            cfg[i] = node.config
        else:
            kind, m = _control_kind(node)
            name, is_async = "", m == ASYNC
            cfg[i] = node
        threaded = False
        if pol.run_in != "auto":
            want = MODES[pol.run_in]
            if is_async and want != ASYNC:
                raise ValidationError(
                    f"node {nid!r}: an async {kind} cannot run_in {pol.run_in!r}",
                    details={"node": nid},
                )
            threaded = want == ASYNC and not is_async  # blocking call: a worker thread
            m = want
        mode[i] = m
        refs.append((kind, name, threaded))
    return refs, mode, cfg, policy, defaults


def _incoming(wf: Workflow, gi: GraphIndex) -> list[Inputs | None]:
    """Every node's incoming edges by kind (``None``: no incoming edge).

    Control edges, usually most of them, are grouped by target with one stable sort (their
    sources stay in edge order); data and conditional edges are taken one by one.
    """
    n = gi.n
    edges = wf.edges
    inputs: list[Inputs | None] = [None] * n
    classes = list(map(type, edges))
    n_ctl = classes.count(ControlEdge)
    grouped = n_ctl >= _GROUP_MIN and isinstance(gi.edge_pos, range)  # src/dst aligned
    multi_ports: dict[int, set[str]] = {}
    if not grouped or n_ctl != len(edges):
        for e, s, t in zip(edges, gi.edge_src, gi.edge_dst):
            assert s is not None and t is not None  # a valid workflow has no dangling edge
            if grouped and type(e) is ControlEdge:
                continue
            slot = inputs[t]
            if slot is None:
                slot = inputs[t] = ([], [], [], [])
            if type(e) is ControlEdge:
                slot[0].append(s)
            elif isinstance(e, DataEdge):
                p = wf.node_map[e.target].input(e.target_port)
                multi = p is not None and p.multi
                slot[2].append((s, e.source_port, e.target_port, multi))
                if multi and p is not None and p.needs_edge:
                    multi_ports.setdefault(t, set()).add(e.target_port)
            elif isinstance(e, ConditionalEdge):
                slot[1].append((s, e.predicate, e.source_port, e.target_port))
            else:
                slot[0].append(s)
    for t, ports in multi_ports.items():
        slot = inputs[t]
        assert slot is not None
        slot[3].extend(sorted(ports))
    if grouped:
        import numpy as np

        i64 = np.int64
        src, dst = np.frombuffer(gi.src, dtype=i64), np.frombuffer(gi.dst, dtype=i64)
        if n_ctl != len(edges):
            at = np.flatnonzero(np.frombuffer(bytes(map(is_, classes, repeat(ControlEdge))),
                                              dtype=np.bool_))
            src, dst = src[at], dst[at]
        order = np.argsort(dst, kind="stable")
        dst = dst[order]
        firsts = np.flatnonzero(np.concatenate(([True], dst[1:] != dst[:-1])))
        srcs = src[order].tolist()
        cut = [*firsts.tolist(), len(srcs)]
        groups = map(srcs.__getitem__, map(slice, cut, cut[1:]))
        targets = dst[firsts].tolist()
        if n_ctl == len(edges):  # no slot yet: place them all at C level
            none = repeat(_NONE)
            placed = dict(zip(targets, zip(groups, none, none, none)))
            return list(map(placed.get, range(n)))
        for t, ctl in zip(targets, groups):
            slot = inputs[t]
            if slot is None:
                inputs[t] = (ctl, _NONE, _NONE, _NONE)
            else:
                slot[0].extend(ctl)
    return inputs
