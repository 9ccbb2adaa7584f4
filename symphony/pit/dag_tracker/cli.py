"""``symphony run`` and ``symphony runs``: the first main job.

``symphony run WORKFLOW [--param k=v ...]`` loads a workflow (``.json``/``.msgpack``) or a
template (``.toml``, or ``.json`` with ``template`` and ``workflow``), binds the parameters,
validates it (every problem is shown, naming the node and the reason), runs it with a live
progress bar on a terminal (plain lines otherwise) and prints a summary. ``--resume RUN_ID``
continues a run that was interrupted (completed nodes are not run again) or retries the
failed nodes of a failed run. ``symphony runs`` lists past runs.

Run state lives under ``[runs] state_dir`` (config), ``$SYMPHONY_RUNS_DIR``, or
``project_dirs().data_dir / "runs"``; ``--state-dir`` overrides all of them.

Exit status: 0 completed, 1 failed or cancelled, 2 unusable input (file, parameters,
validation).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from symphony.commons.config import config_section
from symphony.commons.errors import (
    NotFoundError,
    SymphonyError,
    ValidationError,
    WorkflowValidationError,
)

__all__ = ["RunsConfig", "register"]


@config_section("runs")
@dataclass(frozen=True, slots=True)
class RunsConfig:
    """``[runs]``: where run state lives and how runs execute by default."""

    state_dir: Path | None = None
    concurrency: int = 64
    processes: int = 0
    """Worker processes for CPU-bound nodes (0 = one per core)."""
    fsync: bool = False
    """fsync every journal batch (power-loss safe) instead of only writing it."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``run`` and ``runs`` to the ``symphony`` command's subparsers."""
    run = subparsers.add_parser(
        "run", help="run a workflow or template file (live progress, summary)",
        description="Load, validate and run a workflow or template; --resume continues a run.",
    )
    run.add_argument("workflow", nargs="?", help="workflow (.json/.msgpack) or template "
                     "(.toml/.json) file")
    run.add_argument("--param", "-p", action="append", default=[], metavar="K=V",
                     help="template parameter (repeatable); values are parsed as JSON when "
                     "they can be, else taken as text")
    run.add_argument("--resume", metavar="RUN_ID",
                     help="continue an interrupted run, or retry the failed nodes of one")
    run.add_argument("--state-dir", type=Path, help="where runs are recorded")
    run.add_argument("--concurrency", type=int, help="worker tasks (default 64)")
    run.add_argument("--processes", type=int, help="worker processes (default: cores)")
    run.add_argument("--fail-fast", action="store_true", help="stop at the first failure")
    run.add_argument("--fsync", action="store_true", default=None,
                     help="fsync each journal batch (survives power loss)")
    run.add_argument("--json", action="store_true", help="print the summary as JSON")
    run.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    run.add_argument("--artifacts-dir", type=Path,
                     help="artifact store for node outputs (default: [artifacts] root, or "
                     "the data dir's artifacts/)")
    run.add_argument("--no-artifacts", action="store_true",
                     help="do not store node outputs in the artifact store")
    run.set_defaults(func=cmd_run)

    runs = subparsers.add_parser("runs", help="list past runs")
    runs.add_argument("--state-dir", type=Path, help="where runs are recorded")
    runs.add_argument("--json", action="store_true", help="print JSON")
    runs.add_argument("--limit", type=int, default=50, help="show at most this many")
    ctl = runs.add_mutually_exclusive_group()
    ctl.add_argument("--pause", metavar="RUN_ID", help="pause a running run")
    ctl.add_argument("--resume", metavar="RUN_ID", help="resume a paused run")
    ctl.add_argument("--cancel", metavar="RUN_ID", help="cancel a running or paused run")
    runs.set_defaults(func=cmd_runs)


def _config() -> RunsConfig:
    try:
        from symphony.commons.config import load_config

        cfg = load_config().config
        return cfg.section(RunsConfig)
    except (SymphonyError, ImportError, AttributeError, KeyError, TypeError):
        return RunsConfig()


def _store(args: argparse.Namespace, cfg: RunsConfig) -> object:
    from symphony.pit.dag_tracker.store import RunStore

    root = args.state_dir or cfg.state_dir
    return RunStore(root)


def parse_params(items: Sequence[str]) -> dict[str, object]:
    """``["k=v", ...]`` → ``{k: v}``; ``v`` is JSON if it parses, else the text.

    Raises:
        ValidationError: an item without ``=`` (names it).
    """
    out: dict[str, object] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"--param {item!r}: expected KEY=VALUE")
        try:
            value: object = json.loads(raw)
        except ValueError:
            value = raw
        out[key.strip()] = value
    return out


