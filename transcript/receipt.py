"""Receipt v1: the signed record of one prompt/response exchange.

A receipt is ``{"body": {...}, "sig": "<130 hex>"}``. The body is the signed content;
its hash (``sha256`` of its RFC 8785 canonical bytes) is the receipt id, the ``prev``
link of the next receipt, and the Merkle leaf in checkpoints. The signature covers
``receipt_digest(body_hash)`` (EIP-712, see :mod:`transcript.digest`).

The canonical JSON of the whole receipt is its wire form: the ``veritee-receipt`` header
carries it base64url-encoded, and receipt logs hold one per line (JSONL). Every field
is specified in ``docs/spec/receipt-v1.md``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from transcript.canonical import CanonicalizationError, canonical_json_fast
from transcript.digest import receipt_digest
from transcript.errors import MalformedReceipt, SignatureInvalid
from transcript.hexfields import is_lower_hex
from transcript.keys import PublicKeyVerifier, SigningKey, recover_address
from transcript.receipt_schema import (
    RECEIPT_TYPE,
    STATUSES,
    Status,
    _validate_upstream,
    validate_body,
)

__all__ = [
    "RECEIPT_TYPE",
    "STATUSES",
    "Receipt",
    "ReceiptBody",
    "Status",
    "Upstream",
    "parse_receipt",
    "parse_receipt_header",
    "sign_receipt",
    "validate_body",
]


@dataclass(frozen=True, slots=True)
class Upstream:
    """What the enclave observed of the upstream provider for this exchange."""

    provider: str
    host: str
    request_id: str | None = None
    spki_sha256: str | None = None
    response_sha256: str | None = None
    status: int | None = None
    model: str | None = None

    def __post_init__(self) -> None:
        _validate_upstream(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "host": self.host,
            "request_id": self.request_id,
            "spki_sha256": self.spki_sha256,
            "response_sha256": self.response_sha256,
            "status": self.status,
            "model": self.model,
        }


class ReceiptBody:
    """The signed content of a receipt: an immutable, validated view of its JSON object.

    Build it with keyword arguments (the enclave) or :meth:`from_dict` (a parser); both
    check every field once. It keeps the decoded object rather than copying fields into
    attributes, so that parsing a receipt log stays cheap.
    """

    __slots__ = ("_data",)
    _data: dict[str, Any]

    def __init__(
        self,
        *,
        signer: str,
        keyset: str,
        seq: int,
        prev: str,
        time_ms: int,
        request_sha256: str,
        response_sha256: str,
        stream: bool,
        status: Status,
        http_status: int,
        model: str,
        upstream: Upstream,
        usage: Mapping[str, int] | None = None,
        client_nonce: str | None = None,
        caller: str | None = None,
    ) -> None:
        data = {
            "type": RECEIPT_TYPE,
            "signer": signer,
            "keyset": keyset,
            "seq": seq,
            "prev": prev,
            "time_ms": time_ms,
            "request_sha256": request_sha256,
            "response_sha256": response_sha256,
            "stream": stream,
            "status": status,
            "http_status": http_status,
            "model": model,
            "upstream": upstream.to_dict() if isinstance(upstream, Upstream) else upstream,
            "usage": dict(usage) if usage is not None else None,
            "client_nonce": client_nonce,
            "caller": caller,
        }
        validate_body(data)
        object.__setattr__(self, "_data", data)

    @classmethod
    def from_dict(cls, data: object) -> ReceiptBody:
        """Wrap a decoded JSON object (taken over, not copied) after checking every field."""
        validate_body(data)
        body = object.__new__(cls)
        object.__setattr__(body, "_data", data)
        return body

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a ReceiptBody is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ReceiptBody) and self._data == other._data

    def __hash__(self) -> int:
        return hash(self.canonical())

    def __repr__(self) -> str:
        return f"ReceiptBody(signer={self.signer}, seq={self.seq}, status={self.status})"

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the JSON object."""
        data = dict(self._data)
        data["upstream"] = dict(data["upstream"])
        if data["usage"] is not None:
            data["usage"] = dict(data["usage"])
        return data

    def canonical(self) -> bytes:
        """RFC 8785 bytes of the body: what ``sha256`` turns into the receipt id."""
        return canonical_json_fast(self._data)

    @property
    def type(self) -> str:
        return str(self._data["type"])

    @property
    def signer(self) -> str:
        return str(self._data["signer"])

    @property
    def keyset(self) -> str:
        return str(self._data["keyset"])

    @property
    def seq(self) -> int:
        return int(self._data["seq"])

    @property
    def prev(self) -> str:
        return str(self._data["prev"])

    @property
    def time_ms(self) -> int:
        return int(self._data["time_ms"])

    @property
    def request_sha256(self) -> str:
        return str(self._data["request_sha256"])

    @property
    def response_sha256(self) -> str:
        return str(self._data["response_sha256"])

    @property
    def stream(self) -> bool:
        return bool(self._data["stream"])

    @property
    def status(self) -> Status:
        value: Status = self._data["status"]
        return value

    @property
    def http_status(self) -> int:
        return int(self._data["http_status"])

    @property
    def model(self) -> str:
        return str(self._data["model"])

    @property
    def upstream(self) -> Upstream:
        return Upstream(**self._data["upstream"])

    @property
    def usage(self) -> dict[str, int] | None:
        usage = self._data["usage"]
        return None if usage is None else dict(usage)

    @property
    def client_nonce(self) -> str | None:
        value: str | None = self._data["client_nonce"]
        return value

    @property
    def caller(self) -> str | None:
        value: str | None = self._data["caller"]
        return value


