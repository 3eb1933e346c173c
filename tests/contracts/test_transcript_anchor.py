"""TranscriptAnchor on eth-tester and on anvil, fed real checkpoints signed by transcript."""

from __future__ import annotations

import pytest

from tests.helpers.anchoring import KEYSET, T0_MS, Transcript, random32
from tests.helpers.chains import ChainEnv
from transcript import Checkpoint, SignedCheckpoint, SigningKey
from transcript.checkpoint import ZERO32
from transcript.keys import SECP256K1_N
from verifier.anchor import ContractRejected, TransactionSender, funded_account


def enclave(env: ChainEnv, measurement: bytes | None = None) -> Transcript:
    """A fresh enclave key, registered with ``measurement`` (default: a fresh one)."""
    transcript = Transcript()
    env.registry.register(
        transcript.address, measurement=measurement or random32(), evidence_hash=random32()
    )
    return transcript


def signed(key: SigningKey, **fields: object) -> SignedCheckpoint:
    """A checkpoint with arbitrary (but well-formed) fields, signed by ``key``."""
    values: dict[str, object] = {
        "signer": key.address,
        "root": random32(),
        "keyset": KEYSET,
        "time_ms": T0_MS,
    }
    values.update(fields)
    checkpoint = Checkpoint(**values)  # type: ignore[arg-type]
    return SignedCheckpoint(checkpoint, key.sign_digest(checkpoint.digest()))


def rejected(env: ChainEnv, checkpoint: SignedCheckpoint) -> ContractRejected:
    with pytest.raises(ContractRejected) as info:
        env.anchor.submit(checkpoint)
    return info.value


def test_contiguous_checkpoints_are_anchored_in_order(env: ChainEnv) -> None:
    t = enclave(env)
    anchorings = [env.anchor.submit(t.next_checkpoint(size)) for size in (1, 5, 3)]

    assert [a.index for a in anchorings] == [0, 1, 2]
    assert [a.digest for a in anchorings] == [c.hash for c in t.checkpoints]
    head = env.anchor.head(t.address)
    assert (head.last_seq, head.count, head.last_digest) == (9, 3, t.checkpoints[-1].hash)
    for index, (cp, anchoring) in enumerate(zip(t.checkpoints, anchorings, strict=True)):
        stored = env.anchor.checkpoint_at(t.address, index)
        assert (stored.root, stored.first_seq, stored.last_seq) == (
            cp.checkpoint.root,
            cp.checkpoint.first_seq,
            cp.checkpoint.last_seq,
        )
        assert stored.block_number == anchoring.block_number
        assert env.anchor.checkpoint_by_root(cp.checkpoint.root) == stored
    assert t.address in env.anchor.signers()


def test_anyone_may_relay_a_checkpoint(env: ChainEnv) -> None:
    t = enclave(env)
    stranger = TransactionSender(env.w3, funded_account(env.w3))
    relay = type(env.anchor)(env.w3, env.anchor.address, sender=stranger)
    assert relay.submit(t.next_checkpoint(2)).index == 0


def test_a_checkpoint_of_an_unregistered_key_is_rejected(env: ChainEnv) -> None:
    forger = Transcript()
    error = rejected(env, forger.next_checkpoint(4))
    assert error.error_name == "EnclaveNotActive"
    assert error.error_args == {"signer": forger.address}
    assert env.anchor.head(forger.address).count == 0


def test_a_checkpoint_signed_by_another_key_is_rejected(env: ChainEnv) -> None:
    victim, other = enclave(env), enclave(env)
    checkpoint = signed(victim.key, first_seq=1, last_seq=1, prev=ZERO32)
    forged = SignedCheckpoint(checkpoint.checkpoint, other.key.sign_digest(checkpoint.hash))
    error = rejected(env, forged)
    assert error.error_name == "SignerMismatch"
    assert error.error_args == {"recovered": other.address, "signer": victim.address}


@pytest.mark.parametrize(
    ("first_seq", "expected"),
    [(5, "gap"), (3, "overlap"), (1, "restart")],
)
def test_ranges_must_be_contiguous(env: ChainEnv, first_seq: int, expected: str) -> None:
    t = enclave(env)
    env.anchor.submit(t.next_checkpoint(3))  # seq 1..3
    prev = ZERO32 if first_seq == 1 else t.checkpoints[-1].hash
    error = rejected(env, signed(t.key, first_seq=first_seq, last_seq=first_seq + 1, prev=prev))
    assert error.error_name == "NotContiguous", expected
    assert error.error_args == {"expectedFirstSeq": 4, "firstSeq": first_seq}


