"""Templates and the template library; run/node state machines; shipped examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symphony.commons.errors import InvalidStateTransition, NotFoundError, WorkflowValidationError
from symphony.workflow import (
    NodeEvent,
    NodeState,
    RunEvent,
    RunState,
    StateMachine,
    TemplateError,
    TemplateLibrary,
    TemplateParameterError,
    Version,
    load_template,
    loads_json,
    transition,
)
from symphony.workflow.state import NODE_TABLE, RUN_TABLE
from symphony.workflow.templates import ParamSpec, coerce_param, parse_template, substitute

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "workflows"


def _doc(**over: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "schema_version": 2,
        "id": "${name}-wf",
        "name": "Run on ${root}",
        "version": "${version}",
        "metadata": {"tags": ["${tag}", "fixed"]},
        "nodes": [
            {"id": "${name}", "type": "operator", "operator": "fs.scan",
             "config": {"root": "${root}", "depth": "${depth}", "lit": "$${not_a_param}",
                        "${key}": "keyed", "mixed": "d=${depth} f=${flag} l=${items}"},
             "outputs": [{"name": "files", "type": "${out_type}"}],
             "policy": {"retries": "${depth}"}},
        ],
        "edges": [],
    }
    doc.update(over)
    return doc


PARAMS = {
    "name": {"type": "str", "pattern": "[a-z][a-z0-9-]*", "default": "scan"},
    "root": {"type": "path", "default": "."},
    "version": {"type": "str", "default": "1.0.0"},
    "tag": {"type": "str", "enum": ["a", "b"], "default": "a"},
    "depth": {"type": "int", "min": 0, "max": 5, "default": 2},
    "flag": {"type": "bool", "default": False},
    "items": {"type": "list", "default": [1, "x"], "max": 3},
    "key": {"type": "str", "default": "k"},
    "out_type": {"type": "str", "default": "list[path]"},
    "ratio": {"type": "float", "required": False, "min": 0.0, "max": 1.0},
}


def _template(**over: object) -> dict[str, object]:
    return {"template": {"name": "scan", "version": "1.2.0", "tags": ["files"],
                         "description": "Scan files", "parameters": PARAMS},
            "workflow": _doc(**over)}


def test_instantiate_substitutes_everywhere() -> None:
    t = parse_template(_template())
    wf = t.instantiate({"name": "walk", "root": "/src", "depth": 4, "flag": True,
                        "version": "2.0.0", "out_type": "list[str]", "key": "kk"})
    n = wf.node("walk")
    assert wf.id == "walk-wf" and wf.name == "Run on /src" and wf.version == Version(2, 0, 0)
    assert wf.metadata.tags == ("a", "fixed")
    assert n.config == {"root": "/src", "depth": 4, "lit": "${not_a_param}", "kk": "keyed",  # type: ignore[union-attr]
                        "mixed": 'd=4 f=true l=[1,"x"]'}
    assert str(n.outputs[0].type) == "list[str]" and n.policy.retries == 4
    assert wf.metadata.extra["template"] == {
        "name": "scan", "version": "1.2.0",
        "parameters": {"name": "walk", "root": "/src", "version": "2.0.0", "tag": "a",
                       "depth": 4, "flag": True, "items": [1, "x"], "key": "kk",
                       "out_type": "list[str]"}}


def test_every_bad_parameter_is_reported() -> None:
    t = parse_template(_template())
    with pytest.raises(TemplateParameterError) as info:
        t.instantiate({"name": "Bad Name", "tag": "c", "depth": 9, "flag": "yes",
                       "items": [1, 2, 3, 4], "ratio": 2.5, "bogus": 1, "root": 7})
    failed = dict(info.value.failures)
    assert set(failed) == {"name", "tag", "depth", "flag", "items", "ratio", "bogus", "root"}
    assert "pattern" in failed["name"] and "not one of" in failed["tag"]
    assert "maximum 5" in failed["depth"] and "expected bool" in failed["flag"]
    assert "length 4" in failed["items"] and "unknown parameter" in failed["bogus"]
    assert "8 invalid parameters" in str(info.value)


def test_required_parameters_and_coercion() -> None:
    params = {"n": {"type": "int"}, "f": {"type": "float"}, "b": {"type": "bool"},
              "l": {"type": "list"}, "s": {"type": "str"}}
    doc = _doc()
    doc["nodes"][0]["config"] = {"v": ["${n}", "${f}", "${b}", "${l}", "${s}"]}  # type: ignore[index]
    doc["id"], doc["name"], doc["version"] = "w", "w", "1.0.0"
    doc["metadata"] = {}
    doc["nodes"][0]["id"] = "a"  # type: ignore[index]
    doc["nodes"][0]["outputs"] = []  # type: ignore[index]
    doc["nodes"][0]["policy"] = {}  # type: ignore[index]
    t = parse_template({"template": {"name": "t", "parameters": params}, "workflow": doc})
    with pytest.raises(TemplateParameterError) as info:
        t.instantiate({})
    assert {n for n, _ in info.value.failures} == set(params)
    wf = t.instantiate({"n": "3", "f": "0.5", "b": "yes", "l": "[1, 2]", "s": "x"}, coerce=True)
    assert wf.node("a").config == {"v": [3, 0.5, True, [1, 2], "x"]}  # type: ignore[union-attr]
    with pytest.raises(TemplateParameterError) as info2:
        t.instantiate({"n": "three", "f": "x", "b": "maybe", "l": "[", "s": "x"}, coerce=True)
    assert {n for n, _ in info2.value.failures} == {"n", "f", "b", "l"}
    assert coerce_param(ParamSpec(name="p", type="path"), "a/b") == "a/b"


def test_instantiated_workflow_is_validated() -> None:
    t = parse_template(_template(edges=[{"kind": "control", "source": "${name}",
                                         "target": "ghost"}]))
    with pytest.raises(WorkflowValidationError, match="ghost"):
        t.instantiate({})
    assert t.instantiate({}, validate=False).edges[0].target == "ghost"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["template"]["parameters"].__setitem__("x", {"type": "complex"}),
         "unknown parameter type"),
        (lambda d: d["template"]["parameters"].__setitem__("bad name", {}),
         "invalid parameter name"),
        (lambda d: d["template"]["parameters"]["depth"].__setitem__("default", 99),
         "above the maximum"),
        (lambda d: d["template"]["parameters"]["depth"].__setitem__("colour", 1), "unknown key"),
        (lambda d: d["template"]["parameters"]["name"].__setitem__("pattern", "("),
         "bad regular expression"),
        (lambda d: d["workflow"].__setitem__("description", "${undeclared}"),
         "${undeclared} is not a declared parameter"),
        (lambda d: d["template"].__setitem__("version", "1.0"), "template.version"),
        (lambda d: d["template"].__delitem__("name"), "template.name"),
        (lambda d: d.__delitem__("workflow"), "missing [workflow]"),
        (lambda d: d["workflow"].__delitem__("schema_version"), "schema_version"),
        (lambda d: d["workflow"].__setitem__("schema_version", 7), "newer"),
    ],
)
def test_bad_template_definitions(mutate: object, message: str) -> None:
    d = json.loads(json.dumps(_template()))
    mutate(d)  # type: ignore[operator]
    with pytest.raises(TemplateError) as info:
        parse_template(d, "lib/scan.json")
    assert message in str(info.value) and "lib/scan.json" in str(info.value)


def test_substitute_whole_values_keep_their_type() -> None:
    assert substitute({"a": "${x}", "b": ["${x}", "x=${x}"]}, {"x": [1]}) == {
        "a": [1], "b": [[1], "x=[1]"]}
    assert substitute("$${x} ${x}", {"x": None}) == "${x} null"


def _write_library(root: Path, count: int) -> None:
    for i in range(count):
        tags = ["all", f"group{i % 10}"] + (["even"] if i % 2 == 0 else [])
        for minor in range(2):
            data = {"template": {"name": f"tpl-{i:04d}", "version": f"1.{minor}.0",
                                 "tags": tags, "description": f"Template number {i}",
                                 "parameters": {"root": {"type": "path", "default": "."}}},
                    "workflow": {"schema_version": 2, "id": f"w{i}", "version": f"1.{minor}.0",
                                 "nodes": [{"id": "a", "type": "operator", "operator": "x",
                                            "config": {"root": "${root}"}}]}}
            sub = root / f"g{i % 7}"
            sub.mkdir(exist_ok=True)
            if i % 3 == 0:
                (sub / f"t{i}-{minor}.json").write_text(json.dumps(data))
            else:
                (sub / f"t{i}-{minor}.toml").write_text(_toml(data))


def _toml(data: dict[str, object]) -> str:
    t, w = data["template"], data["workflow"]
    lines = ["[template]", f'name = "{t["name"]}"', f'version = "{t["version"]}"',  # type: ignore[index]
             f'description = "{t["description"]}"', f"tags = {json.dumps(t['tags'])}",  # type: ignore[index]
             "[template.parameters.root]", 'type = "path"', 'default = "."',
             "[workflow]", "schema_version = 2", f'id = "{w["id"]}"',  # type: ignore[index]
             f'version = "{w["version"]}"', "[[workflow.nodes]]", 'id = "a"',  # type: ignore[index]
             'type = "operator"', 'operator = "x"', 'config = { root = "${root}" }']
    return "\n".join(lines) + "\n"


def test_library_with_thousands_of_templates(tmp_path: Path) -> None:
    _write_library(tmp_path, 1000)
    lib = TemplateLibrary()
    assert lib.load_dir(tmp_path) == []
    assert len(lib) == 2000 and len(lib.names()) == 1000
    assert lib.get("tpl-0007").version == Version(1, 1, 0)
    assert lib.get("tpl-0007", "1.0.0").version == Version(1, 0, 0)
    assert lib.versions("tpl-0007") == [Version(1, 0, 0), Version(1, 1, 0)]
    assert len(lib.search(tags=["even"])) == 500
    assert len(lib.search(tags=["even", "group4"])) == 100
    assert len(lib.search(tags=["group1", "group2"], any_tag=True)) == 200
    assert [t.name for t in lib.search("number 99", limit=3)] == ["tpl-0099", "tpl-0990",
                                                                   "tpl-0991"]
    assert lib.search("NUMBER 123")[0].name == "tpl-0123"
    assert lib.search(tags=["nope"]) == []
    wf = lib.get("tpl-0042").instantiate({"root": "/x"})
    assert wf.node("a").config == {"root": "/x"}  # type: ignore[union-attr]
    with pytest.raises(NotFoundError, match=r"has no version 9\.9\.9"):
        lib.get("tpl-0042", "9.9.9")
    with pytest.raises(NotFoundError, match="no template named"):
        lib.get("missing")


def test_library_reports_every_bad_file_and_duplicates(tmp_path: Path) -> None:
    _write_library(tmp_path, 3)
    (tmp_path / "broken.json").write_text("{")
    (tmp_path / "broken.toml").write_text("[template\n")
    (tmp_path / "nohead.json").write_text(json.dumps({"workflow": {}}))
    (tmp_path / "notes.txt").write_text("ignored")
    lib = TemplateLibrary()
    with pytest.raises(TemplateError) as info:
        lib.load_dir(tmp_path)
    msg = str(info.value)
    assert "3 template file(s)" in msg
    assert all(x in msg for x in ("broken.json", "broken.toml", "nohead.json"))
    assert len(lib) == 6  # the good ones loaded anyway
    errors = TemplateLibrary().load_dir(tmp_path, strict=False)
    assert len(errors) == 3
    dup = lib.get("tpl-0000")
    with pytest.raises(TemplateError, match="defined twice"):
        lib.add(dup)
    with pytest.raises(TemplateError, match="does not exist"):
        lib.load_dir(tmp_path / "nope")


def test_latest_prefers_releases() -> None:
    base = _template()
    lib = TemplateLibrary()
    for v in ("1.0.0", "2.0.0-rc.1", "1.5.0"):
        d = json.loads(json.dumps(base))
        d["template"]["version"] = v
        lib.add(parse_template(d))
    assert lib.get("scan").version == Version(1, 5, 0)
    assert lib.get("scan", "latest").version == Version(1, 5, 0)
    assert lib.get("scan", "2.0.0-rc.1").version.prerelease == "rc.1"


# --------------------------------------------------------------------------- state machines
def test_run_lifecycle() -> None:
    m = StateMachine(RunState.PENDING)
    for ev, st_ in ((RunEvent.START, RunState.RUNNING), (RunEvent.PAUSE, RunState.PAUSED),
                    (RunEvent.RESUME, RunState.RUNNING), (RunEvent.FAIL, RunState.FAILED),
                    (RunEvent.RETRY, RunState.RUNNING), (RunEvent.COMPLETE, RunState.COMPLETED)):
        assert m.fire(ev) is st_
    assert [t.after for t in m.history][-1] is RunState.COMPLETED
    with pytest.raises(InvalidStateTransition, match="cannot 'resume' while 'completed'"):
        m.fire(RunEvent.RESUME)
    assert m.state is RunState.COMPLETED and not m.can(RunEvent.START)


def test_node_lifecycle() -> None:
    s = NodeState.PENDING
    for ev in (NodeEvent.READY, NodeEvent.START, NodeEvent.RETRY, NodeEvent.START,
               NodeEvent.WAIT, NodeEvent.RESUME, NodeEvent.FAIL, NodeEvent.RESET,
               NodeEvent.READY, NodeEvent.START, NodeEvent.SUCCEED):
        s = transition(s, ev)
    assert s is NodeState.SUCCEEDED
    with pytest.raises(InvalidStateTransition):
        transition(NodeState.SUCCEEDED, NodeEvent.RESET)
    with pytest.raises(InvalidStateTransition, match="mixing"):
        transition(RunState.PENDING, NodeEvent.START)  # type: ignore[type-var]


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(list(RunState)), st.sampled_from(list(RunEvent)))
def test_run_transitions_follow_the_table(state: RunState, event: RunEvent) -> None:
    m = StateMachine(state)
    if (state, event) in RUN_TABLE:
        assert m.can(event)
        assert m.fire(event) is RUN_TABLE[(state, event)]
        assert m.history[-1].before is state
    else:
        assert not m.can(event)
        with pytest.raises(InvalidStateTransition) as info:
            m.fire(event)
        assert state.value in str(info.value) and event.value in str(info.value)
        assert m.state is state and m.history == []


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(list(NodeState)), st.sampled_from(list(NodeEvent)))
def test_node_transitions_follow_the_table(state: NodeState, event: NodeEvent) -> None:
    if (state, event) in NODE_TABLE:
        assert transition(state, event) is NODE_TABLE[(state, event)]
    else:
        with pytest.raises(InvalidStateTransition):
            transition(state, event)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list(NodeEvent)), max_size=30))
def test_node_event_sequences(events: list[NodeEvent]) -> None:
    m = StateMachine(NodeState.PENDING)
    for ev in events:
        before = m.state
        try:
            m.fire(ev)
        except InvalidStateTransition:
            assert m.state is before
    # replaying the history reproduces the state
    s = NodeState.PENDING
    for t in m.history:
        assert t.before is s
        s = transition(s, t.event)
    assert s is m.state


def test_every_state_is_reachable_from_the_start() -> None:
    for table, start, states in ((RUN_TABLE, RunState.PENDING, RunState),
                                 (NODE_TABLE, NodeState.PENDING, NodeState)):
        seen = {start}
        frontier = [start]
        while frontier:
            s = frontier.pop()
            for (a, _), b in table.items():  # type: ignore[attr-defined]
                if a is s and b not in seen:
                    seen.add(b)
                    frontier.append(b)
        assert seen == set(states)


# --------------------------------------------------------------------------- examples
@pytest.mark.parametrize("name", ["line_counts.json", "summarize_docs.json"])
def test_example_workflows_are_valid(name: str) -> None:
    wf = loads_json((EXAMPLES / name).read_text())
    r = wf.validate()
    assert r.ok and r.problems == [], r.problems


def test_example_template_instantiates() -> None:
    t = load_template(EXAMPLES / "todo_report.toml")
    assert t.name == "todo-report" and {p.name for p in t.parameters} == {
        "root", "pattern", "threshold", "output"}
    wf = t.instantiate({"root": "src", "threshold": "3"}, coerce=True)
    assert wf.validate().problems == []
    assert wf.node("scan").config["root"] == "src"  # type: ignore[union-attr]
    with pytest.raises(TemplateParameterError) as info:
        t.instantiate({"threshold": -1, "output": "report.txt"})
    assert {n for n, _ in info.value.failures} == {"threshold", "output"}
    lib = TemplateLibrary()
    lib.load_dir(EXAMPLES)
    assert lib.names() == ["repo-report", "todo-report"]  # the shipped example templates


# --------------------------------------------------------------------------- files
def test_load_file_every_kind(tmp_path: Path) -> None:
    from symphony.commons.errors import ValidationError
    from symphony.workflow.files import load_file, parse_params
    from symphony.workflow.serialize import WorkflowFormatError, dumps_msgpack

    wf = load_file(EXAMPLES / "line_counts.json")
    assert wf.id == "line-counts"
    t = load_file(EXAMPLES / "todo_report.toml", parse_params(["threshold=4", "root=src"]))
    assert t.node("scan").config["root"] == "src"  # type: ignore[union-attr]
    (tmp_path / "wf.sywf").write_bytes(dumps_msgpack(wf))
    assert load_file(tmp_path / "wf.sywf") == wf
    tpl_json = tmp_path / "t.json"
    tpl_json.write_text(json.dumps(_template()))
    assert load_file(tpl_json, {"depth": "3"}).node("scan").policy.retries == 3
    with pytest.raises(ValidationError, match="takes no parameters"):
        load_file(EXAMPLES / "line_counts.json", {"x": "1"})
    with pytest.raises(TemplateParameterError):
        load_file(EXAMPLES / "todo_report.toml", {"threshold": "many"})
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 2, "id": "x", "nodes": [{"id": "a", "type": "?"}]}')
    with pytest.raises(WorkflowFormatError, match=r"nodes\[0\]\.type.*reading"):
        load_file(bad)
    invalid = tmp_path / "invalid.json"
    invalid.write_text('{"schema_version": 2, "id": "x", "edges": '
                       '[{"kind": "control", "source": "a", "target": "b"}]}')
    with pytest.raises(WorkflowValidationError, match="dangling-edge"):
        load_file(invalid)
    assert load_file(invalid, validate=False).id == "x"
    with pytest.raises(WorkflowFormatError, match="cannot read"):
        load_file(tmp_path / "missing.json")
    (tmp_path / "x.json").write_text("{oops")
    with pytest.raises(WorkflowFormatError, match="not valid JSON"):
        load_file(tmp_path / "x.json")
    (tmp_path / "x.toml").write_text("[oops")
    with pytest.raises(TemplateError, match="not valid TOML"):
        load_file(tmp_path / "x.toml")
    with pytest.raises(ValidationError, match="name=value"):
        parse_params(["novalue"])


def test_edges_by_node() -> None:
    from symphony.workflow.graph import edges_by_source, edges_by_target

    wf = loads_json((EXAMPLES / "summarize_docs.json").read_text())
    into = edges_by_target(wf)
    assert [e.source for e in into["join"]] == ["each", "scan"]
    assert into["scan"] == ()
    assert [e.target for e in edges_by_source(wf)["scan"]] == ["each", "join"]
    assert edges_by_target(wf) is into  # cached
