"""Typed messages between Symphony's core and the editor process (seed M1.3.7).

Operations (core → editor, JSON-RPC requests or envelope requests) and events (editor →
core, notifications or envelope events). Each class has a registry ``TYPE`` (also its
JSON-RPC method name), a ``VERSION`` and a :class:`~symphony.protocol.schema.MessageSchema`;
:func:`parse` validates a payload against it (every violation reported, plus the cross-field
rules a schema cannot say, e.g. a range's start <= end) and returns the typed object;
``to_payload()`` / ``to_message()`` go the other way. :data:`EDITOR_REGISTRY` holds all
schemas.

Positions are zero-based ``(line, column)``, columns in Unicode code points; a delete range
is ``[start, end)`` in code-point offsets of the buffer.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, Final

from symphony.commons.errors import MessageValidationError
from symphony.protocol.envelope import Kind, Message
from symphony.protocol.registry import MessageRegistry
from symphony.protocol.schema import Field, Integer, MessageSchema, Object, String

__all__ = [
    "EDITOR_EVENTS",
    "EDITOR_OPERATIONS",
    "EDITOR_REGISTRY",
    "BufferChanged",
    "BufferSync",
    "CloseView",
    "CursorMoved",
    "Delete",
    "EditorMessage",
    "FileChanged",
    "FileModified",
    "Insert",
    "MoveCursor",
    "NewView",
    "Open",
    "Position",
    "Save",
    "Selection",
    "SetSelection",
    "ViewClosed",
    "parse",
    "parse_message",
]

MAX_TEXT: Final = 64 * 1024 * 1024
"""Largest text carried in one message (64 Mi code points)."""

_VIEW_ID = String(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9._:-]+$")
_PATH = String(min_length=1, max_length=4096, pattern=r"^[^\x00]+$")
_TEXT = String(max_length=MAX_TEXT)
_COUNT = Integer(minimum=0, maximum=(1 << 63) - 1)
_POSITION = Object((Field("line", _COUNT), Field("column", _COUNT)))
_SELECTION = Object((Field("anchor", _POSITION), Field("active", _POSITION)))


@dataclass(frozen=True, slots=True)
class Position:
    """A zero-based (line, column) in a buffer."""

    line: int
    column: int

    def to_json(self) -> dict[str, int]:
        return {"line": self.line, "column": self.column}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Position:
        return cls(d["line"], d["column"])


@dataclass(frozen=True, slots=True)
class Selection:
    """A selection from ``anchor`` (where it started) to ``active`` (the cursor)."""

    anchor: Position
    active: Position

    def to_json(self) -> dict[str, Any]:
        return {"anchor": self.anchor.to_json(), "active": self.active.to_json()}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Selection:
        return cls(Position.from_json(d["anchor"]), Position.from_json(d["active"]))


class EditorMessage:
    """Base of the editor operations and events (dataclasses below)."""

    __slots__ = ()

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    KIND: ClassVar[Kind]
    SCHEMA: ClassVar[MessageSchema]

    def to_payload(self) -> dict[str, Any]:
        """The JSON/msgpack payload (``None`` optional fields omitted)."""
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if v is None:
                continue
            out[f.name] = v.to_json() if isinstance(v, (Position, Selection)) else v
        return out

    def to_message(self, **envelope: Any) -> Message:
        """This operation/event in an envelope (keywords as :meth:`Message.new`)."""
        envelope.setdefault("kind", self.KIND)
        envelope.setdefault("version", self.VERSION)
        return Message.new(self.TYPE, self.to_payload(), **envelope)

    def cross_field_problems(self) -> list[tuple[str, str]]:
        """Rules beyond the schema (overridden where needed)."""
        return []

    @classmethod
    def from_payload(cls, payload: Any) -> EditorMessage:
        """Validate ``payload`` and build the typed message.

        Raises:
            MessageValidationError: listing every violation.
        """
        cls.SCHEMA.validate(payload)
        kwargs: dict[str, Any] = {}
        for f in fields(cls):  # type: ignore[arg-type]
            v = payload.get(f.name)
            if f.name == "position" and v is not None:
                v = Position.from_json(v)
            elif f.name == "selection" and v is not None:
                v = Selection.from_json(v)
            kwargs[f.name] = v
        obj = cls(**kwargs)
        problems = obj.cross_field_problems()
        if problems:
            raise MessageValidationError(
                f"{cls.TYPE}: " + "; ".join(f"{p}: {m}" for p, m in problems),
                violations=problems,
            )
        return obj


def _schema(cls: type[EditorMessage], *fs: Field) -> type[EditorMessage]:
    cls.SCHEMA = MessageSchema(cls.TYPE, cls.VERSION, fs, description=cls.__doc__ or "")
    return cls


# --------------------------------------------------------------------- operations
@dataclass(frozen=True, slots=True)
class NewView(EditorMessage):
    """Open a new view, on a file or on an empty buffer."""

    file_path: str | None = None
    TYPE: ClassVar[str] = "editor.new_view"
    KIND: ClassVar[Kind] = Kind.REQUEST


@dataclass(frozen=True, slots=True)
class Open(EditorMessage):
    """Open a file (in a new view)."""

    path: str
    TYPE: ClassVar[str] = "editor.open"
    KIND: ClassVar[Kind] = Kind.REQUEST


@dataclass(frozen=True, slots=True)
class CloseView(EditorMessage):
    """Close a view."""

    view_id: str
    TYPE: ClassVar[str] = "editor.close_view"
    KIND: ClassVar[Kind] = Kind.REQUEST


@dataclass(frozen=True, slots=True)
class Insert(EditorMessage):
    """Insert ``chars`` at the view's cursor."""

    view_id: str
    chars: str
    TYPE: ClassVar[str] = "editor.insert"
    KIND: ClassVar[Kind] = Kind.REQUEST


