"""``symphony bench artifacts``: the artifact store against plain files, SQLite blobs, git and
tantivy, side by side in one process run (TARGETS.md "Artifact store").

Sections (``--only`` picks some):

- ``latency``: durable put and hot get at 4 KiB / 64 KiB / 1 MiB (and 16 MiB with ``--big``),
  p50 and p99 over ``--rounds`` distinct random payloads per size, interleaved per round.
  Contenders: ``symphony`` (default config: fsync + SQLite FULL, every read verified),
  ``symphony+aes`` (encrypted store), ``file`` (write + fsync + rename + fsync dir / read),
  ``sqlite`` (one blob per row, WAL, ``synchronous=FULL`` / SELECT), and for get the floor
  ``sha256`` (the kernel's SHA-256 of the same bytes: what any verified read must pay).
- ``throughput``: one ``--mib`` MiB random artifact: put and get MB/s (plain and encrypted
  stores), against file, SQLite and the floors measured in the same round on the same bytes:
  the hashing kernel's ``hash_chunks`` and ``hash_cuts`` alone, and SHA-256 + AES-GCM of
  every chunk; then the ratios. ``--only throughput --throughput-rounds 5`` is the quick run.
- ``dedup``: ``--versions`` successive versions of a source tree made from this repository's
  own files plus seeded small edits (5 files per version: a line inserted, deleted or
  changed; now and then a file added). Each version is stored as one archive stream; stored
  bytes / raw bytes is reported, and the same for git (``git add -A && git commit`` per
  version; loose objects, then after ``git gc --aggressive``) when git is installed.
- ``search``: ``--search-n`` small text artifacts (synthetic Zipf vocabulary, tags); term
  and tag-filtered query latency p50/p99 of ``ArtifactStore.search`` against tantivy used
  directly on the same documents (same schema fields, same limit).

Durability of the dedup and search corpora: ``durability="process"`` (they measure space and
query time, not fsync). Everything runs in a temporary directory on the working disk.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from symphony.bench._common import Table, optional, percentile

MIB = 1 << 20
KEY = bytes(range(32))
SECTIONS = ("latency", "throughput", "dedup", "search")


def _ms(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples) * 1e3, percentile(samples, 99) * 1e3


# --------------------------------------------------------------------------- peers
class FilePeer:
    """One file per object: write a temp file, fsync, rename, fsync the directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.n = 0

    def put(self, data: bytes) -> str:
        self.n += 1
        name = f"o{self.n}"
        tmp = self.root / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.root / name)
        dfd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        return name

    def get(self, name: str) -> bytes:
        with open(self.root / name, "rb") as fh:
            return fh.read()


