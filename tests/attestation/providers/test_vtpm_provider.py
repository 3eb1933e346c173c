"""VtpmProvider against the in-memory SoftwareTpm: AK choice, qualifying data, PCR races."""

from __future__ import annotations

import hashlib
import sys
from datetime import UTC, datetime, timedelta

import pytest

from attestation.errors import InvalidReportData, PlatformUnavailable, ProviderError
from attestation.evidence import EvidenceProvider
from attestation.formats.hcl import HardwareReportType, HclReport
from attestation.formats.tpm import (
    Alg,
    PcrSelection,
    PcrValues,
    QuoteAttest,
    Scheme,
    TpmPublic,
    TpmSignature,
)
from attestation.providers.vtpm import (
    AkSource,
    LoadedKey,
    QualifyingDataTooLarge,
    TpmDevice,
    VtpmProvider,
)
from attestation.providers.vtpm.profiles import default_scheme, local_ak_template, trim_der
from attestation.providers.vtpm.tss import TssTpm, _is_size_error
from attestation.simulated.vtpm import SoftwareTpm
from attestation.simulated.vtpm_cloud import LocalCa, provision_azure, provision_gcp

NOW = datetime(2026, 6, 1, tzinfo=UTC)
REPORT_DATA = bytes(range(64))


@pytest.fixture(scope="module")
def ca() -> LocalCa:
    return LocalCa.create("test AK CA", not_before=NOW - timedelta(days=1))


def quote_of(provider: VtpmProvider, report_data: bytes = REPORT_DATA) -> QuoteAttest:
    return QuoteAttest.from_bytes(provider.get_evidence(report_data).report)


def test_it_is_an_evidence_provider() -> None:
    assert isinstance(VtpmProvider(SoftwareTpm()), EvidenceProvider)
    assert isinstance(SoftwareTpm(), TpmDevice)


def test_a_bare_tpm_gets_a_local_ecc_ak_and_full_evidence() -> None:
    tpm = SoftwareTpm()
    tpm.extend(7, b"secure boot state")
    evidence = VtpmProvider(tpm).get_evidence(REPORT_DATA)
    assert (evidence.platform, evidence.provider) == ("vtpm", "vtpm/local")
    assert evidence.report_data == REPORT_DATA
    assert set(evidence.extra) == {"signature", "ak_public", "pcrs"}
    assert evidence.certificates == {}
    ak = TpmPublic.from_bytes(evidence.extra["ak_public"])
    assert ak.is_attestation_key and ak.type == Alg.ECC
    quote = QuoteAttest.from_bytes(evidence.report)
    assert quote.extra_data == REPORT_DATA
    values = PcrValues.from_bytes(evidence.extra["pcrs"])
    assert [i for _, i, _ in values.items()] == list(range(24))
    assert values.values[7] == tpm.pcrs[Alg.SHA256][7] != bytes(32)
    assert TpmSignature.from_bytes(evidence.extra["signature"]).sig_alg == Alg.ECDSA


def test_report_data_must_be_64_bytes() -> None:
    with pytest.raises(InvalidReportData):
        VtpmProvider(SoftwareTpm()).get_evidence(bytes(32))


def test_the_pcr_selection_is_configurable() -> None:
    tpm = SoftwareTpm(banks=("sha256", "sha384"))
    selection = PcrSelection.of("sha384", [0, 4, 7])
    evidence = VtpmProvider(tpm, pcrs=selection).get_evidence(REPORT_DATA)
    assert QuoteAttest.from_bytes(evidence.report).pcr_select == selection
    assert [len(v) for v in PcrValues.from_bytes(evidence.extra["pcrs"]).values] == [48] * 3


def test_the_ak_is_created_once_and_flushed_on_close() -> None:
    tpm = SoftwareTpm()
    provider = VtpmProvider(tpm)
    first = provider.get_evidence(REPORT_DATA).extra["ak_public"]
    assert provider.get_evidence(REPORT_DATA).extra["ak_public"] == first
    assert len(tpm._keys) == 1
    provider.close()
    assert tpm._keys == {}


