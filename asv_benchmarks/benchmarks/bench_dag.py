"""DAG Tracker: scheduling overhead per run of no-op nodes, journaled runs, resume."""

from __future__ import annotations

import importlib
import shutil
import tempfile
from pathlib import Path

from .common import IMPLS


def _setup_kernel(impl: str) -> None:
    try:
        from symphony.pit.dag_tracker import _kernel
    except ImportError as exc:
        raise NotImplementedError("no symphony.pit.dag_tracker at this commit") from exc
    pkg = {"cython": "symphony._core", "python": "symphony.reference"}[impl]
    try:
        _kernel.toposort = importlib.import_module(f"{pkg}.toposort")
    except ImportError as exc:
        raise NotImplementedError(f"no {impl} toposort at this commit") from exc


def _wf(n: int, shape: str, operator: str) -> object:
    from symphony.bench.dag import _workflow, shapes

    return _workflow(n, shapes(n)[shape], operator)


class Execute:
    """A whole run (graph build + execution) of no-op nodes, no journal."""

    params = (IMPLS, ["random DAG", "chain", "fan-out"], ["core.noop_async", "core.noop"])
    param_names = ("impl", "shape", "operator")
    number = 1
    repeat = 5

    def setup(self, impl: str, shape: str, operator: str) -> None:
        _setup_kernel(impl)
        from symphony.pit.dag_tracker import DagTracker, RunOptions

        self.wf = _wf(10_000, shape, operator)
        self.engine = DagTracker(options=RunOptions(journal=False))

    def time_run(self, impl: str, shape: str, operator: str) -> None:
        import trio

        from symphony.bench.dag import _symphony_once

        trio.run(_symphony_once, self.engine, self.wf)


class Journaled:
    """The same run with the journal on (crash-safe batches, or fsync per batch)."""

    params = (["crash", "power-loss"],)
    param_names = ("mode",)
    number = 1
    repeat = 5

    def setup(self, mode: str) -> None:
        from symphony.pit.dag_tracker import DagTracker, RunOptions, RunStore

        self.dir = Path(tempfile.mkdtemp())
        self.wf = _wf(10_000, "random DAG", "core.noop_async")
        self.engine = DagTracker(store=RunStore(self.dir),
                                 options=RunOptions(fsync=mode == "power-loss"))

    def teardown(self, mode: str) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def time_run(self, mode: str) -> None:
        import trio

        from symphony.bench.dag import _symphony_once

        trio.run(_symphony_once, self.engine, self.wf)


class Resume:
    """Reopen a journaled 10,000-node run (journal replay, no snapshot) and rebuild the
    ready set."""

    number = 1
    repeat = 5

    def setup(self) -> None:
        import trio

        from symphony.pit.dag_tracker import DagTracker, RunOptions, RunStore

        self.dir = Path(tempfile.mkdtemp())
        self.engine = DagTracker(store=RunStore(self.dir),
                                 options=RunOptions(compact_at_end=False))
        run = self.engine.create(_wf(10_000, "random DAG", "core.noop_async"),  # type: ignore[arg-type]
                                 validate=False)
        trio.run(run.execute)
        self.run_id = run.id

    def teardown(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def time_open_and_rebuild(self) -> None:
        self.engine.open(self.run_id).rebuild_ready()
