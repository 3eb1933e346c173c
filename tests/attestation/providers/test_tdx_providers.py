"""TDX providers over the configfs-tsm and /dev/tdx_guest seams, real code against fakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from attestation.errors import PlatformUnavailable, ProviderError
from attestation.evidence import EvidenceProvider
from attestation.formats.tdx import TdReport, TdxQuote
from attestation.providers.configfs_tsm import ConfigfsTsm, FakeTsmFilesystem, OsTsmFilesystem
from attestation.providers.tdx import TdxQuoteProvider, TdxReportProvider, tdx_provider
from attestation.providers.tdx_guest import TDX_CMD_GET_REPORT0, FakeTdxGuest, TdxGuestDevice
from tests.helpers.tdx import simulator

SIM = simulator()
DATA = bytes(range(64))


def test_ioctl_number_is_iowr_t_1_of_the_1088_byte_request() -> None:
    assert TDX_CMD_GET_REPORT0 == 0xC4405401


def test_configfs_quote_provider_gets_a_padded_quote_and_cleans_up() -> None:
    fs = FakeTsmFilesystem(SIM.quote, pad=2048)
    provider = TdxQuoteProvider(ConfigfsTsm(fs))
    assert isinstance(provider, EvidenceProvider)
    evidence = provider.get_evidence(DATA)
    quote = TdxQuote.from_bytes(evidence.report)
    assert quote.body.report_data == DATA
    assert quote.trailing == bytes(2048)
    assert evidence.provider == "tdx-configfs-tsm"
    assert fs.created == 1
    assert fs.entries == {}  # the entry was removed


def test_configfs_detects_a_concurrent_writer() -> None:
    fs = FakeTsmFilesystem(SIM.quote, interfere=True)
    with pytest.raises(ProviderError, match="generation"):
        TdxQuoteProvider(ConfigfsTsm(fs)).get_evidence(DATA)
    assert fs.entries == {}


@pytest.mark.parametrize(
    ("fs", "root", "error", "match"),
    [
        (FakeTsmFilesystem(SIM.quote, provider="sev_guest"), None, ProviderError, "sev_guest"),
        (FakeTsmFilesystem(lambda d: SIM.quote(bytes(64))), None, ProviderError, "report data"),
        (FakeTsmFilesystem(lambda d: b"not a quote"), None, ProviderError, "no TDX quote"),
        (FakeTsmFilesystem(lambda d: b""), None, ProviderError, "empty"),
        (FakeTsmFilesystem(SIM.quote), "/nowhere", PlatformUnavailable, "not available"),
    ],
)
def test_configfs_failures(
    fs: FakeTsmFilesystem, root: str | None, error: type[Exception], match: str
) -> None:
    tsm = ConfigfsTsm(fs) if root is None else ConfigfsTsm(fs, root=root)
    with pytest.raises(error, match=match):
        TdxQuoteProvider(tsm).get_evidence(DATA)
    assert fs.entries == {}


def test_os_filesystem_does_plain_file_io(tmp_path: Path) -> None:
    fs = OsTsmFilesystem()
    entry = str(tmp_path / "entry")
    fs.mkdir(entry)
    assert fs.is_dir(entry)
    fs.write(f"{entry}/inblob", DATA)
    assert fs.read(f"{entry}/inblob") == DATA
    (tmp_path / "entry" / "inblob").unlink()
    fs.rmdir(entry)
    assert not fs.is_dir(entry)
    with pytest.raises(PlatformUnavailable):
        ConfigfsTsm(fs, root=str(tmp_path / "missing")).generate(DATA)


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


def test_tdx_provider_prefers_configfs_then_the_device_then_gives_up() -> None:
    tsm = ConfigfsTsm(FakeTsmFilesystem(SIM.quote))
    absent = ConfigfsTsm(FakeTsmFilesystem(SIM.quote), root="/nowhere")
    fake = FakeTdxGuest(SIM.tdreport)
    assert isinstance(tdx_provider(tsm, fake.device()), TdxQuoteProvider)
    assert isinstance(tdx_provider(absent, fake.device()), TdxReportProvider)
    with pytest.raises(PlatformUnavailable):
        tdx_provider(absent, TdxGuestDevice("/dev/veritee-no-such-device"))
