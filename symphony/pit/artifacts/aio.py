"""trio wrappers: the blocking store work runs on a worker thread (``trio.to_thread``).

Every method has the signature of its :class:`~symphony.pit.artifacts.store.ArtifactStore`
twin. The store serializes its operations with a lock, so concurrent tasks are safe;
cancellation abandons the wait, not the operation (a put that started will commit or fail
atomically on its thread).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, ParamSpec, TypeVar

import trio

from .store import (
    ArtifactInfo,
    ArtifactRef,
    ArtifactSource,
    ArtifactStore,
    GcReport,
    SearchHit,
    VerifyReport,
    VersionInfo,
)

__all__ = ["AsyncArtifactStore"]

P = ParamSpec("P")
R = TypeVar("R")


async def _run(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    return await trio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))


class AsyncArtifactStore:
    """Async facade over an :class:`ArtifactStore` (which it owns unless told otherwise)."""

    def __init__(self, store: ArtifactStore) -> None:
        self.store = store

    @classmethod
    async def open(cls, *args: object, **kwargs: object) -> AsyncArtifactStore:
        """Open a store on a worker thread; same arguments as :class:`ArtifactStore`."""
        store = await trio.to_thread.run_sync(lambda: ArtifactStore(*args, **kwargs))  # type: ignore[arg-type]
        return cls(store)

    async def aclose(self) -> None:
        await _run(self.store.close)

    async def __aenter__(self) -> AsyncArtifactStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def put(
        self,
        data: ArtifactSource,
        *,
        name: str | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, object] | None = None,
        tags: Sequence[str] = (),
        producer: str | None = None,
        run_id: str | None = None,
        node_id: str | None = None,
        parents: Sequence[str] = (),
        scores: Mapping[str, float] | None = None,
        message: str | None = None,
        expected_version: int | None = None,
    ) -> ArtifactRef:
        return await _run(
            self.store.put,
            data,
            name=name,
            content_type=content_type,
            metadata=metadata,
            tags=tags,
            producer=producer,
            run_id=run_id,
            node_id=node_id,
            parents=parents,
            scores=scores,
            message=message,
            expected_version=expected_version,
        )

    async def get(self, ref: str) -> bytes:
        return await _run(self.store.get, ref)

    async def show(self, ref: str) -> ArtifactInfo:
        return await _run(self.store.show, ref)

    async def history(self, name: str) -> list[VersionInfo]:
        return await _run(self.store.history, name)

    async def rollback(self, name: str, version: int) -> ArtifactRef:
        return await _run(self.store.rollback, name, version)

    async def lineage(
        self, ref: str, direction: Literal["up", "down"] = "up", depth: int = 1_000_000
    ) -> list[tuple[str, str, str]]:
        return await _run(self.store.lineage, ref, direction, depth)

    async def search(self, query: str = "", **filters: object) -> list[SearchHit]:
        return await _run(self.store.search, query, **filters)  # type: ignore[arg-type]

    async def verify(self) -> VerifyReport:
        return await _run(self.store.verify)

    async def gc(self, grace_seconds: float | None = None) -> GcReport:
        return await _run(self.store.gc, grace_seconds)
