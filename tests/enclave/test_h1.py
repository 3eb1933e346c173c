"""The HTTP/1.1 upstream client against the real simulator (TLS) and a few raw servers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from enclave.errors import UpstreamUnavailable
from enclave.sse import SseParser
from enclave.upstream import h1
from enclave.upstream.h1 import H1Transport
from enclave.upstream.transport import UpstreamCut
from veritee.upstream_sim import ThreadedSim, TlsFiles, self_signed

ASK = b'{"model": "m", "messages": [{"role": "user", "content": "hi"}]}'
STREAM = b'{"model": "m", "stream": true, "messages": [{"role": "user", "content": "hi"}]}'
HEADERS = {"authorization": "Bearer k", "content-type": "application/json"}


def transport(ca: Path, **options: float) -> H1Transport:
    return H1Transport(
        ca_bundle=ca,
        connect_timeout=options.get("connect", 5.0),
        read_timeout=options.get("read", 5.0),
        max_connections=int(options.get("max", 8)),
    )


def test_answers_streams_and_connection_reuse(sim: ThreadedSim) -> None:
    assert sim.endpoint.ca_path is not None
    url = sim.openai_base_url + "/chat/completions"

    async def run() -> int:
        client = transport(sim.endpoint.ca_path)  # type: ignore[arg-type]
        for _ in range(3):
            reply = await client.post(url, HEADERS, ASK)
            assert reply.status == 200
            assert reply.header("Content-Type") == "application/json"
            assert reply.header("x-request-id")
            assert reply.spki_sha256 == sim.endpoint.spki_sha256
            assert b'"chat.completion"' in await reply.read()
            reply.close()
        reply = await client.post(url, HEADERS, STREAM)
        parser, events = SseParser(), []
        async for chunk in reply.chunks():
            events += parser.feed(chunk)
        reply.close()
        assert events[-1].data == b"[DONE]"
        assert len(events) > 3
        await client.close()
        return client.connections_made

    assert asyncio.run(run()) == 1, "one keep-alive connection served every exchange"


def test_idle_connections_expire(sim: ThreadedSim, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(h1, "IDLE_SECONDS", 0.0)

    async def run() -> int:
        client = transport(sim.endpoint.ca_path)  # type: ignore[arg-type]
        for _ in range(2):
            reply = await client.post(sim.openai_base_url + "/chat/completions", HEADERS, ASK)
            await reply.read()
            reply.close()
        await client.close()
        return client.connections_made

    assert asyncio.run(run()) == 2


def test_headers_cannot_smuggle_lines() -> None:
    with pytest.raises(ValueError, match="line break"):
        h1._request("/", b"h", {"x-api-key": "k\r\nx-evil: 1"}, b"")


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def with_raw_server(
    tls: TlsFiles, handler: Handler, check: Callable[[str], Awaitable[None]]
) -> None:
    """Run ``check(url)`` against a TLS server that answers with ``handler``."""

    async def run() -> None:
        server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls.server_context())
        port = server.sockets[0].getsockname()[1]
        try:
            await check(f"https://127.0.0.1:{port}/v1/x")
        finally:
            server.close()

    asyncio.run(run())


async def read_request(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    await reader.readexactly(length)


def test_a_body_delimited_by_close_is_complete(tmp_path: Path) -> None:
    tls = self_signed(tmp_path)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{"ok": true}')
        await writer.drain()
        writer.close()

    async def check(url: str) -> None:
        reply = await transport(tls.ca).post(url, HEADERS, ASK)  # type: ignore[arg-type]
        assert await reply.read() == b'{"ok": true}'
        reply.close()

    with_raw_server(tls, handler, check)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (b'HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n{"half"', UpstreamCut),
        (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n", UpstreamCut),
        (b"NOT HTTP AT ALL\r\n\r\n", UpstreamUnavailable),
        (b"", UpstreamUnavailable),
    ],
)
def test_cut_and_garbled_answers(tmp_path: Path, answer: bytes, error: type[Exception]) -> None:
    tls = self_signed(tmp_path)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer)
        await writer.drain()
        writer.close()

    async def check(url: str) -> None:
        with pytest.raises(error):
            reply = await transport(tls.ca).post(url, HEADERS, ASK)  # type: ignore[arg-type]
            await reply.read()

    with_raw_server(tls, handler, check)


def test_a_silent_upstream_times_out(tmp_path: Path) -> None:
    tls = self_signed(tmp_path)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n")
        await writer.drain()
        await asyncio.sleep(5)

    async def check(url: str) -> None:
        client = transport(tls.ca, read=0.2)  # type: ignore[arg-type]
        reply = await client.post(url, HEADERS, ASK)
        chunks = []
        with pytest.raises(UpstreamCut) as info:
            async for chunk in reply.chunks():
                chunks.append(chunk)
        assert chunks == [b"hi"]
        assert info.value.timeout

    with_raw_server(tls, handler, check)


def test_a_large_stream_arrives_whole_through_flow_control(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(h1, "PAUSE_AT", 1000)
    tls = self_signed(tmp_path)
    piece = b"x" * 4096

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % (len(piece) * 200))
        for _ in range(200):
            writer.write(piece)
            await writer.drain()
        writer.close()

    async def check(url: str) -> None:
        reply = await transport(tls.ca).post(url, HEADERS, ASK)  # type: ignore[arg-type]
        total = 0
        async for chunk in reply.chunks():
            total += len(chunk)
            await asyncio.sleep(0)  # a slow reader
        assert total == len(piece) * 200

    with_raw_server(tls, handler, check)


def test_a_wrong_ca_is_refused(sim: ThreadedSim, tmp_path: Path) -> None:
    other = self_signed(tmp_path)

    async def run() -> None:
        with pytest.raises(UpstreamUnavailable, match="certificate verification failed"):
            await transport(other.ca).post(  # type: ignore[arg-type]
                sim.openai_base_url + "/chat/completions", HEADERS, ASK
            )

    asyncio.run(run())


def test_a_stream_left_at_its_end_marker_is_drained_for_reuse(tmp_path: Path) -> None:
    tls = self_signed(tmp_path)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(2):
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            writer.write(b"e\r\ndata: [DONE]\n\n\r\n")
            await writer.drain()
            await asyncio.sleep(0.1)  # the terminator comes late
            writer.write(b"0\r\n\r\n")
            await writer.drain()

    async def check(url: str) -> None:
        client = transport(tls.ca)  # type: ignore[arg-type]
        for _ in range(2):
            reply = await client.post(url, HEADERS, STREAM)
            async for chunk in reply.chunks():
                if b"[DONE]" in chunk:
                    break  # what the proxy does at the end marker
            reply.close()
            await client.drained()
        assert client.connections_made == 1
        await client.close()

    with_raw_server(tls, handler, check)
