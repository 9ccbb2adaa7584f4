"""``symphony bench protocol``: the protocol layer next to its peers, in one process run.

Cases (TARGETS.md "Protocol"):

* envelope round trip (Message -> bytes -> Message), msgpack and bincode, against msgspec
  Structs (map and array form), orjson, json and msgpack on dicts; encoded sizes;
* header only (empty payload): bincode vs msgpack, speed and size, and the header bytes
  alone (:func:`header_size`) for the typical envelope too; bincode as a connection with
  agreed message type codes and endpoint ids uses it (:func:`bench_bincode`) and without
  tables ("by name");
* envelope construction against a slots dataclass built positionally;
* schema validation of a typical message (valid; invalid with every error) against
  fastjsonschema, jsonschema, pydantic and msgspec;
* JSON-RPC request parse + dispatch against the ``json-rpc`` package;
* framing: 64-byte frames fed in 4 KiB pieces against ``msgpack.Unpacker``.

Missing peers are shown as "missing". Every figure is a median of several rounds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import time
import timeit
from collections.abc import Callable
from typing import Any

import msgpack

from symphony.bench._common import Table, median_time, optional
from symphony.protocol.bincode import BincodeCodec
from symphony.protocol.envelope import Kind, Message, MessageId, Priority, new_id
from symphony.protocol.framing import NEED_DATA, encode_frame
from symphony.protocol.jsonrpc import Dispatcher
from symphony.protocol.msgpack_codec import MsgpackCodec
from symphony.protocol.schema import Array, Field, Integer, MessageSchema, Object, String

__all__ = [
    "BENCH_ENDPOINTS",
    "BENCH_TYPE_CODES",
    "TYPICAL_PAYLOAD",
    "bench_bincode",
    "header_size",
    "main",
    "typical_message",
    "typical_schema",
]

TYPICAL_PAYLOAD: dict[str, Any] = {
    "view_id": "view-17",
    "path": "src/symphony/protocol/envelope.py",
    "chars": "def hello(name: str) -> str:\n    return f'hello {name}'\n",
    "revision": 4211,
    "range": [120, 184],
    "tags": ["edit", "ai"],
    "cursor": {"line": 12, "column": 8},
}
"""About 200 bytes of payload: the 'typical message' of the issue."""


def typical_message() -> Message:
    return Message.new(
        "editor.insert",
        TYPICAL_PAYLOAD,
        kind=Kind.REQUEST,
        source="core",
        target="editor",
        priority=Priority.HIGH,
        ttl_ms=5000,
        metadata={"trace_id": "4bf92f3577b34da6", "attempt": 1},
    )


BENCH_TYPE_CODES: dict[tuple[str, int], int] = {("editor.insert", 1): 1, ("editor.ping", 1): 2}
"""Message type codes the benchmark's connection agreed (see docs/wire-format.md)."""
BENCH_ENDPOINTS: dict[str, int] = {"core": 1, "editor": 2}
"""Endpoint ids the benchmark's connection interned."""


def bench_bincode() -> BincodeCodec:
    """The bincode codec as a connection with agreed tables uses it (codes, interned ids)."""
    return BincodeCodec(type_codes=BENCH_TYPE_CODES, endpoints=BENCH_ENDPOINTS)


def header_size(codec: Any, msg: Message) -> int:
    """Bytes of ``msg``'s header alone under ``codec``: the message with payload None and no
    metadata, less what those two take (msgpack nil + empty map: 2; bincode Value::Null +
    None: 5)."""
    bare = Message((*msg[:11], None, {}))
    return len(codec.encode(bare)) - (2 if codec.name == "msgpack" else 5)


def typical_schema() -> MessageSchema:
    pos = Object((Field("line", Integer(minimum=0)), Field("column", Integer(minimum=0))))
    return MessageSchema(
        "editor.insert",
        1,
        [
            Field("view_id", String(min_length=1, max_length=64, pattern=r"^view-[0-9]+$")),
            Field("path", String(min_length=1, max_length=4096)),
            Field("chars", String(max_length=1 << 20)),
            Field("revision", Integer(minimum=0)),
            Field("range", Array(Integer(minimum=0), min_items=2, max_items=2)),
            Field("tags", Array(String(enum=["edit", "ai", "user", "undo"]), max_items=16)),
            Field("cursor", pos),
        ],
    )


