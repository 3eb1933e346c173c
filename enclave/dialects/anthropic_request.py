"""OpenAI chat completion request -> Anthropic Messages request.

The mapping, field by field, is tabulated in ``docs/spec/enclave-api.md`` ("Anthropic
upstreams"). In short: system and developer messages become ``system``; tool calls and
tool results become ``tool_use`` / ``tool_result`` blocks; consecutive messages of one
role merge into one turn; ``stop`` becomes ``stop_sequences``; ``max_tokens`` defaults
per upstream; ``response_format`` becomes a forced tool whose input is the JSON answer.
Fields with no Anthropic meaning are refused (400, ``param`` names them) unless they
are at their neutral value or only concern OpenAI's own storage and billing.
"""

from __future__ import annotations

from typing import Any

import orjson

from enclave.errors import bad_request

JSON_TOOL_DESCRIPTION = "Answer with JSON that matches this schema."
# OpenAI fields that change nothing about the answer itself: accepted and dropped.
_DROPPED = frozenset(
    ("store", "metadata", "service_tier", "seed", "prompt_cache_key", "safety_identifier")
)
# Fields accepted only at the value that means "not used".
_NEUTRAL: dict[str, tuple[object, ...]] = {
    "n": (1,),
    "logprobs": (False,),
    "presence_penalty": (0, 0.0),
    "frequency_penalty": (0, 0.0),
    "logit_bias": ({},),
    "top_logprobs": (0,),
    "parallel_tool_calls": (True, False),  # translated below
}
_HANDLED = frozenset(
    (
        "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens",
        "temperature", "top_p", "top_k", "stop", "tools", "tool_choice", "user",
        "response_format",
    )
)  # fmt: skip


def to_anthropic(
    data: dict[str, Any], *, default_max_tokens: int
) -> tuple[dict[str, Any], str | None]:
    """The Messages request body, and the name of the forced JSON tool if any."""
    for key, value in data.items():
        if key in _HANDLED or key in _DROPPED or value is None:
            continue
        if not any(type(value) is type(v) and value == v for v in _NEUTRAL.get(key, ())):
            raise bad_request(
                f"'{key}' is not supported by this model's upstream (Anthropic)",
                param=key,
                code="unsupported_parameter",
            )
    system, messages = _messages(data["messages"])
    out: dict[str, Any] = {"model": data["model"]}
    if system:
        out["system"] = system
    out["messages"] = messages
    out["max_tokens"] = _max_tokens(data, default_max_tokens)
    for key in ("temperature", "top_p"):
        if data.get(key) is not None:
            out[key] = _number(data[key], key)
    if data.get("top_k") is not None:
        out["top_k"] = _int(data["top_k"], "top_k", 1)
    stop = data.get("stop")
    if stop is not None:
        out["stop_sequences"] = _stop(stop)
    if data.get("stream"):
        out["stream"] = True
    user = data.get("user")
    if user is not None:
        if type(user) is not str:
            raise bad_request("'user' must be a string", param="user")
        out["metadata"] = {"user_id": user}
    json_tool = _response_format(data.get("response_format"), data, out)
    if json_tool is None:
        _tools(data, out)
    return out, json_tool


