"""Processes on Linux: which CPUs do what, pinning, and CPU time and memory from ``/proc``.

The machine is split in two (``LAYOUT``): the *system under test* (enclave, gateway,
PostgreSQL, LiteLLM) gets the first half of the CPUs, the *world* (upstream simulator, load
generator, latency probe, this orchestrator) the second half. On two CPUs that is one core
each: every proxy is measured on one dedicated core, and the clients and the provider it
talks to cannot steal that core from it. On one CPU both halves are that CPU.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    sut: frozenset[int]
    world: frozenset[int]

    @classmethod
    def split(cls, cpus: list[int]) -> Layout:
        if len(cpus) < 2:
            return cls(frozenset(cpus), frozenset(cpus))
        half = len(cpus) // 2
        return cls(frozenset(cpus[:half]), frozenset(cpus[half:]))

    def describe(self) -> str:
        return f"The system under test runs on CPU {_cpus(self.sut)}, the world on CPU {_cpus(self.world)}"


def _cpus(cpus: frozenset[int]) -> str:
    return ",".join(str(c) for c in sorted(cpus))


def available_cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


LAYOUT = Layout.split(available_cpus())


def pin(pid: int, cpus: frozenset[int]) -> None:
    """Pin a process (``0``: the calling thread) to ``cpus``; its later children inherit it."""
    os.sched_setaffinity(pid, cpus)


@contextmanager
def pinned(cpus: frozenset[int]) -> Iterator[None]:
    """Run the block on ``cpus``: processes started inside inherit the affinity."""
    before = os.sched_getaffinity(0)
    pin(0, cpus)
    try:
        yield
    finally:
        pin(0, frozenset(before))


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process (all its threads) and its descendants
    (PostgreSQL serves each connection from a child process)."""
    children: dict[int, list[int]] = {}
    ticks = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = _stat(int(entry.name))
            except OSError:  # it exited meanwhile
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += ticks.get(current, 0)
        todo += children.get(current, [])
    return total / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    """Resident set size of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load_average() -> tuple[float, float, float]:
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return float(one), float(five), float(fifteen)