class SqlitePeer:
    """One blob per row, WAL, synchronous=FULL, one transaction per put."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE IF NOT EXISTS blobs (k INTEGER PRIMARY KEY, v BLOB)")

    def put(self, data: bytes) -> int:
        self.db.execute("BEGIN")
        cur = self.db.execute("INSERT INTO blobs (v) VALUES (?)", (data,))
        self.db.execute("COMMIT")
        return int(cur.lastrowid or 0)

    def get(self, k: int) -> bytes:
        row = self.db.execute("SELECT v FROM blobs WHERE k = ?", (k,)).fetchone()
        return bytes(row[0])

    def close(self) -> None:
        self.db.close()


# --------------------------------------------------------------------------- latency
def bench_latency(tmp: Path, rounds: int, big: bool) -> None:
    from symphony.kernels import hashing
    from symphony.pit.artifacts import ArtifactStore

    sizes = [4096, 65536, MIB] + ([16 * MIB] if big else [])
    store = ArtifactStore(tmp / "sym")
    enc = ArtifactStore(tmp / "sym-aes", key=KEY, encrypt=True)
    files = FilePeer(tmp / "files")
    sql = SqlitePeer(tmp / "blobs.db")
    puts = Table("durable put latency", "ms", higher_is_better=False)
    gets = Table("get latency (hot; symphony verifies hashes)", "ms", higher_is_better=False)
    rng = random.Random(1)
    try:
        for size in sizes:
            n = rounds if size <= 65536 else max(5, rounds // 5 if size <= MIB else rounds // 25)
            put_t: dict[str, list[float]] = {
                k: [] for k in ("symphony", "symphony+aes", "file", "sqlite")
            }
            get_t: dict[str, list[float]] = {k: [] for k in (*put_t, "sha256 floor")}
            contenders: list[tuple[str, Callable[[bytes], Any], Callable[[Any], bytes]]] = [
                ("symphony", lambda d: store.put(d).id, store.get),
                ("symphony+aes", lambda d: enc.put(d).id, enc.get),
                ("file", files.put, files.get),
                ("sqlite", sql.put, sql.get),
            ]
            gc.collect()
            gc.disable()  # as _common.median_time; enabled again after each size
            for r in range(n + 2):  # two warm-up rounds are dropped
                order = contenders[:]
                rng.shuffle(order)
                for who, put, get in order:
                    data = rng.randbytes(size)
                    t0 = time.perf_counter()
                    key = put(data)
                    t1 = time.perf_counter()
                    got = get(key)
                    t2 = time.perf_counter()
                    if r >= 2:
                        put_t[who].append(t1 - t0)
                        get_t[who].append(t2 - t1)
                    assert got == data
                t0 = time.perf_counter()
                hashing.sha256(data)
                if r >= 2:
                    get_t["sha256 floor"].append(time.perf_counter() - t0)
            gc.enable()
            label = f"{size // 1024} KiB" if size < MIB else f"{size // MIB} MiB"
            for table, samples in ((puts, put_t), (gets, get_t)):
                for who, s in samples.items():
                    p50, p99 = _ms(s)
                    table.add(f"{label} p50", who, p50, f"n={len(s)}")
                    table.add(f"{label} p99", who, p99, f"p99/p50 {p99 / p50:.1f}")
    finally:
        store.close()
        enc.close()
        sql.close()
    puts.print()
    gets.print()


# --------------------------------------------------------------------------- throughput
def bench_throughput(tmp: Path, mib: int, rounds: int) -> None:
    """Put and get of one ``mib`` MiB random artifact per round, and in the same round the
    floors a verified get cannot go under: the hashing kernel over the same bytes
    (``hash_chunks``: chunking + SHA-256; ``hash_cuts``: SHA-256 of the same chunks at known
    cut points, which is what a read must check), and for the encrypted store that SHA-256
    plus AES-256-GCM decryption of every chunk. ``symphony 1 thread`` is ``get`` with its
    worker threads turned off (what one core gives). Every get is timed right after an
    untimed one (hot: the page cache here drops files written seconds earlier, which would
    time the disk instead). Medians over ``rounds``."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    import symphony.pit.artifacts.store as store_mod
    from symphony.kernels import hashing
    from symphony.pit.artifacts import ArtifactStore

    size = mib * MIB
    rng = random.Random(2)
    table = Table(f"throughput, {mib} MiB random artifact", "MB/s", higher_is_better=True)
    store = ArtifactStore(tmp / "thr")
    enc = ArtifactStore(tmp / "thr-aes", key=KEY, encrypt=True)
    files = FilePeer(tmp / "thr-files")
    sql = SqlitePeer(tmp / "thr.db")
    aead = AESGCM(bytes(32))
    res: dict[tuple[str, str], list[float]] = {}

    def timed(case: str, who: str, fn: Callable[[], Any]) -> Any:
        if case == "get":
            fn()  # hot reads: the page cache of this VM drops data written seconds ago
        t0 = time.perf_counter()
        out = fn()
        res.setdefault((case, who), []).append(size / (time.perf_counter() - t0) / 1e6)
        return out

    def one_thread_get(ref: str) -> bytes:
        saved = store_mod._READ_THREADS
        store_mod._READ_THREADS = 1
        try:
            return store.get(ref)
        finally:
            store_mod._READ_THREADS = saved

    def sha_and_aes(data: bytes, ends: list[int], sealed: list[bytes]) -> None:
        hashing.hash_cuts(data, ends)
        nonce = bytes(12)
        for ct in sealed:
            aead.decrypt(nonce, ct, None)

    def one_round(data: bytes) -> None:
        ends = hashing.cut_points(data)
        view = memoryview(data)
        sealed = [aead.encrypt(bytes(12), view[a:b], None) for a, b in zip([0, *ends], ends)]
        gc.collect()
        gc.disable()  # as _common.median_time
        try:
            timed("put", "hash_chunks (kernel)", lambda: hashing.hash_chunks(data))
            ref = timed("put", "symphony", lambda: store.put(data)).id
            aref = timed("put", "symphony+aes", lambda: enc.put(data)).id
            name = timed("put", "file", lambda: files.put(data))
            k = timed("put", "sqlite", lambda: sql.put(data))
            timed("get", "hash_chunks (kernel)", lambda: hashing.hash_chunks(data))
            timed("get", "hash_cuts (kernel)", lambda: hashing.hash_cuts(data, ends))
            timed("get", "SHA-256+AES floor", lambda: sha_and_aes(data, ends, sealed))
            got = [
                timed("get", "symphony", lambda: store.get(ref)),
                timed("get", "symphony 1 thread", lambda: one_thread_get(ref)),
                timed("get", "symphony+aes", lambda: enc.get(aref)),
            ]
            timed("get", "file", lambda: files.get(name))
            timed("get", "sqlite", lambda: sql.get(k))
        finally:
            gc.enable()
        assert all(g == data for g in got)

    try:
        for _ in range(rounds):
            one_round(rng.randbytes(size))
    finally:
        store.close()
        enc.close()
        sql.close()
    med = {key: statistics.median(vals) for key, vals in res.items()}
    for (case, who), value in med.items():
        table.add(case, who, value)
    table.baseline = "symphony"
    table.print()
    ratios = [
        ("get / hash_chunks", med["get", "symphony"] / med["get", "hash_chunks (kernel)"]),
        ("get / hash_cuts", med["get", "symphony"] / med["get", "hash_cuts (kernel)"]),
        (
            "get 1 thread / hash_chunks",
            med["get", "symphony 1 thread"] / med["get", "hash_chunks (kernel)"],
        ),
        (
            "aes get / SHA-256+AES floor",
            med["get", "symphony+aes"] / med["get", "SHA-256+AES floor"],
        ),
        ("put / file put", med["put", "symphony"] / med["put", "file"]),
    ]
    print(
        "   same-run throughput ratios (1.0 = as fast as the reference): "
        + ", ".join(f"{label} {r:.2f}" for label, r in ratios),
        flush=True,
    )


