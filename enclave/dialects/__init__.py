"""Upstream dialects: how a chat completion request becomes an upstream call and back.

``openai`` forwards the exact request bytes to any OpenAI-compatible API and passes the
answer through; ``anthropic`` translates to and from the Messages API. Both produce the
same shapes (:mod:`enclave.dialects.base`), so the proxy never branches on the dialect.
"""

from __future__ import annotations

from enclave.chat_request import ChatRequest
from enclave.dialects.anthropic import AnthropicExchange
from enclave.dialects.base import Answer, Exchange, StreamTranslator, UpstreamCall
from enclave.dialects.openai import OpenAIExchange
from enclave.identity import Clock
from enclave.settings import UpstreamSettings


def prepare(request: ChatRequest, upstream: UpstreamSettings, clock: Clock) -> Exchange:
    """The exchange for ``request`` on ``upstream``; raises ApiError (400) if untranslatable."""
    if upstream.dialect == "anthropic":
        return AnthropicExchange(request, upstream, clock)
    return OpenAIExchange(request, upstream)


__all__ = ["Answer", "Exchange", "StreamTranslator", "UpstreamCall", "prepare"]
