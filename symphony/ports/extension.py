"""ExtensionPort: loading, calling and listening to extensions (seed 001 M1.1.1, 004 M1.1).

The contract (:func:`symphony.ports.testing.check_extension_port`):

- ``load(manifest)`` starts the extension and returns ``manifest.id``; loading an id that is
  already loaded → :class:`PortConflict`. ``unload`` stops it; its id becomes unknown.
- ``invoke`` sends a request and returns the extension's response. An unknown extension, or
  a method the extension does not have → :class:`PortNotFound`; an error inside the
  extension → :class:`PortError` carrying its message.
- ``events(id)`` is an async context manager yielding the extension's events in order;
  ``unload`` delivers a final ``UNLOADED`` event and ends the iteration. A subscriber that
  falls too far behind gets its buffered events, then :class:`PortConflict`.
- An unknown extension id anywhere → :class:`PortNotFound`.

The contract suite drives a *contract extension* that every adapter's test fixture must be
able to load: method ``"echo"`` answers with its params, ``"emit"`` publishes a
``NOTIFICATION`` event whose payload is its params and answers ``None``, and ``"fail"``
raises an error inside the extension whose message is its params (a str).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol, runtime_checkable

from symphony.ports.types import (
    ExtensionEvent,
    ExtensionId,
    ExtensionManifest,
    ExtensionRequest,
    ExtensionResponse,
)

__all__ = ["ExtensionPort"]


@runtime_checkable
class ExtensionPort(Protocol):
    """Extension lifecycle and communication (see the module docstring)."""

    async def load(self, manifest: ExtensionManifest) -> ExtensionId:
        """Load and start the extension; return its id."""
        ...

    async def unload(self, extension_id: ExtensionId) -> None:
        """Stop the extension; subscribers get ``UNLOADED`` and their iteration ends."""
        ...

    async def invoke(
        self, extension_id: ExtensionId, request: ExtensionRequest
    ) -> ExtensionResponse:
        """Call a method of a loaded extension."""
        ...

    def events(
        self, extension_id: ExtensionId
    ) -> AbstractAsyncContextManager[AsyncIterator[ExtensionEvent]]:
        """Events of one extension: ``async with port.events(x) as evs: async for …``.

        Entering raises :class:`PortNotFound` for an unknown extension.
        """
        ...
