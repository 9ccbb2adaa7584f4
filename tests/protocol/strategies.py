"""Hypothesis strategies for protocol values and envelopes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st
from msgpack import ExtType

from symphony.protocol.envelope import PROTOCOL_VERSION, Kind, Message, MessageId, Priority

message_ids = st.binary(min_size=16, max_size=16).map(MessageId.from_bytes)

big_ints = st.one_of(
    st.integers(min_value=-(1 << 63), max_value=(1 << 64) - 1),
    st.integers(min_value=-(1 << 200), max_value=1 << 200),
)

aware_datetimes = st.datetimes(
    min_value=dt.datetime(1, 1, 2),
    max_value=dt.datetime(9999, 12, 30),
    timezones=st.just(dt.UTC),
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    big_ints,
    st.floats(allow_nan=False),
    st.text(),
    st.binary(),
    message_ids,
    aware_datetimes,
    st.builds(ExtType, st.integers(10, 127), st.binary(max_size=20)),
)

keys = st.one_of(st.text(), st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1))

values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(keys, children, max_size=5)
    ),
    max_leaves=20,
)

json_values: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(alphabet=st.characters(exclude_categories=("Cs",))),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.text(alphabet=st.characters(exclude_categories=("Cs",))), children, max_size=4
        ),
    ),
    max_leaves=12,
)


@st.composite
def messages(draw: st.DrawFn, payload: st.SearchStrategy[Any] = values) -> Message:
    return Message(
        (
            PROTOCOL_VERSION,
            draw(message_ids),
            draw(st.none() | message_ids),
            draw(st.sampled_from(Kind)),
            draw(st.text()),
            draw(st.integers(0, 0xFFFFFFFF)),
            draw(st.text()),
            draw(st.text()),
            draw(st.integers(0, (1 << 64) - 1)),
            draw(st.none() | st.integers(0, 0xFFFFFFFF)),
            draw(st.sampled_from(Priority)),
            draw(payload),
            draw(st.dictionaries(st.text(), payload, max_size=4)),
        )
    )
