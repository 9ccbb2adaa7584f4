"""Workflow documents (seed M5.3): JSON for interchange, MessagePack for compactness.

**JSON** (:func:`dumps_json`/:func:`loads_json`) is the interchange form. Keys come in a fixed,
schema-defined order (``schema``, ``schema_version``, ``id``, ``name``, ``version`` …), user
mappings (``config``, ``params``, ``metadata.extra``) are sorted, fields at their default
are left out, and ``indent=2`` (the default of :func:`dumps_json`) puts one key per line, so
two versions of a workflow diff cleanly. Every document carries ``"schema_version"``.

**MessagePack** (:func:`dumps_msgpack`/:func:`loads_msgpack`) is a *positional, interned*
encoding, not the JSON dict re-encoded (that saves only ~20 %): every string that names
something (node ids, port names, types, operators, models) is stored once in a string table
and referred to by index, nodes and ports are positional arrays, and an edge is a small
array of ints (``[0, src, src_port, dst, dst_port]`` for a data edge). User JSON values
(config, params, defaults, predicates, metadata) are stored as plain MessagePack. Layout::

    ["SYWF", schema_version, [strings...], workflow]
    workflow = [id, name, version, description, metadata|nil, [node...], [edge...]]
    node     = [kind, id, [port...], [port...], label, description, policy|nil, *kind fields]
    port     = [name, type] | [name, type, flags, default, description]
               flags: 1 = not required, 2 = multi, 4 = has default
    edge     = [0, s, sp, t, tp] | [1, s, t] | [2, s, t, predicate, sp|nil, tp|nil]

(strings in *italics above* — ids, names, types — are string-table indices.)

**Migrations.** :data:`SCHEMA_VERSION` is the version written. A document of an older
version is upgraded by the chain in :data:`MIGRATIONS` (``{1: v1→v2, …}``) before it is
read; a newer one is refused with a message saying so. Version 1 (Symphony 0.0) stored nodes
as a map keyed by id, edges as ``{"from": "a.out", "to": "b.in"}`` strings (a ``when``
predicate made an edge conditional, ``"kind": "control"`` made it ordering-only) and tags at
the top level; :func:`migrate` turns that into version 2.

**Errors.** Malformed input raises :class:`WorkflowFormatError` (a ``SerializationError``)
whose message names the path of the offending key: ``nodes[3].inputs[0].type: expected a
string, got int``. Loaders never raise anything else for bad bytes or documents.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from typing import TypeAlias, cast

import msgpack

from symphony.commons.errors import SerializationError, ValidationError
from symphony.workflow.model import (
    DEFAULT_POLICY,
    NODE_CLASSES,
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
)
from symphony.workflow.predicates import predicate_from_data, predicate_to_data
from symphony.workflow.types import ANY, parse_type

__all__ = [
    "FORMAT",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "WorkflowFormatError",
    "dumps_json",
    "dumps_msgpack",
    "from_dict",
    "load",
    "loads_json",
    "loads_msgpack",
    "migrate",
    "pretty",
    "to_dict",
]

SCHEMA_VERSION = 2
"""The document schema version this code writes."""

FORMAT = "symphony.workflow"
"""The value of the ``schema`` key of every JSON document."""

_MAGIC = "SYWF"

Doc: TypeAlias = dict[str, object]


class WorkflowFormatError(SerializationError):
    """A workflow document is malformed; the message names the path of the bad key."""


# =========================================================================== to dict
def _canon(value: object) -> object:
    """User JSON with mapping keys sorted (recursively) for stable output."""
    if isinstance(value, Mapping):
        return {str(k): _canon(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [_canon(v) for v in value]
    return value


def _port_dict(p: Port) -> Doc:
    d: Doc = {"name": p.name, "type": str(p.type)}
    if not p.required:
        d["required"] = False
    if p.default is not None:
        d["default"] = _canon(p.default)
    if p.multi:
        d["multi"] = True
    if p.description:
        d["description"] = p.description
    return d


_POLICY_FIELDS = ("timeout", "retries", "retry_backoff", "retry_backoff_max", "retry_jitter",
                  "run_in")


def _policy_dict(pol: NodePolicy) -> Doc | None:
    if pol == DEFAULT_POLICY:
        return None
    return {
        f: getattr(pol, f) for f in _POLICY_FIELDS
        if getattr(pol, f) != getattr(DEFAULT_POLICY, f)
    }


def _node_dict(n: Node) -> Doc:
    d: Doc = {"id": n.id, "type": n.kind}
    if isinstance(n, InstrumentNode):
        d["model"] = str(n.model)
        d["prompt"] = n.prompt
        if n.params:
            d["params"] = _canon(n.params)
    elif isinstance(n, OperatorNode):
        d["operator"] = n.operator
        if n.config:
            d["config"] = _canon(n.config)
    elif isinstance(n, BranchNode):
        d["condition"] = predicate_to_data(n.condition)
    elif isinstance(n, GateNode):
        d["message"] = n.message
        if n.approvals != 1:
            d["approvals"] = n.approvals
        if n.timeout is not None:
            d["timeout"] = n.timeout
        if n.on_timeout != "reject":
            d["on_timeout"] = n.on_timeout
    elif isinstance(n, MapNode):
        d["item_input"] = n.item_input
        d["result_output"] = n.result_output
        if n.concurrency:
            d["concurrency"] = n.concurrency
        d["body"] = _wf_dict(n.body)
    elif isinstance(n, MergeNode):
        d["strategy"] = n.strategy
    d["inputs"] = [_port_dict(p) for p in n.inputs]
    d["outputs"] = [_port_dict(p) for p in n.outputs]
    if n.label:
        d["label"] = n.label
    if n.description:
        d["description"] = n.description
    pol = _policy_dict(n.policy)
    if pol is not None:
        d["policy"] = pol
    return d


def _edge_dict(e: Edge) -> Doc:
    if isinstance(e, DataEdge):
        return {"kind": "data", "source": e.source, "source_port": e.source_port,
                "target": e.target, "target_port": e.target_port}
    if isinstance(e, ControlEdge):
        return {"kind": "control", "source": e.source, "target": e.target}
    d: Doc = {"kind": "conditional", "source": e.source, "target": e.target,
              "predicate": predicate_to_data(e.predicate)}
    if e.source_port is not None:
        d["source_port"] = e.source_port
        d["target_port"] = e.target_port
    return d


def _meta_dict(m: Metadata) -> Doc:
    d: Doc = {}
    if m.author:
        d["author"] = m.author
    if m.created:
        d["created"] = m.created
    if m.modified:
        d["modified"] = m.modified
    if m.tags:
        d["tags"] = list(m.tags)
    if m.extra:
        d["extra"] = _canon(m.extra)
    return d


def _wf_dict(wf: Workflow) -> Doc:
    d: Doc = {"id": wf.id, "name": wf.name, "version": str(wf.version)}
    if wf.description:
        d["description"] = wf.description
    meta = _meta_dict(wf.metadata)
    if meta:
        d["metadata"] = meta
    d["nodes"] = [_node_dict(n) for n in wf.nodes]
    d["edges"] = [_edge_dict(e) for e in wf.edges]
    return d


def to_dict(wf: Workflow) -> Doc:
    """The canonical document (JSON-able dict) of ``wf``, with schema and version keys."""
    return {"schema": FORMAT, "schema_version": SCHEMA_VERSION, **_wf_dict(wf)}


# =========================================================================== from dict
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "a boolean",
               list: "a list", dict: "an object"}


def _bad(path: str, msg: str) -> WorkflowFormatError:
    return WorkflowFormatError(f"{path}: {msg}", details={"path": path})


def _get(d: Mapping[str, object], key: str, path: str, kind: type, default: object = ...,
         ) -> object:
    if key not in d:
        if default is ...:
            raise _bad(f"{path}.{key}" if path else key, "missing required key")
        return default
    v = d[key]
    ok = isinstance(v, kind) and not (kind in (int, float) and isinstance(v, bool))
    if kind is float and isinstance(v, int) and not isinstance(v, bool):
        ok = True
    if not ok:
        where = f"{path}.{key}" if path else key
        raise _bad(where, f"expected {_TYPE_NAMES.get(kind, kind.__name__)}, "
                   f"got {type(v).__name__} {_short(v)}")
    return v


def _short(v: object) -> str:
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + "..."


def _str(d: Mapping[str, object], key: str, path: str, default: object = ...) -> str:
    return cast(str, _get(d, key, path, str, default))


def _obj(v: object, path: str) -> Mapping[str, object]:
    if not isinstance(v, dict):
        raise _bad(path, f"expected an object, got {type(v).__name__} {_short(v)}")
    for k in v:
        if not isinstance(k, str):
            raise _bad(path, f"object keys must be strings, got {_short(k)}")
    return v


def _list(v: object, path: str) -> list[object]:
    if not isinstance(v, list):
        raise _bad(path, f"expected a list, got {type(v).__name__} {_short(v)}")
    return v


def _unknown(d: Mapping[str, object], allowed: frozenset[str], path: str) -> None:
    extra = set(d) - allowed
    if extra:
        raise _bad(path or "document", f"unknown key(s) {', '.join(sorted(extra))} "
                   f"(allowed: {', '.join(sorted(allowed))})")


def _json_value(v: object, path: str, depth: int = 0) -> object:
    """Check that ``v`` is plain JSON (what both codecs carry)."""
    if depth > 64:
        raise _bad(path, "nested too deeply (> 64 levels)")
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise _bad(path, f"non-finite number {v!r} is not JSON")
        return v
    if isinstance(v, list):
        return [_json_value(x, f"{path}[{i}]", depth + 1) for i, x in enumerate(v)]
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if not isinstance(k, str):
                raise _bad(path, f"object keys must be strings, got {_short(k)}")
            out[k] = _json_value(x, f"{path}.{k}", depth + 1)
        return out
    raise _bad(path, f"not a JSON value: {type(v).__name__} {_short(v)}")


_PORT_KEYS = frozenset({"name", "type", "required", "default", "multi", "description"})


_PORT_CACHE: dict[tuple[object, ...], Port] = {}


def _port(v: object, path: str) -> Port:
    # Ports are immutable, so equal port documents share one Port (a dict lookup instead
    # of parsing and building a frozen dataclass); documents with unhashable defaults
    # (lists, objects) take the full path every time. The key holds each value's type too:
    # ``False == 0 == 0.0`` and ``True == 1``, but a default of ``false`` must stay a bool
    # and ``"required": 1`` must still be refused.
    key: tuple[object, ...] | None = None
    if type(v) is dict:
        try:
            key = (*v.items(), *map(type, v.values()))
            p = _PORT_CACHE.get(key)
        except TypeError:
            key = None
        else:
            if p is not None:
                return p
    d = _obj(v, path)
    _unknown(d, _PORT_KEYS, path)
    name = _str(d, "name", path)
    tname = _str(d, "type", path, "any")
    try:
        t = parse_type(tname) if tname != "any" else ANY
    except ValidationError as exc:
        raise _bad(f"{path}.type", exc.message) from None
    default = _json_value(d.get("default"), f"{path}.default")
    port_ = Port(
        name=sys.intern(name), type=t,
        required=cast(bool, _get(d, "required", path, bool, True)),
        default=default,
        multi=cast(bool, _get(d, "multi", path, bool, False)),
        description=_str(d, "description", path, ""),
    )
    if key is not None:
        if len(_PORT_CACHE) > 4096:
            _PORT_CACHE.clear()
        _PORT_CACHE[key] = port_
    return port_


def _ports(d: Mapping[str, object], key: str, path: str) -> tuple[Port, ...]:
    items = _list(d.get(key, []), f"{path}.{key}")
    return tuple(_port(p, f"{path}.{key}[{i}]") for i, p in enumerate(items))


def _policy(v: object, path: str) -> NodePolicy:
    d = _obj(v, path)
    _unknown(d, frozenset(_POLICY_FIELDS), path)
    timeout = d.get("timeout")
    if timeout is not None:
        timeout = _get(d, "timeout", path, float)
    run_in = _str(d, "run_in", path, "auto")
    if run_in not in ("auto", "inline", "async", "process"):
        raise _bad(f"{path}.run_in", f"expected auto, inline, async or process, got {run_in!r}")
    return NodePolicy(
        timeout=cast("float | None", timeout),
        retries=cast(int, _get(d, "retries", path, int, 0)),
        retry_backoff=float(cast(float, _get(d, "retry_backoff", path, float, 0.5))),
        retry_backoff_max=float(cast(float, _get(d, "retry_backoff_max", path, float, 30.0))),
        retry_jitter=float(cast(float, _get(d, "retry_jitter", path, float, 0.1))),
        run_in=run_in,  # type: ignore[arg-type]
    )


_COMMON_NODE_KEYS = frozenset({"id", "type", "inputs", "outputs", "label", "description",
                               "policy"})
_NODE_KEYS = {
    "instrument": frozenset({"model", "prompt", "params"}),
    "operator": frozenset({"operator", "config"}),
    "branch": frozenset({"condition"}),
    "gate": frozenset({"message", "approvals", "timeout", "on_timeout"}),
    "map": frozenset({"body", "item_input", "result_output", "concurrency"}),
    "merge": frozenset({"strategy"}),
}


def _node(v: object, path: str, depth: int) -> Node:
    d = _obj(v, path)
    kind = _str(d, "type", path)
    if kind not in NODE_CLASSES:
        raise _bad(f"{path}.type", f"unknown node type {kind!r} (known: "
                   f"{', '.join(sorted(NODE_CLASSES))})")
    _unknown(d, _COMMON_NODE_KEYS | _NODE_KEYS[kind], path)
    common: dict[str, object] = {
        "id": sys.intern(_str(d, "id", path)),
        "inputs": _ports(d, "inputs", path),
        "outputs": _ports(d, "outputs", path),
        "label": _str(d, "label", path, ""),
        "description": _str(d, "description", path, ""),
        "policy": _policy(d["policy"], f"{path}.policy") if "policy" in d else DEFAULT_POLICY,
    }
    try:
        if kind == "instrument":
            params = _json_value(_obj(d.get("params", {}), f"{path}.params"), f"{path}.params")
            return InstrumentNode(model=ModelSpec.parse(_str(d, "model", path)),
                                  prompt=_str(d, "prompt", path, ""),
                                  params=cast(dict[str, object], params),
                                  **common)  # type: ignore[arg-type]
        if kind == "operator":
            config = _json_value(_obj(d.get("config", {}), f"{path}.config"), f"{path}.config")
            return OperatorNode(operator=_str(d, "operator", path),
                                config=cast(dict[str, object], config),
                                **common)  # type: ignore[arg-type]
        if kind == "branch":
            if "condition" not in d:
                raise _bad(f"{path}.condition", "missing required key")
            return BranchNode(condition=predicate_from_data(d["condition"],
                                                            f"{path}.condition"),
                              **common)  # type: ignore[arg-type]
        if kind == "gate":
            timeout = d.get("timeout")
            if timeout is not None:
                timeout = _get(d, "timeout", path, float)
            on_timeout = _str(d, "on_timeout", path, "reject")
            if on_timeout not in ("reject", "approve"):
                raise _bad(f"{path}.on_timeout", f"expected reject or approve, got "
                           f"{on_timeout!r}")
            return GateNode(message=_str(d, "message", path, ""),
                            approvals=cast(int, _get(d, "approvals", path, int, 1)),
                            timeout=cast("float | None", timeout),
                            on_timeout=on_timeout,  # type: ignore[arg-type]
                            **common)  # type: ignore[arg-type]
        if kind == "map":
            if depth > 16:
                raise _bad(f"{path}.body", "map bodies nested more than 16 deep")
            if "body" not in d:
                raise _bad(f"{path}.body", "missing required key")
            body = _workflow(_obj(d["body"], f"{path}.body"), f"{path}.body", depth + 1)
            return MapNode(body=body, item_input=_str(d, "item_input", path),
                           result_output=_str(d, "result_output", path),
                           concurrency=cast(int, _get(d, "concurrency", path, int, 0)),
                           **common)  # type: ignore[arg-type]
        strategy = _str(d, "strategy", path, "all")
        if strategy not in ("all", "first"):
            raise _bad(f"{path}.strategy", f"expected all or first, got {strategy!r}")
        return MergeNode(strategy=strategy, **common)  # type: ignore[arg-type]
    except WorkflowFormatError:
        raise
    except ValidationError as exc:
        raise _bad(path, exc.message) from None


_EDGE_KEYS = {
    "data": frozenset({"kind", "source", "source_port", "target", "target_port"}),
    "control": frozenset({"kind", "source", "target"}),
    "conditional": frozenset({"kind", "source", "target", "predicate", "source_port",
                              "target_port"}),
}


def _edges(items: list[object], prefix: str) -> tuple[Edge, ...]:
    """All edges; well-formed data/control edges take a fast path (no path strings)."""
    out: list[Edge] = []
    append = out.append
    intern = sys.intern
    for i, v in enumerate(items):
        cls = type(v)
        if cls is DataEdge or cls is ControlEdge:  # pre-built by the binary decoder
            append(v)  # type: ignore[arg-type]
            continue
        if cls is dict:
            kind = v.get("kind")  # type: ignore[attr-defined]
            n = len(v)  # type: ignore[arg-type]
            if kind == "data" and n == 5:
                s, sp = v.get("source"), v.get("source_port")  # type: ignore[attr-defined]
                t, tp = v.get("target"), v.get("target_port")  # type: ignore[attr-defined]
                if type(s) is str and type(sp) is str and type(t) is str and type(tp) is str:
                    append(DataEdge(intern(s), intern(sp), intern(t), intern(tp)))
                    continue
            elif kind == "control" and n == 3:
                s, t = v.get("source"), v.get("target")  # type: ignore[attr-defined]
                if type(s) is str and type(t) is str:
                    append(ControlEdge(intern(s), intern(t)))
                    continue
        append(_edge(v, f"{prefix}edges[{i}]"))
    return tuple(out)


def _edge(v: object, path: str) -> Edge:
    d = _obj(v, path)
    kind = _str(d, "kind", path, "data")
    if kind not in _EDGE_KEYS:
        raise _bad(f"{path}.kind", f"unknown edge kind {kind!r} (known: conditional, "
                   "control, data)")
    _unknown(d, _EDGE_KEYS[kind], path)
    s = sys.intern(_str(d, "source", path))
    t = sys.intern(_str(d, "target", path))
    if kind == "data":
        return DataEdge(s, _str(d, "source_port", path), t, _str(d, "target_port", path))
    if kind == "control":
        return ControlEdge(s, t)
    if "predicate" not in d:
        raise _bad(f"{path}.predicate", "missing required key")
    sp = d.get("source_port")
    tp = d.get("target_port")
    if sp is not None:
        sp = _str(d, "source_port", path)
    if tp is not None:
        tp = _str(d, "target_port", path)
    try:
        pred = predicate_from_data(d["predicate"], f"{path}.predicate")
    except ValidationError as exc:
        raise _bad(f"{path}.predicate", exc.message.split(": ", 1)[-1]) from None
    return ConditionalEdge(s, t, pred, sp, tp)


_META_KEYS = frozenset({"author", "created", "modified", "tags", "extra"})
_WF_KEYS = frozenset({"schema", "schema_version", "id", "name", "version", "description",
                      "metadata", "nodes", "edges"})


def _workflow(d: Mapping[str, object], path: str, depth: int = 0) -> Workflow:
    _unknown(d, _WF_KEYS, path)
    p = f"{path}." if path else ""
    try:
        version = Version.parse(_str(d, "version", path, "0.1.0"))
    except ValidationError as exc:
        raise _bad(f"{p}version", exc.message) from None
    meta_d = _obj(d.get("metadata", {}), f"{p}metadata")
    _unknown(meta_d, _META_KEYS, f"{p}metadata")
    tags = _list(meta_d.get("tags", []), f"{p}metadata.tags")
    for i, tag in enumerate(tags):
        if not isinstance(tag, str):
            raise _bad(f"{p}metadata.tags[{i}]", f"expected a string, got {_short(tag)}")
    extra = _json_value(_obj(meta_d.get("extra", {}), f"{p}metadata.extra"),
                        f"{p}metadata.extra")
    meta = Metadata(
        author=_str(meta_d, "author", f"{p}metadata", ""),
        created=_str(meta_d, "created", f"{p}metadata", ""),
        modified=_str(meta_d, "modified", f"{p}metadata", ""),
        tags=tuple(cast(list[str], tags)),
        extra=cast(dict[str, object], extra),
    )
    nodes = _list(d.get("nodes", []), f"{p}nodes")
    edges = _list(d.get("edges", []), f"{p}edges")
    return Workflow(
        id=_str(d, "id", path),
        name=_str(d, "name", path, ""),
        version=version,
        description=_str(d, "description", path, ""),
        metadata=meta,
        nodes=tuple(_node(n, f"{p}nodes[{i}]", depth) for i, n in enumerate(nodes)),
        edges=_edges(edges, p),
    )


def from_dict(doc: object) -> Workflow:
    """Read a document of any supported schema version (migrating old ones).

    Raises:
        WorkflowFormatError: naming the path of the first malformed key.
    """
    d = migrate(doc)
    schema = d.get("schema", FORMAT)
    if schema != FORMAT:
        raise _bad("schema", f"expected {FORMAT!r}, got {_short(schema)}")
    return _workflow(d, "")


# =========================================================================== migrations
def _split_ref(ref: object, path: str) -> tuple[str, str | None]:
    if not isinstance(ref, str) or not ref:
        raise _bad(path, f"expected 'node' or 'node.port', got {_short(ref)}")
    node, dot, port_ = ref.rpartition(".")
    if not dot:
        return ref, None
    return node, port_


def _v1_to_v2(doc: Doc) -> Doc:
    """Version 1 → 2: nodes map → list, ``from``/``to`` edge strings → explicit fields,
    top-level ``tags`` → ``metadata.tags``."""
    out: Doc = {k: v for k, v in doc.items() if k not in ("nodes", "edges", "tags")}
    nodes = _obj(doc.get("nodes", {}), "nodes")
    out["nodes"] = [
        {"id": nid, **_obj(n, f"nodes.{nid}")} for nid, n in nodes.items()
    ]
    edges = []
    for i, e in enumerate(_list(doc.get("edges", []), "edges")):
        ed = _obj(e, f"edges[{i}]")
        _unknown(ed, frozenset({"from", "to", "when", "kind"}), f"edges[{i}]")
        if ed.get("kind", "data") not in ("data", "control"):
            raise _bad(f"edges[{i}].kind", f"expected data or control, got "
                       f"{_short(ed.get('kind'))}")
        if ed.get("kind") == "control":
            new: Doc = {"kind": "control", "source": ed.get("from"), "target": ed.get("to")}
            edges.append(new)
            continue
        s, sp = _split_ref(ed.get("from"), f"edges[{i}].from")
        t, tp = _split_ref(ed.get("to"), f"edges[{i}].to")
        if "when" in ed:
            new = {"kind": "conditional", "source": s, "target": t, "predicate": ed["when"]}
            if sp is not None and tp is not None:
                new["source_port"], new["target_port"] = sp, tp
            elif sp is not None or tp is not None:  # a dotted node id, not a port
                new["source"], new["target"] = ed["from"], ed["to"]
        else:
            if sp is None or tp is None:
                raise _bad(f"edges[{i}]", "a v1 data edge needs 'node.port' on both ends")
            new = {"kind": "data", "source": s, "source_port": sp, "target": t,
                   "target_port": tp}
        edges.append(new)
    out["edges"] = edges
    if "tags" in doc:
        meta = dict(_obj(doc.get("metadata", {}), "metadata"))
        meta["tags"] = doc["tags"]
        out["metadata"] = meta
    out["schema_version"] = 2
    return out


MIGRATIONS: dict[int, Callable[[Doc], Doc]] = {1: _v1_to_v2}
"""``{from_version: upgrade}``: each step returns a document of ``from_version + 1``."""


def migrate(doc: object) -> Doc:
    """Upgrade ``doc`` to :data:`SCHEMA_VERSION` through :data:`MIGRATIONS`.

    Raises:
        WorkflowFormatError: not an object, no/invalid ``schema_version``, or a version newer
            than this code understands.
    """
    d = dict(_obj(doc, "document"))
    v = d.get("schema_version")
    if isinstance(v, bool) or not isinstance(v, int):
        raise _bad("schema_version", f"missing or not an integer ({_short(v)}); every "
                   "workflow document must say which schema version it follows")
    if v > SCHEMA_VERSION:
        raise _bad("schema_version", f"document has schema version {v}, newer than the "
                   f"{SCHEMA_VERSION} this Symphony reads; upgrade Symphony")
    if v < 1:
        raise _bad("schema_version", f"unknown schema version {v}")
    while v < SCHEMA_VERSION:
        d = MIGRATIONS[v](d)
        v += 1
        d["schema_version"] = v
    return d


# =========================================================================== JSON
def dumps_json(wf: Workflow, *, indent: int | None = 2) -> str:
    """The JSON document (``indent=None`` for the compact form)."""
    if indent is None:
        return json.dumps(to_dict(wf), ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False)
    return json.dumps(to_dict(wf), ensure_ascii=False, indent=indent, allow_nan=False) + "\n"


def loads_json(text: str | bytes) -> Workflow:
    """Read a JSON document (any supported schema version).

    Raises:
        WorkflowFormatError: bad JSON (with line and column) or a malformed document.
    """
    try:
        doc = json.loads(text)
    except (ValueError, TypeError, RecursionError) as exc:
        raise WorkflowFormatError(f"not valid JSON: {exc}") from None
    return _guard(lambda: from_dict(doc))


def _guard(fn: Callable[[], Workflow]) -> Workflow:
    try:
        return fn()
    except RecursionError:
        raise WorkflowFormatError("document nested too deeply") from None


# =========================================================================== MessagePack
_KIND_CODE = {"instrument": 0, "operator": 1, "branch": 2, "gate": 3, "map": 4, "merge": 5}
_CODE_KIND = {v: k for k, v in _KIND_CODE.items()}


class _Strings:
    __slots__ = ("index", "table")

    def __init__(self) -> None:
        self.table: list[str] = []
        self.index: dict[str, int] = {}

    def __call__(self, s: str) -> int:
        i = self.index.get(s)
        if i is None:
            i = self.index[s] = len(self.table)
            self.table.append(s)
        return i


def _pack_port(p: Port, S: _Strings) -> list[object]:
    flags = (0 if p.required else 1) | (2 if p.multi else 0) | (
        4 if p.default is not None else 0)
    if not flags and not p.description:
        return [S(p.name), S(str(p.type))]
    return [S(p.name), S(str(p.type)), flags, _canon(p.default), p.description]


def _pack_wf(wf: Workflow, S: _Strings) -> list[object]:
    nodes: list[object] = []
    for n in wf.nodes:
        d = _node_dict(n)
        item: list[object] = [
            _KIND_CODE[n.kind], S(n.id), [_pack_port(p, S) for p in n.inputs],
            [_pack_port(p, S) for p in n.outputs], n.label, n.description,
            d.get("policy"),
        ]
        if isinstance(n, InstrumentNode):
            item += [S(str(n.model)), n.prompt, d.get("params")]
        elif isinstance(n, OperatorNode):
            item += [S(n.operator), d.get("config")]
        elif isinstance(n, BranchNode):
            item += [d["condition"]]
        elif isinstance(n, GateNode):
            item += [n.message, n.approvals, n.timeout, n.on_timeout]
        elif isinstance(n, MapNode):
            item += [_pack_wf(n.body, S), n.item_input, n.result_output, n.concurrency]
        elif isinstance(n, MergeNode):
            item += [n.strategy]
        nodes.append(item)
    edges: list[object] = []
    for e in wf.edges:
        if isinstance(e, DataEdge):
            edges.append([0, S(e.source), S(e.source_port), S(e.target), S(e.target_port)])
        elif isinstance(e, ControlEdge):
            edges.append([1, S(e.source), S(e.target)])
        else:
            edges.append([2, S(e.source), S(e.target), predicate_to_data(e.predicate),
                          None if e.source_port is None else S(e.source_port),
                          None if e.target_port is None else S(e.target_port)])
    meta = _meta_dict(wf.metadata) or None
    return [wf.id, wf.name, str(wf.version), wf.description, meta, nodes, edges]


def dumps_msgpack(wf: Workflow) -> bytes:
    """The compact binary document (layout in the module docstring)."""
    S = _Strings()
    body = _pack_wf(wf, S)
    return cast(bytes, msgpack.packb([_MAGIC, SCHEMA_VERSION, S.table, body],
                                     use_bin_type=True))


def _unpack_port(v: object, T: list[str]) -> Doc:
    a = cast(list[object], v)
    d: Doc = {"name": T[cast(int, a[0])], "type": T[cast(int, a[1])]}
    if len(a) > 2:
        flags = cast(int, a[2])
        if flags & 1:
            d["required"] = False
        if flags & 2:
            d["multi"] = True
        if flags & 4:
            d["default"] = a[3]
        if a[4]:
            d["description"] = a[4]
    return d


def _unpack_wf(v: object, T: list[str], path: str) -> Doc:
    wid, name, version, description, meta, nodes, edges = cast(list[object], v)
    d: Doc = {"id": wid, "name": name, "version": version}
    if description:
        d["description"] = description
    if meta:
        d["metadata"] = meta
    out_nodes: list[Doc] = []
    for i, raw in enumerate(_list(nodes, f"{path}nodes")):
        a = _list(raw, f"{path}nodes[{i}]")
        kind = _CODE_KIND[cast(int, a[0])]
        nd: Doc = {"id": T[cast(int, a[1])], "type": kind}
        rest = a[7:]
        if kind == "instrument":
            nd["model"], nd["prompt"] = T[cast(int, rest[0])], rest[1]
            if rest[2]:
                nd["params"] = rest[2]
        elif kind == "operator":
            nd["operator"] = T[cast(int, rest[0])]
            if rest[1]:
                nd["config"] = rest[1]
        elif kind == "branch":
            nd["condition"] = rest[0]
        elif kind == "gate":
            nd["message"], nd["approvals"], nd["timeout"], nd["on_timeout"] = rest[:4]
        elif kind == "map":
            nd["body"] = _unpack_wf(rest[0], T, f"{path}nodes[{i}].body.")
            nd["item_input"], nd["result_output"], nd["concurrency"] = rest[1:4]
        else:
            nd["strategy"] = rest[0]
        nd["inputs"] = [_unpack_port(p, T) for p in _list(a[2], f"{path}nodes[{i}].inputs")]
        nd["outputs"] = [_unpack_port(p, T) for p in _list(a[3], f"{path}nodes[{i}].outputs")]
        if a[4]:
            nd["label"] = a[4]
        if a[5]:
            nd["description"] = a[5]
        if a[6] is not None:
            nd["policy"] = a[6]
        out_nodes.append(nd)
    d["nodes"] = out_nodes
    out_edges: list[object] = []
    T = [sys.intern(x) for x in T] if path == "" else T
    for i, raw in enumerate(_list(edges, f"{path}edges")):
        e = cast(list[int], _list(raw, f"{path}edges[{i}]"))
        if e[0] == 0 and len(e) == 5:
            # built directly (string-table entries are already str): no dict round trip
            out_edges.append(DataEdge(T[e[1]], T[e[2]], T[e[3]], T[e[4]]))
        elif e[0] == 1 and len(e) == 3:
            out_edges.append(ControlEdge(T[e[1]], T[e[2]]))
        elif e[0] == 2:
            ce: Doc = {"kind": "conditional", "source": T[e[1]], "target": T[e[2]],
                       "predicate": e[3]}
            if e[4] is not None:
                ce["source_port"] = T[e[4]]
            if e[5] is not None:
                ce["target_port"] = T[e[5]]
            out_edges.append(ce)
        else:
            raise _bad(f"{path}edges[{i}]", f"unknown edge code {_short(e[0])}")
    d["edges"] = out_edges
    return d


def loads_msgpack(data: bytes | bytearray | memoryview) -> Workflow:
    """Read a binary document.

    Raises:
        WorkflowFormatError: not MessagePack, not a Symphony workflow, a newer schema, or a
            malformed body (the message names where).
    """
    try:
        top = msgpack.unpackb(bytes(data), raw=False, strict_map_key=True,
                              use_list=True)
    except Exception as exc:  # msgpack raises many types for bad bytes
        raise WorkflowFormatError(f"not valid MessagePack: {type(exc).__name__}: {exc}") from None
    if not (isinstance(top, list) and len(top) == 4 and top[0] == _MAGIC):
        raise WorkflowFormatError("not a Symphony binary workflow (missing 'SYWF' header)")
    version, table, body = top[1], top[2], top[3]
    if isinstance(version, bool) or not isinstance(version, int):
        raise _bad("schema_version", f"not an integer: {_short(version)}")
    if version != SCHEMA_VERSION:
        raise _bad("schema_version", f"binary schema version {version} is not readable "
                   f"here (this Symphony reads {SCHEMA_VERSION}; binary documents start at "
                   "version 2)")
    if not isinstance(table, list) or not all(isinstance(s, str) for s in table):
        raise _bad("strings", "string table must be a list of strings")
    try:
        doc = _unpack_wf(body, table, "")
    except WorkflowFormatError:
        raise
    except (IndexError, KeyError, TypeError, ValueError) as exc:
        raise WorkflowFormatError(f"malformed binary workflow body: {type(exc).__name__}: "
                                  f"{exc}") from None
    doc["schema"] = FORMAT
    doc["schema_version"] = version
    return _guard(lambda: from_dict(doc))


# =========================================================================== any file
def load(data: str | bytes) -> Workflow:
    """Read JSON text or binary bytes, telling them apart by the first byte."""
    if isinstance(data, bytes | bytearray) and data[:1] not in (b"{", b" ", b"\n", b"\t",
                                                                  b"\r"):
        return loads_msgpack(data)
    return loads_json(data)


# =========================================================================== pretty
def pretty(wf: Workflow) -> str:
    """A human-readable summary: header, metadata, nodes with ports, edges, levels."""
    from symphony.workflow.model import describe_edge

    lines = [f"workflow {wf.id}  v{wf.version}" + (f"  — {wf.name}" if wf.name else "")]
    if wf.description:
        lines.append(f"  {wf.description}")
    m = wf.metadata
    meta = [f"{k}: {v}" for k, v in (("author", m.author), ("created", m.created),
                                     ("modified", m.modified)) if v]
    if m.tags:
        meta.append("tags: " + ", ".join(m.tags))
    if meta:
        lines.append("  " + "   ".join(meta))
    for k in sorted(m.extra):
        lines.append(f"  {k} = {json.dumps(m.extra[k], ensure_ascii=False)}")
    lines.append(f"  nodes ({len(wf.nodes)}):")
    width = max((len(n.id) for n in wf.nodes), default=0)
    for n in wf.nodes:
        if isinstance(n, InstrumentNode):
            what = f"model {n.model}"
        elif isinstance(n, OperatorNode):
            what = n.operator
        elif isinstance(n, BranchNode):
            from symphony.workflow.predicates import format_predicate

            what = f"if {format_predicate(n.condition)}"
        elif isinstance(n, MapNode):
            what = f"over items: {n.body.id} ({len(n.body.nodes)} nodes)"
        elif isinstance(n, GateNode):
            what = f"approval: {n.message!r}"
        else:
            what = f"strategy {n.strategy}"
        ins = ", ".join(f"{p.name}: {p.type}" for p in n.inputs)
        outs = ", ".join(f"{p.name}: {p.type}" for p in n.outputs)
        lines.append(f"    {n.id:<{width}}  {n.kind:<10} {what}   ({ins}) -> ({outs})")
    lines.append(f"  edges ({len(wf.edges)}):")
    for e in wf.edges:
        extra = ""
        if isinstance(e, ConditionalEdge):
            from symphony.workflow.predicates import format_predicate

            extra = f"   when {format_predicate(e.predicate)}"
        lines.append(f"    {describe_edge(e)}{extra}")
    report = wf.validate()
    if report.ok:
        lines.append("  levels:")
        for i, lvl in enumerate(report.levels):
            lines.append(f"    {i}: {', '.join(lvl)}")
    for p in report.problems:
        lines.append(f"  ! {p}")
    return "\n".join(lines)
