"""``veritee upstream-sim serve`` as a process, and its argument handling."""

from __future__ import annotations

import socket
import ssl
from dataclasses import asdict, fields
from pathlib import Path

import httpx2
import openai
import pytest

from tests.upstream_sim.support import user
from veritee.cli import build_parser, main
from veritee.upstream_sim import SimSettings, parse_listening_line, start_subprocess
from veritee.upstream_sim.process import serve_args


def test_subprocess_serves_and_stops_cleanly() -> None:
    sim = start_subprocess(SimSettings(chunks=2, seed="proc", epoch=5))
    try:
        client = openai.OpenAI(base_url=sim.openai_base_url, api_key="k", max_retries=0)
        completion = client.chat.completions.create(model="m", messages=user("from a process"))
        assert completion.created == 5
        deltas = [
            c.choices[0].delta.content
            for c in client.chat.completions.create(model="m", messages=user("x"), stream=True)
            if c.choices[0].delta.content
        ]
        assert len(deltas) == 2  # --chunks reached the child
        assert sim.requests()[0]["body"].count("from a process") == 1
    finally:
        sim.stop()
    assert sim.process.returncode == 0


def test_subprocess_with_self_signed_tls(tmp_path: Path) -> None:
    with start_subprocess(self_signed_dir=tmp_path) as sim:
        assert sim.endpoint.ca_path == tmp_path / "ca.pem"
        assert sim.endpoint.spki_sha256 is not None and len(sim.endpoint.spki_sha256) == 64
        context = ssl.create_default_context(cafile=sim.endpoint.ca_path)
        with httpx2.Client(verify=context) as http:
            client = openai.OpenAI(
                base_url=sim.openai_base_url, api_key="k", max_retries=0, http_client=http
            )
            assert client.models.list().data
        assert sim.release("nobody-waits") == 0
        assert sim.waiting("nobody-waits") == 0


def test_listening_line_parses() -> None:
    plain = parse_listening_line("upstream-sim listening url=http://127.0.0.1:8080\n")
    assert (plain.host, plain.port, plain.tls, plain.ca_path) == ("127.0.0.1", 8080, False, None)
    tls = parse_listening_line(
        "upstream-sim listening url=https://[::1]:9 ca=/x/ca.pem cert=/x/c.pem spki_sha256="
        + "ab" * 32
    )
    assert (tls.host, tls.port, tls.base_url) == ("::1", 9, "https://[::1]:9")
    assert tls.ca_path == Path("/x/ca.pem") and tls.spki_sha256 == "ab" * 32
    given = parse_listening_line(
        "upstream-sim listening url=https://h:1 ca=- cert=/c spki_sha256=0"
    )
    assert given.ca_path is None and given.tls
    for bad in ("hello", "upstream-sim listening url=ftp://h:1", "upstream-sim listening"):
        with pytest.raises(ValueError, match="not an upstream-sim start line"):
            parse_listening_line(bad)


@pytest.mark.parametrize(
    "argv",
    [
        ["upstream-sim", "serve"],
        ["upstream-sim", "serve", "--port", "-1"],
        ["upstream-sim", "serve", "--port", "70000"],
        ["upstream-sim", "serve", "--port", "0", "--chunks", "0"],
        ["upstream-sim", "serve", "--port", "0", "--stall-max-s", "0"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2


def test_inconsistent_tls_flags_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["upstream-sim", "serve", "--port", "0", "--tls-cert", str(tmp_path)]) == 2
    both = ["--tls-self-signed", str(tmp_path), "--tls-key", str(tmp_path)]
    assert main(["upstream-sim", "serve", "--port", "0", *both]) == 2
    assert "bad input" in capsys.readouterr().err


def test_port_in_use_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["upstream-sim", "serve", "--port", str(port)]) == 2
    assert "bad input" in capsys.readouterr().err


def test_group_without_subcommand_prints_help() -> None:
    assert main(["upstream-sim"]) == 2


def test_serve_args_reproduce_every_setting() -> None:
    settings = SimSettings(
        latency_ms=3,
        chunks=4,
        chunk_delay_ms=5,
        stall_max_s=6.5,
        hold_max_s=7.0,
        seed="s e",
        epoch=8,
        max_body_bytes=9,
        api_key="key",
    )
    args = build_parser().parse_args(["upstream-sim", "serve", "--port=0", *serve_args(settings)])
    assert {f.name: getattr(args, f.name) for f in fields(SimSettings)} == asdict(settings)
