"""Enclave settings: read once, from TOML, into frozen objects.

Every key is documented in ``docs/operator.md`` ("Enclave configuration"). Unknown keys
are errors, so a typo never silently falls back to a default. Nothing else in the
enclave reads files or the environment for configuration.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from enclave.errors import ConfigError

Dialect = Literal["openai", "anthropic"]
DIALECTS: tuple[Dialect, ...] = ("openai", "anthropic")
T = TypeVar("T")

_SECTIONS: dict[str, set[str]] = {
    "server": {"host", "port", "max_body_bytes", "access_log"},
    "identity": {"image_digest", "keyset_validity_seconds"},
    "attestation": {
        "provider", "state_dir", "fresh_per_second", "fresh_burst", "options",
    },
    "receipts": {
        "log_capacity", "checkpoint_every_receipts", "checkpoint_every_seconds",
        "checkpoints_kept",
    },
    "upstream": {
        "ca_bundle", "connect_timeout_seconds", "read_timeout_seconds", "max_connections",
    },
}  # fmt: skip


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 4 * 1024 * 1024
    access_log: bool = False


@dataclass(frozen=True)
class IdentitySettings:
    image_digest: str = ""
    keyset_validity_seconds: int = 30 * 24 * 3600


@dataclass(frozen=True)
class AttestationSettings:
    provider: str = ""
    state_dir: Path | None = None
    options: Mapping[str, Any] = field(default_factory=dict)  # provider-specific, as given
    fresh_per_second: float = 2.0
    fresh_burst: int = 10


@dataclass(frozen=True)
class ReceiptSettings:
    log_capacity: int = 20_000
    checkpoint_every_receipts: int = 1000
    checkpoint_every_seconds: float = 10.0
    checkpoints_kept: int = 100


@dataclass(frozen=True)
class UpstreamClientSettings:
    ca_bundle: Path | None = None
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 300.0
    max_connections: int = 512


@dataclass(frozen=True)
class UpstreamSettings:
    """One upstream provider and the models it serves.

    ``models`` holds exact names and shell-style patterns (``gpt-4o-*``); exact names
    across all upstreams win over patterns, and patterns are tried in file order.
    """

    name: str
    dialect: Dialect
    base_url: str
    api_key: str = field(repr=False)
    models: tuple[str, ...]
    default_max_tokens: int = 4096
    anthropic_version: str = "2023-06-01"

    @property
    def host(self) -> str:
        """The host as receipts record it: the name, plus the port when it is not 443."""
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        if parts.port is None or parts.port == 443:
            return host
        return f"[{host}]:{parts.port}" if ":" in host else f"{host}:{parts.port}"


@dataclass(frozen=True)
class Settings:
    identity: IdentitySettings
    attestation: AttestationSettings
    upstreams: tuple[UpstreamSettings, ...]
    server: ServerSettings = ServerSettings()
    receipts: ReceiptSettings = ReceiptSettings()
    upstream_client: UpstreamClientSettings = UpstreamClientSettings()


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
    _only(data, "", {"server", "identity", "attestation", "receipts", "upstream", "upstreams"})
    server = _section(data, "server")
    identity = _section(data, "identity")
    attestation = _section(data, "attestation")
    receipts = _section(data, "receipts")
    client = _section(data, "upstream")
    upstreams = data.get("upstreams", [])
    if not isinstance(upstreams, list) or not all(isinstance(u, dict) for u in upstreams):
        raise ConfigError("must be an array of tables ([[upstreams]])", key="upstreams")
    parsed = tuple(_upstream(u, i) for i, u in enumerate(upstreams))
    names = [u.name for u in parsed]
    if len(set(names)) != len(names):
        raise ConfigError("upstream names must be unique", key="upstreams")
    state_dir = _get(attestation, "attestation.state_dir", str, None)
    ca_bundle = _get(client, "upstream.ca_bundle", str, None)
    settings = Settings(
        server=ServerSettings(
            host=_get(server, "server.host", str, ServerSettings.host),
            port=_int(server, "server.port", ServerSettings.port, 0, 65535),
            max_body_bytes=_int(server, "server.max_body_bytes", ServerSettings.max_body_bytes, 1),
            access_log=_get(server, "server.access_log", bool, ServerSettings.access_log),
        ),
        identity=IdentitySettings(
            image_digest=_get(identity, "identity.image_digest", str, None) or "",
            keyset_validity_seconds=_int(
                identity,
                "identity.keyset_validity_seconds",
                IdentitySettings.keyset_validity_seconds,
                60,
            ),
        ),
        attestation=AttestationSettings(
            provider=_get(attestation, "attestation.provider", str, None) or "",
            state_dir=None if state_dir is None else base / state_dir,
            fresh_per_second=_float(
                attestation, "attestation.fresh_per_second", AttestationSettings.fresh_per_second
            ),
            fresh_burst=_int(
                attestation, "attestation.fresh_burst", AttestationSettings.fresh_burst, 1
            ),
            options=MappingProxyType(_get(attestation, "attestation.options", dict, {})),
        ),
        receipts=ReceiptSettings(
            log_capacity=_int(receipts, "receipts.log_capacity", ReceiptSettings.log_capacity, 1),
            checkpoint_every_receipts=_int(
                receipts,
                "receipts.checkpoint_every_receipts",
                ReceiptSettings.checkpoint_every_receipts,
                1,
            ),
            checkpoint_every_seconds=_float(
                receipts,
                "receipts.checkpoint_every_seconds",
                ReceiptSettings.checkpoint_every_seconds,
            ),
            checkpoints_kept=_int(
                receipts, "receipts.checkpoints_kept", ReceiptSettings.checkpoints_kept, 1
            ),
        ),
        upstream_client=UpstreamClientSettings(
            ca_bundle=None if ca_bundle is None else base / ca_bundle,
            connect_timeout_seconds=_float(
                client,
                "upstream.connect_timeout_seconds",
                UpstreamClientSettings.connect_timeout_seconds,
            ),
            read_timeout_seconds=_float(
                client,
                "upstream.read_timeout_seconds",
                UpstreamClientSettings.read_timeout_seconds,
            ),
            max_connections=_int(
                client, "upstream.max_connections", UpstreamClientSettings.max_connections, 1
            ),
        ),
        upstreams=parsed,
    )
    check_settings(settings)
    return settings


def check_settings(settings: Settings) -> None:
    """Cross-field checks shared by the TOML loader and settings built in code."""
    if not settings.identity.image_digest:
        raise ConfigError("is required (sha256:<64 hex>)", key="identity.image_digest")
    digest = settings.identity.image_digest
    hexpart = digest.removeprefix("sha256:")
    if not digest.startswith("sha256:") or len(hexpart) != 64 or hexpart != hexpart.lower():
        raise ConfigError("must be sha256:<64 lowercase hex>", key="identity.image_digest")
    try:
        bytes.fromhex(hexpart)
    except ValueError:
        raise ConfigError(
            "must be sha256:<64 lowercase hex>", key="identity.image_digest"
        ) from None
    if not settings.attestation.provider:
        raise ConfigError("is required", key="attestation.provider")
    if not settings.upstreams:
        raise ConfigError("at least one [[upstreams]] table is required", key="upstreams")


def _upstream(data: Mapping[str, Any], index: int) -> UpstreamSettings:
    where = f"upstreams[{index}]"
    _only(
        data,
        where,
        {
            "name", "dialect", "base_url", "api_key", "models",
            "default_max_tokens", "anthropic_version",
        },
    )  # fmt: skip
    name = _required(data, f"{where}.name", str)
    dialect = _required(data, f"{where}.dialect", str)
    if dialect not in DIALECTS:
        raise ConfigError(f"must be one of {list(DIALECTS)}", key=f"{where}.dialect")
    base_url = _required(data, f"{where}.base_url", str).rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(
            "must be an https:// URL without query or fragment (upstream calls use TLS)",
            key=f"{where}.base_url",
        )
    models = _required(data, f"{where}.models", list)
    if not models or not all(isinstance(m, str) and m for m in models):
        raise ConfigError("must be a non-empty list of model names", key=f"{where}.models")
    return UpstreamSettings(
        name=name,
        dialect=dialect,  # checked against DIALECTS above
        base_url=base_url,
        api_key=_required(data, f"{where}.api_key", str),
        models=tuple(models),
        default_max_tokens=_int(data, f"{where}.default_max_tokens", 4096, 1),
        anthropic_version=_get(data, f"{where}.anthropic_version", str, "2023-06-01"),
    )


def _only(data: Mapping[str, Any], where: str, allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        prefix = f"{where}." if where else ""
        raise ConfigError(f"unknown key (allowed: {sorted(allowed)})", key=prefix + unknown[0])


def _section(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    section = data.get(name, {})
    if not isinstance(section, dict):
        raise ConfigError("must be a table", key=name)
    _only(section, name, _SECTIONS[name])
    return section


def _get(data: Mapping[str, Any], key: str, kind: type[T], default: Any) -> Any:
    name = key.rsplit(".", 1)[-1]
    if name not in data:
        return default
    value = data[name]
    if type(value) is not kind:
        raise ConfigError(f"must be a {kind.__name__}", key=key)
    return value


def _required(data: Mapping[str, Any], key: str, kind: type[T]) -> T:
    value = _get(data, key, kind, None)
    if value is None or value == "":
        raise ConfigError("is required", key=key)
    result: T = value
    return result


def _int(data: Mapping[str, Any], key: str, default: int, low: int, high: int | None = None) -> int:
    value: int = _get(data, key, int, default)
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"between {low} and {high}"
        raise ConfigError(f"must be an integer {bound}", key=key)
    return value


def _float(data: Mapping[str, Any], key: str, default: float) -> float:
    name = key.rsplit(".", 1)[-1]
    value = data.get(name, default)
    if type(value) not in (int, float) or not value > 0:
        raise ConfigError("must be a positive number", key=key)
    return float(value)
