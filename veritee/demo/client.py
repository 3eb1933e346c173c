"""The demo's client: the official ``openai`` SDK through the gateway, and a careful check.

It trusts nothing the gateway says. It asks each enclave, through the gateway, for evidence
bound to a nonce of its own and verifies it (roots, policy, keyset binding); then for every
answer it checks the receipt: signed by one of the attested keys, naming that key's keyset,
committing to the exact bytes it sent and received.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import openai
from openai.types.chat import ChatCompletionFunctionToolParam

from attestation.document import AttestationDocument
from transcript.keys import PublicKeyVerifier
from transcript.receipt import Receipt, parse_receipt, parse_receipt_header
from verifier.evidence import verify_attestation
from verifier.policy import Policy
from verifier.trust import TrustedRoots
from veritee.demo.stack import DemoStack

Say = Callable[[str], None]
TOOLS: list[ChatCompletionFunctionToolParam] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


@dataclass(frozen=True)
class Attested:
    name: str
    keyset_hash: str
    key: PublicKeyVerifier


class Checker:
    """Receipt checks against the keys this client verified itself."""

    def __init__(self, attested: list[Attested]) -> None:
        self.by_address = {a.key.address: a for a in attested}
        self.checked = 0

    def check(self, receipt: Receipt, *, sent: bytes, received: bytes) -> Attested:
        signer = self.by_address.get(receipt.body.signer)
        if signer is None:
            raise AssertionError(
                f"receipt {receipt.id}: signer {receipt.body.signer} was not attested"
            )
        receipt.verify(signer.key)
        if receipt.body.keyset != signer.keyset_hash:
            raise AssertionError(f"receipt {receipt.id}: another keyset than the attested one")
        if receipt.body.request_sha256 != hashlib.sha256(sent).hexdigest():
            raise AssertionError(f"receipt {receipt.id}: not the request that was sent")
        if receipt.body.response_sha256 != hashlib.sha256(received).hexdigest():
            raise AssertionError(f"receipt {receipt.id}: not the answer that was received")
        self.checked += 1
        return signer


def verify_enclaves(stack: DemoStack, headers: dict[str, str], say: Say) -> list[Attested]:
    roots = TrustedRoots.from_paths([stack.roots])
    policy = Policy.load(stack.policy)
    attested = []
    for name in stack.enclaves:
        nonce = secrets.token_bytes(32)
        raw = httpx.get(
            f"{stack.gateway_url}/v1/enclaves/{name}/attestation?nonce={nonce.hex()}",
            headers=headers, timeout=30,
        ).content  # fmt: skip
        document = AttestationDocument.from_json(raw)
        appraisal = verify_attestation(document, roots=roots, policy=policy, nonce=nonce)
        keyset = document.keyset
        measurement = appraisal.evidence.measurements["measurement"]
        say(f"  {name}: {appraisal.evidence.platform} evidence verified for our nonce; "
            f"measurement {measurement[:16]}... is in the policy; signing key {keyset.signing_address}")  # fmt: skip
        attested.append(
            Attested(name, keyset.hash().hex(), PublicKeyVerifier(keyset.signing_public_key))
        )
    return attested


def _show(say: Say, what: str, receipt: Receipt, signer: Attested, answer: str) -> None:
    text = answer.replace("\n", " ")
    say(f"  {what}: {text[:70]}{'...' if len(text) > 70 else ''}")
    say(f"    receipt {receipt.id[:16]}... seq {receipt.body.seq} by {signer.name}: "
        f"{receipt.body.status}, signature and hashes verified")  # fmt: skip


def run(stack: DemoStack, say: Say) -> int:
    """Send the demo requests; return how many receipts were verified (raises on a failure)."""
    headers = {"authorization": f"Bearer {stack.api_key}"}
    say("Verifying the enclaves (through the untrusted gateway, with our own nonces):")
    checker = Checker(verify_enclaves(stack, headers, say))
    client = openai.OpenAI(base_url=stack.gateway_url + "/v1", api_key=stack.api_key)
    model = stack.model
    say(f"Requests through the gateway (model {model}, upstream {stack.upstream_names}):")

    raw = client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": "What does veritee sign?"}]
    )
    receipt = parse_receipt_header(raw.headers["veritee-receipt"])
    signer = checker.check(receipt, sent=raw.http_request.content, received=raw.content)
    _show(say, "answer", receipt, signer, raw.parse().choices[0].message.content or "")
    say("    the receipt, as the enclave signed it (header veritee-receipt):")
    for line in json.dumps(receipt.to_dict(), indent=2).splitlines():
        say("      " + line)

    raw = client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": "Weather in Paris?"}], tools=TOOLS,
        tool_choice="required",
    )  # fmt: skip
    calls = raw.parse().choices[0].message.tool_calls or []
    named = [f"{c.function.name}({c.function.arguments})" for c in calls if c.type == "function"]
    receipt = parse_receipt_header(raw.headers["veritee-receipt"])
    signer = checker.check(receipt, sent=raw.http_request.content, received=raw.content)
    _show(say, "tool call", receipt, signer, ", ".join(named) or "(none)")

    streamed = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Stream a short answer."}], stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
    # The SDK stops at [DONE]; the receipt comes after it. Read the raw stream to check it.
    body = {"model": model, "stream": True,
            "messages": [{"role": "user", "content": "Stream a short answer."}]}  # fmt: skip
    sent = httpx.Request("POST", "http://x", json=body).content
    with httpx.stream("POST", stack.gateway_url + "/v1/chat/completions", content=sent,
                      headers={**headers, "content-type": "application/json"},
                      timeout=30) as response:  # fmt: skip
        received = b"".join(response.iter_bytes())
    head, _, tail = received.partition(b"event: veritee-receipt\n")
    receipt = parse_receipt(tail.removeprefix(b"data: ").rstrip(b"\n"))
    signer = checker.check(receipt, sent=sent, received=head)
    _show(say, "stream", receipt, signer, text)

    stored = httpx.get(stack.gateway_url + "/v1/receipts", headers=headers, timeout=10).json()
    verdicts = sorted({e["verdict"] for e in stored["data"]})
    say(
        f"The gateway's store holds {len(stored['data'])} receipts for this tenant ({', '.join(verdicts)})."
    )
    return checker.checked
