"""The ``[anchor]`` section and the paying key: read once, checked, never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.anchoring.chain import load_account
from gateway.config import settings_from_dict
from gateway.errors import ConfigError
from gateway.settings import AnchorSettings

ADDRESS = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


def anchor(**values: object) -> AnchorSettings:
    return settings_from_dict({"anchor": values}, base_dir=Path("/etc/veritee")).anchor


def test_the_section_is_read_and_the_address_checksummed() -> None:
    settings = anchor(contract=ADDRESS, rpc_url="http://127.0.0.1:8545", key_file="k.hex",
                      confirmations=3, register=True, from_block=12)  # fmt: skip
    assert settings.contract == CHECKSUMMED
    assert settings.key_file == Path("/etc/veritee/k.hex")
    assert (settings.confirmations, settings.register, settings.from_block) == (3, True, 12)
    assert anchor() == AnchorSettings()  # no contract: anchoring not configured


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"contract": "0x1234"}, "anchor.contract"),
        ({"contract": ADDRESS, "rpc_url": "ws://node"}, "anchor.rpc_url"),
        ({"contract": ADDRESS, "key_file": "a", "key_env": "B"}, "anchor"),
        ({"contract": ADDRESS, "confirmations": 0}, "anchor.confirmations"),
        ({"contract": ADDRESS, "colour": "blue"}, "anchor"),
    ],
)
def test_bad_settings_are_named(values: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        anchor(**values)
    assert info.value.key == key


def test_the_key_comes_from_a_file_or_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("0x" + KEY + "\n")
    from_file = load_account(AnchorSettings(key_file=path), {})
    from_env = load_account(AnchorSettings(key_env="ANCHOR_KEY"), {"ANCHOR_KEY": KEY})
    assert from_file.address == from_env.address


@pytest.mark.parametrize(
    ("settings", "environ", "said"),
    [
        (AnchorSettings(), {}, "give key_file or key_env"),
        (AnchorSettings(key_env="K"), {}, "$K is not set"),
        (AnchorSettings(key_env="K"), {"K": KEY[:-1]}, "64 hex digits"),
        (AnchorSettings(key_env="K"), {"K": "0" * 64}, "not a valid secp256k1 private key"),
        (AnchorSettings(key_file=Path("/nonexistent/key")), {}, "cannot read"),
    ],
)
def test_key_errors_never_show_the_key(
    settings: AnchorSettings, environ: dict[str, str], said: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_account(settings, environ)
    assert said in str(info.value)
    assert KEY[:-1] not in str(info.value)


def test_the_embedded_chain_cannot_be_reached_from_another_process() -> None:
    from eth_account import Account

    from gateway.anchoring.chain import open_chain

    settings = AnchorSettings(contract=CHECKSUMMED, rpc_url="embedded")
    with pytest.raises(ConfigError) as info:
        open_chain(settings, Account.from_key(bytes.fromhex(KEY)))
    assert info.value.key == "anchor.rpc_url" and "veritee demo" in str(info.value)
