"""HTTPS with a generated CA: SDKs trust it through ``http_client``; the SPKI hash is right."""

from __future__ import annotations

import datetime as dt
import hashlib
import socket
import ssl
from pathlib import Path

import anthropic
import httpx2
import openai
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.upstream_sim.support import ANTHROPIC_MODEL, user
from veritee.upstream_sim import TlsFiles, self_signed, start_in_thread


def _peer_leaf(host: str, port: int, ca: Path) -> x509.Certificate:
    context = ssl.create_default_context(cafile=ca)
    with (
        socket.create_connection((host, port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def test_sdks_over_https_with_the_generated_ca(tmp_path: Path) -> None:
    files = self_signed(tmp_path)
    assert files.ca is not None
    context = ssl.create_default_context(cafile=files.ca)
    with start_in_thread(tls=files) as sim:
        assert sim.base_url.startswith("https://127.0.0.1:")
        with httpx2.Client(verify=context) as http:
            client = openai.OpenAI(
                base_url=sim.openai_base_url, api_key="k", max_retries=0, http_client=http
            )
            streamed = client.chat.completions.create(
                model="m", messages=user("over TLS"), stream=True
            )
            text = "".join(c.choices[0].delta.content or "" for c in streamed)
            assert '"over TLS"' in text
            claude = anthropic.Anthropic(
                base_url=sim.base_url, api_key="k", max_retries=0, http_client=http
            )
            message = claude.messages.create(
                model=ANTHROPIC_MODEL, max_tokens=10, messages=user("hi")
            )
            assert message.content


def test_untrusted_ca_is_refused(tmp_path: Path) -> None:
    with start_in_thread(tls=self_signed(tmp_path)) as sim:
        client = openai.OpenAI(base_url=sim.openai_base_url, api_key="k", max_retries=0)
        with pytest.raises(openai.APIConnectionError) as caught:
            client.models.list()
    assert "CERTIFICATE_VERIFY_FAILED" in repr(caught.value.__cause__)


def test_spki_hash_is_that_of_the_served_leaf(tmp_path: Path) -> None:
    files = self_signed(tmp_path)
    assert files.ca is not None
    with start_in_thread(tls=files) as sim:
        leaf = _peer_leaf("127.0.0.1", sim.endpoint.port, files.ca)
    spki = leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert sim.endpoint.spki_sha256 == hashlib.sha256(spki).hexdigest()
    assert sim.endpoint.ca_path == files.ca


def test_leaf_names_localhost_and_loopback(tmp_path: Path) -> None:
    files = self_signed(tmp_path)
    leaf = x509.load_pem_x509_certificate(files.cert.read_bytes())
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    assert files.key.stat().st_mode & 0o777 == 0o600
    with start_in_thread(tls=files, host="localhost") as sim:
        assert files.ca is not None
        assert _peer_leaf("localhost", sim.endpoint.port, files.ca).subject == leaf.subject


def test_files_are_reused_while_valid_and_renewed_near_expiry(tmp_path: Path) -> None:
    first = self_signed(tmp_path).spki_sha256
    assert self_signed(tmp_path).spki_sha256 == first
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    assert self_signed(tmp_path, now=later).spki_sha256 != first


def test_given_cert_and_key(tmp_path: Path) -> None:
    made = self_signed(tmp_path)
    given = TlsFiles(made.cert, made.key)  # no CA known to the server
    with start_in_thread(tls=given) as sim:
        assert sim.endpoint.ca_path is None
        assert sim.endpoint.spki_sha256 == made.spki_sha256
