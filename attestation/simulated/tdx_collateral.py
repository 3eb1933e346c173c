"""Collateral for the simulated TDX platform, signed like Intel's: TCB info and QE identity
JSON signed by the TCB Signing key over their exact bytes, and the two CRLs.

The output maps the collateral bundle's key names to raw bytes (JSON, 64-byte r ‖ s
signatures, PEM chains, DER CRLs), which is also how :class:`Evidence` carries it.
``bundle_json`` renders the same set in dcap-qvl's JSON shape for ``--collateral``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from attestation.simulated.tdx_pki import SimulatedPki

VALIDITY = timedelta(days=30)


@dataclass(frozen=True)
class PlatformTcb:
    """The simulated platform's TCB, as its PCK certificate and quotes report it."""

    fmspc: bytes
    pce_id: bytes
    sgx_components: tuple[int, ...]
    pce_svn: int
    tee_tcb_svn: bytes
    mrsignerseam: bytes
    qe_mrsigner: bytes
    qe_isv_prod_id: int
    qe_isv_svn: int


def sign_raw(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ECDSA P-256 SHA-256 as 64 raw bytes (r ‖ s), the encoding quotes and collateral use."""
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _components(svns: Iterable[int]) -> list[dict[str, int]]:
    return [{"svn": svn} for svn in svns]


def default_tcb_info(tcb: PlatformTcb, now: datetime) -> dict[str, Any]:
    """A TCB info in which the simulated platform is UpToDate (one older OutOfDate level)."""
    tdx_now = list(tcb.tee_tcb_svn)
    older = [max(v - 1, 0) for v in tcb.sgx_components]
    return {
        "id": "TDX",
        "version": 3,
        "issueDate": _time(now),
        "nextUpdate": _time(now + VALIDITY),
        "fmspc": tcb.fmspc.hex().upper(),
        "pceId": tcb.pce_id.hex().upper(),
        "tcbType": 0,
        "tcbEvaluationDataNumber": 1,
        "tdxModule": {
            "mrsigner": tcb.mrsignerseam.hex().upper(),
            "attributes": "0000000000000000",
            "attributesMask": "FFFFFFFFFFFFFFFF",
        },
        "tdxModuleIdentities": [
            {
                "id": f"TDX_{tcb.tee_tcb_svn[1]:02X}",
                "mrsigner": tcb.mrsignerseam.hex().upper(),
                "attributes": "0000000000000000",
                "attributesMask": "FFFFFFFFFFFFFFFF",
                "tcbLevels": [
                    {
                        "tcb": {"isvsvn": tcb.tee_tcb_svn[0]},
                        "tcbDate": _time(now),
                        "tcbStatus": "UpToDate",
                    }
                ],
            }
        ],
        "tcbLevels": [
            {
                "tcb": {
                    "sgxtcbcomponents": _components(tcb.sgx_components),
                    "pcesvn": tcb.pce_svn,
                    "tdxtcbcomponents": _components(tdx_now),
                },
                "tcbDate": _time(now),
                "tcbStatus": "UpToDate",
            },
            {
                "tcb": {
                    "sgxtcbcomponents": _components(older),
                    "pcesvn": max(tcb.pce_svn - 1, 0),
                    "tdxtcbcomponents": _components([0] * 16),
                },
                "tcbDate": _time(now - timedelta(days=365)),
                "tcbStatus": "OutOfDate",
                "advisoryIDs": ["INTEL-SA-00000"],
            },
        ],
    }


def default_qe_identity(tcb: PlatformTcb, now: datetime) -> dict[str, Any]:
    return {
        "id": "TD_QE",
        "version": 2,
        "issueDate": _time(now),
        "nextUpdate": _time(now + VALIDITY),
        "tcbEvaluationDataNumber": 1,
        "miscselect": "00000000",
        "miscselectMask": "FFFFFFFF",
        "attributes": "11000000000000000000000000000000",
        "attributesMask": "FBFFFFFFFFFFFFFF0000000000000000",
        "mrsigner": tcb.qe_mrsigner.hex().upper(),
        "isvprodid": tcb.qe_isv_prod_id,
        "tcbLevels": [
            {"tcb": {"isvsvn": tcb.qe_isv_svn}, "tcbDate": _time(now), "tcbStatus": "UpToDate"}
        ],
    }


def _crl(
    issuer_cert: x509.Certificate,
    issuer_key: ec.EllipticCurvePrivateKey,
    now: datetime,
    revoked: Iterable[int],
) -> bytes:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_cert.subject)
        .last_update(now)
        .next_update(now + VALIDITY)
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build()
        )
    crl = builder.sign(issuer_key, hashes.SHA256())
    return crl.public_bytes(serialization.Encoding.DER)


def build_collateral(
    pki: SimulatedPki,
    *,
    now: datetime,
    tcb_info: dict[str, Any],
    qe_identity: dict[str, Any],
    revoked: Iterable[int] = (),
) -> dict[str, bytes]:
    """Sign ``tcb_info``/``qe_identity`` and issue CRLs (``revoked`` serials appear in both)."""
    revoked = tuple(revoked)
    tcb_raw = json.dumps(tcb_info, separators=(",", ":")).encode()
    qe_raw = json.dumps(qe_identity, separators=(",", ":")).encode()
    signer = pki.tcb_signing.key
    return {
        "tcb_info": tcb_raw,
        "tcb_info_signature": sign_raw(signer, tcb_raw),
        "tcb_info_issuer_chain": pki.tcb_chain_pem,
        "qe_identity": qe_raw,
        "qe_identity_signature": sign_raw(signer, qe_raw),
        "qe_identity_issuer_chain": pki.tcb_chain_pem,
        "pck_crl": _crl(pki.pck_ca.cert, pki.pck_ca.key, now, revoked),
        "pck_crl_issuer_chain": pki.pck_ca_chain_pem,
        "root_ca_crl": _crl(pki.root.cert, pki.root.key, now, revoked),
    }


def bundle_json(collateral: dict[str, bytes]) -> bytes:
    """The collateral in dcap-qvl's ``QuoteCollateralV3`` JSON shape."""
    text = ("tcb_info", "qe_identity")
    pem = ("tcb_info_issuer_chain", "qe_identity_issuer_chain", "pck_crl_issuer_chain")
    doc = {
        key: value.decode() if key in text or key in pem else value.hex()
        for key, value in collateral.items()
    }
    return json.dumps(doc, indent=2).encode()
