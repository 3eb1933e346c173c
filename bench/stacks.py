"""The systems under test, started once and shared by every benchmark family that needs them.

Each is a real process, started the way an operator would (``veritee enclave serve``,
``veritee gateway serve``, ``litellm --config``), on 127.0.0.1 with free ports:

- the upstream simulator, over TLS with its own CA, on the world CPUs (it is the provider);
- ``enclave``: one enclave (simulated SEV-SNP, signing every exchange);
- ``gateway``: a gateway in front of it (admission by verification, receipt verification,
  the SQLite store with its default durable commits, the JSON request log);
- ``gateway-pg``: a second gateway with its own enclave, whose receipt store is a real
  PostgreSQL (``initdb`` + ``postgres``, fsync and synchronous commit on), if installed;
- ``litellm``: the LiteLLM proxy (``bench.litellm_proxy``), if it installs.

Everything of the system under test is pinned to ``LAYOUT.sut``. :class:`Target` is one way
to ask for a completion; ``Stacks.targets`` holds them by name, ``direct`` included.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench import litellm_proxy
from bench.cpu import LAYOUT, pinned
from gateway.settings import StoreSettings
from gateway.store import ApiKeyRecord, open_store
from gateway.tenants.keys import generate_key, generate_key_id, hash_key
from veritee.upstream_sim import SimSettings, SubprocessSim, start_subprocess

MODEL = "gpt-bench"
MEASUREMENT = "42" * 48
ROOT = Path(__file__).resolve().parent.parent

LABELS = {
    "direct": "direct to the upstream",
    "enclave": "veritee enclave alone",
    "gateway": "veritee gateway + enclave (SQLite)",
    "gateway-pg": "veritee gateway + enclave (PostgreSQL)",
    "litellm": "LiteLLM proxy",
}


@dataclass(frozen=True)
class Target:
    """One way to ask for a chat completion, and the processes it goes through."""

    name: str
    url: str
    headers: dict[str, str]
    cafile: str | None = None
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return LABELS.get(self.name, self.name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become ready in {timeout:.0f} s")


class Stacks:
    """Start with :meth:`start`; :meth:`close` stops everything it started."""

    def __init__(self, workdir: Path, *, postgres: bool, litellm: bool) -> None:
        self.workdir = workdir
        self.want_postgres, self.want_litellm = postgres, litellm
        self.targets: dict[str, Target] = {}
        self.absent: dict[str, str] = {}  # target name -> why it is not measured
        self.configs: dict[str, str] = {}  # file name -> contents, for the page
        self.litellm: litellm_proxy.Installed | None = None
        self._procs: list[subprocess.Popen[bytes]] = []
        self._services: list[object] = []
        self.sim: SubprocessSim | None = None

    def start(self) -> Stacks:
        with pinned(LAYOUT.world):
            self.sim = start_subprocess(SimSettings(), self_signed_dir=self.workdir / "tls")
        ca = str(self.sim.endpoint.ca_path)
        self.targets["direct"] = Target(
            "direct", self.sim.openai_base_url + "/chat/completions",
            {"authorization": "Bearer sk-bench"}, ca, {},
        )  # fmt: skip
        with pinned(LAYOUT.sut):
            enclave = self._enclave("enclave")
            self.targets["enclave"] = Target("enclave", *enclave)
            store = f"sqlite:///{self.workdir / 'gateway.db'}"
            self.targets["gateway"] = self._gateway("gateway", store, enclave)
            if self.want_postgres:
                self._postgres()
            if self.want_litellm:
                self._litellm()
        return self

    def _spawn(
        self, name: str, argv: list[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        with (self.workdir / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=log, cwd=self.workdir,
                                    env={**os.environ, **(env or {})})  # fmt: skip
        self._procs.append(proc)
        return proc

    def _enclave(self, name: str) -> tuple[str, dict[str, str], None, dict[str, int]]:
        assert self.sim is not None
        port = free_port()
        text = f"""[server]
port = {port}

[identity]
image_digest = "sha256:{"ab" * 32}"

[attestation]
provider = "simulated-sev-snp"
state_dir = "{self.workdir / "amd"}"

[attestation.options]
measurement = "{MEASUREMENT}"

[upstream]
ca_bundle = "{self.sim.endpoint.ca_path}"

[[upstreams]]
name = "sim"
dialect = "openai"
base_url = "{self.sim.openai_base_url}"
api_key = "sk-bench"
models = ["{MODEL}"]
"""
        path = self.workdir / f"{name}.toml"
        path.write_text(text)
        self.configs.setdefault("enclave.toml", text)
        proc = self._spawn(
            name, [sys.executable, "-m", "veritee", "enclave", "serve", "--config", str(path)]
        )
        url = f"http://127.0.0.1:{port}"
        wait_ready(url + "/readyz", proc)
        return url + "/v1/chat/completions", {}, None, {name: proc.pid}

    def _gateway(
        self, name: str, store_url: str, enclave: tuple[str, dict[str, str], None, dict[str, int]]
    ) -> Target:
        enclave_url, _, _, enclave_pids = enclave
        base = enclave_url.removesuffix("/v1/chat/completions")
        port = free_port()
        policy = self.workdir / "policy.toml"
        policy.write_text(
            f'[policy]\nplatforms = ["sev-snp"]\n[sev-snp]\nmeasurements = ["{MEASUREMENT}"]\n'
        )
        text = f"""[server]
