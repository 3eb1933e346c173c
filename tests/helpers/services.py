"""Real services for tests, started on 127.0.0.1 with temporary directories and free ports.

- :func:`start_redis`: ``redis-server`` (Debian package ``redis-server``), no persistence.
- :func:`start_postgres`: a throw-away cluster made with ``initdb`` and run with ``postgres``
  (Debian package ``postgresql``, whose binaries live in ``/usr/lib/postgresql/<v>/bin``).
  PostgreSQL refuses to run as root; when the tests run as root, the cluster is made and
  run as the ``postgres`` system user that the package creates (``nobody`` otherwise),
  in a directory handed over to that user.

Both return a handle whose ``stop()`` ends the process and removes its directory. Tests
call :func:`tests.conftest.need` with :func:`redis_available` / :func:`postgres_binaries`
first, so a machine without them skips (and CI, where they must exist, fails).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(
    port: int, *, proc: subprocess.Popen[bytes] | None = None, timeout: float = 30.0
) -> None:
    """Wait until something accepts connections on ``port`` (or the process dies)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the process exited with {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


@dataclass
class Service:
    proc: subprocess.Popen[bytes]
    port: int
    directory: Path
    url: str

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.directory, ignore_errors=True)


def redis_available() -> bool:
    return shutil.which("redis-server") is not None


def start_redis() -> Service:
    binary = shutil.which("redis-server")
    assert binary is not None
    port = free_port()
    directory = Path(tempfile.mkdtemp(prefix="veritee-redis-"))
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for_port(port, proc=proc)
    return Service(proc, port, directory, f"redis://127.0.0.1:{port}/0")


def postgres_binaries() -> Path | None:
    """The directory holding ``initdb`` and ``postgres``, if PostgreSQL is installed."""
    found = shutil.which("initdb")
    if found and shutil.which("postgres"):
        return Path(found).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


def _run_as() -> tuple[str | None, int | None, int | None]:
    if os.geteuid() != 0:
        return None, None, None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return name, entry.pw_uid, entry.pw_gid
    raise RuntimeError("running as root and there is no user to run PostgreSQL as")


def start_postgres() -> Service:
    bin_dir = postgres_binaries()
    assert bin_dir is not None
    user, uid, gid = _run_as()
    directory = Path(tempfile.mkdtemp(prefix="veritee-pg-"))
    data = directory / "data"
    if uid is not None and gid is not None:
        os.chown(directory, uid, gid)
    subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
         "--no-sync", "--no-instructions"],
        check=True, user=user, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=directory,
    )  # fmt: skip
    port = free_port()
    proc = subprocess.Popen(
        [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
         "-k", str(directory), "-c", "fsync=off", "-c", "max_connections=200"],
        user=user, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=directory,
    )  # fmt: skip
    wait_for_port(port, proc=proc)
    service = Service(proc, port, directory, f"postgresql://postgres@127.0.0.1:{port}/postgres")
    _wait_ready(service)
    return service


def _wait_ready(service: Service) -> None:
    import psycopg

    deadline = time.monotonic() + 30
    while True:
        try:
            with psycopg.connect(service.url, connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def create_database(service: Service, name: str) -> str:
    """A fresh database on ``service``; returns its DSN."""
    import psycopg

    with psycopg.connect(service.url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return service.url.rsplit("/", 1)[0] + "/" + name
