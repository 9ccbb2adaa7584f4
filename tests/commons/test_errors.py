"""symphony.commons.errors: the tree, context on the way up, translation at boundaries."""

from __future__ import annotations

import pickle

import pytest

from symphony.commons import errors as E


def test_every_exported_error_derives_from_symphony_error() -> None:
    for name in E.__all__:
        obj = getattr(E, name)
        if isinstance(obj, type):
            assert issubclass(obj, E.SymphonyError), name
            assert isinstance(obj.category, str)


def test_stdlib_compatible_bases() -> None:
    assert issubclass(E.ValidationError, ValueError)
    assert issubclass(E.StorageError, OSError)
    assert issubclass(E.StorageNotFound, E.StorageError)
    assert issubclass(E.StorageNotFound, LookupError)
    assert issubclass(E.FileTooLarge, E.StorageError)
    assert issubclass(E.PathEscapeError, E.ValidationError)
    assert issubclass(E.ConfigError, E.ValidationError)
    assert E.ConfigError.category == "config"
    assert E.PreValidationError.category == "pre-validation"


def test_with_context_and_error_context() -> None:
    with (
        pytest.raises(E.StorageError) as info,
        E.error_context("loading workflow w.json"),
        E.error_context("reading chunk 3"),
    ):
        raise E.StorageError("short read at offset 12", details={"offset": 12})
    err = info.value
    assert err.context == ["reading chunk 3", "loading workflow w.json"]
    assert str(err) == (
        "short read at offset 12 (while reading chunk 3) (while loading workflow w.json)"
    )
    assert err.details == {"offset": 12}
    assert E.SymphonyError("x").with_context("y").context == ["y"]


def test_error_context_ignores_foreign_errors() -> None:
    with pytest.raises(KeyError), E.error_context("ignored"):
        raise KeyError("k")


def test_map_exceptions() -> None:
    with (
        pytest.raises(E.StorageError, match=r"saving: FileNotFoundError: .*nope") as info,
        E.map_exceptions({OSError: E.StorageError}, "saving"),
    ):
        open("/nonexistent/nope")  # noqa: SIM115
    assert isinstance(info.value.__cause__, FileNotFoundError)
    own = E.CodecError("mine")
    with pytest.raises(E.CodecError) as passed, E.map_exceptions({Exception: E.StorageError}):
        raise own
    assert passed.value is own
    with pytest.raises(ZeroDivisionError), E.map_exceptions({OSError: E.StorageError}):
        _ = 1 / 0


def test_pickling_keeps_message_details_context() -> None:
    err = E.PreValidationError("2 failures", failures=[("a", "bad")], details={"k": 1})
    err.with_context("checking")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is E.PreValidationError
    assert (back.message, back.details, back.context) == ("2 failures", {"k": 1}, ["checking"])
    assert str(back) == "2 failures (while checking)"
    assert back.failures == [("a", "bad")]
    cyc = pickle.loads(pickle.dumps(E.CycleError("cycle", [1, 2, 1])))
    assert cyc.cycle == [1, 2, 1]
    nf = pickle.loads(pickle.dumps(E.StorageNotFound("gone")))
    assert isinstance(nf, E.StorageNotFound)
    assert str(nf) == "gone"
