"""Pack files: append-only files of chunk records, and the record format.

A pack starts with a 16-byte header (``b"SYMPACK\\x01"`` + 8 zero bytes). Then records, each::

    magic   4s   b"SYMC"
    version B    1
    flags   B    bit 0: zstd-compressed, bit 1: AES-256-GCM sealed
    _       H    0
    raw_len I    length of the plaintext chunk
    stored  I    length of the payload that follows
    address 32s  the chunk address (SHA-256, or HMAC-SHA256 when encrypted)
    payload      ``stored`` bytes
    crc     I    CRC-32C of header and payload

Only one process appends to a pack at a time (an exclusive ``flock`` on the file). A record
becomes reachable only when the SQLite transaction that indexes it commits; bytes past the
pack's committed size (a put that died before committing) are garbage and are cut off when a
writer next takes the pack.
"""

from __future__ import annotations

import fcntl
import os
import struct
from pathlib import Path

from symphony.commons.errors import ArtifactCorrupt, StorageError
from symphony.kernels import checksum

__all__ = [
    "FLAG_SEALED",
    "FLAG_ZSTD",
    "PACK_HEADER",
    "RECORD_HEADER",
    "PackWriter",
    "encode_record",
    "expected_header",
    "parse_record",
    "record_size",
]

PACK_HEADER = b"SYMPACK\x01" + bytes(8)
RECORD_HEADER = struct.Struct("<4sBBHII32s")
_CRC = struct.Struct("<I")
_MAGIC = b"SYMC"
FLAG_ZSTD = 1
FLAG_SEALED = 2


def record_size(stored_len: int) -> int:
    """Bytes a record with a payload of ``stored_len`` bytes occupies in a pack."""
    return RECORD_HEADER.size + stored_len + _CRC.size


def expected_header(address: bytes, flags: int, raw_len: int, stored_len: int) -> bytes:
    """The exact header bytes of a record indexed with these values."""
    return RECORD_HEADER.pack(_MAGIC, 1, flags, 0, raw_len, stored_len, address)


def encode_record(address: bytes, flags: int, raw_len: int, payload: bytes) -> list[bytes]:
    """The pieces of one record (header, payload, crc), ready for ``os.writev``."""
    header = RECORD_HEADER.pack(_MAGIC, 1, flags, 0, raw_len, len(payload), address)
    crc = checksum.crc32c(payload, checksum.crc32c(header))
    return [header, payload, _CRC.pack(crc)]


def parse_record(
    buf: bytes, address: bytes, stored_len: int, raw_len: int, where: str, *, crc: bool = True
) -> tuple[int, memoryview]:
    """Check one record read from a pack; returns ``(flags, payload)``.

    ``crc=False`` skips the CRC-32C (reads do: the SHA-256 of the chunk, checked after
    decoding, is the stronger check and must be computed anyway; ``verify`` checks both).

    Raises:
        ArtifactCorrupt: truncated, bad magic, lengths or address not those indexed, bad CRC.
    """
    if len(buf) != record_size(stored_len):
        raise ArtifactCorrupt(
            f"{where}: record truncated ({len(buf)} of {record_size(stored_len)} bytes)"
        )
    magic, version, flags, _, rlen, slen, addr = RECORD_HEADER.unpack_from(buf, 0)
    if magic != _MAGIC or version != 1:
        raise ArtifactCorrupt(f"{where}: bad record magic/version {magic!r}/{version}")
    if slen != stored_len or rlen != raw_len or addr != address:
        raise ArtifactCorrupt(
            f"{where}: record header does not match the index (address {addr.hex()[:16]}…, "
            f"lengths {rlen}/{slen}, expected {address.hex()[:16]}…, {raw_len}/{stored_len})"
        )
    view = memoryview(buf)
    end = RECORD_HEADER.size + stored_len
    (stored_crc,) = _CRC.unpack_from(buf, end)
    if crc and checksum.crc32c(view[:end]) != stored_crc:
        raise ArtifactCorrupt(f"{where}: CRC-32C mismatch in record of chunk {address.hex()[:16]}…")
    return flags, view[RECORD_HEADER.size : end]


class PackWriter:
    """The pack one store instance appends to, held under an exclusive ``flock``."""

    __slots__ = ("fd", "pack_id", "path", "size", "synced")

    def __init__(self, fd: int, pack_id: int, path: Path, size: int) -> None:
        self.fd = fd
        self.pack_id = pack_id
        self.path = path
        self.size = size
        self.synced = True

    @classmethod
    def try_open(
        cls, path: Path, pack_id: int, committed: int, *, create: bool
    ) -> PackWriter | None:
        """Take ``path`` for appending, or ``None`` if another writer holds it (or it is gone).

        An existing pack is cut back to ``committed`` bytes (uncommitted garbage from a
        writer that died). A new one gets its header.
        """
        flags = os.O_RDWR | os.O_CLOEXEC | (os.O_CREAT | os.O_EXCL if create else 0)
        try:
            fd = os.open(path, flags, 0o644)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"cannot open pack {str(path)!r}: {exc}") from exc
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return None
            if os.fstat(fd).st_nlink == 0:  # collected between our open and our lock
                os.close(fd)
                return None
            if create:
                os.write(fd, PACK_HEADER)
                size = len(PACK_HEADER)
            else:
                size = max(committed, len(PACK_HEADER))
                if os.fstat(fd).st_size != size:
                    os.ftruncate(fd, size)
            return cls(fd, pack_id, path, size)
        except OSError as exc:
            os.close(fd)
            raise StorageError(f"cannot prepare pack {str(path)!r}: {exc}") from exc

    def append(self, pieces: list[bytes]) -> int:
        """Append one record; returns its offset."""
        offset = self.size
        total = sum(len(p) for p in pieces)
        try:
            written = os.pwritev(self.fd, pieces, offset)
            while written < total:  # short write: finish it
                flat = b"".join(pieces)[written:]
                written += os.pwrite(self.fd, flat, offset + written)
        except OSError as exc:
            raise StorageError(f"cannot append to pack {str(self.path)!r}: {exc}") from exc
        self.size = offset + total
        self.synced = False
        return offset

    def sync(self) -> None:
        """Make appended records durable (``fdatasync``)."""
        if not self.synced:
            try:
                os.fdatasync(self.fd)
            except OSError as exc:
                raise StorageError(f"cannot fsync pack {str(self.path)!r}: {exc}") from exc
            self.synced = True

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # releases the flock
            self.fd = -1
