"""Timing and table helpers shared by every ``symphony bench`` area.

Rules (../shared/PLATFORM.md): these 2-core VMs drift 30-50 % between runs, so every figure is
the median of several rounds, and every comparison is a ratio to a peer measured in the same
process run.
"""

from __future__ import annotations

import gc
import importlib
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType


def median_time(fn: Callable[[], object], *, rounds: int = 5, number: int = 1) -> float:
    """Median seconds per call of ``fn`` over ``rounds`` rounds of ``number`` calls each."""
    samples = []
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            samples.append((time.perf_counter() - t0) / number)
    finally:
        if gc_was:
            gc.enable()
    return statistics.median(samples)


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by nearest rank."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def optional(module: str) -> ModuleType | None:
    """Import a peer if it is installed, else ``None`` (the table says "missing")."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


@dataclass
class Table:
    """A side-by-side table: one row per (case, contender), ratio to a baseline contender."""

    title: str
    unit: str
    higher_is_better: bool
    baseline: str = "symphony"
    rows: list[tuple[str, str, float | None, str]] = field(default_factory=list)

    def add(self, case: str, who: str, value: float | None, note: str = "") -> None:
        self.rows.append((case, who, value, note))

    def render(self) -> str:
        base: dict[str, float] = {
            case: v for case, who, v, _ in self.rows if who == self.baseline and v
        }
        better = "higher" if self.higher_is_better else "lower"
        lines = [
            f"== {self.title}  ({self.unit}, {better} is better; "
            f"'vs {self.baseline}' = how many times better {self.baseline} is)",
        ]
        width = max([len(w) for _, w, _, _ in self.rows] + [10])
        for case, who, value, note in self.rows:
            if value is None:
                lines.append(f"  {case:<28} {who:<{width}} {'missing':>12}  {note}")
                continue
            ratio = ""
            b = base.get(case)
            if b and who != self.baseline and value:
                r = b / value if self.higher_is_better else value / b
                ratio = f"  vs {self.baseline}: {r:6.2f}x"
            lines.append(f"  {case:<28} {who:<{width}} {value:12.4g}{ratio}  {note}")
        return "\n".join(lines)

    def print(self) -> None:
        print(self.render(), flush=True)
