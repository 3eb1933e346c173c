"""TDX providers over the configfs-tsm and /dev/tdx_guest seams, real code against fakes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from attestation.errors import PlatformUnavailable, ProviderError
from attestation.evidence import EvidenceProvider
from attestation.formats.tdx import TdReport, TdxQuote
from attestation.providers.configfs_tsm import FakeTsmReports, LinuxTsmReports
from attestation.providers.tdx import TdxQuoteProvider, TdxReportProvider, tdx_provider
from attestation.providers.tdx_guest import TDX_CMD_GET_REPORT0, FakeTdxGuest, TdxGuestDevice
from tests.helpers.tdx import simulator

SIM = simulator()
DATA = bytes(range(64))


def test_ioctl_number_is_iowr_t_1_of_the_1088_byte_request() -> None:
    assert TDX_CMD_GET_REPORT0 == 0xC4405401


def tsm(root: Path, make: Callable[[bytes], bytes], **kwargs: Any) -> FakeTsmReports:
    """A fake configfs-tsm tree whose kernel answers with ``make(inblob)``."""
    kwargs.setdefault("provider", "tdx_guest")
    return FakeTsmReports(root, lambda inblob, _privlevel: (make(inblob), b""), **kwargs)


def test_configfs_quote_provider_gets_a_padded_quote_and_cleans_up(tmp_path: Path) -> None:
    reports = tsm(tmp_path, lambda d: SIM.quote(d) + bytes(2048))
    provider = TdxQuoteProvider(reports)
    assert isinstance(provider, EvidenceProvider)
    evidence = provider.get_evidence(DATA)
    quote = TdxQuote.from_bytes(evidence.report)
    assert quote.body.report_data == DATA
    assert quote.trailing == bytes(2048)
    assert evidence.provider == "tdx-configfs-tsm"
    assert list(tmp_path.iterdir()) == []  # the entry was removed


def test_configfs_detects_a_concurrent_writer(tmp_path: Path) -> None:
    reports: FakeTsmReports

    def race(entry: str, attribute: str) -> None:
        if attribute == "outblob":
            LinuxTsmReports.write(reports, entry, "generation", b"7\n")

    reports = tsm(tmp_path, SIM.quote, on_read=race)
    with pytest.raises(ProviderError, match="generation"):
        TdxQuoteProvider(reports).get_evidence(DATA)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("make", "provider", "match"),
    [
        (SIM.quote, "sev_guest", "sev_guest"),
        (lambda d: SIM.quote(bytes(64)), "tdx_guest", "report data"),
        (lambda d: b"not a quote", "tdx_guest", "no TDX quote"),
        (lambda d: b"", "tdx_guest", "empty"),
    ],
)
def test_configfs_failures(
    tmp_path: Path, make: Callable[[bytes], bytes], provider: str, match: str
) -> None:
    with pytest.raises(ProviderError, match=match):
        TdxQuoteProvider(tsm(tmp_path, make, provider=provider)).get_evidence(DATA)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_configfs_tree_means_the_platform_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(PlatformUnavailable, match="no configfs-tsm report directory"):
        TdxQuoteProvider(root=tmp_path / "missing").get_evidence(DATA)


def test_tdreport_provider_uses_the_ioctl_and_closes_the_device() -> None:
    fake = FakeTdxGuest(SIM.tdreport)
    provider = TdxReportProvider(fake.device())
    evidence = provider.get_evidence(DATA)
    assert TdReport.from_bytes(evidence.report).report_data == DATA
    assert evidence.provider == "tdx-guest-tdreport"
    assert fake.requests == [TDX_CMD_GET_REPORT0]
    assert fake.open_fds == set()


def test_tdreport_device_errors() -> None:
    def missing(path: str) -> int:
        raise FileNotFoundError(path)

    with pytest.raises(PlatformUnavailable):
        TdxGuestDevice("/dev/none", opener=missing).tdreport(DATA)

    fake = FakeTdxGuest(SIM.tdreport)

    def failing(fd: int, request: int, buffer: bytearray) -> object:
        raise OSError(5, "I/O error")

    device = TdxGuestDevice(opener=fake.opener, ioctl=failing, closer=fake.closer)
    with pytest.raises(ProviderError, match="I/O error"):
        device.tdreport(DATA)
    assert fake.open_fds == set()  # closed even when the ioctl fails
    wrong = FakeTdxGuest(lambda d: SIM.tdreport(bytes(64)))
    with pytest.raises(ProviderError, match="requested report data"):
        TdxReportProvider(wrong.device()).get_evidence(DATA)


def test_real_device_path_is_absent_here() -> None:
    with pytest.raises(PlatformUnavailable):
        TdxGuestDevice("/dev/veritee-no-such-device").tdreport(DATA)


def test_tdx_provider_prefers_configfs_then_the_device_then_gives_up(tmp_path: Path) -> None:
    present = tsm(tmp_path, SIM.quote)
    fake = FakeTdxGuest(SIM.tdreport)
    chosen = tdx_provider(present, fake.device(), root=tmp_path)
    assert isinstance(chosen, TdxQuoteProvider)
    assert chosen.get_evidence(DATA).report_data == DATA
    absent = tmp_path / "nowhere"
    assert isinstance(tdx_provider(None, fake.device(), root=absent), TdxReportProvider)
    with pytest.raises(PlatformUnavailable):
        tdx_provider(None, TdxGuestDevice("/dev/veritee-no-such-device"), root=absent)
