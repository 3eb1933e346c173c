"""JSON and TOML edges: receipts, checkpoints, inclusion proofs, evidence and attestation
documents, keysets, policies, collateral bundles, and evidence files of any form."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import orjson

from attestation.document import AttestationDocument
from attestation.errors import MalformedEvidence
from attestation.evidence import Evidence
from attestation.keyset import Keyset
from fuzz.contract import TDX_NOW, Context, ContractViolation, Target
from transcript.checkpoint import ZERO32, SignedCheckpoint, build_checkpoint
from transcript.errors import (
    MalformedCheckpoint,
    MalformedProof,
    MalformedReceipt,
    SignatureInvalid,
)
from transcript.keys import SigningKey
from transcript.merkle import root_from_proof
from transcript.receipt import ReceiptBody, Upstream, parse_receipt, sign_receipt
from verifier.anchor.errors import MalformedInclusionProof
from verifier.anchor.proof import InclusionProof
from verifier.collateral import load_bundle
from verifier.errors import BadInput
from verifier.loading import load_evidence
from verifier.policy import Policy

if TYPE_CHECKING:
    from fuzz.material import Material

KEY = SigningKey.from_secret(hashlib.sha256(b"veritee fuzz seed key").digest())
KEYSET = Keyset(
    signing_public_key=KEY.public_key,
    image_digest="sha256:" + "ab" * 32,
    platform="sev-snp",
    not_before_ms=1_750_000_000_000,
    not_after_ms=1_790_000_000_000,
    encryption_public_key=bytes(range(32)),
)
NONCE = bytes(range(32))


def _json(data: bytes) -> Any:
    """The decoded JSON, or None when it is not JSON (not what these targets exercise)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return None


def receipt(_context: Context, data: bytes) -> None:
    for form in (data, data.decode("utf-8", "surrogateescape")):
        parsed = parse_receipt(form)
        parsed.to_header()
        parsed.verify()


def checkpoint(_context: Context, data: bytes) -> None:
    parsed = SignedCheckpoint.from_dict(_json(data))
    if SignedCheckpoint.from_dict(parsed.to_dict()) != parsed:
        raise ContractViolation("a checkpoint does not survive a round trip")
    parsed.verify()


def inclusion_proof(_context: Context, data: bytes) -> None:
    proof = InclusionProof.from_dict(_json(data))
    size = proof.checkpoint.checkpoint.size
    root_from_proof(proof.receipt_id, proof.leaf_index, size, proof.path)


def evidence_json(_context: Context, data: bytes) -> None:
    evidence = Evidence.from_json(data)
    if Evidence.from_json(evidence.to_json()) != evidence:
        raise ContractViolation("evidence JSON does not survive a round trip")


def attestation_document(_context: Context, data: bytes) -> None:
    document = AttestationDocument.from_json(data)
    document.keyset.hash()


def keyset(_context: Context, data: bytes) -> None:
    parsed = Keyset.from_json(data)
    if Keyset.from_dict(parsed.to_dict()) != parsed:
        raise ContractViolation("a keyset does not survive a round trip")


def policy(_context: Context, data: bytes) -> None:
    Policy.from_toml(data.decode("utf-8", "replace"))


def bundle(_context: Context, data: bytes) -> None:
    source = load_bundle(data)
    for collateral in source.tdx:
        # Lookups on unverified collateral: documented never to raise.
        _ = collateral.fmspc, collateral.pck_crl_issuer(), collateral.window()


def evidence_file(_context: Context, data: bytes) -> None:
    load_evidence(data)


# -- dictionaries and seeds ----------------------------------------------------------------

_JSON = (b"{", b"}", b"[", b"]", b":", b",", b'""', b"null", b"true", b"false", b"0", b"-1",
         b"1e400", b"18446744073709551616", b"\\u0000", b"\\ud800", b"[[[[[[[[")  # fmt: skip


def _json_keys(*keys: str) -> tuple[bytes, ...]:
    return _JSON + tuple(f'"{k}"'.encode() for k in keys)


