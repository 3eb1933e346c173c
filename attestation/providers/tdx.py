"""TDX evidence providers.

- :class:`TdxQuoteProvider` (``tdx-configfs-tsm``): a quote through configfs-tsm, which
  the kernel gets from the host's quoting service. This is the provider to use.
- :class:`TdxReportProvider` (``tdx-guest-tdreport``): a bare TDREPORT from
  ``/dev/tdx_guest``, for machines without a quoting service. A TDREPORT is MACed with a
  key only its CPU holds, so a remote verifier answers "could not check" for it: it is
  useful for local inspection, never for admission.

:func:`tdx_provider` picks the first that is present. Devices are injected (see
:mod:`attestation.providers.configfs_tsm` and :mod:`attestation.providers.tdx_guest`).
"""

from __future__ import annotations

from pathlib import Path

from attestation.errors import MalformedEvidence, PlatformUnavailable, ProviderError
from attestation.evidence import Evidence, Platform, check_report_data
from attestation.formats.tdx import TdReport, TdxQuote
from attestation.providers.configfs_tsm import (
    DEFAULT_ROOT,
    LinuxTsmReports,
    TsmReports,
    request_report,
)
from attestation.providers.tdx_guest import TdxGuestDevice

TSM_PROVIDER = "tdx_guest"


class TdxQuoteProvider:
    name = "tdx-configfs-tsm"
    platform: Platform = "tdx"

    def __init__(self, reports: TsmReports | None = None, *, root: Path = DEFAULT_ROOT) -> None:
        self.reports = reports if reports is not None else LinuxTsmReports(root)

    def get_evidence(self, report_data: bytes) -> Evidence:
        report_data = check_report_data(report_data)
        report = request_report(self.reports, report_data)
        if not report.outblob:
            raise ProviderError("configfs-tsm returned an empty outblob")
        if report.provider != TSM_PROVIDER:
            raise ProviderError(
                f"configfs-tsm provider is {report.provider!r}, not {TSM_PROVIDER!r}"
            )
        try:
            quote = TdxQuote.from_bytes(report.outblob)
        except MalformedEvidence as exc:
            raise ProviderError(f"configfs-tsm returned no TDX quote: {exc}") from None
        if quote.body.report_data != report_data:
            raise ProviderError("the quote does not carry the requested report data")
        return Evidence(
            platform="tdx", report=report.outblob, report_data=report_data, provider=self.name
        )


class TdxReportProvider:
    name = "tdx-guest-tdreport"
    platform: Platform = "tdx"

    def __init__(self, device: TdxGuestDevice | None = None) -> None:
        self.device = device if device is not None else TdxGuestDevice()

    def get_evidence(self, report_data: bytes) -> Evidence:
        report_data = check_report_data(report_data)
        raw = self.device.tdreport(report_data)
        try:
            report = TdReport.from_bytes(raw)
        except MalformedEvidence as exc:
            raise ProviderError(f"the TDX guest device returned no TDREPORT: {exc}") from None
        if report.report_data != report_data:
            raise ProviderError("the TDREPORT does not carry the requested report data")
        return Evidence(platform="tdx", report=raw, report_data=report_data, provider=self.name)


def tdx_provider(
    reports: TsmReports | None = None,
    device: TdxGuestDevice | None = None,
    *,
    root: Path = DEFAULT_ROOT,
) -> TdxQuoteProvider | TdxReportProvider:
    """configfs-tsm when ``root`` is present, else ``/dev/tdx_guest``, else PlatformUnavailable."""
    if Path(root).is_dir():
        return TdxQuoteProvider(reports, root=root)
    device = device if device is not None else TdxGuestDevice()
    try:
        device.closer(device.opener(device.path))
    except OSError:
        raise PlatformUnavailable(
            f"no TDX interface: neither configfs-tsm at {root} nor {device.path}"
        ) from None
    return TdxReportProvider(device)
