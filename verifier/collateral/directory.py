"""Collateral from a directory: for offline verification, and the fetcher's on-disk cache.

Layout (every file exactly as the vendor served it)::

    tdx/fmspc-<fmspc>/tcbinfo.json               Intel PCS body {"tcbInfo": …, "signature": …}
    tdx/fmspc-<fmspc>/tcbinfo.issuer-chain.pem   its TCB-Info-Issuer-Chain header, PEM
    tdx/qeidentity.json                          Intel PCS body {"enclaveIdentity": …, …}
    tdx/qeidentity.issuer-chain.pem              optional; defaults to the TCB info chain
    tdx/pckcrl-<platform|processor>.der          PCK CRL (DER or PEM)
    tdx/pckcrl-<platform|processor>.issuer-chain.pem
    tdx/rootcrl.der                              Intel SGX Root CA CRL (DER or PEM)
    amd/<Milan|Genoa|Turin>/<vcek|vlek>/cert_chain.pem   ASK or ASVK, then ARK
    amd/<product>/<vcek|vlek>/crl.der
    amd/<product>/vcek/<hwid hex>/<tcb key>.der           e.g. blSPL-03_teeSPL-00_…der

FMSPCs are lower-case hex in paths.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from attestation.errors import MalformedEvidence
from attestation.formats.pki import load_pem_certificates
from verifier.collateral.model import (
    AmdChain,
    AmdKeyType,
    AmdProduct,
    AmdTcb,
    PckCa,
    TdxCollateral,
    crl_der,
)
from verifier.collateral.source import unavailable
from verifier.errors import BadInput


class TdxPaths:
    """Where each TDX file lives under ``root``."""

    def __init__(self, root: Path, fmspc: str, ca: PckCa) -> None:
        tdx = root / "tdx"
        fmspc_dir = tdx / f"fmspc-{fmspc.lower()}"
        self.tcb_info = fmspc_dir / "tcbinfo.json"
        self.tcb_info_chain = fmspc_dir / "tcbinfo.issuer-chain.pem"
        self.qe_identity = tdx / "qeidentity.json"
        self.qe_identity_chain = tdx / "qeidentity.issuer-chain.pem"
        self.pck_crl = tdx / f"pckcrl-{ca}.der"
        self.pck_crl_chain = tdx / f"pckcrl-{ca}.issuer-chain.pem"
        self.root_crl = tdx / "rootcrl.der"


class AmdPaths:
    def __init__(self, root: Path, product: AmdProduct, key_type: AmdKeyType) -> None:
        self.dir = root / "amd" / product / key_type
        self.chain = self.dir / "cert_chain.pem"
        self.crl = self.dir / "crl.der"

    def vcek(self, hwid: bytes, tcb: AmdTcb) -> Path:
        return self.dir / hwid.hex() / f"{tcb.key()}.der"


class DirectoryCollateral:
    """Reads collateral files laid out as above; a missing file is "could not check"."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def tdx_collateral(self, *, fmspc: str, ca: PckCa, now: datetime) -> TdxCollateral:
        paths = TdxPaths(self.root, fmspc, ca)
        where = f"{self.root}"
        required = (
            paths.tcb_info,
            paths.tcb_info_chain,
            paths.qe_identity,
            paths.pck_crl,
            paths.pck_crl_chain,
            paths.root_crl,
        )
        missing = [str(p.relative_to(self.root)) for p in required if not p.is_file()]
        if missing:
            raise unavailable(f"TDX collateral for FMSPC {fmspc} ({', '.join(missing)})", where)
        qe_chain = paths.qe_identity_chain
        return TdxCollateral.from_pcs_responses(
            tcb_info_response=paths.tcb_info.read_bytes(),
            tcb_info_issuer_chain=paths.tcb_info_chain.read_bytes(),
            qe_identity_response=paths.qe_identity.read_bytes(),
            qe_identity_issuer_chain=qe_chain.read_bytes() if qe_chain.is_file() else None,
            pck_crl=paths.pck_crl.read_bytes(),
            pck_crl_issuer_chain=paths.pck_crl_chain.read_bytes(),
            root_ca_crl=paths.root_crl.read_bytes(),
            origin=where,
        )

    def amd_vcek(self, *, product: AmdProduct, hwid: bytes, tcb: AmdTcb) -> bytes:
        path = AmdPaths(self.root, product, "vcek").vcek(hwid, tcb)
        if not path.is_file():
            raise unavailable(f"{product} VCEK for this chip and TCB", str(self.root))
        return path.read_bytes()

    def amd_chain(self, *, product: AmdProduct, key_type: AmdKeyType) -> AmdChain:
        path = AmdPaths(self.root, product, key_type).chain
        if not path.is_file():
            raise unavailable(f"{product} {key_type} chain", str(self.root))
        return amd_chain_from_pem(path.read_bytes(), str(path))

    def amd_crl(self, *, product: AmdProduct, key_type: AmdKeyType, now: datetime) -> bytes:
        path = AmdPaths(self.root, product, key_type).crl
        if not path.is_file():
            raise unavailable(f"{product} {key_type} CRL", str(self.root))
        return crl_der(path.read_bytes(), str(path))


def amd_chain_from_pem(pem: bytes, what: str) -> AmdChain:
    """Split AMD KDS's ``cert_chain`` (intermediate, then root) into DER certificates."""
    try:
        certs = load_pem_certificates(pem, what)
    except MalformedEvidence as exc:
        raise BadInput("collateral.format", f"{what} is not PEM: {exc}") from None
    if len(certs) != 2:
        raise BadInput("collateral.format", f"{what} must hold two certificates, not {len(certs)}")
    return AmdChain(certs[0].public_bytes(Encoding.DER), certs[1].public_bytes(Encoding.DER))


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
