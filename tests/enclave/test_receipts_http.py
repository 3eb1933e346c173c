"""A second client (plain httpx) checks every byte: receipts verify, and any change is caught."""

from __future__ import annotations

import hashlib

import httpx
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.enclave.conftest import ANTHROPIC_MODEL, OPENAI_MODEL, RunningEnclave, StartEnclave
from tests.enclave.receipts_check import check_receipt, keyset_of, split_stream
from transcript import (
    MalformedReceipt,
    PublicKeyVerifier,
    SignatureInvalid,
    SignedCheckpoint,
    check_chain,
    parse_receipt,
    parse_receipt_header,
    verify_inclusion,
)
from transcript.checkpoint import check_checkpoint_chain
from veritee.upstream_sim import ThreadedSim

MODELS = pytest.mark.parametrize("model", [OPENAI_MODEL, ANTHROPIC_MODEL])


def body(model: str, *, stream: bool = False) -> bytes:
    data = {"model": model, "messages": [{"role": "user", "content": "tell me a story"}]}
    if stream:
        data |= {"stream": True, "stream_options": {"include_usage": True}}
    return orjson.dumps(data)


@pytest.fixture(scope="module")
def http(enclave: RunningEnclave) -> httpx.Client:
    return httpx.Client(base_url=enclave.url, timeout=10)


