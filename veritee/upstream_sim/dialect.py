"""The interface each provider dialect implements, and what the server hands it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from veritee.upstream_sim.directives import Directives
from veritee.upstream_sim.errors import SimError
from veritee.upstream_sim.http import Request
from veritee.upstream_sim.ids import RequestIds
from veritee.upstream_sim.prompt import CachedPrefix, Prompt
from veritee.upstream_sim.reply import Reply


@dataclass(frozen=True)
class ParsedChat:
    """A chat request parsed by its dialect: the neutral prompt plus transport options.

    ``markers`` are the directives of the ``[[sim:...]]`` markers in the last user message;
    ``cached`` is the prefix marked for prompt caching, if the dialect has that notion.
    """

    prompt: Prompt
    markers: Directives
    stream: bool
    include_usage: bool = False
    cached: CachedPrefix | None = None


@dataclass(frozen=True)
class Exchange:
    """Per-request facts the renderers need besides the prompt."""

    ids: RequestIds
    created: int
    fingerprint: str
    chunks: int | None
    words: int | None
    latency_ms: int


class Dialect(Protocol):
    """One provider's API: parse its chat requests, render replies and errors its way."""

    name: str

    def parse(self, request: Request) -> ParsedChat:
        """Parse a chat request; raise ``RequestInvalid`` as the provider would (400)."""
        ...

    def render(self, chat: ParsedChat, exchange: Exchange) -> Reply:
        """The complete reply, streamed or not."""
        ...

    def error(self, error: SimError, exchange: Exchange) -> Reply:
        """An error in the provider's envelope, with its headers."""
        ...

    def models(self, exchange: Exchange, model: str | None) -> Reply:
        """``GET /v1/models`` (``model=None``) or ``GET /v1/models/{model}``."""
        ...
