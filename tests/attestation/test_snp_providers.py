"""The SEV-SNP providers (configfs-tsm, /dev/sev-guest) against fake devices.

The fakes answer with simulator-signed reports, so each test also proves the evidence
verifies end to end with the simulator's roots.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from attestation.errors import InvalidReportData, PlatformUnavailable, ProviderError
from attestation.evidence import Evidence, EvidenceProvider
from attestation.formats.snp import SnpReport
from attestation.providers.configfs_tsm import FakeTsmReports, LinuxTsmReports
from attestation.providers.sev_guest import (
    EXT_REQ_SIZE,
    REQ_SIZE,
    SNP_GET_EXT_REPORT,
    SNP_GET_REPORT,
    SevGuestDevice,
    pack_ext_report_req,
    pack_report_req,
)
from attestation.providers.snp import ConfigfsTsmSnpProvider, SevGuestSnpProvider
from attestation.simulated.snp import SimulatedSnpProvider
from attestation.simulated.snp_devices import (
    FakeSevGuestKernel,
    fake_tsm_reports,
    snp_tsm_backend,
)
from tests.helpers.snp import simulated_state_dir
from verifier.claims import VerifiedEvidence
from verifier.snp import verify_snp
from verifier.trust import TrustedRoots

REPORT_DATA = bytes(range(64))


def simulator(**options: object) -> SimulatedSnpProvider:
    return SimulatedSnpProvider(simulated_state_dir(), **options)  # type: ignore[arg-type]


def verified(evidence: Evidence) -> VerifiedEvidence:
    roots = TrustedRoots.from_paths([simulated_state_dir()])
    return verify_snp(evidence, roots=roots, now=datetime.now(UTC))


# -- configfs-tsm ---------------------------------------------------------------------


def test_configfs_tsm_end_to_end(tmp_path: Path) -> None:
    reports = fake_tsm_reports(tmp_path / "report", simulator(product="genoa"))
    provider = ConfigfsTsmSnpProvider(reports, vmpl=2)
    assert isinstance(provider, EvidenceProvider)
    evidence = provider.get_evidence(REPORT_DATA)
    assert evidence.provider == "sev-snp-configfs-tsm"
    assert set(evidence.certificates) == {"vcek", "ask", "ark"}
    assert SnpReport.from_bytes(evidence.report).vmpl == 2
    claims = verified(evidence)
    assert claims.report_data == REPORT_DATA
    assert claims.details["vmpl"] == 2
    assert list((tmp_path / "report").iterdir()) == []  # the entry is removed afterwards


def test_configfs_tsm_checks_generation_around_every_read(tmp_path: Path) -> None:
    seen: list[tuple[str, str]] = []
    reports = fake_tsm_reports(tmp_path, simulator())
    reports.on_read = lambda entry, attribute: seen.append((entry, attribute))
    evidence = ConfigfsTsmSnpProvider(reports, vmpl=1).get_evidence(REPORT_DATA)
    report = SnpReport.from_bytes(evidence.report)  # inblob and privlevel reached the device
    assert (report.report_data, report.vmpl) == (REPORT_DATA, 1)
    (entry,) = {e for e, _ in seen}
    assert entry.startswith("veritee-")
    attributes = [a for _, a in seen]
    assert attributes[0] == "generation"  # read before writing, then after every read
    assert [a for a in attributes if a != "generation"] == ["outblob", "auxblob", "provider"]
    assert attributes.count("generation") == 4


def test_configfs_tsm_without_certificates(tmp_path: Path) -> None:
    reports = fake_tsm_reports(tmp_path, simulator(), certificates=False)
    evidence = ConfigfsTsmSnpProvider(reports).get_evidence(REPORT_DATA)
    assert evidence.certificates == {}
    assert SnpReport.from_bytes(evidence.report).report_data == REPORT_DATA


def test_configfs_tsm_detects_a_racing_writer(tmp_path: Path) -> None:
    reports = fake_tsm_reports(tmp_path, simulator())

    def race(entry: str, attribute: str) -> None:
        if attribute == "outblob":  # someone else asks for another report meanwhile
            reports.on_read = None
            reports.write(entry, "inblob", bytes(64))

    reports.on_read = race
    with pytest.raises(ProviderError, match="raced"):
        ConfigfsTsmSnpProvider(reports).get_evidence(REPORT_DATA)
    assert list(tmp_path.iterdir()) == []


def test_configfs_tsm_of_another_platform(tmp_path: Path) -> None:
    reports = FakeTsmReports(tmp_path, snp_tsm_backend(simulator()), provider="tdx_guest")
    with pytest.raises(PlatformUnavailable, match="tdx_guest"):
        ConfigfsTsmSnpProvider(reports).get_evidence(REPORT_DATA)


def test_configfs_tsm_absent(tmp_path: Path) -> None:
    provider = ConfigfsTsmSnpProvider(root=tmp_path / "no" / "such" / "tree")
    assert isinstance(provider.reports, LinuxTsmReports)
    with pytest.raises(PlatformUnavailable):
        provider.get_evidence(REPORT_DATA)


def test_configfs_tsm_refuses_a_privlevel_below_the_floor(tmp_path: Path) -> None:
    reports = fake_tsm_reports(tmp_path, simulator())
    reports.privlevel_floor = 2
    with pytest.raises(ProviderError, match="privlevel"):
        ConfigfsTsmSnpProvider(reports, vmpl=1).get_evidence(REPORT_DATA)


def test_device_answers_for_other_report_data_are_refused(tmp_path: Path) -> None:
    stale = simulator().report(bytes(64)).to_bytes()
    reports = FakeTsmReports(tmp_path, lambda blob, level: (stale, b""), provider="sev_guest")
    with pytest.raises(ProviderError, match="other report data"):
        ConfigfsTsmSnpProvider(reports).get_evidence(REPORT_DATA)
    garbage = FakeTsmReports(tmp_path, lambda blob, level: (bytes(10), b""), provider="sev_guest")
    with pytest.raises(ProviderError, match="malformed"):
        ConfigfsTsmSnpProvider(garbage).get_evidence(REPORT_DATA)


def test_bad_vmpl_and_report_data(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="VMPL"):
        ConfigfsTsmSnpProvider(vmpl=4)
    with pytest.raises(ValueError, match="VMPL"):
        SevGuestSnpProvider(vmpl=-1)
    with pytest.raises(InvalidReportData):
        ConfigfsTsmSnpProvider(fake_tsm_reports(tmp_path, simulator())).get_evidence(bytes(63))


# -- /dev/sev-guest -------------------------------------------------------------------


def device(tmp_path: Path, kernel: FakeSevGuestKernel) -> SevGuestDevice:
    path = tmp_path / "sev-guest"
    path.touch()  # an ordinary file stands in for the device node; the kernel is fake
    return SevGuestDevice(path, ioctl=kernel)


def test_ioctl_numbers_and_struct_sizes() -> None:
    assert SNP_GET_REPORT == 0xC0205300
    assert SNP_GET_EXT_REPORT == 0xC0205302
    assert len(pack_report_req(bytes(64), 0)) == REQ_SIZE == 96
    assert len(pack_ext_report_req(bytes(64), 0, 0, 0)) == EXT_REQ_SIZE == 112


def test_extended_report_end_to_end(tmp_path: Path) -> None:
    kernel = FakeSevGuestKernel(simulator(product="turin"))
    provider = SevGuestSnpProvider(device(tmp_path, kernel), vmpl=1)
    evidence = provider.get_evidence(REPORT_DATA)
    assert evidence.provider == "sev-snp-sev-guest"
    assert set(evidence.certificates) == {"vcek", "ask", "ark"}
    assert kernel.requests == [(SNP_GET_EXT_REPORT, 1, 0x4000)]
    claims = verified(evidence)
    assert (claims.signer, claims.details["vmpl"]) == ("VCEK (Turin)", 1)


def test_plain_report_has_no_certificates(tmp_path: Path) -> None:
    kernel = FakeSevGuestKernel(simulator())
    evidence = SevGuestSnpProvider(device(tmp_path, kernel), extended=False).get_evidence(
        REPORT_DATA
    )
    assert evidence.certificates == {}
    assert kernel.requests == [(SNP_GET_REPORT, 0, 0)]
    assert SnpReport.from_bytes(evidence.report).report_data == REPORT_DATA


def test_a_small_certificate_buffer_grows_once(tmp_path: Path) -> None:
    kernel = FakeSevGuestKernel(simulator())
    answer = device(tmp_path, kernel).get_ext_report(REPORT_DATA, certs_len=4096)
    assert [r[2] for r in kernel.requests] == [4096, 8192]  # the table is 4-5 KiB
    assert answer.certs.startswith(bytes.fromhex("63da758de6644564adc5f4b93be8accd"))


def test_firmware_errors_become_provider_errors(tmp_path: Path) -> None:
    refused = FakeSevGuestKernel(simulator(), firmware_error=0x16)
    with pytest.raises(ProviderError, match="firmware error 0x16"):
        SevGuestSnpProvider(device(tmp_path, refused)).get_evidence(REPORT_DATA)
    status = FakeSevGuestKernel(simulator(), response_status=0x27)
    with pytest.raises(ProviderError, match="status 0x27"):
        SevGuestSnpProvider(device(tmp_path, status)).get_evidence(REPORT_DATA)


def test_missing_device_and_real_ioctl_on_a_plain_file(tmp_path: Path) -> None:
    with pytest.raises(PlatformUnavailable):
        SevGuestSnpProvider(path=tmp_path / "absent").get_evidence(REPORT_DATA)
    plain = tmp_path / "not-a-device"
    plain.touch()
    # The real ioctl path: a regular file does not know SNP_GET_EXT_REPORT (ENOTTY).
    with pytest.raises(ProviderError, match="refused the report request"):
        SevGuestSnpProvider(path=plain).get_evidence(REPORT_DATA)


def test_vlek_certificates_come_through_the_table(tmp_path: Path) -> None:
    kernel = FakeSevGuestKernel(simulator(signer="vlek"))
    evidence = SevGuestSnpProvider(device(tmp_path, kernel)).get_evidence(REPORT_DATA)
    assert set(evidence.certificates) == {"vlek", "ask", "ark"}
    assert verified(evidence).signer == "VLEK (Milan)"
