"""The HTTP layer and wire faults, seen byte by byte through raw sockets."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest

from veritee.upstream_sim import SimSettings, ThreadedSim, start_in_thread

AUTH = "authorization: Bearer k\r\n"


def _post(path: str, body: bytes, extra: str = "") -> bytes:
    head = f"POST {path} HTTP/1.1\r\nhost: sim\r\n{AUTH}content-length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


def _chat(text: str, *, stream: bool = False, extra: str = "") -> bytes:
    body = {"model": "m", "messages": [{"role": "user", "content": text}], "stream": stream}
    return _post("/v1/chat/completions", json.dumps(body).encode(), extra)


class Reader:
    """Reads HTTP/1.1 responses off a socket (Content-Length or chunked)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.buffer = sock, b""

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buffer += data

    def _until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(marker, 1)
        return head

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def response(self) -> tuple[int, dict[str, str], bytes]:
        lines = self._until(b"\r\n\r\n").decode().split("\r\n")
        status = int(lines[0].split()[1])
        headers = dict(line.lower().split(": ", 1) for line in lines[1:])
        if status < 200:
            return status, headers, b""
        if "content-length" in headers:
            return status, headers, self._take(int(headers["content-length"]))
        body = b""
        while size := int(self._until(b"\r\n"), 16):
            body += self._take(size)
            self._take(2)
        self._take(2)
        return status, headers, body


@pytest.fixture
def conn(sim: ThreadedSim) -> Iterator[socket.socket]:
    with socket.create_connection((sim.endpoint.host, sim.endpoint.port), timeout=5) as sock:
        yield sock


def test_keep_alive_serves_many_requests_on_one_connection(conn: socket.socket) -> None:
    reader = Reader(conn)
    for text in ("one", "two"):
        conn.sendall(_chat(text))
        status, headers, body = reader.response()
        assert status == 200 and "connection" not in headers
        assert f'\\"{text}\\"' in body.decode()


def test_pipelined_requests_are_answered_in_order(conn: socket.socket) -> None:
    conn.sendall(_chat("first", stream=True) + _chat("second") + _chat("third", stream=True))
    reader = Reader(conn)
    bodies = [reader.response()[2].decode() for _ in range(3)]
    for body, text in zip(bodies, ("first", "second", "third"), strict=True):
        assert f'\\"{text}\\"' in body
    assert bodies[0].endswith("data: [DONE]\n\n") and bodies[2].endswith("data: [DONE]\n\n")


def test_connection_close_is_honoured(conn: socket.socket) -> None:
    conn.sendall(_chat("bye", extra="connection: close\r\n"))
    reader = Reader(conn)
    assert reader.response()[1]["connection"] == "close"
    with pytest.raises(EOFError):
        reader.response()


def test_expect_100_continue(conn: socket.socket) -> None:
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "c"}]}).encode()
    head = _post("/v1/chat/completions", body, "expect: 100-continue\r\n")[: -len(body)]
    conn.sendall(head)
    reader = Reader(conn)
    assert reader.response()[0] == 100
    conn.sendall(body)
    assert reader.response()[0] == 200


def test_chunked_request_body(conn: socket.socket) -> None:
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "chunky"}]})
    half = len(body) // 2
    chunks = f"{half:x}\r\n{body[:half]}\r\n{len(body) - half:x}\r\n{body[half:]}\r\n0\r\n\r\n"
    conn.sendall(
        f"POST /v1/chat/completions HTTP/1.1\r\nhost: s\r\n{AUTH}transfer-encoding: chunked\r\n\r\n"
        f"{chunks}".encode()
    )
    assert '\\"chunky\\"' in Reader(conn).response()[2].decode()


def test_malformed_http_is_400_and_closed(conn: socket.socket) -> None:
    conn.sendall(b"NOT HTTP AT ALL\r\n\r\n")
    reader = Reader(conn)
    status, headers, body = reader.response()
    assert status == 400 and headers["connection"] == "close"
    assert json.loads(body)["error"]["type"] == "invalid_request_error"
    with pytest.raises(EOFError):
        reader.response()


