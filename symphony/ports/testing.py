"""Reusable contract suites for the six ports, in the shape of trio's ``check_two_way_stream``.

Each ``check_*_port(make_port, …)`` is a plain async function that asserts the *whole*
contract of one port — results, revisions, events and error classes — against whatever
``make_port()`` opens. ``make_port`` returns an async context manager yielding a fresh,
empty adapter (the mock classes themselves qualify: ``check_pit_port(MockPitPort)``). Every
adapter Symphony ships must pass the same suite as the mocks::

    async def test_editor_process_adapter() -> None:
        await check_text_editing_port(lambda: open_editor_adapter(...))

A failed check raises :class:`AssertionError` naming what went wrong (the checks do not rely
on ``assert`` statements, so they also run under ``python -O``). Waits for events are bounded
by ``timeout`` seconds (``trio.fail_after``), so a broken adapter fails instead of hanging.

This module imports trio; it is meant for tests.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import secrets
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Final, TypeVar

import trio

from symphony.commons.errors import (
    AuthoritativeValidationError,
    PortConflict,
    PortError,
    PortInvalidRequest,
    PortNotFound,
    PreValidationError,
)
from symphony.commons.health import HealthStatus
from symphony.ports.conductor import ConductorPort
from symphony.ports.data_access import DataAccessPort
from symphony.ports.extension import ExtensionPort
from symphony.ports.pit import PitPort
from symphony.ports.prevalidation import PreValidationPort
from symphony.ports.text_editing import TextEditingPort
from symphony.ports.types import (
    ArtifactId,
    ArtifactMetadata,
    BufferEvent,
    BufferEventKind,
    BufferId,
    Claim,
    Conflict,
    ConflictId,
    DagNode,
    DataQuery,
    DecisionContext,
    EpisodeId,
    ExtensionEventKind,
    ExtensionId,
    ExtensionManifest,
    ExtensionRequest,
    ExtensionType,
    ModelHandle,
    ModelSpec,
    NodeId,
    NodeKind,
    NodeStatus,
    OrchestrationId,
    OrchestrationRequest,
    OrchestrationStatus,
    Plain,
    PolicyContext,
    RecordId,
    Revision,
    TextEdit,
    TextRange,
    WorkflowId,
    WorkflowSpec,
)

__all__ = [
    "CONTRACT_EXTENSION",
    "DEFAULT_PREVALIDATION_SAMPLES",
    "MakePort",
    "check_conductor_port",
    "check_data_access_port",
    "check_extension_port",
    "check_pit_port",
    "check_pre_validation_port",
    "check_text_editing_port",
]

_P = TypeVar("_P")
_T = TypeVar("_T")

MakePort = Callable[[], AbstractAsyncContextManager[_P]]
"""Opens a fresh, empty adapter: ``async with make_port() as port: …``."""

CONTRACT_EXTENSION: Final = ExtensionManifest(
    ExtensionId("symphony.contract-extension"),
    "Symphony contract extension",
    "1.0.0",
    ExtensionType.OPERATOR,
)
"""The extension :func:`check_extension_port` loads by default (methods ``echo``, ``emit``,
``fail``; see :mod:`symphony.ports.extension`)."""

DEFAULT_PREVALIDATION_SAMPLES: Final[
    Mapping[str, tuple[Mapping[str, Plain], Mapping[str, Plain], frozenset[str]]]
] = {
    "user": (
        {"name": "Ada", "email": "ada@example.org"},
        {"name": "", "email": "not-an-email"},
        frozenset({"name", "email"}),
    ),
    "project": ({"name": "symphony"}, {"name": "a/b"}, frozenset({"name"})),
    "workflow": (
        {"name": "build", "nodes": []},
        {"name": " ", "nodes": "none"},
        frozenset({"name", "nodes"}),
    ),
    "extension": (
        {"id": "acme.formatter", "version": "1.2.3"},
        {"id": "Acme Formatter", "version": "one"},
        frozenset({"id", "version"}),
    ),
}
"""kind → (valid data, invalid data, the fields the invalid data must be reported for)."""


# --------------------------------------------------------------------------- helpers
def _fail(message: str) -> AssertionError:
    return AssertionError(message)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise _fail(message)


def _equal(actual: object, expected: object, what: str) -> None:
    if actual != expected:
        raise _fail(f"{what}: expected {expected!r}, got {actual!r}")


@contextlib.contextmanager
def _raises(
    expected: type[BaseException], what: str, *, not_: type[BaseException] | None = None
) -> Iterator[None]:
    try:
        yield
    except expected as exc:
        if not_ is not None and isinstance(exc, not_):
            raise _fail(
                f"{what}: expected {expected.__name__} but not {not_.__name__}, "
                f"got {type(exc).__name__}: {exc}"
            ) from exc
        return
    except Exception as exc:
        raise _fail(
            f"{what}: expected {expected.__name__}, got {type(exc).__name__}: {exc}"
        ) from exc
    raise _fail(f"{what}: expected {expected.__name__}, nothing was raised")


async def _next(events: AsyncIterator[_T], what: str, timeout: float) -> _T:
    try:
        with trio.fail_after(timeout):
            return await anext(events)
    except trio.TooSlowError:
        raise _fail(f"{what}: no event within {timeout} s") from None
    except StopAsyncIteration:
        raise _fail(f"{what}: the event stream ended early") from None


async def _ends(events: AsyncIterator[object], what: str, timeout: float) -> None:
    try:
        with trio.fail_after(timeout):
            extra = await anext(events)
    except trio.TooSlowError:
        raise _fail(f"{what}: the event stream did not end within {timeout} s") from None
    except StopAsyncIteration:
        return
    raise _fail(f"{what}: expected the event stream to end, got {extra!r}")


def _apply(text: str, edits: Sequence[TextEdit]) -> str:
    """Apply ascending, non-overlapping edits (the contract's reading of an edit list)."""
    out: list[str] = []
    pos = 0
    for e in edits:
        _check(e.range.start >= pos, f"event edits are not ascending: {edits!r}")
        out.append(text[pos : e.range.start])
        out.append(e.text)
        pos = e.range.end
    _check(pos <= len(text), f"event edits reach past the end ({len(text)}): {edits!r}")
    out.append(text[pos:])
    return "".join(out)


# --------------------------------------------------------------------------- text editing
async def check_text_editing_port(
    make_port: MakePort[TextEditingPort],
    *,
    timeout: float = 5.0,
    random_ops: int = 300,
    seed: int = 20261124,
) -> None:
    """Assert the :class:`~symphony.ports.TextEditingPort` contract.

    Covers revisions, code-point positions, atomic multi-edits, no-op calls, undo/redo,
    files (open, reopen, save, save-as, missing files), events (kinds, order, mirrorable
    edits, ``CLOSED`` ends the stream, several subscribers), concurrent callers, every
    error class, and ``random_ops`` random operations (from ``seed``) compared with a
    snapshot model.
    """
    await _te_basic(make_port)
    await _te_noops(make_port)
    await _te_undo_redo(make_port)
    await _te_errors(make_port, timeout)
    await _te_files(make_port)
    await _te_events(make_port, timeout)
    await _te_concurrent(make_port, timeout)
    await _te_random(make_port, timeout, random_ops, seed)


async def _te_basic(make_port: MakePort[TextEditingPort]) -> None:
    async with make_port() as port:
        _check(isinstance(port, TextEditingPort), f"{port!r} is not a TextEditingPort")
        b = await port.open_file()
        other = await port.open_file()
        _check(b != other, "two scratch buffers got the same id")
        _equal(await port.get_content(b), "", "a new scratch buffer's content")
        _equal(await port.insert(b, 0, "hello"), Revision(1), "first insert's revision")
        _equal(await port.insert(b, 5, " world"), Revision(2), "second insert's revision")
        _equal(await port.get_content(b), "hello world", "content after two inserts")
        _equal(await port.delete(b, TextRange(0, 6)), Revision(3), "delete's revision")
        _equal(await port.get_content(b), "world", "content after delete")
        rev = await port.edit(b, [TextEdit(TextRange(0, 1), "W"), TextEdit.insert(5, "!")])
        _equal(rev, Revision(4), "multi-edit revision")
        _equal(await port.get_content(b), "World!", "content after a multi-edit")
        # Offsets are code points: one astral character is one position.
        await port.insert(b, 1, "\U0001f600é")
        _equal(await port.get_content(b), "W\U0001f600éorld!", "content after astral insert")
        await port.insert(b, 3, "|")
        _equal(await port.get_content(b), "W\U0001f600é|orld!", "insert after astral text")
        await port.delete(b, TextRange(1, 4))
        _equal(await port.get_content(b), "World!", "content after deleting 3 code points")
        # Two inserts at one position apply in the order given.
        await port.edit(b, [TextEdit.insert(0, "a"), TextEdit.insert(0, "b")])
        _equal(await port.get_content(b), "abWorld!", "two inserts at one position")
        _equal(await port.get_content(other), "", "the other buffer is untouched")
        _equal(await port.insert(other, 0, "x"), Revision(1), "revisions are per buffer")


async def _te_noops(make_port: MakePort[TextEditingPort]) -> None:
    async with make_port() as port:
        b = await port.open_file()
        _equal(await port.insert(b, 0, ""), Revision(0), "inserting '' on a new buffer")
        with _raises(PortInvalidRequest, "undo after only a no-op insert"):
            await port.undo(b)
        await port.insert(b, 0, "abc")
        _equal(await port.insert(b, 3, ""), Revision(1), "inserting ''")
        _equal(await port.delete(b, TextRange(2, 2)), Revision(1), "deleting an empty range")
        _equal(await port.edit(b, []), Revision(1), "an empty edit list")
        same = [TextEdit(TextRange(0, 1), "a")]
        _equal(await port.edit(b, same), Revision(1), "replacing text with itself")
        _equal(await port.undo(b), Revision(2), "undo after no-ops undoes the real change")
        _equal(await port.get_content(b), "", "content after undo")
        with _raises(PortInvalidRequest, "a second undo (no-ops made no undo steps)"):
            await port.undo(b)


async def _te_undo_redo(make_port: MakePort[TextEditingPort]) -> None:
    async with make_port() as port:
        b = await port.open_file()
        with _raises(PortInvalidRequest, "undo on a new buffer"):
            await port.undo(b)
        with _raises(PortInvalidRequest, "redo on a new buffer"):
            await port.redo(b)
        await port.insert(b, 0, "one")  # r1
        await port.edit(b, [TextEdit(TextRange(0, 1), "O"), TextEdit.insert(3, " two")])  # r2
        await port.delete(b, TextRange(3, 7))  # r3: "One"
        _equal(await port.get_content(b), "One", "content before undo")
        _equal(await port.undo(b), Revision(4), "undo creates a new revision")
        _equal(await port.get_content(b), "One two", "undo of a delete")
        _equal(await port.undo(b), Revision(5), "second undo's revision")
        _equal(await port.get_content(b), "one", "undo of a multi-edit is one step")
        _equal(await port.redo(b), Revision(6), "redo creates a new revision")
        _equal(await port.get_content(b), "One two", "redo of a multi-edit")
        _equal(await port.redo(b), Revision(7), "second redo's revision")
        _equal(await port.get_content(b), "One", "second redo")
        with _raises(PortInvalidRequest, "redo with nothing left to redo"):
            await port.redo(b)
        await port.undo(b)
        await port.undo(b)
        await port.insert(b, 0, ">")  # a new change clears the redo history
        with _raises(PortInvalidRequest, "redo after a new change"):
            await port.redo(b)
        _equal(await port.get_content(b), ">one", "content after the new change")
        for expected in (Revision(11), Revision(12)):
            _equal(await port.undo(b), expected, "undo back to the start")
        _equal(await port.get_content(b), "", "everything undone")
        with _raises(PortInvalidRequest, "undo past the first change"):
            await port.undo(b)


async def _te_errors(make_port: MakePort[TextEditingPort], timeout: float) -> None:
    async with make_port() as port:
        ghost = BufferId("symphony-contract-no-such-buffer")
        calls: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("close", lambda: port.close(ghost)),
            ("insert", lambda: port.insert(ghost, 0, "x")),
            ("delete", lambda: port.delete(ghost, TextRange(0, 0))),
            ("edit", lambda: port.edit(ghost, [])),
            ("get_content", lambda: port.get_content(ghost)),
            ("undo", lambda: port.undo(ghost)),
            ("redo", lambda: port.redo(ghost)),
            ("save", lambda: port.save(ghost, None)),
        ]
        for name, call in calls:
            with _raises(PortNotFound, f"{name} on an unknown buffer"):
                await call()
        with _raises(PortNotFound, "subscribe to an unknown buffer"):
            async with port.subscribe(ghost):
                pass

        b = await port.open_file()
        await port.insert(b, 0, "abcdef")  # r1
        bad: list[tuple[str, type[PortError], Callable[[], Awaitable[object]]]] = [
            ("insert past the end", PortInvalidRequest, lambda: port.insert(b, 7, "x")),
            ("insert at a negative position", PortInvalidRequest, lambda: port.insert(b, -1, "x")),
            ("delete past the end", PortInvalidRequest, lambda: port.delete(b, TextRange(2, 7))),
            (
                "edit past the end",
                PortInvalidRequest,
                lambda: port.edit(b, [TextEdit(TextRange(6, 9), "x")]),
            ),
            (
                "edits out of order",
                PortInvalidRequest,
                lambda: port.edit(b, [TextEdit.insert(4, "x"), TextEdit.insert(1, "y")]),
            ),
            (
                "overlapping edits",
                PortInvalidRequest,
                lambda: port.edit(b, [TextEdit.delete(0, 3), TextEdit.delete(2, 4)]),
            ),
            (
                "a valid edit after an invalid one (all or nothing)",
                PortInvalidRequest,
                lambda: port.edit(b, [TextEdit.insert(1, "ok"), TextEdit.delete(5, 99)]),
            ),
            (
                "a stale base revision",
                PortConflict,
                lambda: port.edit(b, [TextEdit.insert(0, "x")], base_revision=Revision(0)),
            ),
            (
                "a future base revision",
                PortConflict,
                lambda: port.edit(b, [TextEdit.insert(0, "x")], base_revision=Revision(9)),
            ),
            ("saving a scratch buffer without a path", PortInvalidRequest, lambda: port.save(b)),
        ]
        for what, error, call in bad:
            with _raises(error, what):
                await call()
            _equal(await port.get_content(b), "abcdef", f"content after refused {what}")
        rev = await port.edit(b, [TextEdit.insert(0, ">")], base_revision=Revision(1))
        _equal(rev, Revision(2), "no refused call created a revision; current base accepted")
        _equal(await port.undo(b), Revision(3), "undo after refused calls")
        _equal(await port.get_content(b), "abcdef", "refused calls left no undo step")

        await port.close(b)
        with _raises(PortNotFound, "get_content on a closed buffer"):
            await port.get_content(b)
        with _raises(PortNotFound, "closing a buffer twice"):
            await port.close(b)


