"""PreValidationPort: fast, local, *technical* checks before anything leaves the process
(seed 002 M1.7/M1.8: "pre-validation traits for all domains", each check < 1 ms).

Pre-validation is advisory: it spares a round trip to the OFB service for data that is
obviously wrong (empty names, malformed versions); the authority still decides. The
contract (:func:`symphony.ports.testing.check_pre_validation_port`):

- ``kinds()`` lists the kinds of value the port knows (``"user"``, ``"workflow"`` …).
- ``validate(kind, data)`` returns a :class:`ValidationResult` for ``subject == kind`` that
  lists *every* failed rule, never just the first; the same input always gives the same
  result. Failures are results, not errors — ``result.raise_for_failures()`` turns them into
  a :class:`~symphony.commons.errors.PreValidationError`.
- An unknown kind → :class:`PortNotFound`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from symphony.ports.types import Plain, ValidationResult

__all__ = ["PreValidationPort"]


@runtime_checkable
class PreValidationPort(Protocol):
    """Local, every-failure pre-validation by kind (see the module docstring)."""

    async def kinds(self) -> tuple[str, ...]:
        """The kinds :meth:`validate` accepts."""
        ...

    async def validate(self, kind: str, data: Mapping[str, Plain]) -> ValidationResult:
        """Check ``data`` against every rule of ``kind``; report every failure."""
        ...
