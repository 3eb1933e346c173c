"""A real HTTP proxy in front of a JSON-RPC node that fails on purpose, for retry tests.

Failures: ``503`` (an HTTP error), ``drop`` (the connection closes without an answer) and
``lose-response`` (the node gets the request and acts on it, but the answer is lost).
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

Failure = Literal["503", "drop", "lose-response"]


class _Handler(BaseHTTPRequestHandler):
    server: _FlakyServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = json.loads(body)
        failure = self.server.next_failure(json.dumps([request["method"], request["params"]]))
        if failure == "503":
            self.send_error(503, "try again")
            return
        if failure == "drop":
            self.close_connection = True
            self.connection.close()
            return
        request = urllib.request.Request(
            self.server.upstream, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = response.read()
        if failure == "lose-response":  # the node acted, but the caller never hears of it
            self.close_connection = True
            self.connection.close()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        return


class _FlakyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str, failure: Failure, always: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = upstream
        self.failure = failure
        self.always = always
        self.requests = 0
        self.failures = 0
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def next_failure(self, call: str) -> Failure | None:
        """The first request of each distinct call (method and params) fails; its retry works.

        Keying on the call, not on a request count, keeps a web3 call that makes several
        requests (``eth_chainId`` before ``eth_estimateGas``...) from failing every attempt.
        """
        with self._lock:
            self.requests += 1
            if self.always or call not in self._seen:
                self._seen.add(call)
                self.failures += 1
                return self.failure
            return None


@contextmanager
def flaky_proxy(upstream: str, failure: Failure, *, always: bool = False) -> Iterator[_FlakyServer]:
    """Serve on 127.0.0.1 (``server.server_address``) until the block ends."""
    server = _FlakyServer(upstream, failure, always)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