async def _te_files(make_port: MakePort[TextEditingPort]) -> None:
    with tempfile.TemporaryDirectory(prefix="symphony-contract-") as tmp:
        path = os.path.join(tmp, "a.txt")
        original = "line one\r\nline two é\n\U0001f600"
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(original)
        async with make_port() as port:
            b = await port.open_file(path)
            _equal(await port.get_content(b), original, "content of an opened file (exact)")
            _equal(await port.open_file(path), b, "opening an open path again")
            await port.insert(b, 0, "# ")
            _equal(await port.save(b), Revision(1), "save returns the revision written")
            with open(path, encoding="utf-8", newline="") as f:
                _equal(f.read(), "# " + original, "file content after save")
            await port.insert(b, 0, "unsaved ")
            await port.close(b)
            with open(path, encoding="utf-8", newline="") as f:
                _equal(f.read(), "# " + original, "close does not save")
            again = await port.open_file(path)
            _equal(await port.get_content(again), "# " + original, "reopened after close")
            _equal(await port.insert(again, 0, ""), Revision(0), "a reopened buffer starts at 0")

            missing = os.path.join(tmp, "new.txt")
            m = await port.open_file(missing)
            _equal(await port.get_content(m), "", "content of a missing file")
            _check(not os.path.exists(missing), "opening a missing file must not create it")
            await port.insert(m, 0, "created")
            await port.save(m)
            with open(missing, encoding="utf-8", newline="") as f:
                _equal(f.read(), "created", "save creates a missing file")

            scratch = await port.open_file()
            await port.insert(scratch, 0, "scratch text")
            target = os.path.join(tmp, "saved-as.txt")
            _equal(await port.save(scratch, target), Revision(1), "save-as's revision")
            with open(target, encoding="utf-8", newline="") as f:
                _equal(f.read(), "scratch text", "save-as writes the file")
            _equal(await port.open_file(target), scratch, "save-as binds the path to the buffer")
            await port.insert(scratch, 0, "more ")
            await port.save(scratch)
            with open(target, encoding="utf-8", newline="") as f:
                _equal(f.read(), "more scratch text", "a later save uses the save-as path")


