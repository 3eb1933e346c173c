"""The gateway's HTTP/1.1 client against a real socket server that misbehaves on cue."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from gateway.errors import EnclaveUnavailable
from gateway.h1_transport import H1Transport
from tests.helpers.services import free_port

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, bytes], Awaitable[bool]]


async def read_request(reader: asyncio.StreamReader) -> bytes | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + await reader.readexactly(length)


class Server:
    """Counts connections; ``handler`` answers each request (False closes the connection)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []
        self.port = free_port()

    async def __aenter__(self) -> Server:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while (request := await read_request(reader)) is not None:
                self.requests.append(request)
                if not await self.handler(reader, writer, request):
                    break
        finally:
            writer.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/x"


def ok(body: bytes = b'{"ok":true}') -> Handler:
    async def handler(_r: asyncio.StreamReader, w: asyncio.StreamWriter, _q: bytes) -> bool:
        w.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-Thing: 1\r\n"
                b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)  # fmt: skip
        await w.drain()
        return True

    return handler


def transport(**overrides: Any) -> H1Transport:
    settings: dict[str, Any] = {"connect_timeout": 2.0, "read_timeout": 5.0, "max_connections": 8}
    settings.update(overrides)
    return H1Transport(**settings)


def test_requests_reuse_one_keep_alive_connection() -> None:
    async def main() -> tuple[Server, list[bytes], str | None]:
        client = transport()
        async with Server(ok()) as server:
            bodies = []
            for i in range(3):
                reply = await client.request("POST", server.url, body=b"%d" % i,
                                             headers={"content-type": "application/json"})  # fmt: skip
                bodies.append(await reply.read())
            header = reply.headers.get("X-THING")
            await client.close()
            return server, bodies, header

    server, bodies, header = asyncio.run(main())
    assert bodies == [b'{"ok":true}'] * 3 and header == "1"
    assert server.connections == 1
    assert server.requests[0].startswith(b"POST /v1/x HTTP/1.1\r\nhost: 127.0.0.1:")
    assert server.requests[2].endswith(b"content-length: 1\r\n\r\n2")


def test_a_chunked_stream_arrives_piece_by_piece() -> None:
    release = asyncio.Event()

    async def streamer(_r: asyncio.StreamReader, w: asyncio.StreamWriter, _q: bytes) -> bool:
        w.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n6\r\nfirst\n\r\n")
        await w.drain()
        await release.wait()
        w.write(b"7\r\nsecond\n\r\n0\r\n\r\n")
        await w.drain()
        return True

    async def main() -> list[bytes]:
        client = transport()
        async with Server(streamer) as server:
            reply = await client.request("GET", server.url)
            pieces = reply.chunks()
            first = await anext(pieces)  # the server has not written the rest yet
            release.set()
            rest = [chunk async for chunk in pieces]
            await client.close()
            return [first, *rest]

    assert b"".join(asyncio.run(main())) == b"first\nsecond\n"


@pytest.mark.parametrize("stream", [False, True])
def test_a_body_cut_short_is_an_error_not_a_short_success(stream: bool) -> None:
    async def cutter(_r: asyncio.StreamReader, w: asyncio.StreamWriter, _q: bytes) -> bool:
        w.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten b")
        await w.drain()
        return False

    async def main() -> None:
        client = transport()
        async with Server(cutter) as server:
            reply = await client.request("GET", server.url)
            if stream:
                async for _chunk in reply.chunks():
                    pass
            else:
                await reply.read()

    with pytest.raises(EnclaveUnavailable, match="connection lost"):
        asyncio.run(main())


def test_a_refused_connection_is_marked_refused() -> None:
    async def main() -> None:
        await transport().request("GET", f"http://127.0.0.1:{free_port()}/")

    with pytest.raises(EnclaveUnavailable) as caught:
        asyncio.run(main())
    assert caught.value.refused


def test_no_reply_in_time_is_a_timeout() -> None:
    async def silent(r: asyncio.StreamReader, _w: asyncio.StreamWriter, _q: bytes) -> bool:
        await r.read()  # until the client gives up
        return False

    async def main() -> None:
        async with Server(silent) as server:
            await transport(read_timeout=0.2).request("GET", server.url)

    with pytest.raises(EnclaveUnavailable, match="timed out") as caught:
        asyncio.run(main())
    assert not caught.value.refused


def test_an_idle_connection_the_server_dropped_is_replaced_once() -> None:
    calls = 0

    async def flaky(r: asyncio.StreamReader, w: asyncio.StreamWriter, q: bytes) -> bool:
        nonlocal calls
        calls += 1
        if calls == 2:  # the server closes this kept-alive connection as the request arrives
            return False
        return await ok()(r, w, q)

    async def main() -> tuple[int, bytes]:
        client = transport()
        async with Server(flaky) as server:
            await (await client.request("GET", server.url)).read()
            body = await (await client.request("GET", server.url)).read()
            await client.close()
            return server.connections, body

    connections, body = asyncio.run(main())
    assert body == b'{"ok":true}' and connections == 2


def test_connections_are_capped_and_waited_for() -> None:
    async def slow(r: asyncio.StreamReader, w: asyncio.StreamWriter, q: bytes) -> bool:
        await asyncio.sleep(0.05)
        return await ok()(r, w, q)

    async def main() -> tuple[int, list[bytes]]:
        client = transport(max_connections=1)
        async with Server(slow) as server:

            async def one() -> bytes:
                return await (await client.request("GET", server.url)).read()

            bodies = await asyncio.gather(*(one() for _ in range(4)))
            await client.close()
            return server.connections, list(bodies)

    connections, bodies = asyncio.run(main())
    assert connections == 1 and len(bodies) == 4


def test_idle_connections_expire() -> None:
    async def main() -> int:
        client = transport(idle_seconds=0.0)
        async with Server(ok()) as server:
            for _ in range(3):
                await (await client.request("GET", server.url)).read()
            await client.close()
            return server.connections

    assert asyncio.run(main()) == 3