def load_workflow_file(path: Path, params: dict[str, object]) -> object:
    """The workflow in ``path`` (a template is instantiated with ``params``; validation is
    left to the caller)."""
    from symphony.workflow.serialize import load
    from symphony.workflow.templates import Template, load_template

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise NotFoundError(f"{path}: cannot read workflow file: {exc.strerror or exc}") from None
    is_template = path.suffix == ".toml"
    if not is_template and raw[:1] in (b"{", b" ", b"\n", b"\t", b"\r"):
        try:
            head = json.loads(raw)
        except ValueError:
            head = None
        is_template = isinstance(head, dict) and "template" in head and "workflow" in head
    if is_template:
        t: Template = load_template(path)
        return t.instantiate(params, coerce=True, validate=False)
    if params:
        raise ValidationError(f"{path} is a plain workflow: --param applies only to templates "
                              f"(got {', '.join(params)})")
    return load(raw)


def _print_problems(err: WorkflowValidationError, out: TextIO) -> None:
    problems = getattr(err, "problems", None) or []
    if not problems:
        print(f"error: {err}", file=out)
        return
    print(f"error: the workflow is invalid ({len(problems)} problem"
          f"{'s' if len(problems) != 1 else ''}):", file=out)
    for p in problems:
        where = f"node {p.node!r}" if p.node else (f"edge #{p.edge}" if p.edge is not None
                                                   else "workflow")
        print(f"  - {where}: {p.message}  [{p.code}]", file=out)