RECEIPT_KEYS = _json_keys(
    "body", "sig", "type", "signer", "keyset", "seq", "prev", "time_ms", "request_sha256",
    "response_sha256", "stream", "status", "http_status", "model", "upstream", "usage",
    "client_nonce", "caller", "provider", "host", "request_id", "spki_sha256",
    "veritee.receipt.v1", "complete", "truncated", "upstream_error",
)  # fmt: skip
CHECKPOINT_KEYS = _json_keys(
    "type", "signer", "first_seq", "last_seq", "root", "prev", "keyset", "time_ms", "sig",
    "veritee.checkpoint.v1", "receipt_id", "path", "checkpoint", "tx_hash",
    "veritee.inclusion.v1",
)  # fmt: skip
EVIDENCE_KEYS = _json_keys(
    "type", "platform", "provider", "report", "report_data", "certificates", "collateral",
    "extra", "veritee.evidence.v1", "sev-snp", "tdx", "nitro", "vtpm", "evidence", "keyset",
    "nonce", "veritee.attestation.v1", "signing_key", "encryption_key", "image_digest",
    "not_before_ms", "not_after_ms", "alg", "public_key", "address", "secp256k1", "x25519",
    "veritee.keyset.v1", "sha256:", "vcek", "ark", "ask",
)  # fmt: skip
BUNDLE_KEYS = _json_keys(
    "type", "veritee.collateral.v1", "tdx", "amd", "chains", "vceks", "product", "key_type",
    "cert_chain", "crl", "hwid", "tcb", "cert", "Milan", "Genoa", "Turin", "vcek", "vlek",
    "bootloader", "tee", "snp", "microcode", "fmc", "tcb_info", "tcb_info_signature",
    "tcb_info_issuer_chain", "qe_identity", "qe_identity_signature", "qe_identity_issuer_chain",
    "pck_crl", "pck_crl_issuer_chain", "root_ca_crl", "fmspc", "issueDate", "nextUpdate",
    "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----",
)  # fmt: skip
POLICY_TOKENS = (
    b"[policy]", b"[sev-snp]", b"[tdx]", b"[nitro]", b"[vtpm]", b'"sev-snp"', b'"tdx"',
    b'"nitro"', b'"vtpm"', b"platforms", b"unsafe_allow_debug", b"expected_report_data",
    b"measurements", b"min_tcb", b"max_vmpl", b"mrtd", b"rtmr0", b"rtmr3", b"mrconfigid",
    b"mrowner", b"mrownerconfig", b"allowed_tcb_statuses", b'"UpToDate"', b'"Revoked"', b"pcr0",
    b"pcr8", b"pcrs", b"bootloader", b"tee", b"snp", b"microcode", b"fmc", b"true", b"false",
    b" = ", b"[", b"]", b"[[", b"]]", b"{", b"}", b'"', b"'", b'"""', b",", b"\n", b".", b"0x",
    b"-1", b"256", b"1979-05-27T07:32:00Z", b"inf", b"nan", b'"\\u00b2"', b"[[[[[[[[",
)  # fmt: skip


def _receipts() -> list[bytes]:
    prev, out = "0" * 64, []
    for seq in (1, 2):
        body = ReceiptBody(
            signer=KEY.address,
            keyset=KEYSET.hash().hex(),
            seq=seq,
            prev=prev,
            time_ms=1_760_000_000_000 + seq,
            request_sha256=hashlib.sha256(b"request").hexdigest(),
            response_sha256=hashlib.sha256(b"response").hexdigest(),
            stream=seq == 2,
            status="complete" if seq == 1 else "truncated",
            http_status=200,
            model="gpt-4o-mini",
            upstream=Upstream(provider="openai", host="api.openai.com", request_id="req_1"),
            usage={"prompt_tokens": 3, "completion_tokens": 4} if seq == 1 else None,
            client_nonce="n" if seq == 2 else None,
        )
        signed = sign_receipt(KEY, body)
        prev = signed.id
        # The canonical wire form (the fast path) and an indented one (the slow path).
        out += [signed.canonical(), orjson.dumps(signed.to_dict(), option=orjson.OPT_INDENT_2)]
    return out


def _checkpoints() -> list[SignedCheckpoint]:
    ids = [hashlib.sha256(bytes([n])).digest() for n in range(5)]
    first, _ = build_checkpoint(
        KEY, receipt_ids=ids, first_seq=1, prev=ZERO32, keyset=KEYSET.hash(), time_ms=1
    )
    second, _ = build_checkpoint(
        KEY, receipt_ids=ids[:1], first_seq=6, prev=first.hash, keyset=KEYSET.hash(), time_ms=2
    )
    return [first, second]


def _proofs() -> Iterable[bytes]:
    ids = [hashlib.sha256(bytes([n])).digest() for n in range(5)]
    signed, tree = build_checkpoint(
        KEY, receipt_ids=ids, first_seq=1, prev=ZERO32, keyset=KEYSET.hash(), time_ms=1
    )
    for index in (0, 4):
        proof = InclusionProof(ids[index], index + 1, tuple(tree.proof(index)), signed, ids[0])
        yield orjson.dumps(proof.to_dict())


def _attestation_documents(material: Material) -> Iterable[bytes]:
    simulator = material.snp_simulators[0]
    for nonce in (None, NONCE):
        evidence = simulator.get_evidence(KEYSET.report_data(nonce))
        yield AttestationDocument(evidence, KEYSET, nonce).to_json()


POLICIES = (
    b'[policy]\nplatforms = ["sev-snp", "tdx", "nitro", "vtpm"]\nunsafe_allow_debug = false\n'
    b'expected_report_data = "' + b"ab" * 64 + b'"\n\n'
    b'[sev-snp]\nmeasurements = ["' + b"cd" * 48 + b'"]\n'
    b"min_tcb = { bootloader = 3, tee = 0, snp = 8, microcode = 115, fmc = 1 }\nmax_vmpl = 0\n\n"
    b'[tdx]\nmrtd = ["' + b"ef" * 48 + b'"]\nrtmr0 = ["0x' + b"01" * 48 + b'"]\n'
    b'allowed_tcb_statuses = ["UpToDate", "SWHardeningNeeded", "OutOfDate"]\n\n'
    b'[nitro]\npcr0 = ["' + b"02" * 48 + b'"]\npcr8 = ["' + b"03" * 48 + b'"]\n\n'
    b'[vtpm]\npcrs = { 7 = ["' + b"04" * 32 + b'"], 11 = ["' + b"05" * 20 + b'"] }\n',
    b'[policy]\nplatforms = ["nitro"]\nunsafe_allow_debug = true\n',
    b"",
)


