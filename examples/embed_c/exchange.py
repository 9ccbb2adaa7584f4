"""The Python side of the C embedding example: create two rings, start ``ring_peer``, push
requests, check every byte of the replies.

    python exchange.py ./ring_peer [COUNT]

Exit status 0 when every reply was right (the C peer checked every request byte too).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

from symphony.kernels import IMPLEMENTATION  # noqa: F401  (demands the compiled kernels)

try:
    from symphony._core import ring as ring_mod
except ImportError:  # pragma: no cover - SYMPHONY_PURE_PYTHON=1 without a build
    from symphony.reference import ring as ring_mod

MAX_PAYLOAD = 3000


def request(seq: int) -> bytes:
    n = (seq * 97) % MAX_PAYLOAD if seq % 10 else 0  # includes empty payloads
    body = bytes((seq * 31 + i * 7) & 0xFF for i in range(n))
    return seq.to_bytes(4, "little") + n.to_bytes(4, "little") + body


def expected_reply(req: bytes) -> bytes:
    body = bytes(~b & 0xFF for b in reversed(req[8:]))
    return req[:8] + body


def run_exchange(peer: str, count: int = 500, capacity: int = 1 << 14) -> None:
    """Run ``peer`` against two fresh rings; raise AssertionError on any wrong byte."""
    tag = f"syembed-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    requests = ring_mod.Ring.create(f"{tag}-req", capacity)
    replies = ring_mod.Ring.create(f"{tag}-rep", capacity)
    proc = subprocess.Popen(
        [peer, f"{tag}-req", f"{tag}-rep", str(count)], stderr=subprocess.PIPE, text=True
    )
    try:
        sent = got = in_flight = 0
        while got < count:
            # Keep requests in flight (both rings wrap around many times), but never more
            # than half a ring of them: then every reply fits, and neither side can block
            # the other.
            while sent < count and in_flight + len(request(sent)) + 16 <= capacity // 2:
                assert requests.push_wait(request(sent), timeout=20), f"request {sent} stuck"
                in_flight += len(request(sent)) + 16
                sent += 1
            data = replies.pop_wait(timeout=20)
            assert data is not None, f"no reply {got}: peer says {proc.poll()}"
            want = expected_reply(request(got))
            assert data == want, f"reply {got}: {len(data)} bytes, first diff at " + str(
                next((i for i, (a, b) in enumerate(zip(data, want)) if a != b), None)
            )
            in_flight -= len(data) + 16
            got += 1
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, f"ring_peer exited {proc.returncode}: {err}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for r in (requests, replies):
            r.close()
            r.unlink()


if __name__ == "__main__":
    run_exchange(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 500)
    print("ok: every byte agreed in both directions")