class _Progress:
    """A live bar on a TTY (redrawn at most 20 times a second), plain lines otherwise."""

    def __init__(self, out: TextIO, tty: bool, quiet: bool) -> None:
        self.out, self.tty, self.quiet = out, tty, quiet
        self.last = 0.0
        self.line = ""

    def __call__(self, events: Sequence[object]) -> None:
        from symphony.pit.dag_tracker.events import ProgressEvent

        if self.quiet:
            return
        for ev in events:
            assert isinstance(ev, ProgressEvent)
            if self.tty:
                if ev.kind in ("node.failed", "node.retrying"):
                    self._clear()
                    print(f"  {ev.kind.split('.')[1]:<9} {ev.node}: {ev.detail}", file=self.out)
                self.line = f"{ev.node}" if ev.node else ev.kind
                self._bar(ev.done, ev.total, ev.percent)
            elif ev.kind not in ("node.started",):
                what = ev.kind.split(".")[1]
                extra = f": {ev.detail}" if ev.detail and ev.kind != "node.succeeded" else ""
                name = ev.node or "run"
                print(f"[{ev.percent:5.1f}%] {what:<9} {name}{extra}", file=self.out,
                      flush=True)

    def _clear(self) -> None:
        width = shutil.get_terminal_size((80, 20)).columns
        self.out.write("\r" + " " * (width - 1) + "\r")

    def _bar(self, done: int, total: int, pct: float, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < 0.05 and done < total:
            return
        self.last = now
        width = shutil.get_terminal_size((80, 20)).columns
        cells = max(10, min(40, width - 40))
        fill = int(cells * pct / 100)
        text = f"\r[{'#' * fill}{'.' * (cells - fill)}] {pct:5.1f}% {done}/{total} {self.line}"
        self.out.write(text[: width - 1].ljust(width - 1))
        self.out.flush()

    def end(self) -> None:
        if self.tty and not self.quiet:
            self.out.write("\n")
            self.out.flush()


def cmd_run(args: argparse.Namespace) -> int:
    """``symphony run``."""

    from symphony.pit.dag_tracker.events import EventHub
    from symphony.pit.dag_tracker.executor import DagTracker, RunOptions
    from symphony.pit.dag_tracker.store import RunStore

    err = sys.stderr
    cfg = _config()
    store = _store(args, cfg)
    assert isinstance(store, RunStore)
    if not args.workflow and not args.resume:
        print("error: give a WORKFLOW file or --resume RUN_ID", file=err)
        return 2
    opts = RunOptions(concurrency=args.concurrency or cfg.concurrency,
                      fail_fast=args.fail_fast,
                      fsync=cfg.fsync if args.fsync is None else args.fsync)
    hub = EventHub()
    tty = err.isatty()
    progress = _Progress(err, tty, args.quiet)
    hub.add_callback(progress)
    artifacts = None
    output_sink = None
    if not args.no_artifacts:
        from symphony.pit.artifacts.store import ArtifactStore
        from symphony.pit.dag_tracker.outputs import ArtifactOutputSink

        try:
            artifacts = ArtifactStore.from_config(args.artifacts_dir)
        except SymphonyError as exc:
            print(f"error: artifact store: {exc} (use --no-artifacts to run without it)",
                  file=err)
            return 2
        output_sink = ArtifactOutputSink(artifacts)
    engine = DagTracker(store=store, sink=hub, options=opts,
                        processes=args.processes or cfg.processes or None,
                        output_sink=output_sink)
    pit = _PitForRun()
    engine.models.register("pool/*", pit.model_fn())
    try:
        return _run_with(args, engine, store, opts, progress, err, artifacts, pit)
    finally:
        if artifacts is not None:
            artifacts.close()


class _PitForRun:
    """The Pit services a ``symphony run`` process hosts while it runs: a Pool Manager with
    the built-in models (Instrument nodes name them ``pool/<model>``), the Arbitration
    Engine in front of it, and the status file ``symphony pit status`` reads."""

    def __init__(self) -> None:
        from symphony.commons.config import load_config
        from symphony.pit.arbitration import ArbitrationEngine
        from symphony.pit.pool import HashingEmbedderLoader, PoolConfig, PoolManager

        models_dir = Path(load_config().config.paths.data_dir) / "models"
        self.pool = PoolManager(PoolConfig(memory_budget=256 * 1024**2))
        self.pool.register(
            "hashing-embedder", HashingEmbedderLoader(models_dir / "hashing-embedder.bin")
        )
        self.arbitration = ArbitrationEngine()

    def model_fn(self) -> Any:
        from symphony.pit.port import pool_model_fn

        return pool_model_fn(self.pool, self.arbitration)

    async def run(self, task_status: Any) -> None:
        import trio

        from symphony.pit.cli import default_status_path, status_writer

        async with trio.open_nursery() as nursery:
            await nursery.start(self.pool.run)
            await nursery.start(self.arbitration.run)
            await nursery.start(
                partial(status_writer, default_status_path(), pool=self.pool,
                        arbitration=self.arbitration)
            )
            task_status.started()


def _run_with(args: argparse.Namespace, engine: object, store: object, opts: object,
              progress: _Progress, err: TextIO, artifacts: object, pit: _PitForRun) -> int:
    import trio

    from symphony.pit.dag_tracker.executor import DagTracker, RunOptions, RunSummary
    from symphony.pit.dag_tracker.store import RunStore

    assert isinstance(engine, DagTracker)
    assert isinstance(store, RunStore)
    assert isinstance(opts, RunOptions)
    try:
        if args.resume:
            run = engine.open(args.resume, options=opts)
            from symphony.workflow.state import RunState

            if run.state in (RunState.FAILED, RunState.CANCELLED):
                reset = run.retry_failed()
                print(f"retrying {len(reset)} node(s) of run {run.id}", file=err)
            elif run.state is RunState.COMPLETED:
                print(f"run {run.id} already completed", file=err)
                return 0
            else:
                done, total = run.progress
                print(f"resuming run {run.id} ({done}/{total} nodes already done)", file=err)
        else:
            path = Path(args.workflow)
            params = parse_params(args.param)
            wf = load_workflow_file(path, params)
            from symphony.workflow.model import Workflow

            assert isinstance(wf, Workflow)
            wf.check()
            run = engine.create(wf, params=params, source=str(path.resolve()), options=opts)
            print(f"run {run.id}: {wf.name or wf.id} ({len(wf.nodes)} nodes) — state in "
                  f"{store.path(run.id)}", file=err)
    except WorkflowValidationError as exc:
        _print_problems(exc, err)
        return 2
    except SymphonyError as exc:
        print(f"error: {exc}", file=err)
        return 2

    summary: RunSummary | None = None

    async def control(task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Control commands from other processes (``symphony runs --pause/--resume/
        --cancel``): SIGUSR1 pauses, SIGUSR2 resumes, SIGTERM cancels."""
        with trio.open_signal_receiver(signal.SIGUSR1, signal.SIGUSR2,
                                       signal.SIGTERM) as signals:
            task_status.started()
            async for signum in signals:
                try:
                    if signum == signal.SIGUSR1:
                        run.pause()
                    elif signum == signal.SIGUSR2:
                        run.resume()
                    else:
                        run.cancel()
                except SymphonyError as exc:  # e.g. pausing a paused run
                    print(f"control: {exc}", file=err)

    async def main() -> None:
        nonlocal summary
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(control)
                await nursery.start(pit.run)
                store.update(run.id, pid=os.getpid())
                summary = await run.execute()
                nursery.cancel_scope.cancel()
        finally:
            with trio.CancelScope(shield=True):
                await engine.aclose()

    try:
        trio.run(main)
    except KeyboardInterrupt:
        progress.end()
        try:
            run.cancel()
        except SymphonyError:
            pass
        print(f"interrupted: resume with `symphony run --resume {run.id}`", file=err)
        return 1
    progress.end()
    assert summary is not None
    store.save_summary(run.id, {**summary.to_dict(),
                                "metrics": [m.__dict__ if hasattr(m, "__dict__") else
                                            _metric(m) for m in run.metrics()]})
    _print_summary(summary, run, args.json, sys.stdout)
    if artifacts is not None and not args.json:
        print(f"outputs: artifacts runs/{run.id}/<node>/<port> in "
              f"{getattr(artifacts, 'root', '')} "
              f"(`symphony artifacts search --producer {run.id}`)")
    return 0 if summary.state.value == "completed" else 1


def _metric(m: object) -> dict[str, object]:
    return {k: getattr(m, k) for k in ("node", "state", "attempts", "queue_wait", "duration",
                                       "error")}


def _print_summary(summary: object, run: object, as_json: bool, out: TextIO) -> None:
    from symphony.pit.dag_tracker.executor import Run, RunSummary

    assert isinstance(summary, RunSummary) and isinstance(run, Run)
    if as_json:
        print(json.dumps(summary.to_dict(), indent=2), file=out)
        return
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.counts.items()))
    print(f"run {summary.run_id}: {summary.state.value} in {summary.wall_time:.2f}s "
          f"({counts}; {summary.retries} retries; {summary.throughput:,.0f} nodes/s)", file=out)
    if summary.resumed_done:
        print(f"  {summary.resumed_done} node(s) were already done and were not run again",
              file=out)
    for node, error in summary.failed.items():
        print(f"  failed  {node}: {error}", file=out)
    if summary.blocked:
        shown = ", ".join(summary.blocked[:10]) + (" …" if len(summary.blocked) > 10 else "")
        print(f"  not run (upstream did not complete): {shown}", file=out)
    slow = sorted((m for m in run.metrics() if m.duration is not None),
                  key=lambda m: -(m.duration or 0))[:5]
    if slow:
        print("  slowest: " + ", ".join(f"{m.node} {m.duration:.3f}s" for m in slow), file=out)
    for nid in run.ids:
        o = run.outputs(nid)
        if o and isinstance(o.get("path"), str) and run.workflow.node(nid).kind == "operator":
            print(f"  wrote {o['path']}", file=out)


def _signal_run(store: object, run_id: str, command: str, signum: int) -> int:
    """Send a control command to the process executing ``run_id``."""
    from symphony.pit.dag_tracker.store import RunStore

    assert isinstance(store, RunStore)
    try:
        meta = store.meta(run_id)
    except SymphonyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    state, pid = meta.get("state"), meta.get("pid")
    if state not in ("running", "paused") or not isinstance(pid, int):
        print(f"error: run {run_id} is {state}; nothing executes it", file=sys.stderr)
        return 2
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        print(f"error: run {run_id}: its process {pid} is gone (resume it with "
              f"`symphony run --resume {run_id}`)", file=sys.stderr)
        return 2
    print(f"sent {command} to run {run_id} (process {pid})")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    """``symphony runs``."""
    from symphony.pit.dag_tracker.store import RunStore

    store = _store(args, _config())
    assert isinstance(store, RunStore)
    for command, signum in (("pause", signal.SIGUSR1), ("resume", signal.SIGUSR2),
                            ("cancel", signal.SIGTERM)):
        run_id = getattr(args, command, None)
        if run_id:
            return _signal_run(store, run_id, command, signum)
    runs = store.list_runs()[: max(0, args.limit)]
    if args.json:
        print(json.dumps(runs, indent=2))
        return 0
    if not runs:
        print(f"no runs in {store.root}")
        return 0
    print(f"{'RUN':<24} {'STATE':<10} {'DONE':>11}  {'CREATED':<20} WORKFLOW")
    for m in runs:
        done = f"{m.get('done', '?')}/{m.get('total', '?')}"
        print(f"{m.get('id', '?')!s:<24} {m.get('state', '?')!s:<10} {done:>11}  "
              f"{m.get('created', '')!s:<20} {m.get('workflow', '')}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry (``python -m symphony.pit.dag_tracker.cli run …``) until the
    ``symphony`` command wires :func:`register`."""
    parser = argparse.ArgumentParser(prog="symphony")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    rc: int = args.func(args)
    return rc


if __name__ == "__main__":
    sys.exit(main())
