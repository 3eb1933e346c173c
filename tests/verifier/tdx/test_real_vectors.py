"""verify_tdx on real quotes from real hardware, with their real collateral."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from attestation.evidence import Evidence
from attestation.formats.tdx import TdxQuote
from tests.helpers.tdx import (
    DCAP_MRTD,
    DCAP_REPORT_DATA,
    DCAP_TIME,
    SPR_TIME,
    dcap_collateral,
    dcap_quote,
    evidence_for,
    simulator,
    spr_collateral,
    spr_quote,
)
from verifier.collateral import (
    CollateralExpired,
    CollateralUnavailable,
    NoCollateral,
    StaticCollateral,
)
from verifier.errors import (
    BadInput,
    BindingMismatch,
    CertificateChainInvalid,
    CouldNotCheck,
    TcbMismatch,
)
from verifier.tdx import verify_tdx
from verifier.tdx.collateral_checks import verify_collateral
from verifier.tdx.pck import check_revocation, verify_pck_chain
from verifier.tdx.signatures import (
    check_ak_binding,
    check_qe_report_signature,
    check_quote_signature,
)
from verifier.trust import TrustedRoots

INTEL = TrustedRoots.shipped("intel-sgx")


def test_dcapqvl_quote_verifies_up_to_date(testvectors: Path) -> None:
    evidence = evidence_for(dcap_quote(testvectors))
    claims = verify_tdx(
        evidence, roots=INTEL, now=DCAP_TIME, collateral=dcap_collateral(testvectors)
    )
    assert claims.platform == "tdx"
    assert claims.measurements["mrtd"] == DCAP_MRTD
    assert claims.report_data.hex() == DCAP_REPORT_DATA
    assert claims.tcb["fmspc"] == "b0c06f000000"
    assert claims.tcb["status"] == "UpToDate"
    assert claims.tcb["advisory_ids"] == []
    assert claims.tcb["tee_tcb_svn"] == "06010300000000000000000000000000"
    assert claims.debug is False
    assert set(claims.measurements) == {
        "mrtd",
        "rtmr0",
        "rtmr1",
        "rtmr2",
        "rtmr3",
        "mrconfigid",
        "mrowner",
        "mrownerconfig",
        "mrseam",
    }
    assert claims.details["platform_tcb"]["module_id"] == "TDX_01"
    assert claims.details["qe"]["isv_svn"] == 6
    assert "Intel SGX Root CA" in claims.signer
    names = [check.name for check in claims.checks]
    for name in (
        "tdx.quote-signature",
        "tdx.pck-chain",
        "tdx.qe-report-signature",
        "tdx.ak-binding",
        "tdx.tcb-info-signature",
        "tdx.crl",
        "tdx.qe-identity",
        "tdx.tcb-status",
        "tdx.report-data",
    ):
        assert name in names
    assert claims.to_dict()["tcb"]["status"] == "UpToDate"


@pytest.mark.parametrize(
    "now",
    [
        datetime(2025, 6, 19, 10, 0, tzinfo=UTC),  # before the TCB info was issued
        datetime(2025, 7, 19, 10, 5, tzinfo=UTC),  # after the PCK CRL's next update
        datetime(2026, 1, 1, tzinfo=UTC),
    ],
)
def test_dcapqvl_outside_the_collateral_window_could_not_check(
    testvectors: Path, now: datetime
) -> None:
    evidence = evidence_for(dcap_quote(testvectors))
    with pytest.raises(CollateralExpired) as info:
        verify_tdx(evidence, roots=INTEL, now=now, collateral=dcap_collateral(testvectors))
    assert info.value.check == "tdx.collateral-expired"
    assert isinstance(info.value, CouldNotCheck)


def test_pck_outside_its_validity_is_a_chain_failure(testvectors: Path) -> None:
    evidence = evidence_for(dcap_quote(testvectors))
    with pytest.raises(CertificateChainInvalid, match="valid from 2025-02-06") as info:
        verify_tdx(
            evidence, roots=INTEL, now=datetime(2024, 1, 1, tzinfo=UTC), collateral=NoCollateral()
        )
    assert info.value.check == "tdx.pck-chain"


def test_missing_collateral_is_could_not_check(testvectors: Path) -> None:
    evidence = evidence_for(dcap_quote(testvectors))
    with pytest.raises(CollateralUnavailable) as info:
        verify_tdx(evidence, roots=INTEL, now=DCAP_TIME, collateral=NoCollateral())
    assert info.value.check == "tdx.collateral"
    assert "b0c06f000000" in info.value.reason


def test_wrong_report_data_is_a_binding_failure(testvectors: Path) -> None:
    quote = dcap_quote(testvectors)
    evidence = Evidence(platform="tdx", report=quote, report_data=bytes(64), provider="test")
    with pytest.raises(BindingMismatch) as info:
        verify_tdx(evidence, roots=INTEL, now=DCAP_TIME, collateral=dcap_collateral(testvectors))
    assert info.value.check == "tdx.report-data"


def test_real_quote_fails_against_the_simulator_root(testvectors: Path) -> None:
    sim_roots = TrustedRoots.from_certificates([simulator().pki.root.cert])
    with pytest.raises(CertificateChainInvalid) as info:
        verify_tdx(
            evidence_for(dcap_quote(testvectors)),
            roots=sim_roots,
            now=DCAP_TIME,
            collateral=dcap_collateral(testvectors),
        )
    assert info.value.check == "tdx.pck-chain"
    assert "Intel SGX Root CA" in info.value.reason


def test_no_roots_could_not_check(testvectors: Path) -> None:
    with pytest.raises(CouldNotCheck) as info:
        verify_tdx(
            evidence_for(dcap_quote(testvectors)),
            roots=TrustedRoots(),
            now=DCAP_TIME,
            collateral=NoCollateral(),
        )
    assert info.value.check == "tdx.roots"


def test_bad_calls_are_bad_input(testvectors: Path) -> None:
    evidence = evidence_for(dcap_quote(testvectors))
    with pytest.raises(BadInput):
        verify_tdx(evidence, roots=INTEL, now=datetime(2025, 7, 1), collateral=NoCollateral())
    snp = Evidence(platform="sev-snp", report=b"x", report_data=bytes(64), provider="t")
    with pytest.raises(BadInput):
        verify_tdx(snp, roots=INTEL, now=DCAP_TIME, collateral=NoCollateral())


def test_spr_e4_signatures_chains_and_collateral_verify(testvectors: Path) -> None:
    """Every signature and chain holds at 2023-07-01; the TCB is below every level listed.

    go-tdx-guest's sample TCB info lists SVNs above this platform's (SGX component 1 is
    3, every level needs 5), so Intel's evaluation finds no level: "TCB not supported".
    """
    quote = TdxQuote.from_bytes(spr_quote(testvectors))
    assert quote.body.mrtd.hex().startswith("6363b804") and quote.body.mrtd.hex().endswith("5cbb")
    check_quote_signature(quote)
    pck = verify_pck_chain(quote, INTEL, SPR_TIME)
    assert pck.extensions.fmspc.hex() == "50806f000000"
    assert pck.ca == "platform"
    check_qe_report_signature(quote, pck.leaf)
    check_ak_binding(quote)
    verified = verify_collateral(spr_collateral(testvectors), anchor=pck.anchor, now=SPR_TIME)
    check_revocation(pck, verified.root_crl, verified.pck_crl, SPR_TIME)
    assert verified.tcb_info.fmspc.hex() == "50806f000000"
    assert verified.tcb_info.evaluation_data_number == 15

    evidence = evidence_for(spr_quote(testvectors))
    assert evidence.report_data == quote.body.report_data
    source = StaticCollateral(tdx=[spr_collateral(testvectors)])
    with pytest.raises(TcbMismatch, match="no TCB level") as info:
        verify_tdx(evidence, roots=INTEL, now=SPR_TIME, collateral=source)
    assert info.value.check == "tdx.tcb-status"
    with pytest.raises(CollateralExpired):
        verify_tdx(evidence, roots=INTEL, now=SPR_TIME + timedelta(days=8), collateral=source)
