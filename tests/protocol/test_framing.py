"""Sans-I/O framing: length-prefixed and newline-delimited decoders."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from symphony.commons.errors import (
    FrameTooLarge,
    InvalidFrame,
    LocalProtocolError,
    ProtocolError,
)
from symphony.protocol.framing import (
    EOF,
    NEED_DATA,
    FrameDecoder,
    LineDecoder,
    encode_frame,
    encode_line,
)


def drain(dec: FrameDecoder | LineDecoder) -> list[bytes]:
    out = []
    while True:
        f = dec.next_frame()
        if f is NEED_DATA or f is EOF:
            return out
        assert isinstance(f, bytes)
        out.append(f)


def test_sentinels_repr() -> None:
    assert repr(NEED_DATA) == "NEED_DATA" and repr(EOF) == "EOF"


@given(
    frames=st.lists(st.binary(max_size=300), max_size=20),
    cuts=st.lists(st.integers(1, 50), max_size=30),
)
def test_length_prefixed_round_trip_any_split(frames: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(encode_frame(f) for f in frames)
    dec = FrameDecoder(max_frame=300)
    got: list[bytes] = []
    pos = 0
    for c in cuts:
        dec.receive_data(stream[pos : pos + c])
        pos += c
        got += drain(dec)
    dec.receive_data(stream[pos:])
    got += dec.frames()
    dec.receive_data(b"")
    got += drain(dec)
    assert got == frames
    assert dec.next_frame() is EOF and dec.next_frame() is EOF


def test_one_byte_at_a_time() -> None:
    stream = encode_frame(b"hello") + encode_frame(b"") + encode_frame(b"x")
    dec = FrameDecoder()
    got = []
    for i in range(len(stream)):
        dec.receive_data(stream[i : i + 1])
        got += drain(dec)
    assert got == [b"hello", b"", b"x"]
    assert dec.buffered == 0 and not dec.eof


def test_oversize_prefix_refused_before_buffering() -> None:
    dec = FrameDecoder(max_frame=1024)
    dec.receive_data(struct.pack("<I", 0xFFFFFFFF))
    with pytest.raises(
        FrameTooLarge, match=r"frame length 4294967295 exceeds max_frame=1024 at offset 0"
    ):
        dec.next_frame()
    assert dec.buffered == 0  # nothing kept for it
    with pytest.raises(FrameTooLarge):  # stays broken: the stream cannot be resynchronised
        dec.next_frame()
    dec.receive_data(encode_frame(b"ok"))
    with pytest.raises(FrameTooLarge):
        dec.frames()


def test_oversize_after_good_frames_reports_offset() -> None:
    dec = FrameDecoder(max_frame=8)
    dec.receive_data(encode_frame(b"abc") + struct.pack("<I", 9) + b"x" * 9)
    assert dec.frames() == [b"abc"]
    with pytest.raises(FrameTooLarge, match="at offset 7"):
        dec.frames()


def test_frame_at_exactly_max_is_accepted() -> None:
    dec = FrameDecoder(max_frame=10)
    dec.receive_data(encode_frame(b"x" * 10))
    assert dec.next_frame() == b"x" * 10
    with pytest.raises(LocalProtocolError):
        encode_frame(b"x" * 11, max_frame=10)


def test_eof_inside_frame() -> None:
    dec = FrameDecoder()
    dec.receive_data(encode_frame(b"hello")[:-1])
    assert dec.next_frame() is NEED_DATA
    dec.receive_data(b"")
    with pytest.raises(InvalidFrame, match="ended inside a frame"):
        dec.next_frame()


def test_data_after_eof_is_local_error() -> None:
    dec = FrameDecoder()
    dec.receive_data(b"")
    dec.receive_data(b"")
    with pytest.raises(LocalProtocolError):
        dec.receive_data(b"x")


def test_bad_max_frame() -> None:
    with pytest.raises(LocalProtocolError):
        FrameDecoder(max_frame=0)
    with pytest.raises(LocalProtocolError):
        LineDecoder(max_frame=1 << 40)


def test_iteration_and_memoryview_input() -> None:
    dec = FrameDecoder()
    dec.receive_data(memoryview(encode_frame(b"a") + encode_frame(b"b")))
    dec.receive_data(bytearray(encode_frame(b"c")))
    assert list(dec) == [b"a", b"b", b"c"]


# ----------------------------------------------------------------------------- lines
def test_lines_crlf_and_blank() -> None:
    dec = LineDecoder()
    dec.receive_data(b'{"a":1}\r\n\n\r\n{"b":2}\n{"c"')
    assert drain(dec) == [b'{"a":1}', b'{"b":2}']
    dec.receive_data(b":3}\n")
    assert drain(dec) == [b'{"c":3}']
    dec.receive_data(b"")
    assert dec.next_frame() is EOF


def test_line_too_long_without_newline() -> None:
    dec = LineDecoder(max_frame=8)
    dec.receive_data(b"x" * 9)
    assert dec.next_frame() is NEED_DATA
    dec.receive_data(b"x")
    with pytest.raises(FrameTooLarge, match="max_frame=8"):
        dec.next_frame()
    with pytest.raises(FrameTooLarge):
        dec.next_frame()


def test_line_too_long_with_newline() -> None:
    dec = LineDecoder(max_frame=3)
    dec.receive_data(b"abcd\n")
    with pytest.raises(FrameTooLarge, match="line of 4 bytes"):
        dec.next_frame()


def test_line_eof_inside_line() -> None:
    dec = LineDecoder()
    dec.receive_data(b"abc")
    dec.receive_data(b"")
    with pytest.raises(InvalidFrame, match="inside a line"):
        dec.next_frame()


def test_encode_line() -> None:
    assert encode_line('{"a":"é"}') == '{"a":"é"}\n'.encode()
    with pytest.raises(LocalProtocolError):
        encode_line(b"a\nb")
    with pytest.raises(LocalProtocolError):
        encode_line(b"abcd", max_frame=3)


@given(
    lines=st.lists(
        st.binary(max_size=50).map(lambda b: b.replace(b"\n", b"").rstrip(b"\r")), max_size=10
    ),
    cuts=st.lists(st.integers(1, 20), max_size=20),
)
def test_lines_round_trip(lines: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(encode_line(x) for x in lines)
    dec = LineDecoder(max_frame=64)
    got: list[bytes] = []
    pos = 0
    for c in cuts:
        dec.receive_data(stream[pos : pos + c])
        pos += c
        got += drain(dec)
    dec.receive_data(stream[pos:])
    dec.receive_data(b"")
    got += drain(dec)
    assert got == [x for x in lines if x]


# ----------------------------------------------------------------------------- fuzz
@given(chunks=st.lists(st.binary(max_size=64), max_size=10), max_frame=st.integers(1, 64))
@pytest.mark.parametrize("cls", [FrameDecoder, LineDecoder])
def test_fuzz_only_protocol_errors(
    cls: type[FrameDecoder] | type[LineDecoder], chunks: list[bytes], max_frame: int
) -> None:
    dec = cls(max_frame=max_frame)
    try:
        for c in chunks:
            dec.receive_data(c)
            for f in drain(dec):
                assert len(f) <= max_frame
        dec.receive_data(b"")
        drain(dec)
    except ProtocolError as exc:
        assert str(exc)  # noqa: PT017 - any input: frames or a named error
    assert dec.buffered <= max_frame + 64 + 4