# --------------------------------------------------------------------------- dedup
_SUFFIXES = {".py", ".pyx", ".pxd", ".pyi", ".h", ".c", ".md", ".toml", ".json", ".txt", ".cfg"}
_SKIP = {".git", ".venv", "build", ".asv", "__pycache__", "node_modules", "dist"}


def source_tree(limit_bytes: int) -> dict[str, bytes]:
    """This repository's source files (sorted by path) up to ``limit_bytes``."""
    repo = Path(__file__).resolve().parents[2]
    out: dict[str, bytes] = {}
    total = 0
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP and not d.endswith(".egg-info"))
        for fn in sorted(filenames):
            p = Path(dirpath) / fn
            if p.suffix not in _SUFFIXES or (p.suffix == ".c" and "_core" in p.parts):
                continue
            try:
                data = p.read_bytes()
            except OSError:
                continue
            if total + len(data) > limit_bytes:
                return out
            out[str(p.relative_to(repo))] = data
            total += len(data)
    return out


def edit_versions(tree: dict[str, bytes], versions: int, seed: int = 3) -> list[dict[str, bytes]]:
    """``versions`` successive trees: each one 5 seeded small edits away from the previous."""
    rng = random.Random(seed)
    out = [dict(tree)]
    for v in range(1, versions):
        cur = dict(out[-1])
        paths = sorted(cur)
        for _ in range(5):
            path = rng.choice(paths)
            lines = cur[path].split(b"\n")
            i = rng.randrange(len(lines) + 1)
            op = rng.random()
            if op < 0.4:
                lines.insert(i, f"# edit {v}: {rng.getrandbits(64):x}".encode())
            elif op < 0.7 and len(lines) > 1:
                del lines[min(i, len(lines) - 1)]
            else:
                j = min(i, len(lines) - 1)
                lines[j] = lines[j] + f" # v{v}".encode()
            cur[path] = b"\n".join(lines)
        if rng.random() < 0.1:
            src = rng.choice(paths)
            cur[f"{src}.copy{v}"] = cur[src] + f"\n# copy {v}\n".encode()
        out.append(cur)
    return out


