"""vTPM confidential VMs (Azure CVM, Google Cloud Confidential VM, any TPM 2.0).

- :class:`VtpmProvider`: quotes PCRs with the 64-byte binding as qualifying data.
- :class:`TpmDevice`: the TPM seam; :class:`~attestation.providers.vtpm.tss.TssTpm` is the
  tpm2-pytss implementation (``vtpm`` extra), :class:`attestation.simulated.vtpm.SoftwareTpm`
  the in-memory fake.
- :mod:`.profiles`: the handles and NV indices that Azure and GCP provision.
"""

from attestation.providers.vtpm.device import LoadedKey, QualifyingDataTooLarge, TpmDevice
from attestation.providers.vtpm.profiles import AkSource
from attestation.providers.vtpm.provider import DEFAULT_PCRS, VtpmProvider

__all__ = [
    "DEFAULT_PCRS",
    "AkSource",
    "LoadedKey",
    "QualifyingDataTooLarge",
    "TpmDevice",
    "VtpmProvider",
]
