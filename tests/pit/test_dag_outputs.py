"""Issue 8: every node output of a run lands in the artifact store with lineage to its run
and node (the DAG Tracker's output sink)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path

import orjson
import pytest
import trio

from symphony.commons.errors import StorageError
from symphony.pit.artifacts.cli import main as artifacts_main
from symphony.pit.artifacts.store import ArtifactStore
from symphony.pit.dag_tracker import DagTracker, RunOptions, RunStore
from symphony.pit.dag_tracker.cli import main as dag_main
from symphony.pit.dag_tracker.outputs import ArtifactOutputSink, encode_output, output_name
from symphony.workflow.model import DataEdge, OperatorNode, Version, Workflow, port
from symphony.workflow.state import RunState

from ._dag_helpers import registry


def _produce(inputs: Mapping[str, object], config: Mapping[str, object]) -> dict[str, object]:
    return {"table": {"b": [1, 2], "a": config["n"]}, "blob": b"\x00\x01raw", "note": "hello"}


def _consume(inputs: Mapping[str, object], config: Mapping[str, object]) -> dict[str, object]:
    table = inputs["table"]
    assert isinstance(table, dict)
    return {"total": sum(table["b"]) + int(table["a"]), "echo": f"{inputs['note']}!"}


async def _slow_consume(inputs: Mapping[str, object], config: Mapping[str, object]
                        ) -> dict[str, object]:
    await trio.sleep(0.001)
    return _consume(inputs, config)


def _wf(consumer: str = "t.consume") -> Workflow:
    nodes = (
        OperatorNode(id="make", operator="t.produce", config={"n": 7},
                     outputs=(port("table", "any"), port("blob", "any"), port("note", "any"))),
        OperatorNode(id="use", operator=consumer,
                     inputs=(port("table", "any"), port("note", "any")),
                     outputs=(port("total", "any"), port("echo", "any"))),
        OperatorNode(id="solo", operator="t.produce", config={"n": 1},
                     outputs=(port("table", "any"), port("blob", "any"), port("note", "any"))),
    )
    edges = (DataEdge("make", "table", "use", "table"), DataEdge("make", "note", "use", "note"))
    return Workflow(id="outs", version=Version.parse("1.2.0"), nodes=nodes, edges=edges)


def _engine(store: ArtifactStore, **kw: object) -> DagTracker:
    reg = registry()
    reg.register("t.produce", _produce, mode="inline")
    reg.register("t.consume", _consume, mode="inline")
    reg.register("t.slow_consume", _slow_consume)
    return DagTracker(operators=reg, options=RunOptions(journal=False),
                      output_sink=ArtifactOutputSink(store), **kw)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ArtifactStore]:
    with ArtifactStore(tmp_path / "artifacts") as s:
        yield s


@pytest.mark.parametrize("consumer", ["t.consume", "t.slow_consume"])
def test_every_output_is_stored_with_metadata_and_lineage(store: ArtifactStore,
                                                           consumer: str) -> None:
    engine = _engine(store)
    run = engine.create(_wf(consumer))
    summary = trio.run(run.execute)
    assert summary.state is RunState.COMPLETED
    # execute() returned: every output is committed already (nothing awaited afterwards)
    for node, ports in (("make", ("blob", "note", "table")), ("use", ("echo", "total")),
                        ("solo", ("blob", "note", "table"))):
        outs = run.outputs(node)
        assert outs is not None
        ids = set(store.produced_by(run_id=run.id, node_id=node))
        for p in ports:
            name = output_name(run.id, node, p)
            info = store.show(name)
            assert info.id in ids  # produced-by the run and the node
            last = store.history(name)[-1]
            assert last.run_id == run.id and last.node_id == node and last.id == info.id
            data, ctype, _ = encode_output(outs[p])
            assert store.get(name) == data and info.content_type == ctype
            if info.metadata.get("node_id") == node:  # shared content keeps its first metadata
                assert info.metadata == {"run_id": run.id, "node_id": node, "port": p,
                                         "workflow_id": "outs", "workflow_version": "1.2.0"}
    assert orjson.loads(store.get(output_name(run.id, "make", "table"))) == {"a": 7, "b": [1, 2]}
    assert store.get(output_name(run.id, "make", "table")) == b'{"a":7,"b":[1,2]}'  # sorted
    assert store.get(output_name(run.id, "make", "blob")) == b"\x00\x01raw"
    assert store.get(output_name(run.id, "use", "total")) == b"10"
    # derived-from: "use" got make.table and make.note, not make.blob; "solo" has no inputs
    want = {store.resolve(output_name(run.id, "make", p)) for p in ("table", "note")}
    for p in ("total", "echo"):
        up = store.lineage(output_name(run.id, "use", p))
        assert {parent for _, parent, kind in up if kind == "derived-from"} == want
    assert store.lineage(output_name(run.id, "solo", "table")) == []
    down = store.lineage(output_name(run.id, "make", "blob"), direction="down")
    assert down == []


def test_a_second_run_gets_its_own_versions(store: ArtifactStore) -> None:
    engine = _engine(store)
    a = engine.create(_wf())
    b = engine.create(_wf())
    trio.run(a.execute)
    trio.run(b.execute)
    assert set(store.produced_by(run_id=a.id)) == set(store.produced_by(run_id=b.id))  # dedup
    assert store.history(output_name(b.id, "use", "total"))[0].run_id == b.id
    assert len(store.produced_by(run_id=a.id, node_id="use")) == 2


def test_resumed_run_links_to_outputs_of_the_earlier_execution(tmp_path: Path,
                                                               store: ArtifactStore) -> None:
    reg = registry()
    reg.register("t.produce", _produce, mode="inline")
    box: dict[str, int] = {"fail": 1}

    def consume(inputs: Mapping[str, object], config: Mapping[str, object]) -> dict[str, object]:
        if box["fail"]:
            box["fail"] -= 1
            raise RuntimeError("first attempt fails")
        return _consume(inputs, config)

    reg.register("t.consume", consume, mode="inline")
    engine = DagTracker(operators=reg, store=RunStore(tmp_path / "runs"),
                        output_sink=ArtifactOutputSink(store))
    run = engine.create(_wf())
    assert trio.run(run.execute).state is RunState.FAILED
    assert store.produced_by(run_id=run.id, node_id="use") == []
    again = engine.open(run.id)
    again.retry_failed()
    assert trio.run(again.execute).state is RunState.COMPLETED
    up = store.lineage(output_name(run.id, "use", "total"))
    assert {p for _, p, _ in up} == {
        store.resolve(output_name(run.id, "make", "table")),
        store.resolve(output_name(run.id, "make", "note")),
    }
    # "make" ran once: one version only
    assert len(store.history(output_name(run.id, "make", "table"))) == 1


def test_a_store_failure_fails_execute_loudly(tmp_path: Path) -> None:
    s = ArtifactStore(tmp_path / "a")
    s.close()  # every put now raises StorageError
    run = _engine(s).create(_wf())
    with pytest.raises(BaseException) as info:
        trio.run(run.execute)
    errs = info.value.exceptions if isinstance(info.value, BaseExceptionGroup) else [info.value]
    assert any(isinstance(e, StorageError) and "storing the outputs" in str(e) for e in errs)


def test_map_bodies_do_not_store_their_inner_nodes(store: ArtifactStore) -> None:
    from symphony.workflow.model import MapNode

    body = Workflow(id="body", nodes=(
        OperatorNode(id="inc", operator="core.identity", inputs=(port("x", "any"),),
                     outputs=(port("x", "any"),)),
    ))
    src = OperatorNode(id="src", operator="core.identity",
                       inputs=(port("items", "list[int]", default=[1, 2]),),
                       outputs=(port("items", "list[int]"),))
    mp = MapNode(id="each", body=body, item_input="inc.x", result_output="inc.x",
                 inputs=(port("items", "list[int]"),), outputs=(port("results", "list[int]"),))
    wf = Workflow(id="m", nodes=(src, mp), edges=(DataEdge("src", "items", "each", "items"),))
    run = _engine(store).create(wf)
    assert trio.run(run.execute).state is RunState.COMPLETED
    assert store.get(output_name(run.id, "each", "results")) == b"[1,2]"
    assert sorted(n for n in store.names() if n.startswith("runs/")) == [
        output_name(run.id, "each", "results"), output_name(run.id, "src", "items")]


def test_encode_output_is_deterministic_and_total() -> None:
    assert encode_output({"b": 1, "a": {3, 1, 2}})[0] == b'{"a":[1,2,3],"b":1}'
    assert encode_output(Path("/x"))[:2] == (b'"/x"', "application/json")
    assert encode_output("é") == ("é".encode(), "text/plain; charset=utf-8", False)
    data, ctype, lossy = encode_output(object())
    assert ctype == "text/x-python-repr" and lossy and data.startswith(b"<object")
    assert output_name("r", "node with space", "p") == "runs/r/node_with_space/p"


def test_symphony_run_stores_outputs_findable_by_search_and_show(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = {
        "schema": "symphony.workflow", "schema_version": 2, "id": "cli-outs",
        "version": "2.0.0",
        "nodes": [
            {"id": "src", "type": "operator", "operator": "core.identity",
             "inputs": [{"name": "value", "type": "any", "default": {"k": "searchable"}}],
             "outputs": [{"name": "value", "type": "any"}]},
            {"id": "dst", "type": "operator", "operator": "core.identity",
             "inputs": [{"name": "value", "type": "any"}],
             "outputs": [{"name": "value", "type": "any"}]},
        ],
        "edges": [{"kind": "data", "source": "src", "source_port": "value",
                   "target": "dst", "target_port": "value"}],
    }
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(doc))
    root = tmp_path / "artifacts"
    rc = dag_main(["run", str(path), "--state-dir", str(tmp_path / "state"),
                   "--artifacts-dir", str(root), "--json", "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0, out
    run_id = json.loads(out)["run_id"]
    assert artifacts_main(["--root", str(root), "search", "--producer", run_id, "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    names = sorted(n for h in hits for n in h["names"])
    assert f"runs/{run_id}/src/value" in names and f"runs/{run_id}/dst/value" in names
    assert artifacts_main(["--root", str(root), "search", "searchable", "--json"]) == 0
    assert {h["id"] for h in json.loads(capsys.readouterr().out)} == {h["id"] for h in hits}
    assert artifacts_main(["--root", str(root), "show", f"runs/{run_id}/dst/value"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["metadata"]["run_id"] == run_id
    assert shown["content_type"] == "application/json"
    assert any(p["run_id"] == run_id and p["node_id"] in ("src", "dst")
               for p in shown["producers"])

    rc = dag_main(["run", str(path), "--state-dir", str(tmp_path / "state2"),
                   "--artifacts-dir", str(tmp_path / "off"), "--no-artifacts", "--quiet"])
    capsys.readouterr()
    assert rc == 0 and not (tmp_path / "off").exists()