def archive(tree: dict[str, bytes]) -> bytes:
    parts = []
    for path in sorted(tree):
        data = tree[path]
        parts.append(f"{path}\0{len(data)}\n".encode())
        parts.append(data)
    return b"".join(parts)


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def bench_dedup(tmp: Path, versions: int, tree_mib: int, git: bool) -> None:
    from symphony.pit.artifacts import ArtifactsConfig, ArtifactStore

    tree = source_tree(tree_mib * MIB)
    trees = edit_versions(tree, versions)
    blobs = [archive(t) for t in trees]
    raw = sum(len(b) for b in blobs)
    table = Table(
        f"dedup: {versions} versions of a {len(blobs[0]) / MIB:.1f} MiB source tree "
        f"({len(tree)} files), raw {raw / MIB:.0f} MiB",
        "% of raw",
        higher_is_better=False,
    )
    ingest = Table("ingest of one version", "ms", higher_is_better=False)
    cfg = ArtifactsConfig(durability="process")
    times = []
    with ArtifactStore(tmp / "dedup", config=cfg) as store:
        for i, blob in enumerate(blobs):
            t0 = time.perf_counter()
            store.put(blob, name="tree", metadata={"version": i})
            times.append(time.perf_counter() - t0)
        stats = store.stats()
        store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    disk = _dir_bytes(tmp / "dedup")
    table.add("chunk payload", "symphony", 100 * stats["stored_bytes"] / raw)
    table.add("on disk (packs + SQLite)", "symphony", 100 * disk / raw)
    ingest.add("per version (archive stream)", "symphony", statistics.median(times) * 1e3)
    # The same versions stored file by file plus a tree listing (how a workflow's outputs
    # land in the store): unchanged files deduplicate whole.
    ftimes = []
    with ArtifactStore(tmp / "dedup-files", config=cfg) as store:
        for i, t in enumerate(trees):
            t0 = time.perf_counter()
            listing = {path: store.put(data).id for path, data in sorted(t.items())}
            store.put(
                json.dumps(listing, sort_keys=True).encode(),
                name="tree-listing",
                content_type="application/json",
                metadata={"version": i},
            )
            ftimes.append(time.perf_counter() - t0)
        fstats = store.stats()
        store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    fdisk = _dir_bytes(tmp / "dedup-files")
    table.add("chunk payload", "symphony per-file", 100 * fstats["stored_bytes"] / raw)
    table.add("on disk (packs + SQLite)", "symphony per-file", 100 * fdisk / raw)
    ingest.add("per version (file by file)", "symphony", statistics.median(ftimes) * 1e3)
    if git and shutil.which("git"):
        repo = tmp / "gitrepo"
        repo.mkdir()
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "b",
            "GIT_AUTHOR_EMAIL": "b@x",
            "GIT_COMMITTER_NAME": "b",
            "GIT_COMMITTER_EMAIL": "b@x",
        }

        def g(*args: str) -> None:
            subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)

        g("init", "-q")
        written: dict[str, bytes] = {}
        gtimes = []
        for t in trees:
            for path, data in t.items():
                if written.get(path) != data:
                    target = repo / "tree" / path
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
                    written[path] = data
            t0 = time.perf_counter()
            g("add", "-A")
            g("commit", "-q", "-m", "v")
            gtimes.append(time.perf_counter() - t0)
        loose = _dir_bytes(repo / ".git" / "objects")
        g("gc", "-q", "--aggressive")
        packed = _dir_bytes(repo / ".git" / "objects")
        table.add("on disk (packs + SQLite)", "git loose", 100 * loose / raw)
        table.add("on disk (packs + SQLite)", "git gc --aggressive", 100 * packed / raw)
        ingest.add(
            "per version (archive stream)", "git add+commit", statistics.median(gtimes) * 1e3
        )
    else:
        table.add("on disk (packs + SQLite)", "git", None, "git not run (--no-git or missing)")
    for peer in ("restic", "borg"):
        if not shutil.which(peer):
            table.add("on disk (packs + SQLite)", peer, None, "not installed")
    table.print()
    ingest.print()


