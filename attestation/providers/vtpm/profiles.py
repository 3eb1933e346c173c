"""Where each cloud keeps its vTPM attestation key, and veritee's own AK template.

- **Azure confidential VMs**: the AK is persisted at handle ``0x81000003``; the HCL report
  binding it to the SNP/TDX hardware report is in NV ``0x01400001``; an AK certificate
  (issued by Azure's vTPM CA) may be in NV ``0x01C101D0``.
- **Google Cloud (Shielded/Confidential VM)**: the AK is a primary key in the endorsement
  hierarchy, recreated from a TPMT_PUBLIC template kept in NV; its certificate (DER, issued
  by Google's EK/AK CA) sits beside it: ECC P-256 template ``0x01C10003`` with certificate
  ``0x01C10002``; RSA-2048 template ``0x01C10001`` with certificate ``0x01C10000``.
- **Elsewhere** (``local``): a primary ECC P-256 restricted signing key from
  :func:`local_ak_template`, with no certificate, so no hardware binding.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from attestation.formats.hcl import HCL_NV_INDEX
from attestation.formats.tpm import Alg, EccCurve, EccKey, ObjectAttr, Scheme, TpmPublic
from attestation.formats.tpm.constants import TPM_RH_ENDORSEMENT

AZURE_AK_HANDLE = 0x81000003
AZURE_AK_CERT_NV_INDEX = 0x01C101D0
AZURE_HCL_NV_INDEX = HCL_NV_INDEX
GCP_AK_CERT_NV_INDEX_RSA = 0x01C10000
GCP_AK_TEMPLATE_NV_INDEX_RSA = 0x01C10001
GCP_AK_CERT_NV_INDEX_ECC = 0x01C10002
GCP_AK_TEMPLATE_NV_INDEX_ECC = 0x01C10003


class AkSource(StrEnum):
    """Which attestation key to quote with. ``auto`` picks Azure, then GCP, then local."""

    AUTO = "auto"
    AZURE = "azure"
    GCP = "gcp"
    LOCAL = "local"


@dataclass(frozen=True)
class GcpAkSlot:
    template_index: int
    cert_index: int


# ECC first: smaller, faster signatures.
GCP_AK_SLOTS = (
    GcpAkSlot(GCP_AK_TEMPLATE_NV_INDEX_ECC, GCP_AK_CERT_NV_INDEX_ECC),
    GcpAkSlot(GCP_AK_TEMPLATE_NV_INDEX_RSA, GCP_AK_CERT_NV_INDEX_RSA),
)

LOCAL_AK_HIERARCHY = TPM_RH_ENDORSEMENT
LOCAL_AK_ATTRIBUTES = (
    ObjectAttr.FIXED_TPM
    | ObjectAttr.FIXED_PARENT
    | ObjectAttr.SENSITIVE_DATA_ORIGIN
    | ObjectAttr.USER_WITH_AUTH
    | ObjectAttr.NO_DA
    | ObjectAttr.RESTRICTED
    | ObjectAttr.SIGN_ENCRYPT
)


def local_ak_template() -> bytes:
    """TPMT_PUBLIC template of veritee's AK: ECC P-256, ECDSA-SHA256, restricted signing."""
    return TpmPublic(
        name_alg=Alg.SHA256,
        attributes=LOCAL_AK_ATTRIBUTES,
        key=EccKey(EccCurve.NIST_P256, b"", b""),
        scheme=Scheme(Alg.ECDSA, Alg.SHA256),
    ).to_bytes()


def default_scheme(public: TpmPublic) -> Scheme:
    """The signing scheme to ask for: NULL (the key's own) unless the key leaves it open."""
    if public.scheme.scheme != Alg.NULL:
        return Scheme()
    if public.type == Alg.RSA:
        return Scheme(Alg.RSASSA, Alg.SHA256)
    return Scheme(Alg.ECDSA, Alg.SHA256)


def trim_der(data: bytes) -> bytes:
    """A DER certificate read from an NV index, without the index's padding after it."""
    if len(data) >= 4 and data[0] == 0x30 and data[1] & 0x80:
        width = data[1] & 0x7F
        if 1 <= width <= 4 and len(data) >= 2 + width:
            end = 2 + width + int.from_bytes(data[2 : 2 + width], "big")
            if end <= len(data):
                return data[:end]
    return data
