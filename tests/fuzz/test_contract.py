"""The harness contract and the multi-part input of the verifier targets."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attestation.errors import MalformedEvidence
from fuzz.contract import (
    SEPARATOR,
    Context,
    ContractViolation,
    Target,
    evidence_parts,
    join_parts,
    split_parts,
)

names = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="="))
blobs = st.binary(max_size=64).filter(lambda b: SEPARATOR not in b)


@given(blobs, blobs, st.dictionaries(names, blobs, max_size=4))
def test_parts_round_trip(report: bytes, report_data: bytes, certs: dict[str, bytes]) -> None:
    got_report, named, got_data = split_parts(evidence_parts(report, report_data, certs))
    assert (got_report, got_data, named["certificates"]) == (report, report_data, certs)
    assert named["collateral"] == named["extra"] == {}


def test_unknown_or_broken_parts_are_dropped() -> None:
    data = join_parts(b"R", {"bogus.x": b"1", "extra.sig": b"2", "nodot": b"3"})
    data += SEPARATOR + b"no equals sign" + SEPARATOR + b"cert.\xff\xfe=4"
    report, named, report_data = split_parts(data)
    assert (report, report_data) == (b"R", None)
    assert named == {"certificates": {}, "collateral": {}, "extra": {"sig": b"2"}}


def _target(run: object) -> Target:
    return Target("t", "a test target", (MalformedEvidence,), run, lambda m: [b""])  # type: ignore[arg-type]


def test_the_harness_swallows_allowed_errors_only(tmp_path: Path) -> None:
    def malformed(_: Context, data: bytes) -> None:
        raise MalformedEvidence("bad", field="x")

    def broken(_: Context, data: bytes) -> None:
        raise KeyError("x")

    def violated(_: Context, data: bytes) -> None:
        raise ContractViolation("round trip")

    context = Context(tmp_path)
    _target(malformed).harness(context)(b"")
    with pytest.raises(KeyError):
        _target(broken).harness(context)(b"")
    with pytest.raises(ContractViolation):
        _target(violated).harness(context)(b"")
