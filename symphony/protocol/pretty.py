"""Human-readable renderings of envelopes and JSON-RPC messages, for logs and terminals.

:func:`pretty` gives an indented multi-line form (ANSI colours when ``color=True``, or by
default when ``sys.stderr`` is a terminal and ``NO_COLOR`` is unset); :func:`compact` gives one
line, safe for log files (no newlines, long values shortened). Both accept a
:class:`~symphony.protocol.envelope.Message`, a JSON-RPC event
(:class:`~symphony.protocol.jsonrpc.Request` …), or raw JSON-RPC bytes/str/dict.
"""

from __future__ import annotations

import datetime as _dt
import os
import sys
from typing import Any, Final

from symphony.protocol import _json
from symphony.protocol.envelope import Message, MessageId
from symphony.protocol.jsonrpc import (
    ErrorObject,
    ErrorResponse,
    Notification,
    Request,
    Response,
)

__all__ = ["color_default", "compact", "pretty"]

_RESET: Final = "\x1b[0m"
_COLORS: Final = {
    "key": "\x1b[36m",  # cyan
    "str": "\x1b[32m",  # green
    "num": "\x1b[33m",  # yellow
    "const": "\x1b[35m",  # magenta
    "head": "\x1b[1m",  # bold
    "error": "\x1b[31m",  # red
}
MAX_INLINE: Final = 80
"""Longest value rendering kept as is in :func:`compact` (longer ones end in "…")."""


def color_default() -> bool:
    """Colour by default only on a terminal, and never with ``NO_COLOR`` set."""
    return "NO_COLOR" not in os.environ and sys.stderr.isatty()


def _c(text: str, role: str, color: bool) -> str:
    return f"{_COLORS[role]}{text}{_RESET}" if color else text


def _scalar(v: Any, color: bool) -> str:
    if isinstance(v, str):
        return _c(repr(v), "str", color)
    if v is None or isinstance(v, bool):
        return _c(repr(v), "const", color)
    if isinstance(v, (int, float)):
        return _c(repr(v), "num", color)
    if isinstance(v, MessageId):
        return _c(str(v), "const", color)
    if isinstance(v, _dt.datetime):
        return _c(v.isoformat(), "const", color)
    if isinstance(v, (bytes, bytearray)):
        shown = bytes(v[:32]).hex()
        return _c(f"<{len(v)} bytes {shown}{'…' if len(v) > 32 else ''}>", "const", color)
    return repr(v)


def _tree(v: Any, indent: int, color: bool, lines: list[str], prefix: str, depth: int) -> None:
    pad = "  " * indent
    if depth > 32:
        lines.append(f"{pad}{prefix}…")
        return
    if isinstance(v, dict) and v:
        lines.append(f"{pad}{prefix}{{")
        for k, x in v.items():
            _tree(x, indent + 1, color, lines, _c(str(k), "key", color) + ": ", depth + 1)
        lines.append(f"{pad}}}")
    elif isinstance(v, (list, tuple)) and v and not isinstance(v, MessageId):
        lines.append(f"{pad}{prefix}[")
        for x in v:
            _tree(x, indent + 1, color, lines, "", depth + 1)
        lines.append(f"{pad}]")
    else:
        lines.append(
            f"{pad}{prefix}{_scalar(v, color) if not isinstance(v, (dict, list)) else repr(v)}"
        )


def _inline(v: Any, depth: int = 0) -> str:
    if depth > 8:
        return "…"
    if isinstance(v, dict):
        body = ", ".join(f"{k}: {_inline(x, depth + 1)}" for k, x in v.items())
        text = "{" + body + "}"
    elif isinstance(v, (list, tuple)) and not isinstance(v, MessageId):
        text = "[" + ", ".join(_inline(x, depth + 1) for x in v) + "]"
    else:
        text = _scalar(v, False)
    text = text.replace("\n", "\\n").replace("\r", "\\r")
    return text if len(text) <= MAX_INLINE else text[: MAX_INLINE - 1] + "…"


def _jsonrpc_obj(obj: Any) -> Any:
    if isinstance(obj, (bytes, bytearray, memoryview, str)):
        try:
            return _json.loads(obj)
        except (ValueError, TypeError):
            return {
                "<unparsable>": bytes(obj).decode("utf-8", "replace")
                if not isinstance(obj, str)
                else obj
            }
    if isinstance(obj, Request):
        d: dict[str, Any] = {"jsonrpc": "2.0", "method": obj.method, "id": obj.id}
        if obj.params is not None:
            d["params"] = obj.params
        return d
    if isinstance(obj, Notification):
        d = {"jsonrpc": "2.0", "method": obj.method}
        if obj.params is not None:
            d["params"] = obj.params
        return d
    if isinstance(obj, Response):
        return {"jsonrpc": "2.0", "result": obj.result, "id": obj.id}
    if isinstance(obj, ErrorResponse):
        return {"jsonrpc": "2.0", "error": obj.error.to_json(), "id": obj.id}
    if isinstance(obj, ErrorObject):
        return obj.to_json()
    return obj


