"""``duck()``: temporary debugging output that is easy to find and remove.

Every line starts with ``[DUCK DEBUGGING]`` and names the caller's file and line, so
``grep -rn "DUCK DEBUGGING"`` finds the output and ``grep -rn "duck("`` the calls. ``duck``
returns its first argument, so it can wrap an expression in place::

    total = duck(a + b)                 # [DUCK DEBUGGING] pit/pool.py:41 in grow: 12
    duck(state, pending=len(q))         # [DUCK DEBUGGING] … : <State …> | pending=3
    duck()                              # [DUCK DEBUGGING] … : reached

It writes to ``sys.stderr`` (looked up at each call, so pytest's ``capsys`` sees it), never to
the logging system, and is meant to be deleted before committing: a test fails if a
``duck(`` call is left in ``symphony/``.
"""

from __future__ import annotations

import os
import sys
from typing import TypeVar, overload

__all__ = ["DUCK_PREFIX", "duck"]

DUCK_PREFIX = "[DUCK DEBUGGING]"
"""The searchable prefix of every ``duck()`` line."""

T = TypeVar("T")


def _format(values: tuple[object, ...], labelled: dict[str, object]) -> str:
    parts = [repr(v) for v in values]
    shown = ", ".join(parts)
    if labelled:
        pairs = ", ".join(f"{k}={v!r}" for k, v in labelled.items())
        shown = f"{shown} | {pairs}" if shown else pairs
    return shown or "reached"


@overload
def duck(value: T, /, *values: object, **labelled: object) -> T: ...
@overload
def duck(**labelled: object) -> None: ...
def duck(*values: object, **labelled: object) -> object:
    """Print ``values`` and ``labelled`` values to stderr with the caller's location.

    Args:
        values: shown with ``repr``, comma-separated.
        labelled: shown as ``name=repr(value)`` after a ``|``.

    Returns:
        The first positional argument (``None`` if there is none), so that ``duck(expr)``
        can stand in for ``expr``.
    """
    frame = sys._getframe(1)
    code = frame.f_code
    where = code.co_filename
    try:
        rel = os.path.relpath(where)
        if not rel.startswith(".."):
            where = rel
    except ValueError:  # another drive on Windows
        pass
    line = (
        f"{DUCK_PREFIX} {where}:{frame.f_lineno} in {code.co_name}: {_format(values, labelled)}\n"
    )
    del frame
    stream = sys.stderr
    if stream is not None:  # pythonw / detached: nowhere to write
        stream.write(line)
        stream.flush()
    return values[0] if values else None
