"""``symphony bench artifacts_scale``: grow one artifact store to ``--n`` artifacts and measure,
at every checkpoint, how put / get / search latency and the on-disk structures grow (issue 8,
"scale").

The corpus (seeded, so two runs build the same store):

- mostly small text artifacts of ``--small-kib`` (default 1-16 KiB): plain text made of
  sentences drawn from a fixed pool of 4,096 seeded sentences over a Zipf vocabulary, or JSON
  records; 2 tags of 20, one producer of 50, metadata; one put in four names its artifact
  (``doc-<k>`` over 50,000 names, so names get version histories);
- ``--dup-fraction`` (default 5 %) re-puts of an earlier small artifact's exact content
  (deduplicated: a new version, no new chunk);
- ``--large-fraction`` (default 0.5 %) incompressible binary artifacts of ``--large-mib``
  (default 1-4 MiB), which go to pack files and make the store large on disk.

Filling uses one store instance with ``durability="process"`` (no fsync: the fill is not
what is measured) and catches the search index up every ``--index-every`` puts. At every
checkpoint a second instance on the same directory with the default ``durability="full"``
measures, the same way every time:

- ``put``: ``--samples`` individual durable puts of fresh 4 KiB text artifacts (named, tagged);
- ``get small`` / ``get large``: verified gets of artifacts drawn uniformly from everything
  stored so far (reservoir samples; the page cache is whatever the fill left);
- ``search``: a fixed set of 40 queries (common / medium / rare terms, tag-, producer-, type-
  and time-filtered, a metadata query, an empty filtered listing), ``--search-rounds`` rounds;
- disk: bytes on disk (allocated blocks), SQLite (``store.db`` + WAL), the tantivy index,
  pack files (count and bytes), artifacts / chunks / versions counts, this process's RSS.

``--settle`` first fsyncs every store file (the fill ran without fsync, so without it the
kernel's writeback of gigabytes of the fill's dirty pages overlaps the measured durable puts;
the time the fsync took is reported).

Prints one table per checkpoint (``checkpoint <n>`` lines) and growth factors per step, and
with ``--json`` writes every figure to a file. ``--max-seconds`` stops growing after the
last checkpoint that fits (or, when the budget runs out in the middle of a step, measures where
it got) and says how far it got.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from symphony.bench._common import percentile

KIB = 1 << 10
MIB = 1 << 20
DEFAULT_CHECKPOINTS = (10_000, 100_000, 300_000, 1_000_000)
N_TAGS = 20
N_PRODUCERS = 50
N_NAMES = 50_000


@dataclass
class Checkpoint:
    """Every figure measured at one checkpoint (latencies in ms, sizes in bytes)."""

    n: int
    fill_puts: int  # puts of the fill, re-puts included (the measurement probes are not)
    elapsed_s: float
    fill_rate: float  # artifacts per second since the previous checkpoint
    put_p50: float
    put_p99: float
    get_small_p50: float
    get_small_p99: float
    get_large_p50: float
    get_large_p99: float
    search_p50: float
    search_p99: float
    index_catchup_s: float
    settle_s: float  # fsync of every store file before measuring (--settle), else 0
    disk_bytes: int
    db_bytes: int
    index_bytes: int
    pack_bytes: int
    packs: int
    artifacts: int
    versions: int
    chunks: int
    raw_bytes: int
    rss_bytes: int
    search_by_kind: dict[str, float] = field(default_factory=dict)


class Corpus:
    """The seeded artifact stream (see the module docstring)."""

    def __init__(
        self,
        seed: int,
        small_kib: tuple[int, int],
        large_mib: tuple[int, int],
        dup_fraction: float,
        large_fraction: float,
    ) -> None:
        self.rng = random.Random(seed)
        rng = random.Random(seed + 1)
        self.vocab = [
            f"{rng.choice('bcdfgklmnprstvz')}{rng.choice('aeiou')}{i:x}{rng.choice('aeiou')}"
            for i in range(30_000)
        ]
        weights = [1 / (i + 1) for i in range(len(self.vocab))]
        self.sentences = [
            " ".join(rng.choices(self.vocab, weights, k=rng.randint(8, 24))) + ".\n"
            for _ in range(4096)
        ]
        self.small = (small_kib[0] * KIB, small_kib[1] * KIB)
        self.large = (large_mib[0] * MIB, large_mib[1] * MIB)
        self.dup_fraction = dup_fraction
        self.large_fraction = large_fraction
        self.recent: list[bytes] = []  # recent small contents, for exact re-puts
        self.i = 0

    def text(self, size: int, rng: random.Random) -> bytes:
        parts: list[str] = []
        total = 0
        while total < size:
            s = rng.choice(self.sentences)
            parts.append(s)
            total += len(s)
        return "".join(parts).encode()[:size]

    def next(self) -> tuple[bytes, dict[str, Any], bool]:
        """The next artifact: (content, put keyword arguments, is_large)."""
        rng = self.rng
        i = self.i
        self.i += 1
        kw: dict[str, Any] = {
            "tags": [f"tag{rng.randrange(N_TAGS)}", f"tag{rng.randrange(N_TAGS)}"],
            "producer": f"agent:{rng.randrange(N_PRODUCERS)}",
            "metadata": {"i": i, "batch": i // 1000},
        }
        if rng.random() < 0.25:
            kw["name"] = f"doc-{rng.randrange(N_NAMES)}"
        r = rng.random()
        if r < self.large_fraction:
            kw["content_type"] = "application/octet-stream"
            return rng.randbytes(rng.randint(*self.large)), kw, True
        if r < self.large_fraction + self.dup_fraction and self.recent:
            kw["content_type"] = "text/plain"
            return rng.choice(self.recent), kw, False
        size = rng.randint(*self.small)
        if rng.random() < 0.3:
            kw["content_type"] = "application/json"
            body = self.text(max(size - 80, 16), rng).decode()
            data = json.dumps({"i": i, "kind": "record", "score": rng.random(), "body": body})
            content = data.encode()
        else:
            kw["content_type"] = "text/plain"
            content = self.text(size, rng)
        if len(self.recent) < 1000:
            self.recent.append(content)
        else:
            self.recent[rng.randrange(1000)] = content
        return content, kw, False


class Reservoir:
    """A uniform sample of ``k`` items from a stream (Algorithm R)."""

    def __init__(self, k: int, seed: int) -> None:
        self.k = k
        self.seen = 0
        self.items: list[str] = []
        self.rng = random.Random(seed)

    def add(self, item: str) -> None:
        self.seen += 1
        if len(self.items) < self.k:
            self.items.append(item)
        else:
            j = self.rng.randrange(self.seen)
            if j < self.k:
                self.items[j] = item


def _queries(corpus: Corpus, t_start: float) -> list[tuple[str, str, dict[str, Any]]]:
    """The fixed query set: (kind, query, filters). Same at every checkpoint."""
    v = corpus.vocab
    qs: list[tuple[str, str, dict[str, Any]]] = []
    for rank in (3, 7, 15, 30, 60):
        qs.append(("term common", v[rank], {}))
    for rank in (300, 700, 1500, 3000, 6000):
        qs.append(("term medium", v[rank], {}))
    for rank in (12_000, 18_000, 24_000, 29_000, 29_999):
        qs.append(("term rare", v[rank], {}))
    for k, rank in enumerate((5, 50, 500, 5000, 20_000)):
        qs.append(("term+tag", v[rank], {"tags": [f"tag{k}"]}))
    for k, rank in enumerate((5, 50, 500, 5000, 20_000)):
        qs.append(("term+producer", v[rank], {"producer": f"agent:{k}"}))
    for rank in (10, 100, 1000):
        qs.append(("term+type", v[rank], {"content_type": "application/json"}))
    for rank in (20, 200, 2000):
        qs.append(("term+since", v[rank], {"since": t_start + 1.0}))
    for k in range(3):
        qs.append(("two terms AND", f"{v[10 + k]} AND {v[400 + k]}", {}))
    for k in range(3):
        qs.append(("metadata", f"attrs.batch:{k}", {}))
    for k in range(3):
        qs.append(("empty+tag", "", {"tags": [f"tag{k}"]}))
    return qs


def _du(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total


def _fsync_tree(root: Path) -> None:
    """fsync every file of the store: the fill ran without fsync, and its dirty pages would
    otherwise be written back during (and slow down) the measured durable puts."""
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            try:
                fd = os.open(os.path.join(dirpath, f), os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _rss() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * resource.getpagesize()
    except OSError:  # not Linux: peak RSS instead
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _ms(samples: list[float]) -> tuple[float, float]:
    if not samples:
        return float("nan"), float("nan")
    return statistics.median(samples) * 1e3, percentile(samples, 99) * 1e3


def measure(
    root: Path,
    n: int,
    corpus: Corpus,
    small: Reservoir,
    large: Reservoir,
    samples: int,
    search_rounds: int,
    t_start: float,
    elapsed: float,
    fill_rate: float,
    puts: int,
    settle: bool = False,
) -> Checkpoint:
    """One checkpoint, measured with a durable (default configuration) store instance."""
    from symphony.pit.artifacts import ArtifactStore

    rng = random.Random(1000 + n)  # fresh content per checkpoint, same recipe
    put_s: list[float] = []
    get_s: list[float] = []
    get_l: list[float] = []
    search_s: list[float] = []
    by_kind: dict[str, list[float]] = {}
    gc.collect()
    gc_was = gc.isenabled()
    gc.disable()
    try:
        with ArtifactStore(root) as store:
            t0 = time.perf_counter()
            store.sync_index()
            catchup = time.perf_counter() - t0
            t0 = time.perf_counter()
            if settle:
                _fsync_tree(root)
            settle_s = time.perf_counter() - t0
            for k in range(samples):
                data = corpus.text(4 * KIB, rng) + f"\nprobe {n} {k}\n".encode()
                t0 = time.perf_counter()
                store.put(
                    data,
                    name=f"probe-{k % 50}",
                    content_type="text/plain",
                    tags=["probe"],
                    producer="bench:scale",
                    metadata={"n": n},
                )
                put_s.append(time.perf_counter() - t0)
            ids = [rng.choice(small.items) for _ in range(samples)] if small.items else []
            for ref in ids:
                t0 = time.perf_counter()
                store.get(ref)
                get_s.append(time.perf_counter() - t0)
            lids = [rng.choice(large.items) for _ in range(min(samples, 20))] if large.items else []
            for ref in lids:
                t0 = time.perf_counter()
                store.get(ref)
                get_l.append(time.perf_counter() - t0)
            store.sync_index()  # the probes: not part of the search timing
            queries = _queries(corpus, t_start)
            for _ in range(search_rounds):
                for kind, q, filters in queries:
                    t0 = time.perf_counter()
                    store.search(q, limit=10, **filters)
                    dt = time.perf_counter() - t0
                    search_s.append(dt)
                    by_kind.setdefault(kind, []).append(dt)
            st = store.stats()
    finally:
        if gc_was:
            gc.enable()
    db_bytes = sum(p.stat().st_size for p in root.glob("store.db*") if p.is_file())
    packs = list((root / "packs").glob("*.pack"))
    return Checkpoint(
        n=n,
        fill_puts=puts,
        elapsed_s=elapsed,
        fill_rate=fill_rate,
        put_p50=_ms(put_s)[0],
        put_p99=_ms(put_s)[1],
        get_small_p50=_ms(get_s)[0],
        get_small_p99=_ms(get_s)[1],
        get_large_p50=_ms(get_l)[0],
        get_large_p99=_ms(get_l)[1],
        search_p50=_ms(search_s)[0],
        search_p99=_ms(search_s)[1],
        index_catchup_s=catchup,
        settle_s=settle_s,
        disk_bytes=_du(root),
        db_bytes=db_bytes,
        index_bytes=_du(root / "index"),
        pack_bytes=sum(p.stat().st_size for p in packs),
        packs=len(packs),
        artifacts=st["artifacts"],
        versions=st["versions"],
        chunks=st["chunks"],
        raw_bytes=st["raw_bytes"],
        rss_bytes=_rss(),
        search_by_kind={k: statistics.median(v) * 1e3 for k, v in by_kind.items()},
    )


def _fmt_bytes(b: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if b < 1024 or unit == "TiB":
            return f"{b:.1f} {unit}" if unit != "B" else f"{b:.0f} B"
        b /= 1024
    return f"{b:.1f} TiB"  # pragma: no cover


def print_checkpoint(c: Checkpoint) -> None:
    print(
        f"== checkpoint {c.n} artifacts  ({c.fill_puts:,} fill puts; after "
        f"{c.elapsed_s:.0f} s; fill {c.fill_rate:.0f} new artifacts/s since the previous "
        "checkpoint, index catch-up included)"
    )
    print(f"  put 4 KiB durable   p50 {c.put_p50:8.3f} ms   p99 {c.put_p99:8.3f} ms")
    print(f"  get small verified  p50 {c.get_small_p50:8.3f} ms   p99 {c.get_small_p99:8.3f} ms")
    print(f"  get large verified  p50 {c.get_large_p50:8.3f} ms   p99 {c.get_large_p99:8.3f} ms")
    print(f"  search (40 queries) p50 {c.search_p50:8.3f} ms   p99 {c.search_p99:8.3f} ms")
    kinds = ", ".join(f"{k} {v:.3f}" for k, v in c.search_by_kind.items())
    print(f"    p50 by kind (ms): {kinds}")
    print(
        f"  index catch-up before measuring {c.index_catchup_s:.2f} s; "
        f"settle (fsync the fill's files) {c.settle_s:.2f} s"
    )
    print(
        f"  disk {_fmt_bytes(c.disk_bytes)} = sqlite {_fmt_bytes(c.db_bytes)} + index "
        f"{_fmt_bytes(c.index_bytes)} + {c.packs} packs {_fmt_bytes(c.pack_bytes)}"
    )
    print(
        f"  store: artifacts {c.artifacts:,} (incl. probes) versions {c.versions:,} "
        f"chunks {c.chunks:,} raw {_fmt_bytes(c.raw_bytes)}  RSS {_fmt_bytes(c.rss_bytes)}"
    )
    sys.stdout.flush()


GROWTH_FIELDS = (
    "put_p50",
    "put_p99",
    "get_small_p50",
    "get_small_p99",
    "get_large_p50",
    "search_p50",
    "search_p99",
    "db_bytes",
    "index_bytes",
    "pack_bytes",
    "disk_bytes",
    "rss_bytes",
)


def print_growth(cps: list[Checkpoint]) -> None:
    if len(cps) < 2:
        return
    print("== growth factors between checkpoints (x; 1.0 = flat)")
    for a, b in itertools.pairwise(cps):
        cells = []
        for f in GROWTH_FIELDS:
            va, vb = getattr(a, f), getattr(b, f)
            cells.append(f"{f} {vb / va:.2f}" if va and va == va and vb == vb else f"{f} -")
        print(f"  {a.n:,} -> {b.n:,} ({b.n / a.n:.1f}x artifacts): " + ", ".join(cells))
    sys.stdout.flush()


def _pair(text: str, what: str) -> tuple[int, int]:
    try:
        lo, hi = (int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{what} must be 'LOW,HIGH' integers, got {text!r}"
        ) from None
    if not 0 < lo <= hi:
        raise argparse.ArgumentTypeError(f"{what} must satisfy 0 < LOW <= HIGH, got {text!r}")
    return lo, hi


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="symphony bench artifacts_scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--n", type=int, default=1_000_000, help="artifacts to grow to")
    parser.add_argument(
        "--checkpoints",
        default=None,
        help="comma-separated artifact counts (default 10k,100k,300k,1M up to "
        "--n; --n is always one)",
    )
    parser.add_argument("--small-kib", default="1,16", type=lambda s: _pair(s, "--small-kib"))
    parser.add_argument("--large-mib", default="1,4", type=lambda s: _pair(s, "--large-mib"))
    parser.add_argument("--large-fraction", type=float, default=0.005)
    parser.add_argument("--dup-fraction", type=float, default=0.05)
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="store directory (must not exist or be empty; default: a "
        "temporary directory, removed at the end)",
    )
    parser.add_argument("--keep", action="store_true", help="keep --root afterwards")
    parser.add_argument("--samples", type=int, default=200, help="puts and gets per checkpoint")
    parser.add_argument("--search-rounds", type=int, default=5, help="rounds of the 40 queries")
    parser.add_argument(
        "--index-every",
        type=int,
        default=20_000,
        help="catch the search index up every this many puts while filling",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=None,
        help="stop growing when the next checkpoint would (at the current "
        "fill rate) end later than this many seconds after the start",
    )
    parser.add_argument(
        "--settle",
        action="store_true",
        help="fsync every store file before measuring a checkpoint (the fill does not fsync; "
        "without this, writeback of its dirty pages overlaps the measured durable puts)",
    )
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error(f"--n must be >= 1, got {args.n}")
    if args.checkpoints:
        try:
            cps = sorted({int(x) for x in args.checkpoints.split(",") if x.strip()})
        except ValueError:
            parser.error(
                f"--checkpoints must be comma-separated integers, got {args.checkpoints!r}"
            )
    else:
        cps = list(DEFAULT_CHECKPOINTS)
    checkpoints = sorted({c for c in cps if 0 < c < args.n} | {args.n})
    if not (0 <= args.large_fraction <= 1 and 0 <= args.dup_fraction <= 1):
        parser.error("--large-fraction and --dup-fraction must be in [0, 1]")

    from symphony.pit.artifacts import ArtifactsConfig, ArtifactStore

    tmp: tempfile.TemporaryDirectory[str] | None = None
    if args.root is None:
        tmp = tempfile.TemporaryDirectory(prefix="symphony-artifacts-scale-")
        root = Path(tmp.name) / "store"
    else:
        root = args.root
        if root.exists() and any(root.iterdir()):
            parser.error(f"--root {str(root)!r} is not empty; the scale run needs a new store")
    corpus = Corpus(
        args.seed, args.small_kib, args.large_mib, args.dup_fraction, args.large_fraction
    )
    small = Reservoir(2000, args.seed + 2)
    large = Reservoir(200, args.seed + 3)
    results: list[Checkpoint] = []
    print(
        f"artifacts_scale: growing {str(root)!r} to {args.n:,} artifacts; checkpoints "
        f"{', '.join(f'{c:,}' for c in checkpoints)}"
    )
    sys.stdout.flush()
    t_start = time.time()
    t0 = time.perf_counter()
    stopped_at: int | None = None
    try:
        fill_cfg = ArtifactsConfig(durability="process")
        done = puts = 0
        last_t, last_n = time.perf_counter(), 0
        for cp in checkpoints:
            if args.max_seconds is not None and results:
                rate = (done - 0) / max(time.perf_counter() - t0, 1e-9)
                eta = time.perf_counter() - t0 + (cp - done) / rate * 1.15
                if eta > args.max_seconds:
                    stopped_at = done
                    print(
                        f"stopping at {done:,} artifacts: the {cp:,} checkpoint would end "
                        f"after ~{eta:.0f} s > --max-seconds {args.max_seconds:.0f}"
                    )
                    break
            with ArtifactStore(root, config=fill_cfg) as store:
                while done < cp:
                    data, kw, is_large = corpus.next()
                    ref = store.put(data, **kw)
                    puts += 1
                    if ref.new:  # checkpoints count distinct artifacts, not re-puts
                        (large if is_large else small).add(ref.id)
                        done += 1
                    if puts % args.index_every == 0:
                        store.sync_index()
                    if (
                        args.max_seconds is not None
                        and puts % 1000 == 0
                        and time.perf_counter() - t0 > args.max_seconds
                    ):
                        stopped_at = done  # out of time mid-step: measure here, then stop
                        print(f"time budget reached at {done:,} artifacts: measuring there")
                        break
            now = time.perf_counter()
            rate = (done - last_n) / max(now - last_t, 1e-9)
            c = measure(
                root,
                done,
                corpus,
                small,
                large,
                args.samples,
                args.search_rounds,
                t_start,
                now - t0,
                rate,
                puts,
                args.settle,
            )
            results.append(c)
            print_checkpoint(c)
            last_t, last_n = time.perf_counter(), done
            if stopped_at is not None:
                break
        print_growth(results)
        if stopped_at is not None:
            print(f"NOTE: stopped at {stopped_at:,} of {args.n:,} artifacts (time budget)")
        if args.json is not None:
            args.json.write_text(
                json.dumps(
                    {
                        "argv": argv,
                        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        "stopped_at": stopped_at,
                        "checkpoints": [asdict(c) for c in results],
                    },
                    indent=1,
                )
            )
    finally:
        if tmp is not None:
            tmp.cleanup()
        elif not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
