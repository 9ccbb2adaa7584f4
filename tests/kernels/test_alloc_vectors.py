"""Golden vectors: the bytes of a small arena after a fixed sequence of operations.

Both twins must reproduce them exactly, so the twins cannot drift *together* away from the
documented format (docs/arena-format.md). Regenerate only on a format version bump:
``.venv/bin/python tests/kernels/test_alloc_vectors.py`` (writes with the reference twin).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

VECTORS = Path(__file__).parent / "vectors" / "alloc_golden.json"

SIZE = 2048
CLASSES = [64, 256]
# (op, argument); handles are referred to by the index of the alloc that returned them.
OPS: list[tuple[str, object]] = [
    ("alloc", 10), ("alloc", 64), ("alloc", 65), ("alloc", 200), ("alloc", 0),
    ("write", (0, "0123456789")), ("write", (2, "A" * 65)), ("write", (3, "xyz")),
    ("free", 1), ("alloc", 3), ("write", (5, "new")), ("free", 1), ("free", 0),
    ("free", 0), ("alloc", 256), ("alloc", 256), ("alloc", 256), ("alloc", 257), ("free", 3),
    ("alloc", 100), ("free", 99), ("view", 0), ("view", 5), ("alloc", -1),
]  # fmt: skip


def run(mod: ModuleType) -> tuple[bytearray, list[object]]:
    buf = bytearray(b"\xa5" * SIZE)  # payload bytes the allocator never writes stay 0xA5
    arena = mod.Arena.from_buffer(buf, create=True, size_classes=CLASSES)
    handles: list[int] = []
    results: list[object] = []
    for op, arg in OPS:
        try:
            if op == "alloc":
                h = arena.alloc(arg)
                handles.append(h)
                results.append(h)
            elif op == "free":
                assert isinstance(arg, int)
                arena.free(handles[arg] if arg < len(handles) else (1 << 32) | arg)
                results.append(None)
            elif op == "write":
                i, text = arg  # type: ignore[misc]
                v = arena.view(handles[i])
                v[: len(text)] = text.encode()
                results.append(len(text))
            else:
                assert isinstance(arg, int)
                results.append(bytes(arena.view(handles[arg])).hex())
        except Exception as exc:
            results.append(type(exc).__name__)
    results.append(arena.stats())
    return buf, results


def test_both_twins_reproduce_the_golden_bytes(impl: object) -> None:
    mod = impl.load("alloc")  # type: ignore[attr-defined]
    golden = json.loads(VECTORS.read_text())
    buf, results = run(mod)
    assert json.loads(json.dumps(results)) == golden["results"]
    assert hashlib.sha256(buf).hexdigest() == golden["sha256"]
    assert buf.hex() == golden["bytes"]


def test_golden_vectors_say_what_the_format_doc_says() -> None:
    """Spot checks of the golden bytes against the documented layout, written out by hand."""
    golden = bytes.fromhex(json.loads(VECTORS.read_text())["bytes"])
    assert golden[:8] == b"SYMARENA"
    assert int.from_bytes(golden[8:12], "little") == 1  # version
    assert int.from_bytes(golden[24:28], "little") == 2  # two classes
    # class 0: 64-byte blocks, 10 of them, first index 0; class 1: 256-byte, 3, first 10
    assert [int.from_bytes(golden[64 + 4 * k : 68 + 4 * k], "little") for k in range(3)] == [
        64,
        10,
        0,
    ]
    assert [int.from_bytes(golden[96 + 4 * k : 100 + 4 * k], "little") for k in range(3)] == [
        256,
        3,
        10,
    ]
    results = json.loads(VECTORS.read_text())["results"]
    assert results[0] == 1 << 32 | 0  # generation 1, block 0
    assert results[2] == 1 << 32 | 10  # 65 bytes: class 1, whose first block is 10
    assert results[9] == 3 << 32 | 1  # block 1 again after its free: generation 3
    assert results[11] == "StaleHandle"  # freeing block 1's old handle after its reuse
    assert results[12] is None and results[13] == "DoubleFree"
    assert results[14] == 1 << 32 | 12  # the last block of class 1 ...
    assert results[15] == results[16] == "ArenaExhausted"  # ... then it is exhausted
    assert results[17] == "MessageTooLarge"
    assert results[19] == 3 << 32 | 11  # block 11 freed (op 18) and reused
    assert results[22] == b"new".hex() and results[23] == "AllocRequestError"
    stats = results[24]
    assert stats["classes"][1]["failures"] == 2 and stats["failures"] == 2


@pytest.mark.parametrize(
    "module",
    [pytest.param("symphony._core.alloc", marks=pytest.mark.cython), "symphony.reference.alloc"],
)
def test_generator_is_deterministic(module: str) -> None:
    import importlib

    mod = importlib.import_module(module)
    assert run(mod)[0] == run(mod)[0]


if __name__ == "__main__":  # pragma: no cover - regenerates the vectors
    from symphony.reference import alloc as ref

    buf, results = run(ref)
    VECTORS.write_text(
        json.dumps(
            {
                "what": "arena after OPS in tests/kernels/test_alloc_vectors.py",
                "size": SIZE,
                "size_classes": CLASSES,
                "results": results,
                "sha256": hashlib.sha256(buf).hexdigest(),
                "bytes": buf.hex(),
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {VECTORS}", file=sys.stderr)
