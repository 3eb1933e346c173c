"""AMD SEV-SNP roots shipped with veritee, pinned by the SHA-256 of each DER file.

Each product has its own AMD Root Key (ARK, self-signed, RSA-4096, RSASSA-PSS SHA-384).
It signs the AMD SEV Key (ASK), which signs the chips' VCEKs, and the AMD SEV VLEK Key
(ASVK), which signs the VLEKs AMD issues to cloud providers. ``amd-<product>`` is the
VCEK chain, ``amd-<product>-vlek`` the VLEK chain. The ARK pins equal the values AMD
publishes (``tests/verifier/test_trust_amd.py`` checks them against the README of the
shared test vectors).
"""

from __future__ import annotations

_ARK = {
    "milan": (
        "amd-ark-milan.der",
        "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
    ),
    "genoa": (
        "amd-ark-genoa.der",
        "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
    ),
    "turin": (
        "amd-ark-turin.der",
        "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
    ),
}
_ASK = {
    "milan": (
        "amd-ask-milan.der",
        "67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b",
    ),
    "genoa": (
        "amd-ask-genoa.der",
        "5464738c1546aed5f2cecf1dc98c5c960a92e8913238a61711bc90ec6e828521",
    ),
    "turin": (
        "amd-ask-turin.der",
        "5b77ef5fe7a7a004fd9032668fba9d0fda22f88c4442069a479636a6ae3b3185",
    ),
}
_ASVK = {
    "milan": (
        "amd-asvk-milan.der",
        "c5e081f59b7efab1fe2f8b505e159704e72f29cab7ef7cf628a05a42439082f5",
    ),
    "genoa": (
        "amd-asvk-genoa.der",
        "197e610743a917d6b9bb982a5a9226ccc0a15b611be0619e626aca9151457372",
    ),
    "turin": (
        "amd-asvk-turin.der",
        "104e10a8bd060a3c20a434261a57d0588fd65a88915b4f65b08bdecaf8df1a3c",
    ),
}

AMD_ROOTS: dict[str, tuple[tuple[str, str], ...]] = {
    **{f"amd-{product}": (ark, _ASK[product]) for product, ark in _ARK.items()},
    **{f"amd-{product}-vlek": (ark, _ASVK[product]) for product, ark in _ARK.items()},
}
