"""symphony.protocol does no I/O and never imports trio."""

from __future__ import annotations

import os
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


def test_bincode_uses_the_compiled_codec_kernel_by_default() -> None:
    code = "import symphony.protocol.bincode as b; print(b._codec.__name__)"
    env = {k: v for k, v in os.environ.items() if k != "SYMPHONY_PURE_PYTHON"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "symphony._core.codec"
    env["SYMPHONY_PURE_PYTHON"] = "1"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "symphony.reference.codec"
