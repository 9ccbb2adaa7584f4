"""``python -m symphony.testing KERNEL MODULE [--examples N]``: the differential suite of one
kernel, with the module named MODULE (e.g. ``my_pkg.my_ring``) against the reference twin."""

from __future__ import annotations

import argparse
import importlib
import sys

from symphony.testing.twins import KERNEL_SUITES, check_kernel


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m symphony.testing", description=__doc__)
    parser.add_argument("kernel", choices=sorted(KERNEL_SUITES))
    parser.add_argument("module", help="importable module implementing the kernel's API")
    parser.add_argument("--examples", type=int, default=50, help="Hypothesis examples per check")
    parser.add_argument(
        "--derandomize", action="store_true", help="draw the same examples on every run"
    )
    args = parser.parse_args(argv)
    candidate = importlib.import_module(args.module)
    try:
        check_kernel(
            args.kernel, candidate, max_examples=args.examples, derandomize=args.derandomize
        )
    except AssertionError as exc:
        print(f"FAIL: {args.module} disagrees with symphony.reference.{args.kernel}:\n{exc}")
        return 1
    print(f"ok: {args.module} agrees with symphony.reference.{args.kernel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
