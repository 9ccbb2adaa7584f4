"""Child process for the SIGKILL tests: runs (or resumes) a journaled workflow of logged
nodes and prints ``ACK <node>`` for every node.succeeded event it receives (events are
published only after their journal records were written)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import trio

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _dag_helpers import random_dag, registry

from symphony.pit.dag_tracker import (
    DagTracker,
    EventHub,
    ProgressEvent,
    RunOptions,
    RunStore,
)


def workflow(n: int, log: str, sleep: float) -> object:
    return random_dag(n, seed=5, operator="t.logged")


def main(argv: Sequence[str]) -> int:
    state_dir, log, n, mode, fsync = argv[0], argv[1], int(argv[2]), argv[3], argv[4] == "1"
    hub = EventHub()

    def ack(batch: Sequence[ProgressEvent]) -> None:
        lines = [f"ACK {e.node}\n" for e in batch if e.kind == "node.succeeded"]
        if lines:
            sys.stdout.write("".join(lines))
            sys.stdout.flush()

    hub.add_callback(ack)
    eng = DagTracker(operators=registry(), store=RunStore(state_dir), sink=hub,
                     options=RunOptions(fsync=fsync, journal_batch=64, compact_every=300))
    if mode == "new":
        from symphony.workflow.model import OperatorNode

        wf = random_dag(n, seed=5, operator="t.logged")
        wf = wf.evolve(nodes=tuple(
            OperatorNode(id=x.id, operator="t.logged",
                         config={"log": log, "name": x.id, "sleep": 0.0005})
            for x in wf.nodes))
        run = eng.create(wf, run_id="crashme")
    else:
        run = eng.open("crashme")
    sys.stdout.write("STARTED\n")
    sys.stdout.flush()
    summary = trio.run(run.execute)
    sys.stdout.write(f"DONE {summary.state.value}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
