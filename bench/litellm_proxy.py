"""The LiteLLM proxy, the point of comparison: its own virtualenv, its config, its process.

LiteLLM is installed from the package index into ``bench/.venv-litellm`` (gitignored), never
into the project's environment. It runs as a pure OpenAI-compatible pass-through to the same
upstream simulator as veritee: one model, one worker, no database (so no spend tracking,
budgets or key management), no logging callbacks (none are configured; background health
checks are off by default), spend and error logs off, log level ERROR, the model cost map
read from the package instead of fetched at start, and a master key (it refuses to start
without one; veritee's gateway authenticates its tenants too). It trusts the simulator's CA
through ``SSL_CERT_FILE``, so both proxies reach the upstream over verified TLS. This version
has no telemetry to turn off (its ``--telemetry`` flag is a documented no-op).
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

VERSION = "1.106.2"  # the newest 1.106.x whose dependencies resolve on the package index here
REQUIREMENT = f"litellm[proxy]=={VERSION}"
VENV = Path(__file__).resolve().parent / ".venv-litellm"
MASTER_KEY = "sk-bench-" + "5eed" * 8
MODEL = "gpt-bench"


@dataclass(frozen=True)
class Installed:
    python: Path
    version: str
    seconds: float  # spent installing in this run (0 when the virtualenv was already there)
    commands: tuple[str, ...]


def _installed_version(python: Path) -> str | None:
    if not python.exists():
        return None
    probe = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.stdout.strip() if probe.returncode == 0 else None


def ensure(venv: Path = VENV) -> Installed:
    """The virtualenv with LiteLLM, created and installed if needed; raises with the reason."""
    python = venv / "bin" / "python"
    where = f"bench/{venv.name}"
    commands = (
        f"python3 -m venv {where}",
        f"{where}/bin/pip install --upgrade pip",
        f"{where}/bin/pip install '{REQUIREMENT}'",
    )
    if _installed_version(python) == VERSION:
        return Installed(python, VERSION, 0.0, commands)
    start = time.monotonic()
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        [str(python), "-m", "pip", "install", "--quiet", REQUIREMENT],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            lines = [
                line
                for line in (done.stderr or done.stdout).splitlines()
                if line.strip() and not line.startswith("WARNING: Location")
            ]
            raise RuntimeError(f"`{' '.join(step[2:])}` failed: " + " / ".join(lines[-3:]))
    version = _installed_version(python)
    if version is None:
        raise RuntimeError("litellm installed but cannot be imported")
    return Installed(python, version, time.monotonic() - start, commands)


def config_yaml(openai_base_url: str) -> str:
    """The proxy's whole configuration: one model, passed through to the simulator."""
    return f"""model_list:
  - model_name: {MODEL}
    litellm_params:
      model: openai/{MODEL}
      api_base: {openai_base_url}
      api_key: sk-bench
general_settings:
  master_key: {MASTER_KEY}
  disable_spend_logs: true
  disable_error_logs: true
  disable_reset_budget: true
"""


ENVIRONMENT = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch of the cost map at start
    "LITELLM_LOG": "ERROR",
    "DISABLE_ADMIN_UI": "True",
    "NO_DOCS": "True",
}


def command(installed: Installed, config: Path, port: int) -> list[str]:
    litellm = installed.python.parent / "litellm"
    return [str(litellm), "--config", str(config), "--host", "127.0.0.1", "--port", str(port),
            "--num_workers", "1"]  # fmt: skip
