"""Child process hosting one model: JSON lines over stdio (see ``SubprocessModel``).

argv: kind dim seed [weights-path]. Prints ``{"ready": true, "memory_bytes": n}`` first.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import orjson
import trio


async def _main(argv: list[str]) -> int:
    from symphony.pit.pool.loaders import (
        HashingEmbedderLoader,
        MiniLMLoader,
    )

    kind, dim, seed = argv[0], int(argv[1]), int(argv[2])
    async with trio.open_nursery() as nursery:
        if kind == "hashing":
            path = (
                Path(argv[3])
                if len(argv) > 3
                else Path(tempfile.gettempdir()) / (f"symphony-hashing-{dim}-{seed}.bin")
            )
            model = await HashingEmbedderLoader(path, dim=dim, seed=seed).load(nursery)
        else:
            model = await MiniLMLoader().load(nursery)
        out = sys.stdout.buffer
        out.write(orjson.dumps({"ready": True, "memory_bytes": model.memory_bytes}) + b"\n")
        out.flush()
        stdin = trio.lowlevel.FdStream(0)
        buf = b""
        while True:
            data = await stdin.receive_some(65536)
            if not data:
                break
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                msg = orjson.loads(line)
                rid = msg.get("id")
                try:
                    if msg.get("op") == "ping":
                        reply = {"id": rid, "ok": True, "result": "pong"}
                    elif msg.get("op") == "infer":
                        reply = {"id": rid, "ok": True, "result": await model.infer(msg["texts"])}
                    elif msg.get("op") == "hang":  # tests: stop answering
                        await trio.sleep_forever()
                        continue
                    else:
                        reply = {"id": rid, "ok": False, "error": f"unknown op {msg.get('op')!r}"}
                except Exception as exc:
                    reply = {"id": rid, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
                out.write(orjson.dumps(reply) + b"\n")
                out.flush()
        await model.aclose()
    return 0


if __name__ == "__main__":
    sys.exit(trio.run(_main, sys.argv[1:]))
