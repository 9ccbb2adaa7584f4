"""JSON / MessagePack documents: round trips, sizes, migrations, malformed input."""

from __future__ import annotations

import json

import msgpack
import pytest
from _wf_strategies import json_values, workflows
from hypothesis import given, settings
from hypothesis import strategies as st

from symphony.commons.errors import SerializationError
from symphony.workflow import (
    SCHEMA_VERSION,
    Workflow,
    WorkflowBuilder,
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
from symphony.workflow.synthetic import random_workflow


@settings(max_examples=60, deadline=None)
@given(workflows())
def test_round_trips_preserve_everything(wf: Workflow) -> None:
    assert loads_json(dumps_json(wf)) == wf
    assert loads_json(dumps_json(wf, indent=None)) == wf
    assert loads_msgpack(dumps_msgpack(wf)) == wf
    assert from_dict(json.loads(json.dumps(to_dict(wf)))) == wf
    assert load(dumps_msgpack(wf)) == wf and load(dumps_json(wf).encode()) == wf
    # stable: the same workflow always gives the same bytes
    assert dumps_json(loads_json(dumps_json(wf))) == dumps_json(wf)
    assert dumps_msgpack(loads_msgpack(dumps_msgpack(wf))) == dumps_msgpack(wf)


def test_every_document_carries_the_schema_version() -> None:
    wf = WorkflowBuilder("w").add_operator("a", "x").build()
    assert json.loads(dumps_json(wf))["schema_version"] == SCHEMA_VERSION
    top = msgpack.unpackb(dumps_msgpack(wf))
    assert top[0] == "SYWF" and top[1] == SCHEMA_VERSION


def test_json_is_human_diffable() -> None:
    wf = (WorkflowBuilder("w").add_operator("a", "x", {"zeta": 1, "alpha": {"b": 2, "a": 1}})
          .build())
    text = dumps_json(wf)
    assert text.endswith("\n") and "\n  \"nodes\": [" in text
    keys = list(json.loads(text))
    assert keys[:5] == ["schema", "schema_version", "id", "name", "version"]
    assert text.index('"alpha"') < text.index('"zeta"') and text.index('"a": 1') < text.index('"b"')


@pytest.mark.parametrize(("n", "m"), [(100, 400), (1000, 5000), (10_000, 50_000)])
def test_msgpack_is_at_least_half_the_size_of_compact_json(n: int, m: int) -> None:
    wf = random_workflow(n, m)
    compact = dumps_json(wf, indent=None).encode()
    binary = dumps_msgpack(wf)
    assert len(binary) <= 0.5 * len(compact), (len(binary), len(compact))
    # ... and plain MessagePack of the same dict would not be (why the layout is positional)
    assert len(msgpack.packb(to_dict(wf))) > 0.5 * len(compact)


V1 = {
    "schema_version": 1,
    "id": "old",
    "name": "old one",
    "version": "1.0.0",
    "tags": ["legacy", "v1"],
    "metadata": {"author": "someone"},
    "nodes": {
        "read": {"type": "operator", "operator": "fs.read",
                 "outputs": [{"name": "text", "type": "text"}]},
        "sum": {"type": "instrument", "model": "openai/gpt-4", "prompt": "{input}",
                "inputs": [{"name": "input", "type": "text"}],
                "outputs": [{"name": "output", "type": "text"}]},
        "after": {"type": "operator", "operator": "noop"},
    },
    "edges": [
        {"from": "read.text", "to": "sum.input"},
        {"from": "sum", "to": "after", "when": "output matches 'ok'"},
        {"from": "read", "to": "after", "kind": "control"},
    ],
}


def test_v1_documents_migrate_to_v2() -> None:
    doc = migrate(json.loads(json.dumps(V1)))
    assert doc["schema_version"] == 2
    assert doc["metadata"] == {"author": "someone", "tags": ["legacy", "v1"]}
    assert [n["id"] for n in doc["nodes"]] == ["read", "sum", "after"]  # type: ignore[attr-defined,index]
    assert doc["edges"][0] == {"kind": "data", "source": "read", "source_port": "text",  # type: ignore[index]
                               "target": "sum", "target_port": "input"}
    wf = loads_json(json.dumps(V1))
    assert wf.validate().ok
    assert wf.metadata.tags == ("legacy", "v1")
    assert [e.kind for e in wf.edges] == ["data", "conditional", "control"]
    # and it is written back as v2
    assert json.loads(dumps_json(wf))["schema_version"] == 2
    assert loads_json(dumps_json(wf)) == wf


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ({"schema_version": 3, "id": "x"}, "schema_version"),
        ({"id": "x"}, "schema_version"),
        ({"schema_version": "2", "id": "x"}, "schema_version"),
        ({"schema_version": 2}, "id"),
        ({"schema_version": 2, "id": 5}, "id"),
        ({"schema_version": 2, "id": "x", "nodes": [{"id": "a"}]}, "nodes[0].type"),
        ({"schema_version": 2, "id": "x", "nodes": [{"id": "a", "type": "robot"}]},
         "nodes[0].type"),
        ({"schema_version": 2, "id": "x", "nodes": [
            {"id": "a", "type": "operator", "operator": "o",
             "inputs": [{"name": "i", "type": 3}]}]}, "nodes[0].inputs[0].type"),
        ({"schema_version": 2, "id": "x", "nodes": [
            {"id": "a", "type": "operator", "operator": "o",
             "inputs": [{"name": "i", "type": "list["}]}]}, "nodes[0].inputs[0].type"),
        ({"schema_version": 2, "id": "x",
          "edges": [{"kind": "data", "source": "a", "target": "b"}]},
         "edges[0].source_port"),
        ({"schema_version": 2, "id": "x", "edges": [{"kind": "warp"}]}, "edges[0].kind"),
        ({"schema_version": 2, "id": "x", "edges": [
            {"kind": "conditional", "source": "a", "target": "b", "predicate": {"op": "?"}}]},
         "edges[0].predicate"),
        ({"schema_version": 2, "id": "x", "version": "one"}, "version"),
        ({"schema_version": 2, "id": "x", "colour": "red"}, "colour"),
        ({"schema_version": 2, "id": "x", "metadata": {"tags": [1]}}, "metadata.tags[0]"),
        ({"schema_version": 2, "id": "x", "nodes": [
            {"id": "a", "type": "operator", "operator": "o", "policy": {"run_in": "gpu"}}]},
         "nodes[0].policy.run_in"),
        ({"schema_version": 2, "id": "x", "nodes": [
            {"id": "m", "type": "map", "item_input": "a.b", "result_output": "a.c",
             "body": {"id": "b", "nodes": [{"id": "q"}]}}]}, "nodes[0].body.nodes[0].type"),
        ({"schema_version": 1, "id": "x", "edges": [{"from": "a", "to": "b"}]}, "edges[0]"),
    ],
)
def test_malformed_documents_name_the_path(doc: dict[str, object], where: str) -> None:
    with pytest.raises(WorkflowFormatError) as info:
        from_dict(doc)
    assert where in str(info.value)
    with pytest.raises(WorkflowFormatError):
        loads_json(json.dumps(doc))


