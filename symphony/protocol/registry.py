"""The message registry: every message type's schemas, keyed by ``(type, version)``.

Lookup is one dict probe (O(1)). Registering a new version of a type checks that it is
*backward compatible* with the newest version already registered, i.e. that a reader of the
new version accepts every payload valid under the old one:

* every old field is still there, with the same type (``String``, ``array<integer>`` …);
* every new field is optional or has a default;
* an optional old field does not become required;
* a schema that accepted unknown keys keeps doing so.

(Tightened constraints — a smaller ``max_length`` — are not detected; avoid them, or bump
the type name.) :meth:`MessageRegistry.upgrade` fills the defaults of a newer version into
an older payload.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from symphony.commons.errors import (
    IncompatibleSchema,
    LocalProtocolError,
    MessageValidationError,
    UnknownMessageType,
)
from symphony.protocol.envelope import Message
from symphony.protocol.schema import MessageSchema, Violation

__all__ = ["MessageRegistry", "compatibility_problems"]


def compatibility_problems(old: MessageSchema, new: MessageSchema) -> list[str]:
    """Why a reader of ``new`` could reject a payload valid under ``old`` (``[]``: none)."""
    problems: list[str] = []
    new_fields = {f.name: f for f in new.fields}
    for f in old.fields:
        nf = new_fields.get(f.name)
        if nf is None:
            if not new.object.additional:
                problems.append(f"field {f.name!r} was removed")
            continue
        if nf.type.kind != f.type.kind:
            problems.append(f"field {f.name!r} changed type {f.type.kind} -> {nf.type.kind}")
        if nf.must_be_present and not f.must_be_present:
            problems.append(f"field {f.name!r} became required")
        if f.nullable and not nf.nullable:
            problems.append(f"field {f.name!r} is no longer nullable")
    old_names = {f.name for f in old.fields}
    for f in new.fields:
        if f.name not in old_names and f.must_be_present:
            problems.append(f"new field {f.name!r} is required and has no default")
    if old.object.additional and not new.object.additional:
        problems.append("unknown fields are no longer accepted")
    return problems


class MessageRegistry:
    """Schemas by ``(type, version)``; validates messages against theirs."""

    __slots__ = ("_latest", "_schemas")

    def __init__(self, schemas: Iterable[MessageSchema] = ()) -> None:
        self._schemas: dict[tuple[str, int], MessageSchema] = {}
        self._latest: dict[str, int] = {}
        for s in schemas:
            self.register(s)

    def register(self, schema: MessageSchema, *, check_compatible: bool = True) -> None:
        """Add ``schema``.

        Raises:
            LocalProtocolError: ``(type, version)`` is already registered.
            IncompatibleSchema: a newer version breaks backward compatibility with the newest
                older one (pass ``check_compatible=False`` to register it anyway).
        """
        key = (schema.type, schema.version)
        if key in self._schemas:
            raise LocalProtocolError(f"{schema.type} v{schema.version} is already registered")
        if check_compatible:
            older = [v for (t, v) in self._schemas if t == schema.type and v < schema.version]
            if older:
                prev = self._schemas[(schema.type, max(older))]
                problems = compatibility_problems(prev, schema)
                if problems:
                    raise IncompatibleSchema(
                        f"{schema.type} v{schema.version} is not backward compatible with "
                        f"v{prev.version}: " + "; ".join(problems)
                    )
        self._schemas[key] = schema
        if schema.version > self._latest.get(schema.type, -1):
            self._latest[schema.type] = schema.version

    def get(self, type_: str, version: int) -> MessageSchema:
        """The schema of ``(type_, version)``.

        Raises:
            UnknownMessageType: nothing registered under that key (says which versions of
                the type exist, if any).
        """
        try:
            return self._schemas[(type_, version)]
        except (KeyError, TypeError):
            raise self._unknown(type_, version) from None

    def find(self, type_: str, version: int) -> MessageSchema | None:
        """The schema of ``(type_, version)``, or ``None``."""
        try:
            return self._schemas.get((type_, version))
        except TypeError:
            return None

    def latest(self, type_: str) -> MessageSchema:
        """The newest version registered for ``type_``."""
        v = self._latest.get(type_)
        if v is None:
            raise UnknownMessageType(f"unknown message type {type_!r}")
        return self._schemas[(type_, v)]

    def versions(self, type_: str) -> list[int]:
        return sorted(v for (t, v) in self._schemas if t == type_)

    def list_types(self) -> list[str]:
        return sorted(self._latest)

    def __contains__(self, key: object) -> bool:
        try:
            return key in self._schemas
        except TypeError:
            return False

    def __len__(self) -> int:
        return len(self._schemas)

    def _unknown(self, type_: object, version: object) -> UnknownMessageType:
        known = self.versions(type_) if isinstance(type_, str) else []
        hint = f" (registered versions: {known})" if known else " (no such type)"
        return UnknownMessageType(f"unknown message {type_!r} v{version!r}{hint}")

    def violations(self, msg: Message) -> list[Violation]:
        """Every violation of ``msg``'s payload, with paths under ``/payload``.

        Raises:
            UnknownMessageType: no schema for ``(msg.type, msg.version)``.
        """
        schema = self.get(msg[4], msg[5])
        return [("/payload" + p, m) for p, m in schema.violations(msg[11])]

    def validate(self, msg: Message) -> None:
        """Validate ``msg``'s payload against the schema of its ``(type, version)``.

        Raises:
            UnknownMessageType: no schema registered for it.
            MessageValidationError: lists every violation (paths under ``/payload``).
        """
        schema = self._schemas.get((msg[4], msg[5])) if type(msg[4]) is str else None
        if schema is None:
            raise self._unknown(msg[4], msg[5])
        if schema.is_valid(msg[11]):
            return
        errors = [("/payload" + p, m) for p, m in schema.violations(msg[11])]
        summary = "; ".join(f"{p}: {m}" for p, m in errors[:5])
        raise MessageValidationError(
            f"{schema.type} v{schema.version}: {len(errors)} violation(s): {summary}",
            violations=errors,
        )

    def upgrade(
        self,
        type_: str,
        payload: Mapping[str, Any],
        from_version: int,
        to_version: int | None = None,
    ) -> dict[str, Any]:
        """``payload`` (valid under ``from_version``) as a payload of ``to_version`` (default:
        the newest): defaults of every version in between filled in."""
        self.get(type_, from_version)
        target = self._latest.get(type_) if to_version is None else to_version
        assert target is not None
        if target < from_version:
            raise LocalProtocolError(f"cannot upgrade {type_} from v{from_version} to v{target}")
        out = dict(payload)
        for v in self.versions(type_):
            if from_version < v <= target:
                out = self._schemas[(type_, v)].apply_defaults(out)
        return out
