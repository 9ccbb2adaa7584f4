"""Router: exact and glob routes, priorities, default route, route_all, cache invalidation."""

from __future__ import annotations

import fnmatch

import pytest
from hypothesis import given
from hypothesis import strategies as st

from symphony.bus import Router
from symphony.commons.errors import LocalProtocolError
from symphony.protocol import Message


def test_exact_glob_priority_default() -> None:
    r = Router()
    r.add_route("editor.insert", "editor")
    r.add_route("editor.*", "catchall-editor")
    r.add_route("fs.[rw]*", "fs")
    assert r.route("editor.insert") == "editor"  # exact beats glob at equal priority
    assert r.route("editor.delete") == "catchall-editor"
    assert r.route("fs.read") == "fs" and r.route("fs.write") == "fs"
    assert r.route("fs.stat") is None
    r.set_default("dead-letters")
    assert r.route("fs.stat") == "dead-letters"
    r.add_route("editor.*", "urgent", priority=5)
    assert r.route("editor.insert") == "urgent"  # priority beats exactness
    assert r.route_all("editor.insert") == ["urgent", "editor", "catchall-editor"]
    assert r.route_all("nothing") == ["dead-letters"]
    r.set_default(None)
    assert r.route_all("nothing") == []


def test_route_accepts_a_message() -> None:
    r = Router()
    r.add_route("a.b", "x")
    assert r.route(Message.new("a.b")) == "x"


def test_removal_invalidates_the_cache() -> None:
    r = Router()
    r.add_route("t", "one")
    r.add_route("t", "two")
    assert r.route("t") == "one"
    assert r.remove_route("t", "one") == 1
    assert r.route("t") == "two"
    r.add_route("t*", "glob")
    assert r.remove_endpoint("two") == 1
    assert r.route("t") == "glob"
    assert r.remove_route("t*") == 1
    assert r.route("t") is None and len(r) == 0


def test_exact_lookups_hit_the_cache() -> None:
    r = Router()
    for i in range(1000):
        r.add_route(f"type.{i}", f"ep{i}")
    for _ in range(3):
        for i in range(1000):
            assert r.route(f"type.{i}") == f"ep{i}"
    assert r.misses == 1000  # each key resolved once, then cached


def test_bad_routes() -> None:
    r = Router()
    with pytest.raises(LocalProtocolError, match="pattern"):
        r.add_route("", "x")
    with pytest.raises(LocalProtocolError, match="endpoint"):
        r.add_route("a", "")


names = st.sampled_from(["a", "b", "ab", "a.b", "b.a", "a.c", "abc"])
patterns = st.one_of(names, st.sampled_from(["a*", "*", "a.?", "[ab]*", "*.a"]))


@given(st.lists(st.tuples(patterns, st.integers(-2, 2)), max_size=12), names)
def test_matches_a_naive_model(routes: list[tuple[str, int]], key: str) -> None:
    r = Router()
    for i, (pattern, prio) in enumerate(routes):
        r.add_route(pattern, f"e{i}", prio)
    model = [
        (-prio, any(c in p for c in "*?["), i)
        for i, (p, prio) in enumerate(routes)
        if fnmatch.fnmatchcase(key, p)
    ]
    model.sort()
    expect = [f"e{i}" for _, _, i in model]
    assert r.route_all(key) == expect
    assert r.route(key) == (expect[0] if expect else None)
