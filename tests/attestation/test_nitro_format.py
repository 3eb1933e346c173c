"""The Nitro attestation document format: real documents, building, and malformed input."""

from __future__ import annotations

import contextlib

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attestation.errors import MalformedEvidence
from attestation.formats.cose import CoseSign1
from attestation.formats.nitro import DOCUMENT_KEYS, NitroDocument, parse_nitro
from attestation.simulated.nitro import SimulatedNitro
from attestation.simulated.nitro_pki import NitroPki
from tests.helpers.nitro import (
    EVERVAULT_2022,
    EVERVAULT_2022_AT,
    EVERVAULT_2023,
    EVERVAULT_2023_AT,
    START,
    Clock,
    damage,
    read_vector,
)

DUMMY_SIGNATURE = bytes(96)


@pytest.fixture(scope="module")
def simulated_raw() -> bytes:
    simulator = SimulatedNitro(NitroPki.generate(START), clock=Clock(), public_key=b"\x04" * 65)
    return simulator.get_evidence(bytes(range(64))).report


def test_evervault_2022_fields(testvectors):
    raw = read_vector(testvectors, EVERVAULT_2022)
    signed = parse_nitro(raw)
    doc = signed.document
    assert not signed.cose.tagged
    assert doc.module_id == "i-020b6af9246d90e92-enc0183d09086c24190"
    assert doc.digest == "SHA384"
    assert doc.timestamp == EVERVAULT_2022_AT
    assert doc.pcrs[0].hex().startswith("f4d48b81")
    assert sorted(doc.pcrs) == list(range(16))
    assert len(doc.nonce or b"") == 256
    assert doc.public_key is None
    assert doc.user_data is None
    assert len(doc.cabundle) == 4
    assert doc.bundle[0].subject == doc.bundle[0].issuer  # root first
    assert doc.leaf.issuer == doc.bundle[-1].subject


def test_evervault_2023_fields(testvectors):
    doc = parse_nitro(read_vector(testvectors, EVERVAULT_2023)).document
    assert doc.timestamp == EVERVAULT_2023_AT
    assert all(not any(doc.pcrs[i]) for i in (0, 1, 2))
    assert len(doc.user_data or b"") == 91
    assert (doc.user_data or b"").startswith(bytes.fromhex("3059301306072a8648ce3d0201"))


@pytest.mark.parametrize("name", [EVERVAULT_2022, EVERVAULT_2023])
def test_real_documents_rebuild_byte_for_byte(testvectors, name):
    """Our builder writes NSM's exact encoding: key order, nulls, shortest forms."""
    raw = read_vector(testvectors, name)
    signed = parse_nitro(raw)
    assert signed.document.to_cbor() == signed.cose.payload
    assert list(cbor2.loads(signed.cose.payload)) == list(DOCUMENT_KEYS)
    assert signed.to_bytes() == raw


def test_tagged_document_parses(testvectors):
    raw = read_vector(testvectors, EVERVAULT_2022)
    tagged = cbor2.dumps(cbor2.CBORTag(18, cbor2.loads(raw)))
    signed = parse_nitro(tagged)
    assert signed.cose.tagged
    assert signed.to_bytes() == tagged
    assert signed.document == parse_nitro(raw).document


def test_simulated_document_shape(simulated_raw):
    payload = parse_nitro(simulated_raw).cose.payload
    decoded = cbor2.loads(payload)
    assert list(decoded) == list(DOCUMENT_KEYS)
    assert decoded["user_data"] == bytes(range(64))
    assert decoded["nonce"] == bytes(range(32, 64))
    assert decoded["public_key"] == b"\x04" * 65
    assert sorted(decoded["pcrs"]) == list(range(16))
    assert all(len(v) == 48 for v in decoded["pcrs"].values())


def test_unset_optional_fields_are_null_and_absent_fields_parse(simulated_raw):
    doc = parse_nitro(simulated_raw).document
    bare = NitroDocument(
        module_id=doc.module_id,
        digest=doc.digest,
        timestamp_ms=doc.timestamp_ms,
        pcrs=doc.pcrs,
        certificate=doc.certificate,
        cabundle=doc.cabundle,
    )
    encoded = cbor2.loads(bare.to_cbor())
    assert [encoded[k] for k in ("public_key", "user_data", "nonce")] == [None, None, None]
    without = {k: v for k, v in bare.to_dict().items() if v is not None}
    assert NitroDocument.from_cbor(cbor2.dumps(without)) == bare


def _wrap(payload_map: dict) -> bytes:
    return CoseSign1(payload=cbor2.dumps(payload_map), signature=DUMMY_SIGNATURE).to_bytes()


# Values that are wrong for every field of the document, whatever the field.
WRONG_ANYWHERE = st.one_of(
    st.booleans(),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)
