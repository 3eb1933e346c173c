"""The demo's moving parts, all on 127.0.0.1, each server in its own thread.

- the upstream simulator behind TLS with its own CA (the enclaves trust only that CA);
- ``enclaves`` enclaves, each with a fresh signing key, attesting with simulated SEV-SNP
  evidence signed by AMD-like roots made in the demo's directory;
- one gateway that trusts exactly those roots and a policy pinning the simulated
  measurement, with a SQLite store and one tenant key;
- a chain (embedded eth-tester, or anvil) with the anchor contracts deployed, whose
  address the gateway names in its proofs (:mod:`veritee.demo.anchoring`).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from attestation.simulated.snp import SimulatedSnpProvider
from enclave.app import create_app as create_enclave
from enclave.server import BackgroundServer
from enclave.settings import settings_from_dict as enclave_settings
from gateway.app import create_app as create_gateway
from gateway.config import settings_from_dict as gateway_settings
from gateway.settings import Settings
from gateway.store import ApiKeyRecord, open_store
from gateway.tenants.keys import generate_key, generate_key_id, hash_key
from veritee.demo.anchoring import ChainKind, DemoChain, start_chain
from veritee.demo.upstreams import (
    SIMULATED_MODEL,
    DemoUpstreams,
    real_upstreams,
    simulated_upstreams,
)
from veritee.upstream_sim import SimSettings, ThreadedSim, self_signed, start_in_thread

MEASUREMENT = "5e" * 48  # what the simulated guests claim, and what the policy pins
DIGEST = "sha256:" + "de" * 32


@dataclass
class DemoStack:
    gateway_url: str
    api_key: str
    roots: Path  # the simulated AMD roots: what a client must be given to trust the evidence
    policy: Path
    chain: DemoChain
    settings: Settings  # the gateway's
    enclaves: list[str] = field(default_factory=list)
    sim: ThreadedSim | None = None
    model: str = SIMULATED_MODEL
    upstream_names: str = "simulated-openai"


def _policy_text() -> str:
    return f'[policy]\nplatforms = ["sev-snp"]\n\n[sev-snp]\nmeasurements = ["{MEASUREMENT}"]\n'


def _enclave(
    sim: ThreadedSim | None, provider: SimulatedSnpProvider, upstreams: DemoUpstreams
) -> BackgroundServer:
    config: dict[str, Any] = {
        "identity": {"image_digest": DIGEST},
        "attestation": {"provider": "simulated-sev-snp", "state_dir": str(provider.roots_dir)},
        "receipts": {"checkpoint_every_receipts": 4, "checkpoint_every_seconds": 1},
        "upstreams": upstreams.upstreams,
    }
    if sim is not None:  # trust the simulator's own CA; real providers use the system store
        config["upstream"] = {"ca_bundle": str(sim.endpoint.ca_path)}
    return BackgroundServer(create_enclave(enclave_settings(config), provider=provider))


async def _add_key(url: str, record: ApiKeyRecord) -> None:
    async with open_store(gateway_settings({"store": {"url": url}}).store) as store:
        await store.add_key(record)


def _wait_admitted(url: str, key: str, count: int, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    headers = {"authorization": f"Bearer {key}"}
    while time.monotonic() < deadline:
        try:
            data = httpx.get(url + "/v1/enclaves", headers=headers, timeout=5).json()["data"]
            if sum(e["state"] == "admitted" for e in data) == count:
                return
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        time.sleep(0.1)
    raise RuntimeError("the gateway did not admit the enclaves in time")


@contextmanager
def demo_stack(
    directory: Path, *, enclaves: int = 2, chain: ChainKind = "embedded"
) -> Iterator[DemoStack]:
    """Start everything; stop everything on exit."""
    with ExitStack() as running:
        anchoring = start_chain(chain, running)
        upstreams = real_upstreams(os.environ)
        sim = None
        if upstreams is None:
            sim = running.enter_context(
                start_in_thread(
                    SimSettings(seed="veritee-demo"), tls=self_signed(directory / "tls")
                )
            )
            upstreams = simulated_upstreams(sim.openai_base_url)
        roots = directory / "simulated-amd"
        provider = SimulatedSnpProvider(roots, measurement=bytes.fromhex(MEASUREMENT))
        names = []
        config_enclaves = []
        for i in range(enclaves):
            server = running.enter_context(_enclave(sim, provider, upstreams))
            name = f"enclave-{chr(ord('a') + i)}"
            names.append(name)
            config_enclaves.append({"name": name, "url": server.url})
        policy = directory / "policy.toml"
        policy.write_text(_policy_text())
        store_url = f"sqlite:///{directory / 'gateway.db'}"
        key = generate_key()
        record = ApiKeyRecord(generate_key_id(), "demo", hash_key(key), int(time.time() * 1000))
        asyncio.run(_add_key(store_url, record))
        settings = gateway_settings(
            {
                "enclaves": config_enclaves,
                "attestation": {"policy": str(policy), "roots": [str(roots)]},
                "store": {"url": store_url, "sync_seconds": 0.5},
                "server": {"request_log": False},
                "anchor": {"contract": anchoring.deployment.anchor},
            }
        )
        gateway = running.enter_context(BackgroundServer(create_gateway(settings)))
        _wait_admitted(gateway.url, key, enclaves)
        yield DemoStack(
            gateway.url, key, roots, policy, anchoring, settings, names, sim, upstreams.model,
            upstreams.names,
        )  # fmt: skip