def test_body_over_the_limit_is_413() -> None:
    with (
        start_in_thread(SimSettings(max_body_bytes=100)) as sim,
        socket.create_connection((sim.endpoint.host, sim.endpoint.port), timeout=5) as sock,
    ):
        sock.sendall(_chat("x" * 200))
        assert Reader(sock).response()[0] == 413


def test_reset_sends_rst_and_nothing_else(conn: socket.socket) -> None:
    conn.sendall(_chat("x [[sim:fault=reset]]"))
    with pytest.raises(ConnectionResetError):
        conn.recv(1)


def test_truncate_closes_mid_body_without_the_last_chunk(conn: socket.socket) -> None:
    conn.sendall(_chat("x [[sim:fault=truncate,chunks=4]]", stream=True))
    received = b""
    while data := conn.recv(65536):
        received += data
    assert b"transfer-encoding: chunked" in received
    assert received.count(b"data: ") == 1 + 2  # role chunk + half of the 4 content chunks
    assert b"[DONE]" not in received and not received.endswith(b"0\r\n\r\n")


def test_stalls_and_holds_are_bounded() -> None:
    settings = SimSettings(stall_max_s=0.2, hold_max_s=0.2)
    with start_in_thread(settings) as sim:
        address = (sim.endpoint.host, sim.endpoint.port)
        with socket.create_connection(address, timeout=5) as sock:
            sock.sendall(_chat("x [[sim:fault=stall-before]]"))
            assert sock.recv(1) == b""  # closed after the bound, nothing sent
        with socket.create_connection(address, timeout=5) as sock:
            sock.sendall(_chat("x [[sim:hold=never-released]]", stream=True))
            body = Reader(sock).response()[2]
            assert body.endswith(b"data: [DONE]\n\n")  # the rest came after the bound


def test_stopping_the_server_ends_a_stall() -> None:
    sim = start_in_thread(SimSettings(stall_max_s=600))
    with socket.create_connection((sim.endpoint.host, sim.endpoint.port), timeout=30) as sock:
        sock.sendall(_chat("x [[sim:fault=stall-before]]"))
        threading.Timer(0.1, sim.stop).start()
        try:
            ended = sock.recv(1)
        except ConnectionResetError:
            ended = b""
        assert ended == b""


def test_journal_records_what_arrived(sim: ThreadedSim, conn: socket.socket) -> None:
    conn.sendall(_chat("journal me", extra="x-custom: 1\r\n"))
    Reader(conn).response()
    last = sim.requests()[-1]
    assert last["path"] == "/v1/chat/completions"
    assert last["headers"]["authorization"] == "Bearer k"
    assert last["headers"]["x-custom"] == "1"
    assert "journal me" in last["body"]
    conn.sendall(b"GET /_sim/requests HTTP/1.1\r\nhost: s\r\n\r\n")
    listed = json.loads(Reader(conn).response()[2])["requests"]
    assert listed[-1]["body_sha256"] == last["body_sha256"]


def test_body_that_is_not_a_json_object_is_400_in_each_dialect(conn: socket.socket) -> None:
    reader = Reader(conn)
    conn.sendall(_post("/v1/chat/completions", b"[1, 2"))
    status, _, body = reader.response()
    assert status == 400
    assert "could not parse the JSON body" in json.loads(body)["error"]["message"]
    conn.sendall(_post("/v1/messages", b"[]", "anthropic-version: 2023-06-01\r\n"))
    status, _, body = reader.response()
    assert status == 400
    assert json.loads(body)["error"]["type"] == "invalid_request_error"


def test_a_long_pipeline_is_answered_completely(conn: socket.socket) -> None:
    count = 40  # more than the server queues before it stops reading
    conn.sendall(b"".join(_chat(f"number {i} [[sim:latency_ms=1]]") for i in range(count)))
    reader = Reader(conn)
    bodies = [reader.response()[2].decode() for _ in range(count)]
    assert all(f'\\"number {i}\\"' in body for i, body in enumerate(bodies))
