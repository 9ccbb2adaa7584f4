"""The routing engine: message type (or any key) -> endpoint id (seed M1.5.2).

Routes are *exact* (``"editor.insert"``) or *glob* patterns (``"editor.*"``, ``"fs.[rw]*"``,
``fnmatch`` syntax: ``*`` any characters, ``?`` one, ``[...]`` a set). Each has a priority;
the best route is the highest priority, then exact before glob, then the oldest. A default
route catches everything else.

Cost: an exact key is one dict lookup in a per-key result cache (O(1), independent of the
number of routes); a cache miss walks the exact table (one lookup) and the glob patterns
(one compiled regex each), then caches the answer. The cache is cleared on every change
and bounded by ``cache_size`` keys.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from symphony.commons.errors import LocalProtocolError

__all__ = ["Route", "Router", "is_glob"]

_GLOB_CHARS = frozenset("*?[")


def is_glob(pattern: str) -> bool:
    """True if ``pattern`` contains a glob metacharacter (``*``, ``?`` or ``[``)."""
    return not _GLOB_CHARS.isdisjoint(pattern)


@dataclass(frozen=True, slots=True)
class Route:
    """One route: ``pattern`` -> ``endpoint`` with a ``priority`` (higher wins)."""

    pattern: str
    endpoint: str
    priority: int = 0
    seq: int = 0
    """Insertion order (older wins ties)."""
    glob: bool = False
    match: Callable[[str], Any] | None = field(default=None, compare=False, repr=False)

    def sort_key(self) -> tuple[int, int, int]:
        return (-self.priority, 1 if self.glob else 0, self.seq)


class Router:
    """Routes keys (message types) to endpoint ids; see the module docstring.

    Args:
        cache_size: most keys whose answer is cached (the cache is cleared when full).
    """

    def __init__(self, cache_size: int = 65536) -> None:
        self._exact: dict[str, list[Route]] = {}
        self._globs: list[Route] = []
        self._default: str | None = None
        self._cache: dict[str, tuple[str, ...]] = {}
        self._cache_size = cache_size
        self._seq = itertools.count()
        self.misses = 0
        """Cache misses (keys resolved the slow way)."""

    # ---- changes --------------------------------------------------------------------
    def add_route(self, pattern: str, endpoint: str, priority: int = 0) -> Route:
        """Add a route; a pattern may route to several endpoints (``route_all``)."""
        if not isinstance(pattern, str) or not pattern:
            raise LocalProtocolError(f"route pattern must be a non-empty str, got {pattern!r}")
        if not isinstance(endpoint, str) or not endpoint:
            raise LocalProtocolError(f"route endpoint must be a non-empty str, got {endpoint!r}")
        glob = is_glob(pattern)
        route = Route(
            pattern,
            endpoint,
            int(priority),
            next(self._seq),
            glob,
            re.compile(fnmatch.translate(pattern)).match if glob else None,
        )
        if glob:
            self._globs.append(route)
        else:
            self._exact.setdefault(pattern, []).append(route)
        self._cache.clear()
        return route

    def remove_route(self, pattern: str, endpoint: str | None = None) -> int:
        """Remove the routes of ``pattern`` (only to ``endpoint`` if given); how many."""
        before = len(self)
        if is_glob(pattern):
            self._globs = [
                r
                for r in self._globs
                if not (r.pattern == pattern and (endpoint is None or r.endpoint == endpoint))
            ]
        else:
            routes = self._exact.get(pattern, [])
            kept = [r for r in routes if endpoint is not None and r.endpoint != endpoint]
            if kept:
                self._exact[pattern] = kept
            else:
                self._exact.pop(pattern, None)
        self._cache.clear()
        return before - len(self)

    def remove_endpoint(self, endpoint: str) -> int:
        """Remove every route to ``endpoint`` (and the default if it is that endpoint)."""
        before = len(self)
        self._globs = [r for r in self._globs if r.endpoint != endpoint]
        for pattern in list(self._exact):
            kept = [r for r in self._exact[pattern] if r.endpoint != endpoint]
            if kept:
                self._exact[pattern] = kept
            else:
                del self._exact[pattern]
        if self._default == endpoint:
            self._default = None
        self._cache.clear()
        return before - len(self)

    def set_default(self, endpoint: str | None) -> None:
        """The endpoint for keys no route matches (None: no default)."""
        self._default = endpoint
        self._cache.clear()

    @property
    def default(self) -> str | None:
        return self._default

    def __len__(self) -> int:
        return len(self._globs) + sum(map(len, self._exact.values()))

    def routes(self) -> list[Route]:
        """Every route, best first."""
        everything = [r for rs in self._exact.values() for r in rs] + self._globs
        return sorted(everything, key=Route.sort_key)

    # ---- lookups --------------------------------------------------------------------
    def _resolve(self, key: str) -> tuple[str, ...]:
        self.misses += 1
        found = list(self._exact.get(key, ()))
        found.extend(r for r in self._globs if r.match is not None and r.match(key))
        found.sort(key=Route.sort_key)
        seen: dict[str, None] = {}
        for r in found:
            seen.setdefault(r.endpoint, None)
        result = tuple(seen)
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[key] = result
        return result

    def route(self, key: Any) -> str | None:
        """The best endpoint for ``key`` (a str, or a Message: its ``type``), else the
        default route, else None."""
        if type(key) is not str:
            key = key[4]
        hit = self._cache.get(key)
        if hit is None:
            hit = self._resolve(key)
        return hit[0] if hit else self._default

    def route_all(self, key: Any) -> list[str]:
        """Every endpoint whose route matches ``key``, best first (each once); the default
        route alone if none matches; ``[]`` if there is no default either."""
        if type(key) is not str:
            key = key[4]
        hit = self._cache.get(key)
        if hit is None:
            hit = self._resolve(key)
        if hit:
            return list(hit)
        return [] if self._default is None else [self._default]
