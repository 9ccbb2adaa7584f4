"""``symphony bench ring``: the shared-memory ring against the IPC a user would otherwise pick.

One process run; every contender moves bytes between this process and one child started with
``sys.executable`` (multiprocessing "spawn"), and every figure is the median of ``--rounds``
rounds (TARGETS.md "Shared-memory ring and allocator"). Cases:

- throughput, two processes, 64 B and 4 KiB messages (child produces, parent consumes);
- ping-pong round trip of 64 B messages, p50 and p99: *spin* (Symphony's default wait: an
  adaptive spin of up to 50 µs, then a futex sleep), *sleep* (Symphony with ``spin_ns=0``: a
  futex every time; the peers all block in the kernel), and *trio* (both sides trio tasks;
  the ring's eventfd doorbell vs pyzmq DEALER/ROUTER driven by ``zmq`` sockets under
  ``trio.lowlevel.wait_readable``);
- the floor: a plain C ping-pong over ``ring.h`` (futex sleep), compiled at run time.

Contenders: ``symphony`` (Cython), ``symphony-twin`` (pure Python), ``symphony batch64``
(``push_many``/``pop_many`` of 64), ``multiprocessing.Queue``, ``multiprocessing.Pipe``,
``socketpair`` (AF_UNIX SOCK_SEQPACKET), ``posix_ipc.MessageQueue``, ``faster-fifo`` (and its
``put_many``/``get_many``), ``pyzmq PAIR ipc://``. A missing peer is shown as "missing".
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from symphony.bench._common import Table, optional, percentile

MPQ = "multiprocessing.Queue"
MPP = "multiprocessing.Pipe"
SOCK = "socketpair"
MQ = "posix_ipc.MessageQueue"
FF = "faster-fifo"
FFM = "faster-fifo put_many"
ZMQ = "pyzmq PAIR ipc"
SY = "symphony"
SYB = "symphony batch64"
SYT = "symphony-twin"
SYS = "symphony sleep"
THROUGHPUT = [SY, SYB, SYT, MPQ, MPP, SOCK, MQ, FF, FFM, ZMQ]
RTT = [SY, SYS, SYT, MPQ, MPP, SOCK, MQ, FF, ZMQ]
BATCH = 64
SCALE = {SY: 10, SYB: 20, SYT: 1, MPQ: 1, MPP: 2, SOCK: 3, MQ: 3, FF: 2, FFM: 4, ZMQ: 6}
"""Messages per round = SCALE x --base: enough for ~0.1-0.3 s per round at the expected rate."""


# ---- endpoints: (parent side, child spec) -------------------------------------------------
def _ring_pair(impl: str, spin_ns: int) -> tuple[Any, tuple[Any, ...], Callable[[], None]]:
    mod = __import__(f"symphony.{impl}.ring", fromlist=["Ring"])
    base = f"sybench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    up = mod.Ring.create(base + "-up", 1 << 20, spin_ns=spin_ns)
    down = mod.Ring.create(base + "-dn", 1 << 20, spin_ns=spin_ns)

    def cleanup() -> None:
        for r in (up, down):
            r.close()
            r.unlink()

    return (up, down), ("ring", impl, base, spin_ns), cleanup


def open_parent(who: str) -> tuple[Any, tuple[Any, ...], Callable[[], None]] | None:
    """(parent endpoint, picklable child spec, cleanup) or None if the peer is missing."""
    if who in (SY, SYB):
        return _ring_pair("_core", 50_000)
    if who == SYS:
        return _ring_pair("_core", 0)
    if who == SYT:
        return _ring_pair("reference", 50_000)
    ctx = multiprocessing.get_context("spawn")
    if who == MPQ:
        qa: Any = ctx.Queue()
        qb: Any = ctx.Queue()
        return (qa, qb), ("mpq", qa, qb), lambda: None
    if who == MPP:
        a, b = ctx.Pipe()
        return a, ("mpp", b), lambda: None
    if who == SOCK:
        s1, s2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        for s in (s1, s2):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        return s1, ("sock", s2), s1.close
    if who == MQ:
        posix_ipc = optional("posix_ipc")
        if posix_ipc is None:
            return None
        base = f"/sybench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        up = posix_ipc.MessageQueue(base + "u", posix_ipc.O_CREX, max_message_size=8192)
        dn = posix_ipc.MessageQueue(base + "d", posix_ipc.O_CREX, max_message_size=8192)

        def mq_cleanup() -> None:
            for q in (up, dn):
                q.close()
                q.unlink()

        return (up, dn), ("mq", base), mq_cleanup
    if who in (FF, FFM):
        ff = optional("faster_fifo")
        if ff is None:
            return None
        fa, fb = ff.Queue(max_size_bytes=8 << 20), ff.Queue(max_size_bytes=8 << 20)
        return (fa, fb), ("ff", fa, fb), lambda: None
    if who == ZMQ:
        zmq = optional("zmq")
        if zmq is None:
            return None
        path = f"ipc://{tempfile.gettempdir()}/sybench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        zctx = zmq.Context()
        sock = zctx.socket(zmq.PAIR)
        sock.bind(path)

        def z_cleanup() -> None:
            sock.close(0)
            zctx.term()

        return sock, ("zmq", path), z_cleanup
    raise ValueError(who)


def _child_ends(
    spec: tuple[Any, ...],
) -> tuple[Callable[[bytes], object], Callable[[], Any], Callable[[], object]]:
    """(send, recv, close) in the child for a spec from open_parent."""
    kind = spec[0]
    if kind == "ring":
        _, impl, base, spin_ns = spec
        mod = __import__(f"symphony.{impl}.ring", fromlist=["Ring"])
        up = mod.Ring.attach(base + "-up", spin_ns=spin_ns)
        dn = mod.Ring.attach(base + "-dn", spin_ns=spin_ns)
        return up.push_wait, dn.pop_wait, lambda: (up.close(), dn.close())
    if kind == "mpq":
        return spec[1].put, spec[2].get, lambda: None
    if kind == "mpp":
        return spec[1].send_bytes, spec[1].recv_bytes, lambda: None
    if kind == "sock":
        s = spec[1]
        return s.send, lambda: s.recv(8192), s.close
    if kind == "mq":
        import posix_ipc

        up = posix_ipc.MessageQueue(spec[1] + "u")
        dn = posix_ipc.MessageQueue(spec[1] + "d")
        return up.send, lambda: dn.receive()[0], lambda: (up.close(), dn.close())
    if kind == "ff":
        return spec[1].put, spec[2].get, lambda: None
    if kind == "zmq":
        import zmq

        zctx = zmq.Context()
        sock = zctx.socket(zmq.PAIR)
        sock.connect(spec[1])
        def z_close() -> None:
            sock.close(2000)
            zctx.term()

        return sock.send, sock.recv, z_close
    raise ValueError(kind)


def _parent_ends(who: str, end: Any) -> tuple[Callable[[bytes], object], Callable[[], Any]]:
    if who in (SY, SYB, SYS, SYT):
        up, down = end
        return down.push_wait, up.pop_wait
    if who == MPQ:
        return end[1].put, end[0].get
    if who == MPP:
        return end.send_bytes, end.recv_bytes
    if who == SOCK:
        return end.send, lambda: end.recv(8192)
    if who == MQ:
        return end[1].send, lambda: end[0].receive()[0]
    if who in (FF, FFM):
        return end[1].put, end[0].get
    if who == ZMQ:
        return end.send, end.recv
    raise ValueError(who)


def child_main(who: str, spec: tuple[Any, ...], case: str, count: int, size: int) -> None:
    """Runs in the child process: produce ``count`` messages, or echo ``count`` of them."""
    send, recv, close = _child_ends(spec)
    payload = bytes(size)
    try:
        if case == "throughput":
            if who == SYB:
                up = _child_ring(spec)
                batch = [payload] * BATCH
                sent = 0
                while sent < count:
                    k = up.push_many(batch[: min(BATCH, count - sent)])
                    if k == 0:
                        up.push_wait(payload)
                        k = 1
                    sent += k
            elif who == FFM:
                batch = [payload] * BATCH
                for _ in range(count // BATCH):
                    spec[1].put_many(batch)
            else:
                for _ in range(count):
                    send(payload)
        else:
            for _ in range(count):
                send(recv())
        send(b"done")  # keeps pipes open until the parent has it all
        recv()
    finally:
        close()


_CHILD_RINGS: dict[str, Any] = {}


def _child_ring(spec: tuple[Any, ...]) -> Any:
    _, impl, base, spin_ns = spec
    if base not in _CHILD_RINGS:
        mod = __import__(f"symphony.{impl}.ring", fromlist=["Ring"])
        _CHILD_RINGS[base] = mod.Ring.attach(base + "-up", spin_ns=spin_ns)
    return _CHILD_RINGS[base]


def _run_child(who: str, spec: tuple[Any, ...], case: str, count: int, size: int) -> Any:
    ctx = multiprocessing.get_context("spawn")
    ctx.set_executable(sys.executable)
    proc = ctx.Process(target=child_main, args=(who, spec, case, count, size), daemon=True)
    proc.start()
    return proc


def throughput(who: str, size: int, per_round: int, rounds: int) -> float | None:
    """Median messages/s over ``rounds`` segments of ``per_round`` messages."""
    opened = open_parent(who)
    if opened is None:
        return None
    end, spec, cleanup = opened
    total = per_round * rounds
    if who == FFM:
        total -= total % BATCH
    try:
        proc = _run_child(who, spec, "throughput", total, size)
        send, recv = _parent_ends(who, end)
        rates = []
        if who in (SYB, FFM):
            got, start, t0 = 0, 0, 0.0
            while got < total:
                if who == SYB:
                    batch = end[0].pop_many(min(BATCH, total - got))
                    if not batch:
                        end[0].wait_readable(None)
                        continue
                else:
                    batch = end[0].get_many(max_messages_to_get=min(BATCH, total - got))
                got += len(batch)
                if start == 0:
                    start, t0 = got, time.perf_counter()  # the clock starts once data flows
                elif got - start >= per_round or got >= total:
                    t1 = time.perf_counter()
                    rates.append((got - start) / (t1 - t0))
                    start, t0 = got, t1
        else:
            recv()
            t0 = time.perf_counter()
            for r in range(rounds):
                n = per_round - 1 if r == 0 else per_round
                for _ in range(n):
                    recv()
                t1 = time.perf_counter()
                rates.append(n / (t1 - t0))
                t0 = t1
        while recv() != b"done":
            pass
        send(b"bye")
        proc.join(30)
        return statistics.median(rates) if rates else None
    finally:
        cleanup()


def rtt(who: str, samples: int) -> tuple[float, float] | None:
    """(p50, p99) round trip in µs of a 64-byte message."""
    opened = open_parent(who)
    if opened is None:
        return None
    end, spec, cleanup = opened
    warm = max(samples // 10, 50)
    try:
        proc = _run_child(who, spec, "rtt", warm + samples, 64)
        send, recv = _parent_ends(who, end)
        msg = bytes(64)
        for _ in range(warm):
            send(msg)
            recv()
        out = []
        clock = time.perf_counter_ns
        for _ in range(samples):
            t0 = clock()
            send(msg)
            recv()
            out.append(clock() - t0)
        while recv() != b"done":
            pass
        send(b"bye")
        proc.join(30)
        return percentile(out, 50) / 1e3, percentile(out, 99) / 1e3
    finally:
        cleanup()


# ---- trio task <-> trio task -----------------------------------------------------------------
def _trio_echo(kind: str, name: str, count: int) -> None:
    import trio

    async def ring_echo() -> None:
        from symphony._core.ring import Ring

        inbox, outbox = Ring.attach(name + "-dn"), Ring.attach(name + "-up")
        for _ in range(count):
            outbox.push(await inbox.pop_async())
        inbox.close()
        outbox.close()

    async def zmq_echo() -> None:
        import zmq

        zctx = zmq.Context()
        sock = zctx.socket(zmq.ROUTER)
        sock.connect(name)
        fd = int(sock.getsockopt(zmq.FD))
        for _ in range(count):
            while True:
                try:
                    parts = sock.recv_multipart(zmq.NOBLOCK)
                    break
                except zmq.Again:
                    with trio.move_on_after(0.01):  # zmq's fd is edge-triggered
                        await trio.lowlevel.wait_readable(fd)
            sock.send_multipart(parts)
        sock.close(2000)
        zctx.term()

    trio.run(ring_echo if kind == "ring" else zmq_echo)


def rtt_trio(kind: str, samples: int) -> tuple[float, float] | None:
    """Round trip between two trio tasks in two processes: ring doorbell or zmq DEALER/ROUTER."""
    import trio

    zmq = optional("zmq") if kind == "zmq" else None
    if kind == "zmq" and zmq is None:
        return None
    warm = max(samples // 10, 50)
    ctx = multiprocessing.get_context("spawn")
    out: list[int] = []
    if kind == "ring":
        from symphony._core.ring import Ring

        name = f"sybench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        up = Ring.create(name + "-up", 1 << 16)
        down = Ring.create(name + "-dn", 1 << 16)
        proc = ctx.Process(target=_trio_echo, args=("ring", name, warm + samples), daemon=True)
        proc.start()

        async def ping() -> None:
            msg = bytes(64)
            for i in range(warm + samples):
                t0 = time.perf_counter_ns()
                down.push(msg)
                await up.pop_async()
                if i >= warm:
                    out.append(time.perf_counter_ns() - t0)

        try:
            trio.run(ping)
            proc.join(30)
        finally:
            for r in (up, down):
                r.close()
                r.unlink()
    else:
        assert zmq is not None
        path = f"ipc://{tempfile.gettempdir()}/sybench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        zctx = zmq.Context()
        sock = zctx.socket(zmq.DEALER)
        sock.bind(path)
        proc = ctx.Process(target=_trio_echo, args=("zmq", path, warm + samples), daemon=True)
        proc.start()
        fd = int(sock.getsockopt(zmq.FD))

        async def zping() -> None:
            msg = bytes(64)
            for i in range(warm + samples):
                t0 = time.perf_counter_ns()
                sock.send(msg)
                while True:
                    try:
                        sock.recv(zmq.NOBLOCK)
                        break
                    except zmq.Again:
                        with trio.move_on_after(0.01):  # zmq's fd is edge-triggered
                            await trio.lowlevel.wait_readable(fd)
                if i >= warm:
                    out.append(time.perf_counter_ns() - t0)

        try:
            trio.run(zping)
            proc.join(30)
        finally:
            sock.close(0)
            zctx.term()
    return percentile(out, 50) / 1e3, percentile(out, 99) / 1e3


# ---- the C floor -------------------------------------------------------------------------------
_C_PINGPONG = r"""
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include "symphony/ring.h"
/* parent pings through ring A, child echoes through ring B; both sleep on the futex */
static int cmp(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b; return (x > y) - (x < y);
}
int main(int argc, char **argv) {
    int n = atoi(argv[3]); int64_t spin = atoll(argv[4]);
    char msg[64] = {0}, buf[256];
    pid_t pid = fork();
    sy_ring a, b;
    if (sy_ring_attach_shm(&a, argv[1]) || sy_ring_attach_shm(&b, argv[2])) return 2;
    if (pid == 0) {
        for (int i = 0; i < n; i++) {
            int64_t got;
            while ((got = sy_ring_pop_copy(&a, buf, sizeof buf)) < 0)
                sy_ring_wait_readable(&a, -1, spin);
            while (sy_ring_push(&b, buf, (uint32_t)got, 0) != SY_RING_PUSHED) ;
        }
        return 0;
    }
    int64_t *t = malloc(sizeof(int64_t) * n);
    for (int i = 0; i < n; i++) {
        int64_t t0 = sy_now_ns();
        while (sy_ring_push(&a, msg, 64, 0) != SY_RING_PUSHED) ;
        while (sy_ring_pop_copy(&b, buf, sizeof buf) < 0) sy_ring_wait_readable(&b, -1, spin);
        t[i] = sy_now_ns() - t0;
    }
    waitpid(pid, NULL, 0);
    int skip = n / 10;
    qsort(t + skip, n - skip, sizeof(int64_t), cmp);
    printf("%lld %lld\n", (long long)t[skip + (n - skip) / 2],
           (long long)t[skip + (n - skip) * 99 / 100]);
    return 0;
}
"""


def rtt_c(samples: int, spin_ns: int) -> tuple[float, float] | None:
    """(p50, p99) µs of the plain C ping-pong over ring.h, or None without a C compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    from symphony._core.ring import Ring

    include = Path(__file__).resolve().parent.parent / "include"
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "pingpong.c"
        exe = Path(tmp) / "pingpong"
        src.write_text(_C_PINGPONG)
        built = subprocess.run([cc, "-O2", f"-I{include}", str(src), "-o", str(exe)],
                               capture_output=True, text=True)
        if built.returncode != 0:
            return None
        name = f"sybench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        ra, rb = Ring.create(name + "-a", 1 << 16), Ring.create(name + "-b", 1 << 16)
        try:
            n = samples + samples // 10
            res = subprocess.run([str(exe), name + "-a", name + "-b", str(n), str(spin_ns)],
                                 capture_output=True, text=True, timeout=120)
            p50, p99 = (int(x) for x in res.stdout.split())
        finally:
            for r in (ra, rb):
                r.close()
                r.unlink()
    return p50 / 1e3, p99 / 1e3


