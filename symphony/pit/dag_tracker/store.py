"""Run history on disk: one directory per run.

Layout of ``<root>/<run id>/``::

    run.json        id, workflow id/name, source file, params, state, counts, timestamps
                    (rewritten atomically on every run-level state change)
    workflow.msgpack the workflow as run (binary document; resuming never re-reads the source)
    plan.pickle     the execution plan (a cache of the document, see :mod:`.plan`)
    journal.log     node state changes (see :mod:`.journal`)
    snapshot.msgpack
    audit.jsonl     control commands and run transitions, one JSON object per line
    summary.json    the last execution's summary

``root`` defaults to ``project_dirs().data_dir / "runs"`` (see :func:`default_root`).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping
from pathlib import Path

from symphony.commons.errors import NotFoundError, StorageError, ValidationError
from symphony.pit.dag_tracker.journal import atomic_write
from symphony.workflow.model import Workflow
from symphony.workflow.serialize import dumps_msgpack, load

__all__ = ["RunStore", "default_root"]

_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\Z")


def default_root() -> Path:
    """``$SYMPHONY_RUNS_DIR`` if set, else ``project_dirs().data_dir / "runs"``."""
    env = os.environ.get("SYMPHONY_RUNS_DIR")
    if env:
        return Path(env).absolute()
    from symphony.commons.fs import project_dirs

    return project_dirs().data_dir / "runs"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class RunStore:
    """Run directories under ``root`` (created on first write)."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root).absolute() if root is not None else default_root()

    def path(self, run_id: str) -> Path:
        """The directory of ``run_id``.

        Raises:
            ValidationError: the id is not a plain name (no path tricks).
        """
        if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
            raise ValidationError(f"invalid run id {run_id!r}", details={"run_id": run_id})
        return self.root / run_id

    def create(self, run_id: str, wf: Workflow, *, params: Mapping[str, object],
               source: str = "", plan: bytes | None = None, fsync: bool = False) -> Path:
        """Make the run's directory with ``workflow.json`` and ``run.json``."""
        d = self.path(run_id)
        try:
            d.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            raise ValidationError(f"run {run_id!r} already exists in {self.root}") from None
        except OSError as exc:
            raise StorageError(f"cannot create run directory {d}: {exc}") from exc
        atomic_write(d / "workflow.msgpack", dumps_msgpack(wf), fsync=fsync)
        if plan is not None:
            atomic_write(d / "plan.pickle", plan, fsync=fsync)
        meta = {
            "id": run_id, "workflow": wf.id, "name": wf.name, "version": str(wf.version),
            "source": source, "params": {k: _jsonable(v) for k, v in params.items()},
            "state": "pending", "total": len(wf.nodes), "done": 0, "created": _now(),
            "updated": _now(),
        }
        atomic_write(d / "run.json", json.dumps(meta, indent=2).encode(), fsync=fsync)
        return d

    def meta(self, run_id: str) -> dict[str, object]:
        """The run's ``run.json``.

        Raises:
            NotFoundError: no such run.
        """
        p = self.path(run_id) / "run.json"
        try:
            data = json.loads(p.read_bytes())
        except FileNotFoundError:
            raise NotFoundError(f"no run {run_id!r} in {self.root}",
                                details={"run_id": run_id}) from None
        except (OSError, ValueError) as exc:
            raise StorageError(f"run {run_id!r}: unreadable run.json: {exc}") from exc
        if not isinstance(data, dict):
            raise StorageError(f"run {run_id!r}: run.json is not an object")
        return data

    def update(self, run_id: str, **fields: object) -> None:
        """Merge ``fields`` into ``run.json`` (atomically)."""
        meta = self.meta(run_id)
        meta.update({k: _jsonable(v) for k, v in fields.items()})
        meta["updated"] = _now()
        atomic_write(self.path(run_id) / "run.json", json.dumps(meta, indent=2).encode(),
                     fsync=False)

    def workflow(self, run_id: str) -> Workflow:
        """The workflow the run was created with."""
        p = self.path(run_id) / "workflow.msgpack"
        try:
            return load(p.read_bytes())
        except FileNotFoundError:
            raise NotFoundError(f"no run {run_id!r} in {self.root}",
                                details={"run_id": run_id}) from None

    def plan(self, run_id: str) -> bytes | None:
        """The run's stored execution plan (see :mod:`.plan`), or ``None``."""
        try:
            return (self.path(run_id) / "plan.pickle").read_bytes()
        except FileNotFoundError:
            return None

    def audit(self, run_id: str, command: str, **info: object) -> None:
        """Append one line to the run's audit log."""
        line = json.dumps({"at": _now(), "t": time.time(), "command": command,
                           **{k: _jsonable(v) for k, v in info.items()}})
        with open(self.path(run_id) / "audit.jsonl", "a", encoding="utf-8") as f:
            f.write(line + "\n")

    def audit_log(self, run_id: str) -> list[dict[str, object]]:
        """Every audit entry of the run, oldest first."""
        try:
            text = (self.path(run_id) / "audit.jsonl").read_text()
        except FileNotFoundError:
            return []
        return [json.loads(ln) for ln in text.splitlines() if ln.strip()]

    def save_summary(self, run_id: str, summary: Mapping[str, object]) -> None:
        atomic_write(self.path(run_id) / "summary.json",
                     json.dumps(summary, indent=2, default=str).encode(), fsync=False)

    def list_runs(self) -> list[dict[str, object]]:
        """``run.json`` of every run, newest first (unreadable ones are listed as such)."""
        if not self.root.is_dir():
            return []
        out: list[dict[str, object]] = []
        for d in self.root.iterdir():
            if not d.is_dir() or not _RUN_ID.match(d.name):
                continue
            try:
                out.append(self.meta(d.name))
            except (StorageError, NotFoundError) as exc:
                out.append({"id": d.name, "state": "unreadable", "error": str(exc),
                            "created": ""})
        out.sort(key=lambda m: (str(m.get("created", "")), str(m.get("id", ""))), reverse=True)
        return out


def _jsonable(v: object) -> object:
    if isinstance(v, str | int | float | bool) or v is None:
        return v
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple | set | frozenset):
        return [_jsonable(x) for x in v]
    return str(v)
