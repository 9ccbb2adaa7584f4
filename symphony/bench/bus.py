"""``symphony bench bus``: transports and the message bus next to pyzmq, in one process run.

Every figure is the median of ``--rounds`` rounds; every ratio compares contenders measured
in this same run (TARGETS.md "Transports and bus"). Cross-process cases start one child with
``sys.executable -m symphony.bench.bus --child ...``. Cases:

* **cross-process throughput**, 64 B (and 1 KiB) messages, parent -> child:
  Symphony shm and unix transports sending single frames (``send``) and packed batches
  (``send_many`` of 256), and the whole bus (``Bus.publish`` -> link -> remote subscriber,
  msgpack envelopes); pyzmq PUSH/PULL and PUB/SUB over ``ipc://``;
* **cross-process round trip** p50/p99: transport ping-pong (shm, unix), ``Bus.request`` to
  a remote endpoint (shm, unix), pyzmq REQ/REP and DEALER/ROUTER over ``ipc://``; stdio
  JSON-RPC (NDJSON + orjson) to a child;
* **in-process**: publish -> subscriber (msgs/s) and request -> response (p50) on a bus with
  100 endpoints and 1,000 subscriptions, next to pyzmq inproc PUSH/PULL and REQ/REP;
* **routing**: exact route (1,000 routes) vs a dict lookup floor; topic match against 1k / 10k
  subscriptions, uncached and cached;
* **fan-out** to 1,000 in-process subscribers (handler style);
* **sustained** (``--sustained SECONDS``, default 3; 60 for the issue's run): publish at full
  rate across processes over shm and sample RSS of both processes every second; prints the
  samples and the growth, and checks every count.

NATS and Redis are shown as "missing" (no server on these machines).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import trio

from symphony.bench._common import Table, optional, percentile
from symphony.bus import Bus, PubSub, Router
from symphony.protocol import Message
from symphony.transport import Transport, UnixServer, connect_unix, spawn_stdio
from symphony.transport.shm import ShmServer, connect_shm

__all__ = ["main"]

SY = "symphony"
ZMQ_PUSH = "pyzmq PUSH/PULL ipc"
ZMQ_PUB = "pyzmq PUB/SUB ipc"
ZMQ_REQ = "pyzmq REQ/REP ipc"
ZMQ_DEALER = "pyzmq DEALER/ROUTER ipc"
BATCH = 256
FANOUT = 100


# ======================================================================= child process side
def _variant(kind: str, t: Transport) -> Transport:
    """Apply a benchmark variant to either end: ``shm-nospin`` turns the busy-poll off,
    ``unix-nocork`` the write coalescing (the A/B rows for docs/bus.md)."""
    if kind == "shm-nospin":
        t.spin = 0.0  # type: ignore[attr-defined]
    elif kind == "unix-nocork":
        t.coalesce = False  # type: ignore[attr-defined]
    return t


async def _child_transport(kind: str, path: str) -> Transport:
    t = await connect_shm(path) if kind.startswith("shm") else await connect_unix(path)
    return _variant(kind, t)


async def _child_main(role: str, kind: str, path: str, n: int) -> None:
    if role == "sink":  # receive n frames per round, answer "done" per round; forever
        t = await _child_transport(kind, path)
        try:
            while True:
                got = 0
                while got < n:
                    got += len(await t.receive_many())
                await t.send(b"done")
        except Exception:
            return
    elif role == "echo":
        t = await _child_transport(kind, path)
        try:
            while True:
                await t.send(await t.receive())
        except Exception:
            return
    elif role in ("bus", "fan"):
        bus = Bus("child", heartbeat_interval=3600)
        async with trio.open_nursery() as nursery:
            await nursery.start(bus.run)

            async def echo(msg: Message) -> Any:
                return msg.payload

            bus.add_endpoint("echo", echo)
            bus.add_endpoint("echo-plain", lambda msg: msg.payload)  # answered inline
            count = [0]

            def on_msg(msg: Message) -> None:  # handler style: a plain call per message
                count[0] += 1
                if count[0] % n == 0:
                    nursery.start_soon(bus.publish, "done", count[0])

            bus.subscribe("bench.#", on_msg)
            if role == "fan":  # FANOUT subscribers, one "done" per n messages x FANOUT
                fan = [0]

                def on_fan(msg: Message) -> None:
                    fan[0] += 1
                    if fan[0] % (n * FANOUT) == 0:
                        nursery.start_soon(bus.publish, "done", fan[0])

                for _ in range(FANOUT):
                    bus.subscribe("fan.x", on_fan)
            link = await bus.connect(await _child_transport(kind, path))
            while not link.closed:
                await trio.sleep(0.05)
            nursery.cancel_scope.cancel()
    elif role == "stdio-echo":
        import orjson

        from symphony.transport import stdio_transport

        t = stdio_transport(framing="line")
        async for frame in t:
            req = orjson.loads(frame)
            await t.send(orjson.dumps({"jsonrpc": "2.0", "id": req["id"], "result": req["params"]}))


def _zmq_child(role: str, addr: str, n: int) -> None:
    import zmq

    ctx = zmq.Context()
    if role == "fansub":  # FANOUT SUB sockets in this process, polled together
        import zmq

        subs = []
        poller = zmq.Poller()
        for _ in range(FANOUT):
            s = ctx.socket(zmq.SUB)
            s.setsockopt(zmq.RCVHWM, 0)
            s.setsockopt(zmq.SUBSCRIBE, b"")
            s.connect(addr + "-data")
            poller.register(s, zmq.POLLIN)
            subs.append(s)
        done = ctx.socket(zmq.PUSH)
        done.connect(addr + "-done")
        done.send(b"ready")
        got = 0
        noblock = zmq.NOBLOCK
        again = zmq.Again
        while True:
            for sock, _ in poller.poll():
                while True:
                    try:
                        sock.recv(noblock)
                    except again:
                        break
                    got += 1
                    if got % (n * FANOUT) == 0:
                        done.send(b"done")
    elif role in ("pull", "sub"):
        s = ctx.socket(zmq.PULL if role == "pull" else zmq.SUB)
        s.setsockopt(zmq.RCVHWM, 0)
        if role == "sub":
            s.setsockopt(zmq.SUBSCRIBE, b"")
        s.connect(addr + "-data")
        done = ctx.socket(zmq.PUSH)
        done.connect(addr + "-done")
        done.send(b"ready")
        while True:
            for _ in range(n):
                s.recv()
            done.send(b"done")
    else:
        s = ctx.socket(zmq.REP if role == "rep" else zmq.ROUTER)
        s.connect(addr)
        if role == "rep":
            while True:
                s.send(s.recv())
        else:
            while True:
                s.send_multipart(s.recv_multipart())


def _child(argv: list[str]) -> int:
    role, kind, path, n = argv[0], argv[1], argv[2], int(argv[3])
    if kind == "zmq":
        _zmq_child(role, path, n)
    else:
        trio.run(_child_main, role, kind, path, n)
    return 0


def _spawn(role: str, kind: str, path: str, n: int) -> subprocess.Popen[bytes]:
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-m", "symphony.bench.bus", "--child", role, kind, path, str(n)],
        env=env,
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait()


# ======================================================================= Symphony cross-process
def _serve_one(
    kind: str, path: str
) -> tuple[Any, trio.MemoryReceiveChannel[Transport], trio.Event]:
    """A server for ``path`` (start it with ``nursery.start(server.run)``), the channel its
    accepted transports arrive on, and the event that lets their handlers return."""
    got, incoming = trio.open_memory_channel[Transport](1)
    hold = trio.Event()

    async def handler(t: Any) -> None:
        await got.send(t)
        await hold.wait()

    server: Any = (
        ShmServer(path, handler) if kind.startswith("shm") else UnixServer(path, handler)
    )
    return server, incoming, hold


@asynccontextmanager
async def _with_child(
    kind: str, role: str, n: int
) -> AsyncIterator[tuple[Transport, subprocess.Popen[bytes]]]:
    """A child process in ``role`` connected to us over ``kind``: our end of the transport
    (with the variant applied) and the process; the child is stopped on exit."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, f"{role}-{kind}.sock")
        async with trio.open_nursery() as nursery:
            server, incoming, hold = _serve_one(kind, path)
            await nursery.start(server.run)
            proc = _spawn(role, kind, path, n)
            try:
                t = _variant(kind, await incoming.receive())
                yield t, proc
                await t.aclose()
            finally:
                _stop(proc)
                hold.set()
                nursery.cancel_scope.cancel()


