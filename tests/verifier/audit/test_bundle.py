"""Audit bundles: export -> verify round trip, and every kind of tampering named (exit 1),
malformed bundles refused (exit 2), through the real CLI entry point (in-process)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from gateway.audit.export import ExportRequest, export_bundle
from gateway.store.memory import MemoryStore
from tests.cli.helpers import Run, run_cli
from tests.helpers.transparency import POLICY, PaperEnclave, fill, roots_dir
from transcript import ReceiptBody, sign_receipt
from transcript.checkpoint import SignedCheckpoint
from verifier.audit import Manifest, read_bundle, write_bundle
from verifier.audit.tarball import file_entry

Files = dict[str, bytes]


ENCLAVES: list[PaperEnclave] = []


@pytest.fixture(scope="module")
def enclaves() -> tuple[PaperEnclave, PaperEnclave]:
    a = PaperEnclave("enclave-a")
    a.sign(3, tenant="acme")
    a.sign(2, tenant="zeta")
    a.cut()
    a.sign(4, tenant="acme")
    a.cut()
    a.sign(2, tenant="zeta")  # a tail, not checkpointed yet
    b = PaperEnclave("enclave-b").run(2, 2, 1)
    ENCLAVES[:] = [a, b]
    return a, b


def exported(
    enclaves: tuple[PaperEnclave, ...], *, tenant: str | None = None
) -> tuple[Manifest, Files]:
    async def main() -> tuple[Manifest, Files]:
        store = MemoryStore(clock_ms=lambda: 1_767_300_000_000)
        await fill(store, *enclaves)
        request = ExportRequest(None, None, tenant, POLICY.encode())
        return await export_bundle(store, request, clock_ms=lambda: 1_767_300_000_000)

    return asyncio.run(main())


@pytest.fixture(scope="module")
def bundle_parts(enclaves: tuple[PaperEnclave, PaperEnclave]) -> tuple[Manifest, Files]:
    return exported(enclaves)


def write(path: Path, manifest: Manifest, files: Files, *, rehash: bool = True) -> Path:
    """Write a bundle; ``rehash`` recomputes the manifest the way a careful forger would."""
    if rehash:
        listed = {n: file_entry(d) for n, d in files.items()}
        manifest = replace(manifest, files={**manifest.files, **listed})
    write_bundle(path, manifest, files)
    return path


def verify(capsys: pytest.CaptureFixture[str], path: Path, *args: object) -> Run:
    return run_cli(capsys, "verify", "bundle", path, "--roots", roots_dir(), *args)


def test_round_trip(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bundle_parts: tuple[Manifest, Files]
) -> None:
    manifest, files = bundle_parts
    html = tmp_path / "report.html"
    done = verify(capsys, write(tmp_path / "b.tar", manifest, files, rehash=False), "--html", html)
    assert done.code == 0, done.out
    assert done.out.startswith("VERIFIED: ")
    assert "16 of 16 receipts verified, 2 of 2 enclaves, 5 checkpoints" in done.out
    assert "14 included, 2 not checkpointed yet" in done.out
    page = html.read_text()
    assert "VERIFIED: every check passed" in page and "<script" not in page
    assert page.count("<tr>") == (1 + 10) + (1 + 2) + (1 + 16)  # summary, enclaves, transcripts


def test_a_bundle_verifies_only_under_roots_given_explicitly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bundle_parts: tuple[Manifest, Files]
) -> None:
    path = write(tmp_path / "b.tar", *bundle_parts, rehash=False)
    done = run_cli(capsys, "verify", "bundle", path)  # shipped AMD roots only
    assert done.code == 1
    assert "snp.chain" in done.out or "chain" in done.out
    assert "16 receipts" in done.out and "0 of 16 receipts verified" in done.out


def test_the_same_export_gives_the_same_bytes(
    tmp_path: Path, enclaves: tuple[PaperEnclave, PaperEnclave]
) -> None:
    first = write(tmp_path / "1.tar", *exported(enclaves), rehash=False).read_bytes()
    second = write(tmp_path / "2.tar", *exported(enclaves), rehash=False).read_bytes()
    assert first == second


def test_a_tenant_bundle_holds_only_its_receipts_and_proves_each(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, enclaves: tuple[PaperEnclave, PaperEnclave]
) -> None:
    manifest, files = exported(enclaves, tenant="zeta")
    assert manifest.counts["receipts"] == 4
    done = verify(capsys, write(tmp_path / "t.tar", manifest, files, rehash=False))
    assert done.code == 0, done.out
    assert "2 included, 2 not checkpointed yet" in done.out
    assert "completeness is not checked" in done.out


def tampered(name: str, change: Callable[[bytes], bytes]) -> Callable[[Files], None]:
    def apply(files: Files) -> None:
        files[name] = change(files[name])

    return apply


def first_line(
    change: Callable[[dict[str, object]], None], name: str = "receipts.jsonl"
) -> Callable[[Files], None]:
    def apply(files: Files) -> None:
        lines = files[name].split(b"\n")
        data = orjson.loads(lines[0])
        change(data)
        lines[0] = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
        files[name] = b"\n".join(lines)

    return apply


def drop_line(number: int, name: str = "receipts.jsonl") -> Callable[[Files], None]:
    def apply(files: Files) -> None:
        lines = files[name].split(b"\n")
        del lines[number]
        files[name] = b"\n".join(lines)

    return apply


def _set(path: tuple[str, ...], value: object) -> Callable[[dict[str, object]], None]:
    def change(data: dict[str, object]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]  # type: ignore[assignment]
        target[path[-1]] = value

    return change


def drop_checkpoint(signer_index: int, first_seq: int) -> Callable[[Files], None]:
    def apply(files: Files) -> None:
        lines = files["checkpoints.jsonl"].split(b"\n")
        address = ENCLAVES[signer_index].address

        def keep(line: bytes) -> bool:
            data = orjson.loads(line) if line.strip() else None
            return data is None or (data["signer"], data["first_seq"]) != (address, first_seq)

        files["checkpoints.jsonl"] = b"\n".join(line for line in lines if keep(line))

    return apply


def _policy(files: Files) -> None:
    files["policy.toml"] = POLICY.replace("5e" * 48, "77" * 48).encode()


def _evidence(files: Files) -> None:
    name = next(n for n in files if n.startswith("enclaves/"))
    data = orjson.loads(files[name])
    report = bytearray(__import__("base64").b64decode(data["document"]["evidence"]["report"]))
    report[0x90] ^= 1  # inside the signed measurement
    data["document"]["evidence"]["report"] = __import__("base64").b64encode(bytes(report)).decode()
    files[name] = orjson.dumps(data)


@pytest.mark.parametrize(
    ("kind", "mutate", "rehash", "check", "where"),
    [
        (
            "a changed file",
            tampered("receipts.jsonl", lambda b: b + b"\n"),
            False,
            "bundle.manifest",
            "receipts.jsonl",
        ),
        (
            "a receipt altered",
            first_line(_set(("body", "model"), "gpt-cheap")),
            True,
            "receipt.signature",
            "(seq 1)",
        ),
        ("a receipt removed", drop_line(3), True, "transparency.missing", "seq 4 is missing"),
        (
            "a checkpoint altered",
            first_line(_set(("root",), "00" * 32), "checkpoints.jsonl"),
            True,
            "checkpoint.signature",
            "checkpoint seq ",
        ),
        (
            "a middle checkpoint removed",
            drop_checkpoint(1, 3),
            True,
            "checkpoint.chain",
            "does not follow seq 2",
        ),
        (
            "a first checkpoint removed",
            drop_checkpoint(0, 1),
            True,
            "transparency.unproven",
            "no checkpoint of the bundle proves it",
        ),
        (
            "a Merkle path altered",
            first_line(_set(("path",), ["11" * 32] * 3), "proofs.jsonl"),
            True,
            "transparency.proof",
            "is not its path",
        ),
        ("the evidence altered", _evidence, True, "snp.signature", "enclave enclave-"),
        (
            "the policy changed",
            _policy,
            True,
            "policy.measurement",
            "not in the policy's allowlist",
        ),
        ("the counts changed", lambda f: None, "counts", "bundle.manifest", "counts 17 receipts"),
    ],
)
def test_tampering_is_named(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    bundle_parts: tuple[Manifest, Files],
    kind: str,
    mutate: Callable[[Files], None],
    rehash: bool | str,
    check: str,
    where: str,
) -> None:
    manifest, original = bundle_parts
    files = dict(original)
    mutate(files)
    if rehash == "counts":
        manifest = replace(manifest, counts={**manifest.counts, "receipts": 17})
    done = verify(capsys, write(tmp_path / "t.tar", manifest, files, rehash=bool(rehash)), "--json")
    assert done.code == 1, kind
    failures = orjson.loads(done.out)["failures"]
    assert any(f["check"] == check and where in f["subject"] + f["reason"] for f in failures), (
        failures
    )
    assert all(f["explanation"] for f in failures)


def test_a_forked_receipt_is_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, enclaves: tuple[PaperEnclave, PaperEnclave]
) -> None:
    """The enclave's own key signs a second receipt for seq 2 (a compromised enclave)."""
    manifest, original = exported(enclaves)
    a = enclaves[0]
    twin = a.receipts[1].body.to_dict()
    twin["model"] = "another-model"
    fork = sign_receipt(a.key, ReceiptBody.from_dict(twin))
    files = dict(original)
    files["receipts.jsonl"] += fork.canonical() + b"\n"
    manifest = replace(
        manifest, counts={**manifest.counts, "receipts": manifest.counts["receipts"] + 1}
    )
    done = verify(capsys, write(tmp_path / "f.tar", manifest, files), "--json")
    assert done.code == 1
    failures = orjson.loads(done.out)["failures"]
    forks = [f for f in failures if f["check"] == "transparency.fork"]
    assert len(forks) == 1 and "seq 2 has 2 different receipts" in forks[0]["reason"]
    assert a.receipts[1].id in forks[0]["reason"]  # the one in the root is named


