"""The receipt v1 body schema: its keys, types and value rules, checked on every parse.

Two routes to the same answer: ``_looks_valid`` is a shortcut for canonical input (keys in
sorted order, types checked together), and ``_validate_in_detail`` checks field by field and
names the first bad one. ``validate_body`` runs the shortcut and falls back to the details.
A property-based test keeps the shortcut from ever accepting what the details reject.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal

from transcript.errors import MalformedReceipt
from transcript.hexfields import MAX_JSON_INT, ZERO_HASH, is_hex64, is_uint
from transcript.keys import parse_address

RECEIPT_TYPE = "veritee.receipt.v1"
Status = Literal["complete", "truncated", "upstream_error"]
STATUSES: frozenset[str] = frozenset(("complete", "truncated", "upstream_error"))
MAX_TEXT = 1024  # longest free-text field (model names, hosts, ids, nonces) in characters

_BODY_KEYS = frozenset(
    (
        "type", "signer", "keyset", "seq", "prev", "time_ms", "request_sha256",
        "response_sha256", "stream", "status", "http_status", "model", "upstream",
        "usage", "client_nonce", "caller",
    )
)  # fmt: skip
_UPSTREAM_KEYS = frozenset(
    ("provider", "host", "request_id", "spki_sha256", "response_sha256", "status", "model")
)


def _text(data: Mapping[str, Any], key: str, *, nullable: bool, where: str = "") -> None:
    value = data[key]
    if value is None and nullable:
        return
    if type(value) is not str or not value or len(value) > MAX_TEXT:
        kind = "a string or null" if nullable else "a non-empty string"
        raise MalformedReceipt(
            f"must be {kind} of at most {MAX_TEXT} characters", field=where + key
        )


def _http_status(value: object, name: str, *, nullable: bool) -> None:
    if value is None and nullable:
        return
    if type(value) is not int or not 100 <= value <= 599:
        raise MalformedReceipt(
            "must be an HTTP status" + (" or null" if nullable else ""), field=name
        )


def _validate_upstream(up: object) -> None:
    if type(up) is not dict or up.keys() != _UPSTREAM_KEYS:
        raise MalformedReceipt(
            f"must be an object with the keys {sorted(_UPSTREAM_KEYS)}", field="upstream"
        )
    _text(up, "provider", nullable=False, where="upstream.")
    _text(up, "host", nullable=False, where="upstream.")
    _text(up, "request_id", nullable=True, where="upstream.")
    _text(up, "model", nullable=True, where="upstream.")
    for key in ("spki_sha256", "response_sha256"):
        if up[key] is not None and not is_hex64(up[key]):
            raise MalformedReceipt(
                "must be 64 lowercase hex digits or null", field=f"upstream.{key}"
            )
    _http_status(up["status"], "upstream.status", nullable=True)


@lru_cache(maxsize=4096)
def _is_checksummed(address: str) -> bool:
    try:
        return parse_address(address) == address
    except ValueError:
        return False


_HEX_FIELDS = re.compile(r"(?:[0-9a-f]{64}\|){4}").fullmatch
_OPT_HEX_PAIR = re.compile(r"(?:[0-9a-f]{64}|None)\|(?:[0-9a-f]{64}|None)").fullmatch
_NONE = type(None)
# Canonical (sorted) key order, as it arrives in the canonical wire form.
_BODY_ORDER = tuple(sorted(_BODY_KEYS))
_UPSTREAM_ORDER = tuple(sorted(_UPSTREAM_KEYS))
# The field types allowed in that order (null allowed where the spec says so).
_BODY_TYPES = frozenset(
    tuple(types)
    for caller in (str, _NONE)
    for nonce in (str, _NONE)
    for usage in (dict, _NONE)
    for types in [
        [caller, nonce, int, str, str, str, str, str, int, str, str, bool, int, str, dict, usage]
    ]
)
_UPSTREAM_TYPES = frozenset(
    (host, model, provider, request_id, response_sha, spki, status)
    for host in (str,)
    for model in (str, _NONE)
    for provider in (str,)
    for request_id in (str, _NONE)
    for response_sha in (str, _NONE)
    for spki in (str, _NONE)
    for status in (int, _NONE)
)


def _looks_valid(data: dict[str, Any]) -> bool:
    """A shortcut for canonical input: True only when every rule of the detailed checks holds.

    It relies on canonical key order, checks all types at once, then the value ranges.
    False just means "run the detailed checks", which name the offending field; the
    property-based tests in ``tests/transcript/test_receipt.py`` keep the two in step.
    """
    if tuple(data) != _BODY_ORDER or tuple(map(type, data.values())) not in _BODY_TYPES:
        return False
    up = data["upstream"]
    if tuple(up) != _UPSTREAM_ORDER or tuple(map(type, up.values())) not in _UPSTREAM_TYPES:
        return False
    seq, status, up_status, usage = data["seq"], data["http_status"], up["status"], data["usage"]
    return (
        data["type"] == RECEIPT_TYPE
        and _is_checksummed(data["signer"])
        and _HEX_FIELDS(
            f"{data['keyset']}|{data['prev']}|{data['request_sha256']}|{data['response_sha256']}|"
        )
        is not None
        and _OPT_HEX_PAIR(f"{up['spki_sha256']}|{up['response_sha256']}") is not None
        and 1 <= seq <= MAX_JSON_INT
        and (seq != 1 or data["prev"] == ZERO_HASH)
        and 0 <= data["time_ms"] <= MAX_JSON_INT
        and data["status"] in STATUSES
        and 100 <= status <= 599
        and (up_status is None or 100 <= up_status <= 599)
        and all(
            t is None or 0 < len(t) <= MAX_TEXT
            for t in (
                data["model"],
                data["client_nonce"],
                data["caller"],
                up["provider"],
                up["host"],
                up["request_id"],
                up["model"],
            )
        )
        and (
            usage is None
            or all(
                type(k) is str and k and k.isascii() and type(v) is int and 0 <= v <= MAX_JSON_INT
                for k, v in usage.items()
            )
        )
    )


def validate_body(data: object) -> None:
    """Check every field of a decoded receipt body; raise :class:`MalformedReceipt` naming it."""
    if type(data) is dict and _looks_valid(data):
        return
    _validate_in_detail(data)


def _validate_in_detail(data: object) -> None:
    if type(data) is not dict:
        raise MalformedReceipt("a receipt body must be a JSON object", field="body")
    if data.keys() != _BODY_KEYS:
        missing = sorted(_BODY_KEYS - data.keys())
        extra = sorted(data.keys() - _BODY_KEYS)
        raise MalformedReceipt(f"missing {missing}, unexpected {extra}", field="body")
    if data["type"] != RECEIPT_TYPE:
        raise MalformedReceipt(f"must be {RECEIPT_TYPE!r}", field="type")
    signer = data["signer"]
    if type(signer) is not str or not _is_checksummed(signer):
        raise MalformedReceipt("must be an EIP-55 checksummed address", field="signer")
    for key in ("keyset", "prev", "request_sha256", "response_sha256"):
        if not is_hex64(data[key]):
            raise MalformedReceipt("must be 64 lowercase hex digits", field=key)
    if not is_uint(data["seq"], 1):
        raise MalformedReceipt("must be an integer >= 1", field="seq")
    if data["seq"] == 1 and data["prev"] != ZERO_HASH:
        raise MalformedReceipt("the first receipt of a key has prev = 64 zeros", field="prev")
    if not is_uint(data["time_ms"]):
        raise MalformedReceipt("must be a non-negative integer", field="time_ms")
    if type(data["stream"]) is not bool:
        raise MalformedReceipt("must be true or false", field="stream")
    if data["status"] not in STATUSES:
        raise MalformedReceipt(f"must be one of {sorted(STATUSES)}", field="status")
    _http_status(data["http_status"], "http_status", nullable=False)
    _text(data, "model", nullable=False)
    _text(data, "client_nonce", nullable=True)
    _text(data, "caller", nullable=True)
    _validate_upstream(data["upstream"])
    usage = data["usage"]
    if usage is not None and (
        type(usage) is not dict
        or not all(type(k) is str and k and k.isascii() and is_uint(v) for k, v in usage.items())
    ):
        raise MalformedReceipt("must be null or an object of non-negative integers", field="usage")