@dataclass(frozen=True, slots=True)
class Delete(EditorMessage):
    """Delete the code points ``[start, end)``."""

    view_id: str
    start: int
    end: int
    TYPE: ClassVar[str] = "editor.delete"
    KIND: ClassVar[Kind] = Kind.REQUEST

    def cross_field_problems(self) -> list[tuple[str, str]]:
        if self.start > self.end:
            return [("/end", f"range end {self.end} < start {self.start}")]
        return []


@dataclass(frozen=True, slots=True)
class Save(EditorMessage):
    """Save a view's buffer (to ``path``, or to its own file)."""

    view_id: str
    path: str | None = None
    TYPE: ClassVar[str] = "editor.save"
    KIND: ClassVar[Kind] = Kind.REQUEST


@dataclass(frozen=True, slots=True)
class MoveCursor(EditorMessage):
    """Move the cursor (clears the selection)."""

    view_id: str
    position: Position
    TYPE: ClassVar[str] = "editor.move_cursor"
    KIND: ClassVar[Kind] = Kind.REQUEST


@dataclass(frozen=True, slots=True)
class SetSelection(EditorMessage):
    """Set the selection."""

    view_id: str
    selection: Selection
    TYPE: ClassVar[str] = "editor.set_selection"
    KIND: ClassVar[Kind] = Kind.REQUEST


@dataclass(frozen=True, slots=True)
class FileChanged(EditorMessage):
    """A file changed on disk (from the workspace watcher); the editor reloads it."""

    path: str
    content: str
    TYPE: ClassVar[str] = "editor.file_changed"
    KIND: ClassVar[Kind] = Kind.REQUEST


@dataclass(frozen=True, slots=True)
class BufferSync(EditorMessage):
    """Ask for the buffer's content if it is newer than ``revision``."""

    view_id: str
    revision: int
    TYPE: ClassVar[str] = "editor.buffer_sync"
    KIND: ClassVar[Kind] = Kind.REQUEST


# --------------------------------------------------------------------- events
@dataclass(frozen=True, slots=True)
class BufferChanged(EditorMessage):
    """A view's buffer changed; ``revision`` increases by at least one per change."""

    view_id: str
    content: str
    revision: int
    TYPE: ClassVar[str] = "editor.buffer_changed"
    KIND: ClassVar[Kind] = Kind.EVENT


@dataclass(frozen=True, slots=True)
class CursorMoved(EditorMessage):
    """A view's cursor moved."""

    view_id: str
    position: Position
    TYPE: ClassVar[str] = "editor.cursor_moved"
    KIND: ClassVar[Kind] = Kind.EVENT


@dataclass(frozen=True, slots=True)
class FileModified(EditorMessage):
    """A file was written by the editor."""

    path: str
    TYPE: ClassVar[str] = "editor.file_modified"
    KIND: ClassVar[Kind] = Kind.EVENT


@dataclass(frozen=True, slots=True)
class ViewClosed(EditorMessage):
    """A view was closed."""

    view_id: str
    TYPE: ClassVar[str] = "editor.view_closed"
    KIND: ClassVar[Kind] = Kind.EVENT


_schema(NewView, Field("file_path", _PATH, required=False))
_schema(Open, Field("path", _PATH))
_schema(CloseView, Field("view_id", _VIEW_ID))
_schema(Insert, Field("view_id", _VIEW_ID), Field("chars", _TEXT))
_schema(Delete, Field("view_id", _VIEW_ID), Field("start", _COUNT), Field("end", _COUNT))
_schema(Save, Field("view_id", _VIEW_ID), Field("path", _PATH, required=False))
_schema(MoveCursor, Field("view_id", _VIEW_ID), Field("position", _POSITION))
_schema(SetSelection, Field("view_id", _VIEW_ID), Field("selection", _SELECTION))
_schema(FileChanged, Field("path", _PATH), Field("content", _TEXT))
_schema(BufferSync, Field("view_id", _VIEW_ID), Field("revision", _COUNT))
_schema(
    BufferChanged, Field("view_id", _VIEW_ID), Field("content", _TEXT), Field("revision", _COUNT)
)
_schema(CursorMoved, Field("view_id", _VIEW_ID), Field("position", _POSITION))
_schema(FileModified, Field("path", _PATH))
_schema(ViewClosed, Field("view_id", _VIEW_ID))

EDITOR_OPERATIONS: Final[tuple[type[EditorMessage], ...]] = (
    NewView,
    Open,
    CloseView,
    Insert,
    Delete,
    Save,
    MoveCursor,
    SetSelection,
    FileChanged,
    BufferSync,
)
EDITOR_EVENTS: Final[tuple[type[EditorMessage], ...]] = (
    BufferChanged,
    CursorMoved,
    FileModified,
    ViewClosed,
)
_BY_TYPE: Final = {c.TYPE: c for c in EDITOR_OPERATIONS + EDITOR_EVENTS}

EDITOR_REGISTRY: Final = MessageRegistry([c.SCHEMA for c in EDITOR_OPERATIONS + EDITOR_EVENTS])
"""Every editor message schema, by (type, version)."""


def parse(type_: str, payload: Any, version: int = 1) -> EditorMessage:
    """The typed editor message for ``(type_, version)`` with ``payload``.

    Raises:
        UnknownMessageType: not an editor message type/version.
        MessageValidationError: the payload breaks its schema (every violation listed).
    """
    EDITOR_REGISTRY.get(type_, version)
    return _BY_TYPE[type_].from_payload(payload)


def parse_message(msg: Message) -> EditorMessage:
    """:func:`parse` applied to an envelope."""
    return parse(msg.type, msg.payload, msg.version)
