"""The fast canonicaliser must produce exactly the reference RFC 8785 bytes."""

from __future__ import annotations

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from transcript.canonical import (
    MAX_SAFE_INTEGER,
    CanonicalizationError,
    canonical_json,
    canonical_json_fast,
)

ascii_keys = st.text(alphabet=st.characters(max_codepoint=127), max_size=12)
any_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | any_text
)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(ascii_keys, inner, max_size=6),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(documents)
def test_fast_path_equals_reference(doc: object) -> None:
    assert canonical_json_fast(doc) == rfc8785.dumps(doc)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=6).filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s)),
        st.floats(allow_nan=False, allow_infinity=False) | st.integers(),
        max_size=5,
    )
)
def test_outside_the_fast_domain_the_reference_decides(doc: dict[str, object]) -> None:
    try:
        expected = rfc8785.dumps(doc)
    except (rfc8785.CanonicalizationError, ValueError, TypeError):
        with pytest.raises(CanonicalizationError):
            canonical_json_fast(doc)
        return
    assert canonical_json_fast(doc) == expected


def test_known_bytes() -> None:
    doc = {"b": [1, "é", None], "a": {"z": True, "\u20ac": "\x1f\n"}, "A": -5}
    expected = '{"A":-5,"a":{"z":true,"€":"\\u001f\\n"},"b":[1,"é",null]}'.encode()
    assert canonical_json(doc) == expected
    assert canonical_json_fast(doc) == expected


def test_lone_surrogates_and_huge_integers_are_rejected() -> None:
    with pytest.raises(CanonicalizationError):
        canonical_json_fast({"a": "\ud800"})
    with pytest.raises(CanonicalizationError):
        canonical_json_fast({"a": 2**64})
