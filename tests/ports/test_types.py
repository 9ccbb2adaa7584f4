"""Port domain types: plain-data round trips through every codec, and clear errors."""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable, Mapping
from dataclasses import FrozenInstanceError, dataclass, field

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from symphony.commons.errors import PreValidationError, SerializationError, ValidationError
from symphony.commons.health import HealthStatus
from symphony.ports import types as t
from symphony.ports._record import Plain, Record, check_plain
from symphony.ports.strategies import STRATEGIES, records
from symphony.protocol.codecs import CODEC_NAMES, get_codec


@dataclass(frozen=True)
class Codec:
    """A codec as the round-trip property sees it: plain data → bytes → plain data."""

    name: str
    encode: Callable[[Plain], bytes]
    decode: Callable[[bytes], object]

    def __str__(self) -> str:
        return self.name


def _msgpack_encode(value: Plain) -> bytes:
    out = msgpack.packb(value, use_bin_type=True)
    assert isinstance(out, bytes)
    return out


def _msgpack_decode(data: bytes) -> object:
    return msgpack.unpackb(data, raw=False)


def _wire(name: str) -> Codec:
    """A codec of the protocol layer (what actually carries payloads between processes)."""
    codec = get_codec(name)
    return Codec(f"wire-{name}", codec.encode_value, codec.decode_value)


# Raw MessagePack, plus each codec the protocol layer offers; a new codec is one more entry.
CODECS = [Codec("msgpack", _msgpack_encode, _msgpack_decode), *map(_wire, CODEC_NAMES)]


