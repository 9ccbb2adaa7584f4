"""Helpers shared by the DAG Tracker tests (importable by child processes too)."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Mapping

import trio

from symphony.workflow.builder import WorkflowBuilder  # noqa: F401 - re-exported for tests
from symphony.workflow.model import ControlEdge, DataEdge, OperatorNode, Workflow, port
from symphony.workflow.ops import OperatorRegistry, default_registry


def logged(inputs: Mapping[str, object], config: Mapping[str, object]) -> dict[str, object]:
    """Append ``config.name`` to ``config.log`` (one line per execution), sleep a little."""
    with open(str(config["log"]), "a") as f:
        f.write(f"{config['name']}\n")
        f.flush()
    time.sleep(float(str(config.get("sleep", 0.0))))
    return {"value": config["name"]}


async def tracked(inputs: Mapping[str, object], config: Mapping[str, object]) -> dict[str, object]:
    """Counts how many run at once in ``config['box']`` (a dict passed by reference)."""
    box = config["box"]
    assert isinstance(box, dict)
    box["now"] = box.get("now", 0) + 1
    box["max"] = max(box.get("max", 0), box["now"])
    box.setdefault("order", []).append(config.get("name"))
    try:
        await trio.sleep(float(str(config.get("sleep", 0.01))))
    finally:
        box["now"] -= 1
    return {"value": config.get("name")}


def flaky(inputs: Mapping[str, object], config: Mapping[str, object]) -> dict[str, object]:
    """Fails ``config.fails`` times (counted in ``config.box``), then succeeds."""
    box = config["box"]
    assert isinstance(box, dict)
    box["calls"] = box.get("calls", 0) + 1
    if box["calls"] <= int(str(config["fails"])):
        raise RuntimeError(f"flaky failure {box['calls']}")
    return {"value": box["calls"]}


async def hang(inputs: Mapping[str, object], config: Mapping[str, object]) -> dict[str, object]:
    await trio.sleep(3600)
    return {}


def pid(inputs: Mapping[str, object], config: Mapping[str, object]) -> dict[str, object]:
    total = 0
    for i in range(int(str(config.get("n", 10_000)))):
        total += i
    return {"pid": os.getpid(), "value": total}


def registry() -> OperatorRegistry:
    reg = default_registry().copy()
    reg.register("t.logged", logged, mode="inline")
    reg.register("t.tracked", tracked)
    reg.register("t.flaky", flaky, mode="inline")
    reg.register("t.hang", hang)
    reg.register("t.pid", pid, mode="process")
    return reg


def op(nid: str, operator: str, config: Mapping[str, object] | None = None,
       inputs: tuple[str, ...] = (), outputs: tuple[str, ...] = ("value",),
       **policy: object) -> OperatorNode:
    from symphony.workflow.model import NodePolicy

    return OperatorNode(
        id=nid, operator=operator, config=dict(config or {}),
        inputs=tuple(port(n, "any") for n in inputs),
        outputs=tuple(port(n, "any") for n in outputs),
        policy=NodePolicy(**policy) if policy else NodePolicy(),  # type: ignore[arg-type]
    )


def random_dag(n: int, edges_per_node: int = 3, seed: int = 1, operator: str = "core.noop",
               config: Mapping[str, object] | None = None) -> Workflow:
    rng = random.Random(seed)
    nodes = [OperatorNode(id=f"n{i}", operator=operator, config=dict(config or {}))
             for i in range(n)]
    edges: list[ControlEdge | DataEdge] = []
    seen = set()
    for i in range(1, n):
        for _ in range(min(i, edges_per_node)):
            j = rng.randrange(max(0, i - 100), i)
            if (j, i) not in seen:
                seen.add((j, i))
                edges.append(ControlEdge(f"n{j}", f"n{i}"))
    return Workflow(id=f"random-{n}", nodes=tuple(nodes), edges=tuple(edges))


def chain(n: int, operator: str = "core.noop", config: Mapping[str, object] | None = None,
          ) -> Workflow:
    nodes = [OperatorNode(id=f"n{i}", operator=operator, config=dict(config or {}))
             for i in range(n)]
    edges = [ControlEdge(f"n{i}", f"n{i + 1}") for i in range(n - 1)]
    return Workflow(id=f"chain-{n}", nodes=tuple(nodes), edges=tuple(edges))


def fan_out(n: int, operator: str = "core.noop") -> Workflow:
    nodes = [OperatorNode(id=f"n{i}", operator=operator) for i in range(n)]
    edges = [ControlEdge("n0", f"n{i}") for i in range(1, n)]
    return Workflow(id=f"fan-{n}", nodes=tuple(nodes), edges=tuple(edges))
