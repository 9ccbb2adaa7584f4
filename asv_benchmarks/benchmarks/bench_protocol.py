"""The protocol layer (pure Python over msgpack's C core): envelope codecs, construction,
schema validation, JSON-RPC dispatch, framing. Peer comparisons live in
``symphony bench protocol``; these track Symphony alone over time."""

from __future__ import annotations

from typing import Any


def _protocol() -> Any:
    try:
        from symphony.bench import protocol
    except ImportError as exc:  # older commit: no protocol package yet
        raise NotImplementedError(f"no symphony.protocol at this commit: {exc}") from exc
    return protocol


class EnvelopeCodec:
    params = ("msgpack", "bincode", "bincode-tables")
    param_names = ("codec",)

    def setup(self, codec: str) -> None:
        from symphony.protocol.codecs import get_codec

        protocol = _protocol()
        self.msg = protocol.typical_message()
        if codec == "bincode-tables":  # agreed type codes and endpoint ids
            if not hasattr(protocol, "bench_bincode"):
                raise NotImplementedError("no bincode connection tables at this commit")
            self.codec = protocol.bench_bincode()
        else:
            self.codec = get_codec(codec)
        self.data = self.codec.encode(self.msg)

    def time_encode(self, codec: str) -> None:
        self.codec.encode(self.msg)

    def time_decode(self, codec: str) -> None:
        self.codec.decode(self.data)

    def time_round_trip(self, codec: str) -> None:
        self.codec.decode(self.codec.encode(self.msg))

    def track_size(self, codec: str) -> int:
        return len(self.data)

    track_size.unit = "bytes"  # type: ignore[attr-defined]


class CodecKernel:
    """The bincode Value/Envelope kernel itself, per implementation."""

    params = ("cython", "python")
    param_names = ("impl",)

    def setup(self, impl: str) -> None:
        from .common import load_kernel

        self.k = load_kernel(impl, "codec")
        self.fields = tuple(_protocol().typical_message())
        self.data = self.k.encode_envelope(self.fields)
        from symphony.protocol.framing import encode_frame

        from .common import seeded_bytes

        stream = b"".join(encode_frame(seeded_bytes(60, seed=i)) for i in range(5000))
        self.chunks = [stream[i : i + 4096] for i in range(0, len(stream), 4096)]

    def time_encode_envelope(self, impl: str) -> None:
        self.k.encode_envelope(self.fields)

    def time_decode_envelope(self, impl: str) -> None:
        self.k.decode_envelope(self.data)

    def time_frames_64B_in_4KiB_pieces(self, impl: str) -> None:
        dec = self.k.FrameDecoder()
        for c in self.chunks:
            dec.receive_data(c)
            dec.frames()


class Construction:
    def setup(self) -> None:
        from symphony.protocol.envelope import Message

        self.Message = Message
        self.fields = tuple(_protocol().typical_message())

    def time_positional(self) -> None:
        self.Message(self.fields)

    def time_new_with_defaults(self) -> None:
        self.Message.new("editor.insert", None)


class SchemaValidation:
    def setup(self) -> None:
        p = _protocol()
        self.schema = p.typical_schema()
        self.valid = p.TYPICAL_PAYLOAD
        self.invalid = p.INVALID_PAYLOAD

    def time_valid(self) -> None:
        self.schema.validate(self.valid)

    def time_invalid_all_errors(self) -> None:
        self.schema.violations(self.invalid)


class JsonRpcDispatch:
    def setup(self) -> None:
        from symphony.protocol.jsonrpc import Dispatcher

        self.rpc = Dispatcher({"subtract": lambda minuend, subtrahend: minuend - subtrahend})
        self.positional = b'{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1}'
        self.named = (
            b'{"jsonrpc":"2.0","method":"subtract","params":{"minuend":42,"subtrahend":23},"id":1}'
        )

    def time_by_position(self) -> None:
        self.rpc.handle(self.positional)

    def time_by_name(self) -> None:
        self.rpc.handle(self.named)


class Framing:
    def setup(self) -> None:
        from symphony.protocol.framing import FrameDecoder, encode_frame

        from .common import seeded_bytes

        stream = b"".join(encode_frame(seeded_bytes(60, seed=i)) for i in range(5000))
        self.chunks = [stream[i : i + 4096] for i in range(0, len(stream), 4096)]
        self.FrameDecoder = FrameDecoder

    def time_64B_frames_in_4KiB_pieces(self) -> None:
        dec = self.FrameDecoder()
        for c in self.chunks:
            dec.receive_data(c)
            dec.frames()
