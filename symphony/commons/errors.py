"""One exception tree for all of Symphony.

Every exception Symphony raises on purpose derives from :class:`SymphonyError`. Errors from
the standard library or a third-party package that would cross a public API are translated at
the layer boundary (see :func:`map_exceptions`) into a subclass, with ``__cause__`` set.

Each class has a :attr:`SymphonyError.category` (``"validation"``, ``"kernel"``, …) so that
callers can route errors without ``isinstance`` ladders, and messages name the offending value
and where it was (``"frame length 9000 exceeds max_frame=4096 at offset 12"``).

Context travels up with the error (the seed's ``ResultContext``)::

    with error_context(f"loading workflow {path}"):
        load(path)

adds ``"while loading workflow …"`` to any :class:`SymphonyError` passing through, and
``str(err)`` shows the whole chain, innermost first.

Both kernel twins (``symphony._core`` and ``symphony.reference``) raise the classes defined
here, so that tests can compare the error *class* each raises.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import ClassVar, Self

__all__ = [
    "AllocError",
    "AllocRequestError",
    "ArbitrationError",
    "ArenaClosed",
    "ArenaExhausted",
    "ArenaFormatError",
    "ArtifactConflict",
    "ArtifactCorrupt",
    "ArtifactKeyError",
    "ArtifactNotFound",
    "ArtifactTooLarge",
    "AuthoritativeValidationError",
    "BusError",
    "ChunkerError",
    "CodecError",
    "ConfigError",
    "ConnectionClosed",
    "CycleError",
    "DoubleFree",
    "EndpointExists",
    "EndpointNotFound",
    "FileTooLarge",
    "FrameTooLarge",
    "GraphError",
    "HandlerError",
    "IncompatibleSchema",
    "InvalidFrame",
    "InvalidGraph",
    "InvalidStateTransition",
    "JsonRpcError",
    "KernelError",
    "LocalProtocolError",
    "MessageTooLarge",
    "MessageValidationError",
    "ModelFailed",
    "ModelLoadError",
    "ModelNotFound",
    "ModelNotReady",
    "NoRoute",
    "NotFoundError",
    "PathEscapeError",
    "PitError",
    "PoolExhausted",
    "PoolMemoryExhausted",
    "PortConflict",
    "PortError",
    "PortInvalidRequest",
    "PortNotFound",
    "PortTimeout",
    "PortUnavailable",
    "PreValidationError",
    "ProtocolError",
    "RemoteProtocolError",
    "RequestTimeout",
    "RingClosed",
    "RingError",
    "RingFormatError",
    "RingFull",
    "SerializationError",
    "StaleHandle",
    "StaleSafetyError",
    "StorageError",
    "StorageNotFound",
    "SubscriberDisconnected",
    "SymphonyError",
    "SymphonyTimeout",
    "TrackerError",
    "TransportError",
    "UnknownMessageType",
    "ValidationError",
    "WorkflowValidationError",
    "error_context",
    "map_exceptions",
]


class SymphonyError(Exception):
    """Root of every error Symphony raises on purpose.

    Args:
        message: what went wrong, naming the offending value and where it was.
        details: optional structured data (machine-readable), e.g. ``{"path": "a/b"}``.
    """

    category: ClassVar[str] = "internal"
    """Coarse routing key: validation, pre-validation, authoritative, io, serialization,
    protocol, transport, kernel, port, config, timeout or internal."""

    def __init__(self, message: str = "", *, details: Mapping[str, object] | None = None):
        super().__init__(message)
        self.message = message
        self.details: dict[str, object] = dict(details or {})
        self.context: list[str] = []
        """Context added on the way up, innermost first."""

    def with_context(self, what: str) -> Self:
        """Record that the error happened *while* doing ``what``; returns ``self``."""
        self.context.append(what)
        return self

    def __str__(self) -> str:
        base = self.message
        for what in self.context:
            base = f"{base} (while {what})"
        return base

    def __reduce__(self) -> tuple[object, ...]:
        # Keep message, details, context and subclass attributes across pickling (worker
        # processes): rebuild without calling __init__, whose signature varies by subclass.
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(
    cls: type[SymphonyError], args: tuple[object, ...], state: dict[str, object]
) -> SymphonyError:
    err = cls.__new__(cls, *args)
    err.args = args
    err.__dict__.update(state)
    return err


# --------------------------------------------------------------------------- validation
class ValidationError(SymphonyError, ValueError):
    """Input that does not satisfy a rule. Also a ``ValueError``."""

    category = "validation"


class PreValidationError(ValidationError):
    """A fast, local check failed (seconds-before-the-network feedback; not authoritative).

    ``failures`` lists every failed rule as ``(field, message)``.
    """

    category = "pre-validation"

    def __init__(
        self,
        message: str = "",
        *,
        failures: list[tuple[str, str]] | None = None,
        details: Mapping[str, object] | None = None,
    ):
        super().__init__(message, details=details)
        self.failures: list[tuple[str, str]] = list(failures or [])


class AuthoritativeValidationError(ValidationError):
    """The authoritative service (OFB) refused the data. Its verdict is final."""

    category = "authoritative"


class ConfigError(ValidationError):
    """A configuration file or environment override is wrong (names file, key, type, value)."""

    category = "config"


class PathEscapeError(ValidationError):
    """A path would resolve outside the root it must stay in (``..``, symlink, absolute)."""


class InvalidStateTransition(ValidationError):
    """A state machine was asked for a transition its table does not allow."""


# --------------------------------------------------------------------------- storage / io
class StorageError(SymphonyError, OSError):
    """Reading or writing persistent data failed. Also an ``OSError``."""

    category = "io"

    def __init__(self, message: str = "", *, details: Mapping[str, object] | None = None):
        SymphonyError.__init__(self, message, details=details)


class NotFoundError(SymphonyError, LookupError):
    """A named thing (file, artifact, endpoint, template …) does not exist."""

    category = "not-found"


# --------------------------------------------------------------------------- serialization
class SerializationError(SymphonyError, ValueError):
    """A value could not be encoded or decoded."""

    category = "serialization"


class CodecError(SerializationError):
    """A codec met bytes or a value outside its format."""


# --------------------------------------------------------------------------- protocol
class ProtocolError(SymphonyError):
    """A protocol rule was broken. ``code`` is the matching JSON-RPC error code."""

    category = "protocol"
    code: ClassVar[int] = -32600


class LocalProtocolError(ProtocolError):
    """We misused the protocol (h11's distinction): a bug on this side."""


class RemoteProtocolError(ProtocolError):
    """The peer broke the protocol: bad bytes, wrong order, oversize."""


class InvalidFrame(RemoteProtocolError, ValueError):
    """A frame could not be decoded. Also a ``ValueError``."""

    code = -32700


class FrameTooLarge(InvalidFrame):
    """A length prefix claims more than the configured maximum (refused before allocating)."""


# --------------------------------------------------------------------------- transport
class TransportError(SymphonyError):
    """Moving bytes between processes failed."""

    category = "transport"


class ConnectionClosed(TransportError):
    """The other side is gone (closed, crashed, broken pipe)."""


class SymphonyTimeout(SymphonyError, TimeoutError):
    """An operation did not finish within its deadline."""

    category = "timeout"


# --------------------------------------------------------------------------- kernels
class KernelError(SymphonyError):
    """Raised by a kernel (both twins raise the same subclasses)."""

    category = "kernel"


class RingError(KernelError):
    """Shared-memory ring errors."""


class RingFormatError(RingError, ValueError):
    """A segment is missing, too small, or has a bad magic, version or size."""


class RingFull(RingError):
    """No room in the ring before the deadline."""


class RingClosed(RingError):
    """The ring was closed (locally, or by the peer)."""


class MessageTooLarge(KernelError, ValueError):
    """A message is larger than the ring (or the arena) can ever hold."""


class AllocError(KernelError):
    """Shared-arena allocator errors."""


class ArenaExhausted(AllocError):
    """No free block of the requested size class."""


class StaleHandle(AllocError, ValueError):
    """A handle whose generation no longer matches its block (already freed, or forged)."""


class DoubleFree(StaleHandle):
    """A handle was freed twice."""


class ArenaFormatError(AllocError, ValueError):
    """An arena segment is missing or already exists, a buffer is too small for it, its
    magic, version, size or tables are wrong, or create parameters give no valid layout."""


class ArenaClosed(AllocError):
    """The arena object was closed; its memory is no longer mapped in this process."""


class AllocRequestError(AllocError, ValueError):
    """A request no arena can ever serve: a negative size."""


class GraphError(KernelError, ValueError):
    """Bad input to a graph kernel."""


class InvalidGraph(GraphError):
    """Node ids out of range, negative, self-loops, mismatched array lengths …"""


class CycleError(GraphError):
    """The graph has a cycle; ``cycle`` is one concrete cycle as a node path.

    The path starts and ends at the same node: ``[a, b, c, a]``.
    """

    def __init__(self, message: str, cycle: list[int]):
        super().__init__(message, details={"cycle": list(cycle)})
        self.cycle: list[int] = list(cycle)


class TrackerError(GraphError):
    """Misuse of a ready tracker (node done twice, never ready, out of range)."""


class ChunkerError(KernelError, ValueError):
    """Bad chunker parameters or misuse of a streaming chunker."""


# --------------------------------------------------------------------------- ports
class PortError(SymphonyError):
    """An operation through one of the six ports failed."""

    category = "port"


class PortUnavailable(PortError):
    """The adapter behind a port cannot serve right now (down, restarting)."""


class PortTimeout(PortError, SymphonyTimeout):
    """A port operation exceeded its deadline."""

    category = "port"


class PortNotFound(PortError, NotFoundError):
    """A port was given an id it does not know: buffer, model handle, extension, artifact,
    record, episode, validation kind … (closed, released and unloaded ids included)."""

    category = "port"


class PortInvalidRequest(PortError, ValidationError):
    """The adapter refused a request as malformed in its current state: a range past the end
    of a buffer, undo with nothing to undo, a workflow with a cycle … Also a ``ValueError``."""

    category = "port"


class PortConflict(PortError):
    """The request raced another change: a stale base revision or expected version, an id
    already in use, or an event subscriber that fell too far behind and was dropped."""


# --------------------------------------------------------------------------- helpers
@contextlib.contextmanager
def error_context(what: str) -> Iterator[None]:
    """Add ``what`` as context to any :class:`SymphonyError` raised inside the block."""
    try:
        yield
    except SymphonyError as err:
        err.with_context(what)
        raise


@contextlib.contextmanager
def map_exceptions(
    mapping: Mapping[type[BaseException], type[SymphonyError]], what: str = ""
) -> Iterator[None]:
    """Translate foreign exceptions at a layer boundary (httpcore's ``map_exceptions``).

    The first matching entry wins; the original becomes ``__cause__``. Symphony's own errors
    pass through untouched.
    """
    try:
        yield
    except SymphonyError:
        raise
    except Exception as exc:
        for source, target in mapping.items():
            if isinstance(exc, source):
                prefix = f"{what}: " if what else ""
                raise target(f"{prefix}{type(exc).__name__}: {exc}") from exc
        raise


# --------------------------------------------------------------------------- appended: fs
class FileTooLarge(StorageError):
    """A file is larger than the limit a bounded read allows (refused before reading it all)."""


class StorageNotFound(StorageError, NotFoundError):
    """A file or directory that must exist does not. Both a ``StorageError`` and a
    ``NotFoundError`` (so also an ``OSError`` and a ``LookupError``)."""

    category = "io"


# --------------------------------------------------------------------------- appended: protocol
class MessageValidationError(RemoteProtocolError, ValidationError):
    """A message (or payload) does not satisfy its schema.

    ``violations`` lists *every* failed rule as ``(path, message)``, where ``path`` is a
    JSON-pointer-like string (``"/payload/range/0"``; ``""`` is the value itself).
    """

    category = "protocol"
    code = -32602

    def __init__(
        self,
        message: str = "",
        *,
        violations: list[tuple[str, str]] | None = None,
        details: Mapping[str, object] | None = None,
    ):
        super().__init__(message, details=details)
        self.violations: list[tuple[str, str]] = list(violations or [])

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_violation, (type(self), self.message, self.violations, self.context))


