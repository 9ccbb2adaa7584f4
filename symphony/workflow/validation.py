"""The validation pipeline (seed M5.2): every problem of a workflow, at once.

:func:`validate` never stops at the first problem. It returns a :class:`ValidationReport`
whose :attr:`~ValidationReport.problems` name the node and/or edge concerned; on a valid
graph it also carries the deterministic order and execution levels (computed by the
toposort kernel over the dense int arrays of :class:`~symphony.workflow.graph.GraphIndex`).

Checks (``Problem.code``; severity ``error`` unless noted):

``invalid-id``          a node id is empty, not a string, or contains whitespace
``duplicate-node``      two nodes share an id (the later one is named)
``duplicate-port``      a node declares two inputs (or two outputs) with the same name
``dangling-edge``       an edge names a node that does not exist
``unknown-port``        an edge names a port its node does not have
``type-mismatch``       a data edge joins ports whose types are incompatible
                        (:func:`symphony.workflow.types.is_compatible`)
``multiple-producers``  several data edges feed one input that is not ``multi``
``duplicate-edge``      the same edge appears twice
``missing-input``       a required input without a default is fed by no edge
``cycle``               a cycle, with its path ``a -> b -> … -> a`` (one per strongly
                        connected component; a self-loop is ``a -> a``)
``unreachable``         a node downstream of a cycle: it can never become ready
``invalid-node``        a node-specific rule (bad policy, prompt placeholder without input,
                        branch without then/else, map body problems …)
``invalid-edge``        a conditional edge with only one of its two ports
``orphan`` (warning)    a node with no edge at all in a workflow of several nodes
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, compress, repeat
from operator import attrgetter, is_
from typing import Any, Literal, cast

from symphony.commons.errors import CycleError, WorkflowValidationError
from symphony.workflow import _kernel
from symphony.workflow.graph import GraphIndex
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
    Node,
    OperatorNode,
    Port,
    Workflow,
    describe_edge,
)
from symphony.workflow.types import PortType, is_compatible

__all__ = ["Problem", "ValidationReport", "Severity", "validate"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found by :func:`validate`.

    Attributes:
        code: a stable machine-readable code (module docstring).
        message: a sentence naming the node/edge/port and what is wrong.
        node: the node concerned, if any.
        edge: the position of the edge in ``Workflow.edges``, if any.
        port: the port concerned (``missing-input``, ``unknown-port``), if any.
        cycle: for ``cycle``, the node path ``(a, b, …, a)``.
        severity: ``"error"`` or ``"warning"``.
    """

    code: str
    message: str
    node: str | None = None
    edge: int | None = None
    cycle: tuple[str, ...] = ()
    severity: Severity = "error"
    port: str | None = None

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


