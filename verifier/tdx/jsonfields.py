"""Typed reads from the JSON of signed collateral; a bad field is CollateralInvalid."""

from __future__ import annotations

import binascii
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from verifier.collateral.errors import CollateralInvalid
from verifier.collateral.rawjson import check_depth


def load_signed_json(
    raw: bytes, *, check: str, where: str, what: str, expected_id: str, version: int
) -> Fields:
    """Parse signed collateral JSON and check its ``id`` and ``version``."""
    try:
        check_depth(raw)
        data = json.loads(raw)
    except ValueError as exc:
        raise CollateralInvalid(check, f"the {what} is not JSON: {exc}") from None
    fields = Fields(data, check=check, where=where)
    if fields.text("id") != expected_id:
        raise fields.fail("id", f"must be {expected_id!r} in the {what}")
    found = fields.integer("version")
    if found != version:
        raise fields.fail("version", f"is {found}; the {what} must be version {version}")
    return fields


class Fields:
    """Read fields of one JSON object, naming ``where`` in every error."""

    def __init__(self, data: object, *, check: str, where: str) -> None:
        if not isinstance(data, Mapping):
            raise CollateralInvalid(check, f"{where} is not a JSON object")
        self.data: Mapping[str, Any] = data
        self.check = check
        self.where = where

    def fail(self, key: str, what: str) -> CollateralInvalid:
        return CollateralInvalid(self.check, f"{self.where}.{key} {what}")

    def has(self, key: str) -> bool:
        return key in self.data

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str):
            raise self.fail(key, "must be a string")
        return value

    def integer(self, key: str) -> int:
        value = self.data.get(key)
        if type(value) is not int or value < 0:
            raise self.fail(key, "must be a non-negative integer")
        return value

    def hexbytes(self, key: str, size: int) -> bytes:
        try:
            value = binascii.unhexlify(self.text(key))
        except (binascii.Error, ValueError):
            raise self.fail(key, "must be hex") from None
        if len(value) != size:
            raise self.fail(key, f"must be {size} bytes")
        return value

    def time(self, key: str) -> datetime:
        try:
            value = datetime.fromisoformat(self.text(key))
        except ValueError:
            raise self.fail(key, "must be an ISO 8601 time") from None
        if value.tzinfo is None:
            raise self.fail(key, "must carry a time zone")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of strings")
        return tuple(value)

    def objects(self, key: str) -> list[Fields]:
        value = self.data.get(key)
        if not isinstance(value, list):
            raise self.fail(key, "must be a list")
        return [
            Fields(item, check=self.check, where=f"{self.where}.{key}[{i}]")
            for i, item in enumerate(value)
        ]

    def child(self, key: str) -> Fields:
        return Fields(self.data.get(key), check=self.check, where=f"{self.where}.{key}")