BAD_VALUES = {
    "module_id": st.one_of(WRONG_ANYWHERE, st.just(""), st.binary(), st.integers(), st.none()),
    "digest": st.one_of(
        WRONG_ANYWHERE,
        st.text().filter(lambda s: s not in {"SHA256", "SHA384", "SHA512"}),
        st.none(),
    ),
    "timestamp": st.one_of(
        WRONG_ANYWHERE,
        st.integers(max_value=0),
        st.integers(min_value=2**64, max_value=2**70),
        st.text(),
        st.none(),
    ),
    "pcrs": st.one_of(
        WRONG_ANYWHERE,
        st.just({}),
        st.dictionaries(
            st.integers(0, 31),
            st.binary(max_size=80).filter(lambda b: len(b) not in {32, 48, 64}),
            min_size=1,
            max_size=3,
        ),
        st.dictionaries(
            st.integers().filter(lambda i: not 0 <= i < 32),
            st.just(bytes(48)),
            min_size=1,
            max_size=2,
        ),
        st.dictionaries(st.text(max_size=2), st.just(bytes(48)), min_size=1, max_size=2),
        st.none(),
    ),
    "certificate": st.one_of(
        WRONG_ANYWHERE,
        st.binary(max_size=64),
        st.just(b""),
        st.binary(min_size=1025, max_size=1100),
        st.none(),
    ),
    "cabundle": st.one_of(
        WRONG_ANYWHERE,
        st.just([]),
        st.lists(st.binary(max_size=40), min_size=1, max_size=3),
        st.none(),
    ),
    "public_key": st.one_of(
        WRONG_ANYWHERE,
        st.just(b""),
        st.binary(min_size=1025, max_size=1100),
        st.integers(),
        st.text(),
    ),
    "user_data": st.one_of(
        WRONG_ANYWHERE, st.binary(min_size=1025, max_size=1100), st.integers(), st.text()
    ),
    "nonce": st.one_of(
        WRONG_ANYWHERE, st.binary(min_size=1025, max_size=1100), st.integers(), st.text()
    ),
}


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_one_bad_field_is_named(simulated_raw, data):
    payload = cbor2.loads(parse_nitro(simulated_raw).cose.payload)
    key = data.draw(st.sampled_from(sorted(BAD_VALUES)))
    payload[key] = data.draw(BAD_VALUES[key])
    with pytest.raises(MalformedEvidence) as caught:
        parse_nitro(_wrap(payload))
    assert caught.value.field is not None
    assert caught.value.field.split("[")[0] == key


@pytest.mark.parametrize(
    "key", ["module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle"]
)
def test_missing_required_field_is_named(simulated_raw, key):
    payload = cbor2.loads(parse_nitro(simulated_raw).cose.payload)
    del payload[key]
    with pytest.raises(MalformedEvidence) as caught:
        parse_nitro(_wrap(payload))
    assert caught.value.field == key


def test_unknown_field_is_refused(simulated_raw):
    payload = cbor2.loads(parse_nitro(simulated_raw).cose.payload)
    payload["extra"] = b"x"
    with pytest.raises(MalformedEvidence, match="unknown field 'extra'"):
        parse_nitro(_wrap(payload))


def test_broken_certificate_der_is_named(simulated_raw):
    payload = cbor2.loads(parse_nitro(simulated_raw).cose.payload)
    payload["cabundle"][2] = payload["cabundle"][2][:-1]
    with pytest.raises(MalformedEvidence) as caught:
        parse_nitro(_wrap(payload))
    assert caught.value.field == "cabundle[2]"


def test_payload_with_trailing_bytes_or_duplicate_keys_is_refused(simulated_raw):
    payload = parse_nitro(simulated_raw).cose.payload
    trailing = CoseSign1(payload=payload + b"\x00", signature=DUMMY_SIGNATURE).to_bytes()
    with pytest.raises(MalformedEvidence, match="trailing bytes"):
        parse_nitro(trailing)
    # {"digest": "SHA384", ...rest} with "digest" twice: bump the map's length by one.
    decoded = cbor2.loads(payload)
    head = cbor2.dumps({"digest": "SHA384"})[1:]
    duplicated = bytes([0xA0 + len(decoded) + 1]) + payload[1:] + head
    with pytest.raises(MalformedEvidence, match=r"(?i)duplicate"):
        parse_nitro(CoseSign1(payload=duplicated, signature=DUMMY_SIGNATURE).to_bytes())


cbor_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.binary(max_size=64),
        st.text(max_size=16),
        st.floats(),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.one_of(st.text(max_size=12), st.integers()), children, max_size=5),
        st.builds(cbor2.CBORTag, st.integers(0, 300), children),
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_are_malformed_evidence_only(raw):
    with pytest.raises(MalformedEvidence):
        parse_nitro(raw)


def as_envelope(encoded: bytes) -> bytes:
    return encoded


def as_payload(encoded: bytes) -> bytes:
    return CoseSign1(payload=encoded, signature=DUMMY_SIGNATURE).to_bytes()


@pytest.mark.parametrize("wrap", [as_envelope, as_payload])
@settings(max_examples=300, deadline=None)
@given(value=cbor_values)
def test_random_cbor_is_malformed_evidence_only(wrap, value):
    try:
        encoded = cbor2.dumps(value)
        raw = wrap(encoded)
    except (cbor2.CBOREncodeError, ValueError, TypeError, MalformedEvidence):
        return  # not encodable, or too big to be a payload at all
    with pytest.raises(MalformedEvidence):
        parse_nitro(raw)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_corrupted_documents_parse_or_raise_malformed_only(simulated_raw, data):
    """Random damage (flips, cuts, insertions) never escapes as another exception type."""
    with contextlib.suppress(MalformedEvidence):
        parse_nitro(damage(simulated_raw, data.draw))
