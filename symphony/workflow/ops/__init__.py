"""Built-in Operators and the operator registry (the first main job's building blocks).

An *operator* is a plain function ``fn(inputs, config) -> outputs``: ``inputs`` maps input
port names to values, ``config`` is the node's JSON config, and the result maps output port
names to values (JSON-like data: the journal records it so a resumed run can feed it
downstream). A coroutine function is an ``async`` operator. Operators are registered under a
dotted name with a default place to run (:data:`~symphony.workflow.model.RunIn`):

* ``"inline"`` — cheap and synchronous: called directly by the executor, no task, no thread;
* ``"async"`` — I/O-bound: awaited concurrently on trio;
* ``"process"`` — CPU-bound: run in a worker process (the function must be importable at
  module level so it pickles by reference).

A node's ``policy.run_in`` overrides the default unless it is ``"auto"``.

Built-ins (modules in this package): ``fs.*`` (scan, read, write), ``text.*`` (count_lines,
grep, split, normalize, join, words), ``stats.*`` (count, group_sum, describe, top),
``report.*`` (markdown, json), ``core.*`` (noop, identity, sleep, cpu, fail — for tests and
benchmarks), and Instruments backed by a pluggable model callable (:mod:`.instruments`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from inspect import iscoroutinefunction
from typing import Literal, TypeAlias

from symphony.commons.errors import NotFoundError, ValidationError

__all__ = [
    "OperatorFn",
    "OperatorRegistry",
    "OperatorSpec",
    "Outputs",
    "default_registry",
]

Outputs: TypeAlias = dict[str, object]
OperatorFn: TypeAlias = Callable[
    [Mapping[str, object], Mapping[str, object]], Outputs | Awaitable[Outputs]
]
Mode: TypeAlias = Literal["inline", "async", "process"]


@dataclass(frozen=True, slots=True)
class OperatorSpec:
    """A registered operator: its name, function, default place to run and a summary."""

    name: str
    fn: OperatorFn
    mode: Mode
    summary: str = ""


class OperatorRegistry:
    """Operators by name. :func:`default_registry` holds the built-ins; copy it to extend."""

    def __init__(self, specs: Mapping[str, OperatorSpec] | None = None) -> None:
        self._specs: dict[str, OperatorSpec] = dict(specs or {})

    def register(
        self, name: str, fn: OperatorFn, *, mode: Mode | None = None, summary: str = ""
    ) -> OperatorSpec:
        """Add ``fn`` under ``name`` (mode defaults to ``async`` for coroutine functions,
        else ``inline``).

        Raises:
            ValidationError: the name is taken or the mode is unknown.
        """
        if name in self._specs:
            raise ValidationError(f"operator {name!r} is already registered")
        if mode is None:
            mode = "async" if iscoroutinefunction(fn) else "inline"
        if mode not in ("inline", "async", "process"):
            raise ValidationError(f"operator {name!r}: unknown mode {mode!r}")
        if mode != "async" and iscoroutinefunction(fn):
            raise ValidationError(f"operator {name!r}: a coroutine function must be 'async'")
        spec = OperatorSpec(name, fn, mode, summary or (fn.__doc__ or "").strip().split("\n")[0])
        self._specs[name] = spec
        return spec

    def get(self, name: str) -> OperatorSpec:
        """The operator called ``name``.

        Raises:
            NotFoundError: naming the operator and the closest known names.
        """
        try:
            return self._specs[name]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(name, self._specs, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise NotFoundError(
                f"unknown operator {name!r}{hint}", details={"operator": name}
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[OperatorSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: s.name))

    def copy(self) -> OperatorRegistry:
        """An independent registry with the same operators."""
        return OperatorRegistry(self._specs)


_DEFAULT: OperatorRegistry | None = None


def default_registry() -> OperatorRegistry:
    """The built-in operators (built once; use ``.copy()`` before registering your own)."""
    global _DEFAULT
    if _DEFAULT is None:
        from symphony.workflow.ops import builtin

        reg = OperatorRegistry()
        builtin.register_all(reg)
        _DEFAULT = reg
    return _DEFAULT
