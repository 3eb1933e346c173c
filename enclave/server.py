"""Run the app under uvicorn (uvloop + httptools): in the foreground, or in a thread for tests.

:class:`BackgroundServer` binds 127.0.0.1 on a free port *before* starting, so a test
(or the gateway's fixture that starts N enclaves) knows the URL with no race::

    with BackgroundServer(create_app(settings, provider=...)) as server:
        client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused")
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from enclave.settings import Settings


def uvicorn_config(app: Any, *, host: str, port: int, access_log: bool = False) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=access_log,
        log_level="warning",
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=5,
    )


def serve(app: Any, settings: Settings) -> None:
    """Serve ``app`` on the configured address; return after SIGTERM's graceful shutdown.

    uvicorn re-raises the signal that stopped it once it has shut down, to the handler
    that was there before; a no-op SIGTERM handler makes that a normal return (exit 0),
    while SIGINT keeps Python's KeyboardInterrupt.
    """
    server = settings.server
    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        uvicorn.Server(
            uvicorn_config(app, host=server.host, port=server.port, access_log=server.access_log)
        ).run()
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stopped(signum: int, frame: object) -> None:
    """SIGTERM after uvicorn's own handling: nothing left to do."""


class BackgroundServer:
    """Serve an app on 127.0.0.1 (a free port) in a thread; a context manager."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        self._server = uvicorn.Server(uvicorn_config(app, host=self.host, port=self.port))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the enclave server did not start (see the log above)")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=15)
        self._sock.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
