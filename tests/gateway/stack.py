"""The real stack for the gateway's end-to-end tests, all on 127.0.0.1 over real sockets.

- the upstream simulator, behind TLS with its own CA (in a thread);
- enclaves: real enclave apps with the simulated SEV-SNP provider, in a thread
  (:func:`start_enclave`) or as ``veritee enclave serve`` child processes that a test can
  kill (:func:`spawn_enclave`);
- gateways: ``create_app`` served in a thread (:func:`start_gateway`), or ``veritee
  gateway serve`` as a child process (:func:`spawn_gateway`).

Admission always goes through real evidence verification: the gateway is given the
simulated AMD roots (the provider's state directory) and a policy pinning the simulated
measurement, exactly as an operator would configure it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from attestation.simulated.snp import SimulatedSnpProvider
from enclave.app import create_app as create_enclave
from enclave.server import BackgroundServer
from enclave.settings import settings_from_dict as enclave_settings_from_dict
from gateway.app import create_app as create_gateway
from gateway.app import gateway_of
from gateway.config import settings_from_dict
from gateway.store import ApiKeyRecord, open_store
from gateway.tenants.keys import generate_key, generate_key_id, hash_key
from tests.helpers.enclave import ANTHROPIC_MODEL, OPENAI_MODEL, enclave_settings
from tests.helpers.services import free_port, wait_for_port
from veritee.upstream_sim import ThreadedSim

MEASUREMENT = "42" * 48
MODEL = OPENAI_MODEL
OTHER_MODEL = ANTHROPIC_MODEL
REPO = Path(__file__).resolve().parents[2]


def policy_text(measurement: str = MEASUREMENT) -> str:
    return f'[policy]\nplatforms = ["sev-snp"]\n\n[sev-snp]\nmeasurements = ["{measurement}"]\n'


def enclave_config(sim: ThreadedSim, state_dir: Path, **overrides: Any) -> dict[str, Any]:
    """An enclave's settings (``tests.helpers.enclave``) with the simulated SNP provider named
    by its state directory, as a ``veritee enclave serve`` process needs it."""
    attestation = {
        "provider": "simulated-sev-snp",
        "state_dir": str(state_dir),
        "fresh_per_second": 50.0,
        "fresh_burst": 50,
        "options": {"measurement": MEASUREMENT},
    }
    receipts = {"checkpoint_every_receipts": 5, "checkpoint_every_seconds": 0.5}
    upstream = {"read_timeout_seconds": 20.0}
    return enclave_settings(
        sim,
        attestation={**attestation, **overrides.pop("attestation", {})},
        receipts=receipts,
        upstream=upstream,
        **overrides,
    )


@dataclass
class InThread:
    """A server in a thread: its URL and, for a gateway, the app."""

    server: BackgroundServer
    app: Any

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()


def start_enclave(
    sim: ThreadedSim,
    state_dir: Path,
    *,
    wrap: Callable[[Any], Any] | None = None,
    measurement: str = MEASUREMENT,
) -> InThread:
    """A real enclave app in a thread; ``wrap`` lets a test put a rogue layer around it."""
    config = enclave_config(sim, state_dir, attestation={"options": {"measurement": measurement}})
    settings = enclave_settings_from_dict(config, base_dir=Path.cwd())
    provider = SimulatedSnpProvider(state_dir, measurement=bytes.fromhex(measurement))
    app = create_enclave(settings, provider=provider)
    server = BackgroundServer(wrap(app) if wrap else app).start()
    return InThread(server, app)


@dataclass
class Spawned:
    """A ``veritee ...`` child process."""

    name: str
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def _spawn(name: str, args: list[str], directory: Path, port: int, ready: str) -> Spawned:
    log = directory / f"{name}.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "veritee", *args], stdout=out, stderr=subprocess.STDOUT,
            cwd=REPO, env=env,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, proc=proc, timeout=60)
        wait_until(lambda: httpx.get(url + ready, timeout=2).status_code < 500, within=60)
    except BaseException:
        proc.kill()
        raise RuntimeError(f"{name} did not start:\n{log.read_text(errors='replace')}") from None
    return Spawned(name, url, proc, log)


def spawn_enclave(
    name: str, sim: ThreadedSim, state_dir: Path, directory: Path, *, port: int | None = None
) -> Spawned:
    port = port or free_port()
    config = enclave_config(sim, state_dir, server={"host": "127.0.0.1", "port": port})
    path = directory / f"{name}.toml"
    path.write_text(to_toml(config))
    return _spawn(name, ["enclave", "serve", "--config", str(path)], directory, port, "/readyz")


def respawn(old: Spawned, sim: ThreadedSim, state_dir: Path, directory: Path) -> Spawned:
    """Start an enclave again on the address of one that died (it makes a new key)."""
    port = int(old.url.rsplit(":", 1)[1])
    return spawn_enclave(old.name + "-again", sim, state_dir, directory, port=port)


def gateway_config(
    directory: Path,
    enclaves: list[tuple[str, str]],
    roots: Path,
    *,
    policy: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    policy_file = directory / "policy.toml"
    policy_file.write_text(policy or policy_text())
    data: dict[str, Any] = {
        "enclaves": [{"name": n, "url": u} for n, u in enclaves],
        "attestation": {
            "policy": str(policy_file),
            "roots": [str(roots)],
            "retry_seconds": 0.5,
            "keyset_poll_seconds": 0.5,
        },
        "health": {"interval_seconds": 0.2, "timeout_seconds": 2.0, "cooldown_seconds": 1.0},
        "store": {"url": f"sqlite:///{directory / 'gateway.db'}", "sync_seconds": 0.5},
        "tenants": {"refresh_seconds": 0.5},
        "retry": {"backoff_seconds": 0.01},
    }
    for section, values in overrides.items():
        data[section] = {**data.get(section, {}), **values} if isinstance(values, dict) else values
    return data


def start_gateway(config: dict[str, Any]) -> InThread:
    app: Starlette = create_gateway(settings_from_dict(config))
    return InThread(BackgroundServer(app).start(), app)


def spawn_gateway(name: str, config: dict[str, Any], directory: Path) -> Spawned:
    port = free_port()
    path = directory / f"{name}.toml"
    path.write_text(to_toml({**config, "server": {"host": "127.0.0.1", "port": port}}))
    return _spawn(name, ["gateway", "serve", "--config", str(path)], directory, port, "/healthz")


@dataclass
class Tenant:
    key: str
    record: ApiKeyRecord
    headers: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.headers = {"authorization": f"Bearer {self.key}"}


def add_tenant(config: dict[str, Any], tenant: str, **limits: Any) -> Tenant:
    """Create an API key in the gateway's store (as ``veritee gateway tenant add`` does)."""
    key = generate_key()
    record = ApiKeyRecord(
        key_id=generate_key_id(), tenant=tenant, key_sha256=hash_key(key),
        created_ms=int(time.time() * 1000), **limits,
    )  # fmt: skip

    async def main() -> None:
        async with open_store(settings_from_dict(config).store) as store:
            await store.add_key(record)

    asyncio.run(main())
    return Tenant(key, record)


