"""The artifact store: content-addressed, deduplicated, versioned, encrypted, searchable.

Layout of a store directory::

    store.db        SQLite (WAL): chunk index, artifacts, versions, lineage, scores
    packs/NNNNNNNN.pack   append-only chunk records (see :mod:`._pack`)
    index/          tantivy full-text index (derived; rebuildable with rebuild_index())

**Ids.** An artifact id is the ``manifest_id`` of :mod:`symphony.kernels.hashing`: SHA-256
over a domain prefix and, per FastCDC chunk (default 4/16/64 KiB), its length and SHA-256
(TARGETS.md: no second pass over the bytes). Equal content always has the same id; the id is
shown as 64 hex digits and may be abbreviated to any unique prefix of 8 or more.

**Writes** (:meth:`ArtifactStore.put`): chunks already present are not written again; new
ones are zstd-compressed (kept raw when that saves < 3 %; after two such chunks in a row the
next 16 are not even tried), sealed with AES-256-GCM in an encrypted store, and appended to
this instance's pack, or kept inline in SQLite when small (``inline_max`` per chunk,
``inline_artifact_max`` per artifact). Then, in ``durability="full"`` mode, the pack is
``fdatasync``-ed, and one SQLite transaction (``BEGIN IMMEDIATE``, ``synchronous=FULL``)
indexes the chunks and adds the artifact, its version, producer and lineage. Nothing is
visible before that commit; a crash before it leaves only unreferenced pack bytes that the
next writer of that pack cuts off.

**Concurrent writers to one name** are serialized by SQLite: each put to a name gets the next
version number inside its transaction, so two writers produce two versions and neither is
lost. ``expected_version=`` turns a put into a compare-and-set that raises
:class:`~symphony.commons.errors.ArtifactConflict` when the name has moved on.

**Reads** verify everything: record framing, the AES-GCM tag, each chunk's SHA-256 against
its address, and the artifact id recomputed from the chunk digests (the records' CRC-32C is
left to :meth:`ArtifactStore.verify`: the SHA-256 is the stronger check and is paid
anyway). Anything that fails raises :class:`~symphony.commons.errors.ArtifactCorrupt`; bad
bytes are never returned. They work on groups of consecutive chunks (about 2 MiB): one
location query per group, records adjacent in a pack read together (stored raw: one
``preadv`` straight into the result), AES-GCM decrypted into the result, and the digests of
the whole group computed by one ``hashing.hash_cuts`` call (two SHA-256 streams interleaved,
no GIL). ``get`` of 4 MiB and more fills the groups on worker threads; ``open`` streams
group by group.

**Garbage collection** (:meth:`ArtifactStore.gc`) is mark/sweep with a grace period, safe
against concurrent writers in other threads or processes:

1. in one ``BEGIN IMMEDIATE`` transaction (which excludes every writer's commit), the chunks
   referenced by no artifact are stamped ``orphan_since = now`` (if not stamped yet), chunks
   referenced again are unstamped, and chunks stamped more than ``grace`` seconds ago are
   deleted from the index;
2. a writer that deduplicated against an existing chunk re-checks, in its own commit
   transaction, that the chunk is still indexed and unstamps it; if GC deleted it meanwhile
   (only possible when the put took longer than the grace period) the put writes nothing and
   raises ``ArtifactConflict`` (a put of ``bytes`` retries once by itself);
3. a pack file is deleted only when no chunk is indexed in it and its ``flock`` can be taken
   (no writer holds it); a writer that opens a pack checks after locking that it still exists.
   A pack less than half live is first *repacked*: its live records are copied into the
   current pack and fsync'ed, the index rows switch to the copies in one transaction, then the
   old file is deleted. A reader that looked a chunk up before the switch and finds the old
   file gone looks it up again.

**Quality** (documented scoring rule): each artifact may carry named scores in ``[0, 1]``
(``put(scores=...)`` or :meth:`ArtifactStore.set_score`) with a weight ``> 0`` (default 1).
Its quality is the weighted mean ``sum(w*s)/sum(w)``, or ``None`` without scores. Search
ranks by BM25 multiplied by ``log2(2 + quality)`` (``quality`` 0 when absent), so a perfect
artifact gets at most a 1.58x boost over an unscored one.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import operator
import os
import random
import re
import sqlite3
import struct
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, cast

from symphony._cdc import MANIFEST_DOMAIN, MAXIMUM_MAX, manifest_entry
from symphony.commons.errors import (
    ArtifactConflict,
    ArtifactCorrupt,
    ArtifactKeyError,
    ArtifactNotFound,
    ArtifactTooLarge,
    StorageError,
    ValidationError,
)
from symphony.commons.fs import ensure_dir, project_dirs
from symphony.commons.log import get_logger
from symphony.kernels import hashing

from ._config import ArtifactsConfig
from ._crypto import Keys, load_master_key
from ._pack import (
    FLAG_SEALED,
    FLAG_ZSTD,
    PackWriter,
    encode_record,
    expected_header,
    parse_record,
    record_size,
)

__all__ = [
    "ArtifactInfo",
    "ArtifactRef",
    "ArtifactStore",
    "GcReport",
    "SearchHit",
    "VerifyReport",
    "VersionInfo",
    "default_root",
]

_log = get_logger("symphony.pit.artifacts")

FORMAT_VERSION = 1
_ENTRY = struct.Struct("<32sI")  # manifest blob entry: chunk address, plaintext length
_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/+-]{0,254}")
_HEX_RE = re.compile(r"[0-9a-f]{8,64}")
_READ_PIECE = 1 << 20
_WORTH_COMPRESSING = 0.97
"""A chunk is stored compressed only if zstd makes it at most 97 % of its size."""
_SKIP_AFTER_INCOMPRESSIBLE = 16
"""After two new chunks in a row that do not compress, the next 16 new chunks of the same
put are stored without trying (random or already-compressed data); then it probes again."""
_SQL_BATCH = 500
_GROUP_BYTES = 2 << 20
"""Reads work on groups of consecutive chunks of about this many bytes (at most
``_SQL_BATCH`` chunks): one location query, a few ``preadv`` calls and one ``hash_cuts``
call per group."""
_PARALLEL_MIN = 4 << 20
"""``get`` of an artifact at least this large fills its groups on ``_READ_THREADS`` worker
threads (the reads, page faults and hashing all run without the GIL)."""
_READ_THREADS = max(1, min(4, os.cpu_count() or 1))
try:
    _IOV_MAX = min(1024, max(16, os.sysconf("SC_IOV_MAX")))
except (ValueError, OSError):  # pragma: no cover - every Linux has it
    _IOV_MAX = 16
_FEW_CHUNKS = 8
"""An artifact of at most this many chunks is read chunk by chunk (less set-up than groups)."""
_RECORD_OVERHEAD = record_size(0)
"""Bytes of a pack record around its payload: the header, then the CRC."""
_NO_CRC = bytes(4)
_DIGEST = operator.itemgetter(2)  # of a ChunkRecord
_ADDRESS = operator.itemgetter(0)  # of a manifest entry

ArtifactSource = bytes | bytearray | memoryview | os.PathLike[str] | IO[bytes] | Iterable[bytes]
"""What :meth:`ArtifactStore.put` accepts: bytes-like, a path, a binary file, or pieces."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB);
CREATE TABLE IF NOT EXISTS packs (
    id INTEGER PRIMARY KEY, committed_size INTEGER NOT NULL, sealed INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS chunks (
    address BLOB PRIMARY KEY, pack INTEGER, offset INTEGER, stored_len INTEGER NOT NULL,
    raw_len INTEGER NOT NULL, flags INTEGER NOT NULL, inline BLOB, orphan_since REAL,
    created_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_pack ON chunks(pack);
CREATE TABLE IF NOT EXISTS artifacts (
    id BLOB PRIMARY KEY, size INTEGER NOT NULL, chunk_count INTEGER NOT NULL,
    manifest BLOB NOT NULL, content_type TEXT, metadata TEXT NOT NULL, tags TEXT NOT NULL,
    created_at REAL NOT NULL, new_bytes INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    name TEXT NOT NULL, version INTEGER NOT NULL, artifact BLOB NOT NULL,
    created_at REAL NOT NULL, producer TEXT, run_id TEXT, node_id TEXT, message TEXT,
    PRIMARY KEY (name, version));
CREATE INDEX IF NOT EXISTS versions_artifact ON versions(artifact);
CREATE TABLE IF NOT EXISTS productions (
    artifact BLOB NOT NULL, producer TEXT, run_id TEXT, node_id TEXT, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS productions_artifact ON productions(artifact);
CREATE INDEX IF NOT EXISTS productions_run ON productions(run_id, node_id);
CREATE TABLE IF NOT EXISTS edges (
    child BLOB NOT NULL, parent BLOB NOT NULL, kind TEXT NOT NULL,
    PRIMARY KEY (child, parent, kind)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS edges_parent ON edges(parent);
CREATE TABLE IF NOT EXISTS scores (
    artifact BLOB NOT NULL, name TEXT NOT NULL, value REAL NOT NULL, weight REAL NOT NULL,
    PRIMARY KEY (artifact, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS index_queue (seq INTEGER PRIMARY KEY AUTOINCREMENT, artifact BLOB);
"""


def default_root() -> Path:
    """``<user data dir>/artifacts`` (e.g. ``~/.local/share/symphony/artifacts``)."""
    return project_dirs().data_dir / "artifacts"


# --------------------------------------------------------------------------- result types
@dataclass(frozen=True, slots=True)
class ArtifactRef:
    """What :meth:`ArtifactStore.put` returns."""

    id: str
    """64 hex digits (the manifest id)."""
    size: int
    name: str | None = None
    version: int | None = None
    new: bool = True
    """False when identical content was already stored (nothing but metadata written)."""
    new_bytes: int = 0
    """Bytes this put added to the store (after dedup and compression)."""

    def __str__(self) -> str:
        return f"{self.name}@{self.version}" if self.name else self.id


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One version of a named artifact."""

    name: str
    version: int
    id: str
    created_at: float
    producer: str | None
    run_id: str | None
    node_id: str | None
    message: str | None


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    """Everything known about one artifact (:meth:`ArtifactStore.show`)."""

    id: str
    size: int
    chunk_count: int
    content_type: str | None
    metadata: dict[str, object]
    tags: list[str]
    created_at: float
    new_bytes: int
    versions: list[VersionInfo]
    producers: list[dict[str, str | float | None]]
    parents: list[tuple[str, str]]
    """``(parent id, kind)`` edges: this artifact was derived from / produced by them."""
    children: list[tuple[str, str]]
    scores: dict[str, tuple[float, float]]
    """name -> (value, weight)."""
    quality: float | None


@dataclass(frozen=True, slots=True)
class SearchHit:
    id: str
    score: float
    names: list[str]
    content_type: str | None
    created_at: float


@dataclass
class VerifyReport:
    chunks: int = 0
    artifacts: int = 0
    bytes_checked: int = 0
    problems: list[str] = field(default_factory=list)
    unreferenced_chunks: int = 0
    uncommitted_tail_bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class GcReport:
    orphans_marked: int = 0
    chunks_deleted: int = 0
    packs_deleted: int = 0
    bytes_freed: int = 0
    packs_repacked: int = 0
    """Packs less than half live whose live records were copied to the current pack (the
    old file then deleted)."""
    dead_bytes_in_live_packs: int = 0
    """Space still held by deleted records inside packs that stay (more than half live, or
    in use by a writer)."""


# --------------------------------------------------------------------------- helpers
def _hex(raw: bytes) -> str:
    return raw.hex()


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ValidationError(
            f"artifact name {name!r} is invalid: expected 1-255 characters from "
            "[A-Za-z0-9_.:/+-], not starting with a punctuation mark, and no '@'",
            details={"name": repr(name)},
        )
    return name


def _json_obj(value: object, what: str) -> str:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{what} must be JSON-serializable: {exc}") from exc


def _opt_str(value: object, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValidationError(f"{what} must be a string or None, got {type(value).__name__}")


_TEXT_TYPES = (
    "application/json",
    "application/xml",
    "application/yaml",
    "application/toml",
    "application/x-yaml",
    "application/javascript",
)


def _is_text(content_type: str | None, head: bytes) -> bool:
    if content_type is not None:
        base = content_type.split(";", 1)[0].strip().lower()
        return base.startswith("text/") or base in _TEXT_TYPES or base.endswith("+json")
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a multi-byte character cut at the end is fine
        return exc.start >= len(head) - 3
    return True


class _Pieces:
    """Turns any accepted source into an iterator of byte pieces (and a name for errors)."""

    @staticmethod
    def of(source: object) -> Iterator[bytes | bytearray | memoryview]:
        if isinstance(source, bytes | bytearray | memoryview):
            yield memoryview(source).cast("B") if isinstance(source, memoryview) else source
            return
        if isinstance(source, str):
            raise ValidationError(
                "put(): a str is ambiguous; pass bytes (e.g. text.encode()) or a pathlib.Path"
            )
        if isinstance(source, os.PathLike):
            path = os.fspath(source)
            try:
                fh = open(path, "rb")  # noqa: SIM115 - closed below
            except OSError as exc:
                raise StorageError(f"put(): cannot open {path!r}: {exc}") from exc
            with fh:
                yield from _Pieces._read(fh)
            return
        read = getattr(source, "read", None)
        if callable(read):
            yield from _Pieces._read(cast(IO[bytes], source))
            return
        if isinstance(source, Iterable):
            for piece in source:
                if not isinstance(piece, bytes | bytearray | memoryview):
                    raise ValidationError(
                        f"put(): iterator yielded {type(piece).__name__}, expected bytes"
                    )
                yield piece
            return
        raise ValidationError(
            f"put(): cannot store a {type(source).__name__}; expected bytes, a path, "
            "a binary file or an iterable of bytes"
        )

    @staticmethod
    def _read(fh: IO[bytes]) -> Iterator[bytes]:
        while True:
            piece = fh.read(_READ_PIECE)
            if not piece:
                return
            if not isinstance(piece, bytes | bytearray):
                raise ValidationError(
                    f"put(): file returned {type(piece).__name__}; open it in binary mode"
                )
            yield bytes(piece)


@dataclass(slots=True)
class _NewChunk:
    address: bytes
    raw_len: int
    flags: int
    stored_len: int
    pack: int | None
    offset: int | None
    inline: bytes | None


@dataclass(slots=True)
class _Group:
    """Consecutive chunks of one artifact, read and verified as a unit."""

    entries: list[tuple[bytes, int]]
    """``(address, length)`` from the manifest."""
    start: int
    """Offset of the group's first byte in the artifact."""
    size: int
    locs: list[tuple[Any, ...]] = field(default_factory=list)
    """Index rows ``(pack, offset, stored_len, raw_len, flags, inline)``, one per entry."""
    fds: dict[int, int] = field(default_factory=dict)
    """An open read descriptor per pack the group uses."""


def _groups(entries: list[tuple[bytes, int]]) -> list[_Group]:
    out: list[_Group] = []
    first = start = size = 0
    for i, (_, length) in enumerate(entries):
        size += length
        if size >= _GROUP_BYTES or i + 1 - first >= _SQL_BATCH:
            out.append(_Group(entries[first : i + 1], start, size))
            first, start, size = i + 1, start + size, 0
    if first < len(entries):
        out.append(_Group(entries[first:], start, size))
    return out


class _PackGone(ArtifactCorrupt):
    """Internal: a pack file is missing (maybe repacked by a GC since the lookup)."""


class _Retry(ArtifactConflict):
    """Internal: a dedup'd chunk vanished (collected) before our commit."""


# --------------------------------------------------------------------------- the store
class ArtifactStore:
    """A content-addressed artifact store in one directory (see the module docstring).

    Thread-safe (one lock serializes operations of an instance); several processes may open
    the same directory at once. Use as a context manager, or call :meth:`close`.

    Args:
        root: the store directory (created if missing). Default: ``config.root`` or
            :func:`default_root`.
        config: an :class:`ArtifactsConfig` (default: the built-in defaults).
        key: the 32-byte master key, overriding ``config.key_file`` / ``config.key_env``.
        encrypt: create a new store encrypted (default ``config.encrypt``). Ignored for an
            existing store, which keeps its mode.

    Raises:
        ArtifactKeyError: an encrypted store without a key, or with the wrong key; a key
            given for an unencrypted store.
        StorageError: the directory or database cannot be opened.
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        config: ArtifactsConfig | None = None,
        key: bytes | None = None,
        encrypt: bool | None = None,
    ) -> None:
        import zstandard

        self.config = config or ArtifactsConfig()
        self.root = Path(root) if root is not None else (self.config.root or default_root())
        self._lock = threading.RLock()
        self._closed = False
        self._batch_depth = 0  # > 0 inside batch(): _tx() is a savepoint of its transaction
        ensure_dir(self.root)
        self._packs_dir = ensure_dir(self.root / "packs")
        self._db = self._connect()
        self._writer: PackWriter | None = None
        self._read_fds: dict[int, int] = {}
        self._zc = zstandard.ZstdCompressor(level=self.config.zstd_level)
        self._zstd = zstandard
        self._zstd_error = zstandard.ZstdError
        self._local = threading.local()  # a zstd decompressor per reading thread
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        self._search: object | None = None
        self._index_gen: object = None  # the meta 'index_gen' our tantivy reader reflects
        try:
            self._keys = self._init_meta(key, encrypt)
        except BaseException:
            self._db.close()
            raise

    # ----------------------------------------------------------------- setup
    def _connect(self) -> sqlite3.Connection:
        """Open the metadata database, safe against other processes opening it at once.

        Two connections that both read the schema and then upgrade to write (the rollback
        journal before WAL is in place, or a schema check racing a writer) get SQLITE_BUSY
        at once: SQLite refuses to wait where waiting could deadlock, whatever the busy
        timeout. So the schema is created under ``BEGIN IMMEDIATE`` (the write lock is
        taken first, where the busy handler does wait), and the whole sequence is retried
        with jittered backoff while the database reports itself busy, up to 30 s.
        """
        path = self.root / "store.db"
        deadline = time.monotonic() + 30.0
        delay = 0.002
        while True:
            db: sqlite3.Connection | None = None
            try:
                db = sqlite3.connect(
                    path, timeout=30.0, isolation_level=None, check_same_thread=False
                )
                db.execute("PRAGMA busy_timeout=30000")
                db.execute("PRAGMA journal_mode=WAL")
                sync = "FULL" if self.config.durability == "full" else "NORMAL"
                db.execute(f"PRAGMA synchronous={sync}")
                db.executescript("BEGIN IMMEDIATE;" + _SCHEMA + ";COMMIT;")
                return db
            except sqlite3.OperationalError as exc:
                if db is not None:
                    db.close()
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy or time.monotonic() > deadline:
                    raise StorageError(
                        f"cannot open artifact database {str(path)!r}: {exc}"
                    ) from exc
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.1)
            except sqlite3.Error as exc:
                if db is not None:
                    db.close()
                raise StorageError(f"cannot open artifact database {str(path)!r}: {exc}") from exc

    def _init_meta(self, key: bytes | None, encrypt: bool | None) -> Keys | None:
        if key is None:
            key = load_master_key(self.config.key_file, self.config.key_env)
        want_encrypt = self.config.encrypt if encrypt is None else encrypt
        with self._tx():
            rows = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
            if not rows:
                if want_encrypt and key is None:
                    raise ArtifactKeyError(
                        f"creating an encrypted store at {str(self.root)!r} needs a key: set "
                        f"[artifacts] key_file or ${self.config.key_env}"
                    )
                keys = Keys(key) if want_encrypt and key is not None else None
                self._db.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [
                        ("format", FORMAT_VERSION),
                        ("encrypted", 1 if keys else 0),
                        ("key_check", keys.key_check if keys else None),
                        ("created_at", time.time()),
                    ],
                )
                return keys
        if rows.get("format") != FORMAT_VERSION:
            raise StorageError(
                f"artifact store {str(self.root)!r} has format {rows.get('format')!r}; "
                f"this Symphony reads format {FORMAT_VERSION}"
            )
        if not rows.get("encrypted"):
            return None
        if key is None:
            raise ArtifactKeyError(
                f"artifact store {str(self.root)!r} is encrypted: set [artifacts] key_file "
                f"or ${self.config.key_env} to its key"
            )
        keys = Keys(key)
        if keys.key_check != rows.get("key_check"):
            raise ArtifactKeyError(
                f"wrong key for the encrypted artifact store {str(self.root)!r} "
                "(key check mismatch); nothing was read or written"
            )
        return keys

    @classmethod
    def from_config(
        cls, root: str | os.PathLike[str] | None = None, *, key: bytes | None = None
    ) -> ArtifactStore:
        """Open the store configured by the layered configuration (``[artifacts]`` section
        of :func:`symphony.commons.config.load_config`: TOML files and
        ``SYMPHONY_ARTIFACTS__*`` variables); ``root`` overrides ``[artifacts] root``.

        Raises:
            ConfigError: a bad configuration value (all of them listed).
        """
        from symphony.commons.config import load_config

        return cls(root, config=load_config().config.section(ArtifactsConfig), key=key)

    @property
    def encrypted(self) -> bool:
        return self._keys is not None

    def close(self) -> None:
        """Flush the search index queue if possible, release the pack and close files."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            if self._pool is not None:
                if self._pool_pid == os.getpid():
                    self._pool.shutdown(wait=True)
                self._pool = None
            for fd in self._read_fds.values():
                os.close(fd)
            self._read_fds.clear()
            if self._search is not None:
                from ._search import SearchIndex

                cast(SearchIndex, self._search).close()
            self._db.close()

    def __enter__(self) -> ArtifactStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"artifact store {str(self.root)!r} is closed")

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group writes (:meth:`put`, :meth:`add_edge` …) made in this block by this thread
        into one transaction: one commit — one fsync in ``full`` durability — for all of
        them, and all or nothing (an exception leaving the block stores none of them). A
        write that fails inside the block is undone alone (a savepoint) and raises as usual.
        Other threads' operations on this instance wait until the block ends; keep it short.

        Raises:
            StorageError: the store is closed, or the commit failed (nothing was stored).
        """
        with self._lock:
            self._check_open()
            with self._tx():
                self._batch_depth += 1
                try:
                    yield
                finally:
                    self._batch_depth -= 1

    @contextlib.contextmanager
    def _tx(self) -> Iterator[None]:
        if self._batch_depth:
            with self._savepoint():
                yield
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StorageError(f"artifact database busy or broken: {exc}") from exc
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise StorageError(f"artifact commit failed: {exc}") from exc

    @contextlib.contextmanager
    def _savepoint(self) -> Iterator[None]:
        try:
            self._db.execute("SAVEPOINT batch_write")
        except sqlite3.Error as exc:
            raise StorageError(f"artifact database busy or broken: {exc}") from exc
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK TO batch_write")
                self._db.execute("RELEASE batch_write")
            raise
        try:
            self._db.execute("RELEASE batch_write")
        except sqlite3.Error as exc:
            raise StorageError(f"artifact savepoint failed: {exc}") from exc

    # ----------------------------------------------------------------- packs
    def _pack_path(self, pack_id: int) -> Path:
        return self._packs_dir / f"{pack_id:08d}.pack"

    def _get_writer(self) -> PackWriter:
        w = self._writer
        if w is not None and w.size < self.config.pack_max_bytes:
            return w
        if w is not None:
            w.sync()
            with self._tx():
                # Sealed packs are never appended to again (so never cut back): their
                # committed size may include records of the put in progress.
                self._db.execute(
                    "UPDATE packs SET sealed = 1, committed_size = ? WHERE id = ?",
                    (w.size, w.pack_id),
                )
            w.close()
            self._writer = None
        rows = self._db.execute(
            "SELECT id, committed_size FROM packs WHERE sealed = 0 ORDER BY id"
        ).fetchall()
        for pack_id, committed in rows:
            w = PackWriter.try_open(self._pack_path(pack_id), pack_id, committed, create=False)
            if w is not None:
                row = self._db.execute(
                    "SELECT committed_size FROM packs WHERE id = ?", (pack_id,)
                ).fetchone()
                if row is None or row[0] != committed:  # changed under us: look again later
                    w.close()
                    continue
                self._writer = w
                return w
        with self._tx():
            cur = self._db.execute("INSERT INTO packs (committed_size) VALUES (16)")
            pack_id = cast(int, cur.lastrowid)
        w = PackWriter.try_open(self._pack_path(pack_id), pack_id, 16, create=True)
        if w is None:
            raise StorageError(f"cannot take new pack {str(self._pack_path(pack_id))!r}")
        self._writer = w
        return w

    def _read_fd(self, pack_id: int) -> int:
        fd = self._read_fds.get(pack_id)
        if fd is None:
            path = self._pack_path(pack_id)
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError as exc:
                raise _PackGone(f"pack {str(path)!r} is missing: {exc}") from exc
            except OSError as exc:
                raise ArtifactCorrupt(
                    f"pack {str(path)!r} is missing or unreadable: {exc}"
                ) from exc
            self._read_fds[pack_id] = fd
        return fd

    # ----------------------------------------------------------------- put
    def put(
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
        """Store content; returns its :class:`ArtifactRef` (all or nothing).

        Args:
            data: bytes-like, a path (``os.PathLike``), a binary file, or an iterable of
                bytes pieces (streamed: memory stays bounded).
            name: also record a new version of this name (``name@N``).
            content_type: a MIME type (text types are indexed for full-text search).
            metadata: any JSON-serializable mapping (searchable).
            tags: strings, filterable in search.
            producer: who/what produced it (free text, e.g. ``"agent:coder"``).
            run_id, node_id: the workflow run and node that produced it (lineage).
            parents: ids or ``name@version`` references it was derived from.
            scores: named quality scores in ``[0, 1]`` (weight 1).
            message: a note on the version.
            expected_version: with ``name``: fail unless the name's latest version is this
                (0: the name must not exist yet).

        Raises:
            ArtifactTooLarge: more than ``max_artifact_bytes``.
            ArtifactNotFound: a parent does not exist.
            ArtifactConflict: ``expected_version`` did not match, or a chunk was collected
                during a very long put. Nothing was stored.
            ValidationError: a bad argument (named).
            StorageError: the disk write failed.
        """
        if name is not None:
            _check_name(name)
        content_type = _opt_str(content_type, "content_type")
        meta_json = _json_obj(dict(metadata or {}), "metadata")
        if isinstance(tags, str) or not all(isinstance(t, str) for t in tags):
            raise ValidationError(f"tags must be a sequence of strings, got {tags!r}")
        tags_json = _json_obj(sorted(set(tags)), "tags")
        for what, v in (
            ("producer", producer),
            ("run_id", run_id),
            ("node_id", node_id),
            ("message", message),
        ):
            _opt_str(v, what)
        score_rows = [self._check_score(k, v, 1.0) for k, v in (scores or {}).items()]
        if expected_version is not None and (name is None or expected_version < 0):
            raise ValidationError("expected_version needs a name and must be >= 0")
        with self._lock:
            self._check_open()
            parent_ids = [self._resolve(p) for p in parents]
            is_bytes = isinstance(data, bytes | bytearray | memoryview)
            for attempt in (0, 1):
                try:
                    return self._put_once(
                        data,
                        name,
                        content_type,
                        meta_json,
                        tags_json,
                        producer,
                        run_id,
                        node_id,
                        parent_ids,
                        score_rows,
                        message,
                        expected_version,
                    )
                except _Retry:
                    if not is_bytes or attempt:
                        break
            raise ArtifactConflict(
                "put(): a chunk this put deduplicated against was garbage-collected before the "
                "put committed; nothing was stored, retry the put"
            )

    @staticmethod
    def _check_score(name: object, value: object, weight: object) -> tuple[str, float, float]:
        if not isinstance(name, str) or not name:
            raise ValidationError(f"score name must be a non-empty string, got {name!r}")
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValidationError(f"score {name!r} must be a number in [0, 1], got {value!r}")
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not (0 < weight < math.inf)
        ):
            raise ValidationError(f"score {name!r} weight must be > 0 and finite, got {weight!r}")
        return name, float(value), float(weight)

    def _put_once(
        self,
        data: ArtifactSource,
        name: str | None,
        content_type: str | None,
        meta_json: str,
        tags_json: str,
        producer: str | None,
        run_id: str | None,
        node_id: str | None,
        parent_ids: list[bytes],
        score_rows: list[tuple[str, float, float]],
        message: str | None,
        expected_version: int | None,
    ) -> ArtifactRef:
        limit = self.config.max_artifact_bytes
        keys = self._keys
        entries: list[bytes] = []
        new_chunks: dict[bytes, _NewChunk] = {}
        reused: set[bytes] = set()
        manifest = hashlib.sha256(MANIFEST_DOMAIN)
        new_bytes = 0
        size = 0
        inline_all = False

        probe = [0, 0]  # chunks left to store without trying zstd; incompressible streak

        def take(chunk: memoryview | bytes, digest: bytes) -> None:
            nonlocal new_bytes
            address = keys.address(digest) if keys is not None else digest
            entries.append(_ENTRY.pack(address, len(chunk)))
            manifest.update(manifest_entry(len(chunk), digest))
            if address in new_chunks or address in reused:
                return
            if (
                self._db.execute("SELECT 1 FROM chunks WHERE address = ?", (address,)).fetchone()
                is not None
            ):
                reused.add(address)
                return
            compress = probe[0] == 0
            if not compress:
                probe[0] -= 1
            nc = self._write_chunk(address, chunk, inline_all, compress)
            if compress:
                # two chunks in a row that do not compress: stop trying for a while
                probe[1] = 0 if nc.flags & FLAG_ZSTD else probe[1] + 1
                if probe[1] >= 2:
                    probe[:] = [_SKIP_AFTER_INCOMPRESSIBLE, 0]
            new_chunks[address] = nc
            new_bytes += nc.stored_len

        if isinstance(data, bytes | bytearray | memoryview):
            view = memoryview(data).cast("B")
            size = len(view)
            if size > limit:
                raise ArtifactTooLarge(
                    f"artifact of {size} bytes exceeds max_artifact_bytes={limit}",
                    details={"size": size, "limit": limit},
                )
            inline_all = size <= self.config.inline_artifact_max
            man = hashing.hash_chunks(view)
            for rec in man.chunks:
                take(view[rec.offset : rec.offset + rec.length], rec.digest)
        else:
            chunker = hashing.Chunker()
            buf = bytearray()
            base = 0
            for piece in _Pieces.of(data):
                size += len(piece)
                if size > limit:
                    raise ArtifactTooLarge(
                        f"artifact exceeds max_artifact_bytes={limit} (input still going at "
                        f"{size} bytes); nothing was stored",
                        details={"limit": limit},
                    )
                buf += piece
                recs = chunker.update(piece)
                for rec in recs:
                    start = rec.offset - base
                    take(bytes(buf[start : start + rec.length]), rec.digest)
                if recs:
                    consumed = recs[-1].offset + recs[-1].length - base
                    del buf[:consumed]
                    base += consumed
            for rec in chunker.finish():
                start = rec.offset - base
                take(bytes(buf[start : start + rec.length]), rec.digest)
        artifact_id = manifest.digest()
        if self._writer is not None and self.config.durability == "full":
            self._writer.sync()
        now = time.time()
        version: int | None = None
        with self._tx():
            if reused:
                self._claim(reused)
            if new_chunks:
                self._db.executemany(
                    "INSERT OR IGNORE INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                    [
                        (
                            c.address,
                            c.pack,
                            c.offset,
                            c.stored_len,
                            c.raw_len,
                            c.flags,
                            c.inline,
                            now,
                        )
                        for c in new_chunks.values()
                    ],
                )
                if self._writer is not None:
                    self._db.execute(
                        "UPDATE packs SET committed_size = ? WHERE id = ?",
                        (self._writer.size, self._writer.pack_id),
                    )
            cur = self._db.execute(
                "INSERT OR IGNORE INTO artifacts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    artifact_id,
                    size,
                    len(entries),
                    b"".join(entries),
                    content_type,
                    meta_json,
                    tags_json,
                    now,
                    new_bytes,
                ),
            )
            is_new = cur.rowcount == 1
            if name is not None:
                row = self._db.execute(
                    "SELECT max(version) FROM versions WHERE name = ?", (name,)
                ).fetchone()
                latest = row[0] or 0
                if expected_version is not None and latest != expected_version:
                    raise ArtifactConflict(
                        f"put({name!r}, expected_version={expected_version}): the latest "
                        f"version is {latest}; nothing was stored",
                        details={"name": name, "expected": expected_version, "latest": latest},
                    )
                version = latest + 1
                self._db.execute(
                    "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (name, version, artifact_id, now, producer, run_id, node_id, message),
                )
            if producer is not None or run_id is not None or node_id is not None:
                self._db.execute(
                    "INSERT INTO productions VALUES (?, ?, ?, ?, ?)",
                    (artifact_id, producer, run_id, node_id, now),
                )
            if parent_ids:
                self._db.executemany(
                    "INSERT OR IGNORE INTO edges VALUES (?, ?, 'derived-from')",
                    [(artifact_id, p) for p in parent_ids if p != artifact_id],
                )
            if score_rows:
                self._db.executemany(
                    "INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?)",
                    [(artifact_id, n, v, w) for n, v, w in score_rows],
                )
            if is_new or name is not None or score_rows or producer or run_id or node_id:
                # only what changes the artifact's search document is queued for the index
                self._db.execute("INSERT INTO index_queue (artifact) VALUES (?)", (artifact_id,))
        return ArtifactRef(
            _hex(artifact_id), size, name, version, is_new, new_bytes if is_new else 0
        )

    def _claim(self, addresses: set[bytes]) -> None:
        """Inside the commit transaction: every reused chunk must still exist; unstamp it."""
        items = list(addresses)
        for i in range(0, len(items), _SQL_BATCH):
            batch = items[i : i + _SQL_BATCH]
            marks = ",".join("?" * len(batch))
            (found,) = self._db.execute(
                f"SELECT count(*) FROM chunks WHERE address IN ({marks})", batch
            ).fetchone()
            if found != len(batch):
                raise _Retry
            self._db.execute(
                f"UPDATE chunks SET orphan_since = NULL WHERE address IN ({marks}) "
                "AND orphan_since IS NOT NULL",
                batch,
            )

    def _write_chunk(
        self, address: bytes, chunk: memoryview | bytes, inline_all: bool, compress: bool
    ) -> _NewChunk:
        raw_len = len(chunk)
        flags = 0
        payload: bytes = self._zc.compress(chunk) if compress else b""
        if compress and len(payload) <= raw_len * _WORTH_COMPRESSING:
            flags |= FLAG_ZSTD
        else:
            payload = bytes(chunk)
        if self._keys is not None:
            payload = self._keys.seal(address, payload)
            flags |= FLAG_SEALED
        if inline_all or len(payload) <= self.config.inline_max:
            return _NewChunk(address, raw_len, flags, len(payload), None, None, payload)
        w = self._get_writer()
        offset = w.append(encode_record(address, flags, raw_len, payload))
        return _NewChunk(address, raw_len, flags, len(payload), w.pack_id, offset, None)

    # ----------------------------------------------------------------- resolve
    def _resolve(self, ref: object) -> bytes:
        """An artifact id (raw) from a hex id / unique prefix, ``name`` or ``name@version``."""
        if isinstance(ref, ArtifactRef):
            ref = ref.id
        if not isinstance(ref, str) or not ref:
            raise ValidationError(f"artifact reference must be a non-empty string, got {ref!r}")
        if "@" in ref:
            name, _, ver = ref.rpartition("@")
            _check_name(name)
            if ver == "latest":
                return self._latest(name)
            try:
                version = int(ver)
            except ValueError:
                raise ValidationError(
                    f"artifact reference {ref!r}: version {ver!r} is not an integer or 'latest'"
                ) from None
            row = self._db.execute(
                "SELECT artifact FROM versions WHERE name = ? AND version = ?", (name, version)
            ).fetchone()
            if row is None:
                raise ArtifactNotFound(
                    f"artifact {name!r} has no version {version}",
                    details={"name": name, "version": version},
                )
            return cast(bytes, row[0])
        low = ref.lower()
        if _HEX_RE.fullmatch(low):
            if len(low) == 64:
                raw = bytes.fromhex(low)
                if self._db.execute("SELECT 1 FROM artifacts WHERE id = ?", (raw,)).fetchone():
                    return raw
            else:
                lo = bytes.fromhex(low if len(low) % 2 == 0 else low + "0")
                hi_hex = (low + "f" * 64)[:64]
                rows = self._db.execute(
                    "SELECT id FROM artifacts WHERE id >= ? AND id <= ? LIMIT 2",
                    (lo, bytes.fromhex(hi_hex)),
                ).fetchall()
                rows = [r for r in rows if r[0].hex().startswith(low)]
                if len(rows) == 1:
                    return cast(bytes, rows[0][0])
                if len(rows) > 1:
                    raise ValidationError(f"artifact id prefix {ref!r} is ambiguous")
        if (
            _NAME_RE.fullmatch(ref)
            and self._db.execute("SELECT 1 FROM versions WHERE name = ? LIMIT 1", (ref,)).fetchone()
        ):
            return self._latest(ref)
        raise ArtifactNotFound(
            f"no artifact {ref!r} (neither an id nor a name)", details={"ref": ref}
        )

    def _latest(self, name: str) -> bytes:
        row = self._db.execute(
            "SELECT artifact FROM versions WHERE name = ? ORDER BY version DESC LIMIT 1", (name,)
        ).fetchone()
        if row is None:
            raise ArtifactNotFound(f"no artifact named {name!r}", details={"name": name})
        return cast(bytes, row[0])

    def resolve(self, ref: str) -> str:
        """The full hex id that ``ref`` (id, prefix, ``name``, ``name@N``) designates.

        Raises:
            ArtifactNotFound, ValidationError.
        """
        with self._lock:
            self._check_open()
            return _hex(self._resolve(ref))

    def exists(self, ref: str) -> bool:
        try:
            self.resolve(ref)
        except ArtifactNotFound:
            return False
        return True

    # ----------------------------------------------------------------- get
    def _manifest(self, artifact_id: bytes) -> tuple[int, list[tuple[bytes, int]]]:
        row = self._db.execute(
            "SELECT size, manifest FROM artifacts WHERE id = ?", (artifact_id,)
        ).fetchone()
        if row is None:
            raise ArtifactNotFound(f"no artifact {_hex(artifact_id)}")
        size, blob = row
        if len(blob) % _ENTRY.size:
            raise ArtifactCorrupt(f"artifact {_hex(artifact_id)}: manifest is malformed")
        return size, [cast(tuple[bytes, int], e) for e in _ENTRY.iter_unpack(blob)]

    def _locations(self, addresses: Sequence[bytes]) -> dict[bytes, tuple[Any, ...]]:
        out: dict[bytes, tuple[Any, ...]] = {}
        uniq = list(dict.fromkeys(addresses))
        for i in range(0, len(uniq), _SQL_BATCH):
            batch = uniq[i : i + _SQL_BATCH]
            marks = ",".join("?" * len(batch))
            for row in self._db.execute(
                "SELECT address, pack, offset, stored_len, raw_len, flags, inline FROM chunks "
                f"WHERE address IN ({marks})",
                batch,
            ):
                out[row[0]] = row[1:]
        return out

    def _read_record(
        self, address: bytes, loc: tuple[Any, ...], where: str, fd: int, *, crc: bool
    ) -> tuple[int, memoryview]:
        """Read one record from its pack and check its framing; ``(flags, payload)``."""
        pack, offset, stored_len, raw_len = loc[:4]
        try:
            buf = os.pread(fd, record_size(stored_len), offset)
        except OSError as exc:
            raise ArtifactCorrupt(f"{where}: cannot read pack {pack}: {exc}") from exc
        return parse_record(buf, address, stored_len, raw_len, f"{where} pack {pack}", crc=crc)

    def _decode(
        self, address: bytes, flags: int, payload: bytes | memoryview, raw_len: int, where: str
    ) -> bytes | memoryview:
        """Open (AES-GCM) and decompress one chunk's payload; checks its length. Safe to call
        from several threads at once (one zstd decompressor per thread)."""
        if flags & FLAG_SEALED:
            if self._keys is None:
                raise ArtifactCorrupt(f"{where}: sealed chunk in an unencrypted store")
            payload = self._keys.open(address, payload, where)
        elif self._keys is not None:
            raise ArtifactCorrupt(f"{where}: unsealed chunk in an encrypted store; refused")
        if flags & FLAG_ZSTD:
            zd = getattr(self._local, "zd", None)
            if zd is None:
                zd = self._local.zd = self._zstd.ZstdDecompressor()
            try:
                payload = zd.decompress(payload, max_output_size=raw_len)
            except self._zstd_error as exc:
                raise ArtifactCorrupt(
                    f"{where}: chunk {address.hex()[:16]}… does not decompress: {exc}"
                ) from exc
        if len(payload) != raw_len:
            raise ArtifactCorrupt(f"{where}: chunk {address.hex()[:16]}… has the wrong length")
        return payload

    def _chunk_plain(
        self, address: bytes, loc: tuple[Any, ...], where: str, fd: int | None, *, crc: bool
    ) -> bytes | memoryview:
        """The decoded bytes of one chunk (not yet hash-checked); ``fd`` reads its pack
        (``None``: this thread may open it)."""
        pack, _, stored_len, raw_len, flags, inline = loc
        if inline is not None:
            payload: bytes | memoryview = inline
            if len(payload) != stored_len:
                raise ArtifactCorrupt(f"{where}: inline chunk {address.hex()[:16]}… truncated")
        else:
            if fd is None:
                fd = self._read_fd(pack)
            flags, payload = self._read_record(address, loc, where, fd, crc=crc)
        return self._decode(address, flags, payload, raw_len, where)

    def _check_address(self, address: bytes, digest: bytes, where: str) -> None:
        expect = self._keys.address(digest) if self._keys is not None else digest
        if expect != address:
            raise ArtifactCorrupt(
                f"{where}: chunk {address.hex()[:16]}… fails its hash check; refused",
                details={"chunk": address.hex()},
            )

    def _load_chunk(
        self, address: bytes, loc: tuple[Any, ...], where: str, *, crc: bool = False
    ) -> tuple[bytes | memoryview, bytes]:
        """Read, check and decode one chunk; returns ``(plaintext, sha256)`` (``verify``)."""
        plain = self._chunk_plain(address, loc, where, None, crc=crc)
        digest = hashing.sha256(plain)
        self._check_address(address, digest, where)
        return plain, digest

    def _locate(self, group: _Group, where: str) -> None:
        """Look up where the group's chunks are and open their packs (the calling thread
        holds the lock). A pack found missing (a GC in another process repacked it since
        the lookup) makes it look once more."""
        for attempt in (0, 1):
            rows = self._locations([a for a, _ in group.entries])
            locs: list[tuple[Any, ...]] = []
            for address, _ in group.entries:
                loc = rows.get(address)
                if loc is None:
                    raise ArtifactCorrupt(f"{where}: chunk {address.hex()[:16]}… is missing")
                locs.append(loc)
            try:
                fds = {p: self._read_fd(p) for p in {loc[0] for loc in locs if loc[5] is None}}
            except _PackGone:
                if attempt:
                    raise
                continue
            group.locs, group.fds = locs, fds
            return

    def _fill(self, group: _Group, out: memoryview, where: str) -> list[bytes]:
        """Decode the group's chunks into ``out`` (its ``group.size`` bytes) and verify each
        chunk's SHA-256 (one ``hash_cuts`` call); returns the digests. Runs on any thread:
        no SQLite, no lock, no shared mutable state.

        Records that follow each other in a pack are read together: stored raw in an
        unencrypted store, with one ``preadv`` straight into ``out`` (:meth:`_read_run`);
        otherwise with one ``pread`` of their span, then each is opened / decompressed into
        ``out`` (:meth:`_read_span`). Inline chunks are decoded one by one.
        """
        entries, locs, fds = group.entries, group.locs, group.fds
        raw_ok = self._keys is None
        max_run = (_IOV_MAX - 1) // 2
        run: list[int] = []  # chunks whose records are adjacent in one pack
        run_fd = run_end = -1
        run_direct = False
        starts: list[int] = []
        pos = 0
        for i, loc in enumerate(locs):
            length = entries[i][1]
            starts.append(pos)
            pack, offset, stored_len, raw_len, flags, inline = loc
            if raw_len != length:
                raise ArtifactCorrupt(f"{where}: chunk length differs from the manifest")
            if inline is None:
                fd = fds[pack]
                direct = raw_ok and flags == 0 and stored_len == length
                if run and (
                    offset != run_end or fd != run_fd or direct != run_direct or len(run) == max_run
                ):
                    self._flush(group, run, starts, run_fd, run_direct, out, where)
                    run = []
                run.append(i)
                run_fd, run_end, run_direct = fd, offset + stored_len + _RECORD_OVERHEAD, direct
            else:
                if len(inline) != stored_len:
                    raise ArtifactCorrupt(
                        f"{where}: inline chunk {entries[i][0].hex()[:16]}… truncated"
                    )
                self._decode_into(
                    entries[i][0], flags, inline, length, out[pos : pos + length], where
                )
            pos += length
        if run:
            self._flush(group, run, starts, run_fd, run_direct, out, where)
        starts.append(pos)
        digests = list(map(_DIGEST, hashing.hash_cuts(out, starts[1:]).chunks))
        addresses = list(map(_ADDRESS, entries))
        if self._keys is None and digests == addresses:
            return digests
        for address, digest in zip(addresses, digests):
            self._check_address(address, digest, where)
        return digests

    def _flush(
        self, group: _Group, run: list[int], starts: list[int], fd: int, direct: bool,
        out: memoryview, where: str,
    ) -> None:  # fmt: skip
        if direct:
            self._read_run(group, run, starts, fd, out, where)
        else:
            self._read_span(group, run, starts, fd, out, where)

    def _decode_into(
        self, address: bytes, flags: int, payload: bytes | memoryview, raw_len: int,
        dest: memoryview, where: str,
    ) -> None:  # fmt: skip
        """Decode one chunk's payload into ``dest`` (``raw_len`` bytes); a sealed chunk that
        is not compressed is decrypted straight into it."""
        if flags == FLAG_SEALED and self._keys is not None:
            self._keys.open_into(address, payload, dest, where)
        else:
            dest[:] = self._decode(address, flags, payload, raw_len, where)

    def _read_span(
        self, group: _Group, run: list[int], starts: list[int], fd: int, out: memoryview,
        where: str,
    ) -> None:  # fmt: skip
        """Read records adjacent in one pack with one ``pread`` of their span, then check
        each header against the index and decode the payload into ``out``. A short read or
        another header sends that record through :meth:`_chunk_plain`."""
        entries, locs = group.entries, group.locs
        first = locs[run[0]][1]
        last = locs[run[-1]]
        try:
            buf = os.pread(fd, last[1] + record_size(last[2]) - first, first)
        except OSError as exc:
            raise ArtifactCorrupt(f"{where}: cannot read pack {last[0]}: {exc}") from exc
        head = _RECORD_OVERHEAD - 4
        view = memoryview(buf)
        for i in run:
            address, length = entries[i]
            loc = locs[i]
            _, offset, stored_len, _, flags, _ = loc
            at = offset - first
            p = starts[i]
            if at + head + stored_len + 4 <= len(buf) and buf[at : at + head] == expected_header(
                address, flags, length, stored_len
            ):
                payload = view[at + head : at + head + stored_len]
                self._decode_into(address, flags, payload, length, out[p : p + length], where)
            else:
                out[p : p + length] = self._chunk_plain(address, loc, where, fd, crc=False)

    def _read_run(
        self, group: _Group, run: list[int], starts: list[int], fd: int, out: memoryview,
        where: str,
    ) -> None:  # fmt: skip
        """Read raw records adjacent in one pack with one ``preadv``: each payload lands in
        its place in ``out``, header ``k`` in ``scratch[52*k : 52*k+48]`` and its CRC in
        the 4 bytes after. The headers must be exactly those the index implies; a short read
        or any other header sends that record through :meth:`_chunk_plain` (which says what
        is wrong, or decodes a record whose flags differ from the index)."""
        entries, locs = group.entries, group.locs
        hsize = _RECORD_OVERHEAD
        head = hsize - 4
        scratch = bytearray(hsize * len(run))
        sv = memoryview(scratch)
        iov = [sv[:head]]
        expect: list[bytes] = []
        want = len(scratch)
        for k, i in enumerate(run):
            address, length = entries[i]
            p = starts[i]
            iov.append(out[p : p + length])
            iov.append(sv[k * hsize + head : (k + 1) * hsize + head])  # CRC k, header k + 1
            expect.append(expected_header(address, 0, length, length))
            expect.append(_NO_CRC)
            want += length
        try:
            got = os.preadv(fd, iov, locs[run[0]][1])
        except OSError as exc:
            raise ArtifactCorrupt(f"{where}: cannot read pack {locs[run[0]][0]}: {exc}") from exc
        finally:
            iov.clear()
            sv.release()
        wanted = bytearray(b"".join(expect))
        for j in range(head, hsize):  # the CRCs are not checked on reads (the SHA-256 is)
            wanted[j::hsize] = scratch[j::hsize]
        if got == want and wanted == scratch:
            return
        for k, i in enumerate(run):
            if (
                got < want
                or wanted[k * hsize : k * hsize + head] != scratch[k * hsize : k * hsize + head]
            ):
                p, length = starts[i], entries[i][1]
                out[p : p + length] = self._chunk_plain(
                    entries[i][0], locs[i], where, fd, crc=False
                )

    def _pool_for_reads(self) -> ThreadPoolExecutor:
        if self._pool is None or self._pool_pid != os.getpid():  # (a forked child: new pool)
            self._pool = ThreadPoolExecutor(_READ_THREADS, thread_name_prefix="symphony-get")
            self._pool_pid = os.getpid()
        return self._pool

    def _plan(self, artifact_id: bytes, where: str) -> tuple[int, list[_Group]]:
        size, entries = self._manifest(artifact_id)
        total = 0
        for _, length in entries:
            if not 0 < length <= MAXIMUM_MAX:
                raise ArtifactCorrupt(f"{where}: manifest is malformed (chunk of {length} bytes)")
            total += length
        if total != size:
            raise ArtifactCorrupt(f"{where}: content does not match its id; refused")
        return size, _groups(entries)

    def _assemble(self, artifact_id: bytes) -> bytes:
        """The whole verified content (the caller holds the lock).

        The result is filled in place: ``BytesIO(bytes(size))`` owns a zeroed buffer that no
        one has touched yet (large ``bytes(n)`` come from ``calloc``), ``getbuffer()`` lends
        it out writable without a copy, and ``getvalue()`` hands the same object back once
        the view is released. So the page faults of a fresh buffer happen in the worker
        threads, in parallel, as they read into it. An artifact of at most ``_FEW_CHUNKS``
        chunks is read chunk by chunk and joined (less set-up for small reads).
        """
        where = f"artifact {_hex(artifact_id)[:16]}…"
        size, groups = self._plan(artifact_id, where)
        digests: list[bytes] = []
        if len(groups) == 1 and len(groups[0].entries) <= _FEW_CHUNKS:  # small: chunk by chunk
            g = groups[0]
            self._locate(g, where)
            pieces: list[bytes | memoryview] = []
            for (address, length), loc in zip(g.entries, g.locs):
                plain, digest = self._load_chunk(address, loc, where)
                if len(plain) != length:
                    raise ArtifactCorrupt(f"{where}: chunk length differs from the manifest")
                pieces.append(plain)
                digests.append(digest)
            self._verify_id(artifact_id, groups, digests, where)
            return pieces[0] if len(pieces) == 1 and type(pieces[0]) is bytes else b"".join(pieces)
        result = io.BytesIO(bytes(size))
        with result.getbuffer() as view:
            if len(groups) > 1 and size >= _PARALLEL_MIN and _READ_THREADS > 1:
                pool = self._pool_for_reads()
                futures: list[Future[list[bytes]]] = []
                for g in groups:  # first, so that this thread does not contend for the GIL
                    self._locate(g, where)
                try:
                    for g in groups:
                        futures.append(
                            pool.submit(self._fill, g, view[g.start : g.start + g.size], where)
                        )
                    for f in futures:
                        digests += f.result()  # the first failure, in content order
                except BaseException:
                    for f in futures:
                        f.cancel()  # those not started yet
                    raise
                finally:
                    wait_futures(futures)  # none may still write into the view
            else:
                for g in groups:
                    self._locate(g, where)
                    digests += self._fill(g, view[g.start : g.start + g.size], where)
        self._verify_id(artifact_id, groups, digests, where)
        return result.getvalue()

    @staticmethod
    def _verify_id(
        artifact_id: bytes, groups: list[_Group], digests: list[bytes], where: str
    ) -> None:
        lengths = [length for g in groups for _, length in g.entries]
        man = hashlib.sha256(MANIFEST_DOMAIN)
        man.update(b"".join(map(manifest_entry, lengths, digests)))
        if man.digest() != artifact_id:
            raise ArtifactCorrupt(f"{where}: content does not match its id; refused")

    def _iter_verified(self, artifact_id: bytes) -> Iterator[memoryview]:
        """Yield the content group by group (about ``_GROUP_BYTES`` each), every chunk
        verified; the id is checked after the last group (raising there)."""
        where = f"artifact {_hex(artifact_id)[:16]}…"
        _, groups = self._plan(artifact_id, where)
        man = hashlib.sha256(MANIFEST_DOMAIN)
        for g in groups:
            self._locate(g, where)
            buf = memoryview(bytearray(g.size))
            digests = self._fill(g, buf, where)
            man.update(b"".join(map(manifest_entry, [n for _, n in g.entries], digests)))
            g.locs, g.fds = [], {}
            yield buf
        if man.digest() != artifact_id:
            raise ArtifactCorrupt(f"{where}: content does not match its id; refused")

    def get(self, ref: str) -> bytes:
        """The whole content of ``ref`` (id, unique prefix, ``name``, ``name@N``), verified.

        Raises:
            ArtifactNotFound: no such artifact.
            ArtifactCorrupt: stored data failed a check (nothing is returned).
        """
        with self._lock:
            self._check_open()
            return self._assemble(self._resolve(ref))

    def open(self, ref: str) -> io.BufferedReader:
        """A binary file over the content, read a group of chunks (about 2 MiB) at a time,
        each chunk verified as it is read; the id is checked when the last group is read,
        raising ``ArtifactCorrupt`` there."""
        with self._lock:
            self._check_open()
            artifact_id = self._resolve(ref)
        return io.BufferedReader(_Reader(self, artifact_id), buffer_size=1 << 16)

    def _next_chunks(self, artifact_id: bytes) -> Iterator[bytes | memoryview]:
        it = self._iter_verified(artifact_id)
        while True:
            with self._lock:
                self._check_open()
                piece = next(it, None)
            if piece is None:
                return
            yield piece

    # ----------------------------------------------------------------- metadata
    def show(self, ref: str) -> ArtifactInfo:
        """All metadata, versions, producers, lineage and scores of an artifact."""
        with self._lock:
            self._check_open()
            aid = self._resolve(ref)
            row = self._db.execute(
                "SELECT size, chunk_count, content_type, metadata, tags, created_at, new_bytes "
                "FROM artifacts WHERE id = ?",
                (aid,),
            ).fetchone()
            if row is None:
                raise ArtifactNotFound(f"no artifact {ref!r}")
            versions = [
                VersionInfo(r[0], r[1], _hex(r[2]), r[3], r[4], r[5], r[6], r[7])
                for r in self._db.execute(
                    "SELECT * FROM versions WHERE artifact = ? ORDER BY name, version", (aid,)
                )
            ]
            producers: list[dict[str, str | float | None]] = [
                {"producer": p, "run_id": r, "node_id": n, "at": at}
                for p, r, n, at in self._db.execute(
                    "SELECT producer, run_id, node_id, at FROM productions WHERE artifact = ? "
                    "ORDER BY at",
                    (aid,),
                )
            ]
            parents = [
                (_hex(p), k)
                for p, k in self._db.execute(
                    "SELECT parent, kind FROM edges WHERE child = ? ORDER BY parent", (aid,)
                )
            ]
            children = [
                (_hex(c), k)
                for c, k in self._db.execute(
                    "SELECT child, kind FROM edges WHERE parent = ? ORDER BY child", (aid,)
                )
            ]
            scores = {
                n: (v, w)
                for n, v, w in self._db.execute(
                    "SELECT name, value, weight FROM scores WHERE artifact = ? ORDER BY name",
                    (aid,),
                )
            }
        return ArtifactInfo(
            id=_hex(aid),
            size=row[0],
            chunk_count=row[1],
            content_type=row[2],
            metadata=json.loads(row[3]),
            tags=json.loads(row[4]),
            created_at=row[5],
            new_bytes=row[6],
            versions=versions,
            producers=producers,
            parents=parents,
            children=children,
            scores=scores,
            quality=_quality(scores.values()),
        )

    def history(self, name: str) -> list[VersionInfo]:
        """Every version of ``name``, oldest first.

        Raises:
            ArtifactNotFound: no such name.
        """
        _check_name(name)
        with self._lock:
            self._check_open()
            rows = self._db.execute(
                "SELECT * FROM versions WHERE name = ? ORDER BY version", (name,)
            ).fetchall()
        if not rows:
            raise ArtifactNotFound(f"no artifact named {name!r}", details={"name": name})
        return [VersionInfo(r[0], r[1], _hex(r[2]), r[3], r[4], r[5], r[6], r[7]) for r in rows]

    def names(self) -> list[str]:
        with self._lock:
            self._check_open()
            return [
                r[0] for r in self._db.execute("SELECT DISTINCT name FROM versions ORDER BY name")
            ]

    def rollback(
        self,
        name: str,
        version: int,
        *,
        producer: str | None = None,
        expected_version: int | None = None,
    ) -> ArtifactRef:
        """Make ``name@version``'s content the latest again, as a *new* version (history is
        kept: ``name@latest`` moves forward, never backward).

        Raises:
            ArtifactNotFound: no such name or version.
            ArtifactConflict: ``expected_version`` is not the latest.
        """
        _check_name(name)
        with self._lock:
            self._check_open()
            with self._tx():
                row = self._db.execute(
                    "SELECT artifact FROM versions WHERE name = ? AND version = ?", (name, version)
                ).fetchone()
                if row is None:
                    raise ArtifactNotFound(f"artifact {name!r} has no version {version!r}")
                (latest,) = self._db.execute(
                    "SELECT max(version) FROM versions WHERE name = ?", (name,)
                ).fetchone()
                if expected_version is not None and latest != expected_version:
                    raise ArtifactConflict(
                        f"rollback({name!r}): latest version is {latest}, "
                        f"expected {expected_version}"
                    )
                aid = cast(bytes, row[0])
                (size,) = self._db.execute(
                    "SELECT size FROM artifacts WHERE id = ?", (aid,)
                ).fetchone()
                self._db.execute(
                    "INSERT INTO versions VALUES (?, ?, ?, ?, ?, NULL, NULL, ?)",
                    (name, latest + 1, aid, time.time(), producer, f"rollback to {version}"),
                )
                self._db.execute("INSERT INTO index_queue (artifact) VALUES (?)", (aid,))
        return ArtifactRef(_hex(aid), size, name, latest + 1, False, 0)

    def set_score(self, ref: str, name: str, value: float, weight: float = 1.0) -> float | None:
        """Record (or replace) a named quality score; returns the artifact's new quality."""
        n, v, w = self._check_score(name, value, weight)
        with self._lock:
            self._check_open()
            aid = self._resolve(ref)
            with self._tx():
                self._db.execute(
                    "INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?)", (aid, n, v, w)
                )
                self._db.execute("INSERT INTO index_queue (artifact) VALUES (?)", (aid,))
            rows = self._db.execute(
                "SELECT value, weight FROM scores WHERE artifact = ?", (aid,)
            ).fetchall()
        return _quality(rows)

    def add_edge(self, child: str, parent: str, kind: str = "derived-from") -> None:
        """Record a lineage edge ``child --kind--> parent`` between existing artifacts."""
        if not isinstance(kind, str) or not kind:
            raise ValidationError(f"edge kind must be a non-empty string, got {kind!r}")
        with self._lock:
            self._check_open()
            c, p = self._resolve(child), self._resolve(parent)
            with self._tx():
                self._db.execute("INSERT OR IGNORE INTO edges VALUES (?, ?, ?)", (c, p, kind))

    def lineage(
        self, ref: str, direction: Literal["up", "down"] = "up", depth: int = 1_000_000
    ) -> list[tuple[str, str, str]]:
        """Edges reachable from ``ref``: ``up`` follows derived-from to ancestors, ``down`` to
        descendants. Returns ``(child, parent, kind)`` triples, breadth first."""
        if direction not in ("up", "down"):
            raise ValidationError(f"direction must be 'up' or 'down', got {direction!r}")
        with self._lock:
            self._check_open()
            start = self._resolve(ref)
            sql = (
                "SELECT child, parent, kind FROM edges WHERE child = ?"
                if direction == "up"
                else "SELECT child, parent, kind FROM edges WHERE parent = ?"
            )
            seen = {start}
            frontier = [start]
            out: list[tuple[str, str, str]] = []
            level = 0
            while frontier and level < depth:
                nxt: list[bytes] = []
                for node in frontier:
                    for c, p, k in self._db.execute(sql, (node,)).fetchall():
                        out.append((_hex(c), _hex(p), k))
                        other = p if direction == "up" else c
                        if other not in seen:
                            seen.add(other)
                            nxt.append(other)
                frontier = nxt
                level += 1
        return out

    def produced_by(
        self, run_id: str | None = None, node_id: str | None = None, producer: str | None = None
    ) -> list[str]:
        """Ids of artifacts produced by a run / node / producer (any combination)."""
        clauses, args = [], []
        for col, val in (("run_id", run_id), ("node_id", node_id), ("producer", producer)):
            if val is not None:
                clauses.append(f"{col} = ?")
                args.append(val)
        if not clauses:
            raise ValidationError("produced_by() needs run_id, node_id or producer")
        with self._lock:
            self._check_open()
            rows = self._db.execute(
                f"SELECT DISTINCT artifact FROM productions WHERE {' AND '.join(clauses)} "
                "ORDER BY at",
                args,
            ).fetchall()
        return [_hex(r[0]) for r in rows]

    def delete(self, ref: str) -> str:
        """Remove an artifact, its versions, productions, scores and edges. Its chunks become
        unreferenced (if no other artifact uses them) and :meth:`gc` reclaims them later."""
        with self._lock:
            self._check_open()
            aid = self._resolve(ref)
            with self._tx():
                for table, col in (
                    ("versions", "artifact"),
                    ("productions", "artifact"),
                    ("scores", "artifact"),
                    ("edges", "child"),
                    ("edges", "parent"),
                    ("artifacts", "id"),
                ):
                    self._db.execute(f"DELETE FROM {table} WHERE {col} = ?", (aid,))
                self._db.execute("INSERT INTO index_queue (artifact) VALUES (?)", (aid,))
        return _hex(aid)

    def stats(self) -> dict[str, int]:
        """Counts and sizes: artifacts, raw bytes, stored bytes (chunks), pack file bytes."""
        with self._lock:
            self._check_open()
            (n, raw) = self._db.execute(
                "SELECT count(*), coalesce(sum(size), 0) FROM artifacts"
            ).fetchone()
            (chunks, stored) = self._db.execute(
                "SELECT count(*), coalesce(sum(stored_len), 0) FROM chunks"
            ).fetchone()
            (versions,) = self._db.execute("SELECT count(*) FROM versions").fetchone()
        pack_bytes = sum(p.stat().st_size for p in self._packs_dir.glob("*.pack"))
        db_bytes = sum(p.stat().st_size for p in self.root.glob("store.db*") if p.is_file())
        return {
            "artifacts": n,
            "versions": versions,
            "raw_bytes": raw,
            "chunks": chunks,
            "stored_bytes": stored,
            "pack_bytes": pack_bytes,
            "db_bytes": db_bytes,
        }

    # ----------------------------------------------------------------- verify / gc
    def verify(self) -> VerifyReport:
        """Check the whole store: every chunk record (framing, CRC, tag, hash), every
        artifact (all chunks present, id recomputed), pack tails. Never raises for bad data:
        problems are listed in the report."""
        report = VerifyReport()
        with self._lock:
            self._check_open()
            digests: dict[bytes, tuple[int, bytes]] = {}
            rows = self._db.execute(
                "SELECT address, pack, offset, stored_len, raw_len, flags, inline FROM chunks"
            ).fetchall()
            for row in rows:
                address = row[0]
                try:
                    plain, digest = self._load_chunk(address, row[1:], "verify", crc=True)
                except (ArtifactCorrupt, StorageError) as exc:
                    report.problems.append(str(exc))
                    continue
                digests[address] = (len(plain), digest)
                report.chunks += 1
                report.bytes_checked += len(plain)
            referenced: set[bytes] = set()
            for aid, size, blob in self._db.execute("SELECT id, size, manifest FROM artifacts"):
                report.artifacts += 1
                if len(blob) % _ENTRY.size:
                    report.problems.append(f"artifact {_hex(aid)}: manifest is malformed")
                    continue
                manifest = hashlib.sha256(MANIFEST_DOMAIN)
                total = 0
                bad = False
                for address, length in _ENTRY.iter_unpack(blob):
                    referenced.add(address)
                    got = digests.get(address)
                    if got is None or got[0] != length:
                        bad = True
                        continue
                    manifest.update(manifest_entry(length, got[1]))
                    total += length
                if bad:
                    report.problems.append(
                        f"artifact {_hex(aid)}: chunks missing or damaged (see above)"
                    )
                elif total != size or manifest.digest() != aid:
                    report.problems.append(f"artifact {_hex(aid)}: content does not match id")
            report.unreferenced_chunks = len({r[0] for r in rows} - referenced)
            for pack_id, committed in self._db.execute("SELECT id, committed_size FROM packs"):
                path = self._pack_path(pack_id)
                try:
                    actual = path.stat().st_size
                    with open(path, "rb") as fh:
                        if fh.read(16)[:8] != b"SYMPACK\x01":
                            report.problems.append(f"pack {str(path)!r}: bad header")
                except OSError as exc:
                    if self._db.execute(
                        "SELECT 1 FROM chunks WHERE pack = ? LIMIT 1", (pack_id,)
                    ).fetchone():
                        report.problems.append(f"pack {str(path)!r} unreadable: {exc}")
                    continue
                if actual < committed:
                    report.problems.append(
                        f"pack {str(path)!r} is {actual} bytes, shorter than its committed "
                        f"size {committed}"
                    )
                else:
                    report.uncommitted_tail_bytes += actual - committed
        return report

    def gc(self, grace_seconds: float | None = None) -> GcReport:
        """Mark/sweep unreferenced chunks (see the module docstring for the protocol)."""
        grace = self.config.gc_grace_seconds if grace_seconds is None else grace_seconds
        if isinstance(grace, bool) or not isinstance(grace, int | float) or not grace >= 0:
            raise ValidationError(f"grace_seconds must be >= 0, got {grace_seconds!r}")
        report = GcReport()
        with self._lock:
            self._check_open()
            now = time.time()
            with self._tx():
                referenced: set[bytes] = set()
                for aid, blob in self._db.execute("SELECT id, manifest FROM artifacts"):
                    if len(blob) % _ENTRY.size:
                        raise ArtifactCorrupt(
                            f"gc refused: artifact {_hex(aid)} has a malformed manifest, so "
                            "what it references is unknown; run verify"
                        )
                    referenced.update(blob[i : i + 32] for i in range(0, len(blob), _ENTRY.size))
                stamp, unstamp, delete = [], [], []
                freed = 0
                for address, orphan_since, stored in self._db.execute(
                    "SELECT address, orphan_since, stored_len FROM chunks"
                ).fetchall():
                    if address in referenced:
                        if orphan_since is not None:
                            unstamp.append((address,))
                    elif orphan_since is None:
                        stamp.append((now, address))
                        if grace == 0:
                            delete.append((address,))
                            freed += stored
                    elif orphan_since <= now - grace:
                        delete.append((address,))
                        freed += stored
                self._db.executemany(
                    "UPDATE chunks SET orphan_since = NULL WHERE address = ?", unstamp
                )
                self._db.executemany("UPDATE chunks SET orphan_since = ? WHERE address = ?", stamp)
                self._db.executemany("DELETE FROM chunks WHERE address = ?", delete)
                report.orphans_marked = len(stamp)
                report.chunks_deleted = len(delete)
                report.bytes_freed = freed
            self._collect_packs(report)
        return report

    def _collect_packs(self, report: GcReport) -> None:
        import fcntl

        overhead = record_size(0)
        live = dict(
            self._db.execute(
                "SELECT pack, sum(stored_len) + count(*) * ? FROM chunks "
                "WHERE pack IS NOT NULL GROUP BY pack",
                (overhead,),
            ).fetchall()
        )
        for pack_id, committed in self._db.execute(
            "SELECT id, committed_size FROM packs"
        ).fetchall():
            if self._writer is not None and self._writer.pack_id == pack_id:
                if pack_id in live:
                    report.dead_bytes_in_live_packs += max(0, committed - 16 - int(live[pack_id]))
                continue
            if pack_id in live:
                dead = max(0, committed - 16 - int(live[pack_id]))
                if dead <= int(live[pack_id]) or not self._repack(pack_id, committed, report):
                    report.dead_bytes_in_live_packs += dead
                continue
            path = self._pack_path(pack_id)
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                fd = -1
            try:
                if fd >= 0:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # a writer holds it
                with self._tx():
                    if self._db.execute(
                        "SELECT 1 FROM chunks WHERE pack = ? LIMIT 1", (pack_id,)
                    ).fetchone():
                        continue
                    self._db.execute("DELETE FROM packs WHERE id = ?", (pack_id,))
                if fd >= 0:
                    os.unlink(path)
                old = self._read_fds.pop(pack_id, None)
                if old is not None:
                    os.close(old)
                report.packs_deleted += 1
            finally:
                if fd >= 0:
                    os.close(fd)

    def _repack(self, pack_id: int, committed: int, report: GcReport) -> bool:
        """Copy the live records of a mostly-dead pack into the current pack, point the index
        at the copies (one transaction), delete the old file. False if skipped (a writer
        holds the pack, or a record in it fails its CRC: left for ``verify`` to report)."""
        import fcntl

        path = self._pack_path(pack_id)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            rows = self._db.execute(
                "SELECT address, offset, stored_len, raw_len FROM chunks WHERE pack = ?",
                (pack_id,),
            ).fetchall()
            moves: list[tuple[int, int, bytes]] = []
            live = 0
            for address, offset, stored_len, raw_len in rows:
                buf = os.pread(fd, record_size(stored_len), offset)
                try:
                    parse_record(buf, address, stored_len, raw_len, f"repack {pack_id}")
                except ArtifactCorrupt:
                    return False
                w = self._get_writer()
                moves.append((w.pack_id, w.append([buf]), address))
                live += len(buf)
            if self._writer is not None and self.config.durability == "full":
                self._writer.sync()
            with self._tx():
                self._db.executemany(
                    "UPDATE chunks SET pack = ?, offset = ? WHERE address = ? AND pack = ?",
                    [(new_pack, new_off, address, pack_id) for new_pack, new_off, address in moves],
                )
                if self._writer is not None:
                    self._db.execute(
                        "UPDATE packs SET committed_size = ? WHERE id = ?",
                        (self._writer.size, self._writer.pack_id),
                    )
                if self._db.execute(
                    "SELECT 1 FROM chunks WHERE pack = ? LIMIT 1", (pack_id,)
                ).fetchone():
                    return False  # cannot happen while we hold the flock; be safe
                self._db.execute("DELETE FROM packs WHERE id = ?", (pack_id,))
            os.unlink(path)
            old = self._read_fds.pop(pack_id, None)
            if old is not None:
                os.close(old)
            report.packs_repacked += 1
            report.bytes_freed += max(0, committed - 16 - live)
            return True
        except OSError as exc:
            raise StorageError(f"repack of {str(path)!r} failed: {exc}") from exc
        finally:
            os.close(fd)

    # ----------------------------------------------------------------- search
    def _index(self) -> object:
        if self._search is None:
            from ._search import SearchIndex

            self._search = SearchIndex(self.root / "index")
        return self._search

    def sync_index(self) -> int:
        """Bring the full-text index up to date with the store; returns documents updated.

        Called by :meth:`search`. If another process holds the index writer, this returns 0
        and the search runs on the index as last committed.
        """
        from ._search import SearchIndex

        with self._lock:
            self._check_open()
            idx = cast(SearchIndex, self._index())
            rows = self._db.execute("SELECT seq, artifact FROM index_queue ORDER BY seq").fetchall()
            if not rows:
                return 0
            max_seq = rows[-1][0]
            ids = list(dict.fromkeys(r[1] for r in rows))
            docs = [self._index_doc(aid) for aid in ids]
            if not idx.apply([_hex(a) for a in ids], [d for d in docs if d is not None]):
                return 0
            with self._tx():
                self._db.execute("DELETE FROM index_queue WHERE seq <= ?", (max_seq,))
                self._bump_index_gen()
            return len(ids)

    def _bump_index_gen(self) -> None:
        """Inside a transaction: record that the tantivy index changed, so that other store
        instances (other processes) reload their readers (a commit is invisible to a reader
        until ``reload()``; reloading on every search would cost ~60 us)."""
        self._db.execute(
            "INSERT INTO meta VALUES ('index_gen', 1) "
            "ON CONFLICT(key) DO UPDATE SET value = value + 1"
        )
        (self._index_gen,) = self._db.execute(
            "SELECT value FROM meta WHERE key = 'index_gen'"
        ).fetchone()

    def _refresh_reader(self, idx: object) -> None:
        from ._search import SearchIndex

        row = self._db.execute("SELECT value FROM meta WHERE key = 'index_gen'").fetchone()
        gen = row[0] if row else 0
        if gen != self._index_gen:
            cast(SearchIndex, idx).index.reload()
            self._index_gen = gen

    def rebuild_index(self) -> int:
        """Drop the full-text index and rebuild it from the store; returns documents indexed."""
        from ._search import SearchIndex

        with self._lock:
            self._check_open()
            idx = cast(SearchIndex, self._index())
            (max_seq,) = self._db.execute(
                "SELECT coalesce(max(seq), 0) FROM index_queue"
            ).fetchone()
            ids = [r[0] for r in self._db.execute("SELECT id FROM artifacts")]
            docs = [d for d in (self._index_doc(a) for a in ids) if d is not None]
            idx.rebuild(docs)
            with self._tx():
                self._db.execute("DELETE FROM index_queue WHERE seq <= ?", (max_seq,))
                self._bump_index_gen()
            return len(docs)

    def _index_doc(self, aid: bytes) -> dict[str, object] | None:
        row = self._db.execute(
            "SELECT content_type, metadata, tags, created_at, size FROM artifacts WHERE id = ?",
            (aid,),
        ).fetchone()
        if row is None:
            return None
        content_type, meta_json, tags_json, created_at, _size = row
        names = [
            r[0]
            for r in self._db.execute(
                "SELECT DISTINCT name FROM versions WHERE artifact = ?", (aid,)
            )
        ]
        prods: list[str] = []
        for p, r, n in self._db.execute(
            "SELECT producer, run_id, node_id FROM productions WHERE artifact = ?", (aid,)
        ):
            prods.extend(x for x in (p, r, n) if x)
        quality = _quality(
            self._db.execute(
                "SELECT value, weight FROM scores WHERE artifact = ?", (aid,)
            ).fetchall()
        )
        text = ""
        limit = self.config.index_max_text_bytes
        index_content = self.config.index_content and (
            self._keys is None or self.config.index_content_when_encrypted
        )
        if index_content and limit:
            head = bytearray()
            try:
                for piece in self._iter_verified(aid):
                    head += piece
                    if len(head) >= limit:
                        break
            except ArtifactCorrupt as exc:
                _log.warning("not indexing the content of %s: %s", _hex(aid), exc)
                head.clear()
            if _is_text(content_type, bytes(head[:8192])):
                text = bytes(head[:limit]).decode("utf-8", "replace")
        meta = json.loads(meta_json)
        return {
            "id": _hex(aid),
            "name": names,
            "name_raw": names,
            "content": text,
            "meta": _flatten(meta),
            "attrs": meta,
            "tags": json.loads(tags_json),
            "content_type": content_type or "",
            "producer": sorted(set(prods)),
            "created_at": int(created_at * 1_000_000),
            "quality": float(quality or 0.0),
        }

    def search(
        self,
        query: str = "",
        *,
        limit: int = 10,
        content_type: str | None = None,
        tags: Sequence[str] = (),
        producer: str | None = None,
        name: str | None = None,
        since: float | None = None,
        until: float | None = None,
        min_quality: float | None = None,
    ) -> list[SearchHit]:
        """Full-text search over names, text content, metadata and tags, with filters.

        ``query`` uses tantivy's query syntax (``word``, ``"a phrase"``, ``a AND b``,
        ``attrs.key:value`` for a metadata key, ``content:word`` for one field); empty
        matches everything (then newest first, score 0). Filters are exact:
        ``content_type``, every tag in ``tags``, ``producer`` (a producer, run id or node
        id), ``name``, creation time in ``[since, until]`` (Unix seconds), ``min_quality``.
        Ranking: BM25 x ``log2(2 + quality)`` (see the module docstring). Results reflect
        the store as of the index catch-up at the start of the call (hits are built from the
        index's stored fields, not looked up in SQLite one by one).

        Raises:
            ValidationError: a malformed query or a bad limit (1..10000).
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000:
            raise ValidationError(f"search limit must be an integer in [1, 10000], got {limit!r}")
        if not isinstance(query, str):
            raise ValidationError(f"search query must be a string, got {type(query).__name__}")
        from ._search import SearchIndex

        self.sync_index()
        with self._lock:
            self._check_open()
            idx = cast(SearchIndex, self._index())
            self._refresh_reader(idx)
            hits = idx.search(
                query,
                limit=limit,
                content_type=content_type,
                tags=list(tags),
                producer=producer,
                name=name,
                since=since,
                until=until,
                min_quality=min_quality,
            )
        return [
            SearchHit(hid, score, names, ctype or None, created / 1_000_000)
            for hid, score, names, ctype, created in hits
        ]


def _quality(rows: Iterable[tuple[float, float]]) -> float | None:
    num = den = 0.0
    for value, weight in rows:
        num += value * weight
        den += weight
    return num / den if den else None


def _flatten(meta: object, prefix: str = "") -> str:
    """Metadata as searchable text: ``key value`` pairs, nested keys joined with dots."""
    parts: list[str] = []
    if isinstance(meta, dict):
        for k, v in meta.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            parts.append(_flatten(v, key))
    elif isinstance(meta, list):
        parts.extend(_flatten(v, prefix) for v in meta)
    else:
        parts.append(f"{prefix} {meta}" if prefix else str(meta))
    return "\n".join(p for p in parts if p)


class _Reader(io.RawIOBase):
    """Raw reader over an artifact's verified chunks (wrapped in a BufferedReader)."""

    def __init__(self, store: ArtifactStore, artifact_id: bytes) -> None:
        super().__init__()
        self._store, self._id = store, artifact_id
        self._chunks = store._next_chunks(artifact_id)
        self._started = False
        self._buf: bytes | memoryview = b""  # the current group (about 2 MiB), verified
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: memoryview) -> int:  # type: ignore[override]
        self._started = True
        while self._pos >= len(self._buf):
            nxt = next(self._chunks, None)
            if nxt is None:
                return 0
            self._buf, self._pos = nxt, 0
        n = min(len(b), len(self._buf) - self._pos)
        b[:n] = self._buf[self._pos : self._pos + n]
        self._pos += n
        return n

    def readall(self) -> bytes:
        """The rest in one piece (``BufferedReader.read()`` calls this; the default would
        read 8 KiB at a time). Everything, when nothing was read yet: that is ``get``."""
        if not self._started:
            self._started = True
            with self._store._lock:
                self._store._check_open()
                return self._store._assemble(self._id)
        parts: list[bytes | memoryview] = [self._buf[self._pos :]]
        parts.extend(self._chunks)
        self._buf, self._pos = b"", 0
        return b"".join(parts)
