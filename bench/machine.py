"""What machine a run was made on: CPU, memory, kernel, Python, package versions, load."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.cpu import LAYOUT, load_average

PACKAGES = (
    "veritee", "uvicorn", "uvloop", "httptools", "starlette", "fastapi", "coincurve",
    "cryptography", "rfc8785", "aiohttp", "httpx", "psycopg", "matplotlib", "py-spy",
)  # fmt: skip


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return float("nan")


def _os_name() -> str:
    release = Path("/etc/os-release")
    if release.exists():
        for line in release.read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    return platform.system()


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _postgres_version() -> str:
    from tests.helpers.services import postgres_binaries

    found = postgres_binaries()
    if found is None or not shutil.which(str(found / "postgres")):
        return "not installed"
    out = subprocess.run(
        [str(found / "postgres"), "--version"], capture_output=True, text=True, check=False
    )
    version = re.search(r"\d+(\.\d+)+", out.stdout)
    return version.group(0) if version else "unknown"


def describe() -> dict[str, Any]:
    """The machine as it is now (call it at the start of a run: it records the load)."""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "memory_gib": round(_memory_gib(), 1),
        "os": _os_name(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": {p: _version(p) for p in PACKAGES} | {"postgresql": _postgres_version()},
        "load_at_start": load_average(),
        "layout": LAYOUT.describe(),
    }