async def _te_events(make_port: MakePort[TextEditingPort], timeout: float) -> None:
    with tempfile.TemporaryDirectory(prefix="symphony-contract-") as tmp:
        path = os.path.join(tmp, "events.txt")
        async with make_port() as port:
            b = await port.open_file()
            await port.insert(b, 0, "before subscribing")  # r1: not delivered
            async with port.subscribe(b) as events, port.subscribe(b) as second:
                mirror = await port.get_content(b)
                steps: list[tuple[BufferEventKind, Revision]] = []
                steps.append((BufferEventKind.EDITED, await port.insert(b, 0, "<")))
                steps.append((BufferEventKind.EDITED, await port.delete(b, TextRange(1, 7))))
                await port.insert(b, 0, "")  # no-op: no event
                edits = [TextEdit(TextRange(0, 1), "["), TextEdit.insert(12, "]")]
                steps.append((BufferEventKind.EDITED, await port.edit(b, edits)))
                steps.append((BufferEventKind.UNDONE, await port.undo(b)))
                steps.append((BufferEventKind.REDONE, await port.redo(b)))
                steps.append((BufferEventKind.SAVED, await port.save(b, path)))
                final = await port.get_content(b)
                await port.close(b)
                steps.append((BufferEventKind.CLOSED, steps[-1][1]))
                seen: list[BufferEvent] = []
                for i, (kind, revision) in enumerate(steps):
                    ev = await _next(events, f"event #{i} ({kind})", timeout)
                    seen.append(ev)
                    _equal(ev.buffer_id, b, f"event #{i} buffer id")
                    _equal(ev.kind, kind, f"event #{i} kind")
                    _equal(ev.revision, revision, f"event #{i} revision")
                    if kind in (
                        BufferEventKind.EDITED,
                        BufferEventKind.UNDONE,
                        BufferEventKind.REDONE,
                    ):
                        mirror = _apply(mirror, ev.edits)
                    if kind is BufferEventKind.SAVED:
                        _check(
                            ev.path is not None
                            and os.path.abspath(ev.path) == os.path.abspath(path),
                            f"SAVED event path {ev.path!r} is not {path!r}",
                        )
                _equal(mirror, final, "content rebuilt from the events' edits")
                await _ends(events, "subscription after CLOSED", timeout)
                for i, expected in enumerate(seen):
                    _equal(
                        await _next(second, f"second subscriber #{i}", timeout),
                        expected,
                        f"second subscriber event #{i}",
                    )
                await _ends(second, "second subscription after CLOSED", timeout)

            # A subscriber that leaves early does not disturb the buffer or other subscribers.
            c = await port.open_file()
            async with port.subscribe(c) as stay:
                async with port.subscribe(c):
                    pass
                rev = await port.insert(c, 0, "x")
                ev = await _next(stay, "event after another subscriber left", timeout)
                _equal((ev.kind, ev.revision), (BufferEventKind.EDITED, rev), "that event")


