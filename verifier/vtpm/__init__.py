"""Verification of vTPM evidence (Azure confidential VMs, Google Cloud, any TPM 2.0).

:func:`verify_vtpm` checks, each under its own name:

- ``vtpm.ak-attributes``: the AK is a restricted signing key fixed to its TPM;
- ``vtpm.quote-signature``: the AK's signature over the TPMS_ATTEST bytes;
- ``vtpm.nonce``: the quote's qualifying data is the 64-byte report data (or its SHA-256);
- ``vtpm.pcr-digest``: the PCR values that came with the quote hash to its pcrDigest;
- ``vtpm.ak-binding.*``: why the AK is trusted: an Azure HCL report (the hardware report
  verifies, its REPORT_DATA binds the runtime data, whose ``HCLAkPub`` is the AK) or an AK
  certificate chaining to a trusted root (Google Cloud). Without either: CouldNotCheck.

Only TPM structures are parsed here (no tpm2-pytss); no policy is applied.
"""

from verifier.vtpm.hardware import HARDWARE_VERIFIERS, HardwareVerifier
from verifier.vtpm.verify import pcr_measurements, verify_vtpm

__all__ = ["HARDWARE_VERIFIERS", "HardwareVerifier", "pcr_measurements", "verify_vtpm"]
