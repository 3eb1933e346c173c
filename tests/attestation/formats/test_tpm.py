"""TPM structures: known answers, round trips, and "bad bytes raise MalformedEvidence only"."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attestation.errors import MalformedEvidence
from attestation.formats.tpm import (
    Alg,
    ClockInfo,
    EccKey,
    PcrBank,
    PcrSelection,
    PcrValues,
    QuoteAttest,
    RsaKey,
    Scheme,
    SymDef,
    TpmPublic,
    TpmSignature,
)
from attestation.formats.tpm.constants import HASHES

HASH_IDS = [Alg.SHA1, Alg.SHA256, Alg.SHA384, Alg.SHA512]

# A quote TPMS_ATTEST written out by hand from the layout in TPM 2.0 Part 2.
KNOWN_QUOTE = bytes.fromhex(
    "ff544347"  # magic
    "8018"  # TPM_ST_ATTEST_QUOTE
    "0004" "000b1234"  # qualifiedSigner
    "0002" "abcd"  # extraData
    "0000000000000064" "00000001" "00000002" "01"  # clockInfo
    "0000000000000007"  # firmwareVersion
    "00000001" "000b" "03" "050080"  # pcrSelect: sha256 {0, 2, 23}
    "0020" + "11" * 32  # pcrDigest
)  # fmt: skip


def test_known_quote_parses_field_by_field() -> None:
    quote = QuoteAttest.from_bytes(KNOWN_QUOTE)
    assert quote.qualified_signer == bytes.fromhex("000b1234")
    assert quote.extra_data == bytes.fromhex("abcd")
    assert quote.clock_info == ClockInfo(100, 1, 2, True)
    assert quote.firmware_version == 7
    assert quote.pcr_select == PcrSelection((PcrBank(Alg.SHA256, (0, 2, 23), 3),))
    assert quote.pcr_digest == b"\x11" * 32
    assert quote.to_bytes() == KNOWN_QUOTE


@pytest.mark.parametrize(
    ("index", "field", "offset"),
    [
        (0, "TPMS_ATTEST.magic", 0),
        (5, "TPMS_ATTEST.type", 4),
        (32, "TPMS_ATTEST.clockInfo.safe", 32),
    ],
)
def test_bad_quote_fields_are_named_with_their_offset(index: int, field: str, offset: int) -> None:
    data = bytearray(KNOWN_QUOTE)
    data[index] ^= 0x02
    with pytest.raises(MalformedEvidence) as info:
        QuoteAttest.from_bytes(bytes(data))
    assert (info.value.field, info.value.offset) == (field, offset)


def test_oversized_extra_data_is_refused_at_its_size_field() -> None:
    data = KNOWN_QUOTE[:12] + b"\x00\x43" + bytes(67) + KNOWN_QUOTE[16:]
    with pytest.raises(MalformedEvidence) as info:
        QuoteAttest.from_bytes(data)
    assert info.value.field == "TPMS_ATTEST.extraData.size"
    assert info.value.offset == 12


def test_trailing_bytes_are_refused() -> None:
    with pytest.raises(MalformedEvidence, match="trailing"):
        QuoteAttest.from_bytes(KNOWN_QUOTE + b"\x00")


def test_every_truncation_is_malformed_with_an_offset_inside_the_input() -> None:
    for end in range(len(KNOWN_QUOTE)):
        with pytest.raises(MalformedEvidence) as info:
            QuoteAttest.from_bytes(KNOWN_QUOTE[:end])
        assert info.value.offset is not None and info.value.offset <= end


def test_ecc_ak_public_known_answer_and_name() -> None:
    # TPMT_PUBLIC of an ECC P-256 restricted signing key, as swtpm returns it.
    public = TpmPublic(
        name_alg=Alg.SHA256,
        attributes=0x00050472,
        key=EccKey(0x0003, b"\x01" * 32, b"\x02" * 32),
        scheme=Scheme(Alg.ECDSA, Alg.SHA256),
    )
    raw = public.to_bytes()
    assert raw[:10] == bytes.fromhex("0023000b000504720000")  # type, nameAlg, attrs, no policy
    assert raw[10:18] == bytes.fromhex("00100018000b0003")  # sym NULL, ECDSA-SHA256, P-256
    assert raw[18:20] == bytes.fromhex("0010")  # kdf NULL
    assert len(raw) == 20 + 2 * 34
    assert public.is_attestation_key
    assert public.name() == bytes.fromhex("000b") + HASHES[Alg.SHA256].digest(raw)


def test_rsa_exponent_zero_means_65537() -> None:
    assert RsaKey(2048, 0, b"").public_exponent == 65537
    assert RsaKey(2048, 3, b"").public_exponent == 3


def test_a_key_that_is_not_restricted_is_not_an_ak() -> None:
    public = TpmPublic(Alg.SHA256, 0x00040472, EccKey(3, b"", b""))  # sign without restricted
    assert not public.is_attestation_key


def test_unknown_public_type_is_malformed() -> None:
    with pytest.raises(MalformedEvidence) as info:
        TpmPublic.from_bytes(bytes.fromhex("0008000b00000000"))
    assert info.value.field == "TPMT_PUBLIC.type"


def test_sha1_and_unknown_signature_schemes() -> None:
    assert TpmSignature.from_bytes(bytes.fromhex("001800040001aa0001bb")).hash.name == "sha1"
    with pytest.raises(MalformedEvidence) as info:
        TpmSignature.from_bytes(bytes.fromhex("001a000b00"))  # ECDAA
    assert info.value.field == "TPMT_SIGNATURE.sigAlg"


def test_pcr_values_count_and_sizes_are_checked() -> None:
    selection = PcrSelection.of("sha256", [0, 1])
    with pytest.raises(MalformedEvidence, match="2 selected PCRs"):
        PcrValues(selection, (bytes(32),))
    with pytest.raises(MalformedEvidence, match="not 32"):
        PcrValues(selection, (bytes(32), bytes(20)))
    good = PcrValues(selection, (bytes(32), b"\x01" * 32))
    assert good.digest(HASHES[Alg.SHA256]) == HASHES[Alg.SHA256].digest(bytes(32) + b"\x01" * 32)


def test_pcr_selection_of_rejects_unknown_banks() -> None:
    with pytest.raises(ValueError, match="unknown PCR bank"):
        PcrSelection.of("md5", [0])


# -- round trips and fuzzing ----------------------------------------------------------------

hash_ids = st.sampled_from(HASH_IDS)
small = st.integers(0, 2**16 - 1)


@st.composite
def pcr_banks(draw: st.DrawFn) -> PcrBank:
    size = draw(st.integers(0, 4))
    indices = draw(st.sets(st.integers(0, 8 * size - 1), max_size=8)) if size else set()
    return PcrBank(draw(hash_ids), tuple(sorted(indices)), size)


selections = st.lists(pcr_banks(), max_size=3).map(lambda banks: PcrSelection(tuple(banks)))


@st.composite
def pcr_values(draw: st.DrawFn) -> PcrValues:
    selection = draw(selections)
    values = tuple(
        draw(st.binary(min_size=bank.hash.size, max_size=bank.hash.size))
        for bank, _ in selection.pairs()
    )
    return PcrValues(selection, values)


quotes = st.builds(
    QuoteAttest,
    qualified_signer=st.binary(max_size=66),
    extra_data=st.binary(max_size=66),
    clock_info=st.builds(
        ClockInfo,
        st.integers(0, 2**64 - 1),
        st.integers(0, 2**32 - 1),
        st.integers(0, 2**32 - 1),
        st.booleans(),
    ),
    firmware_version=st.integers(0, 2**64 - 1),
    pcr_select=selections,
    pcr_digest=st.binary(max_size=64),
)
schemes = st.one_of(
    st.just(Scheme()),
    st.builds(Scheme, st.sampled_from([Alg.ECDSA, Alg.RSASSA, Alg.RSAPSS]), hash_ids),
    st.builds(Scheme, st.just(Alg.ECDAA), hash_ids, small),
)
keys = st.one_of(
    st.builds(RsaKey, small, st.integers(0, 2**32 - 1), st.binary(max_size=512)),
    st.builds(
        EccKey,
        small,
        st.binary(max_size=66),
        st.binary(max_size=66),
        st.one_of(st.just(Scheme()), st.builds(Scheme, st.just(Alg.KDF2), hash_ids)),
    ),
)
publics = st.builds(
    TpmPublic,
    name_alg=hash_ids,
    attributes=st.integers(0, 2**32 - 1),
    key=keys,
    scheme=schemes,
    symmetric=st.one_of(st.just(SymDef()), st.builds(SymDef, st.just(Alg.AES), small, small)),
    auth_policy=st.binary(max_size=64),
)
signatures = st.one_of(
    st.builds(
        TpmSignature,
        st.just(Alg.ECDSA),
        hash_ids,
        r=st.binary(max_size=66),
        s=st.binary(max_size=66),
    ),
    st.builds(
        TpmSignature,
        st.sampled_from([Alg.RSASSA, Alg.RSAPSS]),
        hash_ids,
        rsa=st.binary(max_size=512),
    ),
)


@given(quotes)
def test_quote_round_trip(quote: QuoteAttest) -> None:
    assert QuoteAttest.from_bytes(quote.to_bytes()) == quote


@given(publics)
def test_public_round_trip(public: TpmPublic) -> None:
    assert TpmPublic.from_bytes(public.to_bytes()) == public


@given(signatures)
def test_signature_round_trip(signature: TpmSignature) -> None:
    assert TpmSignature.from_bytes(signature.to_bytes()) == signature


@given(pcr_values())
def test_pcr_values_round_trip(values: PcrValues) -> None:
    assert PcrValues.from_bytes(values.to_bytes()) == values


PARSERS: list[tuple[Callable[[bytes], object], st.SearchStrategy[bytes]]] = [
    (QuoteAttest.from_bytes, quotes.map(QuoteAttest.to_bytes)),
    (TpmPublic.from_bytes, publics.map(TpmPublic.to_bytes)),
    (TpmSignature.from_bytes, signatures.map(TpmSignature.to_bytes)),
    (PcrValues.from_bytes, pcr_values().map(PcrValues.to_bytes)),
]


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[bytes]) -> bytes:
    data = bytearray(draw(valid))
    for _ in range(draw(st.integers(1, 4))):
        choice = draw(st.sampled_from(["flip", "cut", "grow"]))
        if choice == "flip" and data:
            data[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
        elif choice == "cut":
            del data[draw(st.integers(0, len(data))) :]
        else:
            data += draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


@pytest.mark.parametrize(("parse", "valid"), PARSERS, ids=["quote", "public", "sig", "pcrs"])
@given(data=st.data())
def test_bad_bytes_raise_only_malformed_evidence(
    parse: Callable[[bytes], object], valid: st.SearchStrategy[bytes], data: st.DataObject
) -> None:
    raw = data.draw(st.one_of(st.binary(max_size=300), mutated(valid)))
    try:
        parse(raw)
    except MalformedEvidence as exc:
        assert exc.field