def test_a_tpm_without_sha512_gets_the_sha256_of_the_report_data() -> None:
    provider = VtpmProvider(SoftwareTpm(max_qualifying_data=50))
    assert quote_of(provider).extra_data == hashlib.sha256(REPORT_DATA).digest()


def test_a_tpm_refusing_even_32_bytes_is_an_error() -> None:
    with pytest.raises(QualifyingDataTooLarge):
        VtpmProvider(SoftwareTpm(max_qualifying_data=20)).get_evidence(REPORT_DATA)


class RacingTpm(SoftwareTpm):
    """Extends a PCR right after each quote, ``races`` times."""

    def __init__(self, races: int) -> None:
        super().__init__()
        self.races = races
        self.quotes = 0

    def quote(
        self, key: LoadedKey, qualifying_data: bytes, selection: PcrSelection, scheme: Scheme
    ) -> tuple[bytes, bytes]:
        result = super().quote(key, qualifying_data, selection, scheme)
        self.quotes += 1
        if self.races > 0:
            self.races -= 1
            self.extend(10, b"ima measurement")
        return result


def test_a_pcr_extended_during_the_quote_is_retried() -> None:
    tpm = RacingTpm(races=1)
    evidence = VtpmProvider(tpm).get_evidence(REPORT_DATA)
    assert tpm.quotes == 2
    assert PcrValues.from_bytes(evidence.extra["pcrs"]).values[10] == tpm.pcrs[Alg.SHA256][10]


def test_pcrs_that_never_settle_are_an_error() -> None:
    with pytest.raises(ProviderError, match="kept changing"):
        VtpmProvider(RacingTpm(races=10)).get_evidence(REPORT_DATA)


def test_gcp_ecc_ak_and_certificate_are_used(ca: LocalCa) -> None:
    tpm = SoftwareTpm()
    cert = provision_gcp(tpm, ca, kind="ecc", not_before=NOW)
    tpm.nv[0x01C10002] += bytes(100)  # NV indices are fixed-size: padding after the DER
    evidence = VtpmProvider(tpm).get_evidence(REPORT_DATA)
    assert evidence.provider == "vtpm/gcp"
    assert evidence.certificates == {"ak": cert}


def test_gcp_prefers_ecc_but_takes_rsa(ca: LocalCa) -> None:
    tpm = SoftwareTpm()
    provision_gcp(tpm, ca, kind="rsa", not_before=NOW)
    evidence = VtpmProvider(tpm, ak="gcp").get_evidence(REPORT_DATA)
    assert TpmPublic.from_bytes(evidence.extra["ak_public"]).type == Alg.RSA
    assert TpmSignature.from_bytes(evidence.extra["signature"]).sig_alg == Alg.RSASSA
    provision_gcp(tpm, ca, kind="ecc", not_before=NOW)
    evidence = VtpmProvider(tpm, ak="gcp").get_evidence(REPORT_DATA)
    assert TpmPublic.from_bytes(evidence.extra["ak_public"]).type == Alg.ECC


def test_azure_ak_and_hcl_report_win_over_gcp(ca: LocalCa) -> None:
    tpm = SoftwareTpm()
    provision_gcp(tpm, ca, kind="ecc", not_before=NOW)
    hcl = provision_azure(tpm, lambda report_data: report_data.rjust(1184, b"\x00"))
    tpm.nv[0x01400001] += bytes(500)
    evidence = VtpmProvider(tpm).get_evidence(REPORT_DATA)
    assert evidence.provider == "vtpm/azure"
    assert evidence.extra["hcl_report"] == hcl.to_bytes()
    assert HclReport.from_bytes(evidence.extra["hcl_report"]).ak_jwk().kty == "RSA"
    assert "ak" not in evidence.certificates


def test_azure_ak_certificate_is_read_when_present(ca: LocalCa) -> None:
    tpm = SoftwareTpm()
    provision_azure(tpm, lambda report_data: report_data)
    tpm.nv_define(0x01C101D0, ca.der)
    assert VtpmProvider(tpm).get_evidence(REPORT_DATA).certificates == {"ak": ca.der}