async def _te_concurrent(make_port: MakePort[TextEditingPort], timeout: float) -> None:
    """Concurrent callers: every change gets its own revision; events follow revision order."""
    n = 16
    async with make_port() as port:
        b = await port.open_file()
        got: list[Revision] = []

        async def writer(i: int) -> None:
            got.append(await port.insert(b, 0, "x"))

        async with port.subscribe(b) as events:
            with trio.fail_after(timeout):
                async with trio.open_nursery() as nursery:
                    for i in range(n):
                        nursery.start_soon(writer, i)
            _equal(sorted(got), [Revision(i) for i in range(1, n + 1)], "concurrent revisions")
            _equal(await port.get_content(b), "x" * n, "content after concurrent inserts")
            for i in range(1, n + 1):
                ev = await _next(events, f"event of concurrent insert #{i}", timeout)
                _equal(ev.revision, Revision(i), "events arrive in revision order")


async def _te_random(
    make_port: MakePort[TextEditingPort], timeout: float, n_ops: int, seed: int
) -> None:
    """Random operations against a snapshot model: content, revisions and error classes."""
    rng = random.Random(seed)
    alphabet = "ab\n é\U0001f600"
    async with make_port() as port:
        b = await port.open_file()
        past: list[str] = []  # contents before each undoable change
        future: list[str] = []  # contents after each undone change
        text = ""
        revision = 0
        async with port.subscribe(b) as events:
            mirror = ""
            for step in range(n_ops):
                op = rng.choice(("insert", "insert", "delete", "edit", "undo", "redo", "bad"))
                what = f"random op #{step} ({op}, seed {seed})"
                before = text
                expected_kind = BufferEventKind.EDITED
                if op == "insert":
                    pos = rng.randint(0, len(text))
                    new = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 4)))
                    got = await port.insert(b, pos, new)
                    text = text[:pos] + new + text[pos:]
                elif op == "delete":
                    start = rng.randint(0, len(text))
                    end = rng.randint(start, len(text))
                    got = await port.delete(b, TextRange(start, end))
                    text = text[:start] + text[end:]
                elif op == "edit":
                    cuts = sorted(rng.randint(0, len(text)) for _ in range(2 * rng.randint(0, 3)))
                    edits = [
                        TextEdit(TextRange(cuts[i], cuts[i + 1]), rng.choice(["", "xy", "é"]))
                        for i in range(0, len(cuts), 2)
                    ]
                    got = await port.edit(b, edits, base_revision=Revision(revision))
                    text = _apply(text, edits)
                elif op == "undo":
                    if not past:
                        with _raises(PortInvalidRequest, what):
                            await port.undo(b)
                        continue
                    got = await port.undo(b)
                    future.append(text)
                    text = past.pop()
                    expected_kind = BufferEventKind.UNDONE
                elif op == "redo":
                    if not future:
                        with _raises(PortInvalidRequest, what):
                            await port.redo(b)
                        continue
                    got = await port.redo(b)
                    past.append(text)
                    text = future.pop()
                    expected_kind = BufferEventKind.REDONE
                else:
                    with _raises(PortInvalidRequest, what):
                        await port.delete(b, TextRange(0, len(text) + 1))
                    continue
                if op in ("insert", "delete", "edit"):
                    if text == before:
                        _equal(got, Revision(revision), f"{what}: a no-op keeps the revision")
                        continue
                    past.append(before)
                    future.clear()
                revision += 1
                _equal(got, Revision(revision), f"{what}: revision")
                _equal(await port.get_content(b), text, f"{what}: content")
                ev = await _next(events, what, timeout)
                _equal(
                    (ev.kind, ev.revision), (expected_kind, Revision(revision)), f"{what}: event"
                )
                mirror = _apply(mirror, ev.edits)
                _equal(mirror, text, f"{what}: content mirrored from events")


