"""Limits shared by every replica through Redis (the ``redis`` extra).

The rule is :func:`gateway.tenants.limits.decide` (GCRA), done atomically in one Lua
script per request, in milliseconds, on Redis's own clock (``TIME``): replicas whose
clocks disagree still share one timeline. A key's state is two strings, its request and
token TATs, that expire once they no longer matter. Keys use a hash tag (``{key_id}``) so
both live in one slot of a Redis Cluster.

When Redis cannot be reached the gateway refuses requests (503 with ``retry-after``)
rather than let every replica run without limits: see ``docs/gateway.md``.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import ApiError, ConfigError
from gateway.store.base import ApiKeyRecord
from gateway.tenants.limits import UNLIMITED, Decision, describe

# KEYS: request TAT, token TAT. ARGV: window ms, request interval ms (0: unlimited),
# token interval ms (0: unlimited). Returns {allowed, request TAT - now, token TAT - now,
# retry ms}, numbers as strings (Lua would truncate them to integers).
_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local window = tonumber(ARGV[1])
local ri = tonumber(ARGV[2])
local ti = tonumber(ARGV[3])
local rtat = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now)
local ttat = math.max(tonumber(redis.call('GET', KEYS[2]) or now), now)
local ok = 1
local retry = 0
if ri > 0 and rtat + ri - now > window then
  ok = 0
  retry = rtat + ri - now - window
end
if ti > 0 and ttat - now >= window then
  ok = 0
  retry = math.max(retry, ttat - now - window + ti)
end
if ok == 1 and ri > 0 then
  rtat = rtat + ri
  redis.call('SET', KEYS[1], string.format('%.3f', rtat), 'PX', math.ceil(rtat - now) + 1000)
end
return {ok, string.format('%.3f', rtat - now), string.format('%.3f', ttat - now),
        string.format('%.3f', retry)}
"""
# KEYS: token TAT. ARGV: tokens, token interval ms.
_CHARGE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now)
tat = tat + tonumber(ARGV[1]) * tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%.3f', tat), 'PX', math.ceil(tat - now) + 1000)
return 1
"""


def _unavailable(exc: Exception) -> ApiError:
    return ApiError(
        503,
        f"the shared rate limiter is unavailable ({type(exc).__name__}); retry shortly",
        type="server_error",
        code="rate_limiter_unavailable",
        headers={"retry-after": "1"},
    )


class RedisLimiter:
    """:class:`gateway.tenants.limits.Limiter` shared through Redis."""

    def __init__(self, url: str, *, window_seconds: float, prefix: str = "veritee:rl:") -> None:
        try:
            import redis.asyncio as redis
            from redis.exceptions import RedisError
        except ImportError:
            raise ConfigError(
                "shared rate limits need the redis extra: pip install 'veritee[redis]'",
                key="ratelimit.redis_url",
            ) from None
        self._errors: tuple[type[Exception], ...] = (RedisError, OSError)
        self._client: Any = redis.Redis.from_url(
            url, socket_timeout=2.0, socket_connect_timeout=2.0, health_check_interval=30
        )
        self._admit = self._client.register_script(_ADMIT)
        self._charge = self._client.register_script(_CHARGE)
        self._window_ms = window_seconds * 1000.0
        self._prefix = prefix

    def _keys(self, key: ApiKeyRecord) -> tuple[str, str]:
        base = f"{self._prefix}{{{key.key_id}}}"
        return f"{base}:r", f"{base}:t"

    async def admit(self, key: ApiKeyRecord) -> Decision:
        if key.rpm is None and key.tpm is None:
            return UNLIMITED
        window = self._window_ms
        r_interval = window / key.rpm if key.rpm else 0.0
        t_interval = window / key.tpm if key.tpm else 0.0
        try:
            ok, r_used, t_used, retry = await self._admit(
                keys=self._keys(key), args=[window, repr(r_interval), repr(t_interval)]
            )
        except self._errors as exc:
            raise _unavailable(exc) from None
        # Re-express in seconds from "now" = 0 and let the shared rule fill the headers.
        seconds = 1000.0
        return describe(
            now=0.0,
            window=window / seconds,
            rpm=key.rpm,
            tpm=key.tpm,
            request_tat=float(r_used) / seconds,
            token_tat=float(t_used) / seconds,
            allowed=bool(int(ok)),
            retry=float(retry) / seconds,
        )

    async def charge_tokens(self, key: ApiKeyRecord, tokens: int) -> None:
        if key.tpm is None or tokens <= 0:
            return
        try:
            await self._charge(
                keys=[self._keys(key)[1]], args=[tokens, repr(self._window_ms / key.tpm)]
            )
        except self._errors:
            return  # usage is charged best-effort; admission fails closed instead

    async def close(self) -> None:
        await self._client.aclose()
