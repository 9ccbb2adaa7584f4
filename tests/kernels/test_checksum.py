"""The checksum kernel, under both implementations."""

from __future__ import annotations

import array
import mmap
import zlib
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from symphony.reference import checksum as ref

# RFC 3720 appendix B.4 and the common check value.
VECTORS = [
    (b"", 0x00000000),
    (b"123456789", 0xE3069283),
    (bytes(32), 0x8A9136AA),
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
    (bytes(range(31, -1, -1)), 0x113FDB5C),
]


@pytest.mark.parametrize(("data", "expected"), VECTORS)
def test_known_vectors(checksum_mod: ModuleType, data: bytes, expected: int) -> None:
    assert checksum_mod.crc32c(data) == expected


def test_accepts_any_buffer(checksum_mod: ModuleType) -> None:
    data = b"123456789"
    with mmap.mmap(-1, len(data)) as m:
        m.write(data)
        assert checksum_mod.crc32c(m) == 0xE3069283
    assert checksum_mod.crc32c(bytearray(data)) == 0xE3069283
    assert checksum_mod.crc32c(memoryview(data)) == 0xE3069283
    ints = array.array("I", [1, 2, 3])
    assert checksum_mod.crc32c(ints) == checksum_mod.crc32c(ints.tobytes())
    assert checksum_mod.crc32c(np.arange(10, dtype=np.int64)) == checksum_mod.crc32c(
        np.arange(10, dtype=np.int64).tobytes()
    )


def test_large_buffer_releases_gil_path(checksum_mod: ModuleType) -> None:
    data = bytes(range(256)) * 1024  # 256 KiB: above the Cython nogil threshold
    assert checksum_mod.crc32c(data) == ref.crc32c(data)


def test_bad_input(checksum_mod: ModuleType) -> None:
    with pytest.raises(TypeError, match="str"):
        checksum_mod.crc32c("text")
    with pytest.raises(TypeError):
        checksum_mod.crc32c(12)
    with pytest.raises(BufferError):
        checksum_mod.crc32c(np.arange(10, dtype=np.uint8)[::2])
    with pytest.raises(ValueError, match="value"):
        checksum_mod.crc32c(b"x", -1)
    with pytest.raises(ValueError, match="value"):
        checksum_mod.crc32c(b"x", 2**32)


@given(st.binary(max_size=2000), st.binary(max_size=2000))
def test_continuation(checksum_mod: ModuleType, a: bytes, b: bytes) -> None:
    assert checksum_mod.crc32c(b, checksum_mod.crc32c(a)) == checksum_mod.crc32c(a + b)


def test_differs_from_zlib_crc32() -> None:
    # A guard against implementing the wrong polynomial in both twins at once.
    assert ref.crc32c(b"123456789") != zlib.crc32(b"123456789")


def test_noop(checksum_mod: ModuleType) -> None:
    assert checksum_mod.noop() is None
    assert isinstance(checksum_mod.uses_hardware(), bool)
