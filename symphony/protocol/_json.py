"""JSON text <-> Python values for the protocol layer (orjson when installed, else stdlib).

Both paths accept only strict JSON (``NaN``/``Infinity`` are refused on input), produce
compact UTF-8 bytes, and raise only ``ValueError`` (bad input text) or ``TypeError`` (a value
with no JSON form). Notes on orjson's semantics, kept in the fallback where they matter:
nesting deeper than 1024 is refused; integers outside 64 bits decode as floats; non-finite
floats encode as ``null``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["BACKEND", "dumps", "loads"]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_std_decoder = json.JSONDecoder(parse_constant=_reject_constant)
_std_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _std_loads(data: bytes | bytearray | memoryview | str) -> Any:
    try:
        text = data if isinstance(data, str) else bytes(data).decode("utf-8")
        return _std_decoder.decode(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _std_dumps(value: Any) -> bytes:
    try:
        return _std_encode(value).encode("utf-8")
    except (UnicodeEncodeError, RecursionError) as exc:
        raise TypeError(f"no JSON form: {exc}") from None


BACKEND: str
loads: Callable[[bytes | bytearray | memoryview | str], Any]
dumps: Callable[[Any], bytes]

try:
    import orjson
except ImportError:  # pragma: no cover - exercised by tests that hide orjson
    loads = _std_loads
    dumps = _std_dumps
    BACKEND = "json"
else:
    _orjson_dumps = orjson.dumps

    def _orjson_dumps_or_std(value: Any) -> bytes:
        try:
            return _orjson_dumps(value)
        except TypeError:
            # big ints, non-str keys, subclasses orjson refuses: the stdlib can do some
            return _std_dumps(value)

    loads = orjson.loads  # the C function itself: one call less on the hot path
    dumps = _orjson_dumps_or_std
    BACKEND = "orjson"
