"""Load whatever a user points at: a workflow document or a template, in any format.

:func:`load_file` is what ``symphony run FILE [--param k=v ...]`` needs:

* ``*.json`` — a workflow document (``"schema": "symphony.workflow"``) or a template
  (``{"template": ..., "workflow": ...}``);
* ``*.toml`` — a template;
* ``*.sywf`` / ``*.msgpack`` (or any file whose bytes are not JSON) — a binary workflow.

Template parameters given as text are converted to their declared types (``coerce``).
Giving parameters for a plain workflow is an error (they would be silently ignored).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path

from symphony.commons.errors import ValidationError
from symphony.workflow.model import Workflow
from symphony.workflow.serialize import WorkflowFormatError, from_dict, loads_msgpack
from symphony.workflow.templates import TemplateError, parse_template

__all__ = ["load_file", "parse_params"]


def parse_params(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["a=1", "b=x=y"]`` → ``{"a": "1", "b": "x=y"}``.

    Raises:
        ValidationError: an item without ``=`` or with an empty name (names the item).
    """
    out: dict[str, str] = {}
    for item in pairs:
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise ValidationError(f"parameter {item!r} is not of the form name=value")
        out[name.strip()] = value
    return out


def load_file(
    path: str | Path, params: Mapping[str, object] | None = None, *, validate: bool = True
) -> Workflow:
    """Read a workflow or template file and return the (validated) workflow.

    Raises:
        TemplateError / TemplateParameterError: a bad template or bad parameters (all listed).
        WorkflowFormatError: a malformed document (names the key path and the file).
        WorkflowValidationError: the workflow is invalid (every problem), if ``validate``.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise WorkflowFormatError(f"{p}: cannot read: {exc.strerror or exc}") from None
    if p.suffix == ".toml":
        try:
            data: object = tomllib.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise TemplateError(f"{p}: not valid TOML: {exc}") from None
    elif p.suffix in (".sywf", ".msgpack") or raw[:1] not in (b"{", b" ", b"\n", b"\t", b"\r"):
        wf = _with_file(p, lambda: loads_msgpack(raw))
        return _finish(p, wf, params, validate)
    else:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise WorkflowFormatError(f"{p}: not valid JSON: {exc}") from None
    if isinstance(data, dict) and "template" in data:
        template = parse_template(data, str(p))
        return template.instantiate(params or {}, coerce=True, validate=validate)
    wf = _with_file(p, lambda: from_dict(data))
    return _finish(p, wf, params, validate)


def _with_file(p: Path, fn: object) -> Workflow:
    try:
        return fn()  # type: ignore[operator,no-any-return]
    except WorkflowFormatError as exc:
        exc.with_context(f"reading {p}")
        raise


def _finish(p: Path, wf: Workflow, params: Mapping[str, object] | None,
            validate: bool) -> Workflow:
    if params:
        raise ValidationError(
            f"{p} is a workflow, not a template: it takes no parameters (got "
            f"{', '.join(sorted(params))})"
        )
    if validate:
        wf.check()
    return wf
