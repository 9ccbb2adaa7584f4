"""The error tree: one root, categories, context, translation at boundaries."""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil

import pytest

import symphony
from symphony.commons import errors
from symphony.commons.errors import (
    CycleError,
    InvalidFrame,
    PreValidationError,
    StorageError,
    SymphonyError,
    error_context,
    map_exceptions,
)


def _all_modules() -> list[str]:
    names = ["symphony"]
    for info in pkgutil.walk_packages(symphony.__path__, "symphony."):
        names.append(info.name)
    return names


def test_every_exception_symphony_defines_derives_from_symphony_error() -> None:
    offenders = []
    for name in _all_modules():
        if name.startswith("symphony.bench."):
            continue  # benchmark drivers define no public errors
        module = importlib.import_module(name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(obj, BaseException)
                and obj.__module__ == module.__name__
                and not issubclass(obj, SymphonyError)
            ):
                offenders.append(f"{name}.{obj.__qualname__}")
    assert offenders == []


def test_every_public_error_is_exported() -> None:
    defined = {
        n
        for n, obj in vars(errors).items()
        if inspect.isclass(obj) and issubclass(obj, SymphonyError)
    }
    assert defined <= set(errors.__all__)


@pytest.mark.parametrize("name", [n for n in errors.__all__ if n[0].isupper()])
def test_every_error_has_a_category_and_pickles(name: str) -> None:
    cls = getattr(errors, name)
    assert isinstance(cls.category, str) and cls.category
    err = CycleError("cycle 1 -> 2 -> 1", [1, 2, 1]) if cls is CycleError else cls("boom")
    err.with_context("testing")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls
    assert str(back) == str(err)


def test_context_chain_innermost_first() -> None:
    with pytest.raises(InvalidFrame) as info, error_context("reading the config"):
        with error_context("parsing line 3"):
            raise InvalidFrame("bad byte 0xff at offset 7")
    assert str(info.value) == (
        "bad byte 0xff at offset 7 (while parsing line 3) (while reading the config)"
    )
    assert info.value.context == ["parsing line 3", "reading the config"]


def test_error_context_leaves_foreign_errors_alone() -> None:
    with pytest.raises(KeyError), error_context("looking up"):
        raise KeyError("x")


def test_map_exceptions_translates_with_cause() -> None:
    with pytest.raises(StorageError) as info, map_exceptions({OSError: StorageError}, "open a"):
        raise FileNotFoundError(2, "No such file", "a")
    assert isinstance(info.value.__cause__, FileNotFoundError)
    assert "open a: FileNotFoundError" in str(info.value)
    assert isinstance(info.value, OSError)


def test_map_exceptions_passes_unmapped_and_own_errors() -> None:
    with pytest.raises(ZeroDivisionError), map_exceptions({OSError: StorageError}):
        _ = 1 / 0
    with pytest.raises(InvalidFrame), map_exceptions({ValueError: StorageError}):
        raise InvalidFrame("mine")


def test_prevalidation_error_carries_every_failure() -> None:
    err = PreValidationError("2 problems", failures=[("name", "empty"), ("age", "< 0")])
    assert err.failures == [("name", "empty"), ("age", "< 0")]
    assert err.category == "pre-validation"
    assert isinstance(err, ValueError)


def test_cycle_error_keeps_the_path() -> None:
    err = CycleError("cycle", [3, 4, 3])
    assert err.cycle == [3, 4, 3]
    assert err.details == {"cycle": [3, 4, 3]}
