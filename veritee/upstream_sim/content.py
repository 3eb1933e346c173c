"""Deterministic completions: the same prompt always gets the same text and tool calls.

Text replies start with ``Simulated reply to "<first 12 words of the prompt>":`` (or
``Tool result received "...":`` after tool results) and continue with words drawn from a
fixed vocabulary by bytes of ``sha256(prompt digest, choice, block)``. No PRNG is involved,
so the output is stable across Python versions. A token is a whitespace-separated word
together with the spaces before it, so joining the tokens gives the content back.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from enum import StrEnum

from veritee.upstream_sim.prompt import OutputMode, Prompt, Tool, ToolMode
from veritee.upstream_sim.schema_values import example

_VOCAB = (
    "the", "signed", "enclave", "answer", "proxy", "receipt", "model", "token",
    "stream", "chunk", "latency", "verifier", "policy", "ledger", "anchor", "proof",
    "quote", "report", "measurement", "key", "nonce", "digest", "request", "response",
    "upstream", "gateway", "client", "server", "attested", "fresh", "simple", "careful",
    "quiet", "bright", "steady", "rapid", "honest", "exact", "small", "large",
    "green", "blue", "amber", "silver", "river", "mountain", "forest", "harbor",
    "is", "was", "will", "can", "and", "or", "with", "from",
    "into", "over", "under", "near", "every", "some", "this", "that",
)  # fmt: skip
_BY_BYTE = _VOCAB * (256 // len(_VOCAB))  # byte value -> word (byte % 64)
_SNIPPET_WORDS = 12
_TOKEN = re.compile(r"\s*\S+")
_ARG_PIECE = 8  # characters per streamed argument fragment when chunks is not set


class Finish(StrEnum):
    """Why generation ended; each dialect maps it onto its own vocabulary."""

    STOP = "stop"
    LENGTH = "length"
    TOOL_CALLS = "tool_calls"
    STOP_SEQUENCE = "stop_sequence"


@dataclass(frozen=True)
class ToolCall:
    """One call: the tool's name and its arguments as JSON text."""

    name: str
    arguments: str


@dataclass(frozen=True)
class Completion:
    """One choice: content tokens, tool calls, why it ended, and its output token count."""

    tokens: tuple[str, ...]
    tool_calls: tuple[ToolCall, ...]
    finish: Finish
    stop_sequence: str | None
    output_tokens: int

    @property
    def text(self) -> str:
        return "".join(self.tokens)


def generate(
    prompt: Prompt, *, choice: int = 0, words: int | None = None, tool_preamble: bool = False
) -> Completion:
    """The completion of ``prompt`` for choice ``choice``.

    ``words`` overrides the default length (16..32 generated words). ``tool_preamble`` adds
    a short sentence before tool calls, as Claude does when it chooses a tool by itself.
    """
    digest = prompt.digest if choice == 0 else _block(prompt.digest, b"choice", choice)
    calls = _chosen_tools(prompt)
    if calls:
        return _tool_completion(prompt, calls, digest, tool_preamble)
    if prompt.output_mode is OutputMode.TEXT:
        text = _text(prompt, digest, words)
    else:
        text = _json_text(prompt, digest)
    return _limited(text, prompt)


def pieces(tokens: tuple[str, ...], chunks: int | None) -> list[str]:
    """Split content into stream deltas: one per token, or exactly ``chunks`` when possible.

    With ``chunks`` at most the token count, tokens are grouped evenly; with more chunks
    than tokens, the text is split evenly by characters (never into empty pieces).
    """
    if chunks is None:
        return list(tokens)
    if chunks <= len(tokens):
        return [("".join(group)) for group in _even(list(tokens), chunks)]
    text = "".join(tokens)
    return ["".join(group) for group in _even(list(text), min(chunks, len(text)))]


def argument_fragments(arguments: str, chunks: int | None) -> list[str]:
    """Split tool-call arguments into streamed fragments (8 characters, or ``chunks``)."""
    if not arguments:
        return []
    if chunks is None:
        return [arguments[i : i + _ARG_PIECE] for i in range(0, len(arguments), _ARG_PIECE)]
    return ["".join(group) for group in _even(list(arguments), min(chunks, len(arguments)))]


def _even(items: list[str], parts: int) -> list[list[str]]:
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        out.append(items[start:end])
        start = end
    return out


def _snippet(prompt: Prompt) -> str:
    source = prompt.tool_result if prompt.tool_result is not None else prompt.user_text
    return " ".join(source.split()[:_SNIPPET_WORDS])


