"""Parsing a chat request at the edge: exact bytes kept, every bad input a named 400."""

from __future__ import annotations

import hashlib

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from enclave.chat_request import ChatRequest, parse_chat_request
from enclave.errors import ApiError

GOOD = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def parse(
    body: object, nonce: list[str] | None = None, caller: list[str] | None = None
) -> ChatRequest:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return parse_chat_request(raw, nonce=nonce or [], caller=caller or [])


def test_keeps_the_exact_bytes_and_reads_the_stream_options() -> None:
    raw = (
        b'{"model": "m",  "messages": [{"role": "user", "content": "hi"}], "stream": true,'
        b' "stream_options": {"include_usage": true}}'
    )
    req = parse(raw, nonce=["n-1"], caller=["tenant/7"])
    assert req.raw == raw
    assert req.sha256 == hashlib.sha256(raw).hexdigest()
    assert (req.model, req.stream, req.include_usage) == ("m", True, True)
    assert (req.client_nonce, req.caller) == ("n-1", "tenant/7")


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        (b"{", None, "invalid_json"),
        (b"\xff\xfe", None, "invalid_utf8"),
        (b'{"model": "\xc3"}', None, "invalid_utf8"),
        (b"[]", None, "invalid_type"),
        ({**GOOD, "model": 5}, "model", "invalid_type"),
        ({**GOOD, "model": ""}, "model", "invalid_type"),
        ({**GOOD, "model": "x" * 1025}, "model", "invalid_type"),
        ({"model": "m"}, "messages", "invalid_type"),
        ({**GOOD, "messages": []}, "messages", "invalid_type"),
        ({**GOOD, "messages": ["hi"]}, "messages[0]", "invalid_type"),
        ({**GOOD, "messages": [{"content": "x"}]}, "messages[0]", "invalid_type"),
        ({**GOOD, "stream": "yes"}, "stream", "invalid_type"),
        ({**GOOD, "stream_options": []}, "stream_options", "invalid_type"),
        (
            {**GOOD, "stream_options": {"include_usage": 1}},
            "stream_options.include_usage",
            "invalid_type",
        ),
    ],
)
def test_bad_bodies(body: object, param: str | None, code: str) -> None:
    with pytest.raises(ApiError) as info:
        parse(body)
    assert (info.value.status, info.value.param, info.value.code) == (400, param, code)


@pytest.mark.parametrize(
    ("nonce", "caller", "param"),
    [
        (["a", "b"], [], "veritee-nonce"),
        ([""], [], "veritee-nonce"),
        (["has space"], [], "veritee-nonce"),
        (["x" * 257], [], "veritee-nonce"),
        (["caf\xe9"], [], "veritee-nonce"),
        ([], ["tab\there"], "veritee-caller"),
    ],
)
def test_bad_binding_headers(nonce: list[str], caller: list[str], param: str) -> None:
    with pytest.raises(ApiError) as info:
        parse(GOOD, nonce=nonce, caller=caller)
    assert (info.value.status, info.value.param) == (400, param)


@given(st.binary(max_size=200))
def test_arbitrary_bytes_parse_or_raise_api_error(raw: bytes) -> None:
    try:
        parse(raw)
    except ApiError as exc:
        assert exc.status == 400
