"""Receipt logs verified against attested keysets: every problem reported, with its place."""

from __future__ import annotations

import hashlib

from attestation.keyset import Keyset
from tests.transcript.helpers import KEY, make_body, make_chain
from transcript import SigningKey, sign_receipt
from verifier.receipts import read_receipt_lines, verify_receipt_log

KEYSET = Keyset(
    signing_public_key=KEY.public_key,
    image_digest="sha256:" + "22" * 32,
    platform="sev-snp",
    not_before_ms=0,
    not_after_ms=2**45,
)


def log_of(receipts: list) -> bytes:  # type: ignore[type-arg]
    return b"\n".join(r.canonical() for r in receipts) + b"\n"


def chain_for_keyset(n: int) -> list:  # type: ignore[type-arg]
    prev = "0" * 64
    out = []
    for seq in range(1, n + 1):
        r = sign_receipt(KEY, make_body(seq, prev, keyset=KEYSET.hash().hex()))
        out.append(r)
        prev = r.id
    return out


def test_a_good_log() -> None:
    report = verify_receipt_log(read_receipt_lines(log_of(chain_for_keyset(20))), keysets=[KEYSET])
    assert report.ok, report.to_dict()
    assert (report.total, report.signatures_ok) == (20, 20)


def test_every_problem_is_reported_with_its_line() -> None:
    receipts = chain_for_keyset(8)
    lines = [r.canonical() for r in receipts]
    lines[2] = lines[2].replace(b'"status":"complete"', b'"status":"truncated"')  # altered
    del lines[5]  # dropped (seq 6)
    lines.insert(1, b"{not json")
    stranger = make_chain(1, key=SigningKey.from_secret(hashlib.sha256(b"x").digest()))[0]
    lines.append(stranger.canonical())
    wrong_keyset = sign_receipt(
        KEY, make_body(9, receipts[-1].id)
    )  # the helpers' keyset, not KEYSET
    lines.append(wrong_keyset.canonical())
    report = verify_receipt_log(read_receipt_lines(b"\n".join(lines)), keysets=[KEYSET])
    assert not report.ok
    found = {(p.line, p.check, p.seq) for p in report.problems}
    assert found == {
        (2, "receipt.malformed", None),
        (4, "receipt.signature", 3),
        (8 + 1, "receipt.signer", 1),
        (10, "receipt.keyset", 9),
    }
    chain = report.chains[KEY.address]
    assert chain.missing == [3, 6]  # 3 failed its signature, so the chain lacks it too


def test_outside_the_keyset_window() -> None:
    short = Keyset(
        signing_public_key=KEY.public_key,
        image_digest="sha256:" + "22" * 32,
        platform="sev-snp",
        not_before_ms=0,
        not_after_ms=1000,
    )
    r = sign_receipt(KEY, make_body(1, "0" * 64, keyset=short.hash().hex()))
    report = verify_receipt_log(read_receipt_lines(r.canonical()), keysets=[short])
    assert [p.check for p in report.problems] == ["receipt.validity"]
