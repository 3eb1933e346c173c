"""Every upstream fault of the simulator, in both dialects, plain and streamed: what the
client sees, and the one receipt that records it (never ``complete`` for a cut stream)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest

from tests.enclave.conftest import ANTHROPIC_MODEL, OPENAI_MODEL, RunningEnclave, StartEnclave
from tests.enclave.helpers import next_receipt
from tests.enclave.receipts_check import check_receipt, split_stream
from transcript import Receipt, check_chain, parse_receipt_header
from veritee.upstream_sim import self_signed

MODELS = pytest.mark.parametrize("model", [OPENAI_MODEL, ANTHROPIC_MODEL])


@pytest.fixture(scope="module")
def enclave(start_enclave: StartEnclave) -> RunningEnclave:
    """Short read time-out, so that the stall faults end quickly."""
    return start_enclave(upstream={"read_timeout_seconds": 0.5})


def ask(enclave: RunningEnclave, model: str, fault: str, *, stream: bool) -> tuple[object, Receipt]:
    """Ask through the SDK; return what it gave (or raised) and the one new receipt."""
    sdk = openai.OpenAI(base_url=enclave.openai_url, api_key="x", max_retries=0, timeout=10)
    before = enclave.enclave.log.last_seq
    messages: Any = [{"role": "user", "content": f"tell me something [[sim:fault={fault}]]"}]
    result: object
    try:
        if stream:
            result = list(sdk.chat.completions.create(model=model, messages=messages, stream=True))
        else:
            result = sdk.chat.completions.create(model=model, messages=messages)  # type: ignore[arg-type]
    except (openai.APIError, json.JSONDecodeError) as exc:
        result = exc
    return result, next_receipt(enclave.enclave.log, before).receipt


@MODELS
@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("fault", "error", "status"),
    [
        ("429", openai.RateLimitError, 429),
        ("500", openai.InternalServerError, 500),
        ("529", openai.InternalServerError, 529),
    ],
)
def test_status_faults_pass_through(
    enclave: RunningEnclave, model: str, stream: bool, fault: str, error: type, status: int
) -> None:
    result, receipt = ask(enclave, model, fault, stream=stream)
    assert isinstance(result, error)
    assert isinstance(result, openai.APIStatusError)
    assert result.status_code == status
    assert result.response.headers["veritee-receipt"]
    assert parse_receipt_header(result.response.headers["veritee-receipt"]) == receipt
    assert (receipt.body.status, receipt.body.http_status) == ("upstream_error", status)
    assert receipt.body.upstream.status == status
    assert receipt.body.stream is stream


@MODELS
@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [("reset", 502, "upstream_unreachable"), ("stall-before", 504, "upstream_timeout")],
)
def test_no_reply_at_all(
    enclave: RunningEnclave, model: str, stream: bool, fault: str, status: int, code: str
) -> None:
    result, receipt = ask(enclave, model, fault, stream=stream)
    assert isinstance(result, openai.APIStatusError)
    assert result.status_code == status
    assert result.code == code
    assert (receipt.body.status, receipt.body.http_status) == ("upstream_error", status)
    up = receipt.body.upstream
    assert (up.status, up.spki_sha256, up.response_sha256, up.request_id) == (
        None,
        None,
        None,
        None,
    )


@MODELS
@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("truncate", 502, "upstream_cut"),
        ("stall-after", 504, "upstream_timeout"),
        ("malformed-json", 502, None),
        ("malformed-sse", 502, None),
    ],
)
def test_plain_answers_cut_or_garbled(
    enclave: RunningEnclave, model: str, fault: str, status: int, code: str | None
) -> None:
    result, receipt = ask(enclave, model, fault, stream=False)
    assert isinstance(result, openai.APIStatusError)
    assert (result.status_code, result.code) == (status, code)
    assert (receipt.body.status, receipt.body.http_status) == ("upstream_error", status)
    assert receipt.body.upstream.status == 200
    assert receipt.body.upstream.response_sha256 is not None, "what did arrive is committed to"


@MODELS
@pytest.mark.parametrize("fault", ["truncate", "stall-after"])
def test_cut_streams_end_in_an_error_and_a_truncated_receipt(
    enclave: RunningEnclave, model: str, fault: str
) -> None:
    result, receipt = ask(enclave, model, fault, stream=True)
    assert isinstance(result, openai.APIError)
    assert isinstance(result.body, dict)
    assert result.body["code"] == "stream_truncated"
    assert (receipt.body.status, receipt.body.http_status) == ("truncated", 200)


@MODELS
def test_a_malformed_event_fails_the_stream(enclave: RunningEnclave, model: str) -> None:
    result, receipt = ask(enclave, model, "malformed-json", stream=True)
    # OpenAI: the broken chunk is passed through and the SDK cannot decode it;
    # Anthropic: it cannot be translated, and the client gets an error event instead.
    assert isinstance(result, json.JSONDecodeError | openai.APIError)
    assert receipt.body.status == "upstream_error"


@MODELS
def test_a_garbage_line_is_ignored_like_any_compliant_parser_would(
    enclave: RunningEnclave, model: str
) -> None:
    result, receipt = ask(enclave, model, "malformed-sse", stream=True)
    assert isinstance(result, list)
    assert "".join(c.choices[0].delta.content or "" for c in result if c.choices)
    assert receipt.body.status == "complete"


@MODELS
@pytest.mark.parametrize("fault", ["truncate", "stall-after", "malformed-json"])
def test_raw_bytes_of_a_failed_stream_are_all_covered(
    enclave: RunningEnclave, model: str, fault: str
) -> None:
    request = orjson.dumps(
        {
            "model": model,
            "stream": True,
            "messages": [{"role": "user", "content": f"a story [[sim:fault={fault}]]"}],
        }
    )
    raw = httpx.post(enclave.url + "/v1/chat/completions", content=request, timeout=10).content
    before, receipt = split_stream(raw)
    check_receipt(enclave.url, receipt, request=request, response=before)
    assert before.endswith(b"data: [DONE]\n\n")
    assert receipt.body.status != "complete"
    if receipt.body.status == "truncated":
        error = before[: -len(b"data: [DONE]\n\n")].rsplit(b"data: ", 1)[1]
        assert json.loads(error)["error"]["code"] == "stream_truncated"
    up = receipt.body.upstream
    assert up.response_sha256 != hashlib.sha256(b"").hexdigest(), "the partial upstream body"


def test_the_chain_survives_every_fault(enclave: RunningEnclave) -> None:
    receipts = [r.receipt for r in enclave.enclave.log.since(0, 1000)]
    assert len(receipts) > 40
    assert check_chain(receipts).ok
    statuses = {r.body.status for r in receipts}
    assert statuses == {"complete", "truncated", "upstream_error"}


def test_an_untrusted_upstream_certificate_is_refused(
    start_enclave: StartEnclave, tmp_path: Path
) -> None:
    other_ca = self_signed(tmp_path).ca  # a CA, but not the one that issued the sim's cert
    running = start_enclave(upstream={"ca_bundle": str(other_ca)})
    before = running.enclave.log.last_seq
    answer = httpx.post(
        running.url + "/v1/chat/completions",
        json={"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "hi"}]},
    )
    assert answer.status_code == 502
    error = answer.json()["error"]
    assert error["code"] == "upstream_unreachable"
    assert "certificate verification failed" in error["message"]
    receipt = parse_receipt_header(answer.headers["veritee-receipt"])
    assert receipt == next_receipt(running.enclave.log, before).receipt
    assert receipt.body.status == "upstream_error"
    assert receipt.body.upstream.spki_sha256 is None
