"""Content hashing: FastCDC 2020 content-defined chunking, and SHA-256 of chunks and content.

**Chunking.** FastCDC as published in 2020 (Xia et al., *The Design of Fast Content-Defined
Chunking for Data Deduplication Based Storage Systems*, IEEE TPDS): cut points are where a gear
rolling hash matches a mask, so an insertion early in a file moves only nearby cut points and
unchanged regions keep their chunks (and their digests: deduplication). The cut points are
identical to those of the ``v2020`` module of the Rust ``fastcdc`` crate (checked against its
published test vectors), with its gear table and mask table. The judgement of one chunk, over
``data[0:n]``:

- ``n <= min_size``: the whole rest is one chunk, hash 0 (nothing is hashed).
- otherwise ``n`` is capped at ``max_size``; bytes before ``min_size`` are skipped (rounded
  down to even). From there bytes are taken **two at a time** (byte ``i`` even, then
  ``i + 1``)::

      h = (h << 2) + GEAR_LS[data[i]]        # then test h & (mask << 1) == 0: cut, length i
      h = h + GEAR[data[i + 1]]              # then test h & mask == 0:        cut, length i + 1

  with 64-bit wrap-around, ``GEAR_LS[b] = GEAR[b] << 1``, and ``mask`` the strict ``mask_s``
  while ``i < avg_size`` (or ``n`` if smaller) and the loose ``mask_l`` after it
  (*normalized chunking*). Only whole pairs below ``n`` are tested; no match gives length
  ``n``.
- ``mask_s = MASKS[bits + level]``, ``mask_l = MASKS[bits - level]`` with
  ``bits = round(log2(avg_size))``. ``level`` 0..3 (default 1) narrows the size distribution.
- ``seed`` (default 0) XORs every ``GEAR`` entry with ``seed`` and every ``GEAR_LS`` entry
  with ``seed << 1``, changing all cut points (to resist chunk-size fingerprinting).

**Streaming.** :class:`Chunker` takes the content in pieces of any size and yields exactly the
chunks that one call over the whole content yields: a chunk is only judged once ``max_size``
bytes are available (or at :meth:`Chunker.finish`), because the judgement depends on ``n`` only
through ``min(n, max_size)`` -- except at the end of the content. Between calls it keeps fewer
than ``max_size`` bytes.

**Ids.** Every chunk gets its SHA-256. A :class:`~symphony._cdc.Manifest` carries the
``manifest_id`` (SHA-256 of the chunk list, no second pass over the bytes) and, on request,
``content_sha256`` (SHA-256 of all the bytes); see :class:`~symphony._cdc.Manifest`.

Every function takes any C-contiguous buffer (bytes, bytearray, memoryview, mmap, array ...).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable

from typing_extensions import Buffer

from symphony._cdc import (
    DEFAULT_AVG_SIZE,
    DEFAULT_LEVEL,
    DEFAULT_MAX_SIZE,
    DEFAULT_MIN_SIZE,
    MANIFEST_DOMAIN,
    ChunkRecord,
    Manifest,
    check_ends,
    check_params,
    check_threads,
    manifest_entry,
)
from symphony.commons.errors import ChunkerError
from symphony.reference._buffer import byte_view

__all__ = [
    "Chunker",
    "cut",
    "cut_points",
    "gear_table",
    "hash_chunks",
    "hash_cuts",
    "sha256",
    "uses_sha_extensions",
]

_U64 = 2**64 - 1

GEAR: tuple[int, ...] = tuple(
    int.from_bytes(hashlib.md5(bytes([b]) * 64).digest()[:8], "big") for b in range(256)
)
"""The gear table: the first 8 bytes (big-endian) of MD5 of 64 copies of the byte value."""

MASKS: tuple[int, ...] = (
    0, 0, 0, 0, 0,
    0x0000000001804110, 0x0000000001803110, 0x0000000018035100, 0x0000001800035300,
    0x0000019000353000, 0x0000590003530000, 0x0000D90003530000, 0x0000D90103530000,
    0x0000D90303530000, 0x0000D90313530000, 0x0000D90F03530000, 0x0000D90303537000,
    0x0000D90703537000, 0x0000D90707537000, 0x0000D91707537000, 0x0000D91747537000,
    0x0000D91767537000, 0x0000D93767537000, 0x0000D93777537000, 0x0000D93777577000,
    0x0000DB3777577000,
)  # fmt: skip
"""Masks by number of bits, with the one bits spread out (FastCDC / destor / restic)."""


def gear_table(seed: int = 0) -> list[int]:
    """The 256 gear values in use for ``seed`` (``GEAR[b] ^ seed``)."""
    check_params(DEFAULT_MIN_SIZE, DEFAULT_AVG_SIZE, DEFAULT_MAX_SIZE, DEFAULT_LEVEL, seed)
    return [g ^ seed for g in GEAR]


class _Params:
    """Validated parameters with their derived masks and tables."""

    __slots__ = ("avg", "gear", "gear_ls", "mask_l", "mask_s", "max", "min")

    def __init__(self, min_size: int, avg_size: int, max_size: int, level: int, seed: int):
        self.min, self.avg, self.max, level, seed = check_params(
            min_size, avg_size, max_size, level, seed
        )
        bits = round(math.log2(self.avg))
        self.mask_s = MASKS[bits + level]
        self.mask_l = MASKS[bits - level]
        self.gear = [g ^ seed for g in GEAR]
        self.gear_ls = [((g << 1) & _U64) ^ ((seed << 1) & _U64) for g in GEAR]

    def cut(self, data: memoryview, start: int, end: int) -> tuple[int, int]:
        """``(length, gear_hash)`` of the chunk that starts at ``data[start]``, content ending
        at ``end``."""
        n = end - start
        if n <= self.min:
            return n, 0
        center = self.avg
        if n > self.max:
            n = self.max
        elif n < center:
            center = n
        gear, gear_ls = self.gear, self.gear_ls
        h = 0
        i = self.min // 2 * 2
        for limit, mask in ((center // 2 * 2, self.mask_s), (n // 2 * 2, self.mask_l)):
            mask_ls = mask << 1
            while i < limit:
                h = ((h << 2) + gear_ls[data[start + i]]) & _U64
                if not h & mask_ls:
                    return i, h
                h = (h + gear[data[start + i + 1]]) & _U64
                if not h & mask:
                    return i + 1, h
                i += 2
        return n, h


def cut(
    data: Buffer,
    min_size: int = DEFAULT_MIN_SIZE,
    avg_size: int = DEFAULT_AVG_SIZE,
    max_size: int = DEFAULT_MAX_SIZE,
    level: int = DEFAULT_LEVEL,
    seed: int = 0,
) -> tuple[int, int]:
    """The first chunk of ``data``: its length and gear hash (the crate's ``cut``).

    Returns:
        ``(length, gear_hash)``; ``(0, 0)`` for empty data, ``(len(data), 0)`` when
        ``len(data) <= min_size``.

    Raises:
        ChunkerError: a bad parameter (named in the message).
        TypeError, BufferError: ``data`` is not a contiguous buffer.
    """
    p = _Params(min_size, avg_size, max_size, level, seed)
    view = byte_view(data, "cut data")
    return p.cut(view, 0, len(view))


def cut_points(
    data: Buffer,
    min_size: int = DEFAULT_MIN_SIZE,
    avg_size: int = DEFAULT_AVG_SIZE,
    max_size: int = DEFAULT_MAX_SIZE,
    level: int = DEFAULT_LEVEL,
    seed: int = 0,
) -> list[int]:
    """End offsets of every chunk of ``data``, in order (the last is ``len(data)``).

    Empty data has no chunks: ``[]``. Chunk ``k`` is ``data[ends[k-1]:ends[k]]``.

    Raises:
        ChunkerError: a bad parameter (named in the message).
        TypeError, BufferError: ``data`` is not a contiguous buffer.
    """
    p = _Params(min_size, avg_size, max_size, level, seed)
    view = byte_view(data, "cut_points data")
    ends: list[int] = []
    pos, total = 0, len(view)
    while pos < total:
        pos += p.cut(view, pos, total)[0]
        ends.append(pos)
    return ends


def hash_chunks(
    data: Buffer,
    min_size: int = DEFAULT_MIN_SIZE,
    avg_size: int = DEFAULT_AVG_SIZE,
    max_size: int = DEFAULT_MAX_SIZE,
    level: int = DEFAULT_LEVEL,
    seed: int = 0,
    content_digest: bool = False,
    threads: int = 1,
) -> Manifest:
    """Chunk ``data`` and SHA-256 every chunk; the :class:`~symphony._cdc.Manifest`.

    Args:
        data: any C-contiguous buffer.
        min_size, avg_size, max_size, level, seed: chunking parameters (see the module).
        content_digest: also compute ``content_sha256``, the SHA-256 of all of ``data``
            (a second hash over every byte; ``None`` when false).
        threads: 1 (the default) or 2, a performance hint that never changes the result.
            With 2, the Cython twin scans for cut points on a helper thread while the
            calling thread hashes the chunks, for inputs of 1 MiB and more (the GIL is
            released): worth it only when a second core is idle. This twin always works on
            one thread.

    Raises:
        ChunkerError: a bad parameter, ``threads`` included (named in the message).
        TypeError, BufferError: ``data`` is not a contiguous buffer.
    """
    chunker = Chunker(min_size, avg_size, max_size, level, seed, content_digest)
    check_threads(threads)
    chunks = chunker.update(data)
    chunks += chunker.finish()
    return Manifest(tuple(chunks), chunker.size, chunker.manifest_id, chunker.content_sha256)


def hash_cuts(data: Buffer, ends: Iterable[int]) -> Manifest:
    """SHA-256 every chunk of ``data`` cut at the given ``ends``; the
    :class:`~symphony._cdc.Manifest`, exactly as :func:`hash_chunks` builds it.

    Chunk ``i`` is ``data[ends[i-1]:ends[i]]`` (the first starts at 0), so
    ``hash_cuts(data, cut_points(data, ...)) == hash_chunks(data, ...)``. This is how stored
    content is verified against a manifest without chunking it again: the artifact store
    reassembles chunks into one buffer and checks every chunk's digest and the manifest id
    in one call. ``content_sha256`` is ``None``.

    Args:
        data: any C-contiguous buffer.
        ends: chunk end offsets, strictly increasing from at least 1, the last equal to
            ``len(data)`` (none for empty data), as :func:`cut_points` returns them.

    Raises:
        ChunkerError: ``ends`` is not such a sequence (the first bad end is named).
        TypeError, BufferError: ``data`` is not a contiguous buffer.
    """
    view = byte_view(data, "hash_cuts data")
    cuts = check_ends(ends, len(view))
    manifest = hashlib.sha256(MANIFEST_DOMAIN)
    chunks: list[ChunkRecord] = []
    start = 0
    for end in cuts:
        digest = hashlib.sha256(view[start:end]).digest()
        manifest.update(manifest_entry(end - start, digest))
        chunks.append(ChunkRecord(start, end - start, digest))
        start = end
    return Manifest(tuple(chunks), len(view), manifest.digest(), None)


def sha256(data: Buffer) -> bytes:
    """SHA-256 of ``data`` (32 bytes); the same as ``hashlib.sha256(data).digest()``."""
    return hashlib.sha256(byte_view(data, "sha256 data")).digest()


def uses_sha_extensions() -> bool:
    """True when SHA-256 runs on the x86 SHA instructions; never claimed by this twin
    (hashlib's OpenSSL may still use them)."""
    return False


class Chunker:
    """Streaming FastCDC + SHA-256: feed pieces with :meth:`update`, end with :meth:`finish`.

    The chunks returned, all calls together, are exactly those of :func:`hash_chunks` over the
    concatenation of the pieces, however the content was split. Fewer than ``max_size`` bytes
    stay buffered between calls (:attr:`pending`).

    A Chunker is not thread-safe: use one per thread (the Cython twin raises
    :class:`~symphony.commons.errors.ChunkerError` when two threads call it at once).

    Args:
        min_size, avg_size, max_size, level, seed: chunking parameters (see the module).
        content_digest: also hash the whole content (:attr:`content_sha256`).

    Raises:
        ChunkerError: a bad parameter (named in the message).
    """

    def __init__(
        self,
        min_size: int = DEFAULT_MIN_SIZE,
        avg_size: int = DEFAULT_AVG_SIZE,
        max_size: int = DEFAULT_MAX_SIZE,
        level: int = DEFAULT_LEVEL,
        seed: int = 0,
        content_digest: bool = False,
    ) -> None:
        self._p = _Params(min_size, avg_size, max_size, level, seed)
        self._pending = bytearray()
        self._offset = 0  # stream offset of self._pending[0]
        self._manifest = hashlib.sha256(MANIFEST_DOMAIN)
        self._content = hashlib.sha256() if content_digest else None
        self._finished = False

    @property
    def pending(self) -> int:
        """Bytes buffered, not yet part of a returned chunk (always ``< max_size``)."""
        return len(self._pending)

    @property
    def size(self) -> int:
        """Bytes fed so far."""
        return self._offset + len(self._pending)

    @property
    def finished(self) -> bool:
        """True once :meth:`finish` was called."""
        return self._finished

    @property
    def manifest_id(self) -> bytes:
        """SHA-256 of the manifest (see :class:`~symphony._cdc.Manifest`).

        Raises:
            ChunkerError: :meth:`finish` has not been called yet.
        """
        self._require_finished("manifest_id")
        return self._manifest.digest()

    @property
    def content_sha256(self) -> bytes | None:
        """SHA-256 of all bytes fed, or ``None`` without ``content_digest=True``.

        Raises:
            ChunkerError: :meth:`finish` has not been called yet.
        """
        self._require_finished("content_sha256")
        return None if self._content is None else self._content.digest()

    def update(self, data: Buffer) -> list[ChunkRecord]:
        """Feed the next piece of content; returns the chunks it completed (maybe none).

        Raises:
            ChunkerError: called after :meth:`finish`.
            TypeError, BufferError: ``data`` is not a contiguous buffer.
        """
        view = byte_view(data, "Chunker.update data")
        if self._finished:
            raise ChunkerError("Chunker.update() called after finish()")
        if self._content is not None:
            self._content.update(view)
        self._pending += view
        return self._drain(final=False)

    def finish(self) -> list[ChunkRecord]:
        """End of content: returns the remaining chunks. The ids are then available.

        Raises:
            ChunkerError: called twice.
        """
        if self._finished:
            raise ChunkerError("Chunker.finish() called twice")
        out = self._drain(final=True)
        self._finished = True
        return out

    def _drain(self, *, final: bool) -> list[ChunkRecord]:
        buf, p = self._pending, self._p
        out: list[ChunkRecord] = []
        view = memoryview(buf)
        pos = 0
        while len(buf) - pos >= p.max or (final and pos < len(buf)):
            length = p.cut(view, pos, len(buf))[0]
            digest = hashlib.sha256(view[pos : pos + length]).digest()
            self._manifest.update(manifest_entry(length, digest))
            out.append(ChunkRecord(self._offset + pos, length, digest))
            pos += length
        view.release()
        del buf[:pos]
        self._offset += pos
        return out

    def _require_finished(self, what: str) -> None:
        if not self._finished:
            raise ChunkerError(f"Chunker.{what} is only known after finish()")
