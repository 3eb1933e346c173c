"""TPM 2.0 structures that a vTPM quote is made of. Parse and build; no I/O, no checks.

- :mod:`.attest`: TPMS_ATTEST of a quote (``QuoteAttest``), what the AK signs.
- :mod:`.signature`: TPMT_SIGNATURE (``TpmSignature``): ECDSA, RSASSA, RSAPSS.
- :mod:`.public`: TPMT_PUBLIC of the attestation key (``TpmPublic``) and its TPM name.
- :mod:`.pcrs`: TPML_PCR_SELECTION (``PcrSelection``) and the PCR values beside a quote.
- :mod:`.wire`: the big-endian reader every parser uses; errors name field and offset.

Everything is parsed by its size fields and must be consumed exactly; malformed bytes raise
:class:`~attestation.errors.MalformedEvidence`. tpm2-pytss is never needed here.
"""

from attestation.formats.tpm.attest import ClockInfo, QuoteAttest
from attestation.formats.tpm.constants import (
    AK_REQUIRED_ATTRIBUTES,
    HASHES,
    HASHES_BY_NAME,
    TPM_GENERATED_VALUE,
    TPM_ST_ATTEST_QUOTE,
    Alg,
    EccCurve,
    HashAlg,
    ObjectAttr,
)
from attestation.formats.tpm.pcrs import PcrBank, PcrSelection, PcrValues
from attestation.formats.tpm.public import EccKey, RsaKey, Scheme, SymDef, TpmPublic
from attestation.formats.tpm.signature import TpmSignature

__all__ = [
    "AK_REQUIRED_ATTRIBUTES",
    "HASHES",
    "HASHES_BY_NAME",
    "TPM_GENERATED_VALUE",
    "TPM_ST_ATTEST_QUOTE",
    "Alg",
    "ClockInfo",
    "EccCurve",
    "EccKey",
    "HashAlg",
    "ObjectAttr",
    "PcrBank",
    "PcrSelection",
    "PcrValues",
    "QuoteAttest",
    "RsaKey",
    "Scheme",
    "SymDef",
    "TpmPublic",
    "TpmSignature",
]
