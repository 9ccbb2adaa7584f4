"""Child process for the cross-process ring tests (run with sys.executable, never imported).

    ring_child.py produce IMPL NAME PRODUCER_ID COUNT SEED SMALL LARGE [PROGRESS_FILE]
    ring_child.py consume IMPL NAME COUNT [NPRODUCERS]

Payload sizes: 97 % uniform in [0, SMALL], 3 % uniform in [0, LARGE].
A message is ``<producer u32><seq u64><crc32c u32>`` + payload (crc over the payload).
``produce`` writes, after every successful push, the number pushed so far into PROGRESS_FILE
(8 bytes, mmap'd) so the crash test knows what was committed. ``consume`` checks every message
and prints ``OK <count> <bytes>`` or exits 1 with the problem.
"""

from __future__ import annotations

import importlib
import mmap
import random
import struct
import sys

from symphony._core.checksum import crc32c

HDR = struct.Struct("<IQI")


def produce(impl: str, name: str, pid: int, count: int, seed: int, small: int, large: int,
            progress: str | None) -> None:
    ring_mod = importlib.import_module(f"symphony.{impl}.ring")
    rng = random.Random(seed)
    pool = rng.randbytes(max(small, large) * 2 + 64)
    ring = ring_mod.Ring.attach(name)
    mark = None
    if progress:
        with open(progress, "r+b") as f:
            mark = mmap.mmap(f.fileno(), 8)
    try:
        for seq in range(count):
            n = rng.randrange(small + 1) if rng.random() < 0.97 else rng.randrange(large + 1)
            start = rng.randrange(len(pool) - n + 1)
            payload = pool[start : start + n]
            msg = HDR.pack(pid, seq, crc32c(payload)) + payload
            if not ring.push_wait(msg, 30.0):
                sys.exit(f"producer {pid}: push_wait timed out at {seq}")
            if mark is not None:
                struct.pack_into("<Q", mark, 0, seq + 1)
    finally:
        ring.close()


def consume(impl: str, name: str, count: int, nproducers: int) -> None:
    ring_mod = importlib.import_module(f"symphony.{impl}.ring")
    ring = ring_mod.Ring.attach(name)
    nxt = [0] * nproducers
    total = 0
    try:
        for _ in range(count):
            msg = ring.pop_wait(30.0)
            if msg is None:
                sys.exit(f"consumer: timed out after {total} bytes")
            pid, seq, crc = HDR.unpack_from(msg)
            payload = msg[HDR.size :]
            if crc32c(payload) != crc:
                sys.exit(f"consumer: bad checksum from producer {pid} seq {seq}")
            if seq != nxt[pid]:
                sys.exit(f"consumer: producer {pid} expected seq {nxt[pid]}, got {seq}")
            nxt[pid] += 1
            total += len(msg)
        if ring.pop() is not None:
            sys.exit("consumer: more messages than expected")
    finally:
        ring.close()
    print("OK", count, total, flush=True)


def main(argv: list[str]) -> None:
    if argv[0] == "produce":
        produce(argv[1], argv[2], int(argv[3]), int(argv[4]), int(argv[5]), int(argv[6]),
                int(argv[7]), argv[8] if len(argv) > 8 else None)
    elif argv[0] == "consume":
        consume(argv[1], argv[2], int(argv[3]), int(argv[4]) if len(argv) > 4 else 1)
    else:
        sys.exit(f"unknown mode {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
