"""Endpoint registry: register/unregister/lookup, capability index, events."""

from __future__ import annotations

import pytest

from symphony.bus import EndpointInfo, EndpointRegistry, RegistryEvent
from symphony.commons.errors import EndpointExists, EndpointNotFound, LocalProtocolError


def test_register_lookup_capabilities_and_events() -> None:
    reg = EndpointRegistry()
    events: list[RegistryEvent] = []
    remove = reg.on_change(events.append)
    a = reg.register("a", capabilities={"edit", "lint"})
    b = reg.register(EndpointInfo("b", "B", frozenset({"lint"})))
    assert a.registered_at > 0 and b.name == "B"
    assert reg.lookup("a") is a and reg.get("zz") is None
    assert [i.id for i in reg.find_by_capability("lint")] == ["a", "b"]
    assert [i.id for i in reg.find_by_capability("edit")] == ["a"]
    assert reg.find_by_capability("nothing") == []
    with pytest.raises(EndpointExists, match="'a'"):
        reg.register("a")
    assert reg.unregister("a") is a
    assert reg.unregister("a") is None
    assert [i.id for i in reg.find_by_capability("lint")] == ["b"]
    assert reg.find_by_capability("edit") == []
    with pytest.raises(EndpointNotFound, match="'a'"):
        reg.lookup("a")
    assert [(e.kind, e.info.id) for e in events] == [
        ("registered", "a"), ("registered", "b"), ("unregistered", "a")]
    remove()
    reg.register("c")
    assert len(events) == 3 and len(reg) == 2 and "c" in reg


def test_listener_errors_are_isolated() -> None:
    reg = EndpointRegistry()
    seen: list[str] = []

    def bad(_: RegistryEvent) -> None:
        raise RuntimeError("listener bug")

    reg.on_change(bad)
    reg.on_change(lambda e: seen.append(e.info.id))
    reg.register("x")
    assert seen == ["x"] and reg.listener_errors == 1


def test_bad_id() -> None:
    with pytest.raises(LocalProtocolError):
        EndpointRegistry().register("")
