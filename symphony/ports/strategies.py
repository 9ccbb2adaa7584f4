"""Hypothesis strategies for every port domain type (imports hypothesis: for tests only).

``STRATEGIES[cls]`` draws valid instances of ``cls``; every type in
:data:`symphony.ports.types.DOMAIN_TYPES` has one (a test checks), so codec round-trip
properties can cover every type — the MessagePack codec now, the bincode-style codec later.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from hypothesis import strategies as st

from symphony.commons.health import HealthStatus
from symphony.ports import types as t
from symphony.ports._record import INT64_MAX, INT64_MIN, Identifier, Plain, Record

__all__ = ["STRATEGIES", "identifiers", "plain", "plain_maps", "records"]

_I = TypeVar("_I", bound=Identifier)

plain: st.SearchStrategy[Plain] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(INT64_MIN, INT64_MAX)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.binary(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
"""Any plain value (finite floats, 64-bit ints, nested lists and str-keyed dicts)."""

plain_maps: st.SearchStrategy[dict[str, Plain]] = st.dictionaries(
    st.text(max_size=8), plain, max_size=4
)
"""A str-keyed mapping of plain values (the type of ``config``, ``inputs``, ``data`` …)."""

_names = st.text(min_size=1, max_size=16)
_small = st.integers(0, 2**31)
_finite = st.floats(allow_nan=False, allow_infinity=False)


def identifiers(cls: type[_I]) -> st.SearchStrategy[_I]:
    """Ids of one kind: non-empty text."""
    return _names.map(cls)


def _tuples(strategy: st.SearchStrategy[object], max_size: int = 4) -> st.SearchStrategy[object]:
    return st.lists(strategy, max_size=max_size).map(tuple)


def _ranges() -> st.SearchStrategy[t.TextRange]:
    return st.tuples(_small, _small).map(lambda p: t.TextRange(min(p), max(p)))


_ID_TYPES: tuple[type[Identifier], ...] = (
    t.BufferId,
    t.ProcessId,
    t.ExtensionId,
    t.ArtifactId,
    t.WorkflowId,
    t.NodeId,
    t.ExecutionId,
    t.EpisodeId,
    t.DecisionId,
    t.OrchestrationId,
    t.ConflictId,
    t.RecordId,
)

_S: dict[type[Record], st.SearchStrategy[object]] = {typ: identifiers(typ) for typ in _ID_TYPES}
_S[t.Revision] = st.integers(0, INT64_MAX).map(t.Revision)
_S[t.TextRange] = _ranges()
_S[t.TextEdit] = st.builds(t.TextEdit, _ranges(), st.text(max_size=8))
_S[t.BufferEvent] = st.builds(
    t.BufferEvent,
    _S[t.BufferId],
    st.sampled_from(t.BufferEventKind),
    _S[t.Revision],
    _tuples(_S[t.TextEdit]),
    st.none() | st.text(max_size=16),
)
_S[t.ModelSpec] = st.builds(t.ModelSpec, _names, st.none() | st.text(max_size=8), plain_maps)
_S[t.ModelHandle] = st.builds(t.ModelHandle, _names, _names, st.none() | st.text(max_size=8))
_S[t.ExtensionManifest] = st.builds(
    t.ExtensionManifest, _S[t.ExtensionId], _names, _names, st.sampled_from(t.ExtensionType)
)
_S[t.ExtensionRequest] = st.builds(t.ExtensionRequest, _names, plain)
_S[t.ExtensionResponse] = st.builds(t.ExtensionResponse, plain)
_S[t.ExtensionEvent] = st.builds(
    t.ExtensionEvent, _S[t.ExtensionId], st.sampled_from(t.ExtensionEventKind), plain
)
_S[t.FileChanged] = st.builds(t.FileChanged, st.text(), st.text())
_S[t.ProjectStructureChanged] = st.builds(t.ProjectStructureChanged, _tuples(st.text()))
_S[t.WorkspaceReload] = st.builds(t.WorkspaceReload, st.text())
_S[t.BufferUpdated] = st.builds(
    t.BufferUpdated, _S[t.BufferId], _S[t.Revision], st.none() | st.text()
)
_S[t.CursorMoved] = st.builds(t.CursorMoved, _S[t.BufferId], _small)
_S[t.FileModified] = st.builds(t.FileModified, st.text(), _finite)
_S[t.ViewClosed] = st.builds(t.ViewClosed, _S[t.BufferId])
_S[t.ProcessHealthCheck] = st.builds(
    t.ProcessHealthCheck, _S[t.ProcessId], st.sampled_from(HealthStatus)
)
_S[t.NodeRef] = st.builds(t.NodeRef, _S[t.WorkflowId], _S[t.NodeId])
_S[t.DagNode] = st.builds(
    t.DagNode,
    _S[t.WorkflowId],
    _S[t.NodeId],
    st.sampled_from(t.NodeKind),
    st.text(max_size=8),
    plain_maps,
    _tuples(_S[t.NodeId]),
)
_S[t.WorkflowSpec] = st.builds(
    t.WorkflowSpec, _S[t.WorkflowId], st.text(max_size=8), _tuples(_S[t.DagNode], 3)
)
_S[t.NodeResult] = st.builds(
    t.NodeResult,
    _S[t.WorkflowId],
    _S[t.NodeId],
    st.sampled_from(t.NodeStatus),
    plain_maps,
    _tuples(_S[t.ArtifactId]),
    st.none() | st.text(max_size=16),
)
_S[t.ArtifactMetadata] = st.builds(
    t.ArtifactMetadata, st.text(max_size=8), st.text(max_size=8), _tuples(st.text()), plain_maps
)
_S[t.Artifact] = st.builds(t.Artifact, _S[t.ArtifactId], st.binary(), _S[t.ArtifactMetadata])
_S[t.Claim] = st.builds(t.Claim, _names, st.integers(INT64_MIN, INT64_MAX), _finite)
_S[t.Conflict] = st.builds(t.Conflict, _S[t.ConflictId], st.text(), _tuples(_S[t.Claim]))
_S[t.Resolution] = st.builds(
    t.Resolution, _S[t.ConflictId], st.text(), _tuples(st.text()), st.text(max_size=8)
)
_S[t.DecisionContext] = st.builds(
    t.DecisionContext, _S[t.EpisodeId], st.text(), _tuples(st.text()), plain_maps
)
_S[t.Decision] = st.builds(
    t.Decision,
    _S[t.DecisionId],
    _S[t.EpisodeId],
    st.text(),
    st.floats(0.0, 1.0),
    st.text(max_size=16),
)
_S[t.Reward] = st.builds(t.Reward, _S[t.EpisodeId], _finite)
_S[t.PolicyContext] = st.builds(t.PolicyContext, _names, plain_maps)
_S[t.Policy] = st.builds(
    t.Policy,
    st.text(),
    _small,
    st.dictionaries(st.text(max_size=8), _finite, max_size=4),
    plain_maps,
)
_S[t.OrchestrationRequest] = st.builds(
    t.OrchestrationRequest,
    _S[t.OrchestrationId],
    st.text(),
    st.none() | _S[t.WorkflowSpec],
    plain_maps,
)
_S[t.OrchestrationResult] = st.builds(
    t.OrchestrationResult,
    _S[t.OrchestrationId],
    st.sampled_from(t.OrchestrationStatus),
    st.none() | _S[t.ExecutionId],
    _tuples(_S[t.Decision], 2),
    plain_maps,
    st.text(max_size=16),
)
_S[t.ConductorStatus] = st.builds(
    t.ConductorStatus, st.sampled_from(HealthStatus), _small, _small, _small, _small
)
_S[t.DataRecord] = st.builds(
    t.DataRecord, _names, _S[t.RecordId], st.integers(1, INT64_MAX), plain_maps
)
_S[t.DataQuery] = st.builds(t.DataQuery, _names, plain_maps, st.none() | _small, _small)
_S[t.QueryPage] = st.builds(t.QueryPage, _tuples(_S[t.DataRecord], 3), _small, st.none() | _small)
_S[t.ValidationFailure] = st.builds(t.ValidationFailure, st.text(), st.text(), st.text())
_S[t.ValidationResult] = st.builds(t.ValidationResult, st.text(), _tuples(_S[t.ValidationFailure]))

STRATEGIES: Mapping[type[Record], st.SearchStrategy[object]] = _S
"""Domain type → strategy drawing valid instances of it."""

records: st.SearchStrategy[object] = st.sampled_from(sorted(_S, key=lambda c: c.__name__)).flatmap(
    lambda cls: _S[cls]
)
"""Any domain value of any type."""
