"""Reading the gateway's TOML configuration into :class:`gateway.settings.Settings`.

One table per settings section (``[server]``, ``[attestation]``...) and an array of
``[[enclaves]]``. Unknown sections and keys are errors, so a typo never silently falls
back to a default; relative paths resolve against the configuration file's directory.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from gateway.errors import ConfigError
from gateway.settings import (
    STRATEGIES,
    AnchorSettings,
    AttestationSettings,
    BalancerSettings,
    EnclaveClientSettings,
    EnclaveSettings,
    HealthSettings,
    RateLimitSettings,
    RetrySettings,
    ServerSettings,
    Settings,
    StoreSettings,
    TenantSettings,
)
from transcript.keys import parse_address

T = TypeVar("T")

_SECTIONS: dict[str, type[Any]] = {
    "server": ServerSettings,
    "attestation": AttestationSettings,
    "balancer": BalancerSettings,
    "health": HealthSettings,
    "retry": RetrySettings,
    "enclave_client": EnclaveClientSettings,
    "store": StoreSettings,
    "tenants": TenantSettings,
    "ratelimit": RateLimitSettings,
    "anchor": AnchorSettings,
}
# Numbers that must be strictly positive (everything numeric must at least be >= 0).
_POSITIVE = frozenset(
    {
        "server.max_body_bytes", "attestation.reattest_seconds",
        "attestation.keyset_poll_seconds", "attestation.timeout_seconds",
        "attestation.retry_seconds", "balancer.ewma_half_life_seconds",
        "health.interval_seconds", "health.timeout_seconds", "health.failure_threshold",
        "retry.max_attempts", "enclave_client.connect_timeout_seconds",
        "enclave_client.read_timeout_seconds", "enclave_client.max_connections",
        "store.batch_max", "store.sync_seconds", "tenants.refresh_seconds",
        "ratelimit.window_seconds", "anchor.interval_seconds", "anchor.confirmations",
        "anchor.receipt_timeout_seconds",
    }
)  # fmt: skip
_CHOICES: dict[str, tuple[str, ...]] = {
    "balancer.strategy": STRATEGIES,
    "store.sqlite_synchronous": ("full", "normal"),
    "enclave_client.implementation": ("h1", "aiohttp"),
}


def load_settings(path: str | Path) -> Settings:
    """Read and check a TOML configuration file; raise :class:`ConfigError`."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return settings_from_dict(data, base_dir=path.parent)


def settings_from_dict(data: Mapping[str, Any], *, base_dir: Path | None = None) -> Settings:
    """Build settings from decoded TOML; relative paths resolve against ``base_dir``."""
    base = base_dir or Path.cwd()
    unknown = sorted(set(data) - set(_SECTIONS) - {"enclaves"})
    if unknown:
        raise ConfigError(
            f"unknown sections {unknown}; allowed: {sorted([*_SECTIONS, 'enclaves'])}"
        )
    sections = {
        name: _section(data.get(name, {}), name, cls, base) for name, cls in _SECTIONS.items()
    }
    enclaves = _enclaves(data.get("enclaves", []))
    settings = Settings(enclaves=enclaves, **sections)
    store_url = settings.store.url
    if not store_url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise ConfigError("must be sqlite:///PATH or postgresql://...", key="store.url")
    settings = _check_anchor(settings)
    if store_url.startswith("sqlite:///") and not Path(store_url[10:]).is_absolute():
        settings = dataclasses.replace(
            settings,
            store=dataclasses.replace(
                settings.store, url="sqlite:///" + str(base / store_url[10:])
            ),
        )
    return settings


def _check_anchor(settings: Settings) -> Settings:
    anchor = settings.anchor
    if anchor.contract is None:
        return settings
    try:
        contract = parse_address(anchor.contract)
    except ValueError as exc:
        raise ConfigError(str(exc), key="anchor.contract") from None
    rpc = anchor.rpc_url
    if rpc is not None and rpc != "embedded" and not rpc.startswith(("http://", "https://")):
        raise ConfigError('must be http(s)://... or "embedded"', key="anchor.rpc_url")
    if anchor.key_file is not None and anchor.key_env is not None:
        raise ConfigError("give key_file or key_env, not both", key="anchor")
    return dataclasses.replace(settings, anchor=dataclasses.replace(anchor, contract=contract))


def _enclaves(value: object) -> tuple[EnclaveSettings, ...]:
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        raise ConfigError("must be an array of tables ([[enclaves]])", key="enclaves")
    out = []
    for i, entry in enumerate(value):
        where = f"enclaves[{i}]"
        extra = sorted(set(entry) - {"name", "url"})
        if extra:
            raise ConfigError(f"unknown keys {extra}; allowed: ['name', 'url']", key=where)
        url = entry.get("url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError("must be an http(s) URL", key=f"{where}.url")
        name = entry.get("name", parts.netloc)
        if not isinstance(name, str) or not name or len(name) > 64:
            raise ConfigError("must be a non-empty string of at most 64 characters", key=where)
        out.append(EnclaveSettings(name=name, url=url.rstrip("/")))
    names = [e.name for e in out]
    if len(set(names)) != len(names):
        raise ConfigError("enclave names must be unique", key="enclaves")
    return tuple(out)


def _section(table: object, name: str, cls: type[T], base: Path) -> T:
    if not isinstance(table, dict):
        raise ConfigError("must be a table", key=name)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise ConfigError(f"unknown keys {unknown}; allowed: {sorted(fields)}", key=name)
    hints = typing.get_type_hints(cls)
    values = {key: _value(f"{name}.{key}", hints[key], table[key], base) for key in table}
    return cls(**values)


def _value(key: str, hint: object, value: object, base: Path) -> object:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is bool:
        if type(value) is not bool:
            raise ConfigError("must be true or false", key=key)
        return value
    if hint is int or hint is float:
        return _number(key, hint, value)
    if hint is Path or (origin in (typing.Union, types.UnionType) and Path in args):
        if not isinstance(value, str) or not value:
            raise ConfigError("must be a path", key=key)
        return base / value
    if origin is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError("must be a list of strings", key=key)
        return tuple(base / v for v in value) if args[0] is Path else tuple(value)
    if not isinstance(value, str) or not value:
        raise ConfigError("must be a non-empty string", key=key)
    choices = _CHOICES.get(key)
    if choices is not None and value not in choices:
        raise ConfigError(f"must be one of {list(choices)}", key=key)
    return value


def _number(key: str, hint: object, value: object) -> int | float:
    if type(value) is bool or not isinstance(value, int | float):
        raise ConfigError("must be a number", key=key)
    if hint is int and type(value) is not int:
        raise ConfigError("must be an integer", key=key)
    if value < 0 or (key in _POSITIVE and value == 0):
        raise ConfigError("must be positive" if key in _POSITIVE else "must be >= 0", key=key)
    if key == "server.port" and value > 65535:
        raise ConfigError("must be a TCP port", key=key)
    return float(value) if hint is float else value
