"""The inclusion proof's JSON form: round trip, and nothing but a named error on bad input."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers.anchoring import Transcript, random32
from verifier.anchor import InclusionProof, MalformedInclusionProof

_T = Transcript()
_CHECKPOINT = _T.next_checkpoint(5)
GOOD = InclusionProof(
    receipt_id=_T.receipts[2].body_hash,
    seq=3,
    path=tuple(_T.trees[0].proof(2)),
    checkpoint=_CHECKPOINT,
    tx_hash=random32(),
).to_dict()


def test_round_trip() -> None:
    proof = InclusionProof.from_dict(GOOD)
    assert proof.to_dict() == GOOD
    assert proof.leaf_index == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(type="veritee.inclusion.v2"), "type"),
        (lambda d: d.update(receipt_id="AB" * 32), "receipt_id"),
        (lambda d: d.update(tx_hash="00"), "tx_hash"),
        (lambda d: d.update(seq=6), "seq"),
        (lambda d: d.update(seq=0), "seq"),
        (lambda d: d.update(seq=True), "seq"),
        (lambda d: d.update(path="00" * 32), "path"),
        (lambda d: d.update(path=["00"]), "path"),
        (lambda d: d.update(path=["00" * 32] * 65), "path"),
        (lambda d: d["checkpoint"].update(first_seq=0), "checkpoint"),
        (lambda d: d.pop("tx_hash"), "proof"),
        (lambda d: d.update(extra=1), "proof"),
    ],
)
def test_each_malformed_field_is_named(change: Any, field: str) -> None:
    data = copy.deepcopy(GOOD)
    change(data)
    with pytest.raises(MalformedInclusionProof, match=f"^anchor.proof: {field}"):
        InclusionProof.from_dict(data)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=70),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(key=st.sampled_from(sorted(GOOD)), value=_json)
def test_any_replaced_field_parses_or_raises_the_named_error(key: str, value: object) -> None:
    data = copy.deepcopy(GOOD)
    data[key] = value
    with contextlib.suppress(MalformedInclusionProof):
        InclusionProof.from_dict(data)


@given(data=_json)
def test_any_json_parses_or_raises_the_named_error(data: object) -> None:
    with pytest.raises(MalformedInclusionProof):
        InclusionProof.from_dict(data)  # type: ignore[arg-type]