INVALID_PAYLOAD: dict[str, Any] = {
    "view_id": "v",
    "path": "",
    "chars": 7,
    "revision": -1,
    "range": [1, "x", 3],
    "tags": ["nope"],
    "cursor": {"line": -1},
    "extra": True,
}


_PENDING: list[tuple[Table, str, str, Callable[[], object] | None, int, str]] = []


def _row(
    table: Table,
    case: str,
    who: str,
    fn: Callable[[], object] | None,
    number: int,
    rounds: int,
    note: str = "",
) -> None:
    """Register one contender; :func:`_flush` measures all of them interleaved."""
    if fn is not None:
        try:
            fn()
        except Exception as exc:  # a peer that cannot do the case is reported, not fatal
            note = f"failed: {type(exc).__name__}: {exc}"[:80]
            fn = None
    _PENDING.append((table, case, who, fn, number, note))


def _flush(rounds: int) -> None:
    """Time every registered contender round-robin (one round of each, ``rounds`` times),
    so machine-load drift hits all of them alike; rows get the medians in µs."""
    items = list(_PENDING)
    _PENDING.clear()
    samples: list[list[float]] = [[] for _ in items]
    for _ in range(rounds):
        for k, (_, _, _, fn, number, _) in enumerate(items):
            if fn is not None:
                samples[k].append(median_time(fn, rounds=1, number=number))
    for k, (table, case, who, fn, _, note) in enumerate(items):
        value = statistics.median(samples[k]) * 1e6 if fn is not None else None
        table.add(case, who, value, note)


_TYPE_NAMES = {c: k for k, c in BENCH_TYPE_CODES.items()}
_ENDPOINT_NAMES = {i: n for n, i in BENCH_ENDPOINTS.items()}


