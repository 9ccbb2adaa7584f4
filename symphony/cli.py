"""The ``symphony`` command.

Subcommands:
  run WORKFLOW      validate and run a workflow or template file (--param k=v, --resume ID)
  runs              past runs and their state; control a running one
  artifacts ...     the content-addressed artifact store (put/get/show/history/search/...)
  pit status        models and their states, queues, tiers and storage
  doctor            version, kernel implementation, config files, data dirs, optional tools
  bench AREA ...    Symphony and its peers side by side in one process run (see
                    :mod:`symphony.bench`); ``symphony bench --list`` shows the areas
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import pkgutil
import platform
import shutil
import sys
from collections.abc import Sequence
from typing import TextIO

from symphony import __version__
from symphony.commons.errors import SymphonyError

__all__ = ["main"]

_OPTIONAL_TOOLS = ("bwrap", "valgrind", "gcc", "git")
_OPTIONAL_PACKAGES = (
    "numpy",
    "networkx",
    "rustworkx",
    "blake3",
    "fastcdc",
    "faster_fifo",
    "zmq",
    "msgspec",
    "orjson",
    "asv",
)


def _bench_areas() -> list[str]:
    import symphony.bench as bench_pkg

    return sorted(
        m.name for m in pkgutil.iter_modules(bench_pkg.__path__) if not m.name.startswith("_")
    )


def _cmd_doctor(args: argparse.Namespace) -> int:
    out = sys.stdout
    out.write(f"symphony {__version__}\n")
    out.write(f"python    {platform.python_version()} ({sys.executable})\n")
    out.write(f"platform  {platform.system()} {platform.machine()} ({os.cpu_count()} cpus)\n")
    ok = True
    try:
        import symphony.kernels as kernels
    except ImportError as exc:
        out.write(f"kernels   NOT AVAILABLE: {exc}\n")
        ok = False
    else:
        out.write(f"kernels   {kernels.IMPLEMENTATION}\n")
        for name in kernels.KERNELS:
            mod = getattr(kernels, name)
            out.write(f"  {name:<10} {mod.__file__}\n")
        out.write(f"  crc32c hardware path: {kernels.checksum.uses_hardware()}\n")
    _doctor_config(out)
    out.write("optional tools\n")
    for tool in _OPTIONAL_TOOLS:
        where = shutil.which(tool)
        out.write(f"  {tool:<10} {where or 'not found'}\n")
    out.write("optional packages (bench peers)\n")
    for pkg in _OPTIONAL_PACKAGES:
        found = importlib.util.find_spec(pkg) is not None
        out.write(f"  {pkg:<12} {'present' if found else 'missing'}\n")
    return 0 if ok else 1


def _doctor_config(out: TextIO) -> None:
    from symphony.commons import config, fs

    try:
        loaded = config.load_config()
    except SymphonyError as exc:  # report, never crash the doctor
        out.write(f"config    ERROR: {exc}\n")
    else:
        out.write(f"config    environment {loaded.env!r}, directory {loaded.config_dir}\n")
        for path in loaded.searched:
            state = "read" if path in loaded.sources else "absent"
            out.write(f"  {state:<8}{path}\n")
        for var in loaded.env_overrides:
            out.write(f"  env     {var}\n")
    dirs = fs.project_dirs()
    out.write("data dirs\n")
    for label in ("data_dir", "config_dir", "cache_dir", "log_dir", "runtime_dir"):
        path = getattr(dirs, label)
        note = "" if path.exists() else "  (not created yet)"
        out.write(f"  {label:<12} {path}{note}\n")


def _cmd_bench(args: argparse.Namespace) -> int:
    areas = _bench_areas()
    if args.list or not args.area:
        print("bench areas: " + ", ".join(areas))
        return 0 if args.list else 2
    if args.area not in areas:
        print(
            f"symphony bench: unknown area {args.area!r}; choose from {', '.join(areas)}",
            file=sys.stderr,
        )
        return 2
    module = importlib.import_module(f"symphony.bench.{args.area}")
    rc: int = module.main(list(args.rest))
    return rc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="symphony", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"symphony {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    doctor = sub.add_parser("doctor", help="show what symphony runs on and what it finds")
    doctor.set_defaults(func=_cmd_doctor)

    bench = sub.add_parser("bench", help="benchmarks side by side with the peers")
    bench.add_argument("area", nargs="?", help="which area (see --list)")
    bench.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for the area")
    bench.add_argument("--list", action="store_true", help="list the areas")
    bench.set_defaults(func=_cmd_bench)

    from symphony.pit.artifacts.cli import register as register_artifacts
    from symphony.pit.cli import register as register_pit
    from symphony.pit.dag_tracker.cli import register as register_runs

    register_runs(sub)
    register_artifacts(sub)
    register_pit(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``symphony`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    rc: int = args.func(args)
    return rc


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
