"""``simulated-nitro``: real Nitro attestation documents, signed by a local PKI.

The documents are byte for byte what an NSM writes (COSE_Sign1, ES384, the payload keys
in NSM's order, null for unset optional fields, 16 SHA-384 PCRs), signed by the leaf of
a :class:`~attestation.simulated.nitro_pki.NitroPki`. A verifier accepts them only when
it is given that PKI's root (``<state_dir>/roots/``); never against the AWS root.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from attestation.errors import MalformedEvidence
from attestation.evidence import Evidence, Platform
from attestation.formats.cose import ES384_PROTECTED as PROTECTED
from attestation.formats.cose import CoseSign1, der_to_raw_signature, sig_structure
from attestation.formats.nitro import NitroDocument
from attestation.formats.nsm import AttestationRequest
from attestation.simulated.nitro_pki import NitroPki

Clock = Callable[[], datetime]
PCR_SIZE = 48
PCR_COUNT = 16
MEASURED_PCRS = (0, 1, 2, 3, 4, 8)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def system_clock() -> datetime:
    return datetime.now(UTC)


def default_pcrs() -> dict[int, bytes]:
    """Distinct non-zero PCR0-4 and 8 (so not a debug enclave); the others zero, as NSM."""
    pcrs = {index: bytes(PCR_SIZE) for index in range(PCR_COUNT)}
    for index in MEASURED_PCRS:
        pcrs[index] = hashlib.sha384(f"veritee simulated-nitro pcr{index}".encode()).digest()
    return pcrs


def _pcrs(overrides: Mapping[int, bytes] | None) -> Mapping[int, bytes]:
    pcrs = default_pcrs()
    for index, value in (overrides or {}).items():
        if type(index) is not int or not 0 <= index < PCR_COUNT:
            raise MalformedEvidence(f"PCR index {index!r} is not 0..{PCR_COUNT - 1}", field="pcrs")
        if not isinstance(value, bytes) or len(value) != PCR_SIZE:
            raise MalformedEvidence(f"a SHA-384 PCR is {PCR_SIZE} bytes", field=f"pcrs[{index}]")
        pcrs[index] = value
    return MappingProxyType(pcrs)


class SimulatedNitro:
    """An EvidenceProvider for ``nitro`` whose NSM is simulated.

    ``pcrs`` overrides PCRs by index (48 bytes each; PCR0-2 all zero means debug);
    ``public_key`` goes into every document; ``clock`` stamps documents and drives the
    certificate lifetimes.
    """

    name = "simulated-nitro"
    platform: Platform = "nitro"

    def __init__(
        self,
        pki: NitroPki,
        *,
        pcrs: Mapping[int, bytes] | None = None,
        public_key: bytes | None = None,
        clock: Clock = system_clock,
        tagged: bool = False,
        roots_dir: Path | None = None,
    ) -> None:
        self.pki = pki
        self.pcrs = _pcrs(pcrs)
        self.public_key = public_key
        self.clock = clock
        self.tagged = tagged
        self.roots_dir = roots_dir

    @classmethod
    def from_state_dir(
        cls,
        state_dir: Path,
        *,
        pcrs: Mapping[int, bytes] | None = None,
        public_key: bytes | None = None,
        clock: Clock = system_clock,
        tagged: bool = False,
    ) -> SimulatedNitro:
        """Use (or create once) the simulated root in ``state_dir``; its certificate is
        in ``<state_dir>/roots/`` for ``--roots``."""
        pki = NitroPki.load_or_create(state_dir, clock())
        return cls(
            pki,
            pcrs=pcrs,
            public_key=public_key,
            clock=clock,
            tagged=tagged,
            roots_dir=state_dir / "roots",
        )

    @property
    def root_certificate(self) -> x509.Certificate:
        return self.pki.root_certificate

    def attest(self, request: AttestationRequest) -> bytes:
        """What an NSM answers to an Attestation request: the signed document's bytes."""
        now = self.clock()
        leaf, cabundle = self.pki.chain_at(now)
        document = NitroDocument(
            module_id=self.pki.module_id,
            digest="SHA384",
            timestamp_ms=(now - _EPOCH) // timedelta(milliseconds=1),
            pcrs=self.pcrs,
            certificate=leaf.der(),
            cabundle=cabundle,
            public_key=request.public_key,
            user_data=request.user_data,
            nonce=request.nonce,
        )
        payload = document.to_cbor()
        der = leaf.key.sign(sig_structure(PROTECTED, payload), ec.ECDSA(hashes.SHA384()))
        cose = CoseSign1(payload=payload, signature=der_to_raw_signature(der), tagged=self.tagged)
        return cose.to_bytes()

    def get_evidence(self, report_data: bytes) -> Evidence:
        request = AttestationRequest.for_report_data(report_data, self.public_key)
        return Evidence(
            platform="nitro",
            report=self.attest(request),
            report_data=report_data,
            provider=self.name,
        )