@MODELS
def test_plain_answer_and_header_receipt(
    http: httpx.Client, enclave: RunningEnclave, model: str
) -> None:
    request = body(model)
    response = http.post(
        "/v1/chat/completions",
        content=request,
        headers={"veritee-nonce": "abc-123", "veritee-caller": "tenant-7"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    receipt = parse_receipt_header(response.headers["veritee-receipt"])
    check_receipt(enclave.url, receipt, request=request, response=response.content)
    assert (receipt.body.client_nonce, receipt.body.caller) == ("abc-123", "tenant-7")


@MODELS
def test_stream_receipt_covers_every_byte_before_it(
    http: httpx.Client, enclave: RunningEnclave, model: str
) -> None:
    request = body(model, stream=True)
    response = http.post("/v1/chat/completions", content=request)
    assert response.headers["content-type"].startswith("text/event-stream")
    before, receipt = split_stream(response.content)
    assert before.endswith(b"data: [DONE]\n\n")
    check_receipt(enclave.url, receipt, request=request, response=before)
    assert (receipt.body.status, receipt.body.stream) == ("complete", True)
    up = receipt.body.upstream
    assert up.response_sha256 is not None
    assert up.response_sha256 != receipt.body.response_sha256 or model == OPENAI_MODEL


@MODELS
@pytest.mark.parametrize("stream", [False, True])
def test_upstream_evidence(http: httpx.Client, sim: ThreadedSim, model: str, stream: bool) -> None:
    response = http.post("/v1/chat/completions", content=body(model, stream=stream))
    if stream:
        _, receipt = split_stream(response.content)
    else:
        receipt = parse_receipt_header(response.headers["veritee-receipt"])
    up = receipt.body.upstream
    assert up.spki_sha256 == sim.endpoint.spki_sha256
    assert up.provider == ("sim-openai" if model == OPENAI_MODEL else "sim-anthropic")
    assert up.model == model
    assert up.status == 200
    if model == OPENAI_MODEL and not stream:  # passed through: the client got the upstream bytes
        assert up.response_sha256 == hashlib.sha256(response.content).hexdigest()


@pytest.fixture(scope="module")
def streamed(http: httpx.Client, enclave: RunningEnclave) -> tuple[bytes, bytes]:
    request = body(ANTHROPIC_MODEL, stream=True)
    return request, http.post("/v1/chat/completions", content=request).content


def flip_one_byte(data: bytes, draw: st.DataObject) -> bytes:
    at = draw.draw(st.integers(0, len(data) - 1))
    return data[:at] + bytes([data[at] ^ draw.draw(st.integers(1, 255))]) + data[at + 1 :]


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_changing_any_byte_of_the_answer_is_caught(
    streamed: tuple[bytes, bytes], enclave: RunningEnclave, data: st.DataObject
) -> None:
    request, raw = streamed
    before, receipt = split_stream(raw)
    check_receipt(enclave.url, receipt, request=request, response=before)
    tampered = flip_one_byte(before, data)
    with pytest.raises(AssertionError):
        check_receipt(enclave.url, receipt, request=request, response=tampered)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_changing_any_byte_of_the_receipt_is_caught(
    streamed: tuple[bytes, bytes], enclave: RunningEnclave, data: st.DataObject
) -> None:
    request, raw = streamed
    before, receipt = split_stream(raw)
    tampered = flip_one_byte(receipt.canonical(), data)
    with pytest.raises((MalformedReceipt, SignatureInvalid, AssertionError)):
        check_receipt(enclave.url, parse_receipt(tampered), request=request, response=before)


def test_catch_up_chain_checkpoints_and_proofs(start_enclave: StartEnclave) -> None:
    running = start_enclave(receipts={"checkpoint_every_receipts": 3})
    http = httpx.Client(base_url=running.url, timeout=10)
    for i in range(7):
        model = OPENAI_MODEL if i % 2 else ANTHROPIC_MODEL
        http.post("/v1/chat/completions", content=body(model, stream=bool(i % 3)))
    page = http.get("/v1/receipts", params={"after_seq": 0, "limit": 5}).json()
    assert (page["first_held_seq"], page["last_seq"], page["has_more"]) == (1, 7, True)
    rest = http.get("/v1/receipts", params={"after_seq": 5}).json()
    receipts = [parse_receipt(orjson.dumps(r)) for r in page["data"] + rest["data"]]
    assert [r.body.seq for r in receipts] == list(range(1, 8))
    keyset, _ = keyset_of(running.url)
    key = PublicKeyVerifier(keyset.signing_public_key)
    for receipt in receipts:
        receipt.verify(key)
    assert check_chain(receipts).ok
    assert {r.body.signer for r in receipts} == {page["signer"]}

    one = http.get(f"/v1/receipts/{receipts[3].id}")
    assert parse_receipt(one.content) == receipts[3]
    checkpoints = [
        SignedCheckpoint.from_dict(c) for c in http.get("/v1/checkpoints").json()["data"]
    ]
    assert [(c.checkpoint.first_seq, c.checkpoint.last_seq) for c in checkpoints] == [
        (1, 3),
        (4, 6),
    ]
    assert check_checkpoint_chain(checkpoints) == []
    for c in checkpoints:
        c.verify()
        assert c.checkpoint.keyset == keyset.hash()
    for receipt in receipts[:6]:
        proof = http.get(f"/v1/receipts/{receipt.id}/proof").json()
        cp = SignedCheckpoint.from_dict(proof["checkpoint"]).checkpoint
        path = [bytes.fromhex(p) for p in proof["path"]]
        assert verify_inclusion(
            receipt.body_hash, proof["leaf_index"], proof["tree_size"], path, cp.root
        )
    pending = http.get(f"/v1/receipts/{receipts[6].id}/proof")
    assert (pending.status_code, pending.json()["error"]["code"]) == (404, "not_checkpointed")
    assert http.get("/v1/checkpoints", params={"after": 3}).json()["data"][0]["first_seq"] == 4
    unknown = http.get("/v1/receipts/" + "00" * 32)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "receipt_not_found")


def test_a_bounded_log_shows_its_gap(start_enclave: StartEnclave) -> None:
    running = start_enclave(receipts={"log_capacity": 2})
    http = httpx.Client(base_url=running.url, timeout=10)
    for _ in range(4):
        http.post("/v1/chat/completions", content=body(OPENAI_MODEL))
    page = http.get("/v1/receipts", params={"after_seq": 0}).json()
    assert page["first_held_seq"] == 3
    assert [r["body"]["seq"] for r in page["data"]] == [3, 4]
    report = check_chain(parse_receipt(orjson.dumps(r)) for r in page["data"])
    assert report.first_seq == 3
    assert report.missing == [1, 2]