# --------------------------------------------------------------------------- search
def _corpus(n: int, seed: int = 4) -> tuple[list[tuple[bytes, list[str]]], list[str]]:
    rng = random.Random(seed)
    vocab = [f"w{i}{rng.choice('abcdefgh')}{rng.choice('xyz')}" for i in range(20_000)]
    weights = [1 / (i + 1) for i in range(len(vocab))]
    tags = [f"tag{i}" for i in range(20)]
    docs = []
    for _ in range(n):
        words = rng.choices(vocab, weights, k=rng.randint(30, 120))
        docs.append((" ".join(words).encode(), rng.sample(tags, 2)))
    return docs, vocab


def bench_search(tmp: Path, n: int, queries: int) -> dict[tuple[str, str], float]:
    """Search (and put/get) latency at ``n`` artifacts; returns the p50s, in ms."""
    from symphony.pit.artifacts import ArtifactsConfig, ArtifactStore

    tantivy = optional("tantivy")
    docs, vocab = _corpus(n)
    rng = random.Random(5)
    terms = [vocab[rng.randint(10, 2000)] for _ in range(queries)]
    table = Table(f"search latency at {n:,} artifacts (limit 10)", "ms", higher_is_better=False)
    build = Table(f"building the corpus of {n:,} artifacts", "s", higher_is_better=False)
    with ArtifactStore(tmp / "search", config=ArtifactsConfig(durability="process")) as store:
        t0 = time.perf_counter()
        for i, (text, doc_tags) in enumerate(docs):
            store.put(text, content_type="text/plain", tags=doc_tags, metadata={"i": i})
        build.add("put all", "symphony", time.perf_counter() - t0)
        t0 = time.perf_counter()
        store.sync_index()
        build.add("index all", "symphony", time.perf_counter() - t0)
        results: dict[tuple[str, str], list[float]] = {}
        if tantivy is not None:
            sb = tantivy.SchemaBuilder()
            sb.add_text_field("id", stored=True, tokenizer_name="raw")
            sb.add_text_field("content", stored=False)
            sb.add_text_field("tags", stored=False, tokenizer_name="raw")
            schema = sb.build()
            (tmp / "tantivy").mkdir()
            index = tantivy.Index(schema, path=str(tmp / "tantivy"))
            t0 = time.perf_counter()
            writer = index.writer(heap_size=50_000_000, num_threads=1)
            for i, (text, doc_tags) in enumerate(docs):
                writer.add_document(
                    tantivy.Document.from_dict(
                        {"id": str(i), "content": text.decode(), "tags": doc_tags}, schema
                    )
                )
            writer.commit()
            writer.wait_merging_threads()
            index.reload()
            build.add("index all", "tantivy direct", time.perf_counter() - t0)
            searcher = index.searcher()

            def direct(term: str, tag: str | None) -> None:
                q = index.parse_query(term, ["content"])
                if tag is not None:
                    q = tantivy.Query.boolean_query(
                        [
                            (tantivy.Occur.Must, q),
                            (tantivy.Occur.Must, tantivy.Query.term_query(schema, "tags", tag)),
                        ]
                    )
                for _, addr in searcher.search(q, limit=10).hits:
                    searcher.doc(addr)["id"]

        gc.collect()
        gc.disable()  # as _common.median_time: no cyclic-GC pauses inside the timings
        for term in terms:
            tag = f"tag{rng.randrange(20)}"
            for case, use_tag in (("term", None), ("term + tag filter", tag)):
                t0 = time.perf_counter()
                store.search(term, limit=10, tags=[use_tag] if use_tag else ())
                results.setdefault((case, "symphony"), []).append(time.perf_counter() - t0)
                if tantivy is not None:
                    t0 = time.perf_counter()
                    direct(term, use_tag)
                    results.setdefault((case, "tantivy direct"), []).append(
                        time.perf_counter() - t0
                    )
        gc.enable()
        # how put and get grow with the store (no fsync: durability="process")
        ids: list[str] = []
        all_ids = [r[0].hex() for r in store._db.execute("SELECT id FROM artifacts LIMIT 5000")]
        for i in range(queries):
            text = f"growth probe {i} {rng.getrandbits(64):x}".encode() * 40
            t0 = time.perf_counter()
            ids.append(store.put(text, content_type="text/plain").id)
            results.setdefault(("put ~1 KiB (no fsync)", "symphony"), []).append(
                time.perf_counter() - t0
            )
            aid = rng.choice(all_ids)
            t0 = time.perf_counter()
            store.get(aid)
            results.setdefault(("get", "symphony"), []).append(time.perf_counter() - t0)
    p50s: dict[tuple[str, str], float] = {}
    for (case, who), samples in results.items():
        p50, p99 = _ms(samples)
        p50s[(case, who)] = p50
        table.add(f"{case} p50", who, p50)
        table.add(f"{case} p99", who, p99)
    if tantivy is None:
        table.add("term p50", "tantivy direct", None, "tantivy not installed")
    build.print()
    table.print()
    return p50s


