"""Durable run state: an append-only journal of batched records plus atomic snapshots.

Layout (inside a run directory)::

    journal.log      frames: [u32 length][u32 crc32][msgpack payload]
                     frame 0's payload is {"gen": G}; every later payload is a list of records
    snapshot.msgpack {"gen": G, "state": {...}} — written to a temp file, fsynced, renamed

A *record* is a short list (``[node, code, payload]``, see the executor). Records are
appended to an in-memory batch and written with one ``write`` per batch (:meth:`Journal.flush`);
a batch is *acknowledged* once ``flush`` returns: it is then in the kernel's page cache and
survives the death of the process (SIGKILL). With ``fsync=True`` every flushed batch is also
``fsync``-ed (never each record), which survives power loss.

Recovery (:func:`read_state`) loads the snapshot of generation ``G`` and replays the frames of
a journal of the same generation, stopping at the first torn or corrupt frame (a crash in
the middle of a write loses only that unacknowledged batch). Compaction writes a snapshot of
generation ``G + 1`` and then replaces the journal with an empty one of generation ``G + 1``;
a crash between the two leaves a journal of generation ``G``, which the snapshot already
covers, so it is ignored.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import msgpack

from symphony.commons.errors import StorageError

__all__ = ["Journal", "atomic_write", "read_state"]

_HEAD = struct.Struct("<II")
JOURNAL = "journal.log"
SNAPSHOT = "snapshot.msgpack"


def _plain(obj: object) -> object:
    """msgpack fallback: paths and other objects as strings, sets/tuples as lists."""
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=repr)
    return repr(obj)


_packer_default: Callable[[object], object] = _plain


def pack(obj: object) -> bytes:
    """msgpack bytes of ``obj`` (non-msgpack values become strings)."""
    return msgpack.packb(obj, default=_packer_default, use_bin_type=True)  # type: ignore[no-any-return]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, fsync: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically (temp file, optional fsync, rename)."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        if fsync:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)
    if fsync:
        _fsync_dir(path.parent)


def _frame(payload: bytes) -> bytes:
    return _HEAD.pack(len(payload), zlib.crc32(payload)) + payload


class Journal:
    """The append side of a run's journal.

    Args:
        directory: the run directory (created if missing).
        fsync: fsync each flushed batch (power-loss safe) instead of only writing it
            (process-crash safe).
        batch: :meth:`append` flushes by itself once this many records are pending.
    """

    __slots__ = ("_buf", "_dir", "_fd", "_fsync", "batch", "gen", "records_written")

    def __init__(self, directory: Path, *, fsync: bool = False, batch: int = 4096) -> None:
        self._dir = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync
        self.batch = batch
        self._buf: list[object] = []
        self.records_written = 0
        snap = directory / SNAPSHOT
        gen = 0
        if snap.exists():
            gen = int(_load_snapshot(snap)["gen"])  # type: ignore[call-overload]
        path = directory / JOURNAL
        jgen = _journal_gen(path)
        if jgen != gen:
            self._new_journal(gen)
        self.gen = gen
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)

    def _new_journal(self, gen: int) -> None:
        atomic_write(self._dir / JOURNAL, _frame(pack({"gen": gen})), fsync=self._fsync)

    @property
    def buffer(self) -> list[object]:
        """The pending records; append to it directly on hot paths, then :meth:`flush`."""
        return self._buf

    @property
    def pending(self) -> int:
        """Records appended but not yet flushed."""
        return len(self._buf)

    def append(self, record: object) -> None:
        """Queue one record (flushes when the batch is full)."""
        self._buf.append(record)
        if len(self._buf) >= self.batch:
            self.flush()

    def flush(self, fsync: bool | None = None) -> int:
        """Write the pending records as one frame (and fsync it in power-loss mode, or as
        ``fsync`` says).

        Returns the number of records written. Raises StorageError on an I/O failure.
        """
        buf = self._buf
        n = len(buf)
        if n:
            data = _frame(pack(buf))
            buf.clear()  # in place: the executor appends to this very list
            try:
                os.write(self._fd, data)
            except OSError as exc:
                raise StorageError(f"cannot write run journal in {self._dir}: {exc}") from exc
            self.records_written += n
        if self._fsync if fsync is None else fsync:
            self.sync()
        return n

    @property
    def fsync_mode(self) -> bool:
        """True in power-loss mode (every acknowledged batch is fsynced)."""
        return self._fsync

    def sync(self) -> None:
        """fsync what was written (safe to call from a worker thread)."""
        fd = self._fd
        if fd >= 0:
            try:
                os.fsync(fd)
            except OSError as exc:
                raise StorageError(f"cannot fsync run journal in {self._dir}: {exc}") from exc

    def compact(self, state: dict[str, object]) -> None:
        """Write ``state`` as the snapshot of the next generation and start an empty journal.

        ``state`` must include everything flushed so far (call :meth:`flush` first).
        """
        self.flush()
        gen = self.gen + 1
        atomic_write(self._dir / SNAPSHOT, pack({"gen": gen, "state": state}), fsync=True)
        os.close(self._fd)
        self._new_journal(gen)
        self.gen = gen
        self._fd = os.open(self._dir / JOURNAL, os.O_WRONLY | os.O_APPEND)

    def close(self) -> None:
        """Flush and close (idempotent)."""
        if self._fd >= 0:
            self.flush()
            os.close(self._fd)
            self._fd = -1


def _load_snapshot(path: Path) -> dict[str, object]:
    try:
        doc = msgpack.unpackb(path.read_bytes(), raw=False, strict_map_key=False)
    except (OSError, ValueError, msgpack.UnpackException) as exc:
        raise StorageError(f"run snapshot {path} is unreadable: {exc}") from exc
    if not isinstance(doc, dict) or "gen" not in doc:
        raise StorageError(f"run snapshot {path} is not a snapshot")
    return doc


def _frames(data: bytes) -> list[object]:
    out: list[object] = []
    pos, end = 0, len(data)
    size = _HEAD.size
    while pos + size <= end:
        length, crc = _HEAD.unpack_from(data, pos)
        start = pos + size
        stop = start + length
        if stop > end:
            break  # torn tail: an unacknowledged batch
        payload = data[start:stop]
        if zlib.crc32(payload) != crc:
            break
        out.append(msgpack.unpackb(payload, raw=False, strict_map_key=False))
        pos = stop
    return out


def _journal_gen(path: Path) -> int | None:
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except FileNotFoundError:
        return None
    frames = _frames(head[: _HEAD.size + _HEAD.unpack_from(head)[0]] if len(head) >= 8 else b"")
    if frames and isinstance(frames[0], dict):
        return int(frames[0].get("gen", -1))
    return None


def read_state(directory: Path) -> tuple[dict[str, object] | None, list[list[object]]]:
    """The latest snapshot state (or ``None``) and the records journaled after it, in order."""
    snap_path = directory / SNAPSHOT
    state: dict[str, object] | None = None
    gen = 0
    if snap_path.exists():
        doc = _load_snapshot(snap_path)
        gen = int(doc["gen"])  # type: ignore[call-overload]
        st = doc.get("state")
        state = st if isinstance(st, dict) else None
    try:
        data = (directory / JOURNAL).read_bytes()
    except FileNotFoundError:
        return state, []
    frames = _frames(data)
    if not frames or not isinstance(frames[0], dict) or frames[0].get("gen") != gen:
        return state, []
    records: list[list[object]] = []
    for fr in frames[1:]:
        if isinstance(fr, list):
            records.extend(fr)
    return state, records
