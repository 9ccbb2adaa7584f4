"""Test facade: every kernel test runs against both implementations.

The ``impl`` fixture is parametrized over the Cython kernels (``symphony._core``, marked
``cython``) and the pure-Python twins (``symphony.reference``). ``--no-cython`` deselects the
Cython items; without it a missing build makes them *error*, never skip.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from types import ModuleType

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "deep", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile(os.environ.get("SYMPHONY_HYPOTHESIS_PROFILE", "ci"))


@dataclass(frozen=True)
class Impl:
    """One kernel implementation, as the tests see it."""

    name: str  # "cython" | "python": the test id
    package: str  # "symphony._core" | "symphony.reference"

    def load(self, kernel: str) -> ModuleType:
        return importlib.import_module(f"{self.package}.{kernel}")

    def __str__(self) -> str:
        return self.name


CYTHON = Impl("cython", "symphony._core")
PYTHON = Impl("python", "symphony.reference")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-cython",
        action="store_true",
        default=False,
        help="deselect tests of the compiled Cython kernels",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--no-cython"):
        return
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker("cython") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(
    scope="session",
    ids=str,
    params=(pytest.param(CYTHON, marks=pytest.mark.cython), PYTHON),
)
def impl(request: pytest.FixtureRequest) -> Impl:
    """The implementation under test; every kernel fixture derives from it."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def checksum_mod(impl: Impl) -> ModuleType:
    return impl.load("checksum")
