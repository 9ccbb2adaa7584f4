"""The message bus and transports (in-process parts; the cross-process tables and the pyzmq
ratios are ``symphony bench bus``). The bus is pure Python over trio, so there is no impl
parameter except where a kernel is underneath (the shared-memory transport's ring)."""

from __future__ import annotations

from typing import Any


def _bus() -> Any:
    try:
        from symphony import bus
    except ImportError as exc:
        raise NotImplementedError("no symphony.bus at this commit") from exc
    return bus


class Routing:
    """Router.route on exact keys (cached) and PubSub.match on patterns (cached/uncached)."""

    params = ([1000, 10_000],)
    param_names = ("routes",)

    def setup(self, routes: int) -> None:
        bus = _bus()
        self.router = bus.Router()
        for i in range(routes):
            self.router.add_route(f"type.{i}", f"ep{i}")
        self.keys = [f"type.{i}" for i in range(0, routes, 7)]
        for k in self.keys:
            self.router.route(k)
        self.ps = bus.PubSub(cache_size=10**9)
        for i in range(routes):
            self.ps.subscribe(["a.{i}.#", "a.*.{i}", "b.{i}.c.*"][i % 3].format(i=i), print)
        self.topics = [f"a.{i}.{i + 1}" for i in range(0, routes, 7)]

    def time_exact_route(self, routes: int) -> None:
        route = self.router.route
        for k in self.keys:
            route(k)

    def time_pattern_match_uncached(self, routes: int) -> None:
        ps = self.ps
        for t in self.topics:
            ps._cache.clear()
            ps.match(t)

    def time_pattern_match_cached(self, routes: int) -> None:
        match = self.ps.match
        for t in self.topics:
            match(t)


def _run(fn: Any) -> None:
    import trio

    trio.run(fn)


class InProcess:
    """Publish to one subscriber, fan-out to 1,000, and local request/response."""

    number = 1
    repeat = 5

    def setup(self) -> None:
        self.bus = _bus()

    def time_publish_10k(self) -> None:
        bus = self.bus

        async def main() -> None:
            ps = bus.PubSub()
            ps.subscribe("t.x", lambda m: None)
            for _ in range(10_000):
                await ps.publish("t.x", b"m")

        _run(main)

    def time_fanout_1000_subscribers_x100(self) -> None:
        bus = self.bus

        async def main() -> None:
            ps = bus.PubSub()
            for _ in range(1000):
                ps.subscribe("fan.out", lambda m: None)
            for _ in range(100):
                await ps.publish("fan.out", b"m")

        _run(main)

    def time_request_response_2k(self) -> None:
        bus = self.bus

        async def main() -> None:
            import trio

            b = bus.Bus("asv", heartbeat_interval=3600)
            async with trio.open_nursery() as nursery:
                await nursery.start(b.run)

                async def echo(msg: Any) -> Any:
                    return msg.payload

                b.add_endpoint("echo", echo)
                for _ in range(2000):
                    await b.request("echo", "ping", b"x", timeout=1.0)
                nursery.cancel_scope.cancel()

        _run(main)


class TransportPair:
    """10k frames of 64 B through an in-process pair (memory, unix socketpair, shm rings)."""

    params = (["memory", "unix", "shm"],)
    param_names = ("kind",)
    number = 1
    repeat = 5

    def setup(self, kind: str) -> None:
        try:
            from symphony import transport
        except ImportError as exc:
            raise NotImplementedError("no symphony.transport at this commit") from exc
        self.make = {"memory": transport.memory_pair, "unix": transport.unix_socket_pair,
                     "shm": transport.shm_pair}[kind]

    def time_10k_frames(self, kind: str) -> None:
        make = self.make

        async def main() -> None:
            import trio

            a, b = make()
            frames = [b"x" * 64] * 256

            async def sink() -> None:
                got = 0
                while got < 10_240:
                    got += len(await b.receive_many())

            async with trio.open_nursery() as nursery:
                nursery.start_soon(sink)
                for _ in range(40):
                    await a.send_many(frames)
            await a.aclose()
            await b.aclose()

        _run(main)