def _messages(items: list[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    for i, message in enumerate(items):
        where = f"messages[{i}]"
        role = message["role"]
        if role in ("system", "developer"):
            system.extend(_text_blocks(message.get("content"), f"{where}.content"))
            continue
        if role == "user":
            blocks = _user_blocks(message.get("content"), f"{where}.content")
            turn_role = "user"
        elif role == "assistant":
            blocks = _assistant_blocks(message, where)
            turn_role = "assistant"
        elif role == "tool":
            blocks = [_tool_result(message, where)]
            turn_role = "user"
        else:
            raise bad_request(
                f"role {role!r} is not supported by this model's upstream (Anthropic)",
                param=f"{where}.role",
            )
        if not blocks:
            continue
        if turns and turns[-1]["role"] == turn_role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": turn_role, "content": blocks})
    if not turns:
        raise bad_request("at least one user or assistant message is required", param="messages")
    for turn in turns:
        content = turn["content"]
        if len(content) == 1 and content[0]["type"] == "text" and len(content[0]) == 2:
            turn["content"] = content[0]["text"]  # the plain-string form of a lone text block
    return system, turns


def _text_blocks(content: object, where: str) -> list[dict[str, Any]]:
    if type(content) is str:
        return [{"type": "text", "text": content}] if content else []
    if type(content) is not list:
        raise bad_request("must be a string or an array of content parts", param=where)
    blocks = [_text_part(part, f"{where}[{j}]") for j, part in enumerate(content)]
    return [block for block in blocks if block["text"]]


def _text_part(part: object, where: str) -> dict[str, Any]:
    if type(part) is not dict or part.get("type") not in ("text", "refusal"):
        raise bad_request("only text parts are allowed here", param=where)
    text = part.get("text", part.get("refusal"))
    if type(text) is not str:
        raise bad_request("must be a string", param=f"{where}.text")
    return _with_cache_control({"type": "text", "text": text}, part)


def _user_blocks(content: object, where: str) -> list[dict[str, Any]]:
    if type(content) is not list:
        return _text_blocks(content, where)
    blocks: list[dict[str, Any]] = []
    for j, part in enumerate(content):
        if type(part) is dict and part.get("type") == "image_url":
            blocks.append(_image(part, f"{where}[{j}]"))
            continue
        block = _text_part(part, f"{where}[{j}]")
        if block["text"]:
            blocks.append(block)
    return blocks


def _image(part: dict[str, Any], where: str) -> dict[str, Any]:
    image = part.get("image_url")
    url = image.get("url") if type(image) is dict else None
    if type(url) is not str:
        raise bad_request("must hold image_url.url", param=where)
    if url.startswith("data:"):
        header, sep, payload = url[5:].partition(",")
        media_type, _, encoding = header.partition(";")
        if not sep or encoding != "base64" or not media_type:
            raise bad_request("a data URL must be data:<type>;base64,<data>", param=where)
        source = {"type": "base64", "media_type": media_type, "data": payload}
    elif url.startswith("https://"):
        source = {"type": "url", "url": url}
    else:
        raise bad_request("an image URL must be https:// or a base64 data URL", param=where)
    return _with_cache_control({"type": "image", "source": source}, part)


def _assistant_blocks(message: dict[str, Any], where: str) -> list[dict[str, Any]]:
    content = message.get("content")
    blocks = [] if content is None else _text_blocks(content, f"{where}.content")
    calls = message.get("tool_calls")
    if calls is None:
        return blocks
    if type(calls) is not list:
        raise bad_request("must be an array", param=f"{where}.tool_calls")
    for k, call in enumerate(calls):
        at = f"{where}.tool_calls[{k}]"
        function = call.get("function") if type(call) is dict else None
        if type(function) is not dict or type(call.get("id")) is not str:
            raise bad_request("must have an 'id' and a 'function'", param=at)
        name, arguments = function.get("name"), function.get("arguments")
        if type(name) is not str or type(arguments) is not str:
            raise bad_request("needs a string name and arguments", param=f"{at}.function")
        try:
            parsed = orjson.loads(arguments) if arguments.strip() else {}
        except orjson.JSONDecodeError:
            parsed = None
        if type(parsed) is not dict:
            raise bad_request("must be a JSON object", param=f"{at}.function.arguments")
        blocks.append({"type": "tool_use", "id": call["id"], "name": name, "input": parsed})
    return blocks


def _tool_result(message: dict[str, Any], where: str) -> dict[str, Any]:
    call_id = message.get("tool_call_id")
    if type(call_id) is not str:
        raise bad_request("must be a string", param=f"{where}.tool_call_id")
    content = message.get("content")
    result: dict[str, Any] = {"type": "tool_result", "tool_use_id": call_id}
    if type(content) is str:
        result["content"] = content
    else:
        result["content"] = _text_blocks(content, f"{where}.content")
    return result


def _with_cache_control(block: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """Carry an Anthropic ``cache_control`` marker some clients put on content parts."""
    if type(part.get("cache_control")) is dict:
        block["cache_control"] = part["cache_control"]
    return block


def _max_tokens(data: dict[str, Any], default: int) -> int:
    for key in ("max_completion_tokens", "max_tokens"):
        if data.get(key) is not None:
            return _int(data[key], key, 1)
    return default


def _stop(stop: object) -> list[str]:
    if type(stop) is str:
        return [stop]
    if type(stop) is list and all(type(s) is str for s in stop):
        return list(stop)
    raise bad_request("must be a string or an array of strings", param="stop")


def _tools(data: dict[str, Any], out: dict[str, Any]) -> None:
    tools = data.get("tools")
    if tools is None:
        return
    if type(tools) is not list:
        raise bad_request("must be an array", param="tools")
    converted = []
    for i, tool in enumerate(tools):
        function = tool.get("function") if type(tool) is dict else None
        if type(function) is not dict or tool.get("type") != "function":
            raise bad_request("only function tools are supported", param=f"tools[{i}]")
        name = function.get("name")
        if type(name) is not str:
            raise bad_request("must be a string", param=f"tools[{i}].function.name")
        schema = function.get("parameters") or {"type": "object", "properties": {}}
        entry: dict[str, Any] = {"name": name, "input_schema": schema}
        if type(function.get("description")) is str:
            entry["description"] = function["description"]
        converted.append(entry)
    if not converted:
        return
    out["tools"] = converted
    choice = _tool_choice(data.get("tool_choice"))
    if data.get("parallel_tool_calls") is False:
        choice = choice or {"type": "auto"}
        if choice["type"] != "none":
            choice["disable_parallel_tool_use"] = True
    if choice is not None:
        out["tool_choice"] = choice


def _tool_choice(choice: object) -> dict[str, Any] | None:
    if choice is None:
        return None
    simple = {"auto": "auto", "none": "none", "required": "any"}
    if type(choice) is str and choice in simple:
        return {"type": simple[choice]}
    if type(choice) is dict and choice.get("type") == "function":
        function = choice.get("function")
        if type(function) is dict and type(function.get("name")) is str:
            return {"type": "tool", "name": function["name"]}
    raise bad_request(
        "must be 'auto', 'none', 'required' or a function choice", param="tool_choice"
    )


def _response_format(fmt: object, data: dict[str, Any], out: dict[str, Any]) -> str | None:
    if fmt is None:
        return None
    kind = fmt.get("type") if type(fmt) is dict else None
    if kind == "text":
        return None
    if kind not in ("json_object", "json_schema"):
        raise bad_request(
            "must be of type text, json_object or json_schema", param="response_format"
        )
    if data.get("tools"):
        raise bad_request(
            "response_format cannot be combined with tools on this model's upstream (Anthropic)",
            param="response_format",
            code="unsupported_parameter",
        )
    name, schema = "json_response", {"type": "object"}
    if kind == "json_schema":
        spec = fmt.get("json_schema") if type(fmt) is dict else None
        if type(spec) is not dict or type(spec.get("name")) is not str:
            raise bad_request("must hold a name and a schema", param="response_format.json_schema")
        name = spec["name"]
        schema = spec.get("schema") or schema
    out["tools"] = [{"name": name, "description": JSON_TOOL_DESCRIPTION, "input_schema": schema}]
    out["tool_choice"] = {"type": "tool", "name": name}
    return name


def _number(value: object, key: str) -> float | int:
    if type(value) not in (int, float):
        raise bad_request("must be a number", param=key)
    return value  # type: ignore[return-value]


def _int(value: object, key: str, low: int) -> int:
    if type(value) is not int or value < low:
        raise bad_request(f"must be an integer >= {low}", param=key)
    return value