# ---- main --------------------------------------------------------------------------------------
def main(argv: list[str]) -> int:
    """Run every case and print the tables. Returns 0."""
    ap = argparse.ArgumentParser(prog="symphony bench ring", description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="rounds per figure (median)")
    ap.add_argument("--base", type=int, default=20_000, help="messages per round, scaled")
    ap.add_argument("--samples", type=int, default=3000, help="round trips per RTT figure")
    ap.add_argument("--quick", action="store_true", help="a tenth of the work (smoke run)")
    args = ap.parse_args(argv)
    base, samples = args.base, args.samples
    if args.quick:
        base, samples = max(base // 10, 500), max(samples // 10, 200)
    t_start = time.perf_counter()
    for size, label in ((64, "64 B"), (4096, "4 KiB")):
        table = Table(f"ring throughput, two processes, {label} messages", "msg/s", True)
        for who in THROUGHPUT:
            per_round = SCALE[who] * base // (4 if size > 64 else 1)
            if who == SYT:
                per_round = max(per_round // 2, 1000)
            table.add(f"{label} throughput", who, throughput(who, size, per_round, args.rounds))
        table.print()
    lat50 = Table("ring ping-pong round trip, 64 B, p50", "µs", False)
    lat99 = Table("ring ping-pong round trip, 64 B, p99", "µs", False)
    for who in RTT:
        res = rtt(who, samples)
        case = "RTT spin(50us)+sleep" if who in (SY, SYT) else "RTT blocking/sleep"
        if who == SYS:
            lat50.baseline = lat99.baseline = SY
        lat50.add(case if who != SYS else "RTT blocking/sleep", who if who != SYS else SY,
                  res[0] if res else None, "spin_ns=0 (futex)" if who == SYS else "")
        lat99.add(case if who != SYS else "RTT blocking/sleep", who if who != SYS else SY,
                  res[1] if res else None, "spin_ns=0 (futex)" if who == SYS else "")
    for spin, case in ((0, "RTT blocking/sleep"), (50_000, "RTT spin(50us)+sleep")):
        res = rtt_c(samples, spin)
        lat50.add(case, "plain C ring.h", res[0] if res else None, "floor")
        lat99.add(case, "plain C ring.h", res[1] if res else None, "floor")
    for kind, who in (("ring", SY), ("zmq", "pyzmq DEALER/ROUTER")):
        try:
            res = rtt_trio(kind, max(samples // 3, 200))
        except Exception as exc:  # a broken peer must not sink the run
            res = None
            print(f"trio {kind}: {exc!r}", file=sys.stderr)
        note = "eventfd doorbell" if kind == "ring" else ""
        lat50.add("RTT trio<->trio", who, res[0] if res else None, note)
        lat99.add("RTT trio<->trio", who, res[1] if res else None)
    lat50.print()
    lat99.print()
    print(f"(total {time.perf_counter() - t_start:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
