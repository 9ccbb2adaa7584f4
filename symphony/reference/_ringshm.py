"""Segment plumbing shared by both ring twins: names, mapping, orphans, the popped Message.

None of this is the ring algorithm (that is :mod:`symphony.reference.ring` and
``symphony/include/symphony/ring.h``); it is the part around it that both twins do the same
way: POSIX shared memory through ``posix_ipc``, ``mmap``, pid liveness and cleanup.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import posix_ipc

from symphony import _layout as L
from symphony.commons.errors import RingClosed, RingFormatError

__all__ = [
    "CHECK_MESSAGES",
    "Message",
    "attach_segment",
    "check_error",
    "cleanup",
    "create_segment",
    "find_orphans",
    "pid_alive",
    "segment_name",
    "unlink_segment",
]

SHM_DIR = Path("/dev/shm")

CHECK_MESSAGES = {
    -1: "is smaller than a ring header",
    -2: "has a bad magic (not a Symphony ring)",
    -3: "has an unsupported ring version",
    -4: "has an inconsistent geometry (capacity, slots or size)",
}
"""Messages for the checks of ``sy_ring_check`` (same codes in ring.h), for both twins."""


def check_error(name: str, code: int, mm: mmap.mmap) -> RingFormatError:
    """The error for a failed ``sy_ring_check`` code on segment ``name`` (both twins).

    A version mismatch names the version found and the one this program was built for.
    """
    if code == -3:
        (found,) = struct.unpack_from("<I", mm, L.RING_OFF_VERSION)
        return RingFormatError(
            f"ring segment {name!r} has format version {found}, this program was built for "
            f"version {L.RING_VERSION} (unsupported ring version)"
        )
    return RingFormatError(f"ring segment {name!r} {CHECK_MESSAGES[code]}")


def segment_name(name: str) -> str:
    """The POSIX shm name (``"/name"``) for a ring name; rejects unusable names."""
    if not isinstance(name, str):
        raise TypeError(f"ring name must be a str, got {type(name).__name__}")
    bare = name[1:] if name.startswith("/") else name
    if not bare or "/" in bare or "\0" in bare or len(bare) > 200:
        raise RingFormatError(
            f"ring name {name!r} must be 1-200 characters without '/' (besides a leading one)"
        )
    return "/" + bare


def create_segment(name: str, size: int) -> mmap.mmap:
    """Create (exclusively) and map a zero-filled segment of ``size`` bytes."""
    try:
        shm = posix_ipc.SharedMemory(segment_name(name), posix_ipc.O_CREX, 0o600, size)
    except posix_ipc.ExistentialError as exc:
        raise RingFormatError(f"shared-memory segment {name!r} already exists") from exc
    try:
        return mmap.mmap(shm.fd, size)
    finally:
        shm.close_fd()


def attach_segment(name: str) -> mmap.mmap:
    """Map an existing segment; a missing or too small one raises RingFormatError."""
    try:
        shm = posix_ipc.SharedMemory(segment_name(name))
    except posix_ipc.ExistentialError as exc:
        raise RingFormatError(f"no ring segment named {name!r}") from exc
    try:
        if shm.size < L.RING_HEADER_SIZE:
            raise RingFormatError(
                f"segment {name!r} of {shm.size} bytes {CHECK_MESSAGES[-1]} "
                f"({L.RING_HEADER_SIZE} bytes)"
            )
        return mmap.mmap(shm.fd, shm.size)
    finally:
        shm.close_fd()


def unlink_segment(name: str) -> bool:
    """Remove a segment by name; False if it did not exist."""
    try:
        posix_ipc.unlink_shared_memory(segment_name(name))
    except posix_ipc.ExistentialError:
        return False
    return True


def pid_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie (same rule as ``sy_pid_alive``)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    state = stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3]
    return state not in (b"Z", b"X")


def _ring_pids(head: bytes) -> list[int]:
    pids = [
        struct.unpack_from("<I", head, off)[0]
        for off in (L.RING_OFF_CREATOR, L.RING_OFF_CONSUMER_PID, L.RING_OFF_PRODUCER_PID)
    ]
    nslots = min(struct.unpack_from("<I", head, L.RING_OFF_NSLOTS)[0], L.RING_MAX_SLOTS)
    for i in range(nslots):
        off = L.RING_OFF_SLOTS + i * L.RING_SLOT_SIZE + L.RING_SLOT_PID
        if off + 4 <= len(head):
            pids.append(struct.unpack_from("<I", head, off)[0])
    return [p for p in pids if p]


def _read_head(path: Path) -> bytes | None:
    try:
        with path.open("rb") as f:
            head = f.read(L.RING_OFF_SLOTS + L.RING_MAX_SLOTS * L.RING_SLOT_SIZE)
    except OSError:
        return None
    if len(head) < L.RING_HEADER_SIZE:
        return None
    if struct.unpack_from("<Q", head, L.RING_OFF_MAGIC)[0] != L.RING_MAGIC:
        return None
    return head


def find_orphans(prefix: str = "") -> list[str]:
    """Names of ring segments (starting with ``prefix``) whose every recorded process is dead.

    A ring records its creator, its consumer, its single producer or its multi-producer
    slots. When none of them is alive the segment can only be garbage left by a crash.
    """
    out = []
    try:
        entries = sorted(SHM_DIR.iterdir())
    except OSError:
        return []
    for path in entries:
        if not path.name.startswith(prefix) or path.name.endswith(L.RING_ARENA_SUFFIX):
            continue
        head = _read_head(path)
        if head is None:
            continue
        if not any(pid_alive(p) for p in _ring_pids(head)):
            out.append(path.name)
    return out


def cleanup(names: list[str] | None = None, *, prefix: str = "") -> list[str]:
    """Unlink orphaned rings (``find_orphans(prefix)`` when ``names`` is None) and arenas.

    Returns the names actually removed (arenas included).
    """
    removed = []
    for name in find_orphans(prefix) if names is None else names:
        head = _read_head(SHM_DIR / name.lstrip("/"))
        if head is not None:
            (alen,) = struct.unpack_from("<I", head, L.RING_OFF_ARENA_LEN)
            alen = min(alen, L.RING_ARENA_NAME_MAX)
            arena = head[L.RING_OFF_ARENA_NAME : L.RING_OFF_ARENA_NAME + alen].decode(
                "utf-8", "replace"
            )
            if arena and unlink_segment(arena):
                removed.append(arena)
        if unlink_segment(name):
            removed.append(name.lstrip("/"))
    return removed


class Message:
    """A popped record: ``data`` is a memoryview of its payload.

    For an arena-backed record ``data`` looks straight into the shared arena (zero-copy) and
    :meth:`release` frees the block; for an inline record ``data`` views a private copy.
    Use it as a context manager, or call :meth:`release` exactly when done: until then an
    arena block stays allocated.
    """

    __slots__ = ("_data", "_free", "in_arena", "nbytes")

    def __init__(
        self, data: memoryview, free: Callable[[], None] | None = None, *, in_arena: bool = False
    ) -> None:
        self._data: memoryview | None = data
        self._free = free
        self.nbytes = len(data)
        """Payload length in bytes."""
        self.in_arena = in_arena
        """True when ``data`` is a view into the shared arena."""

    @property
    def data(self) -> memoryview:
        """The payload (raises RingClosed once released)."""
        if self._data is None:
            raise RingClosed("message already released")
        return self._data

    def tobytes(self) -> bytes:
        """A copy of the payload."""
        return self.data.tobytes()

    def release(self) -> None:
        """Release the view and free the arena block; idempotent."""
        if self._data is None:
            return
        self._data.release()
        self._data = None
        free, self._free = self._free, None
        if free is not None:
            free()

    def __enter__(self) -> Message:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def __len__(self) -> int:
        return self.nbytes

    def __repr__(self) -> str:
        state = "released" if self._data is None else ("arena" if self.in_arena else "inline")
        return f"<Message {self.nbytes} bytes, {state}>"
