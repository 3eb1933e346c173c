"""Settings: read once from TOML, every mistake named by its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from enclave.errors import ConfigError
from enclave.settings import UpstreamSettings, load_settings, settings_from_dict
from tests.enclave.helpers import DIGEST, minimal_settings

EXAMPLE = f"""
[server]
host = "0.0.0.0"
port = 9000
max_body_bytes = 1024

[identity]
image_digest = "{DIGEST}"
keyset_validity_seconds = 3600

[attestation]
provider = "simulated-sev-snp"
state_dir = "state"
fresh_per_second = 0.5
fresh_burst = 2

[attestation.options]
measurement = "00ff"
product = "genoa"

[receipts]
log_capacity = 10
checkpoint_every_receipts = 5
checkpoint_every_seconds = 1.5
checkpoints_kept = 3

[upstream]
ca_bundle = "ca.pem"
connect_timeout_seconds = 2
read_timeout_seconds = 30
max_connections = 8

[[upstreams]]
name = "openai"
dialect = "openai"
base_url = "https://api.example/v1/"
api_key = "sk-secret"
models = ["gpt-4o", "gpt-4o-*"]

[[upstreams]]
name = "anthropic"
dialect = "anthropic"
base_url = "https://anthropic.example/v1"
api_key = "ak-secret"
models = ["claude-*"]
default_max_tokens = 1000
anthropic_version = "2023-06-01"
"""


def test_every_key_is_read(tmp_path: Path) -> None:
    path = tmp_path / "enclave.toml"
    path.write_text(EXAMPLE)
    s = load_settings(path)
    assert (s.server.host, s.server.port, s.server.max_body_bytes) == ("0.0.0.0", 9000, 1024)
    assert s.identity.image_digest == DIGEST
    assert s.identity.keyset_validity_seconds == 3600
    assert s.attestation.state_dir == tmp_path / "state"
    assert (s.attestation.fresh_per_second, s.attestation.fresh_burst) == (0.5, 2)
    assert dict(s.attestation.options) == {"measurement": "00ff", "product": "genoa"}
    assert s.receipts.log_capacity == 10
    assert s.receipts.checkpoint_every_receipts == 5
    assert s.receipts.checkpoint_every_seconds == 1.5
    assert s.receipts.checkpoints_kept == 3
    assert s.upstream_client.ca_bundle == tmp_path / "ca.pem"
    assert s.upstream_client.connect_timeout_seconds == 2.0
    assert s.upstream_client.max_connections == 8
    openai, anthropic = s.upstreams
    assert openai.base_url == "https://api.example/v1"
    assert openai.host == "api.example"  # port 443: not written
    assert openai.models == ("gpt-4o", "gpt-4o-*")
    assert anthropic.default_max_tokens == 1000
    assert "secret" not in repr(s), "API keys never appear in a repr (logs)"


minimal = minimal_settings


def upstream(**changes: object) -> dict[str, object]:
    entry = dict(minimal()["upstreams"][0])  # type: ignore[index]
    entry.update(changes)
    return {"upstreams": [entry]}


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (minimal(bogus=1), "bogus"),
        (minimal(server={"prot": 1}), "server.prot"),
        (minimal(server={"port": 70000}), "server.port"),
        (minimal(server={"port": "80"}), "server.port"),
        (minimal(identity={}), "identity.image_digest"),
        (minimal(identity={"image_digest": "sha256:" + "AB" * 32}), "identity.image_digest"),
        (minimal(identity={"image_digest": "sha256:zz"}), "identity.image_digest"),
        (minimal(attestation={}), "attestation.provider"),
        (minimal(attestation={"provider": "x", "options": 1}), "attestation.options"),
        (minimal(receipts={"log_capacity": 0}), "receipts.log_capacity"),
        (minimal(receipts={"checkpoint_every_seconds": 0}), "receipts.checkpoint_every_seconds"),
        (minimal(upstreams=[]), "upstreams"),
        (minimal(upstreams={"name": "x"}), "upstreams"),
        (minimal(**upstream(dialect="grpc")), "upstreams[0].dialect"),
        (minimal(**upstream(base_url="http://u.example/v1")), "upstreams[0].base_url"),
        (minimal(**upstream(base_url="https://u.example/v1?x=1")), "upstreams[0].base_url"),
        (minimal(**upstream(models=[])), "upstreams[0].models"),
        (minimal(**upstream(models=[""])), "upstreams[0].models"),
        (minimal(**upstream(api_key="")), "upstreams[0].api_key"),
        (minimal(**upstream(extra=1)), "upstreams[0].extra"),
    ],
)
def test_mistakes_are_named(data: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings_from_dict(data)
    assert info.value.key == key


def test_duplicate_upstream_names() -> None:
    entry = minimal()["upstreams"][0]  # type: ignore[index]
    with pytest.raises(ConfigError, match="unique"):
        settings_from_dict(minimal(upstreams=[entry, entry]))


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[server\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)


@pytest.mark.parametrize(
    ("base_url", "host"),
    [
        ("https://api.example/v1", "api.example"),
        ("https://api.example:443/v1", "api.example"),
        ("https://api.example:8443/v1", "api.example:8443"),
        ("https://[::1]:8443/v1", "[::1]:8443"),
    ],
)
def test_receipts_record_the_port_when_it_is_not_443(base_url: str, host: str) -> None:
    upstream = UpstreamSettings(
        name="u", dialect="openai", base_url=base_url, api_key="k", models=("m",)
    )
    assert upstream.host == host
