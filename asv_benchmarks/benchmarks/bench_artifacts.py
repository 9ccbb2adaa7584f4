"""The artifact store (symphony.pit.artifacts): durable put, verified get, search.

Not parametrized over impl: the store is Python on top of whichever kernels
``symphony.kernels`` selects. Peer comparisons are in ``symphony bench artifacts``.
"""

from __future__ import annotations

import itertools
import random
import shutil
import tempfile
from pathlib import Path
from typing import ClassVar

from .common import seeded_bytes


def _store(root: Path, durability: str = "full"):  # type: ignore[no-untyped-def]
    try:
        from symphony.pit.artifacts import ArtifactsConfig, ArtifactStore
    except ImportError as exc:
        raise NotImplementedError("no artifact store at this commit") from exc
    return ArtifactStore(root, config=ArtifactsConfig(durability=durability))  # type: ignore[arg-type]


class Put:
    params = ([4096, 64 * 1024, 1 << 20], ["full", "process"])
    param_names: ClassVar[list[str]] = ["nbytes", "durability"]

    def setup(self, nbytes: int, durability: str) -> None:
        self.dir = tempfile.mkdtemp(prefix="asv-artifacts-")
        self.store = _store(Path(self.dir), durability)
        self.base = seeded_bytes(nbytes, seed=11)
        self.counter = itertools.count()

    def teardown(self, nbytes: int, durability: str) -> None:
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def time_put_new_content(self, nbytes: int, durability: str) -> None:
        # a fresh first chunk each call, so that nothing is deduplicated away entirely
        self.store.put(next(self.counter).to_bytes(8, "little") + self.base[8:])


class Get:
    params: ClassVar[list[int]] = [4096, 64 * 1024, 1 << 20, 16 << 20]
    param_names: ClassVar[list[str]] = ["nbytes"]

    def setup(self, nbytes: int) -> None:
        self.dir = tempfile.mkdtemp(prefix="asv-artifacts-")
        self.store = _store(Path(self.dir))
        self.id = self.store.put(seeded_bytes(nbytes, seed=12)).id

    def teardown(self, nbytes: int) -> None:
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def time_get_verified(self, nbytes: int) -> None:
        self.store.get(self.id)


class Search:
    params: ClassVar[list[int]] = [2000]
    param_names: ClassVar[list[str]] = ["docs"]
    timeout = 120

    def setup(self, docs: int) -> None:
        self.dir = tempfile.mkdtemp(prefix="asv-artifacts-")
        self.store = _store(Path(self.dir), "process")
        rng = random.Random(13)
        vocab = [f"term{i}" for i in range(3000)]
        for i in range(docs):
            text = " ".join(rng.choices(vocab, k=60)).encode()
            self.store.put(text, content_type="text/plain", tags=[f"t{i % 10}"])
        self.store.sync_index()
        self.terms = itertools.cycle(vocab[:200])

    def teardown(self, docs: int) -> None:
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def time_term_query(self, docs: int) -> None:
        self.store.search(next(self.terms), limit=10)

    def time_filtered_query(self, docs: int) -> None:
        self.store.search(next(self.terms), limit=10, tags=["t3"])