def _rebuild_violation(
    cls: type[MessageValidationError],
    message: str,
    violations: list[tuple[str, str]],
    context: list[str],
) -> MessageValidationError:
    err = cls(message, violations=violations)
    err.context = context
    return err


class UnknownMessageType(ProtocolError, NotFoundError):
    """No schema is registered for a message ``(type, version)``."""

    category = "protocol"
    code = -32601


class IncompatibleSchema(LocalProtocolError):
    """A new schema version breaks backward compatibility with the previous one."""


class JsonRpcError(ProtocolError):
    """A JSON-RPC error object: raised by a handler to answer with it, or by a client when the
    peer answered a call with one. ``error_code``, ``message`` and ``data`` are the object's
    ``code``, ``message`` and ``data`` members (default code -32000, a server error)."""

    def __init__(
        self,
        message: str = "",
        *,
        error_code: int = -32000,
        data: object = None,
        details: Mapping[str, object] | None = None,
    ):
        super().__init__(message, details=details)
        self.error_code = error_code
        self.data = data

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_jsonrpc_error,
            (type(self), self.message, self.error_code, self.data, self.context),
        )


def _rebuild_jsonrpc_error(
    cls: type[JsonRpcError], message: str, error_code: int, data: object, context: list[str]
) -> JsonRpcError:
    err = cls(message, error_code=error_code, data=data)
    err.context = context
    return err


