"""Running the simulator: on the caller's event loop, or on its own loop in a thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import socket
import threading
from typing import Any

from veritee.upstream_sim.app import SimApp
from veritee.upstream_sim.holds import Holds
from veritee.upstream_sim.http import Connection
from veritee.upstream_sim.running import RunningSim, SimEndpoint
from veritee.upstream_sim.settings import SimSettings
from veritee.upstream_sim.tls import TlsFiles


class SimServer:
    """The simulator on the running event loop: ``await start()``, then ``await aclose()``."""

    def __init__(
        self,
        settings: SimSettings | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: TlsFiles | None = None,
    ) -> None:
        self.settings = settings or SimSettings()
        self._host, self._port, self._tls = host, port, tls
        self._server: asyncio.Server | None = None
        self._connections: set[Connection] = set()
        self._app: SimApp | None = None
        self._endpoint: SimEndpoint | None = None

    @property
    def endpoint(self) -> SimEndpoint:
        if self._endpoint is None:
            raise RuntimeError("the simulator is not started")
        return self._endpoint

    @property
    def app(self) -> SimApp:
        if self._app is None:
            raise RuntimeError("the simulator is not started")
        return self._app

    async def start(self) -> SimEndpoint:
        loop = asyncio.get_running_loop()
        self._app = app = SimApp(self.settings, Holds())
        sock = _bind(self._host, self._port)
        limit = self.settings.max_body_bytes
        self._server = await loop.create_server(
            lambda: Connection(app, self._connections, limit),
            sock=sock,
            ssl=self._tls.server_context() if self._tls else None,
            backlog=1024,
        )
        port = sock.getsockname()[1]
        spki = self._tls.spki_sha256 if self._tls else None
        ca = self._tls.ca if self._tls else None
        self._endpoint = SimEndpoint(self._host, port, self._tls is not None, ca, spki)
        return self._endpoint

    async def aclose(self) -> None:
        """Stop listening, drop every connection (cancelling stalls and holds)."""
        if self._server is None:
            return
        self._server.close()
        for conn in list(self._connections):
            conn.abort()
        await asyncio.sleep(0)
        self._server = None

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class ThreadedSim(RunningSim):
    """A simulator running on its own event loop in a daemon thread (see ``start_in_thread``)."""

    def __init__(
        self, server: SimServer, loop: asyncio.AbstractEventLoop, thread: threading.Thread
    ):
        self._server, self._loop, self._thread = server, loop, thread
        self.endpoint = server.endpoint

    def release(self, token: str) -> int:
        return int(self._call(lambda: self._server.app.holds.release(token)))

    def waiting(self, token: str) -> int:
        return int(self._call(lambda: self._server.app.holds.waiting(token)))

    def requests(self) -> list[dict[str, Any]]:
        entries = self._call(lambda: [e.to_dict() for e in self._server.app.journal.entries()])
        return list(entries)

    def stop(self, timeout: float = 10.0) -> None:
        if not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self._server.aclose(), self._loop)
        with contextlib.suppress(concurrent.futures.TimeoutError):
            future.result(timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)

    def _call(self, func: Any) -> Any:
        async def run() -> Any:
            return func()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)


def start_in_thread(
    settings: SimSettings | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: TlsFiles | None = None,
) -> ThreadedSim:
    """Start a simulator in a background thread; returns once it accepts connections."""
    server = SimServer(settings, host=host, port=port, tls=tls)
    loop = new_event_loop()
    started: concurrent.futures.Future[None] = concurrent.futures.Future()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start())
        except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
            started.set_exception(exc)
            loop.close()
            return
        started.set_result(None)
        try:
            loop.run_forever()
        finally:
            _cancel_all(loop)
            loop.close()

    thread = threading.Thread(target=run, name="upstream-sim", daemon=True)
    thread.start()
    started.result(30)
    return ThreadedSim(server, loop, thread)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop when installed (faster), else asyncio's."""
    try:
        import uvloop  # optional accelerator, imported only when asked for
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _bind(host: str, port: int) -> socket.socket:
    """One listening socket (so port 0 means one port, even for ``localhost``)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
