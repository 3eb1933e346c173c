"""`veritee verify receipts`: a log against simulated SEV-SNP attestation, with tampering."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from attestation.document import AttestationDocument
from attestation.keyset import Keyset
from attestation.simulated.snp import SimulatedSnpProvider
from tests.cli.helpers import run_cli
from tests.helpers.snp import simulated_state_dir
from tests.transcript.helpers import make_body
from transcript import SigningKey, sign_receipt

KEY = SigningKey.from_secret(hashlib.sha256(b"cli receipts").digest())
KEYSET = Keyset(
    signing_public_key=KEY.public_key,
    image_digest="sha256:" + "33" * 32,
    platform="sev-snp",
    not_before_ms=0,
    not_after_ms=2**45,
)


@pytest.fixture(scope="module")
def attestation_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    provider = SimulatedSnpProvider(simulated_state_dir())
    document = AttestationDocument(provider.get_evidence(KEYSET.report_data()), KEYSET)
    path = tmp_path_factory.mktemp("att") / "attestation.json"
    path.write_bytes(document.to_json())
    return path


def log_lines(n: int) -> list[bytes]:
    lines, prev = [], "0" * 64
    for seq in range(1, n + 1):
        receipt = sign_receipt(KEY, make_body(seq, prev, key=KEY, keyset=KEYSET.hash().hex()))
        lines.append(receipt.canonical())
        prev = receipt.id
    return lines


def verify(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    lines: list[bytes],
    attestation: Path,
    *extra: object,
):  # type: ignore[no-untyped-def]
    log = tmp_path / "receipts.jsonl"
    log.write_bytes(b"\n".join(lines) + b"\n")
    return run_cli(
        capsys,
        "verify",
        "receipts",
        log,
        "--evidence",
        attestation,
        "--roots",
        simulated_state_dir(),
        *extra,
    )


def test_a_good_log(
    tmp_path: Path, attestation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = verify(capsys, tmp_path, log_lines(12), attestation_file)
    assert result.code == 0, result.out + result.err
    assert "VERIFIED: 12 of 12 receipts" in result.out
    assert "seq 1..12, 12 receipts, complete" in result.out


def test_an_altered_receipt_is_named(
    tmp_path: Path, attestation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = log_lines(6)
    lines[3] = lines[3].replace(b'"model":"gpt-4o-mini"', b'"model":"gpt-4o-maxi"')
    result = verify(capsys, tmp_path, lines, attestation_file)
    assert result.code == 1
    assert "line 4, seq 4" in result.out and "receipt.signature" in result.out


def test_a_deleted_receipt_is_named(
    tmp_path: Path, attestation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = log_lines(6)
    del lines[2]
    result = verify(capsys, tmp_path, lines, attestation_file, "--json")
    assert result.code == 1
    report = json.loads(result.out)
    assert report["receipts"]["chains"][KEY.address]["missing"] == [3]


def test_broken_jsonl_exits_2_but_reports_everything(
    tmp_path: Path, attestation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = log_lines(3)
    lines.insert(1, b'{"body": broken')
    result = verify(capsys, tmp_path, lines, attestation_file)
    assert result.code == 2
    assert "line 2: receipt.malformed" in result.out
    assert "3 of 4 receipts carry valid signatures" in result.out


def test_simulated_attestation_is_not_trusted_without_its_roots(
    tmp_path: Path, attestation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "r.jsonl"
    log.write_bytes(b"\n".join(log_lines(2)))
    result = run_cli(capsys, "verify", "receipts", log, "--evidence", attestation_file)
    assert result.code == 1 and "snp.vcek-chain" in result.err


def test_evidence_for_another_keyset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = Keyset(
        signing_public_key=KEY.public_key,
        image_digest="sha256:" + "44" * 32,  # a different image: a different keyset hash
        platform="sev-snp",
        not_before_ms=0,
        not_after_ms=2**45,
    )
    evidence = SimulatedSnpProvider(simulated_state_dir()).get_evidence(other.report_data())
    lying = tmp_path / "lying.json"
    lying.write_bytes(
        AttestationDocument(evidence, KEYSET).to_json()
    )  # claims KEYSET, binds `other`
    result = verify(capsys, tmp_path, log_lines(2), lying)
    assert result.code == 1 and "binding.keyset" in result.err


def test_empty_log_and_bad_evidence_file(
    tmp_path: Path, attestation_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert verify(capsys, tmp_path, [], attestation_file).code == 2
    junk = tmp_path / "junk.json"
    junk.write_text("{}")
    assert verify(capsys, tmp_path, log_lines(1), junk).code == 2
