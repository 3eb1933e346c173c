"""Tenant API keys: how they are made, how they are stored, how they are recognised.

A key is ``vt-`` followed by 32 random bytes in unpadded base64url (46 characters). The
store keeps only ``sha256(key)``. A slow password hash (scrypt, argon2) protects keys a
person chose, which are guessable; these keys are 256 random bits, so no amount of
hashing speed helps an attacker who stole the table, and a single sha256 lets the gateway
look a key up in microseconds on every request. ``docs/gateway.md`` records the decision.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

KEY_PREFIX = "vt-"
KEY_BYTES = 32
_KEY = re.compile(r"vt-[A-Za-z0-9_-]{43}")


def generate_key() -> str:
    """A new random API key (shown once to whoever creates it, never stored)."""
    raw = secrets.token_bytes(KEY_BYTES)
    return KEY_PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def generate_key_id() -> str:
    """A short public identifier for a key (safe to log and show)."""
    return "key_" + secrets.token_hex(8)


def hash_key(key: str) -> str:
    """The stored form of a key: sha256 of its UTF-8 bytes, as 64 hex digits."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_key(value: str) -> bool:
    """True when ``value`` has the shape of a veritee key (cheap check before any lookup)."""
    return _KEY.fullmatch(value) is not None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    return token or None
