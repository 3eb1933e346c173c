"""The registry's measurement id."""

from __future__ import annotations

import hashlib

import pytest

from verifier.anchor import measurement_id

SNP = {"measurement": "ab" * 48}


def test_known_answer() -> None:
    document = b'{"measurements":{"measurement":"' + b"ab" * 48 + b'"},"platform":"sev-snp"}'
    assert measurement_id("sev-snp", SNP) == hashlib.sha256(document).digest()
    assert measurement_id("sev-snp", SNP).hex() == (hashlib.sha256(document).hexdigest())


def test_the_platform_and_every_register_count() -> None:
    base = measurement_id("tdx", {"mrtd": "00" * 48, "rtmr0": "11" * 48})
    assert measurement_id("sev-snp", {"mrtd": "00" * 48, "rtmr0": "11" * 48}) != base
    assert measurement_id("tdx", {"mrtd": "00" * 48, "rtmr0": "12" * 48}) != base
    assert measurement_id("tdx", {"mrtd": "00" * 48}) != base
    assert measurement_id("tdx", {"rtmr0": "11" * 48, "mrtd": "00" * 48}) == base


@pytest.mark.parametrize(
    ("platform", "measurements"),
    [
        ("", SNP),
        ("sev-snp", {}),
        ("sev-snp", {"Measurement": "ab"}),
        ("sev-snp", {"measurement": "AB"}),
        ("sev-snp", {"measurement": "abc"}),
        ("sev-snp", {"measurement": ""}),
    ],
)
def test_malformed_measurements_are_refused(platform: str, measurements: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        measurement_id(platform, measurements)