@dataclass(frozen=True, slots=True)
class Receipt:
    """A receipt body with its signature. ``id`` is the hex body hash."""

    body: ReceiptBody
    signature: bytes
    body_hash: bytes = field(repr=False)

    @property
    def id(self) -> str:
        return self.body_hash.hex()

    @property
    def digest(self) -> bytes:
        return receipt_digest(self.body_hash)

    def to_dict(self) -> dict[str, Any]:
        return {"body": self.body.to_dict(), "sig": self.signature.hex()}

    def canonical(self) -> bytes:
        """The wire form: RFC 8785 bytes of ``{"body": ..., "sig": ...}``."""
        return canonical_json_fast(self.to_dict())

    def to_header(self) -> str:
        """base64url (unpadded) of the canonical receipt, for the ``veritee-receipt`` header."""
        return base64.urlsafe_b64encode(self.canonical()).rstrip(b"=").decode("ascii")

    def verify(self, key: PublicKeyVerifier | None = None) -> None:
        """Check the signature; raise :class:`SignatureInvalid` if it fails.

        With ``key`` (the attested signing key), the signer must be that key. Without
        one, the signer is recovered and must be the ``signer`` the body names.
        """
        if key is not None:
            if key.address != self.body.signer:
                raise SignatureInvalid(
                    f"receipt {self.id} names signer {self.body.signer}, expected {key.address}"
                )
            try:
                key.verify(self.digest, self.signature)
            except SignatureInvalid as exc:
                raise SignatureInvalid(f"receipt {self.id} (seq {self.body.seq}): {exc}") from None
            return
        try:
            signer = recover_address(self.digest, self.signature)
        except SignatureInvalid as exc:
            raise SignatureInvalid(f"receipt {self.id} (seq {self.body.seq}): {exc}") from None
        if signer != self.body.signer:
            raise SignatureInvalid(
                f"receipt {self.id} (seq {self.body.seq}) was signed by {signer}, "
                f"not by the signer it names, {self.body.signer}"
            )


def sign_receipt(key: SigningKey, body: ReceiptBody) -> Receipt:
    """Sign ``body`` with ``key``; the body must name the key's address as signer."""
    if body.signer != key.address:
        raise ValueError("the body names a different signer than the signing key")
    body_hash = hashlib.sha256(body.canonical()).digest()
    return Receipt(
        body=body, signature=key.sign_digest(receipt_digest(body_hash)), body_hash=body_hash
    )


_FAST_HEAD = b'{"body":'
_FAST_TAIL_LEN = len(b',"sig":"') + 130 + len(b'"}')


def parse_receipt(data: bytes | str | Mapping[str, Any]) -> Receipt:
    """Parse a receipt from its JSON (bytes or str) or a decoded dict.

    Raises :class:`MalformedReceipt` for anything that is not a well-formed receipt.
    Parsing does not check the signature; call :meth:`Receipt.verify`.

    When ``data`` is the canonical wire form, the body hash is taken over the body's
    bytes as they stand (they are canonical by construction); otherwise the body is
    re-canonicalised. Either way ``body_hash`` is ``sha256(JCS(body))`` for a genuine
    receipt, and a non-canonical body can never carry a valid signature.
    """
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if isinstance(data, bytes):
        return _parse_bytes(data)
    return _from_mapping(data, None)


_SIG_HEX = re.compile(rb"[0-9a-f]{130}").fullmatch


def _parse_bytes(raw: bytes) -> Receipt:
    raw = raw.strip()
    try:
        if (
            raw.startswith(_FAST_HEAD)
            and raw.endswith(b'"}')
            and raw[-_FAST_TAIL_LEN:].startswith(b',"sig":"')
            and len(raw) > len(_FAST_HEAD) + _FAST_TAIL_LEN
        ):
            sig_hex = raw[-_FAST_TAIL_LEN + 8 : -2]
            body_bytes = raw[len(_FAST_HEAD) : -_FAST_TAIL_LEN]
            body = orjson.loads(body_bytes)
            if _SIG_HEX(sig_hex) is None:
                raise MalformedReceipt("must be 130 lowercase hex digits", field="sig")
            return Receipt(
                body=ReceiptBody.from_dict(body),
                signature=binascii.unhexlify(sig_hex),
                body_hash=hashlib.sha256(body_bytes).digest(),
            )
        return _from_mapping(orjson.loads(raw), None)
    except orjson.JSONDecodeError as exc:
        raise MalformedReceipt(f"not valid JSON: {exc}") from None
    except UnicodeDecodeError:
        raise MalformedReceipt("not valid UTF-8") from None


def _from_mapping(data: object, body_bytes: bytes | None) -> Receipt:
    if type(data) is not dict or data.keys() != {"body", "sig"}:
        raise MalformedReceipt('a receipt is an object with exactly the keys "body" and "sig"')
    sig = data["sig"]
    if type(sig) is not str:
        raise MalformedReceipt("must be 130 lowercase hex digits", field="sig")
    return _from_parts(data["body"], sig, body_bytes)


def _from_parts(body: object, sig: str, body_bytes: bytes | None) -> Receipt:
    if not is_lower_hex(sig, 130):
        raise MalformedReceipt("must be 130 lowercase hex digits", field="sig")
    parsed = ReceiptBody.from_dict(body)
    if body_bytes is None:
        try:
            body_bytes = canonical_json_fast(body)
        except CanonicalizationError as exc:
            raise MalformedReceipt(str(exc), field="body") from None
    return Receipt(
        body=parsed, signature=bytes.fromhex(sig), body_hash=hashlib.sha256(body_bytes).digest()
    )


def parse_receipt_header(value: str) -> Receipt:
    """Parse the ``veritee-receipt`` header value (unpadded base64url of the wire form)."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise MalformedReceipt("the receipt header is not base64url") from None
    return parse_receipt(raw)
