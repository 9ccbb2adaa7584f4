"""``symphony artifacts put/get/show/history/search/verify/gc/rollback``.

The lead wires it with ``register(sub)`` from :mod:`symphony.cli`; :func:`main` runs it
alone (``python -m symphony.pit.artifacts.cli ...``). Exit status: 0 ok, 1 a Symphony error
(printed on stderr, one line), 2 usage, 3 ``verify`` found problems.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from symphony.commons.errors import SymphonyError, ValidationError

from .store import ArtifactStore

__all__ = ["main", "register"]


def _open(args: argparse.Namespace) -> ArtifactStore:
    return ArtifactStore.from_config(args.root)


def _print_json(value: Any) -> None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    elif isinstance(value, list):
        value = [
            dataclasses.asdict(v) if dataclasses.is_dataclass(v) and not isinstance(v, type) else v
            for v in value
        ]
    print(json.dumps(value, indent=2, sort_keys=True, default=str))


def _cmd_put(args: argparse.Namespace) -> int:
    meta: dict[str, object] = {}
    for item in args.meta or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValidationError(f"--meta {item!r}: expected KEY=VALUE")
        meta[key] = value
    scores: dict[str, float] = {}
    for item in args.score or []:
        key, sep, value = item.partition("=")
        try:
            scores[key] = float(value)
        except ValueError:
            raise ValidationError(f"--score {item!r}: expected NAME=NUMBER") from None
        if not sep:
            raise ValidationError(f"--score {item!r}: expected NAME=NUMBER")
    source: object = sys.stdin.buffer if args.file == "-" else Path(args.file)
    with _open(args) as store:
        ref = store.put(
            source,  # type: ignore[arg-type]
            name=args.name,
            content_type=args.content_type,
            metadata=meta,
            tags=args.tag or (),
            producer=args.producer,
            run_id=args.run,
            node_id=args.node,
            parents=args.parent or (),
            scores=scores,
            message=args.message,
        )
    _print_json(ref) if args.json else print(
        f"{ref.id} {ref.name or ''}@{ref.version or ''}".rstrip("@ ")
    )
    return 0


def _cmd_get(args: argparse.Namespace) -> int:
    with _open(args) as store:
        if args.output in (None, "-"):
            with store.open(args.ref) as fh:
                while piece := fh.read(1 << 20):
                    sys.stdout.buffer.write(piece)
            sys.stdout.buffer.flush()
        else:
            from symphony.commons.fs import atomic_write

            atomic_write(args.output, store.get(args.ref))
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    with _open(args) as store:
        _print_json(store.show(args.ref))
    return 0


def _cmd_history(args: argparse.Namespace) -> int:
    with _open(args) as store:
        versions = store.history(args.name)
    if args.json:
        _print_json(versions)
    else:
        for v in versions:
            who = " ".join(x for x in (v.producer, v.run_id, v.node_id) if x)
            print(f"{v.version:>5}  {v.id[:16]}  {v.created_at:.3f}  {who}  {v.message or ''}")
    return 0


def _cmd_rollback(args: argparse.Namespace) -> int:
    with _open(args) as store:
        ref = store.rollback(args.name, args.version)
    print(f"{ref.id} {ref.name}@{ref.version}")
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    with _open(args) as store:
        hits = store.search(
            args.query,
            limit=args.limit,
            content_type=args.content_type,
            tags=args.tag or (),
            producer=args.producer,
            name=args.name,
            since=args.since,
            until=args.until,
            min_quality=args.min_quality,
        )
    if args.json:
        _print_json(hits)
    else:
        for h in hits:
            print(f"{h.score:8.3f}  {h.id}  {','.join(h.names)}  {h.content_type or ''}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    with _open(args) as store:
        report = store.verify()
    if args.json:
        _print_json(report)
    else:
        print(
            f"checked {report.chunks} chunks ({report.bytes_checked} bytes), "
            f"{report.artifacts} artifacts; {report.unreferenced_chunks} unreferenced chunks, "
            f"{report.uncommitted_tail_bytes} uncommitted pack bytes"
        )
        for problem in report.problems:
            print(f"PROBLEM: {problem}")
    return 0 if report.ok else 3


def _cmd_gc(args: argparse.Namespace) -> int:
    with _open(args) as store:
        report = store.gc(args.grace)
    _print_json(report)
    return 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``artifacts`` (with its subcommands) to an ``add_subparsers()`` object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "artifacts", help="the artifact store: put/get/show/history/search/verify/gc"
    )
    parser.add_argument("--root", type=Path, default=None, help="store directory")
    sub = parser.add_subparsers(dest="artifacts_command", metavar="ACTION", required=True)

    p = sub.add_parser("put", help="store a file (or - for stdin)")
    p.add_argument("file")
    p.add_argument("--name")
    p.add_argument("--content-type")
    p.add_argument("--meta", action="append", metavar="KEY=VALUE")
    p.add_argument("--tag", action="append")
    p.add_argument("--producer")
    p.add_argument("--run")
    p.add_argument("--node")
    p.add_argument("--parent", action="append")
    p.add_argument("--score", action="append", metavar="NAME=VALUE")
    p.add_argument("--message")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_put)

    p = sub.add_parser("get", help="write an artifact's content (verified) to stdout or a file")
    p.add_argument("ref", help="id, id prefix, name or name@version")
    p.add_argument("-o", "--output")
    p.set_defaults(func=_cmd_get)

    p = sub.add_parser("show", help="metadata, versions, lineage and scores (JSON)")
    p.add_argument("ref")
    p.set_defaults(func=_cmd_show)

    p = sub.add_parser("history", help="versions of a name")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_history)

    p = sub.add_parser("rollback", help="make an old version the latest (as a new version)")
    p.add_argument("name")
    p.add_argument("version", type=int)
    p.set_defaults(func=_cmd_rollback)

    p = sub.add_parser("search", help="full-text search with filters")
    p.add_argument("query", nargs="?", default="")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--content-type")
    p.add_argument("--tag", action="append")
    p.add_argument("--producer")
    p.add_argument("--name")
    p.add_argument("--since", type=float)
    p.add_argument("--until", type=float)
    p.add_argument("--min-quality", type=float)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_search)

    p = sub.add_parser("verify", help="check every chunk and artifact of the store")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("gc", help="collect unreferenced chunks (mark/sweep with grace)")
    p.add_argument("--grace", type=float, default=None, help="seconds (default: config)")
    p.set_defaults(func=_guarded(_cmd_gc))

    for action in sub.choices.values():
        func = action.get_default("func")
        if func is not None and not getattr(func, "_guarded", False):
            action.set_defaults(func=_guarded(func))
    return parser


def _guarded(func: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            rc: int = func(args)
        except SymphonyError as exc:
            print(f"symphony artifacts {args.artifacts_command}: {exc}", file=sys.stderr)
            return 1
        return rc

    run._guarded = True  # type: ignore[attr-defined]
    return run


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``artifacts ...`` alone: ``main(["put", "file.txt"])``."""
    parser = argparse.ArgumentParser(prog="symphony")
    sub = parser.add_subparsers(dest="command")
    register(sub)
    args = parser.parse_args(["artifacts", *(sys.argv[1:] if argv is None else argv)])
    rc: int = args.func(args)
    return rc


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
