"""The [bus] and [transport] configuration sections."""

from __future__ import annotations

from pathlib import Path

import pytest

from symphony.bus import Bus
from symphony.bus.config import BusConfig, TransportConfig, bus_from_config
from symphony.commons.config import load_config
from symphony.commons.errors import ConfigError


def test_defaults_and_environment_overrides(tmp_path: Path) -> None:
    loaded = load_config(config_dir=tmp_path, environ={
        "SYMPHONY_BUS__HEARTBEAT_TIMEOUT": "0.05",
        "SYMPHONY_TRANSPORT__SHM_RING_CAPACITY": "4194304",
    })
    bus_cfg = loaded.config.section(BusConfig)
    assert bus_cfg.heartbeat_timeout == 0.05 and bus_cfg.workers == 1
    assert loaded.config.section(TransportConfig).shm_ring_capacity == 4194304
    bus = bus_from_config("b", bus_cfg)
    assert isinstance(bus, Bus) and bus.health.timeout == 0.05


def test_bad_values_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="workers"):
        load_config(config_dir=tmp_path, environ={"SYMPHONY_BUS__WORKERS": "0"})
