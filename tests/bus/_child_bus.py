"""A bus in another process: ``python _child_bus.py unix|shm PATH``.

Connects to the test's listener, serves endpoint ``echo`` (requests: payload back; ``add``:
sum) and re-publishes every ``news.#`` event it receives as ``ack.<topic>``.
"""

from __future__ import annotations

import sys
from typing import Any

import trio

from symphony.bus import Bus
from symphony.protocol import Message
from symphony.transport import connect_unix
from symphony.transport.shm import connect_shm


async def main(kind: str, path: str) -> None:
    bus = Bus("child")
    async with trio.open_nursery() as nursery:
        await nursery.start(bus.run)

        async def echo(msg: Message) -> Any:
            if msg.type == "add":
                return sum(msg.payload)
            return msg.payload

        bus.add_endpoint("echo", echo, capabilities={"echo", "math"})

        async def on_news(msg: Message) -> None:
            await bus.publish("ack." + msg.type, msg.payload)

        bus.subscribe("news.#", on_news)
        t = await (connect_shm(path) if kind == "shm" else connect_unix(path))
        link = await bus.connect(t)
        while not link.closed:
            await trio.sleep(0.05)
        nursery.cancel_scope.cancel()


if __name__ == "__main__":
    trio.run(main, sys.argv[1], sys.argv[2])