@pytest.mark.parametrize(("source", "match"), [("azure", "Azure AK"), ("gcp", "GCP AK")])
def test_an_explicit_cloud_that_is_absent_is_unavailable(source: str, match: str) -> None:
    with pytest.raises(PlatformUnavailable, match=match):
        VtpmProvider(SoftwareTpm(), ak=source).get_evidence(REPORT_DATA)


def test_local_ak_is_used_even_when_a_cloud_ak_exists(ca: LocalCa) -> None:
    tpm = SoftwareTpm()
    provision_gcp(tpm, ca, kind="ecc", not_before=NOW)
    assert VtpmProvider(tpm, ak=AkSource.LOCAL).get_evidence(REPORT_DATA).provider == "vtpm/local"


def test_default_scheme_fills_in_only_what_the_key_leaves_open() -> None:
    ak = TpmPublic.from_bytes(local_ak_template())
    assert default_scheme(ak) == Scheme()
    open_ecc = TpmPublic(ak.name_alg, ak.attributes, ak.key)
    assert default_scheme(open_ecc) == Scheme(Alg.ECDSA, Alg.SHA256)


def test_trim_der_keeps_unparseable_data_whole() -> None:
    assert trim_der(b"\x30\x82\x00\x02ab" + bytes(10)) == b"\x30\x82\x00\x02ab"
    assert trim_der(b"\x30\x82\xff\xffab") == b"\x30\x82\xff\xffab"
    assert trim_der(b"junk") == b"junk"


def test_hardware_certificates_are_fetched_once_and_only_on_azure(ca: LocalCa) -> None:
    calls: list[int] = []

    def fetch() -> dict[str, bytes]:
        calls.append(1)
        return {"vcek": b"vcek der"}

    gcp = SoftwareTpm()
    provision_gcp(gcp, ca, kind="ecc", not_before=NOW)
    assert (
        "vcek"
        not in VtpmProvider(gcp, hardware_certificates=fetch).get_evidence(REPORT_DATA).certificates
    )
    assert calls == []
    tpm = SoftwareTpm()
    provision_azure(tpm, lambda report_data: report_data)
    provider = VtpmProvider(tpm, hardware_certificates=fetch)
    for _ in range(2):
        assert provider.get_evidence(REPORT_DATA).certificates == {"vcek": b"vcek der"}
    assert calls == [1]


def test_without_tpm2_pytss_the_tss_device_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tpm2_pytss", None)
    with pytest.raises(PlatformUnavailable, match=r"veritee\[vtpm\]"):
        TssTpm("swtpm:host=127.0.0.1,port=1")


@pytest.mark.parametrize(
    ("rc", "is_size"),
    [(0x1D5, True), (0x2D5, True), (0x095, True), (0x0D5, True), (0x9A, False), (0x80015, False)],
)
def test_tpm_rc_size_is_recognised_on_any_parameter(rc: int, is_size: bool) -> None:
    assert _is_size_error(rc) is is_size


def test_a_td_quote_is_made_once_for_a_tdx_hcl_report() -> None:
    tdreports: list[bytes] = []

    def quote(tdreport: bytes) -> bytes:
        tdreports.append(tdreport)
        return b"td quote"

    tpm = SoftwareTpm()
    hcl = provision_azure(
        tpm,
        lambda report_data: report_data.rjust(1024, b"\x00"),
        report_type=HardwareReportType.TDX,
    )
    provider = VtpmProvider(tpm, td_quote=quote)
    for _ in range(2):
        assert provider.get_evidence(REPORT_DATA).extra["td_quote"] == b"td quote"
    assert tdreports == [hcl.hardware_report]
    snp = SoftwareTpm()
    provision_azure(snp, lambda report_data: report_data)
    assert "td_quote" not in VtpmProvider(snp, td_quote=quote).get_evidence(REPORT_DATA).extra
    assert len(tdreports) == 1
