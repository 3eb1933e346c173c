"""Bad input gets the OpenAI envelope with the right status, never a traceback, and no
receipt (nothing reached an upstream)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.enclave.conftest import RunningEnclave, StartEnclave

GOOD = b'{"model": "gpt-sim", "messages": [{"role": "user", "content": "hi"}]}'


@pytest.fixture(scope="module")
def enclave(start_enclave: StartEnclave) -> RunningEnclave:
    return start_enclave(server={"max_body_bytes": 1024})


@pytest.fixture
def http(enclave: RunningEnclave) -> Iterator[httpx.Client]:
    before = enclave.enclave.log.last_seq
    with httpx.Client(base_url=enclave.url, timeout=10) as client:
        yield client
    assert enclave.enclave.log.last_seq == before, "no receipt for a refused request"


def envelope(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert "veritee-receipt" not in response.headers
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str)
    assert "Traceback" not in error["message"]
    return error  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        (b"", None, "invalid_json"),
        (b"{not json", None, "invalid_json"),
        (b'{"model": "gpt-sim", "messages": "\xff"}', None, "invalid_utf8"),
        (b"[1, 2]", None, "invalid_type"),
        (b'{"messages": [{"role": "user", "content": "hi"}]}', "model", "invalid_type"),
        (b'{"model": 4, "messages": []}', "model", "invalid_type"),
        (b'{"model": "gpt-sim"}', "messages", "invalid_type"),
        (b'{"model": "gpt-sim", "messages": [{"role": 1}]}', "messages[0]", "invalid_type"),
        (b'{"model": "gpt-sim", "messages": [{"role": "user"}], "stream": 1}', "stream", None),
    ],
)
def test_malformed_bodies_are_400(
    http: httpx.Client, body: bytes, param: str | None, code: str | None
) -> None:
    error = envelope(http.post("/v1/chat/completions", content=body), 400)
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    if code is not None:
        assert error["code"] == code


def test_unknown_model_is_404_through_the_sdk(enclave: RunningEnclave) -> None:
    before = enclave.enclave.log.last_seq
    sdk = openai.OpenAI(base_url=enclave.openai_url, api_key="x", max_retries=0)
    with pytest.raises(openai.NotFoundError) as info:
        sdk.chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "x"}]
        )
    assert info.value.code == "model_not_found"
    assert info.value.param == "model"
    assert enclave.enclave.log.last_seq == before


def test_bodies_over_the_limit_are_413(http: httpx.Client) -> None:
    big = GOOD[:-1] + b', "pad": "' + b"x" * 2000 + b'"}'
    error = envelope(http.post("/v1/chat/completions", content=big), 413)
    assert error["code"] == "request_too_large"

    def chunks() -> Iterator[bytes]:  # no content-length: the limit holds while reading
        yield big[:600]
        yield big[600:]

    envelope(http.post("/v1/chat/completions", content=chunks()), 413)


@pytest.mark.parametrize(
    ("headers", "param"),
    [
        ({"veritee-nonce": ""}, "veritee-nonce"),
        ({"veritee-nonce": "a b"}, "veritee-nonce"),
        ({"veritee-nonce": "x" * 300}, "veritee-nonce"),
        ({"veritee-caller": "caf\u00e9"}, "veritee-caller"),
    ],
)
def test_bad_binding_headers_are_400(
    http: httpx.Client, headers: dict[str, str], param: str
) -> None:
    encoded = {k: v.encode("latin-1") for k, v in headers.items()}
    error = envelope(http.post("/v1/chat/completions", content=GOOD, headers=encoded), 400)
    assert error["param"] == param


def test_a_header_sent_twice_is_400(http: httpx.Client) -> None:
    headers = [("veritee-nonce", "a"), ("veritee-nonce", "b")]
    error = envelope(http.post("/v1/chat/completions", content=GOOD, headers=headers), 400)
    assert error["param"] == "veritee-nonce"


def test_untranslatable_fields_are_400_for_anthropic_models(http: httpx.Client) -> None:
    body = b'{"model": "claude-sim", "n": 3, "messages": [{"role": "user", "content": "x"}]}'
    error = envelope(http.post("/v1/chat/completions", content=body), 400)
    assert (error["param"], error["code"]) == ("n", "unsupported_parameter")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/nothing", 404),
        ("GET", "/v1/chat/completions", 405),
        ("DELETE", "/v1/models", 405),
        ("GET", "/v1/receipts?after_seq=-1", 400),
        ("GET", "/v1/receipts?after_seq=abc", 400),
        ("GET", "/v1/receipts?limit=100000", 400),
        ("GET", "/v1/checkpoints?after=1&after=2", 400),
        ("GET", "/v1/attestation?nonce=abc", 400),
        ("GET", "/v1/attestation?nonce=" + "zz" * 32, 400),
    ],
)
def test_other_bad_requests(http: httpx.Client, method: str, path: str, status: int) -> None:
    envelope(http.request(method, path), status)
