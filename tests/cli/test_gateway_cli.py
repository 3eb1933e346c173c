"""``veritee gateway tenant ...`` and configuration errors, through the CLI entry point."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.config import load_settings
from gateway.store import ApiKeyRecord, open_store
from gateway.tenants.keys import hash_key, looks_like_key
from veritee.cli import main


def config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(f'[store]\nurl = "sqlite:///keys.db"\n{extra}')
    return path


def test_tenant_add_prints_the_key_once_and_stores_only_its_hash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config(tmp_path)
    args = ["gateway", "tenant", "add", "--config", str(path), "--tenant", "acme"]
    assert main([*args, "--models", "gpt-4o,gpt-4o-*", "--rpm", "60", "--tpm", "1000"]) == 0
    out, err = capsys.readouterr()
    key = out.strip()
    assert looks_like_key(key) and "shown only once" in err

    async def stored() -> ApiKeyRecord | None:
        async with open_store(load_settings(path).store) as store:
            return await store.find_key(hash_key(key))

    record = asyncio.run(stored())
    assert record is not None and record.models == ("gpt-4o", "gpt-4o-*")
    assert (record.rpm, record.tpm, record.admin) == (60, 1000, False)
    assert key.encode() not in (tmp_path / "keys.db").read_bytes()

    assert main(["gateway", "tenant", "list", "--config", str(path)]) == 0
    listing = capsys.readouterr().out
    assert "acme" in listing and key not in listing and record.key_id in listing

    revoke = ["gateway", "tenant", "revoke", "--config", str(path), "--key-id"]
    assert main([*revoke, record.key_id]) == 0
    assert main([*revoke, record.key_id]) == 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[store]\nbogus = 1\n", "unknown keys"),
        ("[balancer]\nstrategy = 'random'\n", "balancer.strategy"),
        ("[[enclaves]]\nurl = 'ftp://x'\n", "enclaves[0].url"),
        ("[health]\ninterval_seconds = 0\n", "health.interval_seconds"),
    ],
)
def test_bad_configuration_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(extra)
    assert main(["gateway", "tenant", "list", "--config", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_serve_without_a_policy_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gateway", "serve", "--config", str(config(tmp_path))]) == 2
    assert "attestation.policy" in capsys.readouterr().err