def test_the_first_checkpoint_starts_at_seq_1(env: ChainEnv) -> None:
    t = enclave(env)
    error = rejected(env, signed(t.key, first_seq=2, last_seq=3, prev=random32()))
    assert (error.error_name, error.error_args) == (
        "NotContiguous",
        {"expectedFirstSeq": 1, "firstSeq": 2},
    )


def test_prev_must_be_the_last_anchored_digest(env: ChainEnv) -> None:
    t = enclave(env)
    env.anchor.submit(t.next_checkpoint(3))
    wrong = random32()
    error = rejected(env, signed(t.key, first_seq=4, last_seq=4, prev=wrong))
    assert error.error_name == "PrevMismatch"
    assert error.error_args == {"expectedPrev": t.checkpoints[-1].hash, "prev": wrong}


def _raw_submit(env: ChainEnv, key: SigningKey, first: int, last: int, prev: bytes) -> None:
    """Fields that transcript.Checkpoint refuses to build, signed over the contract's digest."""
    root = random32()
    fields = (key.address, first, last, root, prev, KEYSET, T0_MS)
    digest = env.anchor.contract.read("checkpointDigest", *fields)
    env.anchor.contract.write("submitCheckpoint", *fields, key.sign_digest(bytes(digest)))


def test_the_first_checkpoint_has_a_zero_prev(env: ChainEnv) -> None:
    t = enclave(env)
    prev = random32()
    with pytest.raises(ContractRejected) as info:
        _raw_submit(env, t.key, 1, 2, prev)
    assert (info.value.error_name, info.value.error_args) == (
        "PrevMismatch",
        {"expectedPrev": ZERO32, "prev": prev},
    )


def test_an_empty_range_is_rejected(env: ChainEnv) -> None:
    t = enclave(env)
    with pytest.raises(ContractRejected) as info:
        _raw_submit(env, t.key, 1, 0, ZERO32)
    assert (info.value.error_name, info.value.error_args) == (
        "EmptyRange",
        {"firstSeq": 1, "lastSeq": 0},
    )


def _tamper(signature: bytes, how: str) -> bytes:
    r, s = signature[:32], int.from_bytes(signature[32:64], "big")
    twin = (SECP256K1_N - s).to_bytes(32, "big")
    return {
        "v=28": signature[:64] + b"\x1c",
        "high-s": r + twin + b"\x1b",
        "malleable twin": r + twin + b"\x1c",
        "64 bytes": signature[:64],
        "66 bytes": signature + b"\x00",
        "r=0": bytes(32) + signature[32:],
    }[how]


@pytest.mark.parametrize(
    ("how", "error_name"),
    [
        ("v=28", "SignatureV"),
        ("high-s", "SignatureHighS"),
        ("malleable twin", "SignatureV"),
        ("64 bytes", "SignatureLength"),
        ("66 bytes", "SignatureLength"),
        ("r=0", "SignatureInvalid"),
    ],
)
def test_non_canonical_signatures_are_rejected(env: ChainEnv, how: str, error_name: str) -> None:
    t = enclave(env)
    good = t.next_checkpoint(2)
    bad = SignedCheckpoint(good.checkpoint, _tamper(good.signature, how))
    assert rejected(env, bad).error_name == error_name
    assert env.anchor.submit(good).index == 0  # the genuine one still goes through


def test_a_signature_over_other_fields_is_rejected(env: ChainEnv) -> None:
    t = enclave(env)
    good = t.next_checkpoint(2)
    cp = good.checkpoint
    moved = Checkpoint(cp.signer, cp.first_seq, cp.last_seq, random32(), cp.prev, cp.keyset, 1)
    assert rejected(env, SignedCheckpoint(moved, good.signature)).error_name == "SignerMismatch"


def test_a_revoked_enclave_cannot_anchor_but_its_history_stays(env: ChainEnv) -> None:
    t = enclave(env)
    env.anchor.submit(t.next_checkpoint(2))
    env.registry.revoke_enclave(t.address)

    assert not env.registry.is_active(t.address)
    assert rejected(env, t.next_checkpoint(2)).error_name == "EnclaveNotActive"
    assert env.anchor.head(t.address).count == 1
    assert env.anchor.checkpoint_at(t.address, 0).last_seq == 2


