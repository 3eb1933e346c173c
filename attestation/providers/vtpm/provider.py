"""Evidence from a vTPM: a TPM2_Quote over the PCRs with the 64-byte binding as qualifying data.

The evidence (``platform="vtpm"``)::

    report                    TPMS_ATTEST bytes (the quote)
    extra["signature"]        TPMT_SIGNATURE bytes
    extra["ak_public"]        TPMT_PUBLIC of the attestation key
    extra["pcrs"]             the quoted PCR values (attestation.formats.tpm.pcrs encoding)
    extra["hcl_report"]       Azure only: the HCL report binding the AK to SNP/TDX hardware
    extra["td_quote"]         Azure TDX only: the TD quote made from the HCL's TDREPORT
    certificates["ak"]        the AK certificate (DER), where the cloud provisions one
    certificates[...]         Azure: the hardware report's certificates (``vcek``...), when
                              a ``hardware_certificates`` source is given

Qualifying data is the 64 bytes of report data. A TPM that does not implement SHA-512
cannot take 64 bytes (TPM2B_DATA holds 2 + its largest digest), so on TPM_RC_SIZE the
provider quotes ``sha256(report_data)`` (32 bytes) instead; the verifier accepts exactly
these two forms. PCRs are read after the quote and must hash to the quoted digest, so a
PCR extended in between is caught (the quote is then retried).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from attestation.errors import PlatformUnavailable, ProviderError
from attestation.evidence import Evidence, Platform, check_report_data
from attestation.formats.hcl import HclReport
from attestation.formats.tpm import PcrSelection, PcrValues, QuoteAttest, TpmPublic, TpmSignature
from attestation.formats.tpm.constants import TPM_RH_ENDORSEMENT
from attestation.providers.vtpm.device import LoadedKey, QualifyingDataTooLarge, TpmDevice
from attestation.providers.vtpm.profiles import (
    AZURE_AK_CERT_NV_INDEX,
    AZURE_AK_HANDLE,
    AZURE_HCL_NV_INDEX,
    GCP_AK_SLOTS,
    LOCAL_AK_HIERARCHY,
    AkSource,
    default_scheme,
    local_ak_template,
    trim_der,
)

DEFAULT_PCRS = PcrSelection.of("sha256", range(24))
QUOTE_ATTEMPTS = 3


@dataclass(frozen=True)
class _Ak:
    key: LoadedKey
    public: TpmPublic
    source: AkSource
    certificate: bytes | None
    hcl_report: bytes | None
    hardware_certificates: Mapping[str, bytes] = field(default_factory=dict)
    td_quote: bytes | None = None

    def certificates(self) -> dict[str, bytes]:
        certs = dict(self.hardware_certificates)
        if self.certificate:
            certs["ak"] = self.certificate
        return certs


class VtpmProvider:
    """An :class:`~attestation.evidence.EvidenceProvider` for vTPM confidential VMs."""

    name = "vtpm"
    platform: Platform = "vtpm"

    def __init__(
        self,
        device: TpmDevice,
        *,
        pcrs: PcrSelection = DEFAULT_PCRS,
        ak: AkSource | str = AkSource.AUTO,
        hardware_certificates: Callable[[], Mapping[str, bytes]] | None = None,
        td_quote: Callable[[bytes], bytes] | None = None,
    ) -> None:
        """Azure only, both called once when the Azure AK is loaded, both served in Azure by
        its instance metadata service:

        - ``hardware_certificates``: what certifies the HCL report's SNP report (``vcek``,
          ``ask``), added to the evidence's certificates;
        - ``td_quote``: TDREPORT -> the TD quote made from it, for an HCL report holding a
          TDREPORT (MAC'd, so not verifiable by itself); added as ``extra["td_quote"]``.
        """
        self._hardware_certificates = hardware_certificates
        self._td_quote = td_quote
        self._device = device
        self._pcrs = pcrs
        self._source = AkSource(ak)
        self._ak: _Ak | None = None
        self._lock = threading.Lock()

    def get_evidence(self, report_data: bytes) -> Evidence:
        report_data = check_report_data(report_data)
        with self._lock:
            ak = self._load_ak()
            attest, signature, pcrs = self._quote(ak, report_data)
        extra = {"signature": signature, "ak_public": ak.public.to_bytes(), "pcrs": pcrs}
        if ak.hcl_report is not None:
            extra["hcl_report"] = ak.hcl_report
        if ak.td_quote is not None:
            extra["td_quote"] = ak.td_quote
        return Evidence(
            platform="vtpm",
            provider=f"{self.name}/{ak.source.value}",
            report=attest,
            report_data=report_data,
            certificates=ak.certificates(),
            extra=extra,
        )

    def close(self) -> None:
        """Flush the AK if it is transient. The device itself belongs to the caller."""
        with self._lock:
            if self._ak is not None:
                self._device.flush(self._ak.key)
                self._ak = None

    # -- the attestation key -------------------------------------------------------------

    def _load_ak(self) -> _Ak:
        if self._ak is None:
            self._ak = self._find_ak()
        return self._ak

    def _find_ak(self) -> _Ak:
        source = self._source
        if source in (AkSource.AUTO, AkSource.AZURE):
            found = self._azure_ak()
            if found is not None or source == AkSource.AZURE:
                return _require(found, "no Azure AK (handle 0x81000003 and NV 0x01400001)")
        if source in (AkSource.AUTO, AkSource.GCP):
            found = self._gcp_ak()
            if found is not None or source == AkSource.GCP:
                return _require(found, "no GCP AK template in NV 0x01C10003 or 0x01C10001")
        key = self._device.create_primary(LOCAL_AK_HIERARCHY, local_ak_template())
        return _Ak(key, _parse_public(key), AkSource.LOCAL, None, None)

    def _azure_ak(self) -> _Ak | None:
        hcl = self._device.nv_read(AZURE_HCL_NV_INDEX)
        key = self._device.persistent_key(AZURE_AK_HANDLE)
        if hcl is None or key is None:
            return None
        report = HclReport.from_nv(hcl)
        cert = self._device.nv_read(AZURE_AK_CERT_NV_INDEX)
        hardware = dict(self._hardware_certificates()) if self._hardware_certificates else {}
        td_quote = None
        if report.platform == "tdx" and self._td_quote is not None:
            td_quote = self._td_quote(report.hardware_report)
        return _Ak(
            key,
            _parse_public(key),
            AkSource.AZURE,
            cert and trim_der(cert),
            report.to_bytes(),
            hardware,
            td_quote,
        )

    def _gcp_ak(self) -> _Ak | None:
        for slot in GCP_AK_SLOTS:
            template = self._device.nv_read(slot.template_index)
            if template is None:
                continue
            key = self._device.create_primary(TPM_RH_ENDORSEMENT, template)
            cert = self._device.nv_read(slot.cert_index)
            return _Ak(key, _parse_public(key), AkSource.GCP, cert and trim_der(cert), None)
        return None

    # -- the quote -----------------------------------------------------------------------

    def _quote(self, ak: _Ak, report_data: bytes) -> tuple[bytes, bytes, bytes]:
        scheme = default_scheme(ak.public)
        qualifying = report_data
        for _ in range(QUOTE_ATTEMPTS):
            try:
                attest, signature = self._device.quote(ak.key, qualifying, self._pcrs, scheme)
            except QualifyingDataTooLarge:
                if qualifying is not report_data:
                    raise
                qualifying = hashlib.sha256(report_data).digest()
                attest, signature = self._device.quote(ak.key, qualifying, self._pcrs, scheme)
            values = self._device.pcr_read(self._pcrs)
            if _matches(attest, signature, values):
                return attest, signature, values.to_bytes()
        raise ProviderError(f"PCRs kept changing during {QUOTE_ATTEMPTS} quotes")


def _matches(attest: bytes, signature: bytes, values: PcrValues) -> bool:
    quote = QuoteAttest.from_bytes(attest)
    if not quote.pcr_select.same_as(values.selection):
        raise ProviderError("the TPM quoted other PCRs than were asked for")
    return values.digest(TpmSignature.from_bytes(signature).hash) == quote.pcr_digest


def _parse_public(key: LoadedKey) -> TpmPublic:
    return TpmPublic.from_bytes(key.public)


def _require(found: _Ak | None, reason: str) -> _Ak:
    if found is None:
        raise PlatformUnavailable(reason)
    return found
