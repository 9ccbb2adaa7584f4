"""DataAccessPort: persistent user data through the OFB service (seed 002 M1.7/M1.8).

Two layers: fast local pre-validation (:mod:`symphony.ports.prevalidation`) before the call,
authoritative validation, RBAC and persistence in the OFB service behind this port — exactly
one request to it per operation. The contract
(:func:`symphony.ports.testing.check_data_access_port`):

- ``create`` stores data in a collection and returns the record with a new id and
  ``version == 1``; ``get`` returns it; ``update`` replaces its data and increments the
  version (with ``expected_version``, a different current version → :class:`PortConflict`);
  ``delete`` removes it.
- ``query`` returns the records whose top-level fields equal every ``where`` entry (same type
  and value: ``1`` does not match ``True`` or ``1.0``), in creation order, after ``offset``,
  at most ``limit``; ``total`` counts every match and ``next_offset`` is where the next page
  starts (``None`` on the last page).
- An unknown collection or record id → :class:`PortNotFound`. Data the authority refuses →
  :class:`~symphony.commons.errors.AuthoritativeValidationError` (final; not a
  :class:`PortError`), and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from symphony.ports.types import DataQuery, DataRecord, Plain, QueryPage, RecordId

__all__ = ["DataAccessPort"]


@runtime_checkable
class DataAccessPort(Protocol):
    """Create, read, update, delete and query records (see the module docstring)."""

    async def create(self, collection: str, data: Mapping[str, Plain]) -> DataRecord:
        """Store a new record."""
        ...

    async def get(self, collection: str, record_id: RecordId) -> DataRecord:
        """Fetch one record."""
        ...

    async def update(
        self,
        collection: str,
        record_id: RecordId,
        data: Mapping[str, Plain],
        *,
        expected_version: int | None = None,
    ) -> DataRecord:
        """Replace a record's data; return it with its new version."""
        ...

    async def delete(self, collection: str, record_id: RecordId) -> None:
        """Remove a record."""
        ...

    async def query(self, query: DataQuery) -> QueryPage:
        """Find records by equality on top-level fields, one page at a time."""
        ...
