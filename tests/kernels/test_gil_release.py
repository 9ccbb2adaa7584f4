"""The Cython kernels release the GIL around long C loops — shown without timing.

With the interpreter's switch interval set huge, a thread holding the GIL keeps it until it
releases it *voluntarily*. A worker thread calls the kernel; the main thread counts loop
iterations until the worker is done. If the kernel held the GIL for the whole call, the main
thread could not run a single iteration before ``done`` is set, so the count is 0. Any
positive count proves the GIL was released inside the call. No clock is read.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from symphony._core import checksum, hashing, toposort

BIG = 32 * 1024 * 1024


@pytest.fixture
def no_preemption() -> Iterator[None]:
    old = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def _iterations_during(call: Callable[[], object]) -> int:
    started = threading.Event()
    done = threading.Event()

    def worker() -> None:
        started.set()
        try:
            call()
        finally:
            done.set()

    thread = threading.Thread(target=worker)
    thread.start()
    started.wait()
    count = 0
    while not done.is_set():
        count += 1
        time.sleep(0)  # let the worker take the GIL back when its C loop ends
    thread.join()
    return count


def test_the_probe_sees_a_gil_holder(no_preemption: None) -> None:
    # Control: pure-Python work never releases the GIL voluntarily, so the probe sees 0.
    assert _iterations_during(lambda: sum(range(3_000_000))) == 0


@pytest.mark.parametrize(
    ("name", "make_call"),
    [
        ("crc32c", lambda data: (lambda: checksum.crc32c(data))),
        ("cut_points", lambda data: (lambda: hashing.cut_points(data))),
        ("hash_chunks", lambda data: (lambda: hashing.hash_chunks(data))),
        ("sha256", lambda data: (lambda: hashing.sha256(data))),
    ],
)
def test_buffer_kernels_release_the_gil(
    no_preemption: None, name: str, make_call: Callable[[bytes], Callable[[], object]]
) -> None:
    data = np.random.default_rng(7).integers(0, 256, BIG, dtype=np.uint8).tobytes()
    assert _iterations_during(make_call(data)) > 0, name


def test_toposort_releases_the_gil(no_preemption: None) -> None:
    rng = np.random.default_rng(3)
    n, m = 1_000_000, 5_000_000
    a = rng.integers(0, n, m, dtype=np.int64)
    b = rng.integers(0, n, m, dtype=np.int64)
    keep = a != b
    src, dst = np.minimum(a, b)[keep], np.maximum(a, b)[keep]
    assert _iterations_during(lambda: toposort.Graph(n, src, dst).order()) > 0
