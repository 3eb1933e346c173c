"""The PCS/KDS fetcher against a real HTTP server on 127.0.0.1 serving real responses."""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers.tdx import SPR_TIME, spr_collateral
from verifier.collateral import (
    AmdTcb,
    CollateralUnavailable,
    HttpResponse,
    PcsKdsFetcher,
    UrllibGetter,
)

Route = tuple[int, dict[str, str], bytes]


class FakeServices:
    """Intel PCS and AMD KDS as a real HTTP server; routes map path+query to responses."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        services = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                services.requests.append(self.path)
                status, headers, body = services.routes.get(self.path, (404, {}, b"not found"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def services(testvectors: Path) -> Iterator[FakeServices]:
    tdx = testvectors / "tdx"
    fake = FakeServices()

    def chain(name: str) -> str:
        return urllib.parse.quote((tdx / name).read_text())

    tcb_chain = chain("spr-e4-v4.pcs-tcbinfo-issuer-chain.pem")
    fake.routes.update(
        {
            "/tdx/certification/v4/tcb?fmspc=50806f000000": (
                200,
                {"TCB-Info-Issuer-Chain": tcb_chain},
                (tdx / "spr-e4-v4.pcs-tcbinfo.json").read_bytes(),
            ),
            "/tdx/certification/v4/qe/identity": (
                200,
                {"SGX-Enclave-Identity-Issuer-Chain": tcb_chain},
                (tdx / "spr-e4-v4.pcs-qeidentity.json").read_bytes(),
            ),
            "/sgx/certification/v4/pckcrl?ca=platform&encoding=der": (
                200,
                {"SGX-PCK-CRL-Issuer-Chain": chain("spr-e4-v4.pcs-pckcrl-issuer-chain.pem")},
                (tdx / "spr-e4-v4.pcs-pckcrl.der").read_bytes(),
            ),
            "/IntelSGXRootCA.der": (200, {}, (tdx / "spr-e4-v4.rootcrl.der").read_bytes()),
            "/vcek/v1/Milan/" + "ab" * 64 + "?blSPL=03&teeSPL=00&snpSPL=08&ucodeSPL=115": (
                200,
                {},
                (testvectors / "snp" / "milan-v2.vcek.der").read_bytes(),
            ),
            "/vcek/v1/Milan/cert_chain": (
                200,
                {},
                (testvectors / "roots" / "amd_ask_ark_milan.pem").read_bytes(),
            ),
        }
    )
    yield fake
    fake.close()


def _fetcher(services: FakeServices, cache: Path | None) -> PcsKdsFetcher:
    return PcsKdsFetcher(
        UrllibGetter(timeout=5),
        cache_dir=cache,
        pcs_url=services.url,
        root_crl_url=f"{services.url}/IntelSGXRootCA.der",
        kds_url=services.url,
    )


def test_fetches_tdx_collateral_as_served_and_caches_it(
    services: FakeServices, testvectors: Path, tmp_path: Path
) -> None:
    fetcher = _fetcher(services, tmp_path)
    got = fetcher.tdx_collateral(fmspc="50806F000000", ca="platform", now=SPR_TIME)
    assert got.to_bundle_dict() == spr_collateral(testvectors).to_bundle_dict()
    assert len(services.requests) == 4
    assert (tmp_path / "tdx" / "fmspc-50806f000000" / "tcbinfo.json").read_bytes() == (
        testvectors / "tdx" / "spr-e4-v4.pcs-tcbinfo.json"
    ).read_bytes()
    again = _fetcher(services, tmp_path).tdx_collateral(
        fmspc="50806f000000", ca="platform", now=SPR_TIME
    )
    assert again.to_bundle_dict() == got.to_bundle_dict()
    assert len(services.requests) == 4  # served from the cache


def test_stale_cache_is_refreshed_and_a_failed_refresh_says_why(
    services: FakeServices, tmp_path: Path
) -> None:
    _fetcher(services, tmp_path).tdx_collateral(fmspc="50806f000000", ca="platform", now=SPR_TIME)
    later = SPR_TIME + timedelta(days=60)
    _fetcher(services, tmp_path).tdx_collateral(fmspc="50806f000000", ca="platform", now=later)
    assert len(services.requests) == 8  # expired at ``later``: fetched again
    services.routes.pop("/tdx/certification/v4/qe/identity")
    with pytest.raises(CollateralUnavailable, match=r"expired at .* refreshing it failed: .*404"):
        _fetcher(services, tmp_path).tdx_collateral(fmspc="50806f000000", ca="platform", now=later)


def test_unknown_fmspc_and_missing_headers_are_unavailable(services: FakeServices) -> None:
    fetcher = _fetcher(services, None)
    with pytest.raises(CollateralUnavailable, match="HTTP 404"):
        fetcher.tdx_collateral(fmspc="00aa00000000", ca="platform", now=SPR_TIME)
    status, _, body = services.routes["/tdx/certification/v4/qe/identity"]
    services.routes["/tdx/certification/v4/qe/identity"] = (status, {}, body)
    with pytest.raises(CollateralUnavailable, match="sgx-enclave-identity-issuer-chain"):
        fetcher.tdx_collateral(fmspc="50806f000000", ca="platform", now=SPR_TIME)


def test_malformed_responses_are_unavailable(services: FakeServices) -> None:
    path = "/tdx/certification/v4/tcb?fmspc=50806f000000"
    status, headers, _ = services.routes[path]
    services.routes[path] = (status, headers, b'{"tcbInfo": ')
    with pytest.raises(CollateralUnavailable, match="malformed"):
        _fetcher(services, None).tdx_collateral(fmspc="50806f000000", ca="platform", now=SPR_TIME)


def test_amd_certificates_are_fetched_and_cached(
    services: FakeServices, testvectors: Path, tmp_path: Path
) -> None:
    fetcher = _fetcher(services, tmp_path)
    tcb = AmdTcb(bootloader=3, tee=0, snp=8, microcode=115)
    vcek = fetcher.amd_vcek(product="Milan", hwid=bytes([0xAB]) * 64, tcb=tcb)
    assert vcek == (testvectors / "snp" / "milan-v2.vcek.der").read_bytes()
    chain = fetcher.amd_chain(product="Milan", key_type="vcek")
    assert chain.intermediate and chain.root
    count = len(services.requests)
    assert _fetcher(services, tmp_path).amd_vcek(product="Milan", hwid=bytes([0xAB]) * 64, tcb=tcb)
    assert _fetcher(services, tmp_path).amd_chain(product="Milan", key_type="vcek") == chain
    assert len(services.requests) == count
    with pytest.raises(CollateralUnavailable, match="404"):
        fetcher.amd_crl(product="Milan", key_type="vcek", now=SPR_TIME)
    with pytest.raises(CollateralUnavailable, match="404"):
        fetcher.amd_chain(product="Genoa", key_type="vlek")


def test_offline_is_could_not_check() -> None:
    class Offline:
        def get(self, url: str) -> HttpResponse:
            raise OSError("network is unreachable")

    fetcher = PcsKdsFetcher(Offline())
    with pytest.raises(CollateralUnavailable, match="unreachable"):
        fetcher.tdx_collateral(fmspc="50806f000000", ca="platform", now=SPR_TIME)
    with pytest.raises(CollateralUnavailable, match="unreachable"):
        fetcher.amd_vcek(product="Turin", hwid=bytes(8), tcb=AmdTcb(1, 1, 1, 1, fmc=1))


def test_injected_getter_sees_the_pcs_urls() -> None:
    seen: list[str] = []

    class Recorder:
        def get(self, url: str) -> HttpResponse:
            seen.append(url)
            return HttpResponse(503, b"")

    with pytest.raises(CollateralUnavailable, match="HTTP 503"):
        PcsKdsFetcher(Recorder()).tdx_collateral(fmspc="B0C06F000000", ca="processor", now=SPR_TIME)
    assert seen == [
        "https://api.trustedservices.intel.com/tdx/certification/v4/tcb?fmspc=b0c06f000000"
    ]


def test_urllib_getter_refuses_other_schemes() -> None:
    with pytest.raises(OSError, match="only http"):
        UrllibGetter().get("file:///etc/passwd")
