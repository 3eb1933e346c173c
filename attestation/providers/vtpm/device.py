"""The TPM seam: the few TPM commands the vTPM provider needs, bytes in and bytes out.

Implementations: :class:`attestation.providers.vtpm.tss.TssTpm` (a real TPM or swtpm via
tpm2-pytss) and :class:`attestation.simulated.vtpm.SoftwareTpm` (in memory, for tests).
Structures cross this seam in their TPM wire form (TPMT_PUBLIC, TPMS_ATTEST,
TPMT_SIGNATURE), so both sides share the parsers of :mod:`attestation.formats.tpm`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from attestation.errors import ProviderError
from attestation.formats.tpm import PcrSelection, PcrValues, Scheme


class QualifyingDataTooLarge(ProviderError):
    """The TPM refused the qualifying data as too large (TPM_RC_SIZE on TPM2B_DATA).

    TPM2B_DATA holds at most ``2 + the largest digest the TPM implements``: 66 bytes with
    SHA-512, 50 with SHA-384, 34 with SHA-256 only.
    """


@dataclass(frozen=True)
class LoadedKey:
    """A key the TPM holds: an implementation's handle and the key's TPMT_PUBLIC bytes."""

    handle: int
    public: bytes
    transient: bool


@runtime_checkable
class TpmDevice(Protocol):
    """A connection to one TPM."""

    def nv_read(self, index: int) -> bytes | None:
        """The whole content of an NV index, or None when the index is not defined."""
        ...

    def persistent_key(self, handle: int) -> LoadedKey | None:
        """A key persisted at ``handle`` (0x81xxxxxx), or None when there is none."""
        ...

    def create_primary(self, hierarchy: int, template: bytes) -> LoadedKey:
        """TPM2_CreatePrimary under ``hierarchy`` (TPM_RH_*) from a TPMT_PUBLIC template."""
        ...

    def quote(
        self, key: LoadedKey, qualifying_data: bytes, selection: PcrSelection, scheme: Scheme
    ) -> tuple[bytes, bytes]:
        """TPM2_Quote: (TPMS_ATTEST bytes, TPMT_SIGNATURE bytes).

        ``scheme`` NULL uses the key's own scheme. Raises QualifyingDataTooLarge.
        """
        ...

    def pcr_read(self, selection: PcrSelection) -> PcrValues:
        """The current values of the selected PCRs, in selection order."""
        ...

    def flush(self, key: LoadedKey) -> None:
        """Release a transient key (no-op for persistent keys)."""
        ...

    def close(self) -> None: ...