@dataclass(slots=True)
class ValidationReport:
    """What :func:`validate` found. ``order``/``levels`` are empty when there is a cycle."""

    workflow_id: str
    problems: list[Problem] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    levels: list[list[str]] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        """Problems of severity ``error``."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems of severity ``warning``."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def codes(self) -> list[str]:
        """The problem codes, in report order (handy in tests)."""
        return [p.code for p in self.problems]

    def raise_for_errors(self) -> None:
        """Raise :class:`~symphony.commons.errors.WorkflowValidationError` if not :attr:`ok`."""
        errs = self.errors
        if errs:
            lines = "\n".join(f"  - {p}" for p in errs)
            raise WorkflowValidationError(
                f"workflow {self.workflow_id!r} is invalid ({len(errs)} problem"
                f"{'s' if len(errs) != 1 else ''}):\n{lines}",
                problems=list(errs),
                details={"workflow": self.workflow_id, "codes": [p.code for p in errs]},
            )


_Emit = Callable[[Problem], None]


def validate(wf: Workflow) -> ValidationReport:
    """Run every check on ``wf`` and return the report (never raises for a bad graph)."""
    report = ValidationReport(wf.id)
    add = report.problems.append
    gi = wf.index()
    nodes = wf.nodes

    # ---- ids, duplicates, per-node rules, port tables (one pass over the nodes)
    for pos in gi.duplicate_nodes:
        nid = nodes[pos].id
        add(Problem("duplicate-node", f"node id {nid!r} is used more than once "
                    f"(again at nodes[{pos}])", node=nid))
    dense = (_ports_dense(nodes, wf.edges, gi)
             if len(nodes) >= _DENSE_MIN and not gi.duplicate_nodes and not gi.dangling
             else None)
    if dense is not None:
        # nothing wrong with ids, ports or edges: only node rules and missing inputs to tell
        offenders, missing = dense
        for k in offenders:
            _check_node(nodes[k], add)
        for i, p in missing:
            nid = gi.ids[i]
            add(Problem("missing-input", f"required input {nid}.{p.name} ({p.type}) "
                        "is not fed by any data edge and has no default", node=nid,
                        port=p.name))
    else:
        _ports_loop(wf, gi, add, report)
    _order_checks(wf, gi, add, report)
    return report


def _ports_loop(wf: Workflow, gi: GraphIndex, add: _Emit, report: ValidationReport) -> None:
    """Ids, node rules, ports, edges and required inputs, node by node and edge by edge
    (caching what each node derives)."""
    nodes = wf.nodes
    index = gi.index
    n_idx = gi.n
    outs: list[dict[str, PortType]] = [_EMPTY] * n_idx
    ins: list[dict[str, Port]] = [_EMPTY_P] * n_idx
    required: list[tuple[int, tuple[Port, ...]]] = []
    dup_nodes = set(gi.duplicate_nodes)
    derive = _derive
    pos = -1
    for n in nodes:
        pos += 1
        der = n._derived
        derived: _Derived = der[0] if der else derive(n)  # type: ignore[assignment]
        o, inn, req, probs = derived
        if probs:
            report.problems.extend(probs)
        if dup_nodes:
            if pos in dup_nodes:
                continue
            i = index[n.id]
        else:
            i = pos  # without duplicates the dense index is the node position
        outs[i] = o
        ins[i] = inn
        if req:
            required.append((i, req))

    # ---- edges: endpoints
    edges = wf.edges
    for pos in gi.dangling:
        e = edges[pos]
        missing = [x for x in (e.source, e.target) if x not in index]
        add(Problem("dangling-edge", f"edge #{pos} ({describe_edge(e)}) refers to missing "
                    f"node{'s' if len(missing) > 1 else ''} "
                    f"{', '.join(repr(m) for m in missing)}", edge=pos,
                    node=missing[0] if isinstance(missing[0], str) else None))

    # ---- edges: ports, types, duplicates, producers
    fed = _check_edges(edges, gi, outs, ins, add)

    # ---- required inputs
    for i, req_ports in required:
        for p in req_ports:
            if (i, p.name) not in fed:
                nid = gi.ids[i]
                add(Problem("missing-input", f"required input {nid}.{p.name} ({p.type}) "
                            "is not fed by any data edge and has no default", node=nid,
                            port=p.name))


def _order_checks(wf: Workflow, gi: GraphIndex, add: _Emit, report: ValidationReport) -> None:
    """Order (the kernel), self-loops, orphans, cycles."""
    edges = wf.edges
    n_idx = gi.n
    # ---- order (the kernel), then self-loops, orphans, cycles
    try:
        order, levels = gi.sort()
        cyclic = False
    except CycleError:
        order, levels, cyclic = [], [], True
    for pos in gi.self_loops:
        e = edges[pos]
        add(Problem("cycle", f"cycle: {e.source} -> {e.source} (edge #{pos} "
                    f"{describe_edge(e)} is a self-loop)", node=e.source, edge=pos,
                    cycle=(e.source, e.source)))
    if n_idx > 1:
        g = gi.kernel_graph
        if g is not None and levels and len(levels[0]) > 64:
            import numpy as np  # many sources: count every node's edges at once

            deg = (np.bincount(np.frombuffer(gi.src, dtype=np.int64), minlength=n_idx)
                   + np.bincount(np.frombuffer(gi.dst, dtype=np.int64), minlength=n_idx))
            lonely = np.flatnonzero(deg == 0).tolist()
        elif g is not None and levels:
            # acyclic: a node without edges is a level-0 node without successors
            succ_of = g.successors  # type: ignore[attr-defined]
            lonely = [i for i in levels[0] if not len(succ_of(i))]
        else:
            touched = set(gi.src)
            touched.update(gi.dst)
            lonely = [i for i in range(n_idx) if i not in touched]
        if lonely and (gi.self_loops or gi.dangling):
            bad_ends = {end for pos in (*gi.self_loops, *gi.dangling)
                        for end in (gi.edge_src[pos], gi.edge_dst[pos]) if end is not None}
            lonely = [i for i in lonely if i not in bad_ends]
        for i in lonely:
            add(Problem("orphan", f"node {gi.ids[i]!r} has no edges", node=gi.ids[i],
                        severity="warning"))
    if cyclic or gi.self_loops:
        _report_cycles(gi, add)
    else:
        name = gi.ids.__getitem__
        report.order = list(map(name, order))
        report.levels = [list(map(name, lvl)) for lvl in levels]


_WS = re.compile(r"\s")
_EMPTY: dict[str, PortType] = {}
_EMPTY_P: dict[str, Port] = {}


_Derived = tuple[dict[str, PortType], dict[str, Port], tuple[Port, ...], tuple[Problem, ...]]


def _derive(n: Node) -> _Derived:
    """What validation needs from a node alone, cached on it: ``(output types by name,
    input ports by name, required inputs without default, node-local problems)``."""
    probs: list[Problem] = []
    emit = probs.append
    nid = n.id
    if type(nid) is not str or not nid or _WS.search(nid):
        emit(Problem("invalid-id", f"invalid node id {nid!r} (need a non-empty string "
                     "without whitespace)", node=str(nid)))
    outputs, inputs = n.outputs, n.inputs
    if not outputs:
        o = _EMPTY
    elif len(outputs) == 1:
        o = {outputs[0].name: outputs[0].type}
    else:
        o = {p.name: p.type for p in outputs}
        if len(o) != len(outputs):
            _dup_ports(n, "output", emit)
    req: tuple[Port, ...] = ()
    if not inputs:
        inn = _EMPTY_P
    else:
        inn = {p.name: p for p in inputs}
        req = tuple([p for p in inputs if p.required and p.default is None])
        if len(inn) != len(inputs):
            _dup_ports(n, "input", emit)
    if n.__class__ is not OperatorNode or n.policy is not DEFAULT_POLICY or not n.operator:
        _check_node(n, emit)
    der: _Derived = (o, inn, req, tuple(probs))
    n._derived[:] = [der]
    return der


def _dup_ports(n: Node, what: str, emit: _Emit) -> None:
    names = [p.name for p in (n.inputs if what == "input" else n.outputs)]
    dups = sorted({x for x in names if names.count(x) > 1})
    emit(Problem("duplicate-port", f"node {n.id!r} declares {what} port(s) "
                 f"{', '.join(map(repr, dups))} more than once", node=n.id))


def _check_edges(
    edges: tuple[Edge, ...],
    gi: GraphIndex,
    outs: list[dict[str, PortType]],
    ins: list[dict[str, Port]],
    emit: _Emit,
) -> _Fed:
    """Ports, types, duplicates and producers of every edge; returns the fed input slots.

    Hot path: 50,000 edges. Edges are split by class with C-level ``compress``; the data
    edge loop does two small-dict lookups, an identity type test and one set/dict insert.
    """
    fed: dict[tuple[int, str], int] = {}
    seen_multi: set[tuple[int, str, int, str]] = set()
    compat: dict[tuple[PortType, PortType], bool] = {}
    collide: list[tuple[tuple[int, str], int]] = []
    classes = list(map(type, edges))
    positions = range(len(edges))
    es, ed = gi.edge_src, gi.edge_dst
    broken = bool(gi.dangling)  # self-loops are port-checked like any edge
    bad = set(gi.dangling)

    def pick(cls: type) -> Iterator[tuple[int, Edge, int, int]]:
        if not classes.count(cls):
            return iter(())
        sel = list(map(is_, classes, repeat(cls)))
        it = zip(compress(positions, sel), compress(edges, sel), compress(es, sel),
                 compress(ed, sel))
        if broken:
            return (x for x in it if x[0] not in bad)  # type: ignore[misc]
        return it  # type: ignore[return-value]

    # ---- control edges: duplicates only (C-level set check first)
    n_ctl = classes.count(ControlEdge)
    if n_ctl:
        sel = list(map(is_, classes, repeat(ControlEdge)))
        if len(set(zip(compress(es, sel), compress(ed, sel)))) != n_ctl:
            seen_ctl: set[tuple[int, int]] = set()
            for pos, e, s, d in pick(ControlEdge):
                ck = (s, d)
                if ck in seen_ctl:
                    emit(Problem("duplicate-edge", f"edge #{pos} ({describe_edge(e)}) is a "
                                 "duplicate", edge=pos, node=e.target))
                seen_ctl.add(ck)

    # ---- conditional edges (rare): checked one by one, ported ones join the data check
    ported: list[tuple[int, Edge, int, int]] = []
    seen_cond: set[tuple[object, ...]] = set()
    for pos, e, s, d in pick(ConditionalEdge):
        c = cast(ConditionalEdge, e)
        if (c.source_port is None) != (c.target_port is None):
            emit(Problem("invalid-edge", f"conditional edge #{pos} ({describe_edge(e)}) "
                         "must set both source_port and target_port, or neither",
                         edge=pos, node=e.target))
            continue
        qk = (s, d, c.source_port, c.target_port, c.predicate)
        if qk in seen_cond:
            emit(Problem("duplicate-edge", f"edge #{pos} ({describe_edge(e)}) is a "
                         "duplicate", edge=pos, node=e.target))
            continue
        seen_cond.add(qk)
        if c.source_port is not None:
            ported.append((pos, e, s, d))

    # ---- data edges (and ported conditional edges)
    if not broken and not ported and classes.count(DataEdge) >= _DENSE_MIN:
        sel = list(map(is_, classes, repeat(DataEdge)))
        dense = _data_edges_dense(list(compress(edges, sel)),
                                  cast(list[int], list(compress(es, sel))),  # not broken
                                  cast(list[int], list(compress(ed, sel))),
                                  list(compress(positions, sel)),
                                  outs, ins, compat)
        if dense is not None:
            return _Fed(*dense)
        # something is wrong with a data edge: the loop below names every problem
    n_multi = 0
    for pos, e, s, d in chain(pick(DataEdge), ported):
        sp: str = e.source_port  # type: ignore[union-attr,assignment]
        tp: str = e.target_port  # type: ignore[union-attr,assignment]
        st = outs[s].get(sp)
        tport = ins[d].get(tp)
        if st is None or tport is None:
            _unknown_port(pos, e, st, tport, outs[s], ins[d], emit)
            continue
        tt = tport.type
        if st is not tt:
            ok = compat.get((st, tt))
            if ok is None:
                ok = compat[(st, tt)] = is_compatible(st, tt)
            if not ok:
                emit(Problem("type-mismatch", f"edge #{pos} ({describe_edge(e)}): output "
                             f"type {st} is not compatible with input type {tt}",
                             edge=pos, node=e.target, port=tp))
        if tport.multi:
            seen_multi.add((s, sp, d, tp))
            n_multi += 1
        else:
            slot = (d, tp)
            if slot in fed:
                collide.append((slot, pos))
            else:
                fed[slot] = pos

    # ---- slow paths, only when something collided
    if len(seen_multi) != n_multi:
        seen4: set[tuple[int, str, int, str]] = set()
        for pos, e, s, d in chain(pick(DataEdge), ported):
            tport = ins[d].get(e.target_port)  # type: ignore[union-attr,arg-type]
            if tport is None or not tport.multi or outs[s].get(e.source_port) is None:  # type: ignore[union-attr,arg-type]
                continue
            k4 = (s, e.source_port, d, e.target_port)  # type: ignore[union-attr]
            if k4 in seen4:
                emit(Problem("duplicate-edge", f"edge #{pos} ({describe_edge(e)}) is a "
                             "duplicate", edge=pos, node=e.target))
            seen4.add(k4)  # type: ignore[arg-type]
    if collide:
        groups: dict[tuple[int, str], list[int]] = {}
        for slot, pos in collide:
            first = fed[slot]
            a, b = edges[first], edges[pos]
            if (a.source, a.source_port) == (b.source, b.source_port):  # type: ignore[union-attr]
                emit(Problem("duplicate-edge", f"edge #{pos} ({describe_edge(b)}) is a "
                             "duplicate", edge=pos, node=b.target))
            else:
                groups.setdefault(slot, [first]).append(pos)
        for (d, tp), poss in groups.items():
            nid = gi.ids[d]
            emit(Problem("multiple-producers", f"input {nid}.{tp} is fed by {len(poss)} "
                         f"data edges (#{', #'.join(map(str, poss))}) but is not multi",
                         node=nid, edge=poss[1], port=tp))
    return _Fed(fed, seen_multi)


_DENSE_MIN = 64
_PLAIN_EDGES = frozenset({DataEdge, ControlEdge})
_NAME_TYPE = ("name", "type")
_PORTS = ("source_port", "target_port")
_NAME = attrgetter("name")
_OUTPUTS = attrgetter("outputs")
_INPUTS = attrgetter("inputs")
_POLICY = attrgetter("policy")
_OPERATOR = attrgetter("operator")
_REQUIRED = attrgetter("required")
_DEFAULT = attrgetter("default")


def _has_dup(np: Any, a: Any) -> bool:
    """Whether the 1-d array ``a`` has a repeated value (sort: ``np.unique`` is far slower)."""
    s = np.sort(a)
    return bool((s[1:] == s[:-1]).any())


def _ports_dense(
    nodes: tuple[Node, ...], edges: tuple[Edge, ...], gi: GraphIndex
) -> tuple[list[int], list[tuple[int, Port]]] | None:
    """Ids, ports, data and control edges and required inputs of a whole workflow with
    no Python bytecode per node or edge, for the common case where none of them has a
    problem.

    Port names and port types are numbered, and every edge's port names looked up, by the
    toposort kernel's ``label_columns`` (one C-level pass over the ports, one over the
    edges). Each port is a key ``node * names + name``; a table over those keys (or, when it
    would be large, ``searchsorted`` over the sorted keys) finds every edge's two ports at
    once, and compatibility is decided once per distinct (output type, input type) pair.
    Inputs fed twice, duplicate edges and unfed inputs come from one ``bincount`` of the
    edges' input ports; only the ports it singles out (fed more than once, or not at all)
    are looked at one by one (``multi``, ``required``, ``default``).

    Returns ``(positions of nodes whose node rules must be checked, unfed required inputs
    as (node index, port) in node/port order)``, or ``None`` when the graph has an invalid
    id, a duplicate port, a conditional edge, an unknown port, incompatible types, a
    duplicate edge or an input fed twice — :func:`_ports_loop` then names every problem.
    """
    import numpy as np

    n = len(nodes)
    m = len(edges)
    ids = gi.ids
    if len(gi.src) != m or not isinstance(gi.edge_pos, range):
        return None  # self-loops already taken out: positions no longer align
    if "" in gi.index or set(map(type, ids)) != {str} or _WS.search("\x00".join(ids)):
        return None
    i64 = np.int64
    label = _kernel.toposort.label_columns
    # ---- node rules: only nodes that are not plain operators with the default policy
    if (list(map(type, nodes)).count(OperatorNode) == n
            and list(map(_POLICY, nodes)).count(DEFAULT_POLICY) == n):
        ops = list(map(_OPERATOR, nodes))
        try:
            named = all(ops) and bool("\x00".join(ops))  # join: every operator is a str
        except TypeError:
            named = False
        offenders = [] if named else [
            q for q, o in enumerate(ops) if not o or not isinstance(o, str)]
    else:
        offenders = [q for q, nd in enumerate(nodes)
                     if nd.__class__ is not OperatorNode or nd.policy is not DEFAULT_POLICY
                     or not nd.operator or not isinstance(nd.operator, str)]
    # ---- ports: names and types numbered by the kernel's label_columns; (node, name) keys
    outputs = list(map(_OUTPUTS, nodes))
    inputs = list(map(_INPUTS, nodes))
    oports: list[Port] = list(chain.from_iterable(outputs))
    iports: list[Port] = list(chain.from_iterable(inputs))
    no, ni = len(oports), len(iports)
    code: dict[object, int] = {}
    tid: dict[object, int] = {}
    ocols = [np.frombuffer(c, dtype=i64) for c in label(oports, _NAME_TYPE, [code, tid], True)]
    icols = [np.frombuffer(c, dtype=i64) for c in label(iports, _NAME_TYPE, [code, tid], True)]
    if any(c.size and c.min() < 0 for c in (*ocols, *icols)):
        return None  # an unhashable port name or type: the loop
    nc = max(len(code), 1)
    if (n * nc) ** 2 >= 1 << 62:
        return None
    owner_o = np.repeat(np.arange(n, dtype=i64), np.fromiter(map(len, outputs), i64, n))
    owner_i = np.repeat(np.arange(n, dtype=i64), np.fromiter(map(len, inputs), i64, n))
    okey = owner_o * nc + ocols[0]
    ikey = owner_i * nc + icols[0]
    # ---- data and control edges (only a data edge has a source_port: -2 = no such
    # attribute), their port names; control edges: no duplicates
    if not _PLAIN_EDGES.issuperset(map(type, edges)):
        return None  # conditional edges, or not an edge class of the model: the loop
    spc, tpc = (np.frombuffer(c, dtype=i64) for c in label(edges, _PORTS, [code, code]))
    is_data = spc != -2
    k = int(np.count_nonzero(is_data))
    src_all = np.frombuffer(gi.src, dtype=i64)
    dst_all = np.frombuffer(gi.dst, dtype=i64)
    if k == m:
        s, d = src_all, dst_all
    else:
        at = np.flatnonzero(is_data)  # positions: far cheaper than boolean masks, 4 times
        s, d, spc, tpc = src_all[at], dst_all[at], spc[at], tpc[at]
        at = np.flatnonzero(~is_data)
        if m - k > 1 and _has_dup(np, src_all[at] * n + dst_all[at]):
            return None
    # ---- data edges: their ports exist
    if k and (min(spc.min(), tpc.min()) < 0 or not no or not ni):
        return None  # a port name no node declares
    found = _port_lookup(np, okey, s * nc + spc, n * nc, k)
    if found is None:
        return None
    oidx = found
    found = _port_lookup(np, ikey, d * nc + tpc, n * nc, k)
    if found is None:
        return None
    iidx = found
    # ---- types: one compatibility test per distinct (output type, input type) pair
    types = cast(list[PortType], list(tid))  # numbered in this order
    nt = len(types)
    pairs = ocols[1][oidx] * nt + icols[1][iidx]
    distinct = (np.flatnonzero(np.bincount(pairs, minlength=nt * nt)) if nt * nt <= 1 << 16
                else np.unique(pairs))
    for pair in distinct.tolist():
        a, b = types[pair // nt], types[pair % nt]
        if a is not b and not is_compatible(a, b):
            return None
    # ---- producers: an input fed more than once must be multi, and not by one edge twice
    fed = np.bincount(iidx, minlength=ni)
    many = fed > 1
    crowded = np.flatnonzero(many).tolist()
    if crowded:
        if not all(map(_MULTI, map(iports.__getitem__, crowded))):
            return None
        mm = many[iidx]
        if _has_dup(np, iidx[mm] * no + oidx[mm]):
            return None
    # ---- required inputs without a producer (in node/port order)
    unfed = np.flatnonzero(fed == 0).tolist()
    cand = list(map(iports.__getitem__, unfed))
    missing = [(int(owner_i[q]), p)
               for q, p in compress(zip(unfed, cand), map(_REQUIRED, cand))
               if p.default is None]
    return offenders, missing


def _port_lookup(np: Any, keys: Any, want: Any, size: int, k: int) -> Any:
    """Position in ``keys`` of each value of ``want`` (a numpy int array), or ``None`` when
    ``keys`` repeats a value (a node declares a port twice) or some value is missing (an
    edge names a port its node does not have). A table of ``size`` entries when that is
    small next to the keys and edges, else ``searchsorted`` over the sorted keys."""
    nk = keys.size
    if not k:
        order = np.argsort(keys, kind="stable")
        srt = keys[order]
        return None if (srt[1:] == srt[:-1]).any() else want
    if size <= 4 * (nk + k) + 4096:
        table = np.full(size, -1, dtype=np.int64)
        at = np.arange(nk, dtype=np.int64)
        table[keys] = at
        if (table[keys] != at).any():
            return None  # with repeated keys only one position can be stored
        found = table[want]
        return None if found.min() < 0 else found
    order = np.argsort(keys, kind="stable")
    srt = keys[order]
    if (srt[1:] == srt[:-1]).any():
        return None
    j = np.minimum(np.searchsorted(srt, want), nk - 1)
    if not (srt[j] == want).all():
        return None
    return order[j]

"""Data edges from which :func:`_data_edges_dense` is tried (below: the plain loop)."""
_SOURCE_PORT = attrgetter("source_port")
_TARGET_PORT = attrgetter("target_port")
_TYPE = attrgetter("type")
_MULTI = attrgetter("multi")


def _data_edges_dense(
    edges: list[Edge],
    src: list[int],
    dst: list[int],
    positions: list[int],
    outs: list[dict[str, PortType]],
    ins: list[dict[str, Port]],
    compat: dict[tuple[PortType, PortType], bool],
) -> tuple[dict[tuple[int, str], int], set[tuple[int, str, int, str]]] | None:
    """The data-edge check of :func:`_check_edges` for graphs where it finds nothing wrong,
    with no Python bytecode per edge: port lookups are ``map(dict.get, ...)`` over the
    edges (C-level), types are compared per distinct (output type, input type) pair (port
    types are interned, so the pairs are few), and the fed slots are one ``dict(zip())``.

    Returns ``(fed, seen_multi)`` exactly as the loop builds them, or ``None`` if some data
    edge has an unknown port, incompatible types or shares a single-producer input with
    another edge, or duplicates an edge into a multi input — the caller then runs the loop,
    which reports each problem in edge order.
    """
    sp = list(map(_SOURCE_PORT, edges))
    tp = list(map(_TARGET_PORT, edges))
    st = list(map(dict.get, map(outs.__getitem__, src), sp))
    tports = list(map(dict.get, map(ins.__getitem__, dst), tp))
    if None in st or not all(tports):  # all(): Port has no __len__/__bool__ (no __eq__ calls)
        return None
    tt: list[PortType] = list(map(_TYPE, tports))
    for pair in set(zip(cast(list[PortType], st), tt)):
        a, b = pair
        if a is b:
            continue
        ok = compat.get(pair)
        if ok is None:
            ok = compat[pair] = is_compatible(a, b)
        if not ok:
            return None
    multi = list(map(_MULTI, tports))
    seen_multi: set[tuple[int, str, int, str]] = set()
    if True in multi:
        single = [not m for m in multi]
        seen_multi = set(zip(compress(src, multi), compress(sp, multi),
                             compress(dst, multi), compress(tp, multi)))
        if len(seen_multi) != multi.count(True):
            return None  # a duplicate edge into a multi input
        dst, tp, positions = (list(compress(dst, single)), list(compress(tp, single)),
                              list(compress(positions, single)))
    # reversed: the first edge of a slot is the value that stays
    fed = dict(zip(zip(reversed(dst), reversed(tp)), reversed(positions)))
    if len(fed) != len(positions):
        return None  # two edges feed one single-producer input
    return fed, seen_multi


class _Fed:
    """Membership test for fed input slots: the single-producer dict, then multi inputs
    (whose slot set is only built if some required multi input is asked about)."""

    __slots__ = ("_multi", "_multi_slots", "_single")

    def __init__(self, single: dict[tuple[int, str], int], multi: set[tuple[int, str, int, str]]):
        self._single = single
        self._multi = multi
        self._multi_slots: set[tuple[int, str]] | None = None

    def __contains__(self, slot: tuple[int, str]) -> bool:
        if slot in self._single:
            return True
        if not self._multi:
            return False
        if self._multi_slots is None:
            self._multi_slots = {(d, tp) for _, _, d, tp in self._multi}
        return slot in self._multi_slots


def _unknown_port(
    pos: int,
    e: Edge,
    st: PortType | None,
    tport: Port | None,
    outs: dict[str, PortType],
    ins: dict[str, Port],
    emit: _Emit,
) -> None:
    if st is None:
        emit(Problem("unknown-port", f"edge #{pos} ({describe_edge(e)}): node "
                     f"{e.source!r} has no output {e.source_port!r} (outputs: "  # type: ignore[union-attr]
                     f"{', '.join(outs) or 'none'})", edge=pos,
                     node=e.source, port=e.source_port))  # type: ignore[union-attr]
    if tport is None:
        emit(Problem("unknown-port", f"edge #{pos} ({describe_edge(e)}): node "
                     f"{e.target!r} has no input {e.target_port!r} (inputs: "  # type: ignore[union-attr]
                     f"{', '.join(ins) or 'none'})", edge=pos,
                     node=e.target, port=e.target_port))  # type: ignore[union-attr]


def _check_node(n: Node, emit: _Emit) -> None:
    nid = n.id
    pol = n.policy
    if pol is not DEFAULT_POLICY and (
        pol.retries < 0
        or (pol.timeout is not None and pol.timeout <= 0)
        or pol.retry_backoff < 0
        or pol.retry_backoff_max < 0
        or not 0 <= pol.retry_jitter <= 1
    ):
        emit(Problem("invalid-node", f"node {nid!r} has an invalid policy {pol} (retries "
                     ">= 0, timeout > 0, backoff >= 0, 0 <= jitter <= 1)", node=nid))
    if n.__class__ is OperatorNode:
        if not n.operator or not isinstance(n.operator, str):
            emit(Problem("invalid-node", f"operator node {nid!r} names no operator",
                         node=nid))
        return
    if isinstance(n, InstrumentNode):
        names = {p.name for p in n.inputs}
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(n.prompt) if f}
        except ValueError as exc:
            emit(Problem("invalid-node", f"instrument {nid!r}: bad prompt template: {exc}",
                         node=nid))
            return
        for f in sorted(fields):
            base = f.split(".")[0].split("[")[0]
            if base not in names:
                emit(Problem("invalid-node", f"instrument {nid!r}: prompt placeholder "
                             f"{{{f}}} names no input port", node=nid))
    elif isinstance(n, BranchNode):
        outs = {p.name for p in n.outputs}
        if not {"then", "else"} <= outs:
            emit(Problem("invalid-node", f"branch {nid!r} needs outputs 'then' and 'else' "
                         f"(has {', '.join(sorted(outs)) or 'none'})", node=nid))
    elif isinstance(n, GateNode):
        if n.approvals < 1 or (n.timeout is not None and n.timeout <= 0):
            emit(Problem("invalid-node", f"gate {nid!r}: approvals must be >= 1 and timeout "
                         f"> 0 (got approvals={n.approvals}, timeout={n.timeout})", node=nid))
    elif isinstance(n, MergeNode):
        if not any(p.multi for p in n.inputs):
            emit(Problem("invalid-node", f"merge {nid!r} needs a multi input port", node=nid))
    elif isinstance(n, MapNode):
        _check_map(n, emit)


def _check_map(n: MapNode, add: _Emit) -> None:
    nid = n.id
    body = n.body
    if n.concurrency < 0:
        add(Problem("invalid-node", f"map {nid!r}: concurrency must be >= 0", node=nid))
    for attr, kind in (("item_input", "input"), ("result_output", "output")):
        ref: str = getattr(n, attr)
        bnode, _, bport = ref.partition(".")
        target = body.node_map.get(bnode)
        ok = target is not None and (
            target.input(bport) if kind == "input" else target.output(bport)
        ) is not None
        if not ok:
            add(Problem("invalid-node", f"map {nid!r}: {attr} {ref!r} is not an {kind} port "
                        f"of its body workflow {body.id!r}", node=nid))
    sub = validate(body)
    for p in sub.problems:
        if p.code == "missing-input" and n.item_input == f"{p.node}.{p.port}":
            continue  # fed by the map itself
        add(Problem(p.code, f"map {nid!r} body: {p.message}", node=nid, severity=p.severity))


def _report_cycles(gi: GraphIndex, emit: _Emit) -> None:
    """Find every strongly connected component left by Kahn; report a cycle path for each
    and the nodes downstream as unreachable. Slow path (only on invalid graphs)."""
    n = gi.n
    succ = gi.successors()
    indeg = [0] * n
    for d in gi.dst:
        indeg[d] += 1
    stack = [i for i in range(n) if indeg[i] == 0]
    done = bytearray(n)
    while stack:
        u = stack.pop()
        done[u] = 1
        for v in succ[u]:
            indeg[v] -= 1
            if indeg[v] == 0:
                stack.append(v)
    left = [i for i in range(n) if not done[i]]
    comps = _tarjan(left, succ, set(left))
    on_cycle: set[int] = set()
    ids = gi.ids
    for comp in comps:
        if len(comp) < 2:
            continue
        on_cycle.update(comp)
        path = _cycle_in(comp, succ)
        names = [ids[i] for i in path]
        emit(Problem("cycle", f"cycle: {' -> '.join(names)}", node=names[0],
                     cycle=tuple(names)))
    # nodes with a self-loop are cycles too (reported already); what lies downstream of any
    # cycle can never run
    loops = {gi.index[gi.ids[gi.edge_src[pos]]] for pos in gi.self_loops  # type: ignore[index]
             if gi.edge_src[pos] is not None}
    blocked = set(on_cycle) | loops
    stack = list(blocked)
    reach: set[int] = set()
    while stack:
        for v in succ[stack.pop()]:
            if v not in reach:
                reach.add(v)
                stack.append(v)
    for i in sorted(reach - blocked):
        emit(Problem("unreachable", f"node {ids[i]!r} can never run: it depends on a "
                     "cycle", node=ids[i]))


def _tarjan(nodes: Iterable[int], succ: list[list[int]], allowed: set[int]) -> list[list[int]]:
    """Strongly connected components (iterative Tarjan) of the subgraph on ``allowed``."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    comps: list[list[int]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[int, int]] = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack.add(v)
            recurse = False
            nbrs = succ[v]
            while i < len(nbrs):
                w = nbrs[i]
                i += 1
                if w not in allowed:
                    continue
                if w not in index:
                    work.append((v, i))
                    work.append((w, 0))
                    recurse = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                comps.append(sorted(comp))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return comps


def _cycle_in(comp: list[int], succ: list[list[int]]) -> list[int]:
    """A shortest cycle through the smallest node of a strongly connected component (BFS)."""
    members = set(comp)
    start = comp[0]
    parent: dict[int, int] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for u in frontier:
            for v in succ[u]:
                if v not in members:
                    continue
                if v == start:
                    path = [u]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    path.reverse()
                    return [*path, start]
                if v not in parent:
                    parent[v] = u
                    nxt.append(v)
        frontier = nxt
    raise AssertionError("strongly connected component without a cycle")  # pragma: no cover