def _is_plain(value: object) -> bool:
    if value is None or type(value) in (bool, int, float, str, bytes):
        return True
    if type(value) is list:
        return all(_is_plain(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _is_plain(v) for k, v in value.items())
    return False


def test_every_domain_type_has_a_strategy() -> None:
    assert set(STRATEGIES) == set(t.DOMAIN_TYPES)
    assert len(t.DOMAIN_TYPES) >= 50


def test_every_domain_type_is_exported() -> None:
    names = {cls.__name__ for cls in t.DOMAIN_TYPES}
    assert names <= set(t.__all__)
    import symphony.ports

    assert names <= set(symphony.ports.__all__)


@pytest.mark.parametrize("cls", t.DOMAIN_TYPES, ids=lambda c: c.__name__)
@given(data=st.data())
def test_round_trip_through_every_codec(cls: type[Record], data: st.DataObject) -> None:
    value = data.draw(STRATEGIES[cls])
    assert type(value) is cls
    plain = value.to_dict()
    assert _is_plain(plain), plain
    for codec in CODECS:  # one drawn value through every codec: drawing is the costly part
        back = cls.from_dict(codec.decode(codec.encode(plain)))  # type: ignore[arg-type]
        assert type(back) is cls, codec
        assert back == value, codec
        assert back.to_dict() == plain, codec


@given(records)
def test_sync_event_base_dispatches_every_variant(value: object) -> None:
    if isinstance(value, t.SyncEvent):
        back = t.SyncEvent.from_dict(msgpack.unpackb(msgpack.packb(value.to_dict())))
        assert type(back) is type(value)
        assert back == value


@given(records)
def test_records_pickle(value: object) -> None:
    assert pickle.loads(pickle.dumps(value)) == value


# --------------------------------------------------------------------------- decoding errors
@pytest.mark.parametrize(
    ("cls", "data", "names"),
    [
        (t.ModelSpec, {}, "ModelSpec: missing field 'model_id'"),
        (t.ModelSpec, {"model_id": "m", "colour": 1}, "unknown field(s) 'colour'"),
        (t.ModelSpec, {"model_id": 7}, "ModelSpec.model_id: expected a str, found int 7"),
        (t.ModelSpec, {"model_id": "m", "config": []}, "ModelSpec.config: expected a dict"),
        (t.ModelSpec, {"model_id": "m", "config": {"x": {1}}}, "ModelSpec.config['x']"),
        (t.ModelSpec, {"model_id": "m", "config": {"x": math.nan}}, "is not finite"),
        (t.ModelSpec, {"model_id": "m", "config": {"x": 2**64}}, "64 signed bits"),
        (t.ModelSpec, {"model_id": "m", "config": {1: 2}}, "config key: expected a str"),
        (t.TextEdit, {"range": {"start": 0, "end": "1"}}, "TextEdit.range.end: expected an int"),
        (t.TextRange, {"start": True, "end": 1}, "TextRange.start: expected an int"),
        (
            t.BufferEvent,
            {"buffer_id": "b", "kind": "exploded", "revision": 1},
            "BufferEvent.kind: expected one of 'edited'",
        ),
        (t.BufferEvent, {"buffer_id": 3, "kind": "saved", "revision": 1}, "BufferEvent.buffer_id"),
        (t.BufferEvent, {"buffer_id": "", "kind": "saved", "revision": 1}, "non-empty"),
        (t.BufferEvent, {"buffer_id": "b", "kind": "saved", "revision": -1}, "Revision"),
        (t.WorkflowSpec, {"workflow_id": "w", "name": "n", "nodes": {}}, "expected a list"),
        (
            t.WorkflowSpec,
            {"workflow_id": "w", "name": "n", "nodes": [{"workflow_id": "w"}]},
            "WorkflowSpec.nodes[0]: missing field 'node_id'",
        ),
        (
            t.Decision,
            {"decision_id": "d", "episode_id": "e", "choice": "c", "confidence": "hi"},
            "finite float",
        ),
        (t.Artifact, {"artifact_id": "a", "content": "text"}, "Artifact.content: expected bytes"),
        (t.SyncEvent, {"kind": "no_such_event"}, "SyncEvent.kind: expected one of 'file_changed'"),
        (t.SyncEvent, {"path": "p"}, "SyncEvent.kind"),
        (t.FileChanged, {"kind": "view_closed", "buffer_id": "b"}, "FileChanged.kind"),
        (t.Revision, {"value": "3"}, "Revision.value: expected an int"),
        (t.BufferId, ["b"], "BufferId: expected a dict"),
    ],
)
def test_from_dict_names_the_bad_field(cls: type[Record], data: object, names: str) -> None:
    with pytest.raises((SerializationError, ValidationError)) as info:
        cls.from_dict(data)  # type: ignore[arg-type]
    assert names in str(info.value)


def test_decoding_errors_are_serialization_errors() -> None:
    with pytest.raises(SerializationError):
        t.ModelSpec.from_dict({"model_id": 1})
    with pytest.raises(SerializationError):  # an id that breaks its invariant, nested
        t.BufferEvent.from_dict({"buffer_id": "", "kind": "saved", "revision": 1})


def test_float_fields_accept_ints_from_codecs() -> None:
    reward = t.Reward.from_dict({"episode_id": "e", "value": 2})
    assert reward.value == 2.0 and type(reward.value) is float


def test_bytes_fields_accept_buffers() -> None:
    art = t.Artifact.from_dict({"artifact_id": "a", "content": bytearray(b"xy")})
    assert art.content == b"xy" and type(art.content) is bytes


# --------------------------------------------------------------------------- construction
@pytest.mark.parametrize(
    ("make", "names"),
    [
        (lambda: t.TextRange(3, 1), "start=3 end=1"),
        (lambda: t.TextRange(-1, 1), "start=-1"),
        (lambda: t.Revision(-1), "-1"),
        (lambda: t.BufferId(""), "BufferId must be a non-empty str"),
        (lambda: t.ModelSpec(""), "ModelSpec.model_id"),
        (lambda: t.Decision(t.DecisionId("d"), t.EpisodeId("e"), "c", 1.5), "1.5"),
        (lambda: t.DataRecord("c", t.RecordId("r"), 0), "DataRecord.version"),
        (lambda: t.DataQuery("c", offset=-1), "DataQuery.offset"),
        (lambda: t.DataQuery("c", limit=-2), "DataQuery.limit"),
        (lambda: t.CursorMoved(t.BufferId("b"), -4), "CursorMoved.offset"),
        (lambda: t.ModelSpec("m", config={"s": {1, 2}}), "ModelSpec.config['s']"),  # type: ignore[dict-item]
        (lambda: t.ModelSpec("m", config={"x": math.inf}), "ModelSpec.config['x']"),
        (lambda: t.ExtensionRequest("m", object()), "ExtensionRequest.params"),  # type: ignore[arg-type]
        (lambda: t.WorkflowSpec(t.WorkflowId("w"), "n", 5), "WorkflowSpec.nodes"),  # type: ignore[arg-type]
        (lambda: t.Policy("p", 0, preferences=[]), "Policy.preferences"),  # type: ignore[arg-type]
        (lambda: t.Policy("p", -1), "Policy.version"),
        (lambda: t.ConductorStatus(HealthStatus.HEALTHY, decisions_made=-1), "decisions_made"),
    ],
)
def test_invariants_are_checked_on_construction(make: Callable[[], object], names: str) -> None:
    with pytest.raises(ValidationError) as info:
        make()
    assert names in str(info.value)


def test_records_are_frozen_and_normalised() -> None:
    config: dict[str, Plain] = {"layers": [1, 2]}
    spec = t.ModelSpec("m", config=config)
    config["layers"] = []  # the record does not alias its caller's data
    assert spec.config == {"layers": [1, 2]}
    with pytest.raises(FrozenInstanceError):
        spec.model_id = "other"  # type: ignore[misc]
    wf = t.WorkflowSpec(t.WorkflowId("w"), "n", [])  # type: ignore[arg-type]
    assert wf.nodes == ()
    req = t.ExtensionRequest("m", (1, (2, b"x")))  # type: ignore[arg-type]
    assert req.params == [1, [2, b"x"]]
    assert check_plain({"a": (1,)}) == {"a": [1]}


def test_identifiers_are_distinct_types() -> None:
    assert t.BufferId("a") != t.ExtensionId("a")  # type: ignore[comparison-overlap]
    assert t.BufferId("a") == t.BufferId("a")
    assert len({t.BufferId("a"), t.BufferId("a"), t.BufferId("b")}) == 2
    assert sorted([t.NodeId("b"), t.NodeId("a")]) == [t.NodeId("a"), t.NodeId("b")]
    assert str(t.RecordId("r-1")) == "r-1"
    assert t.BufferId("a").to_dict() == {"value": "a"}
    assert t.Revision(4).next() == t.Revision(5) and int(t.Revision(4)) == 4
    assert t.Revision(1) < t.Revision(2)


def test_embedded_ids_are_bare_values() -> None:
    ev = t.BufferEvent(t.BufferId("b"), t.BufferEventKind.SAVED, t.Revision(3), path="/p")
    assert ev.to_dict() == {
        "buffer_id": "b",
        "kind": "saved",
        "revision": 3,
        "edits": [],
        "path": "/p",
    }
    assert t.ProcessHealthCheck(t.ProcessId("editor"), HealthStatus.DEGRADED).to_dict() == {
        "kind": "process_health_check",
        "process_id": "editor",
        "status": "degraded",
    }


def test_motif_is_an_alias_of_addon() -> None:
    assert t.ExtensionType("motif") is t.ExtensionType.ADDON
    assert t.ExtensionType("MOTIF") is t.ExtensionType.ADDON
    m = t.ExtensionManifest.from_dict(
        {"id": "x", "name": "X", "version": "1.0.0", "extension_type": "motif"}
    )
    assert m.extension_type is t.ExtensionType.ADDON
    with pytest.raises(ValueError, match="plugin"):
        t.ExtensionType("plugin")


def test_text_edit_helpers() -> None:
    assert t.TextEdit.insert(2, "x") == t.TextEdit(t.TextRange(2, 2), "x")
    assert t.TextEdit.delete(1, 4) == t.TextEdit(t.TextRange(1, 4), "")
    assert len(t.TextRange(1, 4)) == 3


def test_node_refs() -> None:
    node = t.DagNode(t.WorkflowId("w"), t.NodeId("n"), t.NodeKind.CONTROL)
    assert node.ref == t.NodeRef(t.WorkflowId("w"), t.NodeId("n"))
    result = t.NodeResult(t.WorkflowId("w"), t.NodeId("n"), t.NodeStatus.SKIPPED)
    assert result.ref == node.ref


def test_validation_result_raises_every_failure() -> None:
    ok = t.ValidationResult("user")
    assert ok.ok
    ok.raise_for_failures()
    bad = t.ValidationResult(
        "user",
        (t.ValidationFailure("name", "empty", "required"), t.ValidationFailure("age", "< 0")),
    )
    assert not bad.ok
    with pytest.raises(PreValidationError) as info:
        bad.raise_for_failures()
    assert info.value.failures == [("name", "empty"), ("age", "< 0")]
    assert "name: empty" in str(info.value) and "age: < 0" in str(info.value)


# --------------------------------------------------------------------------- the record machinery
@dataclass(frozen=True, slots=True)
class _Custom(Record):
    flag: bool
    items: tuple[Plain, ...] | None = None
    scores: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Unsupported(Record):
    value: set[int]


def test_a_new_record_type_gets_the_codec_for_free() -> None:
    value = _Custom(True, ([1, (2,)], "x"), {"a": 1.5})  # type: ignore[list-item]
    assert value.items == ([1, [2]], "x")
    plain = value.to_dict()
    assert plain == {"flag": True, "items": [[1, [2]], "x"], "scores": {"a": 1.5}}
    assert _Custom.from_dict(msgpack.unpackb(msgpack.packb(plain))) == value
    assert _Custom.from_dict({"flag": False}) == _Custom(False)
    with pytest.raises(SerializationError, match=r"_Custom.flag: expected a bool, found int 1"):
        _Custom.from_dict({"flag": 1})


def test_unsupported_field_types_fail_loudly_on_first_use() -> None:
    with pytest.raises(TypeError, match="unsupported field type"):
        _Unsupported({1})


def test_plain_limits() -> None:
    deep: object = 0
    for _ in range(70):
        deep = [deep]
    with pytest.raises(ValidationError, match="deeper than 64"):
        check_plain(deep)
    with pytest.raises(SerializationError, match="deeper than 64"):
        check_plain(deep, decoding=True)
    with pytest.raises(ValidationError, match=r"key 3 at value\['a'\] is a int"):
        check_plain({"a": {3: 1}})
    with pytest.raises(SerializationError, match=r"expected an int in signed 64 bits"):
        t.CursorMoved.from_dict({"kind": "cursor_moved", "buffer_id": "b", "offset": 2**63})
    with pytest.raises(SerializationError, match=r"found str 'xxxx.*\.\.\.$"):
        t.TextRange.from_dict({"start": "x" * 500, "end": 1})