port = {port}

[[enclaves]]
name = "e1"
url = "{base}"

[attestation]
policy = "{policy}"
roots = ["{self.workdir / "amd"}"]

[store]
url = "{store_url}"
"""
        path = self.workdir / f"{name}.toml"
        path.write_text(text)
        self.configs.setdefault("gateway.toml", text)
        key = generate_key()
        record = ApiKeyRecord(generate_key_id(), "bench", hash_key(key), int(time.time() * 1000))
        asyncio.run(_add_key(StoreSettings(url=store_url), record))
        proc = self._spawn(
            name, [sys.executable, "-m", "veritee", "gateway", "serve", "--config", str(path)]
        )
        wait_ready(f"http://127.0.0.1:{port}/readyz", proc)
        return Target(
            name, f"http://127.0.0.1:{port}/v1/chat/completions",
            {"authorization": f"Bearer {key}"}, None, {name: proc.pid, **enclave_pids},
        )  # fmt: skip

    def _postgres(self) -> None:
        from tests.helpers.services import create_database, postgres_binaries, start_postgres

        if postgres_binaries() is None:
            self.absent["gateway-pg"] = (
                "PostgreSQL is not installed here (Debian package `postgresql`: `initdb` and "
                "`postgres`), so the gateway with a PostgreSQL store was not measured"
            )
            return
        service = start_postgres()
        self._services.append(service)
        import psycopg

        with psycopg.connect(service.url, autocommit=True) as conn:
            # The test helper turns fsync off; a benchmark of a durable store needs it on.
            conn.execute("ALTER SYSTEM SET fsync = on")
            conn.execute("ALTER SYSTEM SET synchronous_commit = on")
            conn.execute("SELECT pg_reload_conf()")
        dsn = create_database(service, "bench")
        target = self._gateway("gateway-pg", dsn, self._enclave("enclave-pg"))
        self.targets["gateway-pg"] = Target(
            target.name, target.url, target.headers, None,
            {**target.pids, "postgres": service.proc.pid},
        )  # fmt: skip

    def _litellm(self) -> None:
        assert self.sim is not None
        try:
            self.litellm = litellm_proxy.ensure()
        except Exception as exc:
            self.absent["litellm"] = f"LiteLLM could not be installed: {exc}"
            return
        config = self.workdir / "litellm.yaml"
        text = litellm_proxy.config_yaml(self.sim.openai_base_url)
        config.write_text(text)
        self.configs["litellm.yaml"] = text
        port = free_port()
        env = {**litellm_proxy.ENVIRONMENT, "SSL_CERT_FILE": str(self.sim.endpoint.ca_path)}
        proc = self._spawn("litellm", litellm_proxy.command(self.litellm, config, port), env)
        try:
            wait_ready(f"http://127.0.0.1:{port}/health/liveliness", proc)
        except RuntimeError as exc:
            log = (self.workdir / "litellm.log").read_text(errors="replace").strip().splitlines()
            self.absent["litellm"] = (
                f"the LiteLLM proxy did not start: {exc}; {' / '.join(log[-3:])}"
            )
            return
        self.targets["litellm"] = Target(
            "litellm", f"http://127.0.0.1:{port}/v1/chat/completions",
            {"authorization": f"Bearer {litellm_proxy.MASTER_KEY}"}, None, {"litellm": proc.pid},
        )  # fmt: skip

    def config_text(self, name: str) -> str:
        """A config as shown in the page: temporary paths and free ports made generic."""
        text = self.configs[name].replace(str(self.workdir), "$WORKDIR")
        text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
        return re.sub(r"(?m)^port = \d+$", "port = PORT", text)

    def close(self) -> None:
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(self._procs):
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for service in self._services:
            service.stop()  # type: ignore[attr-defined]
        if self.sim is not None:
            self.sim.stop()


async def _add_key(settings: StoreSettings, record: ApiKeyRecord) -> None:
    async with open_store(settings) as store:
        await store.add_key(record)


def describe(stacks: Stacks) -> dict[str, object]:
    """What was started, for the raw results."""
    return {
        "targets": {name: t.url for name, t in stacks.targets.items()},
        "absent": stacks.absent,
        "litellm": stacks.litellm.version if stacks.litellm else None,
    }


if __name__ == "__main__":  # a manual check: start everything, print the targets, stop
    import tempfile

    with tempfile.TemporaryDirectory(prefix="veritee-bench-") as tmp:
        started = time.monotonic()
        stacks = Stacks(Path(tmp), postgres=True, litellm="--litellm" in sys.argv).start()
        try:
            print(json.dumps(describe(stacks), indent=2), f"{time.monotonic() - started:.1f} s")
        finally:
            stacks.close()
