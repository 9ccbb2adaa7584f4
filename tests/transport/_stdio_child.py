"""Child process for the stdio transport tests: ``python _stdio_child.py MODE FRAMING``."""

from __future__ import annotations

import os
import sys

import orjson
import trio

from symphony.transport.stdio import stdio_transport


async def main(mode: str, framing: str) -> None:
    t = stdio_transport(framing=framing)  # type: ignore[arg-type]
    if mode == "echo":
        async for frame in t:
            await t.send(frame)
    elif mode == "jsonrpc":
        async for frame in t:
            req = orjson.loads(frame)
            if req["method"] == "add":
                await t.send(orjson.dumps({"jsonrpc": "2.0", "id": req["id"],
                                           "result": sum(req["params"])}))
            elif req["method"] == "stream":
                for i in range(req["params"][0]):
                    await t.send(orjson.dumps({"jsonrpc": "2.0", "method": "event",
                                               "params": {"seq": i}}))
                await t.send(orjson.dumps({"jsonrpc": "2.0", "id": req["id"], "result": "done"}))
    elif mode == "die-after-one":
        await t.receive()
        os._exit(3)
    elif mode == "ignore-eof":
        await trio.sleep_forever()
    await t.aclose()


if __name__ == "__main__":
    trio.run(main, sys.argv[1], sys.argv[2])
