"""``symphony pit status``: models and states, queues, storage tiers, artifact storage.

The Pit services run inside the core process. A running core writes a status snapshot
(:func:`snapshot` → :func:`write_status`, periodically via :func:`status_writer`) to
``<runtime dir>/pit-status.json``; ``symphony pit status`` prints that file. With no core
running it says so and shows what it can read directly: the artifact store's storage
figures.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # kept out of `symphony --help`: the services import trio, fsspec, …
    import trio

    from symphony.pit.arbitration import ArbitrationEngine
    from symphony.pit.pool import PoolManager
    from symphony.pit.stale import StaleManager

__all__ = ["default_status_path", "register", "snapshot", "status_writer", "write_status"]


def default_status_path() -> Path:
    """``<runtime dir>/pit-status.json`` (``SYMPHONY_PIT_STATUS`` overrides)."""
    env = os.environ.get("SYMPHONY_PIT_STATUS")
    if env:
        return Path(env)
    from symphony.commons.fs import project_dirs

    return project_dirs().runtime_dir / "pit-status.json"


def snapshot(
    pool: PoolManager | None = None,
    arbitration: ArbitrationEngine | None = None,
    stale: StaleManager | None = None,
) -> dict[str, object]:
    """Plain-data status of the given services."""
    out: dict[str, object] = {"written_at": time.time(), "pid": os.getpid()}
    if pool is not None:
        m = pool.metrics()
        out["pool"] = {
            "health": pool.health().value,
            "memory_used": m["memory_used"],
            "memory_budget": m["memory_budget"],
            "memory_peak": m["memory_peak"],
            "handles_live": m["handles_live"],
            "cold_starts": m["cold_starts"],
            "models": m["models"],
        }
    if arbitration is not None:
        out["arbitration"] = {
            "health": arbitration.health().value,
            "decisions": arbitration.decisions,
            "conflicts": {k.value: v for k, v in arbitration.conflicts.items()},
            "queues": arbitration.queues(),
            "shares": arbitration.shares(),
        }
    if stale is not None:
        out["stale"] = stale.analytics()
    return out


def write_status(path: Path, status: dict[str, object]) -> None:
    """Write ``status`` atomically as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(status, default=str, indent=1))
    tmp.replace(path)


async def status_writer(
    path: Path,
    *,
    interval: float = 2.0,
    pool: PoolManager | None = None,
    arbitration: ArbitrationEngine | None = None,
    stale: StaleManager | None = None,
    task_status: trio.TaskStatus[None] | None = None,
) -> None:
    """A service writing :func:`snapshot` every ``interval`` s; removes the file on exit."""
    import trio

    try:
        write_status(path, snapshot(pool, arbitration, stale))
        if task_status is not None:
            task_status.started()
        while True:
            await trio.sleep(interval)
            write_status(path, snapshot(pool, arbitration, stale))
    finally:
        path.unlink(missing_ok=True)


def _human(n: object) -> str:
    x = float(n) if isinstance(n, int | float) else 0.0
    for unit in ("B", "KiB", "MiB", "GiB"):
        if x < 1024 or unit == "GiB":
            return f"{x:.0f} {unit}" if unit == "B" else f"{x:.1f} {unit}"
        x /= 1024
    return str(n)


def render(status: dict[str, Any]) -> str:
    """Human-readable text of a status snapshot."""
    lines: list[str] = []
    pool = status.get("pool")
    if pool:
        lines.append(
            f"pool [{pool['health']}]  memory {_human(pool['memory_used'])} / "
            f"{_human(pool['memory_budget'])} (peak {_human(pool['memory_peak'])}), "
            f"{pool['handles_live']} handles, {pool['cold_starts']} cold starts"
        )
        for mid, m in sorted(pool["models"].items()):
            lines.append(
                f"  {mid:<20} {m['state']:<8} refs={m['refs']:<3} allocs={m['allocations']:<7} "
                f"cold={m['cold_starts']:<4} mem={_human(m['memory_bytes'])}"
                + (f"  failure: {m['failure']}" if m.get("failure") else "")
            )
    arb = status.get("arbitration")
    if arb:
        lines.append(
            f"arbitration [{arb['health']}]  {arb['decisions']} decisions, "
            f"conflicts {arb['conflicts']}"
        )
        for res, q in sorted(arb["queues"].items()):
            lines.append(
                f"  {res:<20} {q['kind']:<16} used {q['used']}/{q['capacity']} "
                f"waiting {q['waiting']} mean hold {q['mean_hold_s']:.3f}s"
            )
    stale = status.get("stale")
    if stale:
        lines.append(f"tiers  cost/day {stale['cost_per_day']:.0f}  protected {stale['protected']}")
        for tier, t in stale["tiers"].items():
            lines.append(f"  {tier:<8} {t['items']:>7} items {_human(t['bytes']):>10}")
    storage = status.get("storage")
    if storage:
        lines.append("artifact storage  " + ", ".join(f"{k}={v}" for k, v in storage.items()))
    return "\n".join(lines)


def _cmd_status(args: argparse.Namespace) -> int:
    path: Path = args.status_file or default_status_path()
    status: dict[str, Any]
    if path.exists():
        status = json.loads(path.read_text())
        age = time.time() - float(status.get("written_at", 0))
        header = f"pit status from {path} (pid {status.get('pid')}, {age:.1f} s old)"
    else:
        status = {}
        header = f"no running core publishes {path}: models, queues and tiers are not loaded"
    if "storage" not in status:
        try:
            from symphony.pit.artifacts import ArtifactStore

            store = ArtifactStore.from_config(args.root)
            try:
                status["storage"] = store.stats()
            finally:
                store.close()
        except Exception as exc:
            status["storage"] = {"error": str(exc)}
    if args.json:
        print(json.dumps(status, default=str, indent=1))
    else:
        print(header)
        print(render(status))
    return 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``pit`` (``pit status``) to an ``add_subparsers()`` object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "pit", help="The Pit: pooled models, arbitration queues, storage tiers"
    )
    sub = parser.add_subparsers(dest="pit_command", metavar="ACTION", required=True)
    p = sub.add_parser("status", help="models and states, queues, tiers and storage")
    p.add_argument("--status-file", type=Path, default=None)
    p.add_argument("--root", type=Path, default=None, help="artifact store directory")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_status)
    return parser
