"""The upstream simulator: a deterministic OpenAI/Anthropic-compatible provider on a socket.

Tests, the demo and the benchmarks use it as the "upstream provider". Start it in-process
(``start_in_thread`` or ``SimServer`` on your own loop) or as a child process
(``start_subprocess``); each gives a :class:`SimEndpoint` with ``base_url``, and for HTTPS
the CA to trust and the leaf's SPKI hash. Wire behaviour, directives and faults are
specified in ``docs/upstream-sim.md``.

Modules: ``http`` (HTTP/1.1 transport), ``app`` (routing), ``openai_*``/``anthropic_*``
(dialects), ``content`` and ``schema_values`` (deterministic output), ``directives``,
``faults`` and ``delivery`` (misbehaviour and pacing), ``holds``, ``control`` (``/_sim/``),
``ids``, ``tls``, ``running``, ``server`` and ``process`` (ways to run it).
"""

from veritee.upstream_sim.directives import DirectiveError, Directives, Fault, parse_directives
from veritee.upstream_sim.ids import RequestIds
from veritee.upstream_sim.process import SubprocessSim, parse_listening_line, start_subprocess
from veritee.upstream_sim.running import RunningSim, SimEndpoint
from veritee.upstream_sim.server import (
    SimServer,
    ThreadedSim,
    new_event_loop,
    start_in_thread,
)
from veritee.upstream_sim.settings import SimSettings
from veritee.upstream_sim.tls import TlsFiles, self_signed, spki_sha256

__all__ = [
    "DirectiveError",
    "Directives",
    "Fault",
    "RequestIds",
    "RunningSim",
    "SimEndpoint",
    "SimServer",
    "SimSettings",
    "SubprocessSim",
    "ThreadedSim",
    "TlsFiles",
    "new_event_loop",
    "parse_directives",
    "parse_listening_line",
    "self_signed",
    "spki_sha256",
    "start_in_thread",
    "start_subprocess",
]