# --------------------------------------------------------------------------- main
def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="symphony bench artifacts", description=__doc__)
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run only these")
    parser.add_argument("--rounds", type=int, default=100, help="latency rounds (small sizes)")
    parser.add_argument("--big", action="store_true", help="add 16 MiB to the latency sizes")
    parser.add_argument("--mib", type=int, default=100, help="throughput artifact size")
    parser.add_argument("--throughput-rounds", type=int, default=3)
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--tree-mib", type=int, default=8, help="cap of the source tree size")
    parser.add_argument("--no-git", action="store_true", help="skip the git dedup peer")
    parser.add_argument(
        "--search-n",
        type=int,
        action="append",
        help="corpus size(s) for search (repeatable; default 10000; e.g. 10000 and 100000 "
        "give a growth table)",
    )
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--dir", type=Path, default=None, help="where to put temporary stores")
    args = parser.parse_args(argv)
    sections = args.only or list(SECTIONS)
    with tempfile.TemporaryDirectory(prefix="symphony-bench-artifacts-", dir=args.dir) as d:
        tmp = Path(d)
        if "latency" in sections:
            bench_latency(tmp / "lat", args.rounds, args.big)
        if "throughput" in sections:
            bench_throughput(tmp / "thr", args.mib, args.throughput_rounds)
        if "dedup" in sections:
            bench_dedup(tmp / "dedup", args.versions, args.tree_mib, not args.no_git)
        if "search" in sections:
            sizes = sorted(set(args.search_n or [10_000]))
            runs = {n: bench_search(tmp / f"search{n}", n, args.queries) for n in sizes}
            if len(sizes) > 1:
                n0 = sizes[0]
                growth = Table(
                    f"p50 growth from {n0:,} artifacts (x; lower is better)",
                    "x",
                    higher_is_better=False,
                )
                for n in sizes[1:]:
                    for (case, who), p50 in runs[n].items():
                        base = runs[n0].get((case, who))
                        if base:
                            growth.add(f"{case} {n0:,}->{n:,}", who, p50 / base)
                growth.print()
    return 0


if __name__ == "__main__":  # pragma: no cover
    import sys

    raise SystemExit(main(sys.argv[1:]))