def wait_until(condition: Callable[[], bool], *, within: float = 30.0) -> None:
    """Wait for a condition (not a timing assertion: the bound only stops a hung test)."""
    deadline = time.monotonic() + within
    while True:
        try:
            if condition():
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true")
        time.sleep(0.05)


def enclave_states(gateway_url: str, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    data = httpx.get(gateway_url + "/v1/enclaves", headers=headers, timeout=5).json()["data"]
    return {e["name"]: e for e in data}


def wait_admitted(gateway_url: str, headers: dict[str, str], names: list[str]) -> None:
    def admitted() -> bool:
        states = enclave_states(gateway_url, headers)
        return all(states[n]["state"] == "admitted" for n in names)

    wait_until(admitted)


def pool_of(gateway: InThread) -> Any:
    return gateway_of(gateway.app).pool


def to_toml(data: dict[str, Any]) -> str:
    """Enough TOML for these configurations (tables, arrays of tables, scalars, lists)."""
    lines: list[str] = []

    def scalar(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return repr(value)
        if isinstance(value, list):
            return "[" + ", ".join(scalar(v) for v in value) + "]"
        return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'

    for key, value in data.items():
        if not isinstance(value, dict | list) or (
            isinstance(value, list) and value and not isinstance(value[0], dict)
        ):
            lines.append(f"{key} = {scalar(value)}")

    def table(name: str, values: dict[str, Any]) -> None:
        lines.append(f"\n[{name}]")
        lines.extend(f"{k} = {scalar(v)}" for k, v in values.items() if not isinstance(v, dict))
        for k, v in values.items():
            if isinstance(v, dict):
                table(f"{name}.{k}", v)

    for key, value in data.items():
        if isinstance(value, dict):
            table(key, value)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                lines.append(f"\n[[{key}]]")
                lines.extend(f"{k} = {scalar(v)}" for k, v in item.items())
    return "\n".join(lines) + "\n"
