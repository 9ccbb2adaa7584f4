"""Every port's contract suite, run against its mock adapter.

Each suite runs twice: on the real trio clock, and on ``MockClock(autojump_threshold=0)``
with latency injected into every call (the mocks must honour the contract when slow too).
"""

from __future__ import annotations

import pytest
import trio
import trio.testing

from symphony.ports import mocks, testing

SLOW = mocks.FaultPlan(latency=0.25, method_latency={"get_content": 1.5})


@pytest.fixture(params=["real-clock", "slow-autojump"])
def clock(request: pytest.FixtureRequest) -> trio.testing.MockClock | None:
    """pytest-trio runs a test on the Clock found among its arguments (none: the real one)."""
    return trio.testing.MockClock(autojump_threshold=0) if request.param != "real-clock" else None


@pytest.fixture
def faults(clock: trio.testing.MockClock | None) -> mocks.FaultPlan | None:
    return SLOW if clock is not None else None


async def test_text_editing_contract(
    clock: trio.testing.MockClock | None, faults: mocks.FaultPlan | None
) -> None:
    await testing.check_text_editing_port(lambda: mocks.MockTextEditingPort(faults=faults))


async def test_pit_contract(
    clock: trio.testing.MockClock | None, faults: mocks.FaultPlan | None
) -> None:
    await testing.check_pit_port(lambda: mocks.MockPitPort(faults=faults))


async def test_extension_contract(
    clock: trio.testing.MockClock | None, faults: mocks.FaultPlan | None
) -> None:
    await testing.check_extension_port(lambda: mocks.MockExtensionPort(faults=faults))


async def test_conductor_contract(
    clock: trio.testing.MockClock | None, faults: mocks.FaultPlan | None
) -> None:
    await testing.check_conductor_port(lambda: mocks.MockConductorPort(faults=faults))


async def test_data_access_contract(
    clock: trio.testing.MockClock | None, faults: mocks.FaultPlan | None
) -> None:
    await testing.check_data_access_port(lambda: mocks.MockDataAccessPort(faults=faults))


async def test_pre_validation_contract(
    clock: trio.testing.MockClock | None, faults: mocks.FaultPlan | None
) -> None:
    await testing.check_pre_validation_port(lambda: mocks.MockPreValidationPort(faults=faults))


async def test_mock_classes_are_port_factories() -> None:
    # The classes themselves are `make_port` callables (async context managers).
    await testing.check_pit_port(mocks.MockPitPort)
    await testing.check_pre_validation_port(mocks.MockPreValidationPort)