# --------------------------------------------------------------------------- workflows
class WorkflowValidationError(ValidationError):
    """A workflow (or template instantiation) is invalid; ``problems`` lists every problem.

    Each problem names its node and/or edge (see ``symphony.workflow.validate.Problem``);
    the message summarises them, one per line.
    """

    def __init__(
        self,
        message: str = "",
        *,
        problems: list[object] | None = None,
        details: Mapping[str, object] | None = None,
    ):
        super().__init__(message, details=details)
        self.problems: list[object] = list(problems or [])


# --------------------------------------------------------------------------- appended: artifacts
class ArtifactNotFound(NotFoundError):
    """No artifact (or name, or version of a name) matches the reference given."""

    category = "not-found"


class ArtifactCorrupt(StorageError):
    """Stored artifact data failed a check (hash, authentication tag, pack record framing):
    the data is refused, never returned."""


class ArtifactKeyError(SymphonyError):
    """The encryption key is missing, malformed, or not the key the store was created with."""

    category = "config"


class ArtifactConflict(SymphonyError):
    """A write raced another one: the expected version of a name was not the current one, or
    a chunk it relied on was collected meanwhile. Nothing was written; retrying is safe."""

    category = "io"


class ArtifactTooLarge(ValidationError):
    """An input exceeds the store's ``max_artifact_bytes`` (refused; nothing becomes visible)."""


