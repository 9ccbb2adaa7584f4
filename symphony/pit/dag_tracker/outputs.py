"""Node outputs into the artifact store (issue 8: every node output of a run lands there).

An :class:`OutputSink` is given to :class:`~.executor.DagTracker` (``output_sink=``). For
each execution of a run the executor opens a :class:`RunOutputs` and hands it every node
that succeeded (``add(i, outputs)``: a list append on the scheduler's path, nothing else).
A drain task of the run takes whatever accumulated and stores the batch in a worker thread
(``trio.to_thread``) while nodes keep running, so the batches grow with the store's latency
instead of the scheduler waiting on it. :meth:`Run.execute` closes the writer and waits for
the drain before the run is declared finished: when ``execute`` returns, every output of
the nodes it ran is committed in the store (as durable as ``[artifacts] durability``).

:class:`ArtifactOutputSink` stores each output port of each succeeded node as one artifact, one
:meth:`~symphony.pit.artifacts.ArtifactStore.batch` (one transaction, one commit) per batch:

* content — ``bytes``/``bytearray``/``memoryview`` as is (``application/octet-stream``),
  ``str`` as UTF-8 (``text/plain; charset=utf-8``), anything else as JSON with sorted keys
  (``application/json``; deterministic: the same value gives the same bytes, hence the same
  content-addressed id). A value JSON cannot express falls back to its ``repr`` with
  content type ``text/x-python-repr`` and metadata ``lossy: true``;
* name ``runs/<run_id>/<node_id>/<port>`` (characters outside ``[A-Za-z0-9_.:/+-]`` become
  ``_``), a new version per execution that produced it;
* metadata ``{run_id, node_id, port, workflow_id, workflow_version}``, tags ``run-output``
  and ``workflow:<id>``, producer ``workflow:<id>@<version>``;
* lineage: *produced-by* the run and node (``ArtifactStore.produced_by(run_id, node_id)``)
  and *derived-from* the artifacts of the values on the node's data inputs (data edges and
  conditional edges carrying a value). A producer finished in an earlier execution of the
  same run (a resumed run) is found by its name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

import orjson
import trio

from symphony.commons.errors import SymphonyError

if TYPE_CHECKING:
    from symphony.pit.artifacts.store import ArtifactStore

__all__ = ["ArtifactOutputSink", "OutputSink", "RunOutputs", "encode_output", "output_name"]

_BAD = re.compile(r"[^A-Za-z0-9_.:/+-]")

ParentsOf = Callable[[int], Sequence[tuple[int, str]]]


class RunOutputs(Protocol):
    """One execution's output writer (see the module docstring)."""

    def add(self, i: int, outputs: Mapping[str, object]) -> None:
        """Node ``i`` succeeded with ``outputs`` (must not block)."""
        ...

    async def run(self) -> None:
        """The drain task: stores batches until :meth:`close`, then returns once all is
        stored. Raises if the store fails (the run's execution then fails with it)."""
        ...

    def close(self) -> None:
        """No more outputs; :meth:`run` finishes what is pending and returns."""
        ...


class OutputSink(Protocol):
    """Where a DagTracker's runs store their node outputs."""

    def open_run(
        self,
        run_id: str,
        workflow_id: str,
        workflow_version: str,
        ids: Sequence[str],
        parents_of: ParentsOf,
    ) -> RunOutputs:
        """A writer for one execution of ``run_id``; ``ids[i]`` names node ``i`` and
        ``parents_of(i)`` lists the ``(producer index, port)`` pairs feeding its data
        inputs."""
        ...


def output_name(run_id: str, node_id: str, port: str) -> str:
    """The artifact name of one output: ``runs/<run>/<node>/<port>`` (sanitized)."""
    name = _BAD.sub("_", f"runs/{run_id}/{node_id}/{port}")
    return name[:255]


def _default(value: object) -> object:
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if hasattr(value, "__fspath__"):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode_output(value: object) -> tuple[bytes, str, bool]:
    """``(content, content type, lossy)`` for one output value (deterministic)."""
    if isinstance(value, bytes):
        return value, "application/octet-stream", False
    if isinstance(value, bytearray | memoryview):
        return bytes(value), "application/octet-stream", False
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass"), "text/plain; charset=utf-8", False
    try:
        data = orjson.dumps(
            value,
            default=_default,
            option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY,
        )
    except TypeError:
        return repr(value).encode("utf-8", "backslashreplace"), "text/x-python-repr", True
    return data, "application/json", False


