"""Stdio transport: frames over a child process's stdin/stdout (JSON-RPC to editors, tools).

Parent side: :func:`spawn_stdio` starts ``argv`` with ``trio.lowlevel.open_process`` on two
pipes and returns a :class:`ChildTransport`. Child side: :func:`stdio_transport` wraps fds 0
and 1. Both are :class:`~symphony.transport._stream.StreamTransport` over
:class:`~symphony.transport._stream.PipeIO`, with newline-delimited JSON (``"line"``, the
default, one JSON text per line) or binary length-prefixed framing (``"length"``).

Continuous event streaming is ``async for frame in transport`` (it ends when the peer closes).
Shutdown (:meth:`ChildTransport.aclose`): close the child's stdin (it sees end of file), give
it ``grace`` seconds to exit, then terminate and finally kill it. A broken pipe or a dead child
surfaces as :class:`~symphony.commons.errors.ConnectionClosed` naming the child's pid and
exit status.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import trio

from symphony.commons.errors import ConnectionClosed, TransportError
from symphony.transport._stream import Framing, PipeIO, StreamTransport
from symphony.transport.base import DEFAULT_MAX_FRAME

__all__ = ["ChildTransport", "pipe_pair", "spawn_stdio", "stdio_transport"]


class ChildTransport(StreamTransport):
    """The parent's end of a child process's stdio (see the module docstring)."""

    def __init__(
        self,
        process: trio.Process,
        io: PipeIO,
        *,
        framing: Framing,
        max_frame: int,
        grace: float,
    ) -> None:
        super().__init__(io, framing=framing, max_frame=max_frame, kind="stdio")
        self.process = process
        """The child (``trio.Process``)."""
        self.grace = grace
        """Seconds the child gets to exit after its stdin is closed, before terminate/kill."""

    def _child_state(self) -> str:
        code = self.process.poll()
        if code is None:
            return f"child pid {self.process.pid} (still running)"
        if code < 0:
            return f"child pid {self.process.pid} (killed by signal {-code})"
        return f"child pid {self.process.pid} (exited with code {code})"

    async def send(self, frame: bytes | bytearray | memoryview) -> None:
        try:
            await super().send(frame)
        except ConnectionClosed as exc:
            raise ConnectionClosed(f"{exc}; {self._child_state()}") from exc.__cause__

    async def receive(self) -> bytes:
        try:
            return await super().receive()
        except ConnectionClosed as exc:
            raise ConnectionClosed(f"{exc}; {self._child_state()}") from exc.__cause__

    async def wait(self) -> int:
        """Wait for the child to exit; its return code."""
        return await self.process.wait()

    async def aclose(self) -> None:
        """Close stdin, wait ``grace`` s for the child, then terminate, then kill it."""
        with trio.CancelScope(shield=True):
            await super().send_eof()
            if self.process.poll() is None:
                with trio.move_on_after(self.grace):
                    await self.process.wait()
            if self.process.poll() is None:
                self.process.terminate()
                with trio.move_on_after(self.grace):
                    await self.process.wait()
            if self.process.poll() is None:
                self.process.kill()
                await self.process.wait()
            await super().aclose()


async def spawn_stdio(
    argv: Sequence[str],
    *,
    framing: Framing = "line",
    max_frame: int = DEFAULT_MAX_FRAME,
    grace: float = 2.0,
    env: dict[str, str] | None = None,
    stderr: int | None = None,
) -> ChildTransport:
    """Start ``argv`` with pipes on its stdin and stdout and return the parent's transport.

    Use ``[sys.executable, ...]`` to start a Python child. ``stderr`` is inherited unless
    given (e.g. ``subprocess.DEVNULL``).

    Raises:
        TransportError: the program could not be started.
    """
    child_in_r, parent_w = os.pipe()
    parent_r, child_out_w = os.pipe()
    try:
        process = await trio.lowlevel.open_process(
            list(argv), stdin=child_in_r, stdout=child_out_w, stderr=stderr, env=env
        )
    except OSError as exc:
        for fd in (child_in_r, parent_w, parent_r, child_out_w):
            os.close(fd)
        raise TransportError(f"stdio transport: cannot start {list(argv)!r}: {exc}") from exc
    os.close(child_in_r)
    os.close(child_out_w)
    return ChildTransport(
        process, PipeIO(parent_r, parent_w), framing=framing, max_frame=max_frame, grace=grace
    )


def stdio_transport(
    *, framing: Framing = "line", max_frame: int = DEFAULT_MAX_FRAME
) -> StreamTransport:
    """The child's end: frames on this process's stdin (fd 0) and stdout (fd 1).

    The descriptors are duplicated and made non-blocking, and fd 1 is pointed at stderr so a
    stray ``print`` cannot corrupt the frame stream.
    """
    rfd = os.dup(0)
    wfd = os.dup(1)
    sys.stdout.flush()
    os.dup2(2, 1)
    return StreamTransport(PipeIO(rfd, wfd), framing=framing, max_frame=max_frame, kind="stdio")


def pipe_pair(
    *, framing: Framing = "length", max_frame: int = DEFAULT_MAX_FRAME
) -> tuple[StreamTransport, StreamTransport]:
    """Two transports connected by two OS pipes in this process (the stdio transport's
    machinery without a child; used by the contract suite)."""
    a_r, b_w = os.pipe()
    b_r, a_w = os.pipe()
    return (
        StreamTransport(PipeIO(a_r, a_w), framing=framing, max_frame=max_frame, kind="pipe"),
        StreamTransport(PipeIO(b_r, b_w), framing=framing, max_frame=max_frame, kind="pipe"),
    )