def test_extra_and_missing_files_are_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bundle_parts: tuple[Manifest, Files]
) -> None:
    manifest, original = bundle_parts
    files = dict(original)
    del files["proofs.jsonl"]
    files["enclaves/0x" + "ab" * 20 + ".json"] = b"{}"
    path = write(tmp_path / "x.tar", manifest, files, rehash=False)
    with tarfile.open(path, "a") as tar:
        info = tarfile.TarInfo("notes.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    done = verify(capsys, path, "--json")
    assert done.code == 1
    named = {(f["check"], f["subject"]) for f in orjson.loads(done.out)["failures"]}
    assert ("bundle.manifest", "proofs.jsonl") in named
    assert ("bundle.unlisted", "notes.txt") in named
    assert ("bundle.unlisted", "enclaves/0x" + "ab" * 20 + ".json") in named


def tar_of(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def member(name: str, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    return info


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"not a tar at all", "is not a tar archive"),
        (tar_of((member("policy.toml"), b"")), "has no manifest.json"),
        (tar_of((member("manifest.json"), b"{nope")), "manifest.json is not JSON"),
        (tar_of((member("manifest.json"), b'{"type": "other"}')), "the manifest is an object"),
        (tar_of((member("../manifest.json"), b"{}")), "not a plain file with a relative name"),
        (tar_of((member("receipts.jsonl", tarfile.SYMTYPE), b"")), "not a plain file"),
    ],
)
def test_malformed_bundles_are_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, said: str
) -> None:
    path = tmp_path / "m.tar"
    path.write_bytes(content)
    done = verify(capsys, path)
    assert done.code == 2
    assert said in done.err


