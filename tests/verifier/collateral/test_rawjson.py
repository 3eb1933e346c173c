"""Locating signed JSON values byte for byte."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.collateral.rawjson import raw_member

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


def test_keeps_whitespace_and_key_order_exactly() -> None:
    body = b'{ "signature" : "ab",\n  "tcbInfo" :{"b":1,  "a":[1, 2]} }'
    assert raw_member(body, "tcbInfo") == b'{"b":1,  "a":[1, 2]}'
    assert raw_member(body, "signature") == b'"ab"'


def test_non_ascii_values_round_trip_as_utf8() -> None:
    body = '{"tcbInfo":{"n":"é\\u00e9"},"signature":"00"}'.encode()
    assert raw_member(body, "tcbInfo") == '{"n":"é\\u00e9"}'.encode()


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'{"a":1',
        b'{"a":1}x',
        b'{"a" 1}',
        b'{"a":1 "b":2}',
        b'{"a":1,"a":2}',
        b'{"b":1}',
        b"\xff",
    ],
)
def test_rejects_what_is_not_one_clean_object_with_the_member(body: bytes) -> None:
    with pytest.raises(ValueError):
        raw_member(body, "a")


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.text(max_size=6).filter(lambda k: k != "x"), VALUES, max_size=4),
    VALUES,
    st.sampled_from([(",", ":"), (", ", ": "), (",\n ", " :  ")]),
)
def test_finds_the_value_in_any_serialisation(
    others: dict[str, object], value: object, separators: tuple[str, str]
) -> None:
    doc = {**others, "x": value}
    body = json.dumps(doc, separators=separators, ensure_ascii=False).encode()
    raw = raw_member(body, "x")
    assert raw in body
    assert json.loads(raw) == value
