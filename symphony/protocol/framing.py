"""Framing: cutting a byte stream into messages, with no I/O (h11's receive buffer, wsproto's
frame protocol).

Two framings:

* **length-prefixed** — each frame is a ``u32`` little-endian length then that many bytes
  (:class:`FrameDecoder`, :func:`encode_frame`). Used for msgpack and bincode envelopes.
* **newline-delimited** — one JSON text per line, ``\\n`` terminated, an optional ``\\r``
  before it is dropped, blank lines are skipped (:class:`LineDecoder`, :func:`encode_line`).
  Used for JSON-RPC on stdio.

A decoder is fed with :meth:`receive_data` (``b""`` means end of stream) and drained with
:meth:`next_frame`, which returns a frame, :class:`NEED_DATA` (feed more), or :class:`EOF`
(the stream ended cleanly; returned forever after). The driver loop (httpcore's) is::

    while True:
        frame = decoder.next_frame()
        if frame is NEED_DATA:
            decoder.receive_data(await stream.receive_some(65536))
            continue
        if frame is EOF:
            break
        handle(frame)

Hostile input: a length prefix above ``max_frame`` raises
:class:`~symphony.commons.errors.FrameTooLarge` *before* anything is buffered for it, as does
a line longer than ``max_frame``; the decoder then stays broken (every later call raises the
same error), because the stream can no longer be resynchronised. A stream that ends inside a
frame raises :class:`~symphony.commons.errors.InvalidFrame`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from symphony._wire import DEFAULT_MAX_FRAME, EOF, NEED_DATA
from symphony.commons.errors import (
    FrameTooLarge,
    InvalidFrame,
    LocalProtocolError,
    RemoteProtocolError,
)
from symphony.protocol._kernel import codec as _codec

__all__ = [
    "DEFAULT_MAX_FRAME",
    "EOF",
    "NEED_DATA",
    "FrameDecoder",
    "LineDecoder",
    "encode_frame",
    "encode_line",
]


_pack_len = struct.Struct("<I").pack


def encode_frame(
    payload: bytes | bytearray | memoryview, max_frame: int = DEFAULT_MAX_FRAME
) -> bytes:
    """``payload`` with its u32 little-endian length prefix.

    Raises:
        LocalProtocolError: the payload is larger than ``max_frame`` (we would break the
            peer's limit).
    """
    n = len(payload)
    if n > max_frame:
        raise LocalProtocolError(f"frame of {n} bytes exceeds max_frame={max_frame}")
    return _pack_len(n) + payload


def encode_line(text: bytes | str, max_frame: int = DEFAULT_MAX_FRAME) -> bytes:
    """One newline-delimited frame: ``text`` (which must not contain a newline) + ``b"\\n"``.

    Raises:
        LocalProtocolError: ``text`` contains ``\\n`` or is longer than ``max_frame``.
    """
    data = text.encode() if isinstance(text, str) else bytes(text)
    if b"\n" in data:
        raise LocalProtocolError(f"a line frame cannot contain a newline: {data[:60]!r}")
    if len(data) > max_frame:
        raise LocalProtocolError(f"line of {len(data)} bytes exceeds max_frame={max_frame}")
    return data + b"\n"


class _Decoder:
    __slots__ = ("_broken", "_buf", "_eof", "_pos", "max_frame", "offset")

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        if not 0 < max_frame <= 0xFFFFFFFF:
            raise LocalProtocolError(f"max_frame={max_frame} must be in 1..2**32-1")
        self.max_frame = max_frame
        """Largest frame accepted, in bytes."""
        self.offset = 0
        """Stream offset of the first byte not yet consumed (for error messages)."""
        self._buf = b""
        self._pos = 0
        self._eof = False
        self._broken: RemoteProtocolError | None = None

    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Feed bytes from the stream; ``b""`` means the stream ended.

        Raises:
            LocalProtocolError: data after end of stream.
        """
        if self._eof:
            if data:
                raise LocalProtocolError("receive_data() after end of stream")
            return
        if not data:
            self._eof = True
            return
        if self._pos:
            self._buf = self._buf[self._pos :] + data
            self.offset += self._pos
            self._pos = 0
        elif self._buf:
            self._buf += data
        else:
            self._buf = bytes(data)

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as frames."""
        return len(self._buf) - self._pos

    @property
    def eof(self) -> bool:
        """True once ``receive_data(b"")`` was called."""
        return self._eof

    def __iter__(self) -> Iterator[bytes]:
        """Every complete frame now buffered (stops at NEED_DATA or EOF)."""
        while True:
            frame = self.next_frame()
            if frame is NEED_DATA or frame is EOF:
                return
            yield frame  # type: ignore[misc]

    def next_frame(self) -> bytes | type[NEED_DATA] | type[EOF]:
        raise NotImplementedError

    def _fail(self, err: RemoteProtocolError) -> RemoteProtocolError:
        self._broken = err
        self._buf = b""
        self._pos = 0
        return err


FrameDecoder = _codec.FrameDecoder
"""Sans-I/O decoder of u32-LE length-prefixed frames: the codec kernel's (Cython unless
SYMPHONY_PURE_PYTHON; specification in :class:`symphony.reference.codec.FrameDecoder`)."""


class LineDecoder(_Decoder):
    """Sans-I/O decoder of newline-delimited frames (NDJSON).

    Returns each line without its ``\\n`` (and without a ``\\r`` before it); blank lines are
    skipped. A line longer than ``max_frame`` raises
    :class:`~symphony.commons.errors.FrameTooLarge` as soon as ``max_frame + 1`` bytes
    without a newline are buffered.
    """

    __slots__ = ()

    def next_frame(self) -> bytes | type[NEED_DATA] | type[EOF]:
        """The next complete line, :class:`NEED_DATA` or :class:`EOF`.

        Raises:
            FrameTooLarge: a line exceeds ``max_frame``.
            InvalidFrame: the stream ended in the middle of a line.
        """
        if self._broken is not None:
            raise self._broken
        buf = self._buf
        while True:
            pos = self._pos
            nl = buf.find(b"\n", pos)
            if nl < 0:
                break
            end = nl - 1 if nl > pos and buf[nl - 1] == 13 else nl
            self._pos = nl + 1
            if end - pos > self.max_frame:
                raise self._fail(
                    FrameTooLarge(
                        f"line of {end - pos} bytes exceeds max_frame={self.max_frame} "
                        f"at offset {self.offset + pos}"
                    )
                )
            if end > pos:
                return buf[pos:end]
        avail = len(buf) - self._pos
        if avail > self.max_frame + 1:
            raise self._fail(
                FrameTooLarge(
                    f"line exceeds max_frame={self.max_frame} (no newline in {avail} bytes) "
                    f"at offset {self.offset + self._pos}"
                )
            )
        if self._eof:
            if buf[self._pos :].strip(b"\r"):
                raise self._fail(
                    InvalidFrame(
                        f"stream ended inside a line: {avail} bytes without a newline "
                        f"at offset {self.offset + self._pos}"
                    )
                )
            return EOF
        return NEED_DATA