def bench_envelope(number: int, rounds: int) -> list[Table]:
    msg = typical_message()
    mp = MsgpackCodec()
    bc = bench_bincode()
    bn = BincodeCodec()  # no tables: type and endpoints travel by name
    mp_bytes = mp.encode(msg)
    bc_bytes = bc.encode(msg)
    bn_bytes = bn.encode(msg)
    as_dict = msg.as_dict()
    as_dict["id"] = msg.id.bytes
    as_dict["kind"] = int(msg.kind)
    as_dict["priority"] = int(msg.priority)
    json_dict = dict(as_dict, id=str(msg.id))

    t = Table("envelope round trip: Message -> bytes -> Message", "µs per message", False)
    sizes = Table("envelope size", "bytes", False)
    _row(
        t,
        "round trip",
        "symphony",
        lambda: mp.decode(mp.encode(msg)),
        number,
        rounds,
        "msgpack array form",
    )
    _row(
        t,
        "round trip",
        "symphony-bincode",
        lambda: bc.decode(bc.encode(msg)),
        number,
        rounds,
        "bincode layout, codec kernel, agreed codes/ids",
    )
    _row(
        t,
        "round trip",
        "symphony-bincode by name",
        lambda: bn.decode(bn.encode(msg)),
        number,
        rounds,
        "bincode layout, no tables (names as strings)",
    )
    from symphony.reference import codec as pycodec

    msg_fields = tuple(msg)
    _row(
        t,
        "round trip",
        "symphony-bincode python twin",
        lambda: Message(
            pycodec.decode_envelope(
                pycodec.encode_envelope(msg_fields, BENCH_TYPE_CODES, BENCH_ENDPOINTS),
                _TYPE_NAMES,
                _ENDPOINT_NAMES,
            )
        ),
        max(1, number // 10),
        rounds,
        "the reference twin (spec), for scale",
    )
    _row(t, "encode", "symphony", lambda: mp.encode(msg), number, rounds)
    _row(t, "decode", "symphony", lambda: mp.decode(mp_bytes), number, rounds)
    _row(t, "encode", "symphony-bincode", lambda: bc.encode(msg), number, rounds)
    _row(t, "decode", "symphony-bincode", lambda: bc.decode(bc_bytes), number, rounds)
    sizes.add("typical envelope", "symphony", len(mp_bytes), "msgpack")
    sizes.add("typical envelope", "symphony-bincode", len(bc_bytes), "agreed codes/ids")
    sizes.add("typical envelope", "symphony-bincode by name", len(bn_bytes), "no tables")
    sizes.add("typical envelope header", "symphony", header_size(mp, msg), "msgpack")
    sizes.add("typical envelope header", "symphony-bincode", header_size(bc, msg))
    sizes.add("typical envelope header", "symphony-bincode by name", header_size(bn, msg))

    msgspec = optional("msgspec")
    if msgspec is not None:
        fields = [
            ("protocol_version", int),
            ("id", bytes),
            ("correlation_id", bytes | None),
            ("kind", int),
            ("type", str),
            ("version", int),
            ("source", str),
            ("target", str),
            ("timestamp", int),
            ("ttl_ms", int | None),
            ("priority", int),
            ("payload", dict),
            ("metadata", dict),
        ]
        smap = msgspec.defstruct("EnvMap", fields)
        sarr = msgspec.defstruct("EnvArr", fields, array_like=True)
        for name, cls in (("msgspec Struct", smap), ("msgspec Struct array", sarr)):
            obj = cls(**as_dict)
            enc = msgspec.msgpack.Encoder().encode
            dec = msgspec.msgpack.Decoder(cls).decode

            def rt(obj: Any = obj, enc: Any = enc, dec: Any = dec) -> object:
                return dec(enc(obj))

            _row(t, "round trip", name, rt, number, rounds)
            sizes.add("typical envelope", name, len(enc(obj)))
    else:
        _row(t, "round trip", "msgspec Struct", None, 0, 0)
    ormsgpack = optional("ormsgpack")
    if ormsgpack is not None:
        _row(
            t,
            "round trip",
            "ormsgpack dict",
            lambda: ormsgpack.unpackb(ormsgpack.packb(as_dict)),
            number,
            rounds,
        )
    orjson = optional("orjson")
    if orjson is not None:
        _row(
            t,
            "round trip",
            "orjson dict",
            lambda: orjson.loads(orjson.dumps(json_dict)),
            number,
            rounds,
        )
        sizes.add("typical envelope", "orjson dict", len(orjson.dumps(json_dict)))
    else:
        _row(t, "round trip", "orjson dict", None, 0, 0)
    _row(t, "round trip", "json dict", lambda: json.loads(json.dumps(json_dict)), number, rounds)
    _row(
        t,
        "round trip",
        "msgpack dict",
        lambda: msgpack.unpackb(msgpack.packb(as_dict)),
        number,
        rounds,
    )
    sizes.add("typical envelope", "msgpack dict", len(msgpack.packb(as_dict)))

    # header only: what the binary layout is for
    head = Message.new("editor.ping", None, kind=Kind.HEARTBEAT, source="core", target="editor")
    _row(t, "header only", "symphony", lambda: mp.decode(mp.encode(head)), number, rounds)
    _row(t, "header only", "symphony-bincode", lambda: bc.decode(bc.encode(head)), number, rounds)
    _row(
        t,
        "header only",
        "symphony-bincode by name",
        lambda: bn.decode(bn.encode(head)),
        number,
        rounds,
    )
    sizes.add("header only", "symphony", len(mp.encode(head)), "msgpack, whole message")
    sizes.add("header only", "symphony-bincode", len(bc.encode(head)), "whole message")
    sizes.add("header only", "symphony-bincode by name", len(bn.encode(head)), "whole message")
    sizes.add("header only: header bytes", "symphony", header_size(mp, head), "msgpack")
    sizes.add("header only: header bytes", "symphony-bincode", header_size(bc, head))
    sizes.add("header only: header bytes", "symphony-bincode by name", header_size(bn, head))

    # construction
    c = Table("envelope construction", "µs per message", False)
    DC = dataclasses.make_dataclass(
        "DC",
        [
            f
            for f in (
                "protocol_version",
                "id",
                "correlation_id",
                "kind",
                "type",
                "version",
                "source",
                "target",
                "timestamp",
                "ttl_ms",
                "priority",
                "payload",
                "metadata",
            )
        ],
        slots=True,
    )
    # Construction is timed with timeit statements (no Python-level wrapper call per
    # construction, which would add the same ~70 ns to both and hide the ratio).
    env = {"Message": Message, "DC": DC, "f": tuple(msg)}
    setup = "(a, b, cc, d, e, f_, g, h, i, j, k, pl, m) = f"
    stmts = (
        (
            "positional",
            "symphony",
            "Message((a, b, cc, d, e, f_, g, h, i, j, k, pl, m))",
            "Message(fields), a C-level tuple constructor",
        ),
        ("positional", "slots dataclass", "DC(a, b, cc, d, e, f_, g, h, i, j, k, pl, m)", ""),
        (
            "with defaults",
            "symphony",
            "Message.new('editor.insert', pl)",
            "Message.new: fresh id + timestamp + checks",
        ),
    )
    timers = [timeit.Timer(stmt, setup, globals=env) for _, _, stmt, _ in stmts]
    reps = number * 4
    csamples: list[list[float]] = [[] for _ in stmts]
    for _ in range(rounds):  # interleaved, as _flush
        for k_, timer in enumerate(timers):
            csamples[k_].append(timer.timeit(reps) / reps)
    for k_, (case, who, _, note) in enumerate(stmts):
        c.add(case, who, statistics.median(csamples[k_]) * 1e6, note)
    _flush(rounds)
    return [t, sizes, c]


def bench_schema(number: int, rounds: int) -> list[Table]:
    schema = typical_schema()
    payload = TYPICAL_PAYLOAD
    t = Table("schema validation of the typical payload", "µs per message", False)
    assert schema.is_valid(payload)
    _row(t, "valid", "symphony", lambda: schema.validate(payload), number, rounds)

    def all_errors() -> list[tuple[str, str]]:
        return schema.violations(INVALID_PAYLOAD)

    _row(
        t,
        "invalid (all errors)",
        "symphony",
        all_errors,
        number,
        rounds,
        f"{len(all_errors())} violations",
    )
    js = schema.to_json_schema()
    fjs = optional("fastjsonschema")
    if fjs is not None:
        check = fjs.compile(js)
        _row(t, "valid", "fastjsonschema", lambda: check(payload), number, rounds)

        def fjs_first() -> object:
            try:
                check(INVALID_PAYLOAD)
            except fjs.JsonSchemaValueException:
                return None
            raise AssertionError("fastjsonschema accepted an invalid payload")

        _row(
            t,
            "invalid (all errors)",
            "fastjsonschema",
            fjs_first,
            number,
            rounds,
            "first error only",
        )
    else:
        _row(t, "valid", "fastjsonschema", None, 0, 0)
    jsonschema = optional("jsonschema")
    if jsonschema is not None:
        v = jsonschema.Draft202012Validator(js)
        _row(t, "valid", "jsonschema", lambda: v.validate(payload), max(1, number // 20), rounds)
        _row(
            t,
            "invalid (all errors)",
            "jsonschema",
            lambda: list(v.iter_errors(INVALID_PAYLOAD)),
            max(1, number // 20),
            rounds,
        )
    else:
        _row(t, "valid", "jsonschema", None, 0, 0)
    msgspec = optional("msgspec")
    if msgspec is not None:
        from typing import Annotated, Literal

        M = msgspec
        NonNegInt = Annotated[int, M.Meta(ge=0)]
        cursor_t = M.defstruct(
            "Cursor", [("line", NonNegInt), ("column", NonNegInt)], forbid_unknown_fields=True
        )
        insert_t = M.defstruct(
            "Insert",
            [
                (
                    "view_id",
                    Annotated[str, M.Meta(min_length=1, max_length=64, pattern=r"^view-[0-9]+$")],
                ),
                ("path", Annotated[str, M.Meta(min_length=1, max_length=4096)]),
                ("chars", Annotated[str, M.Meta(max_length=1 << 20)]),
                ("revision", NonNegInt),
                ("range", Annotated[list[NonNegInt], M.Meta(min_length=2, max_length=2)]),
                (
                    "tags",
                    Annotated[list[Literal["edit", "ai", "user", "undo"]], M.Meta(max_length=16)],
                ),
                ("cursor", cursor_t),
            ],
            forbid_unknown_fields=True,
        )
        _row(
            t,
            "valid",
            "msgspec convert",
            lambda: M.convert(payload, insert_t),
            number,
            rounds,
            "builds a Struct too",
        )

        def msgspec_first() -> object:
            try:
                M.convert(INVALID_PAYLOAD, insert_t)
            except M.ValidationError:
                return None
            raise AssertionError("msgspec accepted an invalid payload")

        _row(
            t,
            "invalid (all errors)",
            "msgspec convert",
            msgspec_first,
            number,
            rounds,
            "first error only",
        )
    pydantic = optional("pydantic")
    if pydantic is not None:
        from typing import Annotated, Literal

        P = pydantic
        NonNeg = Annotated[int, P.Field(ge=0)]
        Cursor = P.create_model(
            "Cursor",
            line=(NonNeg, ...),
            column=(NonNeg, ...),
            __config__=P.ConfigDict(extra="forbid", strict=True),
        )
        Model = P.create_model(
            "Insert",
            view_id=(
                Annotated[str, P.Field(min_length=1, max_length=64, pattern=r"^view-[0-9]+$")],
                ...,
            ),
            path=(Annotated[str, P.Field(min_length=1, max_length=4096)], ...),
            chars=(Annotated[str, P.Field(max_length=1 << 20)], ...),
            revision=(NonNeg, ...),
            range=(Annotated[list[NonNeg], P.Field(min_length=2, max_length=2)], ...),
            tags=(
                Annotated[list[Literal["edit", "ai", "user", "undo"]], P.Field(max_length=16)],
                ...,
            ),
            cursor=(Cursor, ...),
            __config__=P.ConfigDict(extra="forbid", strict=True),
        )
        _row(t, "valid", "pydantic v2", lambda: Model.model_validate(payload), number, rounds)

        def pyd_all() -> object:
            try:
                Model.model_validate(INVALID_PAYLOAD)
            except P.ValidationError as exc:
                return exc.errors()
            raise AssertionError("pydantic accepted an invalid payload")

        _row(t, "invalid (all errors)", "pydantic v2", pyd_all, number, rounds)
    else:
        _row(t, "valid", "pydantic v2", None, 0, 0)
    _flush(rounds)
    return [t]


def bench_jsonrpc(number: int, rounds: int) -> list[Table]:
    t = Table("JSON-RPC request parse + dispatch + reply", "µs per request", False)
    req = b'{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}'
    named = (
        b'{"jsonrpc": "2.0", "method": "subtract", '
        b'"params": {"minuend": 42, "subtrahend": 23}, "id": 3}'
    )

    def subtract(minuend: int, subtrahend: int) -> int:
        return minuend - subtrahend

    rpc = Dispatcher({"subtract": subtract})
    assert rpc.handle(req) == b'{"jsonrpc":"2.0","result":19,"id":1}'
    _row(t, "by position", "symphony", lambda: rpc.handle(req), number, rounds)
    _row(t, "by name", "symphony", lambda: rpc.handle(named), number, rounds)
    jsonrpc_pkg = optional("jsonrpc")
    if jsonrpc_pkg is not None:
        from jsonrpc import Dispatcher as PeerDispatcher  # type: ignore[import-untyped]
        from jsonrpc import JSONRPCResponseManager

        d = PeerDispatcher()
        d["subtract"] = subtract
        _row(
            t,
            "by position",
            "json-rpc",
            lambda: JSONRPCResponseManager.handle(req.decode(), d).json,
            number,
            rounds,
        )
        _row(
            t,
            "by name",
            "json-rpc",
            lambda: JSONRPCResponseManager.handle(named.decode(), d).json,
            number,
            rounds,
        )
    else:
        _row(t, "by position", "json-rpc", None, 0, 0)
    _flush(rounds)
    return [t]


def bench_framing(number: int, rounds: int) -> list[Table]:
    n_frames = 20_000
    payloads = [os.urandom(60) for _ in range(n_frames)]
    stream = b"".join(encode_frame(p) for p in payloads)
    chunks = [stream[i : i + 4096] for i in range(0, len(stream), 4096)]
    mstream = b"".join(msgpack.packb(p) for p in payloads)
    mchunks = [mstream[i : i + 4096] for i in range(0, len(mstream), 4096)]

    from symphony._core import codec as cy_codec
    from symphony.reference import codec as py_codec

    def batch(cls: Any) -> Callable[[], int]:
        def run() -> int:
            dec = cls()
            n = 0
            for c in chunks:
                dec.receive_data(c)
                n += len(dec.frames())
            assert n == n_frames
            return n

        return run

    def one_by_one(cls: Any) -> Callable[[], int]:
        def run() -> int:
            dec = cls()
            n = 0
            for c in chunks:
                dec.receive_data(c)
                while dec.next_frame() is not NEED_DATA:
                    n += 1
            assert n == n_frames
            return n

        return run

    def unpacker() -> int:
        u = msgpack.Unpacker(max_buffer_size=1 << 20)
        n = 0
        for c in mchunks:
            u.feed(c)
            for _ in u:
                n += 1
        assert n == n_frames
        return n

    t = Table("framing: 64 B frames fed in 4 KiB pieces", "M frames/s", True)
    contenders = (
        ("symphony", batch(cy_codec.FrameDecoder), "Cython FrameDecoder.frames()"),
        ("symphony next_frame", one_by_one(cy_codec.FrameDecoder), "Cython next_frame() loop"),
        ("symphony python twin", batch(py_codec.FrameDecoder), "pure-Python frames()"),
        ("symphony python next_frame", one_by_one(py_codec.FrameDecoder), "pure-Python loop"),
        ("msgpack.Unpacker", unpacker, "C"),
    )
    samples: list[list[float]] = [[] for _ in contenders]
    for _ in range(rounds):  # interleaved, as _flush
        for k, (_, fn, _) in enumerate(contenders):
            samples[k].append(median_time(fn, rounds=1, number=max(1, number // 2000)))
    for k, (who, _, note) in enumerate(contenders):
        t.add("64 B frames", who, n_frames / statistics.median(samples[k]) / 1e6, note)
    return [t]


def _loop(codec: str, n: int) -> int:
    msg = typical_message()
    fn: Callable[[], object]
    if codec == "msgpack":
        mp = MsgpackCodec()
        fn = lambda: mp.decode(mp.encode(msg))  # noqa: E731
    elif codec == "bincode":
        bc = bench_bincode()
        fn = lambda: bc.decode(bc.encode(msg))  # noqa: E731
    elif codec == "msgspec":
        import msgspec

        d = msg.as_dict()
        d.update(id=msg.id.bytes, kind=int(msg.kind), priority=int(msg.priority))
        fields = [
            ("protocol_version", int),
            ("id", bytes),
            ("correlation_id", bytes | None),
            ("kind", int),
            ("type", str),
            ("version", int),
            ("source", str),
            ("target", str),
            ("timestamp", int),
            ("ttl_ms", int | None),
            ("priority", int),
            ("payload", dict),
            ("metadata", dict),
        ]
        cls = msgspec.defstruct("EnvMap", fields)
        obj = cls(**d)
        enc = msgspec.msgpack.Encoder().encode
        dec = msgspec.msgpack.Decoder(cls).decode
        fn = lambda: dec(enc(obj))  # noqa: E731
    else:
        raise SystemExit(f"--loop: unknown codec {codec!r} (msgpack, bincode, msgspec)")
    for _ in range(n):
        fn()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the protocol benchmarks and print the tables; returns the exit status."""
    ap = argparse.ArgumentParser(prog="symphony bench protocol", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run)")
    ap.add_argument("--rounds", type=int, default=7, help="rounds per figure (median)")
    ap.add_argument(
        "--only",
        choices=["envelope", "schema", "jsonrpc", "framing"],
        action="append",
        help="run only these groups (repeatable)",
    )
    ap.add_argument(
        "--loop",
        nargs=2,
        metavar=("CODEC", "N"),
        help="run N envelope round trips of CODEC (msgpack, bincode or msgspec) untimed: "
        "for instruction counts, e.g. valgrind --tool=callgrind ... --loop msgpack 3000, "
        "minus the same with N=0",
    )
    args = ap.parse_args(argv)
    if args.loop:
        return _loop(args.loop[0], int(args.loop[1]))
    number = 500 if args.quick else 5000
    rounds = 3 if args.quick else args.rounds
    groups = args.only or ["envelope", "schema", "jsonrpc", "framing"]
    t0 = time.perf_counter()
    for g in groups:
        fn = {
            "envelope": bench_envelope,
            "schema": bench_schema,
            "jsonrpc": bench_jsonrpc,
            "framing": bench_framing,
        }[g]
        for table in fn(number, rounds):
            table.print()
            print()
    print(
        f"(protocol benchmarks took {time.perf_counter() - t0:.1f} s; medians of {rounds} "
        f"rounds; ratios are same-run)"
    )
    _ = (MessageId, new_id)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
