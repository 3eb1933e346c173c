"""Anthropic Messages stream events -> OpenAI ``chat.completion.chunk`` events.

=========================  ==================================================================
Anthropic event            OpenAI chunk(s)
=========================  ==================================================================
``message_start``          first chunk: ``delta = {"role": "assistant", "content": ""}``
``content_block_start``    text: its text, if any; ``tool_use``: a tool call with ``id``,
                           ``name`` and empty ``arguments`` at the next tool-call index
                           (0, 1, ... in order of tool blocks, whatever the block index)
``content_block_delta``    ``text_delta`` -> ``content``; ``input_json_delta`` -> that
                           call's ``arguments`` (or ``content`` for the forced JSON tool)
``message_delta``          a chunk with ``finish_reason`` (``stop_reason`` mapped)
``message_stop``           the usage chunk (``choices: []``) when ``include_usage``; done
``error``                  an OpenAI error event; the stream failed
``ping``, thinking...      nothing
=========================  ==================================================================

A ``data`` payload that is not a JSON object cannot be translated: it ends the
translation with an error event (the stream failed); later events are ignored.
"""

from __future__ import annotations

from typing import Any

import orjson

from enclave.dialects.anthropic_mapping import finish_reason, openai_usage
from enclave.dialects.base import error_event, flatten_usage, receipt_text
from enclave.sse import SseEvent, data_event


class AnthropicStream:
    def __init__(self, *, include_usage: bool, json_tool: str | None, created: int) -> None:
        self.done = False
        self.failed = False
        self.usage: dict[str, int] | None = None
        self.upstream_model: str | None = None
        self._include_usage = include_usage
        self._json_tool = json_tool
        self._created = created
        self._id = "msg"
        self._model: object = None
        self._native_usage: dict[str, Any] = {}
        self._tool_index: dict[int, int] = {}  # Anthropic block index -> OpenAI tool index
        self._json_blocks: set[int] = set()
        self._tools_called = False

    @property
    def ended(self) -> bool:
        return self.done or self.failed

    def feed(self, event: SseEvent) -> bytes:
        if event.data is None or self.ended:
            return b""
        try:
            data = orjson.loads(event.data)
        except orjson.JSONDecodeError:
            data = None
        if type(data) is not dict:
            self.failed = True
            return error_event("the upstream sent a malformed event", type="upstream_error")
        kind = data.get("type")
        handler = getattr(self, f"_on_{kind}", None) if type(kind) is str else None
        return handler(data) if handler is not None else b""

    def _on_message_start(self, data: dict[str, Any]) -> bytes:
        message = data.get("message")
        message = message if type(message) is dict else {}
        if type(message.get("id")) is str:
            self._id = message["id"]
        self._model = message.get("model")
        self.upstream_model = receipt_text(self._model)
        self._merge_usage(message.get("usage"))
        return self._chunk({"role": "assistant", "content": ""})

    def _on_content_block_start(self, data: dict[str, Any]) -> bytes:
        block = data.get("content_block")
        index = data.get("index")
        if type(block) is not dict or type(index) is not int:
            return b""
        if block.get("type") == "text":
            text = block.get("text")
            return self._chunk({"content": text}) if type(text) is str and text else b""
        if block.get("type") != "tool_use":
            return b""
        if self._json_tool is not None and block.get("name") == self._json_tool:
            self._json_blocks.add(index)
            return b""
        position = self._tool_index[index] = len(self._tool_index)
        self._tools_called = True
        call = {
            "index": position,
            "id": block.get("id"),
            "type": "function",
            "function": {"name": block.get("name"), "arguments": ""},
        }
        return self._chunk({"tool_calls": [call]})

    def _on_content_block_delta(self, data: dict[str, Any]) -> bytes:
        delta = data.get("delta")
        index = data.get("index")
        if type(delta) is not dict:
            return b""
        kind = delta.get("type")
        if kind == "text_delta" and type(delta.get("text")) is str:
            return self._chunk({"content": delta["text"]})
        if kind != "input_json_delta" or type(delta.get("partial_json")) is not str:
            return b""
        if index in self._json_blocks:
            return self._chunk({"content": delta["partial_json"]})
        if type(index) is not int or index not in self._tool_index:
            return b""
        call = {"index": self._tool_index[index], "function": {"arguments": delta["partial_json"]}}
        return self._chunk({"tool_calls": [call]})

    def _on_message_delta(self, data: dict[str, Any]) -> bytes:
        self._merge_usage(data.get("usage"))
        delta = data.get("delta")
        reason = finish_reason(delta.get("stop_reason") if type(delta) is dict else None)
        if reason == "tool_calls" and not self._tools_called:
            reason = "stop"  # only the forced JSON tool was used
        return self._chunk({}, finish=reason)

    def _on_message_stop(self, data: dict[str, Any]) -> bytes:
        self.done = True
        if not self._include_usage:
            return b""
        return data_event(orjson.dumps(self._envelope([], openai_usage(self._native_usage))))

    def _on_error(self, data: dict[str, Any]) -> bytes:
        self.failed = True
        error = data.get("error")
        error = error if type(error) is dict else {}
        message = error.get("message")
        kind = error.get("type")
        return error_event(
            message if type(message) is str else "the upstream reported an error",
            type=kind if type(kind) is str else "upstream_error",
        )

    def _merge_usage(self, usage: object) -> None:
        if type(usage) is dict:
            self._native_usage.update({k: v for k, v in usage.items() if v is not None})
            self.usage = flatten_usage(openai_usage(self._native_usage))

    def _envelope(self, choices: list[dict[str, Any]], usage: object) -> dict[str, Any]:
        chunk: dict[str, Any] = {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
            "choices": choices,
        }
        if self._include_usage:
            chunk["usage"] = usage
        return chunk

    def _chunk(self, delta: dict[str, Any], *, finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return data_event(orjson.dumps(self._envelope([choice], None)))
