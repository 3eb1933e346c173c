"""verify_tdx on simulated evidence: trust, TCB evaluation branches, revocation, bundles."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from attestation.document import AttestationDocument
from attestation.evidence import Evidence
from attestation.formats.tdx import CertificationData, TdxQuote
from attestation.keyset import Keyset
from attestation.simulated.tdx import SimulatedTdx, SimulatedTdxProvider
from attestation.simulated.tdx_collateral import bundle_json, default_qe_identity, default_tcb_info
from tests.helpers.tdx import SIM_TIME, simulator
from transcript.keys import SigningKey
from verifier.claims import VerifiedEvidence
from verifier.collateral import (
    CollateralExpired,
    CollateralInvalid,
    NoCollateral,
    StaticCollateral,
    TdxCollateral,
    load_bundle_file,
)
from verifier.errors import (
    BindingMismatch,
    CertificateChainInvalid,
    CouldNotCheck,
    EvidenceSignatureInvalid,
    PolicyViolation,
    TcbMismatch,
)
from verifier.evidence import verify_attestation, verify_evidence
from verifier.policy import Policy
from verifier.tdx import converge, verify_tdx
from verifier.trust import TrustedRoots

SIM = simulator()
ROOTS = TrustedRoots.from_certificates([SIM.pki.root.cert])
NOW = SIM_TIME + timedelta(hours=1)
DATA = bytes(range(64))


def _verify(
    sim: SimulatedTdx = SIM,
    *,
    tcb_info: dict[str, Any] | None = None,
    qe_identity: dict[str, Any] | None = None,
    revoked: tuple[int, ...] = (),
    roots: TrustedRoots = ROOTS,
    quote: bytes | None = None,
) -> VerifiedEvidence:
    collateral = sim.collateral(
        SIM_TIME, tcb_info=tcb_info, qe_identity=qe_identity, revoked=revoked
    )
    evidence = Evidence(
        platform="tdx",
        report=quote if quote is not None else sim.quote(DATA),
        report_data=DATA,
        provider="simulated-tdx",
        collateral=collateral,
    )
    return verify_tdx(evidence, roots=roots, now=NOW, collateral=NoCollateral())


def _tcb_info(sim: SimulatedTdx = SIM) -> dict[str, Any]:
    return copy.deepcopy(default_tcb_info(sim.platform_tcb, SIM_TIME))


def _qe_identity(sim: SimulatedTdx = SIM) -> dict[str, Any]:
    return copy.deepcopy(default_qe_identity(sim.platform_tcb, SIM_TIME))


def test_simulated_evidence_verifies_with_the_simulator_root(tmp_path: Path) -> None:
    sim = SimulatedTdx.open(tmp_path, now=SIM_TIME)
    evidence = SimulatedTdxProvider(sim, clock=lambda: SIM_TIME).get_evidence(DATA)
    roots = TrustedRoots.from_paths([tmp_path / "roots"])
    claims = verify_tdx(evidence, roots=roots, now=NOW, collateral=NoCollateral())
    assert claims.tcb["status"] == "UpToDate"
    assert claims.tcb["fmspc"] == "00ee0f000000"
    assert claims.measurements["mrtd"] == sim.config.mrtd.hex()
    assert claims.details["collateral"]["origin"] == "evidence"
    assert "Simulated" in claims.signer


def test_simulated_evidence_fails_against_the_real_intel_root() -> None:
    with pytest.raises(CertificateChainInvalid) as info:
        _verify(roots=TrustedRoots.shipped("intel-sgx"))
    assert info.value.check == "tdx.pck-chain"


@pytest.mark.parametrize(("version", "tdx15"), [(5, False), (5, True)])
def test_v5_quotes_verify(version: int, tdx15: bool) -> None:
    claims = _verify(quote=SIM.quote(DATA, version=version, tdx15=tdx15))
    assert claims.details["quote_version"] == 5
    assert claims.details["body_type"] == (3 if tdx15 else 2)
    assert ("mrservicetd" in claims.details) is tdx15


def test_debug_td_is_reported() -> None:
    sim = simulator(debug=True)
    claims = _verify(sim, roots=TrustedRoots.from_certificates([sim.pki.root.cert]))
    assert claims.debug is True
    assert claims.details["td_attributes"] == "0100001000000000"


def test_bundle_file_from_the_simulator_loads_and_verifies(tmp_path: Path) -> None:
    path = tmp_path / "collateral.json"
    path.write_bytes(bundle_json(SIM.collateral(SIM_TIME)))
    bare = SimulatedTdxProvider(SIM, attach_collateral=False).get_evidence(DATA)
    claims = verify_tdx(bare, roots=ROOTS, now=NOW, collateral=load_bundle_file(path))
    assert claims.details["collateral"]["origin"] == str(path)


def test_the_configured_source_wins_over_carried_collateral() -> None:
    evidence = SimulatedTdxProvider(SIM, clock=lambda: SIM_TIME).get_evidence(DATA)
    stale_source = StaticCollateral(tdx=[_set(SIM.collateral(SIM_TIME - timedelta(days=60)))])
    with pytest.raises(CollateralExpired):
        verify_tdx(evidence, roots=ROOTS, now=NOW, collateral=stale_source)


def _set(carried: dict[str, bytes]) -> TdxCollateral:
    found = TdxCollateral.from_evidence(carried)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("platform", "qe", "expected"),
    [
        ("SWHardeningNeeded", "UpToDate", "SWHardeningNeeded"),
        ("ConfigurationNeeded", "UpToDate", "ConfigurationNeeded"),
        ("ConfigurationAndSWHardeningNeeded", "UpToDate", "ConfigurationAndSWHardeningNeeded"),
        ("OutOfDate", "UpToDate", "OutOfDate"),
        ("UpToDate", "OutOfDate", "OutOfDate"),
        ("SWHardeningNeeded", "OutOfDate", "OutOfDate"),
        ("ConfigurationNeeded", "OutOfDate", "OutOfDateConfigurationNeeded"),
        ("OutOfDateConfigurationNeeded", "UpToDate", "OutOfDateConfigurationNeeded"),
    ],
)
def test_tcb_statuses_and_their_convergence(platform: str, qe: str, expected: str) -> None:
    tcb_info = _tcb_info()
    tcb_info["tcbLevels"][0]["tcbStatus"] = platform
    tcb_info["tcbLevels"][0]["advisoryIDs"] = ["INTEL-SA-00999", "INTEL-SA-00111"]
    qe_identity = _qe_identity()
    qe_identity["tcbLevels"][0]["tcbStatus"] = qe
    qe_identity["tcbLevels"][0]["advisoryIDs"] = ["INTEL-SA-00111", "INTEL-SA-00500"]
    claims = _verify(tcb_info=tcb_info, qe_identity=qe_identity)
    assert claims.tcb["status"] == expected
    assert claims.tcb["advisory_ids"] == ["INTEL-SA-00111", "INTEL-SA-00500", "INTEL-SA-00999"]
    assert claims.details["platform_tcb"]["status"] == platform
    assert claims.details["qe"]["tcb_status"] == qe


def test_an_out_of_date_tdx_module_makes_the_platform_out_of_date() -> None:
    tcb_info = _tcb_info()
    tcb_info["tdxModuleIdentities"][0]["tcbLevels"] = [
        {"tcb": {"isvsvn": 9}, "tcbDate": "2026-01-01T00:00:00Z", "tcbStatus": "UpToDate"},
        {
            "tcb": {"isvsvn": 1},
            "tcbDate": "2025-01-01T00:00:00Z",
            "tcbStatus": "OutOfDate",
            "advisoryIDs": ["INTEL-SA-01234"],
        },
    ]
    claims = _verify(tcb_info=tcb_info)
    assert claims.tcb["status"] == "OutOfDate"
    assert claims.tcb["advisory_ids"] == ["INTEL-SA-01234"]
    assert claims.details["platform_tcb"]["module_status"] == "OutOfDate"


def test_the_first_level_the_platform_meets_is_chosen() -> None:
    tcb_info = _tcb_info()
    tcb_info["tcbLevels"][0]["tcb"]["pcesvn"] = SIM.config.pce_svn + 1  # newer than this PCE
    claims = _verify(tcb_info=tcb_info)
    assert claims.tcb["status"] == "OutOfDate"
    assert claims.tcb["advisory_ids"] == ["INTEL-SA-00000"]


def test_module_major_version_skips_the_first_two_tdx_components() -> None:
    tcb_info = _tcb_info()
    tcb_info["tcbLevels"][0]["tcb"]["tdxtcbcomponents"][0]["svn"] = 200  # covered by TDX_01
    tcb_info["tcbLevels"][0]["tcb"]["tdxtcbcomponents"][1]["svn"] = 200
    assert _verify(tcb_info=tcb_info).tcb["status"] == "UpToDate"
    tcb_info["tcbLevels"][0]["tcb"]["tdxtcbcomponents"][2]["svn"] = 200
    assert _verify(tcb_info=tcb_info).tcb["status"] == "OutOfDate"


@pytest.mark.parametrize(
    ("change", "check", "match"),
    [
        (lambda t, q: t["tcbLevels"][0].update(tcbStatus="Revoked"), "tdx.tcb-status", "Revoked"),
        (lambda t, q: q["tcbLevels"][0].update(tcbStatus="Revoked"), "tdx.tcb-status", "Revoked"),
        (
            lambda t, q: t.update(tcbLevels=[_unreachable()]),
            "tdx.tcb-status",
            "no TCB level",
        ),
        (lambda t, q: t.update(fmspc="00AA00000000"), "tdx.fmspc", "FMSPC"),
        (lambda t, q: t.update(pceId="0100"), "tdx.fmspc", "PCE-ID"),
        (lambda t, q: t["tdxModuleIdentities"][0].update(id="TDX_02"), "tdx.tdx-module", "TDX_01"),
        (
            lambda t, q: t["tdxModuleIdentities"][0].update(mrsigner="11" * 48),
            "tdx.tdx-module",
            "MRSIGNERSEAM",
        ),
        (
            lambda t, q: t["tdxModuleIdentities"][0].update(attributes="0100000000000000"),
            "tdx.tdx-module",
            "SEAMATTRIBUTES",
        ),
        (
            lambda t, q: t["tdxModuleIdentities"][0]["tcbLevels"][0]["tcb"].update(isvsvn=99),
            "tdx.tdx-module",
            "below",
        ),
        (lambda t, q: q.update(mrsigner="00" * 32), "tdx.qe-identity", "MRSIGNER"),
        (lambda t, q: q.update(isvprodid=1), "tdx.qe-identity", "ISVPRODID"),
        (
            lambda t, q: q.update(miscselect="01000000", miscselectMask="FFFFFFFF"),
            "tdx.qe-identity",
            "MISCSELECT",
        ),
        (
            lambda t, q: q.update(
                attributes="15000000000000000000000000000001", attributesMask="FF" * 16
            ),
            "tdx.qe-identity",
            "ATTRIBUTES",
        ),
        (lambda t, q: q["tcbLevels"][0]["tcb"].update(isvsvn=99), "tdx.qe-identity", "below"),
    ],
)
def test_tcb_evaluation_failures(change: Any, check: str, match: str) -> None:
    tcb_info, qe_identity = _tcb_info(), _qe_identity()
    change(tcb_info, qe_identity)
    with pytest.raises(TcbMismatch, match=match) as info:
        _verify(tcb_info=tcb_info, qe_identity=qe_identity)
    assert info.value.check == check


def _unreachable() -> dict[str, Any]:
    level = copy.deepcopy(_tcb_info()["tcbLevels"][0])
    level["tcb"]["sgxtcbcomponents"][0]["svn"] = 255
    return level


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda t, q: t.update(id="SGX"), "must be 'TDX'"),
        (lambda t, q: t.update(version=2), "version 3"),
        (lambda t, q: t.update(tcbLevels=[]), "empty"),
        (
            lambda t, q: t["tcbLevels"][0]["tcb"].update(sgxtcbcomponents=[{"svn": 1}]),
            "16 components",
        ),
        (lambda t, q: t["tcbLevels"][0].update(tcbStatus="Fine"), "not a known TCB status"),
        (lambda t, q: t.update(issueDate="yesterday"), "ISO 8601"),
        (lambda t, q: t.update(fmspc="xyz"), "hex"),
        (lambda t, q: q.update(id="QE"), "must be 'TD_QE'"),
        (lambda t, q: q.update(version=1), "version 2"),
    ],
)
def test_signed_but_malformed_collateral_is_invalid(change: Any, match: str) -> None:
    tcb_info, qe_identity = _tcb_info(), _qe_identity()
    change(tcb_info, qe_identity)
    with pytest.raises(CollateralInvalid, match=match):
        _verify(tcb_info=tcb_info, qe_identity=qe_identity)


def test_a_revoked_pck_certificate_fails() -> None:
    with pytest.raises(CertificateChainInvalid, match="revoked") as info:
        _verify(revoked=(SIM.pki.pck.cert.serial_number,))
    assert info.value.check == "tdx.crl"
    with pytest.raises(CertificateChainInvalid, match="revoked"):
        _verify(revoked=(SIM.pki.pck_ca.cert.serial_number,))
    with pytest.raises(CertificateChainInvalid, match="revoked"):
        _verify(revoked=(SIM.pki.tcb_signing.cert.serial_number,))


def test_collateral_from_another_root_cannot_judge_this_quote() -> None:
    other = simulator()
    both = TrustedRoots.from_certificates([SIM.pki.root.cert, other.pki.root.cert])
    evidence = Evidence(
        platform="tdx",
        report=SIM.quote(DATA),
        report_data=DATA,
        provider="t",
        collateral=other.collateral(SIM_TIME),
    )
    with pytest.raises(CertificateChainInvalid) as info:
        verify_tdx(evidence, roots=both, now=NOW, collateral=NoCollateral())
    assert info.value.check == "tdx.tcb-signing-chain"


@pytest.mark.parametrize("days", [-1, 31])
def test_collateral_outside_its_window_could_not_check(days: int) -> None:
    evidence = SimulatedTdxProvider(SIM, clock=lambda: SIM_TIME).get_evidence(DATA)
    with pytest.raises(CollateralExpired) as info:
        verify_tdx(
            evidence, roots=ROOTS, now=SIM_TIME + timedelta(days=days), collateral=NoCollateral()
        )
    assert info.value.check == "tdx.collateral-expired"


def test_a_quote_without_a_pck_chain_could_not_check() -> None:
    quote = TdxQuote.from_bytes(SIM.quote(DATA))
    qe = quote.signature_data.qe
    ppid_only = type(qe).build(
        qe.qe_report, qe.qe_report_signature, qe.qe_auth_data, CertificationData(3, bytes(400))
    )
    data = type(quote.signature_data)(
        quote.signature_data.signature,
        quote.signature_data.attestation_key,
        CertificationData.qe_report(ppid_only),
    )
    raw = type(quote)(quote.header, quote.body, data).to_bytes()
    with pytest.raises(CouldNotCheck, match="type 3") as info:
        _verify(quote=raw)
    assert info.value.check == "tdx.pck-chain"


def test_tdreport_evidence_could_not_check() -> None:
    report = SIM.tdreport(DATA)
    evidence = Evidence(
        platform="tdx", report=report, report_data=DATA, provider="tdx-guest-tdreport"
    )
    with pytest.raises(CouldNotCheck) as info:
        verify_tdx(evidence, roots=ROOTS, now=NOW, collateral=NoCollateral())
    assert info.value.check == "tdx.tdreport"
    tampered = bytearray(report)
    tampered[512 + 16] ^= 1  # MRTD: no longer matches TEE_INFO_HASH
    bad = Evidence(platform="tdx", report=bytes(tampered), report_data=DATA, provider="t")
    with pytest.raises(EvidenceSignatureInvalid, match="TEE_INFO_HASH"):
        verify_tdx(bad, roots=ROOTS, now=NOW, collateral=NoCollateral())
    other = Evidence(platform="tdx", report=report, report_data=bytes(64), provider="t")
    with pytest.raises(BindingMismatch):
        verify_tdx(other, roots=ROOTS, now=NOW, collateral=NoCollateral())


def test_converge_table() -> None:
    assert converge("UpToDate", "UpToDate") == "UpToDate"
    assert converge("UpToDate", "Revoked") == "Revoked"
    assert converge("OutOfDate", "OutOfDate") == "OutOfDate"
    assert (
        converge("ConfigurationAndSWHardeningNeeded", "OutOfDate") == "OutOfDateConfigurationNeeded"
    )
    assert converge("SWHardeningNeeded", "SWHardeningNeeded") == "SWHardeningNeeded"


def test_claims_serialise_to_json() -> None:
    assert json.loads(json.dumps(_verify().to_dict()))["tcb"]["status"] == "UpToDate"


def test_the_dispatcher_reaches_verify_tdx() -> None:

    evidence = SimulatedTdxProvider(SIM, clock=lambda: SIM_TIME).get_evidence(DATA)
    claims = verify_evidence(evidence, roots=ROOTS, now=NOW)  # collateral=None: carried only
    assert claims.platform == "tdx"
    assert claims.tcb["status"] == "UpToDate"
    bare = SimulatedTdxProvider(SIM, attach_collateral=False).get_evidence(DATA)
    with pytest.raises(CouldNotCheck):
        verify_evidence(bare, roots=ROOTS, now=NOW)


def test_a_simulated_tdx_enclave_passes_the_default_policy() -> None:

    keyset = Keyset(
        signing_public_key=SigningKey.generate().public_key,
        image_digest="sha256:" + "22" * 32,
        platform="tdx",
        not_before_ms=0,
        not_after_ms=2**40,
    )
    nonce = bytes(range(32))
    provider = SimulatedTdxProvider(SIM, clock=lambda: SIM_TIME)
    document = AttestationDocument(provider.get_evidence(keyset.report_data(nonce)), keyset, nonce)
    appraisal = verify_attestation(document, roots=ROOTS, policy=Policy(), now=NOW, nonce=nonce)
    assert appraisal is not None
    debug = simulator(debug=True)
    debug_doc = AttestationDocument(
        SimulatedTdxProvider(debug, clock=lambda: SIM_TIME).get_evidence(keyset.report_data(nonce)),
        keyset,
        nonce,
    )
    with pytest.raises(PolicyViolation, match="debug"):
        verify_attestation(
            debug_doc,
            roots=TrustedRoots.from_certificates([debug.pki.root.cert]),
            policy=Policy(),
            now=NOW,
            nonce=nonce,
        )