# --------------------------------------------------------------------------- pit
def _wf(name: str, edges: Mapping[str, Sequence[str]]) -> WorkflowSpec:
    wid = WorkflowId(name)
    nodes = tuple(
        DagNode(wid, NodeId(n), NodeKind.OPERATOR, "noop", {"n": n}, tuple(map(NodeId, deps)))
        for n, deps in edges.items()
    )
    return WorkflowSpec(wid, name, nodes)


async def check_pit_port(
    make_port: MakePort[PitPort],
    *,
    model: ModelSpec | None = None,
    unknown_model_id: str = "symphony-contract-no-such-model",
) -> None:
    """Assert the :class:`~symphony.ports.PitPort` contract.

    Args:
        model: a model the adapter's pool can allocate (default ``ModelSpec("mock-model")``).
        unknown_model_id: a model id the pool does not have.
    """
    spec = model if model is not None else ModelSpec("mock-model")
    async with make_port() as pit:
        _check(isinstance(pit, PitPort), f"{pit!r} is not a PitPort")
        # -- models
        h1 = await pit.allocate_model(spec)
        h2 = await pit.allocate_model(spec)
        _check(h1 != h2 and h1.handle_id != h2.handle_id, "two allocations gave one handle")
        _equal(h1.model_id, spec.model_id, "handle's model id")
        with _raises(PortNotFound, "allocating an unknown model"):
            await pit.allocate_model(ModelSpec(unknown_model_id))
        await pit.release_model(h1)
        with _raises(PortNotFound, "releasing a handle twice"):
            await pit.release_model(h1)
        with _raises(PortNotFound, "releasing a forged handle"):
            await pit.release_model(ModelHandle("symphony-contract-forged", spec.model_id))
        await pit.release_model(h2)

        # -- workflows
        diamond = _wf("diamond", {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]})
        e1 = await pit.execute_workflow(diamond)
        e2 = await pit.execute_workflow(diamond)
        _check(e1 != e2, "two runs of a workflow got one execution id")
        await pit.execute_workflow(_wf("empty", {}))
        invalid = {
            "a cycle": _wf("cycle", {"a": ["c"], "b": ["a"], "c": ["b"]}),
            "a self-dependency": _wf("self", {"a": ["a"]}),
            "an unknown dependency": _wf("dangling", {"a": ["zz"]}),
            "a duplicate node id": WorkflowSpec(
                WorkflowId("dup"), "dup", _wf("dup", {"a": []}).nodes * 2
            ),
            "a node of another workflow": WorkflowSpec(
                WorkflowId("mine"), "mine", _wf("theirs", {"a": []}).nodes
            ),
        }
        for what, workflow in invalid.items():
            with _raises(PortInvalidRequest, f"executing a workflow with {what}"):
                await pit.execute_workflow(workflow)
        node = diamond.nodes[1]
        result = await pit.execute_dag_node(node)
        _equal(result.ref, node.ref, "node result's workflow and node ids")
        _check(isinstance(result.status, NodeStatus), f"node status {result.status!r}")

        # -- artifacts
        blob = bytes(range(256)) * 64
        a1 = await pit.store_artifact(blob, ArtifactMetadata(name="first", tags=("x",)))
        a2 = await pit.store_artifact(bytes(blob), ArtifactMetadata(name="second"))
        _equal(a2, a1, "equal content, equal artifact id")
        empty = await pit.store_artifact(b"")
        other = await pit.store_artifact(blob + b"\x00")
        _check(len({a1, empty, other}) == 3, "different content must give different ids")
        got = await pit.get_artifact(a1)
        _equal(got.artifact_id, a1, "artifact id")
        _equal(got.content, blob, "artifact bytes")
        _equal(got.metadata.name, "second", "the latest store's metadata")
        _equal((await pit.get_artifact(empty)).content, b"", "the empty artifact")
        with _raises(PortNotFound, "getting an unknown artifact"):
            await pit.get_artifact(ArtifactId("symphony-contract-no-such-artifact"))

        # -- arbitration
        claims = (Claim("low", 1), Claim("high", 5), Claim("mid", 3), Claim("high-too", 5, 0.1))
        conflict = Conflict(ConflictId("c1"), "gpu-0", claims)
        res = await pit.resolve_conflict(conflict)
        _equal(res.conflict_id, conflict.conflict_id, "resolution's conflict id")
        _check(res.winner in ("high", "high-too"), f"winner {res.winner!r} lacks top priority")
        _equal(res.ranking[0], res.winner, "ranking starts with the winner")
        _equal(sorted(res.ranking), sorted(c.claimant for c in claims), "ranking's claimants")
        _equal(await pit.resolve_conflict(conflict), res, "the same conflict, again")
        single = await pit.resolve_conflict(Conflict(ConflictId("c2"), "r", (Claim("only"),)))
        _equal(single.winner, "only", "a single claim wins")
        with _raises(PortInvalidRequest, "a conflict without claims"):
            await pit.resolve_conflict(Conflict(ConflictId("c3"), "r", ()))
        with _raises(PortInvalidRequest, "a claimant claiming twice"):
            await pit.resolve_conflict(
                Conflict(ConflictId("c4"), "r", (Claim("a", 1), Claim("a", 2)))
            )