def _bundles(material: Material) -> Iterable[bytes]:
    from verifier.collateral import TdxCollateral, dump_bundle

    if (real := material.vector("tdx/dcapqvl-v4.collateral.json")) is not None:
        yield real
    tdx = TdxCollateral.from_evidence(material.tdx_simulator.collateral(TDX_NOW))
    if tdx is None:
        raise RuntimeError("the TDX simulator's collateral is incomplete")
    chain = material.snp_simulators[0].chain_der()
    pem = b"".join(_pem(chain[role]) for role in ("ask", "ark"))
    doc = orjson.loads(dump_bundle(tdx=[tdx], amd_chains={("Milan", "vcek"): (pem, None)}))
    doc["amd"]["vceks"] = [
        {
            "product": "Milan",
            "hwid": "00" * 64,
            "tcb": {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115},
            "cert": chain["vcek"].hex(),
        }
    ]
    yield orjson.dumps(doc, option=orjson.OPT_INDENT_2)
    yield orjson.dumps(tdx.to_bundle_dict())


def _pem(der: bytes) -> bytes:
    import base64
    import textwrap

    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n".encode()


def _evidence_files(material: Material) -> Iterable[bytes]:
    import base64

    yield from (e.to_json() for e in material.all_evidence)
    yield from _attestation_documents(material)
    for evidence in material.all_evidence:
        if evidence.platform != "vtpm":
            yield evidence.report
    yield base64.b64encode(material.nitro_documents[0])


TARGETS = (
    Target(
        name="receipt",
        summary="parse_receipt on bytes and on str (canonical fast path and slow path), "
        "then the signature",
        allowed=(MalformedReceipt, SignatureInvalid),
        run=receipt,
        seeds=lambda m: _receipts(),
        max_len=4096,
        dictionary=RECEIPT_KEYS,
    ),
    Target(
        name="checkpoint",
        summary="SignedCheckpoint.from_dict (from JSON), a round trip, the signature",
        allowed=(MalformedCheckpoint, SignatureInvalid),
        run=checkpoint,
        seeds=lambda m: [orjson.dumps(c.to_dict()) for c in _checkpoints()],
        max_len=2048,
        dictionary=CHECKPOINT_KEYS,
    ),
    Target(
        name="inclusion_proof",
        summary="InclusionProof.from_dict (from JSON), then the Merkle root it implies",
        allowed=(MalformedInclusionProof, MalformedProof),
        run=inclusion_proof,
        seeds=lambda m: _proofs(),
        max_len=8192,
        dictionary=CHECKPOINT_KEYS,
    ),
    Target(
        name="evidence_json",
        summary="Evidence.from_json; evidence survives a round trip",
        allowed=(MalformedEvidence,),
        run=evidence_json,
        seeds=lambda m: [e.to_json() for e in m.all_evidence],
        max_len=65536,
        dictionary=EVIDENCE_KEYS,
    ),
    Target(
        name="attestation_document",
        summary="AttestationDocument.from_json (evidence, keyset, nonce)",
        allowed=(MalformedEvidence,),
        run=attestation_document,
        seeds=_attestation_documents,
        max_len=16384,
        dictionary=EVIDENCE_KEYS,
    ),
    Target(
        name="keyset",
        summary="Keyset.from_json; a keyset survives a round trip",
        allowed=(MalformedEvidence,),
        run=keyset,
        seeds=lambda m: [orjson.dumps(KEYSET.to_dict()), KEYSET.canonical()],
        max_len=2048,
        dictionary=EVIDENCE_KEYS,
    ),
    Target(
        name="policy",
        summary="Policy.from_toml (every section and key)",
        allowed=(BadInput,),
        run=policy,
        seeds=lambda m: POLICIES,
        max_len=4096,
        dictionary=POLICY_TOKENS,
    ),
    Target(
        name="collateral_bundle",
        summary="load_bundle (dcap-qvl and veritee shapes), then the lookups on each set",
        allowed=(BadInput,),
        run=bundle,
        seeds=_bundles,
        max_len=65536,
        dictionary=BUNDLE_KEYS,
    ),
    Target(
        name="evidence_file",
        summary="load_evidence: attestation documents, evidence JSON, raw or base64 "
        "SNP/TDX/Nitro bytes",
        allowed=(MalformedEvidence,),
        run=evidence_file,
        seeds=_evidence_files,
        max_len=65536,
        dictionary=EVIDENCE_KEYS,
    ),
)
