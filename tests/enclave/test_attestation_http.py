"""``GET /v1/attestation`` and ``/v1/keyset``: SEV-SNP evidence (simulated) that binds the
keyset, and so the key of every receipt, verified by the verifier with the simulator's roots."""

from __future__ import annotations

import hashlib
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import orjson

from attestation.document import AttestationDocument
from attestation.keyset import Keyset
from tests.enclave.conftest import MEASUREMENT, RunningEnclave, StartEnclave
from tests.helpers.snp import simulated_state_dir
from transcript import PublicKeyVerifier, parse_receipt_header
from verifier.snp import verify_snp
from verifier.trust import TrustedRoots


def verified(raw: bytes) -> tuple[Keyset, bytes]:
    """Check the evidence and its binding; return the keyset and the bound nonce."""
    document = AttestationDocument.from_json(raw)
    keyset = document.keyset
    claims = verify_snp(
        document.evidence,
        roots=TrustedRoots.from_paths([simulated_state_dir()]),
        now=datetime.now(UTC),
    )
    assert claims.measurements["measurement"] == MEASUREMENT.hex()
    assert not claims.debug
    assert claims.report_data[:32] == keyset.hash()
    return keyset, claims.report_data[32:]


def test_boot_evidence_binds_the_keyset_of_every_receipt(enclave: RunningEnclave) -> None:
    http = httpx.Client(base_url=enclave.url, timeout=10)
    raw = http.get("/v1/attestation").content
    assert orjson.loads(raw)["nonce"] is None
    keyset, nonce = verified(raw)
    assert nonce == b"\x00" * 32
    assert keyset.platform == "sev-snp"
    assert keyset.image_digest == enclave.enclave.settings.identity.image_digest
    keyset_bytes = http.get("/v1/keyset").content
    assert hashlib.sha256(keyset_bytes).digest() == keyset.hash()
    assert keyset.signing_address == enclave.enclave.identity.address
    answer = http.post(
        "/v1/chat/completions",
        json={"model": "gpt-sim", "messages": [{"role": "user", "content": "hi"}]},
    )
    receipt = parse_receipt_header(answer.headers["veritee-receipt"])
    receipt.verify(PublicKeyVerifier(keyset.signing_public_key))
    assert receipt.body.keyset == keyset.hash().hex()
    assert keyset.covers(receipt.body.time_ms)


def test_fresh_evidence_binds_the_nonce(enclave: RunningEnclave) -> None:
    nonce = secrets.token_bytes(32)
    raw = httpx.get(enclave.url + "/v1/attestation", params={"nonce": nonce.hex()}).content
    assert AttestationDocument.from_json(raw).nonce == nonce
    _, bound = verified(raw)
    assert bound == nonce


def test_fresh_evidence_is_rate_limited(start_enclave: StartEnclave) -> None:
    running = start_enclave(attestation={"fresh_per_second": 0.001, "fresh_burst": 2})

    def fetch(i: int) -> int:
        nonce = bytes([i]) * 32
        return httpx.get(running.url + "/v1/attestation", params={"nonce": nonce.hex()}).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(fetch, range(1, 5)))
    assert statuses == [200, 200, 429, 429]
    boot = httpx.get(running.url + "/v1/attestation")
    assert boot.status_code == 200, "boot evidence is never rate-limited"


def test_health_and_readiness(enclave: RunningEnclave) -> None:
    assert httpx.get(enclave.url + "/healthz").json() == {"status": "ok"}
    assert httpx.get(enclave.url + "/readyz").json() == {"status": "ready"}