def _rpc_title(d: Any) -> str:
    if not isinstance(d, dict):
        return "JSON-RPC ?"
    if "method" in d:
        return f"JSON-RPC {'request' if 'id' in d else 'notification'} {d.get('method')}"
    if "error" in d:
        err = d["error"] if isinstance(d["error"], dict) else {}
        return f"JSON-RPC error {err.get('code')} {err.get('message')!s}"
    return "JSON-RPC response"


def pretty(obj: Any, *, color: bool | None = None) -> str:
    """Indented, multi-line rendering of an envelope or a JSON-RPC message."""
    if color is None:
        color = color_default()
    lines: list[str] = []
    if isinstance(obj, Message):
        head = f"Message {obj.kind.name.lower()} {obj.type} v{obj.version}"
        lines.append(_c(head, "head", color))
        for name in (
            "id",
            "correlation_id",
            "source",
            "target",
            "timestamp",
            "ttl_ms",
            "priority",
            "protocol_version",
        ):
            value: Any = getattr(obj, name)
            if name == "priority":
                value = value.name.lower()
                lines.append(f"  {_c(name, 'key', color)}: {value}")
                continue
            if name == "timestamp":
                when = _dt.datetime.fromtimestamp(value / 1e9, _dt.UTC)
                lines.append(
                    f"  {_c(name, 'key', color)}: {_scalar(value, color)} ({when.isoformat()})"
                )
                continue
            lines.append(f"  {_c(name, 'key', color)}: {_scalar(value, color)}")
        _tree(obj.payload, 1, color, lines, _c("payload", "key", color) + ": ", 0)
        _tree(obj.metadata, 1, color, lines, _c("metadata", "key", color) + ": ", 0)
        return "\n".join(lines)
    d = _jsonrpc_obj(obj)
    if isinstance(d, list):
        lines.append(_c(f"JSON-RPC batch of {len(d)}", "head", color))
        for item in d:
            lines.extend("  " + ln for ln in pretty(item, color=color).splitlines())
        return "\n".join(lines)
    title = _rpc_title(d)
    lines.append(_c(title, "error" if "error" in title else "head", color))
    _tree(d, 1, color, lines, "", 0)
    return "\n".join(lines)


def compact(obj: Any) -> str:
    """One line, no colour, long values shortened: for log files."""
    if isinstance(obj, Message):
        parts = [
            f"{obj.kind.name.lower()} {obj.type} v{obj.version}",
            f"id={obj.id}",
        ]
        if obj.correlation_id is not None:
            parts.append(f"re={obj.correlation_id}")
        parts.append(f"{obj.source or '?'}->{obj.target or '*'}")
        if obj.priority != 1:
            parts.append(f"prio={obj.priority.name.lower()}")
        if obj.ttl_ms is not None:
            parts.append(f"ttl={obj.ttl_ms}ms")
        parts.append(f"payload={_inline(obj.payload)}")
        if obj.metadata:
            parts.append(f"meta={_inline(obj.metadata)}")
        return " ".join(parts)
    if isinstance(obj, ErrorObject):
        return f"error {obj.code} {obj.message}" + (
            f" {_inline(obj.data)}" if obj.data is not None else ""
        )
    d = _jsonrpc_obj(obj)
    if isinstance(d, list):
        return f"batch[{len(d)}]: " + " | ".join(compact(x) for x in d)
    if isinstance(d, dict) and "<unparsable>" in d:
        return f"unparsable {_inline(d['<unparsable>'])}"
    if not isinstance(d, dict):
        return f"jsonrpc ? {_inline(d)}"
    if "method" in d:
        kind = "call" if "id" in d else "notify"
        rid = f" id={_inline(d['id'])}" if "id" in d else ""
        return f"{kind} {d.get('method')}{rid} params={_inline(d.get('params'))}"
    if "error" in d:
        return f"error id={_inline(d.get('id'))} {_inline(d['error'])}"
    return f"result id={_inline(d.get('id'))} {_inline(d.get('result'))}"