class _ArtifactRunOutputs:
    def __init__(
        self,
        sink: ArtifactOutputSink,
        run_id: str,
        workflow_id: str,
        workflow_version: str,
        ids: Sequence[str],
        parents_of: ParentsOf,
    ) -> None:
        self._sink = sink
        self._run_id = run_id
        self._wf_id = workflow_id
        self._wf_version = workflow_version
        self._ids = ids
        self._parents_of = parents_of
        self._pending: list[tuple[int, Mapping[str, object]]] = []
        self._lot = trio.lowlevel.ParkingLot()
        self._parked = False
        self._closed = False
        self._stored: dict[tuple[int, str], str] = {}
        self.count = 0
        self.batches = 0

    def add(self, i: int, outputs: Mapping[str, object]) -> None:
        self._pending.append((i, outputs))
        if self._parked:
            self._parked = False
            self._lot.unpark()

    def close(self) -> None:
        self._closed = True
        self._parked = False
        self._lot.unpark_all()

    async def run(self) -> None:
        while True:
            if self._pending:
                batch, self._pending = self._pending, []
                await trio.to_thread.run_sync(self._store_batch, batch)
                continue
            if self._closed:
                return
            self._parked = True
            await self._lot.park()

    def _parent(self, s: int, port: str) -> str | None:
        aid = self._stored.get((s, port))
        if aid is None:  # produced in an earlier execution of this run (resume)
            name = output_name(self._run_id, self._ids[s], port)
            store = self._sink.store
            if store.exists(name):
                aid = self._stored[(s, port)] = store.resolve(name)
        return aid

    def _store_batch(self, batch: Sequence[tuple[int, Mapping[str, object]]]) -> None:
        store = self._sink.store
        producer = f"workflow:{self._wf_id}@{self._wf_version}"
        tags = ["run-output", f"workflow:{self._wf_id}"]
        try:
            with store.batch():  # one transaction (one commit/fsync) per batch
                self._store_items(batch, store, producer, tags)
        except SymphonyError as exc:
            raise type(exc)(
                f"run {self._run_id}: storing the outputs of {len(batch)} node(s) failed "
                f"(none of them stored): {exc}"
            ) from exc
        self.batches += 1

    def _store_items(self, batch: Sequence[tuple[int, Mapping[str, object]]],
                     store: ArtifactStore, producer: str, tags: list[str]) -> None:
        run_id = self._run_id
        for i, outputs in batch:
            node_id = self._ids[i]
            parents: list[str] = []
            for s, port in self._parents_of(i):
                aid = self._parent(s, port)
                if aid is not None and aid not in parents:
                    parents.append(aid)
            for port in sorted(outputs):
                data, ctype, lossy = encode_output(outputs[port])
                meta: dict[str, object] = {
                    "run_id": run_id,
                    "node_id": node_id,
                    "port": port,
                    "workflow_id": self._wf_id,
                    "workflow_version": self._wf_version,
                }
                if lossy:
                    meta["lossy"] = True
                try:
                    ref = store.put(
                        data,
                        name=output_name(run_id, node_id, port),
                        content_type=ctype,
                        metadata=meta,
                        tags=tags,
                        producer=producer,
                        run_id=run_id,
                        node_id=node_id,
                        parents=parents,
                    )
                except SymphonyError as exc:
                    raise type(exc)(f"output {node_id}.{port}: {exc}") from exc
                self._stored[(i, port)] = ref.id
                self.count += 1


class ArtifactOutputSink:
    """An :class:`OutputSink` over an :class:`~symphony.pit.artifacts.ArtifactStore`
    (which the caller owns and closes)."""

    def __init__(self, store: object) -> None:
        from symphony.pit.artifacts.store import ArtifactStore

        if not isinstance(store, ArtifactStore):
            raise TypeError(f"ArtifactOutputSink needs an ArtifactStore, got {type(store)!r}")
        self.store: ArtifactStore = store
        self.last: _ArtifactRunOutputs | None = None

    def open_run(
        self,
        run_id: str,
        workflow_id: str,
        workflow_version: str,
        ids: Sequence[str],
        parents_of: ParentsOf,
    ) -> RunOutputs:
        self.last = _ArtifactRunOutputs(
            self, run_id, workflow_id, workflow_version, ids, parents_of
        )
        return self.last
