"""Seed material for the fuzz targets: real vectors and simulator evidence, built at run time.

The real vectors are read from ``../shared/testvectors`` (or ``$VERITEE_TESTVECTORS``) and
never copied into the repository; where they are absent, the simulators' evidence alone
seeds the targets. The simulators keep their roots in a state directory (``state``), which
the verifier targets load their trusted roots from. Every simulator runs at a fixed time
inside the real vectors' validity windows, so one ``now`` per platform verifies both.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from functools import cached_property
from pathlib import Path

import orjson
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from attestation.evidence import Evidence
from attestation.formats.hcl import HardwareReportType
from attestation.formats.tdx import SGX_EXTENSIONS_OID, TdReport, TdxQuote
from attestation.simulated.snp import SimulatedSnpProvider
from attestation.simulated.tdx import SimulatedTdx
from fuzz.contract import SNP_NOW, TDX_NOW, VTPM_NOW
from verifier.collateral import TdxCollateral

REPO = Path(__file__).resolve().parent.parent
DEFAULT_VECTORS = Path(
    os.environ.get("VERITEE_TESTVECTORS", REPO.parent / "shared" / "testvectors")
)
REPORT_DATA = hashlib.sha512(b"veritee fuzz seed").digest()
SNP_VECTORS = ("milan-v2", "milan-v2-debug", "genoa-v5")


class Material:
    """Lazily built seed material; ``state`` holds the simulators' keys and roots."""

    def __init__(self, state: Path, vectors: Path | None = DEFAULT_VECTORS) -> None:
        self.state = Path(state)
        self.vectors = (
            vectors if vectors is not None and (vectors / "README.md").is_file() else None
        )

    def vector(self, relative: str) -> bytes | None:
        """A real vector file's bytes, or None when the vectors are absent."""
        if self.vectors is None:
            return None
        path = self.vectors / relative
        return path.read_bytes() if path.is_file() else None

    # -- SEV-SNP ----------------------------------------------------------------------------

    def snp_simulator(self, **options: object) -> SimulatedSnpProvider:
        return SimulatedSnpProvider(self.state / "snp", now=SNP_NOW, **options)  # type: ignore[arg-type]

    @cached_property
    def snp_simulators(self) -> tuple[SimulatedSnpProvider, ...]:
        return (
            self.snp_simulator(),
            self.snp_simulator(version=2),
            self.snp_simulator(product="genoa", version=3, mask_chip_id=True),
            self.snp_simulator(product="turin"),
            self.snp_simulator(signer="vlek"),
        )

    @cached_property
    def snp_evidence(self) -> list[Evidence]:
        """Real reports with their VCEKs, then simulated ones (VCEK and VLEK, v2 to v5)."""
        found = []
        for name in SNP_VECTORS:
            report, vcek = (
                self.vector(f"snp/{name}.report.bin"),
                self.vector(f"snp/{name}.vcek.der"),
            )
            if report is not None and vcek is not None:
                found.append(Evidence("sev-snp", report, report[0x50:0x90], name, {"vcek": vcek}))
        for simulator in self.snp_simulators:
            found.append(simulator.get_evidence(REPORT_DATA))
        return found

    @cached_property
    def snp_certificates(self) -> list[bytes]:
        """Every VCEK, VLEK, ASK, ASVK and ARK at hand (DER)."""
        ders = [der for e in self.snp_evidence for der in e.certificates.values()]
        for simulator in self.snp_simulators:
            ders += simulator.chain_der().values()
        return list(dict.fromkeys(ders))

    # -- TDX --------------------------------------------------------------------------------

    @cached_property
    def tdx_simulator(self) -> SimulatedTdx:
        return SimulatedTdx.open(self.state / "tdx", now=TDX_NOW)

    @cached_property
    def tdx_evidence(self) -> list[Evidence]:
        """Quotes (v4, v5 with TDX 1.0 and 1.5 bodies) carrying collateral valid at TDX_NOW."""
        found = []
        quote, bundle = (
            self.vector("tdx/dcapqvl-v4.quote.bin"),
            self.vector("tdx/dcapqvl-v4.collateral.json"),
        )
        if quote is not None and bundle is not None:
            collateral = TdxCollateral.from_bundle_dict(orjson.loads(bundle)).to_evidence()
            found.append(_tdx_evidence(quote, "dcap-qvl", collateral))
        simulator = self.tdx_simulator
        collateral = simulator.collateral(TDX_NOW)
        for version, tdx15 in ((4, False), (5, False), (5, True)):
            quote = simulator.quote(REPORT_DATA, version=version, tdx15=tdx15)
            found.append(_tdx_evidence(quote, "simulated", collateral))
        return found

    @cached_property
    def tdx_quotes(self) -> list[bytes]:
        quotes = [e.report for e in self.tdx_evidence]
        spr = self.vector("tdx/spr-e4-v4.quote.bin")
        return quotes if spr is None else [*quotes, spr]

    @cached_property
    def tdreports(self) -> list[bytes]:
        return [self.tdx_simulator.tdreport(REPORT_DATA)]

    @cached_property
    def pck_extensions(self) -> list[bytes]:
        """The DER value of the SGX extensions of every PCK certificate in the quotes."""
        oid = x509.ObjectIdentifier(SGX_EXTENSIONS_OID)
        found = []
        for quote in self.tdx_quotes:
            pem = TdxQuote.from_bytes(quote).signature_data.qe.certification_data.pck_chain_pem
            leaf = x509.load_pem_x509_certificates(pem or b"")[0]
            value = leaf.extensions.get_extension_for_oid(oid).value
            if isinstance(value, x509.UnrecognizedExtension):
                found.append(value.value)
        return found

    # -- Nitro ------------------------------------------------------------------------------

    @cached_property
    def nitro_documents(self) -> list[bytes]:
        """COSE_Sign1 documents: the real ones, then simulated (untagged, tagged, with a key)."""
        from attestation.simulated.nitro import SimulatedNitro

        found = []
        if (raw := self.vector("nitro/evervault-2022.doc.cbor")) is not None:
            found.append(raw)
        if (b64 := self.vector("nitro/evervault-2023-debug-keybinding.doc.b64")) is not None:
            import base64

            found.append(base64.b64decode(b"".join(b64.split())))
        for tagged, public_key in ((False, None), (True, b"\x04" + bytes(64))):
            simulator = SimulatedNitro.from_state_dir(
                self.state / "nitro", clock=lambda: SNP_NOW, tagged=tagged, public_key=public_key
            )
            found.append(simulator.get_evidence(REPORT_DATA).report)
        return found

    @cached_property
    def nitro_evidence(self) -> list[Evidence]:
        from attestation.formats.nitro import parse_nitro

        found = []
        for document in self.nitro_documents:
            user_data = parse_nitro(document).document.user_data or b""
            report_data = user_data if len(user_data) == 64 else bytes(64)
            found.append(Evidence("nitro", document, report_data, "seed"))
        return found

    # -- vTPM -------------------------------------------------------------------------------

    @cached_property
    def vtpm_evidence(self) -> list[Evidence]:
        """GCP-style (AK certificate), Azure-style over SNP and over TDX (HCL reports)."""
        from attestation.providers.vtpm import VtpmProvider
        from attestation.simulated.vtpm import SoftwareTpm
        from attestation.simulated.vtpm_cloud import provision_azure
        from attestation.simulated.vtpm_provider import SimulatedVtpmProvider

        found = [SimulatedVtpmProvider(self.state / "vtpm", now=VTPM_NOW).get_evidence(REPORT_DATA)]
        snp = self.snp_simulators[0]
        tpm = SoftwareTpm()
        provision_azure(tpm, lambda data: snp.report(data).to_bytes())
        azure = VtpmProvider(tpm, hardware_certificates=lambda: {"vcek": snp.certificate_der})
        found.append(azure.get_evidence(REPORT_DATA))
        tdx = self.tdx_simulator
        tpm = SoftwareTpm()
        provision_azure(tpm, tdx.tdreport, report_type=HardwareReportType.TDX)
        azure = VtpmProvider(
            tpm, td_quote=lambda report: tdx.quote(TdReport.from_bytes(report).report_data)
        )
        evidence = azure.get_evidence(REPORT_DATA)
        found.append(replace(evidence, collateral=tdx.collateral(VTPM_NOW)))
        return found

    @cached_property
    def hcl_reports(self) -> list[bytes]:
        return [e.extra["hcl_report"] for e in self.vtpm_evidence if "hcl_report" in e.extra]

    def tpm_blobs(self, name: str) -> list[bytes]:
        """``report`` (TPMS_ATTEST) or an ``extra`` blob (signature, ak_public, pcrs)."""
        return [e.report if name == "report" else e.extra[name] for e in self.vtpm_evidence]

    # -- everything, as evidence ------------------------------------------------------------

    @cached_property
    def all_evidence(self) -> list[Evidence]:
        return [*self.snp_evidence, *self.tdx_evidence, *self.nitro_evidence, *self.vtpm_evidence]


def _tdx_evidence(quote: bytes, provider: str, collateral: dict[str, bytes]) -> Evidence:
    report_data = TdxQuote.from_bytes(quote).body.report_data
    return Evidence("tdx", quote, report_data, provider, collateral=collateral)


def certificate_der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)