# ------------------------------------------------------------------- transport + bus
class PoolExhausted(TransportError):
    """A connection pool is at ``max_size`` and no connection came back in time."""


class BusError(SymphonyError):
    """The message bus could not deliver, route or correlate a message."""

    category = "bus"


class NoRoute(BusError, LookupError):
    """No endpoint, route or default route matches the message (named in the message)."""


class EndpointExists(BusError):
    """An endpoint id is already registered on this bus."""


class EndpointNotFound(BusError, NotFoundError):
    """An endpoint id is not registered on this bus."""

    category = "bus"


class RequestTimeout(BusError, SymphonyTimeout):
    """A request got no response before its deadline (its pending entry is gone)."""

    category = "bus"


class HandlerError(BusError):
    """A handler raised while serving a request; the peer's error travels back as this."""


class SubscriberDisconnected(BusError):
    """A subscription with the ``disconnect`` policy fell behind and was closed by the bus."""


# ------------------------------------------------------------------- pit: pool, arbitration, stale
class PitError(SymphonyError):
    """Root of the Pit services' errors (pool manager, arbitration engine, stale manager)."""

    category = "pit"


class ModelNotFound(PitError, NotFoundError):
    """The pool has no model registered under this id."""

    category = "pit"


class ModelNotReady(PitError):
    """A non-waiting allocation found the model not hot (cold, warming, cooling or failed)."""


class ModelLoadError(PitError):
    """A model could not be loaded (missing file, bad weights, missing optional package)."""


class ModelFailed(PitError):
    """A loaded model stopped working (its host died or missed heartbeats) or gave up."""


class PoolMemoryExhausted(PitError):
    """The pool cannot make room for a model within its memory budget (all others in use)."""


class ArbitrationError(PitError, ValidationError):
    """A request or conflict the arbitration engine cannot accept (named in the message)."""

    category = "pit"


class StaleSafetyError(PitError):
    """The stale manager refused an action that would lose pinned or high-value data."""