def test_revoking_a_measurement_disables_every_enclave_running_it(env: ChainEnv) -> None:
    measurement = random32()
    first, second = enclave(env, measurement), enclave(env, measurement)
    bystander = enclave(env)
    for t in (first, second, bystander):
        env.anchor.submit(t.next_checkpoint(1))

    env.registry.revoke_measurement(measurement)

    for t in (first, second):
        assert rejected(env, t.next_checkpoint(1)).error_name == "EnclaveNotActive"
    assert env.anchor.submit(bystander.next_checkpoint(1)).index == 1
    latecomer = Transcript()
    with pytest.raises(ContractRejected) as info:
        env.registry.register(latecomer.address, measurement=measurement, evidence_hash=random32())
    assert info.value.error_name == "MeasurementIsRevoked"
    assert rejected(env, latecomer.next_checkpoint(1)).error_name == "EnclaveNotActive"


def test_lookups_of_what_was_never_anchored(env: ChainEnv) -> None:
    nobody = SigningKey.generate().address
    assert env.anchor.checkpoint_by_root(random32()) is None
    head = env.anchor.head(nobody)
    assert (head.last_seq, head.count, head.last_digest) == (0, 0, ZERO32)
    with pytest.raises(ContractRejected) as info:
        env.anchor.checkpoint_at(nobody, 0)
    assert info.value.error_name == "NoSuchCheckpoint"


def test_a_copied_root_cannot_block_the_signer_that_owns_it(env: ChainEnv) -> None:
    """A (compromised) registered key that anchors someone else's root first must not stop
    the rightful signer; the plain root index keeps the first anchoring."""
    honest, squatter = enclave(env), enclave(env)
    genuine = honest.next_checkpoint(3)
    root = genuine.checkpoint.root
    env.anchor.submit(signed(squatter.key, first_seq=1, last_seq=3, prev=ZERO32, root=root))

    assert env.anchor.submit(genuine).index == 0
    assert env.anchor.checkpoint_by_root(root).signer == squatter.address  # type: ignore[union-attr]
    mine = env.anchor.checkpoint_at(honest.address, 0)
    assert (mine.root, mine.first_seq, mine.last_seq) == (root, 1, 3)

    for t in (honest, squatter):  # a signer can anchor a given root only once
        head = env.anchor.head(t.address)
        again = signed(t.key, first_seq=4, last_seq=4, prev=head.last_digest, root=root)
        error = rejected(env, again)
        assert (error.error_name, error.error_args) == (
            "RootAlreadyAnchored",
            {"signer": t.address, "root": root},
        )


def test_gas_per_checkpoint_does_not_depend_on_its_size(env: ChainEnv) -> None:
    t = enclave(env)
    env.anchor.submit(t.next_checkpoint(1))  # the first checkpoint of a signer costs more
    small = env.anchor.submit(t.next_checkpoint(1)).gas_used
    large = env.anchor.submit(t.next_checkpoint(1024)).gas_used
    # Only calldata varies: a zero byte costs 4 gas, a non-zero one 16, and the root and
    # signature bytes are random. 40 zero bytes more or less would be extraordinary.
    assert abs(small - large) <= 12 * 40
    assert small < 110_000


def test_find_locates_exactly_the_anchored_checkpoint(env: ChainEnv) -> None:
    t = enclave(env)
    anchorings = [env.anchor.submit(t.next_checkpoint(size)) for size in (2, 1, 4, 3, 1)]
    for checkpoint, anchoring in zip(t.checkpoints, anchorings, strict=True):
        assert env.anchor.find(checkpoint) == anchoring

    pending = t.next_checkpoint(2)  # signed, not yet anchored
    assert env.anchor.find(pending) is None
    last = t.checkpoints[-2].checkpoint
    resigned = signed(
        t.key,
        first_seq=last.first_seq,
        last_seq=last.last_seq,
        prev=last.prev,
        root=last.root,
        time_ms=last.time_ms + 1,
    )  # same range and root, other digest
    assert env.anchor.find(resigned) is None
    assert env.anchor.find(signed(t.key, first_seq=2, last_seq=2, prev=random32())) is None
