"""The Cython checksum agrees with its twin on arbitrary input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from symphony._core import checksum as cy
from symphony.reference import checksum as py


@given(st.binary(max_size=5000), st.integers(0, 2**32 - 1))
def test_twins_agree(data: bytes, value: int) -> None:
    assert cy.crc32c(data, value) == py.crc32c(data, value)


@given(st.binary(min_size=1, max_size=300), st.integers(0, 7))
def test_twins_agree_unaligned(data: bytes, offset: int) -> None:
    view = memoryview(bytearray(8) + data)[offset:]
    assert cy.crc32c(view) == py.crc32c(view)