def _text(prompt: Prompt, digest: bytes, words: int | None) -> str:
    lead = "Tool result received" if prompt.tool_result is not None else "Simulated reply to"
    count = words if words is not None else 16 + digest[0] % 17
    return f'{lead} "{_snippet(prompt)}": {" ".join(_words(digest, count))}.'.replace(" .", ".")


def _json_text(prompt: Prompt, digest: bytes) -> str:
    if prompt.output_mode is OutputMode.JSON_SCHEMA:
        value = example(prompt.output_schema, hint=_snippet(prompt), salt=digest[1])
    else:
        value = {"answer": " ".join(_words(digest, 8)), "prompt": _snippet(prompt)}
    return json.dumps(value, ensure_ascii=False)


def _words(digest: bytes, count: int) -> list[str]:
    out: list[str] = []
    block = 0
    while len(out) < count:
        out.extend(map(_BY_BYTE.__getitem__, _block(digest, b"words", block)))
        block += 1
    return out[:count]


def _block(digest: bytes, label: bytes, index: int) -> bytes:
    return hashlib.sha256(digest + label + index.to_bytes(4, "big")).digest()


def _limited(text: str, prompt: Prompt) -> Completion:
    """Apply stop sequences, then ``max_tokens``."""
    finish, matched = Finish.STOP, None
    hits = [(text.find(s), s) for s in prompt.stop if s in text]
    if hits:
        cut, matched = min(hits)
        text, finish = text[:cut], Finish.STOP_SEQUENCE
    tokens = _tokenize(text)
    if prompt.max_tokens is not None and len(tokens) > prompt.max_tokens:
        tokens, finish, matched = tokens[: prompt.max_tokens], Finish.LENGTH, None
    return Completion(tokens, (), finish, matched, len(tokens))


def _tokenize(text: str) -> tuple[str, ...]:
    """Words with the spaces before them; trailing spaces stay on the last token."""
    tokens = _TOKEN.findall(text)
    tail = text[len(text.rstrip()) :]
    if tail:
        tokens = [*tokens[:-1], tokens[-1] + tail] if tokens else [tail]
    return tuple(tokens)


def _chosen_tools(prompt: Prompt) -> tuple[Tool, ...]:
    """Which tools this turn calls: forced ones, or the ones the user's text names."""
    if not prompt.tools or prompt.tool_mode is ToolMode.NONE:
        return ()
    if prompt.tool_mode is ToolMode.NAMED:
        return tuple(t for t in prompt.tools if t.name == prompt.tool_name)[:1]
    mentioned: tuple[Tool, ...] = ()
    if prompt.tool_result is None:
        lowered = prompt.user_text.lower()
        found = [(lowered.find(t.name.lower()), t) for t in prompt.tools if _names(lowered, t)]
        mentioned = tuple(tool for _, tool in sorted(found, key=lambda item: item[0]))
    if prompt.tool_mode is ToolMode.REQUIRED and not mentioned:
        mentioned = prompt.tools[:1]
    return mentioned if prompt.parallel_tools else mentioned[:1]


def _names(lowered_text: str, tool: Tool) -> bool:
    pattern = r"(?<![\w-])" + re.escape(tool.name.lower()) + r"(?![\w-])"
    return re.search(pattern, lowered_text) is not None


def _tool_completion(
    prompt: Prompt, tools: tuple[Tool, ...], digest: bytes, preamble: bool
) -> Completion:
    tokens: tuple[str, ...] = ()
    if preamble and prompt.tool_mode is ToolMode.AUTO:
        names = " and ".join(t.name for t in tools)
        tokens = _tokenize(f"I will call {names} for this.")
    budget = prompt.max_tokens if prompt.max_tokens is not None else 1 << 30
    if len(tokens) > budget:
        return Completion(tokens[:budget], (), Finish.LENGTH, None, budget)
    used = len(tokens)
    calls: list[ToolCall] = []
    for index, tool in enumerate(tools):
        args = json.dumps(
            example(tool.schema, hint=_snippet(prompt), salt=digest[index % 32]),
            ensure_ascii=False,
            separators=(",", ":"),
        )
        cost = 1 + (len(args) + 3) // 4
        if used + cost > budget:
            keep = max(0, (budget - used - 1) * 4)
            calls.append(ToolCall(tool.name, args[:keep]))
            return Completion(tokens, tuple(calls), Finish.LENGTH, None, budget)
        calls.append(ToolCall(tool.name, args))
        used += cost
    return Completion(tokens, tuple(calls), Finish.TOOL_CALLS, None, used)