# --------------------------------------------------------------------------- extensions
async def check_extension_port(
    make_port: MakePort[ExtensionPort],
    *,
    manifest: ExtensionManifest = CONTRACT_EXTENSION,
    timeout: float = 5.0,
) -> None:
    """Assert the :class:`~symphony.ports.ExtensionPort` contract.

    Args:
        manifest: the manifest of the contract extension (``echo``/``emit``/``fail``) as the
            adapter under test can load it.
    """
    ghost = ExtensionId("symphony-contract-no-such-extension")
    async with make_port() as port:
        _check(isinstance(port, ExtensionPort), f"{port!r} is not an ExtensionPort")
        with _raises(PortNotFound, "invoking an extension that is not loaded"):
            await port.invoke(ghost, ExtensionRequest("echo"))
        with _raises(PortNotFound, "unloading an extension that is not loaded"):
            await port.unload(ghost)
        with _raises(PortNotFound, "events of an extension that is not loaded"):
            async with port.events(ghost):
                pass

        xid = await port.load(manifest)
        _equal(xid, manifest.id, "load returns the manifest's id")
        with _raises(PortConflict, "loading an extension twice"):
            await port.load(manifest)
        values: list[Plain] = [
            None,
            0,
            -7,
            2.5,
            "text é",
            b"\x00\xff",
            [1, [2]],
            {"k": {"v": True}},
        ]
        for value in values:
            response = await port.invoke(xid, ExtensionRequest("echo", value))
            _equal(response.result, value, "echo's result")
        with _raises(PortNotFound, "invoking a method the extension does not have"):
            await port.invoke(xid, ExtensionRequest("symphony-contract-no-such-method"))
        with _raises(PortError, "a method that fails inside the extension", not_=PortNotFound):
            await port.invoke(xid, ExtensionRequest("fail", "deliberate failure"))

        payloads: tuple[Plain, ...] = ("first", {"n": 2})
        async with port.events(xid) as events:
            for payload in payloads:
                _equal(
                    (await port.invoke(xid, ExtensionRequest("emit", payload))).result,
                    None,
                    "emit's result",
                )
            for payload in payloads:
                ev = await _next(events, f"NOTIFICATION {payload!r}", timeout)
                _equal(
                    (ev.extension_id, ev.kind, ev.payload),
                    (xid, ExtensionEventKind.NOTIFICATION, payload),
                    "notification event",
                )
            await port.unload(xid)
            ev = await _next(events, "UNLOADED", timeout)
            _equal((ev.extension_id, ev.kind), (xid, ExtensionEventKind.UNLOADED), "last event")
            await _ends(events, "events after UNLOADED", timeout)
        with _raises(PortNotFound, "invoking an unloaded extension"):
            await port.invoke(xid, ExtensionRequest("echo"))
        with _raises(PortNotFound, "unloading twice"):
            await port.unload(xid)
        _equal(await port.load(manifest), xid, "loading again after unload")
        _equal((await port.invoke(xid, ExtensionRequest("echo", 1))).result, 1, "echo after reload")
        await port.unload(xid)


