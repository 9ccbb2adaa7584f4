"""Encryption at rest: key loading, key derivation, chunk addresses and AES-256-GCM records.

**Keys.** One 32-byte *master key*, read from a key file (32 raw bytes, or 64 hex digits, or
base64 of 32 bytes; surrounding whitespace ignored) or from an environment variable (hex or
base64). Two independent keys are derived from it with HKDF-SHA256:
``enc_key`` (AES-256-GCM) and ``mac_key`` (HMAC-SHA256 chunk addresses). A *key check* value,
``HMAC-SHA256(mac_key, b"symphony.artifacts.keycheck.v1")``, is kept in the store so that a
wrong key is refused at open, before anything is read or written.

**Dedup with encryption.** A chunk's address is ``HMAC-SHA256(mac_key, SHA-256(chunk))``:
equal plaintext chunks get equal addresses (so they are stored once), while someone reading the
store without the key cannot test whether it holds a chunk of known content (the address does
not reveal the chunk's plain hash). Unencrypted stores use ``SHA-256(chunk)`` as the address.

**Records.** Each chunk is encrypted on its own with a fresh random 96-bit nonce and the
chunk address as associated data, so a record moved to another address, altered, or decrypted
with another key fails authentication and is refused. Random nonces keep the collision risk
below 2**-32 for up to 2**32 chunks per key (NIST SP 800-38D); rotate keys well before that.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from pathlib import Path

from symphony.commons.errors import ArtifactCorrupt, ArtifactKeyError

__all__ = ["NONCE_BYTES", "TAG_BYTES", "Keys", "load_master_key", "parse_key"]

NONCE_BYTES = 12
TAG_BYTES = 16
_KEYCHECK_LABEL = b"symphony.artifacts.keycheck.v1"
_MAX_KEY_FILE = 4096


def parse_key(text: bytes, where: str) -> bytes:
    """Decode a master key: 32 raw bytes, 64 hex digits or base64 of 32 bytes.

    Raises:
        ArtifactKeyError: anything else (``where`` names the source; the key is never shown).
    """
    if len(text) == 32:
        return bytes(text)
    stripped = text.strip()
    if len(stripped) == 64:
        try:
            return binascii.unhexlify(stripped)
        except (binascii.Error, ValueError):
            pass
    try:
        raw = base64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) == 32:
        return raw
    raise ArtifactKeyError(
        f"{where}: expected a 32-byte key (32 raw bytes, 64 hex digits or base64), "
        f"got {len(stripped)} bytes that decode to none of these",
        details={"where": where},
    )


def load_master_key(key_file: Path | None, key_env: str) -> bytes | None:
    """The master key from ``key_file`` if set, else from ``$key_env``; ``None`` if neither.

    Raises:
        ArtifactKeyError: the key file cannot be read or a key is malformed.
    """
    if key_file is not None:
        try:
            with open(key_file, "rb") as fh:
                data = fh.read(_MAX_KEY_FILE + 1)
        except OSError as exc:
            raise ArtifactKeyError(
                f"cannot read key file {str(key_file)!r}: {exc}", details={"path": str(key_file)}
            ) from exc
        if len(data) > _MAX_KEY_FILE:
            raise ArtifactKeyError(f"key file {str(key_file)!r} is too large to be a key")
        return parse_key(data, f"key file {str(key_file)!r}")
    value = os.environ.get(key_env)
    if value is None or value == "":
        return None
    return parse_key(value.encode("ascii", "replace"), f"environment variable {key_env}")


def _hkdf(master: bytes, info: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


class Keys:
    """Keys derived from one master key; encrypts and decrypts chunk records."""

    __slots__ = ("_aead", "_mac_key", "key_check")

    def __init__(self, master: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(master) != 32:
            raise ArtifactKeyError(f"master key must be 32 bytes, got {len(master)}")
        self._aead = AESGCM(_hkdf(master, b"symphony.artifacts.enc.v1"))
        self._mac_key = _hkdf(master, b"symphony.artifacts.mac.v1")
        self.key_check = hmac.new(self._mac_key, _KEYCHECK_LABEL, hashlib.sha256).digest()
        """Stored in the store; compared at open to refuse a wrong key."""

    def address(self, digest: bytes) -> bytes:
        """The chunk address for a chunk whose plain SHA-256 is ``digest``."""
        return hmac.new(self._mac_key, digest, hashlib.sha256).digest()

    def seal(self, address: bytes, payload: bytes) -> bytes:
        """``nonce || ciphertext || tag`` of ``payload``, bound to ``address``."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, payload, address)

    def open(self, address: bytes, sealed: bytes | memoryview, where: str) -> bytes:
        """Decrypt and authenticate a sealed record.

        Raises:
            ArtifactCorrupt: authentication failed (tampered data, or the wrong key).
        """
        from cryptography.exceptions import InvalidTag

        if len(sealed) < NONCE_BYTES + TAG_BYTES:
            raise ArtifactCorrupt(f"{where}: encrypted record too short ({len(sealed)} bytes)")
        view = memoryview(sealed)
        try:
            return self._aead.decrypt(bytes(view[:NONCE_BYTES]), bytes(view[NONCE_BYTES:]), address)
        except InvalidTag:
            raise self._refused(address, where) from None

    def open_into(
        self, address: bytes, sealed: bytes | memoryview, out: memoryview, where: str
    ) -> None:
        """Like :meth:`open`, the plaintext written into ``out``, which must be exactly its
        length (``cryptography``'s ``decrypt_into`` where it exists: no intermediate copy).
        On failure ``out`` holds garbage and must not be used.

        Raises:
            ArtifactCorrupt: authentication failed, or the plaintext is not ``len(out)``.
        """
        from cryptography.exceptions import InvalidTag

        if len(sealed) != NONCE_BYTES + len(out) + TAG_BYTES:
            raise ArtifactCorrupt(
                f"{where}: encrypted record of chunk {address.hex()[:16]}… has the wrong "
                f"length ({len(sealed)} bytes for {len(out)} plaintext bytes)"
            )
        view = memoryview(sealed)
        into = getattr(self._aead, "decrypt_into", None)  # not in older cryptography
        try:
            if into is not None:
                into(view[:NONCE_BYTES], view[NONCE_BYTES:], address, out)
            else:  # pragma: no cover - older cryptography
                out[:] = self._aead.decrypt(
                    bytes(view[:NONCE_BYTES]), bytes(view[NONCE_BYTES:]), address
                )
        except InvalidTag:
            raise self._refused(address, where) from None

    @staticmethod
    def _refused(address: bytes, where: str) -> ArtifactCorrupt:
        return ArtifactCorrupt(
            f"{where}: authentication failed for chunk {address.hex()[:16]}… "
            "(tampered data or wrong key); refused",
            details={"chunk": address.hex()},
        )
