"""SEV-SNP evidence from a real guest: configfs-tsm or ``/dev/sev-guest``.

Both providers hand back the report exactly as the firmware made it, plus the
certificates the host attached (the GHCB certificate table) by role in
``Evidence.certificates``. They check that the report parses and binds the requested
report data, so that a device fault surfaces here rather than as a verification failure.
Both take their device as a constructor argument (a root path, a device path, or an
object); nothing here touches a real device unless asked to.
"""

from __future__ import annotations

from pathlib import Path

from attestation.errors import MalformedEvidence, PlatformUnavailable, ProviderError
from attestation.evidence import Evidence, Platform, check_report_data
from attestation.formats.snp import SnpReport
from attestation.formats.snp_certtable import CertTable
from attestation.providers.configfs_tsm import (
    DEFAULT_ROOT,
    LinuxTsmReports,
    TsmReports,
    request_report,
)
from attestation.providers.sev_guest import DEFAULT_DEVICE, SevGuestDevice

TSM_PROVIDER = "sev_guest"


def snp_evidence(provider: str, report: bytes, report_data: bytes, certs: bytes) -> Evidence:
    """Evidence from a device's answer; raise ProviderError if it is not what was asked."""
    try:
        parsed = SnpReport.from_bytes(report)
        certificates = CertTable.from_bytes(certs).by_role()
    except MalformedEvidence as exc:
        raise ProviderError(f"the SEV-SNP device returned malformed data: {exc}") from None
    if parsed.report_data != report_data:
        raise ProviderError("the SEV-SNP report binds other report data than requested")
    return Evidence(
        platform="sev-snp",
        report=report,
        report_data=report_data,
        provider=provider,
        certificates=certificates,
    )


class ConfigfsTsmSnpProvider:
    """Reports through configfs-tsm (Linux 6.7+). ``vmpl``: the ``privlevel`` to request."""

    name = "sev-snp-configfs-tsm"
    platform: Platform = "sev-snp"

    def __init__(
        self,
        reports: TsmReports | None = None,
        *,
        root: Path = DEFAULT_ROOT,
        vmpl: int | None = None,
    ) -> None:
        if vmpl is not None and not 0 <= vmpl <= 3:
            raise ValueError("a VMPL is 0 to 3")
        self.reports = reports if reports is not None else LinuxTsmReports(root)
        self.vmpl = vmpl

    def get_evidence(self, report_data: bytes) -> Evidence:
        report_data = check_report_data(report_data)
        answer = request_report(self.reports, report_data, privlevel=self.vmpl)
        if answer.provider != TSM_PROVIDER:
            raise PlatformUnavailable(
                f"configfs-tsm is served by {answer.provider!r}, not {TSM_PROVIDER!r}"
            )
        return snp_evidence(self.name, answer.outblob, report_data, answer.auxblob)


class SevGuestSnpProvider:
    """Reports through the ``/dev/sev-guest`` ioctls; ``extended`` also fetches the certificates."""

    name = "sev-snp-sev-guest"
    platform: Platform = "sev-snp"

    def __init__(
        self,
        device: SevGuestDevice | None = None,
        *,
        path: Path = DEFAULT_DEVICE,
        vmpl: int = 0,
        extended: bool = True,
    ) -> None:
        if not 0 <= vmpl <= 3:
            raise ValueError("a VMPL is 0 to 3")
        self.device = device if device is not None else SevGuestDevice(path)
        self.vmpl = vmpl
        self.extended = extended

    def get_evidence(self, report_data: bytes) -> Evidence:
        report_data = check_report_data(report_data)
        if not self.extended:
            report = self.device.get_report(report_data, self.vmpl)
            return snp_evidence(self.name, report, report_data, b"")
        answer = self.device.get_ext_report(report_data, self.vmpl)
        return snp_evidence(self.name, answer.report, report_data, answer.certs)