# --------------------------------------------------------------------------- conductor
async def check_conductor_port(make_port: MakePort[ConductorPort]) -> None:
    """Assert the :class:`~symphony.ports.ConductorPort` contract."""
    async with make_port() as conductor:
        _check(isinstance(conductor, ConductorPort), f"{conductor!r} is not a ConductorPort")
        s0 = await conductor.get_status()
        _check(isinstance(s0.health, HealthStatus), f"health {s0.health!r}")
        episode = EpisodeId("symphony-contract-episode")
        context = DecisionContext(episode, "pick-model", ("small", "large"), {"size": 3})
        d1 = await conductor.submit_decision(context)
        d2 = await conductor.submit_decision(context)
        for d in (d1, d2):
            _check(d.choice in context.candidates, f"choice {d.choice!r} is not a candidate")
            _equal(d.episode_id, episode, "decision's episode")
            _check(0.0 <= d.confidence <= 1.0, f"confidence {d.confidence!r}")
        _check(d1.decision_id != d2.decision_id, "two decisions got one id")
        with _raises(PortInvalidRequest, "a decision without candidates"):
            await conductor.submit_decision(DecisionContext(episode, "pick", ()))
        s1 = await conductor.get_status()
        _equal(s1.decisions_made - s0.decisions_made, 2, "decisions counted")

        p0 = await conductor.get_policy(PolicyContext("default"))
        _equal(p0.name, "default", "policy name")
        await conductor.report_reward(episode, 1.0)
        with _raises(PortNotFound, "a reward for an episode without decisions"):
            await conductor.report_reward(EpisodeId("symphony-contract-no-such-episode"), 1.0)
        for bad in (math.nan, math.inf, -math.inf):
            with _raises(PortInvalidRequest, f"a reward of {bad}"):
                await conductor.report_reward(episode, bad)
        s2 = await conductor.get_status()
        _equal(s2.rewards_received - s1.rewards_received, 1, "rewards counted")
        p1 = await conductor.get_policy(PolicyContext("default"))
        _check(p1.version >= p0.version, f"policy version went back: {p0.version} → {p1.version}")
        _check(s2.policy_version >= s1.policy_version, "status policy version went back")

        plain = OrchestrationRequest(OrchestrationId("o1"), "summarise the workspace")
        r1 = await conductor.orchestrate(plain)
        _equal(r1.request_id, plain.request_id, "orchestration result's request id")
        _check(r1.status is not OrchestrationStatus.REJECTED, "a plain goal was rejected")
        cyclic = _wf("cyclic", {"a": ["b"], "b": ["a"]})
        r2 = await conductor.orchestrate(OrchestrationRequest(OrchestrationId("o2"), "g", cyclic))
        _equal(
            (r2.request_id, r2.status),
            (OrchestrationId("o2"), OrchestrationStatus.REJECTED),
            "a cyclic workflow",
        )
        good = _wf("good", {"a": [], "b": ["a"]})
        r3 = await conductor.orchestrate(OrchestrationRequest(OrchestrationId("o3"), "g", good))
        _check(
            r3.status in (OrchestrationStatus.ACCEPTED, OrchestrationStatus.COMPLETED),
            f"a valid workflow got {r3.status}",
        )
        s3 = await conductor.get_status()
        _equal(s3.orchestrations - s2.orchestrations, 3, "orchestrations counted")
        _equal(s3.decisions_made, s2.decisions_made, "decisions unchanged by refused calls")


