"""Instruments: an AI model call behind a pluggable model callable.

A *model* is an async callable ``model(spec, prompt, params) -> str``. :class:`ModelRegistry`
maps ``provider/name`` (or ``provider/*``) to one. The only built-in is ``local/echo``, a
deterministic offline stub (a *mock* model: it returns the first ``max_lines`` lines of the
prompt, tagged) — enough for tests and the example workflows; real models arrive later
through the Pool Manager by registering another callable. Nothing here touches the network.
"""

from __future__ import annotations

import string
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeAlias

from symphony.commons.errors import NotFoundError, ValidationError
from symphony.workflow.model import InstrumentNode, ModelSpec

__all__ = ["ModelFn", "ModelRegistry", "echo_model", "render_prompt", "run_instrument"]

ModelFn: TypeAlias = Callable[[ModelSpec, str, Mapping[str, object]], Awaitable[str]]


async def echo_model(spec: ModelSpec, prompt: str, params: Mapping[str, object]) -> str:
    """The offline stub: the prompt's first non-empty lines (``max_lines``, default 3)."""
    max_lines = params.get("max_lines", 3)
    if not isinstance(max_lines, int) or max_lines < 1:
        max_lines = 3
    lines = [ln.strip() for ln in prompt.splitlines() if ln.strip()][:max_lines]
    return f"[{spec}] " + " / ".join(lines)


class ModelRegistry:
    """Model callables by ``provider/name``; ``provider/*`` serves every name of a provider."""

    def __init__(self) -> None:
        self._models: dict[str, ModelFn] = {"local/echo": echo_model}

    def register(self, key: str, fn: ModelFn) -> None:
        """Serve ``key`` (``"provider/name"`` or ``"provider/*"``) with ``fn``."""
        if "/" not in key:
            raise ValidationError(f"model key must be 'provider/name' or 'provider/*', got {key!r}")
        self._models[key] = fn

    def get(self, spec: ModelSpec) -> ModelFn:
        """The callable for ``spec``.

        Raises:
            NotFoundError: no model registered for it (names the spec and what is known).
        """
        fn = self._models.get(f"{spec.provider}/{spec.name}") or self._models.get(
            f"{spec.provider}/*"
        )
        if fn is None:
            raise NotFoundError(
                f"no model registered for {spec} (known: {', '.join(sorted(self._models))}); "
                "real models come through the Pool Manager",
                details={"model": str(spec)},
            )
        return fn


def render_prompt(node: InstrumentNode, inputs: Mapping[str, object]) -> str:
    """``node.prompt`` with its ``{port}`` fields filled from ``inputs``.

    Raises:
        ValidationError: a field names no input (names the node and the field).
    """
    fields = [f for _, f, _, _ in string.Formatter().parse(node.prompt) if f]
    missing = [f for f in fields if f not in inputs]
    if missing:
        raise ValidationError(
            f"instrument {node.id!r}: prompt field(s) {missing} have no input "
            f"(inputs: {sorted(inputs)})", details={"node": node.id}
        )
    return node.prompt.format(**{k: v for k, v in inputs.items()})


async def run_instrument(
    node: InstrumentNode, inputs: Mapping[str, object], models: ModelRegistry
) -> dict[str, object]:
    """Call the node's model; the reply goes to its first output port (``output`` if none)."""
    prompt = render_prompt(node, inputs)
    reply = await models.get(node.model)(node.model, prompt, node.params)
    out = node.outputs[0].name if node.outputs else "output"
    return {out: reply}