def test_bad_json_and_binary_say_so() -> None:
    with pytest.raises(WorkflowFormatError, match="not valid JSON"):
        loads_json("{nope")
    with pytest.raises(WorkflowFormatError, match="SYWF"):
        loads_msgpack(msgpack.packb({"a": 1}))
    with pytest.raises(WorkflowFormatError, match="schema version 9"):
        loads_msgpack(msgpack.packb(["SYWF", 9, [], []]))
    good = dumps_msgpack(WorkflowBuilder("w").add_operator("a", "x").build())
    with pytest.raises(WorkflowFormatError):
        loads_msgpack(good[:-3])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_binary_loader(data: bytes) -> None:
    try:
        loads_msgpack(data)
    except WorkflowFormatError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_json_loader(text: str) -> None:
    try:
        loads_json(text)
    except WorkflowFormatError:
        pass


_doc_keys = st.sampled_from(["schema_version", "id", "nodes", "edges", "type", "operator",
                             "inputs", "name", "kind", "source", "target", "metadata",
                             "version", "body", "predicate", "policy", "tags", "x"])
_docs = st.recursive(
    json_values | st.just(2),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_doc_keys, inner, max_size=6),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(_docs)
def test_fuzz_document_structure(doc: object) -> None:
    if isinstance(doc, dict):
        doc.setdefault("schema_version", 2)
    try:
        from_dict(doc)
    except WorkflowFormatError:
        pass


@settings(max_examples=150, deadline=None)
@given(workflows(), st.data())
def test_fuzz_mutated_binary(wf: Workflow, data: st.DataObject) -> None:
    blob = bytearray(dumps_msgpack(wf))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(blob) - 1))
        blob[i] = data.draw(st.integers(0, 255))
    try:
        loads_msgpack(bytes(blob))
    except WorkflowFormatError:
        pass


def test_format_error_is_a_serialization_error() -> None:
    assert issubclass(WorkflowFormatError, SerializationError)
    assert issubclass(WorkflowFormatError, ValueError)


def test_pretty_printer() -> None:
    wf = (WorkflowBuilder("p", name="Pretty").version("1.2.3").author("me").tags("t1")
          .meta("k", [1, 2])
          .add_operator("scan", "fs.scan", outputs={"n": "int"})
          .add_branch("big", "value > 3", value_type="int")
          .add_instrument("llm", "local/echo")
          .connect("scan.n", "big.value").when("big", "llm", "then > 5").build())
    text = pretty(wf)
    assert text.splitlines()[0] == "workflow p  v1.2.3  — Pretty"
    for piece in ("author: me", "tags: t1", 'k = [1, 2]', "scan", "fs.scan",
                  "(value: int) -> (then: int, else: int)", "if value > 3",
                  "scan.n -> big.value", "big -?-> llm   when then > 5", "levels:",
                  "0: scan", "2: llm"):
        assert piece in text, piece
    broken = wf.evolve(edges=(*wf.edges, wf.edges[0]))
    assert "! [duplicate-edge]" in pretty(broken)


@settings(max_examples=30, deadline=None)
@given(workflows())
def test_workflows_pickle_without_their_caches(wf: Workflow) -> None:
    import copy
    import pickle

    wf.validate()
    wf._cache["unpicklable"] = lambda: None  # e.g. the Cython kernel's Graph
    back = pickle.loads(pickle.dumps(wf))
    assert back == wf and back._cache == {}
    assert back.validate().order == wf.validate().order
    assert copy.deepcopy(wf) == wf


def test_equal_but_differently_typed_port_values_are_not_conflated() -> None:
    # the loader shares equal port documents; False == 0 and True == 1 must not collide
    def doc(default: object, required: object = True) -> str:
        return json.dumps({"schema_version": SCHEMA_VERSION, "id": "w", "nodes": [
            {"id": "a", "type": "operator", "operator": "x",
             "inputs": [{"name": "p", "type": "any", "default": default,
                         "required": required}]}], "edges": []})

    for first, second in ((0, False), (False, 0), (1, True), (1.0, 1), (0.0, False)):
        loads_json(doc(first))
        p = loads_json(doc(second)).nodes[0].inputs[0]
        assert p.default == second and type(p.default) is type(second)
    loads_json(doc(0, True))
    with pytest.raises(WorkflowFormatError, match="required"):
        loads_json(doc(0, 1))
