"""symphony.protocol does no I/O and never imports trio."""

from __future__ import annotations

import subprocess
import sys


def test_protocol_never_imports_trio() -> None:
    code = (
        "import sys\n"
        "import symphony.protocol, symphony.protocol.editor, symphony.protocol.pretty\n"
        "print('trio' in sys.modules, 'asyncio' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