# --------------------------------------------------------------------------- data access
async def check_data_access_port(
    make_port: MakePort[DataAccessPort],
    *,
    collection: str = "projects",
    valid: Mapping[str, Plain] | None = None,
    invalid: Mapping[str, Plain] | None = None,
    unknown_collection: str = "symphony-contract-no-such-collection",
) -> None:
    """Assert the :class:`~symphony.ports.DataAccessPort` contract.

    Args:
        collection: a collection the adapter serves.
        valid: data the authority accepts in it; the suite adds its own fields
            (default ``{"name": "contract"}``).
        invalid: data the authority refuses (default ``{"name": ""}``).
        unknown_collection: a collection the adapter does not serve.

    Records carry a random ``contract_run`` token, and queries filter on it, so the suite
    can run against a store that already holds data.
    """
    base = dict(valid) if valid is not None else {"name": "contract"}
    refused = dict(invalid) if invalid is not None else {"name": ""}
    run = secrets.token_hex(8)
    async with make_port() as store:
        _check(isinstance(store, DataAccessPort), f"{store!r} is not a DataAccessPort")
        data: dict[str, Plain] = {**base, "contract_run": run, "n": 1}
        data["nested"] = {"list": [1, "two", None]}
        r1 = await store.create(collection, data)
        _equal((r1.collection, r1.version, dict(r1.data)), (collection, 1, data), "created record")
        _equal(await store.get(collection, r1.record_id), r1, "get after create")
        r2 = await store.create(collection, {**base, "contract_run": run, "n": 2})
        _check(r1.record_id != r2.record_id, "two creates got one record id")

        new = {**base, "contract_run": run, "n": 10}
        u1 = await store.update(collection, r1.record_id, new)
        _equal((u1.record_id, u1.version, dict(u1.data)), (r1.record_id, 2, new), "updated record")
        with _raises(PortConflict, "an update with a stale expected version"):
            await store.update(collection, r1.record_id, new, expected_version=1)
        u2 = await store.update(collection, r1.record_id, new, expected_version=2)
        _equal(u2.version, 3, "version after an update with the right expected version")

        with _raises(AuthoritativeValidationError, "creating data the authority refuses"):
            await store.create(collection, {**refused, "contract_run": run})
        with _raises(AuthoritativeValidationError, "updating to data the authority refuses"):
            await store.update(collection, r2.record_id, {**refused, "contract_run": run})
        _equal(await store.get(collection, r2.record_id), r2, "a refused update changed nothing")
        page = await store.query(DataQuery(collection, {"contract_run": run}))
        _equal(page.total, 2, "a refused create stored nothing")

        await store.delete(collection, r2.record_id)
        ghost = RecordId("symphony-contract-no-such-record")
        for rid, what in ((r2.record_id, "a deleted record"), (ghost, "an unknown record")):
            with _raises(PortNotFound, f"get of {what}"):
                await store.get(collection, rid)
            with _raises(PortNotFound, f"update of {what}"):
                await store.update(collection, rid, base)
            with _raises(PortNotFound, f"delete of {what}"):
                await store.delete(collection, rid)
        with _raises(PortNotFound, "create in an unknown collection"):
            await store.create(unknown_collection, base)
        with _raises(PortNotFound, "query of an unknown collection"):
            await store.query(DataQuery(unknown_collection))
        await store.delete(collection, r1.record_id)

        # -- queries: strict equality, creation order, paging
        values: list[Plain] = [1, 1.0, True, "1", 2, 1, [1], None]
        created = [
            await store.create(collection, {**base, "contract_run": run, "v": v, "i": i})
            for i, v in enumerate(values)
        ]
        last = await store.create(collection, {**base, "contract_run": run, "i": 99})  # no "v"
        ones = await store.query(DataQuery(collection, {"contract_run": run, "v": 1}))
        _equal([r.data["i"] for r in ones.records], [0, 5], "where v == 1 (int only)")
        _equal((ones.total, ones.next_offset), (2, None), "total and next offset")
        cases: list[tuple[Plain, list[int]]] = [(1.0, [1]), (True, [2]), ([1], [6]), (None, [7])]
        for v, expected in cases:
            got = await store.query(DataQuery(collection, {"contract_run": run, "v": v}))
            _equal([r.data["i"] for r in got.records], expected, f"where v == {v!r}")
        everything = [r.record_id for r in created] + [last.record_id]
        seen: list[RecordId] = []
        offset: int | None = 0
        while offset is not None:
            p = await store.query(
                DataQuery(collection, {"contract_run": run}, limit=4, offset=offset)
            )
            _equal(p.total, 9, "total of every page")
            _check(len(p.records) <= 4, f"a page of {len(p.records)} records exceeds limit 4")
            seen.extend(r.record_id for r in p.records)
            _check(
                p.next_offset is None or p.next_offset == offset + len(p.records),
                f"next offset {p.next_offset}",
            )
            offset = p.next_offset
        _equal(seen, everything, "every record once, in creation order, across pages")
        past = await store.query(DataQuery(collection, {"contract_run": run}, offset=50))
        _equal((past.records, past.total, past.next_offset), ((), 9, None), "a page past the end")


# --------------------------------------------------------------------------- pre-validation
async def check_pre_validation_port(
    make_port: MakePort[PreValidationPort],
    *,
    samples: Mapping[
        str, tuple[Mapping[str, Plain], Mapping[str, Plain], frozenset[str]]
    ] = DEFAULT_PREVALIDATION_SAMPLES,
    unknown_kind: str = "symphony-contract-no-such-kind",
) -> None:
    """Assert the :class:`~symphony.ports.PreValidationPort` contract.

    Args:
        samples: kind → (valid data, invalid data, every field the invalid data must be
            reported for).
    """
    async with make_port() as port:
        _check(isinstance(port, PreValidationPort), f"{port!r} is not a PreValidationPort")
        kinds = await port.kinds()
        _check(
            isinstance(kinds, tuple) and all(isinstance(k, str) for k in kinds), f"kinds {kinds!r}"
        )
        for kind, (good, bad, fields) in samples.items():
            _check(kind in kinds, f"kind {kind!r} missing from kinds() = {kinds!r}")
            ok = await port.validate(kind, good)
            _equal((ok.subject, ok.ok, ok.failures), (kind, True, ()), f"valid {kind}")
            ok.raise_for_failures()
            result = await port.validate(kind, bad)
            _equal((result.subject, result.ok), (kind, False), f"invalid {kind}")
            reported = {f.field for f in result.failures}
            _check(
                fields <= reported,
                f"invalid {kind}: every failure must be reported; expected fields "
                f"{sorted(fields)}, got {sorted(reported)}",
            )
            _equal(await port.validate(kind, bad), result, f"invalid {kind}, validated again")
            with _raises(PreValidationError, f"raise_for_failures on invalid {kind}"):
                result.raise_for_failures()
        with _raises(PortNotFound, "validating an unknown kind"):
            await port.validate(unknown_kind, {})