async def _transport_cases(kind: str, n: int, rounds: int, size: int,
                           tp: Table, rtt: Table) -> None:
    payload = b"x" * size
    n = max(BATCH, n // BATCH * BATCH)  # whole batches: the child counts n frames a round
    for role in ("sink", "echo") if size == 64 else ("sink",):
        async with _with_child(kind, role, n) as (t, _proc):
            if role == "sink":
                for label, batched in (("single", False), (f"batch {BATCH}", True)):
                    rates = []
                    for _ in range(rounds):
                        t0 = time.perf_counter()
                        if batched:
                            chunk = [payload] * BATCH
                            for _ in range(n // BATCH):
                                await t.send_many(chunk)
                        else:
                            for _ in range(n):
                                await t.send(payload)
                        assert await t.receive() == b"done"
                        rates.append(n / (time.perf_counter() - t0))
                    tp.add(f"{kind} {size} B {label}", SY, statistics.median(rates),
                           "transport send_many" if batched else "transport send")
            else:
                samples = []
                for _ in range(200):  # warm up
                    await t.send(payload)
                    await t.receive()
                for _ in range(rounds * 1000):
                    t0 = time.perf_counter()
                    await t.send(payload)
                    await t.receive()
                    samples.append(time.perf_counter() - t0)
                _add_rtt(rtt, f"{kind} ping-pong", SY, samples)


@asynccontextmanager
async def _remote_bus(
    kind: str, role: str, n: int, topic: str
) -> AsyncIterator[tuple[Bus, Transport, subprocess.Popen[bytes]]]:
    """A parent bus linked to a child process's bus (``role``: bus or fan) over ``kind``,
    once the child's subscription to ``topic`` has arrived; stops the child on exit."""
    bus = Bus("parent", heartbeat_interval=3600)
    async with trio.open_nursery() as nursery:
        await nursery.start(bus.run)
        async with _with_child(kind, role, n) as (t, proc):
            link = await bus.connect(t)
            echo = role == "bus"  # the child's bus serves the echo endpoints
            while not link.interest.match(topic) or (echo and "echo" not in bus.registry):
                await trio.sleep(0.001)
            yield bus, t, proc
        nursery.cancel_scope.cancel()


async def _bus_cases(kind: str, n: int, rounds: int, tp: Table, rtt: Table) -> None:
    n = max(BATCH, n // BATCH * BATCH)  # whole batches: the child counts n messages a round
    async with _remote_bus(kind, "bus", n, "bench.x") as (bus, _, _proc):
        done = bus.subscribe("done", maxsize=16)
        await trio.sleep(0.05)  # let the child learn our "done" subscription
        payload = b"x" * 64
        rates = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(n):
                await bus.publish("bench.x", payload)
            await done.receive()
            rates.append(n / (time.perf_counter() - t0))
        tp.add(f"{kind} 64 B bus publish", SY, statistics.median(rates),
               "Bus.publish -> link -> remote subscriber")
        rates = []
        batch = [payload] * BATCH
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(n // BATCH):
                await bus.publish_many("bench.x", batch)
            await done.receive()
            rates.append(n // BATCH * BATCH / (time.perf_counter() - t0))
        tp.add(f"{kind} 64 B bus publish_many {BATCH}", SY, statistics.median(rates),
               "one frame per batch -> remote subscriber per message")
        for ep, label in (("echo", "request->response"),
                          ("echo-plain", "request->plain handler")):
            samples = []
            for _ in range(200):
                await bus.request(ep, "ping", payload)
            for _ in range(rounds * 500):
                t0 = time.perf_counter()
                await bus.request(ep, "ping", payload)
                samples.append(time.perf_counter() - t0)
            _add_rtt(rtt, f"{kind} {label}", SY, samples)


async def _fanout_remote(kind: str, n: int, rounds: int, fan: Table) -> None:
    """Publish n messages to a child process whose bus has FANOUT subscribers of the topic;
    the figure is the time per message until all FANOUT handlers ran (child's count)."""
    async with _remote_bus(kind, "fan", n, "fan.x") as (bus, _, _proc):
        done = bus.subscribe("done", maxsize=16)
        await trio.sleep(0.05)
        payload = b"x" * 64
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(n):
                await bus.publish("fan.x", payload)
            await done.receive()
            times.append((time.perf_counter() - t0) / n)
        fan.add(f"{kind} fan-out to {FANOUT} subscribers", SY,
                statistics.median(times) * 1e6,
                f"Bus.publish -> link -> {FANOUT} handlers in the child")


def _zmq_fanout(n: int, rounds: int, fan: Table) -> None:
    zmq = optional("zmq")
    cases = [f"{kind} fan-out to {FANOUT} subscribers" for kind in ("shm", "unix")]
    if zmq is None:
        for case in cases:
            fan.add(case, ZMQ_PUB, None)
        return
    with tempfile.TemporaryDirectory() as d:
        ctx = zmq.Context()
        addr = f"ipc://{d}/fan"
        pub = ctx.socket(zmq.PUB)
        pub.setsockopt(zmq.SNDHWM, 0)
        pub.bind(addr + "-data")
        done = ctx.socket(zmq.PULL)
        done.bind(addr + "-done")
        proc = _spawn("fansub", "zmq", addr, n)
        try:
            assert done.recv() == b"ready"
            time.sleep(0.5)  # let the 100 subscriptions reach the publisher
            payload = b"x" * 64
            times = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                for _ in range(n):
                    pub.send(payload)
                done.recv()
                times.append((time.perf_counter() - t0) / n)
            for case in cases:
                fan.add(case, ZMQ_PUB, statistics.median(times) * 1e6,
                        f"one PUB, {FANOUT} SUB sockets in the child (zmq.Poller)")
        finally:
            _stop(proc)
            pub.close(0)
            done.close(0)
            ctx.term()


def _add_rtt(table: Table, case: str, who: str, samples: list[float]) -> None:
    table.add(case + " p50", who, percentile(samples, 50) * 1e6)
    table.add(case + " p99", who, percentile(samples, 99) * 1e6)


# ======================================================================= pyzmq cross-process
def _zmq_throughput(zmq: Any, d: str, who: str, size: int, n: int, rounds: int,
                    packed: bool) -> float:
    stype, role = (zmq.PUSH, "pull") if who == ZMQ_PUSH else (zmq.PUB, "sub")
    ctx = zmq.Context()
    addr = f"ipc://{d}/{role}-{size}-{int(packed)}"
    s = ctx.socket(stype)
    s.setsockopt(zmq.SNDHWM, 0)
    s.bind(addr + "-data")
    done = ctx.socket(zmq.PULL)
    done.bind(addr + "-done")
    frames = n // BATCH if packed else n
    proc = _spawn(role, "zmq", addr, frames)
    try:
        assert done.recv() == b"ready"
        time.sleep(0.3)  # PUB/SUB: let the subscription reach the publisher
        payload = b"x" * (size * BATCH if packed else size)
        rates = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(frames):
                s.send(payload)
            done.recv()
            rates.append(frames * (BATCH if packed else 1) / (time.perf_counter() - t0))
        return statistics.median(rates)
    finally:
        _stop(proc)
        s.close(0)
        done.close(0)
        ctx.term()


def _zmq_rtt(zmq: Any, d: str, who: str, rounds: int) -> list[float]:
    stype, role = (zmq.REQ, "rep") if who == ZMQ_REQ else (zmq.DEALER, "router")
    ctx = zmq.Context()
    addr = f"ipc://{d}/{role}"
    s = ctx.socket(stype)
    s.bind(addr)
    proc = _spawn(role, "zmq", addr, 0)
    try:
        payload = b"x" * 64
        samples = []
        for i in range(200 + rounds * 1000):
            t0 = time.perf_counter()
            s.send(payload)
            s.recv()
            if i >= 200:
                samples.append(time.perf_counter() - t0)
        return samples
    finally:
        _stop(proc)
        s.close(0)
        ctx.term()


def _zmq_cases(n: int, rounds: int, tp: Table, rtt: Table) -> None:
    zmq = optional("zmq")
    if zmq is None:
        for case in ("shm 64 B single", "unix 64 B single"):
            tp.add(case, ZMQ_PUSH, None)
            tp.add(case, ZMQ_PUB, None)
        for case in ("shm request->response p50", "unix request->response p50"):
            rtt.add(case, ZMQ_REQ, None)
            rtt.add(case, ZMQ_DEALER, None)
        return
    with tempfile.TemporaryDirectory() as d:
        for size, count in ((64, n), (1024, n // 4)):
            for who in (ZMQ_PUSH, ZMQ_PUB):
                rate = _zmq_throughput(zmq, d, who, size, count, rounds, packed=False)
                for kind in ("shm", "unix", "shm-nospin")[: 3 if size == 64 else 2]:
                    tp.add(f"{kind} {size} B single", who, rate)  # pyzmq ipc: the peer of all
                    if size == 64:
                        tp.add(f"{kind} 64 B bus publish", who, rate)
                        if who == ZMQ_PUB:
                            tp.add(f"{kind} 64 B bus publish_many {BATCH}", who, rate)
            packed = _zmq_throughput(zmq, d, ZMQ_PUSH, size, count, rounds, packed=True)
            for kind in ("shm", "unix", "shm-nospin")[: 3 if size == 64 else 2]:
                tp.add(f"{kind} {size} B batch {BATCH}", ZMQ_PUSH + " packed", packed,
                       f"{BATCH} messages per frame")
                if size == 64:
                    tp.add(f"{kind} 64 B bus publish_many {BATCH}", ZMQ_PUSH + " packed",
                           packed, f"{BATCH} messages per frame, not unpacked")
        for who in (ZMQ_REQ, ZMQ_DEALER):
            samples = _zmq_rtt(zmq, d, who, rounds)
            for kind in ("shm", "unix", "shm-nospin"):
                _add_rtt(rtt, f"{kind} ping-pong", who, samples)
                _add_rtt(rtt, f"{kind} request->response", who, samples)
                _add_rtt(rtt, f"{kind} request->plain handler", who, samples)


# ======================================================================= in-process
async def _inprocess(n: int, rounds: int, tp: Table, lat: Table) -> None:
    bus = Bus("bench", heartbeat_interval=3600)
    async with trio.open_nursery() as nursery:
        await nursery.start(bus.run)

        async def echo(msg: Message) -> Any:
            return msg.payload

        for i in range(100):
            bus.add_endpoint(f"ep{i}", echo, capabilities={f"cap{i % 10}"})
        for i in range(1000):
            bus.subscribe(f"other.{i}.#", lambda m: None)
        got = [0]

        def on_msg(m: Message) -> None:
            got[0] += 1

        bus.subscribe("bench.topic", on_msg)
        payload = b"x" * 64
        rates = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(n):
                await bus.publish("bench.topic", payload)
            rates.append(n / (time.perf_counter() - t0))
        assert got[0] == n * rounds
        tp.add("in-process publish->subscriber", SY, statistics.median(rates),
               "100 endpoints, 1,001 subscriptions")
        bus.add_endpoint("plain", lambda msg: msg.payload)
        for ep, label, note in (("ep7", "response", "with timeout"),
                                ("plain", "plain handler", "answered inline")):
            samples = []
            for _ in range(rounds * 5000):
                t0 = time.perf_counter()
                await bus.request(ep, "ping", payload, timeout=1.0)
                samples.append(time.perf_counter() - t0)
            lat.add(f"in-process request->{label} p50", SY, percentile(samples, 50) * 1e6, note)
            lat.add(f"in-process request->{label} p99", SY, percentile(samples, 99) * 1e6)
        nursery.cancel_scope.cancel()

    # naive trio bus: one task per subscriber fed by a memory channel (the 8x reference)
    send, recv = trio.open_memory_channel[bytes](1024)
    count = [0]

    async def consumer() -> None:
        async for _ in recv:
            count[0] += 1

    async with trio.open_nursery() as nursery:
        nursery.start_soon(consumer)
        t0 = time.perf_counter()
        for _ in range(n):
            await send.send(payload)
        await send.aclose()
    tp.add("in-process publish->subscriber", "naive trio bus (task + channel)",
           n / (time.perf_counter() - t0))

    zmq = optional("zmq")
    if zmq is None:
        tp.add("in-process publish->subscriber", "pyzmq inproc PUSH/PULL", None)
        return
    ctx = zmq.Context()
    push, pull = ctx.socket(zmq.PUSH), ctx.socket(zmq.PULL)
    push.setsockopt(zmq.SNDHWM, 0)
    pull.setsockopt(zmq.RCVHWM, 0)
    push.bind("inproc://bench")
    pull.connect("inproc://bench")
    rates = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n // 1000):
            for _ in range(1000):
                push.send(payload)
            for _ in range(1000):
                pull.recv()
        rates.append(n // 1000 * 1000 / (time.perf_counter() - t0))
    tp.add("in-process publish->subscriber", "pyzmq inproc PUSH/PULL", statistics.median(rates),
           "send+recv in one thread")
    push.close(0)
    pull.close(0)
    ctx.term()


def _routing(rounds: int, lat: Table) -> None:
    r = Router()
    for i in range(1000):
        r.add_route(f"type.{i}", f"ep{i}")
    r.add_route("glob.*", "g")
    keys = [f"type.{i}" for i in range(1000)]
    for k in keys:
        r.route(k)
    d = {k: f"ep{i}" for i, k in enumerate(keys)}

    def timed(fn: Callable[[str], Any], ks: list[str]) -> float:
        best = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            for k in ks:
                fn(k)
            best.append((time.perf_counter() - t0) / len(ks))
        return statistics.median(best) * 1e6

    lat.add("exact-topic routing", SY, timed(r.route, keys * 20), "1,000 routes")
    lat.add("exact-topic routing", "dict lookup + call floor", timed(d.get, keys * 20))
    for nsubs in (1000, 10000):
        ps = PubSub(cache_size=10**9)
        for i in range(nsubs):
            ps.subscribe(["a.{i}.#", "a.*.{i}", "b.{i}.c.*"][i % 3].format(i=i), lambda m: None)
        topics = [f"a.{i}.{i + 1}" for i in range(0, nsubs, 7)]

        def uncached(t: str, ps: PubSub = ps) -> Any:
            ps._cache.clear()
            return ps.match(t)

        lat.add(f"pattern routing {nsubs // 1000}k subs uncached", SY, timed(uncached, topics))
        for t in topics:
            ps.match(t)
        lat.add(f"pattern routing {nsubs // 1000}k subs cached", SY,
                timed(ps.match, topics * 10))


async def _fanout(rounds: int, lat: Table) -> None:
    ps = PubSub()
    hits = [0]

    def handler(m: Any) -> None:
        hits[0] += 1

    for _ in range(1000):
        ps.subscribe("fan.out", handler)
    samples = []
    for _ in range(rounds * 50):
        t0 = time.perf_counter()
        await ps.publish("fan.out", b"m")
        samples.append(time.perf_counter() - t0)
    assert hits[0] == rounds * 50 * 1000
    lat.add("fan-out to 1,000 subscribers", SY, percentile(samples, 50) * 1e6,
            "all handlers run (plain calls)")

    async def ahandler(m: Any) -> None:
        hits[0] += 1

    ps2 = PubSub()
    for _ in range(1000):
        ps2.subscribe("fan.out", ahandler)
    samples = []
    for _ in range(rounds * 50):
        t0 = time.perf_counter()
        await ps2.publish("fan.out", b"m")
        samples.append(time.perf_counter() - t0)
    lat.add("fan-out to 1,000 subscribers", SY + " async handlers",
            percentile(samples, 50) * 1e6)

    # the anti-pattern: one trio task per subscriber
    chans = [trio.open_memory_channel[bytes](16) for _ in range(1000)]
    done = [0]
    all_done = trio.Event()

    async def sub(rx: trio.MemoryReceiveChannel[bytes]) -> None:
        async for _ in rx:
            done[0] += 1
            if done[0] % 1000 == 0:
                all_done.set()

    async with trio.open_nursery() as nursery:
        for _, rx in chans:
            nursery.start_soon(sub, rx)
        samples = []
        for _ in range(rounds * 10):
            nonlocal_done = trio.Event()
            all_done = nonlocal_done
            t0 = time.perf_counter()
            for tx, _ in chans:
                tx.send_nowait(b"m")
            await nonlocal_done.wait()
            samples.append(time.perf_counter() - t0)
        lat.add("fan-out to 1,000 subscribers", "1,000 trio tasks + channels",
                percentile(samples, 50) * 1e6)
        nursery.cancel_scope.cancel()


async def _stdio_rtt(rounds: int, lat: Table) -> None:
    import orjson

    t = await spawn_stdio([sys.executable, "-m", "symphony.bench.bus", "--child",
                           "stdio-echo", "stdio", "-", "0"],
                          env={**os.environ,
                               "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    samples = []
    for i in range(200 + rounds * 1000):
        t0 = time.perf_counter()
        await t.send(orjson.dumps({"jsonrpc": "2.0", "id": i, "method": "echo", "params": [i]}))
        orjson.loads(await t.receive())
        if i >= 200:
            samples.append(time.perf_counter() - t0)
    await t.aclose()
    _add_rtt(lat, "stdio JSON-RPC round trip", SY, samples)


# ======================================================================= sustained
def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def _sustained(seconds: float) -> None:
    n = 10000
    async with _remote_bus("shm", "bus", n, "bench.x") as (bus, _, proc):
        done = bus.subscribe("done", maxsize=4, policy="drop_oldest")
        await trio.sleep(0.05)
        gc.collect()
        samples: list[tuple[float, int, int]] = []
        start = time.perf_counter()
        next_sample = start
        sent = 0
        last_ack = 0
        payload = b"x" * 64
        while time.perf_counter() - start < seconds:
            for _ in range(n):
                await bus.publish("bench.x", payload)
            sent += n
            last_ack = (await done.receive()).payload  # child confirms each block
            now = time.perf_counter()
            if now >= next_sample:
                samples.append((now - start, _rss_kib(os.getpid()), _rss_kib(proc.pid)))
                next_sample += 1.0
        elapsed = time.perf_counter() - start
        print(f"== sustained {seconds:.0f} s over shm: {sent} messages, "
              f"{sent / elapsed:,.0f} msg/s, child counted {last_ack}"
              f" ({'OK' if last_ack == sent else 'MISMATCH'})")
        print("   t(s)  parent RSS (KiB)  child RSS (KiB)")
        for ts, rp, rc in samples:
            print(f"   {ts:5.1f}  {rp:16d}  {rc:15d}")
        if len(samples) >= 3:
            mid = samples[len(samples) // 3]
            print(f"   growth after warm-up (t={mid[0]:.0f}s -> end): parent "
                  f"{samples[-1][1] - mid[1]:+d} KiB, "
                  f"child {samples[-1][2] - mid[2]:+d} KiB")


# ======================================================================= main
async def _run(args: argparse.Namespace) -> None:
    rounds = args.rounds
    n = 20000 if args.quick else 200000
    tp = Table("throughput: parent -> child process", "msgs/s", higher_is_better=True)
    rtt = Table("round trip across processes", "µs", higher_is_better=False)
    inproc = Table("in-process throughput", "msgs/s", higher_is_better=True)
    lat = Table("in-process latency and routing", "µs", higher_is_better=False)
    for kind in ("shm", "unix"):
        await _transport_cases(kind, n, rounds, 64, tp, rtt)
        await _transport_cases(kind, n // 4, rounds, 1024, tp, rtt)
        await _bus_cases(kind, n // 4, rounds, tp, rtt)
    await _transport_cases("shm-nospin", n, rounds, 64, tp, rtt)
    await _transport_cases("unix-nocork", n, rounds, 64, tp, rtt)
    await _bus_cases("shm-nospin", n // 4, rounds, tp, rtt)
    await trio.to_thread.run_sync(_zmq_cases, n, rounds, tp, rtt)
    for case in ("shm 64 B single", "shm request->response p50"):
        (tp if "single" in case else rtt).add(case, "NATS (nats-py)", None, "no server here")
        (tp if "single" in case else rtt).add(case, "Redis pub/sub", None, "no server here")
    await _stdio_rtt(rounds, rtt)
    await _inprocess(n // 2, rounds, inproc, lat)
    _routing(rounds, lat)
    await _fanout(rounds, lat)
    fan = Table(f"fan-out to {FANOUT} subscribers in another process, per message",
                "µs", higher_is_better=False)
    for kind in ("shm", "unix"):
        await _fanout_remote(kind, n // 20, rounds, fan)
    await trio.to_thread.run_sync(_zmq_fanout, n // 20, rounds, fan)
    fan.add(f"shm fan-out to {FANOUT} subscribers", "NATS (nats-py)", None, "no server here")
    for table in (tp, rtt, inproc, lat, fan):
        _sort(table)
        table.print()
        print()
    await _sustained(args.sustained)


def _sort(table: Table) -> None:
    order: dict[str, int] = {}
    for case, *_ in table.rows:
        order.setdefault(case, len(order))
    table.rows.sort(key=lambda r: (order[r[0]], r[1] != table.baseline and
                                   not r[1].startswith(table.baseline)))


def main(argv: list[str] | None = None) -> int:
    """Run the bus benchmarks and print the tables; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        return _child(argv[1:])
    ap = argparse.ArgumentParser(prog="symphony bench bus", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer messages (a smoke run)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per figure (median)")
    ap.add_argument("--sustained", type=float, default=3.0,
                    help="seconds of the sustained run (60 for the issue's figure)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    trio.run(_run, args)
    print(f"(bus benchmarks took {time.perf_counter() - t0:.1f} s; medians of {args.rounds} "
          "rounds; ratios are same-run)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
