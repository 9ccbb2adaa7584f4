"""The ports package is interfaces and plain types: importing it pulls in no trio."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_ports_imports_no_trio_or_third_party_module() -> None:
    code = (
        "import sys\n"
        "import symphony.ports, symphony.ports.types\n"
        "import symphony.ports.text_editing, symphony.ports.pit, symphony.ports.extension\n"
        "import symphony.ports.conductor, symphony.ports.data_access\n"
        "import symphony.ports.prevalidation, symphony.commons.health\n"
        "heavy = {'trio', 'msgpack', 'hypothesis', 'numpy', 'pytest'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_protocols_are_runtime_checkable() -> None:
    import symphony.ports as p
    from symphony.ports import mocks

    pairs = [
        (p.TextEditingPort, mocks.MockTextEditingPort()),
        (p.PitPort, mocks.MockPitPort()),
        (p.ExtensionPort, mocks.MockExtensionPort()),
        (p.ConductorPort, mocks.MockConductorPort()),
        (p.DataAccessPort, mocks.MockDataAccessPort()),
        (p.PreValidationPort, mocks.MockPreValidationPort()),
    ]
    for protocol, mock in pairs:
        assert isinstance(mock, protocol)
        others = [q for q, _ in pairs if q is not protocol]
        assert not all(isinstance(mock, q) for q in others)
