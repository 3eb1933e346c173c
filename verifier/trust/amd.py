"""AMD SEV-SNP roots shipped with veritee, pinned by the SHA-256 of each DER file.

Each product has its own AMD Root Key (ARK, self-signed, RSA-4096, RSASSA-PSS SHA-384)
and AMD SEV Key (ASK) that signs the chip's VCEKs. The ARK pins equal the values AMD
publishes (and ``tests/verifier/test_trust_amd.py`` checks them against the README of
the shared test vectors).
"""

from __future__ import annotations

AMD_ROOTS: dict[str, tuple[tuple[str, str], ...]] = {
    "amd-milan": (
        ("amd-ark-milan.der", "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd"),
        ("amd-ask-milan.der", "67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b"),
    ),
    "amd-genoa": (
        ("amd-ark-genoa.der", "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1"),
        ("amd-ask-genoa.der", "5464738c1546aed5f2cecf1dc98c5c960a92e8913238a61711bc90ec6e828521"),
    ),
    "amd-turin": (
        ("amd-ark-turin.der", "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a"),
        ("amd-ask-turin.der", "5b77ef5fe7a7a004fd9032668fba9d0fda22f88c4442069a479636a6ae3b3185"),
    ),
}
