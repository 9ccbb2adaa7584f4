"""symphony.commons: the lazy re-exports (the "lib.rs guide") and a light import."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import symphony.commons as commons


@pytest.mark.parametrize("name", commons.__all__)
def test_every_reexport_resolves_to_its_module(name: str) -> None:
    value = getattr(commons, name)
    module = importlib.import_module(f"symphony.commons.{commons._EXPORTS[name]}")
    assert value is getattr(module, name)
    assert name in dir(commons)


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = commons.nope


def test_importing_errors_stays_light() -> None:
    code = (
        "import sys, symphony.commons.errors\n"
        "heavy = [m for m in ('symphony.commons.config', 'symphony.commons.log', "
        "'symphony.commons.fs', 'platformdirs', 'tomllib', 'logging.handlers') "
        "if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
