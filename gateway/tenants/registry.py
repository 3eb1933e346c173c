"""Recognising API keys on the hot path: a cache of the key table, kept fresh.

All active keys are loaded at start and reloaded every ``tenants.refresh_seconds``; a
key that is not in the cache is looked up in the store once (so a key made a moment ago
works at once) and remembered as unknown until the next reload, so that a flood of bad
keys cannot turn into a flood of database reads. A revoked key stops working at the
next reload.
"""

from __future__ import annotations

import fnmatch
import logging
from functools import lru_cache

from gateway.errors import ApiError
from gateway.loops import pause
from gateway.store.base import ApiKeyRecord, TenantStore
from gateway.tenants.keys import bearer_token, hash_key, looks_like_key

log = logging.getLogger("gateway.tenants")
MAX_UNKNOWN = 10_000


def unauthorized(message: str) -> ApiError:
    return ApiError(
        401, message, type="invalid_request_error", code="invalid_api_key",
        headers={"www-authenticate": 'Bearer realm="veritee"'},
    )  # fmt: skip


@lru_cache(maxsize=4096)
def model_allowed(patterns: tuple[str, ...], model: str) -> bool:
    """Whether a key whose ``models`` are ``patterns`` may use ``model``."""
    return any(p == model or ("*" in p and fnmatch.fnmatchcase(model, p)) for p in patterns)


class TenantRegistry:
    def __init__(self, store: TenantStore, *, refresh_seconds: float) -> None:
        self._store = store
        self._refresh = refresh_seconds
        self._by_hash: dict[str, ApiKeyRecord] = {}
        self._unknown: set[str] = set()

    async def load(self) -> None:
        keys = await self._store.list_keys()
        self._by_hash = {k.key_sha256: k for k in keys if k.active}
        self._unknown = set()

    async def refresh_forever(self) -> None:
        while True:
            await pause(self._refresh)
            try:
                await self.load()
            except Exception as exc:  # noqa: BLE001 - keep the last good table; say so
                log.warning("could not reload API keys: %s", exc)

    async def authenticate(self, authorization: str | None) -> ApiKeyRecord:
        """The active key record for an ``Authorization`` header, or a 401 ApiError."""
        token = bearer_token(authorization)
        if token is None:
            raise unauthorized("missing API key: send Authorization: Bearer <key>")
        if not looks_like_key(token):
            raise unauthorized("invalid API key")
        digest = hash_key(token)
        record = self._by_hash.get(digest)
        if record is not None:
            return record
        if digest in self._unknown:
            raise unauthorized("invalid API key")
        found = await self._store.find_key(digest)
        if found is None or not found.active:
            if len(self._unknown) >= MAX_UNKNOWN:
                self._unknown.clear()
            self._unknown.add(digest)
            raise unauthorized("invalid API key" if found is None else "this API key was revoked")
        self._by_hash[digest] = found
        return found