def test_a_garbage_receipt_line_in_an_intact_bundle_is_malformed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bundle_parts: tuple[Manifest, Files]
) -> None:
    manifest, original = bundle_parts
    files = {**original, "receipts.jsonl": original["receipts.jsonl"] + b"{not a receipt}\n"}
    manifest = replace(
        manifest, counts={**manifest.counts, "receipts": manifest.counts["receipts"] + 1}
    )
    done = verify(capsys, write(tmp_path / "g.tar", manifest, files))
    assert done.code == 2 and "receipts.jsonl line 17" in done.err


def test_the_html_report_escapes_what_the_bundle_says(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, enclaves: tuple[PaperEnclave, PaperEnclave]
) -> None:
    """A model name is the client's text, signed as it came: it must not become markup."""
    evil = PaperEnclave("evil")
    data = evil.sign(1)[0].body.to_dict()
    data["model"] = '<script>alert("x")</script><img src=x onerror=1>'
    evil.receipts[0] = sign_receipt(evil.key, ReceiptBody.from_dict(data))
    evil.cut()
    manifest, files = exported((evil,))
    html = tmp_path / "r.html"
    done = verify(capsys, write(tmp_path / "e.tar", manifest, files, rehash=False), "--html", html)
    assert done.code == 0, done.out
    page = html.read_text()
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_reading_never_writes_to_disk(tmp_path: Path, bundle_parts: tuple[Manifest, Files]) -> None:
    path = write(tmp_path / "b.tar", *bundle_parts, rehash=False)
    before = sorted(p.name for p in tmp_path.iterdir())
    raw = read_bundle(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert set(raw.files) == set(bundle_parts[0].files) and raw.unlisted == []
    assert (
        hashlib.sha256(raw.files["policy.toml"]).hexdigest()
        == raw.manifest.files["policy.toml"].sha256
    )


def test_a_checkpoint_signed_by_another_key_is_not_trusted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, enclaves: tuple[PaperEnclave, PaperEnclave]
) -> None:
    manifest, original = exported(enclaves)
    stranger = PaperEnclave("stranger").run(2)
    files = dict(original)
    files["checkpoints.jsonl"] += orjson.dumps(stranger.checkpoints[0].to_dict()) + b"\n"
    manifest = replace(
        manifest, counts={**manifest.counts, "checkpoints": manifest.counts["checkpoints"] + 1}
    )
    done = verify(capsys, write(tmp_path / "s.tar", manifest, files), "--json")
    assert done.code == 1
    failures = orjson.loads(done.out)["failures"]
    assert any(
        f["check"] == "checkpoint.signer" and stranger.address in f["subject"] for f in failures
    )


def _unused(_: Iterator[SignedCheckpoint]) -> None:  # keeps the import honest for mypy
    return None


def test_a_policy_changed_into_garbage_is_tampering(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bundle_parts: tuple[Manifest, Files]
) -> None:
    manifest, original = bundle_parts
    files = {**original, "policy.toml": b"[policy\nnot toml"}
    done = verify(capsys, write(tmp_path / "p.tar", manifest, files, rehash=False))
    assert done.code == 1 and "policy.toml was changed after export" in done.err
