"""The C embedding path (issue 11): examples/embed_c/ring_peer.c, built with the system
compiler against ``symphony.get_include()``, exchanges messages with this Python process
through two rings (every byte checked on both sides), and a ring of another version or layout
is refused with a clear message by the C program and by both Python twins."""

from __future__ import annotations

import importlib.util
import os
import shutil
import struct
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from conftest import Impl

import symphony
from symphony import _layout as L
from symphony.commons.errors import RingFormatError
from symphony.reference import ring as py_ring

ROOT = Path(symphony.__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "embed_c"
SHM = Path("/dev/shm")


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> str:
    cc = shutil.which("cc")
    assert cc is not None, "no system C compiler (cc) on PATH"
    out = tmp_path_factory.mktemp("embed_c") / "ring_peer"
    build = subprocess.run(
        [
            cc,
            "-O2",
            "-Wall",
            "-Wextra",
            "-Werror",
            f"-I{symphony.get_include()}",
            "-o",
            str(out),
            str(EXAMPLE / "ring_peer.c"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    return str(out)


@pytest.fixture(scope="module")
def exchange() -> ModuleType:
    spec = importlib.util.spec_from_file_location("embed_c_exchange", EXAMPLE / "exchange.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def names() -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for name in made:
        (SHM / name).unlink(missing_ok=True)
    left = [p.name for p in SHM.iterdir() if p.name.startswith(f"syembed-{os.getpid()}-")]
    assert left == [], f"segments left behind: {left}"


@pytest.mark.cython
def test_c_and_python_exchange_every_byte_both_ways(peer: str, exchange: ModuleType) -> None:
    exchange.run_exchange(peer, count=400, capacity=1 << 13)


def test_the_exchange_checker_catches_a_wrong_reply(exchange: ModuleType) -> None:
    req = exchange.request(7)
    rep = exchange.expected_reply(req)
    assert rep != req and len(rep) == len(req)
    assert exchange.expected_reply(req[:8]) == req[:8]  # an empty body stays empty


def _corrupt_copy(names: list[str], edit: str) -> str:
    """A valid ring's bytes, copied under a new name with one header field changed."""
    good = f"syembed-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    bad = good + "-bad"
    names += [good, bad]
    r = py_ring.Ring.create(good, 256)
    try:
        r.push(b"hello")
        data = bytearray((SHM / good).read_bytes())
    finally:
        r.close()
    if edit == "version":
        struct.pack_into("<I", data, L.RING_OFF_VERSION, L.RING_VERSION + 1)
    else:  # layout: the capacity no longer matches the data offset and segment size
        struct.pack_into("<Q", data, L.RING_OFF_CAPACITY, 1024)
    (SHM / bad).write_bytes(bytes(data))
    return bad


@pytest.mark.parametrize(
    ("edit", "c_says", "py_says"),
    [
        (
            "version",
            f"format version {L.RING_VERSION + 1}, this program was built for version "
            f"{L.RING_VERSION}",
            "unsupported ring version",
        ),
        ("layout", "layout mismatch", "inconsistent geometry"),
    ],
)
def test_a_mismatch_is_refused_on_both_sides(
    peer: str, names: list[str], edit: str, c_says: str, py_says: str, impl: Impl
) -> None:
    bad = _corrupt_copy(names, edit)
    run = subprocess.run(
        [peer, bad, bad, "1"], capture_output=True, text=True, timeout=30, check=False
    )
    assert run.returncode == 2, (run.returncode, run.stderr)
    assert f"refusing ring '{bad}'" in run.stderr and c_says in run.stderr, run.stderr
    with pytest.raises(RingFormatError, match=py_says) as info:
        impl.load("ring").Ring.attach(bad)
    assert bad in str(info.value)
