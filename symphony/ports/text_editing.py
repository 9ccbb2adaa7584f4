"""TextEditingPort: the core's view of the editor process (seed M1.1.1, design 004 M1.1).

The contract every adapter honours — :func:`symphony.ports.testing.check_text_editing_port`
asserts all of it, against the mock now and the editor-process adapter later:

- **Buffers.** ``open_file(path)`` opens a file-backed buffer (UTF-8; a missing file opens an
  empty buffer that ``save`` creates); ``open_file()`` opens an empty scratch buffer. Opening
  a path that is already open returns the same :class:`BufferId`. A new buffer is at
  ``Revision(0)``.
- **Revisions.** Every call that changes the content creates exactly one new revision, the
  previous one plus one — edits, ``undo`` and ``redo`` alike — and returns it. A call that
  leaves the content as it was (inserting ``""``, deleting an empty range, an empty edit
  list) returns the current revision and creates no revision, undo step or event.
- **Positions** are code-point offsets (``str`` indices) into the content *before* the call.
  ``edit`` applies its edits atomically as one undo step; they must be in ascending order
  and must not overlap (each edit's start ≥ the previous edit's end).
- **Undo/redo.** ``undo`` reverts the most recent not-yet-undone change; ``redo`` re-applies
  the most recently undone one; any new change clears the redo history. Saving does not
  touch the history.
- **Events.** ``subscribe(buffer_id)`` is an async context manager yielding an async
  iterator of :class:`~symphony.ports.types.BufferEvent`: every change after entering, in
  revision order, with edits that turn the previous content into the new one. ``close``
  delivers a final ``CLOSED`` event and ends every subscription of the buffer. A subscriber
  that falls too far behind gets its buffered events, then :class:`PortConflict`.
- **Errors.** An unknown (or closed) buffer id → :class:`PortNotFound`. A position or range
  past the end, unordered or overlapping edits, undo/redo with nothing to undo/redo, saving a
  scratch buffer without a path → :class:`PortInvalidRequest`. A ``base_revision`` that is
  not the current revision → :class:`PortConflict`. A file that cannot be read or written →
  :class:`PortError`. Any method may raise :class:`PortUnavailable` or :class:`PortTimeout`.
  A failed call changes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol, runtime_checkable

from symphony.ports.types import BufferEvent, BufferId, Revision, TextEdit, TextRange

__all__ = ["TextEditingPort"]


@runtime_checkable
class TextEditingPort(Protocol):
    """Text buffers with revisions, undo/redo and change events (see the module docstring)."""

    async def open_file(self, path: str | None = None) -> BufferId:
        """Open ``path`` (or, without one, an empty scratch buffer) and return its id."""
        ...

    async def close(self, buffer_id: BufferId) -> None:
        """Close a buffer, discarding unsaved changes; its id becomes unknown."""
        ...

    async def insert(self, buffer_id: BufferId, pos: int, text: str) -> Revision:
        """Insert ``text`` at code-point offset ``pos`` (0 ≤ pos ≤ length)."""
        ...

    async def delete(self, buffer_id: BufferId, text_range: TextRange) -> Revision:
        """Delete ``text_range`` (its end ≤ length)."""
        ...

    async def edit(
        self,
        buffer_id: BufferId,
        edits: Sequence[TextEdit],
        *,
        base_revision: Revision | None = None,
    ) -> Revision:
        """Apply ``edits`` atomically as one revision and one undo step.

        Ranges refer to the content before the call, ascending and non-overlapping. With
        ``base_revision``, refuse with :class:`PortConflict` unless it is still current.
        """
        ...

    async def get_content(self, buffer_id: BufferId) -> str:
        """The whole current content."""
        ...

    async def undo(self, buffer_id: BufferId) -> Revision:
        """Revert the most recent change; the result is a new revision."""
        ...

    async def redo(self, buffer_id: BufferId) -> Revision:
        """Re-apply the most recently undone change; the result is a new revision."""
        ...

    async def save(self, buffer_id: BufferId, path: str | None = None) -> Revision:
        """Write the content (UTF-8) to ``path`` or the buffer's own path; return the
        revision written. Saving to a new path makes it the buffer's path."""
        ...

    def subscribe(
        self, buffer_id: BufferId
    ) -> AbstractAsyncContextManager[AsyncIterator[BufferEvent]]:
        """Events of one buffer: ``async with port.subscribe(b) as events: async for …``.

        Entering raises :class:`PortNotFound` for an unknown buffer.
        """
        ...
